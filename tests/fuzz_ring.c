/*
 * libFuzzer target: the input is a whole 4096-byte xenstore page as a
 * hostile guest could leave it (struct xenstore_domain_interface: both
 * rings and all four indices; shorter inputs are padded with zeros,
 * longer ones cut). The daemon's moves are replayed on it: how much is
 * readable, the request ring read in chunks, a reply written. The page
 * bytes after the interface steer the chunk sizes and a guest that moves
 * its index between reads.
 *
 * Checked after every call: nothing returns more than the ring's size or
 * than was asked; -EIO comes exactly when prod - cons > XENSTORE_RING_SIZE;
 * after -EIO neither the page nor the caller's buffer has changed; the
 * bytes read are the ring's bytes in index order.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "fuzz.h"
#include "ring.h"

#define PAGE		4096
#define RING		XENSTORE_RING_SIZE
#define STEER_OFF	(sizeof(struct xenstore_domain_interface))

/* An invariant of ring.c is broken: stop here so the fuzzer keeps it. */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The steering bytes: the tail of the page, read in a cycle. */
struct steer {
	const unsigned char	*p;
	size_t			 len, at;
};

/* The next steering byte. */
static unsigned
steer_byte(struct steer *s)
{
	return (s->p[s->at++ % s->len]);
}

/* A chunk size: mostly small, sometimes larger than the ring. */
static size_t
steer_len(struct steer *s)
{
	unsigned	b = steer_byte(s);

	if (b >= 0xF0)
		return ((size_t)RING * (b - 0xEF));
	return (b * 5u);
}

/* Whether the other side's indices are impossible. */
static int
ring_corrupt(uint32_t cons, uint32_t prod)
{
	return (prod - cons > RING);
}

/* Read the request ring in chunks as the daemon does, checking each. */
static void
fuzz_read_requests(struct xenstore_domain_interface *intf,
    struct ring *req, struct steer *s)
{
	unsigned char	page[PAGE], out[4 * RING + 1], *expect;
	uint32_t	cons, prod;
	size_t		want;
	ssize_t		n, avail, k;
	int		i;

	for (i = 0; i < 16; i++) {
		cons = intf->req_cons;
		prod = intf->req_prod;
		avail = ring_readable(req);
		if (ring_corrupt(cons, prod))
			FUZZ_CHECK(avail == -EIO);
		else
			FUZZ_CHECK(avail == (ssize_t)(prod - cons));
		FUZZ_CHECK(avail <= RING);

		want = steer_len(s);
		if (want > sizeof out - 1)
			want = sizeof out - 1;
		memcpy(page, intf, PAGE);
		memset(out, 0xA5, sizeof out);
		n = ring_read(req, out, want);
		FUZZ_CHECK(n <= RING && (n < 0 || (size_t)n <= want));
		if (ring_corrupt(cons, prod)) {
			FUZZ_CHECK(n == -EIO);
			FUZZ_CHECK(memcmp(page, intf, PAGE) == 0);
			FUZZ_CHECK(out[0] == 0xA5 && out[want] == 0xA5);
			FUZZ_CHECK(memcmp(out, out + 1, want) == 0);
			return;
		}
		FUZZ_CHECK(n >= 0);
		FUZZ_CHECK((size_t)n == (want < (size_t)avail ? want :
		    (size_t)avail));
		FUZZ_CHECK(intf->req_cons == cons + (uint32_t)n);
		FUZZ_CHECK(intf->req_prod == prod);
		expect = (unsigned char *)((struct xenstore_domain_interface *)
		    page)->req;
		for (k = 0; k < n; k++)
			FUZZ_CHECK(out[k] == expect[(cons + k) & (RING - 1)]);
		FUZZ_CHECK(out[n] == 0xA5);

		/* The guest may move its index, sanely or not, meanwhile. */
		switch (steer_byte(s) & 7) {
		case 0:
			intf->req_prod += steer_byte(s) * 8u;
			break;
		case 1:
			intf->req_prod = prod + RING + 1 + steer_byte(s);
			break;
		case 2:
			intf->req_cons -= steer_byte(s);
			break;
		default:
			break;
		}
		if (n == 0 && (steer_byte(s) & 1))
			break;
	}
}

/* Write reply bytes into the response ring, checking each write. */
static void
fuzz_write_replies(struct xenstore_domain_interface *intf,
    struct ring *rsp, struct steer *s)
{
	static unsigned char	reply[4 * RING];
	unsigned char		page[PAGE];
	uint32_t		cons, prod, i;
	size_t			want;
	ssize_t			n, space;
	int			round;

	for (i = 0; i < sizeof reply; i++)
		reply[i] = (unsigned char)(i * 7u + 3u);
	for (round = 0; round < 8; round++) {
		cons = intf->rsp_cons;
		prod = intf->rsp_prod;
		space = ring_writable(rsp);
		if (ring_corrupt(cons, prod))
			FUZZ_CHECK(space == -EIO);
		else
			FUZZ_CHECK(space == (ssize_t)(RING - (prod - cons)));
		FUZZ_CHECK(space <= RING);

		want = steer_len(s);
		if (want > sizeof reply)
			want = sizeof reply;
		memcpy(page, intf, PAGE);
		n = ring_write(rsp, reply, want);
		FUZZ_CHECK(n <= RING && (n < 0 || (size_t)n <= want));
		if (ring_corrupt(cons, prod)) {
			FUZZ_CHECK(n == -EIO);
			FUZZ_CHECK(memcmp(page, intf, PAGE) == 0);
			return;
		}
		FUZZ_CHECK((size_t)n == (want < (size_t)space ? want :
		    (size_t)space));
		FUZZ_CHECK(intf->rsp_prod == prod + (uint32_t)n);
		FUZZ_CHECK(intf->rsp_cons == cons);
		for (i = 0; i < (uint32_t)n; i++)
			FUZZ_CHECK((unsigned char)intf->rsp[(prod + i) &
			    (RING - 1)] == reply[i]);
		/* Nothing outside the response ring and its prod moved. */
		memcpy(page + offsetof(struct xenstore_domain_interface, rsp),
		    (const void *)intf->rsp, RING);
		((struct xenstore_domain_interface *)page)->rsp_prod =
		    intf->rsp_prod;
		FUZZ_CHECK(memcmp(page, intf, PAGE) == 0);

		/* The guest consumes some, or lies about it. */
		switch (steer_byte(s) & 3) {
		case 0:
			intf->rsp_cons += steer_byte(s) * 4u;
			break;
		case 1:
			intf->rsp_cons = intf->rsp_prod + 1 + steer_byte(s);
			break;
		default:
			break;
		}
	}
}

/* One input: one page, read and answered. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xenstore_domain_interface	*intf;
	struct ring				 req, rsp;
	struct steer				 s;
	unsigned char				*page;

	if ((page = aligned_alloc(PAGE, PAGE)) == NULL)
		return (0);
	memset(page, 0, PAGE);
	memcpy(page, data, size < PAGE ? size : PAGE);
	intf = (struct xenstore_domain_interface *)page;

	req.buf = intf->req;
	req.size = RING;
	req.cons = &intf->req_cons;
	req.prod = &intf->req_prod;
	rsp.buf = intf->rsp;
	rsp.size = RING;
	rsp.cons = &intf->rsp_cons;
	rsp.prod = &intf->rsp_prod;
	s.p = page + STEER_OFF;
	s.len = PAGE - STEER_OFF;
	s.at = 0;

	fuzz_read_requests(intf, &req, &s);
	fuzz_write_replies(intf, &rsp, &s);
	free(page);
	return (0);
}
