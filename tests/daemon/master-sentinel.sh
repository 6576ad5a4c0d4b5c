#!/bin/sh
# bullmq-master on a redis+sentinel:// URL: one master, one replica and
# three redis-sentinel on 127.0.0.1 ports.  The master is killed (by its
# pid) in the middle of a drain; the sentinels promote the replica, the
# master's connection and every child's ask them again, and every job ends
# completed exactly once or is reported as run twice (at-least-once: a
# completion the old master had not yet passed on is lost with it), never
# lost.  How long processing stopped is printed.  Then two planned
# failovers (SENTINEL FAILOVER): one in the middle of a drain, one while
# the children wait for jobs, blocked in BZPOPMIN.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
SENTINEL=${SENTINEL:-$(command -v redis-sentinel || echo /usr/bin/redis-sentinel)}
if [ ! -x "$SENTINEL" ]; then
	echo "not ok - redis-sentinel not found (install the Debian package" \
	    "redis-sentinel)"
	exit 1
fi
N=400
NAME=bmqmaster
MPW=data-pw-$$
SPW=sentinel-pw-$$


# redis-cli on the data node at 127.0.0.1:PORT, or a sentinel (sat).
at() {
	port=$1
	shift
	"$REDIS_CLI" --no-auth-warning -a "$MPW" -p "$port" "$@"
}
sat() {
	port=$1
	shift
	"$REDIS_CLI" --no-auth-warning -a "$SPW" -p "$port" "$@"
}

# The failovers the sentinels made (the first one's count of
# +switch-master), and what to read when a part fails: each node's role
# and keys, and what the sentinels did.
switches() {
	grep -c '+switch-master' "$TMPD/sentinel1.log"
}
sentinel_story() {
	for p in $PM $PR; do
		echo "# node $p: $(at "$p" ROLE | head -1), $(at "$p" DBSIZE)" \
		    "keys, wait $(at "$p" LLEN bull:sq:wait)," \
		    "completed $(at "$p" ZCARD bull:sq:completed)"
	done
	grep -h 'switch-master\|failover\|sdown\|odown\|convert-to' \
	    "$TMPD"/sentinel*.log | sed 's/^/# /' | tail -40
}

# Start a redis-server on 127.0.0.1:PORT named TAG, with more arguments.
node_start() {
	tag=$1 port=$2
	shift 2
	"$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$TMPD" --dbfilename "$tag.rdb" \
	    --pidfile "$TMPD/$tag.pid" --logfile "$TMPD/$tag.log" \
	    --requirepass "$MPW" --masterauth "$MPW" \
	    --daemonize yes "$@" >/dev/null
	wait_for "[ -s '$TMPD/$tag.pid' ] && at $port PING | grep -q PONG" 5 ||
	    { echo "not ok - redis $tag did not start on port $port"
	    tail -5 "$TMPD/$tag.log" | sed 's/^/# /'; exit 1; }
	track "$(cat "$TMPD/$tag.pid")"
}

# each port is taken before the next is looked for
PM=$(free_port)
node_start m "$PM"
PR=$(free_port)
node_start r "$PR" --replicaof 127.0.0.1 "$PM"
MPID_REDIS=$(cat "$TMPD/m.pid")
SPORTS=""
for s in 1 2 3; do
	sp=$(free_port)
	SPORTS="$SPORTS $sp"
	cat >"$TMPD/sentinel$s.conf" <<-EOF
	port $sp
	bind 127.0.0.1
	daemonize yes
	pidfile $TMPD/sentinel$s.pid
	logfile $TMPD/sentinel$s.log
	dir $TMPD
	requirepass $SPW
	sentinel monitor $NAME 127.0.0.1 $PM 2
	sentinel auth-pass $NAME $MPW
	sentinel down-after-milliseconds $NAME 2000
	sentinel failover-timeout $NAME 4000
	sentinel parallel-syncs $NAME 1
	EOF
	"$SENTINEL" "$TMPD/sentinel$s.conf" >/dev/null
	wait_for "[ -s '$TMPD/sentinel$s.pid' ]" 15
	track "$(cat "$TMPD/sentinel$s.pid")"
