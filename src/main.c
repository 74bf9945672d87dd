/*
 * main.c - the dfix command line: parse options, find the files, call the
 * library, print/diff/list/write, and choose the exit status. No Dockerfile
 * logic lives here.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dfix.h"
#include "files.h"
#include "lsp.h"
#include "report.h"

static const char usage_text[] =
"usage: dfix [options] [PATH...]\n"
"       dfix lsp                 language server on standard input/output\n"
"\n"
"Rewrite Dockerfiles into lean, cache-friendly ones without losing a byte you\n"
"did not ask to change. PATH is a Dockerfile or a directory (searched for\n"
"Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile,\n"
"Containerfile.*; .git, node_modules and vendor are skipped). No PATH, or '-',\n"
"reads standard input. By default the rewritten file is printed on stdout.\n"
"\n"
"What to do:\n"
"  -w, --write              rewrite the files in place (only those that change)\n"
"  -d, --diff               print a git-style diff of every file that would\n"
"                           change, each preceded by '# PASS:LINE message' lines\n"
"  -l, --list               print the names of the files that would change\n"
"      --check              name on stderr the files that would change\n"
"      --dump               print BuildKit's parse tree of each file\n"
"      --report=FORMAT      print the findings with their fixes instead of\n"
"                           the files: text, json, sarif, rdjson, github or\n"
"                           gitlab (see docs/integrations.md)\n"
"      --list-passes        list the passes: id, level, codes, summary\n"
"      --explain=PASS       describe one pass\n"
"\n"
"Which passes run (those that --level, --select and --ignore all allow):\n"
"      --level=LEVEL        format (layout only), safe (same image) or all\n"
"                           (also changes that need review); default all\n"
"      --select=ID[,ID...]  run only these passes ('all', or 'none' for none)\n"
"      --ignore=ID[,ID...]  do not run these passes\n"
"\n"
"How passes rewrite:\n"
"      --base=BASE          base image family: alpine, slim, distroless or keep\n"
"      --cache-mounts       use RUN --mount=type=cache for package caches\n"
"      --indent=N           indent continuation lines by N spaces (0-64)\n"
"      --context=DIR        build context (default: the Dockerfile's directory;\n"
"                           none for standard input)\n"
"      --config=FILE        configuration file (default: the nearest .dfix.yaml\n"
"                           above the Dockerfile); errors in it stop dfix\n"
"      --stdin-filename=NAME  name standard input in messages, lists and diffs\n"
"\n"
"Output:\n"
"      --color=WHEN         colour diffs: auto (a terminal, NO_COLOR unset),\n"
"                           always or never; default auto\n"
"  -v, --verbose            with --write, print 'fixed PATH' on stderr\n"
"  -h, --help               print this help and exit\n"
"  -V, --version            print the version and exit\n"
"\n"
"Options taking a value accept --opt=VALUE or --opt VALUE. '--' ends options.\n"
"\n"
"Exit status:\n"
"  0  nothing to change, or the files were written\n"
"  1  changes needed (--diff, --list, --check, --report)\n"
"  2  error: bad usage or input (message 'dfix: PATH:LINE:COL: message' on\n"
"     stderr); nothing is written and the input is left untouched\n";

enum opt_id {
	O_WRITE, O_DIFF, O_LIST, O_CHECK, O_DUMP, O_REPORT, O_LIST_PASSES,
	O_EXPLAIN, O_LEVEL, O_SELECT, O_IGNORE, O_BASE, O_CACHE_MOUNTS,
	O_INDENT, O_CONTEXT, O_CONFIG, O_STDIN_FILENAME, O_COLOR, O_VERBOSE,
	O_HELP, O_VERSION
};

struct opt {
	const char *name; /* long name without "--" */
	char letter;      /* short option, or 0 */
	int has_value;
	enum opt_id id;
};

