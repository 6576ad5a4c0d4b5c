#!/bin/sh
# The systemd unit as make install DESTDIR=... puts it: made from its .in
# with the configured paths, Type=notify, hardened without
# MemoryDenyWriteExecute; systemd-analyze verify --man=no passes on it and
# systemd-analyze security --offline=yes rates it OK or better.
#
# Neither needs systemd to run as PID 1.  verify checks that the commands of
# the unit exist: the binary lies under DESTDIR, not yet at the path the
# unit names, so verify reads a copy whose sbindir has DESTDIR in front
# (--root= would look for every other unit and command there too).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
command -v systemd-analyze >/dev/null ||
    { echo "1..0 # SKIP no systemd-analyze (Debian package systemd)"; exit 77; }
D=$TMPD/dest

mkvar() {
	sed -n "s|^$1 = ||p" "$top_builddir/Makefile" | head -n 1
}
${MAKE:-make} -C "$top_builddir" install DESTDIR="$D" >"$TMPD/install.log" 2>&1
is "make install DESTDIR=... exits 0" "$?" 0
U=$(find "$D" -name bullmq-master.service | head -n 1)
ok "the unit is installed" test -f "$U"
ok "into the systemd unit directory" sh -c "echo '$U' | grep -q '/lib/systemd/system/bullmq-master.service\$'"
ok "no @variable@ left" eval "! grep -q '@[a-z]*@' '$U'"
SBIN=$(sed -n 's|^ExecStart=\(.*\)/bullmq-master .*|\1|p' "$U")
ok "ExecStart names the installed binary" test -x "$D$SBIN/bullmq-master"
ok "Type=notify" grep -qx 'Type=notify' "$U"
ok "a watchdog" grep -q '^WatchdogSec=' "$U"
ok "the children run as an unprivileged user" grep -qx 'Environment=BULLMQ_USER=bullmq' "$U"
for k in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes PrivateDevices=yes SystemCallArchitectures=native; do
	ok "hardened: $k" grep -qx "$k" "$U"
done
ok "a Node or Python JIT still runs: no MemoryDenyWriteExecute" \
    eval "! grep -q '^MemoryDenyWriteExecute' '$U'"

mkdir -p "$TMPD/v"
sed "s|$SBIN/|$D$SBIN/|g" "$U" >"$TMPD/v/bullmq-master.service"
systemd-analyze verify --man=no "$TMPD/v/bullmq-master.service" \
    >"$TMPD/verify" 2>&1
is "systemd-analyze verify --man=no passes" "$?" 0
sed 's/^/# /' "$TMPD/verify"

systemd-analyze security --offline=yes "$U" >"$TMPD/sec" 2>&1
level=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) \([A-Z]*\).*/\2/p' "$TMPD/sec")
score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p' "$TMPD/sec")
echo "# systemd-analyze security: $score $level"
case $level in
PERFECT|SAFE|OK)	ok "systemd-analyze security: OK or better ($score $level)" true ;;
*)	ok "systemd-analyze security: OK or better ($score $level)" false
	sed 's/^/# /' "$TMPD/sec" ;;
esac
finish
