#!/bin/sh
# Boot storm benchmark: bench/bootstorm (libxenstore, as libxl and the
# xenbus split drivers use the store) creates N VMs, P at a time, against
# xsconsoled, Debian's C xenstored and oxenstored (bench/peers.sh), in the
# same run: a fresh daemon per measurement, serving a fresh simulated host
# whose N domains exist but are not introduced (bootstorm -m), target order
# rotated between repetitions. Prints medians as a markdown table and
# appends a dated section to bench/RESULTS.md.
#
# usage: bench/bootstorm.sh [-n] [-N vms] [-P list] [-r reps] [-T secs]
#                           [-t targets] [-V every]
#   -n  print only, do not append to bench/RESULTS.md
#   -N  VMs per run (default 1000)
#   -P  VMs booted in parallel, comma-separated (default 1,8,64)
#   -r  runs per target and P, medians reported (default 3)
#   -T  longest a run may take, in seconds (default 300); a run stopped
#       there is reported with the VMs it created
#   -t  targets, comma-separated (default xsconsoled,cxenstored,oxenstored)
#   -V  after each run read back every V'th VM created (default 1; 0: none)
# Environment:
#   XSCONSOLED       our daemon (default ./xsconsoled); started as
#                    $XSCONSOLED -F --sim-root SIM --socket DIR/socket ...
#   XSCONSOLED_ARGS  extra arguments for it
#   BOOTSTORM        a built driver (default: bench/bootstorm.c is compiled
#                    into the work directory with $CC)
#   OXENSTORED_ACCESS_LOG, XSSHIM_SRC: see bench/peers.sh
#   CC               compiler (default gcc)
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/results.sh"
top=$(cd "$here/.." && pwd)
PEERS=$here/peers.sh
RESULTS=$here/RESULTS.md
CC=${CC:-gcc}
XSCONSOLED=${XSCONSOLED:-$top/xsconsoled}
XSCONSOLED_ARGS=${XSCONSOLED_ARGS:-}
BOOTSTORM=${BOOTSTORM:-}
OXENSTORED_ACCESS_LOG="${OXENSTORED_ACCESS_LOG:-0}"
export OXENSTORED_ACCESS_LOG

N=1000 PLIST=1,8,64 REPS=3 LIMIT=300 EVERY=1 APPEND=1
TARGETS=xsconsoled,cxenstored,oxenstored
ARGS="$*"

while getopts nN:P:r:T:t:V: opt; do
	case $opt in
	n) APPEND=0 ;;
	N) N=$OPTARG ;;
	P) PLIST=$OPTARG ;;
	r) REPS=$OPTARG ;;
	T) LIMIT=$OPTARG ;;
	t) TARGETS=$OPTARG ;;
	V) EVERY=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Environment/p' "$0" >&2; exit 2 ;;
	esac
done

# Say what is happening, on stderr.
say() {
	echo "bootstorm: $*" >&2
}

# Print an error and exit (the trap stops what was started).
die() {
	say "$*"
	exit 1
}

WORK=$(mktemp -d /tmp/bootstorm.XXXXXX) || die "mktemp failed"
RAW=$WORK/raw
NOTES=$WORK/notes
: >"$RAW"
: >"$NOTES"
RUNNING=
FAILED=0



# CPU time (user + system, clock ticks) of a pid.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null |
	    awk '{ print $12 + $13 }'
}

# Start TARGET in DIR serving the simulated host SIM; print its pid.
start_target() {
	t=$1 dir=$2 sim=$3
	if [ "$t" = xsconsoled ]; then
		# shellcheck disable=SC2086
		setsid "$XSCONSOLED" -F --sim-root "$sim" \
		    --socket "$dir/socket" --pid-file "$dir/pid" \
		    --db "$dir/console.db" --log-level warn $XSCONSOLED_ARGS \
		    </dev/null >"$dir/daemon.log" 2>&1 &
		echo $! >"$dir/launched"
		echo "$dir/socket" >"$dir/socket-path"
		i=0
		while [ $i -lt 100 ]; do
			if [ -S "$dir/socket" ] && XENSTORED_PATH=$dir/socket \
			    timeout 5 xenstore-ls / >/dev/null 2>&1; then
				cat "$dir/launched"
				return 0
			fi
			alive "$(cat "$dir/launched")" || break
			sleep 0.1
			i=$((i + 1))
		done
		say "xsconsoled did not come up; its log:"
		tail -n 20 "$dir/daemon.log" >&2
		return 1
	fi
	"$PEERS" start "$t" "$dir" --sim-root "$sim" >"$dir/socket-path" ||
	    return 1
	"$PEERS" pid "$dir"
}

# Stop the target running in DIR.
stop_target() {
	t=$1 dir=$2
	if [ "$t" = xsconsoled ]; then
		pid=$(cat "$dir/launched" 2>/dev/null) || return 0
		kill -TERM "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
		rm -f "$dir/launched"
	else
		"$PEERS" stop "$dir" >/dev/null 2>&1
	fi
}

