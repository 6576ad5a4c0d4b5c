#!/bin/sh
# contrib/bench/watchdog.sh DIR: started by bench.mjs with a pipe on stdin,
# it outlives bench.mjs to clean up after it.  bench.mjs writes to
# DIR/watchdog each process it spawns ("+ PID START", "- PID" once that
# exits, "r PID START" for the redis-server; START is the process's start
# time, from /proc/PID/stat) and "end" when it cleans up itself.  When
# bench.mjs is gone (kill -9, the OOM killer), stdin reaches EOF; unless
# the list ends with "end" or DIR is gone, the processes still listed get
# INT (bullmq-master gives its jobs back) and KILL after 5 s, then the
# redis-server TERM, and DIR, the run's temporary directory, is removed.
# A process is signalled only while its pid has the start time listed: an
# exited one's pid may belong to another process by then.
# INT and HUP are ignored: a Ctrl-C or a hangup is bench.mjs's to handle.

trap '' INT HUP
dir=$1
cat >/dev/null
list=$dir/watchdog
[ -n "$dir" ] && [ -f "$list" ] || exit 0
[ "$(tail -n 1 "$list")" != end ] || exit 0

# "PID:START" words, of the processes listed and not said to have exited
procs=
rproc=
while read -r op pid start; do
	case $op in
	+)	procs="$procs $pid:$start" ;;
	-)	left=
		for p in $procs; do
			[ "${p%%:*}" = "$pid" ] || left="$left $p"
		done
		procs=$left
		[ "${rproc%%:*}" != "$pid" ] || rproc= ;;
	r)	rproc=$pid:$start ;;
	esac
done <"$list"

# up PID:START: that process still runs (not a zombie, not a new process
# on the same pid)
up() {
	st=$(sed 's/^.*) //' "/proc/${1%%:*}/stat" 2>/dev/null) || return 1
	# shellcheck disable=SC2086 # the fields of stat after "(comm) "
	set -- "${1#*:}" $st
	[ $# -ge 21 ] && [ "$2" != Z ] && [ "${21}" = "$1" ]
}

# signal SIG PID:START...: SIG to those that are up
signal() {
	sig=$1
	shift
	for p; do
		up "$p" && kill -"$sig" "${p%%:*}" 2>/dev/null
	done
}

# stop SIG PID:START...: send SIG, wait up to 5 s for them all to go, then
# KILL those still up
stop() {
	signal "$@"
	shift
	i=0
	while [ $i -lt 50 ]; do
		left=
		for p; do
			up "$p" && left="$left $p"
		done
		[ -n "$left" ] || return 0
		sleep 0.1
		i=$((i + 1))
	done
	# shellcheck disable=SC2086
	signal KILL $left
}

# shellcheck disable=SC2086 # word splitting of the lists is meant
stop INT $procs
# shellcheck disable=SC2086
stop TERM $rproc
rm -rf "$dir"
exit 0
