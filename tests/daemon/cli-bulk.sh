#!/bin/sh
# bullmq add-bulk and bench against a private redis-server: batches, options
# per line, bad lines (all or nothing by default, --skip-bad), --json.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/cli.inc"
redis_start
B="$BULLMQ -r $REDIS_URL"

# Run a command with stdin from a file, keeping stdout in OUT, stderr in $E
# and the status in RC: run_in FILE command...
run_in() {
	f=$1
	shift
	OUT=$("$@" <"$f" 2>"$E")
	RC=$?
}

# --- a big input in several batches ------------------------------------
awk 'BEGIN { for (i = 1; i <= 2500; i++)
    printf "{\"name\":\"n%d\",\"data\":{\"i\":%d}}\n", i, i }' >"$TMPD/big"
run_in "$TMPD/big" $B add-bulk q1
is "add-bulk exits 0" "$RC" 0
is "add-bulk prints a summary" "$OUT" \
    "added 2500 jobs, 0 duplicates, 0 failed, 0 bad lines"
is "every job is waiting" "$(rcli LLEN bull:q1:wait)" 2500
is "the jobs keep their order" "$(rcli LINDEX bull:q1:wait -1)" 1
is "a job has its name" "$(rcli HGET bull:q1:2500 name)" n2500
is "a job has its data" "$(rcli HGET bull:q1:1234 data)" '{"i":1234}'
ok "no progress line when stderr is not a terminal" test ! -s "$E"

# --- options, data forms, blank lines ----------------------------------
cat >"$TMPD/opts" <<'EOF'
{"name":"plain"}

{"name":"custom","data":[1,2],"opts":{"jobId":"c-1","attempts":4}}
{"name":"later","data":"text","opts":{"delay":60000}}
   
{"name":"urgent","data":null,"opts":{"priority":3,"removeOnComplete":true}}
{"name":"esc\"aped \u00e9","data":{"nested":{"a":[true,false]}}}
EOF
run_in "$TMPD/opts" $B --json add-bulk q2
is "add-bulk with options exits 0" "$RC" 0
is "add-bulk --json summary" "$(echo "$OUT" | jq -c .)" \
    '{"added":5,"duplicates":0,"failed":0,"bad":0}'
is "a line without data stores {}" "$(rcli HGET bull:q2:1 data)" '{}'
is "opts.jobId gives the id" "$(rcli HGET bull:q2:c-1 data)" '[1,2]'
is "opts.attempts is stored" "$(rcli HGET bull:q2:c-1 opts | jq .attempts)" 4
is "a string payload stays quoted" "$(rcli HGET bull:q2:3 data)" '"text"'
ok "opts.delay makes it delayed" test -n "$(rcli ZSCORE bull:q2:delayed 3)"
ok "opts.priority makes it prioritized" \
    test -n "$(rcli ZSCORE bull:q2:prioritized 4)"
is "null data is stored as null" "$(rcli HGET bull:q2:4 data)" null
is "names are unescaped" "$(rcli HGET bull:q2:5 name)" 'esc"aped é'
is "nested data is kept" "$(rcli HGET bull:q2:5 data | jq -c .nested.a)" \
    '[true,false]'

run_in "$TMPD/opts" $B add-bulk q2
is "duplicates are counted" "$OUT" \
    "added 4 jobs, 1 duplicate, 0 failed, 0 bad lines"
is "duplicates exit 0" "$RC" 0

# --- bad lines: all or nothing -----------------------------------------
cat >"$TMPD/bad" <<'EOF'
{"name":"good1","data":{}}
{"name":"broken",
{"data":{}}
["name","x"]
{"name":5}
{"name":"badopts","opts":{"priority":"high"}}
{"name":"badopts2","opts":[1]}
{"name":"good2","data":{}}
EOF
keys=$(rcli DBSIZE)
run_in "$TMPD/bad" $B add-bulk q3
is "bad lines exit 1" "$RC" 1
ok "a line that is not JSON is named by number" said "line 2: not valid JSON"
ok "a line without a name is named" said 'line 3: "name" is missing'
ok "a line that is not an object is named" said "line 4: not a JSON object"
ok "a name that is not a string is named" said 'line 5: "name" is not'
ok "a bad option is named" said "line 6: .*priority"
ok "opts that are not an object are named" said 'line 7: "opts"'
ok "the outcome is stated" said "6 bad lines: nothing added"
is "nothing was written" "$(rcli DBSIZE)" "$keys"
is "no job of the good lines went in" "$(rcli EXISTS bull:q3:wait)" 0

# --- bad lines with --skip-bad -----------------------------------------
run_in "$TMPD/bad" $B add-bulk q3 --skip-bad --batch 1
is "--skip-bad still exits 1" "$RC" 1
ok "--skip-bad reports the bad lines" said "line 2: not valid JSON"
is "--skip-bad adds the good lines" "$(rcli LLEN bull:q3:wait)" 2
is "--skip-bad summary" "$OUT" \
    "added 2 jobs, 0 duplicates, 0 failed, 6 bad lines"
is "the bad lines wrote nothing" \
    "$(rcli HGET bull:q3:1 name) $(rcli HGET bull:q3:2 name)" "good1 good2"

# --- jobs Redis refuses ------------------------------------------------
# The events key is not a stream, so every add script fails in Redis.
rcli SET bull:q4:events not-a-stream >/dev/null
printf '%s\n' '{"name":"a"}' '{"name":"b"}' '{"name":"c"}' >"$TMPD/refused"
run_in "$TMPD/refused" $B add-bulk q4
is "refused jobs exit 1" "$RC" 1
ok "a refused job is named by its line" said "line 2: .*WRONGTYPE"
is "refused jobs are counted" "$OUT" \
    "added 0 jobs, 0 duplicates, 3 failed, 0 bad lines"

# --- a large input: more jobs than are ever outstanding ------------------
# Bad lines and a duplicate among 20,000 lines (--skip-bad sends as it
# reads); then 6,000 jobs that Redis refuses, each reported by its own line.
awk 'BEGIN { for (i = 1; i <= 20000; i++)
    if (i % 4000 == 0) print "{\"name\":"
    else if (i == 19999) print "{\"name\":\"d\",\"opts\":{\"jobId\":\"c7\"}}"
    else if (i == 7) print "{\"name\":\"c\",\"opts\":{\"jobId\":\"c7\"}}"
    else printf "{\"name\":\"n%d\",\"data\":{\"i\":%d}}\n", i, i }' \
    >"$TMPD/large"
