#!/bin/sh
# bullmq-master: when a child is killed while its exec: program runs (a job
# past job-timeout, INT to the master or to the group, graceful-timeout
# running out), the program dies with every process it started, not the
# program alone: the program leads a process group, and the child kills
# that group as it dies.
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

# The pids of the sleeps of N seconds.
sleeps() {
	pgrep -x -f "sleep $1"
}

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
kill -TERM "$MPID"
master_wait 10
is "graceful-timeout: the master exits 0" "$MRC" 0
ok "graceful-timeout: the child was killed when it ran out" \
    grep -q "graceful-timeout: killing 1 children" "$MLOG"
is "graceful-timeout: the job is back in wait" "$(count xg wait)" 1
ok "graceful-timeout: the program's child is gone" \
    wait_for "dead $gc" 2

# A program that ends by itself is waited for as before: its job completes.
: >"$MLOG"
master_start -q xc -x "exec:$TMPD/tree 1" -w 1 --drain-delay 300
add_jobs xc 1 1 '{}'
ok "a program that ends completes its job" \
    wait_for '[ "$(count xc completed)" = 1 ]' 10
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
for n in 3011 3012 3013 3014; do
	pkill -x -f "sleep $n"
done
[ "$T_FAIL" -eq 0 ] || show_log
finish
