#!/bin/sh
# bullmq-master --autoscale MIN,MAX: a backlog grows the children up to MAX,
# idle children go after autoscale-idle down to MIN, each decision logged
# and counted; scale is kept within the bounds; the stopped children count
# no restart (max-restarts 0 would stop the master at the first).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
CS=$TMPD/ctl.sock

ctl() {
	"$BULLMQ_MASTER" "$@" -q aq -s "$CS"
}

master_start -q aq -x builtin:sleep -w 1 --drain-delay 300 -s "$CS" \
    --autoscale 1,4 --autoscale-idle 2 --autoscale-wait 500 \
    --max-restarts 0
ok "1 child at start" wait_for '[ "$(nchildren)" = 1 ] && ctl health'
sleep 3
is "no backlog: still 1" "$(nchildren)" 1
add_jobs aq 1 24 '{"ms":1000}'
ok "a backlog: up to 4 children" wait_for '[ "$(nchildren)" = 4 ]' 8
ok "logged" grep -q "autoscale: jobs wait (.*): 1 -> 2 workers" "$MLOG"
sleep 1
is "never more than 4" "$(nchildren)" 4
ok "the jobs are done" wait_for '[ "$(count aq completed)" = 24 ]' 20
ok "idle: down to 1" wait_for '[ "$(nchildren)" = 1 ]' 10
ok "logged" grep -q "autoscale: children idle (.*): 4 -> 1 workers" "$MLOG"
ok "counted in the status" \
    sh -c "'$BULLMQ_MASTER' status -q aq -s '$CS' |
    grep -q 'children: 24 completed, 0 failed, 0 restarts, .*autoscale 1..4: [1-9][0-9]* up, [1-9][0-9]* down'"
is "scale 9: kept within 4" "$(ctl scale 9)" "ok: 4 workers"
is "scale 0: kept within 1" "$(ctl scale 0)" "ok: 1 workers"
ok "the master runs (no restart counted)" kill -0 "$MPID"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
