#!/bin/bash
# Console benchmark: simulated guests (../shared/sim-abi.md) printing on
# their consoles, drained by xsconsoled (into its SQLite log, --db) and by
# Debian's Xen 4.17 xenconsoled (through bench/sim-shim.c, beside a C
# xenstored on the same simulated host, logging every guest to a file:
# --log=guest --log-dir=DIR). The same work for each:
#
#   1. drain: N guests (-N, default 1 100 1000) each write M bytes (-M)
#      of generated console text as fast as the ring allows (xsc-sim guest
#      --console-rate 0 --console-chunk 2048: a full ring, one event per
#      fill; xsconsoled --console-rate 0): wall time from starting the
#      writers until every byte is in the log (xsconsoled: sum(bytes) of
#      the log's incarnations; xenconsoled: the log files' sizes; polled
#      every 10 ms by bench/console-probe.c), MB/s (10^6 bytes), the
#      daemon's CPU time per MB (all its threads, /proc/PID/task/*/
#      schedstat), and the time until the guests saw their rings read.
#      Then every domain's log is checked byte for byte against what its
#      guest wrote (xsconsole-tail -n <all> | console-probe verify;
#      xenconsoled: the log file): a run that fails this reports the
#      failure instead of figures;
#   2. latency: a probe guest (console-probe latency, no xsc-sim) writes
#      an 80-byte timestamped line every 50 ms into its console ring; the
#      time until the line shows up in `xsconsole-tail -t -f` (xsconsoled)
#      or in the guest's log file (xenconsoled; inotify, and a look every
#      10 ms): p50/p99/max, at idle, while 1 other guest floods at full
#      speed, and while 100 others write 10 KB/s each. For xsconsoled also
#      write-to-capture (the -t time of the line; ms resolution);
#   3. memory: daemon RSS with the largest N of idle consoles (connected,
#      nothing printed yet): bytes per console (growth from introducing
#      the domains until every console is connected, the domains' store
#      nodes being there already), and the host's total with the store
#      daemon (xsconsoled is both; the peer is xenconsoled + xenstored).
#
# Each daemon starts on an empty simulated host; the domains are made
# with xsc-sim create --no-introduce, then introduced (xenconsoled picks
# them up from @introduceDomain), and the benchmark waits until every
# console is connected (the daemon holds its pty, made once the page is
# mapped and the port bound) before any guest writes. Each phase is bounded by -T seconds: a
# daemon that stalls is reported as stopped, with what it logged.
#
# usage: bench/console-bench.sh [-n] [-q] [-r reps] [-R reps] [-T secs]
#                               [-N "1 100 1000"] [-M "bytes..."]
#                               [-L lines] [-t "targets"]
#   -n  print only, do not append to bench/RESULTS.md
#   -q  quick: 1 run each, -M "1000000 50000 5000", -L 40 (about 1 minute;
#       the defaults take about 4)
#   -r  runs of xsconsoled, medians reported (default 3)
#   -R  runs of xenconsoled (default 3)
#   -T  longest a phase may take, in seconds (default 120)
#   -N  guest counts of the drain phase (default "1 100 1000"; the
#       largest is also the memory phase's)
#   -M  bytes each guest writes, one per -N entry (default
#       "4000000 200000 20000": 4 MB, 20 MB, 20 MB in all)
#   -L  probe lines per latency scenario, one every 50 ms (default 100)
#   -t  targets (default "xsconsoled xenconsoled")
# Environment: XSCONSOLED, XSC_SIM, XSCONSOLE_TAIL (default: the ones
# built in the top directory; copied to a private directory first, so a
# rebuild during the run changes nothing), CC (default gcc), KEEP=1 keeps
# the work directory. Needs root: it raises net.unix.max_dgram_qlen to
# 4096 for the run (the default 10 drops most guest events) and puts it
# back after, and raises the open files limit (xenconsoled holds 5
# descriptors per console).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PEERS=$here/peers.sh
RESULTS=$here/RESULTS.md
XSCONSOLED=${XSCONSOLED:-$top/xsconsoled}
XSC_SIM=${XSC_SIM:-$top/xsc-sim}
XSCONSOLE_TAIL=${XSCONSOLE_TAIL:-$top/xsconsole-tail}
XENBIN=/usr/lib/xen-4.17/bin
CC=${CC:-gcc}
REPS=3 PEER_REPS=3 LIMIT=120 APPEND=1 QUICK=0
NS="1 100 1000" MS= LINES=
TARGETS="xsconsoled xenconsoled"
r_given= R_given=
# The command as given, quoted where needed, for the results.
args=
for a in "$@"; do
	case $a in
	*[!A-Za-z0-9_./=-]*|'') args="$args \"$a\"" ;;
	*) args="$args $a" ;;
	esac
