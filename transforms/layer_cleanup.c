/*
 * layer_cleanup.c - layer-cleanup: a package manager's cache is removed in
 * the layer that creates it (hadolint DL3009, DL3014, DL3015, DL3019,
 * DL3030, DL3032, DL3038, DL3040, DL3042, DL3060).
 *
 * Only stages whose files reach the final image (df_stages: a builder
 * that is only copied from keeps its caches, they never ship), only
 * shell-form RUNs in an sh-like shell whose script the shell view parses
 * without control flow. Each RUN is edited word by word: flags go right
 * after the subcommand word, cleanup commands are appended as new
 * continuation lines in the RUN's own style (`    && cmd`, `cmd && \`, or
 * `cmd; \` in a `set -e` script), everything else keeps its bytes.
 *
 *   apt-get/apt  install gets -y (DL3014) and --no-install-recommends
 *                (DL3015, unless an Install-Recommends setting is written
 *                earlier in the stage); a RUN that runs `update` ends by
 *                emptying /var/lib/apt/lists with rm -rf (DL3009) unless
 *                it already removes them (or runs dist-clean) after the
 *                update, or a later RUN (this stage or one built FROM it)
 *                installs without updating first. A RUN that only updates,
 *                directly followed by the RUN that installs, is merged
 *                with it first.
 *   apk          add gets --no-cache (DL3019); an `apk update &&` right
 *                before it is dropped (--no-cache fetches the index).
 *   pip          install gets --no-cache-dir (DL3042) unless
 *                PIP_NO_CACHE_DIR is set in the stage.
 *   yum/dnf/microdnf  install/update get -y (DL3030/DL3038); the RUN ends
 *                with `<tool> clean all` (DL3032/DL3040).
 *   npm          a project `npm install` becomes `npm ci` when the build
 *                context has package-lock.json or npm-shrinkwrap.json and
 *                the stage copies it; otherwise the RUN ends with
 *                `npm cache clean --force`.
 *   yarn (v1)    a project install gets --frozen-lockfile when yarn.lock is
 *                in the context and copied; the RUN ends with
 *                `yarn cache clean` (DL3060). Yarn 2+ (.yarnrc.yml,
 *                packageManager yarn@2+, corepack) is left alone: its
 *                cache may be the project's own.
 *   gem          install gets --no-document (not for ruby:* images, which
 *                configure it in gemrc).
 *
 * With --cache-mounts the caches are mounted instead of deleted: apt gets
 * --mount=type=cache for /var/cache/apt and /var/lib/apt (sharing=locked;
 * Debian's /etc/apt/apt.conf.d/docker-clean still deletes downloaded .debs,
 * so the mount mostly keeps the package lists), apk /var/cache/apk instead
 * of --no-cache, pip /root/.cache/pip, npm /root/.npm, yarn
 * /usr/local/share/.cache/yarn (the last three only while the stage runs
 * as root). `# syntax=docker/dockerfile:1` is added at the top when the
 * file has no syntax directive (not before a BOM: then a finding says so).
 * yum/dnf and gem behave as without the option.
 *
 * `# hadolint ignore=DLxxxx` above a RUN switches off just that code's
 * fix; `# dfix ignore=layer-cleanup` the whole pass.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "runs.h"
#include "shell.h"


enum mgr { M_NONE, M_APT, M_APK, M_PIP, M_YUM, M_DNF, M_MICRODNF, M_NPM, M_YARN, M_GEM };

static const char *const mgr_name[] = {
	"", "apt-get", "apk", "pip", "yum", "dnf", "microdnf", "npm", "yarn", "gem"
};

#define M_APK_MOUNT "--mount=type=cache,target=/var/cache/apk,sharing=locked"
#define M_PIP_MOUNT "--mount=type=cache,target=/root/.cache/pip"
#define M_NPM_MOUNT "--mount=type=cache,target=/root/.npm"
#define M_YARN_MOUNT "--mount=type=cache,target=/usr/local/share/.cache/yarn"

#define MAX_TAILS 8
#define MAX_MOUNTS 8
#define MAX_NOTES 24

/* What the instructions before a RUN (in its stage and the stages it is
 * built FROM) say; one table per question, state before each node. */
enum table {
	T_RECOMMENDS, /* an Install-Recommends setting is written */
	T_PIP_ENV,    /* ENV/ARG PIP_NO_CACHE_DIR */
	T_PIP_CACHE,  /* ENV/ARG PIP_CACHE_DIR */
	T_GEMRC,      /* a gemrc is written */
	T_YARN2,      /* corepack or `yarn set version`: maybe Yarn 2+ */
	T_USER,       /* 1 root (or none), 2 another user */
	T_NPM_LOCK,   /* COPY of package-lock.json */
	T_NPM_SHRINK, /* COPY of npm-shrinkwrap.json */
	T_YARN_LOCK,  /* COPY of yarn.lock */
	T_COUNT
};

struct pending {
	const char *code;
	uint32_t line;
	char *msg; /* malloc'ed */
};

struct lc {
	struct df_ctx *ctx;
	struct df_doc *doc;
	struct df_runs_stage *st;
	size_t ns;
	unsigned char *reach; /* per stage: its files reach the final image */
	unsigned char *settled; /* per stage: the last run left it settled (skip it) */
	long *base;           /* per stage: the stage it is built FROM, or -1 */
	long *stage;          /* per node: its stage, or -1 */
	unsigned char *shells;
	unsigned char *t[T_COUNT];
	unsigned char *apt_later; /* per node: a later RUN installs without updating */
	int yarn_berry;       /* -1 unknown yet */
	int mounts_added;
	/* the batch of new RUN texts, applied at the end */
	struct df_buf text;
	struct df_runs_edit *ed;
	size_t ned, capd;
	struct pending *pend;
	size_t npend, cappend;
};

struct edit {
	size_t off, end; /* node offsets: replace [off, end) */
	char *text;      /* malloc'ed */
	size_t len;
	size_t seq;
};

struct note {
	const char *code;
	int tail;  /* about an appended command: dropped when appending fails */
	char msg[200];
};

struct cmd {
	enum mgr mgr;
	int name, sub;  /* word indices; sub -1 when none */
	char *subv;     /* unquoted subcommand or NULL */
};

/* One RUN being rewritten. */
struct one {
	struct lc *lc;
	size_t idx, stage;
	const struct df_node *n;
	const struct df_inst *inst;
	struct df_sh_script sh;
	const char *base;
	struct edit *ed;
	size_t ned, capd;
	const char *tails[MAX_TAILS];
	size_t ntails;
	const char *mounts[MAX_MOUNTS];
	size_t nmounts;
	int dropped;        /* commands removed */
	struct df_arena scratch; /* the shell view and unquoted words */
	struct cmd *cm;          /* per command, see cmd_of() */
	unsigned char *cm_done;
	struct note notes[MAX_NOTES];
	size_t nnotes;
};

/* ---------------------------------------------------------------- small helpers */

/* An empty struct one: all but the 5 KB of notes, which are filled as they
 * come. */
static void one_clear(struct one *o)
{
	memset(o, 0, offsetof(struct one, notes));
	o->nnotes = 0;
}

static size_t map_start(const struct df_inst *inst, size_t x)
{
	return df_inst_node_off(inst, inst->args_off + x);
}

static size_t map_end(const struct df_inst *inst, size_t x)
{
	return x ? df_inst_node_off(inst, inst->args_off + x - 1) + 1 : map_start(inst, 0);
}

static void note(struct one *o, const char *code, const char *fmt, const char *arg)
{
	if (o->nnotes == MAX_NOTES)
		return;
	o->notes[o->nnotes].code = code;
	o->notes[o->nnotes].tail = 0;
	snprintf(o->notes[o->nnotes].msg, sizeof(o->notes[0].msg), fmt, arg);
	o->nnotes++;
}

/* Is `code` not switched off by a `# hadolint ignore=` above node idx? */
static int code_ok(struct lc *lc, size_t idx, const char *code)
{
	const struct df_pass *save = lc->ctx->current;
	struct df_pass p;
	int r;

	if (!code || !save)
		return 1;
	p = *save;
	p.id = "";
	p.codes = code;
	lc->ctx->current = &p;
	r = !df_pass_ignored(lc->ctx, lc->doc, idx);
	lc->ctx->current = save;
	return r;
}

