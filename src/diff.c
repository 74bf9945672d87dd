/*
 * diff.c - unified diffs in git's format (df_diff) and their change blocks
 * (df_diff_blocks, for the fixes of --report and the language server).
 *
 * The line matching is Myers' O(ND) algorithm ("An O(ND) Difference
 * Algorithm and Its Variations", 1986) in its linear-space form: search
 * forward from the start and backward from the end at once until the two
 * searches meet, split there, and solve both halves the same way. Before
 * that every line becomes a small integer (one per distinct line), and lines
 * that occur in only one text are set aside: they cannot be matched, so
 * they are changes. Past a cost limit a search stops at the point that got
 * furthest and splits there: for very different texts the diff stays
 * correct and near-linear in time, but is no longer minimal.
 *
 * Then every block of changed lines slides down as far as equal lines let
 * it (or back up to line up with a change in the other text), and hunks
 * are printed the way `git diff` prints them: three lines of context,
 * hunks merged when their context touches, the function-name context after
 * the hunk header, "\ No newline at end of file", and git's colours and
 * whitespace-error highlighting for git's default core.whitespace. git also
 * runs its indent heuristic on slidable blocks, so where a block can sit in
 * several places git may choose another, equivalent one. Files with NUL
 * bytes get a text diff, not git's "Binary files differ".
 */
#include <stdlib.h>
#include <string.h>

#include "dfix.h"
#include "report.h"

#define CONTEXT 3    /* lines of context around a change */
#define FUNC_MAX 80  /* git keeps at most 80 bytes of the function line */
#define COST_MIN 256 /* search depth before a split gives up on minimality */

/* One line: its bytes without the final '\n'; nl says whether it had one. */
struct dline {
	const char *p;
	size_t len;
	int nl;
};

struct dfile {
	const char *text;
	size_t size;
	struct dline *line;
	long n;
	uint32_t *id;       /* equivalence class of each line */
	unsigned char *chg; /* 1 = removed (old) / added (new) */
};

/* ---------------------------------------------------------------- lines */

static void split_lines(struct dfile *f, const char *text, size_t size)
{
	const char *p = text, *end = text + size, *nl;
	long n = 0;

	f->text = text;
	f->size = size;
	for (nl = p; nl < end && (nl = memchr(nl, '\n', (size_t)(end - nl))); nl++)
		n++;
	if (size && text[size - 1] != '\n')
		n++;
	f->line = df_xcalloc((size_t)n + 1, sizeof(*f->line));
	f->id = df_xcalloc((size_t)n + 1, sizeof(*f->id));
	f->chg = df_xcalloc((size_t)n + 1, 1);
	f->n = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		f->line[f->n].p = p;
		f->line[f->n].len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		f->line[f->n].nl = nl != NULL;
		f->n++;
		p = nl ? nl + 1 : end;
	}
}

static void free_lines(struct dfile *f)
{
	free(f->line);
	free(f->id);
	free(f->chg);
}

static uint64_t hash_line(const struct dline *l)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;

	for (i = 0; i < l->len; i++) {
		h ^= (unsigned char)l->p[i];
		h *= 0x100000001b3u;
	}
	return h ^ (uint64_t)l->nl;
}

static int same_line(const struct dline *x, const struct dline *y)
{
	return x->len == y->len && x->nl == y->nl && memcmp(x->p, y->p, x->len) == 0;
}

/* Give equal lines equal ids. where[id] gets bit 1 when the line occurs in
 * the old text and bit 2 when it occurs in the new one (caller frees). */
