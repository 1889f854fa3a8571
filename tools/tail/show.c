/*
 * Reading the lines of the chosen incarnations: pieces of a line cut
 * across chunks joined again, the filters (--since, --until, -g, -n +N),
 * the last N kept in a ring, the store changes of --store merged in by
 * generation; then -f, polling the log and following the domain into
 * its next incarnation (like tail -F).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tail.h"
#include "xmalloc.h"

/* A piece of a line read while following, printed after the read. */
struct show_piece {
	char		*text;
	size_t		 len;
	uint64_t	 ns, gen;
	bool		 partial, continued, gap;
};

/* The pieces of one poll. */
struct show_pieces {
	struct tail		*t;
	struct show_piece	*v;
	size_t			 n, cap;
};

static void	 show_emit(struct tail *, const struct tail_line *);

/* Copy bytes into a line's buffer, after what is there; a NUL follows
 * them (regexec(3) may look for it, REG_STARTEND or not). */
static void
show_append(struct tail_line *l, const char *text, size_t len)
{
	if (l->cap - l->len < len + 1) {
		l->cap = l->len + len + 1 > 2 * l->cap ? l->len + len + 1 :
		    2 * l->cap;
		l->buf = xrealloc(l->buf, l->cap);
	}
	if (len > 0)
		memcpy(l->buf + l->len, text, len);
	l->len += len;
	l->buf[l->len] = '\0';
}

/* Whether the text matches -g (always, without -g). The pattern sees
 * the bytes as the guest wrote them, without the \r of a CRLF. */
bool
show_match(struct tail *t, const char *text, size_t len)
{
	regmatch_t	m;

	if (!t->grep)
		return (true);
	if (len > 0 && text[len - 1] == '\r')
		len--;
	m.rm_so = 0;
	m.rm_eo = (regoff_t)len;
	return (regexec(&t->re, text != NULL ? text : "", 1, &m,
	    REG_STARTEND) == 0);
}

/* Keep a line in the ring of the last t->lines. */
static void
show_keep(struct tail *t, const struct tail_line *l)
{
	struct tail_line	*slot;

	if (t->lines == 0)
		return;
	if (t->ring_len < t->lines) {
		if (t->ring_len == t->ring_cap) {
			t->ring_cap = t->ring_cap == 0 ? 16 : t->ring_cap * 2;
			if (t->ring_cap > t->lines)
				t->ring_cap = (size_t)t->lines;
			t->ring = xrealloc(t->ring, t->ring_cap *
			    sizeof *t->ring);
			memset(t->ring + t->ring_len, 0, (t->ring_cap -
			    t->ring_len) * sizeof *t->ring);
		}
		slot = &t->ring[t->ring_len++];
	} else {
		slot = &t->ring[t->ring_start];
		t->ring_start = (t->ring_start + 1) % t->ring_len;
		t->cut = true;
		t->cut_inc = slot->inc;
		t->cut_gen = slot->gen;
	}
	slot->len = 0;
	show_append(slot, l->buf, l->len);
	slot->ns = l->ns;
	slot->gen = l->gen;
	slot->inc = l->inc;
	slot->ended = l->ended;
	slot->fragment = l->fragment;
	slot->gap = l->gap;
	slot->lost_after = l->lost_after;
	t->kept++;
}

/* A whole line (or the last, unfinished one): filter, then print or keep. */
static void
show_accept(struct tail *t, const struct tail_line *l)
{
	t->accepted = false;
	if (t->since_ns != 0 && l->ns < t->since_ns)
		return;
	if (t->until_ns != 0 && l->ns > t->until_ns)
		return;
	if (!show_match(t, l->buf, l->len))
		return;
	t->matched++;
	if (t->from_line != 0 && t->matched < t->from_line)
		return;
	t->accepted = true;
	if (t->lines == TAIL_NO_LIMIT)
		show_emit(t, l);
	else
		show_keep(t, l);
}

