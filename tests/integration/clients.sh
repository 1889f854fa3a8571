#!/bin/bash
# Drive the store daemon with Debian's stock clients (xenstore-utils) through
# XENSTORED_PATH, and compare their exact output with what the reference C
# xenstored 4.17 gives.
#
#   XSCONSOLED=path/to/daemon tests/integration/clients.sh
#
# Closes with "N passed, M failed"; exits non-zero on any failure.

# make check may run this with /bin/sh: re-run under bash.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

for c in xenstore-write xenstore-read xenstore-ls xenstore-list xenstore-rm \
	xenstore-chmod xenstore-exists xenstore-watch; do
	if ! command -v "$c" >/dev/null; then
		echo "SKIP: $c not found (apt-get install xenstore-utils)"
		exit 77
	fi
done

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-clients.XXXXXX") || exit 99
watch_pid=

# Stop what is still running and remove the scratch directory.
cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

if ! xs_start "$xs_tmp/d"; then
	xs_fail "daemon starts"
	xs_summary
	exit 1
fi
xs_pass "daemon starts"

# --- write and read -------------------------------------------------------

check "write one key" 0 "" xenstore-write /t/a hello
check "read it back" 0 "hello" xenstore-read /t/a
# More than one key: the client wraps the writes in a transaction.
check "write several keys" 0 "" \
	xenstore-write /t/b 1 /t/c/d "two words"
check "read several keys" 0 "1
two words" xenstore-read /t/b /t/c/d
check "read -p prefixes the path" 0 "/t/a: hello
/t/b: 1" xenstore-read -p /t/a /t/b
check_exact "missing parent created empty" 0 $'\n' xenstore-read /t/c
# The client unescapes \n and \\ on write and escapes them on read.
check "write escaped value" 0 "" xenstore-write /t/esc 'a\nb\\c' /t/empty ""
check "read escaped value" 0 'a\nb\\c' xenstore-read /t/esc
check_exact "read -R gives the raw bytes" 0 'a
b\c' xenstore-read -R /t/esc
check_exact "read empty value" 0 $'\n' xenstore-read /t/empty
check "write a 100-byte value" 0 "" \
	xenstore-write /t/long "$(printf 'x%.0s' $(seq 1 100))"
check "read the 100-byte value" 0 "$(printf 'x%.0s' $(seq 1 100))" \
	xenstore-read /t/long
check "overwrite keeps position" 0 "" xenstore-write /t/a again
check "read missing key fails" 1 "" xenstore-read /t/missing
check "relative path is under /local/domain/0" 0 "" \
	xenstore-write relkey relval
check "relative key read absolutely" 0 "relval" \
	xenstore-read /local/domain/0/relkey

# --- ls and list ----------------------------------------------------------

# Children come back in creation order; ls indents one space per level and
# cuts values to its 80-column width when stdout is not a terminal.
check "ls tree" 0 'a = "again"
b = "1"
c = ""
 d = "two words"
esc = "a\nb\\c"
empty = ""
long = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\..."' \
	xenstore-ls /t
check "ls -f full paths" 0 "/t/a = \"again\"
/t/b = \"1\"
/t/c = \"\"
/t/c/d = \"two words\"
/t/esc = \"a\\nb\\\\c\"
/t/empty = \"\"
/t/long = \"$(printf 'x%.0s' $(seq 1 100))\"" \
	xenstore-ls -f /t
check "ls of a subtree" 0 'd = "two words"' xenstore-ls /t/c
check "ls of a missing node fails" 1 "" xenstore-ls /t/missing
check "list" 0 "a
b
c
esc
empty
long" xenstore-list /t
check "list -p" 0 "/t/c/d" xenstore-list -p /t/c
check "list of a leaf is empty" 0 "" xenstore-list /t/a

# --- chmod and permissions ------------------------------------------------

check "ls -p shows inherited perms" 0 \
'a = "again"  . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
b = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
c = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 d = "two words" . . . . . . . . . . . . . . . . . . . . . .  (n0)' \
	bash -c 'xenstore-ls -p /t | head -n 4'
check "chmod one node" 0 "" xenstore-chmod /t/a b0 r1 w2
check "chmod -r a subtree" 0 "" xenstore-chmod -r /t/c r0 b3
check "ls -p reads the perms back" 0 \
'a = "again"  . . . . . . . . . . . . . . . . . . . . . . . .  (b0,r1,w2)
b = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
c = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (r0,b3)
 d = "two words" . . . . . . . . . . . . . . . . . . . . . .  (r0,b3)' \
	bash -c 'xenstore-ls -p /t | head -n 4'
check "new child inherits parent perms" 0 "" xenstore-write /t/c/e x
check "ls -p of inherited child" 0 \
'd = "two words"  . . . . . . . . . . . . . . . . . . . . . .  (r0,b3)
e = "x"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (r0,b3)' \
	xenstore-ls -p /t/c
check "chmod of a missing node fails" 1 "" xenstore-chmod /t/missing n0

# --- exists and rm --------------------------------------------------------

