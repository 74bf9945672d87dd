/* test_report.c - findings with fixes (edits.c) and --report formats
 * (report.c): hunks applied give df_fix()'s output on random texts and on
 * every golden case; golden report outputs in tests/report/; SARIF 2.1.0
 * and reviewdog rdjson checked field by field against their schemas, and
 * their fixes applied back give the output too.
 *
 * Run from the repository root. DFIX_UPDATE=1 rewrites the expected
 * outputs under tests/report/. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "report.h"

/* ---------------------------------------------------------------- helpers */

static char *slurp(const char *path, size_t *len)
{
	const char *err = NULL;

	return df_read_file(path, len, &err);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted subdirectories of dir (malloc'ed names; caller frees). */
static char **subdirs(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, path[4096];

	*n = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!is_dir(path))
			continue;
		v = df_xrealloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = df_xstrndup(path, strlen(path));
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void free_list(char **v, size_t n)
{
	while (n--)
		free(v[n]);
	free(v);
}

/* The changes of src -> out with no findings (every hunk gets a generic
 * item). */
static void changes_of(struct df_changes *c, const char *a, const char *b)
{
	struct df_ctx ctx;

	df_ctx_init(&ctx);
	df_changes_build(c, &ctx, "Dockerfile", a, strlen(a), b, strlen(b));
	df_ctx_release(&ctx);
}

static void check_apply(const char *a, const char *b)
{
	struct df_changes c;
	struct df_buf out = DF_BUF_INIT;

	changes_of(&c, a, b);
	df_changes_apply(&c, NULL, 0, &out);
	df_buf_add(&out, "", 0);
	assert_int_equal(out.len, strlen(b));
	assert_memory_equal(out.ptr, b, out.len);
	df_changes_release(&c);
	df_buf_release(&out);
}

/* ---------------------------------------------------------------- hunks */

static void test_hunks_basic(void **state)
{
	struct df_hunk *h;
	size_t n;

	(void)state;
	h = df_hunks("a\nb\nc\n", 6, "a\nB\nc\n", 6, &n);
	assert_int_equal(n, 1);
	assert_int_equal(h[0].old_line, 2);
	assert_int_equal(h[0].old_count, 1);
	assert_int_equal(h[0].new_line, 2);
	assert_int_equal(h[0].new_count, 1);
	assert_int_equal(h[0].start, 2);
	assert_int_equal(h[0].end, 4);
	free(h);

	/* insertion at the end, deletion at the start */
	h = df_hunks("a\nb\n", 4, "b\nc\n", 4, &n);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].old_line, 1);
	assert_int_equal(h[0].old_count, 1);
	assert_int_equal(h[0].new_count, 0);
	assert_int_equal(h[1].old_line, 3);
	assert_int_equal(h[1].old_count, 0);
	assert_int_equal(h[1].start, 4);
	assert_int_equal(h[1].end, 4);
	free(h);

	assert_null(df_hunks("x\n", 2, "x\n", 2, &n));
	assert_int_equal(n, 0);

	check_apply("", "FROM a\n");
	check_apply("FROM a\n", "");
	check_apply("FROM a", "FROM a\n");
	check_apply("FROM a\n", "FROM a");
	check_apply("FROM a\r\nRUN x\r\n", "FROM a\r\nRUN y\r\n");
	check_apply("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nX\nc\nd\ne\nf\nY\nh\nZ\n");
	check_apply("\n\n\n", "\n");
	check_apply("a\n\\ No newline\n", "b\n\\ No newline\n");
	check_apply("--- a\n+++ b\n@@ -1 +1 @@\n", "--- a\n+++ c\n@@ -1 +1 @@\n");
}

static unsigned long rng_state = 12345;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((rng_state >> 33) % n);
}

static void random_text(struct df_buf *b)
{
	static const char *const lines[] = { "FROM a", "RUN x", "", "@@ -1 +1 @@",
					     "-old", "+new", " ctx", "\\", "RUN y \\",
					     "é", "\r" };
	unsigned i, n = rnd(12);

	df_buf_reset(b);
	for (i = 0; i < n; i++) {
		df_buf_adds(b, lines[rnd(sizeof(lines) / sizeof(lines[0]))]);
		if (i + 1 < n || rnd(3))
			df_buf_addc(b, '\n');
	}
	df_buf_add(b, "", 0);
}

static void test_hunks_random(void **state)
{
	struct df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		random_text(&a);
		random_text(&b);
		check_apply(a.ptr ? a.ptr : "", b.ptr ? b.ptr : "");
	}
	df_buf_release(&a);
	df_buf_release(&b);
}

/* The hunks are the change blocks `dfix -d` prints: read them back from
 * df_diff()'s text (context lines separate blocks) and compare. */
