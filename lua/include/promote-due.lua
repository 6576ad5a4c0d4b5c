--[[
  include promote-due: move the due delayed jobs to wait or prioritized,
  for include/fetch and retry-9 (lua/lua2c.sh puts this file in place of
  their "--@include promote-due" line; it runs where it stands).

  The includer defines, before the include:
    rcall   redis.call
    prefix  the job key prefix "Q:"
    now     now, ms
    held    whether the queue is paused or at its global concurrency
            (then no marker is written)
    pc_key  Q:pc
  and KEYS[1] is Q:wait, KEYS[3] Q:prioritized, KEYS[4] Q:delayed,
  KEYS[6] Q:events, KEYS[7] Q:marker.

  The first delayed job is looked at first: the bound of ZRANGEBYSCORE
  is a number to format, which costs more than the look when none is due.
  Leaves in "first" that entry {id, score} when none was due, else nil.
  An id whose key holds no hash moves as any id, its key left alone; a
  key it would write that holds the wrong type ends the script with the
  error BULLMQ-22 (include key-types) before the first write here.
]]

local bound = (now + 1) * 4096 - 1
local first = rcall("ZRANGE", KEYS[4], "0", "0", "WITHSCORES")
if first[2] and tonumber(first[2]) <= bound then
--@include pc-next
--@include key-types
	-- the keys written once the jobs have left delayed hold their types
	key_types({KEYS[1], "list", KEYS[3], "zset", KEYS[6], "stream",
	    KEYS[7], "zset"})
	first = nil
	local due = rcall("ZRANGEBYSCORE", KEYS[4], "0", bound, "LIMIT", "0",
	    "1000")
	rcall("ZREM", KEYS[4], unpack(due))
	for _, d in ipairs(due) do
		local dk = prefix .. d
		local pri = redis.pcall("HGET", dk, "priority")
		local hash = type(pri) ~= "table"
		pri = hash and tonumber(pri) or 0
		-- no finite number (Node never writes one): none
		if pri ~= pri or pri == math.huge or pri == -math.huge then
			pri = 0
		end
		if pri == 0 then
			rcall("LPUSH", KEYS[1], d)
		else
			rcall("ZADD", KEYS[3], pri * 4294967296 +
			    pc_next(pc_key) % 4294967296, d)
		end
		rcall("XADD", KEYS[6], "*", "event", "waiting", "jobId", d,
		    "prev", "delayed")
		if hash then
			rcall("HSET", dk, "delay", 0)
		end
	end
	if not held then
		rcall("ZADD", KEYS[7], "0", "0")
	end
end