done
args=${args# }

while getopts nqr:R:T:N:M:L:t: opt; do
	case $opt in
	n) APPEND=0 ;;
	q) QUICK=1 ;;
	r) REPS=$OPTARG r_given=1 ;;
	R) PEER_REPS=$OPTARG R_given=1 ;;
	T) LIMIT=$OPTARG ;;
	N) NS=$OPTARG ;;
	M) MS=$OPTARG ;;
	L) LINES=$OPTARG ;;
	t) TARGETS=$OPTARG ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
if [ "$QUICK" = 1 ]; then
	[ -n "$r_given" ] || REPS=1
	[ -n "$R_given" ] || PEER_REPS=1
	[ -n "$MS" ] || MS="1000000 50000 5000"
	[ -n "$LINES" ] || LINES=40
fi
[ -n "$MS" ] || MS="4000000 200000 20000"
[ -n "$LINES" ] || LINES=100
read -r -a n_list <<<"$NS"
read -r -a m_list <<<"$MS"

die() { echo "console-bench: $*" >&2; exit 1; }
[ "${#n_list[@]}" = "${#m_list[@]}" ] || die "-N and -M need as many entries"
[ "$(id -u)" = 0 ] || die "needs root (sysctl net.unix.max_dgram_qlen)"
for b in "$XSC_SIM" "$XSCONSOLE_TAIL"; do
	[ -x "$b" ] || die "$b is not executable (run make)"
done
command -v xenstore-ls >/dev/null || die "xenstore-ls is missing (xenstore-utils)"
MEMN=0
for n in "${n_list[@]}"; do [ "$n" -gt "$MEMN" ] && MEMN=$n; done

qlen_was=$(sysctl -n net.unix.max_dgram_qlen)
work=$(mktemp -d /tmp/cbench.XXXXXX)	# short: socket paths
dpid= spid= cur_t= cur_dir=
rss_nodes= srss_nodes= anon_nodes= sanon_nodes=
bgpids=
cleanup() {
	local p
	for p in $bgpids; do kill "$p" 2>/dev/null; done
	[ -n "$cur_t" ] && stop_host "$cur_t" "$cur_dir"
	sysctl -qw net.unix.max_dgram_qlen="$qlen_was"
	if [ -n "${KEEP:-}" ]; then
		echo "console-bench: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sysctl -qw net.unix.max_dgram_qlen=4096
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# Private copies of the binaries, and the probe.
BIN=$work/bin
mkdir -p "$BIN"
cp "$XSC_SIM" "$BIN/xsc-sim" && cp "$XSCONSOLE_TAIL" "$BIN/xsconsole-tail" ||
	die "cannot copy the binaries"
case " $TARGETS " in
*" xsconsoled "*)
	[ -x "$XSCONSOLED" ] || die "XSCONSOLED=$XSCONSOLED is not executable"
	cp "$XSCONSOLED" "$BIN/xsconsoled" || die "cannot copy $XSCONSOLED" ;;
esac
case " $TARGETS " in
*" xenconsoled "*)
	[ -x "$XENBIN/xenconsoled" ] ||
		die "$XENBIN/xenconsoled is missing (xen-utils-4.17)" ;;
esac
"$CC" -O2 -o "$BIN/console-probe" "$here/console-probe.c" -lsqlite3 ||
	die "cannot build bench/console-probe.c (libsqlite3-dev, libxen-dev)"
