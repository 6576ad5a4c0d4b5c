#!/bin/sh
# bullmq-master health: with Redis stopped (SIGSTOP, a hung server that
# accepts and never answers) the master's calls wait master-redis-timeout
# at most, so status still answers within about a second, readiness fails
# and liveness stays 0; once Redis runs again readiness comes back.  A
# Redis that is gone fails readiness too.  master-redis-timeout 300: the
# master's calls give up after 300 ms, the status answers within 1 s.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
CS=$TMPD/ctl.sock

ctl() {
	"$BULLMQ_MASTER" "$@" -q hq -s "$CS"
}

# Milliseconds a status takes; fails when it does not answer.
timed_status() {
	t0=$(date +%s%N)
	ctl status >/dev/null 2>&1 || return 1
	echo $((($(date +%s%N) - t0) / 1000000))
}

master_start -q hq -x builtin:sleep -w 2 --drain-delay 300 -s "$CS" \
    --lock-duration 2000 --stalled-interval 1000 --master-redis-timeout 300
ok "ready" wait_for 'ctl health ready'
is "live" "$(ctl health live)" "ok: the master's loop answers"
add_jobs hq 1 1 '{"ms":4000}'
ok "a child runs a job (its lock is kept)" \
    wait_for '[ "$(count hq active)" = 1 ]'

kill -STOP "$REDIS_PID"
slow=0
n=0
while [ $n -lt 12 ]; do
	ms=$(timed_status) || ms=99999
	[ "$ms" -gt 1000 ] && slow=$((slow + 1)) && echo "# status took $ms ms"
	n=$((n + 1))
	sleep 0.25
done
is "Redis hung: each status answers within 1 s" "$slow" 0
ok "the master's calls gave up after master-redis-timeout" \
    grep -q "bullmq-master\[$MPID\]: warning: .*: redis: no answer within 300 ms" "$MLOG"
ok "readiness fails" wait_for '! ctl health ready' 5
out=$(ctl health ready)
is "it says why" "$out" "fail: redis does not answer"
n=0
live=0
while [ $n -lt 8 ]; do
	ctl health live >/dev/null 2>&1 || live=$((live + 1))
	n=$((n + 1))
	sleep 0.25
done
is "liveness stays 0" "$live" 0
ok "status says redis is down" \
    sh -c "'$BULLMQ_MASTER' status -q hq -s '$CS' | grep -q '^redis: down'"
kill -TTIN "$MPID"
ok "signals are obeyed: TTIN" wait_for '[ "$(nchildren)" = 3 ]' 5
kill -CONT "$REDIS_PID"
ok "Redis back: ready again" wait_for 'ctl health ready' 15
ok "logged" wait_log "redis answers again"

redis_stop
ok "Redis gone: readiness fails" wait_for '! ctl health ready' 10
is "liveness 0" "$(ctl health live >/dev/null 2>&1; echo $?)" 0
kill -INT "$MPID"
master_wait 20
is "INT: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
