#!/bin/sh
# The processors (src/master/processor.c) on real jobs: builtins, the example
# shared object, and exec programs (no shell, large outputs, SIGPIPE,
# failures).  tests/daemon/procrun loads a spec and runs it on one job.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/cli.inc"
redis_start
B="$BULLMQ -r $REDIS_URL"
PROCRUN=${PROCRUN:-$top_builddir/tests/daemon/procrun}
EXAMPLE=$top_builddir/contrib/examples/.libs/libexample.so

# Run procrun, keeping stdout in OUT, stderr in $E and the status in RC.
prun() {
	OUT=$("$PROCRUN" "$@" 2>"$E")
	RC=$?
}

# Add a job to queue p and run spec on it: job SPEC DATA
job() {
	id=$($B add p job "$2") || return 1
	prun "$1" "$REDIS_URL" p "$id"
}

# A jq expression on the last output.
jout() {
	printf '%s\n' "$OUT" | jq -c "$1"
}

# Does the last output contain the text?
out_has() {
	printf '%s\n' "$OUT" | grep -q -- "$1"
}

# Write an executable shell script: script NAME BODY
script() {
	printf '#!/bin/sh\n%s\n' "$2" >"$TMPD/$1"
	chmod +x "$TMPD/$1"
}

# --- builtins ----------------------------------------------------------
job builtin:noop '{"a":1}'
is "builtin:noop completes with null" "$OUT" \
    '{"status":"completed","returnvalue":null}'
job builtin:echo '{"a":[1,2,{"b":"c"}]}'
is "builtin:echo returns the data" "$(jout .returnvalue)" '{"a":[1,2,{"b":"c"}]}'
job builtin:echo '"just text"'
is "builtin:echo returns string data" "$(jout .returnvalue)" '"just text"'
rcli HSET bull:p:bad name bad data '{"broken' opts '{}' >/dev/null
prun builtin:echo "$REDIS_URL" p bad
is "builtin:echo fails on data that is not JSON" "$(jout .status)" '"failed"'
ok "the reason says the data is not JSON" \
    out_has 'not valid JSON'
t0=$(date +%s%N)
job builtin:sleep '{"ms":300}'
t1=$(date +%s%N)
is "builtin:sleep completes with null" "$OUT" \
    '{"status":"completed","returnvalue":null}'
ok "builtin:sleep sleeps data.ms" test $(((t1 - t0) / 1000000)) -ge 300
job builtin:sleep '{}'
is "builtin:sleep has a default" "$(jout .status)" '"completed"'
job builtin:sleep '{"ms":"long"}'
is "builtin:sleep refuses a bad data.ms" "$(jout .status)" '"failed"'
ok "the reason names data.ms" \
    out_has 'data.ms'
job builtin:fail '{}'
is "builtin:fail fails with failed" "$OUT" \
    '{"status":"failed","reason":"failed"}'
job builtin:fail '{"reason":"no \"luck\" today"}'
is "builtin:fail uses data.reason" "$(jout .reason)" '"no \"luck\" today"'

# --- bad specs ---------------------------------------------------------
prun builtin:nope
is "an unknown builtin does not load" "$RC" 2
ok "an unknown builtin is named" said "builtin:nope"
prun python:/x.py
is "an unknown kind does not load" "$RC" 2
ok "an unknown kind is explained" said "unknown kind"
prun so:/nonexistent/lib.so
is "a missing shared object does not load" "$RC" 2
ok "a missing shared object is named" said "/nonexistent/lib.so"
prun "so:$top_builddir/.libs/libbullmq.so"
is "a shared object without bullmq_process does not load" "$RC" 2
ok "the missing function is named" said "bullmq_process"
prun exec:bin/true
is "a relative program does not load" "$RC" 2
ok "a relative program is explained" said "absolute path"
prun exec:/nonexistent/prog
is "a missing program does not load" "$RC" 2
ok "a missing program is named" said "/nonexistent/prog"
printf 'x\n' >"$TMPD/plain"
prun "exec:$TMPD/plain"
is "a file that is not executable does not load" "$RC" 2
ok "a file that is not executable is named" said "not an executable"
prun exec:
is "exec without a program does not load" "$RC" 2
prun ''
is "an empty spec does not load" "$RC" 2

# --- the example shared object -----------------------------------------
ok "the example processor was built" test -f "$EXAMPLE"
job "so:$EXAMPLE" '{"numbers":[1,2,3.5]}'
is "so: runs bullmq_process" "$OUT" \
    '{"status":"completed","returnvalue":{"sum":6.5,"count":3}}'
job "so:$EXAMPLE" '{"numbers":[1,"two"]}'
is "so: a bad input fails the job" "$(jout .status)" '"failed"'
ok "so: the reason says what is wrong" \
    out_has 'data.numbers must be an array'
id=$($B add pw sum '{"numbers":[10,20,30,40]}')
prun -w "so:$EXAMPLE" "$REDIS_URL" pw
is "so: in a worker, the job completes" "$(printf '%s\n' "$OUT" | tail -1)" \
    '{"outcome":"completed"}'
is "so: the return value is stored" "$(rcli HGET bull:pw:$id returnvalue)" \
    '{"sum":100,"count":4}'
is "so: progress is stored" "$(rcli HGET bull:pw:$id progress)" 100
is "so: the log line is stored" "$(rcli LRANGE bull:pw:$id:logs 0 -1)" \
    "summed 4 numbers"
