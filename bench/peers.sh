#!/bin/sh
# Start and stop Debian's Xen 4.17 xenstored (C) and oxenstored (OCaml) on a
# host without Xen, through an LD_PRELOAD shim, so the benchmark can drive
# them over a Unix socket.
#
#   peers.sh start cxenstored|oxenstored DIR [--sim-root SIMDIR]
#                                              prints the socket path
#   peers.sh stop DIR
#   peers.sh pid DIR                           prints the daemon's pid
#
# DIR holds everything of one running peer: shim files, pid, logs, socket.
#
# Without --sim-root the peer runs under ../shared/peers/xsshim.c: it serves
# its Unix socket only (no guests). With --sim-root it runs under
# bench/sim-shim.c (built into DIR/sim-shim.so) and serves the guests of the
# simulated host SIMDIR (../shared/sim-abi.md): it binds SIMDIR/evtchn.sock,
# maps SIMDIR/domains/<domid>/gnttab/1 on XS_INTRODUCE, and rescans
# SIMDIR/domains on {0x7FF0, 3}. Only one daemon can serve a sim root.
# Environment:
#   XSSHIM_SRC            shim source (default <repo>/../shared/peers/xsshim.c)
#   SIM_SHIM_SRC          sim shim source (default <repo>/bench/sim-shim.c)
#   OXENSTORED_ACCESS_LOG 1 keeps oxenstored's stock access log (writes logged,
#                         as on a Debian host; default), 0 turns it off
#   CC                    compiler for the shim (default gcc)
set -eu
# C xenstored binds XENSTORED_PATH if set: a client's setting must not
# move the daemon's socket.
unset XENSTORED_PATH

XENBIN=/usr/lib/xen-4.17/bin
PACKAGES="xen-utils-4.17 xenstore-utils libxen-dev"
here=$(cd "$(dirname "$0")" && pwd)
XSSHIM_SRC=${XSSHIM_SRC:-$here/../../shared/peers/xsshim.c}
SIM_SHIM_SRC=${SIM_SHIM_SRC:-$here/sim-shim.c}
OXENSTORED_ACCESS_LOG=${OXENSTORED_ACCESS_LOG:-1}
CC=${CC:-gcc}

# Print an error and exit.
die() {
	echo "peers.sh: $*" >&2
	exit 1
}

# Install the Debian Xen packages if any is missing.
ensure_packages() {
	missing=
	for p in $PACKAGES; do
		s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$s" in
		*" installed") ;;
		*) missing="$missing $p" ;;
		esac
	done
	[ -z "$missing" ] && return 0
	echo "peers.sh: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	if ! apt-get install -y --no-install-recommends $missing >&2; then
		apt-get update >&2
		# shellcheck disable=SC2086
		apt-get install -y --no-install-recommends $missing >&2
	fi
}

# True if the pid is a live process (a zombie counts as dead).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) ||
	    return 1
	[ "$state" != Z ]
}

# Wait until the daemon serves "xenstore-ls /" on the socket, or fail.
wait_serving() {
	sock=$1 pidfile=$2 log=$3
	i=0
	while [ $i -lt 100 ]; do
		if [ -S "$sock" ] &&
		    XENSTORED_PATH=$sock timeout 5 xenstore-ls / \
		    >/dev/null 2>&1; then
			return 0
		fi
		if [ -s "$pidfile" ] && ! alive "$(cat "$pidfile")"; then
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "peers.sh: daemon did not come up; its log:" >&2
	cat "$log" >&2 || true
	return 1
}

# Compile the shim into a fresh temporary directory; print the .so path.
build_shim() {
	[ -r "$XSSHIM_SRC" ] || die "shim source not found: $XSSHIM_SRC"
	shimdir=$(mktemp -d /tmp/xsshim.XXXXXX)
	"$CC" -shared -fPIC -O2 -o "$shimdir/xsshim.so" "$XSSHIM_SRC" -ldl ||
	    die "cannot build the shim"
	echo "$shimdir/xsshim.so"
}

# Compile the sim shim into DIR; print the .so path.
build_sim_shim() {
	[ -r "$SIM_SHIM_SRC" ] || die "sim shim source not found: $SIM_SHIM_SRC"
	"$CC" -shared -fPIC -O2 -o "$1/sim-shim.so.new" "$SIM_SHIM_SRC" \
	    -ldl -lpthread || die "cannot build the sim shim"
	mv -f "$1/sim-shim.so.new" "$1/sim-shim.so"
	echo "$1/sim-shim.so"
}

# The files the shim hands xenstored for /proc/xen/xsd_{port,kva}.
make_shim_files() {
	mkdir -p "$1/shim"
	printf 1 >"$1/shim/xsd_port"
	head -c 4096 /dev/zero >"$1/shim/xsd_kva"
}

# Start the C xenstored serving DIR/run/socket.
start_cxenstored() {
	dir=$1 so=$2
	mkdir -p "$dir/run"
	(
		cd "$dir"
		XSC_SIM_ROOT=$sim XSSHIM_DIR=$dir/shim XSSHIM_DOMS=0 \
		    XENSTORED_RUNDIR=$dir/run \
		    LD_PRELOAD=$so exec setsid "$XENBIN/xenstored" -N \
		    -F "$dir/pid" </dev/null >"$dir/daemon.log" 2>&1
	) &
	echo "$dir/run/socket" >"$dir/socket-path"
}

