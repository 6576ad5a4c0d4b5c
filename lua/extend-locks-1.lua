--[[
  extend-locks: extend the locks of a batch of jobs (BullMQ's extendLocks).

  KEYS[1] Q:stalled

  ARGV[1] the job key prefix "Q:"
  ARGV[2] lock duration, ms
  ARGV[3], ARGV[4], ... pairs of job id and lock token

  Returns the ids whose lock was missing or held under another token.
  Extended jobs leave Q:stalled.
]]
local rcall = redis.call
local prefix = ARGV[1]
local lost, kept = {}, {}

for i = 3, #ARGV - 1, 2 do
	local jid, token = ARGV[i], ARGV[i + 1]
	local lk = prefix .. jid .. ":lock"
	-- a lock key that holds no string is not our lock: lost
	if redis.pcall("GET", lk) == token then
		-- not SET: a Redis out of memory (noeviction) refuses a script
		-- whose first write may take memory, and running jobs would
		-- lose their locks; PEXPIRE takes none
		rcall("PEXPIRE", lk, ARGV[2])
		kept[#kept + 1] = jid
	else
		lost[#lost + 1] = jid
	end
end
for i = 1, #kept, 7000 do
	rcall("SREM", KEYS[1], unpack(kept, i, math.min(i + 6999, #kept)))
end
return lost
