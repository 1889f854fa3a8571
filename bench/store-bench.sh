#!/bin/sh
# Store benchmark: xsconsoled against Debian's C xenstored and oxenstored.
#
# Builds bench/xsbench, starts every target, runs the throughput phases
# (read, write, directory, txn for 1, 8 and 64 clients) several times with
# the target order rotated between repetitions, then fills a fresh daemon of
# each target to each size and measures latency and memory there. Prints
# medians and appends a dated section to bench/RESULTS.md.
#
# usage: bench/store-bench.sh [-q] [-n] [-r reps] [-d secs] [-c clients]
#                             [-s "sizes"] [-T fill-limit] [-t "targets"]
#   -q  quick run: 1 repetition, 1 s phases, fill 1000 and 150000 nodes,
#       fill limit 30 s
#   -n  print only, do not append to bench/RESULTS.md
#   -r  repetitions of the throughput phases (default 3)
#   -d  seconds per measurement (default 3)
#   -c  client counts (default 1,8,64)
#   -s  fill sizes (default "1000 1500000")
#   -T  longest time a fill may take, in seconds; a slower target is
#       measured at the size it reached (default 60)
#   -t  targets (default "xsconsoled cxenstored oxenstored")
# Environment:
#   XSCONSOLED       our daemon; started as
#                    $XSCONSOLED -F --socket DIR/socket --pid-file DIR/pid
#                    and skipped with a message if unset or not executable
#   XSCONSOLED_ARGS  extra arguments for it
#   OXENSTORED_ACCESS_LOG, XSSHIM_SRC: see bench/peers.sh
#   CC               compiler (default gcc)
set -u

here=$(cd "$(dirname "$0")" && pwd)
. "$here/results.sh"
PEERS=$here/peers.sh
RESULTS=$here/RESULTS.md
CC=${CC:-gcc}
XSCONSOLED=${XSCONSOLED:-}
XSCONSOLED_ARGS=${XSCONSOLED_ARGS:-}
OXENSTORED_ACCESS_LOG="${OXENSTORED_ACCESS_LOG:-0}"
export OXENSTORED_ACCESS_LOG

REPS=3
SECS=3
CLIENTS=1,8,64
SIZES="1000 1500000"
FILL_LIMIT=60
TARGETS="xsconsoled cxenstored oxenstored"
APPEND=1
QUICK=0
ARGS="$*"

while getopts "c:d:nqr:s:T:t:" opt; do
	case "$opt" in
	c) CLIENTS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	n) APPEND=0 ;;
	q) QUICK=1 REPS=1 SECS=1 SIZES="1000 150000" FILL_LIMIT=30 ;;
	r) REPS=$OPTARG ;;
	s) SIZES=$OPTARG ;;
	T) FILL_LIMIT=$OPTARG ;;
	t) TARGETS=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Environment/p' "$0" >&2; exit 2 ;;
	esac
done

# Say what is happening, on stderr.
say() {
	echo "store-bench: $*" >&2
}

# Print an error and exit (the trap stops what was started).
die() {
	say "$*"
	exit 1
}

WORK=$(mktemp -d /tmp/store-bench.XXXXXX) || die "mktemp failed"
RAW=$WORK/raw
NOTES=$WORK/notes
: >"$RAW"
: >"$NOTES"
STARTED=



# Start our daemon in DIR; fail if it does not serve within 10 s.
start_ours() {
	dir=$1
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	setsid "$XSCONSOLED" -F --socket "$dir/socket" --pid-file "$dir/pid" \
	    $XSCONSOLED_ARGS </dev/null >"$dir/daemon.log" 2>&1 &
	echo $! >"$dir/launched"
	i=0
	while [ $i -lt 100 ]; do
		if [ -S "$dir/socket" ] && XENSTORED_PATH=$dir/socket \
		    timeout 5 xenstore-ls / >/dev/null 2>&1; then
			[ -s "$dir/pid" ] || cp "$dir/launched" "$dir/pid"
			echo "$dir/socket" >"$dir/socket-path"
			return 0
		fi
		alive "$(cat "$dir/launched")" || break
		sleep 0.1
		i=$((i + 1))
	done
	say "xsconsoled did not come up; its log:"
	tail -n 20 "$dir/daemon.log" >&2
	stop_ours "$dir"
	return 1
}