static unsigned char *classify(struct dfile *a, struct dfile *b)
{
	size_t total = (size_t)a->n + (size_t)b->n, size = 16, mask, nclass = 0;
	const struct dline **rep;
	unsigned char *where;
	uint64_t *hash;
	uint32_t *slot;
	struct dfile *f;
	long i;
	int side;

	while (size < 2 * total)
		size *= 2;
	mask = size - 1;
	slot = df_xcalloc(size, sizeof(*slot));
	rep = df_xcalloc(total + 1, sizeof(*rep));
	hash = df_xcalloc(total + 1, sizeof(*hash));
	where = df_xcalloc(total + 1, 1);
	for (side = 0; side < 2; side++) {
		f = side ? b : a;
		for (i = 0; i < f->n; i++) {
			const struct dline *l = &f->line[i];
			uint64_t h = hash_line(l);
			size_t s = (size_t)h & mask;

			while (slot[s]) {
				uint32_t c = slot[s] - 1;

				if (hash[c] == h && same_line(rep[c], l))
					break;
				s = (s + 1) & mask;
			}
			if (!slot[s]) {
				rep[nclass] = l;
				hash[nclass] = h;
				slot[s] = (uint32_t)++nclass;
			}
			f->id[i] = slot[s] - 1;
			where[slot[s] - 1] |= (unsigned char)(1 << side);
		}
	}
	free(slot);
	free(rep);
	free(hash);
	return where;
}

/* ---------------------------------------------------------------- Myers */

struct myers {
	const uint32_t *a, *b;
	unsigned char *ca, *cb; /* changed flags, indexed like a and b */
	long *vf, *vb;          /* furthest x per diagonal k = x - y */
	long cost_max;
};

/*
 * Find a point (*sx, *sy) that an edit path from (x0, y0) to (x1, y1)
 * passes through: on a shortest path when the search meets within
 * cost_max steps, otherwise the point of either search that got furthest.
 * Both ranges are non-empty and their first and last lines differ.
 * vf/vb hold -1 on a diagonal the current step cannot reach.
 */
static void middle(const struct myers *m, long x0, long x1, long y0, long y1,
		   long *sx, long *sy)
{
	const uint32_t *a = m->a, *b = m->b;
	long *vf = m->vf, *vb = m->vb;
	long kmin = x0 - y1, kmax = x1 - y0;
	long fk = x0 - y0, bk = x1 - y1;
	long fmin = fk, fmax = fk, bmin = bk, bmax = bk;
	int odd = (fk - bk) % 2 != 0;
	long d, k, x, y, lo, hi, best, gain;

	vf[fk] = x0;
	vb[bk] = x1;
	for (d = 1;; d++) {
		/* Forward: one more edit on every diagonal, then the snake. */
		lo = fmin > kmin ? fmin - 1 : fmin + 1;
		hi = fmax < kmax ? fmax + 1 : fmax - 1;
		for (k = hi; k >= lo; k -= 2) {
			long down = -1, right = -1;

			if (k + 1 <= fmax && vf[k + 1] >= 0 && vf[k + 1] - k <= y1)
				down = vf[k + 1];
			if (k - 1 >= fmin && vf[k - 1] >= 0 && vf[k - 1] < x1)
				right = vf[k - 1] + 1;
			x = down > right ? down : right;
			if (x >= 0) {
				for (y = x - k; x < x1 && y < y1 && a[x] == b[y]; y++)
					x++;
			}
			vf[k] = x;
			if (odd && x >= 0 && k >= bmin && k <= bmax && vb[k] >= 0 &&
			    x >= vb[k]) {
				*sx = x;
				*sy = x - k;
				return;
			}
		}
		fmin = lo;
		fmax = hi;

		/* Backward, from the end. */
		lo = bmin > kmin ? bmin - 1 : bmin + 1;
		hi = bmax < kmax ? bmax + 1 : bmax - 1;
		for (k = hi; k >= lo; k -= 2) {
			long up = -1, left = -1;

			if (k - 1 >= bmin && vb[k - 1] >= 0 && vb[k - 1] - k >= y0)
				up = vb[k - 1];
			if (k + 1 <= bmax && vb[k + 1] > x0)
				left = vb[k + 1] - 1;
			if (up < 0 || (left >= 0 && left < up))
				x = left;
			else
				x = up;
			if (x >= 0) {
				for (y = x - k; x > x0 && y > y0 && a[x - 1] == b[y - 1]; y--)
					x--;
			}
			vb[k] = x;
			if (!odd && x >= 0 && k >= fmin && k <= fmax && vf[k] >= 0 &&
			    vf[k] >= x) {
				*sx = x;
				*sy = x - k;
				return;
			}
		}
		bmin = lo;
		bmax = hi;

		if (d < m->cost_max)
			continue;
		/* Too expensive: split where either search got furthest. */
		best = -1;
		for (k = fmin; k <= fmax; k += 2) {
			gain = vf[k] < 0 ? -1 : 2 * vf[k] - k - x0 - y0;
			if (gain > best) {
				best = gain;
				*sx = vf[k];
				*sy = vf[k] - k;
			}
		}
		for (k = bmin; k <= bmax; k += 2) {
			gain = vb[k] < 0 ? -1 : x1 + y1 - (2 * vb[k] - k);
			if (gain > best) {
				best = gain;
				*sx = vb[k];
				*sy = vb[k] - k;
			}
		}
		return;
	}
}

