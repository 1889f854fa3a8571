/*
 * What the store's two blob codecs share (snapshot.c, hblob.c): growing
 * buffers, LEB128 varints in their shortest form, length-prefixed
 * fields, and inflating one zstd frame of a known size from an untrusted
 * blob. No SQLite here: the fuzz targets drive these files alone.
 */
#ifndef XSC_CODEC_H
#define XSC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void	 codec_put(unsigned char **, size_t *, size_t *, const void *,
	    size_t);
void	 codec_put_varint(unsigned char **, size_t *, size_t *, uint64_t);
bool	 codec_varint(const unsigned char **, const unsigned char *,
	    uint64_t *);
bool	 codec_field(const unsigned char **, const unsigned char *,
	    const unsigned char **, uint64_t *);
int	 codec_inflate(void *, const void *, size_t, uint64_t,
	    unsigned char **);
int	 codec_deflate(void *, int, const void *, size_t, unsigned char **,
	    size_t *, size_t *);

#endif
