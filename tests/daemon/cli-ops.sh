#!/bin/sh
# bullmq jobs, logs, promote, retry-job, help and counts of a queue that
# does not exist, against a private redis-server.  Jobs are added with
# bullmq add and moved with redis-cli into BullMQ's layout, as a Node
# worker would leave them.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/cli.inc"
redis_start
B="$BULLMQ -r $REDIS_URL"
NOW=$(($(date +%s) * 1000))

# Make job ID of queue Q failed (or completed) at time T: fail Q ID T STATE
fail() {
	rcli LREM "bull:$1:wait" 0 "$2" >/dev/null
	rcli HSET "bull:$1:$2" processedOn "$3" finishedOn "$3" atm 2 ats 2 \
	    >/dev/null
	if [ "${4:-failed}" = completed ]; then
		rcli HSET "bull:$1:$2" returnvalue '"r"' >/dev/null
	else
		rcli HSET "bull:$1:$2" failedReason boom \
		    stacktrace '["at x"]' >/dev/null
	fi
	rcli ZADD "bull:$1:${4:-failed}" "$3" "$2" >/dev/null
}

# --- jobs --------------------------------------------------------------
for i in 1 2 3 4 5; do
	$B add q1 "n$i" "{\"i\":$i}" >/dev/null
done
run $B --json jobs q1 wait
is "jobs wait exits 0" "$RC" 0
is "jobs wait lists in the order they run, oldest first" \
    "$(echo "$OUT" | jq -r .id | tr '\n' ' ')" "1 2 3 4 5 "
is "jobs --json gives the hash fields" \
    "$(echo "$OUT" | head -1 | jq -c '[.state, .name, .data.i]')" \
    '["waiting","n1",1]'
run $B --json jobs q1 waiting --desc --start 1 --count 2
is "jobs --desc --start --count pages from the newest" \
    "$(echo "$OUT" | jq -r .id | tr '\n' ' ')" "4 3 "
fail q1 1 $((NOW - 3000))
fail q1 2 $((NOW - 2000))
fail q1 3 $((NOW - 1000)) completed
run $B --json jobs q1 failed
is "jobs failed lists the newest failure first" \
    "$(echo "$OUT" | jq -r .id | tr '\n' ' ')" "2 1 "
run $B jobs q1 failed --count 1
is "jobs prints a header and a row" "$(echo "$OUT" | wc -l | tr -d ' ')" 2
ok "jobs failed shows the reason" sh -c \
    "printf '%s\n' \"\$1\" | tail -1 | grep -q ' 2/0 *boom\$'" sh "$OUT"
ok "the header names the reason column" sh -c \
    "printf '%s\n' \"\$1\" | head -1 | grep -q FAILED-REASON" sh "$OUT"
rcli RPUSH bull:q1:wait gone >/dev/null
run $B --json jobs q1 wait --count 2
is "an id without a hash is skipped and the page filled" \
    "$(echo "$OUT" | jq -r .id | tr '\n' ' ')" "4 5 "
run $B add q3 later '{}' --delay 5000
rcli ZADD bull:q3:delayed $((1800000000000 * 4096 + 3)) "$OUT" >/dev/null
run $B jobs q3 delayed
ok "jobs delayed shows when the job is due, from its score" sh -c \
    "printf '%s\n' \"\$1\" | tail -1 | grep -q ' 2027-01-15T08:00:00.000Z\$'" \
    sh "$OUT"
run $B jobs q1 finished
is "jobs of an unknown state is a usage error" "$RC" 64
run $B jobs q1 wait --asc --desc
is "jobs --asc --desc is a usage error" "$RC" 64

# --- logs --------------------------------------------------------------
rcli RPUSH bull:q1:4:logs one two three >/dev/null
run $B --json logs q1 4
is "logs --json as getJobLogs" "$OUT" \
    '{"logs":["one","two","three"],"count":3}'
run $B --json logs q1 4 --desc --count 2
is "logs --desc --count: the newest first" "$OUT" \
    '{"logs":["three","two"],"count":3}'
run $B logs q1 4 --start 1
is "logs prints the lines" "$OUT" "$(printf 'two\nthree')"
run $B --json logs q1 5
is "logs of a job without lines" "$OUT" '{"logs":[],"count":0}'
run $B logs q1 404
is "logs of a missing job exits 1" "$RC" 1
ok "logs of a missing job says so" said "job 404 not found"

# --- promote -----------------------------------------------------------
run $B add q2 d '{}' --delay 600000
D=$OUT
run $B add q2 dp '{}' --delay 600000 --priority 3
DP=$OUT
run $B promote q2 "$D"
is "promote exits 0" "$RC" 0
is "promote prints what it did" "$OUT" "queue q2 job $D promoted"
is "a promoted job waits" "$(rcli LRANGE bull:q2:wait 0 -1)" "$D"
is "its delay is 0" "$(rcli HGET "bull:q2:$D" delay)" 0
ok "promote writes a waiting event from delayed" sh -c \
    "$REDIS_CLI -s $REDIS_SOCK XREVRANGE bull:q2:events + - COUNT 1 |
    tr '\n' ' ' | grep -q 'event waiting jobId $D prev delayed'"
