#!/bin/sh
# bullmq-master with a Redis that stops answering (SIGSTOP): the master's
# calls give up after their timeout with a message that says so, and TERM
# waits out that timeout once, not once for every idle child it wakes;
# the children blocked on the silent server are killed at graceful-timeout.
# The give-back of a job whose child died meanwhile waits in the master's
# list until Redis answers.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q hq -x builtin:noop -w 4 --drain-delay 1000 \
    --graceful-timeout 2000
ok "4 children at start" wait_for '[ "$(nchildren)" = 4 ]'
sleep 0.5
kill -STOP "$REDIS_PID"
t0=$(date +%s)
kill -TERM "$MPID"
ok "TERM: the master stops" wait_gone "$MPID" 40
t1=$(date +%s)
kill -CONT "$REDIS_PID"
wait "$MPID"
is "with exit 0" "$?" 0
ok "the timeout is named as one" \
    grep -q "client unblock: redis: no answer within 10000 ms" "$MLOG"
ok "waited out once, not for each of the 4 children: within one timeout and graceful-timeout ($((t1 - t0)) s)" \
    test $((t1 - t0)) -le 20
ok "the children blocked on Redis were killed at graceful-timeout" \
    grep -q "graceful-timeout: killing 4 children" "$MLOG"

# A child that dies holding a job while Redis does not answer: the give-back
# waits in the master's list and is made once Redis answers again.
: >"$MLOG"
add_jobs hq 1 1 '{"ms":3000}'
master_start -q hq -x builtin:sleep -w 1 --drain-delay 1000 \
    --lock-duration 60000 --stalled-interval 60000
ok "the job runs" wait_for '[ "$(count hq active)" = 1 ]'
kid=$(children)
kill -STOP "$REDIS_PID"
kill -KILL "$kid"
ok "the give-back waits for Redis, saying why" \
    wait_for "grep -q 'give back: redis: no answer within 10000 ms' '$MLOG'" 15
sleep 1
kill -CONT "$REDIS_PID"
ok "and is made when it answers: the job completes" \
    wait_for '[ "$(count hq completed)" = 1 ]' 20
is "once given back, as a stall" "$(rcli HGET bull:hq:1 stc)" 1
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