/* Join the pieces of lines db_lines hands over; a db_line_cb. */
static int
show_piece(const struct db_line *l, void *arg)
{
	struct tail		*t = arg;
	struct tail_line	*a = &t->asm_line;

	if (l->seq > t->seq)
		t->seq = l->seq;
	/* Not across a gap: what comes after it continues a lost line. */
	if (!(t->asm_busy && l->continued && !l->after_gap)) {
		if (t->asm_busy)
			show_accept(t, a);	/* its rest was not kept */
		a->len = 0;
		a->ns = l->time_ns;
		a->gen = l->gen;
		a->inc = t->cur;
		a->fragment = l->continued;
		a->gap = l->after_gap;
	}
	show_append(a, l->text, l->len);
	a->ended = !l->partial;
	t->asm_busy = l->partial;
	if (!l->partial)
		show_accept(t, a);
	return (0);
}

/* The end of an incarnation's lines: its unfinished last line counts. */
static void
show_flush(struct tail *t)
{
	if (t->asm_busy)
		show_accept(t, &t->asm_line);
	t->asm_busy = false;
}

/* Start showing incarnation i: its header with --all, its changes. */
static void
show_start(struct tail *t, size_t i, uint64_t gen_min)
{
	if (t->hist != NULL && t->shown_inc != SIZE_MAX)
		store_end(t);
	t->shown_inc = i;
	if (t->all)
		render_header(t, &t->incs[i]);
	if (t->hist != NULL)
		store_begin(t, i, gen_min);
}

/*
 * The generation the changes of incarnation i start from, as far as
 * lines left out go: those after the last line left out (-n N), all if
 * none was; when which line is not known (-n 0 reads none), those
 * from now on.
 */
static uint64_t
show_gen_min(struct tail *t, size_t i)
{
	struct db_hinfo	info;
	int		error;

	if (!t->cut || t->cut_inc != i)
		return (0);
	if (t->cut_gen != UINT64_MAX)
		return (t->cut_gen + 1);
	if ((error = db_history_info(t->db, &info)) != 0)
		tail_db_fail(t, error);
	return (info.last_gen + 1);
}

/* When output lost at the end of an incarnation's log was lost by: its
 * end, or now while it runs. */
static uint64_t
show_lost_ns(const struct db_incarnation *inc)
{
	return (inc->gone_ns != 0 ? inc->gone_ns : when_now());
}

/* Print a line that passed the filters (or only the note of output lost
 * after it). */
static void
show_emit(struct tail *t, const struct tail_line *l)
{
	const struct db_incarnation	*inc = &t->incs[l->inc];

	if (l->inc != t->shown_inc)
		show_start(t, l->inc, show_gen_min(t, l->inc));
	if (!l->note_only) {
		if (t->hist != NULL)
			store_until(t, l->gen);
		if (l->gap)
			render_gap(t, inc, l->ns);
		/* A line left open (its rest lost, or -g left the rest
		 * out) ends: this one starts its own. */
		render_end_line(t);
		render_line(t, inc, l->buf, l->len, l->ns, l->gen, true,
		    l->ended, l->fragment);
	}
	if (l->lost_after)
		render_gap(t, inc, show_lost_ns(inc));
}

/* Print the note of incarnation i all of whose output was lost. */
static void
show_note_only(struct tail *t, size_t i)
{
	struct tail_line	note;

	memset(&note, 0, sizeof note);
	note.inc = i;
	note.lost_after = note.note_only = true;
	show_emit(t, &note);
}

/*
 * After the lines of incarnation t->cur: output lost at the end of its
 * log (db_lost_after: no line after it says so) is noted after its last
 * line, if that line shows; if it has no line at all, in its place,
 * unless --since, --until or -g choose lines. Not while the last
 * incarnation runs under -f: a line that comes later notes it (after_gap),
 * or its end does (show_follow).
 */
