#!/bin/sh
# Install what bullmq-c needs to build, test and demo on Debian 12, as root:
# the toolchain, hiredis, libbsd, jsmn, Check, redis-server and
# redis-sentinel, valkey-server (from bookworm-backports) beside it, mandoc
# and valgrind for the checks, clang with its runtime libraries (libFuzzer,
# the sanitizers), libmicrohttpd, libsystemd, prometheus, openssl, python3,
# jq and iproute2 (ip netns, for the many-hosts test), and Node.js with npm
# for the interoperability tests (Debian's, when none is present).
# Recommended packages are never installed.
set -e
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake libtool pkg-config libhiredis-dev
 libbsd-dev libjsmn-dev check redis-server redis-tools redis-sentinel jq
 ca-certificates mandoc valgrind procps libmicrohttpd-dev libsystemd-dev
 prometheus systemd openssl python3 clang libclang-rt-14-dev iproute2"
# From bookworm-backports: Debian 12 itself has no valkey.
bpkgs="valkey-server"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
[ "${1:-}" = --bench ] && pkgs="$pkgs gnuplot-nox"

# The backports suite, in the deb822 form of /etc/apt/sources.list.d/
# debian.sources, unless some source already names it.
bp=/etc/apt/sources.list.d/debian-backports.sources
if ! grep -qs 'bookworm-backports' /etc/apt/sources.list \
    /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
	echo "install-deps: adding bookworm-backports ($bp)" >&2
	cat >"$bp" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	updated=no
fi

missing() {
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || printf ' %s' "$p"
	done
}
need=$(missing $pkgs)
bneed=$(missing $bpkgs)
if [ -n "$need$bneed" ] || [ "${updated:-}" = no ]; then
	apt-get update -qq
fi
if [ -n "$need" ]; then
	echo "install-deps: installing$need" >&2
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if [ -n "$bneed" ]; then
	echo "install-deps: installing$bneed from bookworm-backports" >&2
	apt-get install -y -qq --no-install-recommends \
	    -t bookworm-backports $bneed >/dev/null
fi
# A distribution redis-server, valkey-server or prometheus may have started
# one on its usual port: the tests never use it (each starts its own on a
# private socket or port).
exit 0
