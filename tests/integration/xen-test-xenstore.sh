#!/bin/bash
# Xen's own store test suite (test-xenstore from xen-utils-4.17) against
# the real daemon, through the socket: every test it has, once.
. "${top_srcdir:-.}/tests/lib.sh"
bin=/usr/lib/xen-4.17/bin/test-xenstore
if [ ! -x "$bin" ]; then
	echo "skip: $bin missing (package xen-utils-4.17)"
	exit 77
fi
dir=$(mktemp -d)
trap 'xs_stop "$dir" >/dev/null 2>&1; rm -rf "$dir"' EXIT
xs_start "$dir" || exit 1
out=$(timeout 300 "$bin" 2>&1)
rc=$?
echo "$out"
# Each test prints "name: N ns" when it passed.
total=$("$bin" -l | grep -c ': ')
xs_passed=$(grep -cE ': [0-9]+ ns$' <<<"$out")
xs_failed=$((total - xs_passed))
[ $rc -eq 0 ] || { echo "FAIL: test-xenstore exited $rc"; xs_failed=$((xs_failed + 1)); }
xs_stop "$dir" || xs_failed=$((xs_failed + 1))
xs_summary
