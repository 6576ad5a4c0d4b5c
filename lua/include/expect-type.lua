--[[
  include expect-type: expect_types(list, what) for the scripts that write
  keys they did not make (lua/lua2c.sh puts this file in place of an
  "--@include expect-type" line).  The includer defines rcall
  (redis.call).
]]
-- Check, before the first write, that each {key, type} of list holds
-- that type or nothing, so that a wrong-typed key leaves no half-made
-- job.  Returns nil, or an error reply naming the key for the script
-- what to return.
local function expect_types(list, what)
	for _, kt in ipairs(list) do
		local got = rcall("TYPE", kt[1])
		if type(got) == "table" then
			got = got["ok"]
		end
		if got ~= "none" and got ~= kt[2] then
			return redis.error_reply(what .. ": " .. kt[1] ..
			    " holds a " .. tostring(got) .. ", not a " .. kt[2])
		end
	end
	return nil
end
