/* Store paths: checking, making absolute, walking up. */
#ifndef XSD_PATH_H
#define XSD_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define PATH_DOMAIN_PREFIX	"/local/domain/"

int		 path_canonical(const char *, unsigned, size_t, bool, char **);
bool		 path_valid_chars(const char *);
bool		 path_is_special(const char *);
size_t		 path_parent_len(const char *);
char		*path_parent(const char *);
const char	*path_basename(const char *);
bool		 path_is_below(const char *, const char *);
const char	*path_relative_to(const char *, const char *);
size_t		 path_domain_offset(const char *);

#endif
