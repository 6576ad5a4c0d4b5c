--[[
  state: the state of one job, checked in Node's order (BULLMQ-PROTOCOL.md
  4.8).

  KEYS[1] Q:completed     KEYS[5] Q:active
  KEYS[2] Q:failed        KEYS[6] Q:wait
  KEYS[3] Q:delayed       KEYS[7] Q:paused
  KEYS[4] Q:prioritized   KEYS[8] Q:waiting-children

  ARGV[1] job id

  Returns "completed", "failed", "delayed", "prioritized", "active",
  "waiting", "waiting-children" or "unknown".
]]
local rcall = redis.call
local id = ARGV[1]

-- Is id in the list?  LPOS where Redis has it (6.0.6), else a scan.
local function inList(key)
  local pos = redis.pcall("LPOS", key, id)
  if type(pos) ~= "table" then
    return pos ~= false
  end
  for _, v in ipairs(rcall("LRANGE", key, 0, -1)) do
    if v == id then
      return true
    end
  end
  return false
end

if rcall("ZSCORE", KEYS[1], id) then return "completed" end
if rcall("ZSCORE", KEYS[2], id) then return "failed" end
if rcall("ZSCORE", KEYS[3], id) then return "delayed" end
if rcall("ZSCORE", KEYS[4], id) then return "prioritized" end
if inList(KEYS[5]) then return "active" end
if inList(KEYS[6]) then return "waiting" end
if inList(KEYS[7]) then return "waiting" end
if rcall("ZSCORE", KEYS[8], id) then return "waiting-children" end
return "unknown"
