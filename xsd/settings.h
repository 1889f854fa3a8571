/*
 * Live settings and statistics (docs/config.md). The daemon registers
 * every runtime setting (its range, default, and a callback applying it)
 * and every statistic (a getter). The registry takes values from the
 * config file and the command line at start; once attached to a store
 * it serves them as /tool/xsconsoled/config/<name>, real nodes that only
 * dom0 may read or write, checked and applied when a commit changes
 * them, and /tool/xsconsoled/stats/<name>, computed on reading.
 *
 * (Not config.h: that name is autoconf's, which daemon/main.c includes.)
 */
#ifndef XSD_SETTINGS_H
#define XSD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SETTINGS_ROOT		"/tool/xsconsoled"
#define SETTINGS_CONFIG		SETTINGS_ROOT "/config"
#define SETTINGS_STATS		SETTINGS_ROOT "/stats"
#define SETTINGS_VALUE_MAX	32	/* longest value text, NUL included */

struct settings;
struct store;

enum setting_kind {
	SETTING_NUMBER,		/* decimal digits, in [min, max] */
	SETTING_LOG_LEVEL,	/* error, warn, info or debug */
};

/* Applies one group of settings, reading them with settings_get: 0, or
 * -EINVAL to refuse the values (they are then put back). */
typedef int	 settings_apply_fn(struct settings *, void *);
typedef uint64_t settings_stat_fn(void *);

struct settings	*settings_create(void);
void		 settings_free(struct settings *);
void		 settings_add(struct settings *, const char *, enum setting_kind,
		    uint64_t, uint64_t, uint64_t, settings_apply_fn *, void *);
void		 settings_add_stat(struct settings *, const char *,
		    settings_stat_fn *, void *);

int		 settings_parse(const struct settings *, const char *,
		    const char *, uint64_t *);
int		 settings_set(struct settings *, const char *, const char *);
uint64_t	 settings_get(const struct settings *, const char *);
int		 settings_format(const struct settings *, const char *, char *,
		    size_t);
int		 settings_load(struct settings *, const char *, bool, char *,
		    size_t);
int		 settings_load_file(struct settings *, FILE *, const char *,
		    char *, size_t);
void		 settings_print(const struct settings *, FILE *);
void		 settings_print_stats(struct settings *, FILE *);

void		 settings_attach(struct settings *, struct store *);
void		 settings_detach(struct settings *);

#endif
