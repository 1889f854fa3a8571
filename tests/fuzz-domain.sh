#!/bin/sh
# make check: fuzz the daemon's reading of a guest's xenstore ring for a
# bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" domain
