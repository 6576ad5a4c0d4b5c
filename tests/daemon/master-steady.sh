#!/bin/sh
# bullmq-master: a child that takes its next job while finishing the one
# before tells the master both in one message, and the master reads the
# messages in batches.  Such jobs are tracked as well as a first one: their
# locks are kept, a dead child's job is given back, job-timeout counts from
# their start, and a closed lifeline stops the child after its job.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

# Jobs 2 and 3 are taken by the finish of jobs 1 and 2.  They run longer
# than the lock duration, and the stalled checker runs every 300 ms.
add_jobs sq 1 3 '{"ms":1500}'
master_start -q sq -x builtin:sleep -w 1 --drain-delay 300 \
    --lock-duration 1000 --stalled-interval 300
ok "3 jobs of 1.5 s complete one after the other" \
    wait_for '[ "$(count sq completed)" = 3 ]' 15
for i in 1 2 3; do
	is "job $i was started once" "$(rcli HGET bull:sq:$i ats)" 1
done
ok "no job stalled" sh -c "! grep -q 'stalled: recovered' '$MLOG'"

# A child killed in the middle of a job it took that way.
add_jobs sq 4 5 '{"ms":3000}'
ok "job 5 runs after job 4" \
    wait_for '[ "$(rcli LRANGE bull:sq:active 0 -1)" = 5 ]' 10
kill -9 "$(children)"
ok "job 5 is given back at once" wait_log "job 5 of child .* given back" 2
ok "and completed by the new child" \
    wait_for '[ "$(count sq completed)" = 5 ]' 10
is "job 5 was started twice" "$(rcli HGET bull:sq:5 ats)" 2
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

# job-timeout for a job taken by the finish of a short one.
: >"$MLOG"
add_jobs tq 1 1 '{"ms":50}'
add_jobs tq 2 2 '{"ms":20000}'
master_start -q tq -x builtin:sleep -w 1 --drain-delay 300 \
    --job-timeout 800 --kill-timeout 1000
ok "job 2 times out" wait_log "job 2 timed out after 800 ms" 5
ok "job 2 failed" wait_for '[ "$(count tq failed)" = 1 ]' 5
took=$(($(rcli HGET bull:tq:2 finishedOn) - $(rcli HGET bull:tq:2 processedOn)))
ok "after 800 to 1800 ms ($took)" test "$took" -ge 800 -a "$took" -le 1800
is "job 1 completed" "$(count tq completed)" 1
ok "a new child takes the place" wait_for '[ "$(nchildren)" = 1 ]'
# An idle child blocks on the marker for the drain delay: TERM right
# after a job wakes it at once.
add_jobs tq 3 3 '{"ms":0}'
ok "a short job completes" wait_for '[ "$(count tq completed)" = 2 ]'
t0=$(date +%s%N)
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
ms=$((($(date +%s%N) - t0) / 1000000))
ok "within a second ($ms ms)" test "$ms" -lt 1000

# The master killed with -9 while more jobs wait: the child finishes its
# job and takes no other.
: >"$MLOG"
add_jobs kq 1 3 '{"ms":1000}'
master_start -q kq -x builtin:sleep -w 1 --drain-delay 5000
ok "a job runs" wait_for '[ "$(count kq active)" = 1 ]'
kid=$(children)
kill -9 "$MPID"
ok "the child completes its job and exits" wait_gone "$kid" 5
is "one job completed" "$(count kq completed)" 1
is "two still wait" "$(count kq wait)" 2
is "none is active" "$(count kq active)" 0
# The master loads the scripts once for all: its children, started on a
# Redis without them, upload none (a thousand children would upload each
# script a thousand times).
: >"$MLOG"
rcli SCRIPT FLUSH >/dev/null
rcli CONFIG RESETSTAT >/dev/null
master_start -q lq -x builtin:noop -w 4 --drain-delay 300
add_jobs lq 1 40 '{}'
ok "40 jobs complete" wait_for '[ "$(count lq completed)" = 40 ]' 10
nscripts=$(ls "$top_srcdir"/lua/*.lua | grep -c .)
loads=$(rcli INFO commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_script|load:calls=\([0-9]*\),.*/\1/p;
    s/^cmdstat_script:calls=\([0-9]*\),.*/\1/p')
is "SCRIPT LOAD: once per script ($nscripts), by the master" "$loads" \
    "$nscripts"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
