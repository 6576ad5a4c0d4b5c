#!/bin/sh
# bullmq-master against a Redis that fails in ways other than a restart or
# a hang: out of memory with noeviction, a read-only replica, maxclients
# reached, connections killed with CLIENT KILL, and SCRIPT FLUSH in the
# middle of a drain.  In each, no job is lost: it completes once, fails
# with a reason, or waits; none is run twice where nothing forced it, and
# nothing retries in a tight loop.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

# How many of jobs FROM..TO of queue Q were started other than once
# (the ats field their fetches count).
not_once() {
	rcli EVAL "
local n = 0
for i = tonumber(ARGV[1]), tonumber(ARGV[2]) do
  if redis.call('HGET', KEYS[1] .. i, 'ats') ~= '1' then n = n + 1 end
end
return n" 1 "bull:$1:" "$2" "$3"
}

# Stop the master with TERM; check that it exits 0.
master_stop() {
	kill -TERM "$MPID"
	master_wait
	is "$1: TERM: exit 0" "$MRC" 0
}

# Make the private Redis out of memory (noeviction), by 200 KB of the
# megabyte of a ballast key: the little its clients take and give back
# does not end it.
oom() {
	rcli SETRANGE oom:ballast 1000000 x >/dev/null
	rcli CONFIG SET maxmemory-policy noeviction >/dev/null
	rcli CONFIG SET maxmemory "$(($(rcli INFO memory |
	    sed -n 's/^used_memory:\([0-9]*\).*/\1/p') - 200000))" >/dev/null
}

# The id of the master's connection, the one with no name but ours.
master_conn() {
	rcli CLIENT LIST | grep -v 'name=bull:\|cmd=client' |
	    sed -n 's/^id=\([0-9]*\) .*/\1/p'
}

# --- out of memory, noeviction -----------------------------------------
# The lock extension must not need memory: jobs running when Redis fills
# up keep their locks, and finish (a finish frees before it writes).
master_start -q oq -x builtin:sleep -w 2 --drain-delay 300 \
    --lock-duration 3000 --stalled-interval 500
add_jobs oq 1 2 '{"ms":4500}'
ok "oom: 2 jobs run" wait_for '[ "$(count oq active)" = 2 ]'
oom
ok "oom: Redis refuses writes that take memory" \
    sh -c "! $REDIS_CLI -s $REDIS_SOCK SET oom:probe x | grep -q OK"
ok "oom: both jobs complete, Redis still out of memory" \
    wait_for '[ "$(count oq completed)" = 2 ]' 10
is "oom: each was started once" "$(not_once oq 1 2)" 0
ok "oom: no lock was lost" sh -c "! grep -q 'lost its lock' '$MLOG'"
ok "oom: the refused stalled check is logged" \
    grep -q "stalled check: .*OOM command not allowed" "$MLOG"
sleep 1.5
is "oom: once, not every stalled-interval" \
    "$(grep -c 'stalled check: .*OOM' "$MLOG")" 1
master_stop oom

# A fetch on its own, not a finish's, here a new child's, is refused: the
# jobs stay in wait, the child tries again every 5 s, and the drain goes
# on once memory is freed.
: >"$MLOG"
rcli CONFIG SET maxmemory 0 >/dev/null
add_jobs oq 3 8 '{"ms":10}'
oom
master_start -q oq -x builtin:sleep -w 1 --drain-delay 300
ok "oom: a fetch is refused" wait_log "fetch: .*OOM command not allowed" 5
sleep 3
is "oom: no job left wait" "$(count oq wait)" 6
is "oom: none is active" "$(count oq active)" 0
ok "oom: the fetch is retried in 5 s, not in a loop" \
    test "$(grep -c 'fetch: .*OOM' "$MLOG")" -le 2
rcli CONFIG SET maxmemory 0 >/dev/null
ok "oom: memory freed, every job completes" \
    wait_for '[ "$(count oq completed)" = 8 ]' 20
is "oom: each was started once" "$(not_once oq 3 8)" 0
is "oom: none failed" "$(count oq failed)" 0
master_stop "oom, refused fetch"
rcli DEL oom:ballast >/dev/null

