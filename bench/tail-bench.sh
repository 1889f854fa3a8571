#!/bin/bash
# xsconsole-tail on a big database (issue 5): 10,000 incarnations and
# 10 GiB of raw console text, written by bench/tail-bench (spread over the
# file as a busy host spreads them, with each domain's device handshake in
# the store history). Times, over -k random domains each, the median and
# the worst of:
#   xsconsole-tail -n 100 DOMID          the last 100 lines
#   xsconsole-tail -n 100 NAME           the same, by name
#   xsconsole-tail --store -n 100 DOMID  with the store changes interleaved
#   xsconsole-tail --list DOMID
# Target: under 100 ms each.
#
# usage: bench/tail-bench.sh [-n] [-d DB] [-i N] [-m MiB] [-k runs]
#   -n  print only, do not append to bench/RESULTS.md
#   -d  the database (default /tmp/tail-bench.db; kept and reused if it
#       exists, as writing 10 GiB takes minutes)
#   -i, -m  incarnations and MiB each (default 10000 and 1)
#   -k  domains timed (default 50)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
RESULTS=$here/RESULTS.md
DB=/tmp/tail-bench.db INC=10000 MIB=1 RUNS=50 APPEND=1
ARGS="$*"
while getopts "d:i:k:m:n" opt; do
	case "$opt" in
	d) DB=$OPTARG ;;
	i) INC=$OPTARG ;;
	k) RUNS=$OPTARG ;;
	m) MIB=$OPTARG ;;
	n) APPEND=0 ;;
	*) sed -n '/^# usage/,/^#   -k/p' "$0" >&2; exit 2 ;;
	esac
done
say() { echo "tail-bench: $*" >&2; }

make -C "$top" -s bench/tail-bench xsconsole-tail >/dev/null || exit 1
TAIL=$(mktemp /tmp/xsconsole-tail.XXXXXX)
cp "$top/xsconsole-tail" "$TAIL" && chmod +x "$TAIL"
trap 'rm -f "$TAIL"' EXIT

if [ ! -s "$DB" ]; then
	say "writing $DB: $INC incarnations x $MIB MiB"
	t0=$(date +%s)
	"$top/bench/tail-bench" -d "$DB" -i "$INC" -m "$MIB" || exit 1
	say "written in $(( $(date +%s) - t0 )) s"
fi
dbsize=$(du -b --apparent-size "$DB" | cut -f1)
raw=$(python3 -c "import sqlite3; c = sqlite3.connect('file:$DB?mode=ro', uri=True); print(c.execute('select sum(bytes), count(*) from incarnation').fetchone())")
say "database: $dbsize bytes; (raw bytes, incarnations) = $raw"

# ms DESC CMD...: run once, print the wall milliseconds.
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || say "failed: $*"
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 ))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
worst() { sort -n | tail -n 1; }

: >/tmp/tail-bench.times
for k in $(seq 1 "$RUNS"); do
	d=$(( (RANDOM * 32768 + RANDOM) % INC + 1 ))
	echo "n100 $(ms "$TAIL" --db "$DB" -n 100 "$d")"
	echo "name $(ms "$TAIL" --db "$DB" -n 100 "guest$d")"
	echo "store $(ms "$TAIL" --db "$DB" --store -n 100 "$d")"
	echo "list $(ms "$TAIL" --db "$DB" --list "$d")"
done >/tmp/tail-bench.times

table() {
	echo "| command | median ms | worst ms |"
	echo "|---|---|---|"
	for what in "n100:xsconsole-tail -n 100 DOMID" \
	    "name:xsconsole-tail -n 100 NAME" \
	    "store:xsconsole-tail --store -n 100 DOMID" \
	    "list:xsconsole-tail --list DOMID"; do
		key=${what%%:*}
		m=$(awk -v k="$key" '$1 == k { print $2 / 1000 }' /tmp/tail-bench.times | median)
		w=$(awk -v k="$key" '$1 == k { print $2 / 1000 }' /tmp/tail-bench.times | worst)
		echo "| \`${what#*:}\` | $m | $w |"
	done
}
table
if [ "$APPEND" = 1 ]; then
	{
		echo
		echo "## xsconsole-tail on a big database ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		echo "\`bench/tail-bench.sh $ARGS\`: $RUNS random domains of $INC;" \
		    "database $dbsize bytes holding (raw bytes, incarnations) =" \
		    "$raw; wall time per command, process start included" \
		    "(a shared 2-core VM):"
		echo
		table
	} >>"$RESULTS"
fi
