# Shell helpers for the integration tests: start and stop a store daemon,
# run bounded client commands, compare exact output, count results.
#
# The daemon is $XSCONSOLED (default: ./xsconsoled in the current, i.e. top
# build, directory), started as
#   $XSCONSOLED -F --socket DIR/socket --pid-file DIR/pid \
#       --log-file DIR/log --log-level debug
# tests/peer-cxenstored.sh accepts the same options and runs Debian's C
# xenstored 4.17, the reference: XSCONSOLED=tests/peer-cxenstored.sh.

: "${XSCONSOLED:=$PWD/xsconsoled}"
: "${XS_TIMEOUT:=10}"

xs_passed=0
xs_failed=0

# Print a message on stderr.
xs_log() {
	echo "$*" >&2
}

# xenstore-ls -f -p output (and xsc-history -p's, the same) in one form:
# "path = value (perms)" a line.
live_form() {
	python3 -c '
import re, sys
for line in sys.stdin:
    m = re.match(r"^(\S+) = \"(.*)\"\s+\((.*)\)$", line.rstrip("\n"))
    if not m:
        sys.exit("unparsed: " + line)
    print(m.group(1), "=", m.group(2), "(" + m.group(3) + ")")'
}

# Start the daemon with its files in DIR, and any further options given;
# export XENSTORED_PATH.
xs_start() {
	local dir=$1 i pid
	shift

	if [ ! -x "$XSCONSOLED" ]; then
		xs_log "xs_start: XSCONSOLED=$XSCONSOLED is not executable"
		return 1
	fi
	mkdir -p "$dir" || return 1
	rm -f "$dir/socket" "$dir/pid"
	"$XSCONSOLED" -F --socket "$dir/socket" --pid-file "$dir/pid" \
		--log-file "$dir/log" --log-level debug "$@" \
		</dev/null >>"$dir/stdio" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/.xs_job"

	# Wait up to 5 s for the socket; give up early if the daemon died.
	for i in $(seq 1 100); do
		if [ -S "$dir/socket" ]; then
			export XENSTORED_PATH=$dir/socket
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			xs_log "xs_start: daemon exited with status $? before" \
				"creating $dir/socket"
			tail -n 20 "$dir/stdio" "$dir/log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
	xs_log "xs_start: no socket at $dir/socket after 5 s"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 1
}

# Stop the daemon started by xs_start DIR; fail unless it exits 0 within 5 s.
xs_stop() {
	local dir=$1 i pid rc

	[ -f "$dir/.xs_job" ] || { xs_log "xs_stop: nothing started in $dir"; return 1; }
	pid=$(cat "$dir/.xs_job")
	rm -f "$dir/.xs_job"
	if ! kill -TERM "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		xs_log "xs_stop: daemon $pid was already gone (status $?)"
		return 1
	fi
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		xs_log "xs_stop: daemon $pid ignored SIGTERM for 5 s; killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 1
	fi
	wait "$pid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		xs_log "xs_stop: daemon exited with status $rc"
		return 1
	fi
	return 0
}

# xs_stat NAME: the daemon's statistic NAME (docs/config.md).
xs_stat() {
	xs_run xenstore-read "/tool/xsconsoled/stats/$1"
}

# xs_wait CMD...: run CMD (output discarded) every 0.05 s until it
# succeeds, for up to $XS_WAIT seconds (default 30, by the clock); status
# 1 and a message on stderr if it never does. For what a check needs to
# have happened first on a slow machine: a check after it must still
# fail on its own when the condition never came.
xs_wait() {
	local end=$((SECONDS + ${XS_WAIT:-30}))

	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	xs_log "xs_wait: still not true after ${XS_WAIT:-30} s: $*"
	return 1
}

# xs_store_durable: every store commit is in the database. The durable
# generation is read first: equal to the generation read after it, no
# commit made before that first read can be missing.
xs_store_durable() {
	local d

	d=$(xs_stat store-durable-generation) || return 1
	[ "$d" = "$(xs_stat generation)" ]
}

# xs_durable: all the daemon took is in its database: every store commit
# and every console byte drained from the rings (none pending, none held
# for a retry); a guest's bytes are drained once xsc-sim guest has
# exited.
xs_durable() {
	xs_store_durable && [ "$(xs_stat console-bytes-pending)" = 0 ] &&
	    [ "$(xs_stat console-bytes-held)" = 0 ]
}

# Run a client command with a time limit.
xs_run() {
	timeout "$XS_TIMEOUT" "$@"
}

# Record a passed check.
xs_pass() {
	xs_passed=$((xs_passed + 1))
	echo "PASS: $1"
}

# Record a failed check with the reason on the following lines.
xs_fail() {
	local name=$1
	shift
	xs_failed=$((xs_failed + 1))
	echo "FAIL: $name"
	[ $# -gt 0 ] && printf '  %s\n' "$@"
}

# check NAME RC EXPECTED CMD...: run CMD (bounded); pass when its exit
# status is RC and its standard output is EXPECTED plus a newline (or
# nothing at all when EXPECTED is empty).  Needs $xs_tmp, a scratch dir.
check() {
	local want=$3
	[ -n "$want" ] && want="$want"$'\n'
	check_exact "$1" "$2" "$want" "${@:4}"
}

# check_exact NAME RC EXPECTED CMD...: as check, but the output must be
# EXPECTED byte for byte (no newline added).
check_exact() {
	local name=$1 want_rc=$2 want=$3 out rc
	shift 3
	out=$(xs_run "$@" 2>"$xs_tmp/stderr"; echo "rc=$?")
	rc=${out##*rc=}
	out=${out%rc=*}
	if [ "$rc" = "$want_rc" ] && [ "$out" = "$want" ]; then
		xs_pass "$name"
		return 0
	fi
	xs_fail "$name" "command: $*" "exit status: $rc (expected $want_rc)"
	if [ "$out" != "$want" ]; then
		echo "  output differs (--- expected, +++ got):"
		diff -u <(printf '%s' "$want") <(printf '%s' "$out") |
			tail -n +3 | head -n 40 | sed 's/^/  /'
	fi
	[ -s "$xs_tmp/stderr" ] && sed 's/^/  stderr: /' "$xs_tmp/stderr" | head -n 5
	return 1
}

# Print the closing line and exit non-zero on any failure.
xs_summary() {
	echo "$xs_passed passed, $xs_failed failed"
	[ "$xs_failed" -eq 0 ]
}
