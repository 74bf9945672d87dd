/*
 * apk.c - package steps for Alpine (see apk.h): apt/yum/dnf -> apk add,
 * useradd/groupadd -> adduser/addgroup, package caches dropped.
 *
 * Each RUN is parsed with the shell view; a command is translated word by
 * word (options apk has no use for are deleted, package names replaced),
 * so comments, continuations and the rest of the RUN stay as written.
 * Whatever dfix cannot read (a step in a heredoc or a compound, a variable
 * as a package, a Debian version pin) refuses the whole translation.
 */
#include <string.h>

#include "apk.h"
#include "imageref.h"
#include "shell.h"

/* ---------------------------------------------------------------- text scans */

static int is_sep(unsigned char c)
{
	return c <= ' ' || (c && strchr(";&|()<>\"'`\\", c) != NULL);
}

/* Is w a token of s, or the last path component of one ("/usr/bin/gcc")? */
int df_apk_has_word(struct df_span s, const char *w)
{
	size_t wl = strlen(w), i = 0;

	while (i < s.len) {
		size_t st, j;

		while (i < s.len && is_sep((unsigned char)s.ptr[i]))
			i++;
		st = i;
		while (i < s.len && !is_sep((unsigned char)s.ptr[i]))
			i++;
		for (j = i; j > st && s.ptr[j - 1] != '/'; j--)
			;
		if ((i - st == wl && memcmp(s.ptr + st, w, wl) == 0) ||
		    (i - j == wl && memcmp(s.ptr + j, w, wl) == 0))
			return 1;
	}
	return 0;
}

int df_apk_has_text(struct df_span s, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= s.len; i++)
		if (memcmp(s.ptr + i, needle, n) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- package sets */

int df_pkgset_has(const struct df_buf *set, const char *p, size_t n)
{
	size_t i;

	for (i = 0; set->ptr && i + n + 2 <= set->len; i++)
		if (set->ptr[i] == ' ' && memcmp(set->ptr + i + 1, p, n) == 0 &&
		    set->ptr[i + 1 + n] == ' ')
			return 1;
	return 0;
}

void df_pkgset_add(struct df_buf *set, const char *p, size_t n)
{
	if (df_pkgset_has(set, p, n))
		return;
	if (!set->len)
		df_buf_addc(set, ' ');
	df_buf_add(set, p, n);
	df_buf_addc(set, ' ');
}

/* ---------------------------------------------------------------- translation */

static int fail(struct df_apk *x, uint32_t line, const char *fmt, const char *arg, size_t n)
{
	char msg[200];

	if (!x->why[0]) {
		snprintf(msg, sizeof(msg), fmt, (int)n, arg);
		snprintf(x->why, sizeof(x->why), "%s (line %u)", msg, line);
	}
	return -1;
}

/* One RUN being translated. */
struct xrun {
	struct df_apk *x;
	struct df_doc *doc;
	const struct df_inst *inst;
	uint32_t line;
	const char *base;     /* the parsed span (inst->rest) */
	size_t base_off;      /* its offset in inst->logical */
	struct df_edits e;
	struct df_buf added;  /* apk names added by this RUN's install commands */
	int split;            /* a word to edit spans a line continuation */
};

static int word_range(struct xrun *r, const struct df_sh_word *w, size_t *s, size_t *e)
{
	if (df_inst_range(r->inst, r->base_off + w->off, w->len, s, e) == 0)
		return 0;
	r->split = 1;
	return -1;
}

static void replace_word(struct xrun *r, const struct df_sh_word *w, const char *text)
{
	size_t s, e;

	if (word_range(r, w, &s, &e) == 0)
		df_edits_add(&r->e, s, e, text, strlen(text));
}

/* Delete word j of c with the blanks (and continuations) before it. */
static void delete_word(struct xrun *r, const struct df_sh_cmd *c, size_t j)
{
	size_t s0, e0, s1, e1;

	if (word_range(r, &c->words[j - 1], &s0, &e0) == 0 &&
	    word_range(r, &c->words[j], &s1, &e1) == 0)
		df_edits_add(&r->e, e0, e1, "", 0);
}

static char *wval(struct xrun *r, const struct df_sh_word *w)
{
	return df_sh_unquote(&r->doc->arena, r->base, w, NULL);
}

static int opt_in(const char *v, const char *const *list)
{
	for (; *list; list++) {
		size_t n = strlen(*list);

		if ((*list)[n - 1] == '=' ? strncmp(v, *list, n) == 0 : strcmp(v, *list) == 0)
			return 1;
	}
	return 0;
}

static const char *const apt_opts[] = {
	"-y", "--yes", "--assume-yes", "-q", "-qq", "--quiet", "--no-install-recommends",
	"--no-install-suggests", "--fix-missing", "-f", "--fix-broken", "--allow-downgrades",
	"--allow-remove-essential", "--allow-change-held-packages", "--allow-unauthenticated",
	"--force-yes", "--auto-remove", "--autoremove", "--purge", "-m", "--ignore-missing",
	"--no-upgrade", "--reinstall", "-yq", "-qy", "-qqy", "-yqq", "--quiet=2", "-y=1", NULL,
};
static const char *const rpm_opts[] = {
	"-y", "--assumeyes", "-q", "--quiet", "--nodocs", "--setopt=", "--noplugins",
	"--disableplugin=", "--disablerepo=", "--allowerasing", "--best", "--nobest",
	"--refresh", "--skip-broken", "--skip-unavailable", "--nogpgcheck", "--no-docs",
	"--noautoremove", "-yq", "-qy", NULL,
};

/* A package word: its Alpine names appended to `out`; -1 when unknown. */
static int map_pkg(struct xrun *r, const char *kind, const char *v, struct df_buf *out)
{
	const char *to;
	size_t i, n = strlen(v);

	for (i = 0; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' ||
		      v[i] == '.' || v[i] == '+' || v[i] == '_' || (v[i] >= 'A' && v[i] <= 'Z'))) {
			if (v[i] == '=')
				return fail(r->x, r->line, "the package %.*s is pinned to a Debian "
					    "version", v, n);
			return fail(r->x, r->line, "the package word '%.*s' cannot be translated",
				    v, n);
		}
	to = df_pkg_map(kind, v, n);
	if (!to)
		return fail(r->x, r->line, "no Alpine package is known for %.*s", v, n);
	df_pkgset_add(&r->x->native, v, n);
	while (*to) {
		size_t k = strcspn(to, " ");

		if (k && !df_pkgset_has(&r->added, to, k)) {
			df_pkgset_add(&r->added, to, k);
			df_pkgset_add(&r->x->apk, to, k);
			if (out->len)
				df_buf_addc(out, ' ');
			df_buf_add(out, to, k);
		}
		to += k;
		while (*to == ' ')
			to++;
	}
	return 0;
}

