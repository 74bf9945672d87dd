/*
 * dockerignore.c - the `dockerignore` pass: write or merge the build
 * context's .dockerignore so that junk (.git, .env, logs, editor folders,
 * node_modules, __pycache__, target/ ...) stays out of it, without ever
 * hiding what the build uses (issue 6; the article's strategy 3).
 *
 * Which file: BuildKit reads `<Dockerfile>.dockerignore` beside the
 * Dockerfile when it exists, else the context's .dockerignore. dfix merges
 * into the one in effect; it creates `<name>.dockerignore` only for a
 * Dockerfile not named "Dockerfile" in a directory that already uses that
 * convention (seeded with the context's .dockerignore, which BuildKit then
 * stops reading for this Dockerfile).
 *
 * What the build uses: every COPY/ADD source from the context in every
 * stage (not --from, heredocs or URLs; globs checked through the files they
 * match and a sample name, variables read as '*'), RUN --mount=type=bind
 * sources, and after the whole context was copied, what a RUN obviously
 * reads: words naming a context path, the test directories when it runs
 * tests, .git when it runs git or setuptools-scm-like versioning.
 * An entry that would exclude any of these is not added; a user pattern
 * that does is reported (BuildKit's CopyIgnoredFile) and, for a path named
 * by the Dockerfile that exists, gets a `!path` exception.
 *
 * Merging never removes or reorders a user line: additions go at the end
 * under one "# added by dfix" header, in the file's line-ending style.
 * The pass never edits the Dockerfile: it returns 0 and records the file
 * with df_ctx_extra() (the last round's call wins).
 */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "internal.h"
#include "ignore.h"
#include "shell.h"

#define HEADER "# added by dfix"
#define WALK_MAX 50000   /* context entries visited per walk */
#define MATCH_MAX 200    /* files kept per COPY glob */
#define NPREFIX 8        /* directories per ecosystem */

enum use_kind {
	U_NAMED,  /* a COPY/ADD/bind source named literally */
	U_MATCH,  /* a context file a COPY glob matches */
	U_SAMPLE, /* a name standing for a glob or a directory's contents */
	U_RUN,    /* a path a RUN reads */
	U_KEEP    /* what a user's `!pattern` keeps */
};

struct use {
	char *path;      /* cleaned, relative to the context */
	char *src;       /* as the Dockerfile (or .dockerignore) writes it */
	const char *what;/* "COPY", "ADD", "RUN", ... (static) */
	char *file;      /* another Dockerfile sharing the ignore file, or NULL */
	uint32_t line;
	enum use_kind kind;
};

enum eco { E_COMMON, E_NODE, E_PYTHON, E_GO, E_MAVEN, E_GRADLE, E_RUST, E_RUBY,
	   E_PHP, E_DOTNET, NECO };

struct state {
	struct df_ctx *ctx;
	struct df_doc *doc;
	const char *file;   /* the Dockerfile being read when not ctx->path */
	int windows;
	unsigned igflags;
	struct use *uses;
	size_t nuses, ucap;
	size_t *uhash;      /* open addressing over uses: index + 1, 0 = empty */
	size_t uhcap;       /* a power of two, > 2 * nuses */
	int whole;          /* some instruction sends the whole context */
	int go_vendor;      /* -mod=vendor somewhere */
	int go_network;     /* go mod download / -mod=mod: modules not from vendor/ */
	int composer;       /* composer install/update runs in the image */
	uint32_t whole_line;/* the first instruction that sends it */
	size_t walked;
	char **globs;       /* the globs already matched against the context */
	size_t nglobs;
	int depth;          /* sh -c nesting */
	struct df_arena scratch; /* the words of the RUN being read */
	char *prefix[NECO][NPREFIX]; /* "" or "dir/" where the ecosystem lives */
	size_t nprefix[NECO];
};

/* Candidate flags. */
#define C_LINUX 1u    /* Linux images only */
#define C_WINDOWS 2u  /* Windows images only */
#define C_EXISTS 4u   /* only when something it matches exists */
#define C_GOVENDOR 8u /* only when the Go build does not use vendor/ */
#define C_COMPOSER 16u/* only when composer install runs in the image */
#define C_NEXT 32u    /* only for Next.js */

static const struct cand {
	enum eco eco;
	const char *pat;
	unsigned flags;
} cands[] = {
	{ E_COMMON, ".git", 0 },
	{ E_COMMON, ".hg", C_EXISTS },
	{ E_COMMON, ".svn", C_EXISTS },
	{ E_COMMON, ".env", 0 },
	{ E_COMMON, "*.log", 0 },
	{ E_COMMON, "Dockerfile*", 0 },
	{ E_COMMON, "*.Dockerfile", C_EXISTS },
	{ E_COMMON, "*.dockerfile", C_EXISTS },
	{ E_COMMON, ".dockerignore", 0 },
	{ E_COMMON, "docker-compose*", 0 },
	{ E_COMMON, "compose.yaml", C_EXISTS },
	{ E_COMMON, "compose.yml", C_EXISTS },
	{ E_COMMON, ".vscode/", 0 },
	{ E_COMMON, ".idea/", 0 },
	{ E_COMMON, "**/.DS_Store", C_LINUX },
	{ E_COMMON, ".vs/", C_WINDOWS },
	{ E_COMMON, "**/Thumbs.db", C_WINDOWS },
	{ E_COMMON, "**/desktop.ini", C_WINDOWS },
	{ E_NODE, "node_modules", 0 },
	{ E_NODE, "npm-debug.log", 0 },
	{ E_NODE, "coverage/", 0 },
	{ E_NODE, ".next/cache", C_NEXT },
	{ E_PYTHON, "**/__pycache__", 0 },
	{ E_PYTHON, "**/*.pyc", 0 },
	{ E_PYTHON, ".venv", 0 },
	{ E_PYTHON, ".pytest_cache", 0 },
	{ E_PYTHON, ".mypy_cache", 0 },
	{ E_GO, "vendor/", C_EXISTS | C_GOVENDOR },
	{ E_MAVEN, "target/", 0 },
	{ E_GRADLE, "build/", 0 },
	{ E_GRADLE, ".gradle/", 0 },
	{ E_RUST, "target/", 0 },
	{ E_RUBY, ".bundle/", 0 },
	{ E_RUBY, "log/*", 0 },
	{ E_RUBY, "tmp/*", 0 },
	{ E_PHP, "vendor/", C_COMPOSER },
	{ E_DOTNET, "**/bin/", 0 },
	{ E_DOTNET, "**/obj/", 0 },
};
#define NCANDS (sizeof(cands) / sizeof(cands[0]))

/* ---------------------------------------------------------------- paths */

/* A path as the context sees it: '\' is a separator in Windows contexts,
 * leading '/' and "./" and "." components go, a trailing '/' too. NULL for
 * a path leaving the context. "" is the context itself. Malloc'ed. */
