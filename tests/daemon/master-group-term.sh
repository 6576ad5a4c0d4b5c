#!/bin/sh
# bullmq-master: TERM to the whole process group (systemd's control-group
# stop, timeout(1), a shell's kill %1) is graceful like TERM to the master:
# the children finish their jobs, which complete once and do not stall.
# An exec: program leads a group of its own: it gets no TERM, and its job
# completes too.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

ok "the master leads its own process group" \
    group_start -q gt -x builtin:sleep -w 2 --drain-delay 300
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
add_jobs gt 1 2 '{"ms":3000}'
ok "2 jobs run" wait_for '[ "$(count gt active)" = 2 ]'
kids=$(children | tr '\n' ' ')
env kill -TERM -- "-$MPID"	# the kill of procps: dash's takes no group
master_wait 15
is "the master exits 0" "$MRC" 0
is "both jobs completed" "$(count gt completed)" 2
is "none failed" "$(count gt failed)" 0
is "none is left active" "$(count gt active)" 0
is "none went back to wait" "$(count gt wait)" 0
for j in 1 2; do
	is "job $j has no stall count" "$(rcli HEXISTS bull:gt:$j stc)" 0
	is "job $j was started once" "$(rcli HGET bull:gt:$j ats)" 1
done
ok "no child was killed" sh -c "! grep -q 'killed by signal' '$MLOG'"
ok "no job was given back" sh -c "! grep -q 'given back' '$MLOG'"
ok "no child is left" sh -c "for p in $kids; do ! kill -0 \$p 2>/dev/null || exit 1; done"

: >"$MLOG"
printf '#!/bin/sh\nsleep 3\necho null\n' >"$TMPD/slow"
chmod +x "$TMPD/slow"
ok "exec: the master leads its own process group" \
    group_start -q ge -x "exec:$TMPD/slow" -w 1 --drain-delay 300
ok "exec: 1 child" wait_for '[ "$(nchildren)" = 1 ]'
add_jobs ge 1 1 '{}'
ok "exec: the program runs" wait_for '[ -n "$(procs_of "^/bin/sh $TMPD/slow\$")" ]'
prog=$(procs_of "^/bin/sh $TMPD/slow\$")
is "exec: the program leads its own process group" \
    "$(ps -o pgid= -p "$prog" | tr -d ' ')" "$prog"
env kill -TERM -- "-$MPID"	# the kill of procps: dash's takes no group
master_wait 15
is "exec: the master exits 0" "$MRC" 0
is "exec: the job completed" "$(count ge completed)" 1
is "exec: with the program's output" "$(rcli HGET bull:ge:1 returnvalue)" null
is "exec: none failed" "$(count ge failed)" 0
is "exec: the job has no stall count" "$(rcli HEXISTS bull:ge:1 stc)" 0
ok "exec: the child itself exited 0" wait_log "child 1 (pid [0-9]*) exited 0"
ok "exec: no job was given back" sh -c "! grep -q 'given back' '$MLOG'"
[ "$T_FAIL" -eq 0 ] || show_log
finish
