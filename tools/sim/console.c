/* The guest end of a console page, and generated console text (see
 * console.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "console.h"

/* Start using a mapped console page; its indices stay as they are. */
void
conring_init(struct conring *cr, void *page)
{
	memset(cr, 0, sizeof *cr);
	cr->intf = page;
	cr->out.buf = cr->intf->out;
	cr->out.size = sizeof cr->intf->out;
	cr->out.cons = &cr->intf->out_cons;
	cr->out.prod = &cr->intf->out_prod;
	cr->in.buf = cr->intf->in;
	cr->in.size = sizeof cr->intf->in;
	cr->in.cons = &cr->intf->in_cons;
	cr->in.prod = &cr->intf->in_prod;
}

/* Make generated line k of domain domid: "dom<id> line <k> " padded to
 * CONGEN_LINE - 1 bytes with letters that shift with k, then '\n'. */
static void
congen_line(uint32_t domid, uint64_t k, char line[CONGEN_LINE])
{
	int	n, i;

	n = snprintf(line, CONGEN_LINE, "dom%" PRIu32 " line %" PRIu64 " ",
	    domid, k);
	for (i = n; i < CONGEN_LINE - 1; i++)
		line[i] = (char)('a' + (k + (uint64_t)i) % 26);
	line[CONGEN_LINE - 1] = '\n';
}

/* The len bytes of domain domid's generated console text that start at
 * offset off: the text is lines of CONGEN_LINE bytes, line k at offset
 * k * CONGEN_LINE, so any byte can be recomputed from its offset. */
void
congen_fill(uint32_t domid, uint64_t off, char *buf, size_t len)
{
	char	line[CONGEN_LINE];
	size_t	at, n;

	while (len > 0) {
		congen_line(domid, off / CONGEN_LINE, line);
		at = (size_t)(off % CONGEN_LINE);
		n = CONGEN_LINE - at;
		if (n > len)
			n = len;
		memcpy(buf, line + at, n);
		buf += n;
		off += n;
		len -= n;
	}
}