static char *clean_rel(const char *p, size_t n, int windows)
{
	struct df_buf b = DF_BUF_INIT;
	size_t i = 0;

	df_buf_adds(&b, "");
	while (i < n) {
		size_t s;

		while (i < n && (p[i] == '/' || (windows && p[i] == '\\')))
			i++;
		s = i;
		while (i < n && p[i] != '/' && !(windows && p[i] == '\\'))
			i++;
		if (i == s || (i - s == 1 && p[s] == '.'))
			continue;
		if (i - s == 2 && p[s] == '.' && p[s + 1] == '.') {
			df_buf_release(&b);
			return NULL;
		}
		if (b.len)
			df_buf_addc(&b, '/');
		df_buf_add(&b, p + s, i - s);
	}
	return df_buf_detach(&b, NULL);
}

static int has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* A name the pattern matches, standing for it: "**" and '*' become "x"
 * ("x" matches nothing dfix adds), '?' and a class one "x". Malloc'ed. */
static char *sample_of(const char *pat)
{
	struct df_buf b = DF_BUF_INIT;
	const char *p = pat;

	df_buf_adds(&b, "");
	while (*p) {
		if (p[0] == '*' && p[1] == '*' && p[2] == '/') {
			p += 3;
		} else if (*p == '*') {
			while (*p == '*')
				p++;
			df_buf_addc(&b, 'x');
		} else if (*p == '?') {
			p++;
			df_buf_addc(&b, 'x');
		} else if (*p == '[' && strchr(p + 1, ']')) {
			p = strchr(p + 2, ']') ? strchr(p + 2, ']') + 1 : p + 1;
			df_buf_addc(&b, 'x');
		} else {
			df_buf_addc(&b, *p++);
		}
	}
	return df_buf_detach(&b, NULL);
}

/* $NAME and ${...} read as '*': BuildKit expands them, dfix does not. */
static char *unvar(const char *p, size_t n)
{
	struct df_buf b = DF_BUF_INIT;
	size_t i = 0;

	df_buf_adds(&b, "");
	while (i < n) {
		if (p[i] == '$' && i + 1 < n && p[i + 1] == '{') {
			while (i < n && p[i] != '}')
				i++;
			i++;
			df_buf_addc(&b, '*');
		} else if (p[i] == '$' && i + 1 < n &&
			   (p[i + 1] == '_' || (p[i + 1] | 0x20) >= 'a') && (p[i + 1] | 0x20) <= 'z') {
			i++;
			while (i < n && (p[i] == '_' || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') ||
					 (p[i] >= '0' && p[i] <= '9')))
				i++;
			df_buf_addc(&b, '*');
		} else {
			df_buf_addc(&b, p[i++]);
		}
	}
	return df_buf_detach(&b, NULL);
}

static int is_dir(const struct state *st, const char *rel)
{
	return df_context_is_dir(st->ctx, rel);
}

/* Visit the context's entries to depth `maxdepth` (at most WALK_MAX of
 * them); fn returns 1 to not descend into an entry. Symbolic links are not
 * followed; .git is not entered. */
static void walk_from(struct state *st, const char *rel, int depth, int maxdepth,
		 int (*fn)(struct state *, const char *, int, void *), void *arg)
{
	struct df_buf dir = DF_BUF_INIT, p = DF_BUF_INIT;
	struct dirent *de;
	DIR *d;

	df_buf_addf(&dir, "%s/%s", st->ctx->context_dir, rel);
	d = opendir(dir.ptr);
	while (d && (de = readdir(d)) && st->walked < WALK_MAX) {
		struct stat sb;
		int isdir;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		st->walked++;
		df_buf_reset(&p);
		df_buf_addf(&p, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct df_buf full = DF_BUF_INIT;

			df_buf_addf(&full, "%s/%s", st->ctx->context_dir, p.ptr);
			isdir = lstat(full.ptr, &sb) == 0 && S_ISDIR(sb.st_mode);
			df_buf_release(&full);
		}
		if (fn(st, p.ptr, isdir, arg) || !isdir || depth + 1 >= maxdepth ||
		    !strcmp(de->d_name, ".git"))
			continue;
		walk_from(st, p.ptr, depth + 1, maxdepth, fn, arg);
	}
	if (d)
		closedir(d);
	df_buf_release(&dir);
	df_buf_release(&p);
}

static void walk(struct state *st, int maxdepth,
		 int (*fn)(struct state *, const char *, int, void *), void *arg)
{
	st->walked = 0;
	walk_from(st, "", 0, maxdepth, fn, arg);
}

/* ---------------------------------------------------------------- uses */

static size_t use_hash(enum use_kind kind, const char *path)
{
	return df_hash_str(DF_HASH_INIT ^ (size_t)kind, path);
}

/* Find (kind, path) in the hash; returns its slot (empty or matching). */
static size_t use_slot(const struct state *st, enum use_kind kind, const char *path)
{
	size_t m = st->uhcap - 1, i = use_hash(kind, path) & m;

	while (st->uhash[i]) {
		const struct use *u = &st->uses[st->uhash[i] - 1];

		if (u->kind == kind && !strcmp(u->path, path))
			break;
		i = (i + 1) & m;
	}
	return i;
}

static void add_use(struct state *st, enum use_kind kind, const char *path, const char *src,
		    const char *what, uint32_t line)
{
	struct use *u;
	size_t i;

	if (st->uhcap <= 2 * (st->nuses + 1)) {
		size_t k;

		free(st->uhash);
		st->uhcap = st->uhcap ? st->uhcap * 2 : 64;
		st->uhash = df_xcalloc(st->uhcap, sizeof(*st->uhash));
		for (k = 0; k < st->nuses; k++)
			st->uhash[use_slot(st, st->uses[k].kind, st->uses[k].path)] = k + 1;
	}
	i = use_slot(st, kind, path);
	if (st->uhash[i])
		return;
	if (st->nuses == st->ucap) {
		st->ucap = st->ucap ? st->ucap * 2 : 32;
		st->uses = df_xrealloc(st->uses, st->ucap * sizeof(*st->uses));
	}
	u = &st->uses[st->nuses++];
	u->path = df_xstrndup(path, strlen(path));
	u->src = df_xstrndup(src, strlen(src));
	u->what = what;
	u->file = st->file ? df_xstrndup(st->file, strlen(st->file)) : NULL;
	u->line = line;
	u->kind = kind;
	st->uhash[i] = st->nuses;
}

struct globwalk {
	struct df_ignore *g;
	const char *src, *what;
	uint32_t line;
	size_t n;
};

static int glob_visit(struct state *st, const char *path, int isdir, void *arg)
{
	struct globwalk *gw = arg;

	if (df_ignore_which(gw->g, path) < 0)
		return 0;
	if (gw->n++ < MATCH_MAX)
		add_use(st, U_MATCH, path, gw->src, gw->what, gw->line);
	return 1;
}

