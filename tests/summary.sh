#!/bin/sh
# Sum the results of every suite run by make check from their logs: Check
# suites report "Checks: N, Failures: F, Errors: E"; the shell and Node
# suites print "ok N" / "not ok N" lines.  Prints "N passed, N failed".
dir=${1:-.}
find "$dir/tests" -name '*.log' ! -name test-suite.log 2>/dev/null | sort |
xargs cat 2>/dev/null | awk '
/^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
	gsub(/,/, "")
	total = $3; fail = $5 + $7
	pass += total - fail; failed += fail; next
}
/^ok [0-9]+/ { pass++; next }
/^not ok [0-9]+/ { failed++; next }
END { printf "%d passed, %d failed\n", pass, failed }'
