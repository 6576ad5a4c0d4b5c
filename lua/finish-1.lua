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
  active, -4 pending children, -6 lock mismatch, -9 failed children, -20
  the key holds no hash: not a job, taken out of active (the key is left
  alone).  A job whose hash is gone (or is only the stub a fetch wrote) is
  dropped from active.  An atm that is not a count is written as 1.  A
  key it would write after the job leaves active that holds the wrong
  type (the finished set, stalled, a parent's keys) ends it with the error
  BULLMQ-22 (include key-types), nothing written.
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
--@include finish-rare

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
	h = redis.pcall("HMGET", jk, "name", "data", "opts", "timestamp",
	    "parentKey", "parent", "deid", "atm")
	if h["err"] then
		return rare().drop_not_hash(jk, jid, token)
	end
	if not (h[1] or h[2] or h[3] or h[4]) then
		return rare().drop_missing(jk, jid, token)
	end
	-- a first attempt, the usual case, needs no number formatted; an
	-- atm that is no count (Node: NaN) starts again from 1
	if h[8] then
		local n = string.match(h[8], "^%d+$") and #h[8] < 16 and
		    tonumber(h[8]) or 0
		h[8] = string.format("%d", n + 1)
	else
		h[8] = "1"
	end
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

-- a parent's keys, or those a deduplicated add kept for later needs, of
-- the wrong type refuse here, before the first write
if h[5] or h[6] then
	rare().parent_types(h[5] or "", h[6] or nil)
end
if h[7] then
	rare().dedup_types(h[7])
end

-- the finished set, unless the job goes at once, is written first (by
-- the include: a key of the wrong type refuses there)
local keep = tonumber(ARGV[11]) or -1
local stalled_key, reason, stack = KEYS[10], nil, ARGV[17] or ""
local into = keep ~= 0 and KEYS[11] or nil
if not completed then
	reason = value
end
--@include take-active

-- the meta (read by the include above) gives the events cap, written as
-- 10000 when unset; the cap trims the stream (MAXLEN ~) with the XADD of
-- the finished event, where Node runs XTRIM ~ before it
if not meta[5] then
	meta[5] = "10000"
	rcall("HSET", KEYS[5], "opts.maxLenEvents", meta[5])
end
local max_events = meta[5]

if h[7] then
	rare().dedup_done(jid, h[7])
end
local pk = h[5] or ""
if h[5] or h[6] then
	pk = rare().parent_done(jk, pk, h[6] or nil, completed, value)
end

-- atm + 1 (HINCRBY's answer; nothing above writes atm), stored with the
-- result unless the job goes at once
local atm = h[8]

if keep ~= 0 then
	-- ARGV[2] is now as text: a number would be formatted again.  A
	-- completion with the fields ARGV[15] gave writes the hash first
	-- here: a key that holds no hash is told here, and taken out of the
	-- finished set the include added it to.
	if completed then
		if type(redis.pcall("HSET", jk, "atm", atm, "returnvalue",
		    value, "finishedOn", ARGV[2])) == "table" then
			if added then
				rcall("ZREM", KEYS[11], jid)
			end
			return rare().drop_not_hash(jk, jid, "0")
		end
	else
		rcall("HSET", jk, "atm", atm, "failedReason", value,
		    "finishedOn", ARGV[2])
		rcall("HDEL", jk, "defa")
	end
	if keep > 0 or ARGV[12] ~= "" then
		rare().retain(keep)
	end
else
	rcall("DEL", jk, jk .. ":logs", jk .. ":dependencies",
	    jk .. ":processed", jk .. ":failed", jk .. ":unsuccessful")
	if pk ~= "" then
		rare().drop_from_parent(jk, pk)
	end
end

if completed then
	rcall("XADD", KEYS[6], "MAXLEN", "~", max_events, "*", "event",
	    "completed", "jobId", jid, "returnvalue", value, "prev", "active")
else
	rcall("XADD", KEYS[6], "MAXLEN", "~", max_events, "*", "event",
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