done
set -- $SPORTS
S1=$1 S2=$2 S3=$3
ok "the replica is in sync" \
    wait_for "at $PR INFO replication | grep -q 'master_link_status:up'" 10
ok "the sentinels know each other and the replica" \
    wait_for "sat $S1 SENTINEL ckquorum $NAME | grep -q '^OK 3 usable' &&
    sat $S3 SENTINEL ckquorum $NAME | grep -q '^OK 3 usable' &&
    sat $S1 SENTINEL replicas $NAME | grep -q '^$PR\$'" 40

REDIS_SOCK=
rcli() {
	at "$PM" "$@"
}
add_jobs sq 1 $N '{"ms":20}'
is "the jobs reached the replica" "$(at "$PM" WAIT 1 5000)" 1

# Each run appends the job's id and the time to a file.
cat >"$TMPD/run" <<EOF
#!/bin/sh
id=\$(sed 's/^{"id":"\([^"]*\)".*/\1/')
sleep 0.02
echo "\$id \$(date +%s%3N)" >>"$TMPD/runs"
echo '"ok"'
EOF
chmod +x "$TMPD/run"
: >"$TMPD/runs"
# the first sentinel listed is down: the next ones answer
REDIS_URL="redis+sentinel://:$MPW@127.0.0.1:$(free_port),127.0.0.1:$S1,\
127.0.0.1:$S2,127.0.0.1:$S3/$NAME?sentinel_password=$SPW"
is "bullmq counts through the sentinels" \
    "$("$BULLMQ" -r "$REDIS_URL" --json counts sq | grep -o '"wait[a-z]*":[0-9]*')" \
    "\"waiting\":$N"
master_start -q sq -x "exec:$TMPD/run" -w 4 --drain-delay 300 \
    --lock-duration 3000 --stalled-interval 1000 --max-stalled-count 5 \
    --redis-timeout 2000
ok "the drain starts on the first master" \
    wait_for '[ "$(at $PM ZCARD bull:sq:completed)" -ge 80 ]' 30
KILLED_AT=$(date +%s%3N)
kill -9 "$MPID_REDIS"
ok "the sentinels promote the replica" \
    wait_for "sat $S1 SENTINEL get-master-addr-by-name $NAME | grep -qx $PR" 30
rcli() {
	at "$PR" "$@"
}
ok "every job completes on the new master" \
    wait_for '[ "$(count sq completed)" = '$N' ]' 60
is "none is left active" "$(count sq active)" 0
is "none is left waiting" "$(count sq wait)" 0
is "none failed" "$(count sq failed)" 0
all=$(cut -d' ' -f1 "$TMPD/runs" | sort -u | wc -l)
is "every job ran" "$all" "$N"
twice=$(cut -d' ' -f1 "$TMPD/runs" | sort | uniq -d)
echo "# jobs run twice (running when the master died):" \
    "$(echo $twice | wc -w)${twice:+: }$(echo $twice)"
ok "no more jobs ran twice than there are children" \
    test "$(echo $twice | wc -w)" -le 4
# the longest pause between two runs after the kill
gap=$(sort -n -k2 "$TMPD/runs" | awk -v k="$KILLED_AT" '$2 >= k {
    if (last == "") last = k; if ($2 - last > g) g = $2 - last; last = $2 }
    END { print g + 0 }')
echo "# processing stopped for $gap ms after the master was killed"
ok "processing resumed within 15 s" test "$gap" -lt 15000
ok "the children found the new master" \
    wait_log "worker .*connected to redis again" 5
is "the master kept its children" "$(nchildren)" 4
ok "no password or crash in the log" \
    sh -c "! grep -q 'killed by signal\|giving up\|$MPW\|$SPW' '$MLOG'"

# A planned failover back (SENTINEL FAILOVER) while the connections stay
# open: the demoted master answers READONLY, and the calls go to the new
# one the sentinels name.
node_start m "$PM"
ok "failover: the old master comes back as a replica" \
    wait_for "at $PM INFO replication | grep -q 'master_link_status:up'" 20
ok "failover: the sentinels see it" \
    wait_for "sat $S1 SENTINEL replicas $NAME | grep -q '^$PM\$'" 20
