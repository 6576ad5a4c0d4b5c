#!/bin/sh
# bullmq-master: a HUP that changes log-file moves the whole log there, the
# children's lines too (they are replaced, as for any setting they hold);
# a log-file that cannot be opened keeps the old log and replaces nothing.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
CONF=$TMPD/bullmq.conf

# conf LOG: the file, with log-file = LOG; a child logs "recycled after 1
# jobs" after each job
conf() {
	cat >"$CONF" <<CONF
queue = lq
processor = builtin:noop
workers = 1
drain-delay = 300
max-jobs-per-child = 1
log-file = $1
CONF
}

conf "$TMPD/a.log"
master_start -c "$CONF"
ok "1 child at start" wait_for '[ "$(nchildren)" = 1 ]'
add_jobs lq 1 1 '{}'
ok "a child's line goes to the first file" \
    wait_for "grep -q 'worker 1: recycled after 1 jobs' '$TMPD/a.log'"
ok "its replacement is up" \
    wait_for "[ \$(grep -c 'child 1 (pid [0-9]*) started' '$TMPD/a.log') -ge 2 ]"

conf "$TMPD/b.log"
old=$(children)
kill -HUP "$MPID"
ok "HUP: the master logs to the new file" \
    wait_for "grep -q 'reloaded settings: 1 workers, children replaced' '$TMPD/b.log'"
ok "and the child is replaced" \
    wait_for '[ "$(nchildren)" = 1 ] && [ "$(children)" != "$old" ]'
add_jobs lq 2 2 '{}'
ok "the next job completes" wait_for '[ "$(count lq completed)" = 2 ]'
ok "its child's line goes to the new file" \
    wait_for "grep -q 'worker 1: recycled after 1 jobs' '$TMPD/b.log'"
is "the first file has no more of them" \
    "$(grep -c 'recycled after' "$TMPD/a.log")" 1

# A log-file that cannot be opened: the old log stays, nothing is replaced.
conf "$TMPD/no/such/dir/c.log"
old=$(children)
kill -HUP "$MPID"
ok "HUP: a log-file that cannot be opened is logged in the old one" \
    wait_for "grep -q 'reload: log-file $TMPD/no/such/dir/c.log: No such file or directory; keeping the old log' '$TMPD/b.log'"
ok "and replaces no child" \
    wait_for "grep -q 'reloaded settings: 1 workers\$' '$TMPD/b.log'"
is "the child is the same" "$(children)" "$old"

# No log-file, and daemon = yes, which only a restart applies: the log
# goes back to the standard error, not to syslog.
conf "$TMPD/b.log"
sed -i '/^log-file/d' "$CONF"
echo "daemon = yes" >>"$CONF"
kill -HUP "$MPID"
ok "HUP without log-file: the log is on the standard error again" \
    wait_for "grep -q 'reload: daemon changes only on restart; keeping no' '$MLOG'"
ok "with the reload's own line" \
    wait_for "grep -q 'reloaded settings: 1 workers, children replaced' '$MLOG'"

kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || { cat "$TMPD"/a.log "$TMPD"/b.log; show_log; }
finish
