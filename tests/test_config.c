/* test_config.c - .dfix.yaml: every key, errors with FILE:LINE:COL, bad
 * YAML, overrides by path, finding the file upward, CLI precedence. */
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

#include "config.h"
#include "internal.h"

static char tmpdir[] = "/tmp/dfix-test-config.XXXXXX";

static char *path_in(const char *rel)
{
	struct df_buf b = DF_BUF_INIT;

	df_buf_addf(&b, "%s/%s", tmpdir, rel);
	return df_buf_detach(&b, NULL);
}

/* Write text to tmpdir/rel, creating the directories; returns the path. */
static char *put(const char *rel, const char *text)
{
	char *p = path_in(rel), *s;
	FILE *f;

	for (s = p + strlen(tmpdir) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t npasses(void)
{
	size_t n = 0;

	while (df_passes[n])
		n++;
	return n;
}

static size_t format_index(void)
{
	size_t i;

	for (i = 0; df_passes[i]; i++)
		if (strcmp(df_passes[i]->id, "format") == 0)
			return i;
	fail_msg("no format pass");
	return 0;
}

/* Load text as a config file; return its error (malloc'ed) or NULL. */
static char *load_text(const char *rel, const char *text, struct df_config *cfg)
{
	char *p = put(rel, text), *err = NULL;

	if (df_config_load(p, cfg, &err) == 0)
		assert_null(err);
	else
		assert_non_null(err);
	free(p);
	return err;
}

/* The error must be "PATH:where message..." for the file rel. */
static void expect_error(const char *rel, const char *text, const char *where, const char *msg)
{
	struct df_config cfg;
	char *err = load_text(rel, text, &cfg), *p = path_in(rel), *want;
	struct df_buf b = DF_BUF_INIT;

	if (!err)
		fail_msg("no error for:\n%s", text);
	df_buf_addf(&b, "%s:%s %s", p, where, msg);
	want = df_buf_detach(&b, NULL);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("error\n  %s\nwant prefix\n  %s", err, want);
	assert_null(cfg.path);
	assert_int_equal(cfg.top.keys, 0);
	free(want);
	free(err);
	free(p);
}

/* ---- valid files ---- */

static void test_every_key(void **state)
{
	struct df_config cfg;
	size_t fi = format_index();
	char *err;

	(void)state;
	err = load_text("all/.dfix.yaml",
			"# all the keys\n"
			"level: safe\n"
			"select: [format]\n"
			"ignore: format\n"
			"base: distroless\n"
			"pin:\n"
			"  node: 20-alpine\n"
			"  python: \"3.12-slim\"\n"
			"cache-mounts: true\n"
			"indent: 2\n"
			"overrides:\n"
			"  - paths: [\"services/*/Dockerfile\", \"*.dev.Dockerfile\"]\n"
			"    level: format\n"
			"    indent: 8\n",
			&cfg);
	assert_null(err);
	assert_int_equal(cfg.top.keys, DF_CFG_LEVEL | DF_CFG_SELECT | DF_CFG_IGNORE | DF_CFG_BASE |
				       DF_CFG_PIN | DF_CFG_CACHE_MOUNTS | DF_CFG_INDENT);
	assert_int_equal(cfg.top.level, DF_LEVEL_SAFE);
	assert_true(cfg.top.select[fi]);
	assert_true(cfg.top.ignore[fi]);
	assert_string_equal(cfg.top.base, "distroless");
	assert_int_equal(cfg.top.npins, 2);
	assert_string_equal(cfg.top.pins[0].image, "node");
	assert_string_equal(cfg.top.pins[0].tag, "20-alpine");
	assert_string_equal(cfg.top.pins[1].image, "python");
	assert_string_equal(cfg.top.pins[1].tag, "3.12-slim");
	assert_int_equal(cfg.top.cache_mounts, 1);
	assert_int_equal(cfg.top.indent, 2);
	assert_int_equal(cfg.noverrides, 1);
	assert_int_equal(cfg.overrides[0].npaths, 2);
	assert_string_equal(cfg.overrides[0].paths[1], "*.dev.Dockerfile");
	assert_int_equal(cfg.overrides[0].set.keys, DF_CFG_LEVEL | DF_CFG_INDENT);
	assert_int_equal(cfg.overrides[0].set.level, DF_LEVEL_FORMAT);
	assert_int_equal(cfg.overrides[0].set.indent, 8);
	df_config_release(&cfg);
}

static void test_values(void **state)
{
	struct df_config cfg;
	size_t i, n = npasses();
	char *err;

	(void)state;
	err = load_text("v1/.dfix.yaml", "level: all\nselect: all\nignore: none\ncache-mounts: off\n",
			&cfg);
	assert_null(err);
	assert_int_equal(cfg.top.level, DF_LEVEL_REVIEW);
	for (i = 0; i < n; i++) {
		assert_true(cfg.top.select[i]);
		assert_false(cfg.top.ignore[i]);
	}
	assert_int_equal(cfg.top.cache_mounts, 0);
	df_config_release(&cfg);

	err = load_text("v2/.dfix.yaml", "select: \"format, format\"\nbase: keep\nlevel: format\n",
			&cfg);
	assert_null(err);
	assert_true(cfg.top.select[format_index()]);
	assert_string_equal(cfg.top.base, "keep");
	df_config_release(&cfg);

	/* empty file, comments only, explicit empty document */
	err = load_text("v3/.dfix.yaml", "", &cfg);
	assert_null(err);
	assert_int_equal(cfg.top.keys, 0);
	df_config_release(&cfg);
	err = load_text("v4/.dfix.yaml", "# nothing\n---\n", &cfg);
	assert_null(err);
	df_config_release(&cfg);
}

/* ---- errors ---- */

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("e1/.dfix.yaml", "level: safe\n\nlevle: all\n", "3:1:", "unknown key 'levle'");
	expect_error("e2/.dfix.yaml", "overrides:\n  - paths: x\n    bogus: 1\n", "3:5:",
		     "unknown key 'bogus'");
	expect_error("e3/.dfix.yaml", "overrides:\n  - paths: x\n    overrides: []\n", "3:5:",
		     "overrides cannot be nested");
	expect_error("e4/.dfix.yaml", "overrides:\n  - level: safe\n", "2:5:",
		     "overrides: each entry needs 'paths'");
	expect_error("e5/.dfix.yaml", "level: safe\nlevel: all\n", "2:1:", "duplicate key 'level'");
	expect_error("e6/.dfix.yaml", "select: [format, nope]\n", "1:18:",
		     "select: unknown pass 'nope'");
	expect_error("e7/.dfix.yaml", "ignore: \"format,,x\"\n", "1:9:", "ignore: empty pass id");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("t1/.dfix.yaml", "indent: \"4\"\n", "1:9:",
		     "indent: expected a whole number from 1 to 8, got the quoted string '4'");
	expect_error("t2/.dfix.yaml", "\nindent: 9\n", "2:9:",
		     "indent: expected a whole number from 1 to 8, got '9'");
	expect_error("t3/.dfix.yaml", "cache-mounts: maybe\n", "1:15:",
		     "cache-mounts: expected true or false, got 'maybe'");
	expect_error("t4/.dfix.yaml", "level: [safe]\n", "1:8:",
		     "level: expected format, safe or all, got a list");
	expect_error("t5/.dfix.yaml", "level: review\n", "1:8:",
		     "level: expected format, safe or all, got 'review'");
	expect_error("t6/.dfix.yaml", "base: {a: b}\n", "1:7:",
		     "base: expected alpine, slim, distroless or keep, got a mapping");
	expect_error("t7/.dfix.yaml", "pin: [node]\n", "1:6:",
		     "pin: expected a mapping of image: tag, got a list");
	expect_error("t8/.dfix.yaml", "pin:\n  node: [20]\n", "2:9:",
		     "pin: the tag of 'node' must be a non-empty string");
	expect_error("t9/.dfix.yaml", "select: {a: 1}\n", "1:9:",
		     "select: expected a list of pass ids, got a mapping");
	expect_error("t10/.dfix.yaml", "- level\n", "1:1:",
		     "configuration: expected a mapping of settings, got a list");
	expect_error("t11/.dfix.yaml", "overrides:\n  paths: x\n", "2:3:",
		     "overrides: expected a list");
	expect_error("t12/.dfix.yaml", "overrides:\n  - paths: []\n", "2:12:",
		     "paths: expected at least one glob");
}

static void test_bad_yaml(void **state)
{
	(void)state;
	expect_error("y1/.dfix.yaml", "level: [format\n", "2:1:", "invalid YAML:");
	expect_error("y2/.dfix.yaml", "level: safe\n  indent: 2\n", "2:9:", "invalid YAML:");
	expect_error("y3/.dfix.yaml", "a: \"unterminated\n", "2:1:", "invalid YAML:");
	expect_error("y4/.dfix.yaml", "level: safe\n\tindent: 2\n", "2:1:", "invalid YAML:");
	expect_error("y5/.dfix.yaml", "level: safe\n---\nlevel: all\n", "3:1:",
		     "only one YAML document is allowed");
	expect_error("y6/.dfix.yaml", "level: \xff\n", "1:8:", "invalid YAML:");
}

static void test_missing_file(void **state)
{
	struct df_config cfg;
	char *err = NULL, *p = path_in("nope/.dfix.yaml");

	(void)state;
	assert_int_equal(df_config_load(p, &cfg, &err), -1);
	assert_non_null(err);
	assert_memory_equal(err, p, strlen(p));
	free(err);
	free(p);
}

/* ---- overrides and precedence ---- */

static void test_overrides(void **state)
{
	struct df_config cfg;
	struct df_config_set s;
	char *err, *p;

	(void)state;
	err = load_text("ov/.dfix.yaml",
			"level: all\nindent: 4\nbase: slim\n"
			"overrides:\n"
			"  - paths: [\"services/*/Dockerfile\"]\n"
			"    level: safe\n"
			"  - paths: \"*.dev.Dockerfile\"\n"
			"    indent: 2\n"
			"  - paths: [\"**/legacy/Dockerfile\"]\n"
			"    base: keep\n",
			&cfg);
	assert_null(err);

	p = put("ov/services/api/Dockerfile", "FROM a\n");
	df_config_resolve(&cfg, p, &s);
	assert_int_equal(s.level, DF_LEVEL_SAFE);
	assert_int_equal(s.indent, 4);
	assert_string_equal(s.base, "slim");
	free(p);

	/* FNM_PATHNAME: '*' does not cross directories */
	p = put("ov/services/api/deep/Dockerfile", "FROM a\n");
	df_config_resolve(&cfg, p, &s);
	assert_int_equal(s.level, DF_LEVEL_REVIEW);
	free(p);

	/* a glob without '/' matches the name at any depth; later ones win */
	p = put("ov/services/web/app.dev.Dockerfile", "FROM a\n");
	df_config_resolve(&cfg, p, &s);
	assert_int_equal(s.level, DF_LEVEL_REVIEW);
	assert_int_equal(s.indent, 2);
	free(p);

	p = put("ov/a/b/legacy/Dockerfile", "FROM a\n");
	df_config_resolve(&cfg, p, &s);
	assert_string_equal(s.base, "keep");
	free(p);
	p = put("ov/legacy/Dockerfile", "FROM a\n");
	df_config_resolve(&cfg, p, &s);
	assert_string_equal(s.base, "keep");
	free(p);

	/* a Dockerfile outside the config's directory: only name globs */
	p = put("elsewhere/services/api/Dockerfile", "FROM a\n");
	df_config_resolve(&cfg, p, &s);
	assert_int_equal(s.level, DF_LEVEL_REVIEW);
	free(p);
	df_config_release(&cfg);
}

static void test_apply_precedence(void **state)
{
	struct df_config cfg;
	struct df_ctx ctx;
	size_t i, n = npasses(), fi = format_index();
	char *err, *p;

	(void)state;
	err = load_text("pr/.dfix.yaml",
			"level: format\nbase: alpine\ncache-mounts: yes\nindent: 2\nignore: [format]\n",
			&cfg);
	assert_null(err);
	p = put("pr/Dockerfile", "FROM a\n");

	/* nothing on the command line: the file decides */
	df_ctx_init(&ctx);
	df_config_apply(&cfg, p, &ctx, 0);
	assert_int_equal(ctx.level, DF_LEVEL_FORMAT);
	assert_string_equal(ctx.base, "alpine");
	assert_int_equal(ctx.cache_mounts, 1);
	assert_int_equal(ctx.indent, 2);
	for (i = 0; i < n; i++)
		assert_int_equal(ctx.enabled[i], 0); /* above format, or ignored */
	df_ctx_release(&ctx);

	/* --level, --ignore, --base, --indent given: those stay */
	df_ctx_init(&ctx);
	ctx.indent = 6;
	ctx.base = "keep";
	df_config_apply(&cfg, p, &ctx,
			DF_CFG_LEVEL | DF_CFG_IGNORE | DF_CFG_BASE | DF_CFG_INDENT);
	assert_int_equal(ctx.level, DF_LEVEL_REVIEW);
	assert_string_equal(ctx.base, "keep");
	assert_int_equal(ctx.indent, 6);
	assert_int_equal(ctx.cache_mounts, 1);
	for (i = 0; i < n; i++)
		assert_int_equal(ctx.enabled[i], 1);
	df_ctx_release(&ctx);

	/* --select given: the file's level does not apply, its ignore does */
	df_ctx_init(&ctx);
	df_config_apply(&cfg, p, &ctx, DF_CFG_SELECT);
	assert_int_equal(ctx.level, DF_LEVEL_REVIEW);
	assert_int_equal(ctx.enabled[fi], 0);
	df_ctx_release(&ctx);
	free(p);
	df_config_release(&cfg);

	/* select in the file switches the others off */
	err = load_text("pr2/.dfix.yaml", "select: format\n", &cfg);
	assert_null(err);
	df_ctx_init(&ctx);
	df_config_apply(&cfg, "pr2/Dockerfile", &ctx, 0);
	for (i = 0; i < n; i++)
		assert_int_equal(ctx.enabled[i], i == fi);
	df_ctx_release(&ctx);
	df_config_release(&cfg);
}

/* ---- finding ---- */

static void test_find(void **state)
{
	char *found = NULL, *cfgp, *df, *real;

	(void)state;
	cfgp = put("repo/.dfix.yaml", "level: safe\n");
	free(put("repo/.git/HEAD", "ref: x\n"));
	df = put("repo/a/b/Dockerfile", "FROM a\n");
	assert_int_equal(df_config_find(df, &found), 1);
	real = realpath(cfgp, NULL);
	assert_string_equal(found, real);
	free(found);
	free(real);
	free(df);

	/* a nested repository stops the search before its parent's file */
	free(put("repo/sub/.git", "gitdir: x\n"));
	df = put("repo/sub/x/Dockerfile", "FROM a\n");
	assert_int_equal(df_config_find(df, &found), 0);
	assert_null(found);
	free(df);

	/* the nearest file wins */
	free(cfgp);
	cfgp = put("repo/a/.dfix.yaml", "level: format\n");
	df = path_in("repo/a/b/Dockerfile");
	assert_int_equal(df_config_find(df, &found), 1);
	real = realpath(cfgp, NULL);
	assert_string_equal(found, real);
	free(found);
	free(real);
	free(df);
	free(cfgp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_apply_precedence),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
