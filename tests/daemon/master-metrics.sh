#!/bin/sh
# bullmq-master: metrics-listen serves /metrics in Prometheus's text format
# (promtool check metrics passes) with the jobs' outcomes and durations the
# children report; statsd sends the same as StatsD lines over UDP (read
# here on a socket of the test's own); a failed job is logged with its
# queue, id, name, attempt and reason, every job with access-log; a flood
# of connections and garbage on the HTTP port leaves the master working.
# Redis errors and reconnects are counted.  A build without libmicrohttpd
# refuses metrics-listen.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 77; }

# A build without libmicrohttpd refuses metrics-listen, saying why.
if ! grep -q -- '-DHAVE_MICROHTTPD=1' "$top_builddir/Makefile"; then
	out=$("$BULLMQ_MASTER" --check -q q -x builtin:noop \
	    --metrics-listen 127.0.0.1:9464 2>&1)
	is "no libmicrohttpd: metrics-listen is refused" "$?" 1
	is "saying why" "$out" "bullmq-master: --metrics-listen: this build \
has no metrics (built without libmicrohttpd)"
	finish
fi
redis_start

# A StatsD server: every datagram to 127.0.0.1:PORT goes to $TMPD/statsd,
# the port to $TMPD/statsd.port.
python3 - "$TMPD" <<'PY' &
import socket, sys
d = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(d + "/statsd.port.tmp", "w").write(str(s.getsockname()[1]))
import os
os.rename(d + "/statsd.port.tmp", d + "/statsd.port")
s.settimeout(60)
with open(d + "/statsd", "a") as f:
    while True:
        try:
            data = s.recv(65536)
        except socket.timeout:
            break
        f.write(data.decode())
        f.flush()
PY
track $!
ok "the StatsD server listens" wait_for "[ -s '$TMPD/statsd.port' ]" 10
SPORT=$(cat "$TMPD/statsd.port")

# get PATH: the body of http://127.0.0.1:$PORT/PATH, or the HTTP status
get() {
	python3 - "$PORT" "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1:%s/%s" % (sys.argv[1],
        sys.argv[2]), timeout=5)
    sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    print("status %d" % e.code)
PY
}

# metric NAME: its value in $TMPD/m
metric() {
	awk -v n="$1" '$1 == n { print $2 }' "$TMPD/m"
}

out=$("$BULLMQ_MASTER" --check -q q -x builtin:noop \
    --metrics-listen '[::1]:9464' 2>&1)
is "--check takes metrics-listen" "$?" 0
ok "and prints it" sh -c "printf '%s\n' '$out' | grep -qx 'metrics-listen = \[::1\]:9464'"
master_start -q mq -x builtin:fail -w 2 --drain-delay 300 \
    --metrics-listen 127.0.0.1:0 --statsd "127.0.0.1:$SPORT" --access-log
ok "the master serves /metrics" wait_log 'serving /metrics on port [1-9]'
PORT=$(sed -n 's/.*serving \/metrics on port \([0-9]*\).*/\1/p' "$MLOG")
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
# ten jobs of two attempts each: ten retried, then ten failed
add_jobs mq 1 10 '{}' '{"attempts":2}'
ok "the ten jobs fail" wait_for '[ "$(count mq failed)" = 10 ]' 15

get metrics >"$TMPD/m"
ok "promtool check metrics passes" sh -c "promtool check metrics <'$TMPD/m'"
ok "its content type is Prometheus's text format" python3 -c "
import urllib.request
r = urllib.request.urlopen('http://127.0.0.1:$PORT/metrics', timeout=5)
assert r.headers['Content-Type'].startswith('text/plain; version=0.0.4')"
ok "the failures are counted" wait_for \
    "get metrics >'$TMPD/m'; [ \"\$(metric 'bullmq_master_jobs_total{outcome=\"failed\"}')\" = 10 ]" 5
is "and the retries" \
    "$(metric 'bullmq_master_jobs_total{outcome="retried"}')" 10
is "no job completed" \
    "$(metric 'bullmq_master_jobs_total{outcome="completed"}')" 0
