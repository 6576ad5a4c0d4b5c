#!/bin/sh
# bullmq-master: Redis restarts in the middle of a drain: the children say
# they wait for Redis, retry with back-off and no job is lost.
REDIS_ARGS="--appendonly yes --appendfsync always"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
N=300

add_jobs rq 1 $N '{"ms":20}'
master_start -q rq -x builtin:sleep -w 4 --drain-delay 300 \
    --lock-duration 2000 --stalled-interval 1000 --max-stalled-count 5
ok "the drain starts" wait_for '[ "$(count rq completed)" -ge 40 ]'
redis_stop
ok "the children wait for redis" \
    wait_for "ps -eo args | grep -q '[w]orker .* rq waiting for redis'" 5
ok "and say so in the log" wait_log "worker .*: redis .*retrying in" 5
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
