--[[
  drain: delete every job waiting to run (Q:wait, the legacy Q:paused,
  Q:prioritized, and Q:delayed if asked), keys included, except the current
  iteration of each job scheduler (BULLMQ-PROTOCOL.md 4.12).  Active,
  finished and waiting-children jobs are untouched; no events.

  KEYS[1] Q:wait          KEYS[4] Q:prioritized
  KEYS[2] Q:paused        KEYS[5] Q:repeat
  KEYS[3] Q:delayed

  ARGV[1] job key prefix "Q:"
  ARGV[2] "1" to drain the delayed jobs too

  Returns the number of jobs deleted.  A parent's key of the wrong type
  ends it with the error BULLMQ-22 (include key-types); the jobs deleted
  before are out of their lists.
]]
local rcall = redis.call
local base = ARGV[1]
local count = 0

--@include remove-job

-- The current iteration job of every scheduler is kept.
local keep = {}
local sched = rcall("ZRANGE", KEYS[5], 0, -1, "WITHSCORES")
for i = 1, #sched, 2 do
	keep["repeat:" .. sched[i] .. ":" .. sched[i + 1]] = true
end

-- remove_job; false with the error when it refused (a parent's key of
-- the wrong type, before its first write)
local function removed(jid)
	local ok, e = pcall(remove_job, jid, base, true)
	if ok then
		return true
	end
	-- passed on as a table: a string gets "ERR " before it
	if type(e) == "table" then
		e = e["err"]
	end
	return false, tostring(e)
end

-- Remove the jobs of list key but the kept ones.  On a refusal the list
-- keeps the kept jobs and those not reached, and the script ends with it.
local function drain_list(key)
	local ids = rcall("LRANGE", key, 0, -1)
	local kept = {}
	local err
	for _, jid in ipairs(ids) do
		if err or keep[jid] then
			kept[#kept + 1] = jid
		else
			local ok, e = removed(jid)
			if ok then
				count = count + 1
			else
				err = e
				kept[#kept + 1] = jid
			end
		end
	end
	if #kept < #ids then
		rcall("DEL", key)
		for i = 1, #kept, 7000 do
			rcall("RPUSH", key, unpack(kept, i, math.min(i + 6999,
			    #kept)))
		end
	end
	if err then
		error({err = err})
	end
end

-- Remove the jobs of sorted set key but the kept ones.  On a refusal the
-- ones removed leave the set, and the script ends with it.
local function drain_set(key)
	local ids = rcall("ZRANGE", key, 0, -1)
	local gone = {}
	local err
	for _, jid in ipairs(ids) do
		if not keep[jid] then
			local ok, e = removed(jid)
			if not ok then
				err = e
				break
			end
			gone[#gone + 1] = jid
		end
	end
	for i = 1, #gone, 7000 do
		rcall("ZREM", key, unpack(gone, i, math.min(i + 6999, #gone)))
	end
	count = count + #gone
	if err then
		error({err = err})
	end
end

drain_list(KEYS[1])
drain_list(KEYS[2])
if ARGV[2] == "1" then
	drain_set(KEYS[3])
end
drain_set(KEYS[4])
return count
