--[[
  obliterate: delete a paused queue and its jobs, a budget of count jobs a
  call (BULLMQ-PROTOCOL.md 4.11): active (with their locks), delayed,
  scheduler definitions, completed, wait, legacy paused, prioritized and
  failed jobs, then the queue's own keys.  No events.  Like bullmq 6.7.0 it
  leaves Q:waiting-children, Q:limiter and deduplication keys of live
  windows alone.

  KEYS[1] Q:meta          KEYS[10] Q:events
  KEYS[2] Q:active        KEYS[11] Q:stalled-check
  KEYS[3] Q:delayed       KEYS[12] Q:stalled
  KEYS[4] Q:repeat        KEYS[13] Q:id
  KEYS[5] Q:completed     KEYS[14] Q:pc
  KEYS[6] Q:wait          KEYS[15] Q:marker
  KEYS[7] Q:paused        KEYS[16] Q:metrics:completed
  KEYS[8] Q:prioritized   KEYS[17] Q:metrics:failed
  KEYS[9] Q:failed

  ARGV[1] job key prefix "Q:"
  ARGV[2] count (jobs deleted at most this call)
  ARGV[3] "force" to delete active jobs too, "" not to

  Returns 0 done, 1 more to delete (call again), -1 the queue is not
  paused, -2 it has active jobs and force was not given.
]]
local rcall = redis.call
local base = ARGV[1]
local budget = tonumber(ARGV[2])

--@include remove-job

if rcall("HEXISTS", KEYS[1], "paused") ~= 1 then
	return -1
end

local active = rcall("LRANGE", KEYS[2], 0, budget - 1)
if #active > 0 and ARGV[3] ~= "force" then
	return -2
end
for _, jid in ipairs(active) do
	rcall("DEL", base .. jid .. ":lock")
	remove_job(jid, base, true)
end
rcall("LTRIM", KEYS[2], #active, -1)
budget = budget - #active
if budget <= 0 then
	return 1
end

-- Remove the first jobs of sorted set key, within the budget; whether
-- it is spent.
local function drop_set(key)
	local ids = rcall("ZRANGE", key, 0, budget - 1)
	for _, jid in ipairs(ids) do
		remove_job(jid, base, true)
	end
	for i = 1, #ids, 7000 do
		rcall("ZREM", key, unpack(ids, i, math.min(i + 6999, #ids)))
	end
	budget = budget - #ids
	return budget <= 0
end

-- The same for list key.
local function drop_list(key)
	local ids = rcall("LRANGE", key, 0, budget - 1)
	for _, jid in ipairs(ids) do
		remove_job(jid, base, true)
	end
	rcall("LTRIM", key, #ids, -1)
	budget = budget - #ids
	return budget <= 0
end

if drop_set(KEYS[3]) then
	return 1
end

local scheds = rcall("ZRANGE", KEYS[4], 0, budget - 1)
for _, sid in ipairs(scheds) do
	rcall("DEL", KEYS[4] .. ":" .. sid)
end
for i = 1, #scheds, 7000 do
	rcall("ZREM", KEYS[4], unpack(scheds, i, math.min(i + 6999, #scheds)))
end
budget = budget - #scheds
if budget <= 0 then
	return 1
end

if drop_set(KEYS[5]) or drop_list(KEYS[6]) or drop_list(KEYS[7]) or
    drop_set(KEYS[8]) or drop_set(KEYS[9]) then
	return 1
end

rcall("DEL", KEYS[10], base .. "delay", KEYS[11], KEYS[12], KEYS[13],
    KEYS[14], KEYS[15], KEYS[1], KEYS[16], KEYS[16] .. ":data", KEYS[17],
    KEYS[17] .. ":data")
return 0
