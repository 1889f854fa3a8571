/*
 * Times for the log readers: --since and --until as journalctl takes
 * them (absolute local times, ISO 8601, @epoch, "-5min", "1h ago",
 * today, yesterday, now), and the formats lines are printed with.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "when.h"

#define NS	1000000000ULL
/* The last second whose ns since the epoch fit in 64 bits (in 2554). */
#define WHEN_MAX_SECS	(UINT64_MAX / NS - 1)

static int	 when_span(const char *, uint64_t *);
static int	 when_absolute(const char *, uint64_t, uint64_t *);
static int	 when_digits(const char **, int, int *);

/* The current time, ns since the epoch. */
uint64_t
when_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec);
}

/* Local midnight of the day of now, moved by days: 0 and *out (ns since
 * the epoch), or -ERANGE (today's midnight east of Greenwich on the
 * epoch's first day, tomorrow's in 2554). */
static int
when_midnight(uint64_t now, int days, uint64_t *out)
{
	struct tm	tm;
	time_t		t = (time_t)(now / NS), secs;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += days;
	tm.tm_isdst = -1;
	secs = mktime(&tm);
	if (secs < 0 || (uint64_t)secs > WHEN_MAX_SECS)
		return (-ERANGE);
	*out = (uint64_t)secs * NS;
	return (0);
}

/* Parse a time: 0 and *out, -EINVAL, or -ERANGE for one that ns since
 * the epoch in 64 bits cannot hold (before 1970, after 2554). */
int
when_parse(const char *s, uint64_t now, uint64_t *out)
{
	uint64_t	 span;
	size_t		 len;
	char		*end;
	int		 error;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return (-EINVAL);
	if (strcmp(s, "now") == 0) {
		*out = now;
		return (0);
	}
	if (strcmp(s, "today") == 0)
		return (when_midnight(now, 0, out));
	if (strcmp(s, "yesterday") == 0)
		return (when_midnight(now, -1, out));
	if (strcmp(s, "tomorrow") == 0)
		return (when_midnight(now, 1, out));
	if (*s == '@') {
		/* In integers: a double has not the digits for ns since
		 * the epoch (it would be off by up to a few hundred ns). */
		uint64_t	secs, frac = 0, scale = NS;

		if (!isdigit((unsigned char)s[1]))
			return (-EINVAL);
		errno = 0;
		secs = strtoull(s + 1, &end, 10);
		if (errno == ERANGE || secs > WHEN_MAX_SECS)
			return (-ERANGE);
		if (errno != 0)
			return (-EINVAL);
		if (*end == '.') {
			for (end++; isdigit((unsigned char)*end); end++) {
				scale /= 10;
				frac += (uint64_t)(*end - '0') * scale;
			}
		}
		if (*end != '\0')
			return (-EINVAL);
		*out = secs * NS + frac;
		return (0);
	}
	if (*s == '-' || *s == '+') {
		if ((error = when_span(s + 1, &span)) != 0)
			return (error);
		if (*s == '-') {
			*out = span > now ? 0 : now - span;	/* the epoch */
		} else {
			if (now > WHEN_MAX_SECS * NS ||
			    span > WHEN_MAX_SECS * NS - now)
				return (-ERANGE);
			*out = now + span;
		}
		return (0);
	}
	len = strlen(s);
	if (len > 4 && strcmp(s + len - 4, " ago") == 0) {
		char	*copy = strndup(s, len - 4);

		if (copy == NULL)
			return (-ENOMEM);
		error = when_span(copy, &span);
		free(copy);
		if (error != 0)
			return (error);
		*out = span > now ? 0 : now - span;
		return (0);
	}
	return (when_absolute(s, now, out));
}

/* A time span, "1h 30min", "5min", "90s", "2d": 0 and *out (ns), or
 * -EINVAL, or -ERANGE past 64 bits of ns. */
static int
when_span(const char *s, uint64_t *out)
{
	static const struct {
		const char	*name;
		uint64_t	 ns;
	} units[] = {
		{ "us", 1000ULL }, { "usec", 1000ULL },
		{ "ms", 1000000ULL }, { "msec", 1000000ULL },
		{ "s", NS }, { "sec", NS }, { "second", NS }, { "seconds", NS },
		{ "m", 60 * NS }, { "min", 60 * NS }, { "minute", 60 * NS },
		{ "minutes", 60 * NS },
		{ "h", 3600 * NS }, { "hr", 3600 * NS }, { "hour", 3600 * NS },
		{ "hours", 3600 * NS },
		{ "d", 86400 * NS }, { "day", 86400 * NS },
		{ "days", 86400 * NS },
		{ "w", 604800 * NS }, { "week", 604800 * NS },
		{ "weeks", 604800 * NS },
	};
	uint64_t	 total = 0, add, per;
	double		 v, x;
	char		*end, unit[16];
	size_t		 i, n;
	bool		 any = false;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		if (!isdigit((unsigned char)*s))
			return (-EINVAL);
		errno = 0;
		v = strtod(s, &end);
		if (errno == ERANGE && v > 1)
			return (-ERANGE);
		if (errno != 0 || v < 0)
			return (-EINVAL);
		s = end;
		while (isspace((unsigned char)*s))
			s++;
		for (n = 0; isalpha((unsigned char)s[n]); n++)
			;
		if (n == 0 || n >= sizeof unit) {
			if (n != 0)
				return (-EINVAL);
			per = NS;			/* bare: seconds */
		} else {
			memcpy(unit, s, n);
			unit[n] = '\0';
			s += n;
			for (i = 0; i < sizeof units / sizeof units[0]; i++)
				if (strcmp(unit, units[i].name) == 0)
					break;
			if (i == sizeof units / sizeof units[0])
				return (-EINVAL);
			per = units[i].ns;
		}
		/* 2^64 as a double: anything below converts. */
		x = v * (double)per;
		if (x >= 18446744073709551616.0)
			return (-ERANGE);
		add = (uint64_t)x;
		if (add > UINT64_MAX - total)
			return (-ERANGE);
		total += add;
		any = true;
	}

	if (!any)
		return (-EINVAL);
	*out = total;
	return (0);
}