struct range {
	long x0, x1, y0, y1;
};

/* Mark the lines of a and b that are not on the path the search finds. */
static void compare(const struct myers *m, long na, long nb)
{
	struct range *stack, r;
	size_t n = 0, cap = 64;
	long sx, sy, i;

	stack = df_xmalloc(cap * sizeof(*stack));
	stack[n++] = (struct range){ 0, na, 0, nb };
	while (n) {
		r = stack[--n];
		while (r.x0 < r.x1 && r.y0 < r.y1 && m->a[r.x0] == m->b[r.y0]) {
			r.x0++;
			r.y0++;
		}
		while (r.x0 < r.x1 && r.y0 < r.y1 && m->a[r.x1 - 1] == m->b[r.y1 - 1]) {
			r.x1--;
			r.y1--;
		}
		if (r.x0 == r.x1 || r.y0 == r.y1) {
			for (i = r.x0; i < r.x1; i++)
				m->ca[i] = 1;
			for (i = r.y0; i < r.y1; i++)
				m->cb[i] = 1;
			continue;
		}
		sx = r.x0;
		sy = r.y0;
		middle(m, r.x0, r.x1, r.y0, r.y1, &sx, &sy);
		if ((sx == r.x0 && sy == r.y0) || (sx == r.x1 && sy == r.y1)) {
			/* Cannot happen; stay correct if it does. */
			for (i = r.x0; i < r.x1; i++)
				m->ca[i] = 1;
			for (i = r.y0; i < r.y1; i++)
				m->cb[i] = 1;
			continue;
		}
		if (n + 2 > cap) {
			cap *= 2;
			stack = df_xrealloc(stack, cap * sizeof(*stack));
		}
		stack[n++] = (struct range){ sx, r.x1, sy, r.y1 };
		stack[n++] = (struct range){ r.x0, sx, r.y0, sy };
	}
	free(stack);
}

static long isqrt(long v)
{
	long r = 1;

	while (r * r < v)
		r *= 2;
	while (r * r > v)
		r--;
	return r;
}

/* Fill a->chg and b->chg. */
static void diff_lines(struct dfile *a, struct dfile *b)
{
	unsigned char *where = classify(a, b);
	uint32_t *ra = df_xmalloc(((size_t)a->n + 1) * sizeof(*ra));
	uint32_t *rb = df_xmalloc(((size_t)b->n + 1) * sizeof(*rb));
	long *ia = df_xmalloc(((size_t)a->n + 1) * sizeof(*ia));
	long *ib = df_xmalloc(((size_t)b->n + 1) * sizeof(*ib));
	long na = 0, nb = 0, i, *v;
	struct myers m;

	/* Lines found in one text only are changes; match the rest. */
	for (i = 0; i < a->n; i++) {
		if (where[a->id[i]] == 3) {
			ra[na] = a->id[i];
			ia[na++] = i;
		} else {
			a->chg[i] = 1;
		}
	}
	for (i = 0; i < b->n; i++) {
		if (where[b->id[i]] == 3) {
			rb[nb] = b->id[i];
			ib[nb++] = i;
		} else {
			b->chg[i] = 1;
		}
	}
	v = df_xmalloc(2 * ((size_t)na + (size_t)nb + 3) * sizeof(*v));
	m.a = ra;
	m.b = rb;
	m.ca = df_xcalloc((size_t)na + 1, 1);
	m.cb = df_xcalloc((size_t)nb + 1, 1);
	m.vf = v + nb + 1;
	m.vb = v + (na + nb + 3) + nb + 1;
	m.cost_max = isqrt(na + nb);
	if (m.cost_max < COST_MIN)
		m.cost_max = COST_MIN;
	compare(&m, na, nb);
	for (i = 0; i < na; i++)
		a->chg[ia[i]] = m.ca[i];
	for (i = 0; i < nb; i++)
		b->chg[ib[i]] = m.cb[i];
	free(m.ca);
	free(m.cb);
	free(v);
	free(ra);
	free(rb);
	free(ia);
	free(ib);
	free(where);
}

