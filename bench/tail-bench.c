/*
 * tail-bench: builds a big database the way a busy host fills one, for
 * timing xsconsole-tail on it (bench/tail-bench.sh does the timing).
 *
 * -i incarnations (default 10000) each print -m MiB (default 1: 10 GiB in
 * all) of console text, in rounds of 64 KiB per incarnation, so each
 * one's chunks are spread over the whole file as on a real host; capture
 * times advance 1 ms per 64 KiB written over all of them. Between rounds,
 * each domain gets a few store commits under its home and its backends
 * (device states going 1 -> 4, as xl creates a guest), so that --store
 * has history to interleave. Retention is off (the budgets are set above
 * what is written), so nothing written is deleted.
 *
 *   make bench/tail-bench && bench/tail-bench -d DB [-i N] [-m MiB]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "db.h"
#include "log.h"

#define ROUND_BYTES	(64u << 10)
#define QUEUE_LIMIT	(64u << 20)

/* ROUND_BYTES of console-like text for a domain. */
static size_t
text(char *buf, uint32_t domid, uint64_t *line, uint64_t t_ns)
{
	static const char	*what[] = { "GET /index.html", "POST /api/v1/jobs",
				    "sshd[812]: Accepted publickey for admin",
				    "kernel: EXT4-fs (xvda1): re-mounted",
				    "systemd[1]: Started Daily apt upgrade",
				    "nginx: upstream timed out (110)",
				    "cron[977]: (root) CMD (run-parts)" };
	size_t			 len = 0;
	int			 n;

	while (len + 200 < ROUND_BYTES) {
		n = snprintf(buf + len, ROUND_BYTES - len,
		    "[%10.6f] dom%u %s #%" PRIu64 " took %u us from "
		    "10.%u.%u.%u\n", (double)t_ns / 1e9, domid,
		    what[rng() % 7], (*line)++, (unsigned)(rng() % 100000),
		    (unsigned)(rng() % 256), (unsigned)(rng() % 256),
		    (unsigned)(rng() % 256));
		len += (size_t)n;
	}
	return (len);
}

int
main(int argc, char **argv)
{
	struct db_config	 cfg;
	struct db		*db;
	struct db_change	 ch;
	int64_t			*inc;
	uint64_t		*lines, t = 1767225600ULL * 1000000000ULL;
	uint64_t		 gen = 0, written = 0, t0, mib = 1;
	uint32_t		 n = 10000, i, r, rounds;
	const char		*path = NULL;
	char			*buf, err[256], uuid[37], name[32], p[128];
	char			 v[8];
	int			 c;

	while ((c = getopt(argc, argv, "d:i:m:")) != -1) {
		switch (c) {
		case 'd':
			path = optarg;
			break;
		case 'i':
			n = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			mib = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: tail-bench -d DB [-i N] "
			    "[-m MiB]\n");
			return (2);
		}
	}
	if (path == NULL || n == 0 || n > 30000 || mib == 0) {
		fprintf(stderr, "usage: tail-bench -d DB [-i N (1..30000)] "
		    "[-m MiB]\n");
		return (2);
	}
	log_open(stderr, LOG_LEVEL_WARN);
	db_config_defaults(&cfg);
	cfg.path = path;
	cfg.max_bytes = UINT64_MAX / 4;
	cfg.max_incarnation_bytes = UINT64_MAX / 4;
	cfg.history_max_bytes = UINT64_MAX / 4;
	if ((db = db_open_writer(&cfg, err, sizeof err)) == NULL) {
		fprintf(stderr, "tail-bench: %s\n", err);
		return (1);
	}
	inc = calloc(n, sizeof *inc);
	lines = calloc(n, sizeof *lines);
	buf = malloc(ROUND_BYTES);
	if (inc == NULL || lines == NULL || buf == NULL)
		return (1);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		snprintf(uuid, sizeof uuid, "%08x-0000-4000-8000-%012x", i + 1,
		    i + 1);
		snprintf(name, sizeof name, "guest%u", i + 1);
		inc[i] = db_incarnation_begin(db, i + 1, uuid, name, t);
		if (inc[i] < 0) {
			fprintf(stderr, "tail-bench: begin: %s\n",
			    strerror((int)-inc[i]));
			return (1);
		}
		snprintf(p, sizeof p, "/local/domain/%u/name", i + 1);
		ch = (struct db_change){ p, false, true, name,
		    (uint32_t)strlen(name), "n0,r0" };
		db_commit(db, ++gen, t, DB_ORIGIN_SOCKET | 1, true, &ch, 1);
	}
	/* A round writes a little under ROUND_BYTES: one more makes at
	 * least mib MiB each. */
	rounds = (uint32_t)(mib * 1024 * 1024 / ROUND_BYTES) + 1;
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			size_t	len = text(buf, i + 1, &lines[i], t);

			while (db_queued(db) > QUEUE_LIMIT)
				usleep(1000);
			db_append(db, inc[i], buf, len, t, gen);
			written += len;
			t += 1000000;
			/* xl's device handshake: a state step per round,
			 * frontend and backend, for the first rounds. */
			if (r < 4) {
				snprintf(p, sizeof p, "/local/domain/%u/device/"
				    "vif/0/state", i + 1);
				snprintf(v, sizeof v, "%u", r + 1);
				ch = (struct db_change){ p, false, r == 0, v,
				    (uint32_t)strlen(v), "n1,r0" };
				db_commit(db, ++gen, t, i + 1, false, &ch, 1);
				snprintf(p, sizeof p, "/local/domain/0/backend/"
				    "vif/%u/0/state", i + 1);
				ch.path = p;
				ch.perms = "n0,r1";
				db_commit(db, ++gen, t, DB_ORIGIN_SOCKET | 1,
				    false, &ch, 1);
			}
		}
		fprintf(stderr, "\rtail-bench: round %u/%u, %.1f GiB", r + 1,
		    rounds, (double)written / (1 << 30));
	}
	db_close(db);
	fprintf(stderr, "\ntail-bench: %u incarnations, %" PRIu64 " bytes, "
	    "%" PRIu64 " commits in %.1f s\n", n, written, gen,
	    (double)(now_ns() - t0) / 1e9);
	return (0);
}
