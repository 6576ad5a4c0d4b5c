#!/bin/sh
# tests/soak/soak.sh: a long run of bullmq-master under faults, then an
# account of every job.  "make soak" runs it; make check and CI do not.
#
#   SOAK_JOBS=N       jobs to run (default 1000000; 20000 for a short run)
#   SOAK_WORKERS=N    children at the start (default 4)
#   SOAK_TIMEOUT=S    give up after S seconds (default: 600, or N / 100)
#
# A private redis-server with AOF and appendfsync always, so that a KILL
# loses nothing it acknowledged; the processor is contrib/examples'
# libexample.so, which sums data.numbers, adds one log line to the job each
# time it runs it (the record this account reads) and fails data without
# numbers.  While a producer adds the jobs in batches and the master drains
# them, the faults come at random: a child killed (KILL or SEGV) about
# once a second, Redis killed and started again from its AOF every 20 to
# 40 s, storms of HUP (5 in half a second, the config file's workers
# changed) every 10 to 20 s.  One job in 100 is poison: its data has no
# numbers, or is not JSON at all.
#
# Then every id 1..N must be in exactly one state: completed (its return
# value the sum of its number, finished once: attemptsMade 1), failed with
# a reason (a poison job, or one stalled more than max-stalled-count times
# by the kills), or removed by its policy (none is: everything is kept).
# The end prints the jobs, the faults injected, the jobs lost (in no
# state, and not waiting to run at a time-out), the duplicated completions,
# and the runs over one (a job run again after its child was killed: at
# least once).  Exit 0 when every job finished and nothing is lost,
# duplicated or wrong.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
N=${SOAK_JOBS:-1000000}
W=${SOAK_WORKERS:-4}
TIMEOUT=${SOAK_TIMEOUT:-$((N / 100 > 600 ? N / 100 : 600))}
BATCH=1000
EXAMPLE=$top_builddir/contrib/examples/.libs/libexample.so
Q=soak
REDIS_ARGS="--appendonly yes --appendfsync always"

if [ ! -f "$EXAMPLE" ]; then
	echo "soak: $EXAMPLE not built (make soak builds it)" >&2
	exit 1
fi
ulimit -c 0

# A random number from 0 to $1 - 1.
rnd() {
	echo $(($(od -An -N4 -tu4 /dev/urandom) % $1))
}

# Write the config file with N workers.
config() {
	cat >"$TMPD/soak.conf" <<EOF
redis = $REDIS_URL
queue = $Q
processor = so:$EXAMPLE
workers = $1
drain-delay = 300
lock-duration = 3000
stalled-interval = 1500
max-stalled-count = 3
max-restarts = 100000
max-seconds = 1
redis-timeout = 3000
graceful-timeout = 10000
EOF
}

# Add jobs FROM..TO; an id that exists already is left alone, so that a
# batch whose answer a Redis kill took can be sent again.  Every 100th is
# poison: no numbers (i % 100 == 0) or not JSON (i % 100 == 50).
add_batch() {
	rcli EVAL "
local ts = redis.call('TIME')
local now = ts[1] * 1000 + math.floor(ts[2] / 1000)
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local id = tostring(i)
  if redis.call('EXISTS', KEYS[1] .. id) == 0 then
    local data = '{\"numbers\":[' .. id .. ']}'
    if i % 100 == 0 then data = '{\"poison\":true}'
    elseif i % 100 == 50 then data = '{not json' end
    redis.call('HSET', KEYS[1] .. id, 'name', 'soak', 'data', data,
      'opts', '{\"attempts\":1}', 'timestamp', now, 'delay', 0,
      'priority', 0)
    redis.call('LPUSH', KEYS[1] .. 'wait', id)
  end
end
redis.call('ZADD', KEYS[1] .. 'marker', 0, '0')
return 'OK'" 1 "bull:$Q:" "$1" "$2" 2>/dev/null | grep -q '^OK$'
}

# The producer: every batch, each sent again until Redis took it.
producer() {
	from=1
	while [ "$from" -le "$N" ]; do
		to=$((from + BATCH - 1))
		[ "$to" -le "$N" ] || to=$N
		until add_batch "$from" "$to"; do
			sleep 0.2
		done
		from=$((to + 1))
	done
	: >"$TMPD/added"
}