enum { KEEP = 0, DROP = 1 };

/* The command goes: forget the edits made to its words. */
static int drop_since(struct xrun *r, size_t n0)
{
	while (r->e.n > n0)
		free(r->e.v[--r->e.n].text);
	return DROP;
}

/* apt-get, apt, aptitude, yum, dnf, microdnf, tdnf */
static int pkg_manager(struct xrun *r, const struct df_sh_cmd *c, size_t ni, int rpm)
{
	const char *const *opts = rpm ? rpm_opts : apt_opts;
	const char *kind = rpm ? "rpm" : "apt", *mode = NULL;
	size_t j, sub = 0, n0 = r->e.n;
	int npk = 0;

	for (j = ni + 1; j < c->nwords; j++) {
		const struct df_sh_word *w = &c->words[j];
		char *v;

		if (w->flags & DF_SH_REDIR)
			continue;
		v = wval(r, w);
		if (!v)
			return fail(r->x, r->line, "a package step uses a variable ('%.*s')",
				    r->base + w->off, w->len);
		if (v[0] == '-') {
			if ((!rpm && strcmp(v, "-o") == 0) || (rpm && strcmp(v, "--setopt") == 0)) {
				if (j + 1 >= c->nwords)
					return fail(r->x, r->line, "%.*s needs a value", v, strlen(v));
				delete_word(r, c, j);
				delete_word(r, c, j + 1);
				j++;
				continue;
			}
			if (!opt_in(v, opts))
				return fail(r->x, r->line, "the option %.*s has no apk translation", v,
					    strlen(v));
			delete_word(r, c, j);
			continue;
		}
		if (!sub) {
			sub = j;
			if (strcmp(v, "update") == 0 && !rpm)
				return drop_since(r, n0);
			if (strcmp(v, "clean") == 0 || strcmp(v, "autoclean") == 0 ||
			    strcmp(v, "autoremove") == 0 || strcmp(v, "makecache") == 0)
				return drop_since(r, n0);
			if (strcmp(v, "install") == 0) {
				mode = "add --no-cache";
			} else if (strcmp(v, "remove") == 0 || strcmp(v, "purge") == 0 ||
				   strcmp(v, "erase") == 0) {
				mode = "del";
			} else if (strcmp(v, "upgrade") == 0 || strcmp(v, "dist-upgrade") == 0 ||
				   strcmp(v, "full-upgrade") == 0 || (rpm && strcmp(v, "update") == 0)) {
				mode = "upgrade --no-cache";
			} else {
				return fail(r->x, r->line, "'%.*s' has no apk translation", v, strlen(v));
			}
			continue;
		}
		if (strcmp(mode, "upgrade --no-cache") == 0)
			return fail(r->x, r->line, "'upgrade %.*s' has no apk translation", v, strlen(v));
		{
			struct df_buf to = DF_BUF_INIT;

			if (map_pkg(r, kind, v, &to) < 0) {
				df_buf_release(&to);
				return -1;
			}
			if (to.len) {
				replace_word(r, w, to.ptr);
				npk++;
			} else {
				delete_word(r, c, j);
			}
			df_buf_release(&to);
		}
	}
	if (!mode)
		return fail(r->x, r->line, "a package step without a command", "", 0);
	if (!npk && strcmp(mode, "upgrade --no-cache") != 0)
		return drop_since(r, n0);
	replace_word(r, &c->words[ni], "apk");
	replace_word(r, &c->words[sub], mode);
	return KEEP;
}

