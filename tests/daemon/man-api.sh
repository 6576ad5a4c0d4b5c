#!/bin/sh
# Every function declared in src/bullmq.h is documented in man/libbullmq.3:
# named with .Fn in the SYNOPSIS and again in the text below it; and every
# function of the SYNOPSIS is one bullmq.h declares.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
H=$top_srcdir/src/bullmq.h
M=$top_srcdir/man/libbullmq.3

# The names declared: comments and typedefs (callback types) left out.
awk '{ s = s $0 "\n" }
END {
	while ((i = index(s, "/*")) > 0) {
		j = index(substr(s, i + 2), "*/")
		s = substr(s, 1, i - 1) " " substr(s, i + j + 3)
	}
	printf "%s", s
}' "$H" | grep -v '^typedef' |
    grep -o 'bullmq_[a-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*(//' |
    sort -u >"$TMPD/declared"
# The names of .Fn lines, in the SYNOPSIS and after it.
awk '/^\.Sh / { in_syn = ($2 == "SYNOPSIS") }
/^\.Fn bullmq_/ { print (in_syn ? "syn" : "text"), $2 }
/^\.Fn [^b]/ { next }
/^\.(It|No|Fo) / { for (i = 2; i < NF; i++) if ($i == "Fn") print "text", $(i + 1) }' \
    "$M" | sed 's/[,.;:)]*$//' >"$TMPD/fn"
sed -n 's/^syn //p' "$TMPD/fn" | sort -u >"$TMPD/synopsis"
sed -n 's/^text //p' "$TMPD/fn" | sort -u >"$TMPD/text"

ok "bullmq.h declares functions" test -s "$TMPD/declared"
comm -23 "$TMPD/declared" "$TMPD/synopsis" >"$TMPD/nosyn"
ok "every function of bullmq.h is in the SYNOPSIS of libbullmq.3" \
    test ! -s "$TMPD/nosyn"
sed 's/^/# missing from the SYNOPSIS: /' "$TMPD/nosyn"
comm -23 "$TMPD/declared" "$TMPD/text" >"$TMPD/notext"
ok "every function of bullmq.h is described in libbullmq.3" \
    test ! -s "$TMPD/notext"
sed 's/^/# not described: /' "$TMPD/notext"
comm -13 "$TMPD/declared" "$TMPD/synopsis" >"$TMPD/stale"
ok "the SYNOPSIS names no function bullmq.h does not declare" \
    test ! -s "$TMPD/stale"
sed 's/^/# not in bullmq.h: /' "$TMPD/stale"
finish
