/* driver.c - runs the passes to a fixpoint and refuses what breaks.
 *
 * Each pass edits a freshly parsed tree. When it reports changes, the tree
 * is printed and parsed again: a pass whose output gains parse errors, or a
 * format-level pass whose output changes the BuildKit dump, is reverted
 * (ruff's rule: the driver re-checks its own output). Rounds repeat until
 * nothing changes; output that does not settle is refused. */
#include <stdarg.h>
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

void df_ctx_release(struct df_ctx *ctx)
{
	size_t i;

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

static void dump_of(struct df_doc *doc, struct df_buf *out)
{
	df_buf_reset(out);
	df_dump(doc, out);
}

static void drop_findings(struct df_ctx *ctx, size_t keep)
{
	while (ctx->nfindings > keep)
		free(ctx->findings[--ctx->nfindings].msg);
}

int df_fix(struct df_ctx *ctx, const char *src, size_t len, struct df_buf *out,
	   const char **why)
{
	struct df_buf cur = DF_BUF_INIT, next = DF_BUF_INIT, d1 = DF_BUF_INIT, d2 = DF_BUF_INIT;
	struct df_doc *doc;
	const struct df_diag *bad;
	int round, settled = 0, rc = 0;
	uint32_t *orig = NULL;
	size_t norig = 0;

	*why = NULL;
	doc = df_doc_parse(src, len);
	bad = df_doc_validate(doc);
	if (bad) {
		static char msg[512]; /* one message per process is all the CLI needs */

		snprintf(msg, sizeof(msg), "%u:%u: %s", bad->line, bad->col, bad->msg);
		*why = msg;
		df_doc_free(doc);
		return -1;
	}
	df_doc_free(doc);
	df_buf_add(&cur, src, len);
	{
		size_t nl, k;
		free(df_text_lines(src, len, &nl));
		orig = df_xmalloc((nl + 2) * sizeof(*orig));
		for (k = 0; k < nl + 2; k++)
			orig[k] = (uint32_t)k + 1;
		norig = nl + 2;
	}

	for (round = 0; round < DF_FIX_ROUNDS && !settled; round++) {
		size_t p;
		int changed = 0;

		for (p = 0; df_passes[p]; p++) {
			const struct df_pass *pass = df_passes[p];
			size_t keep = ctx->nfindings;
			struct df_doc *after;
			int n;

			if (!ctx->enabled[p] || pass->level > ctx->level)
				continue;
			doc = df_doc_parse(cur.ptr, cur.len);
			if (df_pass_file_ignored(pass, doc)) {
				df_doc_free(doc);
				continue;
			}
			ctx->current = pass;
			n = pass->run(ctx, doc);
			ctx->current = NULL;
			for (size_t k = keep; k < ctx->nfindings; k++) {
				uint32_t L = ctx->findings[k].line;
				if (L >= 1)
					ctx->findings[k].line = orig[(L <= norig ? L : norig) - 1];
			}
			if (n <= 0) {
				df_doc_free(doc);
				continue;
			}
			df_buf_reset(&next);
			df_doc_print(doc, &next);
			df_doc_free(doc);
			if (next.len == cur.len && memcmp(next.ptr, cur.ptr, cur.len) == 0) {
				drop_findings(ctx, keep);
				continue;
			}
			after = df_doc_parse(next.ptr, next.len);
			if (df_doc_validate(after)) {
				/* the pass broke the file: revert it */
				df_doc_free(after);
				drop_findings(ctx, keep);
				continue;
			}
			if (pass->level == DF_LEVEL_FORMAT) {
				struct df_doc *before = df_doc_parse(cur.ptr, cur.len);

				dump_of(before, &d1);
				dump_of(after, &d2);
				df_doc_free(before);
				if (d1.len != d2.len || memcmp(d1.ptr, d2.ptr, d1.len) != 0) {
					df_doc_free(after);
					drop_findings(ctx, keep);
					continue;
				}
			}
			df_doc_free(after);
			{
				size_t nh, nl, k;
				struct df_hunk *h = df_hunks(cur.ptr, cur.len, next.ptr, next.len, &nh);
				uint32_t *o2;
				free(df_text_lines(next.ptr, next.len, &nl));
				o2 = df_xmalloc((nl + 2) * sizeof(*o2));
				for (k = 0; k < nl + 2; k++) {
					uint32_t b = df_hunks_line_back(h, nh, (uint32_t)k + 1);
					o2[k] = orig[(b <= norig ? b : norig) - 1];
				}
				free(orig);
				free(h);
				orig = o2;
				norig = nl + 2;
			}
			{
				struct df_buf t = cur;

				cur = next;
				next = t;
			}
			changed = 1;
		}
		if (!changed)
			settled = 1;
	}
	if (!settled) {
		*why = "the passes do not settle: output not written (please report this file)";
		rc = -1;
	} else {
		df_buf_reset(out);
		df_buf_add(out, cur.ptr, cur.len);
	}
	free(orig);
	df_buf_release(&cur);
	df_buf_release(&next);
	df_buf_release(&d1);
	df_buf_release(&d2);
	return rc;
}
