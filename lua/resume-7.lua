--[[
  resume: resume a paused queue (BULLMQ-PROTOCOL.md 4.7), moving jobs left
  in the legacy Q:paused list to the front of Q:wait, at most 7000 a call.

  KEYS[1] Q:meta          KEYS[5] Q:delayed
  KEYS[2] Q:paused        KEYS[6] Q:marker
  KEYS[3] Q:wait          KEYS[7] Q:events
  KEYS[4] Q:prioritized

  ARGV[1] "1" to write the resumed event (the first call), "0" not to

  Returns the number of entries still in Q:paused (call again until 0).
]]
local rcall = redis.call
local left = 0

rcall("HDEL", KEYS[1], "paused")

if rcall("EXISTS", KEYS[2]) == 1 then
	if rcall("EXISTS", KEYS[3]) == 0 then
		rcall("RENAME", KEYS[2], KEYS[3])
	else
		local ids = rcall("LRANGE", KEYS[2], 0, 6999)
		rcall("RPUSH", KEYS[3], unpack(ids))
		rcall("LTRIM", KEYS[2], #ids, -1)
		left = rcall("LLEN", KEYS[2])
	end
end

if rcall("LLEN", KEYS[3]) + rcall("ZCARD", KEYS[4]) > 0 then
	rcall("ZADD", KEYS[6], 0, "0")
else
--@include delayed
	mark_first(KEYS[5], KEYS[6])
end

if ARGV[1] ~= "0" then
	rcall("XADD", KEYS[7], "*", "event", "resumed")
end
return left
