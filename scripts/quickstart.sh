#!/bin/sh
# The main job: install what is missing, build, start the daemon on a
# simulated Xen host (../shared/sim-abi.md) with a few guests, and show the
# stock clients and the guests using it.
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh
dir=$(mktemp -d /tmp/xsconsoled-demo.XXXXXX)
mkdir "$dir/sim"
export XSC_SIM_ROOT="$dir/sim" XENSTORED_PATH="$dir/socket"
./xsconsoled --sim-root "$dir/sim" --socket "$dir/socket" \
	--pid-file "$dir/pid" --log-file "$dir/log"
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
echo "xsconsoled is running (pid $(cat "$dir/pid")), socket $XENSTORED_PATH"
set -x
# Three guests, made and introduced the way libxl does it.
./xsc-sim create 3
xenstore-ls -fp /local/domain/1
# Guest 1 speaks the protocol over its shared ring: its own home works,
# another guest's home is refused.
./xsc-sim xs 1 "read name" "write data/greeting hello" "read data/greeting" \
	"dir /local/domain/1" "read /local/domain/2/name" || true
xenstore-read /local/domain/1/data/greeting
# Every guest boots over its ring at once.
./xsc-sim guest --boot --all
/usr/lib/xen-4.17/bin/xenstore-control quota 1
# Guest 3 dies: its nodes go, @releaseDomain fires.
./xsc-sim destroy 3
xenstore-ls /local/domain
/usr/lib/xen-4.17/bin/xenstore-control memreport
