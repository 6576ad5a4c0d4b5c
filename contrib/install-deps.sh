#!/bin/sh
# Install what bullmq-c needs to build, test and demo on Debian 12, as root:
# the toolchain, hiredis with TLS, OpenSSL, libbsd, jsmn, Check,
# redis-server, mandoc and valgrind for the checks, and Node.js with npm for
# the interoperability tests (Debian's, when none is present).  --bench
# adds gnuplot, --valkey valkey-server (to run the suites against Valkey).
#
# hiredis: Debian 12's libhiredis-dev (0.14) has no TLS; bookworm-backports'
# libhiredict-shims-dev gives the hiredis 1.x API with hiredis_ssl, and
# replaces libhiredis-dev (they conflict).  A build without TLS needs
# libhiredis-dev back: apt-get install libhiredis-dev (removes the shims).
set -e
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake libtool pkg-config
 libhiredict-shims-dev libssl-dev openssl
 libbsd-dev libjsmn-dev check redis-server redis-tools jq ca-certificates
 mandoc valgrind procps"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
for a in "$@"; do
	case $a in
	--bench)	pkgs="$pkgs gnuplot-nox" ;;
	--valkey)	pkgs="$pkgs valkey-server valkey-tools" ;;
	esac
done
# libhiredict and valkey are in bookworm-backports
if ! grep -rqs bookworm-backports /etc/apt/sources.list \
    /etc/apt/sources.list.d/; then
	echo "deb http://deb.debian.org/debian bookworm-backports main" \
	    >/etc/apt/sources.list.d/bookworm-backports.list
	apt-get update -qq
fi
need=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    need="$need $p"
done
if [ -n "$need" ]; then
	echo "install-deps: installing$need" >&2
	apt-get update -qq
	# the ones from bookworm-backports named with it, the rest as usual
	need=$(echo "$need" | sed -E \
	    's,(libhiredict-shims-dev|valkey-server|valkey-tools),&/bookworm-backports,g')
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# A distribution redis-server may have started one on 6379: the tests never
# use it (each starts its own on a private socket).
exit 0
