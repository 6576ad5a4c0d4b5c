#!/bin/sh
# bullmq-master: every file a setting names (config, log-file, pidfile,
# so: processor) must be a regular file.  A fifo or a device is refused
# with an error naming it, at once: at start the master exits 1, on HUP it
# logs the error, keeps the old settings and goes on, never blocked in
# open(2) nor reading /dev/zero for ever.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
FIFO=$TMPD/fifo
mkfifo "$FIFO"

# Run the master with a memory and a time limit: a bug must not take the
# machine's memory nor hang the test.
limited() {
	(ulimit -v 1000000; exec timeout 10 "$BULLMQ_MASTER" "$@")
}

out=$(limited -c /dev/zero -n 2>&1)
is "-c /dev/zero: exit 1" "$?" 1
is "-c /dev/zero: named, not read" "$out" \
    "bullmq-master: /dev/zero: not a regular file (a character device)"
out=$(limited -c "$FIFO" -n 2>&1)
is "-c FIFO: exit 1" "$?" 1
is "-c FIFO: named, not opened for ever" "$out" \
    "bullmq-master: $FIFO: not a regular file (a fifo)"
out=$(limited -r "$REDIS_URL" -q fq -x builtin:noop -l "$FIFO" 2>&1)
is "-l FIFO: exit 1" "$?" 1
is "-l FIFO: named" "$out" \
    "bullmq-master: log-file $FIFO: not a regular file (a fifo)"
out=$(limited -r "$REDIS_URL" -q fq -x builtin:noop -p "$FIFO" 2>&1)
is "-p FIFO: exit 1" "$?" 1
is "-p FIFO: named" "$out" \
    "bullmq-master: pidfile $FIFO: not a regular file (a fifo)"
out=$(limited -r "$REDIS_URL" -q fq -x "so:$FIFO" 2>&1)
is "-x so:FIFO: exit 1" "$?" 1
is "-x so:FIFO: named" "$out" \
    "bullmq-master: processor so:$FIFO: not a regular file (a fifo)"
ok "the fifo is still there" test -p "$FIFO"

# On HUP: the config path now leads to /dev/zero, then to a fifo.
CONF=$TMPD/real.conf
LINK=$TMPD/link.conf
cat >"$CONF" <<CONF
queue = fq
processor = builtin:echo
workers = 1
drain-delay = 300
CONF
ln -s "$CONF" "$LINK"
(ulimit -v 1000000; exec "$BULLMQ_MASTER" -r "$REDIS_URL" -c "$LINK") \
    >>"$MLOG" 2>&1 &
MPID=$!
track "$MPID"
ok "the master starts" wait_for '[ "$(nchildren)" = 1 ]'

ln -sfn /dev/zero "$LINK"
kill -HUP "$MPID"
ok "HUP, config /dev/zero: logged, the old settings kept" \
    wait_log "reload: $LINK: not a regular file (a character device); keeping the old settings" 5
ln -sfn "$FIFO" "$LINK"
kill -HUP "$MPID"
ok "HUP, config a fifo: logged, the old settings kept" \
    wait_log "reload: $LINK: not a regular file (a fifo); keeping the old settings" 5
add_jobs fq 1 1 '{"a":1}'
ok "the master goes on: a job completes" \
    wait_for '[ "$(rcli HGET bull:fq:1 returnvalue)" = "{\"a\":1}" ]'

ln -sfn "$CONF" "$LINK"
echo "log-file = $FIFO" >>"$CONF"
kill -HUP "$MPID"
ok "HUP, log-file a fifo: logged, the old log kept" \
    wait_log "reload: log-file $FIFO: not a regular file (a fifo); keeping the old log" 5
sed -i "/^log-file/d; s|^processor = .*|processor = so:$FIFO|" "$CONF"
kill -HUP "$MPID"
ok "HUP, processor so:FIFO: logged, the old settings kept" \
    wait_log "reload: processor so:$FIFO: not a regular file (a fifo); keeping the old settings" 5
add_jobs fq 2 2 '{"a":2}'
ok "a job still completes with the old processor" \
    wait_for '[ "$(rcli HGET bull:fq:2 returnvalue)" = "{\"a\":2}" ]'

kill -TERM "$MPID"
master_wait 5
is "TERM: the master was never blocked, exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || show_log
finish
