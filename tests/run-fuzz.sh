#!/bin/sh
# Run fuzz target NAME (tests/fuzz_NAME) for FUZZ_SECONDS (default 20)
# from its seed corpus tests/corpus/NAME. New inputs go to a scratch
# directory, never into the source tree. Without libFuzzer (no clang) the
# target is a replay program, tests/fuzz_NAME_replay: it runs the corpus.
set -e
name=$1
b=${top_builddir:-.}
s=${top_srcdir:-.}
corpus=$s/tests/corpus/$name
if [ ! -x "$b/tests/fuzz_$name" ]; then
	exec "$b/tests/fuzz_${name}_replay" "$corpus"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$b/tests/fuzz_$name" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 \
	-rss_limit_mb=2048 "$scratch" "$corpus"
