#!/bin/sh
# make install DESTDIR=...: the programs, the library with its header and
# pkg-config file, the Lua scripts and the man pages land where they should;
# the library exports only bullmq_*; a processor built against the installed
# header with pkg-config runs in the installed bullmq-master.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
D=$TMPD/dest

# The configured directories, as the Makefile has them.
mkvar() {
	sed -n "s|^$1 = ||p" "$top_builddir/Makefile" | head -n 1
}
prefix=$(mkvar prefix)
P=$D$prefix
# Build as the project does (with the sanitizers when it has them).
CC=$(mkvar CC)
CFLAGS="$(mkvar WARN_CFLAGS) -Werror"
LDFLAGS=$(mkvar LDFLAGS)

${MAKE:-make} -C "$top_builddir" install DESTDIR="$D" >"$TMPD/install.log" 2>&1
rc=$?
is "make install DESTDIR=... exits 0" "$rc" 0
[ $rc -eq 0 ] || sed 's/^/# /' "$TMPD/install.log"

ok "bullmq is in bin" test -x "$P/bin/bullmq"
ok "bullmq-master is in sbin" test -x "$P/sbin/bullmq-master"
ok "libbullmq.so is in lib" test -e "$P/lib/libbullmq.so"
ok "bullmq.h is in include" test -f "$P/include/bullmq.h"
ok "bullmq.pc is in lib/pkgconfig" test -f "$P/lib/pkgconfig/bullmq.pc"
for f in "$top_srcdir"/lua/*.lua "$top_srcdir"/lua/include/*.lua; do
	n=${f#"$top_srcdir"/lua/}
	ok "lua/$n is in share/bullmq-c/lua, byte for byte" \
	    cmp -s "$f" "$P/share/bullmq-c/lua/$n"
done
for f in node/bullmq-pipe.cjs python/bullmq_processor.py shell/echo.sh; do
	ok "the pipe: adapter $f is in share/bullmq-c/processors" \
	    cmp -s "$top_srcdir/contrib/processors/$f" \
	    "$P/share/bullmq-c/processors/${f#*/}"
done
for m in 1/bullmq.1 3/libbullmq.3 5/bullmq.conf.5 7/bullmq-processor.7 \
    8/bullmq-master.8; do
	ok "man page ${m#*/} is in share/man/man${m%%/*}" \
	    test -f "$P/share/man/man$m"
done

# Only bullmq_* leaves the library.
nm -D --defined-only "$P/lib/libbullmq.so" | awk '{ print $NF }' \
    >"$TMPD/syms"
is "libbullmq.so exports only bullmq_* symbols" \
    "$(grep -v '^bullmq_' "$TMPD/syms" | tr '\n' ' ')" ""
ok "libbullmq.so exports bullmq_queue_new" grep -qx bullmq_queue_new \
    "$TMPD/syms"
ok "libbullmq.so exports bullmq_worker_run" grep -qx bullmq_worker_run \
    "$TMPD/syms"

# pkg-config finds the installed header and library (through a copy of
# bullmq.pc with the prefix under DESTDIR).
mkdir "$TMPD/pc"
sed "s|^prefix=.*|prefix=$P|" "$P/lib/pkgconfig/bullmq.pc" \
    >"$TMPD/pc/bullmq.pc"
export PKG_CONFIG_PATH="$TMPD/pc"
PC="pkg-config bullmq"
is "pkg-config knows bullmq" "$($PC --modversion)" \
    "$(mkvar PACKAGE_VERSION)"
cflags=$($PC --cflags)
libs=$($PC --libs)
ok "pkg-config --cflags points at the installed header" \
    sh -c "echo '$cflags' | grep -q -- '-I$P/include'"
ok "pkg-config --cflags carries no libbsd overlay flags" \
    sh -c "! echo '$cflags' | grep -q -- LIBBSD_OVERLAY"
# hiredis, or libhiredict through its hiredis shims
ok "pkg-config --static --libs lists hiredis and libbsd" \
    sh -c "$PC --static --libs | grep -- '-lhiredi[cs]' | grep -q -- -lbsd"
ok "contrib/examples/example.c builds against the installed bullmq.h" \
    $CC $CFLAGS -shared -fPIC -o "$TMPD/libexample.so" \
    "$top_srcdir/contrib/examples/example.c" $cflags $LDFLAGS $libs
cat >"$TMPD/prog.c" <<'EOF'
#include <stdio.h>
#include <bullmq.h>

int	main(void);

int
main(void)
{
	struct bullmq_conn_opts	co = { 0 };
	bullmq_queue		*q;

	co.url = "redis://127.0.0.1:6379";
	co.queue = "";
	q = bullmq_queue_new(&co);
	printf("%d\n", q != NULL && bullmq_errcode(q) == BULLMQ_ERR_ARG);
	bullmq_queue_free(q);
	return 0;
}
EOF
ok "a program links with the installed libbullmq.so" \
    $CC $CFLAGS -o "$TMPD/prog" "$TMPD/prog.c" $cflags $LDFLAGS $libs
is "and runs with it" \
    "$(LD_LIBRARY_PATH=$P/lib "$TMPD/prog" 2>&1)" 1

# The installed master runs the processor built against the installed API.
redis_start
LD_LIBRARY_PATH=$P/lib "$P/sbin/bullmq-master" -r "$REDIS_URL" -q sums \
    -w 1 --drain-delay 200 -x "so:$TMPD/libexample.so" \
    >"$TMPD/master.log" 2>&1 &
mpid=$!
track "$mpid"
LD_LIBRARY_PATH=$P/lib "$P/bin/bullmq" -r "$REDIS_URL" add sums sum \
    '{"numbers":[1,2,3.5]}' >/dev/null
ok "the installed master completes a job with the example processor" \
    wait_for '[ "$(rcli ZCARD bull:sums:completed)" = 1 ]'
is "its return value" "$(rcli HGET bull:sums:1 returnvalue)" \
    '{"sum":6.5,"count":3}'
kill -TERM "$mpid"
wait_for "! kill -0 $mpid"
[ "$T_FAIL" -eq 0 ] || sed 's/^/# /' "$TMPD/master.log"
finish
