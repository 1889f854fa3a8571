#!/bin/bash
# xsconsole-tail against console logs written through db/'s writer API
# by tests/db_writer_tool, with known content and capture times: exact
# output for -n (N and +N), -t, by name, --incarnation (id and -N), --all,
# --list, --since/--until (absolute and relative), -g, every -o format
# (json checked by jq and python), a guest's escape sequences made
# harmless and --raw, lines split across chunks; the note where output
# was lost (a chunk missing; the last ones, all), also with -f; every
# error's message and exit status; a database copied elsewhere (also
# with its -wal, where the reader cannot write) and one not readable;
# -f printing a line within 250 ms (measured) and following an
# incarnation's end into the next; then, with the real daemon and
# xsc-sim, a destroyed guest's log by name and -f on a live guest;
# --store.
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
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
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

# With --raw, bytes (NUL, escape sequences, CR) come out as written.
want=$(printf '\000\001\377\177\r\n\033[0m\000\n[xsconsoled: 77 bytes dropped]\n' |
	od -An -c)
check "--raw: binary bytes, dropped marker (old incarnation, -i -1)" 0 "$want" \
	bash -c '"$0" --db "$1" --raw -i -1 9 | od -An -c' "$TAIL" "$db"
check "-i ID" 0 "$want" bash -c '"$0" --db "$1" --raw -i 2 9 | od -An -c' \
	"$TAIL" "$db"
check "the newest incarnation by default" 0 "reborn" "$TAIL" --db "$db" 9
check "-l" 0 "$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s\n' ID DOMID NAME \
	UUID 'FIRST SEEN' GONE BYTES \
	3 9 bin 22222222-0000-0000-0000-000000000009 \
	2023-11-14T22:13:23.999+00:00 - 7 \
	2 9 bin 11111111-0000-0000-0000-000000000009 \
	2023-11-14T22:13:20.123+00:00 2023-11-14T22:13:22.500+00:00 43)" \
	"$TAIL" --db "$db" -l 9

