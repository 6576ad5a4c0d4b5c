#!/bin/sh
# bullmq-master: when the master is killed with -9 its children see the
# lifeline close: the busy one finishes its job, then every child exits.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q mq -x builtin:sleep -w 2 --drain-delay 300
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
add_jobs mq 1 1 '{"ms":1500}'
ok "a job runs" wait_for '[ "$(count mq active)" = 1 ]'
kids=$(children | tr '\n' ' ')
kill -9 "$MPID"
sleep 0.2
ok "the children outlive the master for the job" \
    sh -c "for p in $kids; do kill -0 \$p 2>/dev/null && exit 0; done; exit 1"
ok "the job completes" wait_for '[ "$(count mq completed)" = 1 ]' 5
ok "no child is left behind" \
    wait_for "sh -c 'for p in $kids; do ! kill -0 \$p || exit 1; done'" 5
is "nothing is left active" "$(count mq active)" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