static int cache_path(const char *v)
{
	static const char *const dirs[] = {
		"/var/lib/apt/lists", "/var/cache/apt", "/var/cache/yum", "/var/cache/dnf",
		"/var/cache/debconf", "/var/log/apt", "/var/log/dpkg.log", "/var/cache/microdnf",
		"/var/cache/tdnf",
	};
	size_t k;

	for (k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		size_t n = strlen(dirs[k]);

		if (strncmp(v, dirs[k], n) == 0 && (v[n] == '\0' || v[n] == '/'))
			return 1;
	}
	return 0;
}

/* rm of package caches: dropped, or the cache paths removed from it. */
static int rm_caches(struct xrun *r, const struct df_sh_cmd *c, size_t ni)
{
	size_t j, ncache = 0, nother = 0;

	for (j = ni + 1; j < c->nwords; j++) {
		const struct df_sh_word *w = &c->words[j];
		char *v = (w->flags & (DF_SH_REDIR | DF_SH_EXPAND)) ? NULL : wval(r, w);

		if (v && v[0] == '-')
			continue;
		if (v && cache_path(v))
			ncache++;
		else
			nother++;
	}
	if (!ncache)
		return KEEP;
	if (!nother)
		return DROP;
	for (j = ni + 1; j < c->nwords; j++) {
		const struct df_sh_word *w = &c->words[j];
		char *v = (w->flags & (DF_SH_REDIR | DF_SH_EXPAND)) ? NULL : wval(r, w);

		if (v && v[0] != '-' && cache_path(v))
			delete_word(r, c, j);
	}
	return KEEP;
}

