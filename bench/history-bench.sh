#!/bin/bash
# The cost of keeping the store durable and its history (issue 5):
#
#   1. write throughput with the database (history and durable tree) on and
#      off: xsconsoled on a socket only, without --db (nothing kept) and
#      with --db (every commit kept), xsbench's write and txn phases for 1,
#      8 and 64 clients, the two alternating, medians of the repetitions;
#   2. database growth per million commits (single-node writes through
#      xsbench, the database's size before and after);
#   2b. with -b, a control: each op and client count on a daemon of its
#      own, and the daemon without a database beside bench/cpuburn, a
#      thread taking as much of a CPU, in bursts, as the writer thread took
#      in that repetition's run with the database; what remains between
#      "off + burner" and "on" is the cost of the history beyond the CPU
#      its writer takes;
#   3. restart time with N nodes (default 1.5 million, filled with
#      xsbench --fill as a real host lays them out): a clean stop, then a
#      kill -9, each followed by a start timed until the socket answers,
#      and the tree checked (node count) after;
#   With -p, phase 1 runs with the daemon pinned to CPU 0 and xsbench to
#   CPU 1: a dom0 whose daemon has a CPU of its own and whose clients run
#   elsewhere, rather than the scheduler's choice of where each goes.
#   4. the whole store written again with those N nodes, after another
#      process held the database's lock past db/store-backlog: the event
#      loop's walk and the writer's transaction, timed from the daemon's
#      log, and the node count after a kill -9 and a restart.
#
# usage: bench/history-bench.sh [-b] [-n] [-p] [-r reps] [-d secs] [-c clients]
#                               [-N nodes] [-M commits]
#   -b  also run the CPU-burner control (2b)
#   -n  print only, do not append to bench/RESULTS.md
#   -p  phase 1 pinned: the daemon on CPU 0, xsbench on CPU 1
#   -r  repetitions of the throughput phases (default 5)
#   -d  seconds per measurement (default 3)
#   -c  client counts (default 1,8,64)
#   -N  nodes for the restart (default 1500000)
#   -M  commits for the growth figure (default 1000000)
# Environment: XSCONSOLED (default ./xsconsoled), CC (default gcc).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RESULTS=$here/RESULTS.md
CC=${CC:-gcc}
XSCONSOLED=${XSCONSOLED:-$top/xsconsoled}
REPS=5 SECS=3 CLIENTS=1,8,64 NODES=1500000 COMMITS=1000000 APPEND=1 BURN=0 PIN=0
ARGS="$*"

while getopts "bc:d:M:N:npr:" opt; do
	case "$opt" in
	b) BURN=1 ;;
	c) CLIENTS=$OPTARG ;;
	d) SECS=$OPTARG ;;
	M) COMMITS=$OPTARG ;;
	N) NODES=$OPTARG ;;
	n) APPEND=0 ;;
	p) PIN=1 ;;
	r) REPS=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Environment/p' "$0" >&2; exit 2 ;;
	esac
done

say() { echo "history-bench: $*" >&2; }
die() { say "$*"; exit 1; }

WORK=$(mktemp -d /tmp/history-bench.XXXXXX)
trap 'pkill -f "$WORK/" 2>/dev/null; rm -rf "$WORK"' EXIT
# A copy of the binary: rebuilding the tree does not touch a running bench.
cp "$XSCONSOLED" "$WORK/xsconsoled" || die "no $XSCONSOLED"
XSB=$WORK/xsbench
"$CC" -O2 -Wall -Wextra -Werror -pthread -o "$XSB" "$here/xsbench.c" ||
	die "cannot build xsbench"
"$CC" -O2 -Wall -Wextra -Werror -o "$WORK/cpuburn" "$here/cpuburn.c" ||
	die "cannot build cpuburn"

# With -p, phase 1's daemon and xsbench each on a CPU of their own.
DPIN=() XPIN=()
if [ "$PIN" = 1 ]; then
	[ "$(nproc)" -ge 2 ] || die "-p needs 2 CPUs"
	DPIN=(taskset -c 0) XPIN=(taskset -c 1)