static const struct opt opts[] = {
	{ "write", 'w', 0, O_WRITE },
	{ "diff", 'd', 0, O_DIFF },
	{ "list", 'l', 0, O_LIST },
	{ "check", 0, 0, O_CHECK },
	{ "dump", 0, 0, O_DUMP },
	{ "report", 0, 1, O_REPORT },
	{ "list-passes", 0, 0, O_LIST_PASSES },
	{ "explain", 0, 1, O_EXPLAIN },
	{ "level", 0, 1, O_LEVEL },
	{ "select", 0, 1, O_SELECT },
	{ "ignore", 0, 1, O_IGNORE },
	{ "base", 0, 1, O_BASE },
	{ "cache-mounts", 0, 0, O_CACHE_MOUNTS },
	{ "indent", 0, 1, O_INDENT },
	{ "context", 0, 1, O_CONTEXT },
	{ "config", 0, 1, O_CONFIG },
	{ "stdin-filename", 0, 1, O_STDIN_FILENAME },
	{ "color", 0, 1, O_COLOR },
	{ "verbose", 'v', 0, O_VERBOSE },
	{ "help", 'h', 0, O_HELP },
	{ "version", 'V', 0, O_VERSION },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* Everything the command line asked for. */
struct cli {
	int write, diff, list, check, dump, list_passes, verbose;
	const char *explain;
	const char *report;
	enum df_level level;
	const char *base;
	int cache_mounts;
	int indent;               /* -1: the library's default */
	const char *context;
	const char *config;
	const char *stdin_name;
	int color;
	/* --select / --ignore: per registry index */
	size_t npasses;
	int selected;             /* some --select was given */
	unsigned char *select, *ignore, *enabled;
	int stdin_seen;
	struct df_report *rep;    /* --report: the findings of every file */
	/* results */
	int failed, changed;
	struct df_pathlist shown;  /* extra files already in the -d/-l/--check output */
	unsigned cli_keys;         /* DF_CFG_* settings the command line gave */
	struct df_config cfg;      /* --config FILE, or the last .dfix.yaml found */
	char *config_path;         /* path of `config` when it was found, not given */
	int config_given;
};

/* ---- messages ---- */

/* Print a message on one line: control characters become spaces. */
static void put_line(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
	}
}

/* "dfix: PATH[:LINE:COL]: message" for one input (line 0: no position);
 * marks the run as failed. */
static void fail_at(struct cli *cli, const char *path, unsigned line, unsigned col,
		    const char *fmt, ...) DF_PRINTF(5, 6);
static void fail_at(struct cli *cli, const char *path, unsigned line, unsigned col,
		    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("dfix: ", stderr);
	put_line(stderr, path);
	if (line)
		fprintf(stderr, ":%u:%u", line, col ? col : 1);
	fputs(": ", stderr);
	put_line(stderr, msg);
	fputc('\n', stderr);
	cli->failed = 1;
}

#define fail(cli, path, ...) fail_at(cli, path, 0, 0, __VA_ARGS__)

/* A document problem always has a position (1:1 when the parser gives none,
 * e.g. an empty file), so editors can jump to it. */
static void fail_diag(struct cli *cli, const char *path, const struct df_diag *d)
{
	fail_at(cli, path, d->line ? d->line : 1, d->col, "%s",
		d->msg ? d->msg : "invalid Dockerfile");
}

static void walk_error(const char *path, const char *msg, void *arg)
{
	fail(arg, path, "%s", msg);
}

/* ---- option values ---- */

static const struct opt *find_long(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strlen(opts[i].name) == n && memcmp(opts[i].name, name, n) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].letter == c)
			return &opts[i];
	return NULL;
}

static size_t pass_index(const struct df_pass *p, size_t npasses)
{
	size_t i;

	for (i = 0; i < npasses; i++)
		if (df_passes[i] == p)
			return i;
	return npasses;
}

/* Mark the passes of a comma-separated list ("all", "none" or ids). */
static void mark_passes(struct cli *cli, unsigned char *set, const char *opt, const char *list)
{
	const char *p = list, *end;
	char id[128];
	size_t n, i;

	if (!*list)
		df_die("--%s: expected pass ids, 'all' or 'none' (see dfix --list-passes)", opt);
	for (; *p; p = *end ? end + 1 : end) {
		const struct df_pass *pass;

		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 0)
			df_die("--%s: empty pass id in '%s'", opt, list);
		if (n >= sizeof(id))
			df_die("--%s: unknown pass '%.*s' (see dfix --list-passes)", opt, (int)n, p);
		memcpy(id, p, n);
		id[n] = '\0';
		if (strcmp(id, "none") == 0)
			continue;
		if (strcmp(id, "all") == 0) {
			for (i = 0; i < cli->npasses; i++)
				set[i] = 1;
			continue;
		}
		pass = df_pass_find(id);
		if (!pass || (i = pass_index(pass, cli->npasses)) == cli->npasses)
			df_die("--%s: unknown pass '%s' (see dfix --list-passes)", opt, id);
		set[i] = 1;
	}
}

