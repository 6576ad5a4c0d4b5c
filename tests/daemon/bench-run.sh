#!/bin/sh
# contrib/bench/run itself, in quick mode: the adding workload runs to the
# end and writes its results; a run stopped part way, by TERM, by HUP (a
# closed terminal) or by kill -9, leaves no redis-server, bullmq-master or
# Node worker running and no temporary directory behind.  The pinned npm
# packages are installed in the build directory as "make bench" does.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
NODE=${NODE:-node}
JQ=${JQ:-jq}

for t in "$NODE" "${NPM:-npm}" "$JQ"; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "not ok 1 - $t not found (contrib/install-deps.sh)"
		exit 1
	fi
done

# No chart here: a gnuplot that fails, first on PATH (the report is
# written without the chart, as tests/daemon/bench-report.sh checks).
mkdir "$TMPD/bin"
printf '#!/bin/sh\nexit 1\n' >"$TMPD/bin/gnuplot"
chmod +x "$TMPD/bin/gnuplot"

# The bench makes its temporary directory (redis-server's socket, the
# logs) under $TMPDIR.
BT=$TMPD/bt
mkdir "$BT"

# bench OUT ONLY &: contrib/bench/run --quick on the build, in the
# background, where $! is then bench.mjs (exec here, and run execs node)
bench() {
	PATH=$TMPD/bin:$PATH TMPDIR=$BT exec "$top_srcdir/contrib/bench/run" \
	    --quick --build "$top_builddir" --out "$TMPD/$1" --only "$2"
}

# tree PID: "pid start-time" of each descendant of PID.  bullmq-master
# and its children retitle themselves, so the tree is what tells them.
tree() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
	{
		s = $0
		sub(/^[^ ]* \(.*\) /, "", s)
		split(s, f, " ")
		par[$1] = f[2]
		st[$1] = f[20]
	}
	END {
		in_[root] = 1
		do {
			more = 0
			for (p in par)
				if (!(p in in_) && (par[p] in in_)) {
					in_[p] = 1
					more = 1
				}
		} while (more)
		for (p in in_)
			if (p != root)
				print p, st[p]
	}'
}

# alive <LIST: of those "pid start-time" lines, the processes still
# running (not zombies, not a new process on a reused pid), with their
# command lines
alive() {
	while read -r p s; do
		# shellcheck disable=SC2046 # the fields of stat after "(comm) "
		set -- $(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null)
		[ $# -ge 20 ] && [ "$1" != Z ] && [ "${20}" = "$s" ] &&
		    echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
	done <"$1"
}

# the command lines of PID's descendants
cmds() {
	tree "$1" >"$TMPD/cmds"
	alive "$TMPD/cmds"
}

# ended LIST: the watchdog of the run whose processes LIST holds has ended.
# It ends by itself once bench.mjs has exited and closed the pipe on its
# stdin: after bench.mjs, and on a loaded machine a good while after, so a
# check made the moment bench.mjs exits may still find it running.
ended() {
	wait_for "! alive '$1' | grep -q '/watchdog\.sh '" 20
}

# 1. The adding workload, to the end.
bench add-out add >"$TMPD/add.out" 2>"$TMPD/add.err" &
pid=$!
: >"$TMPD/add.tree"
while kill -0 "$pid" 2>/dev/null; do
	tree "$pid" >>"$TMPD/add.tree"
	sleep 0.2
done
wait "$pid"
st=$?
is "a quick run of the adding workload exits 0" "$st" 0
[ "$st" -eq 0 ] || sed 's/^/# /' "$TMPD/add.err"
J=$TMPD/add-out/bench-results.json
is "it ran the four producers" "$("$JQ" '.runs | length' "$J" 2>&1)" 4
is "each of them added jobs, none failed" "$("$JQ" '[.runs[] |
    select((.error | not) and .jobsPerSec > 0)] | length' "$J" 2>&1)" 4
ok "bench-results.md has the add-bulk row" \
    grep -q 'bullmq add-bulk' "$TMPD/add-out/bench-results.md"
ok "its progress was shown" grep -q 'round 1/1 add' "$TMPD/add.err"
ok "it started processes (redis-server, Node)" test -s "$TMPD/add.tree"
sort -u "$TMPD/add.tree" >"$TMPD/add.all"
ok "its watchdog ends after it, told it cleaned up" ended "$TMPD/add.all"
is "nothing it started is left running" "$(alive "$TMPD/add.all")" ""
is "its temporary directory is gone" "$(ls "$BT")" ""

