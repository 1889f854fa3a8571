#!/bin/bash
# The disk holding the database fills up (issue 5): the daemon runs on a
# small tmpfs, a file takes the rest of it, and SQLite's writes fail with
# "database or disk is full" in the middle of the writer's transactions
# (not a lock held by another process, as in resync.sh). Meanwhile the
# store goes on serving, guests go on printing, and the daemon stays up;
# once room is made, commits work again, the output printed meanwhile is
# in the log with nothing lost, the store's commits are durable (a kill
# -9 then restarts with them), and the database passes SQLite's
# integrity check. Then full for longer than the writer keeps output
# (10 MiB printed): the oldest is given up and counted, and
# xsconsole-tail shows a note where it was lost, also after a restart,
# and at the end of the log of a guest destroyed meanwhile.
# Needs root (mount); skipped otherwise.
#
#   XSCONSOLED=... XSC_SIM=... XSC_TAIL=... tests/integration/diskfull.sh

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
b=${top_builddir:-$PWD}
: "${XSC_SIM:=$b/xsc-sim}"
: "${XSC_TAIL:=$b/xsconsole-tail}"
for c in xenstore-read xenstore-write python3 mount umount; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not found"; exit 77; }
done

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-diskfull.XXXXXX") || exit 99
fs=$xs_tmp/fs
mounted=
cleanup() {
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	[ -n "$mounted" ] && umount "$fs"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

mkdir "$fs"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=16m tmpfs "$fs" 2>/dev/null
then
	echo "SKIP: cannot mount a tmpfs (needs root)"
	exit 77
fi
mounted=1

sim=$XSC_SIM
export XSC_SIM_ROOT=$xs_tmp/sim
db=$fs/console.db
mkdir -p "$XSC_SIM_ROOT"
start() {
	xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$db" \
	    --set db/busy-ms=20 --set db/flush-ms=20
}
# bash -c "$waitfor" CMD: wait up to 10 s for CMD to succeed.
waitfor='for i in $(seq 1 200); do eval "$0" >/dev/null 2>&1 && exit 0
	sleep 0.05; done; exit 1'
# A file of N 80-byte lines "<tag> line <k> ...".
lines() {
	python3 -c 'import sys
tag, n = sys.argv[1], int(sys.argv[2])
for k in range(n):
    h = "%s line %d " % (tag, k)
    sys.stdout.write(h + "x" * (79 - len(h)) + "\n")' "$1" "$2"
}

start || { xs_fail "daemon starts"; xs_summary; exit 1; }
xs_pass "daemon starts on a 16 MiB tmpfs"
check "create 2 guests" 0 "2" bash -c "'$sim' create 2 | wc -l"
lines before 10 >"$xs_tmp/before.txt"
check "guest 1 prints" 0 "" \
	bash -c "'$sim' guest --console-file '$xs_tmp/before.txt' 1 >/dev/null"
check "a node before" 0 "" xenstore-write /vm/before 1
check "both durable" 0 "" bash -c "$waitfor" \
	"'$XSC_TAIL' --db '$db' -n 1 1 | grep -q 'before line 9 '"

# Fill the file system: the database's next pages have nowhere to go.
dd if=/dev/zero of="$fs/filler" bs=64k 2>/dev/null
check "the file system is full" 0 "0" bash -c \
	"df --output=avail -B1 '$fs' | tail -n 1 | tr -d ' '"

# 480 KiB of console text (more than the log's files can take now, less
# than the 8 MiB the writer keeps) and store writes while it is full.
lines full 6000 >"$xs_tmp/full.txt"
check "guest 2 prints 480 KiB while the disk is full" 0 "" \
	bash -c "'$sim' guest --console-file '$xs_tmp/full.txt' 2 >/dev/null"
for i in $(seq 1 20); do
	xenstore-write "/vm/full/$i" "value $i" || xs_fail "write $i"
done
check "commits fail, said in the log" 0 "" bash -c "$waitfor" \
	"grep -q 'commit failed' '$xs_tmp/d/log'"
check "the store goes on serving" 0 "value 20" xenstore-read /vm/full/20
check "a guest still answers on its ring" 0 "OK guest1" \
	"$sim" xs 1 "read name"
check "the output is held back, not in the log" 0 "held" bash -c \
	"'$XSC_TAIL' --db '$db' -n 1 2 2>/dev/null | grep -q 'full line 5999 ' &&
	 exit 1; echo held"
check "the store's commits are not durable yet" 0 "behind" bash -c \
	"[ \$(xenstore-read /tool/xsconsoled/stats/store-durable-generation) \
	 -lt \$(xenstore-read /tool/xsconsoled/stats/generation) ] && echo behind"
check "nothing counted lost" 0 "0" \
	xenstore-read /tool/xsconsoled/stats/db-lost-bytes
# All 480,000 bytes cut into chunks and held for the retry (none given
# up: the writer keeps up to 8 MiB).
xs_wait eval '[ "$(xs_stat console-bytes-held)" = 480000 ]' ||
	xs_fail "the output held for a retry"
check "the bytes held for a retry, counted" 0 "480000" \
	xenstore-read /tool/xsconsoled/stats/console-bytes-held

# Make room: the writer's next try commits what it kept.
rm -f "$fs/filler"
check "commits work again, said in the log" 0 "" bash -c "$waitfor" \
	"grep -q 'commits work again' '$xs_tmp/d/log'"
# The retries failed as the first try did: one error says why, not one
# per try; SQLite had rolled back on its own (no failed ROLLBACK).
check "the log says disk full once, as an error" 0 "1" \
	grep -c 'error: .*database or disk is full' "$xs_tmp/d/log"
check "no rollback of a transaction SQLite ended itself" 1 "" \
	grep 'cannot rollback' "$xs_tmp/d/log"
check "the output printed while full is all in the log" 0 "" bash -c \
	"$waitfor" "'$XSC_TAIL' --db '$db' -n +1 2 | cmp -s - '$xs_tmp/full.txt'"
check "still nothing lost" 0 "0" \
	xenstore-read /tool/xsconsoled/stats/db-lost-bytes
check "nothing held any more" 0 "0" \
	xenstore-read /tool/xsconsoled/stats/console-bytes-held
check "the store's commits durable again" 0 "" bash -c "$waitfor" \
	"[ \$(xenstore-read /tool/xsconsoled/stats/store-durable-generation) \
	 -eq \$(xenstore-read /tool/xsconsoled/stats/generation) ]"

# Full again, for longer than the writer keeps output: guest 1 prints
# 10 MiB (its log had lines before), the writer keeps the newest 8 MiB
# and gives up the rest. Once room is made, xsconsole-tail shows a note
# where the output was lost, between the lines before and those kept.
# Guest 2 prints first, then is destroyed: its last words are the oldest
# given up, no line of it comes after them, and its log ends with the
# note.
dd if=/dev/zero of="$fs/filler" bs=64k 2>/dev/null
lines last 10 >"$xs_tmp/last.txt"
drained=$(( $(xs_stat console-bytes) + $(stat -c %s "$xs_tmp/last.txt") ))
check "guest 2 prints its last words while the disk is full" 0 "" \
	bash -c "'$sim' guest --console-file '$xs_tmp/last.txt' 2 >/dev/null"
# Drained, and cut into a chunk kept for the retry (no longer pending).
xs_wait eval '[ "$(xs_stat console-bytes)" -ge '"$drained"' ] &&
	[ "$(xs_stat console-bytes-pending)" = 0 ]' ||
	xs_fail "guest 2's last words drained and kept"
check "guest 2 is destroyed while the disk is full" 0 "" \
	"$sim" destroy 2
lines big 131072 >"$xs_tmp/big.txt"
check "guest 1 prints 10 MiB while the disk is full" 0 "" bash -c \
	"'$sim' guest --timeout 30000 --console-file '$xs_tmp/big.txt' 1 >/dev/null"
check "the oldest output is given up, counted" 0 "" bash -c "$waitfor" \
	"[ \$(xenstore-read /tool/xsconsoled/stats/db-lost-bytes) -gt 0 ]"
# A try fails after that (they come at most 1 s apart) and reloads what
# is committed: what was given up must still be stored at the next.
fails() { grep -c 'debug: .*database or disk is full' "$xs_tmp/d/log"; }
nfails=$(fails)
xs_wait eval '[ "$(fails)" -gt "$nfails" ]' ||
	xs_fail "a try fails after the output is given up"
check "what is held stays within the 8 MiB kept" 0 "within" bash -c \
	"h=\$(xenstore-read /tool/xsconsoled/stats/console-bytes-held) &&
	 [ \$h -gt 0 ] && [ \$h -le $((8 << 20)) ] && echo within"
rm -f "$fs/filler"
check "the newest output kept is in the log" 0 "" bash -c "$waitfor" \
	"'$XSC_TAIL' --db '$db' -n 1 1 | grep -q 'big line 131071 '"
lost=$(( $(xenstore-read /tool/xsconsoled/stats/db-lost-bytes) -
	$(stat -c %s "$xs_tmp/last.txt") ))
check "what was given up and what is in the log make the 10 MiB" 0 \
	"$(stat -c %s "$xs_tmp/big.txt")" bash -c \
	"echo \$(( \$('$XSC_TAIL' --db '$db' -n +11 1 | grep -v '^\[xsconsoled' |
	 wc -c) + $lost ))"