# Kill Redis and start it again from its AOF, on the same socket; loading
# a large one takes longer than redis_start waits.
redis_restart() {
	kill -KILL "$REDIS_PID"
	wait_for "! kill -0 $REDIS_PID" 5
	sleep 0.$(rnd 10)
	"$REDIS_SERVER" --port 0 --unixsocket "$REDIS_SOCK" \
	    --unixsocketperm 700 --save '' --dir "$TMPD" \
	    --pidfile "$TMPD/redis.pid" --logfile "$TMPD/redis.log" \
	    --daemonize yes $REDIS_ARGS >/dev/null
	if ! wait_for '[ "$(rcli PING 2>/dev/null)" = PONG ]' 300; then
		echo "soak: redis-server did not come back" >&2
		tail -n 5 "$TMPD/redis.log" >&2
		exit 1
	fi
	REDIS_PID=$(cat "$TMPD/redis.pid")
}

# Whether nothing is left to run (Redis answering, every job added).
drained() {
	[ -e "$TMPD/added" ] &&
	    [ "$(rcli EVAL "return redis.call('LLEN', KEYS[1] .. 'wait') +
		redis.call('LLEN', KEYS[1] .. 'active') +
		redis.call('ZCARD', KEYS[1] .. 'delayed') +
		redis.call('ZCARD', KEYS[1] .. 'prioritized') +
		redis.call('LLEN', KEYS[1] .. 'paused')" 1 "bull:$Q:" \
		2>/dev/null)" = 0 ]
}

redis_start
config "$W"
master_start -c "$TMPD/soak.conf"
producer &
PROD=$!
track "$PROD"

