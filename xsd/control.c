/* XS_CONTROL: the daemon's own commands, as xenstore-control sends them
 * ("cmd\0arg\0..."). Replies are text; unknown commands are EINVAL. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "domain.h"
#include "log.h"
#include "settings.h"
#include "store.h"
#include "tree.h"
#include "watch.h"
#include "xmalloc.h"
#include "xsd-private.h"

#define CONTROL_MAX_ARGS	8

struct control_cmd;
typedef int control_fn(struct conn *, int, char **, FILE *);

static control_fn control_help, control_log, control_print, control_check,
    control_memreport, control_quota, control_quota_soft, control_config,
    control_stats;

static const struct control_cmd {
	const char	*name;
	const char	*args;
	control_fn	*fn;
} control_cmds[] = {
	{ "check", "", control_check },
	{ "config", "[get <name>|set <name> <val>]", control_config },
	{ "log", "[error|warn|info|debug|on|off]", control_log },
	{ "memreport", "", control_memreport },
	{ "print", "<string>", control_print },
	{ "quota", "[set <name> <val>|<domid>]", control_quota },
	{ "quota-soft", "[set <name> <val>]", control_quota_soft },
	{ "stats", "", control_stats },
	{ "help", "", control_help },
};

/* help: each command and its arguments. */
static int
control_help(struct conn *c, int argc, char **argv, FILE *f)
{
	size_t	i;

	(void)c;
	(void)argv;
	if (argc != 0)
		return (-EINVAL);
	for (i = 0; i < sizeof control_cmds / sizeof control_cmds[0]; i++)
		fprintf(f, "%s\t%s\n", control_cmds[i].name,
		    control_cmds[i].args);
	return (0);
}

/*
 * Change a setting as a write of its node would (settings.h), so that
 * the node, watchers and the history see it: 0, -ENOENT for a name that
 * is no setting, -EINVAL for a value it does not take.
 */
static int
control_setting_write(struct conn *c, const char *name, const char *value)
{
	char		*path;
	uint64_t	 v;
	int		 e;

	if ((e = settings_parse(c->xsd->settings, name, value, &v)) != 0)
		return (e);
	xasprintf(&path, "%s/%s", SETTINGS_CONFIG, name);
	e = store_write(c->xsd->store, NULL, &c->actor, path, value,
	    (uint32_t)strlen(value));
	free(path);
	return (e);
}

/* config [get <name>|set <name> <val>]: every setting as "name = value"
 * (the config file's form), one setting's value, or a change. */
static int
control_config(struct conn *c, int argc, char **argv, FILE *f)
{
	char	buf[SETTINGS_VALUE_MAX];
	int	e;

	if (c->xsd->settings == NULL)
		return (-ENOENT);
	if (argc == 0) {
		settings_print(c->xsd->settings, f);
		return (0);
	}
	if (argc == 2 && strcmp(argv[0], "get") == 0) {
		if ((e = settings_format(c->xsd->settings, argv[1], buf,
		    sizeof buf)) != 0)
			return (e);
		fprintf(f, "%s", buf);
		return (0);
	}
	if (argc == 3 && strcmp(argv[0], "set") == 0) {
		if ((e = control_setting_write(c, argv[1], argv[2])) != 0)
			return (e);
		fprintf(f, "OK");
		return (0);
	}
	return (-EINVAL);
}

/* stats: every statistic as "name = value" (as below stats/). */
static int
control_stats(struct conn *c, int argc, char **argv, FILE *f)
{
	(void)argv;
	if (argc != 0)
		return (-EINVAL);
	if (c->xsd->settings == NULL)
		return (-ENOENT);
	settings_print_stats(c->xsd->settings, f);
	return (0);
}

/* log [level]: show or change the log level ("on" is debug, "off" is
 * warn, for xenstore-control users used to Xen's switch). */
static int
control_log(struct conn *c, int argc, char **argv, FILE *f)
{
	enum log_level	level;
	int		e;

	if (argc == 0) {
		fprintf(f, "%s\n", log_level_name(log_get_level()));
		return (0);
	}
	if (argc != 1)
		return (-EINVAL);
	if (strcmp(argv[0], "on") == 0)
		level = LOG_LEVEL_DEBUG;
	else if (strcmp(argv[0], "off") == 0)
		level = LOG_LEVEL_WARN;
	else if (log_level_parse(argv[0], &level) != 0)
		return (-EINVAL);
	if (c->xsd->settings != NULL) {
		/* The log-level setting, so that its node says the same. */
		if ((e = control_setting_write(c, "log-level",
		    log_level_name(level))) != 0)
			return (e);
		fprintf(f, "OK");
		return (0);
	}
	log_set_level(level);
	log_info("control: log level set to %s", log_level_name(level));
	fprintf(f, "OK");
	return (0);
}

