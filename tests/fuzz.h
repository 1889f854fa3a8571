/*
 * What the fuzz targets share: an invariant that aborts (so libFuzzer
 * keeps the input), a varint reader for the parameters an input starts
 * with, the fields of a round trip's record, and a zstd frame made of
 * bytes (the targets that decode frames).
 */
#ifndef XSC_FUZZ_H
#define XSC_FUZZ_H

#include <stddef.h>
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

/* Split a record [rec, end) of a round trip into three fields at 0xfe
 * (the third takes the rest, 0xfe included). */
static inline void
fuzz_fields(const unsigned char *rec, const unsigned char *end,
    const unsigned char *f[3], size_t fl[3])
{
	const unsigned char	*q = rec;
	int			 k;

	for (k = 0; k < 3; k++) {
		f[k] = q;
		while (q < end && (*q != 0xfe || k == 2))
			q++;
		fl[k] = (size_t)(q - f[k]);
		if (q < end)
			q++;
	}
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
