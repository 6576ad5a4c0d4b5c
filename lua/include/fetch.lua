--[[
  include fetch: BullMQ's moveToActive, for fetch-9, finish-1 and delay-10
  (lua/lua2c.sh puts this file in place of their "--@include fetch" line).

  The includer defines, before the include:
    rcall   redis.call
    prefix  ARGV[1], the job key prefix "Q:"
    now     tonumber(ARGV[2])
  and passes the keys and arguments of fetch-9.lua in the same places (or
  makes a local KEYS table in their order, as finish-1 does):
    KEYS[1] Q:wait  KEYS[2] Q:active  KEYS[3] Q:prioritized  KEYS[4] Q:delayed
    KEYS[5] Q:meta  KEYS[6] Q:events  KEYS[7] Q:marker  KEYS[8] Q:limiter
    KEYS[9] Q:pc
    ARGV[1] prefix  ARGV[2] now  ARGV[3] lock token ("0": none)
    ARGV[4] lock duration  ARGV[5] limiter max  ARGV[6] limiter duration
    ARGV[7] worker name ("" none)

  Reads the meta hash into the local "meta" where the include stands
  (nothing in these scripts writes its paused, concurrency, max or
  duration fields), and defines fetch_job(wake), which uses that meta.  One
  function and no more: each "local function" is a closure made on every
  call of the script, and with its call it costs about a tenth of a Redis
  command (include/promote-due makes pc_next only when jobs are due).  An
  id with a NUL byte is failed here, and a key that holds no hash goes to
  the worker with no fields, for finish-1 to take out of active.

  This runs once per job: the arguments of its calls are strings where they
  can be (a Lua number given to redis.call is formatted with "%.17g", which
  costs about as much as a call: a microsecond), and it reads each key once.
]]

-- The fields of Q:meta the scripts use: {paused, concurrency, max,
-- duration, opts.maxLenEvents}.
local meta = rcall("HMGET", KEYS[5], "paused", "concurrency", "max",
    "duration", "opts.maxLenEvents")
-- an events cap XADD would refuse, after the writes, is taken as the
-- default (and left as it is)
if meta[5] and (#meta[5] > 18 or not string.match(meta[5], "^%d+$")) then
	meta[5] = "10000"
end

-- moveToActive by the meta above: for a job, one string (see its end) or,
-- with 256 strings in the hash or more or an id of 256 bytes or more,
-- {hash joined with NULs, id, number of strings in the hash, 0};
-- {0, 0, ttl, 0} when rate limited, {0, 0, 0, 0} when paused or maxed,
-- {0, 0, 0, next} with the next delayed due time, or nil when there is
-- nothing at all.
--
-- wake: true to write the marker "0" once a job is taken, as BullMQ does
-- after every move to active, so that the next blocked worker wakes and
-- tries too.  A worker that fetches as it finishes or delays a job (false)
-- popped no marker: the chain of wake-ups is kept by the workers that did,
-- and by whatever made the jobs ready.  Not writing it saves a command.
local function fetch_job(wake)
	-- held: paused (meta field "paused" exists) or at the global
	-- concurrency
	local held = meta[1] and true or (meta[2] ~= false and
	    rcall("LLEN", KEYS[2]) >= (tonumber(meta[2]) or 0))

	-- PROMOTE-DUE: the due delayed jobs to wait or prioritized; "first"
	-- is the first delayed entry when none was due
	local pc_key = KEYS[9]
--@include promote-due

	local maxjobs = tonumber(meta[3] or ARGV[5])
	local used = maxjobs and rcall("GET", KEYS[8])
	if used and not string.match(used, "^%d+$") then
		-- a count INCR would refuse below, after the pop: restart it
		rcall("DEL", KEYS[8])
		used = nil
	end
	if maxjobs and maxjobs <= (tonumber(used) or 0) then
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
	local jid
	repeat
		jid = rcall("RPOPLPUSH", KEYS[1], KEYS[2])
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
		-- An id with a NUL byte cannot be named to a worker (C
		-- strings): the job ends failed here, and the next one is
		-- taken.  Its hash, if it has one, gets the reason.
		local nul = jid and string.find(jid, "\0", 1, true)
		if nul then
			local jk = prefix .. jid
			local why = "job id contains a NUL byte"
			rcall("LREM", KEYS[2], 1, jid)
			if rcall("TYPE", jk)["ok"] == "hash" then
				rcall("HSET", jk, "failedReason", why,
				    "finishedOn", ARGV[2])
				rcall("ZADD", prefix .. "failed", ARGV[2], jid)
			end
			rcall("XADD", KEYS[6], "*", "event", "failed",
			    "jobId", jid, "failedReason", why, "prev",
			    "active")
		end
	until not nul
	if not jid then
		-- nothing was due: the first delayed job is still the first
		if first == nil then
			first = rcall("ZRANGE", KEYS[4], "0", "0",
			    "WITHSCORES")
		end
		if first[2] then
			return {0, 0, 0, tonumber(first[2]) / 4096}
		end
		return nil
	end

	-- Make the job active: count it in the rate limiter (unless "defa"
	-- says it will fail at once), lock it, write the "active" event and
	-- processedOn, pb and ats.  The hash is read before the one write to
	-- it and the reply patched: that is what HGETALL would now answer
	-- (a field there is set in place, a new one appended, as HSET does).
	local jk = prefix .. jid
	local h = redis.pcall("HGETALL", jk)
	if h["err"] then
		-- the key holds no hash: not a job.  It goes to the worker
		-- with no fields, and its finish takes it out of active
		-- (finish-1.lua), naming it; the key is left alone.
		if ARGV[3] ~= "0" then
			rcall("SET", jk .. ":lock", ARGV[3], "PX", ARGV[4])
		end
		if #jid < 256 then
			return jid .. "\0" .. string.char(0, #jid)
		end
		return {"", jid, 0, 0}
	end
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
		local dur = tonumber(ARGV[6]) or tonumber(meta[4])
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
	if pon then
		h[pon] = ARGV[2]
	else
		h[#h + 1] = "processedOn"
		h[#h + 1] = ARGV[2]
	end
	if ARGV[7] ~= "" then
		if pb then
			h[pb] = ARGV[7]
		else
			h[#h + 1] = "pb"
			h[#h + 1] = ARGV[7]
		end
		rcall("HSET", jk, "processedOn", ARGV[2], "pb", ARGV[7],
		    "ats", n)
	else
		rcall("HSET", jk, "processedOn", ARGV[2], "ats", n)
	end
	if ats then
		h[ats] = n
	else
		h[#h + 1] = "ats"
		h[#h + 1] = n
	end
	if wake then
		rcall("ZADD", KEYS[7], "0", "0")
	end
	-- The hash as one string, its strings joined with NULs: Redis turns
	-- each string of a reply table into a reply of its own, dearer than
	-- table.concat.  A NUL inside a field shows as more parts than #h; the
	-- worker then reads the hash.  The reply itself is that one string,
	-- with the id and two bytes, #h and #jid, joined on at its end: for
	-- a table reply Redis finds the length last, so it allocates a reply
	-- block (16 KB) and walks the table's fields, about 2,700 of the
	-- 216,000 instructions Redis spends on a job.
	local nh, idlen = #h, #jid
	if nh < 256 and idlen < 256 then
		h[nh + 1] = jid
		h[nh + 2] = string.char(nh, idlen)
		return table.concat(h, "\0")
	end
	return {table.concat(h, "\0"), jid, nh, 0}
end
