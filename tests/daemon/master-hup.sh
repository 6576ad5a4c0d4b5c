#!/bin/sh
# bullmq-master: HUP rescales 2 -> 6 -> 1 without touching running jobs,
# replaces children when the processor changes, and keeps the old settings
# when the file has become invalid.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
CONF=$TMPD/bullmq.conf

# Write the config file with N workers.
conf() {
	cat >"$CONF" <<CONF
queue = hq
processor = ${2:-builtin:sleep}
workers = $1
drain-delay = 300
CONF
}

conf 2
master_start -c "$CONF"
ok "2 children at start" wait_for '[ "$(nchildren)" = 2 ]'
first=$(children | tr "\n" " ")

add_jobs hq 1 2 '{"ms":1500}'
ok "both children run a job" wait_for '[ "$(count hq active)" = 2 ]'
conf 6
kill -HUP "$MPID"
ok "HUP with workers = 6 makes 6 children" wait_for '[ "$(nchildren)" = 6 ]'
ok "the 2 busy children were kept" \
    sh -c "for p in $first; do kill -0 \$p || exit 1; done"
ok "their jobs complete" wait_for '[ "$(count hq completed)" = 2 ]'
is "each ran once" "$(rcli HGET bull:hq:1 ats)$(rcli HGET bull:hq:2 ats)" 11

add_jobs hq 3 4 '{"ms":1500}'
ok "two children run a job" wait_for '[ "$(count hq active)" = 2 ]'
conf 1
kill -HUP "$MPID"
ok "HUP with workers = 1 stops the idle children at once" \
    wait_for '[ "$(nchildren)" = 2 ]' 3
ok "the running jobs complete" wait_for '[ "$(count hq completed)" = 4 ]'
is "without a retry or a stall" \
    "$(rcli HGET bull:hq:3 ats)$(rcli HGET bull:hq:4 ats)$(rcli HGET bull:hq:3 stc)$(rcli HGET bull:hq:4 stc)" 11
ok "then 1 child is left" wait_for '[ "$(nchildren)" = 1 ]'

# An invalid file: logged, the old settings stay.
echo "workers = many" >>"$CONF"
kill -HUP "$MPID"
ok "an invalid file on HUP is logged" \
    wait_log "bullmq.conf:5: workers: \"many\" is invalid.*keeping the old settings"
sleep 0.3
is "and changes nothing" "$(nchildren)" 1
ok "the master still works" kill -0 "$MPID"

# A processor that does not load: logged, the old settings stay.
old=$(children)
conf 1 builtin:nope
kill -HUP "$MPID"
ok "a processor that does not load on HUP is logged, named once" \
    wait_log "reload: processor builtin:nope: unknown builtin (noop, echo, sleep, fail); keeping the old settings"
sleep 0.3
is "and the child stays" "$(children)" "$old"

# A new processor replaces the children.
old=$(children)
conf 1 builtin:echo
kill -HUP "$MPID"
ok "a processor change replaces the child" \
    wait_for '[ "$(nchildren)" = 1 ] && [ "$(children)" != "$old" ]'
add_jobs hq 5 5 '{"echo":5}'
ok "the new processor runs the next job" \
    wait_for '[ "$(rcli HGET bull:hq:5 returnvalue)" = "{\"echo\":5}" ]'

kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
