#!/bin/sh
# bullmq-master: a child killed with -9 in the middle of a job: the master
# logs why, gives the job back at once and another child completes it.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q kq -x builtin:sleep -w 2 --drain-delay 300 \
    --lock-duration 30000 --stalled-interval 30000
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
add_jobs kq 1 1 '{"ms":1000}'
ok "a child runs the job" wait_for '[ "$(count kq active)" = 1 ]'
victim=$(busy_child 1)
ok "the busy child shows the job in its title" test -n "$victim"
kill -9 "$victim"
ok "the job is back within one second" \
    wait_for '[ "$(rcli HGET bull:kq:1 ats)" = 2 ] || [ "$(count kq wait)" = 1 ]' 1
ok "the death is logged with its reason" \
    wait_log "(pid $victim) killed by signal 9"
ok "the give-back is logged" wait_log "job 1 of child .* given back"
ok "another child completes it" wait_for '[ "$(count kq completed)" = 1 ]'
is "it was started twice" "$(rcli HGET bull:kq:1 ats)" 2
ok "the dead child is replaced" wait_for '[ "$(nchildren)" = 2 ]'

kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
