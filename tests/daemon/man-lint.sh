#!/bin/sh
# mandoc -Tlint over every man page: no error, no warning, no style message
# but the cross references to our own pages (not installed at test time).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
MANDOC=${MANDOC:-mandoc}

if ! command -v "$MANDOC" >/dev/null 2>&1; then
	echo "not ok 1 - mandoc not found (install the Debian package mandoc)"
	exit 1
fi
n=0
for m in "$top_srcdir"/man/*.[13578]; do
	n=$((n + 1))
	"$MANDOC" -Tlint "$m" >"$TMPD/lint" 2>&1
	grep -v 'STYLE: referenced manual not found: Xr' "$TMPD/lint" \
	    >"$TMPD/bad"
	ok "man/$(basename "$m") passes mandoc -Tlint" test ! -s "$TMPD/bad"
	sed 's/^/# /' "$TMPD/bad"
done
is "every man page was checked" "$n" 5
finish
