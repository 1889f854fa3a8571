#!/bin/bash
# Domains benchmark: many simulated guests (../shared/sim-abi.md) on
# xsconsoled, Debian's C xenstored and oxenstored (through bench/sim-shim.c,
# see bench/peers.sh), the same work for each:
#
#   1. create N domains the way libxl does, without introducing them
#      (xsc-sim create --no-introduce): their store keys exist;
#   2. introduce them one by one (xsc-sim introduce --times), timing each
#      XS_INTRODUCE: the mean of the last tenth against the mean of the
#      first tenth, and the daemon's own CPU time per introduction in
#      each (from /proc/PID/schedstat): round trips on a shared 2-core
#      machine vary 2-3x with where the scheduler puts the two processes,
#      the daemon's CPU time shows whether its work grows;
#   3. daemon memory per idle domain: RSS after 2 less RSS after 1, over N
#      (the domains' nodes were already there);
#   4. every guest boots at once over its ring (xsc-sim guest --boot: the
#      reads, ~20 writes, a watch and 2 transactions of a PV guest's
#      xenbus start): total time, per-request latency;
#   5. ring round trips of 10 guests (xsc-sim guest --rtt) while all N
#      are connected, against a daemon with only 10 domains.
#
# Each phase is bounded by -T seconds: a target that does not finish is
# reported as stopped there, with what it did.
#
# usage: bench/domains-bench.sh [-n] [-N domains] [-r reps] [-T secs]
#                               [-t "targets"]
#   -n  print only, do not append to bench/RESULTS.md
#   -N  domains (default 10000)
#   -r  runs per target, medians reported (default 3; peers: 1 unless -R)
#   -R  runs for the peers (default 1: they take minutes at 10,000)
#   -T  longest a phase may take, in seconds (default 300)
#   -t  targets (default "xsconsoled cxenstored oxenstored")
# Environment: XSCONSOLED (default ./xsconsoled), XSC_SIM (./xsc-sim).
# Needs root: it raises net.unix.max_dgram_qlen for the run (the default 10
# drops most guest events; every daemon then waits for its own rescan) and
# puts it back after.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PEERS=$here/peers.sh
RESULTS=$here/RESULTS.md
XSCONSOLED=${XSCONSOLED:-$top/xsconsoled}
XSC_SIM=${XSC_SIM:-$top/xsc-sim}
N=10000 REPS=3 PEER_REPS=1 LIMIT=300 APPEND=1
TARGETS="xsconsoled cxenstored oxenstored"

while getopts nN:r:R:T:t: opt; do
	case $opt in
	n) APPEND=0 ;;
	N) N=$OPTARG ;;
	r) REPS=$OPTARG ;;
	R) PEER_REPS=$OPTARG ;;
	T) LIMIT=$OPTARG ;;
	t) TARGETS=$OPTARG ;;
	*) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done