/* The days of month mo (1 to 12) of year y. */
static int
when_month_days(int y, int mo)
{
	static const int	days[12] = { 31, 28, 31, 30, 31, 30, 31, 31,
				    30, 31, 30, 31 };

	return (days[mo - 1] + (mo == 2 && y % 4 == 0 &&
	    (y % 100 != 0 || y % 400 == 0)));
}

/* Exactly n digits at *p, advancing it: 0 and *v, or -EINVAL. */
static int
when_digits(const char **p, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return (-EINVAL);
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return (0);
}

/*
 * "2026-11-23 20:15:00", "2026-11-23T20:15:00.25Z", "2026-11-23",
 * "2026-11-23 UTC", "20:15", "20:15:07+01:00": local time unless a zone
 * is given; a time without a date is today's where the time is (at 00:30
 * in Paris, "22:00Z" is 1h30 ago, not a day on, as in journalctl).
 */
static int
when_absolute(const char *s, uint64_t now, uint64_t *out)
{
	struct tm	 tm;
	time_t		 t = (time_t)(now / NS), secs;
	const char	*p = s;
	uint64_t	 frac = 0, scale = NS;
	int		 y, mo, d, h = 0, mi = 0, sec = 0, zh, zm, sign;
	bool		 dated = false, zone = false;
	long		 off = 0;

	if (strlen(p) >= 10 && p[4] == '-') {
		if (when_digits(&p, 4, &y) != 0 || *p++ != '-' ||
		    when_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
		    when_digits(&p, 2, &d) != 0)
			return (-EINVAL);
		if (mo < 1 || mo > 12 || d < 1 || d > when_month_days(y, mo))
			return (-EINVAL);
		dated = true;
		if (*p == 'T' && !isdigit((unsigned char)p[1]))
			return (-EINVAL);		/* T is a time's */
		if (*p == ' ' || *p == 'T')
			p++;
		else if (*p != '\0' && *p != 'Z' && *p != '+' && *p != '-')
			return (-EINVAL);
	}
	/* A date may stand without a time, with a zone or not:
	 * "2026-11-23 UTC" is its midnight in UTC, as in journalctl. */
	if (!dated || isdigit((unsigned char)*p)) {
		if (when_digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    when_digits(&p, 2, &mi) != 0)
			return (-EINVAL);
		if (*p == ':') {
			p++;
			if (when_digits(&p, 2, &sec) != 0)
				return (-EINVAL);
			if (*p == '.' || *p == ',') {
				p++;
				if (!isdigit((unsigned char)*p))
					return (-EINVAL);
				for (; isdigit((unsigned char)*p); p++) {
					if (scale > 1) {
						scale /= 10;
						frac += (uint64_t)(*p - '0') *
						    scale;
					}
				}
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return (-EINVAL);
	}
	if (*p == ' ')
		p++;
	if (*p == 'Z' || strcmp(p, "UTC") == 0) {
		zone = true;
		p += *p == 'Z' ? 1 : 3;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		zm = 0;
		if (when_digits(&p, 2, &zh) != 0)
			return (-EINVAL);
		if (*p == ':')
			p++;
		if (*p != '\0' && when_digits(&p, 2, &zm) != 0)
			return (-EINVAL);
		if (zh > 23 || zm > 59)
			return (-EINVAL);
		zone = true;
		off = sign * (zh * 3600L + zm * 60L);
	}
	if (*p != '\0')
		return (-EINVAL);
	/* Now's date where the time is: in the zone given, or here. */
	if (zone) {
		t += off;
		gmtime_r(&t, &tm);
	} else
		localtime_r(&t, &tm);
	if (dated) {
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
	}
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if (zone) {
		secs = timegm(&tm) - off;
	} else {
		tm.tm_isdst = -1;
		secs = mktime(&tm);
	}
	if (secs < 0 || (uint64_t)secs > WHEN_MAX_SECS)
		return (-ERANGE);
	*out = (uint64_t)secs * NS + frac;
	return (0);
}

/* Local ISO 8601 with ms and the offset: 2026-11-23T19:39:16.123+01:00. */
void
when_iso(uint64_t ns, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / NS);
	long		off;
	size_t		n;

	localtime_r(&t, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	off = tm.tm_gmtoff / 60;
	snprintf(buf + n, size - n, ".%03u%c%02ld:%02ld",
	    (unsigned)(ns / 1000000 % 1000), off < 0 ? '-' : '+',
	    labs(off) / 60, labs(off) % 60);
}

/* UTC ISO 8601 with µs, for json: 2026-11-23T18:39:16.123456Z. */
void
when_iso_utc_us(uint64_t ns, char *buf, size_t size)
{
	struct tm	tm;
	time_t		t = (time_t)(ns / NS);
	size_t		n;

	gmtime_r(&t, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06uZ", (unsigned)(ns / 1000 % 1000000));
}

/* journalctl's short time, local: "Nov 23 20:15:01" (+ ".123456"). */
void
when_short(uint64_t ns, bool precise, char *buf, size_t size)
{
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;
	time_t			 t = (time_t)(ns / NS);
	int			 n;

	localtime_r(&t, &tm);
	/* Month names in English whatever the locale, as syslog writes. */
	n = snprintf(buf, size, "%s %02d %02d:%02d:%02d", months[tm.tm_mon],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (precise && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ".%06u",
		    (unsigned)(ns / 1000 % 1000000));
}