fi

# start DIR [args...]: the daemon in DIR, on DIR/socket (pinned as
# $DPIN says); waits until the socket is there, prints the seconds it
# took.
start() {
	local dir=$1 t0 i
	shift
	mkdir -p "$dir"
	rm -f "$dir/socket"
	t0=$(date +%s.%N)
	"${DPIN[@]}" "$WORK/xsconsoled" -F --socket "$dir/socket" --pid-file "$dir/pid" \
	    --log-file "$dir/log" --log-level info "$@" </dev/null \
	    >>"$dir/stdio" 2>&1 &
	echo $! >"$dir/job"
	for i in $(seq 1 6000); do
		if [ -S "$dir/socket" ]; then
			echo "$(date +%s.%N) - $t0" | bc
			return 0
		fi
		kill -0 "$(cat "$dir/job")" 2>/dev/null || break
		sleep 0.01
	done
	tail -n 5 "$dir/log" >&2
	return 1
}

stop() {
	local pid
	pid=$(cat "$1/job")
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
	else if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- 1. throughput, history off and on ----------------------------------------

# ticks PID: CPU ticks (utime + stime) of the process's threads but its
# first, the writer's.
ticks() {
	local t sum=0
	for t in /proc/$1/task/*; do
		[ "${t##*/}" = "$1" ] && continue
		sum=$((sum + $(awk '{ print $14 + $15 }' "$t/stat")))
	done
	echo "$sum"
}

