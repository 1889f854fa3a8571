/*
 * libFuzzer target for what the log readers (xsconsole-tail, xsc-history)
 * parse or escape: the --since/--until times an operator types
 * (tools/common/when.c), and the escapes that make a guest's console
 * bytes or a store value safe to print (tools/common/esc.c). The first
 * byte chooses how the rest is used:
 *
 *   mode 0  a time as typed, at a fixed now (Nov 2025): when_parse()
 *           gives 0, -EINVAL or -ERANGE (past 64 bits of ns since the
 *           epoch), the same twice, and no time but those from 1970 to
 *           2554; "+SPAN" is never before now, "-SPAN" and "SPAN ago"
 *           never after; a date in UTC comes back as that date (no
 *           wrap-around); today is the midnight before now, yesterday
 *           and tomorrow a day or so either side; a time of day without
 *           a date is on the day of now where the time is (in UTC for Z,
 *           locally without a zone)
 *   mode 1  a round trip: 8 bytes are a time, printed as the tools
 *           print it (ISO 8601 in UTC with us, local with ms and the
 *           offset, @SECS.NS) and parsed back to the same time
 *   mode 2  console text for a terminal (esc_terminal): the output is
 *           UTF-8 with no control but the tab, no C1, no bidi override
 *   mode 3  JSON (esc_json, esc_json_bytes): a valid JSON string that
 *           decodes to the bytes (U+FFFD for those not UTF-8, when it
 *           says so); an array of the bytes' values
 *   mode 4  a store value as xenstore-ls prints it (esc_xenstore, with
 *           and without quotes): printable ASCII that reads back, as
 *           xenstore-write reads it, to the bytes
 *   mode 5  the same at any now: 8 bytes are now (1970 to 2554), the
 *           rest the time
 *
 * Local time is Europe/Paris (a zone with summer time).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "fuzz.h"
#include "when.h"

#define NS		1000000000ULL
#define FUZZ_NOW	(1763900000ULL * NS + 123456789ULL)	/* Nov 2025 */
/* The last second whose ns since the epoch fit in 64 bits (2554). */
#define FUZZ_MAX_SECS	(UINT64_MAX / NS - 1)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_tz(void)
{
	static bool	done;

	if (!done) {
		setenv("TZ", "Europe/Paris", 1);
		tzset();
		done = true;
	}
}

/* The input as a string (NULs end it early, as they would in argv). */
static char *
fuzz_string(const unsigned char *p, size_t n)
{
	char	*s = malloc(n + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, p, n);
	s[n] = '\0';
	return (s);
}

/* The local date of a time, as a number: YYYYMMDD. */
static long
fuzz_local_day(uint64_t ns)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / NS);

	FUZZ_CHECK(localtime_r(&t, &tm) != NULL);
	return ((tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 +
	    tm.tm_mday);
}

/* Modes 0 and 5: the time s as typed at now. */
static void
fuzz_when_check(const char *s, uint64_t now)
{
	char		 iso[64];
	const char	*t;
	uint64_t	 out = 0, again = 1, day = 86400 * NS, hour = 3600 * NS;
	size_t		 len;
	int		 error;

	error = when_parse(s, now, &out);
	FUZZ_CHECK(error == 0 || error == -EINVAL || error == -ERANGE ||
	    error == -ENOMEM);
	if (error != 0)
		return;
	FUZZ_CHECK(when_parse(s, now, &again) == 0 && again == out);
	FUZZ_CHECK(out < (FUZZ_MAX_SECS + 1) * NS);
	for (t = s; *t == ' ' || (*t >= '\t' && *t <= '\r'); t++)
		;
	len = strlen(t);
	if (*t == '+')
		FUZZ_CHECK(out >= now);
	else if (*t == '-' || (len > 4 && strcmp(t + len - 4, " ago") == 0))
		FUZZ_CHECK(out <= now);
	/* Days of 23 to 25 hours, where summer time starts or ends. */
	if (strcmp(t, "today") == 0)
		FUZZ_CHECK(out <= now && now - out < day + hour);
	if (strcmp(t, "yesterday") == 0)
		FUZZ_CHECK(out < now && now - out < 2 * day + 2 * hour);
	if (strcmp(t, "tomorrow") == 0)
		FUZZ_CHECK(out > now && out - now <= day + hour);
	/* "YYYY-MM-DD...Z" or "... UTC": that day, in UTC; its leap second
	 * 23:59:60 is the first second of the next, as POSIX time has it
	 * (and journalctl, by strptime and mktime). */
	if (len >= 11 && t[4] == '-' && t[7] == '-' &&
	    (t[len - 1] == 'Z' || (len >= 14 &&
	    strcmp(t + len - 3, "UTC") == 0))) {
		when_iso_utc_us(out, iso, sizeof iso);
		if (strncmp(iso, t, 10) != 0) {
			FUZZ_CHECK(strstr(t, "23:59:60") != NULL);
			FUZZ_CHECK(out % day < NS && out >= NS);
			when_iso_utc_us(out - NS, iso, sizeof iso);
			FUZZ_CHECK(strncmp(iso, t, 10) == 0);
		}
	}
	/* "HH:MM...": the day of now there; a leap second 23:59:60 is the
	 * first second of the next. */
	if (len >= 5 && t[2] == ':') {
		if (strstr(t, "23:59:60") != NULL)
			out -= NS;
		if (t[len - 1] == 'Z' || strcmp(t + len - 3, "UTC") == 0)
			FUZZ_CHECK(out / day == now / day);
		else if (strpbrk(t, "+-") == NULL)
			FUZZ_CHECK(fuzz_local_day(out) == fuzz_local_day(now));
	}
}

