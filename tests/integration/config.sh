#!/bin/bash
# Live configuration (docs/config.md): the real daemon on a simulated host,
# its settings changed through /tool/xsconsoled/config with the stock
# xenstore-* tools and seen to take effect on guests (xsc-sim), bad values
# refused, the statistics below /tool/xsconsoled/stats, the config file at
# start, and XS_CONTROL config/stats.
#
#   XSCONSOLED=path/to/daemon XSC_SIM=path/to/xsc-sim \
#       tests/integration/config.sh
#
# Closes with "N passed, M failed"; exits non-zero on any failure.

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
: "${XSC_SIM:=${top_builddir:-$PWD}/xsc-sim}"
control=/usr/lib/xen-4.17/bin/xenstore-control

for c in xenstore-write xenstore-read xenstore-ls xenstore-rm "$control" \
	python3; do
	if ! command -v "$c" >/dev/null; then
		echo "SKIP: $c not found (apt-get install xenstore-utils" \
			"xen-utils-4.17)"
		exit 77
	fi
done
[ -x "$XSC_SIM" ] || { echo "FAIL: XSC_SIM=$XSC_SIM is not executable"; exit 1; }

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-config.XXXXXX") || exit 99
bg=
cleanup() {
	[ -n "$bg" ] && kill "$bg" 2>/dev/null && wait "$bg" 2>/dev/null
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT
sim=$XSC_SIM
C=/tool/xsconsoled/config
S=/tool/xsconsoled/stats

# dom0 requests with the errno the stock tools do not print: "OK [value]"
# or "ERR <errno name>" per command (libxenstore through ctypes).
xsop=$xs_tmp/xsop
cat >"$xsop" <<'EOF'
#!/usr/bin/env python3
import ctypes, errno, sys
xs = ctypes.CDLL("libxenstore.so.4", use_errno=True)
xs.xs_open.restype = ctypes.c_void_p
xs.xs_write.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p,
                        ctypes.c_char_p, ctypes.c_uint]
xs.xs_read.restype = ctypes.c_void_p
xs.xs_read.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p,
                       ctypes.POINTER(ctypes.c_uint)]
xs.xs_rm.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_char_p]
xs.xs_transaction_start.restype = ctypes.c_uint32
xs.xs_transaction_start.argtypes = [ctypes.c_void_p]
xs.xs_transaction_end.argtypes = [ctypes.c_void_p, ctypes.c_uint32,
                                  ctypes.c_bool]
h = xs.xs_open(0)
tx, rc = 0, 0
def err():
    global rc
    rc = 1
    print("ERR " + errno.errorcode.get(ctypes.get_errno(), "?"))
for cmd in sys.argv[1:]:
    op, _, rest = cmd.partition(" ")
    if op == "write":
        p, _, v = rest.partition(" ")
        if xs.xs_write(h, tx, p.encode(), v.encode(), len(v.encode())):
            print("OK")
        else:
            err()
    elif op == "read":
        n = ctypes.c_uint()
        r = xs.xs_read(h, tx, rest.encode(), ctypes.byref(n))
        if r:
            print("OK " + ctypes.string_at(r, n.value).decode())
        else:
            err()
    elif op == "rm":
        print("OK") if xs.xs_rm(h, tx, rest.encode()) else err()
    elif op == "txstart":
        tx = xs.xs_transaction_start(h)
        print("OK") if tx else err()
    elif op == "txend":
        ok = xs.xs_transaction_end(h, tx, rest == "F")  # abort?
        tx = 0
        print("OK") if ok else err()
sys.exit(rc)
EOF
chmod +x "$xsop"

# The value of a statistic, as the stock tool reads it.
stat_of() {
	xenstore-read "$S/$1"
}

# --- the config file at start ----------------------------------------------

cat >"$xs_tmp/bad.conf" <<'EOF'
# fine
quota/nodes = 900

console/rate = fast
EOF
# start_fails NAME OPTION...: the daemon refuses to start (status 2); its
# message is in $xs_tmp/start.err.
start_fails() {
	local name=$1 rc
	shift
	xs_run "$XSCONSOLED" -F --socket "$xs_tmp/s0" --pid-file "$xs_tmp/p0" \
		--log-file "$xs_tmp/l0" "$@" >"$xs_tmp/start.err" 2>&1
	rc=$?
	check "$name" 0 "2" echo "$rc"
}
start_fails "a bad config line stops the start" --config "$xs_tmp/bad.conf"
check "with file:line and the reason" 0 "yes" bash -c \
	"grep -q 'bad.conf:4: console/rate: \"fast\" is not a number' \
	'$xs_tmp/start.err' && echo yes"
