#!/bin/sh
# bullmq add, add-bulk, get and remove on jobs with long custom ids: up to
# 3072 bytes they work as short ones do, a longer id is refused naming the
# limit, and nothing of it is written.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/cli.inc"
redis_start
B="$BULLMQ -r $REDIS_URL"

A=$(long_id 300 a)
C=$(long_id 3072 c)
X=$(long_id 3073 x)

# --- add --job-id ------------------------------------------------------
run $B add q n '{"k":1}' --job-id "$A"
is "add of a 300-byte id exits 0" "$RC" 0
is "add prints the whole id" "$OUT" "$A"
is "the job is stored under it" "$(rcli HGET "bull:q:$A" data)" '{"k":1}'
is "it waits" "$(rcli LINDEX bull:q:wait 0)" "$A"
run $B --json add q n --job-id "$A"
is "again: a duplicate" "$OUT" "{\"id\":\"$A\",\"result\":\"duplicate\"}"
run $B add q n --opts "{\"jobId\":\"$C\"}"
is "add of a 3072-byte id in --opts exits 0" "$RC" 0
is "it prints the whole id" "$OUT" "$C"
run $B add q n --job-id "$X"
is "a 3073-byte id is refused" "$RC" 1
ok "naming the limit" said "longer than 3072 bytes"
run $B add q n --opts "{\"jobId\":\"$X\"}"
is "also in --opts" "$RC" 1
ok "naming the limit" said "option jobId: longer than 3072 bytes"
is "it was not added" "$(rcli EXISTS "bull:q:$X")" 0
is "two jobs wait" "$(rcli LLEN bull:q:wait)" 2

# --- get and remove ----------------------------------------------------
run $B get q "$A"
is "get of a 300-byte id exits 0" "$RC" 0
is "get shows the whole id" "$(echo "$OUT" | head -n 1)" "id: $A"
ok "and the state" eval 'echo "$OUT" | grep -qx "state: waiting"'
run $B --json get q "$C"
is "get --json of a 3072-byte id exits 0" "$RC" 0
ok "with the whole id" eval 'echo "$OUT" | grep -q "^{\"id\":\"$C\",\"state\":\"waiting\""'
run $B get q "$X"
is "get of a 3073-byte id fails" "$RC" 1
ok "naming the limit" said "longer than 3072 bytes"
run $B remove q "$X"
is "so does remove" "$RC" 1
ok "naming the limit" said "longer than 3072 bytes"
run $B remove q "$A"
is "remove of a 300-byte id exits 0" "$RC" 0
is "and says so" "$OUT" "queue q job $A removed"
is "the hash is gone" "$(rcli EXISTS "bull:q:$A")" 0
run $B --json remove q "$C"
is "remove of a 3072-byte id" "$OUT" "{\"id\":\"$C\",\"removed\":true,\"existed\":true}"
is "nothing waits" "$(rcli LLEN bull:q:wait)" 0
run $B get q "$C"
is "get of a removed id: not found" "$RC" 1
ok "and says so" said "not found"

# --- add-bulk ----------------------------------------------------------
printf '{"name":"b","opts":{"jobId":"%s"}}\n{"name":"b"}\n' "$C" |
    $B add-bulk qb >"$TMPD/out" 2>"$E"
is "add-bulk of a 3072-byte id exits 0" "$?" 0
is "it adds both" "$(cat "$TMPD/out")" \
    "added 2 jobs, 0 duplicates, 0 failed, 0 bad lines"
is "under the whole id" "$(rcli HGET "bull:qb:$C" name)" b
printf '{"name":"b","opts":{"jobId":"%s"}}\n' "$X" |
    $B add-bulk qb >"$TMPD/out" 2>"$E"
is "add-bulk of a 3073-byte id fails" "$?" 1
ok "naming the limit" said "longer than 3072 bytes"
finish