# Start oxenstored in its own mount namespace serving DIR/nsrun/xenstored.
#
# Its socket path is compiled in (/var/run/xenstored/socket, /var/run being
# /run), so inside a private mount namespace DIR/nsrun is bind-mounted over
# /run: the daemon creates /run/xenstored/socket there, which the host sees
# as DIR/nsrun/xenstored/socket. Nothing of the host's /run is touched.
start_oxenstored() {
	dir=$1 so=$2
	mkdir -p "$dir/nsrun/xenstored"
	{
		echo "pid-file = $dir/pid"
		echo "xenstored-kva = $dir/shim/xsd_kva"
		echo "xenstored-port = $dir/shim/xsd_port"
		echo "xenstored-log-file = $dir/oxenstored.log"
		echo "access-log-file = $dir/oxenstored-access.log"
		echo "persistent = false"
	} >"$dir/oxenstored.conf"
	noaccess=
	[ "$OXENSTORED_ACCESS_LOG" = 0 ] && noaccess=--no-access-log
	# shellcheck disable=SC2016
	(
		cd "$dir"
		XSC_SIM_ROOT=$sim XSSHIM_DIR=$dir/shim XSSHIM_DOMS=0 \
		    exec setsid unshare -m \
		    --propagation private sh -c '
			mount --bind "$1" /run || exit 1
			LD_PRELOAD=$2 exec "$3" --no-fork --config-file "$4" $5
		    ' sh "$dir/nsrun" "$so" "$XENBIN/oxenstored" \
		    "$dir/oxenstored.conf" "$noaccess" \
		    </dev/null >"$dir/daemon.log" 2>&1
	) &
	echo "$dir/nsrun/xenstored/socket" >"$dir/socket-path"
}

# Start a peer in DIR (serving the sim root SIM if not empty) and print its
# socket path.
cmd_start() {
	kind=$1 dir=$2 sim=$3
	case "$kind" in
	cxenstored|oxenstored) ;;
	*) die "unknown peer: $kind (cxenstored or oxenstored)" ;;
	esac
	ensure_packages
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [ -s "$dir/pid" ] && alive "$(cat "$dir/pid")"; then
		die "a peer is already running in $dir (pid $(cat "$dir/pid"))"
	fi
	rm -f "$dir/pid" "$dir/run/socket" "$dir/nsrun/xenstored/socket" \
	    "$dir/sim-root"
	make_shim_files "$dir"
	if [ -n "$sim" ]; then
		mkdir -p "$sim/domains" || die "cannot make $sim/domains"
		sim=$(cd "$sim" && pwd)
		# sockaddr_un holds 107 bytes: SIM/domains/DOMID/evtchn.sock
		[ ${#sim} -le 80 ] || die "sim root path too long (max 80): $sim"
		case "$kind:$sim" in
		oxenstored:/run|oxenstored:/run/*|oxenstored:/var/run|oxenstored:/var/run/*)
			die "oxenstored runs with DIR/nsrun over /run:" \
			    "the sim root must not be under /run" ;;
		esac
		so=$(build_sim_shim "$dir")
		echo "$sim" >"$dir/sim-root"
	else
		so=$(build_shim)
		dirname "$so" >"$dir/shimdir"
	fi
	echo "$kind" >"$dir/kind"

	"start_$kind" "$dir" "$so"
	sock=$(cat "$dir/socket-path")
	if ! wait_serving "$sock" "$dir/pid" "$dir/daemon.log"; then
		cmd_stop "$dir" || true
		die "$kind failed to start"
	fi
	echo "$sock"
}

# Stop the peer running in DIR and remove its shim build.
cmd_stop() {
	dir=$1
	[ -d "$dir" ] || die "no such directory: $dir"
	if [ -s "$dir/pid" ]; then
		pid=$(cat "$dir/pid")
		if alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			# oxenstored dumps its whole store on SIGTERM.
			i=0
			while alive "$pid" && [ $i -lt 200 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			if alive "$pid"; then
				echo "peers.sh: pid $pid ignored SIGTERM," \
				    "killing it" >&2
				kill -KILL "$pid" 2>/dev/null || true
			fi
		fi
		rm -f "$dir/pid"
	fi
	if [ -s "$dir/shimdir" ]; then
		shimdir=$(cat "$dir/shimdir")
		case "$shimdir" in
		/tmp/xsshim.*) rm -rf "$shimdir" ;;
		esac
		rm -f "$dir/shimdir"
	fi
}

# Print the pid of the peer running in DIR.
cmd_pid() {
	[ -s "$1/pid" ] || die "no pid file in $1"
	cat "$1/pid"
}

case "${1:-}" in
start)
	usage="usage: peers.sh start cxenstored|oxenstored DIR [--sim-root SIMDIR]"
	[ $# -ge 3 ] || die "$usage"
	kind=$2 pdir=$3 simroot=
	shift 3
	while [ $# -gt 0 ]; do
		case "$1" in
		--sim-root) [ $# -ge 2 ] || die "$usage"; simroot=$2; shift ;;
		--sim-root=*) simroot=${1#*=} ;;
		*) die "$usage" ;;
		esac
		shift
	done
	cmd_start "$kind" "$pdir" "$simroot"
	;;
stop)
	[ $# -eq 2 ] || die "usage: peers.sh stop DIR"
	cmd_stop "$2"
	;;
pid)
	[ $# -eq 2 ] || die "usage: peers.sh pid DIR"
	cmd_pid "$2"
	;;
*)
	die "usage: peers.sh start cxenstored|oxenstored DIR [--sim-root SIMDIR] | stop DIR | pid DIR"
	;;
esac
