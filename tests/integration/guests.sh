#!/bin/bash
# Guests on a simulated host (../shared/sim-abi.md): the real daemon with
# --sim-root, domains made and destroyed by xsc-sim the way libxl does it,
# guests speaking the raw protocol over their rings (xsc-sim xs, xsc-sim
# guest), and dom0 using Debian's stock clients (xenstore-utils).
#
#   XSCONSOLED=path/to/daemon XSC_SIM=path/to/xsc-sim \
#       tests/integration/guests.sh
#
# Closes with "N passed, M failed"; exits non-zero on any failure.

[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
: "${XSC_SIM:=${top_builddir:-$PWD}/xsc-sim}"
control=/usr/lib/xen-4.17/bin/xenstore-control

for c in xenstore-write xenstore-read xenstore-ls xenstore-chmod \
	xenstore-watch "$control"; do
	if ! command -v "$c" >/dev/null; then
		echo "SKIP: $c not found (apt-get install xenstore-utils" \
			"xen-utils-4.17)"
		exit 77
	fi
done
[ -x "$XSC_SIM" ] || { echo "FAIL: XSC_SIM=$XSC_SIM is not executable"; exit 1; }

xs_tmp=$(mktemp -d "${TMPDIR:-/tmp}/xsc-guests.XXXXXX") || exit 99
watch_pid=
cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	[ -f "$xs_tmp/d/.xs_job" ] && xs_stop "$xs_tmp/d"
	rm -rf "$xs_tmp"
}
trap cleanup EXIT

export XSC_SIM_ROOT=$xs_tmp/sim
mkdir -p "$XSC_SIM_ROOT"
if ! xs_start "$xs_tmp/d" --sim-root "$XSC_SIM_ROOT" --db "$xs_tmp/console.db"; then
	xs_fail "daemon starts on the simulated host"
	xs_summary
	exit 1
fi
xs_pass "daemon starts on the simulated host"
sim=$XSC_SIM
# has_lines FILE N: FILE has N lines or more (a client's replies, a
# watcher's events: each watch fires once when set).
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
# IS_DOMAIN_INTRODUCED as the toolstack asks it (libxenstore): T or F. A
# script, not a function, so that check can run it under timeout.
introduced=$xs_tmp/introduced
cat >"$introduced" <<'EOF'
#!/bin/sh
exec python3 -c '
import ctypes, sys
xs = ctypes.CDLL("libxenstore.so.4")
xs.xs_open.restype = ctypes.c_void_p
xs.xs_is_domain_introduced.argtypes = [ctypes.c_void_p, ctypes.c_uint]
h = xs.xs_open(0)
print("T" if xs.xs_is_domain_introduced(h, int(sys.argv[1])) else "F")
' "$1"
EOF
chmod +x "$introduced"

# A socket watcher of @introduceDomain, started before any guest.
xenstore-watch -n 4 @introduceDomain >"$xs_tmp/introduce" 2>&1 &
watch_pid=$!
xs_wait has_lines "$xs_tmp/introduce" 1 || xs_fail "the watch is set"

# --- domains made as libxl makes them -------------------------------------

check "create three guests" 0 "1
2
3" "$sim" create 3
check "the toolstack's keys" 0 "guest1" xenstore-read /local/domain/1/name
check "console keys" 0 "xenconsoled" xenstore-read /local/domain/1/console/type
check "INTRODUCE makes it introduced" 0 "T" "$introduced" 1
check "an unknown domain is not" 0 "F" "$introduced" 9
wait "$watch_pid" 2>/dev/null
watch_pid=
check "@introduceDomain fired for a socket watcher" 0 "@introduceDomain
@introduceDomain
@introduceDomain
@introduceDomain" cat "$xs_tmp/introduce"

# --- every operation over a guest's ring ------------------------------------

check "read over the ring" 0 "OK guest1" "$sim" xs 1 "read name"
check "relative and absolute paths" 0 "OK
OK hi
OK hi" "$sim" xs 1 "write data/x hi" "read data/x" "read /local/domain/1/data/x"
check "mkdir, directory, rm" 1 "OK
OK x d
OK
ERR ENOENT" "$sim" xs 1 "mkdir data/d" "dir data" "rm data/d" "read data/d"
check "perms: the guest owns what it makes" 0 "OK n1
OK
OK n1 r2" "$sim" xs 1 "getperms data/x" "setperms data/x n1 r2" "getperms data/x"
check "an unprivileged guest cannot give a node away" 1 "ERR EPERM" \
	"$sim" xs 1 "setperms data/x n2"