PROBE=$BIN/console-probe
SIM=$BIN/xsc-sim

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
anon_kib() { awk '/^RssAnon/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
key() { awk -v k="$1" '$1 == k { print $2 }' "$2" 2>/dev/null; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Start TARGET's host in DIR: the daemon (dpid) and the store (spid).
start_host() {
	local t=$1 dir=$2 sock
	mkdir -p "$dir/sim" "$dir/logs"
	cur_t=$t cur_dir=$dir
	export XSC_SIM_ROOT=$dir/sim
	if [ "$t" = xsconsoled ]; then
		"$BIN/xsconsoled" -F --sim-root "$dir/sim" --socket "$dir/socket" \
			--pid-file "$dir/pid" --log-file "$dir/log" \
			--log-level warn --db "$dir/console.db" \
			--console-rate 0 </dev/null >/dev/null 2>&1 &
		dpid=$! spid=$!
		for _ in $(seq 100); do [ -S "$dir/socket" ] && break; sleep 0.05; done
		export XENSTORED_PATH=$dir/socket
		[ -S "$XENSTORED_PATH" ] && kill -0 "$dpid" 2>/dev/null
		return
	fi
	# xenconsoled beside C xenstored: the store binds another event
	# socket, so that the guests' console events reach xenconsoled.
	sock=$(XSC_SIM_EVTCHN_SOCK=$dir/sim/xs-evtchn.sock \
		"$PEERS" start cxenstored "$dir/xs" --sim-root "$dir/sim" \
		2>"$dir/peers.err") || { cat "$dir/peers.err"; return 1; }
	export XENSTORED_PATH=$sock
	spid=$("$PEERS" pid "$dir/xs")
	XSC_SIM_ROOT=$dir/sim LD_PRELOAD=$dir/xs/sim-shim.so \
		"$XENBIN/xenconsoled" -i --log=guest --log-dir="$dir/logs" \
		</dev/null >"$dir/xenconsoled.out" 2>&1 &
	dpid=$!
	sleep 0.3
	kill -0 "$dpid" 2>/dev/null || { cat "$dir/xenconsoled.out"; return 1; }
}

stop_host() {
	local t=$1 dir=$2
	if [ -n "$dpid" ]; then
		kill "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	[ "$t" = xenconsoled ] && "$PEERS" stop "$dir/xs" >/dev/null 2>&1
	dpid= spid= cur_t= cur_dir=
}

# Consoles connected so far: the daemon's pty masters (both open the
# pty last, once the page is mapped and the port bound, then write
# console/tty; xenconsoled opens the log file right after). Looking at
# /proc costs the daemon nothing, where asking its store would.
connected() {
	find "/proc/$dpid/fd" -lname /dev/ptmx 2>/dev/null | wc -l
}

# Make domains 1..N and introduce them; wait until their consoles are
# connected. Prints "connect_ms X", or "stopped ..." and fails.
make_domains() {
	local t=$1 dir=$2 n=$3 t0 c=0 deadline
	if ! timeout "$LIMIT" "$SIM" create --no-introduce "$n" >/dev/null; then
		echo "stopped create ($(ls "$dir/sim/domains" | wc -l) of $n domains made)"
		return 1
	fi
	rss_nodes=$(rss_kib "$dpid") srss_nodes=$(rss_kib "$spid")
	anon_nodes=$(anon_kib "$dpid") sanon_nodes=$(anon_kib "$spid")
	t0=$(now_ms)
	deadline=$((t0 + LIMIT * 1000))
	if ! timeout "$LIMIT" "$SIM" introduce $(seq 1 "$n") >/dev/null; then
		echo "stopped introduce"
		return 1
	fi
	while [ "$(now_ms)" -lt "$deadline" ]; do
		c=$(connected)
		[ "$c" -ge "$n" ] && break
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.05
	done
	if [ "$c" -lt "$n" ]; then
		echo "stopped connect ($c of $n consoles connected)"
		return 1
	fi
	echo "connect_ms $(( $(now_ms) - t0 ))"
}

# Check every domain's log against what its guest wrote; prints the
# number of bad domains (their lines go to DIR/verify).
verify_all() {
	local t=$1 dir=$2 n=$3 m=$4 id
	for id in $(seq 1 "$n"); do
		if [ "$t" = xsconsoled ]; then
			"$BIN/xsconsole-tail" --db "$dir/console.db" \
				-n 1000000000 "$id" 2>/dev/null |
				"$PROBE" verify "$id" "$m"
		else
			"$PROBE" verify "$id" "$m" \
				<"$dir/logs/guest-guest$id.log" 2>/dev/null ||
				[ -e "$dir/logs/guest-guest$id.log" ] ||
				echo "$id 0 no log file"
		fi
	done >"$dir/verify" 2>&1
	grep -vc ' ok$' "$dir/verify"
}

# Phase 1 (and 3): N guests write M bytes each. "key value" lines.
run_drain() {
	local t=$1 dir=$2 n=$3 m=$4 total rss0 rss_idle srss_idle bad
	local anon_idle sanon_idle
	local us cpu el k=d$n
	total=$((n * m))
	start_host "$t" "$dir" || { echo "stopped $k start"; stop_host "$t" "$dir"; return; }
	rss0=$(rss_kib "$dpid")
	if ! make_domains "$t" "$dir" "$n" >"$dir/make.out"; then
		sed "s/^stopped/stopped $k/" "$dir/make.out"
		stop_host "$t" "$dir"
		return
	fi
	echo "${k}_connect_s $(awk '$1 == "connect_ms" { printf "%.3f", $2 / 1000 }' "$dir/make.out")"
	sleep 0.5
	rss_idle=$(rss_kib "$dpid") srss_idle=$(rss_kib "$spid")
	anon_idle=$(anon_kib "$dpid") sanon_idle=$(anon_kib "$spid")
	if [ "$n" = "$MEMN" ]; then
		echo "mem_rss_empty_kib $rss0"
		echo "mem_rss_idle_kib $rss_idle"
		echo "mem_console_b $(( (rss_idle - rss_nodes) * 1024 / n ))"
		echo "mem_console_anon_b $(( (anon_idle - anon_nodes) * 1024 / n ))"
		if [ "$t" = xsconsoled ]; then
			echo "mem_host_rss_idle_kib $rss_idle"
			echo "mem_host_b $(( (rss_idle - rss_nodes) * 1024 / n ))"
			echo "mem_host_anon_b $(( (anon_idle - anon_nodes) * 1024 / n ))"
		else
			echo "mem_store_rss_idle_kib $srss_idle"
			echo "mem_host_rss_idle_kib $((rss_idle + srss_idle))"
			echo "mem_host_b $(( (rss_idle - rss_nodes + srss_idle - srss_nodes) * 1024 / n ))"
			echo "mem_host_anon_b $(( (anon_idle - anon_nodes + sanon_idle - sanon_nodes) * 1024 / n ))"
		fi
	fi
	if [ "$t" = xsconsoled ]; then
		set -- --db "$dir/console.db"
	else
		set -- --log-dir "$dir/logs"
	fi
	"$PROBE" drain --total "$total" --timeout-s "$LIMIT" --pid "$dpid" "$@" \
		-- "$SIM" guest --console-bytes "$m" --console-chunk 2048 \
		--console-rate 0 --report "$dir/guest.rep" $(seq 1 "$n") \
		>"$dir/drain.out" 2>"$dir/guest.err"
	if grep -q '^stopped' "$dir/drain.out"; then
		echo "stopped $k: $(sed -n 's/^stopped //p' "$dir/drain.out")"
		stop_host "$t" "$dir"
		return
	fi
	bad=$(verify_all "$t" "$dir" "$n" "$m")
	if [ "$bad" != 0 ] || [ "$(key timeouts "$dir/guest.rep")" != 0 ] ||
	    [ "$(key errors "$dir/guest.rep")" != 0 ]; then
		echo "stopped $k: FAILED verification: $bad of $n logs differ" \
			"from what was written ($(grep -v ' ok$' "$dir/verify" |
			head -3 | tr '\n' ';')); guest timeouts" \
			"$(key timeouts "$dir/guest.rep"), errors $(key errors "$dir/guest.rep")"
		stop_host "$t" "$dir"
		return
	fi
	us=$(key logged_us "$dir/drain.out")
	cpu=$(key cpu_ns "$dir/drain.out")
	el=$(key elapsed_us "$dir/guest.rep")
	echo "${k}_verified $n"
	echo "${k}_logged_s $(awk -v v="$us" 'BEGIN { printf "%.3f", v / 1e6 }')"
	echo "${k}_drained_s $(awk -v v="$el" 'BEGIN { printf "%.3f", v / 1e6 }')"
	echo "${k}_mb_s $(awk -v b="$total" -v v="$us" 'BEGIN { printf "%.2f", b / v }')"
	echo "${k}_cpu_ms $(awk -v c="$cpu" 'BEGIN { printf "%.1f", c / 1e6 }')"
	echo "${k}_cpu_ms_per_mb $(awk -v c="$cpu" -v b="$total" 'BEGIN { printf "%.2f", c / 1e6 / (b / 1e6) }')"
	stop_host "$t" "$dir"
}