RAW=$WORK/raw
: >"$RAW"
# What one daemon runs: every phase at once, or (-b) one op and client
# count per daemon, so the burner matches the writer's share in that one.
if [ "$BURN" = 1 ]; then
	jobs=
	for op in write txn; do
		for c in ${CLIENTS//,/ }; do jobs="$jobs $op:$c"; done
	done
else
	jobs="write,txn:$CLIENTS"
fi
declare -A share
for rep in $(seq 1 "$REPS"); do
	if [ $((rep % 2)) -eq 1 ]; then order="off on"; else order="on off"; fi
	[ "$BURN" = 1 ] && order="$order burn"
	for job in $jobs; do
	for mode in $order; do
		dir=$WORK/tp-$mode-$rep
		if [ "$mode" = on ]; then
			start "$dir" --db "$dir/x.db" >/dev/null ||
			    die "daemon did not start"
		else
			start "$dir" >/dev/null || die "daemon did not start"
		fi
		burner=
		if [ "$mode" = burn ]; then
			# the writer's share of a CPU, in 7 ms periods (about
			# how often it wakes under this load)
			"$WORK/cpuburn" $((${share[$job]} * 7000 / 1000)) 7000 &
			burner=$!
		fi
		say "repetition $rep/$REPS, ${job%%:*} with ${job#*:}" \
		    "clients, history $mode"
		t0=$(date +%s%N)
		"${XPIN[@]}" "$XSB" -s "$dir/socket" -t "$mode" \
		    -c "${job#*:}" -d "$SECS" \
		    -o "${job%%:*}" -p "$(cat "$dir/job")" 2>/dev/null |
		    grep '^RESULT' | tee -a "$RAW" >&2
		if [ "$mode" = on ]; then
			# per mille of one CPU over the run
			s=$(( $(ticks "$(cat "$dir/job")") * 1000000000000 /
			    $(getconf CLK_TCK) / ($(date +%s%N) - t0) ))
			[ "$s" -lt 1000 ] || s=999
			[ "$s" -gt 0 ] || s=1
			share[$job]=$s
			echo "SHARE $job $s" >>"$RAW"
			say "the writer took $s per mille of a CPU"
			# and its CPU per commit: the durable generation
			# once the last commits are in (flush_ms)
			sleep 0.5
			gen=$(XENSTORED_PATH=$dir/socket xenstore-read \
			    /tool/xsconsoled/stats/store-durable-generation)
			[ "${gen:-0}" -gt 0 ] && echo "PERCOMMIT $(echo "scale=3;" \
			    "$(ticks "$(cat "$dir/job")") * 1000000 /" \
			    "$(getconf CLK_TCK) / $gen" | bc)" >>"$RAW"
		fi
		[ -n "$burner" ] && kill "$burner" && wait "$burner" 2>/dev/null
		stop "$dir"
		rm -rf "$dir"
	done
	done
done

table=$WORK/table
ops() { grep "target=$1 op=$2 clients=$3 " "$RAW" |
	sed 's/.*ops_per_s=\([0-9]*\).*/\1/' | median; }
ratio() { echo "scale=3; $1 / $2" | bc 2>/dev/null; }
{
	if [ "$BURN" = 1 ]; then
		echo "| op, clients | history off, ops/s | history on, ops/s |" \
		    "on/off | writer, per mille of a CPU | off + burner," \
		    "ops/s | burner/off |"
		echo "|---|---|---|---|---|---|---|"
	else
		echo "| op, clients | history off, ops/s | history on, ops/s |" \
		    "on/off |"
		echo "|---|---|---|---|"
	fi
	for op in write txn; do
		for c in ${CLIENTS//,/ }; do
			off=$(ops off "$op" "$c")
			on=$(ops on "$op" "$c")
			line="| $op, $c | $off | $on | $(ratio "$on" "$off") |"
			if [ "$BURN" = 1 ]; then
				burn=$(ops burn "$op" "$c")
				w=$(sed -n "s/^SHARE $op:$c //p" "$RAW" | median)
				line="$line $w | $burn | $(ratio "$burn" "$off") |"
			fi
			echo "$line"
		done
	done
} >"$table"

cat "$table"
DPIN=() XPIN=()		# the other phases as the scheduler places them

# --- 2. growth per million commits -----------------------------------------

dir=$WORK/growth
start "$dir" --db "$dir/x.db" >/dev/null || die "daemon did not start"
db_size() { du -b --apparent-size "$dir"/x.db* | awk '{ s += $1 } END { print s }'; }
size0=$(db_size)
# xsbench's write phase writes one node per request; run it long enough
# for COMMITS commits with 8 clients.
rate=$(grep "target=on op=write " "$RAW" |
    sed 's/.*ops_per_s=\([0-9]*\).*/\1/' | median)
[ "$rate" = - ] && rate=10000
secs=$(( COMMITS / (rate > 0 ? rate : 10000) + 1 ))
"$XSB" -s "$dir/socket" -t growth -c 8 -d "$secs" -o write 2>/dev/null |
    grep '^RESULT' >"$WORK/growth.out"
done_ops=$(sed 's/.*ops=\([0-9]*\).*/\1/' "$WORK/growth.out")
stop "$dir"
size1=$(db_size)
growth=$(echo "scale=1; ($size1 - $size0) * 1000000 / $done_ops / 1048576" | bc)
say "growth: $done_ops commits, $size0 -> $size1 bytes: $growth MiB per million"

# --- 3. restart with N nodes ------------------------------------------------

dir=$WORK/restart
start "$dir" --db "$dir/x.db" >/dev/null || die "daemon did not start"
say "filling $NODES nodes"
"$XSB" -s "$dir/socket" -t fill -c 1 -d 1 --fill "$NODES" -o read \
    2>/dev/null | grep '^RESULT target=fill op=fill' >"$WORK/fill.out"
cat "$WORK/fill.out" >&2
count() {
	XENSTORED_PATH=$dir/socket /usr/lib/xen-4.17/bin/xenstore-control \
	    memreport 2>/dev/null | sed -n 's/^nodes: *\([0-9]*\).*/\1/p'
}
nodes_before=$(count)
stop "$dir"
t_clean=$(start "$dir" --db "$dir/x.db") || die "no restart"
nodes_clean=$(count)
sleep 0.5	# what the load committed (nothing) is flushed
kill -9 "$(cat "$dir/job")"
sleep 0.2
t_kill=$(start "$dir" --db "$dir/x.db") || die "no restart after kill -9"
nodes_kill=$(count)
stop "$dir"
say "restart: clean ${t_clean}s ($nodes_clean nodes), after kill -9" \
    "${t_kill}s ($nodes_kill nodes); before: $nodes_before"
db_bytes=$(du -b --apparent-size "$dir/x.db" | cut -f1)

# --- 4. the whole store written again, with N nodes -------------------------
#
# Another process holds the database's lock for 2 s while 40 writes of
# 3 KB go past db/store-backlog; once it lets go, the daemon writes the
# whole store again. Timed from the daemon's log: the event loop's walk
# (its warning gives it) and the writer's transaction (from that warning
# to the writer's line saying it is done); then a kill -9 and a restart
# must give every node back.
start "$dir" --db "$dir/x.db" --set db/busy-ms=20 \
    --set db/store-backlog=65536 >/dev/null || die "no restart"
python3 "$top/tests/hold-db-lock.py" "$dir/x.db" "$WORK/locked" 2 &
locker=$!
for i in $(seq 1 200); do [ -f "$WORK/locked" ] && break; sleep 0.05; done
big=$(head -c 3000 /dev/zero | tr '\0' v)
for i in $(seq 1 40); do
	XENSTORED_PATH=$dir/socket xenstore-write "/bench/resync/$i" "$big" ||
	    die "write $i"
done
wait "$locker"
XENSTORED_PATH=$dir/socket xenstore-write /bench/resync/after 1 ||
    die "write after"
for i in $(seq 1 1200); do
	grep -q "the store written whole again" "$dir/log" && break
	sleep 0.05
done
grep -q "the store written whole again" "$dir/log" ||
    die "the store was not written again"
t_walk=$(sed -n 's/.*written again at generation .* (\([0-9.]*\) s).*/\1/p' \
    "$dir/log" | tail -n 1)
t_writer=$(python3 - "$dir/log" <<'PY'
import re, sys
from datetime import datetime
def at(pat):
    for line in open(sys.argv[1]):
        if pat in line:
            return datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
a, b = at("is written again at generation"), at("the store written whole again")
print("%.3f" % (b - a).total_seconds())
PY
)
nodes_resync=$(count)
kill -9 "$(cat "$dir/job")"
sleep 0.2
start "$dir" --db "$dir/x.db" >/dev/null || die "no restart after the rewrite"
nodes_after=$(count)
stop "$dir"
say "rewrite: the loop's walk ${t_walk}s, the writer's transaction" \
    "${t_writer}s; nodes $nodes_resync, after kill -9 $nodes_after"

report() {
	echo
	echo "## Store history and restart ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "\`bench/history-bench.sh $ARGS\` (medians of $REPS repetitions," \
	    "history off and on alternating; a shared 2-core VM$([ "$PIN" = 1 ] &&
	    echo "; the throughput with the daemon pinned to CPU 0 and" \
	    "xsbench to CPU 1")):"
	echo
	cat "$table"
	echo
	if [ "$BURN" = 1 ]; then
		echo "- Each op and client count ran on a daemon of its own." \
		    "The writer column is the writer thread's CPU over that" \
		    "run (median); the burner took as much, in 7 ms" \
		    "periods, beside the daemon without a database."
	fi
	echo "- The writer thread's CPU per commit: $(sed -n \
	    's/^PERCOMMIT //p' "$RAW" | sort -n | awk '{ v[NR] = $1 } END {
	    print v[int((NR + 1) / 2)] }') µs (median over the daemons with" \
	    "history on; its ticks over \`store-durable-generation\`)."
	echo "- Database growth: $growth MiB per million single-node commits" \
	    "($done_ops commits measured)."
	echo "- The whole store written again after records were given up" \
	    "($nodes_resync nodes): the event loop's walk ${t_walk} s, the" \
	    "writer's transaction ${t_writer} s (from the daemon's log);" \
	    "after a kill -9, $nodes_after nodes."
	echo "- Restart with $nodes_before nodes (database $db_bytes bytes):" \
	    "${t_clean} s after a clean stop, ${t_kill} s after kill -9" \
	    "(start to socket ready; nodes after: $nodes_clean, $nodes_kill)."
}
report
[ "$APPEND" = 1 ] && report >>"$RESULTS"
exit 0
