--[[
  remove-scheduler: remove a job scheduler and, if it waits in the delayed
  set, its current iteration, as Node's Queue.removeJobScheduler does (an
  iteration already waiting, active or finished stays).

  KEYS[1] Q:repeat  KEYS[2] Q:delayed  KEYS[3] Q:events

  ARGV[1] scheduler id
  ARGV[2] the job key prefix "Q:"

  Returns 1 when the scheduler was removed, 0 when there was none.
]]
local rcall = redis.call
local sid = ARGV[1]

--@include expect-type
local bad = expect_types({{KEYS[1], "zset"}, {KEYS[2], "zset"},
    {KEYS[3], "stream"}}, "remove-scheduler")
if bad then
	return bad
end

local millis = rcall("ZSCORE", KEYS[1], sid)
if millis then
	-- the id as Node writes it: the score's text
	local jid = "repeat:" .. sid .. ":" .. millis
	if rcall("ZREM", KEYS[2], jid) == 1 then
		local jk = ARGV[2] .. jid
		rcall("DEL", jk, jk .. ":logs", jk .. ":dependencies",
		    jk .. ":processed", jk .. ":failed", jk .. ":unsuccessful")
		rcall("XADD", KEYS[3], "*", "event", "removed", "jobId", jid,
		    "prev", "delayed")
	end
end
if rcall("ZREM", KEYS[1], sid) == 1 then
	rcall("DEL", KEYS[1] .. ":" .. sid)
	return 1
end
return 0
