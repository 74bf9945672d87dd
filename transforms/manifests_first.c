/* manifests_first.c - copy the dependency manifests before the whole context.
 *
 * The article's Strategy 4: a stage that runs `COPY . .` and then installs its
 * dependencies reinstalls them whenever any source file changes. This pass
 * copies only the manifests first, installs, then copies the rest:
 *
 *     COPY . .                      COPY package*.json ./
 *     RUN npm ci            ->      RUN npm ci
 *     RUN npm run build             COPY . .
 *                                   RUN npm run build
 *
 * The install RUNs stay where they are: the full copy moves down past them
 * (with the comments it owns) and the manifest COPY takes its old place, so
 * ENV/ARG/WORKDIR/USER lines between them still come before the install. The
 * copy only moves past instructions that neither read the sources nor change
 * what the copy means (a WORKDIR when its destination is relative, an ENV or
 * ARG when it names a variable); a RUN that does more than install (npm ci &&
 * npm run build) is split after the install. Go and Maven builds get a
 * download step of their own (go mod download, mvn dependency:go-offline).
 * Whatever the pass cannot prove safe from the build context (install
 * scripts, local path dependencies, a node_modules the full copy would
 * overwrite, no context at all) it leaves alone, and says why.
 */
#include <stdarg.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"
#include "ignore.h"
#include "shell.h"

enum eco { NPM, YARN, PNPM, PIP, POETRY, PIPENV, GOMOD, BUNDLER, COMPOSER, MAVEN };

enum kind { K_NEUTRAL, K_INSTALL, K_OTHER };

/* One COPY of manifests: sources (space-separated, context-relative) into
 * the full copy's destination + sub. */
struct mline {
	const char *srcs;
	const char *sub;
};

/* A text edit inside a RUN: insert `text` at node offset `off`. */
struct wedit {
	size_t off;
	const char *text;
};

#define MAX_LINES 4
#define MAX_EDITS 4
#define MAX_INSTALLS 32

struct install {
	size_t node;             /* the RUN */
	enum eco eco;
	const char *what;        /* "npm ci", for the finding */
	struct mline lines[MAX_LINES];
	size_t nlines;
	struct wedit edits[MAX_EDITS];
	size_t nedits;
	const char *after;       /* command to RUN after the full copy, or NULL */
	const char *download;    /* command this pass adds before it (go, maven) */
	const char *extra;       /* more words for the finding, or "" */
};

struct st {
	struct df_ctx *ctx;
	struct df_doc *doc;
	struct df_arena tmp;     /* everything this run allocates */
	struct df_ignore *ig;    /* the context's .dockerignore, or NULL */
	int nopaque;
	int nnotes;
	/* the full copy being looked at */
	const char *dest_dir;    /* where it copies to (see dir_join) */
	struct install in[MAX_INSTALLS];
	size_t nin;
	int full;                /* more installs than MAX_INSTALLS: give up */
	/* a go/maven build that would use a download step (first RUN the copy
	 * cannot move past) */
	int trig;                /* 0, GOMOD or MAVEN (+1 so that 0 means none) */
	size_t trig_node;
	const char *trig_cwd;
	int trig_wrapper;        /* ./mvnw */
	const char *trig_what;
};

/* ---------------------------------------------------------------- notes */

/* A finding that explains why nothing changed: once per message (the
 * driver runs the pass again each round), and at most MAX_NOTES a run. */
#define MAX_NOTES 64

static void note(struct st *s, uint32_t line, const char *fmt, ...) DF_PRINTF(3, 4);

static void note(struct st *s, uint32_t line, const char *fmt, ...)
{
	struct df_ctx *ctx = s->ctx;
	char msg[512];
	va_list ap;
	size_t i;

	if (s->nnotes == MAX_NOTES)
		return;
	s->nnotes++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < ctx->nfindings; i++)
		if (ctx->current && ctx->findings[i].pass == ctx->current->id &&
		    strcmp(ctx->findings[i].msg, msg) == 0)
			return;
	df_ctx_finding(ctx, NULL, line, "%s", msg);
}

/* ---------------------------------------------------------------- directories */

/*
 * Directories are tracked as strings: "/a/b" ("" is the root), or "?N" and
 * "?N/a/b" below a directory the pass cannot know (the base image's WORKDIR,
 * a variable). Two equal strings name the same directory.
 */
static const char *fresh_dir(struct st *s)
{
	return df_arena_printf(&s->tmp, "?%d", ++s->nopaque);
}

static const char *dir_join(struct st *s, const char *cur, const char *p)
{
	struct df_buf b = DF_BUF_INIT;
	size_t base, i = 0;
	const char *r;

	if (!p || !*p || strpbrk(p, "$\\\"'`"))
		return fresh_dir(s);
	if (*p == '/') {
		base = 0;
	} else {
		df_buf_adds(&b, cur);
		base = strcspn(cur, "/");
	}
	while (p[i]) {
		size_t n = strcspn(p + i, "/");

		if (n == 0 || (n == 1 && p[i] == '.')) {
			/* nothing */
		} else if (n == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (b.len > base) {
				while (b.len > base && b.ptr[b.len - 1] != '/')
					b.len--;
				b.len--;
				b.ptr[b.len] = 0;
			} else if (base) { /* above an unknown directory */
				df_buf_release(&b);
				return fresh_dir(s);
			}
		} else {
			df_buf_addc(&b, '/');
			df_buf_add(&b, p + i, n);
		}
		i += n;
		if (p[i] == '/')
			i++;
	}
	r = df_arena_dup(&s->tmp, b.ptr ? b.ptr : "", b.len);
	df_buf_release(&b);
	return r;
}

/* Path of `dir` relative to `top` ("" when equal), or NULL when not below. */
static const char *dir_below(const char *dir, const char *top)
{
	size_t n = strlen(top);

	if (strncmp(dir, top, n) != 0)
		return NULL;
	if (dir[n] == 0)
		return dir + n;
	if (dir[n] == '/')
		return dir + n + 1;
	return NULL;
}

static const char *cpath(struct st *s, const char *sub, const char *name)
{
	return *sub ? df_arena_printf(&s->tmp, "%s/%s", sub, name) : name;
}

/* ---------------------------------------------------------------- build context */

static void load_ignore(struct st *s)
{
	struct df_ctx *ctx = s->ctx;
	char *text = NULL;
	const char *use = NULL;
	size_t len = 0, i;

	for (i = 0; i < ctx->nextras; i++) { /* a .dockerignore another pass writes */
		const char *p = ctx->extras[i].path, *b = strrchr(p, '/');

		b = b ? b + 1 : p;
		if (strcmp(b, ".dockerignore") == 0 ||
		    (ctx->dockerfile_name && strncmp(b, ctx->dockerfile_name,
						     strlen(ctx->dockerfile_name)) == 0 &&
		     strcmp(b + strlen(ctx->dockerfile_name), ".dockerignore") == 0)) {
			use = ctx->extras[i].text;
			len = ctx->extras[i].len;
		}
	}
	if (!use && ctx->path && strcmp(ctx->path, "-") != 0) {
		char *p = df_arena_printf(&s->tmp, "%s.dockerignore", ctx->path);
		const char *err;

		use = text = df_read_file(p, &len, &err);
	}
	if (!use)
		use = text = df_context_read(ctx, ".dockerignore", &len);
	if (use)
		s->ig = df_ignore_parse(use, len, NULL);
	free(text);
}

/* Is `rel` in the build context (and not left out by .dockerignore)? */
static int ctx_has(struct st *s, const char *rel)
{
	if (!df_context_exists(s->ctx, rel))
		return 0;
	return !s->ig || !df_ignore_excluded(s->ig, rel);
}

/* The text of a context file, NUL-terminated, in the scratch arena. */
static const char *ctx_text(struct st *s, const char *rel, size_t *len)
{
	size_t n = 0;
	char *p, *r;

	if (!ctx_has(s, rel))
		return NULL;
	p = df_context_read(s->ctx, rel, &n);
	if (!p)
		return NULL;
	r = df_arena_dup(&s->tmp, p, n);
	free(p);
	if (len)
		*len = n;
	return r;
}

