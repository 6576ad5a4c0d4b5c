#!/bin/sh
# bullmq-master: started before Redis, and Redis restarted in the middle of
# a drain: the children say they wait for Redis, retry with back-off, and
# no job is lost.
REDIS_ARGS="--appendonly yes --appendfsync always"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
N=300

REDIS_URL=unix://$TMPD/redis.sock
master_start -q rq -x builtin:sleep -w 4 --drain-delay 300 \
    --lock-duration 2000 --stalled-interval 1000 --max-stalled-count 5
ok "started before Redis, the children wait for it" \
    wait_for '[ "$(ps -o args= --ppid $MPID | grep -c "rq waiting for redis")" = 4 ]'
redis_start
add_jobs rq 1 $N '{"ms":20}'
ok "the drain starts" wait_for '[ "$(count rq completed)" -ge 40 ]'
said=$(grep -c "retrying in" "$MLOG")
redis_stop
ok "the children wait for redis" \
    wait_for 'ps -o args= --ppid $MPID | grep -q "rq waiting for redis"' 5
ok "and say so in the log" \
    wait_for '[ "$(grep -c "worker .*: redis .*retrying in" "$MLOG")" -gt '$said' ]' 5
sleep 0.5
redis_start
ok "after the restart every job completes" \
    wait_for '[ "$(count rq completed)" = '$N' ]' 30
is "none is left active" "$(count rq active)" 0
is "none is left waiting" "$(count rq wait)" 0
is "none failed" "$(count rq failed)" 0
ok "the children said they reconnected" wait_log "connected to redis again"
is "the master kept its children" "$(nchildren)" 4
ok "a Redis outage is no crash" sh -c "! grep -q 'killed by signal\|giving up' '$MLOG'"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
