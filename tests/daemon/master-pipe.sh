#!/bin/sh
# bullmq-master with a pipe: processor (a long-lived program per child):
# the shell example completes, fails, reports progress and logs; then each
# way a program can go wrong ends its job failed (or given back) with a
# clear reason, the program is started again, and the next job runs:
# killed by -9, hanging past job-timeout, flooding stderr, closing its
# stdin, leaving a daemon behind, writing what is not the protocol,
# dying at every start, speaking another protocol version, floods of
# stdout and stderr, the child killed by -9; and the Node adapter's signal
# aborting at job-timeout.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

SH=$(command -v sh)
EX=$top_srcdir/contrib/processors/shell/echo.sh
ok "jq is installed (the shell example needs it)" command -v jq

# A program: answers hellos and runs each job line through a case on
# the job's name: "$TMPD/prog" FILE, written by the test.
prog() {
	cat >"$TMPD/$1.sh" <<PROG
pidf=\$1
echo \$\$ >>"\$pidf"
while IFS= read -r line; do
	case \$line in
	*'"type":"hello"'*) echo '{"type":"hello","protocol":1}' ;;
	*'"name":"ok"'*) echo '{"type":"done","result":"fine"}' ;;
$2
	*'"type":"job"'*) echo '{"type":"done"}' ;;
	esac
done
PROG
}
# Add job ID named NAME to queue Q, whole before it is in wait.
job() {
	rcli HSET "bull:$1:$2" name "$3" data '{}' opts '{}' timestamp 1 \
	    >/dev/null
	rcli LPUSH "bull:$1:wait" "$2" >/dev/null
	rcli ZADD "bull:$1:marker" 0 0 >/dev/null
}
pids() {
	cat "$TMPD/$1.pids" 2>/dev/null | tr '\n' ' '
}

# 1. the worked example
master_start -q pq -w 1 -x "pipe:$SH $EX" --drain-delay 300
ok "example: the program starts with its child, before any job" \
    wait_log "worker 1: program /.* started" 10
add_jobs pq 1 1 '{"n":1}'
add_jobs pq 2 2 '{"fail":"boom"}'
ok "example: job 1 completes" \
    wait_for '[ "$(rcli HGET bull:pq:1 finishedOn)" != "" ]' 10
is "example: its return value is its data" \
    "$(rcli HGET bull:pq:1 returnvalue)" '{"n":1}'
is "example: its progress" "$(rcli HGET bull:pq:1 progress)" 50
is "example: its log line" "$(rcli LRANGE bull:pq:1:logs 0 -1)" \
    'working on "1"'
ok "example: job 2 fails" \
    wait_for '[ "$(rcli HGET bull:pq:2 failedReason)" = boom ]' 10
is "example: one program for both jobs" \
    "$(grep -c 'program /.* started' "$MLOG")" 1
kill -TERM "$MPID"
master_wait
is "example: TERM: exit 0" "$MRC" 0
ok "example: the program was stopped with its child" \
    sh -c "! grep -q 'program:.*killed' '$MLOG'"

# the Python module's example: completes, fails unrecoverably, postpones
PY=$(command -v python3)
ok "python3 is installed" test -n "$PY"
: >"$MLOG"
master_start -q yq -w 1 \
    -x "pipe:$PY $top_srcdir/contrib/processors/python/example.py" \
    --drain-delay 300
add_jobs yq 1 1 '{"n":21}'
add_jobs yq 2 2 '{}' '{"attempts":3}'
add_jobs yq 3 3 '{"n":1,"later_ms":60000}'
ok "python: job 1 completes" \
    wait_for '[ "$(rcli HGET bull:yq:1 returnvalue)" = "{\"doubled\":42}" ]' 15
ok "python: job 2 fails for good at once (Unrecoverable)" \
    wait_for '[ "$(rcli HGET bull:yq:2 failedReason)" = "data.n is missing" ]' 10
is "python: after one attempt" "$(rcli HGET bull:yq:2 atm)" 1
ok "python: job 3 is delayed" \
    wait_for '[ "$(rcli ZSCORE bull:yq:delayed 3)" != "" ]' 10
is "python: with no attempt counted" "$(rcli HGET bull:yq:3 atm)" ""
ok "python: print() reaches the log" grep -q 'job 1: program: job 1 attempt 1' "$MLOG"
kill -TERM "$MPID"
master_wait
is "python: TERM: exit 0" "$MRC" 0

