#!/bin/bash
# How long store commits wait to become durable while the periodic
# snapshot of a big store is taken (issue 5: a host of 10,000 guests
# holds about 1.5 million nodes). The daemon with N nodes (xsbench
# --fill), history/snapshot-interval-seconds at its minimum (60): once
# the interval has passed, a client writes a node every 20 ms for 6 s
# (the first write makes the snapshot due) and reads the database's
# durable generation (hstate.last_gen) as it goes. Printed: for each
# write, the time until the database had it; the median and the worst,
# and the snapshot's own line from the daemon's log.
#
# usage: bench/snapshot-bench.sh [-n] [-N nodes] [-x other-xsconsoled]
#   -n  print only, do not append to bench/RESULTS.md
#   -N  nodes (default 1500000)
#   -x  also run another build (say the commit before) in the same run,
#       for the ratio
# Environment: XSCONSOLED (default ./xsconsoled), CC (default gcc).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RESULTS=$here/RESULTS.md
CC=${CC:-gcc}
XSCONSOLED=${XSCONSOLED:-$top/xsconsoled}
NODES=1500000 APPEND=1 OTHER=
ARGS="$*"
while getopts "nN:x:" opt; do
	case "$opt" in
	n) APPEND=0 ;;
	N) NODES=$OPTARG ;;
	x) OTHER=$OPTARG ;;
	*) sed -n '/^# usage/,/^# Environment/p' "$0" >&2; exit 2 ;;
	esac
done
say() { echo "snapshot-bench: $*" >&2; }
die() { say "$*"; exit 1; }
command -v python3 >/dev/null || die "python3 is needed"

WORK=$(mktemp -d /tmp/snapshot-bench.XXXXXX)
trap 'pkill -f "$WORK/" 2>/dev/null; rm -rf "$WORK"' EXIT
XSB=$WORK/xsbench
"$CC" -O2 -Wall -Wextra -Werror -pthread -o "$XSB" "$here/xsbench.c" ||
	die "cannot build xsbench"

# run NAME BINARY: prints "median_ms worst_ms writes" and the log line.
run() {
	local name=$1 bin=$2 dir=$WORK/$1 i t0
	mkdir -p "$dir"
	cp "$bin" "$dir/xsconsoled" || die "no $bin"
	"$dir/xsconsoled" -F --socket "$dir/socket" --pid-file "$dir/pid" \
	    --log-file "$dir/log" --log-level debug --db "$dir/x.db" \
	    --set history/snapshot-interval-seconds=60 </dev/null \
	    >"$dir/stdio" 2>&1 &
	echo $! >"$dir/job"
	for i in $(seq 1 500); do [ -S "$dir/socket" ] && break; sleep 0.01; done
	t0=$(date +%s)
	say "$name: filling $NODES nodes"
	"$XSB" -s "$dir/socket" -t fill -c 1 -d 1 --fill "$NODES" -o read \
	    >/dev/null 2>&1 || die "fill failed"
	# The interval counts from the first commit.
	while [ $(($(date +%s) - t0)) -lt 62 ]; do sleep 1; done
	say "$name: writing while the snapshot is taken"
	XENSTORED_PATH=$dir/socket python3 - "$dir/x.db" <<'PY'
import os, sqlite3, subprocess, sys, time
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
def durable():
    return db.execute("SELECT last_gen FROM hstate").fetchone()[0]
def gen():
    return int(subprocess.run(["xenstore-read",
        "/tool/xsconsoled/stats/generation"], capture_output=True,
        text=True).stdout)
pending, waits, end = [], [], time.time() + 6
i = 0
while time.time() < end or pending:
    now = time.time()
    if now < end:
        subprocess.run(["xenstore-write", "/snapbench/x", str(i)])
        i += 1
        pending.append((now, gen()))
    d = durable()
    while pending and pending[0][1] <= d:
        waits.append(time.time() - pending.pop(0)[0])
    if time.time() > end + 30:
        sys.exit("commits not durable after 30 s")
    time.sleep(0.02)
waits.sort()
print("%.0f %.0f %d" % (1000 * waits[len(waits) // 2], 1000 * waits[-1],
                        len(waits)))
PY
	# The line with its time (off the writer), else (a build before)
	# the one without.
	{ grep "snapshot at generation .* nodes in" "$dir/log" ||
	    grep "snapshot at generation" "$dir/log"; } | head -n 1 |
	    sed 's/^.*: snapshot at/snapshot at/'
	kill "$(cat "$dir/job")"
	wait "$(cat "$dir/job")" 2>/dev/null
}

out=$WORK/out
{
	echo "this $(run this "$XSCONSOLED" | paste -sd'|')"
	[ -n "$OTHER" ] && echo "other $(run other "$OTHER" | paste -sd'|')"
} >"$out"
cat "$out"

row() {	# NAME LABEL
	local l m w n log
	l=$(grep "^$1 " "$out") || return 0
	read -r m w n <<<"$(echo "${l#* }" | cut -d'|' -f1)"
	log=$(echo "$l" | cut -d'|' -f2-)
	echo "| $2 | $n | $m | $w | ${log:-no snapshot line} |"
}
table=$(
	echo "| daemon | writes | median ms until durable | worst ms | the snapshot, from its log |"
	echo "|---|---|---|---|---|"
	row this "\`$(basename "$XSCONSOLED")\`"
	row other "\`$OTHER\`"
)
echo "$table"
if [ "$APPEND" = 1 ]; then
	{
		echo
		echo "## Durability while a snapshot is taken ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		echo "\`bench/snapshot-bench.sh $ARGS\` ($NODES nodes; a write every 20 ms for 6 s once the snapshot is due; a shared 2-core VM):"
		echo
		echo "$table"
	} >>"$RESULTS"
fi