static void
show_lost_end(struct tail *t)
{
	const struct db_incarnation	*inc = &t->incs[t->cur];
	bool				 filtered = t->since_ns != 0 ||
					    t->until_ns != 0 || t->grep;

	t->lost_noted = 0;
	if (t->follow && t->cur == t->nincs - 1 && inc->gone_ns == 0)
		return;
	t->lost_noted = inc->last_seq;
	if (t->lines == 0 || !db_lost_after(inc, t->seq))
		return;
	if (t->seq > 0) {
		if (!t->accepted)
			return;
		if (t->lines == TAIL_NO_LIMIT)
			render_gap(t, inc, show_lost_ns(inc));
		else
			t->ring[(t->ring_start + t->ring_len - 1) %
			    t->ring_len].lost_after = true;
		return;
	}
	if (filtered || (t->from_line != 0 && t->matched + 1 < t->from_line))
		return;
	if (t->lines != TAIL_NO_LIMIT) {
		t->notes = xrealloc(t->notes, (t->nnotes + 1) *
		    sizeof *t->notes);
		t->notes[t->nnotes].inc = t->cur;
		t->notes[t->nnotes++].pos = t->kept;
	} else
		show_note_only(t, t->cur);
}

/* The notes among the last N lines (show_lost_end) placed before line
 * `before` (UINT64_MAX: all that are left), those before the first line
 * shown (first) left out with the lines. */
static void
show_notes_until(struct tail *t, size_t *next, uint64_t first,
    uint64_t before)
{
	for (; *next < t->nnotes && t->notes[*next].pos <= before; ++*next) {
		if (t->notes[*next].pos >= first)
			show_note_only(t, t->notes[*next].inc);
	}
}

/* Print what the options select, from the incarnations in t->incs. */
void
show_all(struct tail *t)
{
	struct tail_line	*l;
	bool			 limited = t->lines != TAIL_NO_LIMIT;
	bool			 filtered = t->since_ns != 0 ||
				    t->until_ns != 0 || t->grep;
	int64_t			 from;
	uint64_t		 first;
	size_t			 i, note = 0;
	int			 error;

	t->shown_inc = SIZE_MAX;
	for (t->cur = 0; t->cur < t->nincs; t->cur++) {
		from = 0;
		if (limited && !filtered) {
			/* With --store, a line more: the ring leaves it out
			 * and so knows the generation the changes shown
			 * start after (those that led to the first line). */
			from = db_tail_seq(t->db, t->incs[t->cur].id,
			    t->lines + (t->hist != NULL && t->lines > 0));
			if (from < 0)
				tail_db_fail(t, (int)from);
		}
		t->seq = from;
		if (from != 0 || (limited && t->lines == 0)) {
			/* Chunks before were skipped (-n 0: all, if any):
			 * their lines were left out, the last one's
			 * generation unknown. */
			t->cut = true;
			t->cut_inc = t->cur;
			t->cut_gen = UINT64_MAX;
		}
		if (!limited)
			show_start(t, t->cur, 0);
		t->accepted = false;
		if (!limited || t->lines > 0) {
			error = db_lines(t->db, t->incs[t->cur].id, from,
			    show_piece, t);
			if (error != 0)
				tail_db_fail(t, error);
		}
		show_flush(t);
		show_lost_end(t);
	}
	t->cur = t->nincs - 1;
	first = t->kept - t->ring_len;
	for (i = 0; i < t->ring_len; i++) {
		show_notes_until(t, &note, first, first + i);
		l = &t->ring[(t->ring_start + i) % t->ring_len];
		show_emit(t, l);
	}
	show_notes_until(t, &note, first, UINT64_MAX);
	for (i = 0; i < t->ring_cap; i++)
		free(t->ring[i].buf);
	free(t->ring);
	free(t->notes);
	t->ring = NULL;
	t->notes = NULL;
	t->ring_len = t->ring_cap = t->ring_start = t->nnotes = 0;
	/* No line shown (a guest that never printed): the changes all the
	 * same, those after the last line left out, if any was; -n 0 asks
	 * for none (with -f, only what comes). */
	if (t->hist != NULL && t->shown_inc == SIZE_MAX && t->nincs > 0 &&
	    t->lines != 0)
		show_start(t, t->cur, show_gen_min(t, t->cur));
	/* -f goes on with the changes of the last incarnation. */
	if (t->hist != NULL && !t->follow && t->shown_inc != SIZE_MAX)
		store_end(t);
}

