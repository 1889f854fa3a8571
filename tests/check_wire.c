/* Unit tests for the request layer (req.c, control.c, conn.c framing):
 * raw messages in through conn_feed(), exact reply bytes out. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "log.h"
#include "perms.h"
#include "store.h"
#include "tree.h"
#include "watch.h"
#include "xsd-private.h"
#include "xsd.h"
#include "testlib.h"

/* A payload literal and its length without the literal's own final NUL:
 * S("/a\0") is the three bytes '/', 'a', NUL. */
#define S(lit)	(lit), (sizeof(lit) - 1)

static const struct actor dom0 = { 0, PERMS_NO_TARGET, 1 };

static struct event_base	*base;
static struct xsd		*xsd;

/* Each test's engine, on a real event base. */
static void
setup(void)
{
	struct xsd_config	cfg;

	log_set_level(LOG_LEVEL_WARN);
	xsd_config_defaults(&cfg);
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	xsd = xsd_create(base, &cfg);
}

/* Free the engine. */
static void
teardown(void)
{
	xsd_free(xsd);
	event_base_free(base);
}

/* A connection on the fake transport (socket clients: dom0,
 * privileged). */
static struct conn *
mkconn(unsigned domid, bool privileged)
{
	return (conn_create(xsd, &test_fake_ops, evbuffer_new(), domid,
	    privileged));
}

/* Feed one whole message; returns conn_feed's result. */
static int
feed(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
    const void *payload, size_t len)
{
	struct evbuffer		*in = evbuffer_new();
	struct xsd_sockmsg	 hdr = { type, req_id, tx_id, (uint32_t)len };
	int			 r;

	evbuffer_add(in, &hdr, sizeof hdr);
	if (len != 0)
		evbuffer_add(in, payload, len);
	r = conn_feed(c, in);
	evbuffer_free(in);
	return (r);
}

/* Send a request with req_id 0 and tx_id 0. */
static void
req(struct conn *c, uint32_t type, const void *payload, size_t len)
{
	ck_assert_int_eq(feed(c, type, 0, 0, payload, len), 0);
}

/* Take the next message queued for the connection; its payload goes
 * into buf (NUL added after it). false if there is none. */
static bool
take(struct conn *c, struct xsd_sockmsg *hdr, char *buf, size_t size)
{
	struct evbuffer	*out = c->ops_arg;

	if (evbuffer_get_length(out) < sizeof *hdr)
		return (false);
	evbuffer_remove(out, hdr, sizeof *hdr);
	ck_assert_uint_le(hdr->len, XENSTORE_PAYLOAD_MAX);
	ck_assert_uint_lt(hdr->len, size);
	ck_assert_uint_ge(evbuffer_get_length(out), hdr->len);
	evbuffer_remove(out, buf, hdr->len);
	buf[hdr->len] = '\0';
	return (true);
}

/* Expect the next message exactly: header fields and payload bytes. */
static void
expect(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
    const void *payload, size_t len)
{
	struct xsd_sockmsg	hdr;
	char			buf[XENSTORE_PAYLOAD_MAX + 1];

	ck_assert_msg(take(c, &hdr, buf, sizeof buf), "no reply");
	ck_assert_uint_eq(hdr.type, type);
	ck_assert_uint_eq(hdr.req_id, req_id);
	ck_assert_uint_eq(hdr.tx_id, tx_id);
	ck_assert_msg(hdr.len == len && memcmp(buf, payload, len) == 0,
	    "payload \"%.*s\" (%u bytes), expected \"%.*s\" (%zu)",
	    (int)hdr.len, buf, hdr.len, (int)len, (const char *)payload, len);
}

/* Expect a reply of the given type (ids 0). */
static void
reply(struct conn *c, uint32_t type, const void *payload, size_t len)
{
	expect(c, type, 0, 0, payload, len);
}

/* Expect an error reply with the errno's name (ids 0). */
static void
error(struct conn *c, const char *name)
{
	reply(c, XS_ERROR, name, strlen(name) + 1);
}

/* Expect nothing more queued. */
static void
quiet(struct conn *c)
{
	ck_assert_uint_eq(evbuffer_get_length(c->ops_arg), 0);
}

