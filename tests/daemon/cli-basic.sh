#!/bin/sh
# bullmq add, get, counts, pause, resume and the error paths of the command
# line, against a private redis-server.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/cli.inc"
redis_start
B="$BULLMQ -r $REDIS_URL"

# Does the last stdout have a line matching the pattern?
has_line() {
	printf '%s\n' "$OUT" | grep -q -- "$1"
}

# --- add ---------------------------------------------------------------
run $B add q1 hello '{"a":1}'
is "add exits 0" "$RC" 0
is "add prints the new id" "$OUT" 1
is "add stores the name" "$(rcli HGET bull:q1:1 name)" hello
is "add stores the data" "$(rcli HGET bull:q1:1 data)" '{"a":1}'
is "add puts the job in wait" "$(rcli LRANGE bull:q1:wait 0 -1)" 1
is "add writes the added event" \
    "$(rcli XRANGE bull:q1:events - + | grep -c '^added$')" 1

run $B add q1 later '{}' --delay 60000 --attempts 3 \
    --backoff exponential:1000 --remove-on-complete true --remove-on-fail 5
is "add --delay prints id 2" "$OUT" 2
ok "add --delay puts the job in delayed" \
    test -n "$(rcli ZSCORE bull:q1:delayed 2)"
is "add stores the options as Node would" \
    "$(rcli HGET bull:q1:2 opts | jq -c '[.attempts, .backoff.type,
    .backoff.delay, .removeOnComplete, .removeOnFail, .delay]')" \
    '[3,"exponential",1000,true,5,60000]'
is "add stores the delay field" "$(rcli HGET bull:q1:2 delay)" 60000

run $B add q1 kept '{}' --remove-on-complete age:3600,count:5 \
    --remove-on-fail count:9
is "add --remove-on-complete takes the age form of the settings" \
    "$(rcli HGET bull:q1:$OUT opts | jq -c '[.removeOnComplete,
    .removeOnFail]')" '[{"age":3600,"count":5},{"count":9}]'

run $B add q1 urgent --priority 7
is "add without data exits 0" "$RC" 0
ok "add --priority puts the job in prioritized" \
    test -n "$(rcli ZSCORE bull:q1:prioritized "$OUT")"
is "add --priority stores the priority" "$(rcli HGET bull:q1:$OUT priority)" 7
is "add without data stores {}" "$(rcli HGET bull:q1:$OUT data)" '{}'

run $B add q1 first '"text"' --lifo
is "add --lifo pushes at the consumer end" \
    "$(rcli LINDEX bull:q1:wait -1)" "$OUT"
is "a string payload is stored quoted" "$(rcli HGET bull:q1:$OUT data)" \
    '"text"'

run $B add q1 custom '{"v":1}' --job-id my-id
is "add --job-id prints the custom id" "$OUT" my-id
run $B add q1 custom '{"v":2}' --job-id my-id
is "a duplicate custom id exits 0" "$RC" 0
is "a duplicate prints the existing id" "$OUT" my-id
ok "a duplicate is reported on stderr" said duplicate
is "a duplicate leaves the job as it was" "$(rcli HGET bull:q1:my-id data)" \
    '{"v":1}'
run $B --json add q1 custom '{}' --job-id my-id
is "add --json reports a duplicate" "$(echo "$OUT" | jq -c .)" \
    '{"id":"my-id","result":"duplicate"}'
run $B add q1 other '{}' --json
is "add --json after the operands" "$(echo "$OUT" | jq -r .result)" added

run $B add q1 viaopts '{}' --opts \
    '{"jobId":"from-opts","priority":5,"removeOnComplete":{"age":3600,"count":10}}'
is "add --opts takes Node option names" "$OUT" from-opts
is "add --opts sets the priority" "$(rcli HGET bull:q1:from-opts priority)" 5
is "add --opts keeps removeOnComplete" \
    "$(rcli HGET bull:q1:from-opts opts | jq -c .removeOnComplete)" \
    '{"age":3600,"count":10}'
