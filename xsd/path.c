/* Store paths. A path the store keeps is absolute: "/" or "/a/b" with
 * characters [A-Za-z0-9-/_@], no "//" and no trailing "/". Special watch
 * names start with "@". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "path.h"
#include "xmalloc.h"

/* Is every character one a path may hold? */
bool
path_valid_chars(const char *p)
{
	for (; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			continue;
		if (strchr("-/_@", *p) == NULL)
			return (false);
	}
	return (true);
}

/* Is this a special watch name such as @introduceDomain? */
bool
path_is_special(const char *p)
{
	return (p[0] == '@');
}

/* How many bytes of an absolute path count against the relative limit:
 * those after "/local/domain/<id>/", as Xen counts them (its sscanf
 * "%5u" takes at most five digits, so a longer id is no home). */
size_t
path_domain_offset(const char *p)
{
	const char	*q;
	size_t		 plen = strlen(PATH_DOMAIN_PREFIX), digits = 0;

	if (strncmp(p, PATH_DOMAIN_PREFIX, plen) != 0)
		return (0);
	q = p + plen;
	while (*q >= '0' && *q <= '9' && digits < 5) {
		q++;
		digits++;
	}
	if (digits == 0)
		return (0);
	if (*q != '/')
		return (0);
	return ((size_t)(q + 1 - p));
}

/*
 * Check a path from a request and make it absolute against the caller's
 * home (/local/domain/<domid>). Special names pass only if allow_special.
 * As in Xen, the part after "/local/domain/<id>/" (or the whole of any
 * other path) may be at most path_max bytes. Returns 0 and a new string,
 * or -EINVAL.
 */
int
path_canonical(const char *in, unsigned domid, size_t path_max,
    bool allow_special, char **out)
{
	char	*abs;
	size_t	 len;

	*out = NULL;
	if (in[0] == '@') {
		if (!allow_special || strlen(in) > path_max)
			return (-EINVAL);
		*out = xstrdup(in);
		return (0);
	}
	if (in[0] == '/')
		abs = xstrdup(in);
	else
		xasprintf(&abs, "%s%u/%s", PATH_DOMAIN_PREFIX, domid, in);

	len = strlen(abs);
	if ((len > 1 && abs[len - 1] == '/') || strstr(abs, "//") != NULL ||
	    !path_valid_chars(abs) || len > XENSTORE_ABS_PATH_MAX ||
	    len > path_domain_offset(abs) + path_max) {
		free(abs);
		return (-EINVAL);
	}
	*out = abs;
	return (0);
}

/* Length of the parent's path: "/a/b" -> 2 ("/a"), "/a" -> 1 ("/"). */
size_t
path_parent_len(const char *p)
{
	const char	*slash = strrchr(p, '/');

	if (slash == NULL || slash == p)
		return (1);
	return ((size_t)(slash - p));
}

/* A new string holding the parent's path. */
char *
path_parent(const char *p)
{
	return (xstrndup(p, path_parent_len(p)));
}

/* The last component of a path ("" for "/"). */
const char *
path_basename(const char *p)
{
	const char	*slash = strrchr(p, '/');

	return (slash == NULL ? p : slash + 1);
}

/* Is p equal to top or below it? */
bool
path_is_below(const char *p, const char *top)
{
	size_t	len = strlen(top);

	if (strcmp(top, "/") == 0)
		return (p[0] == '/');
	return (strncmp(p, top, len) == 0 && (p[len] == '\0' || p[len] == '/'));
}

/* The path as a client that asked relative to home sees it: the part
 * after "home/", or p itself when it is not below home. */
const char *
path_relative_to(const char *p, const char *home)
{
	size_t	len = strlen(home);

	if (strncmp(p, home, len) == 0 && p[len] == '/')
		return (p + len + 1);
	return (p);
}
