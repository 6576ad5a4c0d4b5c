#!/bin/sh
# bullmq-master --user: the children drop privileges, the master keeps them.
# Run as root, the children run as nobody and process jobs.  A master that
# is not root cannot drop to root: each child exits 2 (fatal
# configuration), is not restarted, and the master gives up with exit 1
# (run as nobody with setpriv when the test runs as root).
REDIS_ARGS="--unixsocketperm 777"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
chmod 755 "$TMPD"

if [ "$(id -u)" = 0 ]; then
	master_start -q uq -x builtin:echo -w 2 --drain-delay 300 \
	    --user nobody
	ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
	for c in $(children); do
		is "child $c runs as nobody" "$(ps -o user= -p "$c")" nobody
	done
	is "the master stays root" "$(ps -o user= -p "$MPID")" root
	add_jobs uq 1 5 '{"u":1}'
	ok "the children process jobs" \
	    wait_for '[ "$(count uq completed)" = 5 ]'
	kill -TERM "$MPID"
	master_wait
	is "TERM: exit 0" "$MRC" 0
	: >"$MLOG"
	chmod 666 "$MLOG"
	AS_OTHER="setpriv --reuid=65534 --regid=65534 --clear-groups"
	# nobody may not reach the build tree: run a copy.
	cp "$BULLMQ_MASTER" "$TMPD/bullmq-master"
	chmod 755 "$TMPD/bullmq-master"
	BULLMQ_MASTER=$TMPD/bullmq-master
else
	AS_OTHER=
fi
$AS_OTHER "$BULLMQ_MASTER" -r "$REDIS_URL" -q uq -x builtin:echo -w 2 \
    --drain-delay 300 --user 0 >>"$MLOG" 2>&1 &
MPID=$!
track "$MPID"
master_wait 10
is "a master that cannot drop to root gives up with exit 1" "$MRC" 1
ok "its children exit 2" sh -c "[ \$(grep -c 'exited 2' '$MLOG') = 2 ]"
ok "and are not restarted" grep -q "not restarted" "$MLOG"
ok "the reason is logged" grep -q "user 0: Operation not permitted" "$MLOG"
[ "$T_FAIL" -eq 0 ] || show_log
finish
