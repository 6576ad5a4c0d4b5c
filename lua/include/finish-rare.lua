--[[
  include finish-rare: the parts of finish-1 only flows, retention,
  metrics, deduplication and a job that is gone or not a hash need
  (lua/lua2c.sh puts this file in place of its "--@include finish-rare"
  line).

  The includer defines, before the include: rcall, prefix, now, the local
  KEYS table of finish-1.lua, and meta (include fetch; meta[5], the events
  cap, is set before any of these runs).  rare() returns a table of the
  functions below.
]]

-- The parts only flows, retention, metrics, deduplication and a missing
-- job need, made on first use: making a closure costs about as much as a
-- Redis command, and the steady state needs none of them.
local made
local function rare()
	if made then
		return made
	end
--@include pc-next
--@include delayed
--@include queue-held
--@include key-types
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
			mark_first(dk, pq .. ":marker")
			return
		end
		local pm = queue_held(pq .. ":meta", pq .. ":active")
		if pri == 0 then
			rcall("RPUSH", pq .. ":wait", pid)
		else
			rcall("ZADD", pq .. ":prioritized", pri * 4294967296 +
			    pc_next(pq .. ":pc") % 4294967296, pid)
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
			local held = queue_held(pp .. "meta", pp .. "active")
			rcall("RPUSH", pp .. "wait", pid)
			if not held then
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
	-- Fields that are not numbers start the count again.
	local function metrics(mk, maxpoints)
		local m = rcall("HMGET", mk, "count", "prevTS", "prevCount")
		local count = m[1] and #m[1] < 16 and
		    string.match(m[1], "^%d+$") and tonumber(m[1]) or 0
		rcall("HSET", mk, "count", count + 1)
		local prevts = tonumber(m[2])
		if not prevts then
			rcall("HSET", mk, "prevTS", now, "prevCount", 0)
			return
		end
		local n = math.min(math.floor(now / 60000) -
		    math.floor(prevts / 60000), maxpoints)
		if n > 0 then
			local delta = count - (tonumber(m[3]) or 0)
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
		-- a key that holds no hash is no prototype: left alone
		local d = redis.pcall("HMGET", dnk, "name", "data", "opts",
		    "pk", "pd", "pdk", "rjk", "jid")
		if d["err"] then
			return
		end
		-- an id counter INCR refuses gives no id: the prototype waits
		local c = redis.pcall("INCR", prefix .. "id")
		if type(c) == "table" and not d[8] then
			return
		end
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
		-- a ttl PX takes: a whole number of ms
		local ttl = tonumber(de["ttl"])
		if ttl and ttl >= 1 and ttl < 2 ^ 53 then
			ttl = string.format("%d", ttl)
		else
			ttl = nil
		end
		if not de["keepLastIfActive"] and ttl then
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
			add_delayed(KEYS[4], KEYS[6], nid, now + delay, meta[5])
			mark_first(KEYS[4], KEYS[7])
		else
			-- paused or at its global concurrency
			local held = meta[1] and true or (meta[2] ~= false and
			    rcall("LLEN", KEYS[2]) >= (tonumber(meta[2]) or 0))
			if pri > 0 then
				rcall("ZADD", KEYS[3], pri * 4294967296 +
				    pc_next(KEYS[9]) % 4294967296, nid)
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
	-- Take out of active the id of a key that holds no hash: not a job.
	-- The key is left alone; -20 makes the worker name it.
	local function drop_not_hash(jk, jid, token)
		if token ~= "0" and rcall("GET", jk .. ":lock") == token then
			rcall("DEL", jk .. ":lock")
		end
		rcall("LREM", KEYS[2], -1, jid)
		rcall("SREM", KEYS[10], jid)
		return -20
	end
	-- Before the first write: when an add was kept for later (Q:dn:<deid>,
	-- a hash), the keys that make it a job hold their types, or the
	-- script ends refusing (include key-types): the job it becomes would
	-- be in no state.
	local function dedup_types(deid)
		local dnk = prefix .. "dn:" .. deid
		if rcall("EXISTS", dnk) == 0 then
			return
		end
		local pdk = redis.pcall("HGET", dnk, "pdk")
		if type(pdk) == "table" then
			return
		end
		key_types({KEYS[1], "list", KEYS[3], "zset", KEYS[4], "zset",
		    KEYS[6], "stream", KEYS[7], "zset"})
		if pdk then
			key_types({pdk, "set"})
		end
	end

	-- The deduplication window of a finished job ends, and the add it
	-- kept for later, if any, becomes a job.
	local function dedup_done(jid, deid)
		local dk = prefix .. "de:" .. deid
		-- a key that holds no string is no window of this job
		local pttl = rcall("PTTL", dk)
		if pttl == 0 or (pttl == -1 and
		    redis.pcall("GET", dk) == jid) then
			rcall("DEL", dk)
		end
		requeue_deduplicated(deid)
	end

	-- The parent JSON pj (nil none) as a table, or nil.
	local function parent_json(pj)
		if pj then
			local ok, v = pcall(cjson.decode, pj)
			if ok and type(v) == "table" then
				return v
			end
		end
		return nil
	end

	-- Before the first write: the keys parent_done would write for
	-- parentKey pk ("" none) and parent JSON pj (nil none) hold their
	-- types, or the script ends refusing (include key-types).  The keys
	-- of the parent's queue count only where the parent may move: when
	-- this is its last pending child, or it fails on a child's failure.
	local function parent_types(pk, pj)
		local pd = parent_json(pj)
		local ps = {}
		if pd and type(pd["queueKey"]) == "string" and
		    pd["id"] ~= nil then
			ps[#ps + 1] = {pd["queueKey"], tostring(pd["id"])}
		end
		if pk ~= "" then
			local pid = string.match(pk, "([^:]*)$")
			ps[#ps + 1] = {string.sub(pk, 1, #pk - #pid - 1), pid}
		end
		for _, p in ipairs(ps) do
			local pq = p[1]
			local k = pq .. ":" .. p[2]
			local deps = k .. ":dependencies"
			key_types({deps, "set", k, "hash", k .. ":processed",
			    "hash", k .. ":failed", "hash",
			    k .. ":unsuccessful", "zset"})
			if (pd and pd["fpof"]) or rcall("SCARD", deps) <= 1 then
				key_types({pq .. ":waiting-children", "zset",
				    pq .. ":delayed", "zset", pq .. ":wait",
				    "list", pq .. ":prioritized", "zset",
				    pq .. ":marker", "zset", pq .. ":events",
				    "stream", pq .. ":meta", "hash",
				    pq .. ":active", "list"})
			end
		end
	end

	-- The parent of a finished job, from parentKey pk ("" none) and the
	-- parent JSON pj (nil none): a completed child is processed, a failed
	-- one follows its parent's policy.  Returns the parent key ("" none).
	local function parent_done(jk, pk, pj, completed, value)
		local pd = parent_json(pj)
		if not completed then
			if pd then
				child_failed(pd, jk, value)
			end
			return pk
		end
		local pid, pq = "", ""
		if pd and type(pd["queueKey"]) == "string" and
		    pd["id"] ~= nil then
			pid, pq = tostring(pd["id"]), pd["queueKey"]
		elseif pk ~= "" then
			pid = string.match(pk, "([^:]*)$")
			pq = string.sub(pk, 1, #pk - #pid - 1)
		end
		if pid == "" then
			return pk
		end
		if pk == "" then
			pk = pq .. ":" .. pid
		end
		local deps = pk .. ":dependencies"
		if rcall("SREM", deps, jk) == 1 then
			rcall("HSET", pk .. ":processed", jk, value)
			if rcall("SCARD", deps) == 0 then
				parent_if_waiting(pq, pk, pid)
			end
		end
		return pk
	end

	-- Retention of the finished set KEYS[11]: jobs older than the age
	-- in ARGV[12] ("AGE LIMIT", "" none), then all but the newest keep
	-- (0 or less: no count).
	local function retain(keep)
		-- any age Number() reads (fractions, 0, negative: all); a
		-- limit below 0 is none
		local age, limit = string.match(ARGV[12], "^(%S+) (%-?%d+)$")
		age = tonumber(age)
		if age then
			limit = tonumber(limit) or 1000
			local cut = now - age * 1000
			local old = rcall("ZREVRANGEBYSCORE", KEYS[11], cut,
			    "-inf", "LIMIT", 0, limit)
			for _, o in ipairs(old) do
				remove_old(o)
			end
			if #old > 0 and #old < limit then
				rcall("ZREMRANGEBYSCORE", KEYS[11], "-inf", cut)
			elseif #old > 0 then
				for i = 1, #old, 7000 do
					rcall("ZREM", KEYS[11], unpack(old, i,
					    math.min(i + 6999, #old)))
				end
			end
		end
		if keep > 0 then
			local old = rcall("ZREVRANGE", KEYS[11], keep, -1)
			if #old > 0 then
				for _, o in ipairs(old) do
					remove_old(o)
				end
				rcall("ZREMRANGEBYRANK", KEYS[11], 0,
				    -(keep + 1))
			end
		end
	end

	made = {
		dedup_done = dedup_done,
		parent_done = parent_done,
		parent_types = parent_types,
		dedup_types = dedup_types,
		retain = retain,
		drop_not_hash = drop_not_hash,
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
