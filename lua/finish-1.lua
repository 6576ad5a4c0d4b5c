--[[
  finish: move an active job to completed or failed (BullMQ's
  moveToFinished), then optionally fetch the next job with the same token.

  KEYS[1] Q:active, the one key passed.  The rest are made here from the
  prefix: each key passed costs Redis more (parsing it, an object, a string
  in the KEYS table it grows) than a concatenation in Lua.  The local table
  KEYS below stands for the global in the rest of this file and in the
  fetch include, in fetch-9.lua's order:
    KEYS[1] Q:wait        KEYS[5] Q:meta     KEYS[9]  Q:pc
    KEYS[2] Q:active      KEYS[6] Q:events   KEYS[10] Q:stalled
    KEYS[3] Q:prioritized KEYS[7] Q:marker   KEYS[11] Q:completed or Q:failed
    KEYS[4] Q:delayed     KEYS[8] Q:limiter

  ARGV[1..7] as fetch: prefix "Q:", now, token, lock duration, limiter
             max, limiter duration, worker name
  ARGV[8]  job id
  ARGV[9]  target: "completed" or "failed"
  ARGV[10] return value (JSON, stored verbatim) or failed reason
  ARGV[11] keep count: -1 keep all, 0 remove at once, N keep the newest N
  ARGV[12] keep age in seconds (any number: 0 or less removes all) and
           the most to remove per call (negative: no limit), "AGE LIMIT"
           ("" none)
  ARGV[13] metrics max data points ("" metrics off)
  ARGV[14] "1" to fetch the next job
  ARGV[15] "" or, from a worker that holds the lock and fetched the job
           with its base fields and without parentKey, parent or deid:
           attemptsMade + 1 as it will be, so that the hash is not read
  ARGV[16] failed only: opts.attempts (for retries-exhausted; "" none)
  ARGV[17] failed only: stacktrace JSON array to store ("" leave as is)

  A completion sends 15 arguments: past 16 Redis builds ARGV in a table
  it grows again, which costs more than a command.

  A job with "deid" releases its deduplication window and, when an add was
  kept for later (keepLastIfActive, hash Q:dn:<deid>), adds that job.

  Returns 0, a fetch reply (see fetch-9.lua; the fetch itself is
  lua/include/fetch.lua), or -1 job missing, -2 lock missing, -3 not
  active, -4 pending children, -6 lock mismatch, -9 failed children.  A job
  whose hash is gone (or is only the stub a fetch wrote) is dropped from
  active.
]]
local rcall = redis.call
-- locals, not globals: a global is looked up by name at each use
local ARGV, tonumber = ARGV, tonumber
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local KEYS = {prefix .. "wait", KEYS[1], prefix .. "prioritized",
    prefix .. "delayed", prefix .. "meta", prefix .. "events",
    prefix .. "marker", prefix .. "limiter", prefix .. "pc",
    prefix .. "stalled", prefix .. ARGV[9]}

--@include fetch

