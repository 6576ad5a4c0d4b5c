#!/bin/sh
# bullmq-master: --help, --version, --check (the sample config passes, a bad
# file is named with its line), the settings' precedence, and a first start
# that processes jobs.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
M=$BULLMQ_MASTER

out=$("$M" --version)
is "--version prints the version" "$out" "bullmq-master 0.1.0"
ok "--help lists every setting" sh -c "'$M' --help | grep -q -- --max-jobs-per-child"

ok "the sample config passes --check" \
    sh -c "'$M' --check -c '$top_srcdir/contrib/bullmq.conf.sample' >/dev/null"

out=$("$M" -n -q emails -x builtin:echo -w 3 2>&1)
is "--check exits 0" "$?" 0
ok "--check prints the effective settings" \
    sh -c "printf '%s\n' '$out' | grep -qx 'workers = 3'"

cat >"$TMPD/bad.conf" <<'CONF'
# a comment
queue = emails
processor = builtin:noop
workers = lots
CONF
out=$("$M" -n -c "$TMPD/bad.conf" 2>&1)
is "--check of a bad file exits 1" "$?" 1
is "the error names the file, the line and the problem" "$out" \
    "bullmq-master: $TMPD/bad.conf:4: workers: \"lots\" is invalid (1 to 4096 or auto)"

cat >"$TMPD/good.conf" <<'CONF'
queue = emails
processor = builtin:noop
workers = 2
drain-delay = 700
CONF
out=$(BULLMQ_WORKERS=5 BULLMQ_DRAIN_DELAY=800 "$M" -n -c "$TMPD/good.conf" \
    --drain-delay 900)
ok "the environment overrides the file" \
    sh -c "printf '%s\n' '$out' | grep -qx 'workers = 5'"
ok "the command line overrides the environment" \
    sh -c "printf '%s\n' '$out' | grep -qx 'drain-delay = 900'"

out=$("$M" -n -q emails -x nothing:here 2>&1)
is "an unknown processor is refused" "$?" 1
out=$("$M" -q emails -x builtin:nope 2>&1)
is "an unknown builtin is refused with exit 1" "$?" 1
is "and named once, with the known ones" "$out" \
    "bullmq-master: processor builtin:nope: unknown builtin (noop, echo, sleep, fail)"

# A first start: two children process jobs a Node producer added.
master_start -q emails -x builtin:echo -w 2 --drain-delay 200
add_jobs emails 1 20 '{"n":1}'
ok "the master starts 2 children" wait_for '[ "$(nchildren)" = 2 ]'
ok "20 jobs complete" wait_for '[ "$(count emails completed)" = 20 ]'
is "the return value is the data" "$(rcli HGET bull:emails:7 returnvalue)" \
    '{"n":1}'
ok "the master's title names the queue and the workers" \
    sh -c "ps -o args= -p $MPID | grep -q 'master emails \[2 workers\]'"
c=$(children | head -1)
ok "a child's title names its number, the queue and its state" \
    wait_for "ps -o args= -p $c | grep -q 'worker [12] emails idle'" 3
kill -TERM "$MPID"
master_wait
is "TERM stops an idle master with 0" "$MRC" 0
ok "the stop is logged" grep -q 'master stopped' "$MLOG"
[ "$T_FAIL" -eq 0 ] || show_log
finish
