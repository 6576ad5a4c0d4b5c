--[[
  move: a processor moves its own active job out of active instead of
  finishing it (BullMQ's job.moveToDelayed, job.moveToWait and
  job.moveToWaitingChildren, thrown as DelayedError, WaitingError or
  RateLimitError, and WaitingChildrenError).

  KEYS[1] Q:active      KEYS[5] Q:waiting-children KEYS[9]  Q:marker
  KEYS[2] Q:wait        KEYS[6] Q:events           KEYS[10] Q:limiter
  KEYS[3] Q:delayed     KEYS[7] Q:meta
  KEYS[4] Q:prioritized KEYS[8] Q:stalled

  ARGV[1] the job key prefix "Q:"
  ARGV[2] now, ms
  ARGV[3] job id
  ARGV[4] lock token ("0": no lock)
  ARGV[5] "delayed", "wait" or "children"
  ARGV[6] delayed: the time it is due, ms; children: the key of the one
          child to wait for ("" any)
  ARGV[7] wait: a rate limit to set on the queue first, ms ("" none)

  Returns, for delayed 0; for wait the rate limiter's time to live in ms
  (0 when none); for children 0 when moved, 1 when no child is pending
  (nothing moved).  Or -1 job missing, -2 lock missing, -3 not active,
  -6 lock mismatch, -9 a child failed (children), -20 the key holds no
  hash (its id leaves active, the key is left alone).  Nothing is written
  before every check has passed: a key it would write that holds the
  wrong type ends it with the error BULLMQ-22 (include key-types).
]]
local rcall = redis.call
local prefix, jid, token, where = ARGV[1], ARGV[3], ARGV[4], ARGV[5]
local now = tonumber(ARGV[2])
local jk = prefix .. jid

if not now or (where ~= "delayed" and where ~= "wait" and
    where ~= "children") then
	return redis.error_reply("move: bad arguments")
end
local due = 0
if where == "delayed" then
	due = tonumber(ARGV[6])
	if not due then
		return redis.error_reply("move: due time not a number")
	end
	due = math.max(math.floor(due), now)
end
local limit = nil
if where == "wait" and ARGV[7] ~= "" then
	limit = tonumber(ARGV[7])
	if not limit or limit < 1 then
		return redis.error_reply("move: rate limit not a number")
	end
end
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
end
if where == "children" then
	if rcall("ZCARD", jk .. ":unsuccessful") ~= 0 then
		return -9
	end
	local pending
	if ARGV[6] ~= "" then
		pending = rcall("SISMEMBER", jk .. ":dependencies", ARGV[6]) ~= 0
	else
		pending = rcall("SCARD", jk .. ":dependencies") ~= 0
	end
	if not pending then
		return 1
	end
end
-- a key that holds no hash is not a job: its id leaves active, the key
-- is left alone (as in include take-active)
local priority = redis.pcall("HGET", jk, "priority")
if type(priority) == "table" then
	rcall("LREM", KEYS[1], -1, jid)
	rcall("SREM", KEYS[8], jid)
	return -20
end
-- a priority that is no finite number (Node never writes one) is none
priority = tonumber(priority) or 0
if priority ~= priority or priority == math.huge or
    priority == -math.huge then
	priority = 0
end

-- the keys written once the job has left active hold their types
--@include key-types
local t = {KEYS[8], "set", KEYS[6], "stream", KEYS[7], "hash"}
if where == "delayed" then
	t[#t + 1], t[#t + 2], t[#t + 3], t[#t + 4] = KEYS[3], "zset", KEYS[9],
	    "zset"
elseif where == "children" then
	t[#t + 1], t[#t + 2] = KEYS[5], "zset"
else
	t[#t + 1], t[#t + 2], t[#t + 3], t[#t + 4] = priority > 0 and
	    KEYS[4] or KEYS[2], priority > 0 and "zset" or "list", KEYS[9],
	    "zset"
end
key_types(t)

-- the first write: nothing has changed when the job is not active
if rcall("LREM", KEYS[1], -1, jid) < 1 then
	return -3
end
if token ~= "0" then
	rcall("DEL", jk .. ":lock")
	rcall("SREM", KEYS[8], jid)
end

-- the events stream cap, written as 10000 when unset; one XADD would
-- refuse (not a count, or past 18 digits) is taken as 10000
local function max_events()
	local m = rcall("HGET", KEYS[7], "opts.maxLenEvents")
	if not m then
		m = "10000"
		rcall("HSET", KEYS[7], "opts.maxLenEvents", m)
	elseif #m > 18 or not string.match(m, "^%d+$") then
		m = "10000"
	end
	return m
end

if where == "delayed" then
	-- as a retry's delay, but no attempt is counted
	local lo, hi = due * 4096, (due + 1) * 4096 - 1
	local score = lo
	local top = rcall("ZREVRANGEBYSCORE", KEYS[3], hi, lo, "WITHSCORES",
	    "LIMIT", 0, 1)
	if top[2] then
		score = math.min(tonumber(top[2]) + 1, hi)
	end
	rcall("HSET", jk, "delay", due - now)
	rcall("ZADD", KEYS[3], score, jid)
	rcall("XADD", KEYS[6], "MAXLEN", "~", max_events(), "*", "event",
	    "delayed", "jobId", jid, "delay", due)
	local nd = rcall("ZRANGE", KEYS[3], 0, 0, "WITHSCORES")
	if nd[2] then
		rcall("ZADD", KEYS[9], tonumber(nd[2]) / 4096, "1")
	end
	return 0
end

if where == "children" then
	rcall("ZADD", KEYS[5], now, jid)
	rcall("XADD", KEYS[6], "*", "event", "waiting-children", "jobId", jid,
	    "prev", "active")
	return 0
end

-- back to the front of its line
if limit then
	rcall("SET", KEYS[10], "9007199254740991", "PX", limit)
end
if priority > 0 then
	rcall("ZADD", KEYS[4], priority * 0x100000000, jid)
else
	rcall("RPUSH", KEYS[2], jid)
end
local m = rcall("HMGET", KEYS[7], "paused", "concurrency")
local held_back = m[1] ~= false or (m[2] ~= false and
    rcall("LLEN", KEYS[1]) >= (tonumber(m[2]) or 0))
if not held_back then
	rcall("ZADD", KEYS[9], 0, "0")
end
rcall("XADD", KEYS[6], "MAXLEN", "~", max_events(), "*", "event", "waiting",
    "jobId", jid, "prev", "active")
local ttl = rcall("PTTL", KEYS[10])
if ttl > 0 then
	return ttl
end
return 0
