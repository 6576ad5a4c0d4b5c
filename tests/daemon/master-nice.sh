#!/bin/sh
# bullmq-master --nice: the children run that many nice levels below the
# master (and so do their exec: programs), the master stays where it was;
# HUP rolls the children to a new value and keeps the old one on a bad
# value; raising the children above the master is refused without root.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
CONF=$TMPD/bullmq.conf

# The nice values of processes, one a line, sorted and made unique.
nices() {
	for p in "$@"; do ps -o ni= -p "$p"; done | tr -d ' ' | sort -u
}

# Write the config file with nice = N.
conf() {
	cat >"$CONF" <<CONF
queue = nq
processor = exec:$TMPD/prog
workers = 2
drain-delay = 300
nice = $1
CONF
}

# A program that writes its nice value to a file, then sleeps as told.
cat >"$TMPD/prog" <<EOS
#!/bin/sh
ps -o ni= -p \$\$ | tr -d ' ' >"$TMPD/prog.ni"
sleep 0.3
echo null
EOS
chmod +x "$TMPD/prog"

conf 5
master_start -c "$CONF"
ok "2 children at start" wait_for '[ "$(nchildren)" = 2 ]'
is "the children run at nice 5" "$(nices $(children))" 5
is "the master stays at nice 0" "$(nices "$MPID")" 0
add_jobs nq 1 1 '{}'
ok "a job runs" wait_for '[ "$(count nq completed)" = 1 ]'
is "its exec: program runs at nice 5 too" "$(cat "$TMPD/prog.ni")" 5

old=$(children | tr "\n" " ")
conf 7
kill -HUP "$MPID"
ok "HUP with nice = 7 replaces the children" wait_for \
    "[ \"\$(nchildren)\" = 2 ] && ! ps -o pid= -p '${old% }' >/dev/null" 5
is "which run at nice 7" "$(nices $(children))" 7

old=$(children | tr "\n" " ")
conf 20
kill -HUP "$MPID"
ok "HUP with nice = 20 is refused" \
    wait_log 'nice: "20" is too large (-20 to 19).*keeping the old settings'
sleep 0.3
is "and the children stay" "$(children | tr "\n" " ")" "$old"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

# The value is added to the master's own, within -20 and 19.
: >"$MLOG"
nice -n 3 "$BULLMQ_MASTER" -r "$REDIS_URL" -q nq -x builtin:noop -w 1 \
    --drain-delay 300 --nice 4 >>"$MLOG" 2>&1 &
MPID=$!
track "$MPID"
ok "a master at nice 3" wait_for '[ "$(nchildren)" = 1 ]'
is "with --nice 4 starts its child at 7" "$(nices $(children))" 7
kill -TERM "$MPID"
master_wait
nice -n 15 "$BULLMQ_MASTER" -r "$REDIS_URL" -q nq -x builtin:noop -w 1 \
    --drain-delay 300 --nice 10 >>"$MLOG" 2>&1 &
MPID=$!
track "$MPID"
ok "a master at nice 15" wait_for '[ "$(nchildren)" = 1 ]'
is "with --nice 10 starts its child at 19, the most" \
    "$(nices $(children))" 19
kill -TERM "$MPID"
master_wait

# Above the master: root may, others are told what they lack.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	"$BULLMQ_MASTER" -q nq -x builtin:noop --nice -5 --check \
	    >"$TMPD/out" 2>&1
	is "root may start children at --nice -5" "$?" 0
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$BULLMQ_MASTER" -q nq -x builtin:noop --nice -5 --check \
	    >"$TMPD/out" 2>&1
	is "another user may not: exit 1" "$?" 1
	is "and is told why" "$(cat "$TMPD/out")" \
	    "bullmq-master: --nice: -5: children above the master's priority need root or a RLIMIT_NICE of 25"
else
	echo "# not root, or no setpriv: a negative nice is not checked"
fi
[ "$T_FAIL" -eq 0 ] || show_log
finish
