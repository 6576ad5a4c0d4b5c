--[[
  include add-place: the end of add-9 and add-dedup: write the new job's
  hash (jk, jid; "deid" when dedup_id is set), its "added" event, and put
  it in delayed or in wait/prioritized (with the "0" marker unless the
  queue is paused or at its global maximum) with its "waiting" event;
  returns {0, jid}.  Include it last: it ends the script.  The includer
  defines rcall, prefix, jk, jid, delay, priority, timestamp, dedup_id,
  meta (the HMGET of Q:meta) and max_events; KEYS and ARGV as add-9's.
]]

if dedup_id ~= "" then
	rcall("HSET", jk, "name", ARGV[3], "data", ARGV[5], "opts", ARGV[6],
	    "timestamp", ARGV[4], "delay", ARGV[7], "priority", ARGV[8],
	    "deid", dedup_id)
else
	rcall("HSET", jk, "name", ARGV[3], "data", ARGV[5], "opts", ARGV[6],
	    "timestamp", ARGV[4], "delay", ARGV[7], "priority", ARGV[8])
end
rcall("XADD", KEYS[8], "*", "event", "added", "jobId", jid, "name", ARGV[3])

if delay > 0 then
--@include delayed
	add_delayed(KEYS[4], KEYS[8], jid, timestamp + delay, max_events)
	mark_first(KEYS[4], KEYS[9])
	return {0, jid}
end

-- Ready now: paused or globally maxed queues get no "0" marker.
local held = meta[2] ~= false
if not held and meta[3] then
	held = rcall("LLEN", KEYS[7]) >= (tonumber(meta[3]) or 0)
end

if priority > 0 then
--@include pc-next
	local c = pc_next(KEYS[6])
	rcall("ZADD", KEYS[5], priority * 0x100000000 + c % 0x100000000, jid)
elseif ARGV[9] == "1" then
	rcall("RPUSH", KEYS[1], jid)
else
	rcall("LPUSH", KEYS[1], jid)
end
if not held then
	rcall("ZADD", KEYS[9], 0, "0")
end
rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*", "event", "waiting",
    "jobId", jid)
return {0, jid}
