/* context.c - reading the build context (DESIGN.md section 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static int path_of(const struct df_ctx *ctx, const char *rel, struct df_buf *b)
{
	if (!ctx->context_dir || !rel || strstr(rel, ".."))
		return -1;
	df_buf_adds(b, ctx->context_dir);
	if (b->len && b->ptr[b->len - 1] != '/')
		df_buf_addc(b, '/');
	df_buf_adds(b, rel);
	return 0;
}

/* rel -> what stat said: a hash table, open addressing. */
struct df_statcache {
	struct stat_entry {
		char *rel;   /* NULL: empty slot */
		int what;    /* 0 absent, 1 present, 2 a directory */
	} *v;
	size_t n, cap;   /* cap: a power of two, > 2 * n */
};

static struct stat_entry *slot_of(struct df_statcache *c, const char *rel)
{
	size_t h = df_hash_str(DF_HASH_INIT, rel) & (c->cap - 1);

	while (c->v[h].rel && strcmp(c->v[h].rel, rel) != 0)
		h = (h + 1) & (c->cap - 1);
	return &c->v[h];
}

static int what_is(const struct df_ctx *ctx, const char *rel)
{
	struct df_statcache *c = ctx->stats;
	struct df_buf b = DF_BUF_INIT;
	struct stat_entry *e;
	struct stat st;
	int what = 0;

	if (!c) /* a memo: the context does not change while the passes run */
		c = ((struct df_ctx *)ctx)->stats = df_xcalloc(1, sizeof(*c));
	if (2 * (c->n + 1) >= c->cap) {
		struct df_statcache old = *c;
		size_t i;

		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = df_xcalloc(c->cap, sizeof(*c->v));
		for (i = 0; i < old.cap; i++)
			if (old.v[i].rel)
				*slot_of(c, old.v[i].rel) = old.v[i];
		free(old.v);
	}
	e = slot_of(c, rel);
	if (e->rel)
		return e->what;
	if (path_of(ctx, rel, &b) == 0 && stat(b.ptr, &st) == 0)
		what = S_ISDIR(st.st_mode) ? 2 : 1;
	df_buf_release(&b);
	e->rel = df_xstrndup(rel, strlen(rel));
	e->what = what;
	c->n++;
	return what;
}

int df_context_exists(const struct df_ctx *ctx, const char *rel)
{
	return what_is(ctx, rel) != 0;
}

int df_context_is_dir(const struct df_ctx *ctx, const char *rel)
{
	return what_is(ctx, rel) == 2;
}

void df_context_forget(struct df_ctx *ctx)
{
	size_t i;

	if (!ctx->stats)
		return;
	for (i = 0; i < ctx->stats->cap; i++)
		free(ctx->stats->v[i].rel);
	free(ctx->stats->v);
	free(ctx->stats);
	ctx->stats = NULL;
}

char *df_context_read(const struct df_ctx *ctx, const char *rel, size_t *len)
{
	struct df_buf b = DF_BUF_INIT;
	const char *err;
	char *p = NULL;

	if (path_of(ctx, rel, &b) == 0)
		p = df_read_file(b.ptr, len, &err);
	df_buf_release(&b);
	return p;
}

char *df_context_read_head(const struct df_ctx *ctx, const char *rel, size_t max, size_t *len)
{
	struct df_buf b = DF_BUF_INIT;
	struct stat st;
	char *p = NULL;
	FILE *f;

	if (path_of(ctx, rel, &b) == 0 && (f = fopen(b.ptr, "rb")) != NULL) {
		if (fstat(fileno(f), &st) == 0 && !S_ISDIR(st.st_mode)) {
			p = df_xmalloc(max + 1);
			*len = fread(p, 1, max, f);
			p[*len] = '\0';
			if (ferror(f)) {
				free(p);
				p = NULL;
			}
		}
		fclose(f);
	}
	df_buf_release(&b);
	return p;
}
