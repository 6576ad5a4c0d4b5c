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

  Returns {flat HGETALL of the job, id, 0, 0} for a job;
  {0, 0, limiter pttl, 0} when rate limited; {0, 0, 0, 0} when paused,
  maxed or empty; {0, 0, 0, next delayed due ms} when only delayed jobs wait.
]]
local rcall = redis.call
local prefix = ARGV[1]
local now = tonumber(ARGV[2])

-- Is the queue paused (meta field "paused" exists) or at its global
-- concurrency?  Also returns the meta max and duration.
local function queue_state()
	local m = rcall("HMGET", KEYS[5], "paused", "concurrency", "max",
	    "duration")
	local pm = false
	if m[1] then
		pm = true
	elseif m[2] and rcall("LLEN", KEYS[2]) >= (tonumber(m[2]) or 0) then
		pm = true
	end
	return pm, m[3], m[4]
end

-- Move the due delayed jobs to wait or prioritized (PROMOTE-DUE).
local function promote_due(pm)
	local due = rcall("ZRANGEBYSCORE", KEYS[4], 0, (now + 1) * 4096 - 1,
	    "LIMIT", 0, 1000)
	if #due == 0 then
		return
	end
	rcall("ZREM", KEYS[4], unpack(due))
	for _, jid in ipairs(due) do
		local jk = prefix .. jid
		local pri = tonumber(rcall("HGET", jk, "priority")) or 0
		if pri == 0 then
			rcall("LPUSH", KEYS[1], jid)
		else
			rcall("ZADD", KEYS[3], pri * 4294967296 +
			    rcall("INCR", KEYS[9]) % 4294967296, jid)
		end
		rcall("XADD", KEYS[6], "*", "event", "waiting", "jobId", jid,
		    "prev", "delayed")
		rcall("HSET", jk, "delay", 0)
	end
	if not pm then
		rcall("ZADD", KEYS[7], 0, "0")
	end
end

-- moveToActive: {hash, id, 0, 0}, {0, 0, ttl, 0} when rate limited,
-- {0, 0, 0, 0} when paused or maxed, {0, 0, 0, next} with the next delayed
-- due time, or nil when there is nothing at all.
local function fetch_job()
	local pm, mmax, mdur = queue_state()
	promote_due(pm)
	local maxjobs = tonumber(mmax or ARGV[5])
	if maxjobs and maxjobs <= (tonumber(rcall("GET", KEYS[8])) or 0) then
		local pttl = rcall("PTTL", KEYS[8])
		if pttl == 0 then
			rcall("DEL", KEYS[8])
		end
		if pttl > 0 then
			return {0, 0, pttl, 0}
		end
	end
	if pm then
		return {0, 0, 0, 0}
	end
	local jid = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
	while jid and string.sub(jid, 1, 2) == "0:" do
		-- a legacy marker: drop it and look again
		rcall("LREM", KEYS[2], 1, jid)
		jid = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
	end
	if not jid then
		local p = rcall("ZPOPMIN", KEYS[3])
		if #p > 0 then
			jid = p[1]
			rcall("LPUSH", KEYS[2], jid)
		else
			rcall("DEL", KEYS[9])
		end
	end
	if jid then
		local jk = prefix .. jid
		if maxjobs and rcall("HEXISTS", jk, "defa") == 0 then
			local dur = tonumber(ARGV[6]) or tonumber(mdur)
			if rcall("INCR", KEYS[8]) == 1 and dur then
				rcall("PEXPIRE", KEYS[8],
				    math.floor(math.abs(dur)))
			end
		end
		if ARGV[3] ~= "0" then
			rcall("SET", jk .. ":lock", ARGV[3], "PX", ARGV[4])
		end
		rcall("XADD", KEYS[6], "*", "event", "active", "jobId", jid,
		    "prev", "waiting")
		if ARGV[7] ~= "" then
			rcall("HSET", jk, "processedOn", ARGV[2], "pb", ARGV[7])
		else
			rcall("HSET", jk, "processedOn", ARGV[2])
		end
		rcall("HINCRBY", jk, "ats", 1)
		rcall("ZADD", KEYS[7], 0, "0")
		return {rcall("HGETALL", jk), jid, 0, 0}
	end
	local nd = rcall("ZRANGE", KEYS[4], 0, 0, "WITHSCORES")
	if nd[2] then
		return {0, 0, 0, tonumber(nd[2]) / 4096}
	end
	return nil
end

return fetch_job() or {0, 0, 0, 0}
