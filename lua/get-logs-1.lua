--[[
  get-logs: a page of a job's log lines and how many it has (Node's
  Queue.getJobLogs).

  KEYS[1] Q:<id>:logs

  ARGV[1] first index (LRANGE)
  ARGV[2] last index (LRANGE)

  Returns {{line, ...}, number of lines}.
]]
local rcall = redis.call

return { rcall("LRANGE", KEYS[1], ARGV[1], ARGV[2]),
    rcall("LLEN", KEYS[1]) }