/* ---------------------------------------------------------------- sliding */

/* A run of changed lines [start, end), possibly empty. The k-th group of
 * one text sits between the same two matched lines as the k-th group of
 * the other text. */
struct group {
	long start, end;
};

static void group_first(const struct dfile *f, struct group *g)
{
	g->start = g->end = 0;
	while (g->end < f->n && f->chg[g->end])
		g->end++;
}

static int group_next(const struct dfile *f, struct group *g)
{
	if (g->end >= f->n)
		return 0;
	g->start = g->end = g->end + 1;
	while (g->end < f->n && f->chg[g->end])
		g->end++;
	return 1;
}

static int group_prev(const struct dfile *f, struct group *g)
{
	if (g->start == 0)
		return 0;
	g->end = g->start = g->start - 1;
	while (g->start > 0 && f->chg[g->start - 1])
		g->start--;
	return 1;
}

/* Move a non-empty group one line up (the line above equals its last
 * line), joining the group above if it meets it. */
static int slide_up(struct dfile *f, struct group *g)
{
	if (g->start == 0 || f->id[g->start - 1] != f->id[g->end - 1])
		return 0;
	f->chg[--g->start] = 1;
	f->chg[--g->end] = 0;
	while (g->start > 0 && f->chg[g->start - 1])
		g->start--;
	return 1;
}

static int slide_down(struct dfile *f, struct group *g)
{
	if (g->end >= f->n || f->id[g->start] != f->id[g->end])
		return 0;
	f->chg[g->start++] = 0;
	f->chg[g->end++] = 1;
	while (g->end < f->n && f->chg[g->end])
		g->end++;
	return 1;
}

/* Slide every group of f as far down as it goes, or to the lowest place
 * where it faces a change in o, so that equivalent diffs print alike. */
static void slide(struct dfile *f, struct dfile *o)
{
	struct group g, go;
	long size, top, match;

	group_first(f, &g);
	group_first(o, &go);
	for (;;) {
		if (g.end > g.start) {
			do {
				size = g.end - g.start;
				match = -1;
				while (slide_up(f, &g))
					group_prev(o, &go);
				top = g.end;
				if (go.end > go.start)
					match = g.end;
				while (slide_down(f, &g)) {
					group_next(o, &go);
					if (go.end > go.start)
						match = g.end;
				}
			} while (size != g.end - g.start);
			if (g.end != top && match >= 0) {
				while (go.end == go.start && slide_up(f, &g))
					group_prev(o, &go);
			}
		}
		if (!group_next(f, &g) || !group_next(o, &go))
			break;
	}
}

/* ---------------------------------------------------------------- output */

#define C_META "\033[1m"
#define C_FRAG "\033[36m"
#define C_OLD "\033[31m"
#define C_NEW "\033[32m"
#define C_WS "\033[41m"
#define C_RESET "\033[m"

