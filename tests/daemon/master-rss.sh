#!/bin/sh
# bullmq-master --max-child-rss: a child whose size with its exec:
# program's passes the limit finishes its job and is replaced, logged and
# counted, without a restart counted (max-restarts 0); children under the
# limit stay.  The same with a pipe: program that keeps what it allocates:
# its size counts while it waits for the next job.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$top_srcdir/tests/daemon/master.inc"
redis_start
CS=$TMPD/ctl.sock
cat >"$TMPD/big.sh" <<'EOS'
#!/bin/sh
# a job that holds about 40 MB for 2 s
exec perl -e 'my $in = do { local $/; <STDIN> }; my $x = "a" x 40_000_000;
    sleep 2; print "null"'
EOS
chmod 755 "$TMPD/big.sh"

master_start -q rq -x "exec:$TMPD/big.sh" -w 2 --drain-delay 300 -s "$CS" \
    --max-child-rss 20M --max-restarts 0
ok "2 children" wait_for '[ "$(nchildren)" = 2 ]'
before=$(children | sort | tr '\n' ' ')
sleep 2.5
is "small children stay" "$(children | sort | tr '\n' ' ')" "$before"
add_jobs rq 1 1 '{}'
ok "a child runs the job" wait_for '[ -n "$(busy_child 1)" ]'
big=$(busy_child 1)
ok "its size passes the limit: replaced after its job" \
    wait_log "child [12] (pid $big) uses [0-9]* KB, over max-child-rss (20480 KB): replacing it after its job" 5
ok "the job completes" wait_for '[ "$(count rq completed)" = 1 ]'
is "once" "$(rcli HGET bull:rq:1 ats)" 1
ok "the child exits 0" wait_log "child [12] (pid $big) exited 0"
ok "a new child takes its slot" wait_for '[ "$(nchildren)" = 2 ]'
ok "counted, its exit shown" \
    sh -c "'$BULLMQ_MASTER' status -q rq -s '$CS' > '$TMPD/st'; grep -q '0 restarts, 1 replaced for size' '$TMPD/st' && grep -q 'exited 0 (max-child-rss)' '$TMPD/st'"
ok "the master runs (no restart counted)" kill -0 "$MPID"
kill -TERM "$MPID"
master_wait
is "TERM: exit 0" "$MRC" 0

# a pipe: program that leaks data.mb MB a job
cat >"$TMPD/leak.pl" <<'EOS'
$| = 1;
my @kept;
while (my $line = <STDIN>) {
	if ($line =~ /"type":"hello"/) {
		print "{\"type\":\"hello\",\"protocol\":1}\n";
	} elsif ($line =~ /"type":"job"/) {
		my ($mb) = $line =~ /"mb":(\d+)/;
		push @kept, "b" x (($mb // 0) * 1024 * 1024);
		print "{\"type\":\"done\",\"result\":null}\n";
	}
}
EOS
: >"$MLOG"
master_start -q lq -x "pipe:/usr/bin/perl $TMPD/leak.pl" -w 1 \
    --drain-delay 300 -s "$CS" --max-child-rss 30M --max-restarts 0
ok "pipe: 1 child" wait_for '[ "$(nchildren)" = 1 ]'
first=$(children)
add_jobs lq 1 1 '{"mb":1}'
ok "pipe: a small job" wait_for '[ "$(count lq completed)" = 1 ]'
sleep 2.5
is "pipe: the child stays" "$(children)" "$first"
add_jobs lq 2 2 '{"mb":40}'
ok "pipe: the program keeps 40 MB: the child is replaced" \
    wait_log "child 1 (pid $first) uses [0-9]* KB, over max-child-rss (30720 KB): replacing it" 5
ok "pipe: the job completed" wait_for '[ "$(count lq completed)" = 2 ]'
ok "pipe: a new child" wait_for '[ "$(nchildren)" = 1 ] && [ "$(children)" != "$first" ]'
ok "pipe: the master runs (no restart counted)" kill -0 "$MPID"
kill -TERM "$MPID"
master_wait
is "pipe: TERM: exit 0" "$MRC" 0
[ "$T_FAIL" -eq 0 ] || { cat "$TMPD/st"; show_log; }
finish
