#!/bin/sh
# bullmq-master under systemd's Type=notify, without systemd: the test
# listens on a NOTIFY_SOCKET of its own (a unix datagram socket) and reads
# READY=1 once both children have connected, a STATUS= line, WATCHDOG=1
# with WATCHDOG_USEC set, RELOADING=1 with MONOTONIC_USEC and READY=1 again
# on HUP, STOPPING=1 on TERM; with Redis down at boot READY=1 still comes,
# and STATUS says Redis does not answer; the children and their programs
# do not see NOTIFY_SOCKET.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 77; }
"$BULLMQ_MASTER" --version >/dev/null
grep -q -- '-DHAVE_SYSTEMD=1' "$top_builddir/Makefile" ||
    { echo "1..0 # SKIP built without libsystemd"; exit 77; }
redis_start

# listen SOCK OUT: each datagram on the unix socket SOCK, as one line of OUT
# with its newlines as "|"
listen() {
	python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as f:
    while True:
        try:
            m = s.recv(4096)
        except socket.timeout:
            break
        f.write(m.decode().replace("\n", "|") + "\n")
        f.flush()
PY
	track $!
	wait_for "[ -S '$1' ]" 5
}

N=$TMPD/notify.out
listen "$TMPD/notify" "$N"
NOTIFY_SOCKET=$TMPD/notify WATCHDOG_USEC=400000 \
    master_start -q nq -x builtin:noop -w 2 --drain-delay 300
ok "READY=1" wait_for "grep -qx 'READY=1' '$N'" 10
ok "after both children connected" sh -c "sed -n '1,/^READY=1\$/p' '$N' |
    grep -q 'STATUS=queue nq: 2 of 2 workers connected'"
ok "STATUS says Redis answers" grep -q 'STATUS=queue nq: 2 of 2 workers connected, 0 busy; redis answers$' "$N"
ok "WATCHDOG=1 at half of WATCHDOG_USEC, again and again" \
    wait_for "[ \$(grep -cx 'WATCHDOG=1' '$N') -ge 4 ]" 5
is "READY=1 once" "$(grep -cx 'READY=1' "$N")" 1
kill -HUP "$MPID"
ok "HUP: RELOADING=1 with MONOTONIC_USEC" \
    wait_for "grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*\$' '$N'" 5
ok "then READY=1 again" wait_for "[ \$(grep -cx 'READY=1' '$N') = 2 ]" 5
kill -TERM "$MPID"
ok "TERM: STOPPING=1" wait_for "grep -q '^STOPPING=1' '$N'" 5
master_wait
is "TERM: exit 0" "$MRC" 0

# Redis down at boot: READY all the same, STATUS says so.
N2=$TMPD/notify2.out
listen "$TMPD/notify2" "$N2"
NOTIFY_SOCKET=$TMPD/notify2 "$BULLMQ_MASTER" -r "unix://$TMPD/no-redis.sock" \
    -q nq -x builtin:noop -w 2 >>"$MLOG" 2>&1 &
MPID=$!
track $MPID
ok "Redis down: READY=1 all the same" wait_for "grep -qx 'READY=1' '$N2'" 10
ok "STATUS says Redis does not answer" \
    grep -q 'STATUS=queue nq: 2 of 2 workers connected, 0 busy; redis does not answer$' "$N2"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
# The children and their programs do not see the master's NOTIFY_SOCKET.
cat >"$TMPD/env.sh" <<'PROG'
env >"$1.tmp"
mv "$1.tmp" "$1"
while IFS= read -r line; do
	case $line in
	*'"type":"hello"'*) echo '{"type":"hello","protocol":1}' ;;
	*'"type":"job"'*) echo '{"type":"done"}' ;;
	esac
done
PROG
N3=$TMPD/notify3.out
listen "$TMPD/notify3" "$N3"
NOTIFY_SOCKET=$TMPD/notify3 WATCHDOG_USEC=10000000 master_start -q nq -w 1 \
    -x "pipe:/bin/sh $TMPD/env.sh $TMPD/env.out" --drain-delay 300
add_jobs nq 1 1 '{}'
ok "a pipe: program runs a job" wait_for "[ -s '$TMPD/env.out' ]" 10
ok "it has no NOTIFY_SOCKET nor WATCHDOG_USEC" \
    eval "! grep -q '^NOTIFY_SOCKET=\|^WATCHDOG_USEC=' '$TMPD/env.out'"
ok "the master still tells systemd" wait_for "grep -qx 'READY=1' '$N3'" 10
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || { show_log; sed 's/^/# N: /' "$N" "$N2"; }
finish