struct emit {
	struct df_buf *out;
	const struct dfile *a, *b;
	int color;
	const char *meta, *frag, *old, *new_, *reset;
	long lno_a, lno_b;   /* git's line counters, for blank-at-eof */
	long eof_a, eof_b;   /* first trailing blank line, 0 = none added */
	char func[FUNC_MAX]; /* function line of the last hunk */
	long funclen, funcprev;
};

/* git's isspace(): only these four. */
static int gspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int blank(const char *p, size_t n)
{
	while (n--)
		if (!gspace(*p++))
			return 0;
	return 1;
}

/*
 * One line as git's emit_line_0() writes it: an optional sign in set_sign,
 * the text in set, a reset, and any final '\r' after the reset. The line
 * has no '\n'; one is written when nl is set.
 */
static void line0(struct emit *e, const char *set_sign, const char *set, int first,
		  const char *p, size_t len, int nl)
{
	int cr = len > 0 && p[len - 1] == '\r', reset = 0;

	len -= (size_t)cr;
	if (len || first) {
		if (set_sign) {
			df_buf_adds(e->out, set_sign);
			reset = 1;
		}
		if (first)
			df_buf_addc(e->out, first);
		if (len) {
			if (set) {
				if (set_sign && set != set_sign)
					df_buf_adds(e->out, e->reset);
				df_buf_adds(e->out, set);
			}
			df_buf_add(e->out, p, len);
			reset = 1;
		}
	}
	if (reset)
		df_buf_adds(e->out, e->reset);
	if (cr)
		df_buf_addc(e->out, '\r');
	if (nl)
		df_buf_addc(e->out, '\n');
}

/* An added line with git's whitespace errors (blank-at-eol,
 * space-before-tab) on a red background. */
static void ws_line(struct emit *e, const char *p, size_t len)
{
	size_t tw = len, done = 0, i;

	while (tw > 0 && gspace(p[tw - 1]))
		tw--;
	for (i = 0; i < tw && (p[i] == ' ' || p[i] == '\t'); i++) {
		if (p[i] != '\t')
			continue;
		if (done < i) {
			df_buf_adds(e->out, C_WS);
			df_buf_add(e->out, p + done, i - done);
			df_buf_adds(e->out, e->reset);
			df_buf_addc(e->out, '\t');
		} else {
			df_buf_addc(e->out, '\t');
		}
		done = i + 1;
	}
	if (tw > done) {
		df_buf_adds(e->out, e->new_);
		df_buf_add(e->out, p + done, tw - done);
		df_buf_adds(e->out, e->reset);
	}
	if (tw < len) {
		df_buf_adds(e->out, C_WS);
		df_buf_add(e->out, p + tw, len - tw);
		df_buf_adds(e->out, e->reset);
	}
	df_buf_addc(e->out, '\n');
}

static void emit_line(struct emit *e, int sign, const struct dline *l)
{
	if (sign == ' ') {
		e->lno_a++;
		e->lno_b++;
		line0(e, "", NULL, ' ', l->p, l->len, 1);
	} else if (sign == '-') {
		e->lno_a++;
		line0(e, e->old, NULL, '-', l->p, l->len, 1);
	} else {
		e->lno_b++;
		if (!e->color) {
			line0(e, "", NULL, '+', l->p, l->len, 1);
		} else if (e->eof_a && e->eof_b && e->eof_a <= e->lno_a &&
			   e->eof_b <= e->lno_b && blank(l->p, l->len)) {
			line0(e, C_WS, NULL, '+', l->p, l->len, 1);
		} else {
			line0(e, e->new_, NULL, '+', "", 0, 0);
			ws_line(e, l->p, l->len);
		}
	}
	if (!l->nl)
		line0(e, "", NULL, 0, "\\ No newline at end of file", 27, 1);
}

/* git's count_trailing_blank(): trailing whitespace-only lines, counted
 * the way git counts them (a first line shorter than two bytes is never
 * counted). */
static long trailing_blanks(const char *p, size_t size)
{
	long end, nl, n = 0;

	if (!size)
		return 0;
	end = (long)size - 1;
	if (p[end] == '\n')
		end--;
	while (end > 0) {
		for (nl = end; nl >= 0 && p[nl] != '\n'; nl--)
			;
		if (!blank(p + nl + 1, (size_t)(end - nl)))
			break;
		n++;
		end = nl - 1;
	}
	return n;
}