/* One COPY/ADD/bind source as the Dockerfile writes it. */
static void add_source(struct state *st, struct df_span s, const char *what, uint32_t line)
{
	char *raw = memchr(s.ptr, '$', s.len) ? unvar(s.ptr, s.len) : df_xstrndup(s.ptr, s.len);
	char *path = clean_rel(raw, strlen(raw), st->windows), *src = df_xstrndup(s.ptr, s.len);
	const char *q;

	if (!path)
		goto out;
	for (q = path; *q == '*' || *q == '/'; q++)
		;
	if (!*q) { /* ".", "/", "*": the whole context */
		st->whole = 1;
		if (!st->whole_line)
			st->whole_line = line;
		goto out;
	}
	if (!has_glob(path)) {
		add_use(st, U_NAMED, path, src, what, line);
		if (is_dir(st, path) || (s.len && s.ptr[s.len - 1] == '/')) {
			struct df_buf b = DF_BUF_INIT;

			df_buf_addf(&b, "%s/x", path); /* its contents */
			add_use(st, U_SAMPLE, b.ptr, src, what, line);
			df_buf_release(&b);
		}
	} else {
		char *smp = sample_of(path), *err = NULL;
		struct globwalk gw = { df_ignore_new(st->igflags), src, what, line, 0 };
		int depth = 1;
		size_t k;

		for (q = path; *q; q++)
			depth += *q == '/';
		add_use(st, U_SAMPLE, smp, src, what, line);
		/* the same glob again finds the same files, and add_use keeps
		 * the first use of each: walk the context once per glob */
		for (k = 0; k < st->nglobs && strcmp(st->globs[k], path); k++)
			;
		if (k < st->nglobs)
			goto walked;
		st->globs = df_xrealloc(st->globs, (st->nglobs + 1) * sizeof(*st->globs));
		st->globs[st->nglobs++] = df_xstrndup(path, strlen(path));
		if (df_ignore_add(gw.g, path, strlen(path), &err) > 0)
			walk(st, strstr(path, "**") ? 32 : depth, glob_visit, &gw);
walked:
		free(err);
		free(smp);
		df_ignore_free(gw.g);
	}
out:
	free(raw);
	free(path);
	free(src);
}

static void copy_sources(struct state *st, const struct df_inst *inst, uint32_t line)
{
	const char *what = inst->cmd == DF_CMD_ADD ? "ADD" : "COPY";
	struct df_span v;
	size_t i;

	if (df_inst_flag(inst, "from", &v) || inst->nargs < 2)
		return;
	for (i = 0; i + 1 < inst->nargs; i++) {
		struct df_span a = inst->args[i];

		if (inst->nheredocs && a.len > 2 && !memcmp(a.ptr, "<<", 2))
			continue; /* a heredoc: not from the context */
		if (inst->cmd == DF_CMD_ADD && (memchr(a.ptr, ':', a.len) &&
		    (df_mem_ieq(a.ptr, "http", 4) || df_mem_ieq(a.ptr, "git", 3))))
			continue; /* a URL or git repository */
		add_source(st, a, what, line);
	}
}

/* RUN --mount=type=bind (the default type) without from=: a context path.
 * Returns 1 when the mount brings the whole context. */
static int bind_mounts(struct state *st, const struct df_inst *inst, uint32_t line)
{
	size_t f;
	int whole = 0;

	for (f = 0; f < inst->nflags; f++) {
		struct df_span m = inst->flags[f], src = { ".", 1 };
		int bind = 1, from = 0;
		size_t i = 8;

		if (m.len <= 8 || memcmp(m.ptr, "--mount=", 8))
			continue;
		while (i < m.len) {
			size_t s = i, eq;

			while (i < m.len && m.ptr[i] != ',')
				i++;
			for (eq = s; eq < i && m.ptr[eq] != '='; eq++)
				;
			if (eq - s == 4 && !memcmp(m.ptr + s, "type", 4))
				bind = i - eq - 1 == 4 && !memcmp(m.ptr + eq + 1, "bind", 4);
			else if (eq - s == 4 && !memcmp(m.ptr + s, "from", 4))
				from = 1;
			else if ((eq - s == 6 && !memcmp(m.ptr + s, "source", 6)) ||
				 (eq - s == 3 && !memcmp(m.ptr + s, "src", 3))) {
				src.ptr = m.ptr + eq + 1;
				src.len = i > eq ? i - eq - 1 : 0;
			}
			i++;
		}
		if (!bind || from)
			continue;
		{
			int before = st->whole;

			st->whole = 0;
			add_source(st, src, "RUN --mount", line);
			whole |= st->whole;
			st->whole |= before;
		}
	}
	return whole;
}

/* ---------------------------------------------------------------- what a RUN reads */

