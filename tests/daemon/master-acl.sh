#!/bin/sh
# bullmq-master and bullmq under Redis ACLs, on a private redis-server on
# 127.0.0.1 (and its unix socket): a user with exactly the rights
# bullmq.conf(5) lists (ACL) runs the master and every CLI command but
# workers (CLIENT LIST); a TERM stop is quick
# without CLIENT UNBLOCK, and with "+@all -@dangerous" too.  Without a
# password the master and the CLI say that the server requires one.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"

# A free port on 127.0.0.1 for the private server.
P=$(free_port)
REDIS_ARGS="--port $P --bind 127.0.0.1"
redis_start
# The rights of bullmq.conf(5), section ACL, taken from the page itself.
acl=$(sed -n '/^ACL SETUSER bullmq/,/^\.Ed/p' "$top_srcdir/man/bullmq.conf.5" |
    grep -v '^\.Ed' | sed 's/\\e$//; s/>PASSWORD/>bmq-pw/' | tr '\n' ' ')
set -f
# shellcheck disable=SC2086
rcli $acl >/dev/null
set +f
is "the ACL of bullmq.conf(5) is taken: EVALSHA on the prefix" \
    "$(rcli ACL DRYRUN bullmq EVALSHA 0 1 bull:q:wait)" OK
ok "and no more: not FLUSHALL, not a key outside the prefix" sh -c \
    "[ \"\$('$REDIS_CLI' -s '$REDIS_SOCK' ACL DRYRUN bullmq FLUSHALL)\" != OK ] &&
    [ \"\$('$REDIS_CLI' -s '$REDIS_SOCK' ACL DRYRUN bullmq GET x)\" != OK ]"
rcli ACL SETUSER nodanger on '>nd-pw' '~*' '&*' +@all -@dangerous >/dev/null
rcli CONFIG SET requirepass admin-pw >/dev/null
export REDISCLI_AUTH=admin-pw
URL=redis://bullmq:bmq-pw@127.0.0.1:$P
B="$BULLMQ -r $URL"

# Start a master as URL $1 with the rest of the arguments.
acl_master() {
	u=$1
	shift
	"$BULLMQ_MASTER" -r "$u" "$@" >>"$MLOG" 2>&1 &
	MPID=$!
	track "$MPID"
}

# The master and the CLI as the ACL user.
acl_master "$URL" -q aq -x builtin:echo -w 2 --drain-delay 10000
ok "the master runs its 2 children" wait_for '[ "$(nchildren)" = 2 ]'
ok "bullmq add" sh -c "$B add aq one '{\"n\":1}' >/dev/null"
ok "the job completes" \
    wait_for '[ "$(rcli HGET bull:aq:1 returnvalue)" = "{\"n\":1}" ]'
ok "bullmq add --delay" sh -c "$B add aq later '{}' --delay 600000 >/dev/null"
ok "bullmq add-bulk" sh -c "printf '%s\n' '{\"name\":\"b\",\"data\":{}}' |
    $B add-bulk aq >/dev/null"
ok "bullmq counts" sh -c "$B counts aq >/dev/null"
ok "bullmq get" sh -c "$B get aq 1 >/dev/null"
ok "bullmq events" sh -c "$B events aq >/dev/null"
ok "bullmq pause" sh -c "$B pause aq >/dev/null"
ok "bullmq resume" sh -c "$B resume aq >/dev/null"
ok "bullmq retry" sh -c "$B retry aq --state completed >/dev/null"
ok "bullmq clean" sh -c "$B clean aq completed >/dev/null"
ok "bullmq drain --delayed" sh -c "$B drain aq --delayed >/dev/null"
ok "bullmq bench" sh -c "$B bench bq -n 50 >/dev/null"
rid=$($B add aq r '{}' --delay 600000)
ok "bullmq remove" sh -c "$B remove aq '$rid' >/dev/null"
ok "bullmq workers is refused without CLIENT LIST" \
    sh -c "! $B workers aq >/dev/null 2>&1"
ok "no NOPERM in the master's log" sh -c "! grep -q NOPERM '$MLOG'"
sleep 1
t0=$(date +%s)
kill -TERM "$MPID"
master_wait 15
t1=$(date +%s)
is "TERM: exit 0" "$MRC" 0
ok "TERM: idle children stop at once, not after drain-delay" \
    [ $((t1 - t0)) -le 3 ]
ok "bullmq obliterate" sh -c "$B obliterate aq --force >/dev/null"

# The master's own scripts as the ACL user: lock extension (a job longer
# than lock-duration), the stalled check, giving back the job of a killed
# child, failing a job past job-timeout.
: >"$MLOG"
acl_master "$URL" -q kq -x builtin:sleep -w 1 --drain-delay 300 \
    --lock-duration 1000 --stalled-interval 200 --job-timeout 4000 \
    --kill-timeout 100
ok "a job longer than lock-duration completes" sh -c "$B add kq a \
    '{\"ms\":1500}' >/dev/null" &&
    wait_for '[ "$(count kq completed)" = 1 ]' 10
ok "a busy child" sh -c "$B add kq b '{\"ms\":2500}' >/dev/null" &&
    wait_for '[ -n "$(busy_child 2)" ]' 5
kill -9 "$(busy_child 2)"
ok "its job, given back, completes" \
    wait_for '[ "$(count kq completed)" = 2 ]' 15
ok "a job past job-timeout fails" sh -c "$B add kq c '{\"ms\":8000}' \
    >/dev/null" && wait_for '[ "$(count kq failed)" = 1 ]' 15
is "no NOPERM, no lost lock" \
    "$(grep 'NOPERM\|lost its lock' "$MLOG" | grep -v 'client unblock')" ""
kill -TERM "$MPID"
master_wait 15
is "TERM: exit 0" "$MRC" 0
# The same user on the server's unix socket: unix://user:pass@/path.
ok "bullmq on unix://user:pass@/path" sh -c "$BULLMQ \
    -r 'unix://bullmq:bmq-pw@$REDIS_SOCK' add uq one '{}' >/dev/null"
out=$("$BULLMQ" -r "unix://$REDIS_SOCK" counts uq 2>&1)
is "unix:// without a password: NOAUTH" "$out" \
    "bullmq counts: cannot connect: redis unix://$REDIS_SOCK: the server requires a password (NOAUTH): give one in the URL, unix://[user:]password@/path"

# +@all -@dangerous: no CLIENT UNBLOCK, no CLIENT LIST.
: >"$MLOG"
acl_master "redis://nodanger:nd-pw@127.0.0.1:$P" -q dq -x builtin:echo -w 2 \
    --drain-delay 10000
ok "+@all -@dangerous: the children start" wait_for '[ "$(nchildren)" = 2 ]'
sleep 1
t0=$(date +%s)
kill -TERM "$MPID"
master_wait 15
t1=$(date +%s)
is "+@all -@dangerous: TERM: exit 0" "$MRC" 0
ok "+@all -@dangerous: TERM is quick without CLIENT UNBLOCK" \
    [ $((t1 - t0)) -le 3 ]
ok "the refusal is logged once" \
    [ "$(grep -c 'client unblock refused' "$MLOG")" -eq 1 ]

# No password: NOAUTH, said so, the URL named without a secret.
out=$("$BULLMQ" -r "redis://127.0.0.1:$P" counts aq 2>&1)
is "bullmq without a password: exit 1" "$?" 1
is "bullmq: the server requires a password" "$out" \
    "bullmq counts: cannot connect: redis redis://127.0.0.1:$P: the server requires a password (NOAUTH): give one in the URL, redis://[user:]password@host"
: >"$MLOG"
acl_master "redis://127.0.0.1:$P" -q nq -x builtin:echo -w 1
ok "the master: the server requires a password" \
    wait_log "redis redis://127.0.0.1:$P: the server requires a password (NOAUTH)"
kill -TERM "$MPID"
master_wait 15
[ "$T_FAIL" -eq 0 ] || show_log
finish
