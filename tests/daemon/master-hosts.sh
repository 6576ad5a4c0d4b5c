#!/bin/sh
# Many hosts, one queue (root only): three test hosts made as network
# namespaces, each joined by a veth pair to a bridge on this host that holds
# 198.18.S.1/24 (the benchmark range), Redis bound to that address with a
# password, a bullmq-master with children in each namespace.  Then:
#  - the three share the work, with no coordination;
#  - one host is killed whole (every process of its master, by pid): its
#    jobs come back through the other hosts' stalled checkers within the
#    lock duration plus one stalled interval;
#  - one host is cut off from Redis (its link down) for longer than the
#    lock duration, then joined again: its finishes of jobs whose locks
#    were lost are refused, those jobs complete once elsewhere, none is
#    completed twice, and its master recovers by itself.
# The namespaces, links and bridge are removed at exit, even on failure.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
if [ "$(id -u)" != 0 ]; then
	echo "# SKIP: needs root (ip netns)"
	exit 77
fi
if ! command -v ip >/dev/null 2>&1; then
	echo "not ok - ip not found (install the Debian package iproute2)"
	exit 1
fi
LOCK=2000
STALL=1000
ID=$(($$ % 100000))
S=$(($$ % 250 + 1))
NET=198.18.$S
BR=bmqbr$ID
PW=hosts-pw-$$
NS1=bmq$ID-1 NS2=bmq$ID-2 NS3=bmq$ID-3

# Remove what this test made in the network, then the rest.
net_cleanup() {
	for i in 1 2 3; do
		ip netns del "bmq$ID-$i" 2>/dev/null
		ip link del "bmqh$ID$i" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	cleanup
}
trap net_cleanup EXIT

ip link add "$BR" type bridge &&
    ip addr add "$NET.1/24" dev "$BR" &&
    ip link set "$BR" up || { echo "not ok - bridge $BR"; exit 1; }
for i in 1 2 3; do
	ns=bmq$ID-$i
	ip netns add "$ns" &&
	    ip link add "bmqh$ID$i" type veth peer name "bmqn$ID$i" &&
	    ip link set "bmqn$ID$i" netns "$ns" &&
	    ip link set "bmqh$ID$i" master "$BR" &&
	    ip link set "bmqh$ID$i" up &&
	    ip -n "$ns" addr add "$NET.$((i + 1))/24" dev "bmqn$ID$i" &&
	    ip -n "$ns" link set "bmqn$ID$i" up &&
	    ip -n "$ns" link set lo up ||
	    { echo "not ok - namespace $ns"; exit 1; }
done
P=$(free_port)
REDISCLI_AUTH=$PW
export REDISCLI_AUTH
REDIS_ARGS="--port $P --bind $NET.1 --requirepass $PW"
redis_start
URL="redis://:$PW@$NET.1:$P"
ok "three hosts reach Redis at $NET.1" \
    wait_for "ip netns exec $NS1 $REDIS_CLI -h $NET.1 -p $P PING &&
    ip netns exec $NS2 $REDIS_CLI -h $NET.1 -p $P PING &&
    ip netns exec $NS3 $REDIS_CLI -h $NET.1 -p $P PING" 10

# Each host's runs go to a file of its own: "id time-ms".
for i in 1 2 3; do
	cat >"$TMPD/run$i" <<-EOF
	#!/bin/sh
	id=\$(sed 's/^{"id":"\([^"]*\)".*/\1/')
	sleep 0.05
	echo "\$id \$(date +%s%3N)" >>"$TMPD/runs$i"
	echo '"ok"'
	EOF
	chmod +x "$TMPD/run$i"
	: >"$TMPD/runs$i"
done

# Start the master of host i; its log is $TMPD/host<i>.log.
host_start() {
	ip netns exec "bmq$ID-$1" "$BULLMQ_MASTER" -r "$URL" -q hq \
	    -x "exec:$TMPD/run$1" -w 3 --drain-delay 300 \
	    --lock-duration $LOCK --stalled-interval $STALL \
	    --max-stalled-count 5 --redis-timeout 1000 \
	    >>"$TMPD/host$1.log" 2>&1 &
	eval "H$1=\$!"
	track "$!"
}

# How many times each job completed, from the queue's event stream: the
# ids that completed more than once.
completed_twice() {
	rcli XRANGE bull:hq:events - + | awk '
	want == "event" { ev = $0; want = "" ; next }
	want == "jobId" { if (ev == "completed") n[$0]++; want = ""; next }
	$0 == "event" { want = "event"; next }
	$0 == "jobId" { want = "jobId"; next }
	END { for (id in n) if (n[id] > 1) print id }'
}

# The ids run by every host, sorted, and those run more than once.
runs() {
	cat "$TMPD/runs1" "$TMPD/runs2" "$TMPD/runs3" | cut -d' ' -f1
}

host_start 1
host_start 2
host_start 3

# --- 1. three hosts share the work -------------------------------------
N1=300
add_jobs hq 1 $N1 '{}'
ok "share: every job completes" \
    wait_for '[ "$(count hq completed)" = '$N1' ]' 60