static void blocks_from_diff(const char *a, const char *b, long *out, size_t *n)
{
	struct df_buf d = DF_BUF_INIT;
	const char *p, *end;
	long la = 0, lb = 0, sa = -1, sb = 0;

	*n = 0;
	df_diff(&d, "f", a, strlen(a), b, strlen(b), 0);
	p = d.ptr ? d.ptr : "";
	end = p + d.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char c = *p;

		if (!eol)
			eol = end;
		if (sa >= 0 && c != '-' && c != '+' && c != '\\') {
			out[(*n)++] = sa, out[(*n)++] = la - sa, out[(*n)++] = sb, out[(*n)++] = lb - sb;
			sa = -1;
		}
		if (strncmp(p, "@@ -", 4) == 0) {
			char *q;
			long ca = 1, cb = 1;

			la = strtol(p + 4, &q, 10);
			if (*q == ',')
				ca = strtol(q + 1, &q, 10);
			lb = strtol(q + 2, &q, 10);
			if (*q == ',')
				cb = strtol(q + 1, &q, 10);
			la += ca == 0;
			lb += cb == 0;
		} else if (c == ' ') {
			la++;
			lb++;
		} else if ((c == '-' || c == '+') && la > 0) {
			if (sa < 0) {
				sa = la;
				sb = lb;
			}
			*(c == '-' ? &la : &lb) += 1;
		}
		p = eol + 1;
	}
	if (sa >= 0)
		out[(*n)++] = sa, out[(*n)++] = la - sa, out[(*n)++] = sb, out[(*n)++] = lb - sb;
	df_buf_release(&d);
}

static void test_hunks_are_diff_blocks(void **state)
{
	struct df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
	long want[256];
	size_t n, nh, k;
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		struct df_hunk *h;

		random_text(&a);
		random_text(&b);
		h = df_hunks(a.ptr ? a.ptr : "", a.len, b.ptr ? b.ptr : "", b.len, &nh);
		blocks_from_diff(a.ptr ? a.ptr : "", b.ptr ? b.ptr : "", want, &n);
		assert_int_equal(nh * 4, n);
		for (k = 0; k < nh; k++) {
			assert_int_equal(h[k].old_line, want[4 * k]);
			assert_int_equal(h[k].old_count, want[4 * k + 1]);
			assert_int_equal(h[k].new_line, want[4 * k + 2]);
			assert_int_equal(h[k].new_count, want[4 * k + 3]);
		}
		free(h);
	}
	df_buf_release(&a);
	df_buf_release(&b);
}

static void test_text_pos(void **state)
{
	const char *t = "a\xc3\xa9\xf0\x9d\x84\x9e" "b\nx\xff" "y";
	size_t n, *lines = df_text_lines(t, strlen(t), &n);
	uint32_t l, c;

	(void)state;
	assert_int_equal(n, 2);
	df_text_pos(t, lines, n, 7, DF_UNIT_BYTE, &l, &c); /* 'b' */
	assert_int_equal(l, 1);
	assert_int_equal(c, 8);
	df_text_pos(t, lines, n, 7, DF_UNIT_UTF16, &l, &c); /* a é 𝄞(2) */
	assert_int_equal(c, 5);
	df_text_pos(t, lines, n, 11, DF_UNIT_UTF16, &l, &c); /* 'y' after an invalid byte */
	assert_int_equal(l, 2);
	assert_int_equal(c, 3);
	df_text_pos(t, lines, n, 12, DF_UNIT_BYTE, &l, &c); /* end, no final newline */
	assert_int_equal(l, 2);
	assert_int_equal(c, 4);
	free(lines);

	lines = df_text_lines("a\n", 2, &n);
	df_text_pos("a\n", lines, n, 2, DF_UNIT_BYTE, &l, &c);
	assert_int_equal(l, 2);
	assert_int_equal(c, 1);
	free(lines);
	lines = df_text_lines("", 0, &n);
	assert_int_equal(n, 0);
	df_text_pos("", lines, n, 0, DF_UNIT_BYTE, &l, &c);
	assert_int_equal(l, 1);
	assert_int_equal(c, 1);
	free(lines);
}

static void test_rule_url(void **state)
{
	struct df_buf b = DF_BUF_INIT;

	(void)state;
	df_rule_url(&b, "DL3059");
	assert_string_equal(b.ptr, "https://github.com/hadolint/hadolint/wiki/DL3059");
	df_buf_reset(&b);
	df_rule_url(&b, "JSONArgsRecommended");
	assert_string_equal(b.ptr, "https://docs.docker.com/reference/build-checks/json-args-recommended/");
	df_buf_reset(&b);
	df_rule_url(&b, "FromAsCasing");
	assert_string_equal(b.ptr, "https://docs.docker.com/reference/build-checks/from-as-casing/");
	df_buf_reset(&b);
	df_rule_url(&b, NULL);
	assert_int_equal(b.len, 0);
	df_buf_release(&b);
}

