#!/bin/sh
# bullmq-master: when a child is killed while its exec: program runs (a job
# past job-timeout, INT to the master or to the group, graceful-timeout
# running out), the program dies with every process it started, not the
# program alone: the program leads a process group, and the child kills
# that group as it dies.  A child that dies of what it cannot handle (KILL,
# SEGV) tells no one: the master, told of the group as the program started,
# kills it as it reaps the child.  A program that ended is no longer its
# job's: what it left running is not killed.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

# A program that runs a sleep of N seconds in a process of its own (the
# shell waits for it), so that the sleep is the program's child.
cat >"$TMPD/tree" <<'EOS'
#!/bin/sh
sleep "$1"
echo null
EOS
chmod +x "$TMPD/tree"

# A program whose first run (no file $1 yet) runs a sleep of $2 seconds in
# a process of its own; later runs end at once.
cat >"$TMPD/once" <<'EOS'
#!/bin/sh
if [ ! -e "$1" ]; then
	: >"$1"
	sleep "$2"
fi
echo null
EOS
chmod +x "$TMPD/once"

# A program that leaves a sleep of $2 seconds running in the background,
# then ends once there is a file $1.
cat >"$TMPD/bg" <<'EOS'
#!/bin/sh
sleep "$2" </dev/null >/dev/null 2>&1 &
while [ ! -e "$1" ]; do
	sleep 0.05
done
echo null
EOS
chmod +x "$TMPD/bg"

# The pid of the sleep of N seconds under the master.
sleeps() {
	procs_of "^sleep $1\$"
}
left=""

# Whether process P is dead: gone, or a zombie that whoever adopted it
# (init, which may be slow to reap) has not reaped yet.
dead() {
	st=$(ps -o stat= -p "$1" | tr -d ' ')
	[ -z "$st" ] || [ "${st#Z}" != "$st" ]
}

# job-timeout: the job fails as timed out, and the sleep goes with it.
master_start -q xt -x "exec:$TMPD/tree 3011" -w 1 --drain-delay 300 \
    --job-timeout 1000 --kill-timeout 5000
add_jobs xt 1 1 '{}'
ok "job-timeout: the program's child runs" wait_for '[ -n "$(sleeps 3011)" ]'
gc=$(sleeps 3011)
left="$left $gc:3011"
prog=$(ps -o ppid= -p "$gc" | tr -d ' ')
is "job-timeout: the program leads its own process group" \
    "$(ps -o pgid= -p "$prog" | tr -d ' ')" "$prog"
ok "job-timeout: the job fails as timed out" \
    wait_for '[ "$(count xt failed)" = 1 ]' 5
is "job-timeout: the reason" "$(rcli HGET bull:xt:1 failedReason)" \
    "job timed out after 1000 ms"
ok "job-timeout: the program's child is gone too" \
    wait_for "dead $gc" 2
ok "job-timeout: and so is the program" wait_for "dead $prog" 2
ok "job-timeout: the child died at once, with no KILL" \
    sh -c "! grep -q 'did not stop' '$MLOG'"
kill -TERM "$MPID"
master_wait
is "job-timeout: TERM: exit 0" "$MRC" 0

# INT: the job goes back to wait, the program's child is gone.
: >"$MLOG"
master_start -q xi -x "exec:$TMPD/tree 3012" -w 1 --drain-delay 300
add_jobs xi 1 1 '{}'
ok "INT: the program's child runs" wait_for '[ -n "$(sleeps 3012)" ]'
gc=$(sleeps 3012)
left="$left $gc:3012"
kill -INT "$MPID"
master_wait 5
is "INT: the master exits 0" "$MRC" 0
is "INT: the job is back in wait" "$(count xi wait)" 1
ok "INT: the program's child is gone" wait_for "dead $gc" 2

# ^C: INT to the whole process group, as a terminal sends it.  The program,
# in a group of its own, does not get it; the children kill it as they die.
: >"$MLOG"
ok "^C: the master leads its own process group" \
    group_start -q xn -x "exec:$TMPD/tree 3014" -w 1 --drain-delay 300
add_jobs xn 1 1 '{}'
ok "^C: the program's child runs" wait_for '[ -n "$(sleeps 3014)" ]'
gc=$(sleeps 3014)
left="$left $gc:3014"
env kill -INT -- "-$MPID"	# the kill of procps: dash's takes no group
master_wait 5
is "^C: the master exits 0" "$MRC" 0
is "^C: the job is back in wait" "$(count xn wait)" 1
ok "^C: the program's child is gone" wait_for "dead $gc" 2

