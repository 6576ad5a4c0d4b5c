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

  Returns the number of jobs deleted.
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

-- Remove the jobs of list key but the kept ones.
local function drain_list(key)
	local ids = rcall("LRANGE", key, 0, -1)
	local kept = {}
	for _, jid in ipairs(ids) do
		if keep[jid] then
			kept[#kept + 1] = jid
		else
			remove_job(jid, base, true)
			count = count + 1
		end
	end
	if #kept < #ids then
		rcall("DEL", key)
		for i = 1, #kept, 7000 do
			rcall("RPUSH", key, unpack(kept, i, math.min(i + 6999,
			    #kept)))
		end
	end
end

-- Remove the jobs of sorted set key but the kept ones.
local function drain_set(key)
	local ids = rcall("ZRANGE", key, 0, -1)
	local gone = {}
	for _, jid in ipairs(ids) do
		if not keep[jid] then
			remove_job(jid, base, true)
			gone[#gone + 1] = jid
		end
	end
	for i = 1, #gone, 7000 do
		rcall("ZREM", key, unpack(gone, i, math.min(i + 6999, #gone)))
	end
	count = count + #gone
end

drain_list(KEYS[1])
drain_list(KEYS[2])
if ARGV[2] == "1" then
	drain_set(KEYS[3])
end
drain_set(KEYS[4])
return count
