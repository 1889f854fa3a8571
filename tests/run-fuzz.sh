#!/bin/sh
# Run a fuzz target for FUZZ_SECONDS (default 20) from its seed corpus.
# New inputs go to a scratch directory, never into the source tree.
# Without libFuzzer the target is a replay program: it runs the corpus.
set -e
target=$1
corpus=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$target" -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 \
	-rss_limit_mb=2048 "$scratch" "$corpus"
