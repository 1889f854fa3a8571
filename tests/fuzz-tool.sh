#!/bin/sh
# make check: fuzz the log readers' time parser (--since, --until) and
# the escapes of guest and store bytes for a terminal, JSON and
# xenstore-ls, for a bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" tool
