--[[
  upsert-scheduler: create or update a job scheduler and put its current
  iteration in place, as Node's Queue.upsertJobScheduler leaves them
  (BULLMQ-PROTOCOL.md 1.4): the Q:repeat zset, the Q:repeat:<id> hash, the
  iteration job repeat:<id>:<millis>, the id counter and the events.
  Updating replaces the current iteration if it has not started yet.

  KEYS[1] Q:repeat   KEYS[5] Q:prioritized  KEYS[9]  Q:pc
  KEYS[2] Q:delayed  KEYS[6] Q:marker       KEYS[10] Q:active
  KEYS[3] Q:wait     KEYS[7] Q:id
  KEYS[4] Q:meta     KEYS[8] Q:events

  ARGV[1] the job key prefix "Q:"
  ARGV[2] scheduler id
  ARGV[3] now, ms
  ARGV[4] for a cron "pattern" scheduler: its first time, ms, computed by
          the caller ("" for an "every" one)
  ARGV[5] the template's job name
  ARGV[6] the repeat options as JSON: every or pattern, and tz, limit,
          startDate, endDate (ms), offset (every only) when given
  ARGV[7] the template's data (JSON text)
  ARGV[8] the template's job options (JSON object, Node's names)

  Returns {job id, delay}; -10 when a cron scheduler's iteration id is
  taken by another job, -11 when 32 "every" slots in a row are.
]]
local rcall = redis.call
local prefix = ARGV[1]
local sid = ARGV[2]
local now = tonumber(ARGV[3])
local name = ARGV[5]
local data = ARGV[7]

-- the options Node stores under shorter names
local short_names = {deduplication = "de", failParentOnFailure = "fpof",
    continueParentOnFailure = "cpof", ignoreDependencyOnFailure = "idof",
    keepLogs = "kl", removeDependencyOnFailure = "rdof"}

local function decode_object(text, what)
	local ok, v = pcall(cjson.decode, text)
	if not ok or type(v) ~= "table" then
		return redis.error_reply("upsert-scheduler: " .. what ..
		    " is not a JSON object")
	end
	return v
end

local sopts = decode_object(ARGV[6], "repeat options")
if sopts["err"] then
	return sopts
end
local given = decode_object(ARGV[8], "template options")
if given["err"] then
	return given
end
local topts = {}
for k, v in pairs(given) do
	if short_names[k] then
		topts[short_names[k]] = v
	elseif k == "telemetry" and type(v) == "table" then
		topts["tm"] = v["metadata"]
		topts["omc"] = v["omitContext"]
	else
		topts[k] = v
	end
end

local every = tonumber(sopts["every"])
local next_ms = tonumber(ARGV[4])
if not every and not next_ms then
	return redis.error_reply("upsert-scheduler: neither every nor the " ..
	    "first time of a pattern")
end

-- the iteration's repeat options: those given, with its count
local rep = {}
for k, v in pairs(sopts) do
	rep[k] = v
end

local sk = KEYS[1] .. ":" .. sid
--@include expect-type
local bad = expect_types({{KEYS[1], "zset"}, {KEYS[2], "zset"},
    {KEYS[3], "list"}, {KEYS[5], "zset"}, {KEYS[6], "zset"},
    {KEYS[8], "stream"}, {KEYS[9], "string"}, {KEYS[4], "hash"},
    {KEYS[10], "list"}, {sk, "hash"}},
    "upsert-scheduler")
if bad then
	return bad
end
local prev = rcall("ZSCORE", KEYS[1], sid)
if prev then
	prev = tonumber(prev)
end
local old = rcall("HMGET", sk, "every", "offset", "ic")
local meta_key = KEYS[4]
--@include max-events

