/*
 * The chunk codec: a chunk is a run of one incarnation's console bytes,
 * stored as a zstd frame with a line index beside it. The index holds,
 * for every line start in the chunk (the first byte, and the byte after
 * each '\n'), its offset, capture time and store generation, as varint
 * deltas from the previous entry (the first entry's from the chunk's
 * first_ns and first_gen): varint(offset delta << 1 | changed), and
 * only if changed is 1, the time and generation deltas, zigzag encoded
 * since a clock may step back. Lines captured together cost one byte. No SQLite here: the fuzz target
 * drives this file alone. Rows read back are untrusted; a corrupt one
 * gives -EIO, never a crash.
 */
#ifndef XSC_CHUNK_H
#define XSC_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define CHUNK_MAX_RAW		(4u << 20)	/* larger rows are corrupt */
#define CHUNK_VARINT_MAX	10		/* bytes of a 64-bit varint */

/* A line index being built, one entry at a time. */
struct lineidx {
	unsigned char	*buf;
	size_t		 len, cap;
	uint32_t	 count;
	uint32_t	 prev_off;
	uint64_t	 prev_ns, prev_gen;
};

/* A chunk row as stored; what the reader gets back from the database. */
struct chunk_row {
	int64_t		 seq;
	uint64_t	 first_ns, first_gen;
	uint64_t	 raw_bytes;
	uint64_t	 lines;			/* entries in the index */
	bool		 continues;		/* first byte continues a line */
	bool		 after_gap;		/* chunks missing before it */
	const void	*data;			/* the zstd frame */
	size_t		 data_len;
	const void	*idx;
	size_t		 idx_len;
};

struct chunk_codec;

void		 lineidx_init(struct lineidx *, uint64_t, uint64_t);
void		 lineidx_add(struct lineidx *, uint32_t, uint64_t, uint64_t);
void		 lineidx_free(struct lineidx *);
size_t		 lineidx_put_varint(unsigned char *, uint64_t);
int		 lineidx_get_varint(const unsigned char **,
		    const unsigned char *, uint64_t *);

struct chunk_codec *chunk_codec_create(int);
void		 chunk_codec_free(struct chunk_codec *);
int		 chunk_compress(struct chunk_codec *, const void *, size_t,
		    const void **, size_t *);
int		 chunk_lines(struct chunk_codec *, const struct chunk_row *,
		    db_line_cb *, void *);

#endif