# stopped SIG NAME [WORKLOAD PATTERN]: start the drain workload (or
# WORKLOAD), stop bench.mjs with SIG while a bullmq-master runs (or a
# process whose command line matches PATTERN); prints its exit status.
# NAME.tree: what it had started by then.
stopped() {
	bench "$2-out" "${3:-drain}" >"$TMPD/$2.out" 2>"$TMPD/$2.err" &
	pid=$!
	if ! wait_for "cmds $pid | grep -q '${4:- bullmq-master: master}'" 120
	then
		echo "# no ${4:-bullmq-master} started:" >&2
		sed 's/^/# /' "$TMPD/$2.err" >&2
	fi
	tree "$pid" >"$TMPD/$2.tree"
	kill -"$1" "$pid"
	wait "$pid"
	echo $?
}

# early NAME [SIG]: NAME.err shows that the run stopped before its end
# (saying so on SIG)
early() {
	if grep -q "bench: done" "$TMPD/$1.err" || { [ $# -gt 1 ] &&
	    ! grep -q "$2: stopping" "$TMPD/$1.err"; }; then
		sed "s/^/# $1: /" "$TMPD/$1.err" >&2
		return 1
	fi
}

# gone NAME: nothing of NAME.tree is left running, within 20 s
gone() {
	wait_for "[ -z \"\$(alive '$TMPD/$1.tree')\" ]" 20 && return 0
	alive "$TMPD/$1.tree" | sed 's/^/# left: /' >&2
	return 1
}

# 2. TERM, as from kill or a service manager.
st=$(stopped TERM term)
is "TERM: bench.mjs exits 143" "$st" 143
ok "TERM: it had started a master and its children" \
    test "$(wc -l <"$TMPD/term.tree")" -ge 3
ok "TERM: it says it stops, and did not run to the end" early term SIGTERM
ok "TERM: nothing it started is left running" gone term
is "TERM: its temporary directory is gone" "$(ls "$BT")" ""

# 3. HUP, the terminal closed: bullmq-master would take a HUP for a reload.
st=$(stopped HUP hup)
is "HUP: bench.mjs exits 129" "$st" 129
ok "HUP: nothing it started is left running" gone hup
is "HUP: its temporary directory is gone" "$(ls "$BT")" ""
ok "HUP: it says it stops, and did not run to the end" early hup SIGHUP

# 3b. TERM while the command line adds jobs: the shell that times it would
# not pass an INT on, so its command is stopped by name.
st=$(stopped TERM cli add ' [^ ]*/bullmq -r unix')
is "TERM during a bullmq add run: bench.mjs exits 143" "$st" 143
ok "TERM: the shell had started bullmq" \
    test "$(wc -l <"$TMPD/cli.tree")" -ge 3
ok "TERM: its watchdog ends after it" ended "$TMPD/cli.tree"
is "TERM: nothing it started is left once it has exited" \
    "$(alive "$TMPD/cli.tree")" ""

# 4. kill -9: bench.mjs cleans nothing; the watchdog it left does.
st=$(stopped KILL kill)
is "KILL: bench.mjs was killed" "$st" 137
ok "KILL: it did not run to the end" early kill
ok "KILL: the watchdog stops what it started" gone kill
is "KILL: and removes its temporary directory" "$(ls "$BT")" ""

# 5. A run that fails: its logs are kept and named, and the watchdog, told
# that bench.mjs cleaned up, leaves them.  The build is one whose
# bullmq-master refuses to start.
FB=$TMPD/fake-build
mkdir -p "$FB/contrib/bench"
ln -s "$top_builddir/bullmq" "$FB/bullmq"
ln -s "$top_builddir/contrib/bench/npm" "$FB/contrib/bench/npm"
printf '#!/bin/sh\necho "bullmq-master: refusing on purpose" >&2\nexit 1\n' \
    >"$FB/bullmq-master"
chmod +x "$FB/bullmq-master"
PATH=$TMPD/bin:$PATH TMPDIR=$BT "$top_srcdir/contrib/bench/run" --quick \
    --build "$FB" --out "$TMPD/fail-out" --only thousand \
    >"$TMPD/fail.out" 2>"$TMPD/fail.err"
is "a failed run: exit 1" "$?" 1
kept=$(sed -n 's/.*logs kept in \(.*\)$/\1/p' "$TMPD/fail.err")
ok "it names the directory of the logs" test -n "$kept"
sleep 1
ok "which is kept, with the master's log" \
    grep -q "refusing on purpose" "$kept/master-1.log"
# the command lines naming $1
naming() {
	for d in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$d/cmdline")
		case $c in
		*"$1"*) echo "$c" ;;
		esac
	done 2>/dev/null	# those that ended meanwhile
}
is "and its redis-server is stopped" "$(naming "$kept/redis.sock")" ""

finish
