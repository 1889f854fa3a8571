#!/bin/sh
# make check: fuzz the wire parser and request dispatch for a bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" wire
