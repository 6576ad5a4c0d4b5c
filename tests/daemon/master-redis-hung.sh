#!/bin/sh
# bullmq-master with a Redis that stops answering (SIGSTOP): the master's
# calls give up after their timeout with a message that says so, and TERM
# waits out that timeout once, not once for every idle child it wakes.
# The give-back of a job whose child died meanwhile waits in the master's
# list until Redis answers.  The children's calls give up after
# redis-timeout too (set by HUP here): idle children leave a TERM on their
# own, and a child whose finish got no answer gets back to work once Redis
# answers, the job completed once.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

# TERM the master while Redis is stopped and let Redis go on once it is
# gone (or after S seconds): STOPPED is true if it went, SECS how long it
# took, MRC its exit status.
term_while_stopped() {
	t0=$(date +%s)
	kill -TERM "$MPID"
	wait_gone "$MPID" "$1" && STOPPED=true || STOPPED=false
	SECS=$(($(date +%s) - t0))
	kill -CONT "$REDIS_PID"
	wait "$MPID"
	MRC=$?
}

master_start -q hq -x builtin:noop -w 4 --drain-delay 1000 \
    --graceful-timeout 2000
ok "4 children at start" wait_for '[ "$(nchildren)" = 4 ]'
sleep 0.5
kill -STOP "$REDIS_PID"
term_while_stopped 40
ok "TERM: the master stops" $STOPPED
is "with exit 0" "$MRC" 0
ok "the timeout is named as one (master-redis-timeout)" \
    grep -q "bullmq-master\[$MPID\]: warning: .*: redis: no answer within 1000 ms" "$MLOG"
ok "waited out once, not for each of the 4 children: within one timeout and graceful-timeout ($SECS s)" \
    test "$SECS" -le 20
ok "the children leave at once, their wait ended by the lifeline: none killed" \
    sh -c "! grep -q 'graceful-timeout: killing' '$MLOG' && [ $SECS -le 3 ]"

# A child that dies holding a job while Redis does not answer: the give-back
# waits in the master's list and is made once Redis answers again.
: >"$MLOG"
add_jobs hq 1 1 '{"ms":3000}'
master_start -q hq -x builtin:sleep -w 1 --drain-delay 1000 \
    --lock-duration 60000 --stalled-interval 60000
ok "the job runs" wait_for '[ "$(count hq active)" = 1 ]'
kid=$(children)
kill -STOP "$REDIS_PID"
kill -KILL "$kid"
ok "the give-back waits for Redis, saying why" \
    wait_for "grep -q 'give back: redis: no answer within 1000 ms\\|job 1 of child 1 (pid $kid): given back once redis answers' '$MLOG'" 15
sleep 1
kill -CONT "$REDIS_PID"
ok "and is made when it answers: the job completes" \
    wait_for '[ "$(count hq completed)" = 1 ]' 20
is "once given back, as a stall" "$(rcli HGET bull:hq:1 stc)" 1
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

# redis-timeout from the file, lowered by HUP: the children are replaced,
# the master's own calls follow at once.
: >"$MLOG"
CONF=$TMPD/hung.conf
echo "redis-timeout = 20000" >"$CONF"
master_start -c "$CONF" -q tq -x builtin:noop -w 2 --drain-delay 1000
ok "2 children at start" wait_for '[ "$(nchildren)" = 2 ]'
old=$(children)
echo "redis-timeout = 1000" >"$CONF"
kill -HUP "$MPID"
ok "HUP to redis-timeout = 1000 replaces the children" \
    wait_log "reloaded settings: 2 workers, children replaced"
ok "2 new children, idle" wait_for '[ "$(children | grep -cxF "$old")" = 0 ] &&
    [ "$(ps -o args= --ppid "$MPID" | grep -c " tq idle")" = 2 ]'
sleep 0.5
kill -STOP "$REDIS_PID"
ok "an idle child gives up on the silent server, naming the timeout" \
    wait_log "worker [0-9]*: fetch: redis: no answer within 1000 ms" 8
ok "and tries again with back-off" wait_log "retrying in [0-9]* ms" 5
term_while_stopped 15
ok "TERM: the master stops" $STOPPED
is "with exit 0" "$MRC" 0
ok "the master's calls waited master-redis-timeout, 1000 ms, not 20000" \
    grep -q "bullmq-master\[$MPID\]: warning: .*: redis: no answer within 1000 ms" "$MLOG"
ok "the children left on their own, none killed ($SECS s)" \
    sh -c "! grep -q 'graceful-timeout: killing' '$MLOG' && [ $SECS -le 6 ]"

# A child whose finish gets no answer: it says so, waits for Redis with
# back-off and, once Redis answers, the job is completed once, whether
# the finish it sent or the master's give-back reached Redis first.
: >"$MLOG"
add_jobs bq 1 1 '{"ms":2000}'
master_start -q bq -x builtin:sleep -w 1 --drain-delay 1000 \
    --redis-timeout 1000 --stalled-interval 60000
ok "the job runs" wait_for '[ "$(count bq active)" = 1 ]'
sleep 0.5
kill -STOP "$REDIS_PID"
ok "its finish gets no answer: the child says so" \
    wait_log "worker [0-9]*: job 1: redis: no answer within 1000 ms" 8
ok "and waits for Redis with back-off" wait_log "retrying in [0-9]* ms" 5
sleep 1
kill -CONT "$REDIS_PID"
ok "once Redis answers, the child is back" \
    wait_log "worker [0-9]*: connected to redis again" 10
ok "and the job is completed" wait_for '[ "$(count bq completed)" = 1 ]' 10
is "not failed" "$(count bq failed)" 0
is "nothing left in wait or active" "$(count bq wait) $(count bq active)" \
    "0 0"
is "one completed event" "$(rcli XRANGE bull:bq:events - + |
    grep -cx completed)" 1

# The same with a second job waiting: the finish that Redis runs once it
# answers again also moves the next job to active, locked for a child that
# dropped the connection.  The child gives that job back as soon as it is
# connected again, without counting a stall, and runs it: it does not wait
# for its lock (30 s) to expire and for the stalled checker (60 s).
: >"$MLOG"
add_jobs bq 2 2 '{"ms":2000}'
add_jobs bq 3 3 '{"ms":10}'
ok "next: job 2 runs" wait_for '[ "$(rcli LINDEX bull:bq:active 0)" = 2 ]'
sleep 0.5
kill -STOP "$REDIS_PID"
ok "next: its finish gets no answer" \
    wait_log "worker [0-9]*: job 2: redis: no answer within 1000 ms" 8
sleep 1
kill -CONT "$REDIS_PID"
ok "next: the child gives back the job its lost finish fetched" \
    wait_log "worker [0-9]*: 1 job fetched by a call that got no answer: given back to wait" 10
ok "next: both jobs are completed, job 3 well before its lock expires" \
    wait_for '[ "$(count bq completed)" = 3 ]' 8
is "next: nothing left in wait or active" \
    "$(count bq wait) $(count bq active)" "0 0"
is "next: job 3 was not counted as stalled" \
    "$(rcli HEXISTS bull:bq:3 stc) $(rcli XRANGE bull:bq:events - + |
    grep -cx stalled)" "0 0"
is "next: job 3 went back to wait from active once" "$(rcli EVAL "
local n = 0
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local f = e[2]
  if f[2] == 'waiting' and f[4] == '3' and f[6] == 'active' then n = n + 1 end
end
return n" 1 bull:bq:events)" 1
is "next: one completed event each" "$(rcli XRANGE bull:bq:events - + |
    grep -cx completed)" 3
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
