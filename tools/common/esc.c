/*
 * Escapes for printing bytes that others wrote (esc.h): a guest's console
 * text, store values and paths. A guest writes what it likes: escape
 * sequences that set the window title, clear the screen or redefine
 * keys, C1 controls that some terminals obey, invalid UTF-8.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "xmalloc.h"

/* Make room for n more bytes and the NUL. */
static void
esc_grow(struct esc_buf *b, size_t n)
{
	if (b->cap - b->len >= n + 1)
		return;
	b->cap = (b->len + n + 1) * 2;
	if (b->cap < 64)
		b->cap = 64;
	b->p = xrealloc(b->p, b->cap);
}

/* Append bytes. */
void
esc_add(struct esc_buf *b, const void *p, size_t n)
{
	esc_grow(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append a string. */
void
esc_adds(struct esc_buf *b, const char *s)
{
	esc_add(b, s, strlen(s));
}

/* Append a formatted string. */
void
esc_addf(struct esc_buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	esc_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Empty the buffer, keeping its memory. */
void
esc_reset(struct esc_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Free the buffer's memory; it is empty again. */
void
esc_free(struct esc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* The length of a valid UTF-8 sequence at p (and its code point), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t
esc_utf8(const unsigned char *p, size_t len, uint32_t *cp)
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
bool
esc_unsafe_cp(uint32_t cp)
{
	return ((cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

/* Text for a terminal, as cat -v would show it. */
void
esc_terminal(struct esc_buf *b, const char *text, size_t len)
{
	const unsigned char	*p = (const unsigned char *)text;
	size_t			 i, start, n;
	uint32_t		 cp;

	for (i = start = 0; i < len; ) {
		if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t') {
			i++;
			continue;
		}
		n = esc_utf8(p + i, len - i, &cp);
		if (n > 1 && !esc_unsafe_cp(cp)) {
			i += n;
			continue;
		}
		esc_add(b, p + start, i - start);
		if (n == 0) {
			esc_addf(b, "\\x%02x", p[i]);
			n = 1;
		} else if (n > 1)
			esc_addf(b, "\\u%04x", (unsigned)cp);
		else if (p[i] == 0x7f)
			esc_adds(b, "^?");
		else
			esc_addf(b, "^%c", p[i] + 0x40);
		i += n;
		start = i;
	}
	esc_add(b, p + start, len - start);
}

/* A store value as xenstore-ls prints it (and \" with quotes). */
void
esc_xenstore(struct esc_buf *b, const void *v, size_t len, bool quotes)
{
	const unsigned char	*p = v;
	size_t			 i, start;

	for (i = start = 0; i < len; i++) {
		if (p[i] >= ' ' && p[i] <= '~' && p[i] != '\\' &&
		    !(quotes && p[i] == '"'))
			continue;
		esc_add(b, p + start, i - start);
		start = i + 1;
		switch (p[i]) {
		case '\t':
			esc_adds(b, "\\t");
			break;
		case '\n':
			esc_adds(b, "\\n");
			break;
		case '\r':
			esc_adds(b, "\\r");
			break;
		case '\\':
			esc_adds(b, "\\\\");
			break;
		case '"':
			esc_adds(b, "\\\"");
			break;
		default:
			if (p[i] < 010)
				esc_addf(b, "\\%03o", p[i]);
			else
				esc_addf(b, "\\x%02x", p[i]);
		}
	}
	esc_add(b, p + start, len - start);
}

/* A JSON string of the bytes; whether any were not UTF-8. */
bool
esc_json(struct esc_buf *b, const void *s, size_t len)
{
	const unsigned char	*p = s;
	size_t			 i, start, n;
	uint32_t		 cp;
	bool			 lossy = false;

	esc_adds(b, "\"");
	for (i = start = 0; i < len; ) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' &&
		    p[i] != '\\') {
			i++;
			continue;
		}
		n = esc_utf8(p + i, len - i, &cp);
		if (n > 1 && !esc_unsafe_cp(cp)) {
			i += n;
			continue;
		}
		esc_add(b, p + start, i - start);
		if (n == 0) {
			esc_adds(b, "\\ufffd");
			lossy = true;
			n = 1;
		} else if (n > 1)
			esc_addf(b, "\\u%04x", (unsigned)cp);
		else if (p[i] == '"' || p[i] == '\\')
			esc_addf(b, "\\%c", p[i]);
		else if (p[i] == '\n')
			esc_adds(b, "\\n");
		else if (p[i] == '\r')
			esc_adds(b, "\\r");
		else if (p[i] == '\t')
			esc_adds(b, "\\t");
		else
			esc_addf(b, "\\u%04x", p[i]);
		i += n;
		start = i;
	}
	esc_add(b, p + start, len - start);
	esc_adds(b, "\"");
	return (lossy);
}

/* The exact bytes as a JSON array of numbers (as journalctl does for
 * fields that are not UTF-8). */
void
esc_json_bytes(struct esc_buf *b, const void *s, size_t len)
{
	const unsigned char	*p = s;
	size_t			 i;

	esc_adds(b, "[");
	for (i = 0; i < len; i++)
		esc_addf(b, "%s%u", i == 0 ? "" : ",", p[i]);
	esc_adds(b, "]");
}
