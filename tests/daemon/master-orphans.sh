#!/bin/sh
# bullmq-master: when the master is killed with -9 its children see the
# lifeline close: the busy one finishes its job, then every child exits;
# one whose pipe: program hangs stops it after lock-duration.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q mq -x builtin:sleep -w 2 --drain-delay 300
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
add_jobs mq 1 1 '{"ms":1500}'
ok "a job runs" wait_for '[ "$(count mq active)" = 1 ]'
kids=$(children | tr '\n' ' ')
kill -9 "$MPID"
sleep 0.2
ok "the children outlive the master for the job" \
    sh -c "for p in $kids; do kill -0 \$p 2>/dev/null && exit 0; done; exit 1"
ok "the job completes" wait_for '[ "$(count mq completed)" = 1 ]' 5
ok "no child is left behind" \
    wait_for "sh -c 'for p in $kids; do ! kill -0 \$p || exit 1; done'" 5
is "nothing is left active" "$(count mq active)" 0

# A pipe: program that hangs, no job-timeout: once the master is gone for
# lock-duration (nobody extends the job's lock or enforces a timeout), the
# child stops the program and exits instead of waiting for ever.
cat >"$TMPD/hang.sh" <<'PROG'
echo $$ >"$1"
while IFS= read -r line; do
	case $line in
	*'"type":"hello"'*) echo '{"type":"hello","protocol":1}' ;;
	*'"type":"job"'*) sleep 300 ;;
	esac
done
PROG
: >"$MLOG"
master_start -q hq -x "pipe:$(command -v sh) $TMPD/hang.sh $TMPD/hang.pid" \
    -w 1 --drain-delay 300 --lock-duration 1500
add_jobs hq 1 1 '{}'
ok "pipe: the job runs" wait_for '[ "$(count hq active)" = 1 ] &&
    [ -s "$TMPD/hang.pid" ]' 10
kid=$(children)
prog=$(cat "$TMPD/hang.pid")
track "$kid"
track "$prog"
kill -9 "$MPID"
sleep 0.5
ok "pipe: the child outlives the master for a while" kill -0 "$kid"
ok "pipe: the child and its program are gone after lock-duration" \
    wait_for "! kill -0 $kid 2>/dev/null && ! kill -0 $prog 2>/dev/null" 10
ok "pipe: the child said why" \
    grep -q "the master is gone and the job's lock expired" "$MLOG"
why=$(rcli HGET bull:hq:1 failedReason)
echo "# the job: failedReason '$why', $(count hq active) active"
# the program leads a process group of its own: what a failed run left
kill -KILL -- "-$prog" "$kid" 2>/dev/null
lost="its worker lost its master and the job's lock (lock-duration 1500 ms)"
ok "pipe: the job is not lost: failed with the reason, or left active" \
    test "$why" = "$lost" -o "$(count hq active)" = 1
[ "$T_FAIL" -eq 0 ] || show_log
finish