/* The whole pass switched off for node idx: `# dfix ignore=layer-cleanup`. */
static int pass_off(struct lc *lc, size_t idx)
{
	const struct df_pass *save = lc->ctx->current;
	struct df_pass p;
	int r;

	if (!save)
		return 0;
	p = *save;
	p.codes = "";
	lc->ctx->current = &p;
	r = df_pass_ignored(lc->ctx, lc->doc, idx);
	lc->ctx->current = save;
	return r;
}

/* ---------------------------------------------------------------- stages */

static int has_text(const struct df_node *n, const void *arg)
{
	return df_mem_has(n->text.ptr, n->text.len, arg) ? 1 : 0;
}

/* ENV or ARG that names the variable arg. */
static int sets_var(const struct df_node *n, const void *arg)
{
	const struct df_inst *inst = n->inst;
	size_t k = strlen(arg), i;

	if (inst->cmd != DF_CMD_ENV && inst->cmd != DF_CMD_ARG)
		return 0;
	for (i = 0; i < inst->nargs; i++)
		if (inst->args[i].len >= k && memcmp(inst->args[i].ptr, arg, k) == 0 &&
		    (inst->args[i].len == k || inst->args[i].ptr[k] == '='))
			return 1;
	return 0;
}

static int yarn2_fn(const struct df_node *n, const void *arg)
{
	(void)arg;
	return df_mem_has(n->text.ptr, n->text.len, "corepack") ||
	       df_mem_has(n->text.ptr, n->text.len, "yarn set version");
}

/* USER: 1 root, 2 another user. */
static int user_fn(const struct df_node *n, const void *arg)
{
	struct df_span u;

	(void)arg;
	if (n->inst->cmd != DF_CMD_USER || !n->inst->nargs)
		return 0;
	u = n->inst->args[0];
	if (df_span_eq(u, "root") || df_span_eq(u, "0") ||
	    (u.len > 5 && memcmp(u.ptr, "root:", 5) == 0) ||
	    (u.len > 2 && memcmp(u.ptr, "0:", 2) == 0))
		return 1;
	return 2;
}

/* A COPY/ADD (not --from) that copies `file` from the context root. */
static int copies_fn(const struct df_node *n, const void *arg)
{
	const struct df_inst *inst = n->inst;
	const char *file = arg;
	size_t a, f;

	if ((inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD) || inst->nargs < 2 ||
	    inst->nheredocs)
		return 0;
	for (f = 0; f < inst->nflags; f++)
		if (inst->flags[f].len > 7 && memcmp(inst->flags[f].ptr, "--from=", 7) == 0)
			return 0;
	for (a = 0; a + 1 < inst->nargs; a++) {
		char pat[512];
		struct df_span s = inst->args[a];

		while (s.len >= 2 && s.ptr[0] == '.' && s.ptr[1] == '/') {
			s.ptr += 2;
			s.len -= 2;
		}
		while (s.len > 1 && s.ptr[s.len - 1] == '/')
			s.len--;
		if (!s.len || df_span_eq(s, ".") || df_span_eq(s, "/"))
			return 1;
		if (s.len >= sizeof(pat))
			continue;
		memcpy(pat, s.ptr, s.len);
		pat[s.len] = '\0';
		if (fnmatch(pat, file, 0) == 0)
			return 1;
	}
	return 0;
}

/* One forward pass: t[i] = the last non-zero fn() of an instruction before
 * node i in its stage, or (none there) at the end of its base stages. */
/* Can stage s hold a candidate (see candidate()): not left settled by the
 * last run, and its files ship? Only those stages ask for the tables. */
static int asks(const struct lc *lc, size_t s)
{
	return !lc->settled[s] && lc->reach[s];
}

static unsigned char *table(const struct lc *lc, int (*fn)(const struct df_node *, const void *),
			    const void *arg)
{
	unsigned char *t = df_xcalloc(lc->doc->nnodes + 1, 1);
	unsigned char *end = df_xcalloc(lc->ns + 1, 1);
	unsigned char *asked = df_xmalloc(lc->ns + 1);
	size_t s, i;

	/* only the stages with candidates ask (not settled, and shipping: see
	 * candidate()), and they read the stages they are on */
	for (s = 0; s < lc->ns; s++)
		asked[s] = (unsigned char)asks(lc, s);
	for (s = lc->ns; s-- > 0;)
		if (asked[s] && lc->base[s] >= 0)
			asked[lc->base[s]] = 1;
	for (s = 0; s < lc->ns; s++) {
		unsigned char cur = lc->base[s] >= 0 ? end[lc->base[s]] : 0;

		if (!asked[s])
			continue;

		for (i = lc->st[s].from + 1; i < lc->st[s].end; i++) {
			const struct df_node *n = &lc->doc->nodes[i];
			int r;

			t[i] = cur;
			if (n->kind == DF_INSTRUCTION && n->inst && (r = fn(n, arg)) != 0)
				cur = (unsigned char)r;
		}
		end[s] = cur;
	}
	free(asked);
	free(end);
	return t;
}

/* Table t at node idx, made the first time a RUN needs it (most files never
 * ask for most of them). */
static unsigned char tab(struct lc *lc, enum table t, size_t idx)
{
	static const struct {
		int (*fn)(const struct df_node *, const void *);
		const char *arg;
	} how[T_COUNT] = {
		[T_RECOMMENDS] = { has_text, "Install-Recommends" },
		[T_PIP_ENV] = { sets_var, "PIP_NO_CACHE_DIR" },
		[T_PIP_CACHE] = { sets_var, "PIP_CACHE_DIR" },
		[T_GEMRC] = { has_text, "gemrc" },
		[T_YARN2] = { yarn2_fn, NULL },
		[T_USER] = { user_fn, NULL },
		[T_NPM_LOCK] = { copies_fn, "package-lock.json" },
		[T_NPM_SHRINK] = { copies_fn, "npm-shrinkwrap.json" },
		[T_YARN_LOCK] = { copies_fn, "yarn.lock" },
	};

	if (!lc->t[t])
		lc->t[t] = table(lc, how[t].fn, how[t].arg);
	return lc->t[t][idx];
}

static unsigned char apt_later(struct lc *lc, size_t idx);

/* The root image of the stage chain is `name` (ruby, ruby:3, library/ruby). */
static int root_image_is(const struct lc *lc, size_t s, const char *name)
{
	struct df_span img;
	size_t hops = 0, k = strlen(name), i, slash = 0;

	while (lc->base[s] >= 0 && hops++ < lc->ns)
		s = (size_t)lc->base[s];
	img = lc->st[s].image;
	for (i = 0; i < img.len && img.ptr[i] != ':' && img.ptr[i] != '@'; i++)
		if (img.ptr[i] == '/')
			slash = i + 1;
	return i - slash == k && memcmp(img.ptr + slash, name, k) == 0;
}

/* ---------------------------------------------------------------- commands */

static char *wval(struct one *o, const struct df_sh_cmd *c, int w)
{
	if (w < 0 || (size_t)w >= c->nwords)
		return NULL;
	return df_sh_unquote(&o->scratch, o->base, &c->words[w], NULL);
}

static int digits_dots(const char *s)
{
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.')
			return 0;
	return 1;
}

/* First word from `from` that is not an option (or an option's value). */
static int find_sub(struct one *o, const struct df_sh_cmd *c, int from, const char *shortv,
		    const char *const *longv)
{
	size_t w, k;

	for (w = (size_t)from; w < c->nwords; w++) {
		const struct df_sh_word *wd = &c->words[w];
		char *v;

		if (wd->flags & DF_SH_REDIR)
			continue;
		v = wval(o, c, (int)w);
		if (!v || v[0] != '-' || !v[1])
			return (int)w;
		if (v[1] == '-') {
			if (!v[2])
				return w + 1 < c->nwords ? (int)w + 1 : -1;
			if (strchr(v, '='))
				continue;
			for (k = 0; longv && longv[k]; k++)
				if (strcmp(v + 2, longv[k]) == 0) {
					w++;
					break;
				}
			continue;
		}
		for (k = 1; v[k]; k++)
			if (strchr(shortv, v[k])) {
				if (!v[k + 1])
					w++;
				break;
			}
	}
	return -1;
}

