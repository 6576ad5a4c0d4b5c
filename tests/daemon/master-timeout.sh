#!/bin/sh
# bullmq-master: a job running past job-timeout is failed as timed out (and
# retried while attempts remain), its child killed and replaced.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q oq -x builtin:sleep -w 1 --drain-delay 300 \
    --job-timeout 500 --kill-timeout 1000
ok "1 child" wait_for '[ "$(nchildren)" = 1 ]'
add_jobs oq 1 1 '{"ms":20000}' '{"attempts":2}'
ok "the timeout is logged" wait_log "job 1 timed out after 500 ms" 5
ok "the child is killed by TERM" wait_log "killed by signal 15" 5
ok "at once, not by the KILL after kill-timeout" \
    sh -c "! grep -q 'did not stop' '$MLOG'"
ok "the job is retried" wait_for '[ "$(rcli HGET bull:oq:1 ats)" = 2 ]' 5
ok "the second attempt fails for good" \
    wait_for '[ "$(count oq failed)" = 1 ]' 5
is "the reason is the timeout" "$(rcli HGET bull:oq:1 failedReason)" \
    "job timed out after 500 ms"
is "2 attempts were made" "$(rcli HGET bull:oq:1 atm)" 2
is "nothing is left active" "$(count oq active)" 0
ok "a new child takes the place" wait_for '[ "$(nchildren)" = 1 ]'

add_jobs oq 2 2 '{"ms":100}'
ok "a short job still completes" wait_for '[ "$(count oq completed)" = 1 ]'
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

# A job that ends as it times out: its child may fetch the next job and
# tell the master after the master chose to kill it (here the kill comes
# 1.5 s late, by libslowcalls.so).  That job is given back when the child
# dies, not left active until its lock expires (30 s).
SLOW=$top_builddir/tests/daemon/.libs/libslowcalls.so
ok "libslowcalls.so is built" test -f "$SLOW"
: >"$MLOG"
add_jobs lq 1 1 '{"ms":1000}'
add_jobs lq 2 2 '{"ms":3000}'
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    SLOW_TERM_MS=1500 LD_PRELOAD=$SLOW master_start -q lq -x builtin:sleep \
    -w 1 --drain-delay 300 --job-timeout 500 --kill-timeout 5000 \
    --stalled-interval 60000
ok "late kill: job 1 times out" wait_log "job 1 timed out after 500 ms" 5
ok "late kill: its child completes it, and takes job 2" \
    wait_for '[ "$(rcli LINDEX bull:lq:active 0)" = 2 ]' 5
ok "late kill: the child is killed" wait_log "killed by signal 15" 5
ok "late kill: job 2 is given back" wait_log "job 2 of child 1 .* given back" 5
ok "late kill: and runs again (its own timeout fails it)" \
    wait_for '[ "$(rcli HGET bull:lq:2 failedReason)" = "job timed out after 500 ms" ]' 8
is "late kill: job 1 completed, job 2 failed, none active" \
    "$(count lq completed) $(count lq failed) $(count lq active)" "1 1 0"
kill -TERM "$MPID"
master_wait
is "late kill: TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
