/*
 * edits.c - findings with fixes: what dfix changed, as text edits against
 * the original bytes, each tied to the finding that explains it.
 *
 * The passes edit the tree and record findings (pass, code, line, message);
 * they do not say which bytes each finding changed. So the fixes are
 * recovered from the result: the line diff of the input and df_fix()'s
 * output (diff.c's change blocks, the ones -d prints) is cut into pieces
 * that replace whole instructions, and every piece goes to the finding
 * whose line it covers, else to the nearest one (ruff's rule: a fix is an
 * edit of the source with the diagnostic that asked for it). Applying every
 * hunk gives exactly what --write writes; applying one alone leaves a file
 * that still parses.
 */
#include <string.h>

#include "report.h"

/* ---------------------------------------------------------------- lines */

size_t *df_text_lines(const char *text, size_t len, size_t *nlines)
{
	size_t n = 0, i, k = 0, *v;
	const char *p = text, *end = text + len, *nl;

	for (nl = p; nl < end && (nl = memchr(nl, '\n', (size_t)(end - nl))); nl++)
		n++;
	if (len && text[len - 1] != '\n')
		n++;
	v = df_xmalloc((n + 1) * sizeof(*v));
	if (n)
		v[k++] = 0;
	for (i = 0; i < len; i++)
		if (text[i] == '\n' && i + 1 < len)
			v[k++] = i + 1;
	v[k] = len;
	*nlines = n;
	return v;
}

/* Units of [p, p+n) (a piece of one line). */
static uint32_t units(const unsigned char *p, size_t n, enum df_unit unit)
{
	uint32_t u = 0;
	size_t i = 0;

	if (unit == DF_UNIT_BYTE)
		return (uint32_t)n;
	while (i < n) {
		unsigned char c = p[i];
		size_t w = 1;
		uint32_t cp = 0;

		if (c >= 0xc2 && c <= 0xdf && i + 1 < n && (p[i + 1] & 0xc0) == 0x80) {
			w = 2;
		} else if (c >= 0xe0 && c <= 0xef && i + 2 < n && (p[i + 1] & 0xc0) == 0x80 &&
			   (p[i + 2] & 0xc0) == 0x80) {
			cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(p[i + 1] & 0x3f) << 6);
			if (cp >= 0x800 && !(cp >= 0xd800 && cp <= 0xdfff))
				w = 3;
		} else if (c >= 0xf0 && c <= 0xf4 && i + 3 < n && (p[i + 1] & 0xc0) == 0x80 &&
			   (p[i + 2] & 0xc0) == 0x80 && (p[i + 3] & 0xc0) == 0x80) {
			cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(p[i + 1] & 0x3f) << 12);
			if (cp >= 0x10000 && cp <= 0x10ffff)
				w = 4;
		}
		u += w == 4 ? 2 : 1; /* a supplementary rune is a surrogate pair */
		i += w;
	}
	return u;
}

void df_text_pos(const char *text, const size_t *lines, size_t nlines, size_t off,
		 enum df_unit unit, uint32_t *line, uint32_t *col)
{
	size_t lo = 0, hi = nlines, len = lines[nlines];

