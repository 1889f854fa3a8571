#!/bin/sh
# make check: fuzz the shared-page ring code for a bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" ring