/* The reply's header echoes type, req_id and tx_id; errors too. */
START_TEST(header_echo)
{
	struct conn	*c = mkconn(0, true);

	ck_assert_int_eq(feed(c, XS_WRITE, 0xdeadbeef, 0, S("/a\0v")), 0);
	expect(c, XS_WRITE, 0xdeadbeef, 0, S("OK\0"));
	ck_assert_int_eq(feed(c, XS_READ, 7, 0, S("/a\0")), 0);
	expect(c, XS_READ, 7, 0, S("v"));
	ck_assert_int_eq(feed(c, XS_READ, 8, 0, S("/nope\0")), 0);
	expect(c, XS_ERROR, 8, 0, S("ENOENT\0"));

	req(c, XS_TRANSACTION_START, S("\0"));
	reply(c, XS_TRANSACTION_START, S("1\0"));
	ck_assert_int_eq(feed(c, XS_READ, 9, 1, S("/a\0")), 0);
	expect(c, XS_READ, 9, 1, S("v"));
	ck_assert_int_eq(feed(c, XS_READ, 10, 1, S("/b\0")), 0);
	expect(c, XS_ERROR, 10, 1, S("ENOENT\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 11, 1, S("T\0")), 0);
	expect(c, XS_TRANSACTION_END, 11, 1, S("OK\0"));
	quiet(c);
}
END_TEST

/* The basic requests' exact replies. */
START_TEST(basic_replies)
{
	struct conn	*c = mkconn(0, true);

	req(c, XS_DIRECTORY, S("/\0"));
	reply(c, XS_DIRECTORY, S("tool\0"));
	req(c, XS_DIRECTORY, S("/tool/xenstored\0"));
	reply(c, XS_DIRECTORY, "", 0);
	req(c, XS_WRITE, S("/a/b\0va\0lue"));		/* raw, NULs too */
	reply(c, XS_WRITE, S("OK\0"));
	req(c, XS_READ, S("/a/b\0"));
	reply(c, XS_READ, S("va\0lue"));
	req(c, XS_WRITE, S("/empty\0"));
	reply(c, XS_WRITE, S("OK\0"));
	req(c, XS_READ, S("/empty\0"));
	reply(c, XS_READ, "", 0);
	req(c, XS_MKDIR, S("/a/c\0"));
	reply(c, XS_MKDIR, S("OK\0"));
	req(c, XS_MKDIR, S("/a/c\0"));
	reply(c, XS_MKDIR, S("OK\0"));
	req(c, XS_DIRECTORY, S("/a\0"));
	reply(c, XS_DIRECTORY, S("b\0c\0"));
	req(c, XS_GET_PERMS, S("/a\0"));
	reply(c, XS_GET_PERMS, S("n0\0"));
	/* The owner must be a domain that exists (none but dom0 here);
	 * other entries may name any domain, as in Xen. */
	req(c, XS_SET_PERMS, S("/a\0b5\0r7\0n9\0"));
	error(c, "ENOENT");
	req(c, XS_SET_PERMS, S("/a\0b0\0r7\0n9\0"));
	reply(c, XS_SET_PERMS, S("OK\0"));
	req(c, XS_GET_PERMS, S("/a\0"));
	reply(c, XS_GET_PERMS, S("b0\0r7\0n9\0"));
	req(c, XS_RM, S("/a\0"));
	reply(c, XS_RM, S("OK\0"));
	req(c, XS_RM, S("/a\0"));		/* gone, but "/" exists */
	reply(c, XS_RM, S("OK\0"));
	req(c, XS_RM, S("/a/b\0"));
	error(c, "ENOENT");
	quiet(c);
}
END_TEST

/* Relative paths of a socket client resolve below /local/domain/0. */
START_TEST(relative_paths)
{
	struct conn	*c = mkconn(0, true);
	struct conn	*d = mkconn(5, false);
	struct perms	*p5;
	char		*v;
	size_t		 len;

	req(c, XS_WRITE, S("rel/x\0v"));
	reply(c, XS_WRITE, S("OK\0"));
	ck_assert_int_eq(xsd_read(xsd, "/local/domain/0/rel/x", &v, &len), 0);
	ck_assert_str_eq(v, "v");
	free(v);
	req(c, XS_GET_DOMAIN_PATH, S("5\0"));
	reply(c, XS_GET_DOMAIN_PATH, S("/local/domain/5\0"));
	req(c, XS_GET_DOMAIN_PATH, S("abc\0"));
	reply(c, XS_GET_DOMAIN_PATH, S("/local/domain/0\0"));

	ck_assert_int_eq(store_mkdir(xsd->store, NULL, &dom0,
	    "/local/domain/5"), 0);
	/* As the toolstack does once domain 5 exists. */
	ck_assert_ptr_nonnull(p5 = perms_create(&(struct perm){ 5, PERM_NONE },
	    1));
	ck_assert_int_eq(store_set_perms(xsd->store, NULL, &dom0,
	    "/local/domain/5", p5), 0);
	perms_unref(p5);
	req(d, XS_WRITE, S("name\0guest"));
	reply(d, XS_WRITE, S("OK\0"));
	req(c, XS_READ, S("/local/domain/5/name\0"));
	reply(c, XS_READ, S("guest"));
	req(d, XS_GET_PERMS, S("name\0"));
	reply(d, XS_GET_PERMS, S("n5\0"));
	quiet(c);
	quiet(d);
}
END_TEST

/* The error names: permission, existence, bad input. */
START_TEST(error_names)
{
	struct conn	*c = mkconn(0, true);
	struct conn	*d = mkconn(5, false);

	req(d, XS_READ, S("/tool\0"));
	error(d, "EACCES");
	req(d, XS_READ, S("/tool/none\0"));
	error(d, "EACCES");
	req(c, XS_READ, S("/tool/none\0"));
	error(c, "ENOENT");
	req(c, XS_RM, S("/\0"));
	error(c, "EINVAL");
	req(d, XS_RM, S("/\0"));
	error(d, "EACCES");
	req(c, XS_READ, S("/a//b\0"));
	error(c, "EINVAL");
	req(c, XS_READ, S("/a/\0"));
	error(c, "EINVAL");
	req(c, XS_READ, S("\0"));
	error(c, "EINVAL");
	req(c, XS_READ, S("@releaseDomain\0"));
	error(c, "EINVAL");
	req(c, XS_WRITE, S("@releaseDomain\0x"));
	error(c, "EINVAL");
	req(c, XS_GET_PERMS, S("@releaseDomain\0"));
	error(c, "EINVAL");
	req(c, XS_SET_PERMS, S("/tool\0x0\0"));
	error(c, "EINVAL");
	req(c, XS_SET_PERMS, S("@other\0n0\0"));
	error(c, "EINVAL");
	req(c, XS_SET_PERMS, S("@releaseDomain\0n0\0"));
	reply(c, XS_SET_PERMS, S("OK\0"));
	req(d, XS_SET_PERMS, S("@releaseDomain\0n0\0"));
	error(d, "EACCES");
	quiet(c);
	quiet(d);
}
END_TEST

/* Unknown types are ENOSYS and the connection goes on. */
START_TEST(unknown_types)
{
	struct conn	*c = mkconn(0, true);
	uint32_t	 types[] = { XS_WATCH_EVENT, XS_ERROR, 20, XS_TYPE_COUNT,
	    XS_TYPE_COUNT + 1, XS_INVALID, UINT32_MAX };
	size_t		 i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		ck_assert_int_eq(feed(c, types[i], (uint32_t)i, 0, S("/\0")),
		    0);
		expect(c, XS_ERROR, (uint32_t)i, 0, S("ENOSYS\0"));
	}
	req(c, XS_DIRECTORY, S("/\0"));
	reply(c, XS_DIRECTORY, S("tool\0"));
	quiet(c);
}
END_TEST

/* Wrong argument counts and missing NULs are EINVAL. */
START_TEST(bad_arguments)
{
	struct conn	*c = mkconn(0, true);
	static const uint32_t onearg[] = {
		XS_READ, XS_DIRECTORY, XS_GET_PERMS, XS_MKDIR, XS_RM,
		XS_GET_DOMAIN_PATH, XS_IS_DOMAIN_INTRODUCED,
	};
	size_t		 i;

	for (i = 0; i < sizeof onearg / sizeof onearg[0]; i++) {
		req(c, onearg[i], "", 0);
		error(c, "EINVAL");
		req(c, onearg[i], S("/tool"));		/* no NUL */
		error(c, "EINVAL");
		req(c, onearg[i], S("/tool\0/tool\0"));	/* two */
		error(c, "EINVAL");
		req(c, onearg[i], S("/tool\0x"));	/* junk after */
		error(c, "EINVAL");
	}
	req(c, XS_WRITE, S("/a"));
	error(c, "EINVAL");
	req(c, XS_WRITE, "", 0);
	error(c, "EINVAL");
	req(c, XS_WATCH, S("/a\0"));
	error(c, "EINVAL");
	req(c, XS_WATCH, S("/a\0t\0depth\0"));
	error(c, "EINVAL");
	req(c, XS_WATCH, S("/a\0t"));
	error(c, "EINVAL");
	req(c, XS_UNWATCH, S("/a\0"));
	error(c, "EINVAL");
	req(c, XS_DIRECTORY_PART, S("/\0"));
	error(c, "EINVAL");
	req(c, XS_DIRECTORY_PART, S("/\0" "0\0" "0\0"));
	error(c, "EINVAL");
	req(c, XS_SET_PERMS, S("/tool\0"));
	error(c, "EINVAL");
	req(c, XS_SET_PERMS, S("/tool"));
	error(c, "EINVAL");
	req(c, XS_TRANSACTION_END, S("X\0"));
	error(c, "EINVAL");
	req(c, XS_TRANSACTION_END, S("T"));
	error(c, "EINVAL");
	req(c, XS_TRANSACTION_END, S("TT\0"));
	error(c, "EINVAL");
	req(c, XS_TRANSACTION_END, S("T\0F\0"));
	error(c, "EINVAL");
	quiet(c);
}
END_TEST

/* Requests are framed by their header: pieces wait for the rest; a
 * buffer holding several requests is answered in order. */
START_TEST(partial_messages)
{
	struct conn		*c = mkconn(0, true);
	struct evbuffer		*in = evbuffer_new();
	struct xsd_sockmsg	 hdr = { XS_WRITE, 42, 0, 6 };
	const char		*payload = "/p\0val";
	const char		*bytes = (const char *)&hdr;
	size_t			 i;

	for (i = 0; i < sizeof hdr; i++) {
		evbuffer_add(in, bytes + i, 1);
		ck_assert_int_eq(conn_feed(c, in), 0);
		quiet(c);
	}
	for (i = 0; i < 5; i++) {
		evbuffer_add(in, payload + i, 1);
		ck_assert_int_eq(conn_feed(c, in), 0);
		quiet(c);
	}
	ck_assert_uint_eq(evbuffer_get_length(in), sizeof hdr + 5);
	evbuffer_add(in, payload + 5, 1);
	ck_assert_int_eq(conn_feed(c, in), 0);
	expect(c, XS_WRITE, 42, 0, S("OK\0"));
	ck_assert_uint_eq(evbuffer_get_length(in), 0);

	/* Three requests and half of a fourth in one buffer. */
	for (i = 1; i <= 3; i++) {
		struct xsd_sockmsg	h = { XS_READ, (uint32_t)i, 0, 3 };

		evbuffer_add(in, &h, sizeof h);
		evbuffer_add(in, "/p", 3);
	}
	hdr.type = XS_DIRECTORY;
	hdr.req_id = 4;
	hdr.len = 2;
	evbuffer_add(in, &hdr, sizeof hdr);
	evbuffer_add(in, "/", 1);
	ck_assert_int_eq(conn_feed(c, in), 0);
	expect(c, XS_READ, 1, 0, S("val"));
	expect(c, XS_READ, 2, 0, S("val"));
	expect(c, XS_READ, 3, 0, S("val"));
	quiet(c);
	evbuffer_add(in, "", 1);
	ck_assert_int_eq(conn_feed(c, in), 0);
	expect(c, XS_DIRECTORY, 4, 0, S("tool\0p\0"));
	evbuffer_free(in);
}
END_TEST

/* A payload over 4096 bytes breaks the framing: -EPROTO, no reply. */
START_TEST(oversized)
{
	struct conn		*c = mkconn(0, true);
	struct evbuffer		*in = evbuffer_new();
	struct xsd_sockmsg	 hdr = { XS_READ, 0, 0, XENSTORE_PAYLOAD_MAX + 1 };
	char			*big = calloc(1, XENSTORE_PAYLOAD_MAX + 1);

	/* Exactly the maximum is a request like any other. */
	memset(big, 'a', XENSTORE_PAYLOAD_MAX);
	big[0] = '/';
	big[XENSTORE_PAYLOAD_MAX - 1] = '\0';
	req(c, XS_READ, big, XENSTORE_PAYLOAD_MAX);
	error(c, "EINVAL");
	memcpy(big, "/k\0", 3);
	req(c, XS_WRITE, big, XENSTORE_PAYLOAD_MAX);
	reply(c, XS_WRITE, S("OK\0"));

	/* The header alone is enough to refuse it. */
	evbuffer_add(in, &hdr, sizeof hdr);
	ck_assert_int_eq(conn_feed(c, in), -EPROTO);
	quiet(c);
	evbuffer_drain(in, evbuffer_get_length(in));
	hdr.len = UINT32_MAX;
	evbuffer_add(in, &hdr, sizeof hdr);
	evbuffer_add(in, big, 100);
	ck_assert_int_eq(conn_feed(c, in), -EPROTO);
	quiet(c);
	evbuffer_free(in);
	free(big);
}
END_TEST

/* Write n children named with a prefix and a 3-digit number. */
static void
many_children(const char *parent, const char *prefix, int n)
{
	char	path[256];
	int	i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s%03d", parent, prefix, i);
		ck_assert_int_eq(store_write(xsd->store, NULL, &dom0, path, "",
		    0), 0);
	}
}