static void classify(struct one *o, const struct df_sh_cmd *c, struct cmd *m)
{
	static const char *const apk_long[] = { "repository", "root", "arch", "cache-dir",
						"keys-dir", "repositories-file", NULL };
	static const char *const yum_long[] = { "releasever", "setopt", "enablerepo",
						"disablerepo", "installroot", "exclude", "repo",
						"repoid", "config", "repofrompath", "forcearch",
						"destdir", NULL };
	const char *b, *v;

	memset(m, 0, sizeof(*m));
	m->sub = -1;
	m->name = df_sh_cmd_name(o->base, c);
	v = wval(o, c, m->name);
	if (!v)
		return;
	b = strrchr(v, '/');
	b = b ? b + 1 : v;
	if (!strcmp(b, "apt-get") || !strcmp(b, "apt")) {
		m->mgr = M_APT;
		m->sub = find_sub(o, c, m->name + 1, "otc", NULL);
	} else if (!strcmp(b, "apk")) {
		m->mgr = M_APK;
		m->sub = find_sub(o, c, m->name + 1, "Xp", apk_long);
	} else if (!strncmp(b, "pip", 3) && digits_dots(b + 3)) {
		m->mgr = M_PIP;
		m->sub = find_sub(o, c, m->name + 1, "", NULL);
	} else if (!strncmp(b, "python", 6) && digits_dots(b + 6)) {
		const char *a1 = wval(o, c, m->name + 1), *a2 = wval(o, c, m->name + 2);

		if (a1 && a2 && !strcmp(a1, "-m") && !strncmp(a2, "pip", 3) && digits_dots(a2 + 3)) {
			m->mgr = M_PIP;
			m->sub = find_sub(o, c, m->name + 3, "", NULL);
		}
	} else if (!strcmp(b, "yum") || !strcmp(b, "dnf") || !strcmp(b, "microdnf")) {
		m->mgr = b[0] == 'y' ? M_YUM : b[0] == 'd' ? M_DNF : M_MICRODNF;
		m->sub = find_sub(o, c, m->name + 1, "cdexR", yum_long);
	} else if (!strcmp(b, "npm")) {
		m->mgr = M_NPM;
		m->sub = find_sub(o, c, m->name + 1, "", NULL);
	} else if (!strcmp(b, "yarn")) {
		m->mgr = M_YARN;
		m->sub = find_sub(o, c, m->name + 1, "", NULL);
	} else if (!strcmp(b, "gem")) {
		m->mgr = M_GEM;
		m->sub = find_sub(o, c, m->name + 1, "", NULL);
	}
	m->subv = wval(o, c, m->sub);
}

/* classify() of command k, computed once per RUN. */
static const struct cmd *cmd_of(struct one *o, size_t k)
{
	if (!o->cm) {
		o->cm = df_arena_alloc(&o->scratch, o->sh.ncmds * sizeof(*o->cm));
		o->cm_done = df_arena_alloc(&o->scratch, o->sh.ncmds);
	}
	if (!o->cm_done[k]) {
		classify(o, &o->sh.cmds[k], &o->cm[k]);
		o->cm_done[k] = 1;
	}
	return &o->cm[k];
}

static int is(const struct cmd *m, enum mgr mgr, const char *sub)
{
	return m->mgr == mgr && m->subv && strcmp(m->subv, sub) == 0;
}

/* Any word of c (after the name) equal to one of the literals. */
static int has_opt(struct one *o, const struct df_sh_cmd *c, const struct cmd *m,
		   const char *const *lits, int prefix)
{
	size_t w, k;

	for (w = (size_t)m->name + 1; w < c->nwords; w++) {
		char *v = wval(o, c, (int)w);

		if (!v)
			continue;
		for (k = 0; lits[k]; k++)
			if (prefix ? strncmp(v, lits[k], strlen(lits[k])) == 0 : strcmp(v, lits[k]) == 0)
				return 1;
	}
	return 0;
}

/* A short-option cluster (-qy) with `ch`, or (min 2) two of them (-qq). */
static int has_short(struct one *o, const struct df_sh_cmd *c, const struct cmd *m, char ch,
		     int min)
{
	size_t w, k;

	for (w = (size_t)m->name + 1; w < c->nwords; w++) {
		char *v = wval(o, c, (int)w);
		int count = 0;

		if (!v || v[0] != '-' || v[1] == '-')
			continue;
		for (k = 1; v[k]; k++) {
			if (!((v[k] >= 'a' && v[k] <= 'z') || (v[k] >= 'A' && v[k] <= 'Z')))
				break;
			count += v[k] == ch;
		}
		if (!v[k] && count >= min)
			return 1;
	}
	return 0;
}