/* Mode 0. */
static void
fuzz_when(const unsigned char *p, size_t n)
{
	char	*s = fuzz_string(p, n);

	fuzz_when_check(s, FUZZ_NOW);
	free(s);
}

/* Mode 5. */
static void
fuzz_when_at(const unsigned char *p, size_t n)
{
	char		*s;
	uint64_t	 now = 0;
	size_t		 i;

	for (i = 0; i < 8 && i < n; i++)
		now = now << 8 | p[i];
	now %= (FUZZ_MAX_SECS + 1) * NS;
	s = fuzz_string(p + i, n - i);
	fuzz_when_check(s, now);
	free(s);
}

/* Mode 1. */
static void
fuzz_when_roundtrip(const unsigned char *p, size_t n)
{
	uint64_t	t = 0, out;
	char		buf[96];
	size_t		i;

	for (i = 0; i < 8 && i < n; i++)
		t = t << 8 | p[i];
	t %= FUZZ_MAX_SECS * NS;

	when_iso_utc_us(t, buf, sizeof buf);
	FUZZ_CHECK(when_parse(buf, FUZZ_NOW, &out) == 0);
	FUZZ_CHECK(out == t / 1000 * 1000);

	/* Local: years before 1971 can print a zone offset of seconds (LMT)
	 * that ISO 8601 cannot carry. */
	if (t >= 40000000ULL * NS) {
		when_iso(t, buf, sizeof buf);
		FUZZ_CHECK(when_parse(buf, FUZZ_NOW, &out) == 0);
		FUZZ_CHECK(out == t / 1000000 * 1000000);
	}

	snprintf(buf, sizeof buf, "@%" PRIu64 ".%09" PRIu64, (uint64_t)(t / NS),
	    (uint64_t)(t % NS));
	FUZZ_CHECK(when_parse(buf, FUZZ_NOW, &out) == 0 && out == t);
}

/* The UTF-8 sequence at p, or -1 and *cp unset. */
static int
fuzz_utf8(const unsigned char *p, size_t left, uint32_t *cp)
{
	size_t	n = esc_utf8(p, left, cp);

	return (n == 0 ? -1 : (int)n);
}

/* Mode 2. */
static void
fuzz_terminal(const unsigned char *p, size_t n)
{
	struct esc_buf	 b;
	const unsigned char *o;
	uint32_t	 cp;
	size_t		 i;
	int		 k;

	memset(&b, 0, sizeof b);
	esc_terminal(&b, (const char *)p, n);
	FUZZ_CHECK(n == 0 || b.p != NULL);
	o = (const unsigned char *)b.p;
	for (i = 0; i < b.len; i += (size_t)k) {
		k = fuzz_utf8(o + i, b.len - i, &cp);
		FUZZ_CHECK(k > 0);
		FUZZ_CHECK(cp == '\t' || (cp >= 0x20 && cp != 0x7f));
		FUZZ_CHECK(!(cp >= 0x80 && cp <= 0x9f));
		FUZZ_CHECK(!esc_unsafe_cp(cp));
	}
	/* Nothing safe is changed: safe input comes out as it went in. */
	for (i = 0; i < n; i += (size_t)k) {
		k = fuzz_utf8(p + i, n - i, &cp);
		if (k < 0 || (cp < 0x20 && cp != '\t') ||
		    cp == 0x7f || esc_unsafe_cp(cp))
			break;
	}
	if (i == n)
		FUZZ_CHECK(b.len == n && memcmp(b.p, p, n) == 0);
	esc_free(&b);
}

