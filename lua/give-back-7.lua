--[[
  give-back: return the job of a dead worker to the front of wait at once,
  as the stalled checker would (the stall counts against max stalled).
  Or, given no job id, return every active job locked under a token whose
  fetching call lost its reply (a fetch, or a finish that fetched the next
  job, that got no answer in time): no processor ever saw those jobs, so
  no stall is counted.

  KEYS[1] Q:stalled  KEYS[4] Q:meta    KEYS[7] Q:repeat
  KEYS[2] Q:wait     KEYS[5] Q:marker
  KEYS[3] Q:active   KEYS[6] Q:events

  ARGV[1] the job key prefix "Q:"
  ARGV[2] job id, or "": the active jobs locked under ARGV[3]
  ARGV[3] the lock token
  ARGV[4] max stalled count (with a job id)
  ARGV[5] with no job id: a job to leave alone (one whose finish was lost,
          which whoever ran it gives back), or ""

  Returns the number of jobs that went back to wait: with a job id, 0 when
  it was not active or is locked under another token.  A key it would
  write that holds the wrong type ends it with the error BULLMQ-22
  (include key-types) before its first write.
]]
local rcall = redis.call
local pfx, token = ARGV[1], ARGV[3]
local stall = ARGV[2] ~= ""
local ids = {}

--@include key-types
-- once a job has left active nothing may refuse: the keys written hold
-- their types (a give-back is rare: a worker died)
key_types({KEYS[1], "set", KEYS[2], "list", KEYS[3], "list", KEYS[4],
    "hash", KEYS[5], "zset", KEYS[6], "stream", KEYS[7], "zset"})

if stall then
	ids[1] = ARGV[2]
else
	for _, jid in ipairs(rcall("LRANGE", KEYS[3], 0, -1)) do
		-- a lock key that holds no string is no one's token
		if jid ~= ARGV[5] and
		    redis.pcall("GET", pfx .. jid .. ":lock") == token then
			ids[#ids + 1] = jid
		end
	end
end

--@include count-stall
--@include queue-held

-- Take jid out of active; whether it is to go back to wait.
local function take(jid)
	local jk = pfx .. jid
	-- a lock key that holds no string is not this token's
	local held = redis.pcall("GET", jk .. ":lock")

	if held and held ~= token then
		return false
	end
	if rcall("LREM", KEYS[3], 1, jid) == 0 then
		return false
	end
	if held then
		rcall("DEL", jk .. ":lock")
	end
	rcall("SREM", KEYS[1], jid)
	if rcall("EXISTS", jk) == 0 then
		return false
	end
	if not stall then
		return true
	end

	-- as the stalled check; a key that holds no hash goes back as any id
	count_stall(jk, tonumber(ARGV[4]) or 1, KEYS[7])
	return true
end

local back = {}
for _, jid in ipairs(ids) do
	if take(jid) then
		back[#back + 1] = jid
	end
end
if #back == 0 then
	return 0
end

local meta_key = KEYS[4]
--@include max-events
rcall("XTRIM", KEYS[6], "MAXLEN", "~", max_events)

for _, jid in ipairs(back) do
	rcall("RPUSH", KEYS[2], jid)
	rcall("XADD", KEYS[6], "*", "event", "waiting", "jobId", jid, "prev",
	    "active")
	if stall then
		rcall("XADD", KEYS[6], "*", "event", "stalled", "jobId", jid)
	end
end
if not queue_held(KEYS[4], KEYS[3]) then
	rcall("ZADD", KEYS[5], 0, "0")
end
return #back