static void set_value(struct cli *cli, enum opt_id id, const char *v)
{
	char *end;
	long n;

	switch (id) {
	case O_REPORT:
		if (df_report_format_parse(v) < 0)
			df_die("--report: expected text, json, sarif, rdjson, github or gitlab, "
			       "got '%s'", v);
		cli->report = v;
		break;
	case O_EXPLAIN:
		cli->explain = v;
		break;
	case O_LEVEL:
		cli->cli_keys |= DF_CFG_LEVEL;
		if (strcmp(v, "format") == 0)
			cli->level = DF_LEVEL_FORMAT;
		else if (strcmp(v, "safe") == 0)
			cli->level = DF_LEVEL_SAFE;
		else if (strcmp(v, "all") == 0)
			cli->level = DF_LEVEL_REVIEW;
		else
			df_die("--level: expected format, safe or all, got '%s'", v);
		break;
	case O_SELECT:
		cli->cli_keys |= DF_CFG_SELECT;
		cli->selected = 1;
		mark_passes(cli, cli->select, "select", v);
		break;
	case O_IGNORE:
		cli->cli_keys |= DF_CFG_IGNORE;
		mark_passes(cli, cli->ignore, "ignore", v);
		break;
	case O_BASE:
		if (strcmp(v, "alpine") && strcmp(v, "slim") && strcmp(v, "distroless") &&
		    strcmp(v, "keep"))
			df_die("--base: expected alpine, slim, distroless or keep, got '%s'", v);
		cli->cli_keys |= DF_CFG_BASE;
		cli->base = v;
		break;
	case O_INDENT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (!*v || *end || errno || n < 0 || n > 64)
			df_die("--indent: expected a number from 0 to 64, got '%s'", v);
		cli->indent = (int)n;
		cli->cli_keys |= DF_CFG_INDENT;
		break;
	case O_CONTEXT:
		cli->context = v;
		break;
	case O_CONFIG:
		cli->config = v;
		break;
	case O_STDIN_FILENAME:
		if (!*v)
			df_die("--stdin-filename: empty name");
		cli->stdin_name = v;
		break;
	case O_COLOR:
		if (strcmp(v, "auto") == 0)
			cli->color = -1;
		else if (strcmp(v, "always") == 0)
			cli->color = 1;
		else if (strcmp(v, "never") == 0)
			cli->color = 0;
		else
			df_die("--color: expected auto, always or never, got '%s'", v);
		break;
	default:
		break;
	}
}

/* A flag without value; returns 1 when it has done everything (help, version). */
static int set_flag(struct cli *cli, enum opt_id id)
{
	switch (id) {
	case O_WRITE: cli->write = 1; break;
	case O_DIFF: cli->diff = 1; break;
	case O_LIST: cli->list = 1; break;
	case O_CHECK: cli->check = 1; break;
	case O_DUMP: cli->dump = 1; break;
	case O_LIST_PASSES: cli->list_passes = 1; break;
	case O_CACHE_MOUNTS: cli->cache_mounts = 1; cli->cli_keys |= DF_CFG_CACHE_MOUNTS; break;
	case O_VERBOSE: cli->verbose = 1; break;
	case O_HELP:
		fputs(usage_text, stdout);
		return 1;
	case O_VERSION:
		puts("dfix " DFIX_VERSION);
		return 1;
	default:
		break;
	}
	return 0;
}

static void print_list_passes(void)
{
	static const char *const lv[] = { "format", "safe", "review" };
	size_t i, wid = 2, wcodes = 5;

	for (i = 0; df_passes[i]; i++) {
		const struct df_pass *p = df_passes[i];

		if (strlen(p->id) > wid)
			wid = strlen(p->id);
		if (p->codes && strlen(p->codes) > wcodes)
			wcodes = strlen(p->codes);
	}
	for (i = 0; df_passes[i]; i++) {
		const struct df_pass *p = df_passes[i];
		const char *codes = p->codes && *p->codes ? p->codes : "-";

		printf("%-*s  %-6s  %-*s  %s\n", (int)wid, p->id,
		       (unsigned)p->level <= DF_LEVEL_REVIEW ? lv[p->level] : "?",
		       (int)wcodes, codes, p->summary ? p->summary : "");
	}
}

