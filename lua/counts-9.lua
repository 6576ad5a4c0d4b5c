--[[
  counts: the job counts of every state and whether the queue is paused
  (BULLMQ-PROTOCOL.md 4.8).  A legacy "0:" marker at the consumer end of
  Q:wait or Q:paused is dropped and not counted.

  KEYS[1] Q:wait          KEYS[6] Q:completed
  KEYS[2] Q:active        KEYS[7] Q:failed
  KEYS[3] Q:delayed       KEYS[8] Q:waiting-children
  KEYS[4] Q:prioritized   KEYS[9] Q:meta
  KEYS[5] Q:paused

  Returns {wait, active, delayed, prioritized, completed, failed,
  waiting-children, paused, is-paused (0 or 1)}.
]]
local rcall = redis.call

-- The length of list key, less a legacy marker at its consumer end,
-- which is dropped.
local function list_count(key)
	local tail = rcall("LINDEX", key, -1)
	if tail and string.sub(tail, 1, 2) == "0:" then
		local n = rcall("LLEN", key)
		if n > 1 then
			rcall("RPOP", key)
			return n - 1
		end
		return 0
	end
	return rcall("LLEN", key)
end

return {
	list_count(KEYS[1]),
	rcall("LLEN", KEYS[2]),
	rcall("ZCARD", KEYS[3]),
	rcall("ZCARD", KEYS[4]),
	rcall("ZCARD", KEYS[6]),
	rcall("ZCARD", KEYS[7]),
	rcall("ZCARD", KEYS[8]),
	list_count(KEYS[5]),
	rcall("HEXISTS", KEYS[9], "paused")
}