start_fails "a missing --config file stops the start" \
	--config "$xs_tmp/none.conf"
check "and says which" 0 "yes" bash -c \
	"grep -q 'none.conf: No such file' '$xs_tmp/start.err' && echo yes"
start_fails "a bad --set stops the start" --set quota/nodes=0
start_fails "an unknown --set stops the start" --set quota/none=1

cat >"$xs_tmp/good.conf" <<'EOF'
# Settings as docs/config.md lists them.
quota/transactions = 9     # a comment after a value
quota/nodes = 900
db/flush-ms = 50
history/full-seconds = 7200
log-level = warn
EOF
export XSC_SIM_ROOT=$xs_tmp/sim
mkdir -p "$XSC_SIM_ROOT"
# (xs_start passes --log-level debug; ours comes later and wins.)
if ! xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$xs_tmp/console.db" \
	--config "$xs_tmp/good.conf" --quota nodes=800 --log-level info; then
	xs_fail "daemon starts with a config file"
	xs_summary
	exit 1
fi
xs_pass "daemon starts with a config file"
check "the file sets a value" 0 "9" xenstore-read $C/quota/transactions
check "the file sets a db value" 0 "50" xenstore-read $C/db/flush-ms
check "the file sets a history value" 0 "7200" \
	xenstore-read $C/history/full-seconds
check "the command line overrides the file" 0 "800" xenstore-read $C/quota/nodes
check "and a later option an earlier one" 0 "info" xenstore-read $C/log-level
check "untouched settings keep their defaults" 0 "4194304" \
	xenstore-read $C/console/rate
check "CONTROL config get" 0 "9" "$control" config get quota/transactions
check "CONTROL config lists every setting, file form" 0 "quota/nodes = 800" \
	bash -c "'$control' config | grep '^quota/nodes '"
check "every setting has a node" 0 "yes" bash -c "[ \$('$control' config |
	grep -c ' = ') -eq \$(xenstore-ls -f $C | grep -vc '= \"\"\$') ] &&
	echo yes"

# --- the nodes ----------------------------------------------------------------

check "xenstore-ls /tool/xsconsoled works" 0 "yes" bash -c \
	"xenstore-ls -f /tool/xsconsoled >'$xs_tmp/ls' &&
	grep -q '^$S/requests = \"[0-9]*\"' '$xs_tmp/ls' &&
	grep -q '^$C/quota/nodes = \"800\"' '$xs_tmp/ls' && echo yes"
check "dom0 only: perms n0" 0 "(n0)" \
	bash -c "xenstore-ls -p /tool | grep '^xsconsoled' | grep -o '(n0)'"
r1=$(stat_of requests)
xenstore-read $C/quota/nodes >/dev/null
xenstore-read $C/quota/nodes >/dev/null
r2=$(stat_of requests)
check "stats/requests increases with requests" 0 "yes" bash -c \
	"[ '$r1' -gt 0 ] && [ '$r2' -gt '$r1' ] && echo yes"
g1=$(stat_of generation)
for i in 1 2 3; do stat_of requests >/dev/null; done
check "reading stats commits nothing" 0 "$g1" xenstore-read $S/generation
check "stats: numbers" 0 "yes" bash -c "[ \$(xenstore-read $S/memory-rss) \
	-gt 1000000 ] && [ \$(xenstore-read $S/connections) -ge 1 ] && echo yes"
check "stats cannot be written, even by dom0" 1 "ERR EACCES
ERR EACCES" "$xsop" "write $S/requests 1" "rm $S"
check "CONTROL stats" 0 "yes" bash -c \
	"'$control' stats | grep -q '^requests = [0-9]' && echo yes"
check "DIRECTORY of stats: docs/config.md's table, in its order" 0 \
	"$(sed -n '/^## Statistics/,/^## /s/^| `\([a-z0-9-]*\)` |.*/\1/p' \
	"$here/../../docs/config.md")" xenstore-list $S

# --- a guest can neither read nor write them -----------------------------------

check "create a guest" 0 "1" "$sim" create 1
check "a guest cannot read a setting" 1 "ERR EACCES" \
	"$sim" xs 1 "read $C/quota/nodes"
check "nor write one" 1 "ERR EACCES" "$sim" xs 1 "write $C/quota/nodes 1000000"
check "nor list /tool/xsconsoled" 1 "ERR EACCES" \
	"$sim" xs 1 "dir /tool/xsconsoled"
