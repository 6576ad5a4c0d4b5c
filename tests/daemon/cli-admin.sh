#!/bin/sh
# bullmq retry, clean, drain, obliterate, remove, events and workers against a
# private redis-server.  Finished and active jobs are written with
# redis-cli in BullMQ's layout, as a Node worker would leave them.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/cli.inc"
redis_start
B="$BULLMQ -r $REDIS_URL"
NOW=$(($(date +%s) * 1000))

# A finished job: finished QUEUE ID failed|completed FINISHED_ON
finished() {
	rcli HSET "bull:$1:$2" name n data '{}' opts '{"attempts":0}' \
	    timestamp "$4" delay 0 priority 0 processedOn "$4" \
	    finishedOn "$4" atm 1 ats 1 >/dev/null
	if [ "$3" = failed ]; then
		rcli HSET "bull:$1:$2" failedReason boom >/dev/null
	else
		rcli HSET "bull:$1:$2" returnvalue null >/dev/null
	fi
	rcli ZADD "bull:$1:$3" "$4" "$2" >/dev/null
}

# --- retry -------------------------------------------------------------
for i in 1 2 3; do
	finished q1 "$i" failed "$NOW"
done
finished q1 4 completed "$NOW"
run $B retry q1 --count 2
is "retry --count exits 0" "$RC" 0
is "retry prints how many" "$OUT" "retried 2 jobs"
is "retry --count leaves the rest failed" "$(rcli ZCARD bull:q1:failed)" 1
is "retried jobs wait again" "$(rcli LLEN bull:q1:wait)" 2
run $B --json retry q1
is "retry --json moves the rest" "$OUT" '{"retried":1}'
is "no failed job is left" "$(rcli ZCARD bull:q1:failed)" 0
is "a retried job loses its failure" "$(rcli HEXISTS bull:q1:3 failedReason)" 0
run $B retry q1 --state completed
is "retry --state completed" "$OUT" "retried 1 job"
is "the completed job waits again" "$(rcli LLEN bull:q1:wait)" 4
run $B retry q1 --state active
is "retry of another state is a usage error" "$RC" 64

# --- clean -------------------------------------------------------------
OLD=$((NOW - 3600000))
for i in 11 12 13; do
	finished q2 "$i" completed "$OLD"
done
finished q2 14 completed "$NOW"
finished q2 15 failed "$OLD"
run $B clean q2 completed --grace 60000 --limit 2
is "clean --limit exits 0" "$RC" 0
is "clean --limit deletes at most the limit" "$OUT" "cleaned 2 jobs"
run $B --json clean q2 completed --grace 60000
is "clean --grace deletes only old jobs" "$OUT" '{"cleaned":1}'
is "the new completed job is kept" "$(rcli ZRANGE bull:q2:completed 0 -1)" 14
is "cleaned job hashes are deleted" \
    "$(rcli EXISTS bull:q2:11 bull:q2:12 bull:q2:13)" 0
is "other states are not touched" "$(rcli ZCARD bull:q2:failed)" 1
ok "clean writes a cleaned event" \
    sh -c "$REDIS_CLI -s $REDIS_SOCK XRANGE bull:q2:events - + | grep -q '^cleaned\$'"
run $B clean q2 failed
is "clean without --grace deletes all" "$OUT" "cleaned 1 job"
run $B clean q2 finished
is "clean of an unknown state is a usage error" "$RC" 64
ok "clean of an unknown state is named" said "finished"
run $B clean q2
is "clean without a state is a usage error" "$RC" 64

# --- drain -------------------------------------------------------------
$B add q3 a '{}' >/dev/null
$B add q3 b '{}' --priority 2 >/dev/null
$B add q3 c '{}' --delay 600000 >/dev/null
finished q3 fin completed "$NOW"
run $B drain q3
is "drain exits 0" "$RC" 0
is "drain empties wait and prioritized" \
    "$(rcli LLEN bull:q3:wait) $(rcli ZCARD bull:q3:prioritized)" "0 0"