/* print <string>: put a line into the log (to mark a moment in it). */
static int
control_print(struct conn *c, int argc, char **argv, FILE *f)
{
	(void)c;
	if (argc != 1)
		return (-EINVAL);
	log_info("control: %s", argv[0]);
	fprintf(f, "OK");
	return (0);
}

/* check: verify the tree's invariants; "OK" or what is broken. */
static int
control_check(struct conn *c, int argc, char **argv, FILE *f)
{
	int	errors;

	(void)argv;
	if (argc != 0)
		return (-EINVAL);
	errors = tree_check(c->xsd->store->tree, f);
	if (errors == 0)
		fprintf(f, "OK");
	else
		log_error("control check: %d errors in the tree", errors);
	return (0);
}

/* Write the memory report. */
static void
control_memreport_write(struct xsd *xsd, FILE *f)
{
	const struct tree	*t = xsd->store->tree;
	struct mallinfo2	 mi = mallinfo2();
	size_t			 used = mi.uordblks + mi.hblkhd;
	size_t			 raw = t->path_bytes + t->value_bytes;

	fprintf(f, "nodes: %llu\n", (unsigned long long)t->nnodes);
	fprintf(f, "path bytes: %llu\n", (unsigned long long)t->path_bytes);
	fprintf(f, "value bytes: %llu\n", (unsigned long long)t->value_bytes);
	fprintf(f, "heap in use: %zu\n", used);
	fprintf(f, "heap per node beyond paths and values (the daemon's "
	    "fixed heap included): %.1f\n",
	    t->nnodes == 0 ? 0.0 : ((double)used - (double)raw) /
	    (double)t->nnodes);
	fprintf(f, "watches: %llu\n",
	    (unsigned long long)watch_count(xsd->store->watches));
	fprintf(f, "connections: %u\n", xsd->nconns);
	fprintf(f, "generation: %llu\n", (unsigned long long)xsd->store->gen);
}

/* memreport: memory use, in the reply. (Xen's optional file argument is
 * not taken: a request should not make the daemon write where it says.) */
static int
control_memreport(struct conn *c, int argc, char **argv, FILE *f)
{
	(void)argv;
	if (argc != 0)
		return (-EINVAL);
	control_memreport_write(c->xsd, f);
	return (0);
}

struct control_quota_field {
	const char	*name;
	size_t		 offset;
	const char	*what;
};
#define QF(n, f, w) { n, offsetof(struct xsd_quota, f), w }
static const struct control_quota_field control_quota_fields[] = {
	QF("nodes", nodes, "Nodes per domain"),
	QF("watches", watches, "Watches per domain"),
	QF("transactions", transactions, "Transactions per domain"),
	QF("outstanding", outstanding, "Outstanding requests per domain"),
	QF("transaction-nodes", txn_nodes,
	    "Max. number of accessed nodes per transaction"),
	QF("node-size", node_size, "Max. size of a node"),
	QF("path-max", path_len, "Max. length of a node path"),
	QF("permissions", perms, "Max. number of permissions per node"),
	QF("memory", memory, "Max. bytes of unread output per domain"),
	QF("write-rate", write_rate,
	    "Writes per second per domain while transactions are open"),
	QF("write-burst", write_burst, "Writes per domain at once"),
	QF("conflict-cost", conflict_cost,
	    "Writes charged per transaction another domain's commit fails"),
};
#define NQF	(sizeof control_quota_fields / sizeof control_quota_fields[0])

/* Set one quota by its name (as "quota" shows them); -EINVAL for an
 * unknown name or a value out of range. */
int
xsd_quota_set(struct xsd_quota *q, const char *name, long v)
{
	size_t	i;

	if (v < 1 || v > (long)UINT32_MAX / 2)
		return (-EINVAL);
	for (i = 0; i < NQF; i++) {
		if (strcmp(name, control_quota_fields[i].name) == 0) {
			*(unsigned *)((char *)q +
			    control_quota_fields[i].offset) = (unsigned)v;
			return (0);
		}
	}
	return (-EINVAL);
}

