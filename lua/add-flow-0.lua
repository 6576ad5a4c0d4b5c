--[[
  add-flow: add a tree of jobs across queues at once, as Node's
  FlowProducer.add leaves it (BULLMQ-PROTOCOL.md 4.1, flows): a job with
  children waits in its queue's waiting-children set until they finish;
  each child names its parent (parentKey, parent) and is a member of the
  parent's :dependencies set.  The keys are those of the queues the nodes
  name: no KEYS.

  ARGV[1] now, ms
  then 8 arguments a node, parents before their children:
    the queue's key prefix "P:Q:", the job id, the name, the data (JSON
    text), the stored options (JSON object), the parent's job key ("" for
    none), the job's "parent" field (JSON, "" for none), "p" for a node
    with children or "l" for a leaf

  Returns the number of jobs added; -5 when a node's parent (outside the
  tree) does not exist, -7 when a job id is taken (or given twice in the
  tree); nothing is written then.
]]
local rcall = redis.call
local now = tonumber(ARGV[1])
local n = (#ARGV - 1) / 8

--@include expect-type

-- check everything before the first write
local nodes = {}
for i = 1, n do
	local b = 1 + (i - 1) * 8
	local ok, opts = pcall(cjson.decode, ARGV[b + 5])
	if not ok or type(opts) ~= "table" then
		return redis.error_reply("add-flow: node " .. i ..
		    ": options are not a JSON object")
	end
	local node = {q = ARGV[b + 1], id = ARGV[b + 2], name = ARGV[b + 3],
	    data = ARGV[b + 4], opts_json = ARGV[b + 5], opts = opts,
	    pk = ARGV[b + 6], pdata = ARGV[b + 7], kind = ARGV[b + 8]}
	if nodes[node.q .. node.id] or
	    rcall("EXISTS", node.q .. node.id) == 1 then
		return -7
	end
	if node.pk ~= "" and rcall("EXISTS", node.pk) ~= 1 and
	    not nodes[node.pk] then
		return -5
	end
	local q = node.q
	local bad = expect_types({{q .. "wait", "list"},
	    {q .. "waiting-children", "zset"}, {q .. "delayed", "zset"},
	    {q .. "prioritized", "zset"}, {q .. "marker", "zset"},
	    {q .. "events", "stream"}, {q .. "pc", "string"},
	    {q .. "meta", "hash"}, {q .. "active", "list"}}, "add-flow")
	if not bad and node.pk ~= "" then
		bad = expect_types({{node.pk .. ":dependencies", "set"}},
		    "add-flow")
	end
	if bad then
		return bad
	end
	nodes[node.q .. node.id] = true
	nodes[i] = node
end

--@include queue-held
--@include delayed
--@include pc-next

-- the cap of a queue's events stream, its meta key meta_key
local function events_cap(meta_key)
--@include max-events
	return max_events
end

local caps = {}
for i = 1, n do
	local node = nodes[i]
	local q = node.q
	local meta_key = q .. "meta"
	local max_events = caps[q]
	if not max_events then
		max_events = events_cap(meta_key)
		caps[q] = max_events
	end
	local ev = q .. "events"
	local jk = q .. node.id
	local ts = tonumber(node.opts["timestamp"]) or now
	local delay = tonumber(node.opts["delay"]) or 0
	local priority = tonumber(node.opts["priority"]) or 0

	-- the id counter, as Node bumps it; one INCR refuses is left as it is
	redis.pcall("INCR", q .. "id")
	local fields = {"name", node.name, "data", node.data, "opts",
	    node.opts_json, "timestamp", ts, "delay", delay, "priority",
	    priority}
	if node.pk ~= "" then
		fields[#fields + 1] = "parentKey"
		fields[#fields + 1] = node.pk
		fields[#fields + 1] = "parent"
		fields[#fields + 1] = node.pdata
	end
	rcall("HSET", jk, unpack(fields))
	rcall("XADD", ev, "MAXLEN", "~", max_events, "*", "event", "added",
	    "jobId", node.id, "name", node.name)

	if node.kind == "p" then
		rcall("ZADD", q .. "waiting-children", ts, node.id)
		rcall("XADD", ev, "MAXLEN", "~", max_events, "*", "event",
		    "waiting-children", "jobId", node.id)
	elseif delay > 0 then
		add_delayed(q .. "delayed", ev, node.id, ts + delay, max_events)
		mark_first(q .. "delayed", q .. "marker")
	else
		local held = queue_held(meta_key, q .. "active")
		if priority > 0 then
			rcall("ZADD", q .. "prioritized", priority * 4294967296 +
			    pc_next(q .. "pc") % 4294967296, node.id)
		elseif node.opts["lifo"] then
			rcall("RPUSH", q .. "wait", node.id)
		else
			rcall("LPUSH", q .. "wait", node.id)
		end
		if not held then
			rcall("ZADD", q .. "marker", 0, "0")
		end
		rcall("XADD", ev, "MAXLEN", "~", max_events, "*", "event",
		    "waiting", "jobId", node.id)
	end
	if node.pk ~= "" then
		rcall("SADD", node.pk .. ":dependencies", jk)
	end
end
return n