# 2. killed by -9 in the middle of a job: the job fails, the next runs
prog kill '	*'"'"'"name":"hang"'"'"'*) sleep 30 ;;'
: >"$MLOG"
master_start -q kq -w 1 -x "pipe:$SH $TMPD/kill.sh $TMPD/kill.pids" \
    --drain-delay 300
job kq 1 hang
ok "kill: the job is active" wait_for '[ "$(count kq active)" = 1 ]' 10
ok "kill: the program runs" wait_for '[ -s "$TMPD/kill.pids" ]' 5
kill -9 $(pids kill)
ok "kill: the job fails naming signal 9" \
    wait_for "rcli HGET bull:kq:1 failedReason | grep -q 'killed by signal 9'" 10
job kq 2 ok
ok "kill: the next job runs on a new program" \
    wait_for '[ "$(rcli HGET bull:kq:2 returnvalue)" = "\"fine\"" ]' 10
is "kill: two programs were started" "$(wc -l <"$TMPD/kill.pids" | tr -d ' ')" 2
kill -TERM "$MPID"
master_wait
is "kill: TERM: exit 0" "$MRC" 0

# 3. hanging past job-timeout: the child and the program's group go
prog hang '	*'"'"'"name":"hang"'"'"'*) sleep 300 & echo $! >>"$pidf"; wait ;;'
: >"$MLOG"
master_start -q hq -w 1 -x "pipe:$SH $TMPD/hang.sh $TMPD/hang.pids" \
    --drain-delay 300 --job-timeout 700 --kill-timeout 1000
job hq 1 hang
ok "hang: the job times out" wait_log "job 1 timed out after 700 ms" 10
ok "hang: it is failed as timed out" \
    wait_for '[ "$(rcli HGET bull:hq:1 failedReason)" = "job timed out after 700 ms" ]' 10
ok "hang: the program and its sleep are gone" \
    wait_for "! kill -0 $(pids hang | sed 's/ / 2>\/dev\/null \&\& ! kill -0 /g') 2>/dev/null" 5
job hq 2 ok
ok "hang: the next job runs" \
    wait_for '[ "$(rcli HGET bull:hq:2 returnvalue)" = "\"fine\"" ]' 10
kill -TERM "$MPID"
master_wait

# 4. stderr flood and stdin closed
prog odd '	*'"'"'"name":"flood"'"'"'*) i=0; while [ $i -lt 3000 ]; do echo "noise $i" >&2; i=$((i+1)); done; echo '"'"'{"type":"done"}'"'"' ;;
	*'"'"'"name":"close"'"'"'*) exec 0<&-; echo '"'"'{"type":"done"}'"'"'; sleep 30 ;;'
: >"$MLOG"
master_start -q fq -w 1 -x "pipe:$SH $TMPD/odd.sh $TMPD/odd.pids" \
    --drain-delay 300
job fq 1 flood
ok "flood: the job completes" \
    wait_for '[ "$(rcli HGET bull:fq:1 finishedOn)" != "" ]' 20
ok "flood: stderr lines reach the log with child and job" \
    grep -q 'worker 1: job 1: program: noise 0' "$MLOG"
ok "flood: the log says when it stops logging them" \
    grep -q 'more than 1000 stderr lines' "$MLOG"
for i in 2 3; do
	job fq $i close
	sleep 0.5
done
ok "stdin closed: the job it ended completes" \
    wait_for '[ "$(rcli HGET bull:fq:2 finishedOn)" != "" ]' 10
ok "stdin closed: the next job fails, saying why" \
    wait_for "rcli HGET bull:fq:3 failedReason | grep -q 'does not read its input\|ended before'" 10
job fq 4 ok
ok "stdin closed: then a new program runs the next" \
    wait_for '[ "$(rcli HGET bull:fq:4 returnvalue)" = "\"fine\"" ]' 10
kill -TERM "$MPID"
master_wait

# 5. a program that leaves a daemon holding its stdout, and exits
prog dmn '	*'"'"'"name":"daemon"'"'"'*) sleep 300 & echo $! >>"$pidf"; exit 3 ;;
	*'"'"'"name":"junk"'"'"'*) echo "this is not json" ;;'
: >"$MLOG"
master_start -q dq -w 1 -x "pipe:$SH $TMPD/dmn.sh $TMPD/dmn.pids" \
    --drain-delay 300
