#!/bin/sh
# The whole suite: install what is missing, build, run `make check`
# (unit tests, integration tests with real clients, fuzzing for a bounded
# time), then the same tests built with AddressSanitizer and
# UndefinedBehaviorSanitizer in a separate tree.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
# On a failure: the logs of the tests that failed (their ends), last, where
# CI's excerpt of the output shows them.
failed_logs() {
	for trs in tests/*.trs tests/integration/*.trs; do
		grep -Eq '^:test-result: (FAIL|ERROR)' "$trs" 2>/dev/null ||
			continue
		echo "=== ${trs%.trs}.log (its last 150 lines) ==="
		grep -E '^(FAIL|ERROR)' -A12 "${trs%.trs}.log" | head -60
		echo "..."
		tail -150 "${trs%.trs}.log"
	done
}
sh scripts/deps.sh
sh scripts/build.sh
make check || { failed_logs; exit 1; }

# Sanitizer build: a copy of the tree, so the plain build stays as it is.
san=${SAN_DIR:-/tmp/xsconsoled-asan}
rm -rf "$san"
mkdir -p "$san"
git ls-files -z | xargs -0 cp --parents -t "$san" 2>/dev/null ||
	cp -r . "$san"
cd "$san"
autoreconf -fi >/dev/null 2>&1
./configure -q --enable-sanitizers
make -j"$(nproc)" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
FUZZ_SECONDS=${FUZZ_SECONDS_ASAN:-5} \
	make check || { failed_logs; exit 1; }
cd "$top"
echo "all tests passed (plain and sanitizer builds)"