is "drain deletes the job hashes" "$(rcli EXISTS bull:q3:1 bull:q3:2)" 0
is "drain keeps delayed jobs" "$(rcli ZCARD bull:q3:delayed)" 1
is "drain keeps completed jobs" "$(rcli ZCARD bull:q3:completed)" 1
run $B --json drain q3 --delayed
is "drain --delayed --json" "$OUT" '{"drained":true,"delayed":true}'
is "drain --delayed empties delayed" "$(rcli ZCARD bull:q3:delayed)" 0

# --- obliterate --------------------------------------------------------
$B add q4 a '{}' >/dev/null
$B add q4 b '{}' >/dev/null
finished q4 f failed "$NOW"
rcli RPOPLPUSH bull:q4:wait bull:q4:active >/dev/null
rcli SET bull:q4:1:lock tok PX 60000 >/dev/null
run $B obliterate q4
is "obliterate with an active job exits 1" "$RC" 1
ok "obliterate says there are active jobs" said "active jobs"
is "the active job is still there" "$(rcli EXISTS bull:q4:1)" 1
run $B obliterate q4 --force
is "obliterate --force exits 0" "$RC" 0
is "obliterate deletes every key of the queue" \
    "$(rcli --scan --pattern 'bull:q4:*' | wc -l | tr -d ' ')" 0
is "other queues are untouched" "$(rcli ZCARD bull:q3:completed)" 1

# --- events ------------------------------------------------------------
$B add q5 first '{"n":1}' >/dev/null
$B add q5 second '{}' --delay 5000 >/dev/null
run $B events q5
is "events exits 0" "$RC" 0
is "events prints one line per entry" "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" \
    "$(rcli XLEN bull:q5:events)"
is "each line is a JSON object with id and fields" \
    "$(printf '%s\n' "$OUT" | head -1 | jq -c '[.event, .jobId, .name, (.id | test("^[0-9]+-[0-9]+$"))]')" \
    '["added","1","first",true]'
is "events carry the delayed event" \
    "$(printf '%s\n' "$OUT" | jq -r 'select(.event == "delayed") | .jobId')" 2
first=$(printf '%s\n' "$OUT" | head -1 | jq -r .id)
run $B events q5 --from "$first"
is "events --from starts after the id" \
    "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" \
    "$(($(rcli XLEN bull:q5:events) - 1))"
run $B events q5 --json
ok "events --json is the same JSON" test "$(printf '%s\n' "$OUT" | jq -s length)" -gt 2

$B events q5 --follow >"$TMPD/follow" 2>"$TMPD/follow.err" &
fpid=$!
track $fpid
sleep 0.5
$B add q5 third '{}' >/dev/null
ok "events --follow prints new entries" \
    wait_for "grep -q '\"name\":\"third\"' '$TMPD/follow'" 10
ok "events --follow starts after the old entries" \
    test "$(grep -c '"name":"first"' "$TMPD/follow")" -eq 0
kill -INT $fpid
i=0
while kill -0 $fpid 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
ok "events --follow ends on SIGINT" sh -c "! kill -0 $fpid 2>/dev/null"
wait $fpid
is "events --follow exits 0 on SIGINT" "$?" 0
run $B events q5 --from not-an-id
is "a bad --from exits 1" "$RC" 1
ok "a bad --from is named" said "events"

# --- remove ------------------------------------------------------------
$B add q7 a '{}' >/dev/null
$B add q7 b '{}' --delay 600000 >/dev/null
finished q7 fin failed "$NOW"
run $B remove q7 1
is "remove exits 0" "$RC" 0
is "remove says what it removed" "$OUT" "queue q7 job 1 removed"
is "remove deletes the job hash" "$(rcli EXISTS bull:q7:1)" 0
is "remove takes the job out of wait" "$(rcli LLEN bull:q7:wait)" 0
is "remove writes a removed event" \
    "$(rcli XREVRANGE bull:q7:events + - COUNT 1 | sed -n '2,7p' |
    tr '\n' ' ')" \
    "event removed jobId 1 prev wait "
