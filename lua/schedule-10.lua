--[[
  schedule: create the next iteration of a job scheduler ("every" or cron
  "pattern") when its current iteration is fetched (what a Node worker does
  before running it).

  KEYS[1] Q:repeat   KEYS[5] Q:prioritized  KEYS[9]  Q:pc
  KEYS[2] Q:delayed  KEYS[6] Q:marker       KEYS[10] Q:active
  KEYS[3] Q:wait     KEYS[7] Q:id
  KEYS[4] Q:meta     KEYS[8] Q:events

  ARGV[1] the job key prefix "Q:"
  ARGV[2] scheduler id (the fetched job's rjk)
  ARGV[3] the fetched job's id
  ARGV[4] now, ms
  ARGV[5] for a cron "pattern" scheduler: its next time, ms, computed by
          the caller from the fetched job's opts ("" when unknown)

  Returns the new iteration's id; 0 when there is none to create (the
  scheduler is gone, its limit or end date is reached, the fetched job is
  not its current iteration, or the next one exists: "duplicated"); -1 for
  a cron "pattern" scheduler called without its next time.
]]
local rcall = redis.call
local prefix = ARGV[1]
local sid = ARGV[2]
local now = tonumber(ARGV[4])

local prev = rcall("ZSCORE", KEYS[1], sid)
if not prev then
	return 0
end
prev = tonumber(prev)
local sk = KEYS[1] .. ":" .. sid
local s = rcall("HMGET", sk, "name", "data", "every", "offset", "pattern",
    "ic")
local job = rcall("HMGET", prefix .. ARGV[3], "opts", "name")

local opts = {}
if job[1] then
	local ok, v = pcall(cjson.decode, job[1])
	if ok and type(v) == "table" then
		opts = v
	end
end
local rep = opts["repeat"]
if type(rep) ~= "table" then
	rep = {}
end

local count = (tonumber(rep["count"]) or 0) + 1
if tonumber(rep["limit"]) and count > tonumber(rep["limit"]) then
	return 0
end
if tonumber(rep["endDate"]) and now > tonumber(rep["endDate"]) then
	return 0
end

local every = tonumber(s[3]) or tonumber(rep["every"])
local nextms
if not every or every <= 0 then
	if not (s[5] or rep["pattern"]) then
		return 0
	end
	-- a cron pattern: the caller computed the next time
	nextms = tonumber(ARGV[5])
	if not nextms then
		return -1
	end
else
	local offset = tonumber(s[4]) or tonumber(rep["offset"]) or 0
	nextms = prev + every
	if nextms < now then
		local aligned = math.floor(now / every) * every + offset
		if aligned <= now then
			nextms = aligned + every
		else
			nextms = aligned
		end
	end
	nextms = math.floor(nextms)
end

if ARGV[3] ~= "repeat:" .. sid .. ":" .. prev then
	return 0
end

local meta_key = KEYS[4]
--@include max-events

local nid = "repeat:" .. sid .. ":" .. nextms
local nk = prefix .. nid
if rcall("EXISTS", nk) == 1 then
	rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*", "event",
	    "duplicated", "jobId", nid)
	return 0
end

-- an iteration count HINCRBY would refuse starts again from 1
local ic_ok = not s[6] or (#s[6] < 19 and string.match(s[6], "^%-?%d+$"))
rcall("ZADD", KEYS[1], nextms, sid)
if ic_ok then
	rcall("HINCRBY", sk, "ic", 1)
else
	rcall("HSET", sk, "ic", 1)
end
-- the id counter, as Node bumps it; one INCR refuses is left as it is
redis.pcall("INCR", KEYS[7])

local delay = nextms - now
if delay < 0 then
	delay = 0
end
rep["count"] = count
if not tonumber(rep["offset"]) or tonumber(rep["offset"]) == 0 then
	rep["offset"] = nil
end
rep["immediately"] = nil
opts["repeat"] = rep
opts["delay"] = delay
opts["jobId"] = nid
opts["timestamp"] = now
opts["repeatJobKey"] = sid
if opts["attempts"] == nil then
	-- a Node worker's Job carries attempts 0 when none was given
	opts["attempts"] = 0
end
if every and every > 0 then
	opts["prevMillis"] = nil
else
	opts["prevMillis"] = nextms
end

local name = s[1] or job[2] or ""
local priority = tonumber(opts["priority"]) or 0
local fields = {"name", name, "data", s[2] or "{}", "opts",
    cjson.encode(opts), "timestamp", now, "delay", delay, "priority",
    priority, "rjk", sid}
if type(opts["de"]) == "table" and opts["de"]["id"] then
	fields[#fields + 1] = "deid"
	fields[#fields + 1] = tostring(opts["de"]["id"])
end
rcall("HSET", nk, unpack(fields))
rcall("XADD", KEYS[8], "*", "event", "added", "jobId", nid, "name", name)

--@include place-new
place_new(nid, delay, priority, opts["lifo"])
return nid
