#!/bin/sh
# bullmq-master status, health and scale over the control socket: the rows
# while a job runs, --json, the socket's mode, another user refused, a
# flood of connections and garbage leave the master working, scale +1/-1/N
# and HUP after a scale (the configured workers again).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
# the socket's path from the file here, not from master.inc's variable
unset BULLMQ_CONTROL_SOCKET
CS=$TMPD/ctl.sock
CONF=$TMPD/m.conf
printf 'queue = cq\nprocessor = builtin:sleep\nworkers = 2\n' >"$CONF"
printf 'drain-delay = 300\ncontrol-socket = %s\n' "$CS" >>"$CONF"

ctl() {
	"$BULLMQ_MASTER" "$@" -c "$CONF"
}

master_start -c "$CONF"
ok "the socket is made" wait_for "[ -S '$CS' ]"
is "its mode is 0600" "$(stat -c %a "$CS")" 600
ok "2 children connected" wait_for 'ctl health ready'

add_jobs cq 1 1 '{"ms":2500}'
ok "a child runs job 1" wait_for '[ "$(count cq active)" = 1 ]'
busy=$(busy_child 1)
sleep 0.3
out=$(ctl status)
is "status exits 0" "$?" 0
row=$(printf '%s\n' "$out" | awk -v p="$busy" '$2 == p')
is "the busy child's row: state busy, job 1" \
    "$(echo "$row" | awk '{print $3, $4}')" "busy 1"
ok "for a while (FOR in seconds)" \
    sh -c "echo '$row' | awk '{exit !(\$5 ~ /^[0-9.]+s\$/ && \$5 + 0 > 0)}'"
ok "its RSS is read" sh -c "echo '$row' | awk '{exit !(\$9 ~ /K\$|M\$/)}'"
ok "the summary: 2 wanted, 2 running, 1 busy" sh -c "printf '%s\n' '$out' |
    grep -q '2 workers wanted, 2 running, 2 connected, 1 busy'"
ok "redis is up, the counts cached" \
    wait_for "ctl status | grep -q '^redis: up; jobs: .*1 active'" 3
json=$(ctl status --json)
ok "--json: the child's row" sh -c "printf '%s' '$json' | grep -q \
    '\"pid\":$busy,\"state\":\"busy\",\"job\":\"1\",\"job_ms\":[0-9]'"
ok "the job completes" wait_for '[ "$(count cq completed)" = 1 ]'
ok "its child counts it" wait_for "ctl status | awk -v p=$busy \
    '\$2 == p && \$6 == 1 && \$7 == 0 {f = 1} END {exit !f}'" 3

# a child killed with its job: its slot's restart and last exit, a give-back
add_jobs cq 2 2 '{"ms":5000}'
ok "a child runs job 2" wait_for '[ -n "$(busy_child 2)" ]'
dead=$(busy_child 2)
slot=$(ctl status | awk -v p="$dead" '$2 == p {print $1}')
kill -KILL "$dead"
ok "its slot shows a restart and how its child ended" wait_for "ctl status |
    awk -v s=$slot '\$1 == s && \$2 != $dead && \$8 == 1 &&
    / killed by signal 9\$/ {f = 1} END {exit !f}'" 5
ok "--json: its job given back, one restart" sh -c "'$BULLMQ_MASTER' status \
    --json -c '$CONF' | grep -q '\"restarts\":1,\"rss_replaced\":0,\"given_back\":1,'"
ok "job 2 runs again and completes" \
    wait_for '[ "$(count cq completed)" = 2 ]' 15

# another user: the mode stops it, and where it does not, the master does
if [ "$(id -u)" = 0 ]; then
	chmod 755 "$TMPD"
	chmod 644 "$CONF"
	cp "$BULLMQ_MASTER" "$TMPD/bullmq-master"
	chmod 755 "$TMPD/bullmq-master"
	AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$AS "$TMPD/bullmq-master" status -c "$CONF" >"$TMPD/o" 2>&1
	is "nobody cannot connect (0600)" "$?" 2
	chmod 666 "$CS"
	$AS "$TMPD/bullmq-master" status -c "$CONF" >"$TMPD/o" 2>&1
	is "nobody is refused by the master" "$?" 1
	ok "and told so" grep -q "permission denied" "$TMPD/o"
	ok "the refusal is logged" wait_log "a client of another user refused"
	chmod 600 "$CS"
else
	echo "ok - # SKIP another user needs root"
fi

# garbage and a flood
printf 'hello\n' | perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 2;
    print $s "\x00\xff garbage\n"; my $a = <$s>; print $a' "$CS" \
    >"$TMPD/g" 2>&1
ok "garbage: an error" grep -q "^error: unknown request" "$TMPD/g"
perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 2;
    print $s "x" x 100000; my $a = <$s>; print $a' "$CS" >"$TMPD/g" 2>&1
ok "a long line: an error" grep -q "^error: unknown request" "$TMPD/g"
perl -MIO::Socket::UNIX -e '
    $| = 1; my @s; for (1..40) {
    my $c = IO::Socket::UNIX->new(Peer => $ARGV[0]) or last; push @s, $c }
    print scalar(@s), "\n"; sleep 7' "$CS" \
    >"$TMPD/flood" 2>&1 &
FP=$!
track "$FP"
ok "40 clients connected" wait_for "[ -s '$TMPD/flood' ]"
sleep 0.3
ctl status >"$TMPD/o" 2>&1
is "40 idle clients: a 17th is told busy" "$?" 1
ok "busy" grep -q "busy" "$TMPD/o"
ok "the idle clients are closed after 5 s" wait_for 'ctl status' 8
ok "the master lives" kill -0 "$MPID"
kill "$FP" 2>/dev/null

# scale
is "scale +1" "$(ctl scale +1)" "ok: 3 workers"
ok "3 children" wait_for '[ "$(nchildren)" = 3 ]'
is "scale -1" "$(ctl scale -1)" "ok: 2 workers"
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
is "scale 4" "$(ctl scale 4)" "ok: 4 workers"
ok "4 children" wait_for '[ "$(nchildren)" = 4 ]'
ok "4 wanted in the status" \
    sh -c "ctl() { '$BULLMQ_MASTER' \"\$@\" -c '$CONF'; };
    ctl status | grep -q '^queue cq: 4 workers wanted'"
ctl scale x >/dev/null 2>&1
is "scale x: an error" "$?" 1
"$BULLMQ_MASTER" scale -c "$CONF" >/dev/null 2>&1
is "scale without a count" "$?" 1
kill -TTIN "$MPID"
ok "TTIN after scale 4: 5" wait_for '[ "$(nchildren)" = 5 ]'
kill -HUP "$MPID"
ok "HUP: the configured 2 workers again" \
    wait_for '[ "$(nchildren)" = 2 ]'
ok "logged" wait_log "reloaded settings: 2 workers"

# a rolling restart: liveness never fails
old=$(children)
sed -i 's/^drain-delay = 300$/drain-delay = 400/' "$CONF"
kill -HUP "$MPID"
fails=0
n=0
while [ $n -lt 10 ]; do
	ctl health live >/dev/null 2>&1 || fails=$((fails + 1))
	n=$((n + 1))
	sleep 0.1
done
is "a roll: health live never fails" "$fails" 0
ok "the children were replaced" \
    wait_for '[ "$(children | grep -cxF "$old")" = 0 ]'
ok "ready again after the roll" wait_for 'ctl health ready'

kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
ok "the socket is removed" test ! -e "$CS"
ctl health live >/dev/null 2>&1
is "no master: health live exits 2" "$?" 2
[ "$T_FAIL" -eq 0 ] || show_log
finish