/* Length of the UTF-8 character at s by git's rules (no overlong forms,
 * surrogates, U+FFFE/U+FFFF or values past U+10FFFF), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		return n >= 2 && (s[1] & 0xc0) == 0x80 && (s[0] & 0xfe) != 0xc0 ? 2 : 0;
	if ((s[0] & 0xf0) == 0xe0) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && (s[1] & 0xe0) == 0x80) ||
		    (s[0] == 0xed && (s[1] & 0xe0) == 0xa0) ||
		    (s[0] == 0xef && s[1] == 0xbf && (s[2] & 0xfe) == 0xbe))
			return 0;
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && (s[1] & 0xf0) == 0x80) ||
		    (s[0] == 0xf4 && s[1] > 0x8f) || s[0] > 0xf4)
			return 0;
		return 4;
	}
	return 0;
}

/* Remember the function line for the hunk that starts at old line s: the
 * nearest line above it that starts with a letter, '_' or '$' (git's
 * default), searched no further up than the previous hunk's search. */
static void find_func(struct emit *e, long s)
{
	long l;

	for (l = s - 1; l >= 0 && l != e->funcprev; l--) {
		const struct dline *d = &e->a->line[l];
		size_t n = d->len + (size_t)d->nl;
		char c = d->len ? d->p[0] : '\n';

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		    c == '$') {
			if (n > FUNC_MAX)
				n = FUNC_MAX;
			if (n > d->len)
				n = d->len;
			while (n > 0 && gspace(d->p[n - 1]))
				n--;
			memcpy(e->func, d->p, n);
			e->funclen = (long)n;
			break;
		}
	}
	e->funcprev = s - 1;
}

/* "@@ -s1,c1 +s2,c2 @@ func" as git builds and colours it: cut at the
 * first invalid UTF-8 character, the range in the fragment colour. */
static void emit_header(struct emit *e, long s1, long c1, long s2, long c2)
{
	struct df_buf h = DF_BUF_INIT;
	size_t len, org, i, ep, cp, k;

	df_buf_addf(&h, "@@ -%ld", c1 ? s1 + 1 : s1);
	if (c1 != 1)
		df_buf_addf(&h, ",%ld", c1);
	df_buf_addf(&h, " +%ld", c2 ? s2 + 1 : s2);
	if (c2 != 1)
		df_buf_addf(&h, ",%ld", c2);
	df_buf_adds(&h, " @@");
	ep = h.len;
	if (e->funclen) {
		df_buf_addc(&h, ' ');
		df_buf_add(&h, e->func, (size_t)e->funclen);
	}
	df_buf_addc(&h, '\n');
	for (i = 0; i < h.len; i += k) {
		k = utf8_len((const unsigned char *)h.ptr + i, h.len - i);
		if (!k)
			break;
	}
	len = org = i;
	e->lno_a = c1 ? s1 + 1 : s1;
	e->lno_b = c2 ? s2 + 1 : s2;

	df_buf_adds(e->out, e->frag);
	df_buf_add(e->out, h.ptr, ep);
	df_buf_adds(e->out, e->reset);
	for (k = 1; k < 3; k++)
		if (h.ptr[len - k] == '\r' || h.ptr[len - k] == '\n')
			len--;
	for (cp = ep; ep < len && (h.ptr[ep] == ' ' || h.ptr[ep] == '\t'); ep++)
		;
	if (ep != cp) {
		df_buf_add(e->out, h.ptr + cp, ep - cp);
		df_buf_adds(e->out, e->reset);
	}
	if (ep < len) {
		df_buf_add(e->out, h.ptr + ep, len - ep);
		df_buf_adds(e->out, e->reset);
	}
	df_buf_add(e->out, h.ptr + len, org - len);
	if (e->out->len && e->out->ptr[e->out->len - 1] != '\n')
		df_buf_addc(e->out, '\n');
	df_buf_release(&h);
}

