/*
 * libFuzzer target: arbitrary bytes from a socket client, through the
 * framing (conn_feed) and every request handler. After each input the
 * tree must still pass its invariant check, and the engine must free
 * everything (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "log.h"
#include "tree.h"
#include "xsd-private.h"

/* Output goes nowhere but is counted, as a socket's queue would be. */
static void
fuzz_write(struct conn *c, const void *data, size_t len)
{
	evbuffer_add(c->ops_arg, data, len);
}

/* Bytes queued; drained after each message so the feed never stalls. */
static size_t
fuzz_queued(struct conn *c)
{
	size_t	len = evbuffer_get_length(c->ops_arg);

	evbuffer_drain(c->ops_arg, len);
	return (0);
}

/* Free the fake connection's sink. */
static void
fuzz_free(struct conn *c)
{
	evbuffer_free(c->ops_arg);
}

static const struct conn_ops fuzz_ops = {
	"fuzz", fuzz_write, fuzz_queued, fuzz_free, NULL, NULL
};

/* One input: the first byte picks privileged or an unprivileged guest. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base	*base;
	struct xsd_config		 cfg;
	struct xsd			*xsd;
	struct conn			*c;
	struct evbuffer			*in;

	if (size == 0)
		return (0);
	if (base == NULL) {
		base = event_base_new();
		log_set_level(LOG_LEVEL_ERROR);
	}
	xsd_config_defaults(&cfg);
	xsd = xsd_create(base, &cfg);
	c = conn_create(xsd, &fuzz_ops, evbuffer_new(), data[0] & 0x7f,
	    !(data[0] & 0x80));
	in = evbuffer_new();
	evbuffer_add(in, data + 1, size - 1);
	conn_feed(c, in);
	evbuffer_free(in);
	if (tree_check(xsd->store->tree, NULL) != 0)
		abort();
	xsd_free(xsd);
	return (0);
}
