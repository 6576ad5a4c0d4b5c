#!/bin/sh
# tests/interop/run.sh: run the interop tests against the real Node package
# bullmq (pinned in package.json / package-lock.json).  The packages are
# installed with "npm ci" into $top_builddir/tests/interop/npm (once, again
# when the lock file changes); the tests run against a private redis-server.
# Missing node, npm or packages fail the run: CI has them.
#
# The *-tls.mjs files run against a TLS server of their own (tests/tls.inc:
# rediss://, a client certificate required), skipped by a build without
# TLS; INTEROP_TLS=1 runs every file selected so (INTEROP_ONLY=NN-name
# selects one).

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tls.inc"

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

INTEROP_BULLMQ=$BULLMQ
INTEROP_BULLMQ_MASTER=$BULLMQ_MASTER
INTEROP_TOP_SRCDIR=$top_srcdir
export INTEROP_BULLMQ INTEROP_BULLMQ_MASTER INTEROP_TOP_SRCDIR

# Start the server: plain (the unix socket), or with TLS (tls).
server() {
	redis_stop
	if [ "$1" = tls ]; then
		tls_start
		INTEROP_REDIS_URL=$TLS_URL
		INTEROP_TLS_PORT=$TLS_PORT
		INTEROP_TLS_DIR=$TLS_DIR
		export INTEROP_TLS_PORT INTEROP_TLS_DIR
	else
		redis_start
		INTEROP_REDIS_URL=$REDIS_URL
		unset INTEROP_TLS_PORT INTEROP_TLS_DIR
	fi
	INTEROP_REDIS_SOCKET=$REDIS_SOCK
	export INTEROP_REDIS_SOCKET INTEROP_REDIS_URL
	# which server and version ($REDIS_SERVER may be valkey-server)
	echo "# $REDIS_SERVER: $(rcli INFO server | tr -d '\r' |
	    grep -E '^(server_name|redis_version|valkey_version):' | tr '\n' ' ')"
}

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

plain= tls=
for f in "$RUN"/${INTEROP_ONLY:-[0-9][0-9]-*}.mjs; do
	[ -e "$f" ] || continue
	[ "$f" = "$RUN/cluster.mjs" ] && continue
	case $f in
	*-tls.mjs)	tls="$tls $(basename "$f")" ;;
	*)		plain="$plain $(basename "$f")" ;;
	esac
done
[ "${INTEROP_TLS:-0}" = 1 ] && tls="$plain$tls" plain=
if [ -n "$plain" ]; then
	server plain
	for f in $plain; do
		run_file "$f"
	done
fi
if [ -n "$tls" ] && ! tls_built; then
	T_N=$((T_N + 1))
	echo "ok $T_N - #$tls # SKIP this build has no TLS"
elif [ -n "$tls" ]; then
	server tls
	for f in $tls; do
		run_file "$f"
	done
fi
# Redis Cluster, on servers of its own (cluster.inc)
case ${INTEROP_ONLY:-cluster} in
cluster*)	# lib.mjs wants a plain server's environment even here
		[ -n "${INTEROP_REDIS_SOCKET:-}" ] || server plain
		. "$SRC/cluster.inc" ;;
esac
finish