/* `key` assigned in a TOML-ish text: `key =` after a non-name byte. */
static int has_key(const char *text, const char *key)
{
	size_t n = strlen(key);
	const char *p = text;

	while ((p = strstr(p, key)) != NULL) {
		const char *q = p + n;
		int before = p == text ? ' ' : (unsigned char)p[-1];

		p = q;
		if ((before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
		    (before >= '0' && before <= '9') || before == '_' || before == '-' ||
		    before == '.')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=' && q[1] != '=')
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- words of a command */

struct argv {
	size_t n;
	const char **v;                 /* unquoted, or NULL when not static */
	const struct df_sh_word **w;
};

static int is_opt(const char *a)
{
	return a && a[0] == '-';
}

static int eq(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static int starts(const char *a, const char *p)
{
	return a && strncmp(a, p, strlen(p)) == 0;
}

static int ends(const char *a, const char *p)
{
	size_t n, m;

	if (!a)
		return 0;
	n = strlen(a);
	m = strlen(p);
	return n >= m && strcmp(a + n - m, p) == 0;
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');

	return b ? b + 1 : p;
}

/* A word that names a local file or directory rather than a package. */
static int pathish(const char *a)
{
	if (!a)
		return 1;
	if (strstr(a, "://"))
		return 0;
	return a[0] == '.' || a[0] == '/' || a[0] == '~' || strchr(a, '/') ||
	       starts(a, "file:") || ends(a, ".whl") || ends(a, ".tar.gz") ||
	       ends(a, ".zip") || ends(a, ".deb") || ends(a, ".rpm") || ends(a, ".apk") ||
	       ends(a, ".gem") || ends(a, ".tgz");
}

/* ---------------------------------------------------------------- ecosystems */

struct cmdctx {
	struct st *s;
	const char *base;           /* script text */
	const struct df_sh_cmd *cmd;
	struct argv a;              /* arguments after the command name */
	const char *name;           /* base name of the command */
	const char *cwd;            /* directory the command runs in */
	const char *sub;            /* cwd relative to the copy's destination, or NULL */
	uint32_t line;              /* of the RUN, for notes */
	size_t node;
	const struct df_inst *inst;
	int state;                  /* changes the shell's state: cd, export, set, ... */
};

static struct install *new_install(struct cmdctx *c, enum eco eco, const char *what)
{
	struct st *s = c->s;
	struct install *in;

	if (s->nin == MAX_INSTALLS) {
		s->full = 1;
		return NULL;
	}
	in = &s->in[s->nin++];
	memset(in, 0, sizeof(*in));
	in->node = c->node;
	in->eco = eco;
	in->what = what;
	in->extra = "";
	return in;
}

static void add_line(struct install *in, const char *srcs, const char *sub)
{
	if (in->nlines < MAX_LINES) {
		in->lines[in->nlines].srcs = srcs;
		in->lines[in->nlines].sub = sub;
		in->nlines++;
	}
}

/* Node offset just after argument word k. */
static size_t after_word(const struct cmdctx *c, const struct df_sh_word *w)
{
	size_t log = (size_t)(c->inst->rest.ptr - c->inst->logical.ptr) + w->off + w->len;

	return df_inst_node_off(c->inst, log - 1) + 1;
}

static void add_edit(struct install *in, size_t off, const char *text)
{
	if (in->nedits < MAX_EDITS) {
		in->edits[in->nedits].off = off;
		in->edits[in->nedits].text = text;
		in->nedits++;
	}
}

/* Append " name" to a space-separated list when the context has it. */
static const char *with_opt(struct st *s, const char *list, const char *sub, const char *name)
{
	const char *p = cpath(s, sub, name);

	return ctx_has(s, p) ? df_arena_printf(&s->tmp, "%s %s", list, p) : list;
}

/* A node_modules, vendor or .venv the full copy would lay over the install. */
static int clobbers(struct cmdctx *c, const char *dir, const char *what)
{
	const char *p = cpath(c->s, c->sub, dir);

	if (!ctx_has(c->s, p))
		return 0;
	note(c->s, c->line, "left %s after the full copy: the build context has %s, which "
	     "would replace the installed one (add it to .dockerignore)", what, p);
	return 1;
}

/* Primary manifest present? Notes why not. */
static int need_file(struct cmdctx *c, const char *rel, const char *what)
{
	if (ctx_has(c->s, rel))
		return 1;
	note(c->s, c->line, "left %s after the full copy: the build context has no %s",
	     what, rel);
	return 0;
}

static int no_context(struct cmdctx *c, const char *what)
{
	if (c->s->ctx->context_dir)
		return 0;
	note(c->s, c->line, "left %s after the full copy: without a build context dfix cannot "
	     "tell which manifests it needs (use --context)", what);
	return 1;
}

/* package.json checks shared by npm, yarn and pnpm. */
static int node_ok(struct cmdctx *c, const char *what, int ignore_scripts, enum eco eco)
{
	static const char *const hooks[] = {
		"preinstall", "install", "postinstall", "prepare", "preprepare",
		"postprepare", "prepublish", NULL
	};
	static const char *const deps[] = {
		"dependencies", "devDependencies", "optionalDependencies",
		"peerDependencies", NULL
	};
	struct st *s = c->s;
	const char *pj = cpath(s, c->sub, "package.json"), *text;
	json_t *root, *o, *v;
	const char *key;
	size_t len, i;
	int ok = 1;

	if (!need_file(c, pj, what))
		return 0;
	text = ctx_text(s, pj, &len);
	root = text ? json_loadb(text, len, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		note(s, c->line, "left %s after the full copy: %s does not parse", what, pj);
		json_decref(root);
		return 0;
	}
	o = json_object_get(root, "scripts");
	for (i = 0; ok && !ignore_scripts && hooks[i]; i++)
		if (json_is_object(o) && json_object_get(o, hooks[i])) {
			note(s, c->line, "left %s after the full copy: the %s script in %s may "
			     "need the sources", what, hooks[i], pj);
			ok = 0;
		}
	if (ok && json_object_get(root, "workspaces")) {
		note(s, c->line, "left %s after the full copy: %s declares workspaces", what, pj);
		ok = 0;
	}
	for (i = 0; ok && deps[i]; i++) {
		o = json_object_get(root, deps[i]);
		if (!json_is_object(o))
			continue;
		json_object_foreach(o, key, v) {
			const char *val = json_string_value(v);

			if (val && (starts(val, "file:") || starts(val, "link:") ||
				    starts(val, "portal:") || starts(val, "workspace:") ||
				    starts(val, ".") || starts(val, "/") || starts(val, "~"))) {
				note(s, c->line, "left %s after the full copy: %s depends on the "
				     "local path %s", what, pj, val);
				ok = 0;
				break;
			}
		}
	}
	if (ok && eco == PNPM && (json_object_get(json_object_get(root, "pnpm"),
						   "patchedDependencies") ||
				  ctx_has(s, cpath(s, c->sub, "pnpm-workspace.yaml")) ||
				  ctx_has(s, cpath(s, c->sub, "patches")))) {
		note(s, c->line, "left %s after the full copy: pnpm workspaces or patches need "
		     "more than the manifests", what);
		ok = 0;
	}
	json_decref(root);
	if (ok && !ignore_scripts && ctx_has(s, cpath(s, c->sub, "binding.gyp"))) {
		note(s, c->line, "left %s after the full copy: binding.gyp makes the install "
		     "build native code from the sources", what);
		ok = 0;
	}
	if (ok && eco == YARN && ctx_has(s, cpath(s, c->sub, ".yarnrc.yml"))) {
		note(s, c->line, "left %s after the full copy: Yarn 2+ (.yarnrc.yml) needs "
		     ".yarn/ as well", what);
		ok = 0;
	}
	return ok && !clobbers(c, "node_modules", what);
}

/* npm, yarn, pnpm. */
static enum kind js_cmd(struct cmdctx *c, enum eco eco)
{
	struct st *s = c->s;
	struct argv *a = &c->a;
	const char *sub = NULL, *what, *srcs;
	size_t i = 0, npos = 0;
	int global = 0, ign = 0;
	struct install *in;

	while (i < a->n && is_opt(a->v[i]))
		i++;
	if (i < a->n) {
		sub = a->v[i++];
	} else if (eco == YARN) {
		sub = ""; /* bare `yarn [--frozen-lockfile]` installs */
		i = 0;
	} else {
		return K_OTHER;
	}
	if (!sub)
		return K_OTHER;
	if (eq(sub, "cache") || eq(sub, "config") || (eco == NPM && eq(sub, "set")) ||
	    (eco == PNPM && eq(sub, "store"))) {
		for (; i < a->n; i++)
			if (eq(a->v[i], "--location=project") || eq(a->v[i], "--local"))
				return K_OTHER;
		return K_NEUTRAL;
	}
	if (eco == YARN && eq(sub, "global"))
		return K_NEUTRAL;
	if (!(eq(sub, "install") || eq(sub, "i") || eq(sub, "") || (eco == NPM && (eq(sub, "ci") ||
								    eq(sub, "add") ||
								    eq(sub, "isntall")))))
		return K_OTHER;
	for (; i < a->n; i++) {
		const char *v = a->v[i];

		if (!v)
			return K_OTHER;
		if (eq(v, "-g") || eq(v, "--global") || eq(v, "--location=global"))
			global = 1;
		else if (eq(v, "--ignore-scripts"))
			ign = 1;
		else if (starts(v, "--prefix") || eq(v, "-C") || starts(v, "--dir") ||
			 starts(v, "--cwd") || starts(v, "--workspace") || eq(v, "-w") ||
			 eq(v, "-ws") || eq(v, "--filter") || eq(v, "-r") || eq(v, "--recursive") ||
			 starts(v, "--modules-folder"))
			return K_OTHER;
		else if (eq(v, "--omit") || eq(v, "--include") || eq(v, "--only") ||
			 eq(v, "--registry") || eq(v, "--cache") || eq(v, "--loglevel") ||
			 eq(v, "--network-timeout") || eq(v, "--mutex") || eq(v, "--cache-folder"))
			i++;
		else if (!is_opt(v))
			npos++;
	}
	if (global) /* a named tool: reads no project file (except .npmrc) */
		return npos && !ctx_has(s, cpath(s, c->sub ? c->sub : "", ".npmrc")) ? K_NEUTRAL
										       : K_OTHER;
	if (npos || eq(sub, "add"))
		return K_OTHER; /* `npm install x` edits package.json */
	what = *sub ? df_arena_printf(&s->tmp, "%s %s", c->name, sub) : c->name;
	if (!c->sub)
		return K_OTHER;
	if (!s->ctx->context_dir && eco != NPM) {
		no_context(c, what);
		return K_OTHER;
	}
	if (s->ctx->context_dir && !node_ok(c, what, ign, eco))
		return K_OTHER;
	in = new_install(c, eco, what);
	if (!in)
		return K_OTHER;
	if (eco == NPM) {
		srcs = cpath(s, c->sub, "package*.json");
	} else {
		srcs = cpath(s, c->sub, "package.json");
		srcs = with_opt(s, srcs, c->sub, eco == YARN ? "yarn.lock" : "pnpm-lock.yaml");
		if (eco == YARN)
			srcs = with_opt(s, srcs, c->sub, ".yarnrc");
		else
			srcs = with_opt(s, srcs, c->sub, ".pnpmfile.cjs");
	}
	srcs = with_opt(s, srcs, c->sub, ".npmrc");
	add_line(in, srcs, c->sub);
	if (!s->ctx->context_dir)
		in->extra = " (no build context: check that package.json has no install scripts "
			    "and that .dockerignore excludes node_modules)";
	return K_INSTALL;
}

/* ---- pip */

struct reqs {
	const char *files[32];  /* context-relative */
	size_t n;
	int bad;
};

static void add_req(struct reqs *r, const char *f)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->files[i], f) == 0)
			return;
	if (r->n == 32) {
		r->bad = 1;
		return;
	}
	r->files[r->n++] = f;
}

/* Read a requirements file and the files it includes; bad when a line
 * needs the sources (-e ., a local path, --find-links ./wheels). */
static void scan_reqs(struct cmdctx *c, struct reqs *r, const char *rel, int depth,
		      const char *what)
{
	struct st *s = c->s;
	char *text, *p, *q;
	const char *dir;
	size_t before = r->n;

	add_req(r, rel);
	if (r->bad || r->n == before || depth > 8)
		return;
	text = (char *)ctx_text(s, rel, NULL);
	if (!text) {
		note(s, c->line, "left %s after the full copy: the build context has no %s",
		     what, rel);
		r->bad = 2;
		return;
	}
	/* join continuation lines (pip-compile --generate-hashes writes them) */
	for (p = q = text; *p; p++) {
		if (p[0] == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'))) {
			p += p[1] == '\r' ? 2 : 1;
			*q++ = ' ';
			continue;
		}
		*q++ = *p;
	}
	*q = 0;
	dir = strrchr(rel, '/') ? df_arena_dup(&s->tmp, rel, (size_t)(strrchr(rel, '/') - rel))
				: "";
	for (p = text; *p && !r->bad;) {
		size_t n = strcspn(p, "\n");
		char *l = df_arena_dup(&s->tmp, p, n), *e;
		const char *arg = NULL;

		p += n + (p[n] == '\n');
		if ((e = strstr(l, " #")) != NULL || (e = strstr(l, "\t#")) != NULL)
			*e = 0;
		while (*l == ' ' || *l == '\t')
			l++;
		e = l + strlen(l);
		while (e > l && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = 0;
		if (!*l || *l == '#')
			continue;
		if (starts(l, "-r") || starts(l, "--requirement") || starts(l, "-c") ||
		    starts(l, "--constraint")) {
			arg = l[1] == '-' ? l + strcspn(l, " =\t") : l + 2;
			while (*arg == ' ' || *arg == '\t' || *arg == '=')
				arg++;
			if (!*arg || strpbrk(arg, "$ \t") || *arg == '/' || strstr(arg, "://") ||
			    strstr(arg, "..")) {
				r->bad = 1;
				break;
			}
			scan_reqs(c, r, dir_join(s, *dir ? df_arena_printf(&s->tmp, "/%s", dir) : "",
						 arg) + 1, depth + 1, what);
			continue;
		}
		if (starts(l, "-e") || starts(l, "--editable")) {
			r->bad = 1; /* installed from a directory of the image */
			continue;
		}
		if (starts(l, "-f") || starts(l, "--find-links")) {
			if (!strstr(l, "://"))
				r->bad = 1;
			continue;
		}
		if (*l == '-')
			continue; /* -i, --extra-index-url, --hash, ... */
		if (*l == '.' || *l == '/' || *l == '~' || strstr(l, "file:") ||
		    (strchr(l, '/') && !strstr(l, "://")))
			r->bad = 1;
	}
}

static int req_glob(const char *name)
{
	return starts(name, "requirements") && ends(name, ".txt") && !strchr(name, '/');
}

static enum kind pip_cmd(struct cmdctx *c, size_t i)
{
	static const char *const valopts[] = {
		"-i", "--index-url", "--extra-index-url", "--trusted-host", "--platform",
		"--python-version", "--implementation", "--abi", "--only-binary",
		"--no-binary", "--progress-bar", "--upgrade-strategy", "--cache-dir", "--log",
		"--retries", "--timeout", "--proxy", "--cert", "--client-cert",
		"--exists-action", "--global-option", "--config-settings", "-C", "--report",
		"--use-feature", "--python", NULL
	};
	struct st *s = c->s;
	struct argv *a = &c->a;
	const char *files[16];
	size_t nfiles = 0, k;
	struct reqs r;
	struct install *in;
	const char *what = "pip install";

	while (i < a->n && is_opt(a->v[i]))
		i++;
	if (i < a->n && (eq(a->v[i], "cache") || eq(a->v[i], "config") ||
			 eq(a->v[i], "--version") || eq(a->v[i], "list")))
		return K_NEUTRAL;
	if (i >= a->n || !eq(a->v[i], "install"))
		return K_OTHER;
	for (i++; i < a->n; i++) {
		const char *v = a->v[i], *f = NULL;

		if (!v)
			return K_OTHER;
		if (eq(v, "-r") || eq(v, "--requirement") || eq(v, "-c") || eq(v, "--constraint")) {
			if (i + 1 >= a->n)
				return K_OTHER;
			f = a->v[++i];
		} else if (starts(v, "--requirement=") || starts(v, "--constraint=")) {
			f = strchr(v, '=') + 1;
		} else if ((starts(v, "-r") || starts(v, "-c")) && v[2]) {
			f = v + 2;
		} else if (eq(v, "-e") || starts(v, "--editable") || starts(v, "-e")) {
			return K_OTHER;
		} else if (eq(v, "-f") || eq(v, "--find-links") || eq(v, "-t") || eq(v, "--target") ||
			   eq(v, "--prefix") || eq(v, "--root") || eq(v, "--src")) {
			const char *val = i + 1 < a->n ? a->v[i + 1] : NULL;

			/* a URL, or a directory outside the copy's destination */
			if (!val || (!strstr(val, "://") &&
				     (val[0] != '/' || dir_below(dir_join(s, "", val), s->dest_dir))))
				return K_OTHER;
			i++;
		} else if (starts(v, "--find-links=") || starts(v, "--target=") ||
			   starts(v, "--prefix=") || starts(v, "--root=") || starts(v, "--src=")) {
			return K_OTHER;
		} else if (is_opt(v)) {
			for (k = 0; valopts[k]; k++)
				if (eq(v, valopts[k]))
					i++;
		} else if (pathish(v) || eq(v, ".")) {
			if (c->sub)
				note(s, c->line, "left pip install after the full copy: it installs "
				     "%s from the sources", v);
			return K_OTHER;
		}
		if (f) {
			if (nfiles == 16 || !*f)
				return K_OTHER;
			files[nfiles++] = f;
		}
	}
	if (!nfiles)
		return K_NEUTRAL; /* named packages only */
	if (!c->sub)
		return K_OTHER;
	memset(&r, 0, sizeof(r));
	for (k = 0; k < nfiles; k++) {
		const char *full = dir_join(s, c->cwd, files[k]);
		const char *rel = dir_below(full, s->dest_dir);

		if (!rel || !*rel || strpbrk(rel, "*?[ \t") || strchr(files[k], '$'))
			return K_OTHER;
		if (s->ctx->context_dir)
			scan_reqs(c, &r, rel, 0, what);
		else if (strchr(rel, '/'))
			add_req(&r, df_arena_printf(&s->tmp, "%.*s/",
						    (int)(strrchr(rel, '/') - rel), rel));
		else
			add_req(&r, req_glob(rel) ? "requirements*.txt" : rel);
		if (r.bad) {
			if (r.bad == 1)
				note(s, c->line, "left pip install after the full copy: %s needs "
				     "files other than requirements (an editable or local path)",
				     files[k]);
			return K_OTHER;
		}
	}
	in = new_install(c, PIP, what);
	if (!in)
		return K_OTHER;
	/* one COPY per directory */
	for (k = 0; k < r.n; k++) {
		const char *f = r.files[k], *sl = strrchr(f, '/');
		size_t j, dl = sl ? (size_t)(sl - f) : 0;
		char *srcs, *dir;
		int seen = 0;

		if (!*f)
			continue;
		dir = df_arena_dup(&s->tmp, f, dl);
		for (j = 0; j < k; j++) {
			const char *g = r.files[j], *gs = strrchr(g, '/');

			if ((gs ? (size_t)(gs - g) : 0) == dl && strncmp(g, f, dl) == 0)
				seen = 1;
		}
		if (seen)
			continue;
		if (sl && !sl[1]) { /* a whole directory (no context) */
			add_line(in, dir, dir);
			continue;
		}
		srcs = (char *)f;
		for (j = k + 1; j < r.n; j++) {
			const char *g = r.files[j], *gs = strrchr(g, '/');

			if ((gs ? (size_t)(gs - g) : 0) == dl && strncmp(g, f, dl) == 0 &&
			    !(gs && !gs[1]))
				srcs = df_arena_printf(&s->tmp, "%s %s", srcs, g);
		}
		add_line(in, srcs, dir);
	}
	if (!s->ctx->context_dir)
		in->extra = " (no build context: check that the requirements need no other files)";
	return K_INSTALL;
}

/* ---- poetry, pipenv */

static enum kind poetry_cmd(struct cmdctx *c)
{
	static const char *const valopts[] = {
		"--only", "--with", "--without", "-E", "--extras", NULL
	};
	struct st *s = c->s;
	struct argv *a = &c->a;
	size_t i = 0, k;
	const struct df_sh_word *iw;
	const char *py, *text, *srcs;
	int noroot = 0;
	struct install *in;

	while (i < a->n && is_opt(a->v[i]))
		i++;
	if (i < a->n && (eq(a->v[i], "config") || eq(a->v[i], "self"))) {
		for (; i < a->n; i++)
			if (eq(a->v[i], "--local"))
				return K_OTHER;
		return K_NEUTRAL;
	}
	if (i >= a->n || !eq(a->v[i], "install") || i > 0)
		return K_OTHER;
	iw = a->w[i];
	for (i++; i < a->n; i++) {
		const char *v = a->v[i];

		if (!v || !is_opt(v))
			return K_OTHER;
		if (eq(v, "--no-root"))
			noroot = 1;
		else if (eq(v, "--only-root") || eq(v, "-C") || starts(v, "--directory") ||
			 eq(v, "-P") || starts(v, "--project"))
			return K_OTHER;
		for (k = 0; valopts[k]; k++)
			if (eq(v, valopts[k]))
				i++;
	}
	if (!c->sub || no_context(c, "poetry install"))
		return K_OTHER;
	py = cpath(s, c->sub, "pyproject.toml");
	if (!need_file(c, py, "poetry install"))
		return K_OTHER;
	text = ctx_text(s, py, NULL);
	if (!text)
		return K_OTHER;
	if (!noroot && (strstr(text, "[tool.poetry.scripts]") || strstr(text, "[project.scripts]") ||
			strstr(text, "[project.gui-scripts]") ||
			strstr(text, "[tool.poetry.plugins") || strstr(text, "[project.entry-points"))) {
		note(s, c->line, "left poetry install after the full copy: %s defines scripts, "
		     "so the project itself must be installed (--no-root would drop them)", py);
		return K_OTHER;
	}
	if (has_key(text, "path")) {
		note(s, c->line, "left poetry install after the full copy: %s has a path "
		     "dependency", py);
		return K_OTHER;
	}
	if (clobbers(c, ".venv", "poetry install"))
		return K_OTHER;
	in = new_install(c, POETRY, "poetry install");
	if (!in)
		return K_OTHER;
	srcs = with_opt(s, py, c->sub, "poetry.lock");
	srcs = with_opt(s, srcs, c->sub, "poetry.toml");
	add_line(in, srcs, c->sub);
	if (!noroot) {
		add_edit(in, after_word(c, iw), " --no-root");
		in->extra = " (with --no-root: the project itself is no longer installed into the "
			    "environment, only its dependencies)";
	}
	return K_INSTALL;
}

static enum kind pipenv_cmd(struct cmdctx *c)
{
	struct st *s = c->s;
	struct argv *a = &c->a;
	const char *pf, *text, *what;
	size_t i;
	struct install *in;

	if (a->n == 0 || !(eq(a->v[0], "install") || eq(a->v[0], "sync")))
		return K_OTHER;
	for (i = 1; i < a->n; i++) {
		if (!is_opt(a->v[i]))
			return K_OTHER;
		if (eq(a->v[i], "--python") || eq(a->v[i], "--categories"))
			i++;
	}
	what = eq(a->v[0], "sync") ? "pipenv sync" : "pipenv install";
	if (!c->sub || no_context(c, what))
		return K_OTHER;
	pf = cpath(s, c->sub, "Pipfile");
	if (!need_file(c, pf, what) || !(text = ctx_text(s, pf, NULL)))
		return K_OTHER;
	if (has_key(text, "path")) {
		note(s, c->line, "left %s after the full copy: %s has a path dependency", what, pf);
		return K_OTHER;
	}
	if (clobbers(c, ".venv", what))
		return K_OTHER;
	in = new_install(c, PIPENV, what);
	if (!in)
		return K_OTHER;
	add_line(in, with_opt(s, pf, c->sub, "Pipfile.lock"), c->sub);
	return K_INSTALL;
}

/* ---- go */

static int go_local_replace(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "=>")) != NULL) {
		p += 2;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '.' || *p == '/')
			return 1;
	}
	return 0;
}