# One latency scenario: the probe on domain 1 while LOAD (a command, or
# empty) runs. "key value" lines with prefix P.
probe_scenario() {
	local t=$1 dir=$2 p=$3 load=$4 lp= f
	f=$dir/lat.$p
	if [ -n "$load" ]; then
		$load >/dev/null 2>"$dir/$p.err" &
		lp=$!
		bgpids="$bgpids $lp"
		sleep 1
	fi
	if [ "$t" = xsconsoled ]; then
		set -- --cmd "exec '$BIN/xsconsole-tail' --db '$dir/console.db' -t -n 1 -f 1"
	else
		set -- --log-file "$dir/logs/guest-guest1.log"
	fi
	timeout "$LIMIT" "$PROBE" latency --root "$dir/sim" --domid 1 \
		--count "$LINES" --interval-ms 50 --out "$f" "$@" \
		2>"$dir/probe.$p.err"
	if [ -n "$lp" ]; then
		kill "$lp" 2>/dev/null
		wait "$lp" 2>/dev/null
		bgpids=${bgpids/ $lp/}
	fi
	if [ ! -s "$f" ]; then
		echo "stopped lat_$p: the probe failed ($(head -c 200 "$dir/probe.$p.err" | tr '\n' ' '))"
		return
	fi
	awk -v p="lat_$p" '
		$1 == "lat_p50_us" { printf "%s_p50_ms %.1f\n", p, $2 / 1000 }
		$1 == "lat_p99_us" { printf "%s_p99_ms %.1f\n", p, $2 / 1000 }
		$1 == "lat_max_us" { printf "%s_max_ms %.1f\n", p, $2 / 1000 }
		$1 == "cap_p50_us" { printf "%s_cap_p50_ms %.1f\n", p, ($2 < 0 ? 0 : $2) / 1000 }
		$1 == "cap_p99_us" { printf "%s_cap_p99_ms %.1f\n", p, ($2 < 0 ? 0 : $2) / 1000 }
		$1 == "over_250ms" { printf "%s_over_250ms %d\n", p, $2 }
		$1 == "lost" { printf "%s_lost %d\n", p, $2 }' "$f"
	[ "$(key lost "$f")" = 0 ] ||
		echo "stopped lat_$p: $(key lost "$f") of $(key sent "$f") probe lines never showed up"
}

