#!/bin/sh
# The main job: install what is missing, build, start the daemon on a
# private socket and show stock clients using it.
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh
dir=$(mktemp -d /tmp/xsconsoled-demo.XXXXXX)
./xsconsoled --socket "$dir/socket" --pid-file "$dir/pid" \
	--log-file "$dir/log"
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
export XENSTORED_PATH="$dir/socket"
echo "xsconsoled is running (pid $(cat "$dir/pid")), socket $XENSTORED_PATH"
set -x
xenstore-write /local/domain/1/name guest1 /local/domain/1/memory/target 524288
xenstore-write /vm/1/uuid 0c4b1c46-6d5e-4b9c-9d0e-123456789abc
# Owner dom0; domain 1 (not running: no hypervisor yet) may read.
xenstore-chmod /local/domain/1 n0 r1
xenstore-ls -fp /local
xenstore-read /local/domain/1/name
/usr/lib/xen-4.17/bin/xenstore-control memreport