/* ---------------------------------------------------------------- cases */

/* A case directory run the way tests/golden.py runs it: the args file's
 * options, the Dockerfile named there (default Dockerfile), the context/
 * directory or the case directory as the build context. */
struct run {
	char path[4096];    /* the Dockerfile */
	char display[256];  /* its name as shown */
	char context[4096];
	char *src, *out;
	size_t len, outlen;
	struct df_changes ch;
};

/* Shell words of an args file ('#' comments, quotes). */
static size_t split_args(const char *p, char words[][256], size_t max)
{
	size_t n = 0;

	while (*p && n < max) {
		size_t k = 0;
		char q = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (!*p)
			break;
		while (*p && (q || (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r'))) {
			if (!q && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q && *p == q)
				q = 0;
			else if (k + 1 < 256)
				words[n][k++] = *p;
			p++;
		}
		words[n++][k] = '\0';
	}
	return n;
}

static void mark(unsigned char *set, const char *list)
{
	char buf[512], *tok, *save = NULL;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		for (i = 0; df_passes[i]; i++)
			if (strcmp(tok, "all") == 0 || strcmp(tok, df_passes[i]->id) == 0)
				set[i] = 1;
}

/* Returns 0, or -1 when dfix refuses the input (the case expects an error). */
static int run_case(struct run *r, const char *dir)
{
	char words[64][256], file[4096];
	unsigned char sel[64] = { 0 }, ign[64] = { 0 };
	size_t n, i, alen;
	char *args;
	int selected = 0;
	struct df_ctx ctx;
	struct df_buf out = DF_BUF_INIT;
	const char *why = NULL;

	memset(r, 0, sizeof(*r));
	snprintf(file, sizeof(file), "%s/args", dir);
	args = slurp(file, &alen);
	n = args ? split_args(args, words, 64) : 0;
	free(args);
	df_ctx_init(&ctx);
	snprintf(r->display, sizeof(r->display), "Dockerfile");
	for (i = 0; i < n; i++) {
		char *w = words[i], *eq = strchr(w, '=');
		const char *v;

		if (w[0] != '-') {
			snprintf(r->display, sizeof(r->display), "%s", w);
			continue;
		}
		if (strcmp(w, "-d") == 0 || strcmp(w, "--diff") == 0)
			continue; /* the edits are the same */
		if (strcmp(w, "--cache-mounts") == 0) {
			ctx.cache_mounts = 1;
			continue;
		}
		if (w[1] == '-' && eq) { /* --opt=value */
			*eq = '\0';
			v = eq + 1;
		} else {
			v = i + 1 < n ? words[++i] : "";
		}
		if (strcmp(w, "--select") == 0) {
			selected = 1;
			mark(sel, v);
		} else if (strcmp(w, "--ignore") == 0) {
			mark(ign, v);
		} else if (strcmp(w, "--level") == 0) {
			ctx.level = strcmp(v, "format") == 0 ? DF_LEVEL_FORMAT :
				    strcmp(v, "safe") == 0 ? DF_LEVEL_SAFE : DF_LEVEL_REVIEW;
		} else if (strcmp(w, "--base") == 0) {
			ctx.base = strcmp(v, "alpine") == 0 ? "alpine" : strcmp(v, "slim") == 0 ?
				   "slim" : strcmp(v, "distroless") == 0 ? "distroless" : "keep";
		} else if (strcmp(w, "--indent") == 0) {
			ctx.indent = atoi(v);
		} else {
			fail_msg("%s/args: option %s is not known to test_report.c", dir, w);
		}
	}
	for (i = 0; df_passes[i]; i++)
		ctx.enabled[i] = df_passes[i]->level <= ctx.level && (!selected || sel[i]) && !ign[i];
	snprintf(r->path, sizeof(r->path), "%s/%s", dir, r->display);
	snprintf(r->context, sizeof(r->context), "%s/context", dir);
	if (!is_dir(r->context))
		snprintf(r->context, sizeof(r->context), "%s", dir);
	ctx.path = r->display;
	ctx.context_dir = r->context;
	r->src = slurp(r->path, &r->len);
	assert_non_null(r->src);
	if (df_fix(&ctx, r->src, r->len, &out, &why) != 0) {
		df_ctx_release(&ctx);
		df_buf_release(&out);
		return -1;
	}
	df_buf_add(&out, "", 0);
	r->out = df_buf_detach(&out, &r->outlen);
	df_changes_build(&r->ch, &ctx, r->display, r->src, r->len, r->out, r->outlen);
	df_ctx_release(&ctx);
	return 0;
}

static void run_release(struct run *r)
{
	df_changes_release(&r->ch);
	free(r->src);
	free(r->out);
}

static char *render(struct df_changes *c, enum df_report_format f)
{
	struct df_report rep;
	struct df_buf b = DF_BUF_INIT;
	struct df_changes copy;

	/* the report takes ownership: give it a copy built the same way */
	df_report_init(&rep, f);
	copy = *c;
	df_report_add(&rep, &copy);
	df_report_print(&rep, &b);
	rep.nfiles = 0; /* c still owns it */
	df_report_release(&rep);
	df_buf_add(&b, "", 0);
	return df_buf_detach(&b, NULL);
}

static json_t *render_json(struct df_changes *c, enum df_report_format f)
{
	char *s = render(c, f);
	json_error_t err;
	json_t *j = json_loads(s, 0, &err);

	if (!j)
		fail_msg("report is not JSON: %s\n%s", err.text, s);
	free(s);
	return j;
}

/* Byte offset of a 1-based (line, column) in units. */
static size_t offset_of(const struct df_changes *c, json_int_t line, json_int_t col,
			enum df_unit unit)
{
	size_t off;

	assert_true(line >= 1 && col >= 1);
	if ((size_t)line > c->nlines) {
		assert_int_equal(col, 1);
		assert_int_equal((size_t)line, c->nlines + 1);
		assert_true(c->len == 0 || c->src[c->len - 1] == '\n');
		return c->len;
	}
	off = c->lines[line - 1];
	while (col > 1) {
		uint32_t l, k;

		assert_true(off < c->lines[line]);
		off++;
		df_text_pos(c->src, c->lines, c->nlines, off, unit, &l, &k);
		if (l == line && k == col)
			return off;
		if (l == line && k > col)
			fail_msg("column %lld splits a character", (long long)col);
		if (l != line) {
			assert_int_equal(k, 1);
			return off;
		}
	}
	return off;
}

struct edit {
	size_t start, end;
	const char *text;
	size_t len;
};

static int by_start(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void apply_edits(const struct df_changes *c, struct edit *e, size_t n,
			struct df_buf *out)
{
	size_t i, at = 0;

	if (n)
		qsort(e, n, sizeof(*e), by_start);
	for (i = 0; i < n; i++) {
		/* no two edits start at one offset: any order of applying works */
		if (i > 0)
			assert_true(e[i].start > e[i - 1].start);
		assert_true(e[i].start >= at);
		assert_true(e[i].end >= e[i].start);
		df_buf_add(out, c->src + at, e[i].start - at);
		df_buf_add(out, e[i].text, e[i].len);
		at = e[i].end;
	}
	df_buf_add(out, c->src + at, c->len - at);
}

static void assert_output(const struct df_changes *c, const struct df_buf *b, const char *what)
{
	if (b->len != c->outlen || memcmp(b->ptr ? b->ptr : "", c->out, c->outlen) != 0)
		fail_msg("%s: %s edits applied differ from the --write output:\n%.*s\n---- want\n%s",
			 c->path, what, (int)b->len, b->ptr ? b->ptr : "", c->out);
}

/* --report=json: apply every edit of the Dockerfile by its byte offsets, and
 * check the line/column given beside each offset. */
static void check_json_edits(struct df_changes *c)
{
	json_t *all = render_json(c, DF_REPORT_JSON), *f;
	struct edit *e = NULL;
	struct df_buf b = DF_BUF_INIT;
	size_t i, k, n = 0;

	assert_true(json_is_array(all));
	json_array_foreach(all, i, f) {
		json_t *fix = json_object_get(f, "fix"), *ed;
		static const char *const keys[] = { "file", "pass", "level", "message", "start", "end" };

		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			assert_non_null(json_object_get(f, keys[k]));
		assert_true(json_is_null(fix) || json_is_array(json_object_get(fix, "edits")));
		json_array_foreach(json_object_get(fix, "edits"), k, ed) {
			json_t *s = json_object_get(ed, "start"), *en = json_object_get(ed, "end");

			if (json_object_get(ed, "file"))
				continue;
			e = df_xrealloc(e, (n + 1) * sizeof(*e));
			e[n].start = (size_t)json_integer_value(json_object_get(s, "offset"));
			e[n].end = (size_t)json_integer_value(json_object_get(en, "offset"));
			e[n].text = json_string_value(json_object_get(ed, "text"));
			e[n].len = json_string_length(json_object_get(ed, "text"));
			assert_int_equal(e[n].start, offset_of(c,
				json_integer_value(json_object_get(s, "line")),
				json_integer_value(json_object_get(s, "column")), DF_UNIT_BYTE));
			assert_int_equal(e[n].end, offset_of(c,
				json_integer_value(json_object_get(en, "line")),
				json_integer_value(json_object_get(en, "column")), DF_UNIT_BYTE));
			n++;
		}
	}
	apply_edits(c, e, n, &b);
	assert_output(c, &b, "json");
	free(e);
	df_buf_release(&b);
	json_decref(all);
}

/* ---------------------------------------------------------------- SARIF */

static json_t *need(json_t *o, const char *key, int type)
{
	json_t *v = json_object_get(o, key);

	if (!v || (int)json_typeof(v) != type)
		fail_msg("SARIF/rdjson: '%s' missing or of the wrong type", key);
	return v;
}

static void sarif_region(json_t *r)
{
	json_int_t sl, sc, el, ec;

	assert_true(json_is_object(r));
	sl = json_integer_value(need(r, "startLine", JSON_INTEGER));
	sc = json_integer_value(need(r, "startColumn", JSON_INTEGER));
	el = json_integer_value(need(r, "endLine", JSON_INTEGER));
	ec = json_integer_value(need(r, "endColumn", JSON_INTEGER));
	assert_true(sl >= 1 && sc >= 1 && el >= 1 && ec >= 1); /* 1-based */
	assert_true(el > sl || (el == sl && ec >= sc));
}

/*
 * The parts of the SARIF 2.1.0 schema dfix's output uses: sarifLog
 * (version, $schema, runs), run.tool.driver (name, version, rules with id),
 * result (message.text, ruleId and ruleIndex in the rules, level from the
 * enum, locations with a 1-based region), fix (artifactChanges with
 * artifactLocation and replacements with deletedRegion, insertedContent).
 * The fixes, applied back (columns in UTF-16 code units), give the output.
 */
static void check_sarif(struct df_changes *c)
{
	json_t *log = render_json(c, DF_REPORT_SARIF), *runs, *run, *driver, *rules, *res, *r;
	struct edit *e = NULL;
	struct df_buf b = DF_BUF_INIT;
	size_t i, n = 0;

	assert_string_equal(json_string_value(need(log, "version", JSON_STRING)), "2.1.0");
	assert_non_null(strstr(json_string_value(need(log, "$schema", JSON_STRING)), "sarif"));
	runs = need(log, "runs", JSON_ARRAY);
	assert_int_equal(json_array_size(runs), 1);
	run = json_array_get(runs, 0);
	driver = need(need(need(run, "tool", JSON_OBJECT), "driver", JSON_OBJECT), "name", JSON_STRING);
	assert_string_equal(json_string_value(driver), "dfix");
	driver = json_object_get(json_object_get(run, "tool"), "driver");
	need(driver, "version", JSON_STRING);
	need(driver, "informationUri", JSON_STRING);
	rules = need(driver, "rules", JSON_ARRAY);
	json_array_foreach(rules, i, r) {
		need(r, "id", JSON_STRING);
		need(need(r, "shortDescription", JSON_OBJECT), "text", JSON_STRING);
		if (json_object_get(r, "helpUri"))
			need(r, "helpUri", JSON_STRING);
	}
	res = need(run, "results", JSON_ARRAY);
	assert_int_equal(json_array_size(res), c->nitems);
	json_array_foreach(res, i, r) {
		const char *level = json_string_value(need(r, "level", JSON_STRING));
		json_int_t ri = json_integer_value(need(r, "ruleIndex", JSON_INTEGER));
		json_t *locs = need(r, "locations", JSON_ARRAY), *fx, *ch, *rep;
		size_t j, m;

		need(need(r, "message", JSON_OBJECT), "text", JSON_STRING);
		assert_true(ri >= 0 && (size_t)ri < json_array_size(rules));
		assert_string_equal(json_string_value(need(r, "ruleId", JSON_STRING)),
				    json_string_value(json_object_get(json_array_get(rules, ri), "id")));
		assert_true(strcmp(level, "note") == 0 || strcmp(level, "warning") == 0 ||
			    strcmp(level, "error") == 0 || strcmp(level, "none") == 0);
		assert_true(json_array_size(locs) >= 1);
		json_array_foreach(locs, j, ch) {
			json_t *phys = need(ch, "physicalLocation", JSON_OBJECT);

			need(need(phys, "artifactLocation", JSON_OBJECT), "uri", JSON_STRING);
			sarif_region(need(phys, "region", JSON_OBJECT));
		}
		json_array_foreach(json_object_get(r, "fixes"), j, fx) {
			need(need(fx, "description", JSON_OBJECT), "text", JSON_STRING);
			json_array_foreach(need(fx, "artifactChanges", JSON_ARRAY), m, ch) {
				const char *uri = json_string_value(need(need(ch, "artifactLocation",
									      JSON_OBJECT), "uri", JSON_STRING));
				size_t q;

				json_array_foreach(need(ch, "replacements", JSON_ARRAY), q, rep) {
					json_t *dr = need(rep, "deletedRegion", JSON_OBJECT);
					json_t *ins = need(need(rep, "insertedContent", JSON_OBJECT),
							   "text", JSON_STRING);

					sarif_region(dr);
					if (strcmp(uri, c->path) != 0)
						continue; /* another file (.dockerignore) */
					e = df_xrealloc(e, (n + 1) * sizeof(*e));
					e[n].start = offset_of(c,
						json_integer_value(json_object_get(dr, "startLine")),
						json_integer_value(json_object_get(dr, "startColumn")),
						DF_UNIT_UTF16);
					e[n].end = offset_of(c,
						json_integer_value(json_object_get(dr, "endLine")),
						json_integer_value(json_object_get(dr, "endColumn")),
						DF_UNIT_UTF16);
					e[n].text = json_string_value(ins);
					e[n].len = json_string_length(ins);
					n++;
				}
			}
		}
	}
	apply_edits(c, e, n, &b);
	assert_output(c, &b, "sarif");
	free(e);
	df_buf_release(&b);
	json_decref(log);
}

/* ---------------------------------------------------------------- rdjson */

static void rd_position(json_t *p, int need_col)
{
	json_t *col = json_object_get(p, "column");

	assert_true(json_is_object(p));
	assert_true(json_integer_value(need(p, "line", JSON_INTEGER)) >= 1);
	if (need_col)
		assert_non_null(col);
	if (col)
		assert_true(json_is_integer(col) && json_integer_value(col) >= 1);
}

/*
 * reviewdog's DiagnosticResult.jsonschema: diagnostics[] with message,
 * location {path, range {start {line, column}, end}}, severity (a string or
 * an integer), source {name}, code {value, url}, suggestions[] {range,
 * text}. reviewdog turns a suggestion into a GitHub suggested change only
 * when it is the diagnostic's single suggestion (one each) on the lines of
 * the diagnostic's range (it reads the source lines from there). A suggestion
 * with columns replaces [start, end) exactly (reviewdog rebuilds the whole
 * lines around it); one without columns must be a deletion of lines
 * start..end ("" text). Applied, they give the output.
 */
static void check_rdjson(struct df_changes *c)
{
	json_t *res = render_json(c, DF_REPORT_RDJSON), *d, *s;
	struct edit *e = NULL;
	struct df_buf b = DF_BUF_INIT;
	size_t i, n = 0;

	assert_true(json_is_object(res));
	assert_string_equal(json_string_value(need(need(res, "source", JSON_OBJECT), "name",
						   JSON_STRING)), "dfix");
	json_array_foreach(need(res, "diagnostics", JSON_ARRAY), i, d) {
		json_t *loc = need(d, "location", JSON_OBJECT), *range, *sev, *sugg, *r, *st, *en;
		const char *sv;
		json_int_t sl, el;

		need(d, "message", JSON_STRING);
		need(loc, "path", JSON_STRING);
		range = need(loc, "range", JSON_OBJECT);
		rd_position(need(range, "start", JSON_OBJECT), 1);
		rd_position(need(range, "end", JSON_OBJECT), 1);
		sev = need(d, "severity", JSON_STRING);
		sv = json_string_value(sev);
		assert_true(strcmp(sv, "WARNING") == 0 || strcmp(sv, "INFO") == 0 ||
			    strcmp(sv, "ERROR") == 0);
		need(need(d, "source", JSON_OBJECT), "name", JSON_STRING);
		need(need(d, "code", JSON_OBJECT), "value", JSON_STRING);
		if (json_object_get(json_object_get(d, "code"), "url"))
			need(json_object_get(d, "code"), "url", JSON_STRING);
		sugg = json_object_get(d, "suggestions");
		if (!sugg)
			continue;
		assert_true(json_is_array(sugg) && json_array_size(sugg) == 1);
		s = json_array_get(sugg, 0);
		r = need(s, "range", JSON_OBJECT);
		st = need(r, "start", JSON_OBJECT);
		en = need(r, "end", JSON_OBJECT);
		rd_position(st, 0);
		rd_position(en, 0);
		need(s, "text", JSON_STRING);
		sl = json_integer_value(json_object_get(st, "line"));
		el = json_integer_value(json_object_get(en, "line"));
		assert_true(sl <= el);
		/* reviewdog takes the lines it rebuilds from the diagnostic's
		 * range and comments on the suggestion's: they are the same */
		assert_int_equal(json_integer_value(json_object_get(json_object_get(range, "start"),
								    "line")), sl);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(range, "end"),
								    "line")), el);
		e = df_xrealloc(e, (n + 1) * sizeof(*e));
		e[n].text = json_string_value(json_object_get(s, "text"));
		e[n].len = json_string_length(json_object_get(s, "text"));
		if (json_object_get(st, "column")) {
			e[n].start = offset_of(c, sl, json_integer_value(json_object_get(st, "column")),
					       DF_UNIT_BYTE);
			e[n].end = offset_of(c, el, json_integer_value(json_object_get(en, "column")),
					     DF_UNIT_BYTE);
		} else if (c->nlines == 0) {
			e[n].start = e[n].end = 0; /* an empty file: the text is the file */
			assert_true(c->outlen >= e[n].len);
			e[n].text = c->out; /* the final line ending */
			e[n].len = c->outlen;
		} else {
			assert_null(json_object_get(en, "column"));
			assert_int_equal(e[n].len, 0); /* a line-based deletion */
			assert_true((size_t)el <= c->nlines);
			e[n].start = c->lines[sl - 1];
			e[n].end = c->lines[el];
		}
		n++;
	}
	apply_edits(c, e, n, &b);
	assert_output(c, &b, "rdjson");
	free(e);
	df_buf_release(&b);
	json_decref(res);
}

