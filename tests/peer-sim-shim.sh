#!/bin/bash
# Check bench/sim-shim.c: Debian's Xen 4.17 daemons serve a guest of the
# simulated host (../shared/sim-abi.md) through it.
#
# For C xenstored and oxenstored (started by bench/peers.sh --sim-root):
# make domain 5 as the sim toolstack does, write its keys, XS_INTRODUCE it,
# then play the guest: requests on the xenstore page (gnttab/1) with an event
# to SIM/evtchn.sock, replies read back from the page, the daemon's event
# seen on SIM/domains/5/evtchn.sock. Events for unbound pairs must not upset
# the daemon. "shutdown" + {0x7FF0,3} fires @releaseDomain and keeps the
# domain; "dying" + {0x7FF0,3} fires @releaseDomain and releases it.
#
# For xenconsoled (beside a C xenstored, which then binds another socket
# through XSC_SIM_EVTCHN_SOCK: one process per socket): guest output on the
# console page (gnttab/0) reaches the guest's log, SIM/hv-console +
# {0x7FF0,8} reaches the hypervisor log, typing on the pty reaches the page.
#
# Standalone (not part of make check). Needs xen-utils-4.17, xenstore-utils,
# libxen-dev, gcc and python3; exits 77 if one is missing. oxenstored needs
# unshare -m (root); without it that part is skipped.
#
# usage: tests/peer-sim-shim.sh [cxenstored] [oxenstored] [xenconsoled]
# Environment: KEEP=1 keeps the temporary directory.

set -u

here=$(cd "$(dirname "$0")" && pwd)
PEERS=$here/../bench/peers.sh
XENBIN=/usr/lib/xen-4.17/bin
parts=${*:-cxenstored oxenstored xenconsoled}

skip() {
	echo "peer-sim-shim: SKIP: $*"
	exit 77
}

for b in xenstored oxenstored xenconsoled; do
	[ -x "$XENBIN/$b" ] || skip "xen-utils-4.17 is not installed"
done
for c in xenstore-write xenstore-read xenstore-chmod xenstore-watch \
    python3 gcc; do
	command -v "$c" >/dev/null || skip "$c is missing"
done
[ -r /usr/include/xenctrl.h ] || skip "libxen-dev is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/peer-sim-shim.XXXXXX") || exit 1
passed=0 failed=0
bgpids=
peerdirs=

cleanup() {
	local p d
	for p in $bgpids; do
		kill "$p" 2>/dev/null
	done
	for d in $peerdirs; do
		"$PEERS" stop "$d" >/dev/null 2>&1
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "peer-sim-shim: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
		echo "  expected: $(printf '%s' "$2" | tr '\n' '|')"
		echo "  got:      $(printf '%s' "$3" | tr '\n' '|')"
	fi
}

