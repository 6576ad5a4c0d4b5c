#!/bin/sh
# bullmq-master: the lock of a job with a long id is kept under its whole id,
# so that the job runs once; an id longer than the master's limit (3072
# bytes) fails that job at once, unrecoverably, with a reason naming it.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

A=$(long_id 300 a)
B=$(long_id 3073 b)
C=$(long_id 3072 c)

# Queued in this order, one child: B and C are fetched while finishing the
# job before them, so that they come to the master as the next job.
node_add lq "$A" n '{"ms":4500}' '{"attempts":1}'
node_add lq "$B" n '{"ms":10}' '{"attempts":3}'
node_add lq "$C" n '{"ms":3000}' '{"attempts":1}'
master_start -q lq -x builtin:sleep -w 1 --drain-delay 300 \
    --lock-duration 2000 --stalled-interval 500
ok "two jobs complete" wait_for '[ "$(count lq completed)" = 2 ]' 20
ok "one job fails" wait_for '[ "$(count lq failed)" = 1 ]' 5

ok "the 300-byte id completed" test -n "$(rcli ZSCORE bull:lq:completed "$A")"
is "it ran once" "$(rcli HGET "bull:lq:$A" atm)" 1
is "it never stalled" "$(rcli HEXISTS "bull:lq:$A" stc)" 0
ok "the 3072-byte id completed" test -n "$(rcli ZSCORE bull:lq:completed "$C")"
is "it ran once" "$(rcli HGET "bull:lq:$C" atm)" 1
is "it never stalled" "$(rcli HEXISTS "bull:lq:$C" stc)" 0
ok "no lock was lost" eval "! grep -q 'lost its lock' '$MLOG'"
ok "nothing was recovered as stalled" eval "! grep -q 'stalled: recovered' '$MLOG'"

ok "the 3073-byte id failed" test -n "$(rcli ZSCORE bull:lq:failed "$B")"
is "the reason names the limit" "$(rcli HGET "bull:lq:$B" failedReason)" \
    "job id longer than 3072 bytes, the longest bullmq-master keeps a lock for"
is "it was not retried" "$(rcli HGET "bull:lq:$B" atm)" 1
ok "the master warns" \
    wait_log "(id of 3073 bytes): failing it, ids longer than 3072 bytes"
is "nothing is left active" "$(count lq active)" 0
is "nothing is left waiting" "$(count lq wait)" 0

node_add lq short n '{"ms":10}'
ok "the child goes on with other jobs" \
    wait_for '[ "$(count lq completed)" = 3 ]' 5
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

# A job of the longest id that runs past job-timeout is failed as timed out.
D=$(long_id 3072 d)
node_add lq "$D" n '{"ms":20000}' '{"attempts":1}'
master_start -q lq -x builtin:sleep -w 1 --drain-delay 300 \
    --job-timeout 500 --kill-timeout 1000
ok "the job of the longest id fails" wait_for '[ "$(count lq failed)" = 2 ]' 5
is "as timed out" "$(rcli HGET "bull:lq:$D" failedReason)" \
    "job timed out after 500 ms"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log | cut -c 1-200
finish