/* go.mod usable for a download step at `sub`? */
static int go_ok(struct cmdctx *c, const char *sub, const char *what)
{
	struct st *s = c->s;
	const char *gm = cpath(s, sub, "go.mod"), *text;

	if (no_context(c, what) || !need_file(c, gm, what))
		return 0;
	text = ctx_text(s, gm, NULL);
	if (!text)
		return 0;
	if (go_local_replace(text)) {
		note(s, c->line, "left %s after the full copy: %s replaces a module with a local "
		     "directory", what, gm);
		return 0;
	}
	if (ctx_has(s, cpath(s, sub, "go.work")) || ctx_has(s, "go.work") ||
	    ctx_has(s, cpath(s, sub, "vendor/modules.txt"))) {
		note(s, c->line, "left %s after the full copy: the module uses a workspace or "
		     "vendor directory", what);
		return 0;
	}
	return 1;
}

static enum kind go_cmd(struct cmdctx *c)
{
	struct st *s = c->s;
	struct argv *a = &c->a;
	struct install *in;
	size_t i;

	if (a->n == 0 || !a->v[0])
		return K_OTHER;
	if (eq(a->v[0], "env") || eq(a->v[0], "version"))
		return K_NEUTRAL;
	if (eq(a->v[0], "install")) {
		int named = 0;

		for (i = 1; i < a->n; i++) {
			if (!a->v[i])
				return K_OTHER;
			if (!is_opt(a->v[i])) {
				if (!strchr(a->v[i], '@'))
					return K_OTHER;
				named = 1;
			}
		}
		if (named)
			return K_NEUTRAL; /* go install tool@version ignores the module */
		return K_OTHER;
	}
	if (!(eq(a->v[0], "mod") && a->n >= 2 && (eq(a->v[1], "download") || eq(a->v[1], "verify"))))
		return K_OTHER;
	for (i = 2; i < a->n; i++)
		if (!is_opt(a->v[i]))
			return K_OTHER;
	if (!c->sub || !go_ok(c, c->sub, "go mod download"))
		return K_OTHER;
	in = new_install(c, GOMOD, eq(a->v[1], "verify") ? "go mod verify" : "go mod download");
	if (!in)
		return K_OTHER;
	add_line(in, with_opt(s, cpath(s, c->sub, "go.mod"), c->sub, "go.sum"), c->sub);
	return K_INSTALL;
}