# A transaction, held open while dom0 looks: isolated until committed.
"$sim" xs 1 "txstart" "write data/t t" "read data/t" "sleep 600" "txend T" \
	"read data/t" >"$xs_tmp/txn" 2>&1 &
txn_pid=$!
xs_wait has_lines "$xs_tmp/txn" 3 ||	# written and read in it, not ended
	xs_fail "guest 1's transaction is under way"
check "transaction: not seen before its end" 1 "" \
	xenstore-read /local/domain/1/data/t
wait "$txn_pid"
check "transaction: sees its own write, then commits" 0 "OK 1
OK
OK t
OK
OK
OK t" cat "$xs_tmp/txn"
check "watch: fires at once and on a change" 0 "OK
EVENT data tok
OK
EVENT data/w tok
OK" "$sim" xs 1 "watch data tok" "event 1000" "write data/w 1" "event 1000" \
	"unwatch data tok"
check "a watch with a depth: one level below only" 0 "OK OK\\x00
EVENT data d1
OK
OK
EVENT data/c d1
TIMEOUT
OK" "$sim" xs 1 "raw WATCH data d1 1" "event 1000" "write data/a/b x" \
	"write data/c y" "event 1000" "event 300" "unwatch data d1"
check "the page offers the watch-depth feature (bit 2)" 0 "yes" bash -c \
	"od -An -tu4 -j2064 -N4 '$XSC_SIM_ROOT/domains/1/gnttab/1' |
	awk '{ print (int(\$1 / 4) % 2) ? \"yes\" : \"no\" }'"
check "domain path" 0 "OK /local/domain/7" "$sim" xs 1 "domainpath 7"
check "privileged requests are refused" 1 "ERR EACCES
ERR EACCES
ERR EACCES" "$sim" xs 1 "introduced 1" "raw RELEASE 2" "raw CONTROL print x"
check "dom0 sees the guest's writes" 0 "hi" xenstore-read /local/domain/1/data/x

# --- confinement -----------------------------------------------------------

check "another guest's home: EACCES" 1 "ERR EACCES" \
	"$sim" xs 1 "read /local/domain/2/name"
check "a missing node in another home: EACCES, as Xen" 1 "ERR EACCES" \
	"$sim" xs 1 "read /local/domain/2/data/none"
check "writing into another home: EACCES" 1 "ERR EACCES" \
	"$sim" xs 1 "write /local/domain/2/data/x v"
check "a missing node at home: ENOENT" 1 "ERR ENOENT" \
	"$sim" xs 1 "read data/none"
check "writing to its home's top: EACCES" 1 "ERR EACCES" \
	"$sim" xs 1 "write /local/domain/1/x v"
check "reading dom0's tree: EACCES" 1 "ERR EACCES" "$sim" xs 1 "read /tool"

# --- watches across domains respect permissions ---------------------------

# Guest 1 watches guest 2's data; guest 2 writes one key private, one it
# lets guest 1 read: only the second is heard.
check "guest 2 writes a private key" 0 "OK" "$sim" xs 2 "write data/priv p"
check "and one guest 1 may read" 0 "OK
OK" "$sim" xs 2 "write data/pub p" "setperms data/pub n2 r1"
"$sim" xs 1 "watch /local/domain/2/data w" "event 1000" "sleep 800" \
	"event 1000" "event 300" "unwatch /local/domain/2/data w" \
	>"$xs_tmp/cross" 2>&1 &
cross_pid=$!
xs_wait has_lines "$xs_tmp/cross" 2 || xs_fail "guest 1's watch is set"
check "guest 2 changes both" 0 "OK
OK" "$sim" xs 2 "write data/priv q" "write data/pub q"
wait "$cross_pid"
check "guest 1 hears only what it may read" 0 "OK
EVENT /local/domain/2/data w
OK
EVENT /local/domain/2/data/pub w
TIMEOUT
OK" cat "$xs_tmp/cross"

# --- @releaseDomain and death ---------------------------------------------

# dom0 lets guest 3 write in /tool/shared; it makes a node there (its own),
# and is named in the list of /tool/shared.
xenstore-write /tool/shared ""
xenstore-chmod /tool/shared n0 b3
check "guest 3 writes outside its home" 0 "OK" "$sim" xs 3 "write /tool/shared/g3 x"
check "a guest may not open @releaseDomain to itself" 1 "ERR EACCES" \
	"$sim" xs 1 "setperms @releaseDomain n0 r1"
