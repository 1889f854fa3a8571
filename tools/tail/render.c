/*
 * One line out, in the format of -o: the guest's text made harmless for
 * a terminal (unless --raw), a time and name prefix, or a JSON object;
 * and the header and announcement lines between incarnations.
 *
 * A guest writes what it likes: escape sequences that set the window
 * title, clear the screen or redefine keys, C1 controls that some
 * terminals obey, invalid UTF-8. By default, text is shown as cat -v
 * would: C0 controls and DEL in caret notation (ESC is ^[), C1 controls
 * and bidirectional overrides as \uXXXX, bytes that are not UTF-8 as
 * \xNN; tabs and valid printable UTF-8 are kept, and a \r ending a line
 * (CRLF from the guest) is dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tail.h"

static size_t	 render_utf8(const unsigned char *, size_t, uint32_t *);
static bool	 render_unsafe_cp(uint32_t);

/* Write bytes to stdout; a write error ends the program. */
void
render_write(const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, stdout) != len)
		tail_exit(TAIL_EXIT_WRITE, "write: %s", strerror(errno));
}

/* Write a string to stdout. */
static void
render_puts(const char *s)
{
	render_write(s, strlen(s));
}

/* The length of a valid UTF-8 sequence at p (and its code point), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
render_utf8(const unsigned char *p, size_t len, uint32_t *cp)
{
	size_t		n, i;
	uint32_t	c, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	} else
		return (0);
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*cp = c;
	return (n);
}

/* Whether a (valid, non-ASCII) code point may change how a terminal
 * shows what follows: C1 controls, line separators, bidi overrides. */
static bool
render_unsafe_cp(uint32_t cp)
{
	return ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

/* Write text as the operator may see it; ends: it ends its line, so a
 * last \r is dropped. --raw writes it untouched. */
void
render_text(struct tail *t, const char *text, size_t len, bool ends)
{
	const unsigned char	*p = (const unsigned char *)text;
	char			 esc[16];
	size_t			 i, start, n;
	uint32_t		 cp;

	if (t->raw) {
		render_write(text, len);
		return;
	}
	if (ends && len > 0 && p[len - 1] == '\r')
		len--;
	for (i = start = 0; i < len; ) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			i++;
			continue;
		}
		if (p[i] == '\t') {
			i++;
			continue;
		}
		n = render_utf8(p + i, len - i, &cp);
		if (n > 1 && !render_unsafe_cp(cp)) {
			i += n;
			continue;
		}
		render_write(p + start, i - start);
		if (n == 0) {
			snprintf(esc, sizeof esc, "\\x%02x", p[i]);
			n = 1;
		} else if (n > 1)
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
		else if (p[i] == 0x7f)
			snprintf(esc, sizeof esc, "^?");
		else
			snprintf(esc, sizeof esc, "^%c", p[i] + 0x40);
		render_puts(esc);
		i += n;
		start = i;
	}
	render_write(p + start, len - start);
}

/* Write a JSON string of the bytes, every control and non-ASCII
 * separator escaped; bytes that are not UTF-8 become U+FFFD. Returns
 * whether any did (the caller then adds the exact bytes). */
bool
render_json_string(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[16];
	size_t			 i, start, n;
	uint32_t		 cp;
	bool			 lossy = false;

	render_puts("\"");
	for (i = start = 0; i < len; ) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' &&
		    p[i] != '\\') {
			i++;
			continue;
		}
		n = render_utf8(p + i, len - i, &cp);
		if (n > 1 && !render_unsafe_cp(cp)) {
			i += n;
			continue;
		}
		render_write(p + start, i - start);
		if (n == 0) {
			snprintf(esc, sizeof esc, "\\ufffd");
			lossy = true;
			n = 1;
		} else if (n > 1)
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
		else if (p[i] == '"' || p[i] == '\\')
			snprintf(esc, sizeof esc, "\\%c", p[i]);
		else if (p[i] == '\n')
			snprintf(esc, sizeof esc, "\\n");
		else if (p[i] == '\r')
			snprintf(esc, sizeof esc, "\\r");
		else if (p[i] == '\t')
			snprintf(esc, sizeof esc, "\\t");
		else
			snprintf(esc, sizeof esc, "\\u%04x", p[i]);
		render_puts(esc);
		i += n;
		start = i;
	}
	render_write(p + start, len - start);
	render_puts("\"");
	return (lossy);
}

/* Write the exact bytes as a JSON array of numbers (as journalctl does
 * for fields that are not UTF-8). */
static void
render_json_bytes(const char *s, size_t len)
{
	char	num[8];
	size_t	i;

	render_puts("[");
	for (i = 0; i < len; i++) {
		snprintf(num, sizeof num, "%s%u", i == 0 ? "" : ",",
		    (unsigned char)s[i]);
		render_puts(num);
	}
	render_puts("]");
}

/* Write a JSON field holding text: "key":"..." and, when the text is not
 * UTF-8, "key_bytes":[...] with its exact bytes. */
