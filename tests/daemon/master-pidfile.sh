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
[ "$T_FAIL" -eq 0 ] || show_log
finish
