#!/bin/sh
# The control socket's auto path, found by the client from the queue's
# name alone: under $XDG_RUNTIME_DIR/bullmq-master/ for a user who has one,
# else /tmp/bullmq-master-UID/ (and /run/bullmq-master/ as root, which the
# test leaves alone); a directory others may write is refused, the master
# running on without a socket; a second master of the queue finds the
# first listening and runs without one; none opens none.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
REDIS_ARGS="--unixsocketperm 777"
redis_start
unset BULLMQ_CONTROL_SOCKET
Q=auto$$
XDG=$TMPD/xdg

if [ "$(id -u)" = 0 ]; then
	chmod 755 "$TMPD"
	chmod 666 "$MLOG"
	mkdir -m 700 "$XDG"
	chown 65534:65534 "$XDG"
	cp "$BULLMQ_MASTER" "$TMPD/bullmq-master"
	chmod 755 "$TMPD/bullmq-master"
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	M="$TMPD/bullmq-master"
else
	mkdir -m 700 "$XDG"
	AS=
	M=$BULLMQ_MASTER
fi
UID_AS=$($AS id -u)
SOCK=$XDG/bullmq-master/$Q.sock

start() {
	$AS env "$@" "$M" -r "$REDIS_URL" -q "$Q" -x builtin:noop -w 1 \
	    --drain-delay 300 >>"$MLOG" 2>&1 &
	MPID=$!
	track "$MPID"
}

start XDG_RUNTIME_DIR="$XDG"
ok "under XDG_RUNTIME_DIR" wait_for "[ -S '$SOCK' ]"
is "the directory is 0700" "$(stat -c %a "$XDG/bullmq-master")" 700
ok "the client finds it from the queue's name" \
    wait_for "$AS env XDG_RUNTIME_DIR='$XDG' '$M' health -q $Q"
first=$MPID
start XDG_RUNTIME_DIR="$XDG"
ok "a second master finds the first listening" \
    wait_log "control socket $SOCK: another master listens there"
ok "and runs on" kill -0 "$MPID"
is "the first still answers" "$($AS env XDG_RUNTIME_DIR="$XDG" "$M" \
    status --json -q $Q | sed 's/^{"queue":"[^"]*","pid":\([0-9]*\),.*/\1/')" "$first"
kill -TERM "$MPID" "$first"
wait_gone "$first"
ok "the first removes its socket" test ! -e "$SOCK"

# without XDG_RUNTIME_DIR: /tmp/bullmq-master-UID
TSOCK=/tmp/bullmq-master-$UID_AS/$Q.sock
start -u XDG_RUNTIME_DIR
ok "without XDG_RUNTIME_DIR: under /tmp/bullmq-master-$UID_AS" \
    wait_for "[ -S '$TSOCK' ]"
ok "found" wait_for "$AS env -u XDG_RUNTIME_DIR '$M' health live -q $Q"
kill -TERM "$MPID"
wait_gone "$MPID"
ok "removed" test ! -e "$TSOCK"
rmdir "/tmp/bullmq-master-$UID_AS" 2>/dev/null

# a directory others may write
: >"$MLOG"
chmod 777 "$XDG/bullmq-master"
start XDG_RUNTIME_DIR="$XDG"
ok "a directory others may write is refused" \
    wait_log "control socket directory $XDG/bullmq-master is not a directory of uid $UID_AS that only it may write"
ok "the master runs without a socket" \
    sh -c "kill -0 $MPID && [ ! -e '$SOCK' ]"
kill -TERM "$MPID"
wait_gone "$MPID"

: >"$MLOG"
start XDG_RUNTIME_DIR="$XDG" BULLMQ_CONTROL_SOCKET=none
ok "none: the master starts" wait_log "child 1 (pid [0-9]*) started"
ok "without a socket, saying nothing of it" \
    sh -c "! grep -q 'control socket' '$MLOG'"
$AS env XDG_RUNTIME_DIR="$XDG" BULLMQ_CONTROL_SOCKET=none "$M" status \
    -q $Q >/dev/null 2>&1
is "the client says there is none: exit 1" "$?" 1
kill -TERM "$MPID"
wait_gone "$MPID"
[ "$T_FAIL" -eq 0 ] || show_log
finish
