/* Helpers shared by the unit tests (see testlib.h). */
#include <check.h>
#include <string.h>

#include <event2/buffer.h>

#include "testlib.h"

/* Append output to the connection's buffer. */
static void
fake_write(struct conn *c, const void *data, size_t len)
{
	evbuffer_add(c->ops_arg, data, len);
}

/* How much output waits. */
static size_t
fake_queued(struct conn *c)
{
	return (evbuffer_get_length(c->ops_arg));
}

/* Free the output buffer with the connection. */
static void
fake_free(struct conn *c)
{
	evbuffer_free(c->ops_arg);
}

const struct conn_ops test_fake_ops = {
	"fake", fake_write, fake_queued, fake_free, NULL, NULL
};

/* A list from text such as "n5,r7". */
struct perms *
test_perms_text(const char *text)
{
	struct perms	*ps;
	char		 buf[128];
	uint32_t	 n = 1;
	size_t		 i, len = strlen(text) + 1;

	ck_assert_uint_lt(len, sizeof buf);
	memcpy(buf, text, len);
	for (i = 0; i < len; i++) {
		if (buf[i] == ',') {
			buf[i] = '\0';
			n++;
		}
	}
	ck_assert_int_eq(perms_parse(buf, len, n, &ps), 0);
	return (ps);
}