run $B add q1 both '{}' --opts '{"priority":5,"attempts":2}' --priority 9
is "flags override --opts" "$(rcli HGET bull:q1:$OUT priority)" 9
is "--opts still applies the rest" \
    "$(rcli HGET bull:q1:$OUT opts | jq .attempts)" 2

OUT=$(echo '[1, 2, {"x": "y"}]' | $B add q1 stdin -)
is "add reads data from stdin with -" "$(rcli HGET bull:q1:$OUT data)" \
    '[1, 2, {"x": "y"}]'

BULLMQ_REDIS=$REDIS_URL run $BULLMQ add q1 env '{}'
is "BULLMQ_REDIS names the server" "$RC" 0
run $B --prefix other add q1 pfx '{}'
is "--prefix changes the keys" "$(rcli HGET other:q1:1 name)" pfx

# --- counts and get ----------------------------------------------------
run $B --json counts q1
is "counts exits 0" "$RC" 0
is "counts --json counts waiting jobs" "$(echo "$OUT" | jq .waiting)" \
    "$(rcli LLEN bull:q1:wait)"
is "counts --json counts delayed and prioritized jobs" \
    "$(echo "$OUT" | jq -c '[.delayed, .prioritized, .active, .isPaused]')" \
    '[1,3,0,false]'
run $B counts q1
ok "counts prints a waiting line" \
    has_line "^waiting $(rcli LLEN bull:q1:wait)\$"

run $B --json get q1 1
is "get exits 0" "$RC" 0
is "get --json gives id, state, name and data" \
    "$(echo "$OUT" | jq -c '[.id, .state, .name, .data.a]')" \
    '["1","waiting","hello",1]'
is "get --json gives numbers as numbers" \
    "$(echo "$OUT" | jq -r '.timestamp | type')" number
run $B get q1 2
ok "get prints the state" has_line '^state: delayed$'
ok "get prints the fields" has_line '^name: later$'
run $B get q1 nope
is "get of a missing job exits 1" "$RC" 1
ok "get of a missing job says so" said "not found"

# --- pause and resume --------------------------------------------------
run $B pause q1
is "pause exits 0" "$RC" 0
is "pause sets meta paused" "$(rcli HEXISTS bull:q1:meta paused)" 1
is "counts shows the pause" "$($B --json counts q1 | jq .isPaused)" true
run $B --json resume q1
is "resume --json" "$(echo "$OUT" | jq -c .)" '{"queue":"q1","paused":false}'
is "resume clears meta paused" "$(rcli HEXISTS bull:q1:meta paused)" 0

# --- errors: a message, a non-zero status, nothing written -------------
keys=$(rcli DBSIZE)
run $B add q2 bad '{"a":'
is "bad JSON data exits 1" "$RC" 1
ok "bad JSON data is named" said "not valid JSON"
run $B add q2 bad '{}' --opts '{"attempts":'
is "bad --opts exits 1" "$RC" 1
ok "bad --opts is named" said "opts"
run $B add q2 bad '{}' --opts '{"priority":"high"}'
is "a bad option in --opts exits 1" "$RC" 1
ok "a bad option in --opts names it" said priority
run $B add q2 bad '{}' --priority high
is "a bad --priority is a usage error" "$RC" 64
ok "a bad --priority is named" said "priority"
run $B add q2 bad '{}' --backoff linear
is "a bad --backoff is a usage error" "$RC" 64
run $B add q2 bad '{}' --bogus
is "an unknown option is a usage error" "$RC" 64
run $B add q2
is "a missing operand is a usage error" "$RC" 64
run $B frobnicate q2
is "an unknown command is a usage error" "$RC" 64
ok "an unknown command is named" said frobnicate
run $BULLMQ
is "no command is a usage error" "$RC" 64
run $B -r 'http://localhost' add q2 bad '{}'
is "a bad URL exits 1" "$RC" 1
ok "a bad URL is named" said "http://localhost"
run $BULLMQ -r "unix://$TMPD/nothing.sock" add q2 bad '{}'
is "an unreachable Redis exits 1" "$RC" 1
ok "an unreachable Redis is named" said "nothing.sock"
run $B add 'a:b' bad '{}'
is "a queue name with a colon exits 1" "$RC" 1
ok "a queue name with a colon is named" said "a:b"
run $B add q2 bad '{}' --job-id 42
is "an integer custom id exits 1" "$RC" 1
is "nothing was written by the failures" "$(rcli DBSIZE)" "$keys"

