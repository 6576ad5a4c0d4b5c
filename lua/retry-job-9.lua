--[[
  retry-job: move one failed or completed job back to wait, or to
  prioritized when it has a priority (Node's Job.retry and its reprocess
  script, BULLMQ-PROTOCOL.md 4.14).

  KEYS[1] the job key Q:<id>            KEYS[6] Q:active
  KEYS[2] Q:events                      KEYS[7] Q:marker
  KEYS[3] Q:failed or Q:completed       KEYS[8] Q:prioritized
  KEYS[4] Q:wait                        KEYS[9] Q:pc
  KEYS[5] Q:meta

  ARGV[1] job id
  ARGV[2] "failed" or "completed"
  ARGV[3] "1": delete attemptsMade (atm) too
  ARGV[4] "1": delete attemptsStarted (ats) too

  Returns 1 when moved, -1 when the job does not exist, -3 when it is not
  in the state of ARGV[2], -20 when its key holds no hash.  A key it would
  write that holds the wrong type ends it with the error BULLMQ-22
  (include key-types), nothing written.
]]
local rcall = redis.call
local job_key = KEYS[1]
local jid = ARGV[1]
local state = ARGV[2]

--@include queue-held

if rcall("EXISTS", job_key) == 0 then
	return -1
end
if not rcall("ZSCORE", KEYS[3], jid) then
	return -3
end
local job = redis.pcall("HMGET", job_key, "priority", "opts", "parentKey")
if job.err then
	return -20
end
local pri = tonumber(job[1]) or 0
-- a priority that is no finite number (Node never writes one) is none
if pri ~= pri or pri == math.huge or pri == -math.huge then
	pri = 0
end
local lifo = false
if job[2] then
	local ok, o = pcall(cjson.decode, job[2])
	lifo = ok and type(o) == "table" and o["lifo"] == true
end
local held = queue_held(KEYS[5], KEYS[6])

-- the keys written once the job has left its state hold their types
--@include key-types
key_types({pri > 0 and KEYS[8] or KEYS[4], pri > 0 and "zset" or "list",
    KEYS[7], "zset", KEYS[2], "stream"})

rcall("ZREM", KEYS[3], jid)
local gone = { "finishedOn", "processedOn",
    state == "failed" and "failedReason" or "returnvalue" }
if ARGV[3] == "1" then
	gone[#gone + 1] = "atm"
end
if ARGV[4] == "1" then
	gone[#gone + 1] = "ats"
end
rcall("HDEL", job_key, unpack(gone))
if pri > 0 then
--@include pc-next
	rcall("ZADD", KEYS[8], pri * 4294967296 + pc_next(KEYS[9]) %
	    4294967296, jid)
elseif lifo then
	rcall("RPUSH", KEYS[4], jid)
else
	rcall("LPUSH", KEYS[4], jid)
end
if not held then
	rcall("ZADD", KEYS[7], 0, "0")
end

-- A retried child becomes a pending dependency of its parent again.
--@include reattach-child
reattach(job[3], job_key, state)

local meta_key = KEYS[5]
--@include max-events
rcall("XADD", KEYS[2], "MAXLEN", "~", max_events, "*", "event", "waiting",
    "jobId", jid, "prev", state)
return 1