# Phase 2: write-to-log latency.
run_latency() {
	local t=$1 dir=$2
	start_host "$t" "$dir" || { echo "stopped lat start"; stop_host "$t" "$dir"; return; }
	if ! make_domains "$t" "$dir" 102 >"$dir/make.out"; then
		sed 's/^stopped/stopped lat/' "$dir/make.out"
		stop_host "$t" "$dir"
		return
	fi
	probe_scenario "$t" "$dir" idle ""
	probe_scenario "$t" "$dir" flood1 "$SIM guest --console-bytes 4000000000 --console-chunk 2048 --console-rate 0 --report $dir/flood1.rep 2"
	awk '$1 == "elapsed_us" { e = $2 } $1 == "console_bytes" { b = $2 }
		END { if (e) printf "lat_flood1_load_mb_s %.2f\n", b / e }' \
		"$dir/flood1.rep" 2>/dev/null
	probe_scenario "$t" "$dir" w100 "$SIM guest --console-bytes 100000000 --console-chunk 2048 --console-rate 10240 --report $dir/w100.rep $(seq 3 102)"
	awk '$1 == "elapsed_us" { e = $2 } $1 == "console_bytes" { b = $2 }
		END { if (e) printf "lat_w100_load_mb_s %.2f\n", b / e }' \
		"$dir/w100.rep" 2>/dev/null
	stop_host "$t" "$dir"
}

# The figures, in table order, with their labels.
rows=()
labels=()
add_row() { rows+=("$1"); labels+=("$2"); }
for i in "${!n_list[@]}"; do
	n=${n_list[$i]} m=${m_list[$i]}
	what="$n guest$([ "$n" = 1 ] || echo s) x $(awk -v m="$m" 'BEGIN { if (m >= 1e6) printf "%g MB", m / 1e6; else printf "%g KB", m / 1e3 }')"
	add_row "d${n}_logged_s" "drain $what: s until all logged"
	add_row "d${n}_mb_s" "drain $what: MB/s logged"
	add_row "d${n}_drained_s" "drain $what: s until the rings were read"
	add_row "d${n}_cpu_ms_per_mb" "drain $what: daemon CPU ms per MB"
	add_row "d${n}_connect_s" "drain $what: s to connect the consoles"
	add_row "d${n}_verified" "drain $what: logs verified byte for byte"