/* Positional arguments after the subcommand (packages named)? */
static int has_args_after(struct one *o, const struct df_sh_cmd *c, int from)
{
	size_t w;

	for (w = (size_t)from; w < c->nwords; w++) {
		const struct df_sh_word *wd = &c->words[w];
		char *v;

		if (wd->flags & DF_SH_REDIR)
			continue;
		v = wval(o, c, (int)w);
		if (!v || v[0] != '-')
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- edits */

static void add_edit(struct one *o, size_t off, size_t end, const char *text, size_t len)
{
	struct edit *e;

	if (o->ned == o->capd) {
		o->capd = o->capd ? o->capd * 2 : 8;
		o->ed = df_xrealloc(o->ed, o->capd * sizeof(*o->ed));
	}
	e = &o->ed[o->ned];
	e->off = off;
	e->end = end;
	e->text = df_xstrndup(text, len);
	e->len = len;
	e->seq = o->ned++;
}

/* Insert " text" right after word w of command c. */
static int insert_after(struct one *o, const struct df_sh_cmd *c, int w, const char *text)
{
	const struct df_sh_word *wd = &c->words[w];
	size_t at = map_end(o->inst, wd->off + wd->len);
	struct df_buf b = DF_BUF_INIT;

	df_buf_addc(&b, ' ');
	df_buf_adds(&b, text);
	add_edit(o, at, at, b.ptr, b.len);
	df_buf_release(&b);
	return 1;
}

static int edit_cmp(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void add_tail(struct one *o, const char *cmd)
{
	size_t i;

	if (o->nnotes) /* the note just recorded is about this command */
		o->notes[o->nnotes - 1].tail = 1;

	for (i = 0; i < o->ntails; i++)
		if (strcmp(o->tails[i], cmd) == 0)
			return;
	if (o->ntails < MAX_TAILS)
		o->tails[o->ntails++] = cmd;
}

static void add_mount(struct one *o, const char *m)
{
	size_t i;

	for (i = 0; i < o->nmounts; i++)
		if (strcmp(o->mounts[i], m) == 0)
			return;
	if (o->nmounts < MAX_MOUNTS)
		o->mounts[o->nmounts++] = m;
}

/* Does the RUN already mount a cache whose target mentions `what`? */
static int cache_mounted(const struct one *o, const char *what)
{
	size_t f;

	for (f = 0; f < o->inst->nflags; f++) {
		struct df_span m = o->inst->flags[f];

		if (m.len > 8 && memcmp(m.ptr, "--mount=", 8) == 0 && df_mem_has(m.ptr, m.len, "type=cache") &&
		    df_mem_has(m.ptr, m.len, what))
			return 1;
	}
	return 0;
}

static const struct df_sh_cmd *last_top(const struct df_sh_script *sh)
{
	const struct df_sh_cmd *last = NULL;
	size_t k;

	for (k = 0; k < sh->ncmds; k++)
		if (sh->cmds[k].depth == 0)
			last = &sh->cmds[k];
	return last;
}

static int has_set(struct one *o)
{
	size_t k;

	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		int nm = df_sh_cmd_name(o->base, c);

		if (nm >= 0 && df_sh_word_is(o->base, &c->words[nm], "set"))
			return 1;
	}
	return 0;
}

/* Append the tail commands as continuation lines after the last command. */
static int edit_tails(struct one *o)
{
	const struct df_node *n = o->n;
	const struct df_line *ll = &n->lines[n->nlines - 1];
	const struct df_sh_cmd *last = last_top(&o->sh);
	struct df_buf b = DF_BUF_INIT, ind = DF_BUF_INIT;
	const char *eol = df_doc_eol(o->lc->doc);
	char esc[2] = { o->lc->doc->escape, '\0' };
	size_t nbody, nend, ncomment = (size_t)-1, k, l, nsemi = 0, nand = 0;
	int semi, trailing;

	if (!last || (last->op != DF_SH_OP_NONE && last->op != DF_SH_OP_SEMI))
		return 0;
	/* `{ set -e; a; b; } && tail` would ignore -e inside the group (it is
	 * no longer the last of its AND-OR list), so would an errexit SHELL */
	if ((last->kind == DF_SH_BRACE || last->kind == DF_SH_SUBSHELL) &&
	    ((o->lc->shells[o->idx] & SH_ERREXIT) || has_set(o)))
		return 0;
	nbody = map_end(o->inst, last->end);
	nend = n->text.len - ll->eol;
	if (nbody > nend || ll->kind != DF_LINE_CODE)
		return 0;
	for (l = 0; l < n->nlines; l++)
		if (n->lines[l].kind == DF_LINE_COMMENT && n->lines[l].off >= nbody)
			return 0;
	if (o->sh.trail_len) {
		ncomment = map_start(o->inst, o->sh.trail_off);
		if (ncomment < ll->off || ncomment < nbody)
			return 0; /* the comment started on an earlier line */
	}
	for (k = 0; k < o->sh.ncmds; k++)
		if (o->sh.cmds[k].depth == 0 && &o->sh.cmds[k] != last) {
			nsemi += o->sh.cmds[k].op == DF_SH_OP_SEMI;
			nand += o->sh.cmds[k].op == DF_SH_OP_AND;
		}
	semi = o->sh.sets_e && nsemi > nand;
	trailing = !semi && df_runs_style(o->lc->doc, o->idx) > 0;
	df_runs_indent(o->lc->ctx, o->lc->doc, o->idx, o->idx, &ind);
	for (k = 0; k < o->ntails; k++) {
		df_buf_adds(&b, semi ? "; " : trailing ? " && " : " ");
		df_buf_adds(&b, esc);
		df_buf_adds(&b, eol);
		if (k == 0 && ncomment != (size_t)-1) {
			df_buf_adds(&b, ind.ptr);
			df_buf_add(&b, n->text.ptr + ncomment, ll->off + ll->indent + ll->body - ncomment);
			df_buf_adds(&b, eol);
		}
		df_buf_adds(&b, ind.ptr);
		if (!semi && !trailing)
			df_buf_adds(&b, "&& ");
		df_buf_adds(&b, o->tails[k]);
	}
	add_edit(o, nbody, nend, b.ptr, b.len);
	df_buf_release(&b);
	df_buf_release(&ind);
	return 1;
}

/* Put the cache mounts right after the RUN keyword, one per line. */
static int edit_mounts(struct one *o)
{
	const struct df_node *n = o->n;
	const struct df_inst *inst = o->inst;
	const struct df_line *l0 = &n->lines[0];
	struct df_buf b = DF_BUF_INIT, ind = DF_BUF_INIT;
	const char *eol = df_doc_eol(o->lc->doc);
	char esc[2] = { o->lc->doc->escape, '\0' };
	size_t koff = (size_t)(inst->keyword.ptr - inst->logical.ptr), kend, j, body_end, k;

	if (!inst->keyword.len)
		return 0;
	kend = df_inst_node_off(inst, koff + inst->keyword.len - 1) + 1;
	body_end = l0->off + l0->indent + l0->body;
	if (kend > body_end)
		return 0;
	df_runs_indent(o->lc->ctx, o->lc->doc, o->idx, o->idx, &ind);
	j = kend;
	while (j < body_end && (n->text.ptr[j] == ' ' || n->text.ptr[j] == '\t'))
		j++;
	for (k = 0; k < o->nmounts; k++) {
		if (k) {
			df_buf_adds(&b, " ");
			df_buf_adds(&b, esc);
			df_buf_adds(&b, eol);
			df_buf_adds(&b, ind.ptr);
		} else {
			df_buf_addc(&b, ' ');
		}
		df_buf_adds(&b, o->mounts[k]);
	}
	if (j < body_end) { /* the line goes on: break it before the rest */
		df_buf_adds(&b, " ");
		df_buf_adds(&b, esc);
		df_buf_adds(&b, eol);
		df_buf_adds(&b, ind.ptr);
		add_edit(o, kend, j, b.ptr, b.len);
	} else {
		add_edit(o, kend, kend, b.ptr, b.len);
	}
	df_buf_release(&b);
	df_buf_release(&ind);
	return 1;
}

/* Add the edited RUN to the batch if it is still one RUN with the
 * commands and flags expected; 1 when added. */
static int apply(struct one *o)
{
	struct lc *lc = o->lc;
	const struct df_node *n = o->n;
	struct df_buf b = DF_BUF_INIT;
	struct df_doc *frag;
	struct df_sh_script sh;
	size_t i, pos = 0;
	int ok = 0;

	if (!o->ned)
		return 0;
	qsort(o->ed, o->ned, sizeof(*o->ed), edit_cmp);
	for (i = 0; i < o->ned; i++) {
		if (o->ed[i].off < pos || o->ed[i].end < o->ed[i].off || o->ed[i].end > n->text.len)
			goto out;
		df_buf_add(&b, n->text.ptr + pos, o->ed[i].off - pos);
		df_buf_add(&b, o->ed[i].text, o->ed[i].len);
		pos = o->ed[i].end;
	}
	df_buf_add(&b, n->text.ptr + pos, n->text.len - pos);
	frag = df_doc_parse_fragment(b.ptr, b.len, lc->doc->escape);
	if (!frag->ndiags && frag->nnodes == 1 && frag->nodes[0].kind == DF_INSTRUCTION &&
	    frag->nodes[0].inst && frag->nodes[0].inst->cmd == DF_CMD_RUN &&
	    !frag->nodes[0].inst->json && !frag->nodes[0].inst->nheredocs &&
	    frag->nodes[0].inst->nflags == o->inst->nflags + o->nmounts) {
		const struct df_inst *ni = frag->nodes[0].inst;

		ok = df_sh_parse(&frag->arena, ni->rest.ptr, ni->rest.len, &sh) == 0 && !sh.complex &&
		     sh.ncmds + (size_t)o->dropped == o->sh.ncmds + o->ntails &&
		     (sh.trail_len != 0) == (o->sh.trail_len != 0 && !o->ntails);
	}
	df_doc_free(frag);
	if (!ok)
		goto out;
	if (lc->ned == lc->capd) {
		lc->capd = lc->capd ? lc->capd * 2 : 16;
		lc->ed = df_xrealloc(lc->ed, lc->capd * sizeof(*lc->ed));
	}
	lc->ed[lc->ned].first = lc->ed[lc->ned].last = o->idx;
	lc->ed[lc->ned].off = lc->text.len;
	lc->ed[lc->ned].len = b.len;
	lc->ned++;
	df_buf_add(&lc->text, b.ptr, b.len);
out:
	df_buf_release(&b);
	return ok;
}

/* Findings wait until the batch is applied. */
static void pend(struct lc *lc, const char *code, uint32_t line, const char *msg)
{
	if (lc->npend == lc->cappend) {
		lc->cappend = lc->cappend ? lc->cappend * 2 : 16;
		lc->pend = df_xrealloc(lc->pend, lc->cappend * sizeof(*lc->pend));
	}
	lc->pend[lc->npend].code = code;
	lc->pend[lc->npend].line = line;
	lc->pend[lc->npend].msg = df_xstrndup(msg, strlen(msg));
	lc->npend++;
}

/* Apply the batch; record the findings when it took. */
static int flush(struct lc *lc)
{
	size_t i;
	int ok = lc->ned && df_runs_apply(lc->doc, lc->ed, lc->ned, lc->text.ptr, lc->text.len) == 0;

	for (i = 0; i < lc->npend; i++) {
		if (ok)
			df_ctx_finding(lc->ctx, lc->pend[i].code, lc->pend[i].line, "%s", lc->pend[i].msg);
		free(lc->pend[i].msg);
	}
	lc->npend = 0;
	i = lc->ned;
	lc->ned = 0;
	df_buf_reset(&lc->text);
	return ok ? (int)i : 0;
}

/* ---------------------------------------------------------------- managers */

static const char *const apt_lists_free[] = { "update", "clean", "autoclean", "remove",
					      "purge", "autoremove", NULL };

static int in_list(const char *v, const char *const *list)
{
	size_t k;

	for (k = 0; v && list[k]; k++)
		if (strcmp(v, list[k]) == 0)
			return 1;
	return 0;
}

static int mentions_apt(const struct df_node *n)
{
	static const char *const words[] = { "apt-get", "apt-cache", "aptitude", "apt install",
					      "apt update", "apt upgrade", "apt-fast", NULL };
	size_t k;

	if (!df_mem_has(n->text.ptr, n->text.len, "apt")) /* one look for most nodes */
		return 0;
	for (k = 0; words[k]; k++)
		if (df_mem_has(n->text.ptr, n->text.len, words[k]))
			return 1;
	return 0;
}

/* Does the RUN at idx use apt's package lists before updating them itself?
 * Unparsable RUNs that mention apt count as yes. */
static int apt_needs_lists(struct lc *lc, size_t idx)
{
	const struct df_node *n = &lc->doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	struct one o;
	size_t k;
	int r = 0;

	if (n->kind != DF_INSTRUCTION || !inst)
		return 0;
	if (n->cmd != DF_CMD_RUN || inst->json || inst->nheredocs)
		return mentions_apt(n);
	if (!df_mem_has(n->text.ptr, n->text.len, "apt")) /* all mentions_apt() looks for hold it */
		return 0;
	one_clear(&o);
	o.lc = lc;
	o.inst = inst;
	o.base = inst->rest.ptr;
	df_arena_init(&o.scratch);
	if (df_sh_parse_rest(lc->doc, inst, &o.sh) < 0 || o.sh.complex) {
		r = mentions_apt(n);
		goto out;
	}
	for (k = 0; k < o.sh.ncmds; k++) {
		struct cmd m;

		classify(&o, &o.sh.cmds[k], &m);
		if (m.mgr != M_APT) {
			char *v = wval(&o, &o.sh.cmds[k], m.name);

			if (v && (strstr(v, "apt-cache") || strstr(v, "aptitude"))) {
				r = 1;
				break;
			}
			continue;
		}
		if (is(&m, M_APT, "update"))
			break;
		if (!in_list(m.subv, apt_lists_free)) {
			r = 1;
			break;
		}
	}
out:
	df_arena_release(&o.scratch);
	return r;
}

/* A command after cmds[from] that mentions `needle` in a word, or is the
 * manager's `clean` subcommand. */
static int cleaned_after(struct one *o, size_t from, const char *needle, enum mgr mgr,
			 const char *clean_sub)
{
	size_t k, w;

	for (k = from + 1; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m;

		if (c->kind != DF_SH_SIMPLE)
			continue;
		for (w = 0; needle && w < c->nwords; w++)
			if (df_mem_has(o->base + c->words[w].off, c->words[w].len, needle))
				return 1;
		if (!clean_sub)
			continue;
		m = *cmd_of(o, (size_t)(c - o->sh.cmds));
		if ((m.mgr == mgr || (mgr >= M_YUM && mgr <= M_MICRODNF && m.mgr >= M_YUM &&
				      m.mgr <= M_MICRODNF)) &&
		    m.subv && strcmp(m.subv, clean_sub) == 0) {
			char *v = wval(o, c, m.sub + 1);

			if ((mgr != M_NPM && mgr != M_YARN) || (v && strcmp(v, "clean") == 0))
				return 1;
		}
	}
	return 0;
}

static int yarn_berry(struct lc *lc)
{
	char *pkg;
	size_t len;

	if (lc->yarn_berry >= 0)
		return lc->yarn_berry;
	lc->yarn_berry = df_context_exists(lc->ctx, ".yarnrc.yml");
	pkg = df_context_read(lc->ctx, "package.json", &len);
	if (pkg) {
		char *p = strstr(pkg, "\"packageManager\"");

		if (p) { /* "packageManager": "yarn@4.1.0" */
			p += 16;
			while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ':' || *p == '"')
				p++;
			if (strncmp(p, "yarn@", 5) == 0 && p[5] != '1')
				lc->yarn_berry = 1;
		}
		free(pkg);
	}
	return lc->yarn_berry;
}

/* The last word of the run of simple options right after the subcommand
 * (`install -y -q`), so new flags go with them; stops before an option
 * that takes a value in the next word (-o X, -t X, -c X). */
static int opts_end(struct one *o, const struct df_sh_cmd *c, int sub)
{
	int w = sub;

	while ((size_t)w + 1 < c->nwords) {
		const struct df_sh_word *wd = &c->words[w + 1];
		char *v;
		size_t k;

		if (wd->flags & DF_SH_REDIR)
			break;
		v = wval(o, c, w + 1);
		if (!v || v[0] != '-' || !v[1] || !strcmp(v, "--"))
			break;
		k = strlen(v);
		if (v[1] != '-' && strchr("otc", v[k - 1]))
			break;
		if (v[1] == '-' && !strchr(v, '=') &&
		    (!strcmp(v, "--option") || !strcmp(v, "--target-release") || !strcmp(v, "--config-file")))
			break;
		w++;
	}
	return w;
}

static void do_apt(struct one *o)
{
	struct lc *lc = o->lc;
	long last_update = -1;
	int configured = -1;
	size_t k;

	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m;
		static const char *const yes[] = { "-y", "--yes", "--assume-yes", "-qq", "-q=2",
						   "--quiet=2", NULL };
		static const char *const nir[] = { "--no-install-recommends", NULL };
		static const char *const nir_o[] = { "APT::Install-Recommends=false",
						     "APT::Install-Recommends=0",
						     "APT::Install-Recommends=no", NULL };
		struct df_buf f = DF_BUF_INIT;

		m = *cmd_of(o, (size_t)(c - o->sh.cmds));
		if (m.mgr != M_APT || !m.subv)
			continue;
		if (!strcmp(m.subv, "update")) {
			last_update = (long)k;
			continue;
		}
		if (strcmp(m.subv, "install") != 0)
			continue;
		if (!has_opt(o, c, &m, yes, 0) && !has_short(o, c, &m, 'y', 1) &&
		    !has_short(o, c, &m, 'q', 2) && code_ok(lc, o->idx, "DL3014")) {
			df_buf_adds(&f, "-y");
			note(o, "DL3014", "%s install: added -y so the build never waits for an answer (DL3014)",
			     wval(o, c, m.name));
		}
		if (configured < 0)
			configured = tab(lc, T_RECOMMENDS, o->idx) ||
				     df_mem_has(o->inst->logical.ptr, o->inst->logical.len,
					     "Install-Recommends");
		if (!configured && !has_opt(o, c, &m, nir, 0) && !has_opt(o, c, &m, nir_o, 0) &&
		    code_ok(lc, o->idx, "DL3015")) {
			if (f.len)
				df_buf_addc(&f, ' ');
			df_buf_adds(&f, "--no-install-recommends");
			note(o, "DL3015", "%s install: added --no-install-recommends: only the packages asked for (DL3015)",
			     wval(o, c, m.name));
		}
		if (f.len)
			insert_after(o, c, opts_end(o, c, m.sub), f.ptr);
		df_buf_release(&f);
	}
	if (last_update < 0 ||
	    cleaned_after(o, (size_t)last_update, "/var/lib/apt/lists", M_APT, "dist-clean") ||
	    cache_mounted(o, "/var/lib/apt") || !code_ok(lc, o->idx, "DL3009") ||
	    apt_later(lc, o->idx))
		return;
	if (lc->ctx->cache_mounts) {
		add_mount(o, "--mount=type=cache,target=/var/cache/apt,sharing=locked");
		add_mount(o, "--mount=type=cache,target=/var/lib/apt,sharing=locked");
		note(o, "DL3009", "apt: package lists and downloads kept in cache mounts, not in the layer (DL3009)%s", "");
	} else {
		note(o, "DL3009", "apt: removed the package lists in the layer that fetched them (DL3009)%s", "");
		add_tail(o, "rm -rf /var/lib/apt/lists/*");
	}
}

