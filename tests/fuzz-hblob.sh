#!/bin/sh
# make check: fuzz the store history's batch codec (what db_history,
# db_tree_at and the thinning read back) for a bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" hblob