/* ---- bundler, gem */

static enum kind bundle_cmd(struct cmdctx *c)
{
	static const char *const bad[] = {
		"gemspec", "path:", ":path", "eval_gemfile", "File.", "require_relative",
		"__dir__", "file:", NULL
	};
	struct st *s = c->s;
	struct argv *a = &c->a;
	const char *gf, *text, *lock, *srcs;
	size_t i = 0, k;
	struct install *in;

	while (i < a->n && is_opt(a->v[i]))
		i++;
	if (i < a->n && eq(a->v[i], "config"))
		return s->ctx->context_dir && c->sub &&
		       !ctx_has(s, cpath(s, c->sub, ".bundle")) ? K_NEUTRAL : K_OTHER;
	if (i < a->n && !eq(a->v[i], "install"))
		return K_OTHER;
	for (k = i + 1; k < a->n; k++)
		if (!a->v[k] || starts(a->v[k], "--gemfile"))
			return K_OTHER;
	if (!c->sub || no_context(c, "bundle install"))
		return K_OTHER;
	gf = cpath(s, c->sub, "Gemfile");
	if (!need_file(c, gf, "bundle install") || !(text = ctx_text(s, gf, NULL)))
		return K_OTHER;
	for (k = 0; bad[k]; k++)
		if (strstr(text, bad[k])) {
			note(s, c->line, "left bundle install after the full copy: %s uses %s, which "
			     "reads the sources", gf, bad[k]);
			return K_OTHER;
		}
	lock = ctx_text(s, cpath(s, c->sub, "Gemfile.lock"), NULL);
	if (lock && strstr(lock, "\nPATH\n")) {
		note(s, c->line, "left bundle install after the full copy: Gemfile.lock has a "
		     "local PATH source");
		return K_OTHER;
	}
	if (ctx_has(s, cpath(s, c->sub, "vendor/cache"))) {
		note(s, c->line, "left bundle install after the full copy: it installs from "
		     "vendor/cache");
		return K_OTHER;
	}
	if (clobbers(c, "vendor/bundle", "bundle install"))
		return K_OTHER;
	in = new_install(c, BUNDLER, "bundle install");
	if (!in)
		return K_OTHER;
	srcs = with_opt(s, gf, c->sub, "Gemfile.lock");
	add_line(in, srcs, c->sub);
	if (ctx_has(s, cpath(s, c->sub, ".bundle")))
		add_line(in, cpath(s, c->sub, ".bundle"), cpath(s, c->sub, ".bundle"));
	return K_INSTALL;
}

static enum kind gem_cmd(struct cmdctx *c)
{
	struct argv *a = &c->a;
	size_t i;

	if (a->n == 0 || !(eq(a->v[0], "install") || eq(a->v[0], "update") ||
			   eq(a->v[0], "sources") || eq(a->v[0], "cleanup")))
		return K_OTHER;
	for (i = 1; i < a->n; i++)
		if (!a->v[i] || (!is_opt(a->v[i]) && pathish(a->v[i])))
			return K_OTHER;
	return K_NEUTRAL;
}

/* ---- composer */

static enum kind composer_cmd(struct cmdctx *c)
{
	struct st *s = c->s;
	struct argv *a = &c->a;
	const char *cj, *text, *srcs;
	const struct df_sh_word *iw;
	size_t i = 0, len, k;
	int noscripts = 0, noauto = 0, nodev = 0, auth = 0, apcu = 0, post = 0;
	json_t *root, *o, *v;
	struct install *in;
	struct df_buf b = DF_BUF_INIT;

	while (i < a->n && is_opt(a->v[i]))
		i++;
	if (i >= a->n)
		return K_OTHER;
	if (eq(a->v[i], "global") || eq(a->v[i], "self-update") || eq(a->v[i], "selfupdate") ||
	    eq(a->v[i], "clear-cache") || eq(a->v[i], "clearcache") || eq(a->v[i], "cc"))
		return K_NEUTRAL;
	if (eq(a->v[i], "config")) {
		for (k = i; k < a->n; k++)
			if (eq(a->v[k], "-g") || eq(a->v[k], "--global"))
				return K_NEUTRAL;
		return K_OTHER;
	}
	if (!eq(a->v[i], "install"))
		return K_OTHER;
	iw = a->w[i];
	for (i++; i < a->n; i++) {
		const char *w = a->v[i];

		if (!w || !is_opt(w) || eq(w, "-d") || starts(w, "--working-dir"))
			return K_OTHER;
		if (eq(w, "--no-scripts"))
			noscripts = 1;
		else if (eq(w, "--no-autoloader"))
			noauto = 1;
		else if (eq(w, "--no-dev"))
			nodev = 1;
		else if (eq(w, "-a") || eq(w, "--classmap-authoritative"))
			auth = 1;
		else if (eq(w, "--apcu-autoloader"))
			apcu = 1;
	}
	if (!c->sub || no_context(c, "composer install"))
		return K_OTHER;
	cj = cpath(s, c->sub, "composer.json");
	if (!need_file(c, cj, "composer install") || !(text = ctx_text(s, cj, &len)))
		return K_OTHER;
	root = json_loadb(text, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		note(s, c->line, "left composer install after the full copy: %s does not parse", cj);
		return K_OTHER;
	}
	o = json_object_get(root, "repositories");
	if (json_is_array(o) || json_is_object(o)) {
		size_t ix;
		const char *key;

		if (json_is_array(o)) {
			json_array_foreach(o, ix, v)
				if (eq(json_string_value(json_object_get(v, "type")), "path"))
					post = -1;
		} else {
			json_object_foreach(o, key, v)
				if (eq(json_string_value(json_object_get(v, "type")), "path"))
					post = -1;
		}
	}
	o = json_object_get(root, "scripts");
	if (post == 0 && !noscripts && json_is_object(o) && json_object_get(o, "pre-install-cmd"))
		post = -2;
	if (post == 0 && !noscripts && json_is_object(o) && json_object_get(o, "post-install-cmd"))
		post = 1;
	json_decref(root);
	if (post < 0) {
		note(s, c->line, "left composer install after the full copy: %s has %s", cj,
		     post == -1 ? "a path repository" : "a pre-install-cmd script");
		return K_OTHER;
	}
	if (clobbers(c, "vendor", "composer install"))
		return K_OTHER;
	in = new_install(c, COMPOSER, "composer install");
	if (!in)
		return K_OTHER;
	srcs = with_opt(s, cj, c->sub, "composer.lock");
	srcs = with_opt(s, srcs, c->sub, "auth.json");
	add_line(in, srcs, c->sub);
	if (!noscripts)
		add_edit(in, after_word(c, iw), " --no-scripts");
	if (!noauto)
		add_edit(in, after_word(c, iw), " --no-autoloader");
	if (!noauto || post) {
		if (!noauto) {
			df_buf_adds(&b, "composer dump-autoload --optimize");
			if (auth)
				df_buf_adds(&b, " --classmap-authoritative");
			if (apcu)
				df_buf_adds(&b, " --apcu");
			if (nodev)
				df_buf_adds(&b, " --no-dev");
			if (noscripts)
				df_buf_adds(&b, " --no-scripts");
		}
		if (post)
			df_buf_addf(&b, "%scomposer run-script%s post-install-cmd",
				    noauto ? "" : " && ", nodev ? " --no-dev" : "");
		in->after = df_arena_dup(&s->tmp, b.ptr, b.len);
		df_buf_release(&b);
	}
	if (in->after)
		in->extra = df_arena_printf(&s->tmp, " (install runs with%s%s; %s runs after the "
					    "full copy)", noscripts ? "" : " --no-scripts",
					    noauto ? "" : " --no-autoloader", in->after);
	return K_INSTALL;
}

