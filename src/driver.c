/* driver.c - runs the passes to a fixpoint and refuses what breaks.
 *
 * Each pass edits the tree of the current text. When it reports changes, the
 * tree is printed and becomes the parse of its print (df_doc_reparse parses
 * again only what the pass touched, with the same result as a whole parse):
 * a pass whose output gains parse errors, or a format-level pass whose
 * output changes the BuildKit dump, is reverted (ruff's rule: the driver
 * re-checks its own output). Rounds repeat until every pass has run on the
 * final text without changing it (a pass that has is not run again until
 * the text changes; one that vouches for its own output, ctx->self_settled,
 * counts as having run on it). Output that does not settle is refused. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report.h"

void df_ctx_init(struct df_ctx *ctx)
{
	size_t n = 0;

	memset(ctx, 0, sizeof(*ctx));
	while (df_passes[n])
		n++;
	ctx->path = "-";
	ctx->level = DF_LEVEL_REVIEW;
	ctx->base = NULL;
	ctx->indent = 4;
	ctx->enabled = df_xcalloc(n + 1, 1);
	memset(ctx->enabled, 1, n);
}

/* ---- an index of the findings by pass and message ---- */

struct df_findex {
	size_t *slot;    /* finding index + 1, 0 = empty */
	size_t cap;      /* power of two */
	size_t indexed;  /* findings [0, indexed) are in */
};

static size_t finding_hash(const char *pass, const char *msg)
{
	return df_hash_str(df_hash_str(DF_HASH_INIT, pass), msg); /* strcmp settles ties */
}

/* Index finding i, unless an equal one is in (many findings share a
 * message: one slot per message keeps the chains short). */
static void findex_add(struct df_findex *x, const struct df_finding *all, size_t i)
{
	size_t h = finding_hash(all[i].pass, all[i].msg) & (x->cap - 1);

	for (; x->slot[h]; h = (h + 1) & (x->cap - 1)) {
		const struct df_finding *o = &all[x->slot[h] - 1];

		if (x->slot[h] - 1 < x->indexed && strcmp(o->pass, all[i].pass) == 0 &&
		    strcmp(o->msg, all[i].msg) == 0)
			return;
	}
	x->slot[h] = i + 1;
}

int df_ctx_has_finding(struct df_ctx *ctx, const char *pass, const char *msg)
{
	struct df_findex *x = ctx->findex;
	size_t h, i;

	if (!x)
		x = ctx->findex = df_xcalloc(1, sizeof(*x));
	if (2 * (ctx->nfindings + 1) > x->cap) {
		size_t cap = 64;

		while (cap < 4 * (ctx->nfindings + 1))
			cap *= 2;
		free(x->slot);
		x->slot = df_xcalloc(cap, sizeof(*x->slot));
		x->cap = cap;
		x->indexed = 0;
	}
	for (; x->indexed < ctx->nfindings; x->indexed++)
		findex_add(x, ctx->findings, x->indexed);
	for (h = finding_hash(pass, msg) & (x->cap - 1); x->slot[h]; h = (h + 1) & (x->cap - 1)) {
		i = x->slot[h] - 1;
		if (i < x->indexed && strcmp(ctx->findings[i].pass, pass) == 0 && strcmp(ctx->findings[i].msg, msg) == 0)
			return 1;
	}
	return 0;
}

void df_ctx_release(struct df_ctx *ctx)
{
	size_t i;

	df_context_forget(ctx);
	if (ctx->findex) {
		free(ctx->findex->slot);
		free(ctx->findex);
		ctx->findex = NULL;
	}

	for (i = 0; i < ctx->nfindings; i++)
		free(ctx->findings[i].msg);
	for (i = 0; i < ctx->nextras; i++) {
		free(ctx->extras[i].path);
		free(ctx->extras[i].old);
		free(ctx->extras[i].text);
	}
	free(ctx->extras);
	ctx->extras = NULL;
	ctx->nextras = 0;
	free(ctx->findings);
	free(ctx->enabled);
	ctx->findings = NULL;
	ctx->enabled = NULL;
	ctx->nfindings = ctx->findcap = 0;
}

