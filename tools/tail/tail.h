/*
 * xsconsole-tail: the pieces of the program, one file each.
 *
 *   main.c    options, opening the log, exit codes
 *   select.c  which incarnations the domain argument names
 *   ../common/when.c  times: parsing --since/--until, formatting
 *   render.c  one line out: escaping, the -o formats, headers
 *   show.c    reading lines: joining, filters, last N, following
 *   store.c   --store: the guest's store changes from the history
 */
#ifndef XSC_TAIL_H
#define XSC_TAIL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "tool.h"
#include "when.h"

/* Exit status (documented in docs/xsconsole-tail.1, EXIT STATUS). */
#define TAIL_EXIT_OK		0
#define TAIL_EXIT_NOTFOUND	1	/* no such domain or incarnation */
#define TAIL_EXIT_USAGE		2
#define TAIL_EXIT_NODB		3	/* no database file */
#define TAIL_EXIT_PERM		4	/* the database is not readable */
#define TAIL_EXIT_DB		5	/* not a console log, corrupt, I/O */
#define TAIL_EXIT_WRITE		6	/* writing the output failed */

#define TAIL_POLL_MS		50
#define TAIL_DEFAULT_LINES	10
#define TAIL_NO_LIMIT		UINT64_MAX

enum tail_format {
	TAIL_CAT,			/* the text (the default) */
	TAIL_SHORT,			/* "Nov 23 20:15:01 web[7]: text" */
	TAIL_SHORT_PRECISE,		/* the same with microseconds */
	TAIL_JSON,			/* one object per line */
};

/* One console line, joined across chunks, as the filters see it. */
struct tail_line {
	char		*buf;
	size_t		 len, cap;
	uint64_t	 ns;
	uint64_t	 gen;
	size_t		 inc;			/* index in tail.incs */
	bool		 ended;			/* had its newline */
	bool		 fragment;		/* its start was not read */
	bool		 gap;			/* output was lost before it */
	bool		 lost_after;		/* ... after it, at the end of
						   its incarnation's log */
	bool		 note_only;		/* no line: only that note */
};

/* An incarnation all of whose output was lost, noted among the last N
 * lines without taking the place of one: before line pos (0: the first
 * line kept in the ring ever). */
struct tail_note {
	size_t		 inc;
	uint64_t	 pos;
};

struct store;

/* The command line and the state of one run. */
struct tail {
	/* What to read. */
	const char		*path;
	const char		*target;	/* the domain, as given */
	bool			 by_name;
	uint32_t		 domid;
	struct db		*db;

	/* Options. */
	enum tail_format	 format;
	bool			 timestamps;	/* -t, for TAIL_CAT */
	bool			 raw;		/* --raw: bytes untouched */
	uint64_t		 lines;		/* -n N: last N; TAIL_NO_LIMIT */
	uint64_t		 from_line;	/* -n +N: from the Nth (1-based);
						   0: not given */
	uint64_t		 since_ns;	/* 0: none */
	uint64_t		 until_ns;	/* 0: none */
	bool			 grep;
	regex_t			 re;
	bool			 follow, all, list, store;
	long long		 which;		/* --incarnation: id, or <= 0 */

	/* The incarnations shown, oldest first. */
	struct db_incarnation	*incs;
	size_t			 nincs;
	size_t			 cur;		/* being read */
	int64_t			 seq;		/* last chunk read of it */
	int64_t			 lost_noted;	/* its output lost up to this
						   chunk was noted (or left
						   out) */

	/* Output. */
	bool			 open;		/* ends mid-line */
	char			 hold[4];	/* -f: the end of a piece kept
						   for the next (show.c) */
	size_t			 nhold;
	bool			 hold_starts;	/* ... it starts its line */
	uint64_t		 hold_ns, hold_gen;
	size_t			 shown_inc;	/* header printed for; SIZE_MAX */
	uint64_t		 matched;	/* lines that passed the filters */
	bool			 accepted;	/* the last line did too */
	struct tail_line	 asm_line;	/* being joined */
	bool			 asm_busy;
	struct tail_line	*ring;		/* the last N */
	size_t			 ring_len, ring_cap, ring_start;
	uint64_t		 kept;		/* lines that went into it */
	struct tail_note	*notes;		/* beside it (show.c) */
	size_t			 nnotes;
	bool			 cut;		/* -n left lines of cut_inc out */
	size_t			 cut_inc;
	uint64_t		 cut_gen;	/* the last one's generation
						   (UINT64_MAX: not known) */
	struct store		*hist;		/* --store; NULL otherwise */
};

/* main.c */
void		 tail_db_fail(struct tail *, int);

/* select.c */
void		 select_find(struct tail *, struct db_incarnation **,
		    size_t *);
void		 select_incarnations(struct tail *);
void		 select_list(struct tail *);
bool		 select_next(struct tail *, struct db_incarnation *);

/* render.c */
void		 render_write(const void *, size_t);
void		 render_text(struct tail *, const char *, size_t, bool);
void		 render_line(struct tail *, const struct db_incarnation *,
		    const char *, size_t, uint64_t, uint64_t, bool, bool,
		    bool);
void		 render_header(struct tail *, const struct db_incarnation *);
void		 render_gap(struct tail *, const struct db_incarnation *,
		    uint64_t);
void		 render_announce(struct tail *, const struct db_incarnation *,
		    const char *, uint64_t);
bool		 render_json_string(const char *, size_t);
void		 render_json_head(const char *, const struct db_incarnation *,
		    uint64_t);
void		 render_json_field(const char *, const char *, size_t);
void		 render_prefix(struct tail *, const struct db_incarnation *,
		    uint64_t);
void		 render_end_line(struct tail *);

/* show.c */
void		 show_all(struct tail *);
void		 show_follow(struct tail *);
bool		 show_match(struct tail *, const char *, size_t);

/* store.c: --store. */
void		 store_create(struct tail *);
void		 store_begin(struct tail *, size_t inc, uint64_t gen_min);
void		 store_until(struct tail *, uint64_t gen);
void		 store_end(struct tail *);
void		 store_poll(struct tail *);
bool		 store_ripe(struct tail *);
void		 store_free(struct tail *);

#endif
