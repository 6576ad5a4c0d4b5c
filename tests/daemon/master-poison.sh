#!/bin/sh
# bullmq-master: poison jobs end, once, and the next job runs: an atm that
# is not an integer (with and without a backoff), an id with a NUL byte,
# a wait entry whose key holds a string; and the stalled check goes on
# past such entries.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

rcli HSET bull:pq:poison name n data '{}' opts '{"attempts":2}' \
    timestamp 1 atm abc >/dev/null
rcli HSET bull:pq:later name n data '{}' \
    opts '{"attempts":3,"backoff":100}' timestamp 1 atm abc >/dev/null
rcli SET bull:pq:str hello >/dev/null
# redis-cli reads "\x00" in a quoted argument of its own input as a NUL
printf 'HSET "bull:pq:nu\\x00l" name n data {} opts {} timestamp 1\n' |
    rcli >/dev/null
printf 'LPUSH bull:pq:wait "nu\\x00l"\n' | rcli >/dev/null
rcli LPUSH bull:pq:wait poison later str >/dev/null
add_jobs pq 1 1 '{}'
# in active with no lock, waiting for the stalled check: a string, a job
# whose stall counter is not a count, and a NUL id again
rcli SET bull:pq:str2 x >/dev/null
rcli HSET bull:pq:stc name n data '{}' opts '{}' timestamp 1 stc x >/dev/null
rcli LPUSH bull:pq:active str2 stc >/dev/null
rcli SADD bull:pq:stalled str2 stc >/dev/null
printf 'HSET "bull:pq:nu\\x00l2" name n data {} opts {} timestamp 1\n' |
    rcli >/dev/null
printf 'LPUSH bull:pq:active "nu\\x00l2"\n' | rcli >/dev/null
printf 'SADD bull:pq:stalled "nu\\x00l2"\n' | rcli >/dev/null

master_start -q pq -x builtin:fail -w 2 --drain-delay 300 \
    --stalled-interval 500
ok "the bad atm jobs, the NUL ids and the job after them fail" \
    wait_for '[ "$(count pq failed)" = 6 ]'
is "once: the retried job was started once" \
    "$(rcli HGET bull:pq:poison ats)" 1
is "the one with a backoff too" "$(rcli HGET bull:pq:later ats)" 1
is "its reason names the field" "$(rcli HGET bull:pq:later failedReason)" \
    "failed (not retried: atm is not an integer)"
is "the NUL id's reason names the problem" \
    "$(printf 'HGET "bull:pq:nu\\x00l" failedReason\n' | rcli)" \
    "job id contains a NUL byte"
ok "the string entry is named in a warning" \
    wait_log "warning: worker [12]: complete job str: its key holds no hash"
is "its key is left alone" "$(rcli GET bull:pq:str)" hello
ok "the stalled check goes on past a string" \
    wait_log "job stc stalled: recovered"
ok "a stall counter that is not a count fails its job, named" \
    wait_for '[ "$(rcli HGET bull:pq:stc failedReason)" = "job'"'"'s stalled counter (stc) is not a count" ]'
ok "and the string it recovered is named too" \
    wait_log "complete job str2: its key holds no hash"
is "nothing is left in wait or active" "$(count pq wait)$(count pq active)" 00
sleep 1
is "the NUL id the stalled check recovered ends failed too" \
    "$(printf 'HGET "bull:pq:nu\\x00l2" failedReason\n' | rcli)" \
    "job id contains a NUL byte"
ok "its recovery is logged with the NUL shown (the log escapes the \\)" \
    wait_log 'job nu\\\\x00l2 stalled: recovered'
is "nothing is recovered twice" "$(grep -c 'stalled: recovered' "$MLOG")" 3
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