/* ---- go and maven builds (triggers for a download step) */

static int go_trigger(struct cmdctx *c)
{
	struct argv *a = &c->a;
	size_t i;

	if (a->n == 0 || !a->v[0])
		return 0;
	if (!(eq(a->v[0], "build") || eq(a->v[0], "install") || eq(a->v[0], "test") ||
	      eq(a->v[0], "run") || eq(a->v[0], "vet") || eq(a->v[0], "generate") ||
	      eq(a->v[0], "list") || (eq(a->v[0], "mod") && a->n > 1 && eq(a->v[1], "tidy"))))
		return 0;
	for (i = 1; i < a->n; i++)
		if (!a->v[i] || starts(a->v[i], "-mod") || eq(a->v[i], "-C") ||
		    strchr(a->v[i], '@'))
			return 0;
	return 1;
}

static const char *mvn_trigger(struct cmdctx *c)
{
	struct argv *a = &c->a;
	const char *goal = NULL;
	size_t i;

	if (!eq(c->name, "mvn") && !eq(c->name, "mvnw"))
		return NULL;
	for (i = 0; i < a->n; i++) {
		const char *v = a->v[i];

		if (!v)
			return NULL;
		if (eq(v, "-f") || starts(v, "--file") || eq(v, "-s") || starts(v, "--settings") ||
		    eq(v, "-gs") || starts(v, "--global-settings") || eq(v, "-o") ||
		    eq(v, "--offline") || eq(v, "-pl") || starts(v, "--projects"))
			return NULL;
		if (eq(v, "-P") || eq(v, "-T") || eq(v, "-D") || eq(v, "-l"))
			i++;
		else if (eq(v, "package") || eq(v, "install") || eq(v, "verify") || eq(v, "deploy"))
			goal = v;
	}
	return goal;
}

/* ---------------------------------------------------------------- one command */

/* Redirections other than to /dev/... or an fd, outside the destination. */
static int bad_redirs(struct cmdctx *c)
{
	size_t i;

	for (i = 0; i < c->cmd->nwords; i++) {
		const struct df_sh_word *w = &c->cmd->words[i];
		struct df_sh_word t;
		const char *v;

		if (!(w->flags & DF_SH_REDIR))
			continue;
		if (w->flags & DF_SH_HEREDOC)
			return 1;
		df_sh_redir_target(c->base, w, &t);
		v = df_sh_unquote(&c->s->tmp, c->base, &t, NULL);
		if (!v)
			return 1;
		if (starts(v, "/dev/") || (v[0] >= '0' && v[0] <= '9') || eq(v, "-"))
			continue;
		if (v[0] != '/' || dir_below(dir_join(c->s, c->cwd, v), c->s->dest_dir))
			return 1;
	}
	return 0;
}

/* Arguments that are absolute paths outside the destination (after `skip`
 * leading positional arguments: chown's owner, chmod's mode). */
static int abs_outside(struct cmdctx *c, size_t skip)
{
	size_t i;

	for (i = 0; i < c->a.n; i++) {
		const char *v = c->a.v[i];

		if (!v)
			return 0;
		if (is_opt(v))
			continue;
		if (skip) {
			skip--;
			continue;
		}
		if (v[0] != '/' || dir_below(dir_join(c->s, "", v), c->s->dest_dir))
			return 0;
	}
	return 1;
}

/* System package managers: any package names, no local files. */
static int pkgs_ok(struct cmdctx *c)
{
	size_t i;

	for (i = 0; i < c->a.n; i++) {
		const char *v = c->a.v[i];

		if (!v || is_opt(v) || strstr(v, "://"))
			continue;
		if (v[0] == '/' ? dir_below(dir_join(c->s, "", v), c->s->dest_dir) != NULL
				: pathish(v))
			return 0;
	}
	return 1;
}

static enum kind classify(struct cmdctx *c)
{
	static const char *const system[] = {
		"apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "tdnf",
		"update-ca-certificates", "ldconfig", "locale-gen", "useradd", "adduser",
		"groupadd", "addgroup", "usermod", "dpkg-reconfigure", "update-locale", NULL
	};
	static const char *const quiet[] = { "set", "true", ":", "export", "echo", "umask", NULL };
	struct st *s = c->s;
	const struct df_sh_cmd *cmd = c->cmd;
	const char *name;
	int ni = df_sh_cmd_name(c->base, cmd);
	size_t i, k;

	if (ni < 0) {
		for (i = 0; i < cmd->nwords; i++)
			if (!(cmd->words[i].flags & DF_SH_ASSIGN))
				return K_OTHER;
		c->state = 1;
		return K_NEUTRAL;
	}
	name = df_sh_unquote(&s->tmp, c->base, &cmd->words[ni], NULL);
	if (!name)
		return K_OTHER;
	c->name = base_name(name);
	c->a.v = df_arena_alloc(&s->tmp, (cmd->nwords + 1) * sizeof(*c->a.v));
	c->a.w = df_arena_alloc(&s->tmp, (cmd->nwords + 1) * sizeof(*c->a.w));
	c->a.n = 0;
	for (i = (size_t)ni + 1; i < cmd->nwords; i++) {
		const struct df_sh_word *w = &cmd->words[i];

		if (w->flags & DF_SH_REDIR)
			continue;
		c->a.w[c->a.n] = w;
		c->a.v[c->a.n++] = df_sh_unquote(&s->tmp, c->base, w, NULL);
	}
	if (bad_redirs(c))
		return K_OTHER;
	c->sub = dir_below(c->cwd, s->dest_dir);
	c->state = eq(c->name, "cd") || eq(c->name, "export") || eq(c->name, "set") ||
		   eq(c->name, "umask");
	if (eq(c->name, "cd")) {
		c->cwd = c->a.n == 1 ? dir_join(s, c->cwd, c->a.v[0]) : fresh_dir(s);
		return c->a.n <= 1 ? K_NEUTRAL : K_OTHER;
	}
	for (k = 0; quiet[k]; k++)
		if (eq(c->name, quiet[k]))
			return K_NEUTRAL;
	for (k = 0; system[k]; k++)
		if (eq(c->name, system[k]))
			return pkgs_ok(c) ? K_NEUTRAL : K_OTHER;
	if (eq(c->name, "mkdir") || eq(c->name, "rm") || eq(c->name, "touch") || eq(c->name, "ln"))
		return abs_outside(c, 0) ? K_NEUTRAL : K_OTHER;
	if (eq(c->name, "chown") || eq(c->name, "chmod"))
		return abs_outside(c, 1) ? K_NEUTRAL : K_OTHER;
	if (eq(c->name, "npm"))
		return js_cmd(c, NPM);
	if (eq(c->name, "yarn"))
		return js_cmd(c, YARN);
	if (eq(c->name, "pnpm"))
		return js_cmd(c, PNPM);
	if (eq(c->name, "corepack"))
		return c->a.n && (eq(c->a.v[0], "enable") || eq(c->a.v[0], "prepare") ||
				  eq(c->a.v[0], "disable")) ? K_NEUTRAL : K_OTHER;
	if (starts(c->name, "pip") && strspn(c->name + 3, "0123456789.") == strlen(c->name + 3))
		return pip_cmd(c, 0);
	if (starts(c->name, "python") &&
	    strspn(c->name + 6, "0123456789.") == strlen(c->name + 6)) {
		if (c->a.n >= 2 && eq(c->a.v[0], "-m") && eq(c->a.v[1], "pip"))
			return pip_cmd(c, 2);
		if (c->a.n >= 2 && eq(c->a.v[0], "-m") && eq(c->a.v[1], "venv"))
			return abs_outside(c, 1) ? K_NEUTRAL : K_OTHER;
		return K_OTHER;
	}
	if (eq(c->name, "uv") && c->a.n && eq(c->a.v[0], "pip"))
		return pip_cmd(c, 1);
	if (eq(c->name, "poetry"))
		return poetry_cmd(c);
	if (eq(c->name, "pipenv"))
		return pipenv_cmd(c);
	if (eq(c->name, "go"))
		return go_cmd(c);
	if (eq(c->name, "bundle") || eq(c->name, "bundler"))
		return bundle_cmd(c);
	if (eq(c->name, "gem"))
		return gem_cmd(c);
	if (eq(c->name, "composer"))
		return composer_cmd(c);
	return K_OTHER;
}

/* ---------------------------------------------------------------- one RUN */

enum runkind { RUN_MOVABLE, RUN_SPLIT, RUN_STOP };

struct runinfo {
	enum runkind kind;
	int installs;            /* the RUN (or its first part) installs */
	size_t split_end;        /* RUN_SPLIT: node offsets of the cut */
	size_t split_next;
	const char *head;        /* commands the second part repeats (cd dir && ) */
};

/* Does a --mount flag read the build context (a bind mount without from=)? */
static int reads_context(const struct df_inst *inst)
{
	size_t i;

	for (i = 0; i < inst->nflags; i++) {
		struct df_span f = inst->flags[i];

		if (f.len >= 8 && memcmp(f.ptr, "--mount=", 8) == 0) {
			const char *p = f.ptr + 8, *e = f.ptr + f.len;
			int bind = 1, from = 0;

			while (p < e) {
				const char *q = memchr(p, ',', (size_t)(e - p));
				size_t n = q ? (size_t)(q - p) : (size_t)(e - p);

				if (n > 5 && memcmp(p, "type=", 5) == 0)
					bind = n == 9 && memcmp(p + 5, "bind", 4) == 0;
				if (n > 5 && memcmp(p, "from=", 5) == 0)
					from = 1;
				p += n + 1;
			}
			if (bind && !from)
				return 1;
		}
	}
	return 0;
}

static int has_cache_mount(const struct df_inst *inst)
{
	size_t i;

	for (i = 0; i < inst->nflags; i++) {
		struct df_span f = inst->flags[i];
		size_t k;

		for (k = 0; k + 10 <= f.len; k++)
			if (memcmp(f.ptr + k, "type=cache", 10) == 0)
				return 1;
	}
	return 0;
}

