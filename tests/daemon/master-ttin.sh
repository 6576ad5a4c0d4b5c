#!/bin/sh
# bullmq-master: TTIN adds a child, TTOU removes one (an idle one first,
# never interrupting a job); USR1 reopens the log file.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

master_start -q tq -x builtin:sleep -w 2 --drain-delay 300 \
    --log-file "$TMPD/file.log"
ok "2 children at start" wait_for '[ "$(nchildren)" = 2 ]'
kill -TTIN "$MPID"
ok "TTIN: 3 children" wait_for '[ "$(nchildren)" = 3 ]'
sleep 0.2
kill -TTIN "$MPID"
ok "TTIN again: 4 children" wait_for '[ "$(nchildren)" = 4 ]'
ok "the title follows" \
    wait_for "ps -o args= -p $MPID | grep -q 'master tq \[4 workers\]'"

add_jobs tq 1 1 '{"ms":1500}'
ok "one child runs a job" wait_for '[ "$(count tq active)" = 1 ]'
busy=$(rcli HGET bull:tq:1 processedOn)
kill -TTOU "$MPID"
sleep 0.2
kill -TTOU "$MPID"
sleep 0.2
kill -TTOU "$MPID"
ok "3 TTOU: idle children go first, the busy one stays" \
    wait_for '[ "$(nchildren)" = 1 ] && [ "$(count tq active)" = 1 ]' 3
ok "its job completes" wait_for '[ "$(count tq completed)" = 1 ]'
is "without a retry" "$(rcli HGET bull:tq:1 ats)" 1

mv "$TMPD/file.log" "$TMPD/file.log.1"
kill -USR1 "$MPID"
ok "USR1 reopens the log file" wait_for '[ -s "$TMPD/file.log" ]'
ok "and says so" grep -q "log reopened" "$TMPD/file.log"
is "the children survive USR1" "$(nchildren)" 1

kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || { cat "$TMPD"/file.log* >>"$MLOG"; show_log; }
finish
