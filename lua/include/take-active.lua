--[[
  include take-active: take a job the worker holds out of active, for
  finish-1, retry-9 and delay-10 (lua/lua2c.sh puts this file in place of
  their "--@include take-active" line).  It runs where it stands, and
  returns from the script when the job cannot be taken.

  The includer defines, before the include:
    rcall        redis.call
    jid, jk      the job id and its key "Q:<id>"
    token        the lock token the worker holds it under ("0": none)
    stalled_key  Q:stalled
    reason       the failedReason to write, or nil to write none
    stack        the stacktrace JSON array to write with it ("" none)
    into         the finished set to add the job to (score ARGV[2])
                 once the lock is released, before any other write, or
                 nil: it, or stalled_key, holding the wrong type refuses
                 (the error BULLMQ-22, as include key-types) with nothing
                 changed (the lock is set again for ARGV[4] ms)
  and KEYS[2] is Q:active.  Leaves in "added" whether the job was new to
  "into" (false without one), for an includer that refuses later to take
  it out again.

  Checks the lock (returns -6 held under another token, -2 gone) and
  releases it, writes the failure, and takes the id out of active
  (returns -3 when it was not there).  A key that holds no hash is not a
  job: its id leaves active, the key is left alone, and -20 is returned.
]]

-- First stalled, then the lock: the lock's DEL frees memory, so a Redis
-- out of memory still lets the writes after it run (a script's first
-- write that takes memory is refused, the rest not).
local gone = 0
if token ~= "0" then
	local held = rcall("GET", jk .. ":lock")
	if held ~= token then
		if held then
			return -6
		end
		return -2
	end
	gone = redis.pcall("SREM", stalled_key, jid)
	if type(gone) == "table" then
		if string.sub(gone["err"], 1, 9) ~= "WRONGTYPE" then
			error(gone)
		end
		error({err = "BULLMQ-22 set " .. rcall("TYPE",
		    stalled_key)["ok"] .. " " .. stalled_key})
	end
	rcall("DEL", jk .. ":lock")
end
local added = false
if into then
	added = redis.pcall("ZADD", into, ARGV[2], jid)
	if type(added) == "table" then
		-- nothing else is written yet: the lock and stalled back
		if token ~= "0" then
			local ms = string.match(ARGV[4], "^%d+$") and ARGV[4] or
			    "30000"
			rcall("SET", jk .. ":lock", token, "PX", ms)
		end
		if gone == 1 then
			rcall("SADD", stalled_key, jid)
		end
		if string.sub(added["err"], 1, 9) ~= "WRONGTYPE" then
			error(added)
		end
		error({err = "BULLMQ-22 zset " .. rcall("TYPE", into)["ok"] ..
		    " " .. into})
	end
	added = added == 1
end
if reason then
	-- the first write to the hash: where the worker's fields spared
	-- finish-1 the read, a key that holds no hash is told here
	local e
	if stack ~= "" then
		e = redis.pcall("HSET", jk, "failedReason", reason,
		    "stacktrace", stack)
	else
		e = redis.pcall("HSET", jk, "failedReason", reason)
	end
	if type(e) == "table" then
		if added then
			rcall("ZREM", into, jid)
		end
		rcall("LREM", KEYS[2], "-1", jid)
		rcall("SREM", stalled_key, jid)
		return -20
	end
end
-- "-1" as text: a number would be formatted for every call
if rcall("LREM", KEYS[2], "-1", jid) < 1 then
	if added then
		rcall("ZREM", into, jid)
	end
	return -3
end