/* Is the command that stops the range a go or maven build? */
static void find_trigger(struct st *s, struct cmdctx *c)
{
	const char *goal;

	if (s->trig)
		return;
	if (eq(c->name, "go") && go_trigger(c)) {
		s->trig = GOMOD + 1;
		s->trig_what = eq(c->a.v[0], "mod") ? "go mod tidy"
						    : df_arena_printf(&s->tmp, "go %s", c->a.v[0]);
		s->trig_wrapper = 0;
	} else if ((goal = mvn_trigger(c)) != NULL) {
		const char *w = df_sh_unquote(&s->tmp, c->base,
					      &c->cmd->words[df_sh_cmd_name(c->base, c->cmd)], NULL);

		if (!eq(w, "mvn") && !eq(w, "./mvnw"))
			return;
		s->trig = MAVEN + 1;
		s->trig_wrapper = eq(w, "./mvnw");
		s->trig_what = df_arena_printf(&s->tmp, "%s %s", w, goal);
	} else {
		return;
	}
	s->trig_node = c->node;
	s->trig_cwd = c->cwd;
}

static void analyze_run(struct st *s, size_t j, const char *wd, struct runinfo *ri)
{
	const struct df_node *n = &s->doc->nodes[j];
	const struct df_inst *inst = n->inst;
	struct df_sh_script sc;
	const char *cwd = wd;
	size_t i, keep = s->nin;
	unsigned char *state;

	memset(ri, 0, sizeof(*ri));
	ri->kind = RUN_STOP;
	if (inst->json || inst->nheredocs || reads_context(inst))
		return;
	if (df_sh_parse_rest(s->doc, inst, &sc) != 0 || sc.complex ||
	    sc.has_heredoc || sc.ncmds == 0)
		return;
	for (i = 0; i < sc.ncmds; i++)
		if (sc.cmds[i].depth || sc.cmds[i].kind != DF_SH_SIMPLE ||
		    sc.cmds[i].op == DF_SH_OP_AMP || sc.cmds[i].op == DF_SH_OP_DSEMI)
			return;
	state = df_arena_alloc(&s->tmp, sc.ncmds);
	for (i = 0; i < sc.ncmds; i++) {
		struct cmdctx c;
		enum kind k;

		memset(&c, 0, sizeof(c));
		c.s = s;
		c.base = inst->rest.ptr;
		c.cmd = &sc.cmds[i];
		c.cwd = cwd;
		c.line = n->line;
		c.node = j;
		c.inst = inst;
		k = classify(&c);
		if (s->full)
			break;
		cwd = c.cwd;
		state[i] = (unsigned char)c.state;
		if (k == K_INSTALL) {
			ri->installs = 1;
			continue;
		}
		if (k == K_NEUTRAL)
			continue;
		/* the first command that may read the sources */
		if (c.name && c.sub && !has_cache_mount(inst))
			find_trigger(s, &c);
		if (i > 0 && ri->installs && sc.cmds[i - 1].op == DF_SH_OP_AND) {
			size_t base = (size_t)(inst->rest.ptr - inst->logical.ptr), m;
			struct df_buf h = DF_BUF_INIT;

			ri->kind = RUN_SPLIT;
			ri->split_end = df_inst_node_off(inst, base + sc.cmds[i - 1].end - 1) + 1;
			ri->split_next = df_inst_node_off(inst, base + sc.cmds[i].off);
			/* the second part starts where the first left the shell */
			for (m = 0; m < i; m++)
				if (state[m])
					df_buf_addf(&h, "%.*s && ", (int)(sc.cmds[m].end - sc.cmds[m].off),
						    inst->rest.ptr + sc.cmds[m].off);
			ri->head = df_arena_dup(&s->tmp, h.ptr ? h.ptr : "", h.len);
			df_buf_release(&h);
			return;
		}
		s->nin = keep;
		ri->installs = 0;
		return;
	}
	if (s->full) { /* too many installs to track: leave the RUN alone */
		s->nin = keep;
		ri->installs = 0;
		return;
	}
	ri->kind = RUN_MOVABLE;
}

/* ---------------------------------------------------------------- text */

static int is_lower(struct df_span kw)
{
	return kw.len && kw.ptr[0] >= 'a' && kw.ptr[0] <= 'z';
}

/* Does `text` parse as one instruction on its own? */
static int parses(struct st *s, const char *text)
{
	size_t len = strlen(text);
	char *copy = df_arena_dup(&s->tmp, text, len);
	struct df_doc *f = df_doc_parse_fragment(copy, len, s->doc->escape);
	int ok = f->ndiags == 0 && f->nnodes == 1 && f->nodes[0].kind == DF_INSTRUCTION &&
		 f->nodes[0].inst;

	df_doc_free(f);
	return ok;
}

/* The node text up to `end` with the edits of the installs in that node. */
static const char *edited_text(struct st *s, const struct df_node *n, size_t end, size_t node)
{
	struct wedit ed[MAX_INSTALLS * MAX_EDITS];
	struct df_buf b = DF_BUF_INIT;
	size_t ne = 0, i, e, pos = 0;
	const char *r;

	for (i = 0; i < s->nin; i++)
		for (e = 0; s->in[i].node == node && e < s->in[i].nedits; e++)
			if (s->in[i].edits[e].off <= end) {
				size_t k = ne++;

				while (k > 0 && ed[k - 1].off > s->in[i].edits[e].off) {
					ed[k] = ed[k - 1];
					k--;
				}
				ed[k] = s->in[i].edits[e];
			}
	for (i = 0; i < ne; i++) {
		df_buf_add(&b, n->text.ptr + pos, ed[i].off - pos);
		df_buf_adds(&b, ed[i].text);
		pos = ed[i].off;
	}
	df_buf_add(&b, n->text.ptr + pos, end - pos);
	r = df_arena_dup(&s->tmp, b.ptr ? b.ptr : "", b.len);
	df_buf_release(&b);
	return r;
}

/* ---------------------------------------------------------------- one full copy */

#define NONE ((size_t)-1)
#define MAX_GAP 16

struct plan {
	size_t cs;               /* the full copy's first owned comment */
	size_t to;               /* the full copy goes before this node */
	const char *before[MAX_INSTALLS * MAX_LINES]; /* manifest COPYs, where it was */
	size_t nbefore;
	const char *pre[1];      /* a download RUN right before its new place */
	size_t npre;
	const char *post[MAX_INSTALLS + 1]; /* RUNs right after it */
	size_t npost;
	size_t edited[MAX_INSTALLS];        /* install RUNs with new words */
	const char *edited_text[MAX_INSTALLS];
	size_t nedited;
	size_t split;            /* a RUN cut after its install, or NONE */
	size_t split_end, split_next; /* node offsets: end of the first part, start of the rest */
	const char *split_head;  /* commands the rest repeats first (cd dir && ) */
	const char *first;       /* its first part */
	const char *gap[MAX_GAP];/* comment lines between the parts */
	size_t ngap;
};

/* Is `a` (an argument of a COPY) the manifest `t`? package.json and
 * package*.json stand for each other. */
static int same_manifest(struct df_span a, const char *t, size_t n)
{
	static const char pj[] = "package.json", pg[] = "package*.json";

	if (a.len > 2 && memcmp(a.ptr, "./", 2) == 0) {
		a.ptr += 2;
		a.len -= 2;
	}
	if (n == a.len && memcmp(t, a.ptr, n) == 0)
		return 1;
	if (n >= 13 && a.len >= 12 && n - 13 == a.len - 12 && memcmp(t, a.ptr, n - 13) == 0)
		return memcmp(t + n - 13, pg, 13) == 0 && memcmp(a.ptr + a.len - 12, pj, 12) == 0;
	if (n >= 12 && a.len >= 13 && n - 12 == a.len - 13 && memcmp(t, a.ptr, n - 12) == 0)
		return memcmp(t + n - 12, pj, 12) == 0 && memcmp(a.ptr + a.len - 13, pg, 13) == 0;
	return 0;
}

/* Does a COPY of the build context between nodes from and to already copy
 * one of `srcs` (space-separated)? */
static int copied_before(struct st *s, size_t from, size_t to, const char *srcs)
{
	size_t i, k, f;

	for (i = from; i < to; i++) {
		const struct df_inst *inst = s->doc->nodes[i].inst;
		int other = 0;

		if (s->doc->nodes[i].kind != DF_INSTRUCTION || !inst ||
		    (inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD) || inst->nargs < 2)
			continue;
		for (f = 0; f < inst->nflags; f++)
			if (inst->flags[f].len > 7 && memcmp(inst->flags[f].ptr, "--from=", 7) == 0)
				other = 1;
		for (k = 0; !other && k + 1 < inst->nargs; k++) {
			const char *p = srcs;

			while (*p) {
				size_t n = strcspn(p, " ");

				if (same_manifest(inst->args[k], p, n))
					return 1;
				p += n;
				while (*p == ' ')
					p++;
			}
		}
	}
	return 0;
}

/* A flag of the full copy that the manifest copy cannot share. */
static int copy_flags_ok(const struct df_inst *inst)
{
	size_t i;

	for (i = 0; i < inst->nflags; i++) {
		struct df_span f = inst->flags[i];

		if (!((f.len > 8 && memcmp(f.ptr, "--chown=", 8) == 0) ||
		      (f.len > 8 && memcmp(f.ptr, "--chmod=", 8) == 0) ||
		      (f.len >= 6 && memcmp(f.ptr, "--link", 6) == 0) ||
		      (f.len > 10 && memcmp(f.ptr, "--exclude=", 10) == 0)))
			return 0;
	}
	return 1;
}

static int is_full_copy(const struct df_inst *inst)
{
	struct df_span src;

	if (!inst || (inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD) || inst->json ||
	    inst->nheredocs || inst->nargs != 2 || !copy_flags_ok(inst))
		return 0;
	src = inst->args[0];
	return df_span_eq(src, ".") || df_span_eq(src, "./");
}

static int posix_shell(const struct df_inst *inst)
{
	struct df_span a;

	if (!inst->json || inst->nargs == 0)
		return 0;
	a = inst->args[0];
	return df_span_eq(a, "/bin/sh") || df_span_eq(a, "/bin/bash") || df_span_eq(a, "sh") ||
	       df_span_eq(a, "bash") || df_span_eq(a, "/usr/bin/bash") ||
	       df_span_eq(a, "/bin/ash") || df_span_eq(a, "/bin/dash");
}

static const char *arg_text(struct st *s, struct df_span a)
{
	return df_arena_dup(&s->tmp, a.ptr, a.len);
}