check "nor read a statistic" 1 "ERR EACCES" "$sim" xs 1 "read $S/requests"
check "nor learn a missing one exists" 1 "ERR EACCES" \
	"$sim" xs 1 "read $C/none"
check "the quota is as it was" 0 "800" xenstore-read $C/quota/nodes

# --- bad values ------------------------------------------------------------------

check "not a number: EINVAL" 1 "ERR EINVAL" "$xsop" "write $C/quota/nodes lots"
check "out of range: EINVAL" 1 "ERR EINVAL" "$xsop" "write $C/quota/nodes 0"
check "out of range (max): EINVAL" 1 "ERR EINVAL" \
	"$xsop" "write $C/console/pty-limit 99999999999"
check "unknown level: EINVAL" 1 "ERR EINVAL" "$xsop" "write $C/log-level loud"
check "negative: EINVAL" 1 "ERR EINVAL" "$xsop" "write $C/db/flush-ms -5"
check "unknown setting: EINVAL" 1 "ERR EINVAL" "$xsop" "write $C/quota/bogus 1"
check "removing a setting: EINVAL" 1 "ERR EINVAL" "$xsop" "rm $C/quota/nodes"
check "removing them all: EINVAL" 1 "ERR EINVAL" "$xsop" "rm /tool/xsconsoled"
check "the old values stay" 0 "800
info
50" bash -c "xenstore-read $C/quota/nodes $C/log-level $C/db/flush-ms"
check "in a transaction: checked at its end (EINVAL), nothing applied" 1 "OK
OK
OK
OK
ERR EINVAL
OK 800
ERR ENOENT" "$xsop" "txstart" "write $C/quota/nodes 700" "write $C/log-level loud" \
	"write /tool/txn-marker x" "txend" "read $C/quota/nodes" \
	"read /tool/txn-marker"
check "a good transaction applies its values with its commit" 0 "OK
OK
OK
OK
OK 700" "$xsop" "txstart" "write $C/quota/nodes 700" "write $C/log-level info" \
	"txend" "read $C/quota/nodes"
check "CONTROL config set, bad value refused" 0 "refused" bash -c \
	"'$control' config set quota/nodes x >/dev/null 2>&1 || echo refused"
check "CONTROL config set" 0 "OK" "$control" config set quota/nodes 800
check "CONTROL config set is the node" 0 "800" xenstore-read $C/quota/nodes

# --- each setting takes effect ----------------------------------------------------

# log-level: debug lines appear only once it is debug.
n0=$(grep -c ' debug: ' "$xs_tmp/d/log")
xenstore-read $C/quota/nodes >/dev/null
n1=$(grep -c ' debug: ' "$xs_tmp/d/log")
check "log-level info: no debug lines" 0 "$n0" echo "$n1"
check "log-level = debug" 0 "" xenstore-write $C/log-level debug
xenstore-read $C/quota/nodes >/dev/null
check "log-level debug: debug lines" 0 "yes" bash -c \
	"[ \$(grep -c ' debug: ' '$xs_tmp/d/log') -gt $n1 ] && echo yes"
check "CONTROL log shows it" 0 "debug" bash -c "'$control' log | head -1"
check "CONTROL log sets the node" 0 "warn" bash -c \
	"'$control' log warn >/dev/null; xenstore-read $C/log-level"
xenstore-write $C/log-level info

# quota/nodes
owned=$("$control" quota 1 | awk '/^nodes/ { print $3 }')
check "quota/nodes lowered" 0 "" xenstore-write $C/quota/nodes $((owned + 2))
check "quota/nodes: two more nodes, then ENOSPC" 1 "OK
OK
ERR ENOSPC" "$sim" xs 1 "write data/q1 v" "write data/q2 v" "write data/q3 v"
xenstore-write $C/quota/nodes 1000
check "quota/nodes raised: room again" 0 "OK" "$sim" xs 1 "write data/q3 v"

# quota/watches
xenstore-write $C/quota/watches 2
check "quota/watches: E2BIG on the third" 1 "OK
OK
ERR E2BIG" "$sim" xs 1 "watch data a" "watch data b" "watch data c"
xenstore-write $C/quota/watches 128

# quota/transactions
xenstore-write $C/quota/transactions 1
check "quota/transactions: ENOSPC on the second" 1 "OK 1
ERR ENOSPC" "$sim" xs 1 "txstart" "raw TRANSACTION_START"
xenstore-write $C/quota/transactions 10

# quota/node-size
xenstore-write $C/quota/node-size 100
v150=$(head -c 150 /dev/zero | tr '\0' x)
check "quota/node-size: ENOSPC over it" 1 "OK
ERR ENOSPC" "$sim" xs 1 "write data/s50 ${v150:0:50}" "write data/s150 $v150"
xenstore-write $C/quota/node-size 2048
check "quota/node-size raised" 0 "OK" "$sim" xs 1 "write data/s150 $v150"

