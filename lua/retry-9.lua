--[[
  retry: put a failed active job back in line at once (BullMQ's retryJob).

  KEYS[1] Q:wait        KEYS[4] Q:delayed  KEYS[7] Q:marker
  KEYS[2] Q:active      KEYS[5] Q:meta     KEYS[8] Q:pc
  KEYS[3] Q:prioritized KEYS[6] Q:events   KEYS[9] Q:stalled

  ARGV[1] the job key prefix "Q:"
  ARGV[2] now, ms
  ARGV[3] job id
  ARGV[4] lock token ("0": no lock)
  ARGV[5] "LPUSH" (back of the line) or "RPUSH" (lifo: front)
  ARGV[6] failed reason
  ARGV[7] stacktrace JSON array ("" leave as is)

  Returns 0, or -1 job missing, -2 lock missing, -3 not active, -6 lock
  mismatch, -20 the key holds no hash, -21 atm is not an integer (nothing
  written: the worker fails the job instead); a key it would write that
  holds the wrong type ends it with the error BULLMQ-22 (include
  key-types), nothing written.
]]
local rcall = redis.call
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local jid = ARGV[3]
local jk = prefix .. jid
local token = ARGV[4]

--@include queue-held

-- PROMOTE-DUE, as in fetch
local held, pc_key = queue_held(KEYS[5], KEYS[2]), KEYS[8]
--@include promote-due

--@include retry-check

-- a priority that is no finite number (Node never writes one) is none
local pri = tonumber(rcall("HGET", jk, "priority")) or 0
if pri ~= pri or pri == math.huge or pri == -math.huge then
	pri = 0
end
-- the keys written once the job has left active hold their types
--@include key-types
key_types({pri == 0 and KEYS[1] or KEYS[3], pri == 0 and "list" or "zset",
    KEYS[7], "zset", KEYS[6], "stream"})

local stalled_key, reason, stack, into = KEYS[9], ARGV[6], ARGV[7], nil
--@include take-active

if pri == 0 then
	if ARGV[5] == "RPUSH" then
		rcall("RPUSH", KEYS[1], jid)
	else
		rcall("LPUSH", KEYS[1], jid)
	end
else
--@include pc-next
	rcall("ZADD", KEYS[3], pri * 4294967296 +
	    pc_next(KEYS[8]) % 4294967296, jid)
end
if not queue_held(KEYS[5], KEYS[2]) then
	rcall("ZADD", KEYS[7], 0, "0")
end
-- a negative atm (Node never writes one) counts from 0, as the worker
-- read it: counting up from it would retry past the attempts
if atm and string.byte(atm) == 45 then
	rcall("HSET", jk, "atm", "1")
else
	rcall("HINCRBY", jk, "atm", 1)
end

local meta_key = KEYS[5]
--@include max-events
rcall("XADD", KEYS[6], "MAXLEN", "~", max_events, "*", "event", "waiting",
    "jobId", jid, "prev", "active")
return 0