-- The parts only flows, retention, metrics, deduplication and a missing
-- job need, made on first use: making a closure costs about as much as a
-- Redis command, and the steady state needs none of them.
local made
local function rare()
	if made then
		return made
	end
	-- PARENT-READY: a parent whose children are done goes to delayed, wait
	-- (front of the line) or prioritized, in its own queue.
	local function parent_ready(pq, pk, pid)
		local a = rcall("HMGET", pk, "priority", "delay")
		local pri = tonumber(a[1]) or 0
		local delay = tonumber(a[2]) or 0
		if delay > 0 then
			local due = now + delay
			local dk = pq .. ":delayed"
			rcall("ZADD", dk, due * 4096, pid)
			rcall("XADD", pq .. ":events", "*", "event", "delayed",
			    "jobId", pid, "delay", due)
			local nd = rcall("ZRANGE", dk, 0, 0, "WITHSCORES")
			if nd[2] then
				rcall("ZADD", pq .. ":marker",
				    tonumber(nd[2]) / 4096, "1")
			end
			return
		end
		local m = rcall("HMGET", pq .. ":meta", "paused", "concurrency")
		local pm = m[1] ~= false or (m[2] ~= false and
		    rcall("LLEN", pq .. ":active") >= (tonumber(m[2]) or 0))
		if pri == 0 then
			rcall("RPUSH", pq .. ":wait", pid)
		else
			rcall("ZADD", pq .. ":prioritized", pri * 4294967296 +
			    rcall("INCR", pq .. ":pc") % 4294967296, pid)
		end
		if not pm then
			rcall("ZADD", pq .. ":marker", 0, "0")
		end
		rcall("XADD", pq .. ":events", "*", "event", "waiting", "jobId",
		    pid, "prev", "waiting-children")
	end

	-- Release the parent if it exists and waits for its children.
	local function parent_if_waiting(pq, pk, pid)
		if rcall("EXISTS", pk) == 1 and
		    rcall("ZREM", pq .. ":waiting-children", pid) == 1 then
			parent_ready(pq, pk, pid)
		end
	end

	-- A finally failed child, by the policy flags of its parent JSON.
	local function child_failed(pd, ck, reason)
		local pq, pid = pd["queueKey"], pd["id"]
		if type(pq) ~= "string" or pid == nil then
			return
		end
		pid = tostring(pid)
		local pk = pq .. ":" .. pid
		local deps = pk .. ":dependencies"
		if pd["fpof"] then
			if rcall("SREM", deps, ck) == 1 then
				rcall("ZADD", pk .. ":unsuccessful", now, ck)
				if rcall("EXISTS", pk) == 1 then
					local defa = "child " .. ck .. " failed"
					local from
					if rcall("ZSCORE",
					    pq .. ":waiting-children", pid) then
						from = pq .. ":waiting-children"
					elseif rcall("ZSCORE", pq .. ":delayed",
					    pid) then
						from = pq .. ":delayed"
						rcall("HSET", pk, "delay", 0)
					end
					if from then
						rcall("ZREM", from, pid)
						rcall("HSET", pk, "defa", defa)
						parent_ready(pq, pk, pid)
					elseif not rcall("ZSCORE",
					    pq .. ":failed", pid) then
						rcall("HSET", pk, "defa", defa)
					end
				end
			end
		elseif pd["cpof"] then
			if rcall("SREM", deps, ck) == 1 then
				rcall("HSET", pk .. ":failed", ck, reason)
				parent_if_waiting(pq, pk, pid)
			end
		elseif pd["idof"] or pd["rdof"] then
			if rcall("SREM", deps, ck) == 1 then
				if rcall("SCARD", deps) == 0 then
					parent_if_waiting(pq, pk, pid)
				end
				if pd["idof"] then
					rcall("HSET", pk .. ":failed", ck,
					    reason)
				end
			end
		end
	end

	-- A removed job no longer holds its parent back: release the parent
	-- (front of wait) when that was its last dependency.
	local function drop_from_parent(jk, pk)
		local deps = pk .. ":dependencies"
		if rcall("SREM", deps, jk) == 0 or rcall("SCARD",
		    deps) ~= 0 then
			return
		end
		local pid = string.match(pk, "([^:]*)$")
		local pp = string.sub(pk, 1, #pk - #pid)
		if rcall("ZREM", pp .. "waiting-children", pid) == 1 then
			local m = rcall("HMGET", pp .. "meta", "paused",
			    "concurrency")
			rcall("RPUSH", pp .. "wait", pid)
			if not (m[1] or (m[2] and rcall("LLEN",
			    pp .. "active") >=
			    (tonumber(m[2]) or 0))) then
				rcall("ZADD", pp .. "marker", 0, "0")
			end
			rcall("XADD", pp .. "events", "*", "event", "waiting",
			    "jobId", pid, "prev", "waiting-children")
		end
	end

	-- Delete the keys of an old finished job (retention).
	local function remove_old(jid)
		local jk = prefix .. jid
		local pk = rcall("HGET", jk, "parentKey")
		if pk and pk ~= "" and rcall("EXISTS", pk) == 1 then
			drop_from_parent(jk, pk)
		end
		rcall("DEL", jk, jk .. ":logs", jk .. ":dependencies",
		    jk .. ":processed", jk .. ":failed", jk .. ":unsuccessful")
	end

	-- Per-minute metrics of finished jobs.
	local function metrics(mk, maxpoints)
		local count = rcall("HINCRBY", mk, "count", 1) - 1
		local prevts = rcall("HGET", mk, "prevTS")
		if not prevts then
			rcall("HSET", mk, "prevTS", now, "prevCount", 0)
			return
		end
		local n = math.min(math.floor(now / 60000) -
		    math.floor(tonumber(prevts) / 60000), maxpoints)
		if n > 0 then
			local delta = count - (tonumber(rcall("HGET", mk,
			    "prevCount")) or 0)
			local dk = mk .. ":data"
			rcall("LPUSH", dk, delta)
			for _ = 2, n do
				rcall("LPUSH", dk, 0)
			end
			rcall("LTRIM", dk, 0, maxpoints - 1)
			rcall("HSET", mk, "prevCount", count, "prevTS", now)
		end
	end

	-- keepLastIfActive: the add that was deduplicated while this job ran
	-- (its prototype in Q:dn:<deid>) becomes a real job, owning the window.
	-- meta[5], the events cap, is set when this is called.
	local function requeue_deduplicated(deid)
		local dnk = prefix .. "dn:" .. deid
		if rcall("EXISTS", dnk) == 0 then
			return
		end
		local d = rcall("HMGET", dnk, "name", "data", "opts", "pk",
		    "pd", "pdk", "rjk", "jid")
		local c = rcall("INCR", prefix .. "id")
		local nid = d[8] or tostring(c)
		local nk = prefix .. nid
		local ok, o = pcall(cjson.decode, d[3] or "{}")
		if not ok or type(o) ~= "table" then
			o = {}
		end
		local de = o["de"]
		if type(de) ~= "table" then
			de = {}
		end
		local dk = prefix .. "de:" .. deid
		local ttl = tonumber(de["ttl"])
		if not de["keepLastIfActive"] and ttl and ttl > 0 then
			rcall("SET", dk, nid, "PX", ttl)
		else
			rcall("SET", dk, nid)
		end
		local delay = tonumber(o["delay"]) or 0
		local pri = tonumber(o["priority"]) or 0
		local f = {"name", d[1] or "", "data", d[2] or "{}", "opts",
		    cjson.encode(o), "timestamp", ARGV[2], "delay", delay,
		    "priority", pri}
		if d[4] then
			f[#f + 1] = "parentKey"
			f[#f + 1] = d[4]
			if d[5] then
				f[#f + 1] = "parent"
				f[#f + 1] = d[5]
			end
		end
		if d[7] then
			f[#f + 1] = "rjk"
			f[#f + 1] = d[7]
		end
		if de["id"] ~= nil then
			f[#f + 1] = "deid"
			f[#f + 1] = tostring(de["id"])
		end
		rcall("HSET", nk, unpack(f))
		rcall("XADD", KEYS[6], "*", "event", "added", "jobId", nid,
		    "name", d[1] or "")
		if delay ~= 0 then
			local due = now + delay
			local lo, hi = due * 4096, (due + 1) * 4096 - 1
			local score = lo
			local top = rcall("ZREVRANGEBYSCORE", KEYS[4], hi, lo,
			    "WITHSCORES", "LIMIT", 0, 1)
			if top[2] then
				score = math.min(tonumber(top[2]) + 1, hi)
			end
			rcall("ZADD", KEYS[4], score, nid)
			rcall("XADD", KEYS[6], "MAXLEN", "~", meta[5],
			    "*", "event", "delayed", "jobId", nid, "delay", due)
			local nd = rcall("ZRANGE", KEYS[4], 0, 0, "WITHSCORES")
			if nd[2] then
				rcall("ZADD", KEYS[7], tonumber(nd[2]) / 4096,
				    "1")
			end
		else
			-- paused or at its global concurrency
			local held = meta[1] and true or (meta[2] ~= false and
			    rcall("LLEN", KEYS[2]) >= (tonumber(meta[2]) or 0))
			if pri > 0 then
				rcall("ZADD", KEYS[3], pri * 4294967296 +
				    rcall("INCR", KEYS[9]) % 4294967296, nid)
			elseif o["lifo"] then
				rcall("RPUSH", KEYS[1], nid)
			else
				rcall("LPUSH", KEYS[1], nid)
			end
			if not held then
				rcall("ZADD", KEYS[7], 0, "0")
			end
			rcall("XADD", KEYS[6], "MAXLEN", "~", meta[5],
			    "*", "event", "waiting", "jobId", nid)
		end
		if d[6] then
			rcall("SADD", d[6], nk)
		end
		rcall("DEL", dnk)
	end

	-- Drop the entry of a job whose hash is gone (or is only the stub a
	-- fetch left for an id whose job was gone).
	local function drop_missing(jk, jid, token)
		if token ~= "0" and rcall("GET", jk .. ":lock") == token then
			rcall("DEL", jk .. ":lock")
		end
		rcall("DEL", jk)
		rcall("LREM", KEYS[2], -1, jid)
		rcall("SREM", KEYS[10], jid)
		return -1
	end
	made = {
		parent_ready = parent_ready,
		parent_if_waiting = parent_if_waiting,
		child_failed = child_failed,
		drop_from_parent = drop_from_parent,
		remove_old = remove_old,
		metrics = metrics,
		requeue_deduplicated = requeue_deduplicated,
		drop_missing = drop_missing,
	}
	return made
end

local jid = ARGV[8]
local jk = prefix .. jid
local token = ARGV[3]
local completed = ARGV[9] == "completed"
local value = ARGV[10]


-- The job's fields this script needs, {name, data, opts, timestamp,
-- parentKey, parent, deid, atm + 1 as text}: read from the hash, or from
-- ARGV[15] where the worker knows them.  Empty sets and sorted sets do not
-- exist, so one EXISTS tells whether the job is there and has children
-- (dependencies, unsuccessful); nil when the job is gone.
local h
local deps = jk .. ":dependencies"
local unsucc = jk .. ":unsuccessful"
local kids
if ARGV[15] ~= "" and token ~= "0" then
	local n = rcall("EXISTS", jk, deps, unsucc)
	if n == 0 then
		return rare().drop_missing(jk, jid, token)
	end
	if n > 1 and rcall("EXISTS", jk) == 0 then
		return rare().drop_missing(jk, jid, token)
	end
	h = {true, true, true, true, false, false, false, ARGV[15]}
	kids = n > 1
else
	h = rcall("HMGET", jk, "name", "data", "opts", "timestamp",
	    "parentKey", "parent", "deid", "atm")
	if not (h[1] or h[2] or h[3] or h[4]) then
		return rare().drop_missing(jk, jid, token)
	end
	-- a first attempt, the usual case, needs no number formatted
	h[8] = h[8] and string.format("%d", (tonumber(h[8]) or 0) + 1) or "1"
	kids = completed and rcall("EXISTS", deps, unsucc) ~= 0
end
if completed and kids then
	if rcall("SCARD", deps) ~= 0 then
		return -4
	end
	if rcall("ZCARD", unsucc) ~= 0 then
		return -9
	end
end
if token ~= "0" then
	local lk = jk .. ":lock"
	local held = rcall("GET", lk)
	if held ~= token then
		if held then
			return -6
		end
		return -2
	end
	rcall("DEL", lk)
	rcall("SREM", KEYS[10], jid)
end
if not completed then
	if (ARGV[17] or "") ~= "" then
		rcall("HSET", jk, "failedReason", value, "stacktrace", ARGV[17])
	else
		rcall("HSET", jk, "failedReason", value)
	end
end
if rcall("LREM", KEYS[2], "-1", jid) < 1 then
	return -3
end

-- the meta (read by the include above) gives the events cap, written as
-- 10000 when unset; the cap trims the stream (MAXLEN ~) with the XADD of
-- the finished event, where Node runs XTRIM ~ before it
if not meta[5] then
	meta[5] = "10000"
	rcall("HSET", KEYS[5], "opts.maxLenEvents", meta[5])
end
local maxevents = meta[5]

if h[7] then
	local dk = prefix .. "de:" .. h[7]
	local pttl = rcall("PTTL", dk)
	if pttl == 0 or (pttl == -1 and rcall("GET", dk) == jid) then
		rcall("DEL", dk)
	end
	rare().requeue_deduplicated(h[7])
end

local pk = h[5] or ""
local pd
if h[6] then
	local ok, v = pcall(cjson.decode, h[6])
	if ok and type(v) == "table" then
		pd = v
	end
end
if completed then
	local pid, pq = "", ""
	if pd and type(pd["queueKey"]) == "string" and pd["id"] ~= nil then
		pid, pq = tostring(pd["id"]), pd["queueKey"]
	elseif pk ~= "" then
		pid = string.match(pk, "([^:]*)$")
		pq = string.sub(pk, 1, #pk - #pid - 1)
	end
	if pid ~= "" then
		if pk == "" then
			pk = pq .. ":" .. pid
		end
		local deps = pk .. ":dependencies"
		if rcall("SREM", deps, jk) == 1 then
			rcall("HSET", pk .. ":processed", jk, value)
			if rcall("SCARD", deps) == 0 then
				rare().parent_if_waiting(pq, pk, pid)
			end
		end
	end
elseif pd then
	rare().child_failed(pd, jk, value)
end

-- atm + 1 (HINCRBY's answer; nothing above writes atm), stored with the
-- result unless the job goes at once
local atm = h[8]

local keep = tonumber(ARGV[11]) or -1
if keep ~= 0 then
	-- ARGV[2] is now as text: a number would be formatted again
	rcall("ZADD", KEYS[11], ARGV[2], jid)
	if completed then
		rcall("HSET", jk, "atm", atm, "returnvalue", value,
		    "finishedOn", ARGV[2])
	else
		rcall("HSET", jk, "atm", atm, "failedReason", value,
		    "finishedOn", ARGV[2])
		rcall("HDEL", jk, "defa")
	end
	local age, limit = string.match(ARGV[12], "^(%S+) (%-?%d+)$")
	age = tonumber(age)
	if age then
		limit = tonumber(limit) or 1000
		local cut = now - age * 1000
		local old = rcall("ZREVRANGEBYSCORE", KEYS[11], cut, "-inf",
		    "LIMIT", 0, limit)
		for _, o in ipairs(old) do
			rare().remove_old(o)
		end
		if #old > 0 then
			if #old < limit then
				rcall("ZREMRANGEBYSCORE", KEYS[11], "-inf", cut)
			else
				for i = 1, #old, 7000 do
					rcall("ZREM", KEYS[11], unpack(old, i,
					    math.min(i + 6999, #old)))
				end
			end
		end
	end
	if keep > 0 then
		local old = rcall("ZREVRANGE", KEYS[11], keep, -1)
		if #old > 0 then
			for _, o in ipairs(old) do
				rare().remove_old(o)
			end
			rcall("ZREMRANGEBYRANK", KEYS[11], 0, -(keep + 1))
		end
	end
else
	rcall("DEL", jk, jk .. ":logs", jk .. ":dependencies",
	    jk .. ":processed", jk .. ":failed", jk .. ":unsuccessful")
	if pk ~= "" then
		rare().drop_from_parent(jk, pk)
	end
end

if completed then
	rcall("XADD", KEYS[6], "MAXLEN", "~", maxevents, "*", "event",
	    "completed", "jobId", jid, "returnvalue", value, "prev", "active")
else
	rcall("XADD", KEYS[6], "MAXLEN", "~", maxevents, "*", "event",
	    "failed", "jobId", jid, "failedReason", value, "prev", "active")
	local att = tonumber(ARGV[16])
	if att and tonumber(atm) >= att then
		rcall("XADD", KEYS[6], "*", "event", "retries-exhausted",
		    "jobId", jid, "attemptsMade", atm)
	end
end

if ARGV[13] ~= "" then
	rare().metrics(prefix .. "metrics:" .. ARGV[9],
	    tonumber(ARGV[13]))
end

if ARGV[14] == "1" then
	local r = fetch_job(false)
	if r then
		return r
	end
end

if rcall("LLEN", KEYS[1]) == 0 and rcall("LLEN", KEYS[2]) == 0 and
    rcall("ZCARD", KEYS[3]) == 0 then
	rcall("XADD", KEYS[6], "*", "event", "drained")
end
return 0
