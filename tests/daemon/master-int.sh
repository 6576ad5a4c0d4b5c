#!/bin/sh
# bullmq-master: INT kills the children at once (a TERM from the master is a
# death at once for a child) and gives their running jobs back to wait.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q iq -x builtin:sleep -w 2 --drain-delay 300
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
add_jobs iq 1 2 '{"ms":20000}'
ok "2 jobs run" wait_for '[ "$(count iq active)" = 2 ]'
kids=$(children | tr '\n' ' ')
kill -INT "$MPID"
master_wait 5
is "the master exits 0 at once" "$MRC" 0
is "no job is left active" "$(count iq active)" 0
is "both are back in wait" "$(count iq wait)" 2
is "none completed" "$(count iq completed)" 0
ok "the children were killed" \
    sh -c "for p in $kids; do ! kill -0 \$p 2>/dev/null || exit 1; done"
ok "the kills are logged" grep -q "killed by signal 15" "$MLOG"
ok "at once, not by the KILL after kill-timeout" \
    sh -c "! grep -q 'did not stop' '$MLOG'"
[ "$T_FAIL" -eq 0 ] || show_log
finish
