#!/bin/bash
# A durable store that falls behind and catches up (issue 5): another
# process holds the database's lock for a while (as a full disk would
# make commits fail), the daemon's store goes on meanwhile (writes,
# removals, permissions, a guest's watch), more than db/store-backlog of
# its records are given up; once the lock is let go the daemon writes the
# whole store again, and a kill -9 then restarts it with everything: the
# restarted store is the store before the kill, and the history has it
# from the rewrite on.
#
#   XSCONSOLED=... XSC_SIM=... XSC_HISTORY=... XSC_TAIL=... \
#       tests/integration/resync.sh

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
b=${top_builddir:-$PWD}
: "${XSC_SIM:=$b/xsc-sim}"
: "${XSC_HISTORY:=$b/xsc-history}"
: "${XSC_TAIL:=$b/xsconsole-tail}"
for c in xenstore-ls xenstore-read xenstore-write xenstore-rm \
    xenstore-chmod python3; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not found"; exit 77; }
done

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-resync.XXXXXX") || exit 99
locker=
cleanup() {
	[ -n "$locker" ] && kill "$locker" 2>/dev/null
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

sim=$XSC_SIM
export XSC_SIM_ROOT=$xs_tmp/sim
db=$xs_tmp/x.db
mkdir -p "$XSC_SIM_ROOT"
start() {
	xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$db" \
	    --set db/busy-ms=20 --set db/store-backlog=65536 \
	    --set db/flush-ms=20
}
kill9() {
	kill -9 "$(cat "$xs_tmp/d/pid")"
	while kill -0 "$(cat "$xs_tmp/d/.xs_job")" 2>/dev/null; do
		sleep 0.01
	done
	rm -f "$xs_tmp/d/.xs_job"
}
# The store as xenstore-ls -f -p shows it, less the daemon's own /tool
# (its statistics change as they are read) and the consoles' ptys.
tree() {
	xenstore-ls -f -p / | live_form | grep -v '^/tool' |
	    grep -v '/console/tty = '
}
# bash -c "$waitlog" PATTERN FILE: wait up to 10 s for a line matching
# PATTERN in FILE.
waitlog='for i in $(seq 1 200); do grep -q "$0" "$1" && exit 0; sleep 0.05
	done; exit 1'

start || { xs_fail "daemon starts"; xs_summary; exit 1; }
xs_pass "daemon starts"
check "create 3 guests" 0 "3" bash -c "'$sim' create 3 | wc -l"
check "a node before" 0 "" xenstore-write /vm/a 1 /vm/b 2
xs_wait xs_durable || xs_fail "all is durable before the lock"
before=$(xenstore-read /tool/xsconsoled/stats/generation)
# Guest 2 watches its home; the watch is a durable record too.
mkfifo "$xs_tmp/in"
"$sim" xs --timeout 30000 2 <"$xs_tmp/in" >"$xs_tmp/out" 2>&1 &
exec 3>"$xs_tmp/in"
echo "watch data tok" >&3
echo "event 5000" >&3

# Another process holds the write lock until it is let go below (at most
# 60 s): the checks while it is held need it, however slow the machine.
python3 "$here/../hold-db-lock.py" "$db" "$xs_tmp/locked" 60 &
locker=$!
for i in $(seq 1 100); do [ -f "$xs_tmp/locked" ] && break; sleep 0.05; done
check "the database is locked by another process" 0 "yes" bash -c \
	"[ -f '$xs_tmp/locked' ] && echo yes"

# 96 KiB of values, a removal, a permission change, new nodes: more than
# db/store-backlog while commits fail.
big=$(python3 -c 'print("v" * 3000)')
for i in $(seq 1 32); do
	xenstore-write "/vm/big/$i" "$big" || xs_fail "write $i"
done
check "remove a node meanwhile" 0 "" xenstore-rm /vm/a
check "change a guest's permissions meanwhile" 0 "" \
	xenstore-chmod /local/domain/1/data n1 r3
check "records given up, said in the log" 0 "" \
	bash -c "$waitlog" "store records given up" "$xs_tmp/d/log"
check "the store goes on serving" 0 "2" xenstore-read /vm/b
# Console output while commits fail is kept for a retry, not lost.
printf 'printed while the log was locked\n' >"$xs_tmp/locked.txt"
check "guest 3 prints while commits fail" 0 "" \
	bash -c "'$sim' guest --console-file '$xs_tmp/locked.txt' 3 >/dev/null"
# Its commit tried and failed meanwhile: drained (the guest exited), and
# no longer pending (what a failed try keeps for a retry is not counted).
console_tried() { [ "$(xs_stat console-bytes-pending)" = 0 ]; }
xs_wait console_tried || xs_fail "guest 3's output was tried"
check "the line is not in the log while the lock is held" 0 "held" bash -c \
	"'$XSC_TAIL' --db '$db' -n 1 3 2>/dev/null | grep -q locked && exit 1
	 kill -0 $locker && echo held"
# A time while commits are given up (a second after the last durable
# one, whole seconds as @EPOCH takes them).
sleep 1
tgap=$(date +%s)

kill "$locker"
wait "$locker" 2>/dev/null
locker=
check "made after the lock is let go" 0 "" xenstore-write /vm/c 3
check "the whole store written again" 0 "" \
	bash -c "$waitlog" "the store written whole again" "$xs_tmp/d/log"
check "counted in the statistics" 0 "1" \
	xenstore-read /tool/xsconsoled/stats/store-resyncs
check "the console line printed meanwhile is in the log" 0 \
	"printed while the log was locked" bash -c \
	"for i in \$(seq 1 100); do '$XSC_TAIL' --db '$db' -n 1 3 2>/dev/null |
	 grep . && exit 0; sleep 0.05; done; exit 1"
check "no console byte lost" 0 "0" \
	xenstore-read /tool/xsconsoled/stats/db-lost-bytes
# Nothing committed since the rewrite: the history's last generation is
# the rewrite's, whose snapshot has the tree as it is now.
rewrite=$(xenstore-read /tool/xsconsoled/stats/generation)
check "--info: the last generation is the rewrite's" 0 \
	"last: generation $rewrite" bash -c \
	"'$XSC_HISTORY' --db '$db' --info | awk '/^last:/ { print \$1, \$2, \$3 }'"
check "--info names the gap" 0 "gap:        generations $((before + 1)) to \
$((rewrite - 1)) given up (the store written whole again at $rewrite)" \
	bash -c "'$XSC_HISTORY' --db '$db' --info | grep '^gap:'"
check "--info -o json lists it" 0 \
	"[{\"first\":$((before + 1)),\"last\":$((rewrite - 1))}]" bash -c \
	"'$XSC_HISTORY' --db '$db' --info -o json | sed 's/.*\"gaps\"://; s/}\$//'"
check "--at now is the tree as rewritten" 0 "/vm/b = \"2\"|/vm/c = \"3\"" \
	bash -c "'$XSC_HISTORY' --db '$db' --at now /vm | grep '^/vm/[a-d] ' |
	 paste -sd'|'"
check "--at the rewrite's generation too" 0 "/vm/b = \"2\"|/vm/c = \"3\"" \
	bash -c "'$XSC_HISTORY' --db '$db' --at $rewrite /vm |
	 grep '^/vm/[a-d] ' | paste -sd'|'"
check "--at a time while commits were given up says it is in the gap" 1 "" \
	bash -c "'$XSC_HISTORY' --db '$db' --at @$tgap / 2>&1 >/dev/null |
	 grep -q 'is in a gap of the history: commits $((before + 1)) to' ||
	 exit 9; exit 1"
check "a write after it" 0 "" xenstore-write /vm/d 4
xs_wait xs_store_durable || xs_fail "the write is durable"
tree >"$xs_tmp/before"
"$XSC_HISTORY" --db "$db" -p --at now / | live_form | grep -v '^/tool' |
    grep -v '/console/tty = ' >"$xs_tmp/hist"
check "the history rebuilds the store as it is" 0 "" \
	diff "$xs_tmp/before" "$xs_tmp/hist"

check "xsc-history --at inside the gap says so" 1 "" bash -c \
	"'$XSC_HISTORY' --db '$db' --at $((before + 1)) / 2>&1 >/dev/null |
	 grep -q 'is in a gap of the history: commits $((before + 1)) to' ||
	 exit 9; exit 1"
check "and the tree before the gap is there" 0 "/vm/a = \"1\"" bash -c \
	"'$XSC_HISTORY' --db '$db' --at $before /vm | grep '^/vm/a '"
check "a listing marks the gap between the changes around it" 0 \
	"-- commits $((before + 1)) to" bash -c \
	"'$XSC_HISTORY' --db '$db' -o cat /vm | grep -A1 '/vm/b = ' |
	 sed -n 2p | cut -d' ' -f1-4"
# /vm/d was written after the rewrite: what happened to it in the gap is
# not known, which its listing says first (last when newest first), and
# JSON says too; its last change alone has no gap before it.
gapline="-- commits $((before + 1)) to $(($(xenstore-read \
    /tool/xsconsoled/stats/generation) - 2)) were given up"
check "a listing whose changes all follow a gap starts with it" 0 \
	"$gapline|/vm/d = \"4\"" bash -c \
	"'$XSC_HISTORY' --db '$db' -o cat -x /vm/d | sed 's|^[0-9].* /vm|/vm|' |
	 cut -d' ' -f1-8 | paste -sd'|'"
check "newest first, the gap comes after" 0 "/vm/d = \"4\"|$gapline" \
	bash -c "'$XSC_HISTORY' --db '$db' -o cat -r -x /vm/d |
	 sed 's|^[0-9].* /vm|/vm|' | cut -d' ' -f1-8 | paste -sd'|'"
check "JSON has the gap as an object of its own" 0 \
	"{\"gap\":{\"first\":$((before + 1))" bash -c \
	"'$XSC_HISTORY' --db '$db' -o json -x /vm/d | head -n 1 |
	 cut -d, -f1"
# Guest 1's permissions changed in the gap: --store says its changes
# there are not known, where they fall among its own.
check "xsconsole-tail --store marks the gap among the guest's changes" 0 \
	"-- store commits $((before + 1)) to" bash -c \
	"'$XSC_TAIL' --db '$db' --store -n +1 1 | grep -- '^-- store' |
	 cut -d' ' -f1-5"
check "in JSON too" 0 "1" bash -c \
	"'$XSC_TAIL' --db '$db' --store -n +1 -o json 1 |
	 grep -c '\"type\":\"gap\".*\"first\":$((before + 1)),'"
check "the last change alone has no gap before it" 0 "/vm/d = \"4\"" \
	bash -c "'$XSC_HISTORY' --db '$db' -o cat -n 1 -x /vm/d |
	 sed 's|^[0-9].* /vm|/vm|'"

kill9
start || xs_fail "restart after kill -9"
tree >"$xs_tmp/after"
check "after kill -9, the store is as it was (given up records included)" \
	0 "" diff "$xs_tmp/before" "$xs_tmp/after"
check "/vm/a stays removed" 1 "" xenstore-read /vm/a
check "guest 2's watch survived" 0 "EVENT data tok" bash -c \
	"n=\$(wc -l <'$xs_tmp/out'); echo 'event 5000' >&3
	 for i in \$(seq 1 300); do [ \$(wc -l <'$xs_tmp/out') -gt \$n ] &&
	 break; sleep 0.05; done; tail -n 1 '$xs_tmp/out'"

# Killed while behind: the lock held again, records given up, kill -9
# before the store can be written whole. The restart says what was lost,
# restarts from the durable store (as it was before the lock), numbers on
# after the lost commits, and writes the store whole; the history has the
# gap.
xs_wait xs_durable || xs_fail "all is durable before the second lock"
tree >"$xs_tmp/before2"
last=$(xenstore-read /tool/xsconsoled/stats/generation)
python3 "$here/../hold-db-lock.py" "$db" "$xs_tmp/locked2" 60 &
locker=$!
for i in $(seq 1 100); do [ -f "$xs_tmp/locked2" ] && break; sleep 0.05; done
for i in $(seq 1 32); do
	xenstore-write "/vm/lost/$i" "$big" || xs_fail "write lost $i"
done
check "given up again" 0 "" bash -c "$waitlog" "store records given up" \
	"$xs_tmp/d/log"
lost=$(xenstore-read /tool/xsconsoled/stats/generation)
check "the durable generation stays where the lock began" 0 "$last" \
	xenstore-read /tool/xsconsoled/stats/store-durable-generation
check "the file beside the database says the store is behind" 0 "yes" \
	bash -c "for i in \$(seq 1 100); do
	    [ \"\$(cut -d' ' -f2 '$db-behind' 2>/dev/null)\" = $lost ] &&
	    echo yes && exit 0; sleep 0.05; done; cat '$db-behind'"
kill9
kill "$locker"
wait "$locker" 2>/dev/null
locker=
: >"$xs_tmp/d/log"
start || xs_fail "restart after kill -9 while behind"
check "the restart says which commits were lost" 0 "" bash -c "$waitlog" \
	"was behind when the daemon stopped: commits $((last + 1)) to $lost were given up" \
	"$xs_tmp/d/log"
tree >"$xs_tmp/after2"
check "the store restarts as it was before the lock" 0 "" \
	diff "$xs_tmp/before2" "$xs_tmp/after2"
check "generations go on after the lost ones" 0 "yes" bash -c \
	"[ \$(xenstore-read /tool/xsconsoled/stats/generation) -gt $lost ] &&
	 echo yes"
check "the store written whole again at once" 0 "" bash -c "$waitlog" \
	"the store written whole again" "$xs_tmp/d/log"
check "the file is gone" 1 "" test -e "$db-behind"
check "a write after the restart" 0 "" xenstore-write /vm/e 5
xs_wait xs_store_durable
check "the durable generation caught up" 0 \
	"$(xenstore-read /tool/xsconsoled/stats/generation)" \
	xenstore-read /tool/xsconsoled/stats/store-durable-generation
check "xsc-history --at a lost commit says it is in a gap" 1 "" bash -c \
	"'$XSC_HISTORY' --db '$db' --at $((last + 1)) / 2>&1 >/dev/null |
	 grep -q 'is in a gap of the history: commits $((last + 1)) to' ||
	 exit 9; exit 1"
tree >"$xs_tmp/now"
"$XSC_HISTORY" --db "$db" -p --at now / | live_form | grep -v '^/tool' |
    grep -v '/console/tty = ' >"$xs_tmp/hist2"
check "the history rebuilds the store after the restart" 0 "" \
	diff "$xs_tmp/now" "$xs_tmp/hist2"
exec 3>&-
xs_stop "$xs_tmp/d"
xs_summary
