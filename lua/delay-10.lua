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
  active, -6 lock mismatch.
]]
local rcall = redis.call
local prefix = ARGV[1]
local now = tonumber(ARGV[2])

--@include fetch

local jid = ARGV[8]
local jk = prefix .. jid
local token = ARGV[3]

if rcall("EXISTS", jk) == 0 then
	return -1
end
if token ~= "0" then
	local held = rcall("GET", jk .. ":lock")
	if held ~= token then
		if held then
			return -6
		end
		return -2
	end
	rcall("DEL", jk .. ":lock")
	rcall("SREM", KEYS[10], jid)
end
if ARGV[11] ~= "" then
	rcall("HSET", jk, "failedReason", ARGV[10], "stacktrace", ARGV[11])
else
	rcall("HSET", jk, "failedReason", ARGV[10])
end
if rcall("LREM", KEYS[2], -1, jid) < 1 then
	return -3
end

-- the delayed score: due time * 4096 plus a sequence within the ms
-- as Node: a delay of 0 or less is due now, through the delayed set
local delay = tonumber(ARGV[9])
local due = delay > 0 and now + delay or now
local lo, hi = due * 4096, (due + 1) * 4096 - 1
local score = lo
local top = rcall("ZREVRANGEBYSCORE", KEYS[4], hi, lo, "WITHSCORES",
    "LIMIT", 0, 1)
if top[2] then
	score = math.min(tonumber(top[2]) + 1, hi)
end

rcall("HINCRBY", jk, "atm", 1)
rcall("HSET", jk, "delay", ARGV[9])

-- the events stream cap, written as 10000 when unset
if not meta[5] then
	meta[5] = "10000"
	rcall("HSET", KEYS[5], "opts.maxLenEvents", meta[5])
end
rcall("ZADD", KEYS[4], score, jid)
rcall("XADD", KEYS[6], "MAXLEN", "~", meta[5], "*", "event",
    "delayed", "jobId", jid, "delay", due)

if ARGV[12] == "1" then
	-- a job is a string, or a table whose first entry is one
	local r = fetch_job(false)
	if r and (type(r) == "string" or type(r[1]) == "string") then
		return r
	end
end

local nd = rcall("ZRANGE", KEYS[4], 0, 0, "WITHSCORES")
if nd[2] then
	rcall("ZADD", KEYS[7], tonumber(nd[2]) / 4096, "1")
end
return 0