/* Keep a piece read while following; a db_line_cb. */
static int
show_collect(const struct db_line *l, void *arg)
{
	struct show_pieces	*p = arg;
	struct show_piece	*s;

	if (l->seq > p->t->seq)
		p->t->seq = l->seq;
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 64 : p->cap * 2;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	s = &p->v[p->n++];
	s->text = xmalloc(l->len + 1);
	if (l->len > 0)
		memcpy(s->text, l->text, l->len);
	s->len = l->len;
	s->ns = l->time_ns;
	s->gen = l->gen;
	s->partial = l->partial;
	s->continued = l->continued;
	s->gap = l->after_gap;
	return (0);
}

/*
 * How many bytes at the end of a piece that does not end its line to
 * keep for the next piece, so that -f shows what a reading of the whole
 * line shows: a \r (the CR of a CRLF is dropped) or a UTF-8 sequence
 * not complete yet (escaped if cut).
 */
static size_t
show_hold_len(const char *p, size_t len)
{
	unsigned char	c;
	size_t		i, need;

	if (len > 0 && p[len - 1] == '\r')
		return (1);
	for (i = 1; i <= 3 && i <= len; i++) {
		c = (unsigned char)p[len - i];
		if ((c & 0xc0) == 0x80)
			continue;		/* a continuation byte */
		need = c >= 0xf5 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 :
		    c >= 0xc2 ? 2 : 1;
		return (need > i ? i : 0);
	}
	return (0);
}

/* Print the bytes a piece kept for the next, as they are: the line's
 * end did not come (a gap, the incarnation's end). */
static void
show_unhold(struct tail *t)
{
	if (t->nhold == 0)
		return;
	render_line(t, &t->incs[t->cur], t->hold, t->nhold, t->hold_ns,
	    t->hold_gen, t->hold_starts || !t->open, false, !t->hold_starts);
	t->nhold = 0;
}

/* Print a piece read while following, as it is (a prompt shows before
 * its newline), but for what show_hold_len keeps for the next. */
static void
show_follow_piece(struct tail *t, const struct show_piece *s)
{
	char		*text = s->text, *joined = NULL;
	size_t		 len = s->len, keep = 0;
	bool		 starts, fragment = s->continued;

	if (s->gap)
		show_unhold(t);
	starts = !(s->continued && t->open) || s->gap;
	if (t->nhold > 0) {
		joined = xmalloc(t->nhold + len);
		memcpy(joined, t->hold, t->nhold);
		memcpy(joined + t->nhold, s->text, len);
		text = joined;
		len += t->nhold;
		if (t->hold_starts)
			starts = true, fragment = false;
		t->nhold = 0;
	}
	if (starts && t->hist != NULL)
		store_until(t, s->gen);
	if (s->gap)
		render_gap(t, &t->incs[t->cur], s->ns);
	if (s->partial && !t->raw)
		keep = show_hold_len(text, len);
	if (keep < len || !s->partial)
		render_line(t, &t->incs[t->cur], text, len - keep, s->ns,
		    s->gen, starts, !s->partial, fragment);
	if (keep > 0) {
		memcpy(t->hold, text + len - keep, keep);
		t->nhold = keep;
		t->hold_starts = keep == len && starts;
		t->hold_ns = s->ns;
		t->hold_gen = s->gen;
	}
	t->accepted = true;
	free(joined);
}

/* Print the pieces of one poll: whole lines through the filters when
 * -g needs them whole, else each piece (show_follow_piece). */
static void
show_pieces(struct tail *t, struct show_pieces *p)
{
	struct show_piece	*s;
	struct db_line		 l;
	size_t			 i;

	for (i = 0; i < p->n; i++) {
		s = &p->v[i];
		if (t->grep) {
			memset(&l, 0, sizeof l);
			l.text = s->text;
			l.len = s->len;
			l.time_ns = s->ns;
			l.gen = s->gen;
			l.seq = t->seq;
			l.partial = s->partial;
			l.continued = s->continued;
			l.after_gap = s->gap;
			show_piece(&l, t);
		} else
			show_follow_piece(t, s);
		free(s->text);
	}
	p->n = 0;
}

