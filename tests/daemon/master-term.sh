#!/bin/sh
# bullmq-master: TERM during 2-second jobs lets them all complete, fetches
# nothing more, and exits 0; graceful-timeout bounds the wait.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q gq -x builtin:sleep -w 3 --drain-delay 300
ok "3 children" wait_for '[ "$(nchildren)" = 3 ]'
add_jobs gq 1 5 '{"ms":2000}'
ok "3 jobs run" wait_for '[ "$(count gq active)" = 3 ]'
ok "a busy child shows its job's age in its title" \
    wait_for "ps -o args= --ppid $MPID | grep -q 'worker [0-9] gq job [0-9]* ([0-9]*\.[0-9] s)'" 3
kids=$(children | tr '\n' ' ')
kill -TERM "$MPID"
master_wait 10
is "the master exits 0" "$MRC" 0
is "the 3 running jobs completed" "$(count gq completed)" 3
is "no job is left active" "$(count gq active)" 0
is "the 2 others still wait" "$(count gq wait)" 2
ok "no child is left" sh -c "for p in $kids; do ! kill -0 \$p 2>/dev/null || exit 1; done"

# A job longer than graceful-timeout is killed and given back.
: >"$MLOG"
master_start -q gq -x builtin:sleep -w 1 --drain-delay 300 \
    --graceful-timeout 500
ok "a 2-second job runs with graceful-timeout 500" wait_for '[ "$(count gq active)" = 1 ]'
kill -TERM "$MPID"
master_wait 10
is "past graceful-timeout the master still exits 0" "$MRC" 0
ok "the kill is logged" grep -q "graceful-timeout: killing 1 children" "$MLOG"
is "the job was given back" "$(count gq active)" 0
is "to wait" "$(count gq wait)" 2
[ "$T_FAIL" -eq 0 ] || show_log
finish
