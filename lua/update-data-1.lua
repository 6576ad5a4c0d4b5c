--[[
  update-data: replace a job's data (BullMQ's job.updateData).

  KEYS[1] the job key Q:<id>

  ARGV[1] the data, JSON text (checked by the caller)

  Returns 0, or -1 when the job does not exist.
]]
if redis.call("EXISTS", KEYS[1]) == 0 then
	return -1
end
redis.call("HSET", KEYS[1], "data", ARGV[1])
return 0
