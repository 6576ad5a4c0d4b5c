#!/bin/sh
# bullmq-master: QUIT is a graceful stop like TERM: the running job
# completes, nothing more is fetched, the master exits 0.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q qq -x builtin:sleep -w 1 --drain-delay 300
ok "1 child" wait_for '[ "$(nchildren)" = 1 ]'
add_jobs qq 1 2 '{"ms":1500}'
ok "a job runs" wait_for '[ "$(count qq active)" = 1 ]'
kid=$(children)
kill -QUIT "$MPID"
master_wait 10
is "the master exits 0" "$MRC" 0
ok "the stop is graceful" grep -q "graceful shutdown" "$MLOG"
is "the running job completed" "$(count qq completed)" 1
is "it has no stall count" "$(rcli HEXISTS bull:qq:1 stc)" 0
is "the other still waits" "$(count qq wait)" 1
ok "no child was killed" sh -c "! grep -q 'killed by signal' '$MLOG'"
ok "no child is left" sh -c "! kill -0 $kid 2>/dev/null"
[ "$T_FAIL" -eq 0 ] || show_log
finish