static void print_explain(const char *id)
{
	static const char *const lv[] = { "format", "safe", "review" };
	const struct df_pass *p = df_pass_find(id);
	size_t n;

	if (!p)
		df_die("unknown pass '%s' (see dfix --list-passes)", id);
	printf("%s (level: %s", p->id,
	       (unsigned)p->level <= DF_LEVEL_REVIEW ? lv[p->level] : "?");
	if (p->codes && *p->codes)
		printf("; answers: %s", p->codes);
	printf(")\n%s\n", p->summary ? p->summary : "");
	if (p->doc && *p->doc) {
		n = strlen(p->doc);
		printf("\n%s%s", p->doc, p->doc[n - 1] == '\n' ? "" : "\n");
	}
}

/* ---- one file ---- */

/* The path as `git diff` run from here would show it: relative to the
 * current directory when it lies below it, without "." and empty
 * components, "dir/.." folded. */
static char *diff_path(const char *path)
{
	struct df_buf b = DF_BUF_INIT;
	char cwd[PATH_MAX];
	const char *p = path, *seg;
	size_t n, keep;
	int abs = 0;

	if (path[0] == '/' && getcwd(cwd, sizeof(cwd))) {
		n = strlen(cwd);
		if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/')
			p = path + n;
		else
			abs = 1;
	}
	while (*p) {
		while (*p == '/')
			p++;
		seg = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.'))
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.' && b.len &&
		    !(b.len >= 2 && memcmp(b.ptr + b.len - 2, "..", 2) == 0 &&
		      (b.len == 2 || b.ptr[b.len - 3] == '/'))) {
			/* drop the last component */
			keep = b.len;
			while (keep && b.ptr[keep - 1] != '/')
				keep--;
			b.len = keep ? keep - 1 : 0;
			b.ptr[b.len] = '\0';
			continue;
		}
		if (b.len)
			df_buf_addc(&b, '/');
		df_buf_add(&b, seg, n);
	}
	if (abs) {
		/* outside the current directory: keep it absolute */
		df_buf_grow(&b, 1);
		memmove(b.ptr + 1, b.ptr, b.len + 1);
		b.ptr[0] = '/';
		b.len++;
	}
	if (!b.len)
		df_buf_adds(&b, path);
	return df_buf_detach(&b, NULL);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return df_xstrndup(".", 1);
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return df_xstrndup("/", 1);
	return df_xstrndup(path, (size_t)(slash - path));
}

static int by_line(const void *a, const void *b)
{
	const struct df_finding *x = *(const struct df_finding *const *)a;
	const struct df_finding *y = *(const struct df_finding *const *)b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x < y ? -1 : x > y; /* keep the order the passes found them in */
}

/* "# PASS:LINE message" lines: git apply skips text before "diff --git". */
static void print_findings(const struct df_ctx *ctx)
{
	const struct df_finding **v;
	size_t i;

	if (!ctx->nfindings)
		return;
	v = df_xmalloc(ctx->nfindings * sizeof(*v));
	for (i = 0; i < ctx->nfindings; i++)
		v[i] = &ctx->findings[i];
	qsort(v, ctx->nfindings, sizeof(*v), by_line);
	for (i = 0; i < ctx->nfindings; i++) {
		printf("# %s:%u ", v[i]->pass ? v[i]->pass : "?", (unsigned)v[i]->line);
		put_line(stdout, v[i]->msg ? v[i]->msg : "");
		putchar('\n');
	}
	free(v);
}

/* Dump mode: BuildKit's tree of the input, or its parse error. */
static void dump_one(struct cli *cli, const char *name, const char *src, size_t len)
{
	struct df_buf out = DF_BUF_INIT;
	struct df_doc *doc = df_doc_parse(src, len);
	const struct df_diag *d = df_doc_error(doc);

	if (d) {
		fail_diag(cli, name, d);
	} else {
		df_dump(doc, &out);
		fwrite(out.ptr, 1, out.len, stdout);
	}
	df_buf_release(&out);
	df_doc_free(doc);
}

/* Other files the passes want written beside the Dockerfile (the context's
 * .dockerignore). -w writes them, never for standard input. */
