--[[
  include place-new: place_new(jid, delay, priority, lifo), the end of
  adding the job a scheduler makes (schedule-10, upsert-scheduler-10):
  into Q:delayed, due at now + delay, or into Q:wait (Q:prioritized when
  priority > 0) with the "0" marker unless the queue is held, and its
  "waiting" event.  KEYS as those scripts': 2 delayed, 3 wait, 4 meta,
  5 prioritized, 6 marker, 8 events, 9 pc, 10 active.  The includer
  defines rcall, now and max_events.
]]

local function place_new(jid, delay, priority, lifo)
	if delay > 0 then
--@include delayed
		add_delayed(KEYS[2], KEYS[8], jid, now + delay, max_events)
		mark_first(KEYS[2], KEYS[6])
		return
	end
--@include queue-held
	local held = queue_held(KEYS[4], KEYS[10])
	if priority > 0 then
--@include pc-next
		rcall("ZADD", KEYS[5], priority * 4294967296 +
		    pc_next(KEYS[9]) % 4294967296, jid)
	elseif lifo then
		rcall("RPUSH", KEYS[3], jid)
	else
		rcall("LPUSH", KEYS[3], jid)
	end
	if not held then
		rcall("ZADD", KEYS[6], 0, "0")
	end
	rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*", "event",
	    "waiting", "jobId", jid)
end
