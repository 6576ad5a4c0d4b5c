--[[
  include delayed: add_delayed() and mark_first(), for the scripts that
  put a job in Q:delayed (lua/lua2c.sh puts this file in place of an
  "--@include delayed" line; include it in the branch that needs it:
  making the functions costs).  The includer defines rcall (redis.call).
]]

-- Add job jid to the delayed set dkey, due at ms due: its score is due *
-- 4096 plus a sequence within the ms, after the jobs due then already.
-- Its "delayed" event goes to ekey, capped at max_events.
local function add_delayed(dkey, ekey, jid, due, max_events)
	local lo, hi = due * 4096, (due + 1) * 4096 - 1
	local score = lo
	local top = rcall("ZREVRANGEBYSCORE", dkey, hi, lo, "WITHSCORES",
	    "LIMIT", 0, 1)
	if top[2] then
		score = math.min(tonumber(top[2]) + 1, hi)
	end
	rcall("ZADD", dkey, score, jid)
	rcall("XADD", ekey, "MAXLEN", "~", max_events, "*", "event",
	    "delayed", "jobId", jid, "delay", due)
end

-- Point the marker mkey at the due time of the first job of the delayed
-- set dkey, if any.
local function mark_first(dkey, mkey)
	local first = rcall("ZRANGE", dkey, 0, 0, "WITHSCORES")
	if first[2] then
		rcall("ZADD", mkey, tonumber(first[2]) / 4096, "1")
	end
end