job dq 1 daemon
ok "daemon: the job fails with the exit status" \
    wait_for "rcli HGET bull:dq:1 failedReason | grep -q 'exited with status 3'" 10
set -- $(pids dmn)
ok "daemon: what it left behind is killed" wait_for "! kill -0 $2" 5
job dq 2 junk
ok "junk: the job fails naming the line" \
    wait_for "rcli HGET bull:dq:2 failedReason | grep -q 'not the protocol: .*this is not json'" 10
job dq 3 ok
ok "junk: a new program runs the next job" \
    wait_for '[ "$(rcli HGET bull:dq:3 returnvalue)" = "\"fine\"" ]' 10
kill -TERM "$MPID"
master_wait

# 6. the environment: no BULLMQ_ variable but BULLMQ_WORKER
cat >"$TMPD/env.sh" <<'PROG'
env >"$1"
while IFS= read -r line; do
	case $line in
	*'"type":"hello"'*) echo '{"type":"hello","protocol":1}' ;;
	*'"type":"job"'*) echo '{"type":"done"}' ;;
	esac
done
PROG
: >"$MLOG"
BULLMQ_REDIS=$REDIS_URL master_start -q eq -w 1 \
    -x "pipe:$SH $TMPD/env.sh $TMPD/env.out" --drain-delay 300
add_jobs eq 1 1 '{}'
ok "env: the job completes" wait_for '[ "$(count eq completed)" = 1 ]' 10
is "env: the program sees BULLMQ_WORKER only" \
    "$(grep '^BULLMQ_' "$TMPD/env.out")" "BULLMQ_WORKER=1"
kill -TERM "$MPID"
master_wait

# 7. a program that dies at every start: its child exits as a crashing
# child, and the master's restart limit ends the master
cat >"$TMPD/die.sh" <<'PROG'
echo "cannot start" >&2
exit 1
PROG
: >"$MLOG"
master_start -q xq -w 1 -x "pipe:$SH $TMPD/die.sh" --drain-delay 300 \
    --max-restarts 1 --max-seconds 60
add_jobs xq 1 20 '{}'
ok "dying: the child says the program keeps dying" \
    wait_log "the program keeps dying: the worker exits" 30
is "dying: a job fails with the program's stderr" \
    "$(rcli HGET bull:xq:1 failedReason | grep -c 'cannot start')" 1
master_wait 60
ok "dying: the master gives up (restart limit), non-zero" \
    [ "$MRC" != 0 ] && [ "$MRC" != timeout ]
is "dying: no job is left active" "$(count xq active)" 0

# 8. another protocol version: fatal, the child is not restarted
cat >"$TMPD/v2.sh" <<'PROG'
read -r line
echo '{"type":"hello","protocol":2}'
read -r line
PROG
: >"$MLOG"
master_start -q vq -w 1 -x "pipe:$SH $TMPD/v2.sh" --drain-delay 300
add_jobs vq 1 1 '{}'
ok "version: the child names the versions" \
    wait_log "speaks protocol 2, this bullmq-master speaks 1" 10
ok "version: and exits as a fatal error" \
    wait_log "the program cannot be used: the worker exits" 10
master_wait 20
ok "version: the master stops, non-zero" [ "$MRC" != 0 ] && [ "$MRC" != timeout ]

# 10. floods: a line of more than 64 MB on stdout fails its job naming the
# limit, and the child gives the memory back; an endless stream of junk
# fails its job naming the first line; 10 MB of stderr without a newline
# is logged cut (the child neither spins nor blocks the program)
prog flood2 '	*'"'"'"name":"bigline"'"'"'*) head -c 70000000 /dev/zero | tr "\\0" a; echo ;;
	*'"'"'"name":"yes"'"'"'*) yes ;;
	*'"'"'"name":"errline"'"'"'*) head -c 10000000 /dev/zero | tr "\\0" e >&2; echo '"'"'{"type":"done","result":"said"}'"'"' ;;'
: >"$MLOG"
master_start -q oq -w 1 -x "pipe:$SH $TMPD/flood2.sh $TMPD/flood2.pids" \
    --drain-delay 300
job oq 1 bigline
ok "stdout flood: a line over 64 MB fails its job, naming the limit" \
    wait_for "rcli HGET bull:oq:1 failedReason | grep -q 'a line of more than 67108864 bytes'" 30
kid=$(children)
rss=$(ps -o rss= -p "$kid" | tr -d ' ')
echo "# the child's RSS after the flood: $rss KB"
ok "stdout flood: the child gave the memory back (RSS under 20 MB)" \
    test "${rss:-999999}" -lt 20000