check "dom0 lets guest 1 hear of releases" 0 "" \
	xenstore-chmod @releaseDomain n0 r1
xenstore-watch -n 2 @releaseDomain >"$xs_tmp/release" 2>&1 &
watch_pid=$!
"$sim" xs 1 "watch @releaseDomain/3 r3" "event 1000" "watch @releaseDomain/2 r2" \
	"event 1000" "event 3000" "event 300" >"$xs_tmp/g1release" 2>&1 &
g1_pid=$!
xs_wait has_lines "$xs_tmp/release" 1 || xs_fail "the socket watch is set"
xs_wait has_lines "$xs_tmp/g1release" 4 || xs_fail "guest 1's watches are set"
check "destroy guest 3 (dying, then VIRQ_DOM_EXC)" 0 "" "$sim" destroy 3
wait "$watch_pid" 2>/dev/null
watch_pid=
wait "$g1_pid"
check "@releaseDomain fired for a socket watcher" 0 "@releaseDomain
@releaseDomain" cat "$xs_tmp/release"
check "and for guest 1, about domain 3 only" 0 "OK
EVENT @releaseDomain/3 r3
OK
EVENT @releaseDomain/2 r2
EVENT @releaseDomain/3 r3
TIMEOUT" cat "$xs_tmp/g1release"
check "the dead domain's nodes are gone" 1 "" xenstore-read /tool/shared/g3
check "its permission entries are gone" 0 "(n0)" \
	bash -c "xenstore-ls -p /tool | grep '^shared' | grep -o '(.*)'"
check "it is no longer introduced" 0 "F" "$introduced" 3

# --- quotas -----------------------------------------------------------------

owned=$("$control" quota 1 | awk '/^nodes/ { print $3 }')
check "quota: nodes, set live" 0 "OK" "$control" quota set nodes $((owned + 3))
check "three more nodes, then ENOSPC" 1 "OK
OK
OK
ERR ENOSPC" "$sim" xs 1 "write data/q1 v" "write data/q2 v" "write data/q3 v" \
	"write data/q4 v"
check "another guest is unaffected" 0 "OK" "$sim" xs 2 "write data/fine v"
check "dom0 is exempt" 0 "" xenstore-write /local/domain/1/data/dom0 v
"$control" quota set nodes 1000 >/dev/null
"$control" quota set watches 2 >/dev/null
check "quota: watches (E2BIG)" 1 "OK
OK
ERR E2BIG" "$sim" xs 1 "watch data a" "watch data b" "watch data c"
"$control" quota set watches 128 >/dev/null
"$control" quota set transactions 1 >/dev/null
check "quota: transactions (ENOSPC)" 1 "OK 1
ERR ENOSPC" "$sim" xs 2 "txstart" "raw TRANSACTION_START"
"$control" quota set transactions 10 >/dev/null
big=$(head -c 3000 /dev/zero | tr '\0' x)
check "quota: node size (ENOSPC)" 1 "ERR ENOSPC" "$sim" xs 1 "write data/big $big"
check "quota: permissions per node (ENOSPC)" 1 "ERR ENOSPC" \
	"$sim" xs 1 "setperms data/x n1 r2 r3 r4 r5 r6 r7"
check "a guest's usage is reported" 0 "yes" bash -c \
	"$control quota 1 | grep -q '^nodes *: *[0-9]' && echo yes"

# --- a hostile guest among a hundred -------------------------------------------

check "create 101 more guests" 0 "101" \
	bash -c "'$XSC_SIM' create --first 10 101 | wc -l"
check "guest 10 writes garbage indices; the daemon says RINGIDX" 0 "OK
OK 2" "$sim" xs 10 "corrupt" "error 1000"
check "100 guests boot over their rings meanwhile" 0 "" \
	bash -c "'$XSC_SIM' guest --boot --report '$xs_tmp/boot' \
	$(seq -s ' ' 11 110) >/dev/null"
check "all 100 booted" 0 "boots 100" grep '^boots ' "$xs_tmp/boot"
check "with no errors" 0 "errors 0" grep '^errors ' "$xs_tmp/boot"
check "guest 10 stays cut off" 2 "TIMEOUT" \
	"$sim" xs --timeout 500 10 "read name"

# --- the daemon stops cleanly with guests attached -----------------------------

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