# Stop our daemon running in DIR.
stop_ours() {
	dir=$1
	for f in pid launched; do
		[ -s "$dir/$f" ] || continue
		pid=$(cat "$dir/$f")
		alive "$pid" || continue
		kill -TERM "$pid" 2>/dev/null
		i=0
		while alive "$pid" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
	rm -f "$dir/pid" "$dir/launched"
}

# Start a target in DIR; its socket path ends up in DIR/socket-path.
start_target() {
	t=$1 dir=$2
	case "$t" in
	xsconsoled)
		start_ours "$dir" || return 1
		;;
	*)
		"$PEERS" start "$t" "$dir" >/dev/null || return 1
		;;
	esac
	STARTED="$STARTED $t:$dir"
}

# Stop the target running in DIR.
stop_target() {
	t=$1 dir=$2
	case "$t" in
	xsconsoled) stop_ours "$dir" ;;
	*) "$PEERS" stop "$dir" ;;
	esac
	STARTED=$(echo "$STARTED" | sed "s| $t:$dir||")
}

# Stop whatever is still running; keep the work directory on failure.
# shellcheck disable=SC2317
cleanup() {
	rc=$?
	for td in $STARTED; do
		stop_target "${td%%:*}" "${td#*:}"
	done
	if [ "$rc" -eq 0 ]; then
		rm -rf "$WORK"
	else
		say "logs kept in $WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Throughput RESULT lines of a target, op and client count.
lines_of() {
	grep "^RESULT target=$1 op=$2 clients=$3 " "$RAW" | grep -v ' nodes='
}


# Markdown table of the throughput medians.
throughput_table() {
	ours=$1 peers=$2
	printf '| op | clients |'
	for t in $ours $peers; do
		printf ' %s ops/s | %s p50 / p99 µs |' "$t" "$t"
	done
	[ -n "$ours" ] && printf ' ours / faster peer |'
	echo
	printf '%s' '|---|---:|'
	for t in $ours $peers; do printf '%s' '---:|---:|'; done
	[ -n "$ours" ] && printf '%s' '---:|'
	echo
	for op in read write directory txn; do
		for c in $(echo "$CLIENTS" | tr ',' ' '); do
			printf '| %s | %s |' "$op" "$c"
			best=0
			mine=0
			for t in $ours $peers; do
				l=$(lines_of "$t" "$op" "$c")
				if [ -z "$l" ]; then
					printf ' - | - |'
					continue
				fi
				ops=$(echo "$l" | field ops_per_s | median)
				p50=$(echo "$l" | field p50_us | median)
				p99=$(echo "$l" | field p99_us | median)
				printf ' %s | %s / %s |' "$(thousands "$ops")" \
				    "$p50" "$p99"
				if [ "$t" = "$ours" ]; then
					mine=$ops
				elif awk "BEGIN { exit !($ops > $best) }"; then
					best=$ops
				fi
			done
			if [ -n "$ours" ]; then
				awk "BEGIN { if ($best > 0 && $mine > 0)
				    printf \" %.2f× |\", $mine / $best;
				    else printf \" - |\" }"
			fi
			echo
		done
	done
}

# Median daemon CPU time per operation (µs), from /proc/<pid>/stat
# around each phase: what the server itself spends, whatever the clients
# and the scheduler add to the round trip.
cpu_table() {
	ours=$1 peers=$2
	printf '| op | clients |'
	for t in $ours $peers; do printf ' %s CPU µs/op |' "$t"; done
	[ -n "$ours" ] && printf ' peer best / ours |'
	echo
	printf '%s' '|---|---:|'
	for t in $ours $peers; do printf '%s' '---:|'; done
	[ -n "$ours" ] && printf '%s' '---:|'
	echo
	for op in read write directory txn; do
		for c in $(echo "$CLIENTS" | tr ',' ' '); do
			printf '| %s | %s |' "$op" "$c"
			best=0
			mine=0
			for t in $ours $peers; do
				v=$(lines_of "$t" "$op" "$c" |
				    field daemon_cpu_us_per_op | median)
				if [ -z "$v" ] || [ "$v" = - ]; then
					printf ' - |'
					continue
				fi
				printf ' %s |' "$v"
				if [ "$t" = "$ours" ]; then
					mine=$v
				elif awk "BEGIN { exit !($best == 0 || $v < $best) }"; then
					best=$v
				fi
			done
			if [ -n "$ours" ]; then
				awk "BEGIN { if ($best > 0 && $mine > 0)
				    printf \" %.2f× |\", $best / $mine;
				    else printf \" - |\" }"
			fi
			echo
		done
	done
}

# Summed errors and txn retries of each target, as a sentence.
error_summary() {
	for t in $1; do
		l=$(grep "^RESULT target=$t op=" "$RAW" | grep -v ' nodes=')
		[ -z "$l" ] && continue
		e=$(echo "$l" | field errors | awk '{ s += $1 } END { print s + 0 }')
		r=$(echo "$l" | field retries | awk '{ s += $1 } END { print s + 0 }')
		printf '%s: %s errors, %s txn EAGAIN retries; ' "$t" "$e" "$r"
	done | sed 's/; $/./'
	echo
}

# Markdown table of the fill runs.
fill_table() {
	echo '| target | nodes asked | nodes filled | fill s | fill nodes/s |' \
	    'RSS before → after MB | HWM MB | bytes/node |' \
	    'read p50 / p99 µs | write p50 / p99 µs |'
	echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
	for n in $SIZES; do
		for t in $1; do
			f=$(grep "^RESULT target=$t op=fill nodes=$n " "$RAW")
			[ -z "$f" ] && continue
			filled=$(echo "$f" | field filled)
			r=$(grep "^RESULT target=$t op=read_filled " "$RAW" |
			    grep " fill_size=$n\$")
			w=$(grep "^RESULT target=$t op=write_filled " "$RAW" |
			    grep " fill_size=$n\$")
			printf '| %s | %s | %s%s | %s | %s |' "$t" \
			    "$(thousands "$n")" "$(thousands "$filled")" \
			    "$([ "$(echo "$f" | field complete)" = 1 ] ||
			    echo ' (limit)')" \
			    "$(echo "$f" | field secs)" \
			    "$(thousands "$(echo "$f" | field ops_per_s)")"
			echo "$f" | awk '{
				for (i = 1; i <= NF; i++) {
					split($i, kv, "="); v[kv[1]] = kv[2] }
				printf " %.1f → %.1f | %.1f | %s |",
				    v["rss_before_kb"] / 1024,
				    v["rss_after_kb"] / 1024,
				    v["hwm_kb"] / 1024, v["bytes_per_node"] }'
			printf ' %s / %s | %s / %s |\n' \
			    "$(echo "$r" | field p50_us)" \
			    "$(echo "$r" | field p99_us)" \
			    "$(echo "$w" | field p50_us)" \
			    "$(echo "$w" | field p99_us)"
		done
	done
}

