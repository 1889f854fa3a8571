#!/bin/sh
# Configure (once) and build in the source tree. Extra arguments go to
# configure.
set -e
cd "$(dirname "$0")/.."
if [ ! -x configure ]; then
	autoreconf -fi
fi
if [ ! -f Makefile ]; then
	./configure -q "$@"
fi
make -j"$(nproc)"
