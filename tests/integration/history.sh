#!/bin/bash
# xsc-history against the real daemon: a scripted sequence of commits
# with the stock xenstore-* tools (new and existing nodes, a value with
# a tab and a quote, xenstore-chmod, xenstore-rm of a subtree) and with
# a simulated guest's ring client (a transaction, a plain write), then
# the exact lines read back (-o cat: no times), each commit attributed
# (sock#N for a socket connection, dom1 for the guest, txn); --exact, -n,
# -r, --from/--to, --since, --domain by id and by name, -a, -p; the
# short formats, GEN padded so that the columns line up; --at a
# generation and a time (exactly the tree then, and byte for byte what
# xenstore-ls -f -p prints of the live store at the end); --info; json
# (python3); every error's exit status; a copy of the database after the
# daemon stopped.
#
#   top_builddir=. tests/integration/history.sh
#
# Closes with "N passed, M failed"; exits non-zero on any failure.

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
b=${top_builddir:-$PWD}
: "${XSC_SIM:=$b/xsc-sim}"
HIST=$b/xsc-history
for c in xenstore-ls xenstore-read xenstore-write xenstore-rm xenstore-chmod \
    python3; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not found"; exit 77; }
done
[ -x "$HIST" ] || { echo "FAIL: $HIST is not executable"; exit 1; }
export TZ=UTC

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-history.XXXXXX") || exit 99
cleanup() {
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

export XSC_SIM_ROOT=$xs_tmp/sim XSC_CONSOLE_DB=$xs_tmp/x.db
mkdir -p "$XSC_SIM_ROOT"
if ! xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$XSC_CONSOLE_DB"
then
	xs_fail "daemon starts"
	xs_summary
	exit 1
fi
xs_pass "daemon starts"

# The store's generation now (the daemon's stats; a read commits nothing).
gen_now() { xenstore-read /tool/xsconsoled/stats/generation; }
# Wait until the database has the commits up to generation $1.
flushed() {
	local i
	for i in $(seq 1 100); do
		[ "$("$HIST" -o json -n 1 2>/dev/null |
			python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["gen"])' 2>/dev/null)" \
			-ge "$1" ] 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# The time (µs since the epoch) of the commit of generation $1, as
# "@seconds.micro" plus $2 µs.
time_of() {
	"$HIST" -o json --from "$1" --to "$1" -a -n 1 | python3 -c '
import json, sys
t = json.loads(sys.stdin.readline())["time"] + int(sys.argv[1])
print("@%d.%06d" % (t // 1000000, t % 1000000))' "$2"
}

# Socket connections are numbered from 1 in the order they connect: the
# read below is sock#1, each xenstore-* tool after it the next.
g=$(gen_now)			# sock#1
xenstore-write /test/a 1	# sock#2, generation g+1
xenstore-write /test/a 2	# sock#3, g+2
xenstore-write /test/sub/x 'q"t\tz'	# sock#4, g+3: a quote and a tab
xenstore-write /test/sub/y 5	# sock#5, g+4
xenstore-chmod /test/a n0 r5	# sock#6, g+5 (a transaction)
xenstore-rm /test/sub		# sock#7, g+6 (a transaction)
check "the tools made six commits" 0 "$((g + 6))" \
	xenstore-read /tool/xsconsoled/stats/generation	# sock#8
flushed $((g + 6)) || xs_fail "the commits reach the database"

log="$((g + 1)) sock#2       + /test = \"\"
$((g + 1)) sock#2       + /test/a = \"1\"
$((g + 2)) sock#3       ~ /test/a = \"2\" (was \"1\")
$((g + 3)) sock#4       + /test/sub = \"\"
$((g + 3)) sock#4       + /test/sub/x = \"q\\\"t\\tz\"
$((g + 4)) sock#5       + /test/sub/y = \"5\"
$((g + 5)) sock#6   txn ~ /test/a perms n0,r5 (was n0)
$((g + 6)) sock#7   txn - /test/sub
$((g + 6)) sock#7   txn - /test/sub/x
$((g + 6)) sock#7   txn - /test/sub/y"
check "/test: every change, attributed, oldest first" 0 "$log" \
	"$HIST" -o cat /test
check "-r: newest first" 0 "$(tac <<<"$log")" "$HIST" -o cat -r /test
check "-n 3: the last three, oldest first" 0 "$(tail -n 3 <<<"$log")" \
	"$HIST" -o cat -n 3 /test
check "-n 2 -r" 0 "$(tail -n 2 <<<"$log" | tac)" "$HIST" -o cat -n 2 -r /test
check "--exact /test/a" 0 "$(grep ' /test/a ' <<<"$log")" \
	"$HIST" -o cat --exact /test/a
check "/test/sub and below" 0 "$(grep ' /test/sub' <<<"$log")" \
	"$HIST" -o cat /test/sub
check "a trailing slash is the same path" 0 "$(grep ' /test/sub' <<<"$log")" \
	"$HIST" -o cat /test/sub/
check "--from/--to" 0 "$(sed -n '3,6p' <<<"$log")" \
	"$HIST" -o cat --from $((g + 2)) --to $((g + 4)) /test
check "-a: also a parent its children touched" 0 \
"$((g + 1)) sock#2       + /test = \"\"
$((g + 3)) sock#4       = /test = \"\"
$((g + 6)) sock#7   txn = /test = \"\"" "$HIST" -o cat -a --exact /test
check "-p: perms on every line" 0 "$(sed -n '1,2p' <<<"$log" | sed 's/$/ perms n0/')" \
	"$HIST" -o cat -p --to $((g + 1)) /test
check "--raw: the value's bytes" 0 "$((g + 3)) sock#4       + /test/sub/x = \"q\"t	z\"" \
	"$HIST" -o cat --raw --exact /test/sub/x --to $((g + 3))
check "short: gen, time, who" 0 1 bash -c "'$HIST' /test | grep -cE '^ *$((g + 2)) [A-Z][a-z]{2} [0-9]{2} [0-9:]{8} sock#3       ~ /test/a = \"2\" \\(was \"1\"\\)\$'"
check "short-iso" 0 1 bash -c "'$HIST' -o short-iso --exact /test/a -n 1 | grep -cE '^ *$((g + 5)) 20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}\+00:00 sock#6   txn ~ '"

# The tree as it was, as xenstore-ls -f prints it.
check "--at g+1" 0 '/test/a = "1"' "$HIST" --at $((g + 1)) /test
check "--at g+4 -p" 0 '/test/a = "2"   (n0)
/test/sub = ""   (n0)
/test/sub/x = "q"t\tz"   (n0)
/test/sub/y = "5"   (n0)' "$HIST" --at $((g + 4)) -p /test
check "--at g+6: after the rm" 0 '/test/a = "2"   (n0,r5)' \
	"$HIST" --at $((g + 6)) -p /test
check "--at a leaf: its own line" 0 '/test/sub/y = "5"' \
	"$HIST" --at $((g + 4)) /test/sub/y
check "--at a time (just after g+2's commit)" 0 '/test/a = "2"' \
	"$HIST" --at "$(time_of $((g + 2)) 2)" /test
check "--at a time just before g+2's commit" 0 '/test/a = "1"' \
	"$HIST" --at "$(time_of $((g + 2)) -2)" /test
check "--since a commit's time" 0 "$(sed -n '7,$p' <<<"$log")" \
	"$HIST" -o cat --since "$(time_of $((g + 5)) -1)" /test
check "--until a commit's time" 0 "$(sed -n '1,2p' <<<"$log")" \
	"$HIST" -o cat --until "$(time_of $((g + 1)) 1)" /test
check "--at a path that was not there" 1 "" "$HIST" --at $((g + 6)) /test/sub
check "--at before the history" 1 "" "$HIST" --at @1000
grep -q "history starts at generation 1 (.*): the store was not kept before$" \
    "$xs_tmp/stderr" &&
	xs_pass "--at before the history: says where it starts" ||
	xs_fail "--at before the history: says where it starts" "$(cat "$xs_tmp/stderr")"
check "--at a generation not made yet" 1 "" "$HIST" --at $((g + 1000))
check "--at a time to come" 1 "" "$HIST" --at tomorrow
grep -q "is in the future: the last commit is generation [0-9]*$" \
    "$xs_tmp/stderr" &&
	xs_pass "--at a time to come: says so" ||
	xs_fail "--at a time to come: says so" "$(cat "$xs_tmp/stderr")"
check "a domid for a path: the hint" 2 "xsc-history: '3': the path must be absolute (start with /); a domain's changes: -d 3
Try 'xsc-history --help'." bash -c '"$0" 3 2>&1' "$HIST"

# A guest: the toolstack's commits for it, then its own on its ring.
check "create guest 1" 0 1 bash -c "'$XSC_SIM' create 1 | wc -l"
h=$(gen_now)
check "guest 1: a transaction" 0 "OK 1
OK
OK
OK" "$XSC_SIM" xs 1 txstart 'write data/a 1' 'write data/b 2' 'txend T'
check "guest 1: a write" 0 OK "$XSC_SIM" xs 1 'write data/a 3'
flushed $((h + 2)) || xs_fail "the guest's commits reach the database"
glog="$((h + 1)) dom1     txn + /local/domain/1/data/a = \"1\"
$((h + 1)) dom1     txn + /local/domain/1/data/b = \"2\"
$((h + 2)) dom1         ~ /local/domain/1/data/a = \"3\" (was \"1\")"
check "the guest's commits: dom1, txn" 0 "$glog" \
	"$HIST" -o cat --from $((h + 1)) /local/domain/1/data
check "--domain 1" 0 "$glog" "$HIST" -o cat --domain 1 --from $((h + 1))
check "--domain by name" 0 "$glog" "$HIST" -o cat -d guest1 --from $((h + 1))
check "--domain: the toolstack's commits too" 0 1 bash -c \
	"'$HIST' -o cat --domain 1 --exact /local/domain/1/name | grep -c ' + /local/domain/1/name = \"guest1\"\$'"
check "--domain: not another guest's" 1 "" "$HIST" -o cat --domain 2
check "--domain: an unknown name" 1 "" "$HIST" -d nosuch

# The end: the tree as of the last commit is what xenstore-ls prints.
xenstore-ls -f -p /local >"$xs_tmp/live.local"
xenstore-ls -f -p /test >"$xs_tmp/live.test"
# The whole tree, but the daemon's own settings and statistics, which
# are made as they are read, not stored.
xenstore-ls -f -p / | grep -v '^/tool/xsconsoled' >"$xs_tmp/live.all"
last=$(gen_now)
flushed "$last"
check_exact "--at the last: xenstore-ls -f -p /local, byte for byte" 0 \
	"$(cat "$xs_tmp/live.local")"$'\n' "$HIST" --at "$last" -p /local
check_exact "--at now: xenstore-ls -f -p /test" 0 \
	"$(cat "$xs_tmp/live.test")"$'\n' "$HIST" --at now -p /test
check_exact "--at the last: the whole tree, with the store's first nodes" 0 \
	"$(cat "$xs_tmp/live.all")"$'\n' bash -c \
	'"$0" --at "$1" -p / | grep -v "^/tool/xsconsoled"' "$HIST" "$last"

# json: one valid object per change, all fields.
check "json: valid, one object a change" 0 10 bash -c \
	"'$HIST' -o json /test | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    json.loads(line); n += 1
print(n)'"
check "json: the fields of a change" 0 "$((g + 2)) sock#3 3 False changed /test/a 2 n0 True 1 n0" \
	bash -c "'$HIST' -o json --from $((g + 2)) --to $((g + 2)) /test | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
print(o[\"gen\"], o[\"origin\"], o[\"conn\"], o[\"in_txn\"], o[\"op\"], o[\"path\"],
      o[\"value\"], o[\"perms\"], o[\"old_known\"], o[\"old_value\"], o[\"old_perms\"])'"
check "json: a guest's commit" 0 "dom1 1 True created" bash -c \
	"'$HIST' -o json --from $((h + 1)) --to $((h + 1)) -n 1 /local/domain/1/data | python3 -c '
import json, sys
o = json.loads(sys.stdin.readline())
print(o[\"origin\"], o[\"domid\"], o[\"in_txn\"], o[\"op\"])'"
check "--info" 0 "first:      generation 1
last:       generation $last
whole from: generation 1" bash -c "'$HIST' --info | head -n 3 | sed 's/ at 20[-0-9T:.+]*\$//'"
# short: GEN right-aligned to the width of the newest generation ($last,
# more digits than the first ones), so that the times make one column.
check "short: GEN padded to the newest generation's width" 0 \
	"$(printf '%*d' ${#last} $((g + 1)))" \
	bash -c "'$HIST' --exact /test/a | head -n 1 | cut -c 1-${#last}"
check "short: the times in one column" 0 "$((${#last} + 2))" bash -c \
	"'$HIST' / | awk '{ print index(\$0, \" \" \$2 \" \") + 1 }' | sort -u"
check "short --to: the width of --to" 0 1 bash -c \
	"'$HIST' --to $((g + 2)) --exact /test/a | grep -c '^$((g + 1)) '"
check "--info -o json" 0 "1 $last" bash -c "'$HIST' --info -o json | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
assert o[\"commits\"] >= 1 and o[\"changes\"] >= 1 and o[\"snapshots\"] >= 1 and o[\"bytes\"] > 0
print(o[\"first_gen\"], o[\"last_gen\"])'"

# Errors: messages and exit status.
check "usage: two paths" 2 "" "$HIST" /a /b
check "usage: a relative path" 2 "" "$HIST" test
check "usage: a bad time" 2 "" "$HIST" --since 'not a time'
check "usage: -n 0" 2 "" "$HIST" -n 0
check "usage: --at with -n" 2 "" "$HIST" --at 1 -n 3
check "usage: --info with a path" 2 "" "$HIST" --info /test
check "usage: unknown -o" 2 "" "$HIST" -o yaml
check "usage: an unknown option, under the tool's name" 2 \
	"xsc-history: unrecognized option '--bogus'
Try 'xsc-history --help'." bash -c '"$0" --bogus 2>&1' "$HIST"
check "usage: -n without its number" 2 \
	"xsc-history: option requires an argument -- 'n'
Try 'xsc-history --help'." bash -c '"$0" -n 2>&1' "$HIST"
check "usage: an ambiguous option" 2 \
	"xsc-history: option '--d' is ambiguous; possibilities: '--db' '--domain'
Try 'xsc-history --help'." bash -c '"$0" --d 1 2>&1' "$HIST"
check "nothing found: exit 1" 1 "" "$HIST" /nosuch
check "no database: exit 3" 3 "" "$HIST" --db "$xs_tmp/none.db"
grep -q "no database at $xs_tmp/none.db" "$xs_tmp/stderr" &&
	xs_pass "no database: says so" || xs_fail "no database: says so"
echo "not a database, not at all, no" >"$xs_tmp/junk.db"
check "not a database: exit 5" 5 "" "$HIST" --db "$xs_tmp/junk.db" --info
if [ "$(id -u)" != 0 ]; then
	cp "$XSC_CONSOLE_DB" "$xs_tmp/private.db"
	chmod 000 "$xs_tmp/private.db"
	check "not readable: exit 4" 4 "" "$HIST" --db "$xs_tmp/private.db"
fi

# A domid served again by another guest (last: the domain's release
# strips dead domids from permission lists, which the history does not
# record, so --at now would differ from the live tree): -d NAME is the life of the guest
# that had the name (from its name to its home's removal), -d ID every
# guest the domid served.
check "create web2" 0 2 "$XSC_SIM" create --name web 1
check "web2 writes" 0 OK "$XSC_SIM" xs 2 'write data/x 1'
check "destroy web2" 0 "" "$XSC_SIM" destroy 2
check "domid 2 again, named db2" 0 2 "$XSC_SIM" create --first 2 --name db 1
check "db2 writes" 0 OK "$XSC_SIM" xs 2 'write data/x 2'
flushed "$(gen_now)" || xs_fail "db2's commits reach the database"
strip='s/^[0-9]+ +[^ ]+ +//'
check "-d web2: its write and its removal, not db2's write" 0 \
	'+ /local/domain/2/data/x = "1"
- /local/domain/2/data/x' bash -c \
	"'$HIST' -o cat -d web2 --exact /local/domain/2/data/x | sed -E '$strip'"
check "-d web2: from its name to its home's removal" 0 \
	'txn + /local/domain/2/name = "web2"
- /local/domain/2/name' bash -c \
	"'$HIST' -o cat -d web2 --exact /local/domain/2/name | sed -E '$strip'"
check "-d db2: its own write only" 0 '+ /local/domain/2/data/x = "2"' \
	bash -c "'$HIST' -o cat -d db2 --exact /local/domain/2/data/x |
	sed -E '$strip'"
check "-d 2: every guest domid 2 served" 0 '+ /local/domain/2/data/x = "1"
- /local/domain/2/data/x
+ /local/domain/2/data/x = "2"' bash -c \
	"'$HIST' -o cat -d 2 --exact /local/domain/2/data/x | sed -E '$strip'"
check "-d web2 --from after its life: nothing" 1 "" \
	"$HIST" -o cat -d web2 --from "$(gen_now)"

# After a clean stop, on a copy elsewhere: the same history.
before=$("$HIST" -o cat /)
if xs_stop "$xs_tmp/d"; then xs_pass "daemon stops"; else xs_fail "daemon stops"; fi
mkdir "$xs_tmp/copy"
cp "$XSC_CONSOLE_DB" "$xs_tmp/copy/c.db"
check "a copy: the same changes" 0 "$before" "$HIST" --db "$xs_tmp/copy/c.db" -o cat /
check "a copy: XSC_CONSOLE_DB" 0 '/test/a = "2"   (n0,r5)' \
	env XSC_CONSOLE_DB="$xs_tmp/copy/c.db" "$HIST" --at "$last" -p /test
xs_summary
