#!/bin/sh
# contrib/bench/watchdog.sh DIR: started by bench.mjs with a pipe on stdin,
# it outlives bench.mjs to clean up after it.  bench.mjs tells it each
# process it spawns ("+ PID", "- PID" once that exits, "r PID" for the
# redis-server) and "end" after its own cleanup.  Should bench.mjs die
# without saying "end" (kill -9, the OOM killer), stdin reaches EOF: the
# processes still listed get INT (bullmq-master gives its jobs back) and
# KILL after 5 s, then the redis-server TERM, and DIR, the run's
# temporary directory, is removed.  INT and HUP are ignored: a Ctrl-C or
# a hangup is bench.mjs's to handle, and it says "end" when it has.

trap '' INT HUP
dir=$1
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
	end)	exit 0 ;;
	esac
done

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
[ -n "$dir" ] && rm -rf "$dir"
exit 0
