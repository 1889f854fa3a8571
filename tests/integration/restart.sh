#!/bin/bash
# Restart without loss (issue 5): 50 simulated guests write to the store
# and print on their consoles while the daemon is killed (kill -9) and
# started again, twice:
#   1. with the guests frozen (SIGSTOP) a moment before the kill: the
#      restarted store equals the store before the kill, every console
#      log is exact and whole once the guests have finished;
#   2. under full traffic: the restarted store equals the database's
#      durable tree at the kill (the last durable commit), and the guests
#      go on without being restarted: every write gets its reply, the
#      last value of each guest's counter is its last write, and each
#      console log is what the guest printed, but for what was drained
#      and not yet committed when the daemon died: one run of bytes per
#      log, replaced by a line saying how many (at most console/backlog
#      in all).
# Also: a guest's watch outlives the restart (fired once at restart, then
# by changes), its open transaction answers EAGAIN, the permissions dom0
# set on @releaseDomain survive, and a clean stop keeps everything too;
# transaction ids held through a restart are never given again after it;
# a guest gone while the daemon was down is released at the restart,
# @releaseDomain fired.
#
#   XSCONSOLED=... XSC_SIM=... XSCONSOLE_TAIL=... tests/integration/restart.sh

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
b=${top_builddir:-$PWD}
: "${XSC_SIM:=$b/xsc-sim}"
: "${XSCONSOLE_TAIL:=$b/xsconsole-tail}"
for c in xenstore-ls xenstore-read xenstore-write python3; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not found"; exit 77; }
done

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-restart.XXXXXX") || exit 99
guests= client= client1=
cleanup() {
	[ -n "$guests" ] && kill -CONT $guests 2>/dev/null &&
		kill $guests 2>/dev/null
	[ -n "$client" ] && kill $client 2>/dev/null
	[ -n "$client1" ] && kill $client1 2>/dev/null
	exec 3>&- 4>&- 2>/dev/null
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

sim=$XSC_SIM
export XSC_SIM_ROOT=$xs_tmp/sim XSC_CONSOLE_DB=$xs_tmp/x.db
mkdir -p "$XSC_SIM_ROOT"
# The daemon and the guests must not hold domain 51's command FIFO (fd 3)
# open, or its client never sees the end of its input.
# A small console backlog bounds what a kill -9 under traffic can lose
# (what was drained and not committed), however slow the machine: at
# most this and one ring read, all consoles together.
backlog=524288
start() {
	xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$XSC_CONSOLE_DB" \
	    --set console/backlog=$backlog 3>&- 4>&-
}
# Wait (up to 30 s) until all is durable (xs_durable: every store commit
# and every console byte drained is in the database) and what the guests
# sent before they froze is all taken: no commit and no byte drained over
# 400 ms (a guest frozen between writing its ring and sending the event
# is served by the daemon's sweep, every 200 ms). Frozen guests only.
settled() {
	local now

	now="$(xs_stat console-bytes) $(xs_stat generation)"
	if [ "$now" = "$settled_was" ]; then
		settled_since=${settled_since:-$(date +%s%N)}
	else
		settled_since=
	fi
	settled_was=$now
	[ -n "$settled_since" ] &&
	    [ $(( $(date +%s%N) - settled_since )) -ge 400000000 ] && xs_durable
}
wait_durable() {
	settled_was= settled_since=
	xs_wait settled
}
kill9() {
	kill -9 "$(cat "$xs_tmp/d/pid")"
	while [ -S "$xs_tmp/d/socket" ] && kill -0 "$(cat "$xs_tmp/d/.xs_job")" 2>/dev/null; do
		sleep 0.01
	done
	rm -f "$xs_tmp/d/.xs_job"
}

# The store as xenstore-ls shows it.
live_tree() {
	xenstore-ls -f -p / | live_form
}
# The durable tree in the database, in the same form and order (children
# in the order they were made, as the store lists them): the store as of
# the last durable commit, as xsc-history --at rebuilds it from the
# history (a snapshot and the commits after it), which is another road
# than the restart's (table node, and the commits its updates lag).
durable_tree() {
	"${top_builddir:-$PWD}/xsc-history" --db "$XSC_CONSOLE_DB" -p \
	    --at now / | live_form
}
# Only the part of the tree the guests and the toolstack made (/tool has
# the daemon's own nodes, which xenstore-ls shows and the copy also holds),
# less console/tty: a restarted daemon opens new ptys and writes their
# paths there (checked apart).
guest_part() { grep -E '^/(local|vm)/' | grep -v '/console/tty = '; }

if ! start; then
	xs_fail "daemon starts"
	xs_summary
	exit 1
fi
xs_pass "daemon starts"
check "create 51 guests" 0 "51" bash -c "'$sim' create 51 | wc -l"

# Domain 51 is a guest's own client: a watch and a transaction that live
# through the restarts. Commands go in through a FIFO, answers come out
# in a file.
mkfifo "$xs_tmp/in"
"$sim" xs --timeout 60000 51 <"$xs_tmp/in" >"$xs_tmp/out" 2>&1 &
client=$!
exec 3>"$xs_tmp/in"
say51() { echo "$1" >&3; }
last51() {	# the answer to the last command, within 10 s
	local i n=$1
	for i in $(seq 1 200); do
		[ "$(wc -l <"$xs_tmp/out")" -ge "$n" ] && break
		sleep 0.05
	done
	sed -n "${n}p" "$xs_tmp/out"
}
# check51 NAME N WANT: the N-th answer of domain 51's client is WANT.
check51() { check "$1" 0 "$3" echo "$(last51 "$2")"; }
say51 "watch data/w tok"
check51 "a guest's watch: OK" 1 "OK"
say51 "event 5000"
check51 "its first event" 2 "EVENT data/w tok"

# Steady traffic: 400 writes 20 ms apart and 320 KB of console text at
# 40 KB/s per guest, about 8 s.
"$sim" guest --rtt 400 --rtt-writes --rtt-gap 20 --console-bytes 320000 \
	--console-rate 40000 --timeout 60000 --report "$xs_tmp/report" \
	$(seq -s ' ' 1 50) >/dev/null 2>"$xs_tmp/guest.err" 3>&- &
guests=$!
sleep 2

# --- 1. frozen guests ----------------------------------------------------------

kill -STOP $guests
wait_durable || xs_fail "all is durable, the guests frozen"
live_tree | guest_part >"$xs_tmp/before"
check "guests wrote (their counters are in the store)" 0 "yes" bash -c \
	"[ \$(grep -c '/data/rtt = [1-9]' '$xs_tmp/before') -eq 50 ] && echo yes"
# A special node's permissions, set by dom0 before the kill.
check "dom0 lets guest 51 hear of releases" 0 "" \
	xenstore-chmod @releaseDomain n0 r51
say51 "txstart"
check "a guest opens a transaction" 0 "yes" bash -c \
	"sleep 0.5; sed -n 3p '$xs_tmp/out' | grep -q '^OK [0-9]' && echo yes"
wait_durable || xs_fail "all is durable before the kill"
kill9
durable_tree | guest_part >"$xs_tmp/durable"
check "the durable tree is the store before the kill" 0 "" \
	diff "$xs_tmp/before" "$xs_tmp/durable"
t0=$(date +%s%N)
start || xs_fail "restart after kill -9"
t1=$(date +%s%N)
xs_log "restart took $(( (t1 - t0) / 1000000 )) ms"
live_tree | guest_part >"$xs_tmp/after"
check "the restarted store is the store before the kill" 0 "" \
	diff "$xs_tmp/before" "$xs_tmp/after"
check "each console's tty names a pty that is there" 0 "51" bash -c \
	"for d in \$(seq 1 51); do [ -c \$(xenstore-read /local/domain/\$d/console/tty) ] && echo ok; done | wc -l"
check "it says it was restored" 0 "yes" bash -c \
	"grep -q 'restart: .* 51 of 51 domains served again' '$xs_tmp/d/log' && echo yes"
say51 "event 5000"
check51 "the guest's watch fired once at restart" 4 "EVENT data/w tok"
say51 "event 1000"
check51 "once only" 5 "TIMEOUT"
xenstore-write /local/domain/51/data/w changed
say51 "event 5000"
check51 "and it fires on a change after the restart" 6 "EVENT data/w tok"
say51 "write data/t x"
check51 "its transaction from before the restart: EAGAIN" 7 "ERR EAGAIN"
say51 "txend T"
check51 "and its end too" 8 "ERR EAGAIN"
say51 "txstart"
say51 "write data/t y"
say51 "txend T"
check51 "a new transaction works" 11 "OK"
check "and was committed" 0 "y" xenstore-read /local/domain/51/data/t
# The permission on @releaseDomain survived: guest 51 hears of a guest
# destroyed after the restart (without it, only dom0 would).
say51 "watch @releaseDomain rel"
check51 "guest 51 watches @releaseDomain" 12 "OK"
say51 "event 3000"
check51 "(its first event)" 13 "EVENT @releaseDomain rel"
check "create guest 52" 0 "52" "$sim" create 1
check "destroy it" 0 "" "$sim" destroy 52
say51 "event 5000"
check51 "the permission dom0 gave on @releaseDomain survived the restart" \
	14 "EVENT @releaseDomain rel"
# Transaction ids across a second restart: the guest runs 200
# transactions after the first one and holds the next open through the
# second; the 200 it runs after that must not be given its id again,
# and the held one must answer EAGAIN, never run in another.
for i in $(seq 1 200); do say51 "txstart"; say51 "txend F"; done
say51 "raw TRANSACTION_START"
held=$(last51 415 | sed -n 's/^OK \([0-9]*\)\\x00$/\1/p')
check "guest 51 holds a transaction through the second restart" 0 "yes" \
	bash -c "[ -n '$held' ] && echo yes"
kill -CONT $guests
check "all was written before the kill: no console byte lost" 0 "0" \
	xenstore-read /tool/xsconsoled/stats/console-bytes-lost

# --- 2. under traffic ----------------------------------------------------------

sleep 1.5
# What each console log has just before the kill: all of it must
# survive.
for d in $(seq 1 50); do
	"$XSCONSOLE_TAIL" -n 100000000 "$d" | wc -c >"$xs_tmp/kept.$d"
done
kill9
durable_tree | guest_part >"$xs_tmp/durable2"
start || xs_fail "restart under traffic"
# The guests write on: freeze them for the comparison.
kill -STOP $guests
live_tree | guest_part >"$xs_tmp/after2"
kill -CONT $guests
# Only the guests' counters can have moved between the dump and the
# freeze (they write while the daemon starts); all else must be equal.
check "the restarted store is the durable tree at the kill (counters aside)" \
	0 "" diff <(grep -v '/data/rtt = ' "$xs_tmp/durable2") \
	<(grep -v '/data/rtt = ' "$xs_tmp/after2")
check "no counter went back from the durable tree" 0 "ok" python3 - \
	"$xs_tmp/durable2" "$xs_tmp/after2" <<'EOF'
import re, sys
def counters(f):
    return {m.group(1): int(m.group(2)) for m in
            (re.match(r"^(\S+/data/rtt) = (\d+) ", l) for l in open(f)) if m}
a, b = counters(sys.argv[1]), counters(sys.argv[2])
bad = [p for p in a if b.get(p, -1) < a[p]]
print("ok" if len(a) == 50 and not bad else "went back: %s" % bad[:5])
EOF

for i in $(seq 1 200); do say51 "txstart"; say51 "txend F"; done
last51 815 >/dev/null
check "200 new transactions after the second restart: none got the held id" \
	0 "200 0" python3 - "$xs_tmp/out" "$held" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().split("\n")[415:815]
ids = [m.group(1) for m in (re.match(r"^OK (\d+)(\\x00)?$", l)
       for l in lines) if m]
print(len(ids), ids.count(sys.argv[2]))
EOF
say51 "rawtx $held WRITE data/held stale"
check51 "the transaction held through the second restart: EAGAIN" 816 \
	"ERR EAGAIN"
say51 "rawtx $held TRANSACTION_END T"
check51 "and its end too" 817 "ERR EAGAIN"
check "nothing of it was written" 1 "" xenstore-read /local/domain/51/data/held

wait $guests
rc=$?
guests=
check "every guest finished without an error or a timeout" 0 "0 0 0" bash -c \
	"echo \$(grep -E '^(errors|timeouts) ' '$xs_tmp/report' | cut -d' ' -f2) $rc"
check "each guest's counter is its last write" 0 "50" bash -c \
	"for d in \$(seq 1 50); do xenstore-read /local/domain/\$d/data/rtt; done | grep -cx 400"

# Console logs: xsc-sim's generated text is 80-byte lines
# "dom<id> line <k> <letters>", k from 0. The guests are done: wait (up
# to 30 s; the sanitizers' writer is slow) until each log has the last
# line, 3999.
for i in $(seq 1 300); do
	left=0
	for d in $(seq 1 50); do
		"$XSCONSOLE_TAIL" -n 1 "$d" 2>/dev/null |
		    grep -q "^dom$d line 3999 " || { left=1; break; }
	done
	[ "$left" = 0 ] && break
	sleep 0.1
done
for d in $(seq 1 50); do
	"$XSCONSOLE_TAIL" -n 100000000 "$d" >"$xs_tmp/log.$d"
done
# Each log must be the text with one run of lines replaced by a line
# that says how many bytes it was: what the daemon had read and not
# committed when it died, all after what the log had just before the
# kill. The drainer pauses past console/backlog, so all the consoles
# together lost at most that and one ring read (2 KiB), on a slow
# machine too. The restarted daemon counts them in console-bytes-lost.
lost_stat=$(xs_stat console-bytes-lost)
check "each console log is what its guest printed, but for the bytes the kill lost, marked" \
	0 "ok" python3 - "$xs_tmp" "$backlog" "$lost_stat" <<'EOF'
import re, sys
d, bound, stat = sys.argv[1], int(sys.argv[2]) + 2048, int(sys.argv[3])
def line(dom, k):
    # as tools/sim/console.c's congen_line: 80 bytes, letters shift with k
    head = b"dom%d line %d " % (dom, k)
    return head + bytes(97 + (k + i) % 26 for i in range(len(head), 79)) + b"\n"
mark = re.compile(rb"\[xsconsoled: (\d+) bytes lost here: read, not "
                  rb"written, when the daemon stopped\]\n")
bad, total = [], 0
for dom in range(1, 51):
    log = open("%s/log.%d" % (d, dom), "rb").read()
    kept = int(open("%s/kept.%d" % (d, dom)).read())
    want = b"".join(line(dom, k) for k in range(320000 // 80))
    ms = list(mark.finditer(log))
    if not ms:
        # nothing lost: the log is the text
        if log != want:
            bad.append((dom, "unmarked difference", len(log)))
        continue
    m, n = ms[0], int(ms[0].group(1))
    total += n
    # The text before the marker, a prefix of want: a newline is put
    # between them only when it stopped mid-line. (Either reading of a
    # newline just before the marker is tried.)
    def fits(a):
        pre = log[:a]
        sep = b"" if a == 0 or pre.endswith(b"\n") else b"\n"
        return (a >= kept and pre == want[:a] and
                log == pre + sep + m.group(0) + want[a + n:])
    a = m.start()
    if len(ms) != 1 or n == 0 or not (fits(a) or a > 0 and fits(a - 1)):
        bad.append((dom, len(ms), a, kept, n))
if total > bound:
    bad.append(("lost in all", total, "bound", bound))
if total != stat:
    bad.append(("marked", total, "console-bytes-lost", stat))
print("ok" if not bad else bad[:5])
EOF
xs_log "the kill under traffic lost $lost_stat console bytes"

# --- a clean stop keeps everything -------------------------------------------

live_tree | guest_part >"$xs_tmp/before3"
xs_stop "$xs_tmp/d"
start || xs_fail "restart after a clean stop"
live_tree | guest_part >"$xs_tmp/after3"
check "after a clean stop, the store is the same" 0 "" \
	diff "$xs_tmp/before3" "$xs_tmp/after3"
check "a guest still answers on its ring" 0 "OK 400" "$sim" xs 7 "read data/rtt"
check "nor a console byte" 0 "0" \
	xenstore-read /tool/xsconsoled/stats/console-bytes-lost

# --- a guest gone while the daemon was down ---------------------------------

# Guest 1 watches @releaseDomain/50; the daemon stops, domain 50 goes
# from the host (its directory removed), the daemon starts again: the
# watch fires once at the restart, as every restored watch does, and
# once more for the release, as for a domain that dies while served.
check "dom0 lets guest 1 hear of releases too" 0 "" \
	xenstore-chmod @releaseDomain n0 r51 r1
mkfifo "$xs_tmp/in1"
"$sim" xs --timeout 60000 1 <"$xs_tmp/in1" >"$xs_tmp/out1" 2>&1 &
client1=$!
exec 4>"$xs_tmp/in1"
# check1 NAME N WANT: the N-th answer of domain 1's client is WANT.
check1() {
	local i
	for i in $(seq 1 200); do
		[ "$(wc -l <"$xs_tmp/out1")" -ge "$2" ] && break
		sleep 0.05
	done
	check "$1" 0 "$3" sed -n "$2p" "$xs_tmp/out1"
}
echo "watch @releaseDomain/50 r50" >&4
check1 "guest 1 watches @releaseDomain/50" 1 "OK"
echo "event 5000" >&4
check1 "(its first event)" 2 "EVENT @releaseDomain/50 r50"
xs_stop "$xs_tmp/d" || xs_fail "the daemon stops"
rm -rf "$XSC_SIM_ROOT/domains/50"
start || xs_fail "restart with domain 50 gone"
echo "event 5000" >&4
check1 "the watch fires at the restart" 3 "EVENT @releaseDomain/50 r50"
echo "event 5000" >&4
check1 "and domain 50, gone while the daemon was down, fires @releaseDomain" \
	4 "EVENT @releaseDomain/50 r50"
echo "event 1000" >&4
check1 "once" 5 "TIMEOUT"
check "what domain 50 owned is gone" 1 "" \
	xenstore-read /local/domain/50/data/rtt
check "its release is logged" 0 "yes" bash -c \
	"grep -q 'domain 50: gone while the daemon was down: released' '$xs_tmp/d/log' && echo yes"
# Its console log, left open by the daemon before, ends (else it would
# look alive for ever: --list without a GONE time, -f waiting on it); a
# guest still there keeps its log open.
check "domain 50's console log ends" 0 "yes" bash -c \
	"for i in \$(seq 1 100); do g=\$(\"\$0\" --list 50 | awk 'NR == 2 { print \$6 }'); [ \"\$g\" != - ] && [ -n \"\$g\" ] && { echo yes; exit; }; sleep 0.05; done; echo \"no: \$g\"" \
	"$XSCONSOLE_TAIL"
check "-f on it ends with it" 0 "yes" bash -c \
	"timeout 5 \"\$0\" -f -n 0 50 | grep -q '^-- incarnation .* of domain 50 .* ended at ' && echo yes" \
	"$XSCONSOLE_TAIL"
check "domain 1's log stays open" 0 "-" bash -c \
	"\"\$0\" --list 1 | awk 'NR == 2 { print \$6 }'" "$XSCONSOLE_TAIL"
check "the end is logged" 0 "1" grep -c \
	"console 50: its log (incarnation [0-9]*) ends: the domain went while the daemon was down" \
	"$xs_tmp/d/log"
# Released for good: the next restart neither tries to serve it again
# nor releases it a second time.
xs_stop "$xs_tmp/d" || xs_fail "the daemon stops again"
start || xs_fail "restart after domain 50's release"
echo "event 5000" >&4
check1 "the watch fires at the next restart" 6 "EVENT @releaseDomain/50 r50"
echo "event 1000" >&4
check1 "and nothing more: domain 50 is not released twice" 7 "TIMEOUT"
check "its release is logged once" 0 "1" \
	grep -c "domain 50: gone while the daemon was down: released" \
	"$xs_tmp/d/log"
check "nor tried again (the one try was at the restart that released it)" \
	0 "1" grep -c "domain 50: mapping its xenstore page again" \
	"$xs_tmp/d/log"
exec 4>&-
kill $client1 2>/dev/null
wait $client1 2>/dev/null
client1=
exec 3>&-
check "domain 51's client ends with its input" 0 "yes" bash -c \
	"for i in \$(seq 1 100); do kill -0 $client 2>/dev/null || { echo yes; exit; }; sleep 0.05; done; echo no"
kill $client 2>/dev/null
wait $client 2>/dev/null
client=
xs_stop "$xs_tmp/d"
xs_summary
