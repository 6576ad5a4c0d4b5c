#!/bin/sh
# rediss://: the master, its children and the CLI on a TLS-only Redis port
# that requires a client certificate, with certificates made by openssl
# now.  Run as root, the children run as nobody, who cannot read the key:
# they reconnect after their connections are killed all the same (the
# master read the key before the fork).  A wrong CA, an expired
# certificate, a wrong name, a plain-TCP port, no client certificate and
# a missing file each say what is wrong; --check prints paths, no key.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
. "$top_srcdir/tests/tls.inc"

if "$BULLMQ" -r rediss://127.0.0.1:1 counts q 2>&1 | grep -q 'has no TLS'; then
	echo "1..0 # SKIP this build has no TLS"
	exit 77
fi
tls_start
chmod 755 "$TMPD"

# in_out PATTERN: whether $out has a line matching PATTERN (grep).
in_out() {
	printf '%s\n' "$out" | grep -q -- "$1"
}

is "the CLI adds over TLS" "$("$BULLMQ" -r "$TLS_URL" add tq j '{"n":1}')" 1
is "SNI and the name: localhost" \
    "$("$BULLMQ" -r "rediss://localhost:$TLS_PORT" add tq j '{"n":2}')" 2

user=
if [ "$(id -u)" = 0 ]; then
	user="--user nobody"
	ok "nobody cannot read the key" sh -c \
	    "! setpriv --reuid=65534 --regid=65534 --clear-groups \
	    cat '$TLS_DIR/client.key' >/dev/null 2>&1"
fi
(
	unset BULLMQ_TLS_CA_FILE BULLMQ_TLS_CERT BULLMQ_TLS_KEY
	exec "$BULLMQ_MASTER" -r "$TLS_URL" -q tq -x builtin:echo -w 2 \
	    --drain-delay 300 --tls-ca-file "$TLS_DIR/ca.crt" \
	    --tls-cert "$TLS_DIR/client.crt" --tls-key "$TLS_DIR/client.key" \
	    $user
) >>"$MLOG" 2>&1 &
MPID=$!
track "$MPID"
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
if [ -n "$user" ]; then
	for c in $(children); do
		is "child $c runs as nobody" "$(ps -o user= -p "$c")" nobody
	done
fi
ok "the children process the CLI's jobs over TLS" \
    wait_for '[ "$(count tq completed)" = 2 ]'
add_jobs tq 3 20 '{"n":3}'
ok "and 18 more" wait_for '[ "$(count tq completed)" = 20 ]'
out=$(rcli CLIENT LIST)
ok "the master and its 2 children are on the TLS port" \
    [ "$(printf '%s\n' "$out" | grep -c "laddr=127.0.0.1:$TLS_PORT ")" -ge 3 ]
rcli CLIENT KILL TYPE normal >/dev/null
add_jobs tq 21 30 '{"n":4}'
ok "after their connections are killed they reconnect (as nobody)" \
    wait_for '[ "$(count tq completed)" = 30 ]'
is "no job failed" "$(count tq failed)" 0
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

out=$("$BULLMQ_MASTER" -r "$TLS_URL" -q tq -x builtin:echo --check \
    --tls-server-name localhost --tls-verify no 2>&1)
printf '%s\n' "$out" >"$TMPD/check.out"
ok "--check shows the key's path" in_out "^tls-key = $TLS_DIR/client.key\$"
ok "--check shows the server name" in_out '^tls-server-name = localhost$'
ok "--check shows tls-verify" in_out '^tls-verify = no$'
ok "--check never shows the key itself" sh -c \
    "! grep -rq 'PRIVATE KEY' '$TMPD/check.out'"
out=$("$BULLMQ_MASTER" -r "$TLS_URL" -q tq -x builtin:echo --check \
    --tls-key "$TMPD/none.key" 2>&1)
ok "a missing key is refused at start: $out" \
    in_out "TLS key $TMPD/none.key: No such file or directory"
out=$("$BULLMQ_MASTER" -r "$TLS_URL" -q tq -x builtin:echo --check \
    --tls-key "" 2>&1)
ok "a certificate without its key is refused: $out" in_out 'needs its key'

# What goes wrong, said by the master (in its log) and by the CLI.
: >"$MLOG"
master_start -r "$TLS_URL" -q tq -x builtin:echo -w 1 \
    --tls-ca-file "$TLS_DIR/other-ca.crt"
ok "master, wrong CA: said" wait_log 'not signed by a CA trusted here'
kill -TERM "$MPID"
master_wait

cli() {
	"$BULLMQ" "$@" counts tq 2>&1
}
out=$(cli -r "$TLS_URL" --tls-ca-file "$TLS_DIR/other-ca.crt")
ok "CLI, wrong CA: $out" in_out 'not signed by a CA trusted here'
out=$(cli -r "$TLS_URL" --tls-server-name wrong.example)
ok "CLI, wrong name: $out" \
    in_out 'certificate is not for "wrong.example" (hostname mismatch'
out=$(cli -r "rediss://127.0.0.1:$PLAIN_PORT")
ok "CLI, a plain-TCP port: $out" in_out 'is this a plain-TCP port'
out=$(BULLMQ_TLS_CERT= BULLMQ_TLS_KEY= cli -r "$TLS_URL")
ok "CLI, no client certificate: $out" \
    in_out 'does the server require a client certificate'
out=$(BULLMQ_TLS_CA_FILE= SSL_CERT_FILE=$TLS_DIR/ca.crt cli -r "$TLS_URL")
ok "CLI, no CA set: OpenSSL's default, SSL_CERT_FILE" in_out '^completed 30'
mkdir "$TMPD/cadir" && cp "$TLS_DIR/ca.crt" "$TMPD/cadir/" &&
    openssl rehash "$TMPD/cadir" 2>/dev/null
out=$(BULLMQ_TLS_CA_FILE= cli -r "$TLS_URL" --tls-ca-dir "$TMPD/cadir")
ok "CLI, the CA in a hashed directory (--tls-ca-dir)" in_out '^completed 30'
out=$(BULLMQ_TLS_CA_FILE= cli -r "$TLS_URL" --tls-ca-dir "$TLS_DIR")
ok "CLI, a directory without the CA's hash: refused" \
    in_out 'not signed by a CA trusted here'
out=$(cli -r "$TLS_URL" --tls-ca-dir "$TLS_DIR/none")
ok "CLI, a missing CA directory: $out" \
    in_out 'TLS CA directory .*: No such file or directory'

tls_cert expired.crt
out=$(cli -r "$TLS_URL")
ok "CLI, expired: $out" \
    in_out 'certificate was refused: certificate has expired'
: >"$MLOG"
master_start -r "$TLS_URL" -q tq -x builtin:echo -w 1
ok "master, expired: said" wait_log 'certificate has expired'
kill -TERM "$MPID"
master_wait

tls_cert wrong.crt
out=$(cli -r "$TLS_URL")
ok "CLI, a certificate for another name: $out" \
    in_out 'not for "127.0.0.1" (IP address mismatch'
out=$(cli -r "$TLS_URL" --tls-server-name wrong.example)
ok "with its name as the server name it is taken" in_out '^completed 30'
out=$(BULLMQ_TLS_VERIFY=no cli -r "$TLS_URL")
ok "tls-verify no takes it too" in_out '^completed 30'
[ "$T_FAIL" -eq 0 ] || show_log
finish