void
render_json_field(const char *key, const char *s, size_t len)
{
	char	buf[64];

	snprintf(buf, sizeof buf, ",\"%s\":", key);
	render_puts(buf);
	if (render_json_string(s, len)) {
		snprintf(buf, sizeof buf, ",\"%s_bytes\":", key);
		render_puts(buf);
		render_json_bytes(s, len);
	}
}

/* The start of a JSON object: type, time, the incarnation. */
void
render_json_head(const char *type, const struct db_incarnation *inc,
    uint64_t ns)
{
	char	buf[256], iso[64];

	when_iso_utc_us(ns, iso, sizeof iso);
	snprintf(buf, sizeof buf, "{\"type\":\"%s\",\"time\":%" PRIu64
	    ",\"iso\":\"%s\",\"domid\":%u", type, ns / 1000, iso, inc->domid);
	render_puts(buf);
	render_json_field("name", inc->name, strlen(inc->name));
	snprintf(buf, sizeof buf, ",\"incarnation\":%" PRId64, inc->id);
	render_puts(buf);
	render_json_field("uuid", inc->uuid, strlen(inc->uuid));
}

/* The prefix of a line in the short formats: "Nov 23 20:15:01 web[7]: ". */
void
render_prefix(struct tail *t, const struct db_incarnation *inc, uint64_t ns)
{
	char	buf[64];

	switch (t->format) {
	case TAIL_CAT:
		if (!t->timestamps)
			return;
		when_iso(ns, buf, sizeof buf);
		break;
	case TAIL_SHORT:
	case TAIL_SHORT_PRECISE:
		when_short(ns, t->format == TAIL_SHORT_PRECISE, buf,
		    sizeof buf);
		render_puts(buf);
		render_puts(" ");
		render_text(t, inc->name, strlen(inc->name), false);
		snprintf(buf, sizeof buf, "[%u]:", inc->domid);
		break;
	case TAIL_JSON:
		return;
	}
	render_puts(buf);
	render_puts(" ");
}

/*
 * Print a console line, or a piece of one when following (starts: the
 * piece starts the line; ends: it ends it). In JSON a piece is an
 * object of its own, marked "partial" (continued in the next) and
 * "continued" (the rest of the previous).
 */
void
render_line(struct tail *t, const struct db_incarnation *inc,
    const char *text, size_t len, uint64_t ns, uint64_t gen, bool starts,
    bool ends, bool fragment)
{
	char	buf[64];

	if (t->format == TAIL_JSON) {
		render_json_head("console", inc, ns);
		snprintf(buf, sizeof buf, ",\"gen\":%" PRIu64, gen);
		render_puts(buf);
		render_json_field("text", text, len);
		if (!ends)
			render_puts(",\"partial\":true");
		if (!starts || fragment)
			render_puts(",\"continued\":true");
		render_puts("}\n");
		return;
	}
	if (starts)
		render_prefix(t, inc, ns);
	render_text(t, text, len, ends);
	/* Only cat leaves a line the guest did not finish open, as tail. */
	if (ends || (t->format != TAIL_CAT && !t->follow)) {
		render_puts("\n");
		ends = true;
	}
	t->open = !ends;
}

/* End the output's current line, if it is open. */
void
render_end_line(struct tail *t)
{
	if (t->open)
		render_puts("\n");
	t->open = false;
}

/* The line introducing an incarnation with --all. */
void
render_header(struct tail *t, const struct db_incarnation *inc)
{
	char	first[64], gone[64], buf[256];

	if (t->format == TAIL_JSON)
		return;
	render_end_line(t);
	when_iso(inc->first_ns, first, sizeof first);
	if (inc->gone_ns != 0)
		when_iso(inc->gone_ns, gone, sizeof gone);
	snprintf(buf, sizeof buf, "-- incarnation %" PRId64 " of domain %u (",
	    inc->id, inc->domid);
	render_puts(buf);
	render_text(t, inc->name, strlen(inc->name), false);
	snprintf(buf, sizeof buf, ", %s): %s %s%s%s --\n", inc->uuid,
	    inc->gone_ns != 0 ? "from" : "since", first,
	    inc->gone_ns != 0 ? " to " : ", running",
	    inc->gone_ns != 0 ? gone : "");
	render_puts(buf);
}

/* Say, on its own line, that an incarnation ended or began (-f). */
void
render_announce(struct tail *t, const struct db_incarnation *inc,
    const char *what, uint64_t ns)
{
	char	when[64], buf[128];

	if (t->format == TAIL_JSON) {
		render_json_head(what, inc, ns != 0 ? ns : when_now());
		render_puts("}\n");
		return;
	}
	render_end_line(t);
	if (ns != 0)
		when_iso(ns, when, sizeof when);
	snprintf(buf, sizeof buf, "-- incarnation %" PRId64 " of domain %u (",
	    inc->id, inc->domid);
	render_puts(buf);
	render_text(t, inc->name, strlen(inc->name), false);
	render_puts(") ");
	render_puts(what);
	if (ns != 0) {
		render_puts(" at ");
		render_puts(when);
	}
	render_puts(" --\n");
}
