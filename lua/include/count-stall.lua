--[[
  include count-stall: count_stall(jk, max_stalled, repeat_key), for
  stalled-8 and give-back-7 (lua/lua2c.sh puts this file in place of
  their "--@include count-stall" line).  The includer defines rcall
  (redis.call).
]]

-- Count a stall of the job whose key is jk: past max_stalled it gets
-- "defa" for the next worker to fail it, unless it is the live iteration
-- of a job scheduler (repeat_key is Q:repeat).  A stall counter HINCRBY
-- would refuse fails the job so, naming the field; a key that holds no
-- hash is left alone.
local function count_stall(jk, max_stalled, repeat_key)
	local f = redis.pcall("HMGET", jk, "stc", "rjk")
	if f["err"] then
		return
	end
	local stc, rjk = f[1], f[2]
	if stc and not (#stc < 19 and string.match(stc, "^%d+$")) then
		rcall("HSET", jk, "defa",
		    "job's stalled counter (stc) is not a count")
		return
	end
	local iteration = false
	if rjk then
		iteration = rcall("EXISTS", repeat_key .. ":" .. rjk) == 1 or
		    rcall("ZSCORE", repeat_key, rjk) ~= false
	end
	if rcall("HINCRBY", jk, "stc", 1) > max_stalled and not iteration then
		rcall("HSET", jk, "defa", "job stalled more than allowable limit")
	end
end
