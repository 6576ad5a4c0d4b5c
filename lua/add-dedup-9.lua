--[[
  add-dedup: add-9 for a job whose deduplication has a mode, as Node's add
  scripts deduplicate (BULLMQ-PROTOCOL.md 4.1): "extend" (a repeat within
  the ttl restarts it), "replace" (a repeat replaces the owner while it is
  delayed), "keepLastIfActive" (a repeat while the owner runs is kept in
  Q:dn:<id> and added when the owner finishes), "reschedule" (a repeat
  moves a delayed owner to its own delay).

  KEYS and ARGV as add-9.lua; the modes and ttl are read from the stored
  options' "de" (ARGV[6]), the deduplication id is ARGV[10].

  Returns {status, id} as add-9.lua: 0 added, 1 duplicate custom id, 2
  deduplicated (id is the job owning the window).
]]
local rcall = redis.call
local prefix = ARGV[1]
local delay = tonumber(ARGV[7])
local priority = tonumber(ARGV[8])
local timestamp = tonumber(ARGV[4])
local dedup_id = ARGV[10]

local ok, opts = pcall(cjson.decode, ARGV[6])
if not ok or type(opts) ~= "table" or type(opts["de"]) ~= "table" or
    dedup_id == "" then
	return redis.error_reply("add-dedup: options without deduplication")
end
local de = opts["de"]
local ttl = tonumber(de["ttl"]) or 0
local keep_last = de["keepLastIfActive"] == true

--@include expect-type
local bad = expect_types({{KEYS[1], "list"}, {KEYS[2], "hash"},
    {KEYS[4], "zset"}, {KEYS[5], "zset"}, {KEYS[7], "list"},
    {KEYS[8], "stream"}, {KEYS[9], "zset"},
    {prefix .. "de:" .. dedup_id, "string"},
    {prefix .. "dn:" .. dedup_id, "hash"}}, "add-dedup")
if bad then
	return bad
end

--@include add-begin

local dk = prefix .. "de:" .. dedup_id
local dnk = prefix .. "dn:" .. dedup_id

local function deduplicated(owner, repeat_id)
	rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*", "event",
	    "deduplicated", "jobId", owner, "deduplicationId", dedup_id,
	    "deduplicatedJobId", repeat_id)
end

-- The window, owned by owner: with the ttl, never expiring while
-- keepLastIfActive may need it.
local function open_window(owner)
	if not keep_last and ttl > 0 then
		rcall("SET", dk, owner, "PX", ttl)
	else
		rcall("SET", dk, owner)
	end
end

-- A window without expiry whose owner vanished: this job opens a new one.
local function stale(owner)
	if owner and rcall("PTTL", dk) == -1 and
	    rcall("EXISTS", prefix .. owner) == 0 then
		rcall("DEL", dk, dnk)
		open_window(jid)
		return true
	end
	return false
end

-- keepLastIfActive with the owner running: this job waits in Q:dn:<id>.
local function keep_next(owner)
	if not keep_last or not owner then
		return false
	end
	local pos = redis.pcall("LPOS", KEYS[7], owner)
	if type(pos) == "table" then
		pos = nil
		for _, v in ipairs(rcall("LRANGE", KEYS[7], 0, -1)) do
			if v == owner then
				pos = true
				break
			end
		end
	end
	if not pos then
		return false
	end
	rcall("DEL", dnk)
	rcall("HSET", dnk, "name", ARGV[3], "data", ARGV[5], "opts", ARGV[6],
	    "jid", jid)
	rcall("PERSIST", dk)
	deduplicated(owner, jid)
	return true
end

-- The owner of the window this job falls in, or nil when it owns it.
local function owner_of_window()
	local taken
	if ttl > 0 and de["extend"] then
		local owner = rcall("GET", dk)
		if not owner then
			open_window(jid)
			return nil
		end
		if stale(owner) then
			return nil
		end
		if keep_next(owner) then
			return owner
		end
		open_window(owner)	-- the window starts again
		deduplicated(owner, jid)
		return owner
	elseif ttl > 0 and not keep_last then
		taken = not rcall("SET", dk, jid, "PX", ttl, "NX")
	else
		taken = not rcall("SET", dk, jid, "NX")
	end
	if not taken then
		return nil
	end
	local owner = rcall("GET", dk)
	if not owner then
		open_window(jid)	-- it expired in between
		return nil
	end
	if stale(owner) then
		return nil
	end
	if not keep_next(owner) then
		deduplicated(owner, jid)
	end
	return owner
end

--@include delayed

if de["replace"] then
	local owner = rcall("GET", dk)
	if not owner then
		open_window(jid)
	elseif rcall("ZREM", KEYS[4], owner) > 0 then
		-- the delayed owner gives way to this job
		local owner_key = prefix .. owner
		rcall("DEL", owner_key, owner_key .. ":logs",
		    owner_key .. ":dependencies",
		    owner_key .. ":processed", owner_key .. ":failed",
		    owner_key .. ":unsuccessful")
		rcall("XADD", KEYS[8], "*", "event", "removed", "jobId", owner,
		    "prev", "delayed")
		deduplicated(jid, owner)
		rcall("DEL", dnk)
		if keep_last then
			rcall("SET", dk, jid)
		elseif not de["extend"] and ttl > 0 then
			rcall("SET", dk, jid, "KEEPTTL")
		else
			open_window(jid)
		end
	elseif not stale(owner) then
		keep_next(owner)
		return {2, owner}
	end
else
	local owner = owner_of_window()
	if owner then
		if de["reschedule"] and rcall("ZSCORE", KEYS[4], owner) then
			rcall("HSET", prefix .. owner, "delay", delay)
			add_delayed(KEYS[4], KEYS[8], owner, timestamp + delay,
			    max_events)
			mark_first(KEYS[4], KEYS[9])
		end
		return {2, owner}
	end
end

--@include add-place
