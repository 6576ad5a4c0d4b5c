--[[
  add: store one job and enqueue it (BULLMQ-PROTOCOL.md 4.1), as a standard,
  LIFO, prioritized or delayed job, with custom ids and simple (optionally
  ttl-bound) deduplication.

  KEYS[1] Q:wait          KEYS[6] Q:pc
  KEYS[2] Q:meta          KEYS[7] Q:active
  KEYS[3] Q:id            KEYS[8] Q:events
  KEYS[4] Q:delayed       KEYS[9] Q:marker
  KEYS[5] Q:prioritized

  ARGV[1]  job key prefix "Q:"
  ARGV[2]  custom job id, "" for an automatic one
  ARGV[3]  name
  ARGV[4]  timestamp (ms)
  ARGV[5]  data (JSON text, stored verbatim)
  ARGV[6]  opts (JSON text in stored form, stored verbatim)
  ARGV[7]  delay (ms, "0" for none)
  ARGV[8]  priority ("0" for none)
  ARGV[9]  "1" for LIFO
  ARGV[10] deduplication id, "" for none
  ARGV[11] deduplication ttl (ms, "0" for none)

  Returns {status, id}: status 0 added, 1 duplicate custom id (the existing
  job is left alone), 2 deduplicated (id is the job owning the window).
]]
local rcall = redis.call
local prefix = ARGV[1]
local delay = tonumber(ARGV[7])
local priority = tonumber(ARGV[8])
local timestamp = tonumber(ARGV[4])
local dedup_id = ARGV[10]
local dedup_ttl = tonumber(ARGV[11])

--@include add-begin

-- Simple deduplication: the first job of a window owns Q:de:<id>.
if dedup_id ~= "" then
	local dk = prefix .. "de:" .. dedup_id
	local taken
	if dedup_ttl > 0 then
		taken = rcall("SET", dk, jid, "PX", dedup_ttl, "NX")
	else
		taken = rcall("SET", dk, jid, "NX")
	end
	if not taken then
		local owner = rcall("GET", dk)
		if owner and rcall("PTTL", dk) == -1 and
		    rcall("EXISTS", prefix .. owner) == 0 then
			-- A stale window whose job vanished: this job opens a
			-- new one.
			rcall("DEL", prefix .. "dn:" .. dedup_id)
			if dedup_ttl > 0 then
				rcall("SET", dk, jid, "PX", dedup_ttl)
			else
				rcall("SET", dk, jid)
			end
		elseif owner then
			rcall("XADD", KEYS[8], "MAXLEN", "~", max_events, "*",
			    "event", "deduplicated", "jobId", owner,
			    "deduplicationId", dedup_id, "deduplicatedJobId",
			    jid)
			return {2, owner}
		elseif dedup_ttl > 0 then
			-- The key expired between SET and GET: take the window.
			rcall("SET", dk, jid, "PX", dedup_ttl)
		else
			rcall("SET", dk, jid)
		end
	end
end

--@include add-place
