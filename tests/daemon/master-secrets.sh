#!/bin/sh
# bullmq-master and bullmq show no password: --check prints the redis URL
# as user:***@, a bad URL's error likewise; and the programs an exec:
# processor runs do not inherit BULLMQ_REDIS, the password with it.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start

out=$("$BULLMQ_MASTER" -n -q sq -x builtin:noop \
    -r 'redis://app:s3cret@127.0.0.1:1/0' 2>&1)
is "--check -r: the password is masked" \
    "$(printf '%s\n' "$out" | grep '^redis = ')" \
    "redis = redis://app:***@127.0.0.1:1/0"
out=$(BULLMQ_REDIS='redis://s3cret@127.0.0.1:1' "$BULLMQ_MASTER" -n -q sq \
    -x builtin:noop 2>&1)
is "--check, BULLMQ_REDIS: the password is masked" \
    "$(printf '%s\n' "$out" | grep '^redis = ')" \
    "redis = redis://***@127.0.0.1:1"
out=$("$BULLMQ_MASTER" -n -q sq -x builtin:noop \
    -r 'redis://app:s3cret@127.0.0.1:0' 2>&1)
is "a bad URL's error shows no password" "$out" \
    "bullmq-master: --redis: redis url redis://app:***@127.0.0.1:0: bad port"
out=$("$BULLMQ" -r 'redis://app:s3cret@127.0.0.1:0' counts sq 2>&1)
ok "bullmq: a bad URL's error shows no password" \
    sh -c "printf '%s' '$out' | grep -q 'redis://app:\*\*\*@127.0.0.1:0' &&
    ! printf '%s' '$out' | grep -q s3cret"

# An exec: program sees the rest of the environment, not BULLMQ_REDIS.
# (Only the variables set here: not master.inc's control socket.)
unset BULLMQ_CONTROL_SOCKET
cat >"$TMPD/env.sh" <<'PROG'
#!/bin/sh
cat >/dev/null
printf '"%s"\n' "$(env | grep '^BULLMQ_' | cut -d= -f1 | sort | tr '\n' ' ')"
PROG
chmod +x "$TMPD/env.sh"
BULLMQ_REDIS=$REDIS_URL BULLMQ_QUEUE=sq BULLMQ_WORKERS=1 \
    BULLMQ_DRAIN_DELAY=300 "$BULLMQ_MASTER" -x "exec:$TMPD/env.sh" \
    >>"$MLOG" 2>&1 &
MPID=$!
track "$MPID"
add_jobs sq 1 1 '{}'
ok "the job completes" wait_for '[ "$(count sq completed)" = 1 ]'
is "the program's BULLMQ_ variables: not BULLMQ_REDIS" \
    "$(rcli HGET bull:sq:1 returnvalue)" \
    '"BULLMQ_DRAIN_DELAY BULLMQ_QUEUE BULLMQ_WORKERS "'
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
