--[[
  log: append a line to a job's log (BullMQ's addLog).

  KEYS[1] the job key Q:<id>
  KEYS[2] Q:<id>:logs

  ARGV[1] the log line
  ARGV[2] keepLogs: keep only the newest N lines ("" keep all)

  Returns the number of lines kept, or -1 when the job does not exist.
]]
local rcall = redis.call

if rcall("EXISTS", KEYS[1]) == 0 then
	return -1
end
local n = rcall("RPUSH", KEYS[2], ARGV[1])
local keep = tonumber(ARGV[2])
if keep then
	rcall("LTRIM", KEYS[2], -keep, -1)
	return math.min(keep, n)
end
return n
