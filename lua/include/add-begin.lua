--[[
  include add-begin: the start of add-9 and add-dedup, once their keys'
  types are checked: read what the writes rely on (the events cap, the
  paused flag and the global concurrency), take the next id from Q:id,
  and end the script with {1, jid} (a "duplicated" event) when a custom id
  exists already: such a job is never overwritten.

  The includer defines rcall and prefix; KEYS and ARGV as add-9's.  Leaves
  meta (the HMGET of Q:meta: maxLenEvents, paused, concurrency),
  max_events (10000 when unset, written then; one XADD would refuse is
  taken as 10000 and left as it is), jid and jk (the job's key).
]]

local meta = rcall("HMGET", KEYS[2], "opts.maxLenEvents", "paused",
    "concurrency")
local max_events = meta[1]
if max_events and not string.match(max_events, "^%d+$") then
	max_events = "10000"
end

local counter = rcall("INCR", KEYS[3])

if not max_events then
	max_events = 10000
	rcall("HSET", KEYS[2], "opts.maxLenEvents", max_events)
end

local jid = ARGV[2]
if jid == "" then
	jid = tostring(counter)
end
local jk = prefix .. jid

if ARGV[2] ~= "" and rcall("EXISTS", jk) == 1 then
	rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*", "event",
	    "duplicated", "jobId", jid)
	return {1, jid}
end