is "twenty durations" "$(metric bullmq_master_job_duration_seconds_count)" 20
is "in the +Inf bucket too" \
    "$(metric 'bullmq_master_job_duration_seconds_bucket{le="+Inf"}')" 20
is "2 workers wanted" "$(metric bullmq_master_workers_wanted)" 2
is "2 running" "$(metric bullmq_master_workers_running)" 2
is "redis answers" "$(metric bullmq_master_redis_up)" 1
ok "the queue's counts are there" \
    wait_for "get metrics >'$TMPD/m'; [ \"\$(metric 'bullmq_master_queue_jobs{state=\"failed\"}')\" = 10 ]" 8
is "another path: 404" "$(get nothing)" "status 404"

# the logs
ok "a failed job's line: queue, id, name, attempt, reason" \
    wait_log 'warning: worker [12]: queue mq job 3 (test) attempt 2 of 2 failed: failed$'
ok "a retried one says so" \
    wait_log 'queue mq job 3 (test) attempt 1 of 2 failed: failed; it will be retried$'
ok "access-log: a line a job" wait_log 'worker [12]: job 3 (test) failed in [0-9]*\.[0-9]* ms$'
ok "every line has the time in front" \
    eval "! grep -qv '^20[0-9-]*T[0-9:]*\\.[0-9][0-9][0-9]Z ' '$MLOG'"

# StatsD: the counters add up, a duration per attempt
total() {
	sed -n "s/^$1:\\([0-9]*\\)|c\$/\\1/p" "$TMPD/statsd" |
	    awk '{ s += $1 } END { print s + 0 }'
}
ok "StatsD: bullmq.job.failed adds up to 10" \
    wait_for '[ "$(total bullmq.job.failed)" = 10 ]' 5
is "StatsD: bullmq.job.retried too" "$(total bullmq.job.retried)" 10
is "StatsD: a bullmq.job.duration a job run" \
    "$(grep -c '^bullmq\.job\.duration:[0-9]*|ms$' "$TMPD/statsd")" 20
ok "StatsD: the gauges" grep -q '^bullmq\.workers\.running:2|g$' "$TMPD/statsd"

# A flood: 200 connections at once, garbage on some, half-sent requests
# left open; jobs still run meanwhile, and /metrics answers after.
python3 - "$PORT" <<'PY' &
import socket, sys, time
socks = []
for i in range(200):
    try:
        s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
        if i % 3 == 0:
            s.send(b"\x00\xff garbage \r\n\r\n" * 50)
        elif i % 3 == 1:
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        socks.append(s)
    except OSError:
        pass
time.sleep(3)
PY
FLOOD=$!
track $FLOOD
add_jobs mq 11 20 '{}' '{"attempts":1}'
ok "during the flood the jobs still run" \
    wait_for '[ "$(count mq failed)" = 20 ]' 10
ok "the master still runs" kill -0 "$MPID"
wait "$FLOOD"
ok "after the flood /metrics answers" \
    wait_for "get metrics >'$TMPD/m'; [ \"\$(metric 'bullmq_master_jobs_total{outcome=\"failed\"}')\" = 20 ]" 10

# Redis stops and comes back: counted, and /metrics answers throughout.
redis_stop
ok "Redis down: errors are counted" \
    wait_for "get metrics >'$TMPD/m'; [ \"\$(metric bullmq_master_redis_errors_total)\" -gt 0 ]" 10
ok "Redis down: redis_up says so" \
    wait_for "get metrics >'$TMPD/m'; [ \"\$(metric bullmq_master_redis_up)\" = 0 ]" 12
redis_start
ok "Redis back: the reconnects are counted" \
    wait_for "get metrics >'$TMPD/m'; [ \"\$(metric bullmq_master_redis_reconnects_total)\" -gt 0 ]" 15
ok "Redis back: redis_up says so" \
    wait_for "get metrics >'$TMPD/m'; [ \"\$(metric bullmq_master_redis_up)\" = 1 ]" 12
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

[ "$T_FAIL" -eq 0 ] || show_log
finish
