--[[
  include fetch: BullMQ's moveToActive, for fetch-9, finish-12 and delay-10
  (lua/lua2c.sh puts this file in place of their "--@include fetch" line).

  The includer defines, before the include:
    rcall   redis.call
    prefix  ARGV[1], the job key prefix "Q:"
    now     tonumber(ARGV[2])
  and passes the keys and arguments of fetch-9.lua in the same places:
    KEYS[1] Q:wait  KEYS[2] Q:active  KEYS[3] Q:prioritized  KEYS[4] Q:delayed
    KEYS[5] Q:meta  KEYS[6] Q:events  KEYS[7] Q:marker  KEYS[8] Q:limiter
    KEYS[9] Q:pc
    ARGV[1] prefix  ARGV[2] now  ARGV[3] lock token ("0": none)
    ARGV[4] lock duration  ARGV[5] limiter max  ARGV[6] limiter duration
    ARGV[7] worker name ("" none)

  Defines read_meta(), queue_held(m), max_events(m) and fetch_job(m).  The
  meta hash is read once per call: nothing in these scripts writes its
  paused, concurrency, max or duration fields.

  This runs once per job: the arguments of its calls are strings where they
  can be (a Lua number given to redis.call is formatted with "%.17g", which
  costs about as much as a call: a microsecond), and it reads each key once.
]]

-- The fields of Q:meta the scripts use: {paused, concurrency, max,
-- duration, opts.maxLenEvents}.
local function read_meta()
	return rcall("HMGET", KEYS[5], "paused", "concurrency", "max",
	    "duration", "opts.maxLenEvents")
end

-- Is the queue paused (meta field "paused" exists) or at its global
-- concurrency, by the meta m?
local function queue_held(m)
	if m[1] then
		return true
	end
	return m[2] ~= false and rcall("LLEN", KEYS[2]) >= (tonumber(m[2]) or 0)
end

-- The events stream cap of meta m, written as 10000 when unset.
local function max_events(m)
	if not m[5] then
		m[5] = 10000
		rcall("HSET", KEYS[5], "opts.maxLenEvents", m[5])
	end
	return m[5]
end

-- Move the due delayed jobs to wait or prioritized (PROMOTE-DUE).  The
-- first delayed job is looked at first: the bound of ZRANGEBYSCORE is a
-- number to format, which costs more than the look when none is due.
-- Returns the first delayed entry {id, score} when none was due.
local function promote_due(held)
	local bound = (now + 1) * 4096 - 1
	local first = rcall("ZRANGE", KEYS[4], "0", "0", "WITHSCORES")
	if not first[2] or tonumber(first[2]) > bound then
		return first
	end
	local due = rcall("ZRANGEBYSCORE", KEYS[4], "0", bound, "LIMIT", "0",
	    "1000")
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
	if not held then
		rcall("ZADD", KEYS[7], "0", "0")
	end
end

-- Set a field of h, a flat HGETALL reply, to v: h[i] when the field is
-- there, else f and v appended (as HSET appends a new field).
local function set_flat(h, i, f, v)
	if i then
		h[i] = v
	else
		h[#h + 1] = f
		h[#h + 1] = v
	end
end

-- Make the popped job jid active: count it in the rate limiter (unless
-- "defa" says it will fail at once), lock it, write the "active" event and
-- processedOn, pb and ats.  The hash is read before the one write to it
-- and the reply patched: that is what HGETALL would now answer.
local function start_job(jid, maxjobs, mdur)
	local jk = prefix .. jid
	local h = rcall("HGETALL", jk)
	local pon, pb, ats, defa
	for i = 1, #h, 2 do
		local f = h[i]
		if f == "processedOn" then
			pon = i + 1
		elseif f == "pb" then
			pb = i + 1
		elseif f == "ats" then
			ats = i + 1
		elseif f == "defa" then
			defa = true
		end
	end
	if maxjobs and not defa then
		local dur = tonumber(ARGV[6]) or tonumber(mdur)
		if rcall("INCR", KEYS[8]) == 1 and dur then
			rcall("PEXPIRE", KEYS[8], math.floor(math.abs(dur)))
		end
	end
	if ARGV[3] ~= "0" then
		rcall("SET", jk .. ":lock", ARGV[3], "PX", ARGV[4])
	end
	rcall("XADD", KEYS[6], "*", "event", "active", "jobId", jid,
	    "prev", "waiting")
	-- a first attempt, the usual case, needs no number formatted
	local n = "1"
	if ats then
		n = string.format("%d", (tonumber(h[ats]) or 0) + 1)
	end
	set_flat(h, pon, "processedOn", ARGV[2])
	if ARGV[7] ~= "" then
		set_flat(h, pb, "pb", ARGV[7])
		rcall("HSET", jk, "processedOn", ARGV[2], "pb", ARGV[7],
		    "ats", n)
	else
		rcall("HSET", jk, "processedOn", ARGV[2], "ats", n)
	end
	set_flat(h, ats, "ats", n)
	rcall("ZADD", KEYS[7], "0", "0")
	-- one string for the hash: Redis turns each string of a reply table
	-- into a reply of its own, dearer than table.concat.  A NUL inside a
	-- field shows as more parts than #h; the worker then reads the hash.
	return {table.concat(h, "\0"), jid, #h, 0}
end

-- moveToActive with the meta m (read_meta()): {hash joined with NULs, id,
-- number of strings in the hash, 0},
-- {0, 0, ttl, 0} when rate limited, {0, 0, 0, 0} when paused or maxed,
-- {0, 0, 0, next} with the next delayed due time, or nil when there is
-- nothing at all.
local function fetch_job(m)
	local held = queue_held(m)
	local first = promote_due(held)
	local maxjobs = tonumber(m[3] or ARGV[5])
	if maxjobs and maxjobs <= (tonumber(rcall("GET", KEYS[8])) or 0) then
		local pttl = rcall("PTTL", KEYS[8])
		if pttl == 0 then
			rcall("DEL", KEYS[8])
		end
		if pttl > 0 then
			return {0, 0, pttl, 0}
		end
	end
	if held then
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
		return start_job(jid, maxjobs, m[4])
	end
	-- nothing was due: the first delayed job is still the first
	if first == nil then
		first = rcall("ZRANGE", KEYS[4], "0", "0", "WITHSCORES")
	end
	if first[2] then
		return {0, 0, 0, tonumber(first[2]) / 4096}
	end
	return nil
end
