#!/bin/bash
# Run Debian's C xenstored 4.17 (the reference) as if it were xsconsoled.
#
# Accepts the options the tests give xsconsoled:
#   -F --socket PATH --pid-file PATH --log-file PATH --log-level LEVEL
# and runs /usr/lib/xen-4.17/bin/xenstored in the foreground under the
# LD_PRELOAD shim of ../shared/peers/, serving its Unix socket at --socket.
#
# The C xenstored dies of SIGTERM's default action (status 143); this wrapper
# forwards SIGTERM and exits 0 when that is how xenstored ended, so the tests
# can demand a clean exit from either daemon.
#
# Environment:
#   CXENSTORED   the xenstored binary (default /usr/lib/xen-4.17/bin/xenstored)
#   XSSHIM_SO    a built shim; without it the shim is built from XSSHIM_SRC
#                once, into $TMPDIR/xsshim-UID-CKSUM.so
#   XSSHIM_SRC   default: shared/peers/xsshim.c beside the work tree
#   XSSHIM_DOMS  domains the shim reports as existing (default "0")
#   CXENSTORED_TRACE=1  also write xenstored's request trace to LOGFILE.trace
# --log-level is accepted and ignored.

set -u

here=$(cd "$(dirname "$0")" && pwd)
xenstored=${CXENSTORED:-/usr/lib/xen-4.17/bin/xenstored}
socket= pidfile= logfile= level=info

while [ $# -gt 0 ]; do
	case "$1" in
	-F|--foreground) ;;
	--socket) socket=$2; shift ;;
	--socket=*) socket=${1#*=} ;;
	--pid-file) pidfile=$2; shift ;;
	--pid-file=*) pidfile=${1#*=} ;;
	--log-file) logfile=$2; shift ;;
	--log-file=*) logfile=${1#*=} ;;
	--log-level) level=$2; shift ;;
	--log-level=*) level=${1#*=} ;;
	*) echo "peer-cxenstored: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$socket" ] || { echo "peer-cxenstored: --socket is required" >&2; exit 2; }
[ -x "$xenstored" ] || { echo "peer-cxenstored: $xenstored missing (apt-get install xen-utils-4.17)" >&2; exit 2; }

# Private state next to the socket: shim files and xenstored's run dir.
state=$(mktemp -d "$(dirname "$socket")/.cxenstored.XXXXXX") || exit 2
mkdir -p "$state/shim" "$state/run"
printf 1 >"$state/shim/xsd_port"
head -c 4096 /dev/zero >"$state/shim/xsd_kva"

# Build the shim once per user and source version; rename makes it atomic
# for wrappers starting in parallel.
shim=${XSSHIM_SO:-}
if [ -z "$shim" ]; then
	src=${XSSHIM_SRC:-$here/../../shared/peers/xsshim.c}
	[ -r "$src" ] || { echo "peer-cxenstored: no shim source $src" >&2; exit 2; }
	shim=${TMPDIR:-/tmp}/xsshim-$(id -u)-$(cksum <"$src" | cut -d' ' -f1).so
	if [ ! -f "$shim" ]; then
		gcc -shared -fPIC -o "$state/xsshim.so" "$src" -ldl || exit 2
		mv -f "$state/xsshim.so" "$shim" || exit 2
	fi
fi

# -T traces every request and reply (several lines each); it slows the
# reference down a lot under load, so it is opt-in.
args=(-N)
[ "${CXENSTORED_TRACE:-0}" = 1 ] && [ -n "$logfile" ] && args+=(-T "$logfile.trace")

# xenstored binds XENSTORED_PATH when it is set, else $XENSTORED_RUNDIR/socket.
env XENSTORED_PATH="$socket" XENSTORED_RUNDIR="$state/run" \
	XSSHIM_DIR="$state/shim" XSSHIM_DOMS="${XSSHIM_DOMS:-0}" \
	LD_PRELOAD="$shim" "$xenstored" "${args[@]}" \
	>>"${logfile:-/dev/null}" 2>&1 &
child=$!
[ -n "$pidfile" ] && echo $$ >"$pidfile"

trap 'kill -TERM $child 2>/dev/null' TERM INT
# wait returns >128 when the trap interrupts it; wait again for the real
# status (bash keeps the status of a reaped background job for wait).
wait $child
rc=$?
while kill -0 $child 2>/dev/null; do
	wait $child
	rc=$?
done
wait $child 2>/dev/null
r=$?
[ $r -ne 127 ] && rc=$r
rm -rf "$state"
[ -n "$pidfile" ] && rm -f "$pidfile"
# 143 = killed by SIGTERM: the reference's normal way to stop.
[ $rc -eq 143 ] && exit 0
exit $rc
