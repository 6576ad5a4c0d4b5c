--[[
  give-back: return the job of a dead worker to the front of wait at once,
  as the stalled checker would (the stall counts against max stalled).

  KEYS[1] Q:stalled  KEYS[4] Q:meta    KEYS[7] Q:repeat
  KEYS[2] Q:wait     KEYS[5] Q:marker
  KEYS[3] Q:active   KEYS[6] Q:events

  ARGV[1] the job key prefix "Q:"
  ARGV[2] job id
  ARGV[3] the dead worker's lock token
  ARGV[4] max stalled count

  Returns 1 when the job went back to wait, 0 when it was not active or is
  locked under another token.
]]
local rcall = redis.call
local jid = ARGV[2]
local jk = ARGV[1] .. jid
local held = rcall("GET", jk .. ":lock")

if held and held ~= ARGV[3] then
	return 0
end
if rcall("LREM", KEYS[3], 1, jid) == 0 then
	return 0
end
if held then
	rcall("DEL", jk .. ":lock")
end
rcall("SREM", KEYS[1], jid)
if rcall("EXISTS", jk) == 0 then
	return 0
end

local stc = rcall("HINCRBY", jk, "stc", 1)
local rjk = rcall("HGET", jk, "rjk")
local iteration = false
if rjk then
	iteration = rcall("EXISTS", KEYS[7] .. ":" .. rjk) == 1 or
	    rcall("ZSCORE", KEYS[7], rjk) ~= false
end
if stc > (tonumber(ARGV[4]) or 1) and not iteration then
	rcall("HSET", jk, "defa", "job stalled more than allowable limit")
end

local maxevents = rcall("HGET", KEYS[4], "opts.maxLenEvents")
if not maxevents then
	maxevents = 10000
	rcall("HSET", KEYS[4], "opts.maxLenEvents", maxevents)
end
rcall("XTRIM", KEYS[6], "MAXLEN", "~", maxevents)

local m = rcall("HMGET", KEYS[4], "paused", "concurrency")
rcall("RPUSH", KEYS[2], jid)
if not (m[1] or (m[2] and rcall("LLEN", KEYS[3]) >= (tonumber(m[2]) or 0)))
    then
	rcall("ZADD", KEYS[5], 0, "0")
end
rcall("XADD", KEYS[6], "*", "event", "waiting", "jobId", jid, "prev",
    "active")
rcall("XADD", KEYS[6], "*", "event", "stalled", "jobId", jid)
return 1
