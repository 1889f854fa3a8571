/* Small helpers the xsc-sim commands share: time, numbers, escaping,
 * message type names. */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <xen/io/xs_wire.h>

#include "sim.h"
#include "simdom.h"
#include "xmalloc.h"

static const char *sim_types[] = {
	[XS_CONTROL] = "CONTROL",
	[XS_DIRECTORY] = "DIRECTORY",
	[XS_READ] = "READ",
	[XS_GET_PERMS] = "GET_PERMS",
	[XS_WATCH] = "WATCH",
	[XS_UNWATCH] = "UNWATCH",
	[XS_TRANSACTION_START] = "TRANSACTION_START",
	[XS_TRANSACTION_END] = "TRANSACTION_END",
	[XS_INTRODUCE] = "INTRODUCE",
	[XS_RELEASE] = "RELEASE",
	[XS_GET_DOMAIN_PATH] = "GET_DOMAIN_PATH",
	[XS_WRITE] = "WRITE",
	[XS_MKDIR] = "MKDIR",
	[XS_RM] = "RM",
	[XS_SET_PERMS] = "SET_PERMS",
	[XS_WATCH_EVENT] = "WATCH_EVENT",
	[XS_ERROR] = "ERROR",
	[XS_IS_DOMAIN_INTRODUCED] = "IS_DOMAIN_INTRODUCED",
	[XS_RESUME] = "RESUME",
	[XS_SET_TARGET] = "SET_TARGET",
	[XS_RESET_WATCHES] = "RESET_WATCHES",
	[XS_DIRECTORY_PART] = "DIRECTORY_PART",
};

/* Microseconds on the monotonic clock. */
uint64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
}

/* Sleep for us microseconds. */
void
sim_sleep_us(uint64_t us)
{
	struct timespec	ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Parse a whole decimal number no greater than max; 0 or -EINVAL. */
int
sim_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long	 v;
	char			*end;

	if (s[0] < '0' || s[0] > '9')
		return (-EINVAL);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return (-EINVAL);
	*out = v;
	return (0);
}

/* Parse a guest's domid (1 to DOMID_FIRST_RESERVED - 1); 0 or -EINVAL. */
int
sim_parse_domid(const char *s, uint32_t *out)
{
	uint64_t	v;

	if (sim_parse_u64(s, SIM_DOMID_MAX, &v) != 0 || v == 0)
		return (-EINVAL);
	*out = (uint32_t)v;
	return (0);
}

/* Parse milliseconds (at most a day); 0 or -EINVAL. */
int
sim_parse_ms(const char *s, uint64_t *out)
{
	return (sim_parse_u64(s, 86400000, out));
}

/* Write bytes for a reply line: printable ASCII and space as they are,
 * everything else and the backslash as \xNN. */
void
sim_esc_write(FILE *f, const void *data, size_t len)
{
	const unsigned char	*p = data;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '\\')
			fprintf(f, "\\x%02x", p[i]);
		else
			fputc(p[i], f);
	}
}

/* Value of one hex digit, or -1. */
static int
sim_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Decode \xNN escapes in len bytes of s into a new buffer (with a NUL
 * after its *outlen bytes); other backslashes stay as they are. */
char *
sim_unescape(const char *s, size_t len, size_t *outlen)
{
	char	*out = xmalloc(len + 1);
	size_t	 i, n = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] == 'x' && (hi = sim_hex(s[i + 2])) >= 0 &&
		    (lo = sim_hex(s[i + 3])) >= 0) {
			out[n++] = (char)(hi << 4 | lo);
			i += 3;
		} else
			out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return (out);
}

/* Complain unless the simulated host's root is known. */
int
sim_need_root(const struct sim_env *env, const char *cmd)
{
	struct stat	st;

	if (env->root == NULL || *env->root == '\0') {
		fprintf(stderr, "xsc-sim %s: no simulated host: give --root "
		    "DIR or set XSC_SIM_ROOT\n", cmd);
		return (-1);
	}
	if (stat(env->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "xsc-sim %s: %s: not a directory\n", cmd,
		    env->root);
		return (-1);
	}
	return (0);
}

/* Remove one entry for sim_rm_rf. */
static int
sim_rm_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		return (-1);
	return (0);
}

/* Remove a directory tree; 0 or -errno. A missing one is fine. */
int
sim_rm_rf(const char *path)
{
	struct stat	st;

	if (lstat(path, &st) != 0)
		return (errno == ENOENT ? 0 : -errno);
	if (nftw(path, sim_rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return (-errno);
	return (0);
}

/* The name of a message type ("READ"), or NULL if it has none. */
const char *
sim_type_name(uint32_t type)
{
	if (type >= sizeof sim_types / sizeof sim_types[0])
		return (NULL);
	return (sim_types[type]);
}

/* Parse a message type: a number, or a name with or without "XS_", in
 * any case. 0 or -EINVAL. */
int
sim_type_parse(const char *s, uint32_t *out)
{
	uint64_t	v;
	size_t		i;

	if (sim_parse_u64(s, UINT32_MAX, &v) == 0) {
		*out = (uint32_t)v;
		return (0);
	}
	if (strncasecmp(s, "XS_", 3) == 0)
		s += 3;
	if (strcasecmp(s, "DEBUG") == 0) {
		*out = XS_CONTROL;
		return (0);
	}
	for (i = 0; i < sizeof sim_types / sizeof sim_types[0]; i++) {
		if (sim_types[i] != NULL && strcasecmp(s, sim_types[i]) == 0) {
			*out = (uint32_t)i;
			return (0);
		}
	}
	return (-EINVAL);
}
