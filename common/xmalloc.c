/* Allocation wrappers that never return NULL. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

/* Give up: there is no sensible way to go on without memory. */
static void
xmalloc_fail(size_t size)
{
	log_fatal("out of memory allocating %zu bytes", size);
}

/* Allocate size bytes. */
void *
xmalloc(size_t size)
{
	void	*p = malloc(size ? size : 1);

	if (p == NULL)
		xmalloc_fail(size);
	return (p);
}

/* Allocate a zeroed array. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		xmalloc_fail(n * size);
	return (p);
}

/* Resize an allocation. */
void *
xrealloc(void *p, size_t size)
{
	void	*q = realloc(p, size ? size : 1);

	if (q == NULL)
		xmalloc_fail(size);
	return (q);
}

/* Copy a string. */
char *
xstrdup(const char *s)
{
	return (xmemdup(s, strlen(s) + 1));
}

/* Copy at most n bytes of a string, always terminated. */
char *
xstrndup(const char *s, size_t n)
{
	size_t	 len = strnlen(s, n);
	char	*p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

/* Copy a buffer. */
void *
xmemdup(const void *src, size_t len)
{
	void	*p = xmalloc(len);

	if (len != 0)
		memcpy(p, src, len);
	return (p);
}

/* Print into a new string. */
int
xasprintf(char **out, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(out, fmt, ap);
	va_end(ap);
	if (n < 0)
		xmalloc_fail(0);
	return (n);
}
