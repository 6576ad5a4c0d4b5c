--[[
  get-jobs: one page of the jobs of a state with their hashes (Node's
  Queue.getJobs).  An id whose key holds no hash (removed meanwhile, or a
  legacy "0:" marker) is skipped, and the page is filled from the ids after
  it, looking at most five times, as Node does.

  KEYS[1] the state's key: a list (Q:wait, Q:paused, Q:active) or a sorted
          set (the others)

  ARGV[1] job key prefix "Q:"
  ARGV[2] "list" or "zset"
  ARGV[3] start (0: the first)
  ARGV[4] count (0: all from start)
  ARGV[5] "asc": a list from its oldest end (the tail), a sorted set from
          its lowest score; else the other way round

  Returns {id, {field, value, ...}, score, id, ...}: the score of the id
  in the sorted set, "" in a list.
]]
local rcall = redis.call
local key = KEYS[1]
local prefix = ARGV[1]
local is_list = ARGV[2] == "list"
local start = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local asc = ARGV[5] == "asc"

-- The ids from position from to to (-1: the last) in the order asked.
local function slice(from, to)
	if not is_list then
		return rcall(asc and "ZRANGE" or "ZREVRANGE", key, from, to)
	end
	if not asc then
		return rcall("LRANGE", key, from, to)
	end
	if from >= rcall("LLEN", key) then
		return {}
	end
	local lo = to == -1 and 0 or -(to + 1)
	local ids = rcall("LRANGE", key, lo, -(from + 1))
	local rev = {}
	for i = #ids, 1, -1 do
		rev[#rev + 1] = ids[i]
	end
	return rev
end

local out = {}
local got = 0
local function take(ids)
	for _, jid in ipairs(ids) do
		if count > 0 and got >= count then
			return
		end
		local h = redis.pcall("HGETALL", prefix .. jid)
		if type(h) == "table" and not h.err and #h > 0 then
			out[#out + 1] = jid
			out[#out + 1] = h
			out[#out + 1] = is_list and "" or
			    rcall("ZSCORE", key, jid)
			got = got + 1
		end
	end
end

if count == 0 then
	take(slice(start, -1))
	return out
end
local cursor = start
for _ = 1, 5 do
	if got >= count then
		break
	end
	local ids = slice(cursor, cursor + count - 1)
	if #ids == 0 then
		break
	end
	take(ids)
	cursor = cursor + #ids
end
return out
