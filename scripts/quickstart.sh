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
export XSC_SIM_ROOT="$dir/sim" XENSTORED_PATH="$dir/socket" \
	XSC_CONSOLE_DB="$dir/console.db"
./xsconsoled --sim-root "$dir/sim" --socket "$dir/socket" \
	--pid-file "$dir/pid" --log-file "$dir/log" --db "$dir/console.db"
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
# Every guest boots over its ring at once, printing a boot log on its
# console; the daemon drains the consoles into its log.
printf '[    0.000000] Linux version 6.1.0-13-amd64 (Debian 6.1.55-1)\n[    0.412345] xenbus_probe_frontend: Device with no driver: device/vif/0\n[    1.234567] systemd[1]: Reached target Multi-User System.\nguest login: ' >"$dir/boot.log"
./xsc-sim guest --boot --console-file "$dir/boot.log" --all
/usr/lib/xen-4.17/bin/xenstore-control quota 1
# Guest 1's console, from the log (committed within 100 ms), with
# capture times.
sleep 0.3
./xsconsole-tail -t -n 5 1
echo
xenstore-read /local/domain/1/console/tty
# Guest 3 dies: its nodes go, @releaseDomain fires; its console log stays.
./xsc-sim destroy 3
xenstore-ls /local/domain
./xsconsole-tail -n 2 guest3
echo
# Guest 1's console with the store changes that concern it, merged by
# generation; what changed below its home, and who changed it.
./xsconsole-tail --store -n 3 1
echo
./xsc-history -n 5 /local/domain/1
# Live settings and statistics, through the store.
xenstore-write /tool/xsconsoled/config/quota/nodes 2000
xenstore-read /tool/xsconsoled/stats/commits
# kill -9 and a restart: the store and the guests' rings come back.
kill -9 "$(cat "$dir/pid")"
rm -f "$dir/pid"
./xsconsoled --sim-root "$dir/sim" --socket "$dir/socket" \
	--pid-file "$dir/pid" --log-file "$dir/log" --db "$dir/console.db"
./xsc-sim xs 1 "read data/greeting"
/usr/lib/xen-4.17/bin/xenstore-control memreport