/* The value of a hex digit, or -1. */
static int
fuzz_hex(unsigned char c)
{
	static const char	 digits[] = "0123456789abcdef";
	const char		*p;

	if (!isxdigit(c) || (p = strchr(digits, tolower(c))) == NULL)
		return (-1);
	return ((int)(p - digits));
}

/* Append code point cp as UTF-8. */
static void
fuzz_put_utf8(struct esc_buf *b, uint32_t cp)
{
	unsigned char	u[4];
	size_t		n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	esc_add(b, u, n);
}

/* Decode a JSON string (RFC 8259) that must fill s..s+len exactly. */
static void
fuzz_json_decode(const unsigned char *s, size_t len, struct esc_buf *out)
{
	size_t		i, j;
	uint32_t	cp;
	int		k, d;

	FUZZ_CHECK(len >= 2 && s[0] == '"' && s[len - 1] == '"');
	for (i = 1; i < len - 1; ) {
		FUZZ_CHECK(s[i] >= 0x20 && s[i] != '"');
		if (s[i] != '\\') {
			k = fuzz_utf8(s + i, len - 1 - i, &cp);
			FUZZ_CHECK(k > 0);
			esc_add(out, s + i, (size_t)k);
			i += (size_t)k;
			continue;
		}
		FUZZ_CHECK(i + 1 < len - 1);
		switch (s[i + 1]) {
		case '"': case '\\': case '/':
			esc_add(out, s + i + 1, 1);
			i += 2;
			continue;
		case 'n': esc_adds(out, "\n"); i += 2; continue;
		case 'r': esc_adds(out, "\r"); i += 2; continue;
		case 't': esc_adds(out, "\t"); i += 2; continue;
		case 'b': esc_adds(out, "\b"); i += 2; continue;
		case 'f': esc_adds(out, "\f"); i += 2; continue;
		case 'u':
			break;
		default:
			FUZZ_CHECK(!"a JSON escape");
		}
		FUZZ_CHECK(i + 6 <= len - 1);
		for (cp = 0, j = i + 2; j < i + 6; j++) {
			FUZZ_CHECK((d = fuzz_hex(s[j])) >= 0);
			cp = cp << 4 | (uint32_t)d;
		}
		/* What esc_json writes: no surrogate pairs needed (the
		 * \u escapes are of C0, C1 and BMP controls only). */
		FUZZ_CHECK(cp < 0xd800 || cp > 0xdfff);
		fuzz_put_utf8(out, cp);
		i += 6;
	}
}

