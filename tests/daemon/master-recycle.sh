#!/bin/sh
# bullmq-master: max-jobs-per-child replaces a child between jobs, which is
# no crash: no job is lost and the master does not back off or give up.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

add_jobs yq 1 60 '{}'
master_start -q yq -x builtin:noop -w 2 --drain-delay 300 \
    --max-jobs-per-child 5 --max-restarts 0
ok "every job completes" wait_for '[ "$(count yq completed)" = 60 ]'
ok "children are recycled" \
    wait_for "[ \$(grep -c 'recycled after' '$MLOG') -ge 6 ]"
ok "with jitter: after 5 or 6 jobs" \
    sh -c "! grep 'recycled after' '$MLOG' | grep -qv 'after [56] jobs'"
is "nothing is left active" "$(count yq active)" 0
ok "a recycled child exits 0" grep -q "exited 0" "$MLOG"
ok "which is no warning" sh -c "! grep -q 'warning: .*exited 0' '$MLOG'"
ok "2 children are kept" wait_for '[ "$(nchildren)" = 2 ]'
ok "the master still runs (max-restarts 0 would have stopped it)" \
    kill -0 "$MPID"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log

# The largest value the setting takes: the random part must not wrap the
# count round to a negative one, which recycled a child after every job.
: >"$MLOG"
add_jobs yq 61 80 '{}'
master_start -q yq -x builtin:noop -w 1 --drain-delay 300 \
    --max-jobs-per-child 9223372036854775807
ok "max-jobs-per-child 2^63-1: every job completes" \
    wait_for '[ "$(count yq completed)" = 80 ]'
is "and no child is recycled" "$(grep -c 'recycled after' "$MLOG")" 0
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
