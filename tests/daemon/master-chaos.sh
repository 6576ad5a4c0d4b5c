#!/bin/sh
# bullmq-master: drain 20,000 jobs while a loop kills a random child every
# 200 ms.  Every job completes; none is left in active or wait.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
N=${CHAOS_JOBS:-20000}

add_jobs xq 1 $N '{}'
master_start -q xq -x builtin:noop -w 4 --drain-delay 300 \
    --lock-duration 2000 --stalled-interval 1000 --max-stalled-count 1000 \
    --max-restarts 100000 --max-seconds 1
ok "4 children" wait_for '[ "$(nchildren)" = 4 ]'
kills=0
i=0
while [ "$(count xq completed)" != "$N" ] && [ $i -lt 600 ]; do
	victim=$(children | shuf -n 1)
	if [ -n "$victim" ]; then
		kill -9 "$victim" 2>/dev/null && kills=$((kills + 1))
	fi
	sleep 0.2
	i=$((i + 1))
done
echo "# $kills children killed"
ok "every job completes" wait_for '[ "$(count xq completed)" = '$N' ]' 30
is "none is left active" "$(count xq active)" 0
is "none is left waiting" "$(count xq wait)" 0
is "none failed" "$(count xq failed)" 0
attempts=$(rcli EVAL "local s = 0
for i = 1, tonumber(ARGV[1]) do
  s = s + tonumber(redis.call('HGET', KEYS[1] .. i, 'ats') or 0)
end
return s" 1 bull:xq: $N)
echo "# $attempts processing attempts for $N jobs"
ok "each job ran at least once" test "$attempts" -ge "$N"
ok "children were killed" test "$kills" -gt 0
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log | tail -40
finish
