/*
 * The history codec (hblob.h): the writer's encoder, and the readers'
 * decoder, which checks a blob whole before it hands anything out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "codec.h"
#include "hblob.h"
#include "log.h"
#include "xmalloc.h"

/* Start a commit of nchanges changes (hblob_enc_change adds them). */
void
hblob_enc_commit(struct hblob_enc *e, uint64_t gen, uint64_t ns,
    uint32_t origin, bool in_txn, uint32_t nchanges)
{
	uint64_t	dns;

	if (e->commits == 0) {
		e->gen_lo = gen;
		e->ns_lo = ns;
		codec_put_varint(&e->buf, &e->len, &e->cap, gen);
		dns = ns << 1;
	} else {
		codec_put_varint(&e->buf, &e->len, &e->cap, gen - e->gen_hi);
		dns = ns >= e->ns_hi ? (ns - e->ns_hi) << 1 :
		    ((e->ns_hi - ns - 1) << 1) | 1;
	}
	codec_put_varint(&e->buf, &e->len, &e->cap, dns);
	codec_put_varint(&e->buf, &e->len, &e->cap, origin);
	codec_put_varint(&e->buf, &e->len, &e->cap, in_txn ? 1 : 0);
	codec_put_varint(&e->buf, &e->len, &e->cap, nchanges);
	e->gen_hi = gen;
	e->ns_hi = ns;
	e->commits++;
	e->left = nchanges;
}

/* Add a change to the open commit (value and perms unused if deleted). */
void
hblob_enc_change(struct hblob_enc *e, uint32_t flags, const char *path,
    const void *value, uint32_t vlen, const char *perms)
{
	size_t	plen = strlen(path) + 1, permslen;

	codec_put_varint(&e->buf, &e->len, &e->cap, flags);
	codec_put_varint(&e->buf, &e->len, &e->cap, plen);
	codec_put(&e->buf, &e->len, &e->cap, path, plen);
	if (!(flags & HBLOB_DELETED)) {
		permslen = strlen(perms) + 1;
		codec_put_varint(&e->buf, &e->len, &e->cap, vlen);
		codec_put(&e->buf, &e->len, &e->cap, value, vlen);
		codec_put_varint(&e->buf, &e->len, &e->cap, permslen);
		codec_put(&e->buf, &e->len, &e->cap, perms, permslen);
	}
	e->changes++;
	if (e->left > 0)
		e->left--;
}

/*
 * Compress what was built into *out (grown as needed, *cap its size);
 * *outlen the frame's length. zctx is the caller's ZSTD_CCtx.
 */
int
hblob_compress(struct hblob_enc *e, void *zctx, int level,
    unsigned char **out, size_t *cap, size_t *outlen)
{
	if (codec_deflate(zctx, level, e->buf, e->len, out, cap,
	    outlen) != 0) {
		log_error("history: cannot compress a batch");
		return (-EIO);
	}
	return (0);
}

/* Empty a builder for the next blob (its buffer is kept). */
void
hblob_enc_reset(struct hblob_enc *e)
{
	e->len = 0;
	e->commits = e->changes = e->left = 0;
	e->gen_lo = e->gen_hi = e->ns_lo = e->ns_hi = 0;
}

/* Free a builder's buffer. */
void
hblob_enc_free(struct hblob_enc *e)
{
	free(e->buf);
	memset(e, 0, sizeof *e);
}

/* Read a NUL-terminated string field: exactly one NUL, at its end. */
static bool
hblob_string(const unsigned char **p, const unsigned char *end,
    const char **s)
{
	const unsigned char	*f;
	uint64_t		 len;

	if (!codec_field(p, end, &f, &len) || len == 0 ||
	    f[len - 1] != '\0' || memchr(f, '\0', len - 1) != NULL)
		return (false);
	*s = (const char *)f;
	return (true);
}

/* Read one change at *p; false if it does not fit. */
static bool
hblob_change(const unsigned char **p, const unsigned char *end,
    struct hblob_change *c)
{
	const unsigned char	*v;
	uint64_t		 flags, vlen;