run $BULLMQ --version
is "--version exits 0" "$RC" 0
ok "--version prints the version" has_line '^bullmq [0-9]'
run $BULLMQ --help
ok "--help lists the commands" has_line add-bulk
run $BULLMQ add -h
is "add -h exits 0" "$RC" 0
ok "add -h shows the add options" has_line --job-id

# --- the option parser every command shares ----------------------------
for c in add add-bulk counts get remove pause resume retry clean drain \
    obliterate events workers bench; do
	ok "--help lists $c" sh -c "$BULLMQ --help | grep -q '^  $c '"
	run $B "$c" --help
	is "$c --help exits 0" "$RC" 0
	is "$c --help prints its usage on stdout" \
	    "$(printf '%s\n' "$OUT" | head -n 1 | cut -d' ' -f1-4)" \
	    "usage: bullmq [options] $c"
	run $B "$c"
	is "$c without a queue is a usage error" "$RC" 64
	ok "$c without a queue says what it expects" \
	    said "bullmq $c: expected QUEUE"
	ok "$c without a queue prints its usage" \
	    said "usage: bullmq \[options\] $c "
	run $B "$c" q9 a b c d
	is "$c with too many operands is a usage error" "$RC" 64
	run $B "$c" q9 --bogus
	is "$c with an unknown option is a usage error" "$RC" 64
	ok "$c names the unknown option" said "'--bogus'"
	run $B "$c" q9 -h --bogus
	is "$c -h before a bad option exits 0" "$RC" 0
done
keys=$(rcli DBSIZE)
run $B clean q9 completed --grace -5
is "a number option out of range is a usage error" "$RC" 64
is "a number option out of range names the option and the range" \
    "$(cat "$E")" \
    "bullmq clean: --grace -5: too small (expected 0 to 1099511627776)"
run $B bench q9 -n 0
is "a letter option out of range is named with its letter" "$(cat "$E")" \
    "bullmq bench: -n 0: too small (expected 1 to 100000000)"
run $B bench q9
is "bench without -n is a usage error" "$RC" 64
ok "bench without -n says it expects -n" said "expected QUEUE -n N"
run $B retry q9 --state active
ok "a refused --state names the choices" said \
    "bullmq retry: --state active: expected failed or completed"
run $B add q9 n '{}' --job-id ''
is "an empty --job-id is a usage error" "$RC" 64
ok "an empty --job-id is named" said "bullmq add: --job-id: empty id"
run $B add q9 n '{}' --remove-on-fail maybe
is "a bad --remove-on-fail is a usage error" "$RC" 64
ok "a bad --remove-on-fail is named" said "bullmq add: --remove-on-fail maybe"
run $B add q9 n '{}' --attempts
is "an option without its value is a usage error" "$RC" 64
ok "getopt names the option without its value" said "requires an argument"
is "no usage error wrote anything" "$(rcli DBSIZE)" "$keys"
$B --prefix other add q9 n '{}' >/dev/null
run $B counts q9 --pre other --j
is "long options may be abbreviated" "$(echo "$OUT" | jq .waiting)" 1
run $B add q9 n '{}' --re 5
is "an ambiguous abbreviation is a usage error" "$RC" 64
run $BULLMQ --json -r "$REDIS_URL" --prefix p2 add q9 n '{}'
is "common options before the command" "$(rcli HGET p2:q9:1 name)" n
run $BULLMQ add q9 n '{}' --json -r "$REDIS_URL" --prefix p3
is "common options after the operands" "$(rcli HGET p3:q9:1 name)" n
run $B events q9 -f -h
is "a short flag next to -h" "$RC" 0
run $BULLMQ --version --bogus
is "--version stops the parse" "$RC" 0
run $BULLMQ -- counts
is "-- ends bullmq's options" "$RC" 64
ok "-- then a command without a queue" said "bullmq counts: expected QUEUE"

finish
