--[[
  include key-types: key_types(t), for the scripts that write queue keys
  after a job has left its state (lua/lua2c.sh puts this file in place of
  a "--@include key-types" line; include it in the branch that needs it:
  making the function costs).  The includer defines rcall (redis.call).
]]

-- t is {key, type, key, type, ...} ("string", "list", "set", "zset",
-- "hash" or "stream").  A key that holds another type ends the script
-- with the error "BULLMQ-22 WANT GOT KEY", before its first write: the
-- library turns it into BULLMQ_KEY_WRONG_TYPE naming the key.  A missing
-- key is fine.
local function key_types(t)
	for i = 1, #t, 2 do
		local got = rcall("TYPE", t[i])["ok"]
		if got ~= "none" and got ~= t[i + 1] then
			error({err = "BULLMQ-22 " .. t[i + 1] .. " " .. got ..
			    " " .. t[i]})
		end
	end
end
