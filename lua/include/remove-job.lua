--[[
  include remove-job: removeJob(id, base) for clean-3, drain-5 and
  obliterate-17 (lua/lua2c.sh puts this file in place of their
  "--@include remove-job" line).  The includer defines rcall (redis.call)
  before the include; no KEYS or ARGV are used here.
]]

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
