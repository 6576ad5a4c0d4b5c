--[[
  include queue-held: queue_held(meta_key, active_key), for the scripts
  that make a job ready outside fetch (lua/lua2c.sh puts this file in
  place of an "--@include queue-held" line).  The includer defines rcall
  (redis.call).
]]

-- Whether the queue is paused (meta_key, Q:meta, has "paused") or at its
-- global concurrency by the length of active_key (Q:active): then a job
-- made ready writes no "0" to the marker.  A concurrency that is not a
-- number holds the queue, as in fetch.
local function queue_held(meta_key, active_key)
	local m = rcall("HMGET", meta_key, "paused", "concurrency")
	return m[1] ~= false or (m[2] ~= false and
	    rcall("LLEN", active_key) >= (tonumber(m[2]) or 0))
end
