--[[
  include pc-next: pc_next(key), the next number of a priority counter
  (Q:pc) as INCR gives it, for the scripts that add to Q:prioritized
  (lua/lua2c.sh puts this file in place of an "--@include pc-next" line;
  include it in the branch that needs it: making the function costs).
  The includer defines rcall (redis.call).

  A counter INCR would refuse (not an integer) starts again from 1, where
  the error would come after the job left its list.
]]

local function pc_next(key)
	local c = redis.pcall("INCR", key)
	if type(c) == "table" then
		c = 1
		rcall("SET", key, c)
	end
	return c
end
