# tests/lib.sh: shared helpers for the shell test suites.  Source it; it
# makes a temporary directory, starts a private redis-server on a unix
# socket there, and cleans up on exit.  Each test prints TAP-like lines.
#
#   . "$top_srcdir/tests/lib.sh"
#   redis_start                 # sets REDIS_SOCK, REDIS_URL, REDIS_PID
#   rcli SET a b                # redis-cli on the private server
#   ok "what" test ...          # one check
#   finish                      # prints the tally, exits 1 on failure

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
BULLMQ=${BULLMQ:-$top_builddir/bullmq}
BULLMQ_MASTER=${BULLMQ_MASTER:-$top_builddir/bullmq-master}
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/bullmq-test.XXXXXX")
T_N=0
T_FAIL=0
T_PIDS=""

# Stop everything this test started and remove its directory.
cleanup() {
	for p in $T_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	redis_stop
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Remember a pid to kill at exit.
track() {
	T_PIDS="$T_PIDS $*"
}

# The pids of the processes under pid P, at any depth, whose command line
# holds TEXT, one a line: below P TEXT.  A test finds what it started by
# its place in its own tree, never by name across the machine, where
# another run of the same test may be.
below() {
	ps -e -o pid=,ppid=,args= | awk -v top="$1" -v text="$2" '
	{
		pid = $1
		parent[pid] = $2
		$1 = $2 = ""
		if (index($0, text) > 0)
			hit[pid] = 1
	}
	END {
		for (h in hit)
			for (p = parent[h]; p != "" && p > 1; p = parent[p])
				if (p == top) {
					print h
					break
				}
	}'
}

# Start a private redis-server; fails the whole test when it cannot.
redis_start() {
	if [ ! -x "$REDIS_SERVER" ]; then
		echo "not ok - redis-server not found at $REDIS_SERVER" \
		    "(install the Debian package redis-server)"
		exit 1
	fi
	REDIS_SOCK=$TMPD/redis.sock
	REDIS_URL=unix://$REDIS_SOCK
	"$REDIS_SERVER" --port 0 --unixsocket "$REDIS_SOCK" \
	    --unixsocketperm 700 --save '' --appendonly no \
	    --dir "$TMPD" --pidfile "$TMPD/redis.pid" \
	    --logfile "$TMPD/redis.log" --daemonize yes ${REDIS_ARGS:-} \
	    >/dev/null || { echo "not ok - redis-server did not start"; exit 1; }
	i=0
	while ! "$REDIS_CLI" -s "$REDIS_SOCK" PING >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "not ok - redis-server did not answer"
			cat "$TMPD/redis.log"
			exit 1
		fi
		sleep 0.05
	done
	REDIS_PID=$(cat "$TMPD/redis.pid")
	export REDIS_SOCK REDIS_URL REDIS_PID
}

# Stop the private redis-server by its pid.
redis_stop() {
	if [ -n "${REDIS_PID:-}" ]; then
		kill "$REDIS_PID" 2>/dev/null
		i=0
		while kill -0 "$REDIS_PID" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -9 "$REDIS_PID" 2>/dev/null
		REDIS_PID=
	fi
}

# redis-cli on the private server (raw output).
rcli() {
	"$REDIS_CLI" -s "$REDIS_SOCK" "$@"
}

# A TCP port of 127.0.0.1 that no socket uses, below the kernel's range
# of ephemeral ports, so that no outgoing connection takes it while a test
# runs (a server restarted on its port finds it free): free_port [SPAN]
# gives P with P to P+SPAN-1 all free.
free_port() {
	fp_span=${1:-1}
	fp_lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range \
	    2>/dev/null)
	[ -n "$fp_lo" ] && [ "$fp_lo" -gt 12000 ] || fp_lo=32768
	while :; do
		fp_p=$((10000 + $(od -An -N2 -tu2 /dev/urandom) % \
		    (fp_lo - 10000 - fp_span)))
		fp_i=0
		while [ $fp_i -lt "$fp_span" ] && ! ss -tanH \
		    "sport = :$((fp_p + fp_i))" 2>/dev/null | grep -q .; do
			fp_i=$((fp_i + 1))
		done
		[ $fp_i -eq "$fp_span" ] && break
	done
	echo "$fp_p"
}

# Record one check: ok "description" command args...
ok() {
	desc=$1
	shift
	T_N=$((T_N + 1))
	if "$@"; then
		echo "ok $T_N - $desc"
	else
		echo "not ok $T_N - $desc"
		T_FAIL=$((T_FAIL + 1))
	fi
}

# Record a check of equality: is "description" actual expected.
is() {
	T_N=$((T_N + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $T_N - $1"
	else
		echo "not ok $T_N - $1: got '$2', expected '$3'"
		T_FAIL=$((T_FAIL + 1))
	fi
}

# Wait up to $2 seconds (default 10) for a command to succeed.
wait_for() {
	cmd=$1
	limit=${2:-10}
	i=0
	while ! eval "$cmd" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt $((limit * 20)) ]; then
			return 1
		fi
		sleep 0.05
	done
	return 0
}

# Add a job as a Node producer would, without our add script:
# node_add QUEUE ID NAME DATA [OPTS]
node_add() {
	rcli HSET "bull:$1:$2" name "$3" data "$4" opts "${5:-{\"attempts\":0\}}" \
	    timestamp "$(($(date +%s%N) / 1000000))" delay 0 priority 0 \
	    >/dev/null
	rcli LPUSH "bull:$1:wait" "$2" >/dev/null
	rcli INCR "bull:$1:id" >/dev/null
	rcli ZADD "bull:$1:marker" 0 0 >/dev/null
}

# An id of N bytes of the letter L: long_id N L
long_id() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

# Print the tally and exit with the result.
finish() {
	echo "# $T_N checks, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}