	if (off > len)
		off = len;
	if (nlines == 0 || (off == len && text[len - 1] == '\n')) {
		/* empty text, or just past the final newline */
		*line = (uint32_t)nlines + 1;
		*col = 1;
		return;
	}
	while (hi - lo > 1) { /* last line start <= off */
		size_t mid = lo + (hi - lo) / 2;

		if (lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	*line = (uint32_t)lo + 1;
	*col = units((const unsigned char *)text + lines[lo], off - lines[lo], unit) + 1;
}

/* ---------------------------------------------------------------- hunks */

static void add_hunk(struct df_hunk **v, size_t *n, size_t *cap, const size_t *la,
		     const size_t *lb, long a, long ca, long b, long cb)
{
	struct df_hunk *h;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*v = df_xrealloc(*v, *cap * sizeof(**v));
	}
	h = &(*v)[(*n)++];
	h->old_line = (uint32_t)a;
	h->old_count = (uint32_t)ca;
	h->new_line = (uint32_t)b;
	h->new_count = (uint32_t)cb;
	h->start = la[a - 1];
	h->end = la[a - 1 + ca];
	h->new_start = lb[b - 1];
	h->new_end = lb[b - 1 + cb];
	h->owner = DF_NONE;
}

struct df_hunk *df_hunks(const char *old, size_t oldlen, const char *new_, size_t newlen,
			 size_t *n)
{
	struct df_diff_block *b;
	struct df_hunk *v = NULL;
	size_t cap = 0, na, nb, nblocks, i, *la, *lb;

	*n = 0;
	if (oldlen == newlen && (oldlen == 0 || memcmp(old, new_, oldlen) == 0))
		return NULL;
	la = df_text_lines(old, oldlen, &na);
	lb = df_text_lines(new_, newlen, &nb);
	b = df_diff_blocks(old, oldlen, new_, newlen, &nblocks);
	for (i = 0; i < nblocks; i++)
		add_hunk(&v, n, &cap, la, lb, b[i].i1 + 1, b[i].c1, b[i].i2 + 1, b[i].c2);
	free(b);
	free(la);
	free(lb);
	return v;
}

/* ---------------------------------------------------------------- findings */

static char *dup(const char *s, size_t n)
{
	return df_xstrndup(s ? s : "", s ? n : 0);
}

static int level_of(const char *pass)
{
	const struct df_pass *p = pass ? df_pass_find(pass) : NULL;

	return p ? (int)p->level : -1;
}

struct order {
	const struct df_finding *f;
	size_t idx;
};

static int by_line(const void *x, const void *y)
{
	const struct order *a = x, *b = y;

	if (a->f->line != b->f->line)
		return a->f->line < b->f->line ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Distance in lines from line L to hunk h; 0 when h covers L (an insertion
 * covers the lines on both sides of it). */
static uint32_t dist(const struct df_hunk *h, uint32_t L)
{
	uint32_t first = h->old_line, last = h->old_line + h->old_count - 1;

	if (h->old_count == 0) {
		first = h->old_line > 1 ? h->old_line - 1 : 1;
		last = h->old_line;
	}
	if (L < first)
		return first - L;
	if (L > last)
		return L - last;
	return 0;
}

/* The first line a hunk covers (see dist). */
static uint32_t span_first(const struct df_hunk *h)
{
	if (h->old_count == 0 && h->old_line > 1)
		return h->old_line - 1;
	return h->old_line;
}

/* Index of the first of the sorted items [0, n) on a line >= line. */
static size_t first_item(const struct df_changes *c, size_t n, uint32_t line)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->items[mid].line < line)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Point the item at its instruction (when one starts on its line) or line. */
static void place(struct df_changes *c, struct df_item *it, const struct df_doc *doc,
		  size_t *node_at)
{
	uint32_t L = it->line;
	size_t s, e;

	if (c->nlines == 0) {
		it->line = 1;
		it->start = it->end = 0;
		return;
	}
	if (L < 1)
		L = 1;
	if (L > c->nlines)
		L = (uint32_t)c->nlines;
	it->line = L;
	if (doc && node_at && node_at[L - 1] != DF_NONE) {
		const struct df_node *nd = &doc->nodes[node_at[L - 1]];

		s = (size_t)(nd->text.ptr - c->src);
		e = s + nd->text.len;
	} else {
		s = c->lines[L - 1];
		e = c->lines[L];
	}
	while (e > s && (c->src[e - 1] == '\n' || c->src[e - 1] == '\r'))
		e--;
	while (s < e && (c->src[s] == ' ' || c->src[s] == '\t'))
		s++;
	it->start = s;
	it->end = e;
}

static struct df_item *new_item(struct df_changes *c, const char *pass, const char *code,
				const char *msg, uint32_t line)
{
	struct df_item *it;

	c->items = df_xrealloc(c->items, (c->nitems + 1) * sizeof(*c->items));
	it = &c->items[c->nitems++];
	memset(it, 0, sizeof(*it));
	it->pass = pass;
	it->code = code;
	it->msg = dup(msg, strlen(msg));
	it->level = level_of(pass);
	it->line = line;
	it->inside = DF_NONE;
	it->extra = DF_NONE;
	return it;
}

/* Does msg name path (bounded by spaces or punctuation)? */
static int names(const char *msg, const char *path)
{
	size_t n = strlen(path);
	const char *p = msg;

	if (!n)
		return 0;
	while ((p = strstr(p, path))) {
		char after = p[n];

		if ((p == msg || p[-1] == ' ' || p[-1] == '/') &&
		    (after == '\0' || after == ' ' || after == ':' || after == ',' ||
		     after == ';' || after == ')'))
			return 1;
		p++;
	}
	return 0;
}

static void attach_extras(struct df_changes *c)
{
	size_t i, k;

	for (i = 0; i < c->nextras; i++) {
		const char *path = c->extras[i].path, *base = strrchr(path, '/');
		size_t found = DF_NONE;

		base = base ? base + 1 : path;
		for (k = c->nitems; k-- > 0 && found == DF_NONE;)
			if (c->items[k].extra == DF_NONE && names(c->items[k].msg, path))
				found = k;
		for (k = c->nitems; k-- > 0 && found == DF_NONE;)
			if (c->items[k].extra == DF_NONE && names(c->items[k].msg, base))
				found = k;
		if (found == DF_NONE) {
			struct df_buf m = DF_BUF_INIT;

			df_buf_addf(&m, "%s %s", c->extras[i].old ? "updates" : "writes", path);
			new_item(c, "dfix", NULL, m.ptr, 1);
			df_buf_release(&m);
			found = c->nitems - 1;
			place(c, &c->items[found], NULL, NULL);
		}
		c->items[found].extra = i;
	}
}

/* ---------------------------------------------------------------- pieces */

/* Do two lines start with the same word (ASCII case ignored)? */
static int same_key(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an && (a[i] == ' ' || a[i] == '\t'))
		i++;
	while (j < bn && (b[j] == ' ' || b[j] == '\t'))
		j++;
	for (;;) {
		int ea = i == an || a[i] == ' ' || a[i] == '\t' || a[i] == '\n' || a[i] == '\r';
		int eb = j == bn || b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r';
		char x, y;

		if (ea || eb)
			return ea && eb;
		x = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 32) : a[i];
		y = b[j] >= 'a' && b[j] <= 'z' ? (char)(b[j] - 32) : b[j];
		if (x != y)
			return 0;
		i++;
		j++;
	}
}