static int word_in(const char *w, const char *const *list)
{
	for (; w && *list; list++)
		if (!strcmp(w, *list))
			return 1;
	return 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* Does the command (static words, NULL where unknown) run tests? */
static int runs_tests(char **w, size_t n)
{
	static const char *const runners[] = { "pytest", "py.test", "tox", "nox", "nosetests",
		"jest", "vitest", "mocha", "ava", "karma", "rspec", "phpunit", "pest", NULL };
	static const char *const pms[] = { "npm", "yarn", "pnpm", "bun", NULL };
	static const char *const tools[] = { "make", "just", "task", "rake", "mvn", "gradle",
		"./gradlew", "./mvnw", "gradlew", "mvnw", "composer", NULL };
	static const char *const targets[] = { "test", "tests", "check", "verify", "spec", NULL };
	static const char *const wrappers[] = { "npx", "bunx", "pnpx", NULL };
	static const char *const runvia[] = { "bundle", "poetry", "uv", "pipenv", "pdm", "hatch",
		"pnpm", "yarn", "npm", NULL };
	const char *name;
	size_t i = 0;

	while (i < n && w[i]) {
		if (word_in(w[i], wrappers))
			i++;
		else if (i + 2 < n && word_in(w[i], runvia) && w[i + 2] &&
			 word_in(w[i + 1], (const char *const[]){ "exec", "run", "dlx", NULL }) &&
			 (word_in(base_name(w[i + 2]), runners) || !strncmp(w[i + 2], "python", 6)))
			i += 2; /* bundle exec rspec, poetry run pytest */
		else
			break;
	}
	if (i >= n || !w[i])
		return 0;
	name = base_name(w[i]);
	if (word_in(name, runners))
		return 1;
	if (!strncmp(name, "python", 6) && i + 2 < n && w[i + 1] && !strcmp(w[i + 1], "-m") &&
	    word_in(w[i + 2], (const char *const[]){ "pytest", "unittest", "tox", "nox", NULL }))
		return 1;
	if (word_in(name, pms) && i + 1 < n && w[i + 1]) {
		if (!strcmp(w[i + 1], "test") || !strcmp(w[i + 1], "t"))
			return 1;
		if (!strcmp(w[i + 1], "run") && i + 2 < n && w[i + 2] && !strncmp(w[i + 2], "test", 4))
			return 1;
	}
	if ((!strcmp(name, "cargo") || !strcmp(name, "go") || !strcmp(name, "dotnet")) &&
	    i + 1 < n && w[i + 1] && (!strcmp(w[i + 1], "test") || !strcmp(w[i + 1], "nextest")))
		return 1;
	if (word_in(w[i], tools) || word_in(name, tools))
		for (i++; i < n; i++)
			if (word_in(w[i], targets))
				return 1;
	return 0;
}

/* Options whose value a command writes, and commands that create paths. */
static int output_option(const char *w)
{
	static const char *const o[] = { "-o", "--output", "--out", "--outdir", "--out-dir",
		"--outDir", "--target-dir", "--prefix", NULL };

	return word_in(w, o);
}

static void run_script(struct state *st, const struct df_inst *inst, const char *p, size_t n,
		       uint32_t line);

static void run_command(struct state *st, char **w, size_t n, uint32_t line)
{
	static const char *const makers[] = { "mkdir", "touch", "virtualenv", NULL };
	static const char *const testdirs[] = { "tests", "test", "spec", "__tests__", "testdata", NULL };
	const char *name = n && w[0] ? base_name(w[0]) : "";
	size_t i;
	int rm = !strcmp(name, "rm"), force = 0;

	for (i = 0; i < n; i++) {
		if (!w[i])
			continue;
		if (strstr(w[i], "-mod=vendor"))
			st->go_vendor = 1;
		if (strstr(w[i], "-mod=mod") || (i >= 2 && !strcmp(w[i], "download") &&
		    w[i - 1] && !strcmp(w[i - 1], "mod")))
			st->go_network = 1;
		if (i >= 1 && w[i - 1] && !strcmp(base_name(w[i - 1]), "composer") &&
		    (!strcmp(w[i], "install") || !strcmp(w[i], "update")))
			st->composer = 1;
		if (rm && w[i][0] == '-' && (w[i][1] == '-' ? !strcmp(w[i], "--force") :
					     strchr(w[i], 'f') != NULL))
			force = 1;
	}
	if (!st->whole)
		return;
	if (n > 2 && w[1] && w[2] && !strcmp(w[1], "-c") && st->depth < 4 &&
	    word_in(name, (const char *const[]){ "sh", "bash", "ash", "dash", NULL })) {
		st->depth++; /* sh -c 'script' */
		run_script(st, NULL, w[2], strlen(w[2]), line);
		st->depth--;
		return;
	}
	if (!strcmp(name, "git") && n > 1 && w[1] &&
	    !word_in(w[1], (const char *const[]){ "clone", "init", "config", "--version",
						   "ls-remote", "help", NULL }))
		add_use(st, U_RUN, ".git", "git", "RUN", line);
	if (runs_tests(w, n))
		for (i = 0; testdirs[i]; i++)
			if (df_context_exists(st->ctx, testdirs[i]))
				add_use(st, U_RUN, testdirs[i], testdirs[i], "RUN (tests)", line);
	if ((rm && force) || word_in(name, makers) ||
	    (n > 2 && w[1] && w[2] && !strcmp(w[1], "-m") && !strcmp(w[2], "venv")) ||
	    (n > 1 && w[1] && !strcmp(name, "uv") && !strcmp(w[1], "venv")))
		return; /* creates or removes what it names */
	for (i = 0; i < n; i++) {
		const char *v = w[i];
		char *path;

		if (!v || (i && output_option(w[i - 1])))
			continue;
		if (v[0] == '-') {
			v = strchr(v, '=');
			if (!v || output_option(w[i]))
				continue;
			v++;
		}
		/* a path has a '/' or a '.': bare words are subcommands and
		 * task names ("gradlew build", "rustup target add") */
		if (v[0] == '/' || !strpbrk(v, "/.") || strchr(v, '$'))
			continue;
		path = clean_rel(v, strlen(v), st->windows);
		if (path && *path && !has_glob(path) && df_context_exists(st->ctx, path))
			add_use(st, U_RUN, path, v, "RUN", line);
		free(path);
	}
}

/* The commands of shell text p[0, n): a heredoc body, or (inst given) the
 * arguments of a shell-form RUN. */
static void run_script(struct state *st, const struct df_inst *inst, const char *p, size_t n,
		       uint32_t line)
{
	struct df_sh_script sc;
	/* the words go to st->scratch (run_command keeps copies of what it
	 * needs), emptied when the outermost script is done */
	struct df_arena *scratch = &st->scratch;
	size_t c, k;

	if ((inst ? df_sh_parse_rest(st->doc, inst, &sc) : df_sh_parse(scratch, p, n, &sc)) != 0) {
		if (!st->depth)
			df_arena_rewind(scratch);
		return;
	}
	for (c = 0; c < sc.ncmds; c++) {
		const struct df_sh_cmd *cmd = &sc.cmds[c];
		int first = df_sh_cmd_name(p, cmd);
		char *few[16], **w;
		size_t nw = 0;

		if (first < 0)
			continue;
		w = cmd->nwords < 16 ? few : df_xmalloc((cmd->nwords + 1) * sizeof(*w));
		for (k = (size_t)first; k < cmd->nwords; k++) {
			const struct df_sh_word *wd = &cmd->words[k];
			struct df_sh_word t;

			if (wd->flags & DF_SH_REDIR) {
				/* an input redirection reads its target */
				if (!(wd->flags & DF_SH_HEREDOC) && df_sh_redir_target(p, wd, &t) &&
				    memchr(p + wd->off, '<', wd->len))
					w[nw++] = df_sh_unquote(scratch, p, &t, NULL);
				continue;
			}
			w[nw++] = df_sh_unquote(scratch, p, wd, NULL);
		}
		w[nw] = NULL;
		run_command(st, w, nw, line);
		if (w != few)
			free(w);
	}
	if (!st->depth)
		df_arena_rewind(scratch);
}

/* Does the text hold w from p[i] on, once quotes and backslashes (and the
 * newlines of continuations) are taken out? */
static int holds_from(const char *p, size_t n, size_t i, const char *w)
{
	for (; *w && i < n; i++) {
		if (p[i] == '"' || p[i] == '\'' || p[i] == '\\' || p[i] == '\n')
			continue;
		if (p[i] != *w)
			return 0;
		w++;
	}
	return !*w;
}

static int holds_unquoted(struct df_span s, const char *w)
{
	const char *q = s.ptr, *e = s.ptr + s.len;

	for (; (q = memchr(q, w[0], (size_t)(e - q))); q++)
		if (holds_from(s.ptr, s.len, (size_t)(q - s.ptr), w))
			return 1;
	return 0;
}

/* Outside what was copied in (!st->whole), a RUN tells only whether Go
 * uses vendor/ or the network and whether composer installs, from words
 * that hold "mod" or "composer" once unquoted. Unquoting only takes quotes
 * and backslashes away (bash's $'...' aside: its escapes make bytes), so
 * shell text that does not hold them with those taken out says nothing. */
static int says_nothing(struct df_span s)
{
	return !df_mem_has(s.ptr, s.len, "$'") && !holds_unquoted(s, "mod") &&
	       !holds_unquoted(s, "composer");
}

static void run_reads(struct state *st, const struct df_inst *inst, uint32_t line)
{
	int had = st->whole, mount = bind_mounts(st, inst, line);
	size_t i;

	st->whole = had || mount;
	if (inst->json) {
		char **w = df_xcalloc(inst->nargs + 1, sizeof(*w));

		for (i = 0; i < inst->nargs; i++)
			w[i] = df_arena_dup(&st->doc->arena, inst->args[i].ptr, inst->args[i].len);
		run_command(st, w, inst->nargs, line);
		free(w);
	} else if (inst->nheredocs && inst->rest.len > 2 && !memcmp(inst->rest.ptr, "<<", 2)) {
		for (i = 0; i < inst->nheredocs; i++)
			run_script(st, NULL, inst->heredocs[i].body.ptr, inst->heredocs[i].body.len, line);
	} else if (st->whole || !says_nothing(inst->rest)) {
		run_script(st, inst, inst->rest.ptr, inst->rest.len, line);
	}
	st->whole = had;
}

/* Every instruction of every stage, in order. A stage starts with what its
 * FROM stage had: a RUN reads the context only once it was copied in. */
static void collect(struct state *st)
{
	struct df_doc *doc = st->doc;
	struct df_stage *stages;
	int *whole;
	size_t ns, s, i;
	int before = st->whole;

	stages = df_stages(doc, &ns);
	whole = df_xcalloc(ns + 1, sizeof(*whole));
	for (s = 0; s < ns; s++) {
		/* FROM a stage by name (df_stages found it by hash; a number
		 * is an image there, not a stage index) */
		st->whole = 0;
		if (stages[s].base >= 0 && !df_span_digits(stages[s].image))
			st->whole = whole[stages[s].base];
		for (i = stages[s].from; i < stages[s].end; i++) {
			const struct df_node *n = &doc->nodes[i];

			if (n->kind != DF_INSTRUCTION || !n->inst)
				continue;
			if (n->cmd == DF_CMD_COPY || n->cmd == DF_CMD_ADD)
				copy_sources(st, n->inst, n->line);
			else if (n->cmd == DF_CMD_RUN)
				run_reads(st, n->inst, n->line);
			else if (n->cmd == DF_CMD_ENV && df_mem_has(n->inst->rest.ptr, n->inst->rest.len,
											  "-mod=vendor"))
				st->go_vendor = 1;
		}
		whole[s] = st->whole;
	}
	for (s = 0, st->whole = before; s < ns; s++)
		st->whole |= whole[s];
	free(whole);
	free(stages);
}

/* Other Dockerfiles that read the same ignore file: those beside this one
 * and at the top of the context, without a <name>.dockerignore of their
 * own. What they use counts too, so that every Dockerfile of a directory
 * gets the same proposal and none of them loses a file. */
static void siblings(struct state *st)
{
	const char *dirs[2];
	char *self = NULL, *seen = NULL, *dir0 = NULL;
	size_t nd = 0, d, count = 0;
	const char *p = st->ctx->path;

	if (p && strcmp(p, "-")) {
		self = realpath(p, NULL);
		dirs[nd++] = dir0 = base_name(p) > p ? df_xstrndup(p, (size_t)(base_name(p) - p))
						      : df_xstrndup(".", 1);
	}
	dirs[nd++] = st->ctx->context_dir;
	for (d = 0; d < nd; d++) {
		char *real = realpath(dirs[d], NULL);
		struct dirent *de;
		DIR *dd;

		if (!real || (seen && !strcmp(seen, real))) {
			free(real);
			continue;
		}
		free(seen);
		seen = real;
		dd = opendir(dirs[d]);
		while (dd && (de = readdir(dd)) && count < 32) {
			struct df_buf f = DF_BUF_INIT, ig = DF_BUF_INIT;
			struct df_doc *doc, *keep = st->doc;
			struct stat sb;
			const char *err;
			char *rp, *text;
			size_t len;

			if (!df_dockerfile_name(de->d_name))
				continue;
			df_buf_addf(&f, "%s/%s", dirs[d], de->d_name);
			df_buf_addf(&ig, "%s.dockerignore", f.ptr);
			rp = realpath(f.ptr, NULL);
			if (rp && (!self || strcmp(rp, self)) && stat(ig.ptr, &sb) != 0 &&
			    stat(f.ptr, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size < (1 << 20) &&
			    (text = df_read_file(f.ptr, &len, &err))) {
				count++;
				doc = df_doc_parse(text, len);
				st->doc = doc;
				st->file = de->d_name;
				collect(st);
				st->doc = keep;
				st->file = NULL;
				df_doc_free(doc);
				free(text);
			}
			free(rp);
			df_buf_release(&f);
			df_buf_release(&ig);
		}
		if (dd)
			closedir(dd);
	}
	free(seen);
	free(self);
	free(dir0);
}

/* ---------------------------------------------------------------- the context */

static const char *const markers[NECO][8] = {
	[E_NODE] = { "package.json", NULL },
	[E_PYTHON] = { "requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile",
		       "poetry.lock", "uv.lock", NULL },
	[E_GO] = { "go.mod", NULL },
	[E_MAVEN] = { "pom.xml", NULL },
	[E_GRADLE] = { "build.gradle", "build.gradle.kts", "settings.gradle",
		       "settings.gradle.kts", NULL },
	[E_RUST] = { "Cargo.toml", NULL },
	[E_RUBY] = { "Gemfile", NULL },
	[E_PHP] = { "composer.json", NULL },
};

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && !strcmp(s + a - b, suf);
}

static void found(struct state *st, enum eco e, const char *prefix)
{
	size_t i;

	for (i = 0; i < st->nprefix[e]; i++)
		if (!strcmp(st->prefix[e][i], prefix))
			return;
	if (st->nprefix[e] < NPREFIX)
		st->prefix[e][st->nprefix[e]++] = df_xstrndup(prefix, strlen(prefix));
}

/* Ecosystems by their marker files, at the top of the context and one
 * directory down (a monorepo's services). */
static int eco_visit(struct state *st, const char *path, int isdir, void *arg)
{
	const char *name = base_name(path);
	char prefix[512];
	size_t e, k, plen = (size_t)(name - path);

	(void)arg;
	if (isdir)
		return name[0] == '.' || !strcmp(name, "node_modules") || !strcmp(name, "vendor");
	if (plen >= sizeof(prefix))
		return 1;
	memcpy(prefix, path, plen);
	prefix[plen] = '\0';
	for (e = 0; e < NECO; e++)
		for (k = 0; markers[e][k]; k++)
			if (!strcmp(name, markers[e][k]))
				found(st, (enum eco)e, prefix);
	if (!strncmp(name, "requirements", 12) && ends_with(name, ".txt"))
		found(st, E_PYTHON, prefix);
	if (ends_with(name, ".csproj") || ends_with(name, ".fsproj") ||
	    ends_with(name, ".vbproj") || ends_with(name, ".sln"))
		found(st, E_DOTNET, prefix);
	return 0;
}

static int mentions(const struct state *st, const char *file, const char *const *words)
{
	size_t len, i;
	char *p = df_context_read(st->ctx, file, &len);
	int r = 0;

	for (i = 0; p && words[i] && !r; i++)
		r = df_mem_has(p, len, words[i]);
	free(p);
	return r;
}

static const char *const vcs_versioning[] = { "setuptools_scm", "setuptools-scm",
	"hatch-vcs", "versioningit", "dunamai", "poetry-dynamic-versioning", NULL };

struct existwalk {
	struct df_ignore *g;
	int found;
};

static int exist_visit(struct state *st, const char *path, int isdir, void *arg)
{
	struct existwalk *ew = arg;

	(void)st;
	(void)isdir;
	if (df_ignore_which(ew->g, path) >= 0)
		ew->found = 1;
	return 1;
}

static int pattern_exists(struct state *st, const char *pat)
{
	struct existwalk ew = { NULL, 0 };

	if (!has_glob(pat))
		return df_context_exists(st->ctx, pat);
	ew.g = df_ignore_new(st->igflags);
	if (df_ignore_add(ew.g, pat, strlen(pat), NULL) > 0)
		walk(st, strchr(pat, '/') ? 2 : 1, exist_visit, &ew);
	df_ignore_free(ew.g);
	return ew.found;
}

/* ---------------------------------------------------------------- the ignore file */

static const char *eol_of(const char *p, size_t n, int windows)
{
	const char *nl = p ? memchr(p, '\n', n) : NULL;

	if (!nl)
		return windows ? "\r\n" : "\n";
	return nl > p && nl[-1] == '\r' ? "\r\n" : "\n";
}

static int is_windows(const struct state *st)
{
	static const char *const marks[] = { "servercore", "nanoserver", "/windows",
		"windows/", "dotnet/framework", NULL };
	size_t i, k;

	if (st->doc->escape == '`')
		return 1;
	for (i = 0; i < st->doc->nnodes; i++) {
		const struct df_inst *in = st->doc->nodes[i].inst;

		if (st->doc->nodes[i].kind != DF_INSTRUCTION || !in || in->cmd != DF_CMD_FROM ||
		    !in->nargs)
			continue;
		for (k = 0; marks[k]; k++) {
			size_t m = strlen(marks[k]), j;

			for (j = 0; j + m <= in->args[0].len; j++)
				if (df_mem_ieq(in->args[0].ptr + j, marks[k], m))
					return 1;
		}
	}
	return 0;
}

/* Where the ignore file is, as shown and written (malloc'ed). *perdf is
 * set for a per-Dockerfile file; *seed says to start it from the
 * context's .dockerignore. */
static char *ignore_path(const struct state *st, int *perdf)
{
	const struct df_ctx *ctx = st->ctx;
	const char *name = ctx->dockerfile_name, *dir = ctx->context_dir;
	struct df_buf b = DF_BUF_INIT;
	struct stat sb;

	*perdf = 0;
	if (!name && ctx->path && strcmp(ctx->path, "-"))
		name = base_name(ctx->path);
	if (name && ctx->path && strcmp(ctx->path, "-")) {
		const char *dp = ctx->path;

		while (dp[0] == '.' && dp[1] == '/')
			for (dp += 2; *dp == '/'; dp++)
				;
		df_buf_addf(&b, "%s.dockerignore", dp);
		if (stat(b.ptr, &sb) == 0) {
			*perdf = 1;
			return df_buf_detach(&b, NULL);
		}
		if (strcmp(name, "Dockerfile")) {
			/* the convention is used here: another <name>.dockerignore */
			size_t dl = (size_t)(base_name(ctx->path) - ctx->path);
			char *d = dl ? df_xstrndup(ctx->path, dl) : df_xstrndup(".", 1);
			DIR *dd = opendir(d);
			struct dirent *de;

			while (dd && (de = readdir(dd)))
				if (ends_with(de->d_name, ".dockerignore"))
					*perdf = 1;
			if (dd)
				closedir(dd);
			free(d);
			if (*perdf)
				return df_buf_detach(&b, NULL);
		}
	}
	df_buf_reset(&b);
	while (dir[0] == '.' && dir[1] == '/')
		for (dir += 2; *dir == '/'; dir++)
			;
	if (!strcmp(dir, ".") || !*dir)
		df_buf_adds(&b, ".dockerignore");
	else
		df_buf_addf(&b, "%s%s.dockerignore", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
	return df_buf_detach(&b, NULL);
}

/* Is `pat` (or its root or "**" form) already decided by the user? */
static int user_has(const struct df_ignore *ig, const char *pat)
{
	char alt[256];

	if (df_ignore_has_pattern(ig, pat))
		return 1;
	snprintf(alt, sizeof(alt), "!%s", pat);
	if (df_ignore_has_pattern(ig, alt))
		return 1;
	if (!strncmp(pat, "**/", 3))
		return user_has(ig, pat + 3);
	return 0;
}

static int cand_applies(struct state *st, const struct cand *c, const char *prefix,
			const char *pat)
{
	if ((c->flags & C_LINUX) && st->windows)
		return 0;
	if ((c->flags & C_WINDOWS) && !st->windows)
		return 0;
	if ((c->flags & C_EXISTS) && !pattern_exists(st, pat))
		return 0;
	if (c->flags & C_COMPOSER)
		return st->composer;
	if (c->flags & C_NEXT) {
		struct df_buf b = DF_BUF_INIT;
		int r;

		df_buf_addf(&b, "%spackage.json", prefix);
		r = mentions(st, b.ptr, (const char *const[]){ "\"next\"", NULL });
		df_buf_release(&b);
		return r;
	}
	if (c->flags & C_GOVENDOR) {
		struct df_buf b = DF_BUF_INIT;
		int implicit;

		/* Go >= 1.14 builds from vendor/ when vendor/modules.txt is there */
		df_buf_addf(&b, "%svendor/modules.txt", prefix);
		implicit = df_context_exists(st->ctx, b.ptr) && !st->go_network;
		df_buf_release(&b);
		if (st->go_vendor || implicit) {
			df_ctx_finding(st->ctx, NULL, 1, "kept %s in the build context: the Go build "
				       "uses it (%s)", pat, st->go_vendor ? "-mod=vendor" :
				       "vendor/modules.txt, no go mod download");
			return 0;
		}
	}
	return 1;
}

/* Text of a use for messages: "COPY at line 4 uses README.md". */
static void describe(struct df_buf *b, const struct use *u)
{
	if (u->file)
		df_buf_addf(b, "%s: ", u->file);
	if (u->kind == U_KEEP)
		df_buf_addf(b, "`!%s` (line %u) keeps it", u->src, u->line);
	else if (u->kind == U_SAMPLE || u->kind == U_MATCH)
		df_buf_addf(b, "%s at line %u copies %s", u->what, u->line, u->src);
	else
		df_buf_addf(b, "%s at line %u uses %s", u->what, u->line, u->path);
}

/* Drop this pass's findings of an earlier round: the last run speaks. */
static void forget_findings(struct df_ctx *ctx)
{
	if (ctx->current)
		df_ctx_forget_pass(ctx, ctx->current->id);
}

/* Take back what an earlier round recorded for `path`. */
static void forget_extra(struct df_ctx *ctx, const char *path)
{
	size_t i;

	for (i = 0; i < ctx->nextras; i++)
		if (!strcmp(ctx->extras[i].path, path)) {
			free(ctx->extras[i].path);
			free(ctx->extras[i].old);
			free(ctx->extras[i].text);
			ctx->extras[i] = ctx->extras[--ctx->nextras];
			return;
		}
}

static int blank_line(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Does the text (ending in a newline) end with a blank line / with a
 * paragraph that dfix's header opens? */
static int ends_blank(const char *p, size_t n)
{
	size_t s = n - 1;

	while (s > 0 && p[s - 1] != '\n')
		s--;
	return blank_line(p + s, n - 1 - s);
}

static int last_block_ours(const char *p, size_t n)
{
	size_t i = 0, head = 0, hl = strlen(HEADER);

	while (i < n) {
		size_t e = i;

		while (e < n && p[e] != '\n')
			e++;
		if (blank_line(p + i, e - i))
			head = e + 1;
		i = e + 1;
	}
	return head + hl < n && !memcmp(p + head, HEADER, hl) &&
	       (p[head + hl] == '\n' || p[head + hl] == '\r');
}

/* The patterns of the file as it would be: its text, then `add`, then
 * `extra` (NULL for none). NULL if the text does not parse. */
static struct df_ignore *build(const struct state *st, const char *text, size_t len,
			       char **add, size_t nadd, const char *extra)
{
	struct df_ignore *ig = df_ignore_new(st->igflags);
	struct df_buf b = DF_BUF_INIT;
	size_t i;

	df_buf_add(&b, text ? text : "", text ? len : 0);
	df_buf_adds(&b, "\n");
	for (i = 0; i < nadd; i++)
		df_buf_addf(&b, "%s\n", add[i]);
	if (extra)
		df_buf_addf(&b, "%s\n", extra);
	if (df_ignore_load(ig, b.ptr, b.len, NULL) != 0) {
		df_ignore_free(ig);
		ig = NULL;
	}
	df_buf_release(&b);
	return ig;
}

/* Line `no` (1-based) of the text as written, without its line ending
 * and surrounding blanks. Malloc'ed. */
static char *line_text(const char *p, size_t n, unsigned no)
{
	size_t i = 0, e;

	while (--no && i < n) {
		while (i < n && p[i] != '\n')
			i++;
		i++;
	}
	if (i > n)
		i = n;
	for (e = i; e < n && p[e] != '\n'; e++)
		;
	while (e > i && (p[e - 1] == '\r' || p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	while (i < e && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return df_xstrndup(p + i, e - i);
}

/* Is an earlier use of the same path already reported? */
static int reported(const struct state *st, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (st->uses[i].kind != U_SAMPLE && st->uses[i].kind != U_KEEP &&
		    !strcmp(st->uses[i].path, st->uses[k].path))
			return 1;
	return 0;
}

static void push(char ***v, size_t *n, char *s)
{
	*v = df_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* User patterns that hide what the build uses: report each, and keep a
 * path the Dockerfile names (and that exists) with a `!path` exception. */
static void check_user(struct state *st, const char *path, const char *base, size_t baselen,
		       struct df_ignore **cur, char ***add, size_t *nadd)
{
	size_t i;

	for (i = 0; i < st->nuses; i++) {
		const struct use *u = &st->uses[i];
		int w = df_ignore_which(*cur, u->path), kept = 0;
		struct df_buf exc = DF_BUF_INIT;
		unsigned uline;
		char *upat;

		if (u->kind == U_SAMPLE || u->kind == U_KEEP || w < 0 ||
		    df_ignore_is_exception(*cur, (size_t)w) || reported(st, i))
			continue;
		uline = df_ignore_line(*cur, (size_t)w);
		upat = line_text(base, baselen, uline);
		df_buf_addf(&exc, "!%s", u->path);
		if ((u->kind == U_NAMED || u->kind == U_RUN) && df_context_exists(st->ctx, u->path)) {
			struct df_ignore *t = build(st, base, baselen, *add, *nadd, exc.ptr);

			if (t && !df_ignore_excluded(t, u->path)) {
				kept = 1;
				push(add, nadd, df_xstrndup(exc.ptr, exc.len));
				df_ignore_free(*cur);
				*cur = t;
			} else {
				df_ignore_free(t);
			}
		}
		df_ctx_finding(st->ctx, "CopyIgnoredFile", u->file ? 1 : u->line,
			       "%s line %u `%s` excludes %s, which %s%s%s at line %u uses%s%s%s",
			       path, uline, upat, u->path, u->file ? u->file : "",
			       u->file ? ": " : "", u->what, u->line, kept ? ": added `" : "",
			       kept ? exc.ptr : "", kept ? "`" : "");
		free(upat);
		df_buf_release(&exc);
	}
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct state st;
	struct df_ignore *cur = NULL;
	struct df_buf text = DF_BUF_INIT, added = DF_BUF_INIT, b = DF_BUF_INIT;
	char *path, *old = NULL, *seed = NULL, *err = NULL, **add = NULL;
	const char *base, *rerr = NULL;
	size_t oldlen = 0, seedlen = 0, baselen, nadd = 0, nexc, i, e, p;
	int perdf;

	forget_findings(ctx);
	if (!ctx->context_dir) {
		df_ctx_finding(ctx, NULL, 1, "no build context (standard input without "
			       "--context): .dockerignore not checked");
		return 0;
	}
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.doc = doc;
	st.windows = is_windows(&st);
	st.igflags = st.windows ? DF_IGNORE_WINDOWS : 0;
	path = ignore_path(&st, &perdf);
	if (perdf) {
		old = df_read_file(path, &oldlen, &rerr);
		if (!old)
			seed = df_context_read(ctx, ".dockerignore", &seedlen);
	} else {
		old = df_context_read(ctx, ".dockerignore", &oldlen);
	}
	base = old ? old : seed;
	baselen = old ? oldlen : seedlen;
	cur = df_ignore_new(st.igflags);
	if (base && df_ignore_load(cur, base, baselen, &err) != 0) {
		df_ctx_finding(ctx, NULL, 1, "%s: %s: not merged (docker build rejects it too)",
			       old ? path : ".dockerignore", err);
		forget_extra(ctx, path);
		goto out;
	}
	collect(&st);
	if (!perdf)
		siblings(&st);
	for (i = 0; i < df_ignore_count(cur); i++)
		if (df_ignore_is_exception(cur, i)) {
			char *smp = sample_of(df_ignore_pattern(cur, i));

			add_use(&st, U_KEEP, smp, df_ignore_pattern(cur, i), ".dockerignore",
				df_ignore_line(cur, i));
			free(smp);
		}
	/* setuptools-scm and friends read the version from .git */
	if (st.whole && (mentions(&st, "pyproject.toml", vcs_versioning) ||
			 mentions(&st, "setup.cfg", vcs_versioning) ||
			 mentions(&st, "setup.py", vcs_versioning)))
		add_use(&st, U_RUN, ".git", ".git", "the Python build (version from git) after COPY",
			st.whole_line);
	check_user(&st, path, base, baselen, &cur, &add, &nadd);
	nexc = nadd;

	/* The standard entries, for every ecosystem found. */
	found(&st, E_COMMON, "");
	walk(&st, 2, eco_visit, NULL);
	for (e = 0; e < NCANDS; e++) {
		const struct cand *c = &cands[e];

		for (p = 0; p < st.nprefix[c->eco]; p++) {
			const char *pre = strncmp(c->pat, "**/", 3) ? st.prefix[c->eco][p] : "";
			const struct use *hit = NULL;
			struct df_ignore *test;
			char *smp, *pat;

			df_buf_reset(&b);
			df_buf_addf(&b, "%s%s", pre, c->pat);
			pat = df_xstrndup(b.ptr, b.len);
			smp = sample_of(pat);
			for (i = 0; i < nadd && strcmp(add[i], pat); i++)
				;
			/* already there, decided by the user, or covered */
			if (i < nadd || user_has(cur, pat) || df_ignore_excluded(cur, smp) ||
			    !cand_applies(&st, c, pre, pat)) {
				free(smp);
				free(pat);
				continue;
			}
			free(smp);
			/* would it hide something the build uses? */
			test = build(&st, base, baselen, add, nadd, pat);
			for (i = 0; test && i < st.nuses && !hit; i++)
				if (df_ignore_excluded(test, st.uses[i].path) &&
				    !df_ignore_excluded(cur, st.uses[i].path))
					hit = &st.uses[i];
			if (!test || hit) {
				df_ignore_free(test);
				if (hit) {
					df_buf_reset(&b);
					describe(&b, hit);
					df_ctx_finding(ctx, NULL,
						       hit->kind == U_KEEP || hit->file ? 1 : hit->line,
						       "did not add `%s` to %s: %s", pat, path, b.ptr);
				}
				free(pat);
				continue;
			}
			df_ignore_free(cur);
			cur = test;
			push(&add, &nadd, pat);
			df_buf_addf(&added, "%s%s", added.len ? ", " : "", pat);
		}
	}
	if (!nadd) {
		if (old)
			df_ctx_extra(ctx, path, old, oldlen, old, oldlen); /* unchanged */
		else
			forget_extra(ctx, path);
		goto out;
	}

	/* The new text: the file as it is, then one block of additions. */
	{
		const char *eol = eol_of(base, baselen, st.windows);

		df_buf_add(&text, base ? base : "", base ? baselen : 0);
		if (text.len && text.ptr[text.len - 1] != '\n')
			df_buf_adds(&text, eol);
		if (!text.len || !last_block_ours(text.ptr, text.len)) {
			if (text.len && !ends_blank(text.ptr, text.len))
				df_buf_adds(&text, eol);
			df_buf_addf(&text, "%s%s", HEADER, eol);
		}
		for (i = 0; i < nadd; i++)
			df_buf_addf(&text, "%s%s", add[i], eol);
	}
	if (nadd > nexc)
		df_ctx_finding(ctx, NULL, 1, "%s %zu entr%s to %s%s: %s", old ? "added" : "wrote",
			       nadd - nexc, nadd - nexc == 1 ? "y" : "ies", path,
			       seed ? " (after a copy of the context's .dockerignore, which BuildKit "
			       "does not read once this file exists)" : "", added.ptr);
	df_ctx_extra(ctx, path, old, oldlen, text.ptr, text.len);
out:
	df_arena_release(&st.scratch);
	for (i = 0; i < st.nuses; i++) {
		free(st.uses[i].path);
		free(st.uses[i].src);
		free(st.uses[i].file);
	}
	free(st.uses);
	free(st.uhash);
	for (i = 0; i < st.nglobs; i++)
		free(st.globs[i]);
	free(st.globs);
	for (e = 0; e < NECO; e++)
		for (p = 0; p < st.nprefix[e]; p++)
			free(st.prefix[e][p]);
	for (i = 0; i < nadd; i++)
		free(add[i]);
	free(add);
	df_ignore_free(cur);
	df_buf_release(&text);
	df_buf_release(&added);
	df_buf_release(&b);
	free(path);
	free(old);
	free(seed);
	free(err);
	return 0;
}

const struct df_pass df_pass_dockerignore = {
	.id = "dockerignore",
	.level = DF_LEVEL_REVIEW,
	.codes = "CopyIgnoredFile",
	.summary = "write or merge the build context's .dockerignore; never hide a copied file",
	.doc =
	"Keeps junk out of the build context: .git, .env, logs, Dockerfiles, compose\n"
	"files, editor and OS folders, plus each ecosystem found in the context\n"
	"(node_modules, __pycache__, .venv, target/, build/, .bundle, vendor/ when the\n"
	"build does not use it, bin/ and obj/ for .NET ...).\n"
	"\n"
	"The file is the context's .dockerignore, or <Dockerfile>.dockerignore beside\n"
	"the Dockerfile when that one exists or the directory uses that convention.\n"
	"An existing file is merged: its lines stay as they are, in order; missing\n"
	"entries go at the end under '# added by dfix', in the file's line endings.\n"
	"\n"
	"Nothing the build uses is hidden: every COPY/ADD source (globs through the\n"
	"files they match), RUN --mount bind sources, and, once the context was\n"
	"copied in, what a RUN obviously reads (paths it names, tests/ when it runs\n"
	"the tests, .git when it runs git). An entry that would exclude one is not\n"
	"added; a user pattern that does is reported (CopyIgnoredFile) and gets a\n"
	"'!path' exception when the Dockerfile names the path. Other Dockerfiles\n"
	"beside this one that read the same file count too.\n"
	"\n"
	"Windows images (servercore, nanoserver, escape=`) get Windows entries (.vs,\n"
	"Thumbs.db, desktop.ini) and a new file gets CRLF line endings.\n"
	"\n"
	"The Dockerfile itself is not changed; -d shows the ignore file's diff and -w\n"
	"writes it. Standard input without --context has no context: nothing is done.\n",
	.run = run,
	.extras_only = 1,
};
