--[[
  include remove-job: remove_job(jid, base, hard) and parent_types(jk,
  pk, base, hard) for remove-12, clean-3, drain-5 and obliterate-17
  (lua/lua2c.sh puts this file in place of their "--@include remove-job"
  line).  The includer defines rcall
  (redis.call) before the include; no KEYS or ARGV are used here.
]]

--@include queue-held
--@include key-types

-- Before the first write for job key jk of parent pk ("" or nil none):
-- the keys release_parent would write hold their types, or the script
-- ends refusing (include key-types).  The parent's queue counts only
-- when jk is its last pending child; removed hard in this queue, the
-- parent's own parent then counts in turn.
local function parent_types(jk, pk, base, hard)
	if not pk or pk == "" or rcall("EXISTS", pk) == 0 then
		return
	end
	local deps = pk .. ":dependencies"
	key_types({deps, "set"})
	if rcall("SISMEMBER", deps, jk) == 0 or rcall("SCARD", deps) ~= 1 then
		return
	end
	local pid = string.match(pk, ".*:(.*)")
	local pq = string.sub(pk, 1, #pk - #pid)
	key_types({pq .. "waiting-children", "zset"})
	if not rcall("ZSCORE", pq .. "waiting-children", pid) then
		return
	end
	if hard and pq == base then
		local gp = redis.pcall("HGET", pk, "parentKey")
		if type(gp) == "string" then
			parent_types(pk, gp, base, hard)
		end
	else
		key_types({pq .. "wait", "list", pq .. "marker", "zset",
		    pq .. "events", "stream", pq .. "meta", "hash",
		    pq .. "active", "list"})
	end
end

-- Move parent pid of queue prefix pq ("Q:") to the end of its wait list,
-- with a "waiting" event when told.
local function parent_to_wait(pq, pid, event)
	local held = queue_held(pq .. "meta", pq .. "active")
	rcall("RPUSH", pq .. "wait", pid)
	if not held then
		rcall("ZADD", pq .. "marker", 0, "0")
	end
	if event then
		rcall("XADD", pq .. "events", "*", "event", "waiting", "jobId",
		    pid, "prev", "waiting-children")
	end
end

-- The job jk (of parent pk, "" none) no longer holds its parent back.  A
-- parent left with no pending child goes to wait; removed "hard" (Node's
-- removeJob with hard = true), one in this queue is deleted instead.
local function release_parent(jk, pk, base, hard)
	if not pk or pk == "" or rcall("EXISTS", pk) == 0 or
	    rcall("SREM", pk .. ":dependencies", jk) == 0 or
	    rcall("SCARD", pk .. ":dependencies") ~= 0 then
		return
	end
	local pid = string.match(pk, ".*:(.*)")
	local pq = string.sub(pk, 1, #pk - #pid)
	if rcall("ZREM", pq .. "waiting-children", pid) == 0 then
		return
	end
	if hard and pq == base then
		local gp = redis.pcall("HGET", pk, "parentKey")
		if type(gp) == "string" then
			release_parent(pk, gp, base, hard)
		end
		rcall("DEL", pk, pk .. ":logs", pk .. ":dependencies",
		    pk .. ":processed", pk .. ":failed", pk .. ":unsuccessful")
	else
		parent_to_wait(pq, pid, not hard)
	end
end

-- Delete job jid of queue prefix base: its keys, its deduplication
-- window, and its parent's pending dependency.  A key that holds no hash
-- is not a job: it is left alone (the caller takes the id out of its
-- list).  A parent's key of the wrong type refuses before its first
-- write (parent_types).
local function remove_job(jid, base, hard)
	local jk = base .. jid
	local f = redis.pcall("HMGET", jk, "parentKey", "deid")
	if f["err"] then
		return
	end
	parent_types(jk, f[1], base, hard)
	release_parent(jk, f[1], base, hard)
	if f[2] then
		-- a key that holds no string is no window of this job
		local dk = base .. "de:" .. f[2]
		if redis.pcall("GET", dk) == jid then
			rcall("DEL", dk, base .. "dn:" .. f[2])
		end
	end
	rcall("DEL", jk, jk .. ":logs", jk .. ":dependencies",
	    jk .. ":processed", jk .. ":failed", jk .. ":unsuccessful")
end