done
for s in idle flood1 w100; do
	case $s in
	idle) what="idle" ;;
	flood1) what="1 guest flooding" ;;
	w100) what="100 guests at 10 KB/s" ;;
	esac
	add_row "lat_${s}_p50_ms" "latency, $what: p50 ms"
	add_row "lat_${s}_p99_ms" "latency, $what: p99 ms"
	add_row "lat_${s}_max_ms" "latency, $what: max ms (worst run)"
	add_row "lat_${s}_over_250ms" "latency, $what: lines over 250 ms (all runs)"
	add_row "lat_${s}_cap_p50_ms" "latency, $what: write to capture p50 ms"
	add_row "lat_${s}_cap_p99_ms" "latency, $what: write to capture p99 ms"
	[ "$s" = idle ] || add_row "lat_${s}_load_mb_s" "latency, $what: the load's MB/s"
done
add_row mem_rss_empty_kib "memory: daemon RSS KiB, no domain"
add_row mem_rss_idle_kib "memory: daemon RSS KiB, $MEMN idle consoles"
add_row mem_console_b "memory: daemon bytes per console"
add_row mem_console_anon_b "memory: daemon bytes per console, anonymous only"
add_row mem_store_rss_idle_kib "memory: store daemon RSS KiB (peer: C xenstored)"
add_row mem_host_rss_idle_kib "memory: console + store RSS KiB"
add_row mem_host_b "memory: console + store bytes per console"
add_row mem_host_anon_b "memory: console + store bytes per console, anonymous only"

started=$(date -u '+%Y-%m-%d %H:%M UTC')
t_start=$(date +%s)
maxreps=$REPS
[ "$PEER_REPS" -gt "$maxreps" ] && maxreps=$PEER_REPS
# Runs interleaved (target A, B, A, B...): a load that comes and goes on
# the machine is spread over both.
for r in $(seq 1 "$maxreps"); do
	for t in $TARGETS; do
		reps=$REPS
		[ "$t" = xsconsoled ] || reps=$PEER_REPS
		[ "$r" -le "$reps" ] || continue
		echo "== $t, run $r of $reps" >&2
		o=$work/$t-$r.out
		: >"$o"
		for i in "${!n_list[@]}"; do
			run_drain "$t" "$work/$t-$r/d${n_list[$i]}" \
				"${n_list[$i]}" "${m_list[$i]}" >>"$o" 2>&1
		done
		run_latency "$t" "$work/$t-$r/lat" >>"$o" 2>&1
		sed 's/^/   /' "$o" >&2
	done
done

declare -A res
for t in $TARGETS; do
	for k in "${rows[@]}"; do
		case $k in
		*_max_ms) agg="sort -g | tail -n 1" ;;	# the worst run
		*_over_250ms) agg="awk '{ s += \$1 } END { if (NR) print s }'" ;;
		*) agg=median ;;
		esac
		res[$t.$k]=$(cat "$work/$t"-*.out | awk -v k="$k" \
			'$1 == k { print $2 }' | eval "$agg")
	done
	res[$t.runs]=$(ls "$work/$t"-*.out 2>/dev/null | wc -l)
	res[$t.stopped]=$(cat "$work/$t"-*.out | awk '$1 == "stopped" {
		$1 = ""; print }' | sort | uniq -c |
		awk '{ c = $1; $1 = ""; printf "%s%s (%d run%s);", n++ ? " " : "", substr($0, 2), c, c > 1 ? "s" : "" }')
done
elapsed=$(( $(date +%s) - t_start ))

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"
		else printf "%.2f", a / b }'
}

