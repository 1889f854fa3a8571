# Shell helpers the benchmark scripts share for reading xsbench's and
# bootstorm's "RESULT key=value ..." lines; sourced, not run.

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
