--[[
  retry-jobs: move up to count failed or completed jobs finished at or
  before a timestamp back to wait (Node's Queue.retryJobs, BULLMQ-PROTOCOL.md
  4.14).  Priorities are not honoured: every job is LPUSHed.

  KEYS[1] Q:failed or Q:completed   KEYS[4] Q:active
  KEYS[2] Q:wait                    KEYS[5] Q:events
  KEYS[3] Q:meta                    KEYS[6] Q:marker

  ARGV[1] job key prefix "Q:"
  ARGV[2] count (at most this many jobs)
  ARGV[3] timestamp (ms)
  ARGV[4] "failed" or "completed"

  Returns the number of jobs moved.  A key it would write that holds the
  wrong type ends it with the error BULLMQ-22 (include key-types) before
  its first write.
]]
local rcall = redis.call
local prefix = ARGV[1]
local state = ARGV[4]

--@include queue-held

local held = queue_held(KEYS[3], KEYS[4])

local ids = rcall("ZRANGEBYSCORE", KEYS[1], 0, ARGV[3], "LIMIT", 0,
    tonumber(ARGV[2]))
if #ids == 0 then
	return 0
end
--@include key-types
key_types({KEYS[2], "list", KEYS[5], "stream", KEYS[6], "zset"})

local value_field = state == "failed" and "failedReason" or "returnvalue"
--@include reattach-child
for _, jid in ipairs(ids) do
	local jk = prefix .. jid
	-- a key that holds no hash moves as any id and is left alone
	local pk = redis.pcall("HGET", jk, "parentKey")
	if type(pk) ~= "table" then
		rcall("HDEL", jk, "finishedOn", "processedOn", value_field)
	end
	-- A retried child becomes a pending dependency of its parent again.
	reattach(pk, jk, state)
end

local meta_key = KEYS[3]
--@include max-events
for _, jid in ipairs(ids) do
	rcall("XADD", KEYS[5], "MAXLEN", "~", max_events, "*", "event",
	    "waiting", "jobId", jid, "prev", state)
end

for i = 1, #ids, 7000 do
	local j = math.min(i + 6999, #ids)
	rcall("ZREM", KEYS[1], unpack(ids, i, j))
	rcall("LPUSH", KEYS[2], unpack(ids, i, j))
end

if not held then
	rcall("ZADD", KEYS[6], 0, "0")
end
return #ids