check "a note where the output was lost, after the lines before" 0 \
	"before line 9 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
[xsconsoled: output lost here: the database could not be written]" \
	bash -c "'$XSC_TAIL' --db '$db' -n +10 1 | head -n 2"

check "guest 2's log ends with the note, after its lines kept" 0 \
	"full line 5999 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
[xsconsoled: output lost here: the database could not be written]" \
	"$XSC_TAIL" --db "$db" -n 1 2

# A kill -9 now: the restarted store has what was written while full.
kill -9 "$(cat "$xs_tmp/d/pid")"
while kill -0 "$(cat "$xs_tmp/d/.xs_job")" 2>/dev/null; do sleep 0.01; done
rm -f "$xs_tmp/d/.xs_job"
start || xs_fail "restart after kill -9"
check "after a kill -9: a node written while the disk was full" 0 \
	"value 20" xenstore-read /vm/full/20
check "after a kill -9: the node from before" 0 "1" xenstore-read /vm/before
check "guest 1's log after a restart: the note still there" 0 "1" bash -c \
	"'$XSC_TAIL' --db '$db' -n +1 1 | grep -c '^\[xsconsoled: output lost'"
xs_stop "$xs_tmp/d"
check "the database passes SQLite's integrity check" 0 "ok" python3 -c \
	"import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])" "$db"
xs_summary
