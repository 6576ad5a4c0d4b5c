#!/bin/sh
# bullmq-master: the pidfile holds the master's pid; a second master on the
# same pidfile refuses and names the pid holding it.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
PF=$TMPD/master.pid

master_start -q pq -x builtin:noop -w 1 --drain-delay 300 -p "$PF"
ok "the pidfile holds the master's pid" \
    wait_for '[ "$(cat "$PF" 2>/dev/null)" = "$MPID" ]'
out=$("$BULLMQ_MASTER" -r "$REDIS_URL" -q pq -x builtin:noop -w 1 -p "$PF" 2>&1)
is "a second master exits 1" "$?" 1
is "and names the pid holding the pidfile" "$out" \
    "bullmq-master: pidfile $PF is held by pid $MPID: another master runs"
ok "the first master is untouched" kill -0 "$MPID"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
ok "the pidfile is removed" test ! -e "$PF"
# --daemon: the launcher returns at once, the master lives on detached.
"$BULLMQ_MASTER" -r "$REDIS_URL" -q pq -x builtin:echo -w 1 \
    --drain-delay 300 -D -p "$PF" >>"$MLOG" 2>&1
is "--daemon returns 0 at once" "$?" 0
ok "the detached master writes its pidfile" wait_for '[ -s "$PF" ]'
DPID=$(cat "$PF")
track "$DPID"
ok "it runs in a session of its own" \
    sh -c "[ \"\$(ps -o sid= -p $DPID | tr -d ' ')\" = $DPID ]"
add_jobs pq 1 1 '{"d":1}'
ok "and its child processes jobs" \
    wait_for '[ "$(rcli HGET bull:pq:1 returnvalue)" = "{\"d\":1}" ]'
kill -TERM "$DPID"
ok "TERM stops it" wait_gone "$DPID"
ok "and removes the pidfile" wait_for '[ ! -e "$PF" ]'
[ "$T_FAIL" -eq 0 ] || show_log
finish