/* -f at an incarnation's end: its output lost at the end, if not noted
 * yet (show_lost_end), after its last line if that showed; alone if it
 * has none, unless -g or --since choose lines. */
static void
show_lost_follow(struct tail *t, const struct db_incarnation *now)
{
	if (now->last_seq <= t->lost_noted || !db_lost_after(now, t->seq))
		return;
	if (t->seq > 0 ? t->accepted : !t->grep && t->since_ns == 0)
		render_gap(t, now, now->gone_ns);
}

/* Move on to the next incarnation of the domain, if there is one yet. */
static bool
show_next(struct tail *t)
{
	struct db_incarnation	inc = t->incs[t->cur];

	if (!select_next(t, &inc))
		return (false);
	show_flush(t);
	t->incs = xrealloc(t->incs, (t->nincs + 1) * sizeof *t->incs);
	t->incs[t->nincs] = inc;
	t->cur = t->nincs++;
	t->seq = 0;
	t->lost_noted = 0;
	t->accepted = false;
	t->shown_inc = t->cur;
	render_announce(t, &inc, "began", inc.first_ns);
	if (t->hist != NULL)
		store_begin(t, t->cur, 0);
	return (true);
}

/*
 * -f on a quiet log: whether the reader of the output is gone (the other
 * end of a pipe closed, as "| head -1" does once it has its line); it
 * ends the follow at once, as the next write would (SIGPIPE), not at the
 * guest's next line, which may never come.
 */
static void
show_check_reader(void)
{
	struct pollfd	pfd = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP))) {
		raise(SIGPIPE);
		tool_exit(TAIL_EXIT_WRITE, "write: %s", strerror(EPIPE));
	}
}

/* Follow the log: print what is committed, then the next incarnation. */
void
show_follow(struct tail *t)
{
	struct show_pieces	p = { .t = t };
	struct db_incarnation	now;
	struct timespec		ts = { 0, TAIL_POLL_MS * 1000000L };
	bool			ended = false, missing, force = false;
	int			error;

	/* From here on, every new line that passes the filters shows. */
	t->lines = TAIL_NO_LIMIT;
	t->from_line = 0;
	if (t->hist != NULL && t->shown_inc != t->cur) {
		t->shown_inc = t->cur;
		store_begin(t, t->cur, show_gen_min(t, t->cur));
	}
	for (;;) {
		if (fflush(stdout) != 0)
			tool_exit(TAIL_EXIT_WRITE, "write: %s",
			    strerror(errno));
		if (!force && (error = db_changed(t->db)) <= 0) {
			if (error < 0)
				tail_db_fail(t, error);
			show_check_reader();
			nanosleep(&ts, NULL);
			continue;
		}
		force = false;
		if (!ended) {
			/* Gone first, then the lines: all its chunks are in. */
			error = db_incarnation_get(t->db, t->incs[t->cur].id,
			    &now);
			if (error != 0 && error != -ENOENT)
				tail_db_fail(t, error);
			missing = error == -ENOENT;
			error = db_lines(t->db, t->incs[t->cur].id, t->seq,
			    show_collect, &p);
			if (error != 0)
				tail_db_fail(t, error);
			if (t->hist != NULL && !missing)
				t->incs[t->cur].gone_ns = now.gone_ns;
			if (t->hist != NULL)
				store_poll(t);
			show_pieces(t, &p);
			if (t->hist != NULL)
				force = store_ripe(t);
			if (missing || now.gone_ns != 0) {
				show_unhold(t);
				show_flush(t);
				if (!missing)
					show_lost_follow(t, &now);
				if (t->hist != NULL)
					store_end(t);
				render_announce(t, &t->incs[t->cur], "ended",
				    missing ? 0 : now.gone_ns);
				ended = true;
			}
		}
		if (ended && show_next(t)) {
			ended = false;
			force = true;	/* read it now, not at the next change */
		}
	}
}
