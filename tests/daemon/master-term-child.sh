#!/bin/sh
# bullmq-master: TERM to one child (kill CHILDPID) lets it finish its job
# and exit 0; the master replaces it, counts no restart, and keeps running.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

# max-restarts 0: a stop counted as a crash would make the master give up.
master_start -q tc -x builtin:sleep -w 2 --drain-delay 300 --max-restarts 0
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
add_jobs tc 1 1 '{"ms":2000}'
ok "a child runs the job" wait_for '[ "$(count tc active)" = 1 ]'
victim=$(busy_child 1)
ok "the busy child shows the job in its title" test -n "$victim"
kill -TERM "$victim"
sleep 0.5
ok "it is still running its job half a second later" kill -0 "$victim"
ok "the job completes" wait_for '[ "$(count tc completed)" = 1 ]' 5
ok "the child exits 0" wait_log "(pid $victim) exited 0"
ok "its stop is logged" grep -q "worker .*: TERM from pid" "$MLOG"
is "the job has no stall count" "$(rcli HEXISTS bull:tc:1 stc)" 0
is "it was started once" "$(rcli HGET bull:tc:1 ats)" 1
ok "the child is replaced" wait_for '[ "$(nchildren)" = 2 ] &&
    ! children | grep -qx "$victim"'
ok "the master keeps running" kill -0 "$MPID"
ok "no giving up" sh -c "! grep -q 'giving up' '$MLOG'"

# An idle child leaves too, within its drain-delay.
idle=$(children | head -n 1)
kill -TERM "$idle"
ok "an idle child exits 0 on TERM" wait_log "(pid $idle) exited 0" 3
ok "and is replaced" wait_for '[ "$(nchildren)" = 2 ] &&
    ! children | grep -qx "$idle"'
add_jobs tc 2 2 '{"ms":10}'
ok "the new children run jobs" wait_for '[ "$(count tc completed)" = 2 ]'

kill -TERM "$MPID"
master_wait
is "TERM to the master: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