t0=$(date +%s)
kills=0 restarts=0 hups=0 storms=0
next_restart=$((t0 + 20 + $(rnd 20)))
next_storm=$((t0 + 10 + $(rnd 10)))
last=$t0
echo "soak: $N jobs, $W workers at the start, at most $TIMEOUT s"
while ! drained; do
	now=$(date +%s)
	if [ $((now - t0)) -ge "$TIMEOUT" ]; then
		echo "soak: timed out after $TIMEOUT s"
		break
	fi
	if ! kill -0 "$MPID" 2>/dev/null; then
		echo "soak: the master exited"
		break
	fi
	# a child killed, about once a second
	set -- $(children)
	if [ $# -gt 0 ]; then
		shift "$(rnd $#)"
		if [ $# -gt 0 ]; then
			if [ "$(rnd 4)" = 0 ]; then sig=SEGV; else sig=KILL; fi
			kill -"$sig" "$1" 2>/dev/null && kills=$((kills + 1))
		fi
	fi
	# Redis killed and started again from its AOF
	if [ "$now" -ge "$next_restart" ]; then
		redis_restart
		restarts=$((restarts + 1))
		next_restart=$((now + 20 + $(rnd 20)))
	fi
	# a storm of HUPs, the number of workers changed
	if [ "$now" -ge "$next_storm" ]; then
		config $((2 + $(rnd 5)))
		for i in 1 2 3 4 5; do
			kill -HUP "$MPID" && hups=$((hups + 1))
			sleep 0.1
		done
		storms=$((storms + 1))
		next_storm=$((now + 10 + $(rnd 10)))
	fi
	if [ $((now - last)) -ge 10 ]; then
		last=$now
		echo "soak: $((now - t0)) s: $(rcli ZCARD "bull:$Q:completed" \
		    2>/dev/null) completed, $(rcli ZCARD "bull:$Q:failed" \
		    2>/dev/null) failed; $kills kills, $restarts redis" \
		    "restarts, $hups HUPs"
	fi
	sleep 0.$((5 + $(rnd 5)))
done
kill "$PROD" 2>/dev/null
kill -TERM "$MPID"
master_wait 30
elapsed=$(($(date +%s) - t0))

# The account, 10000 ids a call: completed (once: atm 1; the right sum;
# not poison), failed (with a reason), lost, in two states, and the runs
# over one, from the job's log lines, one a run.
account() {
	rcli EVAL "
local p = KEYS[1]
local c = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  local id = tostring(i)
  local poison = i % 100 == 0 or i % 100 == 50
  local done = redis.call('ZSCORE', p .. 'completed', id)
  local failed = redis.call('ZSCORE', p .. 'failed', id)
  local runs = redis.call('LLEN', p .. id .. ':logs')
  if done and failed then
    c[5] = c[5] + 1
  elseif done then
    c[1] = c[1] + 1
    local h = redis.call('HMGET', p .. id, 'atm', 'returnvalue')
    if h[1] ~= '1' then c[6] = c[6] + 1 end
    if poison or h[2] ~= '{\"sum\":' .. id .. ',\"count\":1}' then
      c[7] = c[7] + 1
    end
  elseif failed then
    c[2] = c[2] + 1
    local r = redis.call('HGET', p .. id, 'failedReason')
    if not r or r == '' then c[8] = c[8] + 1 end
    if not poison then c[3] = c[3] + 1 end
  elseif redis.call('EXISTS', p .. id) == 1 then
    c[4] = c[4] + 1
  else
    c[10] = c[10] + 1
  end
  if runs > 1 then c[9] = c[9] + runs - 1 end
end
return c" 1 "bull:$Q:" "$1" "$2" | tr '\n' ' '
}
set -- 0 0 0 0 0 0 0 0 0 0
from=1
while [ "$from" -le "$N" ]; do
	to=$((from + 9999))
	[ "$to" -le "$N" ] || to=$N
	a=$(account "$from" "$to")
	if [ -z "$a" ]; then
		echo "soak: cannot read the jobs $from..$to" >&2
		exit 1
	fi
	# shellcheck disable=SC2086
	set -- $(echo "$* $a" | awk '{ for (i = 1; i <= 10; i++)
	    printf "%d ", $i + $(i + 10) }')
	from=$((to + 1))
done
completed=$1 failed=$2 stalled=$3 unaccounted=$4 twice=$5 dup=$6 wrong=$7
noreason=$8 reruns=$9 nohash=${10}
# Of the jobs in no final state, those still to run when it timed out, and
# those the producer had not added yet, are not lost.
pending=$(rcli EVAL "return redis.call('LLEN', KEYS[1] .. 'wait') +
    redis.call('LLEN', KEYS[1] .. 'active') +
    redis.call('ZCARD', KEYS[1] .. 'delayed') +
    redis.call('ZCARD', KEYS[1] .. 'prioritized')" 1 "bull:$Q:")
if [ -e "$TMPD/added" ]; then
	notadded=0
	lost=$((unaccounted + nohash - pending))
else
	notadded=$nohash
	lost=$((unaccounted - pending))
fi
echo "soak: jobs $N in $elapsed s; master exit ${MRC}"
echo "soak: faults injected $((kills + restarts + hups)):" \
    "$kills children killed, $restarts redis kills and restarts," \
    "$hups HUPs in $storms storms"
echo "soak: completed $completed, failed $failed" \
    "($((failed - stalled)) poison, $stalled stalled too often)," \
    "removed by policy 0"
echo "soak: lost $lost, duplicated completions $dup, in two states $twice," \
    "wrong outcome $wrong, failed without a reason $noreason"
echo "soak: runs over one $reruns (jobs run again after a kill)"
if [ "$pending" != 0 ] || [ "$notadded" != 0 ]; then
	echo "soak: unfinished: $pending still to run, $notadded not added yet"
fi
if [ "$stalled" -gt 0 ]; then
	rcli EVAL "
local seen, out = {}, {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1] .. 'failed', 0, -1)) do
  local i = tonumber(id)
  if i and i % 100 ~= 0 and i % 100 ~= 50 then
    local r = redis.call('HGET', KEYS[1] .. id, 'failedReason') or ''
    if not seen[r] then seen[r] = true; out[#out + 1] = r end
    if #out == 5 then break end
  end
end
return out" 1 "bull:$Q:" | sed 's/^/soak: a reason of those not poison: /'
fi
grep -c 'killed by signal' "$MLOG" | sed 's/^/soak: children seen killed by the master: /'
[ "$lost" = 0 ] && [ "$pending" = 0 ] && [ "$notadded" = 0 ] &&
    [ "$dup" = 0 ] && [ "$twice" = 0 ] &&
    [ "$wrong" = 0 ] && [ "$noreason" = 0 ] &&
    [ $((completed + failed)) = "$N" ]
