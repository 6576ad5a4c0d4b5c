#!/bin/sh
# Sum the results of every suite run by make check from their logs, in the
# build directories given (default "."; .ci/run passes the in-tree build
# and the sanitizer build): Check suites report "Checks: N, Failures: F,
# Errors: E"; the shell and Node suites print "ok N" / "not ok N" lines.
# Prints "N passed, N failed".
[ $# -eq 0 ] && set -- .
for dir in "$@"; do
	find "$dir/tests" -name '*.log' ! -name test-suite.log 2>/dev/null
done | sort | xargs cat 2>/dev/null | awk '
/^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
	gsub(/,/, "")
	total = $3; fail = $5 + $7
	pass += total - fail; failed += fail; next
}
/^ok [0-9]+/ { pass++; next }
/^not ok [0-9]+/ { failed++; next }
END { printf "%d passed, %d failed\n", pass, failed }'
