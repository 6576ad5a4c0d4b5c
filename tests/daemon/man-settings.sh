#!/bin/sh
# Every setting bullmq-master --check prints (the settings table) has its
# entry in bullmq.conf(5), its option in bullmq-master(8) and a line in
# contrib/bullmq.conf.sample; its BULLMQ_ variable is named as
# bullmq-master(8) ENVIRONMENT says, and is read.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
M8=$top_srcdir/man/bullmq-master.8
C5=$top_srcdir/man/bullmq.conf.5
SAMPLE=$top_srcdir/contrib/bullmq.conf.sample

names=$("$BULLMQ_MASTER" --check -q q -x builtin:noop 2>&1 |
    sed -n 's/^\([a-z-]*\) =.*/\1/p')
ok "--check prints the settings" test "$(echo "$names" | wc -l)" -ge 20
for n in $names; do
	ok "$n: in bullmq.conf(5)" grep -q "^\.It Cm $n No" "$C5"
	ok "$n: an option in bullmq-master(8)" \
	    grep -q "^\.It .*Fl -$n\( \|\$\)" "$M8"
	ok "$n: in contrib/bullmq.conf.sample" \
	    grep -q "^#\{0,1\}$n =" "$SAMPLE"
done
ok "bullmq-master(8) says how the variables are named" \
    grep -q "^\.Ev BULLMQ_LOCK_DURATION\$" "$M8"
out=$(env BULLMQ_MAX_JOBS_PER_CHILD=77 BULLMQ_LOG_FILE=/tmp/x.log \
    "$BULLMQ_MASTER" --check -q q -x builtin:noop 2>&1)
ok "BULLMQ_MAX_JOBS_PER_CHILD is read" \
    sh -c "printf '%s\n' '$out' | grep -qx 'max-jobs-per-child = 77'"
ok "BULLMQ_LOG_FILE is read" \
    sh -c "printf '%s\n' '$out' | grep -qx 'log-file = /tmp/x.log'"
finish
