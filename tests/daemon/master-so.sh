#!/bin/sh
# bullmq-master with an so: processor: the shared object is loaded by the
# master before it forks, so every child has it mapped from the start, and
# the children run bullmq_process on real jobs, one of them with the longest
# id the library takes (3072 bytes), which reports progress and logs a line.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
EXAMPLE=$top_builddir/contrib/examples/.libs/libexample.so
redis_start

ok "the example processor was built" test -f "$EXAMPLE"
add_jobs sq 1 2 '{"numbers":[1,2,3.5]}'
add_jobs sq 3 3 '{"numbers":[1,"two"]}'
L=$(head -c 3072 /dev/zero | tr '\0' l)
node_add sq "$L" n '{"numbers":[1,2,3,4]}'
master_start -q sq -x "so:$EXAMPLE" -w 2 --drain-delay 300
ok "2 children at start" wait_for '[ "$(nchildren)" = 2 ]'
ok "the master has it mapped" grep -q libexample.so "/proc/$MPID/maps"
n=0
for c in $(children); do
	n=$((n + 1))
	ok "child $n has it mapped" grep -q libexample.so "/proc/$c/maps"
done
ok "the good jobs complete" wait_for '[ "$(count sq completed)" = 3 ]'
is "with bullmq_process's value" "$(rcli HGET bull:sq:1 returnvalue)" \
    '{"sum":6.5,"count":3}'
is "the long-id job too" "$(rcli HGET "bull:sq:$L" returnvalue)" \
    '{"sum":10,"count":4}'
is "its progress is kept" "$(rcli HGET "bull:sq:$L" progress)" 100
is "its log line too" "$(rcli LRANGE "bull:sq:$L:logs" 0 -1)" \
    "summed 4 numbers"
ok "the bad one fails" wait_for '[ "$(count sq failed)" = 1 ]'
ok "with its reason" \
    sh -c "$REDIS_CLI -s '$REDIS_SOCK' HGET bull:sq:3 failedReason |
    grep -q 'data.numbers must be an array'"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
