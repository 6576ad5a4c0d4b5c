#!/bin/sh
# A demo to watch: a throwaway redis-server on a private socket, 500 jobs
# added with `bullmq add-bulk`, bullmq-master draining them with 4 children,
# the counts printed as they move, one finished job shown, then a graceful
# stop.  Run from the top of a built tree: sh contrib/demo.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILDDIR:-$top}
BULLMQ=$bin/bullmq
MASTER=$bin/bullmq-master
for p in "$BULLMQ" "$MASTER"; do
	[ -x "$p" ] || { echo "demo: $p not built: run make first" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/bullmq-demo.XXXXXX)
sock=$dir/redis.sock
url=unix://$sock
master=
cleanup() {
	[ -n "$master" ] && kill "$master" 2>/dev/null
	[ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
	sleep 0.2
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

echo "== starting a throwaway redis-server on $sock"
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no \
    --dir "$dir" --pidfile "$dir/redis.pid" --daemonize yes \
    --logfile "$dir/redis.log"
while ! redis-cli -s "$sock" PING >/dev/null 2>&1; do sleep 0.1; done

echo "== adding 500 jobs to queue 'demo' (each sleeps 5 to 50 ms)"
i=0
while [ $i -lt 500 ]; do
	echo "{\"name\":\"resize\",\"data\":{\"image\":$i,\"ms\":$((5 + i % 46))}}"
	i=$((i + 1))
done | "$BULLMQ" -r "$url" add-bulk demo

echo "== starting bullmq-master with 4 children (builtin:sleep)"
"$MASTER" -r "$url" -q demo -w 4 -x builtin:sleep --stalled-interval 5000 \
    2>"$dir/master.log" &
master=$!

while :; do
	line=$("$BULLMQ" -r "$url" counts demo)
	echo "   $(echo "$line" | tr '\n' ' ')"
	left=$(redis-cli -s "$sock" EVAL "return redis.call('llen',KEYS[1]) +
	    redis.call('llen',KEYS[2]) + redis.call('zcard',KEYS[3])" 3 \
	    bull:demo:wait bull:demo:active bull:demo:delayed)
	[ "$left" -eq 0 ] && break
	sleep 0.5
done

echo "== one finished job, as Node's Job.fromId would read it"
"$BULLMQ" -r "$url" get demo 1
echo "== the events a Node QueueEvents saw (last 5)"
redis-cli -s "$sock" XREVRANGE bull:demo:events + - COUNT 5

echo "== stopping the master with TERM (graceful)"
kill -TERM "$master"
wait "$master" || true
master=
echo "== master log"
cat "$dir/master.log"
