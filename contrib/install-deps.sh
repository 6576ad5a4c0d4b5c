#!/bin/sh
# Install what bullmq-c needs to build, test and demo on Debian 12, as root:
# the toolchain, hiredis, libbsd, jsmn, Check, redis-server, mandoc and
# valgrind for the checks (redis-sentinel and iproute2's ip netns for the
# failover and many-hosts tests), and Node.js with npm for the
# interoperability tests (Debian's, when none is present).
set -e
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake libtool pkg-config libhiredis-dev
 libbsd-dev libjsmn-dev check redis-server redis-tools jq ca-certificates
 mandoc valgrind procps redis-sentinel iproute2"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
[ "${1:-}" = --bench ] && pkgs="$pkgs gnuplot-nox"
need=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    need="$need $p"
done
if [ -n "$need" ]; then
	echo "install-deps: installing$need" >&2
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# A distribution redis-server may have started one on 6379: the tests never
# use it (each starts its own on a private socket).
exit 0
