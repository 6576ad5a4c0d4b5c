#!/bin/sh
# The bullmq command line and bullmq-master under valgrind memcheck, run by
# make check-valgrind: every command once, then a master with builtin:echo
# and one with exec: each working a few hundred jobs and stopping on TERM.
# Every process (the master's children too) must end without a memory error
# or a leak.
. "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}/tests/lib.sh"
VALGRIND=${VALGRIND:-valgrind}
NJOBS=${NJOBS:-300}
VGLOG=$TMPD/vg
mkdir "$VGLOG"

if ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "not ok 1 - valgrind not found" \
	    "(install the Debian package valgrind)"
	exit 1
fi
# Programs run by exec: are not ours: do not trace into them.
VG="$VALGRIND -q --leak-check=full --error-exitcode=99 --trace-children=yes
 --trace-children-skip=/bin/*,/usr/bin/*,/usr/local/bin/*
 --suppressions=$top_srcdir/tests/valgrind.supp --log-file=$VGLOG/%p.log"
redis_start
B="$VG $BULLMQ -r $REDIS_URL"

# Did valgrind say nothing since the last call?  Shows what it said.
vg_clean() {
	found=0
	for f in "$VGLOG"/*.log; do
		[ -s "$f" ] || continue
		found=1
		sed 's/^/# /' "$f"
	done
	rm -f "$VGLOG"/*.log
	[ $found -eq 0 ]
}

# Run one command under valgrind; it must exit as expected and cleanly.
# vg_run WANT-STATUS description bullmq-arguments...
vg_run() {
	want=$1
	desc=$2
	shift 2
	$B "$@" >"$TMPD/out" 2>"$TMPD/err" </dev/null
	is "bullmq $desc exits $want" "$?" "$want"
	ok "bullmq $desc: valgrind is clean" vg_clean
}

# --- the command line ---------------------------------------------------
vg_run 0 add add q a '{"x":1}' --attempts 3 --backoff exponential:100
vg_run 0 "add with options" add q b '[1,2]' --delay 60000 --priority 2 \
    --job-id custom-1 --remove-on-complete 10 --remove-on-fail true
vg_run 0 "add --lifo" add q c '"s"' --lifo
vg_run 1 "add with bad data" add q d '{bad'
awk -v n="$NJOBS" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"name\":\"n%d\",\"data\":{\"i\":%d}}\n", i, i }' >"$TMPD/jobs"
$B add-bulk q --batch 64 <"$TMPD/jobs" >"$TMPD/out" 2>"$TMPD/err"
is "bullmq add-bulk exits 0" "$?" 0
ok "bullmq add-bulk: valgrind is clean" vg_clean
printf '{"name":"x"}\nnot json\n' >"$TMPD/bad"
$B add-bulk q --skip-bad <"$TMPD/bad" >"$TMPD/out" 2>"$TMPD/err"
ok "bullmq add-bulk --skip-bad: valgrind is clean" vg_clean
vg_run 0 counts counts q
vg_run 0 "counts --json" --json counts q
vg_run 0 get get q custom-1
vg_run 1 "get of a missing job" get q nope
vg_run 0 pause pause q
vg_run 0 resume resume q
vg_run 0 "events --from 0" events q --from 0
vg_run 0 workers workers q
vg_run 0 retry retry q --state failed
vg_run 0 clean clean q completed --grace 0 --limit 10
vg_run 0 drain drain q --delayed
vg_run 0 "obliterate --force" obliterate q --force
vg_run 0 bench bench bq -n 200 --batch 50
vg_run 64 "with a bad option" counts q --nope

# --- the master: builtin:echo, then exec:, a few hundred jobs each -------
# Wait for every job of queue $1 to complete, then stop the master.
master_run() {
	queue=$1
	what=$2
	shift 2
	$B add-bulk "$queue" --batch 100 <"$TMPD/jobs" >/dev/null 2>&1
	$VG "$BULLMQ_MASTER" -r "$REDIS_URL" -q "$queue" -w 2 \
	    --drain-delay 200 --graceful-timeout 5000 "$@" \
	    >"$TMPD/master.log" 2>&1 &
	mpid=$!
	track "$mpid"
	ok "$what: $NJOBS jobs complete" wait_for \
	    "[ \"\$(rcli ZCARD bull:$queue:completed)\" = $NJOBS ]" 120
	kill -TERM "$mpid"
	wait_for "! kill -0 $mpid" 60
	wait "$mpid"
	is "$what: the master exits 0 on TERM" "$?" 0
	is "$what: no job is left active" "$(rcli LLEN bull:$queue:active)" 0
	ok "$what: valgrind is clean in the master and its children" vg_clean
	[ "$T_FAIL" -eq 0 ] || sed 's/^/# /' "$TMPD/master.log"
}
master_run echo builtin:echo -x builtin:echo
is "builtin:echo stores the data as the return value" \
    "$(rcli HGET bull:echo:7 returnvalue)" '{"i":7}'
master_run exec exec: -x exec:/bin/cat
is "exec: stores the program's output as the return value" \
    "$(rcli HGET bull:exec:7 returnvalue | jq -c .data)" '{"i":7}'
finish