# --- a read-only replica -----------------------------------------------
# A primary on a TCP port of 127.0.0.1 found free, the private Redis its
# replica; the master is pointed at the replica.
: >"$MLOG"
PSOCK=$TMPD/primary.sock
PRIMARY_PID=
for try in 1 2 3 4 5 6 7 8 9 10; do
	port=$(free_port)
	"$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --unixsocket "$PSOCK" \
	    --unixsocketperm 700 --save '' --appendonly no --dir "$TMPD" \
	    --dbfilename primary.rdb --pidfile "$TMPD/primary.pid" \
	    --logfile "$TMPD/primary.log" --daemonize yes >/dev/null
	if wait_for "$REDIS_CLI -s $PSOCK PING" 2; then
		PRIMARY_PID=$(cat "$TMPD/primary.pid")
		track "$PRIMARY_PID"
		break
	fi
done
ok "readonly: a primary runs" test -n "$PRIMARY_PID"
RSOCK=$REDIS_SOCK
REDIS_SOCK=$PSOCK
add_jobs ro 1 20 '{"ms":10}'
REDIS_SOCK=$RSOCK
rcli REPLICAOF 127.0.0.1 "$port" >/dev/null
ok "readonly: the replica has the jobs" \
    wait_for '[ "$(count ro wait)" = 20 ]' 10
master_start -q ro -x builtin:sleep -w 2 --drain-delay 300 \
    --stalled-interval 500
ok "readonly: the children are refused" \
    wait_log "worker .*READONLY You can.t write against a read only replica" 5
sleep 3
ok "readonly: each retries in 5 s, not in a loop" \
    test "$(grep -c 'worker .*READONLY' "$MLOG")" -le 4
is "readonly: no job moved" "$(count ro wait)" 20
is "readonly: none on the primary either" \
    "$("$REDIS_CLI" -s "$PSOCK" LLEN bull:ro:wait)" 20
is "readonly: the master kept its children" "$(nchildren)" 2
ok "readonly: no child exited" sh -c "! grep -q 'exited\|killed by' '$MLOG'"
# a failover: the replica promoted, the old primary gone
kill "$PRIMARY_PID"
rcli REPLICAOF NO ONE >/dev/null
ok "readonly: promoted, every job completes" \
    wait_for '[ "$(count ro completed)" = 20 ]' 20
is "readonly: each was started once" "$(not_once ro 1 20)" 0
is "readonly: none failed" "$(count ro failed)" 0
master_stop readonly

# --- maxclients ---------------------------------------------------------
# Room for the master and 3 of its 6 children: the others wait for a
# place, and the 3 drain the queue.  No redis-cli while it is full: the
# processor writes down each job it completes.
: >"$MLOG"
cat >"$TMPD/rec" <<EOS
#!/bin/sh
sed -n 's/^{"id":"\\([^"]*\\)".*/\\1/p' >>"$TMPD/rec.ids"
echo null
EOS
chmod +x "$TMPD/rec"
: >"$TMPD/rec.ids"
add_jobs mc 1 100 '{}'
maxclients=$(rcli CONFIG GET maxclients | tail -n 1)
rcli CONFIG SET maxclients 4 >/dev/null
master_start -q mc -x "exec:$TMPD/rec" -w 6 --drain-delay 300
ok "maxclients: children are refused" \
    wait_log "redis .*ERR max number of clients reached: retrying in" 15
ok "maxclients: 3 say they wait for redis" \
    wait_for '[ "$(ps -o args= --ppid $MPID | grep -c "mc waiting for redis")" = 3 ]' 5
ok "maxclients: the others complete every job" \
    wait_for '[ "$(wc -l <"$TMPD/rec.ids")" -ge 100 ]' 30