/* ---------------------------------------------------------------- golden */

/* Each hunk replaces whole lines and, applied alone (one quick fix
 * accepted, one suggestion committed), leaves a file that still parses. */
static void check_alone(const struct df_changes *c)
{
	struct df_doc *doc = df_doc_parse(c->src, c->len);
	int valid = df_doc_validate(doc) == NULL;
	size_t k;

	df_doc_free(doc);
	for (k = 0; valid && k < c->nhunks; k++) {
		struct df_buf b = DF_BUF_INIT;
		const struct df_diag *d;

		df_changes_apply(c, &k, 1, &b);
		doc = df_doc_parse(b.ptr ? b.ptr : "", b.len);
		d = df_doc_validate(doc);
		if (d)
			fail_msg("%s: hunk %zu (line %u) applied alone: %u:%u: %s\n%.*s", c->path, k,
				 c->hunks[k].old_line, d->line, d->col, d->msg, (int)b.len, b.ptr);
		df_doc_free(doc);
		df_buf_release(&b);
	}
}

static void check_all(struct df_changes *c)
{
	struct df_buf b = DF_BUF_INIT;

	df_changes_apply(c, NULL, 0, &b);
	assert_output(c, &b, "hunks");
	df_buf_release(&b);
	check_alone(c);
	check_json_edits(c);
	check_sarif(c);
	check_rdjson(c);
}

