/*
 * A console log writer driven by commands on stdin, for the integration
 * tests of xsconsole-tail (tests/integration/tail.sh). One command per
 * line:
 *
 *   begin DOMID UUID NAME NS    db_incarnation_begin; prints the id
 *   append ID NS GEN TEXT       db_append of TEXT (the rest of the line,
 *                               with C escapes: \n \r \t \\ \xHH)
 *   dropped ID N NS GEN         db_dropped
 *   end ID NS                   db_incarnation_end
 *   flush                       db_flush; prints "flushed"
 *   commit GEN NS PATH [new] [perms P] = VALUE
 *   commit GEN NS PATH rm       db_commit of one change (origin 0, not
 *                               in a transaction; perms default "n0")
 *
 * usage: db_writer_tool [-c CHUNK_BYTES] [-F FLUSH_MS] PATH
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"

/* Undo the C escapes of s in place; returns the length. */
static size_t
unescape(char *s)
{
	char		*in = s, *out = s;
	unsigned	 v;

	while (*in != '\0') {
		if (*in != '\\' || in[1] == '\0') {
			*out++ = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'n':
			*out++ = '\n';
			break;
		case 'r':
			*out++ = '\r';
			break;
		case 't':
			*out++ = '\t';
			break;
		case 'x':
			if (sscanf(in + 1, "%2x", &v) == 1) {
				*out++ = (char)v;
				in += 2;
			}
			break;
		default:
			*out++ = *in;
			break;
		}
		in++;
	}
	return ((size_t)(out - s));
}

/* "commit GEN NS PATH ...": one change into the store history. */
static int
command_commit(struct db *db, char *line)
{
	struct db_change	 c;
	uint64_t		 gen, ns;
	char			 path[1024], perms[256], *p;
	int			 off = 0;

	if (sscanf(line, "commit %" SCNu64 " %" SCNu64 " %1023s%n", &gen, &ns,
	    path, &off) != 3 || off == 0)
		return (-1);
	memset(&c, 0, sizeof c);
	c.path = path;
	c.perms = "n0";
	p = line + off;
	if (strcmp(p, " rm") == 0) {
		c.deleted = true;
		c.perms = NULL;
	} else {
		if (strncmp(p, " new", 4) == 0) {
			c.created = true;
			p += 4;
		}
		if (sscanf(p, " perms %255s%n", perms, &off) == 1) {
			c.perms = perms;
			p += off;
		}
		if (strncmp(p, " = ", 3) != 0)
			return (-1);
		p += 3;
		c.value = p;
		c.vlen = (uint32_t)unescape(p);
	}
	db_commit(db, gen, ns, 0, false, &c, 1);
	return (0);
}

/* Run one command; 0, or -1 if it is malformed. */
static int
command(struct db *db, char *line)
{
	char		 uuid[64], name[128];
	unsigned	 domid;
	int64_t		 id;
	uint64_t	 ns, gen, n;
	int		 off = 0;

	if (sscanf(line, "begin %u %63s %127s %" SCNu64, &domid, uuid, name,
	    &ns) == 4) {
		id = db_incarnation_begin(db, domid, uuid, name, ns);
		printf("%" PRId64 "\n", id);
		return (id > 0 ? 0 : -1);
	}
	/* TEXT starts after exactly one space: it may begin with spaces. */
	if (sscanf(line, "append %" SCNd64 " %" SCNu64 " %" SCNu64 "%n", &id,
	    &ns, &gen, &off) == 3 && off > 0) {
		if (line[off] == ' ')
			off++;
		db_append(db, id, line + off, unescape(line + off), ns, gen);
		return (0);
	}
	if (sscanf(line, "dropped %" SCNd64 " %" SCNu64 " %" SCNu64 " %"
	    SCNu64, &id, &n, &ns, &gen) == 4) {
		db_dropped(db, id, n, ns, gen);
		return (0);
	}
	if (sscanf(line, "end %" SCNd64 " %" SCNu64, &id, &ns) == 2) {
		db_incarnation_end(db, id, ns);
		return (0);
	}
	if (strncmp(line, "commit ", 7) == 0)
		return (command_commit(db, line));
	if (strcmp(line, "flush") == 0) {
		db_flush(db);
		printf("flushed\n");
		return (0);
	}
	return (-1);
}

int
main(int argc, char **argv)
{
	struct db_config	 cfg;
	struct db		*db;
	char			 err[256], *line = NULL;
	size_t			 cap = 0;
	ssize_t			 len;
	int			 ch, status = 0;

	log_open(stderr, LOG_LEVEL_WARN);
	db_config_defaults(&cfg);
	while ((ch = getopt(argc, argv, "c:F:")) != -1) {
		switch (ch) {
		case 'c':
			cfg.chunk_bytes = strtoul(optarg, NULL, 10);
			break;
		case 'F':
			cfg.flush_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return (2);
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: db_writer_tool [-c CHUNK_BYTES] "
		    "[-F FLUSH_MS] PATH\n");
		return (2);
	}
	cfg.path = argv[optind];
	if ((db = db_open_writer(&cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "db_writer_tool: %s\n", err);
		return (1);
	}
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (command(db, line) != 0) {
			fprintf(stderr, "db_writer_tool: bad command: %s\n",
			    line);
			status = 1;
		}
		fflush(stdout);
	}
	free(line);
	db_close(db);
	return (status);
}