/* groupadd / useradd / Debian's adduser -> busybox addgroup / adduser. */
static int users(struct xrun *r, const struct df_sh_cmd *c, size_t ni, const char *name)
{
	struct df_buf out = DF_BUF_INIT;
	const char *who = NULL;
	size_t j, s, e, wl = 0;
	int group = strcmp(name, "groupadd") == 0, deb = strcmp(name, "adduser") == 0;
	int system = 0, make_group = 0;
	struct df_buf opts = DF_BUF_INIT;

	if (ni != 0)
		return fail(r->x, r->line, "%.*s with assignments or a wrapper", name, strlen(name));
	for (j = 1; j < c->nwords; j++) {
		const struct df_sh_word *w = &c->words[j];
		char *v = wval(r, w);
		const char *val = NULL;
		size_t vl = 0;

		if (!v || (w->flags & DF_SH_REDIR))
			goto bad;
		if (v[0] != '-') {
			if (who)
				goto bad;
			who = r->base + w->off;
			wl = w->len;
			continue;
		}
		if (strcmp(v, "-r") == 0 || strcmp(v, "--system") == 0) {
			system = 1;
			continue;
		}
		if (strcmp(v, "-m") == 0 || strcmp(v, "--create-home") == 0 || strcmp(v, "-U") == 0 ||
		    strcmp(v, "-l") == 0 || strcmp(v, "--no-log-init") == 0 || strcmp(v, "-f") == 0 ||
		    strcmp(v, "--force") == 0 || strcmp(v, "--quiet") == 0 ||
		    strcmp(v, "--disabled-login") == 0 || strcmp(v, "--disabled-password") == 0)
			continue;
		if (strcmp(v, "-M") == 0 || strcmp(v, "--no-create-home") == 0) {
			df_buf_adds(&opts, " -H");
			continue;
		}
		if (deb && strcmp(v, "--group") == 0) {
			make_group = 1;
			continue;
		}
		/* options with a value */
		if (j + 1 < c->nwords) {
			val = r->base + c->words[j + 1].off;
			vl = c->words[j + 1].len;
		}
		if (!val)
			goto bad;
		if (strcmp(v, "-g") == 0 || strcmp(v, "--gid") == 0 || strcmp(v, "--ingroup") == 0) {
			df_buf_adds(&opts, group ? " -g " : " -G ");
		} else if (!group && (strcmp(v, "-u") == 0 || strcmp(v, "--uid") == 0)) {
			df_buf_adds(&opts, " -u ");
		} else if (!group && (strcmp(v, "-s") == 0 || strcmp(v, "--shell") == 0)) {
			df_buf_adds(&opts, " -s ");
		} else if (!group && (strcmp(v, "-d") == 0 || strcmp(v, "--home-dir") == 0 ||
				      strcmp(v, "--home") == 0)) {
			df_buf_adds(&opts, " -h ");
		} else if (!group && (strcmp(v, "-c") == 0 || strcmp(v, "--comment") == 0 ||
				      strcmp(v, "--gecos") == 0)) {
			df_buf_adds(&opts, " -g ");
		} else {
			goto bad;
		}
		df_buf_add(&opts, val, vl);
		j++;
	}
	if (!who)
		goto bad;
	if (group) {
		df_buf_adds(&out, "addgroup");
		if (system)
			df_buf_adds(&out, " -S");
	} else {
		if (make_group) {
			df_buf_adds(&out, "addgroup -S ");
			df_buf_add(&out, who, wl);
			df_buf_adds(&out, " && ");
			df_buf_adds(&opts, " -G ");
			df_buf_add(&opts, who, wl);
		}
		df_buf_adds(&out, "adduser -D");
		if (system)
			df_buf_adds(&out, " -S");
	}
	if (opts.len)
		df_buf_add(&out, opts.ptr, opts.len);
	df_buf_addc(&out, ' ');
	df_buf_add(&out, who, wl);
	s = df_inst_node_off(r->inst, r->base_off + c->off);
	e = df_inst_node_off(r->inst, r->base_off + c->end - 1) + 1;
	df_edits_add(&r->e, s, e, out.ptr, out.len);
	df_buf_release(&out);
	df_buf_release(&opts);
	return KEEP;
bad:
	df_buf_release(&out);
	df_buf_release(&opts);
	return fail(r->x, r->line, "%.*s with options busybox does not have", name, strlen(name));
}

static const char *const untranslatable[] = {
	"dpkg", "dpkg-reconfigure", "dpkg-query", "apt-key", "add-apt-repository",
	"apt-add-repository", "apt-cache", "apt-mark", "apt-config", "debconf-set-selections",
	"locale-gen", "update-locale", "localedef", "rpm", "yum-config-manager", "usermod",
	"groupmod", "chsh", "update-alternatives", "gpasswd", "subscription-manager",
};

static const char *const pm_words[] = {
	"apt-get", "apt", "aptitude", "yum", "dnf", "microdnf", "tdnf", "useradd", "groupadd",
	"adduser", "/etc/apt", "sources.list", "/etc/yum.repos.d", "/var/lib/apt",
};