static void write_extras(struct cli *cli, const struct df_ctx *ctx, const char *path)
{
	const char *err = NULL;
	size_t i;

	for (i = 0; path && i < ctx->nextras; i++) {
		const struct df_extra *e = &ctx->extras[i];

		if (df_write_atomic(e->path, e->text, e->len, &err) != 0)
			fail(cli, e->path, "%s", err ? err : "cannot write");
		else if (cli->verbose)
			fprintf(stderr, "fixed %s\n", e->path);
	}
}

/* -d (diff not NULL): append each extra file's diff, a new file against
 * /dev/null; -l/--check: name them. A file another Dockerfile of this run
 * already showed is skipped, so the output still applies with git apply. */
static void show_extras(struct cli *cli, const struct df_ctx *ctx, struct df_buf *diff)
{
	size_t i, k;

	for (i = 0; i < ctx->nextras; i++) {
		const struct df_extra *e = &ctx->extras[i];
		char *dpath = diff_path(e->path);

		for (k = 0; k < cli->shown.n && strcmp(cli->shown.v[k], dpath); k++)
			;
		if (k == cli->shown.n) {
			df_pathlist_add(&cli->shown, dpath);
			if (diff)
				df_diff(diff, dpath, e->old, e->oldlen, e->text, e->len, cli->color);
			if (cli->list)
				printf("%s\n", e->path);
			if (cli->check)
				fprintf(stderr, "dfix: %s: would be rewritten\n", e->path);
		}
		free(dpath);
	}
}

static int use_config(struct cli *cli, const char *dockerfile);

/* Rewrite one input (path NULL: standard input) and act on the result. */
static void process(struct cli *cli, const char *path)
{
	const char *name = path ? path : cli->stdin_name ? cli->stdin_name : "-";
	struct df_buf out = DF_BUF_INIT;
	const char *err = NULL, *why = NULL;
	struct df_ctx ctx;
	char *src, *ctxdir = NULL, *dpath;
	size_t len;
	int changed;

	src = path ? df_read_file(path, &len, &err) : df_read_stream(stdin, &len, &err);
	if (!src) {
		fail(cli, name, "%s", err ? err : "cannot read");
		return;
	}
	if (cli->dump) {
		dump_one(cli, name, src, len);
		free(src);
		return;
	}
	df_ctx_init(&ctx);
	ctx.path = name;
	if (cli->context)
		ctx.context_dir = cli->context;
	else if (path)
		ctx.context_dir = ctxdir = dir_of(path);
	else
		ctx.context_dir = NULL;
	ctx.level = cli->level;
	if (cli->base)
		ctx.base = cli->base;
	if (cli->cache_mounts)
		ctx.cache_mounts = 1;
	if (cli->indent >= 0)
		ctx.indent = cli->indent;
	/* df_ctx_init sized ctx.enabled to the registry; df_ctx_release frees it */
	if (!ctx.enabled)
		ctx.enabled = df_xcalloc(cli->npasses + 1, 1);
	memcpy(ctx.enabled, cli->enabled, cli->npasses);
	if (use_config(cli, path ? path : cli->stdin_name) < 0)
		goto done;
	df_config_apply(&cli->cfg, path ? path : cli->stdin_name, &ctx, cli->cli_keys);

	if (df_fix(&ctx, src, len, &out, &why) != 0) {
		/* df_fix validates the input first: invalid input has a position */
		if (ctx.error.msg)
			fail_diag(cli, name, &ctx.error);
		else
			fail(cli, name, "%s", why ? why : "refusing to rewrite");
		goto done;
	}
	changed = out.len != len || memcmp(out.ptr ? out.ptr : "", src, len) != 0;
	if (changed || ctx.nextras)
		cli->changed = 1;

	if (cli->rep) {
		struct df_changes ch;

		dpath = diff_path(name);
		df_changes_build(&ch, &ctx, dpath, src, len, out.ptr ? out.ptr : "", out.len);
		df_report_add(cli->rep, &ch);
		free(dpath);
		goto done;
	}
	if (cli->write) {
		if (changed) {
			if (df_write_atomic(path, out.ptr, out.len, &err) != 0) {
				fail(cli, name, "%s", err ? err : "cannot write");
				goto done;
			}
			if (cli->verbose)
				fprintf(stderr, "fixed %s\n", name);
		}
		write_extras(cli, &ctx, path);
	} else if (!cli->diff && !cli->list && !cli->check) {
		fwrite(out.ptr ? out.ptr : "", 1, out.len, stdout);
	}
	if (!changed && !ctx.nextras)
		goto done;
	if ((cli->list || cli->check) && changed) {
		/* the same clean relative path as -d and the extra files show */
		dpath = path ? diff_path(name) : df_xstrndup(name, strlen(name));
		if (cli->list)
			printf("%s\n", dpath);
		else
			fprintf(stderr, "dfix: %s: would be rewritten\n", dpath);
		free(dpath);
	}
	if (cli->diff) {
		struct df_buf diff = DF_BUF_INIT;

		dpath = diff_path(name);
		df_diff(&diff, dpath, src, len, out.ptr ? out.ptr : "", out.len, cli->color);
		show_extras(cli, &ctx, &diff);
		print_findings(&ctx);
		fwrite(diff.ptr ? diff.ptr : "", 1, diff.len, stdout);
		df_buf_release(&diff);
		free(dpath);
	} else if (cli->list || cli->check) {
		show_extras(cli, &ctx, NULL);
	}
done:
	df_ctx_release(&ctx);
	df_buf_release(&out);
	free(ctxdir);
	free(src);
}