/* The WORKDIR at node `to` of the stage, and whether its shell is POSIX. */
static const char *workdir_at(struct st *s, size_t from, size_t to, int *posix)
{
	const char *wd = "?0";
	size_t i;

	*posix = 1;
	for (i = from; i < to; i++) {
		const struct df_inst *inst = s->doc->nodes[i].inst;

		if (s->doc->nodes[i].kind != DF_INSTRUCTION || !inst)
			continue;
		if (inst->cmd == DF_CMD_WORKDIR)
			wd = dir_join(s, wd, inst->nargs ? arg_text(s, inst->args[0]) : NULL);
		else if (inst->cmd == DF_CMD_SHELL)
			*posix = posix_shell(inst);
	}
	return wd;
}

/* A go/maven build right after the range: add its download step. */
static int plan_download(struct st *s, const struct df_stage *stg, size_t ci, struct plan *pl)
{
	struct df_doc *doc = s->doc;
	enum eco e = (enum eco)(s->trig - 1);
	size_t t = s->trig_node, at, i;
	const char *tsub = dir_below(s->trig_cwd, s->dest_dir), *wdt, *what = s->trig_what;
	struct install *in;
	struct cmdctx cc;
	int posix;

	memset(&cc, 0, sizeof(cc));
	cc.s = s;
	cc.line = doc->nodes[t].line;
	at = pl->split != NONE ? pl->split + 1 : df_doc_owned_start(doc, t);
	wdt = workdir_at(s, stg->from + 1, at, &posix);
	for (i = 0; i < s->nin; i++)
		if (s->in[i].eco == e)
			return 0; /* the range downloads already */
	if (!tsub || strcmp(wdt, s->dest_dir) != 0 || s->nin == MAX_INSTALLS ||
	    copied_before(s, stg->from + 1, ci, e == GOMOD ? "go.mod" : "pom.xml"))
		return 0;
	if (e == GOMOD) {
		if (!go_ok(&cc, "", what))
			return 0;
		pl->pre[pl->npre++] = "go mod download";
	} else {
		const char *pom, *r;

		if (no_context(&cc, what) || !need_file(&cc, "pom.xml", what))
			return 0;
		pom = ctx_text(s, "pom.xml", NULL);
		r = pom ? strstr(pom, "<relativePath>") : NULL;
		if (!pom || strstr(pom, "<modules>") || (r && r[14] != '<')) {
			note(s, cc.line, "left %s after the full copy: pom.xml has modules or a "
			     "local parent", what);
			return 0;
		}
		if (s->trig_wrapper && !(ctx_has(s, "mvnw") && ctx_has(s, ".mvn"))) {
			note(s, cc.line, "left ./mvnw after the full copy: the build context has no "
			     "mvnw or .mvn");
			return 0;
		}
		pl->pre[pl->npre++] = s->trig_wrapper ? "./mvnw dependency:go-offline -B"
						      : "mvn dependency:go-offline -B";
	}
	in = &s->in[s->nin++];
	memset(in, 0, sizeof(*in));
	in->node = t;
	in->eco = e;
	in->what = what;
	in->extra = "";
	in->download = pl->pre[pl->npre - 1];
	if (e == GOMOD) {
		add_line(in, with_opt(s, "go.mod", "", "go.sum"), "");
	} else {
		add_line(in, s->trig_wrapper ? "mvnw pom.xml" : "pom.xml", "");
		if (ctx_has(s, ".mvn"))
			add_line(in, ".mvn", ".mvn");
	}
	pl->to = at;
	return 1;
}

/* Walk the instructions after the full copy at ci: which installs can the
 * copy move past? Fills s->in and the plan; 0 when there is nothing to do. */
static int plan_range(struct st *s, const struct df_stage *stg, size_t ci, const char *wd,
		      struct plan *pl)
{
	struct df_doc *doc = s->doc;
	const struct df_inst *c = doc->nodes[ci].inst;
	const char *dest;
	size_t j, k, last = NONE;
	int dollar, rel_dest;

	s->nin = 0;
	s->full = 0;
	s->trig = 0;
	s->trig_wrapper = 0;
	dest = arg_text(s, c->args[1]);
	dollar = memchr(c->rest.ptr, '$', c->rest.len) != NULL;
	for (k = 0; k < c->nflags; k++)
		if (memchr(c->flags[k].ptr, '$', c->flags[k].len))
			dollar = 1;
	rel_dest = dest[0] != '/';
	s->dest_dir = dollar ? fresh_dir(s) : dir_join(s, wd, dest);

	for (j = ci + 1; j < stg->end; j++) {
		const struct df_node *n = &doc->nodes[j];
		const struct df_inst *inst = n->inst;
		struct runinfo ri;

		if (n->kind == DF_COMMENT || n->kind == DF_BLANK)
			continue;
		if (n->kind != DF_INSTRUCTION || !inst || df_pass_ignored(s->ctx, doc, j))
			break;
		if ((inst->cmd == DF_CMD_ENV || inst->cmd == DF_CMD_ARG) && dollar)
			break;
		if (inst->cmd == DF_CMD_WORKDIR) {
			const char *below;

			if (rel_dest || dollar)
				break;
			wd = dir_join(s, wd, inst->nargs ? arg_text(s, inst->args[0]) : NULL);
			/* a directory inside the destination would exist before the
			 * full copy (root-owned, whatever its --chown says) */
			below = dir_below(wd, s->dest_dir);
			if (below && *below)
				break;
			continue;
		}
		if (inst->cmd == DF_CMD_SHELL && !posix_shell(inst))
			break;
		if (inst->cmd != DF_CMD_RUN) {
			switch (inst->cmd) {
			case DF_CMD_ENV: case DF_CMD_ARG: case DF_CMD_SHELL: case DF_CMD_USER:
			case DF_CMD_LABEL: case DF_CMD_EXPOSE: case DF_CMD_STOPSIGNAL:
			case DF_CMD_HEALTHCHECK: case DF_CMD_CMD: case DF_CMD_ENTRYPOINT:
			case DF_CMD_MAINTAINER:
				continue;
			default:
				break;
			}
			break;
		}
		analyze_run(s, j, wd, &ri);
		if (ri.kind == RUN_STOP)
			break;
		if (ri.installs)
			last = j;
		if (ri.kind == RUN_SPLIT) {
			pl->split = j;
			pl->split_end = ri.split_end;
			pl->split_next = ri.split_next;
			pl->split_head = ri.head;
			break;
		}
	}
	if (s->trig && plan_download(s, stg, ci, pl))
		return 1;
	if (!s->nin)
		return 0;
	pl->to = pl->split != NONE ? pl->split + 1 : last + 1;
	return 1;
}

/* The texts of the plan: manifest COPYs, RUNs around the moved copy, the
 * split RUN's parts and the edited install RUNs. 0 when one does not parse. */
static int plan_texts(struct st *s, const struct df_stage *stg, size_t ci, struct plan *pl)
{
	struct df_doc *doc = s->doc;
	const struct df_inst *c = doc->nodes[ci].inst;
	const char *dest = arg_text(s, c->args[1]);
	const char *kw = is_lower(c->keyword) ? "copy" : "COPY";
	const char *run = is_lower(c->keyword) ? "run" : "RUN";
	struct df_buf b = DF_BUF_INIT;
	size_t i, k, e;

	for (i = 0; i < s->nin; i++) {
		struct install *in = &s->in[i];

		for (k = 0; k < in->nlines; k++) {
			const struct mline *m = &in->lines[k];
			const char *txt;
			int dup = 0;

			if (strpbrk(m->srcs, "\"'\\$`\t#") || strpbrk(m->sub, "\"'\\$`\t #"))
				return 0;
			if (copied_before(s, stg->from + 1, ci, m->srcs))
				continue;
			df_buf_reset(&b);
			df_buf_addf(&b, "%s ", kw);
			for (e = 0; e < c->nflags; e++)
				df_buf_addf(&b, "%.*s ", (int)c->flags[e].len, c->flags[e].ptr);
			df_buf_addf(&b, "%s %s%s", m->srcs, dest,
				    dest[strlen(dest) - 1] == '/' ? "" : "/");
			if (*m->sub)
				df_buf_addf(&b, "%s/", m->sub);
			txt = df_arena_dup(&s->tmp, b.ptr, b.len);
			for (e = 0; e < pl->nbefore; e++)
				dup |= strcmp(pl->before[e], txt) == 0;
			if (!dup)
				pl->before[pl->nbefore++] = txt;
		}
		if (in->after)
			pl->post[pl->npost++] = df_arena_printf(&s->tmp, "%s %s", run, in->after);
		if (in->nedits && in->node != pl->split) {
			const struct df_node *n = &doc->nodes[in->node];

			for (e = 0; e < pl->nedited; e++)
				if (pl->edited[e] == in->node)
					break;
			if (e == pl->nedited) {
				pl->edited[pl->nedited] = in->node;
				pl->edited_text[pl->nedited++] = edited_text(s, n, n->text.len, in->node);
			}
		}
	}
	df_buf_release(&b);
	for (i = 0; i < pl->npre; i++)
		pl->pre[i] = df_arena_printf(&s->tmp, "%s %s", run, pl->pre[i]);
	if (pl->split != NONE) {
		const struct df_node *n = &doc->nodes[pl->split];
		const struct df_inst *inst = n->inst;
		size_t head = df_inst_node_off(inst, inst->args_off);
		uint32_t l;

		pl->first = edited_text(s, n, pl->split_end, pl->split);
		pl->post[pl->npost++] = df_arena_printf(&s->tmp, "%.*s%s%.*s", (int)head, n->text.ptr,
							pl->split_head,
							(int)(n->text.len - pl->split_next),
							n->text.ptr + pl->split_next);
		for (l = 0; l < n->nlines; l++) {
			const struct df_line *ln = &n->lines[l];

			if (ln->kind == DF_LINE_COMMENT && ln->off >= pl->split_end &&
			    ln->off < pl->split_next && pl->ngap < MAX_GAP)
				pl->gap[pl->ngap++] = df_arena_dup(&s->tmp,
								   n->text.ptr + ln->off + ln->indent,
								   ln->body);
		}
		if (!parses(s, pl->first))
			return 0;
	}
	for (i = 0; i < pl->nbefore; i++)
		if (!parses(s, pl->before[i]))
			return 0;
	for (i = 0; i < pl->npre; i++)
		if (!parses(s, pl->pre[i]))
			return 0;
	for (i = 0; i < pl->npost; i++)
		if (!parses(s, pl->post[i]))
			return 0;
	for (i = 0; i < pl->nedited; i++)
		if (!parses(s, pl->edited_text[i]))
			return 0;
	return 1;
}