struct piece {
	struct df_hunk h;
	size_t block;
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

static void add_piece(struct pieces *ps, const struct df_changes *c, const size_t *lb,
		      const struct df_hunk *blk, size_t block, long o0, long o1, long n0, long n1)
{
	struct piece *p;
	size_t s = c->lines[blk->old_line - 1 + o0], e = c->lines[blk->old_line - 1 + o1];
	size_t ns = lb[blk->new_line - 1 + n0], ne = lb[blk->new_line - 1 + n1];

	if (e - s == ne - ns && memcmp(c->src + s, c->out + ns, e - s) == 0)
		return; /* no change */
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 16;
		ps->v = df_xrealloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	p = &ps->v[ps->n++];
	p->block = block;
	p->h.old_line = blk->old_line + (uint32_t)o0;
	p->h.old_count = (uint32_t)(o1 - o0);
	p->h.new_line = blk->new_line + (uint32_t)n0;
	p->h.new_count = (uint32_t)(n1 - n0);
	p->h.start = s;
	p->h.end = e;
	p->h.new_start = ns;
	p->h.new_end = ne;
	p->h.owner = DF_NONE;
}

#define SPLIT_MAX ((size_t)1 << 20) /* old x new node starts of a block worth aligning */

/* Which lines start a node (instruction, comment, blank, directive)?
 * malloc'ed, one flag per line. */
static unsigned char *node_starts(const char *text, size_t len, size_t nlines)
{
	struct df_doc *doc = df_doc_parse(text, len);
	unsigned char *v = df_xcalloc(nlines + 1, 1);
	size_t i;

	for (i = 0; i < doc->nnodes; i++)
		if (doc->nodes[i].line >= 1 && doc->nodes[i].line <= nlines)
			v[doc->nodes[i].line - 1] = 1;
	df_doc_free(doc);
	return v;
}

/*
 * A change block can hold the work of several passes on neighbouring
 * instructions (MAINTAINER -> LABEL right above ENV k v -> ENV k=v right
 * above two merged RUNs). Split it between whole nodes: node starts of the
 * old and the new side are paired when they begin with the same word (a
 * longest common subsequence of those words), and runs of unpaired node
 * starts of equal length between two pairs are paired in order (ADD ->
 * COPY). Each piece replaces whole nodes by whole nodes, so it can go to its
 * own finding and be applied alone; pieces that go to the same finding are
 * joined again later.
 */
static void split_block(struct pieces *ps, const struct df_changes *c, const size_t *lb,
			const unsigned char *ostart, const unsigned char *nstart,
			const struct df_hunk *blk, size_t block)
{
	long ca = blk->old_count, cb = blk->new_count, i, j, na = 0, nb = 0, k, pi = 0, pj = 0;
	long *A, *B, *mi, *mj, nm = 0, ua, ub;
	uint32_t *dp;

	if (ca == 0 || cb == 0 || (ca == 1 && cb == 1)) {
		add_piece(ps, c, lb, blk, block, 0, ca, 0, cb);
		return;
	}
	A = df_xmalloc((size_t)ca * sizeof(*A));
	B = df_xmalloc((size_t)cb * sizeof(*B));
	for (i = 0; i < ca; i++)
		if (ostart[blk->old_line - 1 + i])
			A[na++] = i;
	for (j = 0; j < cb; j++)
		if (nstart[blk->new_line - 1 + j])
			B[nb++] = j;
	if ((size_t)(na + 1) * (size_t)(nb + 1) > SPLIT_MAX) {
		free(A);
		free(B);
		add_piece(ps, c, lb, blk, block, 0, ca, 0, cb);
		return;
	}
#define LINE_A(k) c->src + c->lines[blk->old_line - 1 + A[k]], \
	c->lines[blk->old_line + A[k]] - c->lines[blk->old_line - 1 + A[k]]
#define LINE_B(k) c->out + lb[blk->new_line - 1 + B[k]], \
	lb[blk->new_line + B[k]] - lb[blk->new_line - 1 + B[k]]
#define DP(x, y) dp[(size_t)(x) * (size_t)(nb + 1) + (size_t)(y)]
	dp = df_xcalloc((size_t)(na + 1) * (size_t)(nb + 1), sizeof(*dp));
	for (i = na - 1; i >= 0; i--)
		for (j = nb - 1; j >= 0; j--)
			DP(i, j) = same_key(LINE_A(i), LINE_B(j)) ? DP(i + 1, j + 1) + 1 :
				   DP(i + 1, j) > DP(i, j + 1) ? DP(i + 1, j) : DP(i, j + 1);
	/* the pairs, indices into A and B; unpaired runs of equal length too */
	mi = df_xmalloc((size_t)(na + 1) * sizeof(*mi));
	mj = df_xmalloc((size_t)(na + 1) * sizeof(*mj));
	ua = ub = 0;
	for (i = 0, j = 0; i <= na && j <= nb;) {
		int end = i == na || j == nb;

		if (end || (same_key(LINE_A(i), LINE_B(j)) && DP(i, j) == DP(i + 1, j + 1) + 1)) {
			long ra = (end ? na : i) - ua, rb = (end ? nb : j) - ub;

			if (ra == rb)
				for (k = 0; k < ra; k++) {
					mi[nm] = ua + k;
					mj[nm++] = ub + k;
				}
			if (end)
				break;
			mi[nm] = i;
			mj[nm++] = j;
			ua = ++i;
			ub = ++j;
		} else if (DP(i + 1, j) >= DP(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
	for (k = 0; k < nm; k++) {
		long si = A[mi[k]], sj = B[mj[k]];

		/* a piece that replaces no old line would start where the next
		 * one does (two edits at one offset): its new lines go with the
		 * next piece */
		if (si == pi)
			continue;
		add_piece(ps, c, lb, blk, block, pi, si, pj, sj);
		pi = si;
		pj = sj;
	}
	add_piece(ps, c, lb, blk, block, pi, ca, pj, cb);
	free(dp);
	free(mi);
	free(mj);
	free(A);
	free(B);
#undef LINE_A
#undef LINE_B
#undef DP
}

/* Does any line of [from, to] (1-based, inclusive) start a node? Lines past
 * the end count as node starts. */
static int starts_between(const unsigned char *start, size_t nlines, size_t from, size_t to)
{
	size_t i;

	for (i = from; i <= to; i++)
		if (i > nlines || start[i - 1])
			return 1;
	return 0;
}

/*
 * Two change blocks separated by unchanged lines that continue an
 * instruction of the first (RUN a / # comment / RUN b becoming RUN a \ /
 * # comment / && b) are one change: applied alone, either would leave half
 * an instruction. Join them (the unchanged lines between become part of the
 * block) when, on either side, no node starts from the first line after the
 * first block up to the first line of the second. Returns the new count.
 */
static size_t join_blocks(struct df_hunk *b, size_t n, const unsigned char *ostart,
			  const unsigned char *nstart, size_t nold, size_t nnew)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (k > 0) {
			struct df_hunk *p = &b[k - 1];

			if (!starts_between(ostart, nold, p->old_line + p->old_count, b[i].old_line) ||
			    !starts_between(nstart, nnew, p->new_line + p->new_count, b[i].new_line)) {
				p->old_count = b[i].old_line + b[i].old_count - p->old_line;
				p->new_count = b[i].new_line + b[i].new_count - p->new_line;
				p->end = b[i].end;
				p->new_end = b[i].new_end;
				continue;
			}
		}
		b[k++] = b[i];
	}
	return k;
}

/*
 * Owners, piece by piece:
 *   1. the first finding on a line the piece covers;
 *   2. else the owner of the nearest piece of the same block (above first);
 *   3. else, for the whole block, the nearest finding not tied to a change
 *      yet (one above wins a tie: passes report the instruction a change
 *      follows), else the nearest finding;
 *   4. else a finding of dfix's own.
 */
static void assign(struct df_changes *c, struct pieces *ps, const struct df_doc *doc,
		   size_t *node_at)
{
	size_t i, k, b0, b1, n0 = c->nitems;
	unsigned char *tied = df_xcalloc(n0 + 1, 1);

	for (k = 0; k < ps->n; k++) /* items [0, n0) are sorted by line */
		for (i = first_item(c, n0, span_first(&ps->v[k].h));
		     i < n0 && dist(&ps->v[k].h, c->items[i].line) == 0; i++) {
			if (ps->v[k].h.owner == DF_NONE)
				ps->v[k].h.owner = i;
			tied[i] = 1;
		}
	for (b0 = 0; b0 < ps->n; b0 = b1) {
		size_t owner = DF_NONE, best = DF_NONE, last, pass;
		struct df_hunk span;
		uint32_t bd = 0;

		for (b1 = b0; b1 < ps->n && ps->v[b1].block == ps->v[b0].block; b1++)
			if (owner == DF_NONE)
				owner = ps->v[b1].h.owner;
		if (owner != DF_NONE) {
			for (k = b0, last = DF_NONE; k < b1; k++) {
				if (ps->v[k].h.owner != DF_NONE)
					last = ps->v[k].h.owner;
				else
					ps->v[k].h.owner = last;
			}
			for (k = b1, last = DF_NONE; k-- > b0;) {
				if (ps->v[k].h.owner != DF_NONE)
					last = ps->v[k].h.owner;
				else
					ps->v[k].h.owner = last;
			}
			continue;
		}
		span = ps->v[b0].h;
		span.old_count = ps->v[b1 - 1].h.old_line + ps->v[b1 - 1].h.old_count - span.old_line;
		for (pass = 0; pass < 2 && best == DF_NONE; pass++)
			for (i = 0; i < n0; i++) {
				uint32_t d = dist(&span, c->items[i].line);

				if ((pass == 0 && tied[i]) || (best != DF_NONE && d >= bd))
					continue;
				best = i;
				bd = d;
			}
		if (best == DF_NONE) {
			new_item(c, "dfix", NULL,
				 "changed by dfix's passes (no pass explained this change)",
				 span.old_line);
			best = c->nitems - 1;
			place(c, &c->items[best], doc, node_at);
		} else {
			tied[best] = 1;
		}
		for (k = b0; k < b1; k++)
			ps->v[k].h.owner = best;
	}
	free(tied);
}

void df_changes_build(struct df_changes *c, const struct df_ctx *ctx, const char *path,
		      const char *src, size_t len, const char *out, size_t outlen)
{
	struct pieces ps = { NULL, 0, 0 };
	struct df_hunk *blocks;
	struct order *ord;
	struct df_doc *doc;
	size_t i, k, nblocks, nout, *node_at, *lb;
	unsigned char *ostart, *nstart;

	memset(c, 0, sizeof(*c));
	c->path = dup(path, strlen(path));
	c->src = dup(src, len);
	c->len = len;
	c->out = dup(out, outlen);
	c->outlen = outlen;
	c->lines = df_text_lines(c->src, len, &c->nlines);

	/* findings, by line, pointed at their instruction */
	ord = df_xmalloc((ctx->nfindings + 1) * sizeof(*ord));
	for (i = 0; i < ctx->nfindings; i++)
		ord[i] = (struct order){ &ctx->findings[i], i };
	qsort(ord, ctx->nfindings, sizeof(*ord), by_line);
	doc = df_doc_parse(c->src, len);
	node_at = df_xmalloc((c->nlines + 1) * sizeof(*node_at));
	for (i = 0; i < c->nlines; i++)
		node_at[i] = DF_NONE;
	for (i = 0; i < doc->nnodes; i++)
		if (doc->nodes[i].kind == DF_INSTRUCTION && doc->nodes[i].line >= 1 &&
		    doc->nodes[i].line <= c->nlines)
			node_at[doc->nodes[i].line - 1] = i;
	for (i = 0; i < ctx->nfindings; i++) {
		const struct df_finding *f = ord[i].f;
		struct df_item *it = new_item(c, f->pass ? f->pass : "dfix", f->code,
					      f->msg ? f->msg : "", f->line);

		place(c, it, doc, node_at);
	}
	free(ord);

	/* the change blocks, split into pieces, each with an owner */
	blocks = df_hunks(c->src, len, c->out, outlen, &nblocks);
	lb = df_text_lines(c->out, outlen, &nout);
	ostart = node_starts(c->src, len, c->nlines);
	nstart = node_starts(c->out, outlen, nout);
	nblocks = join_blocks(blocks, nblocks, ostart, nstart, c->nlines, nout);
	for (i = 0; i < nblocks; i++)
		split_block(&ps, c, lb, ostart, nstart, &blocks[i], i);
	free(blocks);
	free(lb);
	free(ostart);
	free(nstart);
	assign(c, &ps, doc, node_at);
	df_doc_free(doc);
	free(node_at);

	/* neighbouring pieces of one block with one owner become one hunk */
	c->hunks = df_xmalloc((ps.n + 1) * sizeof(*c->hunks));
	for (k = 0; k < ps.n; k++) {
		struct df_hunk *last = c->nhunks ? &c->hunks[c->nhunks - 1] : NULL;
		const struct piece *p = &ps.v[k];

		if (last && k > 0 && ps.v[k - 1].block == p->block && last->owner == p->h.owner &&
		    last->end == p->h.start && last->new_end == p->h.new_start) {
			last->old_count += p->h.old_count;
			last->new_count += p->h.new_count;
			last->end = p->h.end;
			last->new_end = p->h.new_end;
			continue;
		}
		c->hunks[c->nhunks++] = p->h;
	}
	free(ps.v);
	for (k = 0; k < c->nhunks; k++) {
		struct df_item *it = &c->items[c->hunks[k].owner];

		it->hunks = df_xrealloc(it->hunks, (it->nhunks + 1) * sizeof(*it->hunks));
		it->hunks[it->nhunks++] = k;
	}
	for (i = 0; i < c->nitems; i++) { /* hunks are sorted and overlap by a line at most */
		size_t lo = 0, hi = c->nhunks;

		while (lo < hi) { /* first hunk that starts after the line */
			size_t mid = lo + (hi - lo) / 2;

			if (span_first(&c->hunks[mid]) <= c->items[i].line)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (k = lo >= 2 ? lo - 2 : 0; k < lo + 1 && k < c->nhunks; k++)
			if (dist(&c->hunks[k], c->items[i].line) == 0) {
				c->items[i].inside = k;
				break;
			}
	}

	/* other files (the context's .dockerignore) */
	if (ctx->nextras) {
		c->extras = df_xcalloc(ctx->nextras, sizeof(*c->extras));
		for (i = 0; i < ctx->nextras; i++) {
			const struct df_extra *e = &ctx->extras[i];

			c->extras[i].path = dup(e->path, strlen(e->path));
			c->extras[i].old = e->old ? dup(e->old, e->oldlen) : NULL;
			c->extras[i].oldlen = e->old ? e->oldlen : 0;
			c->extras[i].text = dup(e->text, e->len);
			c->extras[i].len = e->len;
		}
		c->nextras = ctx->nextras;
		attach_extras(c);
	}
	for (i = 0; i < c->nitems; i++) {
		struct df_item *it = &c->items[i];

		it->note = it->nhunks == 0 && it->extra == DF_NONE;
	}
}

int df_changes_any(const struct df_changes *c)
{
	return c->nhunks > 0 || c->nextras > 0;
}

void df_changes_release(struct df_changes *c)
{
	size_t i;

	for (i = 0; i < c->nitems; i++) {
		free(c->items[i].msg);
		free(c->items[i].hunks);
	}
	for (i = 0; i < c->nextras; i++) {
		free(c->extras[i].path);
		free(c->extras[i].old);
		free(c->extras[i].text);
	}
	free(c->items);
	free(c->extras);
	free(c->hunks);
	free(c->lines);
	free(c->path);
	free(c->src);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

void df_changes_apply(const struct df_changes *c, const size_t *which, size_t n,
		      struct df_buf *out)
{
	size_t i, at = 0;

	if (!which)
		n = c->nhunks;
	for (i = 0; i < n; i++) {
		const struct df_hunk *h = &c->hunks[which ? which[i] : i];

		df_buf_add(out, c->src + at, h->start - at);
		df_buf_add(out, c->out + h->new_start, h->new_end - h->new_start);
		at = h->end;
	}
	df_buf_add(out, c->src + at, c->len - at);
}

