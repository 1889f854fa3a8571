#!/bin/sh
# make check: fuzz the store history's snapshot codec (what db_tree_at
# reads back) for a bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" snapshot
