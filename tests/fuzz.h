/*
 * What the fuzz targets share: an invariant that aborts (so libFuzzer
 * keeps the input), a varint reader for the parameters an input starts
 * with, and a zstd frame made of bytes (the targets that decode frames).
 */
#ifndef XSC_FUZZ_H
#define XSC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* An invariant is broken: stop here so the fuzzer keeps the input. */
#define FUZZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);	\
		abort();						\
	}								\
} while (0)

/* Read a varint, or give 0 at the end of the input. */
static inline uint64_t
fuzz_take(const unsigned char **p, const unsigned char *end)
{
	uint64_t	v = 0;
	int		shift;

	for (shift = 0; *p < end && shift < 64; shift += 7) {
		v |= (uint64_t)(**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80))
			return (v);
	}
	*p = end;
	return (v);
}

#ifdef ZSTD_VERSION_MAJOR
/* len bytes as one zstd frame (level 1), malloc'd; *zlen its length. */
static inline void *
fuzz_compress(const void *p, size_t len, size_t *zlen)
{
	void	*z;

	*zlen = ZSTD_compressBound(len);
	z = malloc(*zlen);
	FUZZ_CHECK(z != NULL);
	*zlen = ZSTD_compress(z, *zlen, p, len, 1);
	FUZZ_CHECK(!ZSTD_isError(*zlen));
	return (z);
}
#endif

#endif