is "promote marks the queue" "$(rcli ZSCORE bull:q2:marker 0)" 0
run $B --json promote q2 "$DP"
is "promote --json" "$OUT" "{\"id\":\"$DP\",\"promoted\":true}"
is "a promoted job with a priority is prioritized" \
    "$(rcli ZRANGE bull:q2:prioritized 0 -1)" "$DP"
run $B promote q2 "$D"
is "promote of a job not delayed exits 1" "$RC" 1
ok "promote says the job is not delayed" said \
    "job $D is waiting, not delayed: not promoted"
run $B promote q2 404
is "promote of a missing job exits 1" "$RC" 1
ok "promote of a missing job says so" said "job 404 not found"
is "a refused promote writes nothing" "$(rcli LLEN bull:q2:wait)" 1

# --- retry-job ---------------------------------------------------------
run $B retry-job q1 1
is "retry-job exits 0" "$RC" 0
is "retry-job prints what it did" "$OUT" "queue q1 job 1 retried"
is "the job left failed" "$(rcli ZSCORE bull:q1:failed 1)" ""
is "the job waits again at the head" "$(rcli LINDEX bull:q1:wait 0)" 1
is "failedReason, finishedOn and processedOn are gone" \
    "$(rcli HMGET bull:q1:1 failedReason finishedOn processedOn |
    tr -d '\n')" ""
is "attempts are kept" "$(rcli HMGET bull:q1:1 atm ats | tr '\n' ' ')" "2 2 "
is "the stack trace is kept" "$(rcli HGET bull:q1:1 stacktrace)" '["at x"]'
ok "retry-job writes a waiting event from failed" sh -c \
    "$REDIS_CLI -s $REDIS_SOCK XREVRANGE bull:q1:events + - COUNT 1 |
    tr '\n' ' ' | grep -q 'event waiting jobId 1 prev failed'"
run $B --json retry-job q1 3 --reset-attempts-made
is "retry-job of a completed job" "$OUT" '{"id":"3","retried":true}'
is "its return value is gone" "$(rcli HEXISTS bull:q1:3 returnvalue)" 0
is "--reset-attempts-made deletes atm only" \
    "$(rcli HMGET bull:q1:3 atm ats | tr '\n' ' ')" " 2 "
run $B retry-job q1 2 --state completed
is "retry-job --state of another state exits 1" "$RC" 1
ok "retry-job says the state" said "job 2 is failed, not completed: not retried"
run $B retry-job q1 5
is "retry-job of a waiting job exits 1" "$RC" 1
ok "retry-job says the job is not finished" said \
    "job 5 is waiting, not failed or completed: not retried"
run $B retry-job q1 404
is "retry-job of a missing job exits 1" "$RC" 1
ok "retry-job of a missing job says so" said "job 404 not found"
run $B retry-job q1 2 --state active
is "retry-job --state active is a usage error" "$RC" 64

# --- counts of a queue that does not exist ---------------------------
run $B counts nosuchqueue
is "counts of a queue that does not exist exits 1" "$RC" 1
ok "counts says the queue does not exist" said \
    "queue nosuchqueue does not exist"
is "and prints no counts" "$OUT" ""
rcli HSET bull:empty:meta opts.maxLenEvents 10000 >/dev/null
run $B counts empty
is "counts of an empty queue with a meta key exits 0" "$RC" 0
rcli DEL bull:empty:meta >/dev/null
rcli SET bull:empty:id 7 >/dev/null
run $B counts empty
is "counts of an empty queue with an id key exits 0" "$RC" 0

# --- help --------------------------------------------------------------
run $B help
is "help exits 0" "$RC" 0
ok "help lists the commands" sh -c \
    "printf '%s\n' \"\$1\" | grep -q '^  retry-job QUEUE ID'" sh "$OUT"
run $BULLMQ help jobs
is "help COMMAND exits 0" "$RC" 0
ok "help COMMAND prints its usage" sh -c \
    "printf '%s\n' \"\$1\" |
    grep -q '^usage: bullmq \[options\] jobs QUEUE STATE'" \
    sh "$OUT"
ok "help COMMAND prints its options" sh -c \
    "printf '%s\n' \"\$1\" | grep -q -- '--count N'" sh "$OUT"
for c in jobs logs promote retry-job; do
	ok "--help lists $c" sh -c "$BULLMQ --help | grep -q '^  $c '"
	run $B "$c" --help
	is "$c --help prints its usage" \
	    "$(printf '%s\n' "$OUT" | head -n 1 | cut -d' ' -f1-4)" \
	    "usage: bullmq [options] $c"
	run $B "$c" q1
	is "$c with the queue alone is a usage error" "$RC" 64
	ok "$c with the queue alone says what it expects" \
	    said "bullmq $c: expected QUEUE "
	run $BULLMQ help "$c"
	ok "help $c describes it beyond the usage" \
	    test "$(printf '%s\n' "$OUT" | wc -l)" -gt 2
done
run $BULLMQ help nosuch
is "help of an unknown command is a usage error" "$RC" 64
run $BULLMQ help a b
is "help takes one command" "$RC" 64

finish