static void do_apk(struct one *o)
{
	struct lc *lc = o->lc;
	int others = 0, cached = lc->ctx->cache_mounts || cache_mounted(o, "apk");
	size_t k;
	static const char *const nc[] = { "--no-cache", NULL };

	if (!code_ok(lc, o->idx, "DL3019"))
		return;
	for (k = 0; k < o->sh.ncmds; k++) {
		struct cmd m;

		m = *cmd_of(o, k);
		if (m.mgr == M_APK && !is(&m, M_APK, "update") && !is(&m, M_APK, "add") &&
		    !is(&m, M_APK, "del"))
			others = 1;
	}
	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m;

		m = *cmd_of(o, (size_t)(c - o->sh.cmds));
		if (is(&m, M_APK, "add") && !has_opt(o, c, &m, nc, 0)) {
			if (cache_mounted(o, "apk"))
				continue;
			if (lc->ctx->cache_mounts) {
				add_mount(o, M_APK_MOUNT);
				note(o, "DL3019", "apk add: the index and packages go to a cache mount, not the layer (DL3019)%s", "");
			} else {
				insert_after(o, c, m.sub, "--no-cache");
				note(o, "DL3019", "apk add: added --no-cache: no package index left in the layer (DL3019)%s", "");
			}
			continue;
		}
		/* apk update directly before an apk add that does not cache */
		if (is(&m, M_APK, "update") && !cached && !others && c->depth == 0 &&
		    (c->op == DF_SH_OP_AND || c->op == DF_SH_OP_SEMI) && k + 1 < o->sh.ncmds &&
		    o->sh.cmds[k + 1].depth == 0 && m.name == 0 && c->nwords == 2) {
			const struct df_sh_cmd *nx = &o->sh.cmds[k + 1];
			struct cmd m2;
			size_t from = map_start(o->inst, c->off), to = map_start(o->inst, nx->off), l;
			int comment = 0;

			m2 = *cmd_of(o, k + 1);
			if (!is(&m2, M_APK, "add"))
				continue;
			for (l = 0; l < o->n->nlines; l++)
				if (o->n->lines[l].kind == DF_LINE_COMMENT && o->n->lines[l].off >= from &&
				    o->n->lines[l].off < to)
					comment = 1;
			if (comment || to <= from)
				continue;
			add_edit(o, from, to, "", 0);
			o->dropped++;
			note(o, "DL3019", "dropped `apk update`: apk add --no-cache fetches a fresh index (DL3019)%s", "");
		}
	}
}