# --- build ---------------------------------------------------------------

XSB=$WORK/xsbench
say "building xsbench"
"$CC" -O2 -Wall -Wextra -Werror -pthread -o "$XSB" "$here/xsbench.c" ||
    die "cannot build xsbench"

RUN=
for t in $TARGETS; do
	case "$t" in
	xsconsoled)
		if [ -z "$XSCONSOLED" ]; then
			note "xsconsoled skipped: XSCONSOLED is not set"
			continue
		fi
		if [ ! -x "$XSCONSOLED" ]; then
			note "xsconsoled skipped: $XSCONSOLED is not an" \
			    "executable file"
			continue
		fi
		;;
	cxenstored|oxenstored) ;;
	*) die "unknown target: $t" ;;
	esac
	RUN="$RUN $t"
done
[ -n "$RUN" ] || die "no target to run"

DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)

# --- throughput ----------------------------------------------------------

UP=
for t in $RUN; do
	say "starting $t"
	if start_target "$t" "$WORK/$t"; then
		UP="$UP $t"
	else
		note "$t did not start; left out"
	fi
done

[ -n "$UP" ] || die "no target started"
ntargets=$(echo "$UP" | wc -w)
rep=1
while [ "$rep" -le "$REPS" ]; do
	# Rotate the order so no target always runs first or last.
	# shellcheck disable=SC2086
	set -- $UP
	k=$(( (rep - 1) % ntargets ))
	while [ $k -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		k=$((k - 1))
	done
	for t in "$@"; do
		say "repetition $rep/$REPS: $t"
		sock=$(cat "$WORK/$t/socket-path")
		# The daemon's pid, so xsbench reports its CPU per operation.
		pid=$(cat "$WORK/$t/pid" 2>/dev/null)
		if ! "$XSB" -s "$sock" -t "$t" -c "$CLIENTS" -d "$SECS" \
		    ${pid:+-p "$pid"} \
		    >"$WORK/out" 2>"$WORK/err"; then
			note "xsbench failed on $t (repetition $rep):" \
			    "$(tail -n 1 "$WORK/err")"
		fi
		cat "$WORK/err" >&2
		tee -a "$RAW" <"$WORK/out"
	done
	rep=$((rep + 1))
done
for t in $UP; do
	stop_target "$t" "$WORK/$t"
done

# --- scale ---------------------------------------------------------------

for n in $SIZES; do
	for t in $UP; do
		dir=$WORK/fill-$t-$n
		say "fill $t to $n nodes"
		if ! start_target "$t" "$dir"; then
			note "$t did not start for the $n-node fill"
			continue
		fi
		if ! "$XSB" -s "$(cat "$dir/socket-path")" -t "$t" -c 1 \
		    -d "$SECS" --fill "$n" --fill-timeout "$FILL_LIMIT" \
		    -p "$(cat "$dir/pid")" >"$WORK/out"; then
			note "xsbench --fill $n failed on $t"
		fi
		# Tag the latency lines with the size asked for.
		sed "/ op=\(read\|write\)_filled /s/\$/ fill_size=$n/" \
		    "$WORK/out" | tee -a "$RAW"
		if grep -q "^RESULT target=$t op=fill .* complete=0" \
		    "$WORK/out"; then
			note "$t did not reach $n nodes within the" \
			    "${FILL_LIMIT} s fill limit; its latency was" \
			    "measured at the size it reached"
		fi
		stop_target "$t" "$dir"
	done
done

ELAPSED=$(( $(date +%s) - START ))

# --- report --------------------------------------------------------------

OURS=
PEERS_UP=
for t in $UP; do
	case "$t" in
	xsconsoled) OURS=$t ;;
	*) PEERS_UP="$PEERS_UP $t" ;;
	esac