static void process_arg(struct cli *cli, const char *arg)
{
	struct df_pathlist files = DF_PATHLIST_INIT;
	struct stat st;
	size_t i, nerr;

	if (strcmp(arg, "-") == 0) {
		if (cli->stdin_seen) {
			fail(cli, "-", "standard input given more than once");
			return;
		}
		cli->stdin_seen = 1;
		process(cli, NULL);
		return;
	}
	if (stat(arg, &st) != 0) {
		fail(cli, arg, "%s", strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		process(cli, arg);
		return;
	}
	nerr = df_find_dockerfiles(&files, arg, walk_error, cli);
	if (files.n == 0 && nerr == 0)
		fail(cli, arg, "no Dockerfile in this directory (looked for Dockerfile, "
		     "Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile)");
	for (i = 0; i < files.n; i++)
		process(cli, files.v[i]);
	df_pathlist_release(&files);
}

/* ---- main ---- */

static void check_dir(const char *opt, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		df_die("%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		df_die("--%s %s: not a directory", opt, dir);
}

/* --config FILE: read once, errors are fatal (file:line:col). */
static void load_config(struct cli *cli, const char *file)
{
	char *err = NULL;

	if (df_config_load(file, &cli->cfg, &err) != 0)
		df_die("%s", err);
	cli->config_given = 1;
}

/* Without --config: the nearest .dfix.yaml above the Dockerfile (kept while
 * the next file finds the same one). Returns -1 after reporting an error. */
static int use_config(struct cli *cli, const char *dockerfile)
{
	char *found = NULL, *err = NULL;

	if (cli->config_given)
		return 0;
	if (!df_config_find(dockerfile, &found)) {
		df_config_release(&cli->cfg);
		df_config_init(&cli->cfg);
		free(cli->config_path);
		cli->config_path = NULL;
		return 0;
	}
	if (cli->config_path && strcmp(found, cli->config_path) == 0) {
		free(found);
		return 0;
	}
	df_config_release(&cli->cfg);
	free(cli->config_path);
	cli->config_path = found;
	if (df_config_load(found, &cli->cfg, &err) != 0) {
		fprintf(stderr, "dfix: %s\n", err);
		free(err);
		cli->failed = 1;
		free(cli->config_path);
		cli->config_path = NULL;
		df_config_init(&cli->cfg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct df_report rep;
	const char **paths;
	size_t npaths = 0, i;
	int k, only_paths = 0, nmodes, rc = DF_EXIT_OK;

	if (argc > 1 && strcmp(argv[1], "lsp") == 0) {
		if (argc > 2)
			df_die("lsp: takes no arguments (settings come as initializationOptions)");
		df_keep_freed_memory(); /* the same file, formatted on every save */
		return df_lsp_main(stdin, stdout);
	}
	memset(&cli, 0, sizeof(cli));
	cli.level = DF_LEVEL_REVIEW;
	cli.indent = -1;
	cli.color = -1;
	while (df_passes[cli.npasses])
		cli.npasses++;
	cli.select = df_xcalloc(cli.npasses + 1, 1);
	cli.ignore = df_xcalloc(cli.npasses + 1, 1);
	cli.enabled = df_xcalloc(cli.npasses + 1, 1);
	paths = df_xcalloc((size_t)argc + 1, sizeof(*paths));

	for (k = 1; k < argc; k++) {
		const char *a = argv[k], *eq, *c;
		const struct opt *o;

		if (only_paths || a[0] != '-' || a[1] == '\0') {
			paths[npaths++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_paths = 1;
			continue;
		}
		if (a[1] != '-') {
			/* short flags, bundled or not: -wv */
			for (c = a + 1; *c; c++) {
				o = find_short(*c);
				if (!o)
					df_die("unknown option '-%c' (see dfix --help)", *c);
				if (set_flag(&cli, o->id))
					goto out;
			}
			continue;
		}
		eq = strchr(a + 2, '=');
		o = find_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
		if (!o)
			df_die("unknown option '%.*s' (see dfix --help)",
			       (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		if (!o->has_value) {
			if (eq)
				df_die("option '--%s' takes no value", o->name);
			if (set_flag(&cli, o->id))
				goto out;
		} else if (eq) {
			set_value(&cli, o->id, eq + 1);
		} else if (k + 1 < argc) {
			set_value(&cli, o->id, argv[++k]);
		} else {
			df_die("option '--%s' needs a value", o->name);
		}
	}

	if (cli.list_passes) {
		print_list_passes();
		goto out;
	}
	if (cli.explain) {
		print_explain(cli.explain);
		goto out;
	}
	nmodes = cli.diff + cli.list + cli.check + cli.dump;
	if (nmodes > 1)
		df_die("choose one of --diff, --list, --check and --dump");
	if (cli.write && (cli.check || cli.dump))
		df_die("--write cannot be combined with --%s", cli.check ? "check" : "dump");
	if (cli.report && (nmodes || cli.write))
		df_die("--report cannot be combined with --%s", cli.write ? "write" : cli.diff ?
		       "diff" : cli.list ? "list" : cli.check ? "check" : "dump");
	if (cli.report) {
		df_report_init(&rep, (enum df_report_format)df_report_format_parse(cli.report));
		cli.rep = &rep;
	}
	if (cli.context)
		check_dir("context", cli.context);
	df_config_init(&cli.cfg);
	if (cli.config)
		load_config(&cli, cli.config);
	if (cli.stdin_name) {
		struct stat st;

		if (stat(cli.stdin_name, &st) == 0 && S_ISDIR(st.st_mode))
			df_die("%s: --stdin-filename names a directory", cli.stdin_name);
	}
	if (npaths == 0)
		paths[npaths++] = "-";
	if (cli.write)
		for (i = 0; i < npaths; i++)
			if (strcmp(paths[i], "-") == 0)
				df_die("--write cannot rewrite standard input in place");
	if (cli.color < 0) {
		const char *nc = getenv("NO_COLOR");

		cli.color = isatty(STDOUT_FILENO) && !(nc && *nc);
	}
	for (i = 0; i < cli.npasses; i++) {
		const struct df_pass *p = df_passes[i];

		cli.enabled[i] = p->level <= cli.level && (!cli.selected || cli.select[i]) &&
				 !cli.ignore[i];
	}

	for (i = 0; i < npaths; i++)
		process_arg(&cli, paths[i]);
	if (cli.rep) {
		struct df_buf b = DF_BUF_INIT;

		df_report_print(cli.rep, &b);
		fwrite(b.ptr ? b.ptr : "", 1, b.len, stdout);
		df_buf_release(&b);
		df_report_release(cli.rep);
	}
	if (cli.failed)
		rc = DF_EXIT_ERROR;
	else if (cli.changed && !cli.write && (cli.diff || cli.list || cli.check || cli.rep))
		rc = DF_EXIT_CHANGES;
out:
	free(paths);
	free(cli.select);
	free(cli.ignore);
	free(cli.enabled);
	df_config_release(&cli.cfg);
	free(cli.config_path);
	df_pathlist_release(&cli.shown);
	if (fflush(stdout) != 0 || ferror(stdout))
		df_die("standard output: %s", strerror(errno ? errno : EIO));
	return rc;
}