static void do_pip(struct one *o)
{
	struct lc *lc = o->lc;
	size_t k;
	static const char *const nc[] = { "--no-cache", NULL };
	int env = -1;

	if (!code_ok(lc, o->idx, "DL3042") || cache_mounted(o, "pip") ||
	    cache_mounted(o, "/root/.cache"))
		return;
	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m;

		m = *cmd_of(o, (size_t)(c - o->sh.cmds));
		if (!is(&m, M_PIP, "install") || has_opt(o, c, &m, nc, 1))
			continue;
		if (env < 0)
			env = tab(lc, T_PIP_ENV, o->idx) ||
			      df_mem_has(o->inst->logical.ptr, o->inst->logical.len, "PIP_NO_CACHE_DIR");
		if (env)
			return;
		if (lc->ctx->cache_mounts && tab(lc, T_USER, o->idx) != 2 && !tab(lc, T_PIP_CACHE, o->idx) &&
		    !df_mem_has(o->inst->logical.ptr, o->inst->logical.len, "PIP_CACHE_DIR")) {
			add_mount(o, M_PIP_MOUNT);
			note(o, "DL3042", "pip install: the download cache goes to a cache mount, not the layer (DL3042)%s", "");
		} else {
			insert_after(o, c, m.sub, "--no-cache-dir");
			note(o, "DL3042", "pip install: added --no-cache-dir: no wheel cache left in the layer (DL3042)%s", "");
		}
	}
}

static int yum_install(const char *s)
{
	static const char *const subs[] = { "install", "groupinstall", "localinstall", "reinstall",
					    "update", "upgrade", NULL };

	return in_list(s, subs);
}

static void do_yum(struct one *o)
{
	struct lc *lc = o->lc;
	static const char *const yes[] = { "-y", "--assumeyes", NULL };
	static const char *const root[] = { "--installroot", NULL };
	long last[M_MICRODNF + 1] = { -1, -1, -1, -1, -1, -1, -1 };
	enum mgr order[3];
	size_t k, norder = 0;

	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m;
		const char *code;

		m = *cmd_of(o, (size_t)(c - o->sh.cmds));
		if (m.mgr < M_YUM || m.mgr > M_MICRODNF || !yum_install(m.subv))
			continue;
		if (has_opt(o, c, &m, root, 1))
			return;
		code = m.mgr == M_YUM ? "DL3030" : "DL3038";
		if (!has_opt(o, c, &m, yes, 0) && !has_short(o, c, &m, 'y', 1) && code_ok(lc, o->idx, code)) {
			insert_after(o, c, m.sub, "-y");
			note(o, code, "%s: added -y so the build never waits for an answer", mgr_name[m.mgr]);
		}
		if (last[m.mgr] < 0 && norder < 3)
			order[norder++] = m.mgr;
		last[m.mgr] = (long)k;
	}
	for (k = 0; k < norder; k++) {
		enum mgr g = order[k];
		const char *code = g == M_YUM ? "DL3032" : "DL3040";

		if (cleaned_after(o, (size_t)last[g], g == M_YUM ? "/var/cache/yum" : "/var/cache/dnf", g,
				  "clean") || !code_ok(lc, o->idx, code))
			continue;
		note(o, code, "%s: cleaned its metadata and package cache in the same layer", mgr_name[g]);
		add_tail(o, g == M_YUM ? "yum clean all" : g == M_DNF ? "dnf clean all" :
			 "microdnf clean all");
	}
}

/* Does command c change the directory (cd, pushd)? A lockfile copied
 * before then is not the one the install reads. */
static int changes_dir(struct one *o, const struct df_sh_cmd *c, const struct cmd *m)
{
	const char *nm = wval(o, c, m->name);

	return nm && (!strcmp(nm, "cd") || !strcmp(nm, "pushd"));
}

/* A package manager's download cache the RUN filled: into a cache mount
 * with --cache-mounts (unless the stage runs as another user, who could not
 * write it), else removed by `clean` at the end of the RUN. */
static void cache_away(struct one *o, const char *tool, const char *code, const char *mount,
		       const char *clean)
{
	int to_mount = o->lc->ctx->cache_mounts && tab(o->lc, T_USER, o->idx) != 2;
	char msg[200];

	snprintf(msg, sizeof(msg), "%s: %s%s%s%s", tool,
		 to_mount ? "the download cache goes to a cache mount, not the layer"
			  : "removed the download cache in the layer that filled it",
		 code ? " (" : "", code ? code : "", code ? ")" : "");
	note(o, code, "%s", msg); /* (before add_tail: the note is the tail's) */
	if (to_mount)
		add_mount(o, mount);
	else
		add_tail(o, clean);
}

/* Is a lockfile both in the context and copied into the stage before idx? */
static int lock_copied(struct one *o, enum table t, const char *file)
{
	return tab(o->lc, t, o->idx) && df_context_exists(o->lc->ctx, file);
}