id=$($B add pw sum '{"numbers":{}}' --attempts 3)
prun -w "so:$EXAMPLE" "$REDIS_URL" pw
is "so: an unrecoverable failure is final" \
    "$(printf '%s\n' "$OUT" | tail -1)" '{"outcome":"failed"}'
ok "so: the failed reason is stored" \
    sh -c "$REDIS_CLI -s $REDIS_SOCK HGET bull:pw:$id failedReason | grep -q data.numbers"

# --- exec --------------------------------------------------------------
script cat 'exec cat'
job "exec:$TMPD/cat" '{"k":"v"}'
is "exec: the job is on stdin" \
    "$(jout '.returnvalue | [.name, .data, .opts.attempts, .attemptsMade]')" \
    '["job",{"k":"v"},0,0]'
is "exec: stdin carries the job id" "$(jout .returnvalue.id)" "\"$id\""
prun '-w' "exec:$TMPD/cat" "$REDIS_URL" pw
is "exec: in a worker with nothing to do" "$RC" 3

job "exec:/bin/echo  {\"from\":\"args\"}" '{}'
is "exec: arguments are passed without a shell" "$(jout .returnvalue)" \
    '{"from":"args"}'
job "exec:/bin/echo hi;touch$TMPD/pwned" '{}'
is "exec: shell syntax is not interpreted" "$(jout .status)" '"failed"'
ok "exec: no command ran from the spec" test ! -e "$TMPD/pwned"
script quiet 'cat >/dev/null'
job "exec:$TMPD/quiet" '{"run":"$(touch '"$TMPD"'/pwned2)"}'
is "exec: no output completes with null" "$OUT" \
    '{"status":"completed","returnvalue":null}'
ok "exec: job data never runs as a command" test ! -e "$TMPD/pwned2"

script broke 'cat >/dev/null; echo "   it broke" >&2; echo "really" >&2; exit 3'
job "exec:$TMPD/broke" '{}'
is "exec: non-zero exit fails with stderr as the reason" "$(jout .reason)" \
    '"it broke\nreally"'
script silent 'exit 4'
job "exec:$TMPD/silent" '{}'
is "exec: non-zero exit without stderr says the status" "$(jout .reason)" \
    "\"exec $TMPD/silent: exited 4\""
script notjson 'echo "hello world"'
job "exec:$TMPD/notjson" '{}'
is "exec: output that is not JSON fails" "$(jout .status)" '"failed"'
ok "exec: the reason says the output is not JSON" \
    out_has 'output is not valid JSON: hello world'
script background 'sleep 9.3021 &
echo $! >"$0.pid"
echo "{\"left\":true}"'
t0=$(date +%s)
job "exec:$TMPD/background" '{}'
t1=$(date +%s)
is "exec: a program that leaves a process behind completes" "$OUT" \
    '{"status":"completed","returnvalue":{"left":true}}'
ok "exec: when it exits, not when what it left closes the pipes ($((t1 - t0)) s)" \
    test $((t1 - t0)) -le 5
p=$(cat "$TMPD/background.pid")
if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qx 'sleep 9.3021 '; then
	kill "$p"	# what the program left, by its pid, while it still runs
fi
script killed 'kill -9 $$'
job "exec:$TMPD/killed" '{}'
is "exec: a killed program fails" "$(jout .reason)" \
    "\"exec $TMPD/killed: killed by signal 9\""
printf '\177ELFgarbage' >"$TMPD/badexe"
chmod +x "$TMPD/badexe"
job "exec:$TMPD/badexe" '{}'
is "exec: a program that cannot be executed fails" "$(jout .status)" '"failed"'
ok "exec: the reason names the exec error" \
    out_has 'badexe: Exec format error'

# Large data in both directions at once: no deadlock.
awk 'BEGIN { printf "{\"blob\":\""; for (i = 0; i < 40000; i++)
    printf "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn";
    printf "\"}" }' >"$TMPD/bigdata"
id=$($B add p big - <"$TMPD/bigdata")
prun "exec:$TMPD/cat" "$REDIS_URL" p "$id"
is "exec: megabytes through stdin and stdout" \
    "$(jout '.returnvalue.data.blob | length')" 2400000
script closer 'exec >/dev/null 2>&1
sleep 0.2
wc -c >"$0.count"'
prun "exec:$TMPD/closer" "$REDIS_URL" p "$id"
is "exec: a program that closes stdout and stderr first completes" "$OUT" \
    '{"status":"completed","returnvalue":null}'
ok "exec: and reads all of its job ($(cat "$TMPD/closer.count") bytes)" \
    test "$(cat "$TMPD/closer.count")" -gt 2400000
script early 'exit 0'
prun "exec:$TMPD/early" "$REDIS_URL" p "$id"
is "exec: a program that reads nothing (SIGPIPE) completes" "$OUT" \
    '{"status":"completed","returnvalue":null}'
script noisy 'head -c 3000000 /dev/zero | tr "\0" x >&2; echo "the end" >&2; exit 1'
job "exec:$TMPD/noisy" '{}'
is "exec: megabytes of stderr end in a bounded reason" \
    "$(jout '.reason | length <= 1000')" true
ok "exec: the reason keeps the end of stderr" \
    out_has 'xxxthe end"'

finish
