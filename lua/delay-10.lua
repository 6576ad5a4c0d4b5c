--[[
  delay: retry an active job after a backoff (BullMQ's moveToDelayed), then
  optionally fetch the next job with the same token.

  KEYS[1] Q:wait        KEYS[5] Q:meta     KEYS[9]  Q:pc
  KEYS[2] Q:active      KEYS[6] Q:events   KEYS[10] Q:stalled
  KEYS[3] Q:prioritized KEYS[7] Q:marker
  KEYS[4] Q:delayed     KEYS[8] Q:limiter

  ARGV[1..7] as fetch: prefix "Q:", now, token, lock duration, limiter
             max, limiter duration, worker name
  ARGV[8]  job id
  ARGV[9]  delay, ms, stored as given (the job is due at now + delay,
           or now when the delay is 0 or less)
  ARGV[10] failed reason
  ARGV[11] stacktrace JSON array ("" leave as is)
  ARGV[12] "1" to fetch the next job

  Returns 0, a fetch reply with a job (see fetch-9.lua; the fetch itself
  is lua/include/fetch.lua), or -1 job missing, -2 lock missing, -3 not
  active, -6 lock mismatch, -20 the key holds no hash, -21 atm is not an
  integer (nothing written: the worker fails the job instead); a key it
  would write that holds the wrong type ends it with the error BULLMQ-22
  (include key-types), nothing written.
]]
local rcall = redis.call
local prefix = ARGV[1]
local now = tonumber(ARGV[2])

--@include fetch

local jid = ARGV[8]
local jk = prefix .. jid
local token = ARGV[3]

--@include retry-check

-- as Node: a delay of 0 or less is due now, through the delayed set
local delay = tonumber(ARGV[9])
if not delay then
	return redis.error_reply("delay: not a number")
end
local due = delay > 0 and now + delay or now

-- the keys written once the job has left active hold their types
--@include key-types
key_types({KEYS[4], "zset", KEYS[6], "stream", KEYS[7], "zset"})

local stalled_key, reason, stack, into = KEYS[10], ARGV[10], ARGV[11], nil
--@include take-active

-- a negative atm (Node never writes one) counts from 0, as the worker
-- read it: counting up from it would retry past the attempts
if atm and string.byte(atm) == 45 then
	rcall("HSET", jk, "atm", "1")
else
	rcall("HINCRBY", jk, "atm", 1)
end
rcall("HSET", jk, "delay", ARGV[9])

-- the events stream cap, written as 10000 when unset
if not meta[5] then
	meta[5] = "10000"
	rcall("HSET", KEYS[5], "opts.maxLenEvents", meta[5])
end
--@include delayed
add_delayed(KEYS[4], KEYS[6], jid, due, meta[5])

if ARGV[12] == "1" then
	-- a job is a string, or a table whose first entry is one
	local r = fetch_job(false)
	if r and (type(r) == "string" or type(r[1]) == "string") then
		return r
	end
end

mark_first(KEYS[4], KEYS[7])
return 0
