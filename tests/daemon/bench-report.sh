#!/bin/sh
# contrib/bench/report.mjs on the committed results, whole and cut down to
# the 10 ms workload (what contrib/bench/run --only sleep leaves): the
# report is written either way, the 10 ms figures are set against what N
# children can finish at most, and a chart is drawn for the workloads that
# ran, or left out with the report still written when gnuplot fails.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
NODE=${NODE:-node}
JQ=${JQ:-jq}
RES=$top_srcdir/contrib/bench/results/bench-results.json
REPORT=$top_srcdir/contrib/bench/report.mjs

for t in "$NODE" "$JQ"; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "not ok 1 - $t not found (contrib/install-deps.sh)"
		exit 1
	fi
done

# the median of a configuration's jobs/s in file $1, key $2
med() {
	"$JQ" -r --arg k "$2" '[.runs[] | select(.key == $k and
	    (.error | not)) | .jobsPerSec] | sort |
	    if length % 2 == 1 then .[length / 2 | floor]
	    else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$1"
}

# "12,345" as the report writes a whole number
fmt() {
	awk -v x="$1" 'BEGIN { x = sprintf("%.0f", x); s = "";
	    while (length(x) > 3) { s = "," substr(x, length(x) - 2) s;
	    x = substr(x, 1, length(x) - 3) } print x s }'
}

# A gnuplot that always fails, first on PATH for the run without a chart.
mkdir "$TMPD/bin"
printf '#!/bin/sh\necho "gnuplot: broken on purpose" >&2\nexit 1\n' \
    >"$TMPD/bin/gnuplot"
chmod +x "$TMPD/bin/gnuplot"

"$JQ" '.runs |= map(select(.workload == "sleep")) | del(.thousand)' \
    "$RES" >"$TMPD/sleep.json"
is "the cut-down results hold only 10 ms runs" \
    "$("$JQ" '[.runs[] | select(.workload != "sleep")] | length' \
    "$TMPD/sleep.json")" 0
ok "the cut-down results hold 10 ms runs of 256 children" \
    test "$("$JQ" '[.runs[] | select(.key == "sleep/c/256")] | length' \
    "$TMPD/sleep.json")" -ge 3

# 1. Only the 10 ms workload, gnuplot failing: the report, no chart.
mkdir "$TMPD/a"
PATH=$TMPD/bin:$PATH "$NODE" "$REPORT" "$TMPD/sleep.json" "$TMPD/a" \
    >"$TMPD/a.out" 2>"$TMPD/a.err"
is "report.mjs exits 0 when gnuplot fails" "$?" 0
md=$TMPD/a/bench-results.md
ok "bench-results.md is written" test -s "$md"
ok "no chart is claimed when gnuplot failed" \
    sh -c "! grep -q 'bench-results.png' '$md' && \
    test ! -e '$TMPD/a/bench-results.png'"
ok "gnuplot's failure is reported" grep -q "gnuplot failed" "$TMPD/a.err"
ok "no drain bar without drain runs" sh -c "! grep -q '^| drain' '$md'"

# The 10 ms bar names the ceiling of 256 children and how much of it
# 1.5 times Node's median is.
node=$(med "$TMPD/sleep.json" sleep/node/1x500)
c256=$(med "$TMPD/sleep.json" sleep/c/256)
pct=$(awk -v n="$node" 'BEGIN { printf "%.0f", 150 * n / 25600 }')
ok "the 10 ms bar: $(fmt "$c256") / $(fmt "$node"), 1.5x Node is $pct %" \
    grep -qF "| 10 ms jobs: 256 children against Node c=500 | $(fmt \
    "$c256") / $(fmt "$node") = " "$md"
ok "the 10 ms bar gives the ceiling of 256 children" grep -qF \
    "256 children can finish at most 25,600 jobs/s, 1.5× Node is $pct % of" \
    "$md"

# Under the 10 ms table: each N against N x 100 jobs/s.
line=$(grep '^A child runs one job at a time' "$md")
ok "the 10 ms table is followed by the ceilings" test -n "$line"
for n in 64 128 256 512; do
	m=$(med "$TMPD/sleep.json" "sleep/c/$n")
	p=$(awk -v m="$m" -v n="$n" 'BEGIN { printf "%.0f", m / n }')
	ok "$n children: $p % of $(fmt $((n * 100)))" sh -c "echo '$line' |
	    grep -qF '$n children $p % of $(fmt $((n * 100)))'"
done

# 2. Everything, gnuplot failing, into a directory not made yet: the
# drain bars are back.
PATH=$TMPD/bin:$PATH "$NODE" "$REPORT" "$RES" "$TMPD/b" \
    >/dev/null 2>&1
is "report.mjs exits 0 on the whole results" "$?" 0
ok "report.mjs makes its output directory" \
    test -s "$TMPD/b/bench-results.md"
ok "the whole report has the drain bars" \
    grep -q '^| drain: best bullmq-master against best Node' \
    "$TMPD/b/bench-results.md"

# 3. With a real gnuplot: one panel for the 10 ms run alone, two for all.
if command -v gnuplot >/dev/null 2>&1; then
	mkdir "$TMPD/c" "$TMPD/d"
	"$NODE" "$REPORT" "$TMPD/sleep.json" "$TMPD/c" >/dev/null 2>&1
	is "report.mjs exits 0 with gnuplot" "$?" 0
	ok "the chart of the 10 ms run is drawn" \
	    test -s "$TMPD/c/bench-results.png"
	ok "and named in the report" grep -q '(bench-results.png)' \
	    "$TMPD/c/bench-results.md"
	"$NODE" "$REPORT" "$RES" "$TMPD/d" >/dev/null 2>&1
	# the PNG header holds the width at bytes 17-20
	w() {
		od -An -tu1 -j16 -N4 "$1" |
		    awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
	}
	is "one panel: 640 pixels wide" "$(w "$TMPD/c/bench-results.png")" 640
	is "two panels: 1280 pixels wide" \
	    "$(w "$TMPD/d/bench-results.png")" 1280
	# every drain run failed: no drain panel either
	"$JQ" '.runs |= map(if .workload == "drain" then {key: .key,
	    workload: .workload, side: .side, label: .label, round: .round,
	    error: "failed on purpose"} else . end)' "$RES" >"$TMPD/nod.json"
	mkdir "$TMPD/e"
	"$NODE" "$REPORT" "$TMPD/nod.json" "$TMPD/e" >/dev/null 2>&1
	is "report.mjs exits 0 when every drain run failed" "$?" 0
	is "failed drain runs: one panel" \
	    "$(w "$TMPD/e/bench-results.png")" 640
else
	echo "# gnuplot not installed (contrib/install-deps.sh --bench):" \
	    "the chart itself is not drawn here"
fi
finish