	if (!codec_varint(p, end, &flags) ||
	    (flags & ~(uint64_t)(HBLOB_DELETED | HBLOB_CREATED)) != 0 ||
	    !hblob_string(p, end, &c->path))
		return (false);
	c->flags = (uint32_t)flags;
	c->value = NULL;
	c->perms = NULL;
	c->vlen = 0;
	if (flags & HBLOB_DELETED)
		return (true);
	if (!codec_field(p, end, &v, &vlen) || vlen > UINT32_MAX ||
	    !hblob_string(p, end, &c->perms))
		return (false);
	c->value = v;
	c->vlen = (uint32_t)vlen;
	return (true);
}

/* Read one commit's header at *p; false if it does not fit. */
static bool
hblob_commit(const unsigned char **p, const unsigned char *end, bool first,
    uint64_t pgen, uint64_t pns, struct hblob_commit *c)
{
	uint64_t	dgen, dns, origin, flags, n;

	if (!codec_varint(p, end, &dgen) || !codec_varint(p, end, &dns) ||
	    !codec_varint(p, end, &origin) || !codec_varint(p, end, &flags) ||
	    !codec_varint(p, end, &n) || origin > UINT32_MAX || flags > 1)
		return (false);
	if (first) {
		c->gen = dgen;
		c->ns = dns >> 1;
		if (dns & 1)
			return (false);
	} else {
		if (dgen == 0 || dgen > UINT64_MAX - pgen)
			return (false);
		c->gen = pgen + dgen;
		if (dns & 1) {
			if ((dns >> 1) >= pns)
				return (false);
			c->ns = pns - (dns >> 1) - 1;
		} else {
			if ((dns >> 1) > UINT64_MAX - pns)
				return (false);
			c->ns = pns + (dns >> 1);
		}
	}
	c->origin = (uint32_t)origin;
	c->in_txn = flags != 0;
	c->n = (size_t)n;
	return (n <= (uint64_t)(end - *p) / HBLOB_MIN_CHANGE);
}

/*
 * Decode a blob that holds commits commits, changes changes and raw
 * bytes (dctx: the caller's ZSTD_DCtx, or NULL); 0, -EIO if it is
 * corrupt (anything that does not add up), or -ENOMEM. Free it with
 * hblob_free.
 */
int
hblob_decode(void *dctx, const void *z, size_t zlen, uint64_t raw,
    uint64_t commits, uint64_t changes, struct hblob *b)
{
	const unsigned char	*p, *end;
	size_t			 capc = 0, capch = 0, j;
	int			 error;

	memset(b, 0, sizeof *b);
	if (raw == 0 || raw > HBLOB_MAX_RAW || commits == 0 ||
	    commits > raw / HBLOB_MIN_COMMIT ||
	    changes > raw / HBLOB_MIN_CHANGE)
		return (-EIO);
	if ((error = codec_inflate(dctx, z, zlen, raw, &b->raw)) != 0)
		return (error);
	p = b->raw;
	end = b->raw + raw;
	/* The arrays grow with what is really there, not with the
	 * counts the row claims. */
	while (p < end) {
		struct hblob_commit	c;

		if (b->nc == commits || !hblob_commit(&p, end, b->nc == 0,
		    b->nc > 0 ? b->c[b->nc - 1].gen : 0,
		    b->nc > 0 ? b->c[b->nc - 1].ns : 0, &c) ||
		    c.n > changes - b->nch)
			goto corrupt;
		c.first = b->nch;
		if (b->nc == capc) {
			capc = capc == 0 ? 64 : capc * 2;
			b->c = xrealloc(b->c, capc * sizeof *b->c);
		}
		b->c[b->nc] = c;
		for (j = 0; j < c.n; j++) {
			if (b->nch == capch) {
				capch = capch == 0 ? 64 : capch * 2;
				b->ch = xrealloc(b->ch, capch * sizeof *b->ch);
			}
			if (!hblob_change(&p, end, &b->ch[b->nch]))
				goto corrupt;
			b->ch[b->nch++].commit = b->nc;
		}
		b->nc++;
	}
	if (b->nc != commits || b->nch != changes)
		goto corrupt;
	return (0);
corrupt:
	hblob_free(b);
	return (-EIO);
}

/* Free a decoded blob. */
void
hblob_free(struct hblob *b)
{
	free(b->raw);
	free(b->c);
	free(b->ch);
	memset(b, 0, sizeof *b);
}