# Stop whatever still runs; keep the work directory on failure.
# shellcheck disable=SC2317
cleanup() {
	rc=$?
	if [ -n "$RUNNING" ]; then
		stop_target "${RUNNING%%:*}" "${RUNNING#*:}"
	fi
	if [ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ]; then
		rm -rf "$WORK"
	else
		say "logs kept in $WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The RESULT lines of a target at a P.
lines_of() {
	grep "^RESULT target=$1 .* p=$2 " "$RAW"
}

# One measurement: a fresh simulated host and daemon, one driver run.
run_one() {
	t=$1 p=$2 rep=$3
	dir=$WORK/$t-p$p-r$rep
	sim=$dir/sim
	mkdir -p "$sim"
	"$BS" -m "$sim" -N "$N" || die "cannot make the simulated domains"
	if ! pid=$(start_target "$t" "$dir" "$sim"); then
		note "$t did not start (P=$p, run $rep)"
		FAILED=1
		stop_target "$t" "$dir"
		return
	fi
	RUNNING=$t:$dir
	c0=$(cpu_ticks "$pid")
	XENSTORED_PATH=$(cat "$dir/socket-path") timeout -s KILL \
	    $((LIMIT + 120)) "$BS" -N "$N" -P "$p" -T "$LIMIT" -V "$EVERY" \
	    -l "$t" >"$dir/out" 2>"$dir/err"
	rc=$?
	c1=$(cpu_ticks "$pid")
	alive "$pid" || note "$t died during the run (P=$p, run $rep)"
	stop_target "$t" "$dir"
	RUNNING=
	line=$(grep '^RESULT ' "$dir/out")
	if [ -z "$line" ]; then
		note "$t P=$p run $rep: no result (exit $rc): $(tail -n 3 \
		    "$dir/err" | tr '\n' ' ')"
		FAILED=1
		return
	fi
	hz=$(getconf CLK_TCK)
	cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" \
	    'BEGIN { if (a != "" && b != "") printf "%.2f", (b - a) / hz;
	    else print "-" }')
	echo "$line rep=$rep daemon_cpu_s=$cpu" >>"$RAW"
	say "$(echo "$line" | cut -c8-) daemon_cpu_s=$cpu"
	case "$rc" in
	0) ;;
	3) note "$t P=$p run $rep: did not finish in $LIMIT s," \
	    "$(echo "$line" | field "done") VMs done" ;;
	*) note "$t P=$p run $rep: FAILED (exit $rc): $(grep -E \
	    'ERROR|VERIFY' "$dir/err" | head -n 3 | tr '\n' ' ')"
	    FAILED=1 ;;
	esac
}


# Markdown table of the medians.
table() {
	printf '| P |'
	for t in $RUN; do
		printf ' %s VMs/s | %s s | %s retries (max/VM) |' "$t" "$t" "$t"
	done
	[ -n "$OURS" ] && [ -n "$PEERS_RUN" ] && printf ' ours / faster peer |'
	echo
	printf '|---:|'
	for t in $RUN; do printf '%s' '---:|---:|---:|'; done
	[ -n "$OURS" ] && [ -n "$PEERS_RUN" ] && printf '%s' '---:|'
	echo
	for p in $(echo "$PLIST" | tr ',' ' '); do
		printf '| %s |' "$p"
		best=0 mine=0
		for t in $RUN; do
			l=$(lines_of "$t" "$p")
			if [ -z "$l" ]; then
				printf ' - | - | - |'
				continue
			fi
			v=$(echo "$l" | field vms_per_s | median)
			s=$(echo "$l" | field secs | median)
			r=$(echo "$l" | field retries | median)
			m=$(echo "$l" | field retries_max_vm | sort -g | tail -n 1)
			inc=$(echo "$l" | grep -c ' complete=0 ')
			if [ "$inc" -gt 0 ]; then
				d=$(echo "$l" | field "done" | median)
				printf ' %s (≤; %s of %s runs stopped at' \
				    "$v" "$inc" "$(echo "$l" | wc -l)"
				printf ' %s s, median %s VMs done) | > %s |' \
				    "$LIMIT" "$d" "$LIMIT"
			else
				printf ' %s | %s |' "$v" "$s"
			fi
			printf ' %s (%s) |' "$(thousands "$r")" "$m"
			if [ "$t" = xsconsoled ]; then
				mine=$v
			elif awk "BEGIN { exit !($v > $best) }"; then
				best=$v
			fi
		done
		if [ -n "$OURS" ] && [ -n "$PEERS_RUN" ]; then
			awk "BEGIN { if ($best > 0 && $mine > 0)
			    printf \" %.1f× |\", $mine / $best;
			    else printf \" - |\" }"
		fi
		echo
	done
}