run $B --json remove q7 2
is "remove --json" "$OUT" '{"id":"2","removed":true,"existed":true}'
is "remove takes a delayed job out of delayed" "$(rcli ZCARD bull:q7:delayed)" 0
run $B remove q7 fin
is "remove of a failed job exits 0" "$RC" 0
is "remove takes it out of failed" "$(rcli ZCARD bull:q7:failed)" 0

keys=$(rcli DBSIZE)
events=$(rcli XLEN bull:q7:events)
# as Node's Queue.remove, which answers 1: not an error
run $B remove q7 404
is "remove of a missing job exits 0, as Queue.remove answers 1" "$RC" 0
is "remove of a missing job says so plainly" "$OUT" \
    "queue q7 job 404: no such job, nothing to remove"
is "remove of a missing job writes no error" "$(cat "$E")" ""
is "remove of a missing job writes nothing" "$(rcli DBSIZE)" "$keys"
is "remove of a missing job writes no event" "$(rcli XLEN bull:q7:events)" \
    "$events"
run $B --json remove q7 404
is "remove --json of a missing job exits 0" "$RC" 0
is "remove --json of a missing job says it did not exist" "$OUT" \
    '{"id":"404","removed":true,"existed":false}'

$B add q7 busy '{}' --job-id busy >/dev/null
rcli LREM bull:q7:wait 1 busy >/dev/null
rcli LPUSH bull:q7:active busy >/dev/null
rcli SET bull:q7:busy:lock tok PX 60000 >/dev/null
run $B remove q7 busy
is "remove of a locked job exits 1" "$RC" 1
ok "remove of a locked job says it is locked" \
    said "job busy in queue q7 is locked"
is "the locked job is kept" "$(rcli EXISTS bull:q7:busy)" 1

rcli ZADD bull:q7:repeat 1700000000000 s1 >/dev/null
rcli HSET bull:q7:repeat:s1:1700000000000 name n data '{}' rjk s1 >/dev/null
run $B remove q7 repeat:s1:1700000000000
is "remove of a scheduler's next job exits 1" "$RC" 1
ok "remove of a scheduler's next job names the scheduler" said "scheduler"
is "the scheduler's next job is kept" \
    "$(rcli EXISTS bull:q7:repeat:s1:1700000000000)" 1

run $B remove q7
is "remove without an id is a usage error" "$RC" 64
ok "remove without an id says what it expects" said "expected QUEUE ID"
run $B -r "unix://$TMPD/nothing.sock" remove q7 1
is "remove with an unreachable Redis exits 1" "$RC" 1

# --- workers -----------------------------------------------------------
run $B workers q6
is "workers with none exits 0" "$RC" 0
is "workers with none prints the header only" "$OUT" \
    "$(printf '%-24s %-24s %8s %8s' NAME ADDR AGE IDLE)"
b64=$(printf q6 | base64)
(echo "CLIENT SETNAME bull:$b64:w:alpha"; sleep 3; echo PING) |
    "$REDIS_CLI" -s "$REDIS_SOCK" >/dev/null &
track $!
(echo "CLIENT SETNAME bull:$b64"; sleep 3; echo PING) |
    "$REDIS_CLI" -s "$REDIS_SOCK" >/dev/null &
track $!
(echo "CLIENT SETNAME bull:other:w:beta"; sleep 3; echo PING) |
    "$REDIS_CLI" -s "$REDIS_SOCK" >/dev/null &
track $!
wait_for "[ \$($REDIS_CLI -s $REDIS_SOCK CLIENT LIST | grep -c name=bull) -eq 3 ]" 5
run $B --json workers q6
is "workers --json lists the queue's workers" \
    "$(echo "$OUT" | jq -c '[.[].name] | sort')" '["","alpha"]'
is "workers --json gives age and idle" \
    "$(echo "$OUT" | jq -c '[.[] | (.age | type), (.idle | type)] | unique')" \
    '["number"]'
run $B workers q6
ok "workers lists a named worker" sh -c "printf '%s\n' \"\$1\" | grep -q '^alpha '" sh "$OUT"

finish
