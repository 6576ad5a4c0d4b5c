--[[
  fetch: move the next job to active (BullMQ's moveToActive).

  KEYS[1] Q:wait       KEYS[4] Q:delayed   KEYS[7] Q:marker
  KEYS[2] Q:active     KEYS[5] Q:meta      KEYS[8] Q:limiter
  KEYS[3] Q:prioritized KEYS[6] Q:events   KEYS[9] Q:pc

  ARGV[1] the job key prefix "Q:"
  ARGV[2] now, ms
  ARGV[3] lock token ("0": no lock)
  ARGV[4] lock duration, ms
  ARGV[5] worker limiter max ("" none; meta max wins)
  ARGV[6] worker limiter duration, ms ("" none; wins over meta duration)
  ARGV[7] worker name for "pb" ("" none)

  Returns, for a job, one string: the strings of its HGETALL, its id and
  two bytes (the number of strings in the HGETALL, the id's length),
  joined with NULs; or, when either number is 256 or more, {the joined
  HGETALL, id, its number of strings, 0}.  Otherwise
  {0, 0, limiter pttl, 0} when rate limited; {0, 0, 0, 0} when paused,
  maxed or empty; {0, 0, 0, next delayed due ms} when only delayed jobs wait.
  The work is done in lua/include/fetch.lua, shared with finish and delay.
]]
local rcall = redis.call
local prefix = ARGV[1]
local now = tonumber(ARGV[2])

--@include fetch

return fetch_job(true) or {0, 0, 0, 0}