read -r -a targets <<<"$TARGETS"
{
	echo "## Console benchmark, $started"
	echo
	echo "\`bench/console-bench.sh${args:+ $args}\` ($(nproc) cores;" \
		"net.unix.max_dgram_qlen 4096 for the run; medians of" \
		"$(for t in $TARGETS; do printf '%s %s run(s), ' "$t" "${res[$t.runs]}"; done | sed 's/, $//');" \
		"runs interleaved; ${elapsed} s in all; drain sizes -N \"$NS\" -M \"$MS\"," \
		"$LINES probe lines per latency scenario)."
	echo
	printf '| figure |'
	for t in $TARGETS; do printf ' %s |' "$t"; done
	[ "${#targets[@]}" = 2 ] && printf ' %s / %s |' "${targets[0]}" "${targets[1]}"
	echo
	printf '|---|'
	for t in $TARGETS; do printf -- '---|'; done
	[ "${#targets[@]}" = 2 ] && printf -- '---|'
	echo
	for i in "${!rows[@]}"; do
		k=${rows[$i]}
		any=
		for t in $TARGETS; do [ -n "${res[$t.$k]}" ] && any=1; done
		[ -n "$any" ] || continue
		printf '| %s |' "${labels[$i]}"
		for t in $TARGETS; do
			v=${res[$t.$k]:--}
			case $k in
			d*_verified) [ "$v" = - ] || v="$v of ${k%_verified}"
				v=${v/of d/of } ;;
			*_over_250ms) [ "$v" = - ] ||
				v="$v of $((LINES * ${res[$t.runs]}))" ;;
			esac
			printf ' %s |' "$v"
		done
		case $k in
		*_verified|*_over_250ms|*_lost) r="-" ;;
		*) r=$(ratio "${res[${targets[0]}.$k]:-}" "${res[${targets[1]:-x}.$k]:-}") ;;
		esac
		[ "${#targets[@]}" = 2 ] && printf ' %s |' "$r"
		echo
	done
	printf '| stopped or failed |'
	for t in $TARGETS; do printf ' %s |' "${res[$t.stopped]:--}"; done
	[ "${#targets[@]}" = 2 ] && printf ' - |'
	echo
	echo
	echo "- Drain: the guests write generated 80-byte lines as fast as" \
		"their rings allow (xsc-sim guest --console-rate 0" \
		"--console-chunk 2048); \"all logged\" is from starting the" \
		"writers until the log holds every byte (xsconsoled: committed" \
		"to its SQLite log, within its 100 ms flush; xenconsoled: in" \
		"the guest log files), polled every 10 ms; MB = 10^6 bytes." \
		"CPU: the console daemon only, all its threads. Every log is" \
		"then compared byte for byte with what its guest wrote."
	echo "- xenconsoled rate-limits each console to 30 events per 200 ms" \
		"(RATE_LIMIT_ALLOWANCE in tools/console/daemon/io.c), each" \
		"event draining at most one 2 KiB ring: about 300 KB/s per" \
		"guest, whatever the host could do; xsconsoled runs with" \
		"--console-rate 0 (no per-guest limit) as the benchmark asks."
	echo "- Latency: a probe guest writes a line every 50 ms; arrival is" \
		"when \`xsconsole-tail -t -n 1 -f\` prints it (it polls the" \
		"log every 100 ms; the daemon commits within 100 ms) or when" \
		"the bytes are in xenconsoled's log file (inotify, 10 ms" \
		"polling). \"Write to capture\" is the line's capture time in" \
		"the log (ms resolution) less its write time. The 250 ms" \
		"target is xsconsoled's."
	echo "- Memory: RSS after $MEMN domains were introduced and all" \
		"their consoles connected, nothing printed; per console: the" \
		"growth from introducing them (their store nodes were already" \
		"there), which includes the mapped pages (4 KiB each: the" \
		"console page; the store's ring page for xsconsoled and C" \
		"xenstored), \"anonymous only\" leaves them out (RssAnon)." \
		"xsconsoled is the store too; for the peer the" \
		"\"console + store\" rows add C xenstored."
	echo "- Shared 2-core machine, other builds may have run: medians" \
		"of the runs (but \"max\" is the worst run's and \"lines over" \
		"250 ms\" counts all runs' lines), still noisy; ratios are xsconsoled / xenconsoled of the medians" \
		"(for times and CPU lower is better, for MB/s higher)." \
		"xenconsoled runs under bench/sim-shim.c, whose event thread" \
		"(standing in for the kernel's evtchn device) counts in its CPU."
	echo
} >"$work/table"
cat "$work/table"
if [ "$APPEND" = 1 ]; then
	{ echo; cat "$work/table"; } >>"$RESULTS"
fi
exit 0