/* DIRECTORY over 4096 bytes is E2BIG; DIRECTORY_PART gives it in
 * chunks: "<gen>\0", whole names from the offset, and a final "\0" on
 * the last chunk. */
START_TEST(directory_part)
{
	struct conn		*c = mkconn(0, true);
	struct xsd_sockmsg	 hdr;
	struct node		*n;
	char			 buf[XENSTORE_PAYLOAD_MAX + 1], arg[64];
	char			 gen[32], *all, *got;
	size_t			 alllen = 0, gotlen = 0, off = 0, genlen;
	size_t			 maxlen, want, name;
	int			 chunks = 0, alen;

	/* 200 names of 30 bytes (with NUL): 6000 bytes. */
	many_children("/big", "abcdefghijklmnopqrstuvwxyz", 200);
	req(c, XS_DIRECTORY, S("/big\0"));
	error(c, "E2BIG");

	n = tree_lookup(xsd->store->tree, "/big");
	ck_assert_uint_eq(n->children_len, 6000);
	genlen = (size_t)snprintf(gen, sizeof gen, "%" PRIu64, n->gen) + 1;
	all = malloc(n->children_len);
	got = malloc(n->children_len + 1);
	for (struct node *ch = n->child_first; ch != NULL; ch = ch->next) {
		memcpy(all + alllen, tree_node_name(ch),
		    strlen(tree_node_name(ch)) + 1);
		alllen += strlen(tree_node_name(ch)) + 1;
	}

	maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
	for (;;) {
		alen = snprintf(arg, sizeof arg, "/big%c%zu", '\0', off);
		req(c, XS_DIRECTORY_PART, arg, (size_t)alen + 1);
		ck_assert(take(c, &hdr, buf, sizeof buf));
		ck_assert_uint_eq(hdr.type, XS_DIRECTORY_PART);
		ck_assert_mem_eq(buf, gen, genlen);
		/* Whole names while they fit below maxlen (as Xen). */
		want = 0;
		while (off + want < alllen) {
			name = strlen(all + off + want);
			if (want + name >= maxlen)
				break;
			want += name + 1;
		}
		chunks++;
		if (off + want == alllen) {
			ck_assert_uint_eq(hdr.len, genlen + want + 1);
			ck_assert_int_eq(buf[genlen + want], '\0');
			ck_assert_int_eq(buf[genlen + want - 1], '\0');
			memcpy(got + gotlen, buf + genlen, want);
			gotlen += want;
			break;
		}
		ck_assert_uint_eq(hdr.len, genlen + want);
		ck_assert_int_eq(buf[hdr.len - 1], '\0');
		memcpy(got + gotlen, buf + genlen, want);
		gotlen += want;
		off += want;
	}
	ck_assert_int_eq(chunks, 2);
	ck_assert_uint_eq(gotlen, alllen);
	ck_assert_mem_eq(got, all, alllen);

	/* Past the end, and a node without children: "<gen>\0\0". */
	req(c, XS_DIRECTORY_PART, S("/big\0" "6000\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_uint_eq(hdr.len, genlen + 1);
	ck_assert_mem_eq(buf, gen, genlen);
	ck_assert_int_eq(buf[genlen], '\0');
	req(c, XS_DIRECTORY_PART, S("/big\0" "-1\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_uint_eq(hdr.len, genlen + 1);
	n = tree_lookup(xsd->store->tree, "/tool/xenstored");
	snprintf(gen, sizeof gen, "%" PRIu64, n->gen);
	req(c, XS_DIRECTORY_PART, S("/tool/xenstored\0" "0\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_uint_eq(hdr.len, strlen(gen) + 2);
	ck_assert_str_eq(buf, gen);
	ck_assert_int_eq(buf[strlen(gen) + 1], '\0');
	/* A small list: all of it, in one chunk. */
	n = tree_lookup(xsd->store->tree, "/");
	alen = snprintf(buf, sizeof buf, "%" PRIu64 "%cbig%c%c", n->gen, '\0',
	    '\0', '\0');
	req(c, XS_DIRECTORY_PART, S("/\0" "5\0"));
	reply(c, XS_DIRECTORY_PART, buf, (size_t)alen);
	req(c, XS_DIRECTORY_PART, S("/none\0" "0\0"));
	error(c, "ENOENT");

	/* The generation moves when the list does. */
	snprintf(gen, sizeof gen, "%" PRIu64,
	    tree_lookup(xsd->store->tree, "/big")->gen);
	many_children("/big", "z", 1);
	req(c, XS_DIRECTORY_PART, S("/big\0" "0\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_str_ne(buf, gen);
	free(all);
	free(got);
	quiet(c);
}
END_TEST

/* Exactly 4096 bytes of names still fit a DIRECTORY reply; one more is
 * E2BIG. */
START_TEST(directory_limit)
{
	struct conn		*c = mkconn(0, true);
	struct xsd_sockmsg	 hdr;
	char			 buf[XENSTORE_PAYLOAD_MAX + 1];

	/* 128 names of 32 bytes: 4096. */
	many_children("/lim", "abcdefghijklmnopqrstuvwxyz01", 128);
	ck_assert_uint_eq(tree_lookup(xsd->store->tree, "/lim")->children_len,
	    4096);
	req(c, XS_DIRECTORY, S("/lim\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_uint_eq(hdr.type, XS_DIRECTORY);
	ck_assert_uint_eq(hdr.len, 4096);
	many_children("/lim", "", 1);
	req(c, XS_DIRECTORY, S("/lim\0"));
	error(c, "E2BIG");
	quiet(c);
}
END_TEST

/* A control request's reply: the text and its NUL. */
static void
control_reply(struct conn *c, const char *text)
{
	reply(c, XS_CONTROL, text, strlen(text) + 1);
}

/* XS_CONTROL commands. */
START_TEST(control_commands)
{
	struct conn		*c = mkconn(0, true);
	struct conn		*d = mkconn(5, false);
	struct xsd_sockmsg	 hdr;
	char			 buf[XENSTORE_PAYLOAD_MAX + 1];

	req(c, XS_CONTROL, S("help\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_uint_eq(hdr.type, XS_CONTROL);
	ck_assert_uint_eq(hdr.len, strlen(buf) + 1);
	ck_assert_ptr_nonnull(strstr(buf, "check\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nlog\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nmemreport\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nprint\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nquota\t"));
	ck_assert_ptr_nonnull(strstr(buf, "\nhelp\t"));
	ck_assert_int_eq(buf[strlen(buf) - 1], '\n');
	req(c, XS_CONTROL, S("help\0x\0"));
	error(c, "EINVAL");

	req(c, XS_CONTROL, S("quota\0"));
	control_reply(c,
	    "Quota settings:\n"
	    "nodes            :     1000 Nodes per domain\n"
	    "watches          :      128 Watches per domain\n"
	    "transactions     :       10 Transactions per domain\n"
	    "outstanding      :       20 Outstanding requests per domain\n"
	    "transaction-nodes:     1024 Max. number of accessed nodes per "
	    "transaction\n"
	    "node-size        :     2048 Max. size of a node\n"
	    "path-max         :     2048 Max. length of a node path\n"
	    "permissions      :        5 Max. number of permissions per "
	    "node\n"
	    "memory           :  2097152 Max. bytes of unread output per "
	    "domain\n"
	    "write-rate       :      200 Writes per second per domain while "
	    "transactions are open\n"
	    "write-burst      :       10 Writes per domain at once\n"
	    "conflict-cost    :       20 Writes charged per transaction "
	    "another domain's commit fails\n");
	req(c, XS_CONTROL, S("quota\0set\0nodes\0" "5\0"));
	control_reply(c, "OK");
	ck_assert_uint_eq(xsd->cfg.quota.nodes, 5);
	req(c, XS_CONTROL, S("quota\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_ptr_nonnull(strstr(buf, "\nnodes            :        5 "));
	req(c, XS_CONTROL, S("quota\0set\0nodes\0" "0\0"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, S("quota\0set\0bogus\0" "5\0"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, S("quota\0set\0nodes\0"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, S("quota\0set\0nodes\0x5\0"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, S("quota\0" "0\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_ptr_nonnull(strstr(buf, "Domain 0:\nnodes           : "));
	ck_assert_ptr_nonnull(strstr(buf, "\noutstanding     :        0\n"));
	req(c, XS_CONTROL, S("quota\0" "77\0"));
	error(c, "ENOENT");
	req(c, XS_CONTROL, S("quota-soft\0"));
	control_reply(c, "Quota settings:\n");

	req(c, XS_CONTROL, S("check\0"));
	control_reply(c, "OK");
	req(c, XS_CONTROL, S("check\0x\0"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, S("print\0hello\0"));
	control_reply(c, "OK");
	req(c, XS_CONTROL, S("print\0"));
	error(c, "EINVAL");

	req(c, XS_CONTROL, S("log\0debug\0"));
	control_reply(c, "OK");
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_DEBUG);
	req(c, XS_CONTROL, S("log\0"));
	control_reply(c, "debug\n");
	req(c, XS_CONTROL, S("log\0off\0"));
	control_reply(c, "OK");
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_WARN);
	req(c, XS_CONTROL, S("log\0loud\0"));
	error(c, "EINVAL");

	req(c, XS_CONTROL, S("memreport\0"));
	ck_assert(take(c, &hdr, buf, sizeof buf));
	ck_assert_uint_eq(hdr.type, XS_CONTROL);
	ck_assert_ptr_nonnull(strstr(buf, "nodes: 3\n"));
	ck_assert_ptr_nonnull(strstr(buf, "connections: 2\n"));
	ck_assert_uint_eq(hdr.len, strlen(buf) + 1);
	req(c, XS_CONTROL, S("memreport\0a\0b\0"));
	error(c, "EINVAL");
	/* An errno Xen's table lacks (ENOTDIR) goes out as EINVAL. */
	req(c, XS_CONTROL, S("memreport\0/dev/null/x\0"));
	error(c, "EINVAL");

	req(c, XS_CONTROL, S("bogus\0"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, S("help"));
	error(c, "EINVAL");
	req(c, XS_CONTROL, "", 0);
	error(c, "EINVAL");
	req(d, XS_CONTROL, S("help\0"));
	error(d, "EACCES");
	req(d, XS_CONTROL, S("bogus"));
	error(d, "EACCES");
	quiet(c);
	quiet(d);
}
END_TEST

/* WATCH: OK, then the initial event; events as path\0token\0 with ids 0;
 * duplicates EEXIST; UNWATCH of what is not watched ENOENT. */
START_TEST(watch_wire)
{
	struct conn	*c = mkconn(0, true);

	ck_assert_int_eq(feed(c, XS_WATCH, 3, 0, S("/w\0tok\0")), 0);
	expect(c, XS_WATCH, 3, 0, S("OK\0"));
	expect(c, XS_WATCH_EVENT, 0, 0, S("/w\0tok\0"));
	quiet(c);
	req(c, XS_WATCH, S("/w\0tok\0"));
	error(c, "EEXIST");
	req(c, XS_WATCH, S("/w\0tok2\0"));
	reply(c, XS_WATCH, S("OK\0"));
	reply(c, XS_WATCH_EVENT, S("/w\0tok2\0"));

	/* As in Xen, a change's events are queued before its reply. */
	ck_assert_int_eq(feed(c, XS_WRITE, 9, 0, S("/w/x\0v")), 0);
	reply(c, XS_WATCH_EVENT, S("/w/x\0tok\0"));
	reply(c, XS_WATCH_EVENT, S("/w/x\0tok2\0"));
	expect(c, XS_WRITE, 9, 0, S("OK\0"));

	req(c, XS_UNWATCH, S("/w\0tok2\0"));
	reply(c, XS_UNWATCH, S("OK\0"));
	req(c, XS_UNWATCH, S("/w\0tok2\0"));
	error(c, "ENOENT");
	req(c, XS_UNWATCH, S("/other\0tok\0"));
	error(c, "ENOENT");
	req(c, XS_WRITE, S("/w\0v"));
	reply(c, XS_WATCH_EVENT, S("/w\0tok\0"));
	reply(c, XS_WRITE, S("OK\0"));

	/* Special names and paths that do not exist get their first event. */
	req(c, XS_WATCH, S("@releaseDomain\0r\0"));
	reply(c, XS_WATCH, S("OK\0"));
	reply(c, XS_WATCH_EVENT, S("@releaseDomain\0r\0"));
	req(c, XS_WATCH, S("/no/such/node\0n\0"));
	reply(c, XS_WATCH, S("OK\0"));
	reply(c, XS_WATCH_EVENT, S("/no/such/node\0n\0"));
	req(c, XS_WATCH, S("/bad//path\0n\0"));
	error(c, "EINVAL");

	/* WATCH and UNWATCH ignore tx_id. */
	ck_assert_int_eq(feed(c, XS_WATCH, 0, 77, S("/t\0t\0")), 0);
	expect(c, XS_WATCH, 0, 77, S("OK\0"));
	reply(c, XS_WATCH_EVENT, S("/t\0t\0"));
	ck_assert_int_eq(feed(c, XS_UNWATCH, 0, 77, S("/t\0t\0")), 0);
	expect(c, XS_UNWATCH, 0, 77, S("OK\0"));

	/* RESET_WATCHES drops them all. */
	req(c, XS_RESET_WATCHES, "", 0);
	reply(c, XS_RESET_WATCHES, S("OK\0"));
	ck_assert_uint_eq(c->nwatches, 0);
	req(c, XS_WRITE, S("/w\0v"));
	reply(c, XS_WRITE, S("OK\0"));
	quiet(c);
}
END_TEST

/* A relative watch hears relative paths, its first event included. */
START_TEST(watch_relative)
{
	struct conn	*c = mkconn(0, true);

	req(c, XS_WATCH, S("data\0rel\0"));
	reply(c, XS_WATCH, S("OK\0"));
	reply(c, XS_WATCH_EVENT, S("data\0rel\0"));
	req(c, XS_WRITE, S("data/x\0v"));
	reply(c, XS_WATCH_EVENT, S("data/x\0rel\0"));
	reply(c, XS_WRITE, S("OK\0"));
	req(c, XS_WRITE, S("/local/domain/0/data\0v"));
	reply(c, XS_WATCH_EVENT, S("data\0rel\0"));
	reply(c, XS_WRITE, S("OK\0"));
	req(c, XS_UNWATCH, S("data\0rel\0"));
	reply(c, XS_UNWATCH, S("OK\0"));
	quiet(c);
}
END_TEST

/* Transactions: ids 1, 2, 3...; no nesting; END's argument and id. */
START_TEST(transactions_wire)
{
	struct conn	*c = mkconn(0, true);
	struct conn	*other = mkconn(0, true);

	req(c, XS_TRANSACTION_START, S("\0"));
	reply(c, XS_TRANSACTION_START, S("1\0"));
	req(c, XS_TRANSACTION_START, "", 0);	/* payload not looked at */
	reply(c, XS_TRANSACTION_START, S("2\0"));
	req(c, XS_TRANSACTION_START, S("junk"));
	reply(c, XS_TRANSACTION_START, S("3\0"));
	req(other, XS_TRANSACTION_START, S("\0"));
	reply(other, XS_TRANSACTION_START, S("1\0"));

	/* No nesting; an unknown id is ENOENT. */
	ck_assert_int_eq(feed(c, XS_TRANSACTION_START, 0, 2, S("\0")), 0);
	expect(c, XS_ERROR, 0, 2, S("EBUSY\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_START, 0, 99, S("\0")), 0);
	expect(c, XS_ERROR, 0, 99, S("ENOENT\0"));
	ck_assert_int_eq(feed(c, XS_READ, 0, 99, S("/tool\0")), 0);
	expect(c, XS_ERROR, 0, 99, S("ENOENT\0"));

	/* END: the argument is checked first, then the id. */
	req(c, XS_TRANSACTION_END, S("X\0"));
	error(c, "EINVAL");
	req(c, XS_TRANSACTION_END, S("T\0"));
	error(c, "ENOENT");
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 42, S("T\0")), 0);
	expect(c, XS_ERROR, 0, 42, S("ENOENT\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 2, S("Y\0")), 0);
	expect(c, XS_ERROR, 0, 2, S("EINVAL\0"));

	/* Work in 1, commit; abort 2; the ids are gone after. */
	ck_assert_int_eq(feed(c, XS_WRITE, 0, 1, S("/t1\0one")), 0);
	expect(c, XS_WRITE, 0, 1, S("OK\0"));
	req(c, XS_READ, S("/t1\0"));
	error(c, "ENOENT");
	ck_assert_int_eq(feed(c, XS_WRITE, 0, 2, S("/t2\0two")), 0);
	expect(c, XS_WRITE, 0, 2, S("OK\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 1, S("T\0")), 0);
	expect(c, XS_TRANSACTION_END, 0, 1, S("OK\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 2, S("F\0")), 0);
	expect(c, XS_TRANSACTION_END, 0, 2, S("OK\0"));
	req(c, XS_READ, S("/t1\0"));
	reply(c, XS_READ, S("one"));
	req(c, XS_READ, S("/t2\0"));
	error(c, "ENOENT");
	ck_assert_int_eq(feed(c, XS_READ, 0, 1, S("/t1\0")), 0);
	expect(c, XS_ERROR, 0, 1, S("ENOENT\0"));

	/* A conflict: EAGAIN, and the id is gone too. (Transaction 3 reads
	 * the store as at its start, before 1 committed; one that changes
	 * nothing always succeeds: this one writes.) */
	ck_assert_int_eq(feed(c, XS_READ, 0, 3, S("/t1\0")), 0);
	expect(c, XS_ERROR, 0, 3, S("ENOENT\0"));
	ck_assert_int_eq(feed(c, XS_WRITE, 0, 3, S("/t3\0x")), 0);
	expect(c, XS_WRITE, 0, 3, S("OK\0"));
	req(other, XS_WRITE, S("/t1\0changed"));
	reply(other, XS_WRITE, S("OK\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 3, S("T\0")), 0);
	expect(c, XS_ERROR, 0, 3, S("EAGAIN\0"));
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 3, S("F\0")), 0);
	expect(c, XS_ERROR, 0, 3, S("ENOENT\0"));
	ck_assert_uint_eq(c->ntxns, 0);

	/* Ids are not reused. */
	req(c, XS_TRANSACTION_START, S("\0"));
	reply(c, XS_TRANSACTION_START, S("4\0"));
	/* RESET_WATCHES drops transactions too. */
	req(c, XS_RESET_WATCHES, "", 0);
	reply(c, XS_RESET_WATCHES, S("OK\0"));
	ck_assert_int_eq(feed(c, XS_READ, 0, 4, S("/t1\0")), 0);
	expect(c, XS_ERROR, 0, 4, S("ENOENT\0"));
	quiet(c);
	quiet(other);
}
END_TEST

/* Watch events of a transaction go out when it ends, after its OK. */
START_TEST(transaction_events)
{
	struct conn	*c = mkconn(0, true);

	req(c, XS_WATCH, S("/e\0w\0"));
	reply(c, XS_WATCH, S("OK\0"));
	reply(c, XS_WATCH_EVENT, S("/e\0w\0"));
	req(c, XS_TRANSACTION_START, S("\0"));
	reply(c, XS_TRANSACTION_START, S("1\0"));
	ck_assert_int_eq(feed(c, XS_WRITE, 0, 1, S("/e/a\0" "1")), 0);
	expect(c, XS_WRITE, 0, 1, S("OK\0"));
	ck_assert_int_eq(feed(c, XS_WRITE, 0, 1, S("/e/b\0" "2")), 0);
	expect(c, XS_WRITE, 0, 1, S("OK\0"));
	quiet(c);
	ck_assert_int_eq(feed(c, XS_TRANSACTION_END, 0, 1, S("T\0")), 0);
	/* The events are queued during the commit, before the reply. */
	reply(c, XS_WATCH_EVENT, S("/e/a\0w\0"));
	reply(c, XS_WATCH_EVENT, S("/e/b\0w\0"));
	expect(c, XS_TRANSACTION_END, 0, 1, S("OK\0"));
	quiet(c);
}
END_TEST

/* Privileged-only requests and IS_DOMAIN_INTRODUCED. */
START_TEST(privileged_only)
{
	struct conn	*c = mkconn(0, true);
	struct conn	*d = mkconn(5, false);

	req(c, XS_IS_DOMAIN_INTRODUCED, S("0\0"));
	reply(c, XS_IS_DOMAIN_INTRODUCED, S("T\0"));
	req(d, XS_IS_DOMAIN_INTRODUCED, S("0\0"));
	error(d, "EACCES");
	req(d, XS_INTRODUCE, S("5\0" "1\0" "2\0"));
	error(d, "EACCES");
	req(d, XS_RELEASE, S("5\0"));
	error(d, "EACCES");
	req(d, XS_SET_TARGET, S("5\0" "6\0"));
	error(d, "EACCES");
	req(d, XS_RESUME, S("5\0"));
	error(d, "EACCES");
	/* An unknown tx_id after the privilege check. */
	ck_assert_int_eq(feed(d, XS_CONTROL, 0, 9, S("help\0")), 0);
	expect(d, XS_ERROR, 0, 9, S("EACCES\0"));
	req(d, XS_GET_DOMAIN_PATH, S("5\0"));
	reply(d, XS_GET_DOMAIN_PATH, S("/local/domain/5\0"));
	quiet(c);
	quiet(d);
}
END_TEST

/* All of the request layer's tests. */
static Suite *
wire_suite(void)
{
	Suite	*s = suite_create("wire");
	TCase	*tc;

	tc = tcase_create("requests");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, header_echo);
	tcase_add_test(tc, basic_replies);
	tcase_add_test(tc, relative_paths);
	tcase_add_test(tc, error_names);
	tcase_add_test(tc, unknown_types);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, partial_messages);
	tcase_add_test(tc, oversized);
	tcase_add_test(tc, directory_part);
	tcase_add_test(tc, directory_limit);
	tcase_add_test(tc, control_commands);
	tcase_add_test(tc, watch_wire);
	tcase_add_test(tc, watch_relative);
	tcase_add_test(tc, transactions_wire);
	tcase_add_test(tc, transaction_events);
	tcase_add_test(tc, privileged_only);
	suite_add_tcase(s, tc);
	return (s);
}

/* Run the suite; the exit status says whether everything passed. */
int
main(void)
{
	SRunner	*sr = srunner_create(wire_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