check "escaped by default: C0 in caret notation, bad UTF-8 as \\xNN, CR of CRLF dropped" 0 \
'^@^A\xff^?
^[[0m^@
[xsconsoled: 77 bytes dropped]' "$TAIL" --db "$db" -i -1 9
check_exact "-n +5: from the fifth line on" 0 \
	"$(printf 'fifth\nno newline yet')" "$TAIL" --db "$db" -n +5 7
check_exact "--lines +1: all of it" 0 "$all" "$TAIL" --db "$db" --lines +1 7
check "--incarnation -1 (the one before the newest)" 0 \
	"[xsconsoled: 77 bytes dropped]" "$TAIL" --db "$db" -n 1 --incarnation -1 bin
check "--incarnation 0 is the newest" 0 "reborn" \
	"$TAIL" --db "$db" --incarnation 0 9
check "--incarnation ID" 0 "[xsconsoled: 77 bytes dropped]" \
	"$TAIL" --db "$db" -n 1 --incarnation 2 9

# --all: every incarnation, oldest first, each under a header.
hdr2='-- incarnation 2 of domain 9 (bin, 11111111-0000-0000-0000-000000000009): from 2023-11-14T22:13:20.123+00:00 to 2023-11-14T22:13:22.500+00:00 --'
hdr3='-- incarnation 3 of domain 9 (bin, 22222222-0000-0000-0000-000000000009): since 2023-11-14T22:13:23.999+00:00, running --'
check_exact "--all" 0 "$hdr2
^@^A\\xff^?
^[[0m^@
[xsconsoled: 77 bytes dropped]
$hdr3
reborn
" "$TAIL" --db "$db" --all 9
check_exact "--all -n 2: the last 2 lines of all, headers of theirs" 0 "$hdr2
[xsconsoled: 77 bytes dropped]
$hdr3
reborn
" "$TAIL" --db "$db" -a -n 2 bin

# --list, of a domain and of all; json.
list_hdr=$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s' ID DOMID NAME \
	UUID 'FIRST SEEN' GONE BYTES)
row7=$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s' 1 7 web \
	11111111-0000-0000-0000-000000000007 2023-11-14T22:13:20.123+00:00 - 110)
row3=$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s' 3 9 bin \
	22222222-0000-0000-0000-000000000009 2023-11-14T22:13:23.999+00:00 - 7)
row2=$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s' 2 9 bin \
	11111111-0000-0000-0000-000000000009 2023-11-14T22:13:20.123+00:00 \
	2023-11-14T22:13:22.500+00:00 43)
check "--list without a domain: every domain's" 0 "$list_hdr
$row7
$row3
$row2" "$TAIL" --db "$db" --list
# The hypervisor's own console (docs/consoles.md) is a domain too, last.
xen=$xs_tmp/xen.db
"$TOOL" "$xen" >/dev/null <<EOF
begin 32752 00000000-0000-0000-0000-000000000000 xen $T1
append 1 $T1 1 (XEN) Xen version\n
begin 32751 11111111-0000-0000-0000-000000007fef last-guest $T2
begin 1 11111111-0000-0000-0000-000000000001 first-guest $T3
EOF
check "--list without a domain: the hypervisor's console too" 0 "$list_hdr
$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s\n' \
	3 1 first-guest 11111111-0000-0000-0000-000000000001 \
	2023-11-14T22:13:22.500+00:00 - 0 \
	2 32751 last-guest 11111111-0000-0000-0000-000000007fef \
	2023-11-14T22:13:21.000+00:00 - 0 \
	1 32752 xen 00000000-0000-0000-0000-000000000000 \
	2023-11-14T22:13:20.123+00:00 - 18)" "$TAIL" --db "$xen" --list
# NAME as wide as the widest name listed (16 at least), in characters.
long=$xs_tmp/long.db
lname=a-guest-whose-name-is-longer-than-sixteen
"$TOOL" "$long" >/dev/null <<EOF
begin 5 11111111-0000-0000-0000-000000000005 $lname $T1
begin 6 11111111-0000-0000-0000-000000000006 café-ünïcode $T2
EOF
check "--list: a name longer than 16, the columns still line up" 0 \
	"$(printf '%-8s %-5s %-*s %-36s %-29s %-29s %s\n' ID DOMID ${#lname} \
	NAME UUID 'FIRST SEEN' GONE BYTES \
	1 5 ${#lname} $lname 11111111-0000-0000-0000-000000000005 \
	2023-11-14T22:13:20.123+00:00 - 0)
$(printf '%-8s %-5s ' 2 6)café-ünïcode$(printf '%*s' $((${#lname} - 12)) '') \
$(printf '%-36s %-29s %-29s %s' 11111111-0000-0000-0000-000000000006 \
	2023-11-14T22:13:21.000+00:00 - 0)" "$TAIL" --db "$long" --list
# (12 characters in 15 bytes: 4 spaces make 16.)
check "--list of one domain: 16 wide, in characters" 0 "$list_hdr
$(printf '%-8s %-5s ' 2 6)café-ünïcode     $(printf '%-36s %-29s %-29s %s' \
	11111111-0000-0000-0000-000000000006 2023-11-14T22:13:21.000+00:00 - 0)" \
	"$TAIL" --db "$long" --list 6
check "--list -o json" 0 \
'{"incarnation":3,"domid":9,"name":"bin","uuid":"22222222-0000-0000-0000-000000000009","first":1700000003999000,"first_iso":"2023-11-14T22:13:23.999000Z","gone":null,"bytes":7,"kept":17}
{"incarnation":2,"domid":9,"name":"bin","uuid":"11111111-0000-0000-0000-000000000009","first":1700000000123000,"first_iso":"2023-11-14T22:13:20.123000Z","gone":1700000002500000,"gone_iso":"2023-11-14T22:13:22.500000Z","bytes":43,"kept":61}' \
	"$TAIL" --db "$db" --list -o json bin

# --since / --until, absolute (TZ=UTC here).
check_exact "--since DATE TIME" 0 "${all#*$'\n'}" \
	"$TAIL" --db "$db" --since "2023-11-14 22:13:21" 7
check_exact "--until DATE TIME" 0 "first line
second line, longer than a chunk of sixty-four bytes: it is split
" "$TAIL" --db "$db" --until "2023-11-14 22:13:22" 7
check_exact "-S ISO 8601 with T, fraction and Z; -U" 0 "third
fourth
fifth
" "$TAIL" --db "$db" -S 2023-11-14T22:13:22.5Z -U "2023-11-14 22:13:23" 7
check_exact "--since with a UTC offset" 0 "third
fourth
fifth
no newline yet" "$TAIL" --db "$db" --since 2023-11-14T23:13:22+01:00 7
check_exact "--since in local time (TZ=Europe/Paris)" 0 "third
fourth
fifth
no newline yet" env TZ=Europe/Paris "$TAIL" --db "$db" --since "2023-11-14 23:13:22" 7
# A date with a zone and no time, as journalctl takes "2012-11-23 UTC":
# its midnight there (in Auckland the log is on the 15th, in UTC the 14th).
check_exact "--since DATE UTC: midnight in UTC, not here" 0 "" \
	env TZ=Pacific/Auckland "$TAIL" --db "$db" --since "2023-11-15 UTC" 7
check_exact "--until DATE UTC: all of the 14th in UTC" 0 "$all" \
	env TZ=Pacific/Auckland "$TAIL" --db "$db" --until "2023-11-15 UTC" 7
check_exact "--since DATE+offset" 0 "$all" \
	env TZ=Pacific/Auckland "$TAIL" --db "$db" --since "2023-11-14+01:00" 7
check "a T with no time after it is not a time" 2 "xsconsole-tail: --since: not a time: '2023-11-14TZ' (e.g. \"2026-11-23 20:15:00\", 20:15, @1700000000, -5min, \"1h ago\", yesterday)
Try 'xsconsole-tail --help'." bash -c '"$0" --db "$1" --since 2023-11-14TZ 7 2>&1' "$TAIL" "$db"
check_exact "--since @EPOCH --until @EPOCH" 0 "third
fourth
fifth
" "$TAIL" --db "$db" --since @1700000002.5 --until @1700000003 7
check_exact "--since and -n: the last N of those" 0 "fifth
" "$TAIL" --db "$db" --since @1700000002 --until @1700000003 -n 1 7
check_exact "--until HH:MM (today): all of 2023" 0 "$all" \
	"$TAIL" --db "$db" --until 00:00 7
check_exact "--since HH:MM (today): nothing from 2023" 0 "" \
	"$TAIL" --db "$db" --since 00:00 7
check_exact "--since today: nothing from 2023" 0 "" \
	"$TAIL" --db "$db" --since today 7

# --since / --until relative to now: a log with lines at known ages.
now=$(date +%s)
midnight=$((now - now % 86400))		# TZ=UTC
reltimes=$(printf '%s\n' "$((now - 2 * 86400)) two-days-ago" \
	"$((midnight - 86400 + 60)) yesterday-0001" "$midnight today-0000" \
	"$((now - 7200)) two-hours-ago" "$((now - 1800)) half-an-hour-ago" \
	"$((now - 120)) two-minutes-ago" "$((now - 10)) ten-seconds-ago" |
	sort -n)
rel=$xs_tmp/rel.db
{
	echo "begin 20 20202020-0000-0000-0000-000000000020 rel $(( (now - 3 * 86400) * 1000000000 ))"
	g=1
	while read -r ts text; do
		echo "append 1 ${ts}000000000 $g $text\\n"
		g=$((g + 1))
	done <<<"$reltimes"
} | "$TOOL" "$rel" >/dev/null
# The lines captured between LO and HI (epoch s, inclusive).
between() {
	awk -v lo="$1" -v hi="$2" '$1 >= lo && $1 <= hi { print $2 }' <<<"$reltimes"
}
check "--since -5min" 0 "$(between $((now - 300)) $((now + 60)))" \
	"$TAIL" --db "$rel" --since -5min 20
check "--since '1h ago'" 0 "$(between $((now - 3600)) $((now + 60)))" \
	"$TAIL" --db "$rel" --since "1h ago" rel
check "--until '1h ago'" 0 "$(between 0 $((now - 3600)))" \
	"$TAIL" --db "$rel" --until "1h ago" rel
check "--since yesterday --until today" 0 \
	"$(between $((midnight - 86400)) $midnight)" \
	"$TAIL" --db "$rel" --since yesterday --until today rel
check "--since today" 0 "$(between $midnight $((now + 60)))" \
	"$TAIL" --db "$rel" --since today rel
check "--since '1 hour 30 min ago' --until now" 0 \
	"$(between $((now - 5400)) $now)" \
	"$TAIL" --db "$rel" --since "1 hour 30 min ago" --until now rel
check "--until -2d" 0 "$(between 0 $((now - 2 * 86400)))" \
	"$TAIL" --db "$rel" --until -2d rel

# -g: POSIX extended regex; case-insensitive unless the pattern has
# capitals (journalctl's rule), --case-sensitive says otherwise.
check "-g" 0 "first line
fifth" "$TAIL" --db "$db" -g '^f(irst|ifth)' 7
check "-g, lower case pattern: case-insensitive" 0 "second line, longer than a chunk of sixty-four bytes: it is split" \
	"$TAIL" --db "$db" -g 'SIXTY|lonGER' --case-sensitive=no 7
check "-g, a capital: case-sensitive" 0 "" "$TAIL" --db "$db" -g 'Sixty' 7
check "--grep, --case-sensitive" 0 "" "$TAIL" --db "$db" --grep 'FIFTH' --case-sensitive 7
check "--grep lower case matches capitals" 0 "fifth" "$TAIL" --db "$db" --grep 'FIFTH' --case-sensitive=no 7
check "-g with -n: the last matching" 0 "fourth
fifth" "$TAIL" --db "$db" -g 'th$' -n 2 -S @1700000002 -U @1700000002.6 7
check "-g over lines joined across chunks" 0 \
	"second line, longer than a chunk of sixty-four bytes: it is split" \
	"$TAIL" --db "$db" -g 'chunk.*split$' 7

# -o formats.
check_exact "-o cat (the default)" 0 "$(printf 'fifth\nno newline yet')" \
	"$TAIL" --db "$db" -o cat -n 2 7
check_exact "-o short: the unfinished line ends too" 0 "Nov 14 22:13:22 web[7]: fifth
Nov 14 22:13:23 web[7]: no newline yet
" "$TAIL" --db "$db" -o short -n 2 7
check_exact "-o short-precise" 0 "Nov 14 22:13:22.500000 web[7]: fifth
Nov 14 22:13:23.999000 web[7]: no newline yet
" "$TAIL" --db "$db" --output short-precise -n 2 web
check_exact "-o short, local time" 0 "Nov 14 23:13:23 web[7]: no newline yet
" env TZ=Europe/Paris "$TAIL" --db "$db" -o short -n 1 7
check_exact "-o json" 0 \
'{"type":"console","time":1700000002500000,"iso":"2023-11-14T22:13:22.500000Z","domid":7,"name":"web","incarnation":1,"uuid":"11111111-0000-0000-0000-000000000007","gen":7,"text":"fifth"}
{"type":"console","time":1700000003999000,"iso":"2023-11-14T22:13:23.999000Z","domid":7,"name":"web","incarnation":1,"uuid":"11111111-0000-0000-0000-000000000007","gen":9,"text":"no newline yet","partial":true}
' "$TAIL" --db "$db" -o json -n 2 7
check "-o json: valid for jq, control bytes and bad UTF-8 included" 0 \
	'"\u0000\u0001�\u007f\r"
[0,1,255,127,13]
"\u001b[0m\u0000"
null
"[xsconsoled: 77 bytes dropped]"
null
"reborn"
null' bash -c '"$0" --db "$1" -o json --all 9 | jq -c ".text, .text_bytes"' "$TAIL" "$db"

# A guest's terminal escape sequences: window title (OSC), clear screen
# and colours (CSI), bell, C1 CSI in UTF-8 and as a bare byte, DEL, bad
# UTF-8, a bidi override; tabs and good UTF-8 stay.
esc=$xs_tmp/esc.db
"$TOOL" "$esc" >/dev/null <<EOF
begin 12 12121212-0000-0000-0000-000000000012 esc $T1
append 1 $T1 1 \x1b]0;pwned\x07\x1b[2J\x1b[1;31mred\x1b[0m\r\n
append 1 $T2 2 a\x9bb\xc2\x9bc\x7fd\xc3\x28e\xe2\x80\xaef\tg h\xc3\xa9llo \xe2\x9c\x93 \x08\r\n
append 1 $T3 3 cr\rin the middle\r\r\n
EOF
neutral='^[]0;pwned^G^[[2J^[[1;31mred^[[0m
a\x9bb\u009bc^?d\xc3(e\u202ef	g héllo ✓ ^H
cr^Min the middle^M'
check "escape sequences from a guest come out neutralized" 0 "$neutral" \
	"$TAIL" --db "$esc" esc
check "... no ESC, BEL, C1 or bad byte reaches the terminal" 0 0 bash -c \
	'"$0" --db "$1" esc | LC_ALL=C grep -c -P "[\x00-\x08\x0b-\x1f\x7f\x9b]|\xc2[\x80-\x9f]|\xe2\x80\xae"; true' \
	"$TAIL" "$esc"
check "--raw: the bytes as the guest wrote them" 0 \
	"$(printf '\033]0;pwned\007\033[2J\033[1;31mred\033[0m\r\na\233b\302\233c\177d\303(e\342\200\256f\tg h\303\251llo \342\234\223 \010\r\ncr\rin the middle\r\r\n' | od -An -tx1)" \
	bash -c '"$0" --db "$1" --raw esc | od -An -tx1' "$TAIL" "$esc"
check "-o short escapes too" 0 "Nov 14 22:13:20 esc[12]: ^[]0;pwned^G^[[2J^[[1;31mred^[[0m" \
	"$TAIL" --db "$esc" -o short -n 3 esc -g pwned
# -g's capital is one in the locale's character set: É is, in UTF-8.
helloline='a\x9bb\u009bc^?d\xc3(e\u202ef	g héllo ✓ ^H'
check "-g in UTF-8, a non-ASCII capital: case-sensitive" 0 "" \
	env LC_ALL=C.UTF-8 "$TAIL" --db "$esc" -g 'hÉllo' esc
check "-g in UTF-8, no capital: é matches É too" 0 "$helloline" \
	env LC_ALL=C.UTF-8 "$TAIL" --db "$esc" -g 'HÉLLO' --case-sensitive=no esc
check "-o json: every byte escaped, exact bytes kept" 0 "ok" python3 -c '
import json, subprocess, sys
out = subprocess.run([sys.argv[1], "--db", sys.argv[2], "-o", "json", "esc"],
    stdout=subprocess.PIPE, check=True).stdout
want = [b"\x1b]0;pwned\x07\x1b[2J\x1b[1;31mred\x1b[0m\r",
    b"a\x9bb\xc2\x9bc\x7fd\xc3\x28e\xe2\x80\xaef\tg h\xc3\xa9llo \xe2\x9c\x93 \x08\r",
    b"cr\rin the middle\r\r"]
lines = out.split(b"\n")
assert lines[-1] == b"", lines
objs = [json.loads(l) for l in lines[:-1]]
assert all(0x20 <= c < 0x7f or c >= 0x80 for l in lines for c in l[:-1]), "raw control byte"
assert all(0x1b not in l and 0x9b not in l for l in lines)
got = [bytes(o["text_bytes"]) if "text_bytes" in o else o["text"].encode() for o in objs]
assert got == want, got
assert objs[0]["text"] == want[0].decode()
assert objs[1]["text"].count("\ufffd") == 2, objs[1]["text"]
assert [o["domid"] for o in objs] == [12] * 3 and objs[0]["name"] == "esc"
print("ok")' "$TAIL" "$esc"

# Errors: a message saying what is wrong, and the exit status of the
# man page: 1 no such domain/incarnation, 2 usage, 3 no database, 4 not
# readable, 5 not a console log.
check "unknown domain: 1" 1 \
	"xsconsole-tail: no console log for domain '8' (try --list)" \
	bash -c '"$0" --db "$1" 8 2>&1' "$TAIL" "$db"
check "unknown name: 1" 1 \
	"xsconsole-tail: no console log for domain 'web1' (try --list)" \
	bash -c '"$0" --db "$1" web1 2>&1' "$TAIL" "$db"
check "--list of an unknown domain: 1" 1 \
	"xsconsole-tail: no console log for domain 'web1' (try --list)" \
	bash -c '"$0" --db "$1" --list web1 2>&1' "$TAIL" "$db"
check "no such incarnation id: 1" 1 \
	"xsconsole-tail: no incarnation 1 of domain '9' (try --list 9)" \
	bash -c '"$0" --db "$1" -i 1 9 2>&1' "$TAIL" "$db"
check "no such incarnation -N: 1" 1 \
	"xsconsole-tail: no incarnation -2 of domain 'bin': it has 2 (try --list bin)" \
	bash -c '"$0" --db "$1" --incarnation -2 bin 2>&1' "$TAIL" "$db"
check "missing database: 3" 3 \
	"xsconsole-tail: no database at $xs_tmp/none.db; is xsconsoled running? (--db or XSC_CONSOLE_DB)" \
	bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$xs_tmp/none.db"
check "missing database, from XSC_CONSOLE_DB: 3" 3 \
	"xsconsole-tail: no database at $xs_tmp/env.db; is xsconsoled running? (--db or XSC_CONSOLE_DB)" \
	bash -c 'XSC_CONSOLE_DB=$1 "$0" 7 2>&1' "$TAIL" "$xs_tmp/env.db"
mkdir "$xs_tmp/dir.db"
check "a directory given as the database: 3, and why" 3 \
	"xsconsole-tail: $xs_tmp/dir.db is a directory, not the database file (--db or XSC_CONSOLE_DB; e.g. /var/lib/xsconsoled/console.db)" \
	bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$xs_tmp/dir.db"
echo "not a database at all, really not, and long enough for a header" \
	>"$xs_tmp/junk.db"
check "not our database: 5" 5 \
	"xsconsole-tail: $xs_tmp/junk.db: not an xsconsoled console database (not an SQLite database)" \
	bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$xs_tmp/junk.db"
for args in "" "-n x 7" "-n -3 7" "-n -0 7" "-n ++1 7" "--list -n 5 7" \
    "--list -g x 7" "--list -f" "--list --store 7" "--since nonsense 7" "--until 25:00 7" \
    "-o xml 7" "-g ( 7" "--all -i 2 9" "-f --until now 7" "--bogus 7" \
    "7 9" "--case-sensitive=maybe -g x 7" "-S @1700000003 -U @1700000002 7" \
    "--until 2026-02-30 7" "--since 2026-04-31T10:00 7"; do
	check_exact "usage error: 2 (${args:-no domain})" 2 "" \
		bash -c '"$0" --db "$1" $2 2>/dev/null' "$TAIL" "$db" "$args"
done
check_exact "usage error: 2 (an empty time)" 2 "" \
	bash -c '"$0" --db "$1" --since "" 7 2>/dev/null' "$TAIL" "$db"
check "a usage error says why" 2 "xsconsole-tail: -o: unknown format 'xml' (cat, short, short-precise, json)
Try 'xsconsole-tail --help'." bash -c '"$0" --db "$1" -o xml 7 2>&1' "$TAIL" "$db"
check "a bad time says why" 2 "xsconsole-tail: --since: not a time: 'soon' (e.g. \"2026-11-23 20:15:00\", 20:15, @1700000000, -5min, \"1h ago\", yesterday)
Try 'xsconsole-tail --help'." bash -c '"$0" --db "$1" --since soon 7 2>&1' "$TAIL" "$db"
# Times past 64 bits of ns since the epoch: refused, not wrapped round to
# some time in the past (--since 3000-01-01 showed the whole log).
for when in 3000-01-01 "9999-12-31T23:59:59Z" @18446744073 +1e300d \
    "+600000w" "1e300d ago"; do
	check "a time out of range says so ($when)" 2 "xsconsole-tail: --since: out of range: '$when' (times run from 1970 to 2554)
Try 'xsconsole-tail --help'." bash -c '"$0" --db "$1" --since "$2" 7 2>&1' "$TAIL" "$db" "$when"
done
check "the last time in range is one" 0 "" "$TAIL" --db "$db" --since 2554-01-01 7
# getopt's errors under the tool's name, not the path it was run by.
for e in "--bogus:unrecognized option '--bogus'" \
    "-z:invalid option -- 'z'" "-tz:invalid option -- 'z'" \
    "-n:option requires an argument -- 'n'" \
    "--db:option '--db' requires an argument" \
    "--raw=yes:option '--raw' doesn't allow an argument"; do
	check "an unknown or incomplete option says why: ${e%%:*}" 2 \
		"xsconsole-tail: ${e#*:}
Try 'xsconsole-tail --help'." bash -c '"$0" $1 2>&1' "$TAIL" "${e%%:*}"
done

# Output the writer gave up (its commits failed for longer than it
# keeps output, check_db's test_kept_gap) leaves chunk numbers unused:
# a chunk deleted here stands in. The line after the gap starts anew (its
# start was in what was lost) and a note says output was lost there.
# gap_log FILE: a log of four chunks, one flush each.
gap_log() {
	"$TOOL" "$1" >/dev/null <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 5 one\n
flush
append 1 $T2 6 two\nthr
flush
append 1 $T3 7 ee\nfour\n
flush
append 1 $T4 8 five\n
flush
EOF
}
gap=$xs_tmp/gap.db
gap_log "$gap"
# sql FILE STATEMENT: run it with python's sqlite3 (no sqlite3 CLI needed).
sql() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.close()' "$@"
}
sql "$gap" "DELETE FROM chunk WHERE inc = 1 AND seq = 2"
gapnote='[xsconsoled: output lost here: the database could not be written]'
check_exact "a gap in the log: a note where output was lost" 0 "one
$gapnote
ee
four
five
" "$TAIL" --db "$gap" 7
check_exact "a gap, -o short" 0 "Nov 14 22:13:20 web[7]: one
-- output lost here: the database could not be written --
Nov 14 22:13:22 web[7]: ee
Nov 14 22:13:22 web[7]: four
Nov 14 22:13:23 web[7]: five
" "$TAIL" --db "$gap" -o short 7
check_exact "a gap, -o json: an object of type lost" 0 "console
lost 1700000002500000
console ee true
console
console
" bash -c '"$0" --db "$1" -o json 7 | jq -r "[.type, .time // empty,
	(if .continued then .text, .continued else empty end)] | join(\" \")" |
	sed "s/ *$//; s/^console 1700[0-9]*/console/"' "$TAIL" "$gap"
check_exact "a gap, -n 3: the note with the line after it" 0 "$gapnote
ee
four
five
" "$TAIL" --db "$gap" -n 3 7
check_exact "a gap, -n 2: not shown without its line" 0 "four
five
" "$TAIL" --db "$gap" -n 2 7
# A line whose rest was lost, then -g leaving out the line after the gap:
# the next line shown still starts its own.
gap2=$xs_tmp/gap2.db
"$TOOL" "$gap2" >/dev/null <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 5 one\nfoo
flush
append 1 $T2 6 bar\nxyz\n
flush
append 1 $T3 7 zzz\nbaz\n
flush
EOF
sql "$gap2" "DELETE FROM chunk WHERE inc = 1 AND seq = 2"
check_exact "a gap, -g: a line cut by it, then the next match on its own" 0 \
	"foo
baz
" "$TAIL" --db "$gap2" -g 'foo|baz' 7

# A database copied to another place, after its writer closed: no
# daemon, no -shm; read-only, also where the reader may not write.
mkdir "$xs_tmp/copy"
cp "$db" "$xs_tmp/copy/console.db"
check "a copied database (writer closed)" 0 "reborn" \
	"$TAIL" --db "$xs_tmp/copy/console.db" 9
check "... --all and --list work on it" 0 "$(printf '%s\n' "$list_hdr" "$row3" "$row2")" \
	"$TAIL" --db "$xs_tmp/copy/console.db" --list 9
check "... the copy is left as it was" 0 "$(cmp "$db" "$xs_tmp/copy/console.db" && echo same)" \
	bash -c 'cmp "$0" "$1" && echo same' "$db" "$xs_tmp/copy/console.db"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	nobody="setpriv --reuid=65534 --regid=65534 --clear-groups"
	pdir=$xs_tmp/perm
	mkdir -p "$pdir/ro"
	chmod 755 "$xs_tmp" "$pdir"
	cp "$db" "$pdir/ro/console.db"
	chmod 444 "$pdir/ro/console.db"
	chmod 555 "$pdir/ro"
	# SQLite reads a WAL database only where it can make the -shm
	# file: db_open_reader opens a copy immutable where it cannot.
	check "a copy in a directory the reader cannot write" 0 "reborn" \
		$nobody "$TAIL" --db "$pdir/ro/console.db" 9
	check "... --list too" 0 "$(printf '%s\n' "$list_hdr" "$row3" "$row2")" \
		$nobody "$TAIL" --db "$pdir/ro/console.db" --list 9
	# The database and its -wal copied while the writer runs (as
	# xsconsole-tail(1) says): lines in the -wal only, not yet
	# checkpointed, and no -shm. The reader reads the -wal into its own
	# memory, and writes nothing.
	mkdir -p "$pdir/w" "$pdir/wal" "$xs_tmp/walorig"
	mkfifo "$xs_tmp/walcmd"
	"$TOOL" "$pdir/w/console.db" <"$xs_tmp/walcmd" >"$xs_tmp/walw.out" 2>&1 &
	tool_pid=$!
	exec 3>"$xs_tmp/walcmd"
	echo "begin 5 55555555-0000-0000-0000-000000000005 walled $T1" >&3
	echo "append 1 $T1 1 one\ntwo\nthree\n" >&3
	echo "flush" >&3
	xs_wait grep -qx flushed "$xs_tmp/walw.out" ||
		xs_fail "a writer for the -wal copy" "$(cat "$xs_tmp/walw.out")"
	cp "$pdir/w/console.db" "$pdir/w/console.db-wal" "$pdir/wal/"
	cp "$pdir/wal/console.db" "$pdir/wal/console.db-wal" "$xs_tmp/walorig/"
	chmod 444 "$pdir/wal/console.db" "$pdir/wal/console.db-wal"
	chmod 555 "$pdir/wal"
	check "a copy with its -wal in a directory the reader cannot write" 0 \
		"$(printf 'two\nthree')" \
		$nobody "$TAIL" --db "$pdir/wal/console.db" -n 2 5
	check "... --list too" 0 "$(printf '%-8s %-5s %-16s %-36s %-29s %-29s %s' \
		ID DOMID NAME UUID 'FIRST SEEN' GONE BYTES; echo
		printf '%-8s %-5s %-16s %-36s %-29s %-29s %s' 1 5 walled \
		55555555-0000-0000-0000-000000000005 \
		2023-11-14T22:13:20.123+00:00 - 14)" \
		$nobody "$TAIL" --db "$pdir/wal/console.db" --list 5
	mkdir "$pdir/main"
	cp "$pdir/wal/console.db" "$pdir/main/"
	chmod 555 "$pdir/main"
	check "... the lines are in the -wal only: not in the main file" 1 \
		"xsconsole-tail: no console log for domain '5' (try --list)" \
		$nobody bash -c '"$0" --db "$1" 5 2>&1' "$TAIL" \
		"$pdir/main/console.db"
	check "... both files left as they were, no -shm made" 0 \
		"$(printf 'console.db\nconsole.db-wal\nsame')" \
		bash -c 'ls "$0" && cmp "$0/console.db" "$1/console.db" &&
		cmp "$0/console.db-wal" "$1/console.db-wal" && echo same' \
		"$pdir/wal" "$xs_tmp/walorig"
	# The live database, in the same kind of directory: read through the
	# writer's -shm, as it grows (-f).
	$nobody "$TAIL" --db "$pdir/w/console.db" -f -n 1 5 \
		>"$xs_tmp/walf.out" 2>&1 &
	walf_pid=$!
	xs_wait grep -qx three "$xs_tmp/walf.out"
	echo "append 1 $T2 2 four\n" >&3
	xs_wait grep -qx four "$xs_tmp/walf.out"
	kill "$walf_pid"
	wait "$walf_pid" 2>/dev/null
	check "the live database's -wal, -f as that reader" 0 \
		"$(printf 'three\nfour')" cat "$xs_tmp/walf.out"
	exec 3>&-
	wait "$tool_pid"
	tool_pid=
	mkdir -p "$pdir/rw"
	chmod 1777 "$pdir/rw"
	cp "$db" "$pdir/rw/console.db"
	chmod 444 "$pdir/rw/console.db"
	check "a copy the reader may read, not write, where it may write" 0 \
		"reborn" $nobody "$TAIL" --db "$pdir/rw/console.db" 9
	check "... left as it was" 0 "same" \
		bash -c 'cmp "$0" "$1" && echo same' "$db" "$pdir/rw/console.db"
	cp "$db" "$pdir/secret.db"
	chmod 600 "$pdir/secret.db"
	check "not readable: 4, run as root" 4 \
		"xsconsole-tail: cannot read $pdir/secret.db: Permission denied (run as root)" \
		$nobody bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$pdir/secret.db"
	grp=$(getent group 1 | cut -d: -f1)
	chgrp 1 "$pdir/secret.db"
	chmod 640 "$pdir/secret.db"
	check "not readable: 4, or a member of the file's group" 4 \
		"xsconsole-tail: cannot read $pdir/secret.db: Permission denied (run as root or as a member of group $grp)" \
		$nobody bash -c '"$0" --db "$1" 7 2>&1' "$TAIL" "$pdir/secret.db"
	chmod 700 "$xs_tmp"
else
	echo "SKIP: permission checks (need root and setpriv)"
fi

# wait_for FILE STRING [SECONDS]: wait up to SECONDS (default 1) for FILE
# to hold STRING.
wait_for() {
	local i

	for i in $(seq 1 $(( ${3:-1} * 20 ))); do
		grep -qF -- "$2" "$1" && return 0
		sleep 0.05
	done
	return 1
}

# reading PID DB: process PID has begun reading DB (has its WAL open).
reading() {
	ls -l "/proc/$1/fd" 2>/dev/null | grep -qF -- "/${2##*/}-wal"
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

# -f across a gap: the chunks after the first come while it follows,
# the second of them never.
fgap=$xs_tmp/fgap.db
gap_log "$fgap"
sql "$fgap" "CREATE TABLE side AS SELECT * FROM chunk WHERE seq > 1;
	DELETE FROM chunk WHERE seq > 1"
"$TAIL" --db "$fgap" -f 7 >"$xs_tmp/fgap.out" 2>&1 &
fgap_pid=$!
wait_for "$xs_tmp/fgap.out" one 30 || xs_fail "-f on the gap's log" "$(cat "$xs_tmp/fgap.out")"
sql "$fgap" "INSERT INTO chunk SELECT * FROM side WHERE seq <> 2"
check_within "-f across a gap: the lines after it" "$xs_tmp/fgap.out" five
kill "$fgap_pid"
wait "$fgap_pid" 2>/dev/null
check_exact "-f across a gap: the note, then the line after it anew" 0 "one
$gapnote
ee
four
five
" cat "$xs_tmp/fgap.out"

# Output lost at the end of a log, no chunk kept after it to carry the
# note: the writer stores the number of the chunk it gave up as the
# incarnation's last_seq (check_db's test_kept_trailing_gap; diskfull.sh
# end to end); the last chunk deleted, its number left, stands in. The
# note comes once, after the last line kept (here one left open).
trail_log() {
	"$TOOL" "$1" >/dev/null <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 5 one\n
flush
append 1 $T2 6 two\nthr
flush
append 1 $T3 7 ee\n
flush
$2
EOF
	sql "$1" "DELETE FROM chunk WHERE inc = 1 AND seq = 3"
}
tgap=$xs_tmp/tgap.db
trail_log "$tgap" "end 1 $T4"
check_exact "lost at the end: the note after the last line" 0 "one
two
thr
$gapnote
" "$TAIL" --db "$tgap" 7
check_exact "lost at the end, -n +1" 0 "one
two
thr
$gapnote
" "$TAIL" --db "$tgap" -n +1 7
check_exact "lost at the end, -n 1: with its line" 0 "thr
$gapnote
" "$TAIL" --db "$tgap" -n 1 7
check_exact "lost at the end, -o short" 0 "Nov 14 22:13:20 web[7]: one
Nov 14 22:13:21 web[7]: two
Nov 14 22:13:21 web[7]: thr
-- output lost here: the database could not be written --
" "$TAIL" --db "$tgap" -o short 7
check_exact "lost at the end, -o json: lost, at the guest's end" 0 \
	"console one
console two
console thr
lost 1700000003999000
" bash -c '"$0" --db "$1" -o json 7 | jq -r "[.type,
	(if .type == \"lost\" then .time else .text end)] | map(tostring) |
	join(\" \")"' "$TAIL" "$tgap"
check_exact "lost at the end, -g: not without its line" 0 "one
" "$TAIL" --db "$tgap" -g one 7
check_exact "lost at the end, -U before it: not shown" 0 "one
" "$TAIL" --db "$tgap" -U @1700000000.5 7
# follow_end DB OUT ARGS...: xsconsole-tail -f ARGS on domain 7 of DB
# into OUT; once it has read the log, incarnation $fe_inc (default 1)
# ends (again, if it had); OUT is complete when the end is announced.
follow_end() {
	local db=$1 out=$2 pid
	shift 2
	"$TAIL" --db "$db" -f "$@" 7 >"$out" 2>&1 &
	pid=$!
	xs_wait reading "$pid" "$db" || xs_fail "-f $*: it reads the log"
	sleep 0.2	# it has read the log as it is (nothing shows that)
	sql "$db" "UPDATE incarnation SET gone_ns = $T4 WHERE id = ${fe_inc:-1}"
	wait_for "$out" "ended at" 30 || xs_fail "-f $*: the end" "$(cat "$out")"
	kill "$pid"
	wait "$pid" 2>/dev/null
}
endline="-- incarnation 1 of domain 7 (web) ended at 2023-11-14T22:13:23.999+00:00 --"
follow_end "$tgap" "$xs_tmp/tgapf.out"
check_exact "lost at the end, -f after the guest's end: the note once" 0 \
	"one
two
thr
$gapnote
$endline
" cat "$xs_tmp/tgapf.out"
# Followed while the guest runs: nothing yet (a line coming after would
# carry the note), then at its end, before the end is announced.
trail_log "$xs_tmp/tgap2.db" ""
follow_end "$xs_tmp/tgap2.db" "$xs_tmp/tgapf2.out"
check_exact "lost at the end, -f while it runs: the note at its end" 0 \
	"one
two
thr
$gapnote
$endline
" cat "$xs_tmp/tgapf2.out"
trail_log "$xs_tmp/tgap3.db" ""
follow_end "$xs_tmp/tgap3.db" "$xs_tmp/tgapf3.out" -n 0
check_exact "lost at the end, -f -n 0: no note without its line" 0 "$endline
" cat "$xs_tmp/tgapf3.out"
trail_log "$xs_tmp/tgap4.db" ""
follow_end "$xs_tmp/tgap4.db" "$xs_tmp/tgapf4.out" -n +5
check_exact "lost at the end, -f -n +5: no note without its line" 0 "$endline
" cat "$xs_tmp/tgapf4.out"
# --all -f: the running incarnation's note at its end, after an earlier
# incarnation that had more chunks (numbers go per incarnation).
"$TOOL" "$xs_tmp/tgap5.db" >/dev/null <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 1 a1\n
flush
append 1 $T1 2 a2\n
flush
append 1 $T1 3 a3\n
flush
append 1 $T1 4 a4\n
flush
end 1 $T2
begin 7 22222222-0000-0000-0000-000000000007 web $T2
append 2 $T2 5 b1\n
flush
append 2 $T2 6 b2\n
flush
append 2 $T3 7 b3\n
flush
EOF
sql "$xs_tmp/tgap5.db" "DELETE FROM chunk WHERE inc = 2 AND seq = 3"
fe_inc=2 follow_end "$xs_tmp/tgap5.db" "$xs_tmp/tgapf5.out" --all
check_exact "lost at the end, --all -f: the note at the end of the second" 0 \
	"b2
$gapnote
-- incarnation 2 of domain 7 (web) ended at 2023-11-14T22:13:23.999+00:00 --
" tail -n 3 "$xs_tmp/tgapf5.out"
check "... once" 0 "1" grep -cF "$gapnote" "$xs_tmp/tgapf5.out"
# Lost at the start (nothing of it stored before): the note before the
# first line, also when that line comes while -f waits.
slog() {
	"$TOOL" "$1" >/dev/null <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 5 lost\n
flush
append 1 $T2 6 after\n
flush
EOF
}
slog "$xs_tmp/sgap.db"
sql "$xs_tmp/sgap.db" "DELETE FROM chunk WHERE seq = 1;
	UPDATE incarnation SET bytes = 6"
check_exact "lost at the start: the note before the first line" 0 "$gapnote
after
" "$TAIL" --db "$xs_tmp/sgap.db" 7
sql "$xs_tmp/sgap.db" "UPDATE incarnation SET bytes = 11"
check_exact "... not when retention removed what was stored" 0 "after
" "$TAIL" --db "$xs_tmp/sgap.db" 7
slog "$xs_tmp/sgap2.db"
sql "$xs_tmp/sgap2.db" "CREATE TABLE side AS SELECT * FROM chunk WHERE seq = 2;
	DELETE FROM chunk; UPDATE incarnation SET bytes = 0"
"$TAIL" --db "$xs_tmp/sgap2.db" -f 7 >"$xs_tmp/sgapf.out" 2>&1 &
sgap_pid=$!
xs_wait reading "$sgap_pid" "$xs_tmp/sgap2.db" || xs_fail "-f: it reads the log"
sleep 0.2
sql "$xs_tmp/sgap2.db" "INSERT INTO chunk SELECT * FROM side;
	UPDATE incarnation SET bytes = 6"
wait_for "$xs_tmp/sgapf.out" after 30 || xs_fail "-f: the line after all was lost"
kill "$sgap_pid"
wait "$sgap_pid" 2>/dev/null
check_exact "all lost while -f waits: the note with the next line" 0 "$gapnote
after
" cat "$xs_tmp/sgapf.out"

# All of a guest's output lost (none ever stored): the note alone. Its
# chunks all gone after some were stored (retention): no note.
sql "$tgap" "DELETE FROM chunk; UPDATE incarnation SET bytes = 0"
check_exact "all output lost: the note alone" 0 "$gapnote
" "$TAIL" --db "$tgap" 7
check_exact "all output lost, -n 1" 0 "$gapnote
" "$TAIL" --db "$tgap" -n 1 7
check_exact "all output lost, -n +1" 0 "$gapnote
" "$TAIL" --db "$tgap" -n +1 7
check_exact "all output lost, -g: nothing" 0 "" "$TAIL" --db "$tgap" -g one 7
# --all -n 2: an incarnation all of whose output was lost, after one of 5
# lines: its note among the last 2 lines, not in the place of one.
"$TOOL" "$xs_tmp/tgap6.db" >/dev/null <<EOF
begin 7 11111111-0000-0000-0000-000000000007 web $T1
append 1 $T1 1 a1\na2\na3\na4\na5\n
flush
end 1 $T2
begin 7 22222222-0000-0000-0000-000000000007 web $T2
append 2 $T2 2 lost\n
flush
end 2 $T3
flush
EOF
sql "$xs_tmp/tgap6.db" "DELETE FROM chunk WHERE inc = 2;
	UPDATE incarnation SET bytes = 0 WHERE id = 2"
check_exact "all output lost, --all -n 2: the note beside the 2 lines" 0 \
	"-- incarnation 1 of domain 7 (web, 11111111-0000-0000-0000-000000000007): from 2023-11-14T22:13:20.123+00:00 to 2023-11-14T22:13:21.000+00:00 --
a4
a5
-- incarnation 2 of domain 7 (web, 22222222-0000-0000-0000-000000000007): from 2023-11-14T22:13:21.000+00:00 to 2023-11-14T22:13:22.500+00:00 --
$gapnote
" "$TAIL" --db "$xs_tmp/tgap6.db" --all -n 2 7
sql "$tgap" "UPDATE incarnation SET bytes = 14"
check_exact "a log retention emptied: no note" 0 "" "$TAIL" --db "$tgap" 7

# -f and a line that comes in two commits: a UTF-8 character or a CRLF
# cut between them shows as a reading of the whole line shows it (the
# piece's end is kept for the next); a prompt still shows before its
# newline.
# live_start DB FIFO OUT FD NAME TEXT: db_writer_tool (flush 100 ms, as
# the daemon's default) on DB, fed through FIFO, open on descriptor FD;
# its output in OUT, its pid in live_pid; domain 3, named NAME, with
# TEXT committed.
live_start() {
	mkfifo "$2"
	"$TOOL" -F 100 "$1" <"$2" >"$3" 2>&1 &
	live_pid=$!
	eval "exec $4>\"\$2\""
	echo "begin 3 33333333-0000-0000-0000-000000000003 $5 $T1" >&"$4"
	echo "append 1 $T1 1 $6" >&"$4"
	echo "flush" >&"$4"
	wait_for "$3" flushed 30 || xs_fail "live writer ($5)" "$(cat "$3")"
}
split=$xs_tmp/split.db
live_start "$split" "$xs_tmp/scmd" "$xs_tmp/tool3.out" 4 split 'start\n'
split_tool=$live_pid
"$TAIL" --db "$split" -f 3 >"$xs_tmp/split.out" 2>&1 &
split_tail=$!
"$TAIL" --db "$split" -f -o json 3 >"$xs_tmp/split.json" 2>&1 &
split_json=$!
wait_for "$xs_tmp/split.out" start 30 || xs_fail "-f on the split log"
wait_for "$xs_tmp/split.json" start 30 || xs_fail "-f -o json on the split log"
for piece in 'caf\xc3' '\xa9 ok\n' 'crlf\r' '\n' 'login: '; do
	n=$(grep -c flushed "$xs_tmp/tool3.out")
	echo "append 1 $T2 2 $piece" >&4
	echo "flush" >&4
	xs_wait eval '[ "$(grep -c flushed "$xs_tmp/tool3.out")" -gt "$n" ]' ||
		xs_fail "split writer flushes"
	sleep 0.1	# a poll of the followers (50 ms) between the commits
done
wait_for "$xs_tmp/split.out" "login: " 30 || xs_fail "-f: the prompt" "$(cat "$xs_tmp/split.out")"
echo "append 1 $T3 3 x\n" >&4
echo "end 1 $T3" >&4
echo "flush" >&4
wait_for "$xs_tmp/split.json" '"type":"console"' 30
wait_for "$xs_tmp/split.out" "ended at" 30 || xs_fail "-f: the split log's end"
wait_for "$xs_tmp/split.json" '"x"' 30 || xs_fail "-f -o json: the split log's end"
kill "$split_tail" "$split_json"
wait "$split_tail" "$split_json" 2>/dev/null
exec 4>&-
wait "$split_tool"
check_exact "-f: a character and a CRLF cut across commits, whole" 0 "start
café ok
crlf
login: x
-- incarnation 1 of domain 3 (split) ended at 2023-11-14T22:13:22.500+00:00 --
" cat "$xs_tmp/split.out"
check_exact "-f -o json: the same text, nothing replaced" 0 "start
café ok
crlf$(printf '\r')
login: x
" bash -c 'jq -j "select(.type == \"console\") | .text,
	(if .partial then \"\" else \"\\n\" end)" "$0"' "$xs_tmp/split.json"
check_exact "... and as a reading of the whole log shows it" 0 "start
café ok
crlf
login: x
" "$TAIL" --db "$split" 3

# -f against a live writer.
live=$xs_tmp/live.db
live_start "$live" "$xs_tmp/cmd" "$xs_tmp/tool2.out" 3 follow 'before\npartial '
tool_pid=$live_pid
"$TAIL" --db "$live" -f 3 >"$xs_tmp/follow.out" 2>&1 &
tail_pid=$!
check_within "-f prints what is there" "$xs_tmp/follow.out" "partial "
echo "append 1 $T2 2 line\nafter one\n" >&3
check_within "-f: an appended line within 1 s" "$xs_tmp/follow.out" "after one"
"$TAIL" --db "$live" -f -n 0 -g 'fast' -o short 3 >"$xs_tmp/grep.out" 2>&1 &
grep_pid=$!
# -n 0: it must have taken where the log ends before the first line below
# is committed, which shows nowhere: wait until it reads (its WAL open),
# then a margin for the few ms that takes.
xs_wait reading "$grep_pid" "$live" || xs_fail "-f -g: it reads the log"
sleep 0.2
# A line written must show within 250 ms: the writer commits within its
# flush_ms (100), xsconsole-tail polls every 50 ms. Timed 5 times from
# the write to its appearance (this shell polls every 10 ms); the median
# must be under 250 ms, none over 1 s (the machine may be busy).
lat=()
for k in 1 2 3 4 5; do
	t0=$(date +%s%N)
	echo "append 1 $T2 $((2 + k)) fast $k\n" >&3
	for i in $(seq 1 100); do
		grep -q "fast $k" "$xs_tmp/follow.out" && break
		sleep 0.01
	done
	lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
	sleep 0.1
done
med=$(printf '%s\n' "${lat[@]}" | sort -n | sed -n 3p)
max=$(printf '%s\n' "${lat[@]}" | sort -n | tail -n 1)
if [ "$med" -lt 250 ] && [ "$max" -lt 1000 ]; then
	xs_pass "-f: a new line shows within 250 ms (ms: ${lat[*]})"
else
	xs_fail "-f: a new line shows within 250 ms" "ms: ${lat[*]}"
fi
check_within "-f -g -o short: the matching lines" "$xs_tmp/grep.out" "fast 5"
kill "$grep_pid"
wait "$grep_pid" 2>/dev/null
check_exact "-f -g -o short: only those" 0 "Nov 14 22:13:21 follow[3]: fast 1
Nov 14 22:13:21 follow[3]: fast 2
Nov 14 22:13:21 follow[3]: fast 3
Nov 14 22:13:21 follow[3]: fast 4
Nov 14 22:13:21 follow[3]: fast 5
" cat "$xs_tmp/grep.out"
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
fast 1
fast 2
fast 3
fast 4
fast 5
-- incarnation 1 of domain 3 (follow) ended at 2023-11-14T22:13:22.500+00:00 --
-- incarnation 2 of domain 3 (follow2) began at 2023-11-14T22:13:23.999+00:00 --
new life
" cat "$xs_tmp/follow.out"
# A reader that goes away ends -f on a quiet log at once, like tail -f:
# head takes the last line and exits, nothing more is ever written.
t0=$(date +%s%N)
check "-f | head -1 ends with head" 0 "new life" \
	timeout 10 bash -c "'$TAIL' --db '$live' -f -n 1 3 | head -n 1"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "-f sees its reader gone within 1 s (took $ms ms)" 0 "" \
	test "$ms" -lt 1000
exec 3>&-
wait "$tool_pid"
check "live writer exits cleanly" 0 "" test $? -eq 0
tool_pid=

# After the writer is gone, the log still reads.
check "after the writer stopped" 0 "new life" "$TAIL" --db "$live" 3

# --- the real daemon and simulated guests (xsc-sim) --------------------------

SIM=${XSC_SIM:-$b/xsc-sim}
if [ -x "$SIM" ] && [ -x "${XSCONSOLED:-$b/xsconsoled}" ] &&
    command -v xenstore-read >/dev/null; then
	export XSCONSOLED=${XSCONSOLED:-$b/xsconsoled}
	export XSC_SIM_ROOT=$xs_tmp/sim
	sdb=$xs_tmp/sim.db
	mkdir -p "$XSC_SIM_ROOT"
	if xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$sdb"; then
		xs_pass "daemon starts with a console log"
		printf 'booting\nlogin: \033]0;owned\007\033[2J\n' >"$xs_tmp/boot"
		check "xsc-sim: create guests 1 and 2" 0 "1
2" "$SIM" create 2
		check "guest 1 prints" 0 "" bash -c \
			"'$SIM' guest --console-file '$xs_tmp/boot' 1 >/dev/null"
		check "guest 1 is destroyed" 0 "" "$SIM" destroy 1
		# Its output and its end committed (the end before the
		# removal of its nodes, a store commit).
		xs_wait xs_durable || xs_fail "guest 1's log is committed"
		check "a destroyed guest's log, by name, escaped" 0 'booting
login: ^[]0;owned^G^[[2J' "$TAIL" --db "$sdb" guest1
		check "... --list shows it gone" 0 "gone" bash -c \
			'"$0" --db "$1" --list guest1 | awk "NR == 2 { print (\$7 != \"-\") ? \"gone\" : \"alive\" }"' \
			"$TAIL" "$sdb"
		# -f on a live guest: each line timed from the guest's write.
		"$TAIL" --db "$sdb" -f -n 0 guest2 >"$xs_tmp/live2.out" 2>&1 &
		tail_pid=$!
		# -n 0, as above: reading, then a margin.
		xs_wait reading "$tail_pid" "$sdb" ||
			xs_fail "-f on a live guest: it reads the log"
		sleep 0.3
		lat=()
		for k in 1 2 3 4 5; do
			printf 'live line %s\n' "$k" >"$xs_tmp/line"
			t0=$(date +%s%N)
			"$SIM" guest --console-file "$xs_tmp/line" 2 >/dev/null 2>&1
			for i in $(seq 1 100); do
				grep -q "live line $k" "$xs_tmp/live2.out" && break
				sleep 0.01
			done
			lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
		done
		kill "$tail_pid"
		wait "$tail_pid" 2>/dev/null
		tail_pid=
		med=$(printf '%s\n' "${lat[@]}" | sort -n | sed -n 3p)
		max=$(printf '%s\n' "${lat[@]}" | sort -n | tail -n 1)
		if [ "$med" -lt 250 ] && [ "$max" -lt 1000 ]; then
			xs_pass "-f on a live guest: a line within 250 ms of its write (ms: ${lat[*]})"
		else
			xs_fail "-f on a live guest: a line within 250 ms of its write" \
				"ms: ${lat[*]}" "$(cat "$xs_tmp/live2.out")"
		fi
		check "... all 5 lines, in order" 0 "$(printf 'live line %s\n' 1 2 3 4 5)" \
			cat "$xs_tmp/live2.out"
		# Renamed while it runs (xl rename; a migrated guest is made
		# as NAME--incoming, then renamed): its log goes by the new
		# name, from its start.
		check "guest 2 is renamed" 0 "" \
			xenstore-write /local/domain/2/name web-renamed
		printf 'after rename\n' >"$xs_tmp/line"
		check "... and prints" 0 "" bash -c \
			"'$SIM' guest --console-file '$xs_tmp/line' 2 >/dev/null"
		xs_wait xs_durable || xs_fail "guest 2's line is committed"
		check "a renamed guest's log, by its new name" 0 "live line 5
after rename" "$TAIL" --db "$sdb" -n 2 web-renamed
		check "... its lines under the new name, -o short" 0 \
			"web-renamed[2]:
web-renamed[2]:" bash -c \
			'"$0" --db "$1" -n 2 -o short 2 | cut -d " " -f 4' \
			"$TAIL" "$sdb"
		check "... --list: the new name" 0 "web-renamed" bash -c \
			'"$0" --db "$1" --list 2 | awk "NR == 2 { print \$3 }"' \
			"$TAIL" "$sdb"
		xs_stop "$xs_tmp/d"
		check "after the daemon stopped: a copy of its log reads" 0 "after rename" \
			bash -c 'cp "$1" "$1.copy" && "$0" --db "$1.copy" -n 1 web-renamed' \
			"$TAIL" "$sdb"
	else
		xs_fail "daemon starts with a console log"
	fi
else
	echo "SKIP: the daemon and xsc-sim part ($SIM or the daemon not built, or no xenstore-read)"
fi

# --- --store ---------------------------------------------------------------------

hist=$xs_tmp/hist.db
# Console lines carry the generation current when captured: a line
# of gen g was printed after commit g, so the changes up to g come
# before it.
"$TOOL" "$hist" >"$xs_tmp/hist.out" 2>&1 <<EOF
commit 1 ${T1} /local/domain/5/name new = store-guest
begin 5 55555555-0000-0000-0000-000000000005 store-guest $T1
commit 2 ${T1} /local/domain/5/device/vif/0/state new = 1
commit 3 ${T1} /local/domain/0/backend/vif/5/0/state new = 1
append 1 ${T1} 3 booting\n
commit 4 ${T2} /local/domain/5/device/vif/0/state = 3
append 1 ${T2} 4 net up\n
commit 5 ${T3} /local/domain/5/device/vif/0/state perms n5,r0 = 4
commit 6 ${T3} /local/domain/5/data/x = a\x1b[2Jb
append 1 ${T3} 6 running\n
commit 7 ${T4} /local/domain/5/device/vif/0 rm
commit 8 ${T4} /local/domain/6/name new = other
end 1 $T4
EOF
check "history writer" 0 "1" cat "$xs_tmp/hist.out"
store_all="gen 1  name (new) = store-guest  perms n0
gen 2  device/vif/0/state (new) = 1  perms n0
gen 3  /local/domain/0/backend/vif/5/0/state (new) = 1  perms n0
booting
gen 4  device/vif/0/state 1 -> 3
net up
gen 5  device/vif/0/state 3 -> 4  perms n0 -> n5,r0
gen 6  data/x = a^[[2Jb  perms n0
running
gen 7  device/vif/0 (removed)"
check "--store: changes and lines merged by generation" 0 \
	"$store_all" "$TAIL" --db "$hist" --store -n 1000 5
check "--store -n 1: the changes since the line left out, then after" 0 \
	"gen 5  device/vif/0/state 3 -> 4  perms n0 -> n5,r0
gen 6  data/x = a^[[2Jb  perms n0
running
gen 7  device/vif/0 (removed)" "$TAIL" --db "$hist" --store -n 1 5
check "--store -t" 0 "2023-11-14T22:13:23.999+00:00 gen 7  device/vif/0 (removed)" \
	bash -c '"$0" --db "$1" --store -t --all 5 | tail -n 1' "$TAIL" "$hist"
check "--store --since/--until" 0 "gen 4  device/vif/0/state 1 -> 3
net up" "$TAIL" --db "$hist" --store --since @1700000000.5 --until @1700000001 5
check "--store -o json: valid" 0 "store
store
store
console
store
console
store
store
console
store" bash -c '"$0" --db "$1" --store -n 1000 -o json 5 | jq -r .type' \
	"$TAIL" "$hist"
check "--store -o json: who committed, as xsc-history says it" 0 \
	"dom0 0 null" bash -c '"$0" --db "$1" --store -n 1000 -o json 5 |
	 jq -r "select(.type == \"store\") | \"\\(.origin) \\(.origin_domid) \\(.origin_conn)\"" |
	 head -n 1' "$TAIL" "$hist"
check "a name the incarnation table lost, from the store history" 0 \
	"running" bash -c '"$0" --db "$1" -n 1 store-guest' "$TAIL" "$hist"

# Lines in chunks of their own (a flush after each), so that -n 1 skips
# chunks; a guest that never prints; one still running.
hist2=$xs_tmp/hist2.db
"$TOOL" "$hist2" >"$xs_tmp/hist2.out" 2>&1 <<EOF
commit 1 ${T1} /local/domain/9/name new = chunky
begin 9 99999999-0000-0000-0000-000000000009 chunky $T1
append 1 ${T1} 1 pre\n
flush
append 1 ${T1} 1 more\n
flush
commit 2 ${T2} /local/domain/9/data/k1 new = val
append 1 ${T2} 2 next line\n
flush
end 1 $T2
commit 3 ${T3} /local/domain/10/name new = quiet
begin 10 10101010-0000-0000-0000-000000000010 quiet $T3
commit 4 ${T3} /local/domain/10/data/x new = 1
EOF
check "--store -n 1 past skipped chunks: the changes that led to the line" \
	0 "gen 2  data/k1 (new) = val  perms n0
next line" "$TAIL" --db "$hist2" --store -n 1 9
check "--store on a guest that never printed: its changes" 0 \
	"gen 3  name (new) = quiet  perms n0
gen 4  data/x (new) = 1  perms n0" "$TAIL" --db "$hist2" --store 10
check "--store -n 0: nothing" 0 "" "$TAIL" --db "$hist2" --store -n 0 10
check "--store -f -n 0: nothing from before" 0 "" \
	bash -c 'timeout 1 "$0" --db "$1" --store -f -n 0 10; true' "$TAIL" \
	"$hist2"

xs_summary
