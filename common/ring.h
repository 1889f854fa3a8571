/*
 * Shared-memory byte rings, as Xen's xenstore and console pages hold them:
 * a buffer of a power-of-two size and free-running 32-bit producer and
 * consumer indices. One copy of the index checks and memory barriers
 * serves both backends (xen and sim) and both ends (daemon and guest).
 * An index written by the other side is never trusted: if prod - cons
 * exceeds the ring's size, the ring is broken and -EIO is returned.
 */
#ifndef XSC_RING_H
#define XSC_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ring {
	volatile char		*buf;
	uint32_t		 size;		/* a power of two */
	volatile uint32_t	*cons;
	volatile uint32_t	*prod;
};

ssize_t	ring_peek(const struct ring *, void *, size_t);
ssize_t	ring_read(const struct ring *, void *, size_t);
void	ring_skip(const struct ring *, size_t);
ssize_t	ring_write(const struct ring *, const void *, size_t);
ssize_t	ring_readable(const struct ring *);
ssize_t	ring_writable(const struct ring *);

#define ring_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define ring_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define ring_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)

#endif