run_in "$TMPD/large" $B add-bulk q6 --skip-bad
is "a large input exits 1 for its bad lines" "$RC" 1
is "a large input is counted" "$OUT" \
    "added 19994 jobs, 1 duplicate, 0 failed, 5 bad lines"
is "its bad lines are named by number" \
    "$(sed -n 's/^bullmq add-bulk: line \([0-9]*\):.*/\1/p' "$E" | tr '\n' ' ')" \
    "4000 8000 12000 16000 20000 "
is "its jobs are all waiting" "$(rcli LLEN bull:q6:wait)" 19994
is "the last one is the last line's" "$(rcli HGET bull:q6:19994 data)" \
    '{"i":19998}'
awk 'BEGIN { for (i = 1; i <= 6000; i++) printf "{\"name\":\"r%d\"}\n", i }' \
    >"$TMPD/refused-many"
rcli SET bull:q7:events not-a-stream >/dev/null
run_in "$TMPD/refused-many" $B add-bulk q7
is "6,000 refused jobs are counted" "$OUT" \
    "added 0 jobs, 0 duplicates, 6000 failed, 0 bad lines"
is "each refused job is named by its own line, in order" \
    "$(sed -n 's/^bullmq add-bulk: line \([0-9]*\): .*WRONGTYPE.*/\1/p' "$E" |
    awk '$1 != NR { bad++ } END { print NR, bad + 0 }')" "6000 0"

# --- usage -------------------------------------------------------------
run_in /dev/null $B add-bulk q5 --batch 0
is "--batch 0 is a usage error" "$RC" 64
run_in /dev/null $B add-bulk
is "a missing queue is a usage error" "$RC" 64
run_in /dev/null $B add-bulk q5
is "empty input adds nothing and exits 0" "$RC:$OUT" \
    "0:added 0 jobs, 0 duplicates, 0 failed, 0 bad lines"
run_in "$TMPD/big" $BULLMQ -r "unix://$TMPD/none.sock" add-bulk q5
is "an unreachable Redis exits 1" "$RC" 1
ok "an unreachable Redis is named" said "none.sock"

# --- system errors name the call and errno's text ------------------------
run_in "$TMPD/big" env TMPDIR="$TMPD/nodir" $B add-bulk q5
is "a missing TMPDIR exits 1" "$RC" 1
is "a missing TMPDIR is named, with errno's text" "$(cat "$E")" \
    "bullmq add-bulk: temporary file in $TMPD/nodir: No such file or directory"
if [ -w /dev/full ]; then
	$B counts q1 >/dev/full 2>"$E"
	is "a full standard output exits 1" "$?" 1
	is "a full standard output is said, with errno's text" "$(cat "$E")" \
	    "bullmq counts: standard output: No space left on device"
fi

# --- bench -------------------------------------------------------------
run_in /dev/null $B bench qb -n 3000
is "bench exits 0" "$RC" 0
ok "bench prints the rate" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '^added 3000 jobs in .* jobs/s\$'" \
    sh "$OUT"
is "bench added the jobs" "$(rcli LLEN bull:qb:wait)" 3000
is "bench jobs are small and named bench" \
    "$(rcli HGET bull:qb:3000 name) $(rcli HGET bull:qb:3000 data)" \
    'bench {"i":2999}'
run_in /dev/null $B --json bench qb -n 10 --batch 3
is "bench --json" "$(echo "$OUT" | jq -c '[.jobs, .failed, (.jobs_per_second > 0)]')" \
    '[10,0,true]'
run_in /dev/null $B bench qb
is "bench without -n is a usage error" "$RC" 64

finish
