#!/bin/sh
# bullmq-master --check against the golden files of tests/conf: each
# ok-NAME.conf prints NAME.out and exits 0, each bad-NAME.conf prints the
# error of NAME.out (file, line, problem) and exits 1.  The *tls*.conf
# files (rediss://) are skipped by a build without TLS.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/tls.inc"
M=$BULLMQ_MASTER
cd "$top_srcdir/tests/conf" || exit 1
for f in ok-*.conf bad-*.conf; do
	case $f in
	*tls*)	if ! tls_built; then
			T_N=$((T_N + 1))
			echo "ok $T_N - $f # SKIP this build has no TLS"
			continue
		fi ;;
	esac
	want=0
	case $f in bad-*) want=1 ;; esac
	env -i PATH="$PATH" "$M" --check -c "$f" >"$TMPD/out" 2>&1
	is "$f: exit $want" "$?" "$want"
	if cmp -s "$TMPD/out" "${f%.conf}.out"; then
		is "$f: output as ${f%.conf}.out" same same
	else
		is "$f: output as ${f%.conf}.out" "$(cat "$TMPD/out")" \
		    "$(cat "${f%.conf}.out")"
	fi
done
finish