job oq 2 yes
ok "stdout flood: endless junk fails its job naming the first line" \
    wait_for "rcli HGET bull:oq:2 failedReason | grep -q 'not the protocol: .*: y\$'" 10
job oq 3 errline
ok "stderr flood: 10 MB without a newline, the job completes" \
    wait_for '[ "$(rcli HGET bull:oq:3 returnvalue)" = "\"said\"" ]' 20
ok "stderr flood: logged cut" grep -q 'bytes without a newline, cut' "$MLOG"
job oq 4 ok
ok "floods: the next job runs" \
    wait_for '[ "$(rcli HGET bull:oq:4 returnvalue)" = "\"fine\"" ]' 10
kill -TERM "$MPID"
master_wait
is "floods: TERM: exit 0" "$MRC" 0

# 11. the child killed by -9 in the middle of a job: the master kills the
# program's group and gives the job back; a new child and program run it
prog once '	*'"'"'"name":"once"'"'"'*) if [ -e "$pidf.ran" ]; then echo '"'"'{"type":"done","result":"again"}'"'"'; else : >"$pidf.ran"; sleep 300; fi ;;'
: >"$MLOG"
master_start -q cq -w 1 -x "pipe:$SH $TMPD/once.sh $TMPD/once.pids" \
    --drain-delay 300
job cq 1 once
ok "child kill: the job runs" wait_for '[ -e "$TMPD/once.pids.ran" ]' 10
kid=$(children)
set -- $(pids once)
kill -9 "$kid"
ok "child kill: the program is gone with its child" \
    wait_for "! kill -0 $1 2>/dev/null" 10
ok "child kill: the master says it killed the program's group" \
    wait_log "killed the process group $1 of its program" 5
ok "child kill: the job is given back and runs again" \
    wait_for '[ "$(rcli HGET bull:cq:1 returnvalue)" = "\"again\"" ]' 15
is "child kill: it is not failed" "$(rcli HGET bull:cq:1 failedReason)" ""
kill -TERM "$MPID"
master_wait
is "child kill: TERM: exit 0" "$MRC" 0

# 9. the Node adapter past job-timeout: the child writes the abort, the
# processor's signal aborts, it cleans up and the program ends before its
# group is killed; the shell program above (3.), which does not read its
# stdin then, is killed after the same short wait
NODE=${NODE:-node}
ok "node is installed (the Node adapter needs it)" command -v "$NODE"
cat >"$TMPD/slow.cjs" <<PROC
const fs = require('fs');
module.exports = (job, token, signal) => new Promise((resolve, reject) => {
	if (job.name !== 'slow')
		return resolve('quick');
	fs.writeFileSync('$TMPD/slow.started', String(process.pid));
	const t = setTimeout(() => resolve('late'), 60000);
	signal.addEventListener('abort', () => {
		clearTimeout(t);
		fs.writeFileSync('$TMPD/slow.aborted', 'aborted ' + job.id);
		reject(new Error('aborted'));
	});
});
PROC
: >"$MLOG"
master_start -q nq -w 1 --drain-delay 300 --job-timeout 1000 \
    --kill-timeout 4000 -x "pipe:$NODE \
$top_srcdir/contrib/processors/node/bullmq-pipe.cjs $TMPD/slow.cjs"
job nq 1 slow
ok "abort: the processor runs" wait_for '[ -s "$TMPD/slow.started" ]' 15
ok "abort: the job times out" wait_log "job 1 timed out after 1000 ms" 10
ok "abort: the processor's signal aborted" \
    wait_for '[ "$(cat "$TMPD/slow.aborted" 2>/dev/null)" = "aborted 1" ]' 5
ok "abort: the program ended" \
    wait_for "! kill -0 $(cat "$TMPD/slow.started") 2>/dev/null" 5
is "abort: the job is failed as timed out" \
    "$(rcli HGET bull:nq:1 failedReason)" "job timed out after 1000 ms"
job nq 2 quick
ok "abort: the next job runs on a new program" \
    wait_for '[ "$(rcli HGET bull:nq:2 returnvalue)" = "\"quick\"" ]' 15
ok "abort: the child died of the master's TERM, not a KILL" \
    sh -c "! grep -q 'did not stop: killing it' '$MLOG'"
kill -TERM "$MPID"
master_wait
is "abort: TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