static void do_npm(struct one *o)
{
	static const char *const nolock[] = { "--no-package-lock", "--package-lock-only",
					      "--package-lock=false", "--prefix", "-C", NULL };
	long last = -1;
	int cd = 0, lock = -1;
	size_t k;

	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m = *cmd_of(o, k);

		cd |= changes_dir(o, c, &m);
		if (m.mgr != M_NPM || !m.subv || (strcmp(m.subv, "install") && strcmp(m.subv, "i") &&
						  strcmp(m.subv, "add")))
			continue;
		if (strcmp(m.subv, "add") && !cd && !has_args_after(o, c, m.sub + 1) &&
		    !has_opt(o, c, &m, nolock, 1)) {
			const struct df_sh_word *w = &c->words[m.sub];
			size_t from = map_start(o->inst, w->off), to = map_end(o->inst, w->off + w->len);

			if (lock < 0)
				lock = lock_copied(o, T_NPM_LOCK, "package-lock.json") ||
				       lock_copied(o, T_NPM_SHRINK, "npm-shrinkwrap.json");
			if (lock && to - from == w->len) {
				add_edit(o, from, to, "ci", 2);
				note(o, NULL, "npm %s -> npm ci: the lockfile in the build context is copied; "
				     "ci installs exactly it", m.subv);
				continue;
			}
		}
		last = (long)k;
	}
	if (last < 0 || cleaned_after(o, (size_t)last, NULL, M_NPM, "cache") ||
	    cache_mounted(o, ".npm"))
		return;
	cache_away(o, "npm", NULL, M_NPM_MOUNT, "npm cache clean --force");
}

static void do_yarn(struct one *o)
{
	struct lc *lc = o->lc;
	static const char *const frozen[] = { "--frozen-lockfile", "--immutable", "--pure-lockfile",
					      "--no-lockfile", NULL };
	static const char *const fills[] = { "install", "add", "global", "upgrade", NULL };
	long last = -1;
	int cd = 0, lock = -1;
	size_t k;

	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m = *cmd_of(o, k);

		cd |= changes_dir(o, c, &m);
		if (m.mgr != M_YARN || (m.sub >= 0 && !in_list(m.subv, fills)))
			continue;
		if (m.sub >= 0 && m.subv == NULL)
			continue;
		if (yarn_berry(lc) || tab(lc, T_YARN2, o->idx) ||
		    df_mem_has(o->inst->logical.ptr, o->inst->logical.len, "corepack"))
			return;
		last = (long)k;
		if ((m.sub < 0 || !strcmp(m.subv, "install")) && !cd && !has_opt(o, c, &m, frozen, 0) &&
		    (m.sub < 0 || !has_args_after(o, c, m.sub + 1))) {
			if (lock < 0)
				lock = lock_copied(o, T_YARN_LOCK, "yarn.lock");
			if (lock) {
				insert_after(o, c, m.sub >= 0 ? m.sub : m.name, "--frozen-lockfile");
				note(o, NULL, "yarn install: added --frozen-lockfile: yarn.lock is in the build "
				     "context and copied%s", "");
			}
		}
	}
	if (last < 0 || cleaned_after(o, (size_t)last, NULL, M_YARN, "cache") ||
	    cache_mounted(o, "yarn") || !code_ok(lc, o->idx, "DL3060"))
		return;
	cache_away(o, "yarn", "DL3060", M_YARN_MOUNT, "yarn cache clean");
}

static void do_gem(struct one *o)
{
	static const char *const nodoc[] = { "--no-document", "-N", "--no-doc", "--no-rdoc",
					     "--no-ri", NULL };
	int configured = -1;
	size_t k;

	for (k = 0; k < o->sh.ncmds; k++) {
		const struct df_sh_cmd *c = &o->sh.cmds[k];
		struct cmd m;

		m = *cmd_of(o, (size_t)(c - o->sh.cmds));
		if (!is(&m, M_GEM, "install") || has_opt(o, c, &m, nodoc, 0))
			continue;
		if (configured < 0)
			configured = root_image_is(o->lc, o->stage, "ruby") || tab(o->lc, T_GEMRC, o->idx);
		if (configured)
			return;
		insert_after(o, c, m.sub, "--no-document");
		note(o, NULL, "gem install: added --no-document: no generated docs in the layer%s", "");
	}
}

/* ---------------------------------------------------------------- the pass */

/* Fill o for the RUN at idx if the pass may edit it; release(o) after,
 * whatever the answer. */
static int candidate(struct lc *lc, size_t idx, struct one *o)
{
	const struct df_node *n = &lc->doc->nodes[idx];
	size_t k;
	long s = lc->stage[idx];

	/* (a stage the last run left settled, or whose files do not ship:
	 * without reading the model) */
	if (n->kind != DF_INSTRUCTION || n->cmd != DF_CMD_RUN || s < 0 || !asks(lc, (size_t)s) ||
	    !n->inst || n->inst->json ||
	    n->inst->nheredocs || !(lc->shells[idx] & SH_OK) || !n->nlines ||
	    n->lines[n->nlines - 1].kind != DF_LINE_CODE) {
		o->ed = NULL; /* what release() reads */
		o->ned = 0;
		df_arena_init(&o->scratch);
		return 0;
	}
	one_clear(o);
	df_arena_init(&o->scratch);
	o->lc = lc;
	o->idx = idx;
	o->stage = (size_t)s;
	o->n = n;
	o->inst = n->inst;
	o->base = n->inst->rest.ptr;
	if (df_sh_parse_rest(lc->doc, n->inst, &o->sh) < 0 || o->sh.complex ||
	    o->sh.has_heredoc || !o->sh.ncmds)
		return 0;
	for (k = 0; k < o->sh.ncmds; k++)
		if (o->sh.cmds[k].op == DF_SH_OP_AMP)
			return 0; /* background jobs: not sure what ends when */
	return !pass_off(lc, idx);
}

static void release(struct one *o)
{
	size_t i;

	for (i = 0; i < o->ned; i++)
		free(o->ed[i].text);
	df_arena_release(&o->scratch);
	free(o->ed);
	o->ed = NULL;
	o->ned = o->capd = 0;
}

/* The first/last package command of manager g in the RUN: its subcommand. */
static const char *edge_sub(struct one *o, enum mgr g, int first)
{
	const char *r = NULL;
	size_t k;

	for (k = 0; k < o->sh.ncmds; k++) {
		struct cmd m;

		m = *cmd_of(o, k);
		if (m.mgr != g)
			continue;
		r = m.subv ? m.subv : "";
		if (first)
			return r;
	}
	return r;
}

/* `RUN apt-get update` directly followed by `RUN apt-get install ...`
 * (or apk update / apk add): merge the pair so one layer fetches and
 * cleans. */
static int merge_updates(struct lc *lc)
{
	size_t i, j;

	for (i = 0; i < lc->doc->nnodes; i++) {
		struct one a, b;
		enum mgr g;
		const char *code, *la, *fb;

		if (!candidate(lc, i, &a)) {
			release(&a);
			continue;
		}
		for (j = i + 1; j < lc->doc->nnodes && (lc->doc->nodes[j].kind == DF_COMMENT ||
							 lc->doc->nodes[j].kind == DF_BLANK); j++)
			;
		if (j >= lc->doc->nnodes || !candidate(lc, j, &b)) {
			if (j < lc->doc->nnodes)
				release(&b);
			release(&a);
			continue;
		}
		for (g = M_APT; g <= M_APK; g++) {
			size_t off = lc->text.len;
			char msg[200];

			la = edge_sub(&a, g, 0);
			fb = edge_sub(&b, g, 1);
			code = g == M_APT ? "DL3009" : "DL3019";
			if (!la || !fb || strcmp(la, "update") != 0 || !code_ok(lc, i, code) ||
			    !code_ok(lc, j, code))
				continue;
			if (g == M_APT ? in_list(fb, apt_lists_free) : strcmp(fb, "add") != 0)
				continue;
			if (df_runs_merge_text(lc->ctx, lc->doc, i, j, lc->shells[i] & SH_ERREXIT,
					       &lc->text) < 2)
				continue;
			if (lc->ned == lc->capd) {
				lc->capd = lc->capd ? lc->capd * 2 : 16;
				lc->ed = df_xrealloc(lc->ed, lc->capd * sizeof(*lc->ed));
			}
			lc->ed[lc->ned].first = i;
			lc->ed[lc->ned].last = j;
			lc->ed[lc->ned].off = off;
			lc->ed[lc->ned].len = lc->text.len - off;
			lc->ned++;
			snprintf(msg, sizeof(msg), "merged the %s update RUN with the install RUN after "
				 "it: one layer fetches and cleans (%s)", g == M_APT ? "apt-get" : "apk", code);
			pend(lc, code, lc->doc->nodes[i].line, msg);
			i = j;
			break;
		}
		release(&a);
		release(&b);
	}
	return flush(lc);
}

