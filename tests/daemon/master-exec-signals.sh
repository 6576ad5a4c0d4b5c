#!/bin/sh
# bullmq-master: the signals of a child running an exec: program reach the
# thread that waits for them, at whatever moment they come.  The windows at
# stake last microseconds; libslowcalls.so (tests/daemon/slowcalls.c) makes
# the calls at their edges late, so that every run falls into them.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
SLOW=$top_builddir/tests/daemon/.libs/libslowcalls.so
# ASan wants to come first; the preloaded library comes before it
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
export ASAN_OPTIONS
if [ ! -f "$SLOW" ]; then
	echo "not ok 1 - $SLOW not built (make check builds it)"
	exit 1
fi

# Start a master with the late calls: slow_start VAR=VALUE... -- ARGS...
slow_start() {
	env LD_PRELOAD="$SLOW" "$@" >>"$MLOG" 2>&1 &
	MPID=$!
	track "$MPID"
}

# A job's run time in ms, nothing when it has not finished: took Q ID
took() {
	f=$(rcli HGET "bull:$1:$2" finishedOn)
	p=$(rcli HGET "bull:$1:$2" processedOn)
	[ -n "$f" ] && [ -n "$p" ] && echo $((f - p))
}

# A program that leaves a sleep behind, holding its stdout, and ends
# 20 ms later; it writes the sleep's pid to $0.pids.
cat >"$TMPD/leave" <<'EOS'
#!/bin/sh
cat >/dev/null
sleep 6.3021 &
echo $! >>"$0.pids"
sleep 0.02
EOS
chmod +x "$TMPD/leave"

# The program ends while the child is between its look at the program and
# its wait (made 100 ms late): the SIGCHLD must wait for the wait, not go
# to the child's title thread, or the job runs until the sleep ends.
slow_start SLOW_PPOLL_MS=100 "$BULLMQ_MASTER" -r "$REDIS_URL" -q sc \
    -x "exec:$TMPD/leave" -w 1 --drain-delay 300
add_jobs sc 1 3 '{}'
ok "exit in the window: the jobs complete when the program exits" \
    wait_for '[ "$(count sc completed)" = 3 ]' 5
for i in 1 2 3; do
	t=$(took sc $i)
	ok "exit in the window: job $i took ${t:-?} ms, under 3000" \
	    test "${t:-99999}" -lt 3000
done
kill -TERM "$MPID"
master_wait
is "exit in the window: TERM: exit 0" "$MRC" 0
for p in $(cat "$TMPD/leave.pids"); do
	stop_if "$p" '^sleep 6\.3021$'
done

# Whether process P is dead: gone, or a zombie init has not reaped yet.
dead() {
	st=$(ps -o stat= -p "$1" | tr -d ' ')
	[ -z "$st" ] || [ "${st#Z}" != "$st" ]
}

# A program that runs a sleep of N seconds in a process of its own.
cat >"$TMPD/tree" <<'EOS'
#!/bin/sh
sleep "$1"
echo null
EOS
chmod +x "$TMPD/tree"

# An INT to the child between the fork of the program and the child's
# knowing its group (made 2 s long) must still kill the program's group:
# held until the group is known, not taken at once with no group to kill.
: >"$MLOG"
slow_start SLOW_SETPGID_MS=2000 "$BULLMQ_MASTER" -r "$REDIS_URL" -q si \
    -x "exec:$TMPD/tree 6.3022" -w 1 --drain-delay 300
add_jobs si 1 1 '{}'
ok "INT in the window: the program's child runs" \
    wait_for '[ -n "$(procs_of "^sleep 6\.3022\$")" ]'
gc=$(procs_of '^sleep 6\.3022$')
kill -INT "$(children)"
ok "INT in the window: the child dies of it" \
    wait_log 'child 1 (pid [0-9]*) killed by signal 2' 5
ok "INT in the window: the program's child is gone" \
    wait_for "dead $gc" 3
kill -TERM "$MPID"
master_wait
is "INT in the window: TERM: exit 0" "$MRC" 0
stop_if "$gc" '^sleep 6\.3022$'

[ "$T_FAIL" -eq 0 ] || show_log
finish