/* A maximal run of changes: c1 old lines from i1 give way to c2 new lines
 * from i2. */
struct atom {
	long i1, c1, i2, c2;
};

static void emit_hunk(struct emit *e, const struct atom *at, size_t n)
{
	const struct atom *last = &at[n - 1];
	long s1, s2, e2, ctx, i2, j;
	size_t i;

	s1 = at[0].i1 > CONTEXT ? at[0].i1 - CONTEXT : 0;
	s2 = at[0].i2 > CONTEXT ? at[0].i2 - CONTEXT : 0;
	ctx = CONTEXT;
	if (ctx > e->a->n - (last->i1 + last->c1))
		ctx = e->a->n - (last->i1 + last->c1);
	if (ctx > e->b->n - (last->i2 + last->c2))
		ctx = e->b->n - (last->i2 + last->c2);
	e2 = last->i2 + last->c2 + ctx;
	find_func(e, s1);
	emit_header(e, s1, last->i1 + last->c1 + ctx - s1, s2, e2 - s2);
	i2 = s2;
	for (i = 0; i < n; i++) {
		for (; i2 < at[i].i2; i2++)
			emit_line(e, ' ', &e->b->line[i2]);
		for (j = 0; j < at[i].c1; j++)
			emit_line(e, '-', &e->a->line[at[i].i1 + j]);
		for (j = 0; j < at[i].c2; j++)
			emit_line(e, '+', &e->b->line[at[i].i2 + j]);
		i2 = at[i].i2 + at[i].c2;
	}
	for (; i2 < e2; i2++)
		emit_line(e, ' ', &e->b->line[i2]);
}

/* The maximal runs of changes, in order (caller frees). */
static struct atom *find_atoms(const struct dfile *a, const struct dfile *b, size_t *n)
{
	struct atom *at = NULL;
	size_t cap = 0;
	long i1 = 0, i2 = 0, s1, s2;

	*n = 0;
	while (i1 < a->n || i2 < b->n) {
		if ((i1 < a->n && a->chg[i1]) || (i2 < b->n && b->chg[i2])) {
			s1 = i1;
			s2 = i2;
			while (i1 < a->n && a->chg[i1])
				i1++;
			while (i2 < b->n && b->chg[i2])
				i2++;
			if (*n == cap) {
				cap = cap ? 2 * cap : 16;
				at = df_xrealloc(at, cap * sizeof(*at));
			}
			at[(*n)++] = (struct atom){ s1, i1 - s1, s2, i2 - s2 };
		} else if (i1 < a->n && i2 < b->n) {
			i1++;
			i2++;
		} else {
			df_die("diff: internal error: unmatched lines");
		}
	}
	return at;
}

static void emit_hunks(struct emit *e)
{
	size_t n, h, end;
	struct atom *at = find_atoms(e->a, e->b, &n);

	for (h = 0; h < n; h = end) {
		for (end = h + 1; end < n; end++)
			if (at[end].i1 - (at[end - 1].i1 + at[end - 1].c1) > 2 * CONTEXT)
				break;
		emit_hunk(e, at + h, end - h);
	}
	free(at);
}

/* Split both texts into lines, match them and slide the changes into
 * place: what both df_diff() and df_diff_blocks() start from. */
static void compare_texts(struct dfile *a, struct dfile *b, const char *old, size_t oldlen,
			  const char *new_, size_t newlen)
{
	split_lines(a, old ? old : "", old ? oldlen : 0);
	split_lines(b, newlen ? new_ : "", newlen);
	diff_lines(a, b);
	slide(a, b);
	slide(b, a);
}

