#!/bin/sh
# make check: fuzz the wire parser and request dispatch for a bounded time.
b=${top_builddir:-.}
s=${top_srcdir:-.}
if [ -x "$b/tests/fuzz_wire" ]; then
	exec sh "$s/tests/run-fuzz.sh" "$b/tests/fuzz_wire" "$s/tests/corpus/wire"
fi
exec "$b/tests/fuzz_wire_replay" "$s/tests/corpus/wire"
