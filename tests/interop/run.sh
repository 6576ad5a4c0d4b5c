#!/bin/sh
# tests/interop/run.sh: run the interop tests against the real Node package
# bullmq (pinned in package.json / package-lock.json).  The packages are
# installed with "npm ci" into $top_builddir/tests/interop/npm (once, again
# when the lock file changes); the tests run against a private redis-server.
# Missing node, npm or packages fail the run: CI has them.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"

SRC=$top_srcdir/tests/interop
WORK=$top_builddir/tests/interop/npm
NODE=${NODE:-node}
NPM=${NPM:-npm}
PER_FILE=${INTEROP_TIMEOUT:-120}

# Fail (not skip) when a tool is missing.
need() {
	if [ -z "$2" ] || ! command -v "$2" >/dev/null 2>&1; then
		echo "not ok 1 - $1 not found (install Node.js 18 or later" \
		    "with npm)"
		exit 1
	fi
}
need node "$NODE"
need npm "$NPM"
need timeout timeout

# Install the pinned packages unless the same lock is installed already.
mkdir -p "$WORK" || exit 1
if ! cmp -s "$SRC/package-lock.json" "$WORK/.installed-lock" ||
    [ ! -f "$WORK/node_modules/bullmq/package.json" ]; then
	cp "$SRC/package.json" "$SRC/package-lock.json" "$WORK/" || exit 1
	if ! (cd "$WORK" && "$NPM" ci --no-audit --no-fund \
	    --ignore-scripts --loglevel=error) >"$TMPD/npm.log" 2>&1; then
		echo "not ok 1 - npm ci of the pinned bullmq failed"
		sed 's/^/# /' "$TMPD/npm.log"
		exit 1
	fi
	cp "$SRC/package-lock.json" "$WORK/.installed-lock"
fi
ver=$(cd "$WORK" && "$NODE" -p \
    'require("./node_modules/bullmq/package.json").version' 2>/dev/null)
want=$(cd "$SRC" && "$NODE" -p \
    'require("./package.json").dependencies.bullmq' 2>/dev/null)
is "node bullmq $want is installed" "$ver" "$want"
[ "$ver" = "$want" ] || finish

# Our binaries must be built.
for b in "$BULLMQ" "$BULLMQ_MASTER"; do
	ok "$(basename "$b") is built" test -x "$b"
done

# The test files run from a directory of this run, next to a link to the
# installed packages so that their imports resolve.
RUN=$TMPD/run
mkdir "$RUN" && ln -s "$WORK/node_modules" "$RUN/node_modules" &&
    cp "$SRC"/*.mjs "$RUN/" || exit 1

redis_start
INTEROP_REDIS_SOCKET=$REDIS_SOCK
INTEROP_REDIS_URL=$REDIS_URL
INTEROP_BULLMQ=$BULLMQ
INTEROP_BULLMQ_MASTER=$BULLMQ_MASTER
INTEROP_TOP_SRCDIR=$top_srcdir
export INTEROP_REDIS_SOCKET INTEROP_REDIS_URL INTEROP_BULLMQ \
    INTEROP_BULLMQ_MASTER INTEROP_TOP_SRCDIR

# Run one test file and number its "ok - what" lines into ours.
run_file() {
	f=$1
	out=$TMPD/out
	echo "# $f"
	(cd "$RUN" && timeout -k 5 "$PER_FILE" "$NODE" "$f") >"$out" 2>&1
	rc=$?
	n0=$T_N
	f0=$T_FAIL
	while IFS= read -r line; do
		case $line in
		"ok - "*)
			T_N=$((T_N + 1))
			echo "ok $T_N - $f: ${line#ok - }"
			;;
		"not ok - "*)
			T_N=$((T_N + 1))
			T_FAIL=$((T_FAIL + 1))
			echo "not ok $T_N - $f: ${line#not ok - }"
			;;
		*)
			echo "# $line"
			;;
		esac
	done <"$out"
	if [ "$rc" -ne 0 ] && [ "$T_FAIL" -eq "$f0" ]; then
		T_N=$((T_N + 1))
		T_FAIL=$((T_FAIL + 1))
		echo "not ok $T_N - $f exited with status $rc"
	elif [ "$T_N" -eq "$n0" ]; then
		T_N=$((T_N + 1))
		T_FAIL=$((T_FAIL + 1))
		echo "not ok $T_N - $f ran no test"
	fi
}

for f in "$RUN"/${INTEROP_ONLY:-[0-9][0-9]-*}.mjs; do
	[ "$f" = "$RUN/cluster.mjs" ] || run_file "$(basename "$f")"
done
# Redis Cluster, on servers of its own (cluster.inc)
case ${INTEROP_ONLY:-cluster} in
cluster*)	. "$SRC/cluster.inc" ;;
esac
finish
