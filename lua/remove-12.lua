--[[
  remove: remove one job from whatever state it is in, with its keys
  (BULLMQ-PROTOCOL.md 4.14, Node's removeJob without children).  A locked
  job is left alone; so is the current iteration of a job scheduler.  The
  job's deduplication window is released and its parent, if this was its
  last pending child, is moved to wait.

  KEYS[1] Q:<id> (the job)   KEYS[7]  Q:delayed
  KEYS[2] Q:repeat           KEYS[8]  Q:failed
  KEYS[3] Q:meta             KEYS[9]  Q:prioritized
  KEYS[4] Q:events           KEYS[10] Q:wait
  KEYS[5] Q:completed        KEYS[11] Q:paused
  KEYS[6] Q:waiting-children KEYS[12] Q:active

  ARGV[1] job id
  ARGV[2] job key prefix "Q:"

  Returns 1 removed, 0 locked (nothing done), -1 no such job, -8 the job is
  the current iteration of a job scheduler.  A key that holds no hash is
  not a job: its id is taken out of the lists and the key left alone.  A
  key it would write once the job has left its state (its parent's, meta,
  events) that holds the wrong type ends it with the error BULLMQ-22
  (include key-types), nothing written.
]]
local rcall = redis.call
local jk = KEYS[1]
local jid = ARGV[1]
local prefix = ARGV[2]

--@include remove-job

if rcall("EXISTS", jk) == 0 then
	return -1
end

local rjk = redis.pcall("HGET", jk, "rjk")
if type(rjk) == "string" then
	local millis = rcall("ZSCORE", KEYS[2], rjk)
	if millis and jid == "repeat:" .. rjk .. ":" .. millis then
		return -8
	end
end

if rcall("EXISTS", jk .. ":lock") == 1 then
	return 0
end

-- what is written once the job has left its state holds its type
if type(rjk) ~= "table" then
	parent_types(jk, rcall("HGET", jk, "parentKey"), prefix, false)
end
key_types({KEYS[3], "hash", KEYS[4], "stream"})

local prev = "unknown"
if rcall("ZREM", KEYS[5], jid) == 1 then
	prev = "completed"
elseif rcall("ZREM", KEYS[6], jid) == 1 then
	prev = "waiting-children"
elseif rcall("ZREM", KEYS[7], jid) == 1 then
	prev = "delayed"
elseif rcall("ZREM", KEYS[8], jid) == 1 then
	prev = "failed"
elseif rcall("ZREM", KEYS[9], jid) == 1 then
	prev = "prioritized"
elseif rcall("LREM", KEYS[10], 1, jid) == 1 then
	prev = "wait"
elseif rcall("LREM", KEYS[11], 1, jid) == 1 then
	prev = "paused"
elseif rcall("LREM", KEYS[12], 1, jid) == 1 then
	prev = "active"
end

-- the parent loses a pending child; the last one moves it to wait
remove_job(jid, prefix, false)

local meta_key = KEYS[3]
--@include max-events
rcall("XADD", KEYS[4], "MAXLEN", "~", max_events, "*", "event", "removed",
    "jobId", jid, "prev", prev)
return 1
