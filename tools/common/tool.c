/* Ending a tool with a message (tool.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tool.h"

const char	*tool_name = "xsconsoled-tool";

/* Print a message prefixed with the program's name, and exit. */
void
tool_exit(int status, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(status);
}

/* A bad command line: say why, and exit 2. */
void
tool_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", tool_name);
	exit(TOOL_EXIT_USAGE);
}