die() { echo "domains-bench: $*" >&2; exit 1; }
[ -x "$XSC_SIM" ] || die "XSC_SIM=$XSC_SIM is not executable (run make)"
[ "$(id -u)" = 0 ] || die "needs root (sysctl net.unix.max_dgram_qlen)"
qlen_was=$(sysctl -n net.unix.max_dgram_qlen)
work=$(mktemp -d /tmp/dbench.XXXXXX)	# short: socket paths
cleanup() {
	sysctl -qw net.unix.max_dgram_qlen="$qlen_was"
	[ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null
	for d in "$work"/*/; do
		[ -f "$d/peer" ] && "$PEERS" stop "$d" >/dev/null 2>&1
	done
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
sysctl -qw net.unix.max_dgram_qlen=4096

rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
key() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

# Start TARGET with its files in DIR on simulated host SIM; set dpid.
start_target() {
	local t=$1 dir=$2 sim=$3
	mkdir -p "$dir"
	if [ "$t" = xsconsoled ]; then
		"$XSCONSOLED" -F --sim-root "$sim" --socket "$dir/socket" \
			--db "$dir/console.db" \
			--pid-file "$dir/pid" --log-file "$dir/log" \
			--log-level warn </dev/null >/dev/null 2>&1 &
		dpid=$!
		for _ in $(seq 100); do [ -S "$dir/socket" ] && break; sleep 0.05; done
		export XENSTORED_PATH=$dir/socket
	else
		touch "$dir/peer"
		XENSTORED_PATH=$("$PEERS" start "$t" "$dir" --sim-root "$sim") ||
			return 1
		export XENSTORED_PATH
		dpid=$("$PEERS" pid "$dir")
	fi
	[ -S "$XENSTORED_PATH" ] && kill -0 "$dpid" 2>/dev/null
}

stop_target() {
	local t=$1 dir=$2
	if [ "$t" = xsconsoled ]; then
		kill "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	else
		"$PEERS" stop "$dir" >/dev/null 2>&1
		rm -f "$dir/peer"
	fi
	dpid=
}

# One run of the scenario; prints "key value" lines.
run_scenario() {
	local t=$1 n=$2 dir=$3 sim rss0 rss1 rss2 t0 t1 rc
	sim=$dir/sim
	mkdir -p "$sim"
	export XSC_SIM_ROOT=$sim
	start_target "$t" "$dir" "$sim" || { echo "stopped start"; return; }
	rss0=$(rss_kib "$dpid")
	t0=$(date +%s%N)
	timeout "$LIMIT" "$XSC_SIM" create --no-introduce "$n" >/dev/null
	rc=$?
	t1=$(date +%s%N)
	echo "create_s $(( (t1 - t0) / 1000000 ))e-3"
	if [ $rc -ne 0 ]; then
		echo "stopped create ($(ls "$sim/domains" | wc -l) domains made)"
		stop_target "$t" "$dir"
		return
	fi
	rss1=$(rss_kib "$dpid")
	# In tenths, with the daemon's CPU time (schedstat, ns) around each.
	: >"$dir/intro"
	: >"$dir/cpu"
	t0=$(date +%s%N)
	rc=0
	for k in $(seq 0 9); do
		from=$((k * n / 10 + 1)) to=$(((k + 1) * n / 10))
		c0=$(cut -d' ' -f1 "/proc/$dpid/schedstat")
		timeout "$LIMIT" "$XSC_SIM" introduce --times "$dir/intro.$k" \
			$(seq "$from" "$to") || { rc=1; break; }
		c1=$(cut -d' ' -f1 "/proc/$dpid/schedstat")
		cat "$dir/intro.$k" >>"$dir/intro"
		echo "$k $(( (c1 - c0) / 1000 )) $((to - from + 1))" >>"$dir/cpu"
	done
	t1=$(date +%s%N)
	echo "introduce_s $(( (t1 - t0) / 1000000 ))e-3"
	echo "introduced $(wc -l <"$dir/intro")"
	if [ $rc -ne 0 ]; then
		echo "stopped introduce"
		stop_target "$t" "$dir"
		return
	fi
	awk '$1 == 0 { a = $2 / $3 } $1 == 9 { b = $2 / $3 }
		END { if (a) printf "intro_cpu_first_us %.1f\nintro_cpu_last_us %.1f\nintro_cpu_ratio %.2f\n", a, b, b / a }' \
		"$dir/cpu"
	rss2=$(rss_kib "$dpid")
	awk -v n="$n" '
		$1 <= n / 10 { a += $2; na++ }
		$1 > n - n / 10 { b += $2; nb++ }
		END {
			if (na && nb) {
				printf "intro_first_us %d\nintro_last_us %d\n",
				    a / na, b / nb
				printf "intro_ratio %.2f\n", (b / nb) / (a / na)
			}
		}' "$dir/intro"
	echo "rss_nodes_kib $((rss1 - rss0))"
	echo "idle_domain_b $(( (rss2 - rss1) * 1024 / n ))"
	timeout -s TERM "$LIMIT" "$XSC_SIM" guest --boot --report \
		"$dir/boot" $(seq 1 "$n") >/dev/null
	rc=$?
	echo "boots $(key boots "$dir/boot")"
	echo "boot_s $(awk '$1 == "elapsed_us" { printf "%.2f", $2 / 1e6 }' \
		"$dir/boot")"
	echo "boot_ops_per_s $(awk '$1 == "ops" { o = $2 }
		$1 == "elapsed_us" { e = $2 } END { if (e) printf "%d", o * 1e6 / e }' \
		"$dir/boot")"
	echo "boot_req_p50_us $(key latency_p50_us "$dir/boot")"
	echo "boot_req_p99_us $(key latency_p99_us "$dir/boot")"
	echo "boot_errors $(key errors "$dir/boot")"
	[ "$(key boots "$dir/boot")" = "$n" ] || echo "stopped boot"
	echo "rss_booted_kib $(rss_kib "$dpid")"
	timeout "$LIMIT" "$XSC_SIM" guest --rtt 2000 --report "$dir/rtt" \
		$(seq 1 10) >/dev/null
	if [ "$(key timeouts "$dir/rtt")" = 0 ]; then
		echo "rtt_p50_us $(key latency_p50_us "$dir/rtt")"
		echo "rtt_p99_us $(key latency_p99_us "$dir/rtt")"
	else
		echo "stopped rtt (requests timed out)"
	fi
	stop_target "$t" "$dir"
}

# The same round trips on a daemon with 10 domains only.
run_small() {
	local t=$1 dir=$2 sim
	sim=$dir/sim
	mkdir -p "$sim"
	export XSC_SIM_ROOT=$sim
	start_target "$t" "$dir" "$sim" || return
	"$XSC_SIM" create 10 >/dev/null
	"$XSC_SIM" guest --rtt 2000 --report "$dir/rtt" $(seq 1 10) >/dev/null
	echo "rtt10_p50_us $(key latency_p50_us "$dir/rtt")"
	echo "rtt10_p99_us $(key latency_p99_us "$dir/rtt")"
	stop_target "$t" "$dir"
}

declare -A res
keys="create_s introduce_s introduced intro_first_us intro_last_us intro_ratio
intro_cpu_first_us intro_cpu_last_us intro_cpu_ratio rss_nodes_kib
idle_domain_b boots boot_s boot_ops_per_s boot_req_p50_us boot_req_p99_us
boot_errors rss_booted_kib rtt_p50_us rtt_p99_us rtt10_p50_us rtt10_p99_us"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
for t in $TARGETS; do
	if [ "$t" = xsconsoled ] && [ ! -x "$XSCONSOLED" ]; then
		echo "skipping xsconsoled: XSCONSOLED=$XSCONSOLED" >&2
		continue
	fi
	reps=$REPS
	[ "$t" != xsconsoled ] && reps=$PEER_REPS
	for r in $(seq 1 "$reps"); do
		echo "== $t, run $r of $reps, $N domains" >&2
		run_scenario "$t" "$N" "$work/$t-$r" >"$work/$t-$r.out" 2>&1
		run_small "$t" "$work/$t-$r-small" >>"$work/$t-$r.out" 2>&1
		sed 's/^/   /' "$work/$t-$r.out" >&2
	done
	for k in $keys; do
		res[$t.$k]=$(cat "$work/$t"-*.out | awk -v k="$k" \
			'$1 == k { print $2 }' | median)
	done
	res[$t.stopped]=$(cat "$work/$t"-*.out | awk '$1 == "stopped" {
		$1 = ""; print }' | sort -u | tr '\n' ';')
done

# The table: one column per target, medians.
{
	echo "## Domains benchmark, $started"
	echo
	echo "\`bench/domains-bench.sh -N $N -r $REPS -R $PEER_REPS -T $LIMIT\`" \
		"($(nproc) cores; net.unix.max_dgram_qlen 4096 for the run;" \
		"xsconsoled: median of $REPS runs, peers: $PEER_REPS)."
	echo
	printf '| figure |'
	for t in $TARGETS; do printf ' %s |' "$t"; done
	echo
	printf '|---|'
	for t in $TARGETS; do printf -- '---|'; done
	echo
	for k in $keys stopped; do
		printf '| %s |' "$k"
		for t in $TARGETS; do printf ' %s |' "${res[$t.$k]:--}"; done
		echo
	done
	echo
	for t in $TARGETS; do
		[ -n "${res[$t.intro_ratio]:-}" ] &&
			echo "- $t: introducing the last tenth of $N domains took" \
			"${res[$t.intro_ratio]}x the round-trip time and" \
			"${res[$t.intro_cpu_ratio]:--}x the daemon CPU time of the" \
			"first tenth (medians of the runs' ratios);" \
			"ring round trip p50 with $N connected vs 10:" \
			"$(awk -v a="${res[$t.rtt10_p50_us]:-0}" -v b="${res[$t.rtt_p50_us]:-0}" \
			'BEGIN { if (a) printf "%.2f", b / a; else print "-" }')x," \
			"p99 $(awk -v a="${res[$t.rtt10_p99_us]:-0}" -v b="${res[$t.rtt_p99_us]:-0}" \
			'BEGIN { if (a) printf "%.2f", b / a; else print "-" }')x."
	done
	if [ -n "${res[xsconsoled.boot_s]:-}" ]; then
		for t in $TARGETS; do
			[ "$t" = xsconsoled ] && continue
			a=${res[xsconsoled.boot_ops_per_s]:-} b=${res[$t.boot_ops_per_s]:-}
			[ -n "$a" ] && [ -n "$b" ] && [ "$b" != 0 ] &&
				echo "- boot storm throughput, xsconsoled / $t:" \
				"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", a / b }')x"
		done
	fi
	echo
} >"$work/table"
cat "$work/table"
[ "$APPEND" = 1 ] && { echo; cat "$work/table"; } >>"$RESULTS"
exit 0
