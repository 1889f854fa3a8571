# Shell helpers the benchmark scripts share (bootstorm.sh, store-bench.sh):
# reading xsbench's and bootstorm's "RESULT key=value ..." lines, notes
# for the results file, processes; sourced, not run.

# Median of the numbers on stdin ("-" if none; the mean of the two middle
# ones for an even count).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Value of key=value field $1 in the RESULT lines on stdin, one a line.
field() {
	tr ' ' '\n' | sed -n "s/^$1=//p"
}

# Note something odd for the results file.
note() {
	say "$*"
	echo "- $*" >>"$NOTES"
}

# True if the pid is a live process (a zombie counts as dead).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# Format a number with thousands separators.
thousands() {
	echo "$1" | awk '{ n = sprintf("%.0f", $1); s = "";
		while (length(n) > 3) { s = "," substr(n, length(n) - 2) s;
			n = substr(n, 1, length(n) - 3) }
		print n s }'
}