/* Read one quota by its name: 0, or -EINVAL for an unknown name. */
int
xsd_quota_get(const struct xsd_quota *q, const char *name, unsigned *out)
{
	size_t	i;

	for (i = 0; i < NQF; i++) {
		if (strcmp(name, control_quota_fields[i].name) == 0) {
			*out = *(const unsigned *)((const char *)q +
			    control_quota_fields[i].offset);
			return (0);
		}
	}
	return (-EINVAL);
}

/* The i-th quota's name, NULL past the last. */
const char *
xsd_quota_name(size_t i)
{
	return (i < NQF ? control_quota_fields[i].name : NULL);
}

/* quota [set <name> <val>|<domid>]: show or change the quotas, or show
 * what one domain uses of them. Changes apply at once, to every
 * unprivileged domain. */
static int
control_quota(struct conn *c, int argc, char **argv, FILE *f)
{
	struct xsd_quota	*q = &c->xsd->cfg.quota;
	char			*end, *name;
	long			 v;
	size_t			 i;
	int			 e;

	if (argc == 0) {
		fprintf(f, "Quota settings:\n");
		for (i = 0; i < NQF; i++) {
			fprintf(f, "%-17s: %8u %s\n",
			    control_quota_fields[i].name,
			    *(unsigned *)((char *)q +
			    control_quota_fields[i].offset),
			    control_quota_fields[i].what);
		}
		return (0);
	}
	if (argc == 1) {
		v = strtol(argv[0], &end, 10);
		if (*end != '\0' || end == argv[0] || v < 0 || v > UINT16_MAX)
			return (-EINVAL);
		return (domain_quota_report(c->xsd, (uint32_t)v, f));
	}
	if (argc != 3 || strcmp(argv[0], "set") != 0)
		return (-EINVAL);
	v = strtol(argv[2], &end, 10);
	if (*end != '\0' || end == argv[2])
		return (-EINVAL);
	if (c->xsd->settings != NULL) {
		/* The quota/<name> setting, so that its node says the same. */
		xasprintf(&name, "quota/%s", argv[1]);
		e = control_setting_write(c, name, argv[2]);
		free(name);
		if (e != 0)
			return (e == -ENOENT ? -EINVAL : e);
		fprintf(f, "OK");
		return (0);
	}
	if ((e = xsd_quota_set(q, argv[1], v)) != 0)
		return (e);
	log_info("control: quota %s set to %ld", argv[1], v);
	fprintf(f, "OK");
	return (0);
}

/* quota-soft: this daemon has no soft memory quota; it shows none. */
static int
control_quota_soft(struct conn *c, int argc, char **argv, FILE *f)
{
	(void)c;
	(void)argv;
	if (argc != 0)
		return (-EINVAL);
	fprintf(f, "Quota settings:\n");
	return (0);
}

/*
 * Run a control command. On success *out holds the reply text with its
 * NUL (for xenstore-control), else a negative errno is returned.
 */
int
control_process(struct conn *c, const char *p, size_t len, char **out,
    size_t *outlen)
{
	char	*argv[CONTROL_MAX_ARGS], *copy, *s;
	FILE	*f;
	int	 argc = 0, e = -EINVAL;
	size_t	 i, size;

	*out = NULL;
	*outlen = 0;
	if (len == 0 || memchr(p, '\0', len) == NULL)
		return (-EINVAL);
	copy = xmemdup(p, len);
	for (s = copy; s < copy + len && argc < CONTROL_MAX_ARGS; ) {
		if (memchr(s, '\0', (size_t)(copy + len - s)) == NULL)
			break;
		argv[argc++] = s;
		s += strlen(s) + 1;
	}
	if ((f = open_memstream(out, &size)) == NULL)
		log_fatal("open_memstream failed");
	for (i = 0; i < sizeof control_cmds / sizeof control_cmds[0]; i++) {
		if (strcmp(argv[0], control_cmds[i].name) == 0) {
			e = control_cmds[i].fn(c, argc - 1, argv + 1, f);
			break;
		}
	}
	fputc('\0', f);
	fclose(f);
	free(copy);
	*outlen = size;
	if (e != 0) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return (e);
}
