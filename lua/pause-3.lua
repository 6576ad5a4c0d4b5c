--[[
  pause: pause the queue globally (BULLMQ-PROTOCOL.md 4.7).  Jobs keep
  arriving in Q:wait; workers stop fetching while the field exists.

  KEYS[1] Q:meta
  KEYS[2] Q:marker
  KEYS[3] Q:events

  Returns 0.
]]
local rcall = redis.call

rcall("HSET", KEYS[1], "paused", 1)
rcall("DEL", KEYS[2])
rcall("XADD", KEYS[3], "*", "event", "paused")
return 0