# Wait up to 10 s for a file to have at least N lines.
wait_lines() {
	local i=0
	while [ $i -lt 100 ]; do
		[ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Wait up to 10 s for a file to contain a fixed string.
wait_grep() {
	local i=0
	while [ $i -lt 100 ]; do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# The sim toolstack and guest.
guest=$tmp/simguest.py
cat >"$guest" <<'EOF'
"""Toolstack and guest of the simulated host (sim-abi.md v1)."""
import mmap, os, select, socket, struct, sys, time

XS = {"DIRECTORY": 1, "READ": 2, "INTRODUCE": 8, "WRITE": 11, "ERROR": 16,
      "IS_DOMAIN_INTRODUCED": 17}
REQ, RSP, IDX, RING = 0, 1024, 2048, 1024            # xenstore_domain_interface
CIN, COUT, CIDX = 0, 1024, 3072                       # xencons_interface


def mkdom(sim, domid):
    d = os.path.join(sim, "domains", str(domid))
    os.makedirs(os.path.join(d, "gnttab"), exist_ok=True)
    for ref in (0, 1):
        with open(os.path.join(d, "gnttab", str(ref)), "wb") as f:
            f.write(b"\0" * 4096)
    with open(os.path.join(d, "state"), "w") as f:
        f.write("running\n")


def request(path, op, payload):
    """One request on the daemon's Unix socket, as dom0."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(struct.pack("<IIII", XS[op], 1, 0, len(payload)) + payload)
    buf = b""
    while len(buf) < 16 or len(buf) < 16 + struct.unpack("<IIII", buf[:16])[3]:
        c = s.recv(65536)
        if not c:
            sys.exit("daemon closed the connection")
        buf += c
    s.close()
    t, _, _, n = struct.unpack("<IIII", buf[:16])
    body = buf[16:16 + n].rstrip(b"\0").decode()
    return ("ERROR " + body) if t == XS["ERROR"] else body


def event(sim, domid, port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(struct.pack("<II", domid, port), os.path.join(sim, "evtchn.sock"))
    s.close()


def guest_socket(sim, domid):
    path = os.path.join(sim, "domains", str(domid), "evtchn.sock")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    ev = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ev.bind(path)
    return ev, path


def page(sim, domid, ref):
    fd = os.open(os.path.join(sim, "domains", str(domid), "gnttab", str(ref)),
                 os.O_RDWR)
    m = mmap.mmap(fd, 4096, mmap.MAP_SHARED)
    os.close(fd)
    return m


def u32(m, off):
    return struct.unpack_from("<I", m, off)[0]


def set_u32(m, off, v):
    struct.pack_into("<I", m, off, v & 0xFFFFFFFF)


def ring(sim, domid, port, op, path, value=None):
    """As the guest: one request over the xenstore page."""
    ev, evpath = guest_socket(sim, domid)
    m = page(sim, domid, 1)
    payload = path.encode() + b"\0"
    if value is not None:
        payload += value.encode()
    msg = struct.pack("<IIII", XS[op], 42, 0, len(payload)) + payload
    prod = u32(m, IDX + 4)
    if len(msg) > RING - (prod - u32(m, IDX)):
        sys.exit("request ring full")
    for i, b in enumerate(msg):
        m[REQ + ((prod + i) & (RING - 1))] = b
    set_u32(m, IDX + 4, prod + len(msg))
    event(sim, domid, port)
    mine = struct.pack("<II", domid, port)
    got_event, reply, need = False, b"", 16
    deadline = time.time() + 10
    while len(reply) < need:
        cons, rprod = u32(m, IDX + 8), u32(m, IDX + 12)
        while cons != rprod and len(reply) < need:
            reply += bytes([m[RSP + (cons & (RING - 1))]])
            cons += 1
            if len(reply) == 16:
                need = 16 + struct.unpack("<IIII", reply)[3]
        set_u32(m, IDX + 8, cons)
        if len(reply) >= need:
            break
        if time.time() > deadline:
            sys.exit("no reply on the ring")
        if select.select([ev], [], [], 0.05)[0] and ev.recv(64) == mine:
            got_event = True
    while select.select([ev], [], [], 0.3)[0]:      # a trailing event
        if ev.recv(64) == mine:
            got_event = True
    t, rid, _, n = struct.unpack("<IIII", reply[:16])
    body = reply[16:16 + n]
    if t == XS["ERROR"]:
        print("ERROR " + body.rstrip(b"\0").decode())
    elif t == XS["DIRECTORY"]:
        print(" ".join(sorted(x.decode() for x in body.split(b"\0") if x)))
    else:
        print(body.rstrip(b"\0").decode())
    if rid != 42:
        print("bad req_id %d" % rid)
    if got_event:
        print("event")
    ev.close()
    os.unlink(evpath)


def conout(sim, domid, port, text):
    """As the guest: write text on the console page, send the event."""
    m = page(sim, domid, 0)
    data = text.encode() + b"\n"
    prod = u32(m, CIDX + 12)
    for i, b in enumerate(data):
        m[COUT + ((prod + i) & 2047)] = b
    set_u32(m, CIDX + 12, prod + len(data))
    event(sim, domid, port)


def conin(sim, domid, port, tty, text):
    """Type text on the console's pty; print what the guest's page got and
    "event" if the guest was notified."""
    import tty as ttymod
    ev, evpath = guest_socket(sim, domid)
    m = page(sim, domid, 0)
    fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    ttymod.setraw(fd)
    os.write(fd, text.encode())
    mine = struct.pack("<II", domid, port)
    got_event = False
    deadline = time.time() + 10
    while time.time() < deadline:
        if select.select([ev], [], [], 0.1)[0] and ev.recv(64) == mine:
            got_event = True
        if u32(m, CIDX + 4) - u32(m, CIDX) >= len(text) and got_event:
            break
    cons, prod = u32(m, CIDX), u32(m, CIDX + 4)
    print(bytes(m[CIN + (i & 1023)] for i in range(cons, prod)).decode())
    set_u32(m, CIDX, prod)
    if got_event:
        print("event")
    os.close(fd)
    ev.close()
    os.unlink(evpath)


a = sys.argv[1:]
if a[0] == "mkdom":
    mkdom(a[1], int(a[2]))
elif a[0] == "introduce":
    print(request(a[1], "INTRODUCE", ("%s\0%s\0%s\0" % (a[2], 0, a[3])).encode()))
elif a[0] == "isintroduced":
    print(request(a[1], "IS_DOMAIN_INTRODUCED", (a[2] + "\0").encode()))
elif a[0] == "ring":
    ring(a[1], int(a[2]), int(a[3]), a[4], a[5], *a[6:7])
elif a[0] == "event":
    event(a[1], int(a[2], 0), int(a[3]))
elif a[0] == "conout":
    conout(a[1], int(a[2]), int(a[3]), a[4])
elif a[0] == "conin":
    conin(a[1], int(a[2]), int(a[3]), a[4], a[5])
else:
    sys.exit("unknown command " + a[0])
EOF

g() {
	timeout 20 python3 "$guest" "$@" 2>&1
}

# xenstore-watch -n N PATH into FILE in the background; waits for the
# registration event (the first line).
start_watch() {
	local file=$1 n=$2 path=$3
	timeout 20 xenstore-watch -n "$n" "$path" >"$file" 2>&1 &
	bgpids="$bgpids $!"
	wait_lines "$file" 1
}

# The store daemons: C xenstored and oxenstored.
store_part() {
	local peer=$1 sim=$tmp/$1-sim dir=$tmp/$1 sock out
	echo "== $peer"
	if [ "$peer" = oxenstored ] && ! unshare -m true 2>/dev/null; then
		echo "skip oxenstored: unshare -m is not permitted here"
		return 0
	fi
	g mkdom "$sim" 5
	peerdirs="$peerdirs $dir"
	if ! sock=$("$PEERS" start "$peer" "$dir" --sim-root "$sim" 2>&1); then
		check "$peer starts under the sim shim" "" "$sock"
		return 0
	fi
	sock=$(printf '%s\n' "$sock" | tail -n 1)
	export XENSTORED_PATH=$sock

	# The toolstack's part, as libxl does it.
	xenstore-write /local/domain/5/name guest5 /local/domain/5/domid 5
	xenstore-chmod -r /local/domain/5 n5
	check "$peer: XS_INTRODUCE(5, 0, 7)" OK "$(g introduce "$sock" 5 7)"
	check "$peer: domain 5 introduced" T "$(g isintroduced "$sock" 5)"

	# The guest's part, over its ring.
	check "$peer: guest reads its name over the ring" "guest5
event" "$(g ring "$sim" 5 7 READ /local/domain/5/name)"
	check "$peer: guest writes over the ring" "OK
event" "$(g ring "$sim" 5 7 WRITE data/x hello)"
	check "$peer: dom0 reads the guest's write" hello \
	    "$(xenstore-read /local/domain/5/data/x 2>&1)"
	check "$peer: guest lists its directory" "data domid name
event" "$(g ring "$sim" 5 7 DIRECTORY /local/domain/5)"

	# Events nobody bound: a foreign pair, an unbound virq, a wrong port.
	g event "$sim" 6 7
	g event "$sim" 0x7FF0 9
	g event "$sim" 5 8
	sleep 0.3
	check "$peer: unbound events ignored, guest still served" "hello
event" "$(g ring "$sim" 5 7 READ data/x)"

	# Shutdown: @releaseDomain fires, the domain stays.
	out=$tmp/$peer-watch1
	start_watch "$out" 2 @releaseDomain
	echo shutdown >"$sim/domains/5/state"
	g event "$sim" 0x7FF0 3
	wait_lines "$out" 2
	check "$peer: shutdown fires @releaseDomain" "@releaseDomain
@releaseDomain" "$(cat "$out")"
	check "$peer: a shut down domain stays introduced" T \
	    "$(g isintroduced "$sock" 5)"

	# Dying: @releaseDomain fires, the domain is released.
	out=$tmp/$peer-watch2
	start_watch "$out" 2 @releaseDomain
	echo dying >"$sim/domains/5/state"
	g event "$sim" 0x7FF0 3
	wait_lines "$out" 2
	check "$peer: dying fires @releaseDomain" "@releaseDomain
@releaseDomain" "$(cat "$out")"
	check "$peer: a dying domain is released" F \
	    "$(g isintroduced "$sock" 5)"
	# Both daemons (4.17, XSA-322) remove the nodes a dead domain owned.
	check "$peer: the released domain's nodes are gone" 1 \
	    "$(xenstore-read /local/domain/5/name >/dev/null 2>&1; echo $?)"
	xenstore-write /t/after release
	check "$peer: daemon still serves dom0" release \
	    "$(xenstore-read /t/after 2>&1)"

	"$PEERS" stop "$dir"
	unset XENSTORED_PATH
}

# xenconsoled beside a C xenstored.
console_part() {
	local sim=$tmp/con-sim dir=$tmp/con-xenstored logs=$tmp/con-logs
	local sock pid tty i
	echo "== xenconsoled"
	g mkdom "$sim" 5
	mkdir -p "$logs"
	peerdirs="$peerdirs $dir"
	if ! sock=$(XSC_SIM_EVTCHN_SOCK=$sim/xenstored-evtchn.sock \
	    "$PEERS" start cxenstored "$dir" --sim-root "$sim" 2>&1); then
		check "xenstored for xenconsoled starts" "" "$sock"
		return 0
	fi
	sock=$(printf '%s\n' "$sock" | tail -n 1)
	export XENSTORED_PATH=$sock
	xenstore-write /local/domain/5/name guest5 /local/domain/5/domid 5 \
	    /local/domain/5/console/ring-ref 0 \
	    /local/domain/5/console/port 11 \
	    /local/domain/5/console/type xenconsoled
	xenstore-chmod -r /local/domain/5 n5
	g introduce "$sock" 5 7 >/dev/null

	XSC_SIM_ROOT=$sim LD_PRELOAD=$dir/sim-shim.so \
	    "$XENBIN/xenconsoled" -i --log=all --log-dir="$logs" \
	    </dev/null >"$logs/xenconsoled.out" 2>&1 &
	pid=$!
	bgpids="$bgpids $pid"
	i=0 tty=
	while [ $i -lt 100 ] && [ -z "$tty" ]; do
		tty=$(xenstore-read /local/domain/5/console/tty 2>/dev/null)
		sleep 0.1
		i=$((i + 1))
	done
	check "xenconsoled: connects domain 5's console" yes \
	    "$([ -n "$tty" ] && echo yes)"

	g conout "$sim" 5 11 "hello from the sim console"
	wait_grep "$logs/guest-guest5.log" "hello from the sim console"
	check "xenconsoled: guest output reaches its log" \
	    "hello from the sim console" \
	    "$(cat "$logs/guest-guest5.log" 2>&1)"

	echo "(XEN) hello from the sim hypervisor" >>"$sim/hv-console"
	g event "$sim" 0x7FF0 8
	wait_grep "$logs/hypervisor.log" "hello from the sim hypervisor"
	check "xenconsoled: hv-console + VIRQ_CON_RING reach its log" \
	    "(XEN) hello from the sim hypervisor" \
	    "$(cat "$logs/hypervisor.log" 2>&1)"

	if [ -n "$tty" ]; then
		check "xenconsoled: typing on the pty reaches the guest" "typed
event" "$(g conin "$sim" 5 11 "$tty" typed)"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	"$PEERS" stop "$dir"
	unset XENSTORED_PATH
}

for part in $parts; do
	case "$part" in
	cxenstored|oxenstored) store_part "$part" ;;
	xenconsoled) console_part ;;
	*) echo "unknown part $part"; exit 2 ;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
