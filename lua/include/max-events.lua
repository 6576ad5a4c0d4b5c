--[[
  include max-events: the cap of the events stream (lua/lua2c.sh puts this
  file in place of an "--@include max-events" line; it runs where it
  stands).

  The includer defines rcall (redis.call) and meta_key (Q:meta).

  Leaves the cap in the local max_events: the meta field
  opts.maxLenEvents, written as 10000 when unset; one XADD would refuse
  (not a count, or past 18 digits) is taken as 10000 and left as it is.
]]

local max_events = rcall("HGET", meta_key, "opts.maxLenEvents")
if not max_events then
	max_events = "10000"
	rcall("HSET", meta_key, "opts.maxLenEvents", max_events)
elseif #max_events > 18 or not string.match(max_events, "^%d+$") then
	max_events = "10000"
end