done

REPORT=$WORK/report
{
	if [ -n "$OURS" ]; then
		echo "## Store benchmark, $DATE"
	else
		echo "## Store benchmark, $DATE: peer-only figures" \
		    "(xsconsoled not run)"
	fi
	echo
	echo "Command: \`bench/store-bench.sh${ARGS:+ $ARGS}\`" \
	    "${XSCONSOLED:+(XSCONSOLED=$XSCONSOLED)}"
	echo
	echo "- Host: $(nproc) CPUs" \
	    "($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1))," \
	    "Linux $(uname -r), load average at start $LOAD0; shared machine."
	echo "- Peers: Debian xen-utils-4.17" \
	    "$(dpkg-query -W -f='${Version}' xen-utils-4.17 2>/dev/null)," \
	    "run without Xen through ../shared/peers/xsshim.c; oxenstored" \
	    "access log $([ "$OXENSTORED_ACCESS_LOG" = 0 ] && echo off ||
	    echo on)."
	echo "- Throughput: $REPS repetition(s), ${SECS} s per measurement," \
	    "medians shown; each client is one connection doing synchronous" \
	    "round trips under /bench/c<N>; txn = TRANSACTION_START, 5" \
	    "WRITEs, TRANSACTION_END, latency per whole transaction." \
	    "Run took ${ELAPSED} s."
	echo
	throughput_table "$OURS" "$PEERS_UP"
	echo
	echo "Daemon CPU time per operation (median; lower is better; the last column is how many times more CPU the cheaper peer spends):"
	echo
	cpu_table "$OURS" "$PEERS_UP"
	echo
	echo "Errors and retries over all repetitions: $(error_summary "$UP")"
	echo
	echo "Scale: fresh daemon per row, filled with pipelined writes" \
	    "(150 nodes per /local/domain/<id>), then 1 client reading and" \
	    "writing random nodes for ${SECS} s; memory from /proc/<pid>/status."
	echo
	fill_table "$UP"
	if [ -s "$NOTES" ]; then
		echo
		cat "$NOTES"
	fi
	echo
	echo '<details><summary>raw xsbench output</summary>'
	echo
	echo '```'
	cat "$RAW"
	echo '```'
	echo
	echo '</details>'
	echo
} >"$REPORT"

echo
cat "$REPORT"
if [ "$APPEND" = 1 ]; then
	if [ ! -s "$RESULTS" ]; then
		{
			echo "# Store benchmark results"
			echo
			echo "Sections are appended by \`bench/store-bench.sh\`;" \
			    "newest last."
			echo
		} >"$RESULTS"
	fi
	cat "$REPORT" >>"$RESULTS"
	say "appended to $RESULTS"
fi
[ "$QUICK" = 1 ] && say "quick run: figures are indicative only"
exit 0