# Markdown table of the other medians: per-VM time and CPU.
detail_table() {
	printf '| target | P | VM create→connected p50 / p99 ms |'
	printf ' daemon CPU s | driver CPU s | transactions |'
	echo ' VMs with a retry | retries in create / device txns |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|'
	for p in $(echo "$PLIST" | tr ',' ' '); do
		for t in $RUN; do
			l=$(lines_of "$t" "$p")
			[ -z "$l" ] && continue
			printf '| %s | %s | %s / %s | %s | %s | %s | %s | %s / %s |\n' \
			    "$t" "$p" \
			    "$(echo "$l" | field vm_p50_ms | median)" \
			    "$(echo "$l" | field vm_p99_ms | median)" \
			    "$(echo "$l" | field daemon_cpu_s | median)" \
			    "$(echo "$l" | field driver_cpu_s | median)" \
			    "$(thousands "$(echo "$l" | field txns | median)")" \
			    "$(echo "$l" | field vms_retried | median)" \
			    "$(echo "$l" | field retries_create | median)" \
			    "$(echo "$l" | field retries_dev | median)"
		done
	done
}

# --- build and check -----------------------------------------------------

if [ -n "$BOOTSTORM" ]; then
	BS=$BOOTSTORM
else
	BS=$WORK/bootstorm
	say "building bootstorm"
	"$CC" -O2 -Wall -Wextra -Werror -std=gnu11 -pthread -o "$BS" \
	    "$here/bootstorm.c" -lxenstore || die "cannot build bootstorm"
fi
[ -x "$BS" ] || die "BOOTSTORM=$BS is not executable"

RUN="" OURS="" PEERS_RUN=""
for t in $(echo "$TARGETS" | tr ',' ' '); do
	case "$t" in
	xsconsoled)
		if [ ! -x "$XSCONSOLED" ]; then
			note "xsconsoled skipped: $XSCONSOLED is not executable"
			continue
		fi
		OURS=xsconsoled ;;
	cxenstored|oxenstored) PEERS_RUN="$PEERS_RUN $t" ;;
	*) die "unknown target: $t" ;;
	esac
	RUN="$RUN $t"
done
[ -n "$RUN" ] || die "no target to run"

DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)

# --- runs ----------------------------------------------------------------

ntargets=$(echo "$RUN" | wc -w)
rep=1
while [ "$rep" -le "$REPS" ]; do
	# Rotate the order so no target always runs first or last.
	# shellcheck disable=SC2086
	set -- $RUN
	k=$(( (rep - 1) % ntargets ))
	while [ $k -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k - 1))
	done
	for p in $(echo "$PLIST" | tr ',' ' '); do
		for t in "$@"; do
			say "run $rep/$REPS: $t, N=$N, P=$p"
			run_one "$t" "$p" "$rep"
		done
	done
	rep=$((rep + 1))
done

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - START ))

# --- report --------------------------------------------------------------

report() {
	echo "## Boot storm benchmark, $DATE"
	echo
	echo "Command: \`bench/bootstorm.sh $ARGS\`"
	echo
	echo "- Host: $(nproc) CPUs, $(uname -r), load average $LOAD0 at" \
	    "start and $LOAD1 at the end; a shared machine, loaded by other" \
	    "developers' builds and tests during the run. The run took" \
	    "$ELAPSED s."
	echo "- Each measurement: a fresh daemon serving a fresh simulated" \
	    "host with $N domains made but not introduced (bootstorm -m);" \
	    "bench/bootstorm creates the $N VMs with P worker threads, each" \
	    "with three libxenstore connections (toolstack, backend, frontend)," \
	    "all dom0 clients of the daemon's Unix socket. Per VM: one" \
	    "libxl-like transaction (domain, /vm, /libxl, 2 vbd + 1 vif," \
	    "frontend and backend, state 1), then the xenbus handshake" \
	    "1→2→3→4 through watches, every state switch a transaction as" \
	    "in Linux's xenbus_switch_state. Time: start to the last VM" \
	    "with all three devices Connected on both sides."
	echo "- $REPS run(s) per target and P, medians; limit $LIMIT s per" \
	    "run. Retries: EAGAIN from TRANSACTION_END, summed over the run;" \
	    "max/VM is the most any one VM needed (max over runs). A worker" \
	    "runs one request at a time and every VM touches only its own" \
	    "paths, so every retry is a conflict with an independent VM."
	if [ "$EVERY" = 1 ]; then what="every VM"; else what="every ${EVERY}th VM"; fi
	echo "- After each run $what created was read back" \
	    "(values, permissions, state 4 on both sides): $(grep -c \
	    ' verify=ok' "$RAW") of $(wc -l <"$RAW") runs verified ok."
	echo
	table
	echo
	detail_table
	echo
	[ -s "$NOTES" ] && cat "$NOTES" && echo
	echo '<details><summary>raw bootstorm output</summary>'
	echo
	echo '```'
	cat "$RAW"
	echo '```'
	echo
	echo '</details>'
	echo
}

report >"$WORK/report"
cat "$WORK/report"
if [ "$APPEND" = 1 ]; then
	{ echo; cat "$WORK/report"; } >>"$RESULTS"
	say "appended to $RESULTS"
fi
[ "$FAILED" -eq 0 ] || exit 1