# quota/path-max (the part after /local/domain/1/; for guests only)
check "quota/path-max 0: EINVAL" 1 "ERR EINVAL" \
	"$xsop" "write $C/quota/path-max 0"
xenstore-write $C/quota/path-max 20
long=$(printf 'a%.0s' $(seq 1 60))
check "quota/path-max: EINVAL over it" 1 "OK
ERR EINVAL" "$sim" xs 1 "write data/short v" "write data/$long v"
check "dom0 is not held to it" 0 "" \
	xenstore-write /local/domain/1/data/$long v
xenstore-write $C/quota/path-max 2048
check "quota/path-max raised" 0 "OK" "$sim" xs 1 "write data/$long v"

# quota/permissions
xenstore-write $C/quota/permissions 2
check "quota/permissions: ENOSPC over it" 1 "OK
ERR ENOSPC" "$sim" xs 1 "setperms data/q1 n1 r0" "setperms data/q1 n1 r0 r2"
xenstore-write $C/quota/permissions 5

# quota/transaction-nodes
xenstore-write $C/quota/transaction-nodes 3
check "quota/transaction-nodes: ENOSPC once it touched that many" 0 "yes" \
	bash -c "'$sim' xs 1 txstart 'write data/t1 v' 'write data/t2 v' \
	'write data/t3 v' 'write data/t4 v' 2>&1 | grep -q 'ERR ENOSPC' && echo yes"
xenstore-write $C/quota/transaction-nodes 1024

# quota/outstanding and quota/memory act on throttling that a short test
# cannot provoke reliably: their effect is shown by the engine's own report.
xenstore-write $C/quota/outstanding 7
xenstore-write $C/quota/memory 65536
check "quota/outstanding and quota/memory reach the engine" 0 "7
65536" bash -c "'$control' quota | awk '/^outstanding|^memory/ { print \$3 }'"
xenstore-write $C/quota/outstanding 20
xenstore-write $C/quota/memory 2097152

# stall-timeout: reaches the engine (the timer of a stalled client); shown
# through CONTROL only.
check "stall-timeout" 0 "5" bash -c \
	"xenstore-write $C/stall-timeout 5 && '$control' config get stall-timeout"

# console/rate and console/burst: a guest printing without end is drained
# at the rate (coarsely: two seconds' worth, a burst and ring slack).
check "create a console guest (default pty limit)" 0 "2" \
	"$sim" create --first 2 --console-limit 0 1
xenstore-write $C/console/burst 4096
xenstore-write $C/console/rate 20000
c0=$(stat_of console-bytes)
"$sim" guest --console-bytes 3000000 --console-rate 0 --timeout 60000 2 \
	>/dev/null 2>&1 &
bg=$!
# Past the burst: the guest printing, drained at the rate.
past_burst() { [ "$(stat_of console-bytes)" -ge $((c0 + 8192)) ]; }
xs_wait past_burst || xs_fail "the guest's output is drained"
b0=$(stat_of console-bytes)
sleep 2
b1=$(stat_of console-bytes)
check "console/rate 20000: about 40000 bytes in 2 s" 0 "yes" bash -c \
	"d=\$(( $b1 - $b0 )); [ \$d -gt 20000 ] && [ \$d -lt 70000 ] && echo yes ||
	echo \"drained \$d\""
xenstore-write $C/console/rate 0
xenstore-write $C/console/burst 16777216
for i in $(seq 1 100); do
	kill -0 "$bg" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$bg" 2>/dev/null; then
	xs_fail "console/rate 0: the rest drains at once" "still printing after 10 s"
	kill "$bg"
	wait "$bg"
else
	wait "$bg"
	check "console/rate 0: the rest drains at once (the guest is done)" 0 \
		"0" echo $?
fi
bg=
check "and all of it is counted" 0 "yes" bash -c \
	"[ \$(xenstore-read $S/console-bytes) -ge 3000000 ] && echo yes"

# console/pty-limit: nobody reads guest 3's pty; beyond the limit the
# oldest output is dropped (and counted). The kernel holds some of it too.
check "create a guest with no console/limit of its own" 0 "3" \
	"$sim" create --first 3 --console-limit 0 1
d0=$(stat_of console-bytes-dropped)
check "it prints 300 kB, nobody reading" 0 "" bash -c \
	"'$sim' guest --console-bytes 300000 --console-rate 0 3 >/dev/null"