static int mentions_pm(struct df_span s)
{
	size_t k;

	for (k = 0; k < sizeof(pm_words) / sizeof(pm_words[0]); k++)
		if (pm_words[k][0] == '/' || strchr(pm_words[k], '.')
			    ? df_apk_has_text(s, pm_words[k])
			    : df_apk_has_word(s, pm_words[k]))
			return 1;
	for (k = 0; k < sizeof(untranslatable) / sizeof(untranslatable[0]); k++)
		if (df_apk_has_word(s, untranslatable[k]))
			return 1;
	return 0;
}

/* Translate (or, apply == 0, check) the RUN at node idx. *remove is set
 * when every command of it goes. */
static int xlate_run(struct df_apk *x, size_t idx, int apply, int *remove)
{
	struct df_doc *doc = x->doc;
	const struct df_node *n = &doc->nodes[idx];
	const struct df_inst *inst = n->inst;
	struct df_sh_script sc;
	struct xrun r;
	unsigned char *drop;
	size_t k, h;
	int rc = 0;

	*remove = 0;
	if (inst->json || inst->nheredocs) {
		if (mentions_pm(inst->rest))
			return fail(x, n->line, "a package step in %.*s", inst->json ? "exec form" :
				    "a heredoc", 9);
		for (h = 0; h < inst->nheredocs; h++)
			if (mentions_pm(inst->heredocs[h].body))
				return fail(x, n->line, "a package step in %.*s", "a heredoc", 9);
		x->bash |= df_apk_has_word(inst->rest, "bash");
		return 0;
	}
	if (df_sh_parse_rest(doc, inst, &sc) < 0) {
		if (mentions_pm(inst->rest))
			return fail(x, n->line, "a package step in shell syntax dfix cannot "
				    "read%.*s", "", 0);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	r.x = x;
	r.doc = doc;
	r.inst = inst;
	r.line = n->line;
	r.base = inst->rest.ptr;
	r.base_off = df_inst_log_off(inst, inst->rest);
	drop = df_arena_alloc(&doc->arena, sc.ncmds + 1);
	for (k = 0; k < sc.ncmds && rc == 0; k++) {
		const struct df_sh_cmd *c = &sc.cmds[k];
		int ni = c->kind == DF_SH_SIMPLE ? df_sh_cmd_name(r.base, c) : -1;
		const char *v, *bn;
		size_t j;

		for (j = 0; j < c->nwords; j++) {
			struct df_span w = { r.base + c->words[j].off, c->words[j].len };

			if (df_apk_has_text(w, "/etc/apt") || df_apk_has_text(w, "sources.list") ||
			    df_apk_has_text(w, "/etc/yum.repos.d"))
				rc = fail(x, n->line, "a package step writes %.*s", w.ptr, w.len);
			if (df_apk_has_word(w, "bash"))
				x->bash = 1;
		}
		if (ni < 0 || rc)
			continue;
		v = wval(&r, &c->words[ni]);
		if (!v)
			continue;
		bn = strrchr(v, '/') ? strrchr(v, '/') + 1 : v;
		if (strcmp(bn, "bash") == 0)
			x->bash = 1;
		{
			int pm = strcmp(bn, "apt-get") == 0 || strcmp(bn, "apt") == 0 ||
				 strcmp(bn, "aptitude") == 0 ? 1
			       : strcmp(bn, "yum") == 0 || strcmp(bn, "dnf") == 0 ||
				 strcmp(bn, "microdnf") == 0 || strcmp(bn, "tdnf") == 0 ? 2 : 0;
			int us = strcmp(bn, "useradd") == 0 || strcmp(bn, "groupadd") == 0 ||
				 strcmp(bn, "adduser") == 0;
			int rm = strcmp(bn, "rm") == 0;
			size_t u;

			for (u = 0; u < sizeof(untranslatable) / sizeof(untranslatable[0]); u++)
				if (strcmp(bn, untranslatable[u]) == 0)
					rc = fail(x, n->line, "%.*s has no Alpine translation", bn,
						  strlen(bn));
			if (rc || (!pm && !us && !rm))
				continue;
			if (c->depth > 0 || sc.complex)
				rc = fail(x, n->line, "a %.*s step inside a shell compound", bn,
					  strlen(bn));
			else if (pm)
				rc = pkg_manager(&r, c, (size_t)ni, pm == 2);
			else if (us)
				rc = users(&r, c, (size_t)ni, bn);
			else
				rc = rm_caches(&r, c, (size_t)ni);
			if (rc == DROP) {
				drop[k] = 1;
				rc = 0;
			}
		}
	}
	df_buf_release(&r.added);
	if (rc == 0 && r.split)
		rc = fail(x, n->line, "a word of a package step spans lines%.*s", "", 0);
	if (rc < 0) {
		df_edits_release(&r.e);
		return -1;
	}
	/* the commands that go, with the operators that joined them */
	for (k = 0; k < sc.ncmds; k++) {
		size_t a = k, bk, s, e;

		if (!drop[k])
			continue;
		while (k + 1 < sc.ncmds && drop[k + 1])
			k++;
		bk = k;
		for (h = a; h <= bk; h++)
			if (sc.cmds[h].op != DF_SH_OP_AND && sc.cmds[h].op != DF_SH_OP_SEMI &&
			    sc.cmds[h].op != DF_SH_OP_NEWLINE && sc.cmds[h].op != DF_SH_OP_NONE)
				goto ops;
		if (a > 0 && sc.cmds[a - 1].op != DF_SH_OP_AND && sc.cmds[a - 1].op != DF_SH_OP_SEMI &&
		    sc.cmds[a - 1].op != DF_SH_OP_NEWLINE)
			goto ops;
		if (bk + 1 < sc.ncmds) {
			s = df_inst_node_off(inst, r.base_off + sc.cmds[a].off);
			e = df_inst_node_off(inst, r.base_off + sc.cmds[bk + 1].off);
		} else if (a > 0) {
			s = df_inst_node_off(inst, r.base_off + sc.cmds[a - 1].end - 1) + 1;
			e = df_inst_node_off(inst, r.base_off + sc.cmds[bk].end - 1) + 1;
		} else {
			*remove = 1;
			df_edits_release(&r.e);
			return 0;
		}
		df_edits_add(&r.e, s, e, "", 0);
	}
	if (!apply || !r.e.n) {
		df_edits_release(&r.e);
		return 0;
	}
	if (df_edits_apply(doc, idx, &r.e) < 0)
		return fail(x, n->line, "the translated RUN does not parse%.*s", "", 0);
	return 0;
ops:
	df_edits_release(&r.e);
	return fail(x, n->line, "a package step joined by || or |%.*s", "", 0);
}

void df_apk_init(struct df_apk *x, struct df_ctx *ctx, struct df_doc *doc)
{
	memset(x, 0, sizeof(*x));
	x->ctx = ctx;
	x->doc = doc;
}

void df_apk_release(struct df_apk *x)
{
	df_buf_release(&x->apk);
	df_buf_release(&x->native);
}

int df_apk_translate(struct df_apk *x, size_t first, size_t end, int apply)
{
	struct df_doc *doc = x->doc;
	size_t i;

	/* backwards: removing a node does not move the ones still to do */
	for (i = end; i-- > first;) {
		const struct df_node *n = &doc->nodes[i];
		const struct df_inst *inst = n->kind == DF_INSTRUCTION ? n->inst : NULL;
		int remove;

		if (!inst)
			continue;
		if (inst->cmd == DF_CMD_SHELL && df_apk_has_text(inst->rest, "bash"))
			x->bash = 1;
		if (inst->cmd == DF_CMD_ONBUILD && mentions_pm(inst->rest))
			return fail(x, n->line, "a package step in %.*s", "ONBUILD", 7);
		if (inst->cmd != DF_CMD_RUN)
			continue;
		if (df_pass_ignored(x->ctx, doc, i)) {
			if (mentions_pm(inst->rest))
				return fail(x, n->line, "a package step under a dfix ignore "
					    "pragma%.*s", "", 0);
			continue;
		}
		if (xlate_run(x, i, apply, &remove) < 0)
			return -1;
		if (remove && apply)
			df_doc_remove(doc, i, 1);
	}
	return 0;
}
