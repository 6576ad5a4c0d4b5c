--[[
  remove: remove one job from whatever state it is in, with its keys
  (BULLMQ-PROTOCOL.md 4.14, Node's removeJob without children).  A locked
  job is left alone; so is the current iteration of a job scheduler.  The
  job's deduplication window is released and its parent, if this was its
  last pending child, is moved to wait.

  KEYS[1] Q:<id> (the job)   KEYS[7]  Q:delayed
  KEYS[2] Q:repeat           KEYS[8]  Q:failed
  KEYS[3] Q:meta             KEYS[9]  Q:prioritized
  KEYS[4] Q:events           KEYS[10] Q:wait
  KEYS[5] Q:completed        KEYS[11] Q:paused
  KEYS[6] Q:waiting-children KEYS[12] Q:active

  ARGV[1] job id
  ARGV[2] job key prefix "Q:"

  Returns 1 removed, 0 locked (nothing done), -1 no such job, -8 the job is
  the current iteration of a job scheduler.
]]
local rcall = redis.call
local jobKey = KEYS[1]
local id = ARGV[1]
local prefix = ARGV[2]

if rcall("EXISTS", jobKey) == 0 then
  return -1
end

local rjk = rcall("HGET", jobKey, "rjk")
if rjk then
  local millis = rcall("ZSCORE", KEYS[2], rjk)
  if millis and id == "repeat:" .. rjk .. ":" .. millis then
    return -8
  end
end

if rcall("EXISTS", jobKey .. ":lock") == 1 then
  return 0
end

-- The parent loses a pending child; the last one releases it to wait.
local parentKey = rcall("HGET", jobKey, "parentKey")
if parentKey and parentKey ~= "" and rcall("EXISTS", parentKey) == 1 and
  rcall("SREM", parentKey .. ":dependencies", jobKey) == 1 and
  rcall("SCARD", parentKey .. ":dependencies") == 0 then
  local parentId = string.match(parentKey, ".*:(.*)")
  local pq = string.sub(parentKey, 1, #parentKey - #parentId)
  if rcall("ZREM", pq .. "waiting-children", parentId) == 1 then
    local meta = rcall("HMGET", pq .. "meta", "paused", "concurrency")
    local held = meta[1] ~= false
    if not held and meta[2] then
      held = rcall("LLEN", pq .. "active") >= tonumber(meta[2])
    end
    rcall("RPUSH", pq .. "wait", parentId)
    if not held then
      rcall("ZADD", pq .. "marker", 0, "0")
    end
    rcall("XADD", pq .. "events", "*", "event", "waiting", "jobId",
      parentId, "prev", "waiting-children")
  end
end

local prev = "unknown"
if rcall("ZREM", KEYS[5], id) == 1 then
  prev = "completed"
elseif rcall("ZREM", KEYS[6], id) == 1 then
  prev = "waiting-children"
elseif rcall("ZREM", KEYS[7], id) == 1 then
  prev = "delayed"
elseif rcall("ZREM", KEYS[8], id) == 1 then
  prev = "failed"
elseif rcall("ZREM", KEYS[9], id) == 1 then
  prev = "prioritized"
elseif rcall("LREM", KEYS[10], 1, id) == 1 then
  prev = "wait"
elseif rcall("LREM", KEYS[11], 1, id) == 1 then
  prev = "paused"
elseif rcall("LREM", KEYS[12], 1, id) == 1 then
  prev = "active"
end

local deid = rcall("HGET", jobKey, "deid")
if deid then
  local dedupKey = prefix .. "de:" .. deid
  if rcall("GET", dedupKey) == id then
    rcall("DEL", dedupKey, prefix .. "dn:" .. deid)
  end
end

rcall("DEL", jobKey, jobKey .. ":logs", jobKey .. ":dependencies",
  jobKey .. ":processed", jobKey .. ":failed", jobKey .. ":unsuccessful")

local maxEvents = rcall("HGET", KEYS[3], "opts.maxLenEvents")
if not maxEvents then
  maxEvents = 10000
  rcall("HSET", KEYS[3], "opts.maxLenEvents", maxEvents)
end
rcall("XADD", KEYS[4], "MAXLEN", "~", maxEvents, "*", "event", "removed",
  "jobId", id, "prev", prev)
return 1
