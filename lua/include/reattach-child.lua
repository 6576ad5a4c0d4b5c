--[[
  include reattach-child: reattach(pk, jk, state): a job (key jk) retried
  from "completed" or "failed" becomes a pending dependency of its parent
  (key pk) again, when the parent exists and had it among its processed,
  failed or ignored-failure children.

  The includer defines rcall.
]]

local function reattach(pk, jk, state)
	if type(pk) ~= "string" or rcall("EXISTS", pk) ~= 1 then
		return
	end
	local back
	if state == "failed" then
		back = rcall("ZREM", pk .. ":unsuccessful", jk) == 1 or
		    rcall("HDEL", pk .. ":failed", jk) == 1
	else
		back = rcall("HDEL", pk .. ":processed", jk) == 1
	end
	if back then
		rcall("SADD", pk .. ":dependencies", jk)
	end
end
