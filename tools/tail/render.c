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

#include "esc.h"
#include "tail.h"

/* Write bytes to stdout; a write error ends the program. */
void
render_write(const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, stdout) != len)
		tool_exit(TAIL_EXIT_WRITE, "write: %s", strerror(errno));
}

/* Write a string to stdout. */
static void
render_puts(const char *s)
{
	render_write(s, strlen(s));
}

/* Write text as the operator may see it; ends: it ends its line, so a
 * last \r is dropped. --raw writes it untouched. */
void
render_text(struct tail *t, const char *text, size_t len, bool ends)
{
	struct esc_buf	b = { 0 };

	if (t->raw) {
		render_write(text, len);
		return;
	}
	if (ends && len > 0 && text[len - 1] == '\r')
		len--;
	esc_terminal(&b, text, len);
	render_write(b.p, b.len);
	esc_free(&b);
}

/* Write a JSON string of the bytes, every control and non-ASCII
 * separator escaped; bytes that are not UTF-8 become U+FFFD. Returns
 * whether any did (the caller then adds the exact bytes). */
bool
render_json_string(const char *s, size_t len)
{
	struct esc_buf	b = { 0 };
	bool		lossy;

	lossy = esc_json(&b, s, len);
	render_write(b.p, b.len);
	esc_free(&b);
	return (lossy);
}

/* Write the exact bytes as a JSON array of numbers. */
static void
render_json_bytes(const char *s, size_t len)
{
	struct esc_buf	b = { 0 };

	esc_json_bytes(&b, s, len);
	render_write(b.p, b.len);
	esc_free(&b);
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

/*
 * Say, on its own line, that output of the incarnation was lost before
 * the line that follows (chunks the writer could not store, db_lines'
 * after_gap): in cat as the daemon's own "[xsconsoled: ...]" lines are,
 * in the short formats as "-- ... --" like the other notes, in JSON an
 * object of type "lost" with the time of that line ("gap" is the
 * store's, --store).
 */
void
render_gap(struct tail *t, const struct db_incarnation *inc, uint64_t ns)
{
	if (t->format == TAIL_JSON) {
		render_json_head("lost", inc, ns);
		render_puts("}\n");
		return;
	}
	render_end_line(t);
	if (t->format == TAIL_CAT)
		render_puts("[xsconsoled: output lost here: the database could"
		    " not be written]\n");
	else
		render_puts("-- output lost here: the database could not be"
		    " written --\n");
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
