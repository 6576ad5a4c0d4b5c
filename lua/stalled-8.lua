--[[
  stalled: recover the jobs whose worker stopped renewing their lock
  (BullMQ's moveStalledJobsToWait).

  KEYS[1] Q:stalled        KEYS[5] Q:meta
  KEYS[2] Q:wait           KEYS[6] Q:marker
  KEYS[3] Q:active         KEYS[7] Q:events
  KEYS[4] Q:stalled-check  KEYS[8] Q:repeat

  ARGV[1] max stalled count
  ARGV[2] the job key prefix "Q:"
  ARGV[3] now, ms
  ARGV[4] stalled interval, ms

  Returns the ids moved back to wait ({} when another check ran within the
  interval).  A job stalled more than the max count gets "defa" (unless it
  is a live scheduler iteration) for the next worker to fail it.  A key
  it would write that holds the wrong type ends it with the error
  BULLMQ-22 (include key-types) before its first write.
]]
local rcall = redis.call
local prefix = ARGV[2]
local max_stalled = tonumber(ARGV[1]) or 1

--@include count-stall
--@include queue-held
--@include key-types

if rcall("EXISTS", KEYS[4]) == 1 then
	return {}
end
-- once a job has left active nothing may refuse: the keys written hold
-- their types (a check every stalled interval, not every job)
key_types({KEYS[1], "set", KEYS[2], "list", KEYS[3], "list", KEYS[5],
    "hash", KEYS[6], "zset", KEYS[7], "stream", KEYS[8], "zset"})
rcall("SET", KEYS[4], ARGV[3], "PX", ARGV[4])

local meta_key = KEYS[5]
--@include max-events
rcall("XTRIM", KEYS[7], "MAXLEN", "~", max_events)

local recovered = {}
local candidates = rcall("SMEMBERS", KEYS[1])
if #candidates > 0 then
	rcall("DEL", KEYS[1])
	for _, jid in ipairs(candidates) do
		local jk = prefix .. jid
		if string.sub(jid, 1, 2) == "0:" then
			rcall("LREM", KEYS[3], 1, jid)
		elseif rcall("EXISTS", jk .. ":lock") == 0 and
		    rcall("LREM", KEYS[3], 1, jid) > 0 then
			-- a key that holds no hash goes back as any id
			count_stall(jk, max_stalled, KEYS[8])
			local held = queue_held(KEYS[5], KEYS[3])
			rcall("RPUSH", KEYS[2], jid)
			if not held then
				rcall("ZADD", KEYS[6], 0, "0")
			end
			rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId",
			    jid, "prev", "active")
			rcall("XADD", KEYS[7], "*", "event", "stalled", "jobId",
			    jid)
			recovered[#recovered + 1] = jid
		end
	end
end

local active = rcall("LRANGE", KEYS[3], 0, -1)
for i = 1, #active, 7000 do
	rcall("SADD", KEYS[1], unpack(active, i, math.min(i + 6999, #active)))
end
return recovered