/* Mode 3. */
static void
fuzz_json(const unsigned char *p, size_t n)
{
	struct esc_buf	 b, dec;
	const char	*q;
	char		*end;
	unsigned long	 v;
	size_t		 i, at;
	uint32_t	 cp;
	bool		 lossy, bad = false;
	int		 k;

	memset(&b, 0, sizeof b);
	memset(&dec, 0, sizeof dec);
	lossy = esc_json(&b, p, n);
	fuzz_json_decode((const unsigned char *)b.p, b.len, &dec);
	for (i = 0; i < n; i += (size_t)(k > 0 ? k : 1))
		if ((k = fuzz_utf8(p + i, n - i, &cp)) < 0)
			bad = true;
	FUZZ_CHECK(lossy == bad);
	if (!lossy) {
		FUZZ_CHECK(dec.len == n);
		FUZZ_CHECK(n == 0 || memcmp(dec.p, p, n) == 0);
	} else {
		/* Each byte that is not UTF-8 is one U+FFFD, in place. */
		for (i = at = 0; i < n; ) {
			if ((k = fuzz_utf8(p + i, n - i, &cp)) < 0) {
				FUZZ_CHECK(at + 3 <= dec.len &&
				    memcmp(dec.p + at, "\xef\xbf\xbd", 3) == 0);
				at += 3;
				i++;
				continue;
			}
			FUZZ_CHECK(at + (size_t)k <= dec.len &&
			    memcmp(dec.p + at, p + i, (size_t)k) == 0);
			at += (size_t)k;
			i += (size_t)k;
		}
		FUZZ_CHECK(at == dec.len);
	}

	esc_reset(&b);
	esc_json_bytes(&b, p, n);
	FUZZ_CHECK(b.len >= 2 && b.p[0] == '[' && b.p[b.len - 1] == ']');
	for (q = b.p + 1, i = 0; i < n; i++) {
		if (i > 0)
			FUZZ_CHECK(*q++ == ',');
		FUZZ_CHECK(*q >= '0' && *q <= '9');
		v = strtoul(q, &end, 10);
		FUZZ_CHECK(v == p[i]);
		q = end;
	}
	FUZZ_CHECK(*q == ']' && q == b.p + b.len - 1);
	esc_free(&b);
	esc_free(&dec);
}

/* Read back what esc_xenstore wrote, as xenstore-write's expand_buffer
 * does: \t \n \r \\ \" \xNN and \NNN (octal). */
static void
fuzz_xenstore_decode(const char *s, size_t len, bool quotes,
    struct esc_buf *out)
{
	size_t		i;
	unsigned char	c;
	int		hi, lo;

	for (i = 0; i < len; ) {
		FUZZ_CHECK(s[i] >= ' ' && s[i] <= '~');
		FUZZ_CHECK(!(quotes && s[i] == '"'));
		if (s[i] != '\\') {
			esc_add(out, s + i++, 1);
			continue;
		}
		FUZZ_CHECK(i + 1 < len);
		switch (s[i + 1]) {
		case 't': c = '\t'; i += 2; break;
		case 'n': c = '\n'; i += 2; break;
		case 'r': c = '\r'; i += 2; break;
		case '\\': c = '\\'; i += 2; break;
		case '"': c = '"'; FUZZ_CHECK(quotes); i += 2; break;
		case 'x':
			FUZZ_CHECK(i + 4 <= len);
			hi = fuzz_hex((unsigned char)s[i + 2]);
			lo = fuzz_hex((unsigned char)s[i + 3]);
			FUZZ_CHECK(hi >= 0 && lo >= 0);
			c = (unsigned char)(hi << 4 | lo);
			i += 4;
			break;
		default:
			FUZZ_CHECK(i + 4 <= len);
			FUZZ_CHECK(s[i + 1] >= '0' && s[i + 1] <= '3' &&
			    s[i + 2] >= '0' && s[i + 2] <= '7' &&
			    s[i + 3] >= '0' && s[i + 3] <= '7');
			c = (unsigned char)((s[i + 1] - '0') << 6 |
			    (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
			i += 4;
		}
		esc_add(out, &c, 1);
	}
}

/* Mode 4. */
static void
fuzz_xenstore(const unsigned char *p, size_t n)
{
	struct esc_buf	b, dec;
	int		quotes;

	for (quotes = 0; quotes <= 1; quotes++) {
		memset(&b, 0, sizeof b);
		memset(&dec, 0, sizeof dec);
		esc_xenstore(&b, p, n, quotes);
		fuzz_xenstore_decode(b.p != NULL ? b.p : "", b.len, quotes,
		    &dec);
		FUZZ_CHECK(dec.len == n);
		FUZZ_CHECK(n == 0 || memcmp(dec.p, p, n) == 0);
		esc_free(&b);
		esc_free(&dec);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return (0);
	fuzz_tz();
	switch (data[0] % 6) {
	case 0:
		fuzz_when(data + 1, size - 1);
		break;
	case 1:
		fuzz_when_roundtrip(data + 1, size - 1);
		break;
	case 2:
		fuzz_terminal(data + 1, size - 1);
		break;
	case 3:
		fuzz_json(data + 1, size - 1);
		break;
	case 4:
		fuzz_xenstore(data + 1, size - 1);
		break;
	default:
		fuzz_when_at(data + 1, size - 1);
		break;
	}
	return (0);
}