# Drops are counted as the daemon drains, all done once the guest exits:
# these pauses only give a wrong count time to show.
sleep 0.3
d1=$(stat_of console-bytes-dropped)
check "under the default pty limit (1 MiB) nothing is dropped" 0 "$d0" echo "$d1"
xenstore-write $C/console/pty-limit 4096
check "it prints 300 kB more" 0 "" bash -c \
	"'$sim' guest --console-bytes 300000 --console-rate 0 3 >/dev/null"
sleep 0.3
d2=$(stat_of console-bytes-dropped)
check "console/pty-limit 4096: the unread output beyond it is dropped" 0 \
	"yes" bash -c "[ \$(( $d2 - $d1 )) -gt 250000 ] && echo yes ||
	echo 'dropped $d1 -> $d2'"
xenstore-write $C/console/pty-limit 1048576

# db/flush-ms, by its effect: a commit reaches the database within it.
hist="${top_builddir:-$PWD}/xsc-history --db $xs_tmp/console.db -o cat"
xenstore-write $C/db/flush-ms 3000
# That commit durable (within the new flush-ms): the writer has taken it
# and has nothing queued, so the probe is alone in the next commit, however
# late it comes after the setting.
xs_wait xs_store_durable || xs_fail "db/flush-ms 3000: its own commit durable"
xenstore-write /flush/probe slow
sleep 0.6
check "db/flush-ms 3000: a commit is not in the database after 0.6 s" 0 "" \
	bash -c "$hist --exact /flush/probe 2>/dev/null; true"
sleep 3
check "but is within 3.6 s" 0 "yes" bash -c \
	"$hist --exact /flush/probe | grep -q '= \"slow\"' && echo yes"
xenstore-write $C/db/flush-ms 100
sleep 0.3

# history/max-bytes, by its effect: the history is cut back to it.
xenstore-write $C/history/full-seconds 0 $C/history/full-commits 1 \
	$C/history/max-bytes 1048576
# Values that do not compress (the budget counts what is stored,
# compressed): 9,600 of 300 random base64 characters, 2.9 MB.
mapfile -t vals < <(head -c 2160000 /dev/urandom | base64 -w 300)
for i in $(seq 1 24); do
	args=()
	for k in $(seq 1 400); do
		args+=("/budget/c$i/k$k" "${vals[(i - 1) * 400 + k - 1]}")
	done
	xenstore-write "${args[@]}"
done
# All committed: each commit keeps the history within the budget.
xs_wait xs_store_durable || xs_fail "the budget's commits are durable"
check "history/max-bytes 1 MiB: the history kept is cut back to it" 0 "yes" \
	bash -c "b=\$($hist --info | sed -n 's/^bytes: *//p');
	[ \"\$b\" -le 1300000 ] && echo yes || echo \"\$b bytes\""
check "... its oldest commits first" 0 "yes" bash -c \
	"$hist --exact /budget/c1/k1 | grep -q . && echo no || echo yes"
xenstore-write $C/history/full-seconds 3600 $C/history/full-commits 100000 \
	$C/history/max-bytes 268435456

# The other db/... and history/... settings: accepted, validated, reported.
for kv in console/backlog=1048576 db/flush-ms=200 db/max-bytes=2147483648 \
	db/max-incarnation-bytes=1048576 db/keep-dead-seconds=3600 \
	history/full-seconds=600 history/full-commits=5000 \
	history/minute-seconds=7200 history/max-bytes=134217728 \
	history/snapshot-interval-seconds=600; do
	k=${kv%%=*} v=${kv#*=}
	check "$k set live, reported by CONTROL" 0 "$v" bash -c \
		"xenstore-write $C/$k $v && '$control' config get $k"
done
check "db/flush-ms out of range: EINVAL" 1 "ERR EINVAL" \
	"$xsop" "write $C/db/flush-ms 0"
check "history/snapshot-interval-seconds out of range: EINVAL" 1 "ERR EINVAL" \
	"$xsop" "write $C/history/snapshot-interval-seconds 1"

# --- the daemon stops cleanly ----------------------------------------------------

if xs_stop "$xs_tmp/d"; then
	xs_pass "daemon stops cleanly"
else
	xs_fail "daemon stops cleanly"
fi
if grep -E "AddressSanitizer|runtime error" "$xs_tmp/d/stdio" "$xs_tmp/d/log" \
	>/dev/null 2>&1; then
	xs_fail "no sanitizer reports" "$(grep -E 'AddressSanitizer|runtime error' \
		"$xs_tmp/d/stdio" | head -3)"
fi
xs_summary
