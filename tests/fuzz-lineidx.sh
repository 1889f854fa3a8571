#!/bin/sh
# make check: fuzz the console log's chunk codec (line index, zstd frame)
# for a bounded time.
exec sh "${top_srcdir:-.}/tests/run-fuzz.sh" lineidx