N2=$((N + 300))
add_jobs sq $((N + 1)) $N2 '{"ms":20}'
ok "failover: the drain starts" \
    wait_for '[ "$(count sq completed)" -ge '$((N + 40))' ]' 20
sat "$S1" SENTINEL FAILOVER "$NAME" >/dev/null
ok "failover: the sentinels name the old master again" \
    wait_for "sat $S1 SENTINEL get-master-addr-by-name $NAME | grep -qx $PM" 30
rcli() {
	at "$PM" "$@"
}
# Once (session 9, Valkey, a loaded machine) the jobs added for this part
# were missing on the new master: a failover the test did not ask for (the
# sentinels judging a slow master down) promotes a replica that has not
# yet got the last writes, and Redis replication being asynchronous, those
# writes are lost with the old master; no client can keep them.  So this
# part is strict when the sentinels made exactly the failovers the test
# asked for, and reports otherwise, with what each node holds and what the
# sentinels did.
if wait_for '[ "$(count sq completed)" = '$N2' ]' 60; then
	ok "failover: every job completes on it" true
	is "failover: none failed" "$(count sq failed)" 0
	is "failover: none left active" "$(count sq active)" 0
	is "failover: every job ran" "$(cut -d' ' -f1 "$TMPD/runs" |
	    sort -u | wc -l)" "$N2"
elif [ "$(switches)" -gt 2 ]; then
	echo "# KNOWN: failover: only $(count sq completed) of $N2 completed" \
	    "in 60 s after $(switches) failovers, 2 asked for"
	sentinel_story
else
	ok "failover: every job completes on it" false
	sentinel_story
fi
# the old master takes writes until the sentinels switch and each
# connection asks them again (once a second): what it finished then is
# lost with it, and runs again
twice=$(cut -d' ' -f1 "$TMPD/runs" | sort | uniq -d | awk '$1 > '$N | wc -l)
echo "# failover: $twice jobs run twice (finished on the old master after" \
    "the switch)"

# A planned failover while the children wait for jobs, blocked in BZPOPMIN
# on the master: the sentinels demote it and close its clients' connections
# (a demotion without that, REPLICAOF or FAILOVER, lets a blocked command go
# with UNBLOCKED, which the library takes as READONLY, never as an error);
# the children ask the sentinels again at once and take the jobs added to
# the new master.
ok "idle failover: the demoted master is a replica again" \
    wait_for "at $PR INFO replication | grep -q 'master_link_status:up'" 30
ok "idle failover: the sentinels see it" \
    wait_for "sat $S1 SENTINEL replicas $NAME | grep -q '^$PR\$'" 20
mark=$(wc -l <"$MLOG")
sleep 1
ok "idle failover: the sentinels take SENTINEL FAILOVER" \
    wait_for "sat $S1 SENTINEL FAILOVER $NAME | grep -q OK" 30
ok "idle failover: the sentinels name the other node" \
    wait_for "sat $S1 SENTINEL get-master-addr-by-name $NAME | grep -qx $PR" 30
rcli() {
	at "$PR" "$@"
}
ok "idle failover: the old master demoted" \
    wait_for "at $PM ROLE | grep -qx slave" 30
N3=$((N2 + 100))
t0=$(date +%s%3N)
add_jobs sq $((N2 + 1)) $N3 '{"ms":20}'
if wait_for '[ "$(count sq completed)" = '$N3' ]' 30; then
	ok "idle failover: the jobs added after it complete" true
elif [ "$(switches)" -gt 3 ]; then
	echo "# KNOWN: idle failover: $(count sq completed) of $N3 completed" \
	    "after $(switches) failovers, 3 asked for"
	sentinel_story
else
	ok "idle failover: the jobs added after it complete" false
	sentinel_story
fi
echo "# idle failover: 100 jobs done $(($(date +%s%3N) - t0)) ms after" \
    "they were added"
is "idle failover: none failed" "$(count sq failed)" 0
echo "# the sentinels made $(switches) failovers, the test asked for 3"
ok "idle failover: no child took UNBLOCKED for an error" \
    sh -c "! tail -n +$((mark + 1)) '$MLOG' | grep -q UNBLOCKED"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || { show_log; tail -5 "$TMPD"/sentinel1.log; }
finish