/* Every golden case: the edits of every format, applied to the input,
 * give df_fix()'s output (what --write writes; tests/golden.py compares
 * that with the case's `expected`). */
static void test_golden_edits(void **state)
{
	size_t na, nc, i, j, ncases = 0, nchanged = 0;
	char **areas = subdirs("golden", &na);

	(void)state;
	assert_true(na > 0);
	for (i = 0; i < na; i++) {
		char **cases = subdirs(areas[i], &nc);

		for (j = 0; j < nc; j++) {
			struct run r;
			char file[4096];

			snprintf(file, sizeof(file), "%s/Dockerfile", cases[j]);
			if (access(file, R_OK) != 0)
				continue;
			if (run_case(&r, cases[j]) != 0) {
				free(r.src);
				continue;
			}
			check_all(&r.ch);
			ncases++;
			nchanged += df_changes_any(&r.ch) ? 1 : 0;
			run_release(&r);
		}
		free_list(cases, nc);
	}
	free_list(areas, na);
	print_message("edits applied == --write output on %zu golden cases (%zu with changes)\n",
		      ncases, nchanged);
	assert_true(ncases > 0);
}

/* The shared corpus of real-world Dockerfiles (../shared/corpus/files), when
 * present: every format's edits applied give df_fix()'s output there too.
 * No build context (as for standard input). */
