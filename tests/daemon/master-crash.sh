#!/bin/sh
# bullmq-master: a processor that crashes its child at once makes the master
# restart it with a growing back-off, then give up after max-restarts within
# max-seconds and exit 3, leaving no child.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

cat >"$TMPD/crash" <<'SH'
#!/bin/sh
kill -SEGV $PPID
SH
chmod +x "$TMPD/crash"
add_jobs cq 1 10 '{}'
group_start -q cq -x "exec:$TMPD/crash" -w 1 --drain-delay 300 \
    --max-restarts 3 --max-seconds 30
master_wait 20
is "the master gives up with exit 3" "$MRC" 3
ok "each crash is logged" \
    sh -c "[ \$(grep -c 'killed by signal 11' '$MLOG') = 4 ]"
ok "the back-off is logged" grep -q "restarting in 200 ms" "$MLOG"
ok "giving up is logged" \
    grep -q "more than 3 restarts within 30 s: giving up" "$MLOG"
is "no child is left in the master's process group" "$(in_group "$MPID")" ""
is "no job is left active" "$(count cq active)" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