static void unload(struct lc *lc)
{
	size_t k;

	free(lc->st);
	free(lc->base);
	free(lc->stage);
	free(lc->shells);
	free(lc->apt_later);
	for (k = 0; k < T_COUNT; k++)
		free(lc->t[k]);
	lc->st = NULL;
	lc->base = lc->stage = NULL;
	lc->shells = lc->apt_later = NULL;
	memset(lc->t, 0, sizeof(lc->t));
}

/* Stages and shells; what a RUN needs to know about the ones before and
 * after it is made when first asked (tab(), apt_later()): linear in the
 * document. */
static void load(struct lc *lc)
{
	size_t s, i;

	unload(lc);
	lc->st = df_runs_stages(lc->doc, &lc->ns);
	lc->base = df_xcalloc(lc->ns + 1, sizeof(*lc->base));
	lc->stage = df_xcalloc(lc->doc->nnodes + 1, sizeof(*lc->stage));
	for (i = 0; i < lc->doc->nnodes; i++)
		lc->stage[i] = -1;
	for (s = 0; s < lc->ns; s++) {
		lc->base[s] = lc->st[s].base;
		for (i = lc->st[s].from + 1; i < lc->st[s].end; i++)
			lc->stage[i] = (long)s;
	}
	lc->shells = df_runs_shells(lc->doc, lc->st, lc->ns);
}

/* Does a RUN after node idx in its stage, or in a stage built on it, use
 * apt's package lists before updating them? The table is made the first
 * time a RUN asks. */
static unsigned char apt_later(struct lc *lc, size_t idx)
{
	unsigned char *need, *has, *later_stage, *want;
	size_t s, i;

	if (lc->apt_later)
		return lc->apt_later[idx];
	/* apt_later[i]: a RUN after node i in its stage, or in a stage built
	 * on it, uses the package lists before updating them */
	need = df_xcalloc(lc->doc->nnodes + 1, 1);
	has = df_xcalloc(lc->ns + 1, 1);         /* the stage has such a RUN */
	later_stage = df_xcalloc(lc->ns + 1, 1); /* a stage built on it has */
	/* only the stages with candidates ask, and the stages built on them
	 * count */
	want = df_xcalloc(lc->ns + 1, 1);
	for (s = 0; s < lc->ns; s++)
		want[s] = asks(lc, s) ||
			  (lc->base[s] >= 0 && want[lc->base[s]]);
	for (i = 0; i < lc->doc->nnodes; i++)
		if (lc->stage[i] >= 0 && want[lc->stage[i]] &&
		    (need[i] = (unsigned char)apt_needs_lists(lc, i)))
			has[lc->stage[i]] = 1;
	for (s = lc->ns; s-- > 0;) /* a base stage comes before the stages on it */
		if (lc->base[s] >= 0 && (has[s] || later_stage[s]))
			later_stage[lc->base[s]] = 1;
	lc->apt_later = df_xcalloc(lc->doc->nnodes + 1, 1);
	for (s = 0; s < lc->ns; s++) {
		unsigned char acc = later_stage[s];

		for (i = lc->st[s].end; i-- > lc->st[s].from + 1;) {
			lc->apt_later[i] = acc;
			acc |= need[i];
		}
	}
	free(need);
	free(has);
	free(later_stage);
	free(want);
	return lc->apt_later[idx];
}

static int has_syntax(const struct df_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->nnodes && doc->nodes[i].kind == DF_DIRECTIVE; i++) {
		const struct df_node *n = &doc->nodes[i];
		struct df_span k, v;

		if (n->nlines && df_match_directive(n->text.ptr + n->lines[0].off + n->lines[0].indent,
						    n->lines[0].body, &k, &v) &&
		    df_span_ieq(k, "syntax"))
			return 1;
	}
	return 0;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct lc lc;
	size_t i, k;
	int changes;

	memset(&lc, 0, sizeof(lc));
	lc.ctx = ctx;
	lc.doc = doc;
	lc.yarn_berry = -1;
	{
		/* which stages ship: merging RUNs keeps the stages, so once */
		size_t ns, s;
		struct df_stage *st = df_stages(doc, &ns);

		lc.reach = df_xcalloc(ns + 1, 1);
		lc.settled = df_stages_settled(ctx, doc, ns); /* left so by the last run */
		for (s = 0; s < ns; s++)
			lc.reach[s] = (unsigned char)st[s].reaches_final;
		free(st);
	}
	load(&lc);
	changes = merge_updates(&lc);
	if (changes)
		load(&lc);
	for (i = 0; i < doc->nnodes; i++) {
		struct one o;

		if (!candidate(&lc, i, &o)) {
			release(&o);
			continue;
		}
		do_apt(&o);
		do_apk(&o);
		do_pip(&o);
		do_yum(&o);
		do_npm(&o);
		do_yarn(&o);
		do_gem(&o);
		if (o.ntails && !edit_tails(&o)) {
			size_t keep = 0;

			/* cannot append safely: keep the other fixes */
			for (k = 0; k < o.nnotes; k++)
				if (!o.notes[k].tail)
					o.notes[keep++] = o.notes[k];
			o.nnotes = keep;
			o.ntails = 0;
		}
		if (o.nmounts)
			edit_mounts(&o);
		if (apply(&o)) {
			lc.mounts_added += o.nmounts > 0;
			for (k = 0; k < o.nnotes; k++)
				pend(&lc, o.notes[k].code, doc->nodes[i].line, o.notes[k].msg);
		}
		release(&o);
	}
	changes += flush(&lc);
	if (lc.mounts_added && !has_syntax(doc)) {
		if (doc->has_bom) {
			df_ctx_finding(ctx, NULL, 1, "RUN --mount needs BuildKit: add "
				       "`# syntax=docker/dockerfile:1` after the byte order mark "
				       "(not added: the BOM must stay first)");
		} else {
			char text[64];

			snprintf(text, sizeof(text), "# syntax=docker/dockerfile:1%s", df_doc_eol(doc));
			if (df_doc_insert(doc, 0, text, strlen(text)) == 0)
				df_ctx_finding(ctx, NULL, 1, "added `# syntax=docker/dockerfile:1`: "
					       "RUN --mount=type=cache needs BuildKit's Dockerfile syntax");
		}
	}
	unload(&lc);
	free(lc.reach);
	free(lc.settled);
	free(lc.ed);
	free(lc.pend);
	df_buf_release(&lc.text);
	return changes;
}

const struct df_pass df_pass_layer_cleanup = {
	.id = "layer-cleanup",
	.level = DF_LEVEL_REVIEW,
	.codes = "DL3009,DL3014,DL3015,DL3019,DL3030,DL3032,DL3038,DL3040,DL3042,DL3060",
	.summary = "remove package-manager caches in the layer that creates them",
	.doc =
	"In stages that reach the final image, each RUN cleans what its package\n"
	"manager leaves behind, in the same layer:\n"
	"  apt-get/apt  install -y --no-install-recommends; update and install in\n"
	"               one RUN ending with rm -rf /var/lib/apt/lists/* (DL3009,\n"
	"               DL3014, DL3015)\n"
	"  apk          add --no-cache; a separate `apk update &&` dropped (DL3019)\n"
	"  pip          install --no-cache-dir unless PIP_NO_CACHE_DIR is set (DL3042)\n"
	"  yum/dnf      install -y, then `yum clean all` / `dnf clean all` (DL3030,\n"
	"               DL3038, DL3032, DL3040)\n"
	"  npm          npm ci when the context has a lockfile the stage copies,\n"
	"               else npm cache clean --force\n"
	"  yarn (v1)    --frozen-lockfile with yarn.lock, then yarn cache clean (DL3060)\n"
	"  gem          install --no-document\n"
	"Builder stages only copied from are left alone: their caches never ship.\n"
	"The package lists are kept when a later RUN installs without updating.\n"
	"With --cache-mounts, RUN --mount=type=cache keeps the caches out of the\n"
	"layer instead (apt, apk, pip, npm, yarn), and `# syntax=docker/dockerfile:1`\n"
	"is added when missing. `# hadolint ignore=CODE` above a RUN skips just\n"
	"that code's fix.",
	.run = run,
	.stage_local = 1,
};