# graceful-timeout running out: the job is given back, the program's child
# is gone.
: >"$MLOG"
master_start -q xg -x "exec:$TMPD/tree 3013" -w 1 --drain-delay 300 \
    --graceful-timeout 1000
add_jobs xg 1 1 '{}'
ok "graceful-timeout: the program's child runs" \
    wait_for '[ -n "$(sleeps 3013)" ]'
gc=$(sleeps 3013)
left="$left $gc:3013"
kill -TERM "$MPID"
master_wait 10
is "graceful-timeout: the master exits 0" "$MRC" 0
ok "graceful-timeout: the child was killed when it ran out" \
    grep -q "graceful-timeout: killing 1 children" "$MLOG"
is "graceful-timeout: the job is back in wait" "$(count xg wait)" 1
ok "graceful-timeout: the program's child is gone" \
    wait_for "dead $gc" 2

# A child that dies of signal SIG, sent by someone else, while its program
# runs the sleep of N seconds (queue Q): the master kills the program's
# group, gives the job back, and the next child completes it.
die_of_signal() {
	sig=$1 q=$2 n=$3
	: >"$MLOG"
	master_start -q "$q" -x "exec:$TMPD/once $TMPD/$q.ran $n" -w 1 \
	    --drain-delay 300
	add_jobs "$q" 1 1 '{}'
	ok "$sig: the program's child runs" wait_for "[ -n \"\$(sleeps $n)\" ]"
	gc=$(sleeps "$n")
	left="$left $gc:$n"
	prog=$(ps -o pgid= -p "$gc" | tr -d ' ')
	kid=$(children)
	kill -"$sig" "$kid"
	# (a sanitizer's handler turns a SEGV into an exit)
	ok "$sig: the child dies of it" \
	    wait_log "child 1 (pid $kid) \\(killed by signal\\|exited\\)"
	ok "$sig: the program's child is gone" wait_for "dead $gc" 2
	ok "$sig: the master says it killed the program's group" wait_log \
	    "child 1 (pid $kid): killed the process group $prog of its program" 2
	ok "$sig: the job is given back" \
	    wait_log "job 1 of child 1 (pid $kid) given back"
	ok "$sig: and completed by the next child" \
	    wait_for "[ \"\$(count $q completed)\" = 1 ]" 10
	kill -TERM "$MPID"
	master_wait
	is "$sig: TERM: exit 0" "$MRC" 0
	is "$sig: one group killed" \
	    "$(grep -c 'killed the process group' "$MLOG")" 1
}
ulimit -c 0
die_of_signal KILL xk 3015
die_of_signal SEGV xs 3016

# A program that ends by itself is waited for as before: its job completes,
# and nothing is killed.
: >"$MLOG"
master_start -q xc -x "exec:$TMPD/tree 1" -w 1 --drain-delay 300
add_jobs xc 1 1 '{}'
ok "a program that ends completes its job" \
    wait_for '[ "$(count xc completed)" = 1 ]' 10
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
ok "no process group killed" sh -c "! grep -q 'process group' '$MLOG'"

# A program that ended, leaving a sleep in the background, and a child that
# dies before it has finished the job (its finish waits for a stopped
# Redis): the group is no longer the job's, nothing is killed.
: >"$MLOG"
master_start -q xb -x "exec:$TMPD/bg $TMPD/xb.go 3017" -w 1 \
    --drain-delay 300 --redis-timeout 2000
add_jobs xb 1 1 '{}'
ok "ended: the program's background sleep runs" \
    wait_for '[ -n "$(sleeps 3017)" ]'
bg=$(sleeps 3017)
left="$left $bg:3017"
prog=$(ps -o pgid= -p "$bg" | tr -d ' ')
kid=$(children)
kill -STOP "$REDIS_PID"
: >"$TMPD/xb.go"
ok "ended: the program ends, reaped by its child" wait_for "! kill -0 $prog" 5
kill -KILL "$kid"
ok "ended: the child dies" wait_log "child 1 (pid $kid) killed by signal 9"
sleep 0.5
kill -CONT "$REDIS_PID"
ok "ended: the background sleep still runs" kill -0 "$bg"
ok "ended: no process group killed" sh -c "! grep -q 'process group' '$MLOG'"
ok "ended: the job is completed once" \
    wait_for '[ "$(count xb completed)" = 1 ]' 15
kill -TERM "$MPID"
master_wait
is "ended: TERM: exit 0" "$MRC" 0
# Stop what is left of the sleeps this test found, by their pids, each
# only while it is still that sleep.
for s in $left; do
	stop_if "${s%%:*}" "^sleep ${s#*:}\$"
done
[ "$T_FAIL" -eq 0 ] || show_log
finish
