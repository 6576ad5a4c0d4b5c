#!/bin/sh
# bullmq-master: a wait entry whose job hash is gone (removed by hand, or
# written by a broken producer) is dropped from active with a warning that
# names it; the jobs around it complete and the child goes on.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

add_jobs gq 1 1 '{}'
rcli LPUSH bull:gq:wait ghost >/dev/null
add_jobs gq 2 2 '{}'
master_start -q gq -x builtin:noop -w 1 --drain-delay 300
ok "the jobs around it complete" wait_for '[ "$(count gq completed)" = 2 ]'
ok "the entry is named in a warning" \
    wait_log "warning: worker 1: complete job ghost: job does not exist; dropped from active"
is "it is in no list" "$(count gq wait)$(count gq active)" 00
is "no hash is left for it" "$(rcli EXISTS bull:gq:ghost)" 0
is "nor a lock" "$(rcli EXISTS bull:gq:ghost:lock)" 0
ok "the child goes on" kill -0 "$MPID"
add_jobs gq 3 3 '{}'
ok "and runs the next job" wait_for '[ "$(count gq completed)" = 3 ]'
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