static void report(struct st *s)
{
	size_t i, k;

	for (i = 0; i < s->nin; i++) {
		const struct install *in = &s->in[i];
		struct df_buf m = DF_BUF_INIT;
		uint32_t line = s->doc->nodes[in->node].line;

		for (k = 0; k < in->nlines; k++)
			df_buf_addf(&m, "%s%s", k ? " " : "", in->lines[k].srcs);
		if (in->download)
			df_ctx_finding(s->ctx, NULL, line, "copied %s and added %s before %s so "
				       "dependency layers stay cached when sources change",
				       m.ptr, in->download, in->what);
		else
			df_ctx_finding(s->ctx, NULL, line, "copied %s before %s so dependency "
				       "layers stay cached when sources change%s",
				       m.ptr ? m.ptr : "nothing new", in->what, in->extra);
		df_buf_release(&m);
	}
}

/* Plan the change for the full copy at ci; 0 when there is none. */
static int plan_copy(struct st *s, const struct df_stage *stg, size_t ci, const char *wd,
		     struct plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	pl->split = NONE;
	pl->cs = df_doc_owned_start(s->doc, ci);
	if (!plan_range(s, stg, ci, wd, pl) || !plan_texts(s, stg, ci, pl))
		return 0;
	report(s);
	return 1;
}

/* ---------------------------------------------------------------- the edits */

/*
 * Every stage's change is made in one rebuild of the node array, so that a
 * file with thousands of stages stays linear (an insert per stage through
 * df_doc_insert would move the whole tail each time). New text becomes
 * nodes exactly as df_doc_insert makes them: parsed as a fragment of the
 * document, its arena adopted by the document's.
 */
struct job {
	size_t ci;               /* the full copy */
	struct plan pl;
};

struct nodes {
	struct df_node *v;
	size_t n, cap;
};

static void push(struct nodes *o, const struct df_node *n)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->v = df_xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = *n;
}

/* Nodes of `text` (checked by parses() before), with a final newline
 * unless keep_end; `line` is the input line they stand for (0: new). */
static void push_text(struct df_doc *doc, struct nodes *o, const char *text, int keep_end,
		      uint32_t line)
{
	size_t len = strlen(text), i;
	const char *eol = "";
	char *copy;
	struct df_doc *frag;

	if (!keep_end && (!len || text[len - 1] != '\n'))
		eol = df_doc_eol(doc);
	copy = df_arena_printf(&doc->arena, "%s%s", text, eol);
	frag = df_doc_parse_in(doc, copy, strlen(copy));
	for (i = 0; i < frag->nnodes; i++) {
		frag->nodes[i].line = line;
		push(o, &frag->nodes[i]);
	}
	df_doc_free(frag);
}

static void rebuild(struct st *s, const struct job *jobs, size_t njobs)
{
	struct df_doc *doc = s->doc;
	struct nodes o = { NULL, 0, 0 };
	size_t i = 0, j, k, e;

	for (j = 0; j < njobs; j++) {
		const struct plan *pl = &jobs[j].pl;
		size_t ci = jobs[j].ci;

		for (; i < pl->cs; i++)
			push(&o, &doc->nodes[i]);
		for (k = 0; k < pl->nbefore; k++)
			push_text(doc, &o, pl->before[k], 0, 0);
		for (i = ci + 1; i < pl->to; i++) {
			uint32_t line = doc->nodes[i].line;

			for (e = 0; e < pl->nedited && pl->edited[e] != i; e++)
				;
			if (i == pl->split) {
				for (k = 0; k < pl->ngap; k++)
					push_text(doc, &o, pl->gap[k], 0, line);
				push_text(doc, &o, pl->first, 0, line);
			} else if (e < pl->nedited) {
				push_text(doc, &o, pl->edited_text[e], 0, line);
			} else {
				push(&o, &doc->nodes[i]);
			}
		}
		for (k = 0; k < pl->npre; k++)
			push_text(doc, &o, pl->pre[k], 0, 0);
		for (k = pl->cs; k <= ci; k++)
			push(&o, &doc->nodes[k]);
		for (k = 0; k < pl->npost; k++) /* the split RUN's rest keeps its own end */
			push_text(doc, &o, pl->post[k], pl->split != NONE && k == pl->npost - 1, 0);
	}
	for (; i < doc->nnodes; i++)
		push(&o, &doc->nodes[i]);
	/* a node that was last and is not any more needs a newline */
	for (i = 0; i + 1 < o.n; i++) {
		const struct df_node *n = &o.v[i];

		if (!n->text.len || n->text.ptr[n->text.len - 1] != '\n') {
			struct nodes one = { NULL, 0, 0 };
			const char *t = df_arena_printf(&s->tmp, "%.*s", (int)n->text.len, n->text.ptr);

			push_text(doc, &one, t, 0, n->line);
			if (one.n == 1)
				o.v[i] = one.v[0];
			free(one.v);
		}
	}
	free(doc->nodes);
	doc->nodes = o.v;
	doc->nnodes = o.n;
	doc->edits++;
	doc->cap = o.cap;
}

/* ---------------------------------------------------------------- the pass */

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct st s;
	struct df_stage *st;
	struct job *jobs = NULL;
	struct plan pl;
	size_t nst, njobs = 0, cap = 0, i, j;
	int posix;
	const char *wd;

	if (doc->escape != '\\')
		return 0; /* a Windows Dockerfile: cmd/pwsh, not sh */
	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.doc = doc;
	df_arena_init(&s.tmp);
	if (ctx->context_dir)
		load_ignore(&s);
	st = df_stages(doc, &nst);
	for (i = 0; i < nst; i++) {
		struct df_span img = st[i].image;
		size_t k;
		int win = 0;

		if (df_stage_settled(ctx, doc, i))
			continue;
		for (k = 0; k + 7 <= img.len; k++)
			if (df_mem_ieq(img.ptr + k, "windows", 7) ||
			    (k + 10 <= img.len && df_mem_ieq(img.ptr + k, "nanoserver", 10)))
				win = 1;
		if (win)
			continue;
		wd = "?0"; /* the base image's WORKDIR */
		posix = 1;
		for (j = st[i].from + 1; j < st[i].end; j++) {
			const struct df_node *n = &doc->nodes[j];

			if (n->kind != DF_INSTRUCTION || !n->inst ||
			    (n->cmd != DF_CMD_WORKDIR && n->cmd != DF_CMD_SHELL && n->cmd != DF_CMD_COPY &&
			     n->cmd != DF_CMD_ADD))
				continue; /* only these matter below (is_full_copy: COPY/ADD) */
			if (n->cmd == DF_CMD_WORKDIR)
				wd = dir_join(&s, wd, n->inst->nargs ? arg_text(&s, n->inst->args[0]) : NULL);
			else if (n->cmd == DF_CMD_SHELL)
				posix = posix_shell(n->inst);
			if (!posix || !is_full_copy(n->inst) || df_pass_ignored(ctx, doc, j))
				continue;
			if (plan_copy(&s, &st[i], j, wd, &pl)) {
				if (njobs == cap) {
					cap = cap ? cap * 2 : 4;
					jobs = df_xrealloc(jobs, cap * sizeof(*jobs));
				}
				jobs[njobs].ci = j;
				jobs[njobs++].pl = pl;
				break; /* one per stage and round: the driver runs again */
			}
		}
	}
	if (njobs)
		rebuild(&s, jobs, njobs);
	free(jobs);
	free(st);
	df_ignore_free(s.ig);
	df_arena_release(&s.tmp);
	return njobs < 1000000 ? (int)njobs : 1000000;
}

static const char doc_text[] =
	"When a stage copies the whole build context (COPY . ., COPY . /app, ADD . .)\n"
	"before installing its dependencies, every change to any source file reinstalls\n"
	"them. This pass copies only the dependency manifests first, runs the install,\n"
	"then copies the rest (the article's Strategy 4):\n"
	"\n"
	"    COPY . .              COPY package*.json ./\n"
	"    RUN npm ci       ->   RUN npm ci\n"
	"    RUN npm run build     COPY . .\n"
	"                          RUN npm run build\n"
	"\n"
	"Ecosystems: npm (package*.json), yarn (package.json yarn.lock), pnpm\n"
	"(package.json pnpm-lock.yaml), pip (the -r/-c files and the files they\n"
	"include), poetry (pyproject.toml poetry.lock; `poetry install` gets --no-root,\n"
	"so the project itself is no longer installed into the environment, only its\n"
	"dependencies), pipenv (Pipfile Pipfile.lock), go (go.mod go.sum, and\n"
	"`RUN go mod download` before `go build` when the stage has none), bundler\n"
	"(Gemfile Gemfile.lock), composer (composer.json composer.lock; install gets\n"
	"--no-scripts --no-autoloader, and `composer dump-autoload --optimize` (and\n"
	"post-install-cmd when composer.json has one) runs after the full copy), maven\n"
	"(pom.xml and `mvn dependency:go-offline -B` before `mvn package`; with ./mvnw\n"
	"also mvnw and .mvn). .npmrc, .yarnrc, .pnpmfile.cjs, poetry.toml, auth.json,\n"
	".mvn and .bundle come along when the context has them. Lockfiles are copied\n"
	"when the context has them. Gradle and Cargo are left alone: neither has a\n"
	"standard way to fetch dependencies without the sources.\n"
	"\n"
	"The install RUNs stay in place; the full copy moves down past them with the\n"
	"comments it owns, so ENV, ARG, WORKDIR and USER lines keep their order. A RUN\n"
	"that also builds (npm ci && npm run build) is split after the install (the\n"
	"second part repeats a leading cd or set). Nothing moves when the install\n"
	"needs the sources: pip install . or -e ., a local path in requirements,\n"
	"package.json install/prepare scripts, workspaces or file: dependencies,\n"
	"poetry scripts (which need the project installed), path dependencies,\n"
	"Gemfile gemspec, a RUN that reads sources before the install, a WORKDIR\n"
	"between a relative copy and the install (or inside the copy's destination),\n"
	"or a node_modules, vendor or .venv in the context that the full copy would\n"
	"lay over the installed one (add it to .dockerignore). Go and Maven builds\n"
	"with a cache mount are left to their cache.\n"
	"\n"
	"The build context is read to copy only manifests that exist and are not\n"
	"excluded by .dockerignore; without one (stdin) only npm and pip are\n"
	"rewritten, with the glob forms package*.json and requirements*.txt, and the\n"
	"finding says what to check. Where the pass leaves a copy in place it says\n"
	"why in a finding.\n";

const struct df_pass df_pass_manifests_first = {
	.id = "manifests-first",
	.level = DF_LEVEL_REVIEW,
	.codes = "",
	.summary = "copy dependency manifests and install before copying the whole context",
	.doc = doc_text,
	.run = run,
	.stage_local = 1,
};
