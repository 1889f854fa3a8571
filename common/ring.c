/*
 * Shared-memory byte rings (see ring.h). The order is Xen's: read the
 * indices, barrier, check them, copy, barrier, publish our index. The
 * caller notifies the other side after a read or write that moved data.
 */
#include <errno.h>
#include <string.h>

#include "ring.h"

/* Bytes waiting to be read, or -EIO if the indices are impossible. */
ssize_t
ring_readable(const struct ring *r)
{
	uint32_t	cons = *r->cons, prod = *r->prod;

	ring_rmb();
	if (prod - cons > r->size)
		return (-EIO);
	return ((ssize_t)(prod - cons));
}

/* Bytes of free space, or -EIO if the indices are impossible. */
ssize_t
ring_writable(const struct ring *r)
{
	uint32_t	cons = *r->cons, prod = *r->prod;

	ring_mb();
	if (prod - cons > r->size)
		return (-EIO);
	return ((ssize_t)(r->size - (prod - cons)));
}

/* Copy up to len bytes out of the ring without taking them; the count
 * or -EIO. */
ssize_t
ring_peek(const struct ring *r, void *buf, size_t len)
{
	uint32_t	 cons = *r->cons, prod = *r->prod, avail, off, chunk;
	char		*out = buf;

	ring_rmb();
	if (prod - cons > r->size)
		return (-EIO);
	avail = prod - cons;
	if (len > avail)
		len = avail;
	off = cons & (r->size - 1);
	chunk = r->size - off;
	if (chunk > len)
		chunk = (uint32_t)len;
	memcpy(out, (const char *)r->buf + off, chunk);
	memcpy(out + chunk, (const char *)r->buf, len - chunk);
	return ((ssize_t)len);
}

/* Take n bytes already looked at with ring_peek out of the ring. */
void
ring_skip(const struct ring *r, size_t n)
{
	uint32_t	cons = *r->cons;

	ring_mb();
	*r->cons = cons + (uint32_t)n;
}

/* Copy up to len bytes out of the ring; returns the count or -EIO. */
ssize_t
ring_read(const struct ring *r, void *buf, size_t len)
{
	ssize_t	n = ring_peek(r, buf, len);

	if (n > 0)
		ring_skip(r, (size_t)n);
	return (n);
}

/* Copy up to len bytes into the ring; returns the count or -EIO. */
ssize_t
ring_write(const struct ring *r, const void *buf, size_t len)
{
	uint32_t	 cons = *r->cons, prod = *r->prod, space, off, chunk;
	const char	*in = buf;

	ring_mb();
	if (prod - cons > r->size)
		return (-EIO);
	space = r->size - (prod - cons);
	if (len > space)
		len = space;
	off = prod & (r->size - 1);
	chunk = r->size - off;
	if (chunk > len)
		chunk = (uint32_t)len;
	memcpy((char *)r->buf + off, in, chunk);
	memcpy((char *)r->buf, in + chunk, len - chunk);
	ring_wmb();
	*r->prod = prod + (uint32_t)len;
	return ((ssize_t)len);
}
