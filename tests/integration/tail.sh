#!/bin/bash
# xsconsole-tail against console logs written through db/'s writer API
# by tests/db_writer_tool: exact output for -n, -t, by name, -i, -l,
# binary bytes and lines split across chunks; the error messages for an
# unknown domain and a missing database; -f printing lines as they are
# committed (within 1 s), and following an incarnation's end into the
# next incarnation of the same domain.
#
#   top_builddir=. tests/integration/tail.sh
#
# Closes with "N passed, M failed"; exits non-zero on any failure.

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
b=${top_builddir:-$PWD}
TAIL=$b/xsconsole-tail
TOOL=$b/tests/db_writer_tool
for p in "$TAIL" "$TOOL"; do
	[ -x "$p" ] || { echo "FAIL: $p is not executable (make check)"; exit 1; }
done
export TZ=UTC
unset XSC_CONSOLE_DB

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-tail.XXXXXX") || exit 99
tail_pid=
tool_pid=
cleanup() {
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	exec 3>&- 2>/dev/null
	[ -n "$tool_pid" ] && wait "$tool_pid" 2>/dev/null
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

# Times (ns) and how -t prints them.
T1=1700000000123000000	# 2023-11-14T22:13:20.123+00:00
T2=1700000001000000000	# 2023-11-14T22:13:21.000+00:00
T3=1700000002500000000	# 2023-11-14T22:13:22.500+00:00
T4=1700000003999000000	# 2023-11-14T22:13:23.999+00:00

# A finished log: 64-byte chunks, so lines are split across chunks.
db=$xs_tmp/var/console.db
"$TOOL" -c 64 "$db" >"$xs_tmp/tool1.out" <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 5 first line\n
append 1 $T2 6 second line, longer than a chunk of sixty-four bytes: it is split\n
append 1 $T3 7 third\nfourth\nfif
append 1 $T4 8 th\n
append 1 $T4 9 no newline yet
begin 9 11111111-0000-0000-0000-000000000009 bin $T1
append 2 $T1 1 \x00\x01\xff\x7f\r\n\x1b[0m\x00
dropped 2 77 $T2 2
end 2 $T3
begin 9 22222222-0000-0000-0000-000000000009 bin $T4
append 3 $T4 3 reborn\n
EOF
check "writer tool" 0 "$(printf '1\n2\n3')" cat "$xs_tmp/tool1.out"

all='first line
second line, longer than a chunk of sixty-four bytes: it is split
third
fourth
fifth
no newline yet'
check_exact "last 10 lines (all of them)" 0 "$all" "$TAIL" --db "$db" 7
check_exact "-n 2: the partial last line counts" 0 \
	"$(printf 'fifth\nno newline yet')" "$TAIL" --db "$db" -n 2 7
check_exact "-n 5: a line split across chunks, joined" 0 \
	"${all#*$'\n'}" "$TAIL" --db "$db" -n 5 7
check_exact "--lines 0" 0 "" "$TAIL" --db "$db" --lines 0 7
check_exact "by name" 0 "$(printf 'fifth\nno newline yet')" \
	"$TAIL" --db "$db" -n 2 web
check_exact "-t: capture time of each line's first byte" 0 \
"2023-11-14T22:13:20.123+00:00 first line
2023-11-14T22:13:21.000+00:00 second line, longer than a chunk of sixty-four bytes: it is split
2023-11-14T22:13:22.500+00:00 third
2023-11-14T22:13:22.500+00:00 fourth
2023-11-14T22:13:22.500+00:00 fifth
2023-11-14T22:13:23.999+00:00 no newline yet" "$TAIL" --db "$db" -t 7
check_exact "--timestamps, local time" 0 \
	"2023-11-14T23:13:23.999+01:00 no newline yet" \
	env TZ=Europe/Paris "$TAIL" --db "$db" --timestamps -n 1 7
XSC_CONSOLE_DB=$db check_exact "XSC_CONSOLE_DB" 0 "no newline yet" \
	"$TAIL" -n 1 7

# Raw bytes (NUL, escape sequences, CR) come out as written.
want=$(printf '\000\001\377\177\r\n\033[0m\000\n[xsconsoled: 77 bytes dropped]\n' |
	od -An -c)
check "binary bytes, dropped marker (old incarnation, -i -1)" 0 "$want" \
	bash -c '"$0" --db "$1" -i -1 9 | od -An -c' "$TAIL" "$db"
check "-i ID" 0 "$want" bash -c '"$0" --db "$1" -i 2 9 | od -An -c' \
	"$TAIL" "$db"
check "the newest incarnation by default" 0 "reborn" "$TAIL" --db "$db" 9
check "-l" 0 "$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s\n' ID DOMID NAME \
	UUID 'FIRST SEEN' GONE BYTES \
	3 9 bin 22222222-0000-0000-0000-000000000009 \
	2023-11-14T22:13:23.999+00:00 - 7 \
	2 9 bin 11111111-0000-0000-0000-000000000009 \
	2023-11-14T22:13:20.123+00:00 2023-11-14T22:13:22.500+00:00 43)" \
	"$TAIL" --db "$db" -l 9

# Errors: status 1 and a message saying what is wrong.
check "unknown domain" 1 \
	"xsconsole-tail: no console log for domain 8 in $db" \
	bash -c '"$0" --db "$1" 8 2>&1' "$TAIL" "$db"
check "unknown name" 1 \
	"xsconsole-tail: no console log for domain nosuch in $db" \
	bash -c '"$0" --db "$1" nosuch 2>&1' "$TAIL" "$db"
check "missing database" 1 \
	"xsconsole-tail: $xs_tmp/none.db: no such file; is xsconsoled running? (--db)" \
	bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$xs_tmp/none.db"
check "missing database, from XSC_CONSOLE_DB" 1 \
	"xsconsole-tail: $xs_tmp/env.db: no such file; is xsconsoled running? (--db)" \
	bash -c 'XSC_CONSOLE_DB=$1 "$0" 7 2>&1' "$TAIL" "$xs_tmp/env.db"
echo "not a database at all, really not, and long enough for a header" \
	>"$xs_tmp/junk.db"
check "not our database" 1 \
	"xsconsole-tail: $xs_tmp/junk.db: not an xsconsoled console database (not an SQLite database)" \
	bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$xs_tmp/junk.db"
check "no such incarnation" 1 \
	"xsconsole-tail: no incarnation 1 of domain 9 in $db" \
	bash -c '"$0" --db "$1" -i 1 9 2>&1' "$TAIL" "$db"

# Wait up to 1 s for FILE to hold STRING.
wait_for() {
	local i

	for i in $(seq 1 20); do
		grep -qF -- "$2" "$1" && return 0
		sleep 0.05
	done
	return 1
}

# check_within NAME FILE STRING: pass if FILE holds STRING within 1 s.
check_within() {
	local start=$(date +%s%N)

	if wait_for "$2" "$3"; then
		xs_pass "$1 ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
	else
		xs_fail "$1" "no \"$3\" in $2 after 1 s:" "$(cat "$2")"
	fi
}

# -f against a live writer (flush 100 ms, as the daemon's default).
live=$xs_tmp/live.db
mkfifo "$xs_tmp/cmd"
"$TOOL" -F 100 "$live" <"$xs_tmp/cmd" >"$xs_tmp/tool2.out" 2>&1 &
tool_pid=$!
exec 3>"$xs_tmp/cmd"
echo "begin 3 33333333-0000-0000-0000-000000000003 follow $T1" >&3
echo "append 1 $T1 1 before\npartial " >&3
echo "flush" >&3
wait_for "$xs_tmp/tool2.out" flushed || xs_fail "live writer" "$(cat "$xs_tmp/tool2.out")"
"$TAIL" --db "$live" -f 3 >"$xs_tmp/follow.out" 2>&1 &
tail_pid=$!
check_within "-f prints what is there" "$xs_tmp/follow.out" "partial "
echo "append 1 $T2 2 line\nafter one\n" >&3
check_within "-f: an appended line within 1 s" "$xs_tmp/follow.out" "after one"
echo "end 1 $T3" >&3
check_within "-f: the incarnation's end" "$xs_tmp/follow.out" \
	"-- incarnation 1 of domain 3 (follow) ended at"
echo "begin 3 44444444-0000-0000-0000-000000000003 follow2 $T4" >&3
echo "append 2 $T4 3 new life\n" >&3
check_within "-f: the next incarnation of the domain" "$xs_tmp/follow.out" \
	"new life"
kill "$tail_pid"
wait "$tail_pid" 2>/dev/null
tail_pid=
check_exact "-f: the whole output" 0 "before
partial line
after one
-- incarnation 1 of domain 3 (follow) ended at 2023-11-14T22:13:22.500+00:00 --
-- incarnation 2 of domain 3 (follow2) began at 2023-11-14T22:13:23.999+00:00 --
new life
" cat "$xs_tmp/follow.out"
exec 3>&-
wait "$tool_pid"
check "live writer exits cleanly" 0 "" test $? -eq 0
tool_pid=

# After the writer is gone, the log still reads.
check "after the writer stopped" 0 "new life" "$TAIL" --db "$live" 3

xs_summary