struct df_diff_block *df_diff_blocks(const char *old, size_t oldlen, const char *new_,
				     size_t newlen, size_t *n)
{
	struct dfile a, b;
	struct atom *at;
	struct df_diff_block *v;
	size_t i;

	compare_texts(&a, &b, old, oldlen, new_, new_ ? newlen : 0);
	at = find_atoms(&a, &b, n);
	v = df_xmalloc((*n + 1) * sizeof(*v));
	for (i = 0; i < *n; i++)
		v[i] = (struct df_diff_block){ at[i].i1, at[i].c1, at[i].i2, at[i].c2 };
	free(at);
	free_lines(&a);
	free_lines(&b);
	return v;
}

/* prefix + path, C-quoted as a whole when the path has a control
 * character, '"', '\\', DEL or a byte >= 0x80 (core.quotepath). git drops
 * one leading '/'. */
static void add_name(struct df_buf *out, const char *prefix, const char *path)
{
	static const char esc[] = "\aa\bb\tt\nn\vv\ff\rr\"\"\\\\";
	const unsigned char *s;
	const char *q;
	int quote = 0;

	if (*path == '/')
		path++;
	for (s = (const unsigned char *)path; *s; s++)
		if (*s < 0x20 || *s == '"' || *s == '\\' || *s >= 0x7f)
			quote = 1;
	if (!quote) {
		df_buf_adds(out, prefix);
		df_buf_adds(out, path);
		return;
	}
	df_buf_addc(out, '"');
	df_buf_adds(out, prefix);
	for (s = (const unsigned char *)path; *s; s++) {
		if (*s >= 0x20 && *s != '"' && *s != '\\' && *s < 0x7f) {
			df_buf_addc(out, *s);
			continue;
		}
		df_buf_addc(out, '\\');
		for (q = esc; *q && *q != (char)*s; q += 2)
			;
		if (*q)
			df_buf_addc(out, q[1]);
		else
			df_buf_addf(out, "%03o", (unsigned)*s);
	}
	df_buf_addc(out, '"');
}

static void meta_line(struct emit *e, const char *text, const char *name)
{
	df_buf_adds(e->out, e->meta);
	df_buf_adds(e->out, text);
	df_buf_adds(e->out, name);
	df_buf_adds(e->out, e->reset);
	if (*text == '-' || *text == '+')
		df_buf_adds(e->out, strchr(name, ' ') ? "\t\n" : "\n");
	else
		df_buf_addc(e->out, '\n');
}

void df_diff(struct df_buf *out, const char *path, const char *old, size_t oldlen,
	     const char *new_, size_t newlen, int color)
{
	struct df_buf an = DF_BUF_INIT, bn = DF_BUF_INIT;
	struct dfile a, b;
	struct emit e;
	long ta, tb;

	if (!new_)
		newlen = 0;
	if (old && oldlen == newlen && (!oldlen || memcmp(old, new_, oldlen) == 0))
		return;
	memset(&e, 0, sizeof(e));
	e.out = out;
	e.color = color;
	e.meta = color ? C_META : "";
	e.frag = color ? C_FRAG : "";
	e.old = color ? C_OLD : "";
	e.new_ = color ? C_NEW : "";
	e.reset = color ? C_RESET : "";
	e.funcprev = -1;

	add_name(&an, "a/", path);
	add_name(&bn, "b/", path);
	df_buf_adds(out, e.meta);
	df_buf_addf(out, "diff --git %s %s", an.ptr, bn.ptr);
	df_buf_adds(out, e.reset);
	df_buf_addc(out, '\n');
	if (!old)
		meta_line(&e, "new file mode 100644", "");
	if (!old && !newlen)
		goto done;
	meta_line(&e, "--- ", old ? an.ptr : "/dev/null");
	meta_line(&e, "+++ ", bn.ptr);

	compare_texts(&a, &b, old, oldlen, new_, newlen);
	e.a = &a;
	e.b = &b;
	if (color) {
		ta = trailing_blanks(a.text, a.size);
		tb = trailing_blanks(b.text, b.size);
		if (tb > ta) {
			e.eof_a = a.n - ta + 1;
			e.eof_b = b.n - tb + 1;
		}
	}
	emit_hunks(&e);
	free_lines(&a);
	free_lines(&b);
done:
	df_buf_release(&an);
	df_buf_release(&bn);
}