check "exists: present" 0 "" xenstore-exists /t/a
check "exists: missing" 1 "" xenstore-exists /t/zz
check "exists: all of several" 0 "" xenstore-exists /t/a /t/c/d
check "exists: one of several missing" 1 "" xenstore-exists /t/a /t/zz
check "rm a subtree" 0 "" xenstore-rm /t/c
check "exists: removed root" 1 "" xenstore-exists /t/c
check "exists: removed child" 1 "" xenstore-exists /t/c/d
check "list after rm" 0 "a
b
esc
empty
long" xenstore-list /t
check "rm of a missing node with a parent" 0 "" xenstore-rm /t/nonexist
check "rm of a node without a parent fails" 1 "" xenstore-rm /nope/x
check "rm -t removes empty parents" 0 "" \
	bash -c 'xenstore-write /tidy/p/q/r v && xenstore-rm -t /tidy/p/q/r'
check "rm -t left nothing" 1 "" xenstore-exists /tidy
check "rm several keys" 0 "" xenstore-rm /t/esc /t/empty
check "list after rm of several" 0 "a
b
long" xenstore-list /t

# --- a directory too large for one DIRECTORY reply ------------------------

# 2,000 children of 70 bytes: DIRECTORY answers E2BIG and the client falls
# back to DIRECTORY_PART.
big_args=()
: >"$xs_tmp/big.expected"
for i in $(seq -w 1 2000); do
	name=entry-$i-with-a-rather-long-name-to-overflow-the-directory-reply
	big_args+=("/big/$name" "v$i")
	echo "$name" >>"$xs_tmp/big.expected"
done
check "write 2,000 long-named keys" 0 "" xenstore-write "${big_args[@]}"
check "list returns all 2,000 in order" 0 "$(cat "$xs_tmp/big.expected")" \
	xenstore-list /big
check "read one of them" 0 "v1234" \
	xenstore-read /big/entry-1234-with-a-rather-long-name-to-overflow-the-directory-reply
check "ls -f walks the large directory" 0 "2000" \
	bash -c 'xenstore-ls -f /big | grep -c "^/big/entry-[0-9]*-with-a-rather-long-name-to-overflow-the-directory-reply = \"v[0-9]*\"$"'
check "rm the large directory" 0 "" xenstore-rm /big
check "large directory gone" 1 "" xenstore-exists /big

# --- watch ----------------------------------------------------------------

# wait_lines FILE N: wait up to 5 s until FILE has at least N lines.
wait_lines() {
	local i
	for i in $(seq 1 100); do
		[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

check "prepare watched tree" 0 "" xenstore-write /w/old x
: >"$xs_tmp/watch.out"
timeout "$XS_TIMEOUT" xenstore-watch -n 6 /w >"$xs_tmp/watch.out" \
	2>"$xs_tmp/watch.err" &
watch_pid=$!

# Each step waits for its event, so the order is the order of the changes.
watch_ok=1
wait_lines "$xs_tmp/watch.out" 1 || watch_ok=0
xs_run xenstore-write /w/a 1 && wait_lines "$xs_tmp/watch.out" 2 || watch_ok=0
xs_run xenstore-write /w/b/c 2 && wait_lines "$xs_tmp/watch.out" 3 || watch_ok=0
# Siblings that share the prefix but are not below /w must not fire.
xs_run xenstore-write /wx 3 /w2/y 4 || watch_ok=0
xs_run xenstore-rm /w/a && wait_lines "$xs_tmp/watch.out" 4 || watch_ok=0
xs_run xenstore-write /w 5 && wait_lines "$xs_tmp/watch.out" 5 || watch_ok=0
xs_run xenstore-rm /w/b && wait_lines "$xs_tmp/watch.out" 6 || watch_ok=0
wait "$watch_pid"
watch_rc=$?
watch_pid=
if [ "$watch_ok" = 1 ] && [ "$watch_rc" = 0 ]; then
	xs_pass "xenstore-watch -n 6 ran to its count"
else
	xs_fail "xenstore-watch -n 6 ran to its count" \
		"exit status $watch_rc, all events seen in time: $watch_ok"
fi
check "watch events in order" 0 "/w
/w/a
/w/b/c
/w/a
/w
/w/b" cat "$xs_tmp/watch.out"

# A relative watch reports relative paths.
: >"$xs_tmp/watch.out"
timeout "$XS_TIMEOUT" xenstore-watch -n 2 relw >"$xs_tmp/watch.out" \
	2>"$xs_tmp/watch.err" &
watch_pid=$!
watch_ok=1
wait_lines "$xs_tmp/watch.out" 1 || watch_ok=0
xs_run xenstore-write /local/domain/0/relw/k v && \
	wait_lines "$xs_tmp/watch.out" 2 || watch_ok=0
wait "$watch_pid"
watch_rc=$?
watch_pid=
if [ "$watch_ok" = 1 ] && [ "$watch_rc" = 0 ]; then
	xs_pass "relative xenstore-watch ran to its count"
else
	xs_fail "relative xenstore-watch ran to its count" \
		"exit status $watch_rc, all events seen in time: $watch_ok"
fi
check "relative watch events" 0 "relw
relw/k" cat "$xs_tmp/watch.out"

# --- the daemon still serves, then stops cleanly --------------------------

check "daemon still answers" 0 "1" xenstore-read /t/b
if xs_stop "$xs_tmp/d"; then
	xs_pass "daemon exits 0 on SIGTERM"
else
	xs_fail "daemon exits 0 on SIGTERM"
fi

xs_summary
