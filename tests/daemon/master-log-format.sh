#!/bin/sh
# bullmq-master's log-format and log-level: every line of the master and its
# children is one JSON object (time, level, ident, pid, msg) with json, a
# logfmt line with logfmt, the message text as in text; log-level warning
# drops the info lines and keeps a failed job's warning; log-level error
# keeps only the errors (the master giving up); the text lines start with
# an ISO 8601 time.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 77; }
redis_start

# run Q ARGS...: a master on queue Q, a failing processor, three jobs of
# one attempt; its log alone in $MLOG
run() {
	q=$1
	shift
	: >"$MLOG"
	master_start -q "$q" -x builtin:fail -w 1 --drain-delay 300 "$@"
	add_jobs "$q" 1 3 '{}' '{"attempts":1}'
	ok "$q: the three jobs fail" wait_for "[ \"\$(count $q failed)\" = 3 ]" 10
	ok "$q: the failure of job 3 is logged" wait_log "job 3 (test) attempt 1 of 1 failed" 5
	kill -TERM "$MPID"
	master_wait
	is "$q: TERM: exit 0" "$MRC" 0
}

run js --log-format json
ok "json: each line is an object with time, level, ident, pid and msg" \
    python3 -c "
import json, re, sys
n = 0
for l in open('$MLOG'):
    o = json.loads(l)
    assert list(o) == ['time', 'level', 'ident', 'pid', 'msg'], o
    assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$', o['time'])
    assert o['level'] in ('info', 'warning'), o
    n += 1
assert n >= 6, n"
ok "json: the message text is the text format's" python3 -c "
import json
m = [json.loads(l)['msg'] for l in open('$MLOG')]
assert 'master of queue js started: 1 workers, processor builtin:fail' in m
assert 'worker 1: queue js job 3 (test) attempt 1 of 1 failed: failed' in m"

run lf --log-format logfmt
ok "logfmt: every line is time= level= ident= pid= msg=\"...\"" \
    eval "! grep -qv '^time=[0-9T:.Z-]* level=[a-z]* ident=bullmq-master pid=[0-9]* msg=\".*\"\$' '$MLOG'"
ok "logfmt: a warning" grep -q 'level=warning .* msg="worker 1: queue lf job 3 (test) attempt 1 of 1 failed: failed"$' "$MLOG"

run lw --log-level warning
ok "log-level warning: no info line" eval "! grep -q 'master of queue lw started' '$MLOG'"
ok "log-level warning: the warnings" grep -q 'warning: worker 1: queue lw job 1 (test) attempt 1 of 1 failed: failed$' "$MLOG"
ok "text: every line starts with the time" \
    eval "! grep -qv '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9][0-9][0-9]Z bullmq-master\[[0-9]*\]: ' '$MLOG'"

# log-level error: a child that keeps crashing; only the master's giving up
cat >"$TMPD/crash" <<'SH'
#!/bin/sh
kill -SEGV $PPID
SH
chmod +x "$TMPD/crash"
: >"$MLOG"
master_start -q le -x "exec:$TMPD/crash" -w 1 --drain-delay 300 \
    --max-restarts 2 --max-seconds 30 --log-level error
add_jobs le 1 10 '{}'
master_wait 20
is "log-level error: the master gives up" "$MRC" 3
ok "log-level error: giving up is logged as an error" \
    grep -q 'error: more than 2 restarts within 30 s: giving up$' "$MLOG"
is "log-level error: nothing else" "$(grep -c . "$MLOG")" 1
[ "$T_FAIL" -eq 0 ] || show_log
finish
