#!/bin/sh
# bullmq-master: a log line is whole up to 8192 bytes, the line of a job id
# of 3072 bytes with its context among them, on the standard error and in a
# log-file alike; a longer line ends in "...[cut]" within that bound; a
# control character in a message (a newline in a job id) is escaped, so
# that one record stays one line.  A message of the library (a refused
# finish) holds such an id whole too.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

D=$(long_id 3072 d)
E="line1
child 9 (pid 1) exited 0"
F=$(long_id 3072 '\001')

# run Q LOG ARGS...: three jobs of queue Q time out, logged to LOG
run() {
	q=$1
	log=$2
	shift 2
	node_add "$q" "$D" n '{"ms":20000}' '{"attempts":1}'
	node_add "$q" "$E" n '{"ms":20000}' '{"attempts":1}'
	node_add "$q" "$F" n '{"ms":20000}' '{"attempts":1}'
	master_start -q "$q" -x builtin:sleep -w 1 --drain-delay 300 \
	    --job-timeout 500 --kill-timeout 1000 "$@"
	ok "$q: the three jobs time out" \
	    wait_for "[ \"\$(count $q failed)\" = 3 ]" 15
	ok "$q: the timeout of the 3072-byte id is one whole line" \
	    wait_for "grep -q '^.*job $D timed out after 500 ms\$' '$log'" 5
	ok "$q: and so is its failure" \
	    wait_for "grep -q '^.*job $D failed: job timed out after 500 ms\$' '$log'" 5
	ok "$q: a newline in an id is escaped" wait_for \
	    "grep -qF 'job line1\\nchild 9 (pid 1) exited 0 timed out after 500 ms' '$log'" 5
	ok "$q: it starts no line of its own" \
	    eval "! grep -q '^child 9' '$log'"
	grep -F 'job \x01\x01\x01\x01' "$log" >"$TMPD/cut"
	is "$q: an id of 3072 control characters makes two long lines" \
	    "$(grep -c . "$TMPD/cut")" 2
	ok "$q: both cut visibly" eval "! grep -qv '\\.\\.\\.\\[cut\\]\$' '$TMPD/cut'"
	is "$q: within 8192 bytes, newline included" \
	    "$(awk '{ n = length($0) + 1; if (n > 8192 || n < 8000) b++ }
	    END { print b + 0 }' "$TMPD/cut")" 0
	ok "$q: no line of the log is longer" \
	    eval "[ \$(awk '{ if (length(\$0) > m) m = length(\$0) } END { print m }' '$log') -le 8191 ]"
	kill -TERM "$MPID"
	master_wait
	is "$q: TERM: exit 0" "$MRC" 0
}

run se "$MLOG"
run lf "$TMPD/file.log" --log-file "$TMPD/file.log"

# A finish refused by Redis is logged with the library's message, which
# names the 3072-byte id and then says why.
node_add rf "$D" n '{"ms":2000}' '{"attempts":1}'
master_start -q rf -x builtin:sleep -w 1 --drain-delay 300
ok "rf: the job runs" wait_for '[ "$(count rf active)" = 1 ]' 5
rcli DEL "bull:rf:$D:lock" >/dev/null
why="lock does not exist; left to the stalled checker"
ok "rf: its refused finish is one whole line" \
    wait_log "worker 1: complete job $D: $why\$" 5
kill -TERM "$MPID"
master_wait
is "rf: TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || { show_log | cut -c 1-200; cut -c 1-200 "$TMPD/file.log"; }
finish
