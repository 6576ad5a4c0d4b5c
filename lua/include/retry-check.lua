--[[
  include retry-check: what retry-9 and delay-10 rely on before their
  first write (lua/lua2c.sh puts this file in place of their
  "--@include retry-check" line).  It runs where it stands, and returns
  from the script when the job cannot be retried.

  The includer defines rcall (redis.call) and jk, the job key "Q:<id>".

  Returns -1 when the job is gone, -20 when its key holds no hash, -21
  when its atm is not an integer HINCRBY can count on: Node reads such an
  atm as NaN and does not retry, and the worker fails the job instead.
  Nothing is written.
]]

if rcall("EXISTS", jk) == 0 then
	return -1
end
local atm = redis.pcall("HGET", jk, "atm")
if type(atm) == "table" then
	return -20
end
if atm and not (atm == "0" or (#atm < 19 and
    string.match(atm, "^%-?[1-9]%d*$"))) then
	return -21
end