for i in 1 2 3; do
	n=$(grep -c . "$TMPD/runs$i")
	echo "# host $i ran $n jobs"
	ok "share: host $i ran some" test "$n" -gt 10
done
is "share: every job ran once" "$(runs | sort | uniq -d | wc -l)" 0
is "share: none completed twice" "$(completed_twice | wc -l)" 0

# --- 2. a host killed whole ----------------------------------------------
N2=600
add_jobs hq $((N1 + 1)) $N2 '{}'
ok "kill: the drain starts" \
    wait_for '[ "$(count hq completed)" -ge '$((N1 + 60))' ]' 30
victims="$H1 $(descendants "$H1")"
s2=$(wc -l <"$TMPD/host2.log")
s3=$(wc -l <"$TMPD/host3.log")
# shellcheck disable=SC2086
kill -9 $victims 2>/dev/null
KILLED=$(date +%s%3N)
{ wait "$H1"; } 2>/dev/null
ok "kill: every job completes on the other hosts" \
    wait_for '[ "$(count hq completed)" = '$N2' ]' 60
# the jobs host 1 held: those the others' stalled checkers recovered
held=$( (sed "1,${s2}d" "$TMPD/host2.log" | grep "stalled: recovered";
    sed "1,${s3}d" "$TMPD/host3.log" | grep "stalled: recovered") |
    sed 's/.*job \([0-9]*\) stalled.*/\1/' | tr '\n' ' ')
echo "# host 1 killed; jobs recovered by the others: $held"
ok "kill: the others recovered host 1's jobs" test -n "$held"
for id in $held; do
	t=$(cat "$TMPD/runs2" "$TMPD/runs3" | grep "^$id " | cut -d' ' -f2 |
	    sort -n | tail -1)
	ok "kill: job $id done elsewhere within lock + stalled interval" \
	    test -n "$t" -a "$((${t:-0} - KILLED))" -le $((LOCK + STALL + 1500))
	[ -n "$t" ] && echo "# job $id done elsewhere $((t - KILLED)) ms" \
	    "after the kill"
done
is "kill: none completed twice" "$(completed_twice | wc -l)" 0
is "kill: none failed" "$(count hq failed)" 0
ok "kill: the others logged the stall" \
    grep -q "stalled" "$TMPD/host2.log" "$TMPD/host3.log"

# --- 3. a host cut off from Redis, then joined again ---------------------
N3=900
add_jobs hq $((N2 + 1)) $N3 '{}'
ok "cut: the drain starts" \
    wait_for '[ "$(count hq completed)" -ge '$((N2 + 60))' ]' 30
before2=$(grep -c . "$TMPD/runs2")
s3=$(wc -l <"$TMPD/host3.log")
ip link set "bmqh${ID}2" down
sleep $(((2 * LOCK + STALL) / 1000 + 1))
ok "cut: host 2 logs that Redis is gone" \
    grep -q "retrying in\|no answer within" "$TMPD/host2.log"
ip link set "bmqh${ID}2" up
ok "cut: every job completes" \
    wait_for '[ "$(count hq completed)" = '$N3' ]' 60
is "cut: none completed twice" "$(completed_twice | wc -l)" 0
is "cut: none failed" "$(count hq failed)" 0
is "cut: none left active" "$(count hq active)" 0
held=$(sed "1,${s3}d" "$TMPD/host3.log" | grep "stalled: recovered" |
    sed 's/.*job \([0-9]*\) stalled.*/\1/' | tr '\n' ' ')
echo "# host 2 cut off; jobs host 3 recovered: $held"
ok "cut: host 3 recovered host 2's jobs" test -n "$held"
for id in $held; do
	ok "cut: job $id completed on host 3" grep -q "^$id " "$TMPD/runs3"
done
# host 2's children finished them with no answer; the master's give-back
# of those jobs, once Redis answers again, is refused: no longer theirs
ok "cut: host 2's late finishes were refused" \
    wait_for "grep -q 'was no longer active' '$TMPD/host2.log'" 10
ok "cut: host 2's master recovers by itself" \
    wait_for "grep -q 'connected to redis again' '$TMPD/host2.log'" 20
N4=1000
add_jobs hq $((N3 + 1)) $N4 '{}'
ok "cut: after it, all complete" \
    wait_for '[ "$(count hq completed)" = '$N4' ]' 60
ok "cut: host 2 takes work again" \
    test "$(grep -c . "$TMPD/runs2")" -gt "$before2"
is "cut: still none completed twice" "$(completed_twice | wc -l)" 0
echo "# jobs run twice: $(runs | sort | uniq -d | tr '\n' ' ')"
ok "no password in the logs" \
    sh -c "! grep -q '$PW' '$TMPD'/host*.log"
kill -TERM "$H2" "$H3"
wait "$H2" "$H3"
if [ "$T_FAIL" -ne 0 ]; then
	for i in 1 2 3; do
		echo "# host $i:"
		tail -20 "$TMPD/host$i.log" | sed 's/^/#   /'
	done
fi
finish