local offset = tonumber(sopts["offset"]) or 0
local new_offset = offset
local every_changed = false
if every then
	local base = prev
	if prev and tonumber(old[1]) ~= every then
		base = nil
		every_changed = true
	end
	if base then
		next_ms = base + every
		if next_ms < now then
			-- missed iterations: the next slot after now
			local aligned = math.floor(now / every) * every + offset
			if aligned <= now then
				next_ms = aligned + every
			else
				next_ms = aligned
			end
		end
	elseif tonumber(sopts["startDate"]) then
		next_ms = math.max(tonumber(sopts["startDate"]), now)
	elseif offset > 0 then
		next_ms = math.floor(now / every) * every + offset
		if next_ms <= now then
			next_ms = next_ms + every
		end
	else
		next_ms = now
	end
	if offset == 0 then
		offset = next_ms - math.floor(next_ms / every) * every
	end
	next_ms = math.floor(next_ms)
	new_offset = math.floor(offset)
end

--@include remove-job

-- An update replaces the current iteration while it has not started.
local replaced = false
if prev then
	local cur = "repeat:" .. sid .. ":" .. prev
	if rcall("EXISTS", prefix .. cur) == 1 then
		if rcall("ZSCORE", KEYS[2], cur) then
			remove_job(cur, prefix, true)
			rcall("ZREM", KEYS[2], cur)
			replaced = true
		elseif rcall("ZSCORE", KEYS[5], cur) then
			remove_job(cur, prefix, true)
			rcall("ZREM", KEYS[5], cur)
			replaced = true
		elseif rcall("LREM", KEYS[3], 1, cur) > 0 then
			remove_job(cur, prefix, true)
			replaced = true
		end
	end
end
if replaced then
	if every and not every_changed then
		next_ms = prev
	end
else
	sopts["offset"] = new_offset
end

local jid = "repeat:" .. sid .. ":" .. next_ms
local taken = false
if rcall("EXISTS", prefix .. jid) == 1 then
	if every then
		local scans = 0
		repeat
			next_ms = next_ms + every
			jid = "repeat:" .. sid .. ":" .. next_ms
			scans = scans + 1
		until rcall("EXISTS", prefix .. jid) == 0 or scans >= 32
		if rcall("EXISTS", prefix .. jid) == 1 then
			return -11
		end
	else
		taken = true
	end
end
if taken and not replaced then
	return -10
end

local delay = next_ms - now
if delay < 0 then
	delay = 0
end

-- the scheduler's hash, written anew; its iteration count stays
local fields = {"name", name}
for _, f in ipairs({"tz", "limit", "pattern", "startDate", "endDate",
    "every"}) do
	if sopts[f] ~= nil then
		fields[#fields + 1] = f
		fields[#fields + 1] = sopts[f]
	end
end
if sopts["offset"] ~= nil then
	fields[#fields + 1] = "offset"
	fields[#fields + 1] = sopts["offset"]
elseif old[2] then
	fields[#fields + 1] = "offset"
	fields[#fields + 1] = tonumber(old[2])
end
local topts_json = cjson.encode(topts)
if topts_json ~= "{}" then
	fields[#fields + 1] = "opts"
	fields[#fields + 1] = topts_json
end
if data ~= "{}" then
	fields[#fields + 1] = "data"
	fields[#fields + 1] = data
end
fields[#fields + 1] = "ic"
fields[#fields + 1] = old[3] or 1
rcall("ZADD", KEYS[1], next_ms, sid)
rcall("DEL", sk)
rcall("HSET", sk, unpack(fields))

-- the id counter, as Node bumps it; one INCR refuses is left as it is
redis.pcall("INCR", KEYS[7])

-- the iteration: the template's options with the repeat state
rep["count"] = 1
local opts = {}
for k, v in pairs(topts) do
	opts[k] = v
end
opts["repeat"] = rep
opts["jobId"] = jid
opts["delay"] = delay
opts["timestamp"] = now
opts["repeatJobKey"] = sid
if not every then
	opts["prevMillis"] = next_ms
end

local priority = tonumber(opts["priority"]) or 0
local job = {"name", name, "data", data, "opts", cjson.encode(opts),
    "timestamp", now, "delay", delay, "priority", priority, "rjk", sid}
if type(opts["de"]) == "table" and opts["de"]["id"] then
	job[#job + 1] = "deid"
	job[#job + 1] = tostring(opts["de"]["id"])
end
rcall("HSET", prefix .. jid, unpack(job))
rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*", "event", "added",
    "jobId", jid, "name", name)

--@include place-new
place_new(jid, delay, priority, opts["lifo"])
return {jid, delay}
