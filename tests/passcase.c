/* passcase.c - see passcase.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "passcase.h"

const char *passcase_pass;
const char *passcase_dir;
char ctxdir[64];

void result_free(struct result *r)
{
	free(r->text);
	r->text = NULL;
}

int fix(const char *src, const char *context, struct result *r)
{
	struct df_ctx ctx;
	struct df_buf out = DF_BUF_INIT;
	const char *why = NULL;
	size_t i, k;
	int rc;

	df_ctx_init(&ctx);
	for (i = 0; df_passes[i]; i++)
		ctx.enabled[i] = strcmp(df_passes[i]->id, passcase_pass) == 0;
	ctx.context_dir = context;
	rc = df_fix(&ctx, src, strlen(src), &out, &why);
	memset(r, 0, sizeof(*r));
	r->text = df_buf_detach(&out, NULL);
	for (i = 0, k = 0; i < ctx.nfindings; i++) {
		int n = snprintf(r->notes + k, sizeof(r->notes) - k, "%u: %s\n",
				 ctx.findings[i].line, ctx.findings[i].msg);

		if (n > 0 && (size_t)n < sizeof(r->notes) - k)
			k += (size_t)n;
	}
	r->nfindings = (int)ctx.nfindings;
	df_ctx_release(&ctx);
	return rc;
}

void check(const char *src, const char *context, const char *want, struct result *r)
{
	struct result again;

	assert_int_equal(fix(src, context, r), 0);
	if (strcmp(r->text ? r->text : "", want) != 0)
		fail_msg("got:\n%s\nwant:\n%s\nfindings:\n%s", r->text, want, r->notes);
	assert_int_equal(fix(want, context, &again), 0);
	assert_string_equal(again.text, want);
	result_free(&again);
}

void check_same(const char *src, const char *context, struct result *r)
{
	check(src, context, src, r);
}

void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

void put(const char *rel, const char *text)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ctxdir, rel);
	for (slash = strchr(path + strlen(ctxdir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

int setup_ctx(void **state)
{
	(void)state;
	snprintf(ctxdir, sizeof(ctxdir), "%s", passcase_dir);
	return mkdtemp(ctxdir) ? 0 : -1;
}

int teardown_ctx(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ctxdir);
	return system(cmd) == 0 ? 0 : -1;
}
