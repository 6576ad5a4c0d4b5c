--[[
  progress: store a job's progress and announce it (BullMQ's
  updateProgress).

  KEYS[1] the job key Q:<id>
  KEYS[2] Q:events
  KEYS[3] Q:meta

  ARGV[1] job id
  ARGV[2] progress, JSON text (checked by the caller)

  Returns 0, or -1 when the job does not exist.
]]
local rcall = redis.call

if rcall("EXISTS", KEYS[1]) == 0 then
	return -1
end
local meta_key = KEYS[3]
--@include max-events
rcall("HSET", KEYS[1], "progress", ARGV[2])
rcall("XADD", KEYS[2], "MAXLEN", "~", max_events, "*", "event", "progress",
    "jobId", ARGV[1], "data", ARGV[2])
return 0