ok "maxclients: no child exited" sh -c "! grep -q 'exited\|killed by' '$MLOG'"
master_stop maxclients
rcli CONFIG SET maxclients "$maxclients" >/dev/null
is "maxclients: 100 completed" "$(count mc completed)" 100
is "maxclients: each once" "$(sort -u "$TMPD/rec.ids" | wc -l)" 100
is "maxclients: each processed once" "$(wc -l <"$TMPD/rec.ids")" 100
is "maxclients: none failed" "$(count mc failed)" 0

# --- CLIENT KILL ----------------------------------------------------------
# The connection of a child running a job: its finish goes out on a new
# connection, the job completes once and is not given back.
: >"$MLOG"
master_start -q kq -x builtin:sleep -w 1 --drain-delay 300 \
    --lock-duration 3000 --stalled-interval 500
add_jobs kq 1 1 '{"ms":2000}'
ok "kill: a job runs" wait_for '[ "$(count kq active)" = 1 ]'
sleep 0.3
cid=$(rcli CLIENT LIST | sed -n 's/^id=\([0-9]*\) .* name=bull:.*/\1/p')
is "kill: the child's connection is killed" "$(rcli CLIENT KILL ID "$cid")" 1
ok "kill: the job completes" wait_for '[ "$(count kq completed)" = 1 ]' 10
is "kill: started once" "$(not_once kq 1 1)" 0
is "kill: no stall counted" "$(rcli HEXISTS bull:kq:1 stc)" 0
ok "kill: not given back" sh -c "! grep -q 'given back' '$MLOG'"

# The connection of an idle child, blocked on the marker: it connects
# again and takes the next job.
sleep 0.5
cid=$(rcli CLIENT LIST | sed -n 's/^id=\([0-9]*\) .* name=bull:.*/\1/p')
is "kill: an idle child's connection is killed" \
    "$(rcli CLIENT KILL ID "$cid")" 1
add_jobs kq 2 2 '{"ms":10}'
ok "kill: the child takes the next job" \
    wait_for '[ "$(count kq completed)" = 2 ]' 10

# The master's own connection, while a job runs whose lock it extends:
# its next call, a stalled check or a lock extension, goes out on a new
# one.
add_jobs kq 3 3 '{"ms":2000}'
ok "kill: another job runs" wait_for '[ "$(count kq active)" = 1 ]'
sleep 0.3
mid=$(master_conn)
: >"$MLOG"
is "kill: the master's connection is killed" "$(rcli CLIENT KILL ID "$mid")" 1
ok "kill: the job completes" wait_for '[ "$(count kq completed)" = 3 ]' 10
is "kill: started once" "$(not_once kq 3 3)" 0
ok "kill: its lock was kept" sh -c "! grep -q 'lost its lock' '$MLOG'"
ok "kill: no call of the master failed" sh -c "! grep -q warning '$MLOG'"
ok "kill: the master connected again" \
    wait_for '[ -n "$(master_conn)" ] && [ "$(master_conn)" != "$mid" ]' 5
is "kill: none failed" "$(count kq failed)" 0
master_stop kill

# --- SCRIPT FLUSH during a drain --------------------------------------------
# The scripts are loaded again where they are missing (NOSCRIPT), the call
# is sent again, and the drain goes on.
: >"$MLOG"
rcli CONFIG RESETSTAT >/dev/null
master_start -q fq -x builtin:sleep -w 3 --drain-delay 300
add_jobs fq 1 300 '{"ms":5}'
for i in 1 2 3 4 5 6 7 8 9 10; do
	rcli SCRIPT FLUSH >/dev/null
	sleep 0.1
done
ok "flush: every job completes" wait_for '[ "$(count fq completed)" = 300 ]' 20
ok "flush: calls met NOSCRIPT" \
    sh -c "$REDIS_CLI -s $REDIS_SOCK INFO errorstats | grep -q 'errorstat_NOSCRIPT:count=[1-9]'"
is "flush: each was started once" "$(not_once fq 1 300)" 0
is "flush: none failed" "$(count fq failed)" 0
is "flush: none is left active" "$(count fq active)" 0
ok "flush: nothing logged" sh -c "! grep -q warning '$MLOG'"
master_stop flush
[ "$T_FAIL" -eq 0 ] || show_log
finish
