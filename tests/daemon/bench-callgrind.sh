#!/bin/sh
# contrib/bench/callgrind --child: a child's instructions a job counted
# with jobs that carry options and fail with retries (a small run), and
# its refusal of a bad option.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
CG=$top_srcdir/contrib/bench/callgrind

if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok 1 - valgrind not found (contrib/install-deps.sh)"
	exit 1
fi

sh "$CG" --child --bogus >/dev/null 2>"$TMPD/usage"
is "an unknown option is a usage error" "$?" 2
ok "the usage names --child" grep -q -- "--child" "$TMPD/usage"

O='{"attempts":2,"backoff":{"type":"fixed","delay":50},'
O=$O'"removeOnFail":{"age":60,"count":5}}'
TMPDIR=$TMPD sh "$CG" --child --jobs 100 --build "$top_builddir" \
    --opts "$O" --processor builtin:fail >"$TMPD/out" 2>"$TMPD/err"
is "callgrind --child exits 0" "$?" 0
ok "it names the processor and the options" \
    grep -q 'processor builtin:fail, opts {"attempts":2' "$TMPD/out"
n=$(sed -n "s/^  bullmq-master's child *//p" "$TMPD/out" | tr -d ,)
ok "it counts instructions a job ($n)" test "${n:-0}" -gt 1000
ok "it leaves no temporary directory" \
    test -z "$(find "$TMPD" -maxdepth 1 -name 'bullmq-callgrind.*')"
finish
