--[[
  clean: delete the jobs of one state older than a cutoff, at most limit of
  them (BULLMQ-PROTOCOL.md 4.13), then write a "cleaned" event.

  KEYS[1] the state's key (Q:completed, Q:failed, Q:wait, Q:paused,
          Q:active, Q:delayed or Q:prioritized)
  KEYS[2] Q:events
  KEYS[3] Q:repeat

  ARGV[1] job key prefix "Q:"
  ARGV[2] cutoff timestamp (ms): now - grace
  ARGV[3] limit (0: no limit)
  ARGV[4] state: completed, failed, wait, paused, active, delayed,
          prioritized

  Returns the ids deleted.  A key it would write that holds the wrong
  type (events, a parent's) ends it with the error BULLMQ-22 (include
  key-types); the jobs deleted before are out of the state key.
]]
local rcall = redis.call
local base = ARGV[1]
local cutoff = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local state = ARGV[4]

--@include remove-job

-- Is jid the current iteration of a job scheduler (never cleaned)?
local function is_scheduler_job(jid)
	local rjk = redis.pcall("HGET", base .. jid, "rjk")
	if type(rjk) == "string" then
		local millis = rcall("ZSCORE", KEYS[3], rjk)
		return millis ~= false and
		    jid == "repeat:" .. rjk .. ":" .. millis
	end
	return false
end

-- The first of the given hash fields that is set, as a number, or nil
-- (also for a key that holds no hash).
local function job_time(jid, fields)
	local v = redis.pcall("HMGET", base .. jid, unpack(fields))
	for i = 1, #fields do
		if v[i] then
			return tonumber(v[i])
		end
	end
	return nil
end

local deleted = {}

-- the events key, written last, holds its type (include key-types)
key_types({KEYS[2], "stream"})

-- remove_job; when it refuses (a parent's key of the wrong type, before
-- its first write), the jobs deleted so far first leave the state key:
-- no blank of a list, no id of a deleted job is left behind
local function remove(jid)
	local ok, e = pcall(remove_job, jid, base, true)
	if ok then
		return
	end
	if state == "wait" or state == "paused" or state == "active" then
		rcall("LREM", KEYS[1], 0, "")
	else
		for i = 1, #deleted, 7000 do
			rcall("ZREM", KEYS[1], unpack(deleted, i,
			    math.min(i + 6999, #deleted)))
		end
	end
	-- passed on as a table: a string gets "ERR " before it
	if type(e) == "table" then
		e = e["err"]
	end
	error({err = tostring(e)})
end

if state == "wait" or state == "paused" or state == "active" then
	local from = 0
	if limit > 0 then
		from = -limit
	end
	local ids = rcall("LRANGE", KEYS[1], from, -1)
	local n = #ids
	for i, jid in ipairs(ids) do
		if limit > 0 and #deleted >= limit then
			break
		end
		if (state ~= "active" or
		    rcall("EXISTS", base .. jid .. ":lock") == 0) and
		    not is_scheduler_job(jid) then
			local t = job_time(jid, {"finishedOn", "processedOn",
			    "timestamp"})
			if not t or t <= cutoff then
				-- Blank the entry by position; blanks are
				-- removed at the end.
				remove(jid)
				rcall("LSET", KEYS[1], i - n - 1, "")
				deleted[#deleted + 1] = jid
			end
		end
	end
	rcall("LREM", KEYS[1], 0, "")
else
	local finished = state == "completed" or state == "failed"
	local top = finished and cutoff or "+inf"
	local ids
	if limit > 0 then
		ids = rcall("ZRANGEBYSCORE", KEYS[1], 0, top, "LIMIT", 0, limit)
	else
		ids = rcall("ZRANGEBYSCORE", KEYS[1], 0, top)
	end
	local fields = state == "delayed" and {"processedOn", "timestamp"} or
	    {"timestamp"}
	for _, jid in ipairs(ids) do
		if limit > 0 and #deleted >= limit then
			break
		end
		if finished then
			remove(jid)
			deleted[#deleted + 1] = jid
		elseif not is_scheduler_job(jid) then
			local t = job_time(jid, fields)
			if not t or t <= cutoff then
				remove(jid)
				deleted[#deleted + 1] = jid
			end
		end
	end
	for i = 1, #deleted, 7000 do
		rcall("ZREM", KEYS[1], unpack(deleted, i, math.min(i + 6999,
		    #deleted)))
	end
end

rcall("XADD", KEYS[2], "*", "event", "cleaned", "count", #deleted)
return deleted
