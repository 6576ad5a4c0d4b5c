--[[
  promote: move one delayed job to wait, or to prioritized when it has a
  priority, now (Node's Job.promote, BULLMQ-PROTOCOL.md 4.14).

  KEYS[1] Q:delayed       KEYS[6] Q:pc
  KEYS[2] Q:wait          KEYS[7] Q:events
  KEYS[3] Q:meta          KEYS[8] Q:marker
  KEYS[4] Q:prioritized   KEYS[9] the job key Q:<id>
  KEYS[5] Q:active

  ARGV[1] job id

  Returns 0 when promoted, -1 when the job does not exist, -3 when it is
  not delayed, -20 when its key holds no hash.  A key it would write that
  holds the wrong type ends it with the error BULLMQ-22 (include
  key-types), nothing written.
]]
local rcall = redis.call
local jid = ARGV[1]
local job_key = KEYS[9]

--@include queue-held

if rcall("EXISTS", job_key) == 0 then
	return -1
end
if not rcall("ZSCORE", KEYS[1], jid) then
	return -3
end
local pri = redis.pcall("HGET", job_key, "priority")
if type(pri) == "table" then
	return -20
end
pri = tonumber(pri) or 0
-- a priority that is no finite number (Node never writes one) is none
if pri ~= pri or pri == math.huge or pri == -math.huge then
	pri = 0
end
local held = queue_held(KEYS[3], KEYS[5])

-- the keys written once the job has left delayed hold their types (wait
-- is read below in any case)
--@include key-types
key_types({KEYS[2], "list", KEYS[4], "zset", KEYS[8], "zset", KEYS[7],
    "stream"})

rcall("ZREM", KEYS[1], jid)
-- a legacy "0:" marker at the head of wait is not needed with a job there
local head = rcall("LINDEX", KEYS[2], 0)
if head and string.sub(head, 1, 2) == "0:" then
	rcall("LPOP", KEYS[2])
end
if pri == 0 then
	rcall("LPUSH", KEYS[2], jid)
else
--@include pc-next
	rcall("ZADD", KEYS[4], pri * 4294967296 + pc_next(KEYS[6]) %
	    4294967296, jid)
end
if not held then
	rcall("ZADD", KEYS[8], 0, "0")
end
rcall("XADD", KEYS[7], "*", "event", "waiting", "jobId", jid, "prev",
    "delayed")
rcall("HSET", job_key, "delay", 0)
return 0
