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
local jid = ARGV[1]

-- Is jid in the list?  LPOS where Redis has it (6.0.6), else a scan.
local function in_list(key)
	local pos = redis.pcall("LPOS", key, jid)
	if type(pos) ~= "table" then
		return pos ~= false
	end
	for _, v in ipairs(rcall("LRANGE", key, 0, -1)) do
		if v == jid then
			return true
		end
	end
	return false
end

if rcall("ZSCORE", KEYS[1], jid) then
	return "completed"
end
if rcall("ZSCORE", KEYS[2], jid) then
	return "failed"
end
if rcall("ZSCORE", KEYS[3], jid) then
	return "delayed"
end
if rcall("ZSCORE", KEYS[4], jid) then
	return "prioritized"
end
if in_list(KEYS[5]) then
	return "active"
end
if in_list(KEYS[6]) or in_list(KEYS[7]) then
	return "waiting"
end
if rcall("ZSCORE", KEYS[8], jid) then
	return "waiting-children"
end
return "unknown"
