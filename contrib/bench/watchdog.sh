#!/bin/sh
# contrib/bench/watchdog.sh DIR: started by bench.mjs with a pipe on stdin,
# it outlives bench.mjs to clean up after it.  bench.mjs writes to
# DIR/watchdog each process it spawns ("+ PID", "- PID" once that exits,
# "r PID" for the redis-server) and "end" when it cleans up itself.  When
# bench.mjs is gone (kill -9, the OOM killer), stdin reaches EOF; unless
# the list ends with "end" or DIR is gone, the processes still listed get
# INT (bullmq-master gives its jobs back) and KILL after 5 s, then the
# redis-server TERM, and DIR, the run's temporary directory, is removed.
# INT and HUP are ignored: a Ctrl-C or a hangup is bench.mjs's to handle.

trap '' INT HUP
dir=$1
cat >/dev/null
list=$dir/watchdog
[ -n "$dir" ] && [ -f "$list" ] || exit 0
[ "$(tail -n 1 "$list")" != end ] || exit 0

pids=
rpid=
while read -r op pid; do
	case $op in
	+)	pids="$pids $pid" ;;
	-)	left=
		for p in $pids; do
			[ "$p" = "$pid" ] || left="$left $p"
		done
		pids=$left ;;
	r)	rpid=$pid ;;
	esac
done <"$list"

# stop SIG PID...: send SIG, wait up to 5 s for them all to go, then KILL
stop() {
	sig=$1
	shift
	[ $# -gt 0 ] || return 0
	kill -"$sig" "$@" 2>/dev/null
	i=0
	while [ $i -lt 50 ]; do
		up=
		for p; do
			kill -0 "$p" 2>/dev/null && up=1
		done
		[ -n "$up" ] || return 0
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$@" 2>/dev/null
}

# shellcheck disable=SC2086 # word splitting of the pid lists is meant
stop INT $pids
# shellcheck disable=SC2086
stop TERM $rpid
rm -rf "$dir"
exit 0