void df_ctx_finding(struct df_ctx *ctx, const char *code, uint32_t line, const char *fmt, ...)
{
	struct df_buf b = DF_BUF_INIT;
	struct df_finding *f;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	df_buf_grow(&b, n > 0 ? (size_t)n : 0);
	va_start(ap, fmt);
	vsnprintf(b.ptr, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
	va_end(ap);
	b.len = n > 0 ? (size_t)n : 0;
	if (ctx->nfindings == ctx->findcap) {
		ctx->findcap = ctx->findcap ? ctx->findcap * 2 : 8;
		ctx->findings = df_xrealloc(ctx->findings, ctx->findcap * sizeof(*ctx->findings));
	}
	f = &ctx->findings[ctx->nfindings++];
	f->pass = ctx->current ? ctx->current->id : "dfix";
	f->code = code;
	f->line = line;
	f->col = 1;
	f->msg = df_buf_detach(&b, NULL);
}

void df_ctx_extra(struct df_ctx *ctx, const char *path, const char *old, size_t oldlen,
		  const char *text, size_t len)
{
	struct df_extra *e = NULL;
	size_t i;

	for (i = 0; i < ctx->nextras; i++)
		if (strcmp(ctx->extras[i].path, path) == 0) {
			e = &ctx->extras[i];
			free(e->path);
			free(e->old);
			free(e->text);
			break;
		}
	if (old && oldlen == len && memcmp(old, text, len) == 0) {
		if (e) { /* no longer a change: drop the entry */
			*e = ctx->extras[--ctx->nextras];
		}
		return;
	}
	if (!e) {
		ctx->extras = df_xrealloc(ctx->extras, (ctx->nextras + 1) * sizeof(*ctx->extras));
		e = &ctx->extras[ctx->nextras++];
	}
	e->path = df_xstrndup(path, strlen(path));
	e->old = old ? df_xstrndup(old, oldlen) : NULL;
	e->oldlen = old ? oldlen : 0;
	e->text = df_xstrndup(text, len);
	e->len = len;
}

const struct df_pass *df_pass_find(const char *id)
{
	size_t i;

	for (i = 0; df_passes[i]; i++)
		if (strcmp(df_passes[i]->id, id) == 0)
			return df_passes[i];
	return NULL;
}

void df_ctx_drop_findings(struct df_ctx *ctx, size_t keep)
{
	/* the index may keep slots of dropped findings: they are skipped (an
	 * index past `indexed`) or name the finding that took their place */
	if (ctx->findex && ctx->findex->indexed > keep)
		ctx->findex->indexed = keep;
	while (ctx->nfindings > keep)
		free(ctx->findings[--ctx->nfindings].msg);
}

void df_ctx_forget_pass(struct df_ctx *ctx, const char *pass)
{
	size_t i, k = 0;

	for (i = 0; i < ctx->nfindings; i++) {
		if (strcmp(ctx->findings[i].pass, pass) == 0)
			free(ctx->findings[i].msg);
		else
			ctx->findings[k++] = ctx->findings[i];
	}
	if (k != ctx->nfindings && ctx->findex) { /* moved: index again */
		memset(ctx->findex->slot, 0, ctx->findex->cap * sizeof(*ctx->findex->slot));
		ctx->findex->indexed = 0;
	}
	ctx->nfindings = k;
}

/* A pass that runs again may report at a line what it reported there
 * before: a change to what another pass inserted since (merge-runs merging
 * the RUN non-root added into the RUN it merged). Once is enough: drop the
 * new findings [keep, ...) of pass id that repeat one of its older ones. */
static void drop_repeats(struct df_ctx *ctx, const char *id, size_t keep)
{
	size_t cap = 16, i, w, h, *slot;

	while (cap < 2 * keep)
		cap *= 2;
	slot = df_xcalloc(cap, sizeof(*slot));
	for (i = 0; i < keep; i++) {
		const struct df_finding *f = &ctx->findings[i];

		if (strcmp(f->pass, id) != 0)
			continue;
		for (h = (finding_hash(id, f->msg) ^ f->line) & (cap - 1); slot[h]; h = (h + 1) & (cap - 1))
			;
		slot[h] = i + 1;
	}
	for (i = w = keep; i < ctx->nfindings; i++) {
		const struct df_finding *f = &ctx->findings[i];
		int seen = 0;

		for (h = (finding_hash(id, f->msg) ^ f->line) & (cap - 1); slot[h] && !seen;
		     h = (h + 1) & (cap - 1)) {
			const struct df_finding *o = &ctx->findings[slot[h] - 1];

			seen = o->line == f->line && strcmp(o->msg, f->msg) == 0 &&
			       (o->code == f->code || (o->code && f->code && !strcmp(o->code, f->code)));
		}
		if (seen)
			free(ctx->findings[i].msg);
		else
			ctx->findings[w++] = ctx->findings[i];
	}
	if (w != ctx->nfindings && ctx->findex && ctx->findex->indexed > keep)
		ctx->findex->indexed = keep; /* moved: index them again */
	ctx->nfindings = w;
	free(slot);
}

/* Lines in a text (a last line without newline counts). */
static size_t count_lines(const char *p, size_t n)
{
	size_t k = 0;
	const char *e = p + n, *nl;

	while (p < e && (nl = memchr(p, '\n', (size_t)(e - p)))) {
		k++;
		p = nl + 1;
	}
	return k + (p < e);
}

/* After a pass turned `old` into `new_`, the line of `old` each line of
 * `new_` comes from (and one past the end), found by a line diff (when the
 * tree had to be parsed whole). Only the lines between the common prefix
 * and suffix are diffed (whole lines: the suffix starts a line in both
 * texts); the rest maps by a shift. Linear. */
static uint32_t *diff_lines_back(const char *old, size_t oldlen, const char *new_, size_t newlen,
				 size_t *nout)
{
	size_t nh = 0, nl = count_lines(new_, newlen) + 2, k, h = 0, pre = 0, suf = 0, lim, i;
	struct df_diff_block *hk = NULL;
	uint32_t *map = df_xmalloc(nl * sizeof(*map));
	long skip;
	int64_t delta = 0;

	lim = oldlen < newlen ? oldlen : newlen;
	while (pre < lim && old[pre] == new_[pre])
		pre++;
	/* back to the start of the line */
	while (pre > 0 && old[pre - 1] != '\n')
		pre--;
	lim -= pre;
	while (suf < lim && old[oldlen - 1 - suf] == new_[newlen - 1 - suf])
		suf++;
	/* forward to the start of a line in both (just past a '\n' inside the suffix) */
	if ((oldlen - suf > pre && old[oldlen - suf - 1] != '\n') ||
	    (newlen - suf > pre && new_[newlen - suf - 1] != '\n')) {
		i = 0;
		while (i < suf && old[oldlen - suf + i] != '\n')
			i++;
		suf = i < suf ? suf - i - 1 : 0;
	}
	skip = (long)count_lines(old, pre);
	if (oldlen != newlen || memcmp(old, new_, oldlen) != 0)
		hk = df_diff_blocks(old + pre, oldlen - pre - suf, new_ + pre, newlen - pre - suf, &nh);
	for (i = 0; i < nh; i++) {
		hk[i].i1 += skip + 1; /* 1-based lines of the whole texts */
		hk[i].i2 += skip + 1;
	}
	for (k = 0; k < nl; k++) {
		uint32_t line = (uint32_t)k + 1, back;

		while (h < nh && line >= (uint32_t)(hk[h].i2 + hk[h].c2) &&
		       line >= (uint32_t)hk[h].i2) {
			delta = (int64_t)(hk[h].i2 + hk[h].c2) - (int64_t)(hk[h].i1 + hk[h].c1);
			h++;
		}
		if (h < nh && line >= (uint32_t)hk[h].i2)
			back = hk[h].c1 ? (uint32_t)hk[h].i1
					: (hk[h].i1 > 1 ? (uint32_t)hk[h].i1 - 1 : 1);
		else
			back = line - delta >= 1 ? (uint32_t)(line - delta) : 1;
		map[k] = back;
	}
	free(hk);
	*nout = nl;
	return map;
}

/* Lines in a parsed text: every physical line is a line of a node. */
static size_t doc_lines(const struct df_doc *doc)
{
	const struct df_node *last = doc->nnodes ? &doc->nodes[doc->nnodes - 1] : NULL;

	return last ? last->line + last->nlines - 1 : 0;
}

/* The input line of line (1-based) of the current text, by the map orig
 * (norig entries; NULL: the text is the input). Past the end: the last. */
static uint32_t to_input(const uint32_t *orig, size_t norig, uint32_t line)
{
	if (line > norig)
		line = (uint32_t)norig;
	return orig ? orig[line - 1] : line;
}

static void check_failed(const struct df_pass *pass, const char *what)
{
	fprintf(stderr, "dfix: internal error: pass %s: %s\n", pass->id, what);
	abort();
}

/* DFIX_CHECK_REPARSE=1 (the tests set it): the tree df_doc_reparse made
 * must be the one a whole parse makes (and validation and file pragmas
 * found from what it parsed again what a whole look finds) ... */
static void check_reparse(const struct df_pass *pass, const struct df_doc *doc,
			  const struct df_buf *text)
{
	struct df_doc *full = df_doc_parse(text->ptr, text->len);

	if (!df_doc_same_tree(doc, full))
		check_failed(pass, "the re-parsed tree differs from a whole parse");
	if (!df_stages_same_as_found(doc))
		check_failed(pass, "the stages kept through the re-parse differ from those found again");
	df_doc_free(full);
}

/* ... and a pass that vouched for its output (ctx->self_settled) must
 * leave it as it is when run on it again. */
static void check_settled(struct df_ctx *ctx, const struct df_pass *pass, const struct df_span *text)
{
	struct df_doc *again = df_doc_parse(text->ptr, text->len);
	struct df_buf out = DF_BUF_INIT;
	size_t keep = ctx->nfindings;

	ctx->current = pass;
	if (pass->run(ctx, again) > 0) {
		df_doc_print(again, &out);
		if (out.len != text->len || memcmp(out.ptr, text->ptr, out.len) != 0)
			check_failed(pass, "it vouched for its output, but a second run changes it");
	}
	ctx->current = NULL;
	df_ctx_drop_findings(ctx, keep);
	df_buf_release(&out);
	df_doc_free(again);
}

/* Give up the texts of held[] that doc no longer points into; the first
 * goes to *spare when that has none. */
static void release_unheld(const struct df_doc *doc, struct df_buf *held, size_t *nheld,
			   struct df_buf *spare)
{
	size_t k, m = 0;

	for (k = 0; k < *nheld; k++) {
		if (df_doc_holds(doc, held[k].ptr)) {
			held[m++] = held[k];
		} else if (!spare->ptr) {
			*spare = held[k];
			df_buf_reset(spare);
		} else {
			df_buf_release(&held[k]);
		}
	}
	*nheld = m;
}

/* ---- what stage_local passes saw ---- */

/* Per pass, the component hashes (df_stage_sigs) of the text its last kept
 * run started from: an open-addressing set (0 = empty; a hash of 0 is
 * stored as 1). */
struct sigset {
	uint64_t *slot;
	size_t cap;      /* a power of two, or 0: nothing recorded */
};

struct df_settle {
	struct sigset *sets;     /* per registry index */
	const struct sigset *cur;/* the running pass's, or NULL */
	uint64_t *now;           /* df_stage_sigs at the start of the run */
	size_t nnow, nowcap;
	size_t skipped;          /* stages df_stage_settled said yes to, nodes
				    skipped by their marks (df_nodes_skipped) */
};

static uint64_t sig_key(uint64_t h)
{
	return h ? h : 1;
}

/* The slot that holds key v, or the empty one where it would go. */
static size_t sigset_slot(const struct sigset *set, uint64_t v)
{
	size_t i;

	for (i = (size_t)(v ^ v >> 29) & (set->cap - 1); set->slot[i] && set->slot[i] != v;
	     i = (i + 1) & (set->cap - 1))
		;
	return i;
}

static int sigset_has(const struct sigset *set, uint64_t h)
{
	return set->cap && set->slot[sigset_slot(set, sig_key(h))] != 0;
}

/* The set becomes the hashes h[0..n). */
static void sigset_fill(struct sigset *set, const uint64_t *h, size_t n)
{
	size_t cap = 16, k;

	while (cap < 2 * n + 2)
		cap *= 2;
	if (cap != set->cap) {
		free(set->slot);
		set->slot = df_xmalloc(cap * sizeof(*set->slot));
		set->cap = cap;
	}
	memset(set->slot, 0, cap * sizeof(*set->slot));
	for (k = 0; k < n; k++)
		set->slot[sigset_slot(set, sig_key(h[k]))] = sig_key(h[k]);
}

static void sigset_clear(struct sigset *set)
{
	free(set->slot);
	set->slot = NULL;
	set->cap = 0;
}

int df_stage_settled(struct df_ctx *ctx, const struct df_doc *doc, size_t s)
{
	struct df_settle *st = ctx->settle;

	(void)doc;
	if (!st || !st->cur || s >= st->nnow || !sigset_has(st->cur, st->now[s]))
		return 0;
	st->skipped++;
	return 1;
}

void df_nodes_skipped(struct df_ctx *ctx, size_t n)
{
	if (ctx->settle)
		ctx->settle->skipped += n;
}

unsigned char *df_stages_settled(struct df_ctx *ctx, const struct df_doc *doc, size_t n)
{
	unsigned char *v = df_xcalloc(n + 1, 1);
	size_t s;

	for (s = 0; s < n; s++)
		v[s] = (unsigned char)df_stage_settled(ctx, doc, s);
	return v;
}

/* Before a stage_local pass runs: what it may skip, and the hashes of now. */
static void settle_begin(struct df_settle *st, size_t p, const struct df_doc *doc)
{
	size_t n;
	const uint64_t *h = df_stage_sigs(doc, &n);

	if (n > st->nowcap) {
		st->nowcap = n;
		st->now = df_xrealloc(st->now, n * sizeof(*st->now));
	}
	if (n)
		memcpy(st->now, h, n * sizeof(*h));
	st->nnow = n;
	st->cur = &st->sets[p];
}

/* After it: kept (every stage of the text it started from is settled for
 * it now) or not (forget what it saw). */
static void settle_end(struct df_settle *st, size_t p, int kept)
{
	if (kept)
		sigset_fill(&st->sets[p], st->now, st->nnow);
	else
		sigset_clear(&st->sets[p]);
	st->cur = NULL;
}

/* A new tree (a whole parse): its nodes are other ones, and a line table
 * of the old may even lie where one of the new does. */
static void settle_forget(struct df_settle *st, size_t np)
{
	size_t p;

	for (p = 0; p < np; p++)
		sigset_clear(&st->sets[p]);
}

/* DFIX_CHECK_REPARSE: a run that skipped stages or marked nodes must give
 * what a whole run gives on the same text (out: its output). */
static void check_restricted(struct df_ctx *ctx, const struct df_pass *pass,
			     const struct df_span *in, const struct df_span *out)
{
	struct df_doc *again = df_doc_parse(in->ptr, in->len);
	struct df_buf b = DF_BUF_INIT;
	size_t keep = ctx->nfindings;
	struct df_settle *st = ctx->settle;
	const struct sigset *cur = st->cur;
	struct df_span res = *in;

	st->cur = NULL;
	ctx->current = pass;
	if (pass->run(ctx, again) > 0) {
		df_doc_print(again, &b);
		res.ptr = b.ptr;
		res.len = b.len;
	}
	ctx->current = NULL;
	if (res.len != out->len || memcmp(res.ptr, out->ptr, res.len) != 0)
		check_failed(pass, "a run that skipped settled stages or marked nodes differs from a whole run");
	df_ctx_drop_findings(ctx, keep);
	df_buf_release(&b);
	df_doc_free(again);
	st->cur = cur;
}

/* Throw the tree away and parse t whole (the stage hashes start again). */
static struct df_doc *parse_again(struct df_doc *old, struct df_span t, struct df_settle *st,
				  size_t np)
{
	df_doc_free(old);
	settle_forget(st, np);
	return df_doc_parse(t.ptr, t.len);
}

/* Does pass p run on doc: enabled, at the level, not off by a file pragma
 * (pragmas: df_doc_file_pragmas(doc))? */
static int runs(const struct df_ctx *ctx, size_t p, const struct df_doc *doc, int pragmas)
{
	const struct df_pass *pass = df_passes[p];

	return ctx->enabled[p] && pass->level <= ctx->level &&
	       !(pragmas && df_pass_file_ignored(pass, doc));
}

int df_fix(struct df_ctx *ctx, const char *src, size_t len, struct df_buf *out,
	   const char **why)
{
	struct df_buf cur = DF_BUF_INIT, next = DF_BUF_INIT;
	struct df_buf held[DF_TEXTS];      /* earlier texts doc still points into */
	size_t nheld = 0;
	struct df_span text;
	const struct df_inst **snap = NULL; /* the instructions before a format pass */
	size_t nsnap = 0, snapcap = 0;
	struct df_doc *doc;
	const struct df_diag *bad;
	int round, settled = 0, rc = 0;
	unsigned char *seen;               /* per pass: it ran on the current text */
	unsigned char *ran;                /* per pass: it ran before */
	size_t np = 0;
	int pragmas;                       /* df_doc_file_pragmas(doc) */
	struct df_settle settle;           /* what stage_local passes saw */
	uint32_t *orig, *map;              /* lines of cur to lines of src */
	size_t norig, nmap, k;
	const char *env = getenv("DFIX_CHECK_REPARSE");
	int check = env && *env && strcmp(env, "0") != 0;

	*why = NULL;
	df_context_forget(ctx); /* the context may have changed since the last call */
	/* the current text: the input until a pass changes it, then `cur` */
	text.ptr = src;
	text.len = len;
	doc = df_doc_parse(text.ptr, text.len);
	bad = df_doc_validate(doc);
	if (bad) {
		static char msg[600];

		snprintf(ctx->errbuf, sizeof(ctx->errbuf), "%s", bad->msg);
		ctx->error.line = bad->line ? bad->line : 1;
		ctx->error.col = bad->col ? bad->col : 1;
		ctx->error.msg = ctx->errbuf;
		snprintf(msg, sizeof(msg), "%u:%u: %s", ctx->error.line, ctx->error.col, ctx->errbuf);
		*why = msg;
		df_doc_free(doc);
		df_buf_release(&cur);
		return -1;
	}
	/* no pass changed the text yet: lines map to themselves (orig NULL) */
	orig = NULL;
	norig = doc_lines(doc) + 2;
	if (check && norig != count_lines(src, len) + 2)
		check_failed(df_passes[0], "the parse does not count the input's lines");

	/* `doc` always holds the parse of `cur`. */
	pragmas = df_doc_file_pragmas(doc);
	while (df_passes[np])
		np++;
	seen = df_xcalloc(np + 1, 1);
	ran = df_xcalloc(np + 1, 1);
	memset(&settle, 0, sizeof(settle));
	settle.sets = df_xcalloc(np + 1, sizeof(*settle.sets));
	ctx->settle = &settle;
	for (round = 0; round < DF_FIX_ROUNDS && !settled; round++) {
		size_t p;

		for (p = 0; df_passes[p]; p++) {
			const struct df_pass *pass = df_passes[p];
			size_t keep = ctx->nfindings;
			unsigned long edits;
			int n, invalid;

			if (seen[p] || pass->extras_only || !runs(ctx, p, doc, pragmas))
				continue;
			seen[p] = 1; /* unless it changes the text, it has seen it */
			if (pass->level == DF_LEVEL_FORMAT) {
				/* the models stay in the arena after an edit: keep
				 * the instructions' to compare with afterwards */
				if (doc->nnodes > snapcap) {
					snapcap = doc->nnodes;
					snap = df_xrealloc(snap, snapcap * sizeof(*snap));
				}
				for (nsnap = k = 0; k < doc->nnodes; k++)
					if (doc->nodes[k].kind == DF_INSTRUCTION && doc->nodes[k].inst)
						snap[nsnap++] = doc->nodes[k].inst;
			}
			edits = doc->edits;
			settle.skipped = 0;
			if (pass->stage_local)
				settle_begin(&settle, p, doc);
			ctx->current = pass;
			ctx->self_settled = 0;
			n = pass->run(ctx, doc);
			ctx->current = NULL;
			for (k = keep; k < ctx->nfindings; k++) {
				uint32_t line = ctx->findings[k].line;

				if (line >= 1)
					ctx->findings[k].line = to_input(orig, norig, line);
			}
			if (ran[p] && ctx->nfindings > keep)
				drop_repeats(ctx, pass->id, keep);
			ran[p] = 1;
			if (n <= 0) {
				if (check && settle.skipped)
					check_restricted(ctx, pass, &text, &text);
				if (pass->stage_local)
					settle_end(&settle, p, doc->edits == edits);
				if (doc->edits != edits) {
					/* it edited, then gave up: throw its tree away */
					df_ctx_drop_findings(ctx, keep);
					doc = parse_again(doc, text, &settle, np);
					release_unheld(doc, held, &nheld, &next);
				}
				continue;
			}
			df_buf_reset(&next);
			df_doc_print(doc, &next);
			if (check && settle.skipped) {
				struct df_span res = { next.ptr, next.len };

				check_restricted(ctx, pass, &text, &res);
			}
			if (pass->stage_local)
				settle_end(&settle, p, 1); /* forgotten below if not kept */
			if (next.len == text.len && memcmp(next.ptr, text.ptr, text.len) == 0) {
				df_ctx_drop_findings(ctx, keep);
				doc = parse_again(doc, text, &settle, np);
				release_unheld(doc, held, &nheld, &next);
				continue;
			}
			/* doc becomes the parse of next; map: its lines to cur's */
			map = NULL;
			if (df_doc_reparse(doc, next.ptr, next.len, &map, &nmap) < 0) {
				struct df_span t = { next.ptr, next.len };

				doc = parse_again(doc, t, &settle, np);
			} else if (check) {
				check_reparse(pass, doc, &next);
			}
			invalid = df_doc_invalid_after_reparse(doc);
			if (check && invalid != (df_doc_validate(doc) != NULL))
				check_failed(pass, "validating what was parsed again differs from validating all");
			if (invalid ||
			    (pass->level == DF_LEVEL_FORMAT &&
			     !df_insts_same_dump(snap, nsnap, doc->nodes, doc->nnodes))) {
				/* the pass broke the file, or (format) changed what
				 * BuildKit sees: revert it */
				free(map);
				df_ctx_drop_findings(ctx, keep);
				doc = parse_again(doc, text, &settle, np);
				release_unheld(doc, held, &nheld, &next);
				continue;
			}
			/* the lines of next now map to the input */
			if (!map)
				map = diff_lines_back(text.ptr, text.len, next.ptr, next.len, &nmap);
			for (k = 0; k < nmap; k++)
				map[k] = to_input(orig, norig, map[k] >= 1 ? map[k] : norig);
			free(orig);
			orig = map;
			norig = nmap;
			if (cur.ptr) /* (the input is not ours) */
				held[nheld++] = cur;
			cur = next;
			df_buf_init(&next);
			text.ptr = cur.ptr;
			text.len = cur.len;
			release_unheld(doc, held, &nheld, &next);
			pragmas = df_doc_file_pragmas_after_reparse(doc, pragmas);
			if (check && pragmas != df_doc_file_pragmas(doc))
				check_failed(pass, "file pragmas in what was parsed again differ from all");
			/* a new text: every pass must see it, this one too unless
			 * it checked that its output is a fixpoint of its own */
			memset(seen, 0, np);
			seen[p] = ctx->self_settled != 0;
			if (check && seen[p])
				check_settled(ctx, pass, &text);
			if (seen[p] && pass->stage_local) {
				/* every stage of its output is settled for it */
				size_t ns;
				const uint64_t *h = df_stage_sigs(doc, &ns);

				sigset_fill(&settle.sets[p], h, ns);
			}
		}
		for (settled = 1, p = 0; df_passes[p]; p++)
			if (!seen[p] && !df_passes[p]->extras_only && runs(ctx, p, doc, pragmas))
				settled = 0;
	}
	/* the text is final: now the passes that only write other files */
	for (k = 0; settled && df_passes[k]; k++) {
		const struct df_pass *pass = df_passes[k];
		size_t keep = ctx->nfindings, f;
		unsigned long edits = doc->edits;

		if (!pass->extras_only || !runs(ctx, k, doc, pragmas))
			continue;
		ctx->current = pass;
		pass->run(ctx, doc);
		ctx->current = NULL;
		for (f = keep; f < ctx->nfindings; f++)
			if (ctx->findings[f].line >= 1)
				ctx->findings[f].line = to_input(orig, norig, ctx->findings[f].line);
		if (doc->edits != edits) { /* not its to do: the text stays */
			if (check)
				check_failed(pass, "a pass that only writes other files edited the Dockerfile");
			doc = parse_again(doc, text, &settle, np);
		}
	}
	df_doc_free(doc);
	if (!settled) {
		*why = "the passes do not settle: output not written (please report this file)";
		rc = -1;
	} else {
		df_buf_release(out);
		if (cur.ptr) { /* hand over the buffer: no copy */
			*out = cur;
			df_buf_init(&cur);
		} else {
			df_buf_add(out, src, len);
		}
	}
	free(orig);
	df_buf_release(&cur);
	df_buf_release(&next);
	while (nheld)
		df_buf_release(&held[--nheld]);
	free(snap);
	free(seen);
	free(ran);
	settle_forget(&settle, np);
	free(settle.sets);
	free(settle.now);
	ctx->settle = NULL;
	return rc;
}
