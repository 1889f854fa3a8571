#!/bin/sh
# Install what building and testing xsconsoled needs on Debian 12, if missing.
set -e
pkgs="autoconf automake make gcc pkg-config libevent-dev libsqlite3-dev
libzstd-dev libxen-dev check xenstore-utils xen-utils-4.17 clang
libclang-rt-14-dev procps"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
