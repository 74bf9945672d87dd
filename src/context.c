/* context.c - reading the build context (DESIGN.md section 3). */
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

int df_context_exists(const struct df_ctx *ctx, const char *rel)
{
	struct df_buf b = DF_BUF_INIT;
	struct stat st;
	int r = 0;

	if (path_of(ctx, rel, &b) == 0)
		r = stat(b.ptr, &st) == 0;
	df_buf_release(&b);
	return r;
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