static void test_corpus_edits(void **state)
{
	const char *dir = "../shared/corpus/files";
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, changed = 0;

	(void)state;
	if (!d) {
		print_message("%s not present: skipped\n", dir);
		return;
	}
	while ((de = readdir(d))) {
		char path[4096], *src;
		size_t len;
		struct df_ctx ctx;
		struct df_buf out = DF_BUF_INIT;
		struct df_changes c;
		const char *why;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		src = slurp(path, &len);
		if (!src)
			continue;
		df_ctx_init(&ctx);
		if (df_fix(&ctx, src, len, &out, &why) == 0) {
			df_changes_build(&c, &ctx, de->d_name, src, len, out.ptr ? out.ptr : "", out.len);
			check_all(&c);
			changed += df_changes_any(&c) ? 1 : 0;
			df_changes_release(&c);
			n++;
		}
		df_ctx_release(&ctx);
		df_buf_release(&out);
		free(src);
	}
	closedir(d);
	print_message("edits applied == --write output on %zu corpus files (%zu with changes)\n",
		      n, changed);
}

/* The rules' texts come from the passes' summaries and --explain docs, and
 * the version from dfix.h: those are left out of the SARIF comparison. */
static char *scrub_sarif(char *s)
{
	json_t *log = json_loads(s, 0, NULL), *driver, *rule;
	size_t i;
	struct df_buf b = DF_BUF_INIT;
	char *out;

	assert_non_null(log);
	driver = json_object_get(json_object_get(json_array_get(json_object_get(log, "runs"), 0),
						 "tool"), "driver");
	json_object_set_new(driver, "version", json_string("VERSION"));
	json_object_set_new(driver, "semanticVersion", json_string("VERSION"));
	json_array_foreach(json_object_get(driver, "rules"), i, rule) {
		json_object_set_new(json_object_get(rule, "shortDescription"), "text",
				    json_string("(the pass's summary)"));
		if (json_object_get(rule, "help"))
			json_object_set_new(json_object_get(rule, "help"), "text",
					    json_string("(the pass's --explain text)"));
	}
	out = json_dumps(log, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(log);
	free(s);
	df_buf_adds(&b, out);
	df_buf_addc(&b, '\n');
	free(out);
	return df_buf_detach(&b, NULL);
}

/* tests/report/<case>/: expected.{text,json,sarif,rdjson,github,gitlab}
 * (SARIF scrubbed as above). */
static void test_report_golden(void **state)
{
	static const char *const ext[] = { "text", "json", "sarif", "rdjson", "github", "gitlab" };
	const char *update = getenv("DFIX_UPDATE");
	size_t nc, i, f, bad = 0;
	char **cases = subdirs("tests/report", &nc);

	(void)state;
	assert_true(nc > 0);
	for (i = 0; i < nc; i++) {
		struct run r;

		assert_int_equal(run_case(&r, cases[i]), 0);
		check_all(&r.ch);
		for (f = 0; f < sizeof(ext) / sizeof(ext[0]); f++) {
			char file[4096], *got = render(&r.ch, (enum df_report_format)f), *want;
			size_t wlen;

			if (f == DF_REPORT_SARIF)
				got = scrub_sarif(got);

			assert_int_equal(df_report_format_parse(ext[f]), (int)f);
			snprintf(file, sizeof(file), "%s/expected.%s", cases[i], ext[f]);
			want = slurp(file, &wlen);
			if (update && *update) {
				FILE *fp = fopen(file, "wb");

				assert_non_null(fp);
				fputs(got, fp);
				fclose(fp);
			} else if (!want || wlen != strlen(got) || memcmp(want, got, wlen) != 0) {
				print_error("%s differs:\n%s\n", file, got);
				bad++;
			}
			free(want);
			free(got);
		}
		run_release(&r);
	}
	free_list(cases, nc);
	if (bad)
		fail_msg("%zu report outputs differ (DFIX_UPDATE=1 rewrites them)", bad);
}

/* Findings are tied to the hunk on their line; a hunk without one goes
 * to the nearest free finding; findings that change nothing are notes. */
static void test_attach(void **state)
{
	const char *src = "FROM a\nRUN x\nRUN y\nCMD z\n";
	const char *out = "FROM a\nRUN x && y\nCMD z\nUSER u\n";
	struct df_ctx ctx;
	struct df_changes c;

	(void)state;
	df_ctx_init(&ctx);
	df_ctx_finding(&ctx, "DL3002", 1, "user");
	df_ctx_finding(&ctx, "DL3059", 2, "merged");
	df_ctx_finding(&ctx, NULL, 4, "a note on CMD");
	df_changes_build(&c, &ctx, "Dockerfile", src, strlen(src), out, strlen(out));
	assert_int_equal(c.nhunks, 2);
	assert_int_equal(c.nitems, 3);
	assert_string_equal(c.items[1].msg, "merged");
	assert_int_equal(c.items[1].nhunks, 1);
	assert_int_equal(c.hunks[0].owner, 1);
	/* an insertion covers the lines on both sides: line 4 owns it */
	assert_int_equal(c.hunks[1].owner, 2);
	assert_true(c.items[0].note);
	assert_false(c.items[1].note);
	df_changes_release(&c);
	df_ctx_release(&ctx);

	/* no findings: one "dfix" item per hunk */
	df_ctx_init(&ctx);
	df_changes_build(&c, &ctx, "Dockerfile", src, strlen(src), out, strlen(out));
	assert_int_equal(c.nitems, 2);
	assert_string_equal(c.items[0].pass, "dfix");
	assert_int_equal(c.items[0].line, 2);
	df_changes_release(&c);
	df_ctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hunks_basic),
		cmocka_unit_test(test_hunks_random),
		cmocka_unit_test(test_hunks_are_diff_blocks),
		cmocka_unit_test(test_text_pos),
		cmocka_unit_test(test_rule_url),
		cmocka_unit_test(test_attach),
		cmocka_unit_test(test_golden_edits),
		cmocka_unit_test(test_corpus_edits),
		cmocka_unit_test(test_report_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
