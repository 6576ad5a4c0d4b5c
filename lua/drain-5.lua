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

-- Delete a job the "hard" way (Node's removeJob with hard = true): its
-- keys, its deduplication window, and its parent's pending dependency; a
-- parent in this queue left with none is deleted too, one in another queue
-- is moved to its wait list.
local function releaseParent(jobKey, base)
  local parentKey = rcall("HGET", jobKey, "parentKey")
  if not parentKey or parentKey == "" or
    rcall("EXISTS", parentKey) == 0 or
    rcall("SREM", parentKey .. ":dependencies", jobKey) == 0 or
    rcall("SCARD", parentKey .. ":dependencies") ~= 0 then
    return
  end
  local parentId = string.match(parentKey, ".*:(.*)")
  local pq = string.sub(parentKey, 1, #parentKey - #parentId)
  if rcall("ZREM", pq .. "waiting-children", parentId) == 0 then
    return
  end
  if pq == base then
    releaseParent(parentKey, base)
    rcall("DEL", parentKey, parentKey .. ":logs",
      parentKey .. ":dependencies", parentKey .. ":processed",
      parentKey .. ":failed", parentKey .. ":unsuccessful")
  else
    local meta = rcall("HMGET", pq .. "meta", "paused", "concurrency")
    local held = meta[1] ~= false
    if not held and meta[2] then
      held = rcall("LLEN", pq .. "active") >= tonumber(meta[2])
    end
    rcall("RPUSH", pq .. "wait", parentId)
    if not held then
      rcall("ZADD", pq .. "marker", 0, "0")
    end
  end
end

local function removeJob(id, base)
  local jobKey = base .. id
  releaseParent(jobKey, base)
  local deid = rcall("HGET", jobKey, "deid")
  if deid then
    local dedupKey = base .. "de:" .. deid
    if rcall("GET", dedupKey) == id then
      rcall("DEL", dedupKey, base .. "dn:" .. deid)
    end
  end
  rcall("DEL", jobKey, jobKey .. ":logs", jobKey .. ":dependencies",
    jobKey .. ":processed", jobKey .. ":failed", jobKey .. ":unsuccessful")
end

-- The current iteration job of every scheduler is kept.
local keep = {}
local sched = rcall("ZRANGE", KEYS[5], 0, -1, "WITHSCORES")
for i = 1, #sched, 2 do
  keep["repeat:" .. sched[i] .. ":" .. sched[i + 1]] = true
end

local function drainList(key)
  local ids = rcall("LRANGE", key, 0, -1)
  local kept = {}
  for _, id in ipairs(ids) do
    if keep[id] then
      kept[#kept + 1] = id
    else
      removeJob(id, base)
      count = count + 1
    end
  end
  if #kept < #ids then
    rcall("DEL", key)
    for i = 1, #kept, 7000 do
      rcall("RPUSH", key, unpack(kept, i, math.min(i + 6999, #kept)))
    end
  end
end

local function drainSet(key)
  local ids = rcall("ZRANGE", key, 0, -1)
  local gone = {}
  for _, id in ipairs(ids) do
    if not keep[id] then
      removeJob(id, base)
      gone[#gone + 1] = id
    end
  end
  for i = 1, #gone, 7000 do
    rcall("ZREM", key, unpack(gone, i, math.min(i + 6999, #gone)))
  end
  count = count + #gone
end

drainList(KEYS[1])
drainList(KEYS[2])
if ARGV[2] == "1" then
  drainSet(KEYS[3])
end
drainSet(KEYS[4])
return count
