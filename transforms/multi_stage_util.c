/*
 * multi_stage_util.c - helpers of the multi-stage pass: strings, the
 * command a container runs, the files the runtime gets from the builder,
 * system packages, what a shell command does, and node text edits (see
 * multi_stage.h).
 */
#include <stdarg.h>
#include <string.h>

#include "multi_stage.h"

/* ---------------------------------------------------------------- strings */

char *ms_strdup(struct ms *ms, const char *s)
{
	return df_arena_dup(&ms->doc->arena, s, strlen(s));
}

char *ms_strndup(struct ms *ms, const char *s, size_t n)
{
	return df_arena_dup(&ms->doc->arena, s, n);
}

char *ms_printf(struct ms *ms, const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	r = df_arena_vprintf(&ms->doc->arena, fmt, ap);
	va_end(ap);
	return r;
}

int ms_skip(struct ms *ms, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (ms->skip || ms->quiet)
		return -1;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ms->skip = ms_strdup(ms, buf);
	return -1;
}

int ms_word_is(const char *w, const char *lit)
{
	return w && strcmp(w, lit) == 0;
}

int ms_starts(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

int ms_ends(const char *s, const char *suffix)
{
	size_t n, k;

	if (!s)
		return 0;
	n = strlen(s);
	k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

void ms_json(struct df_buf *b, const char *s)
{
	df_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			df_buf_addc(b, '\\');
			df_buf_addc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			df_buf_addf(b, "\\u%04x", c);
		} else {
			df_buf_addc(b, (char)c);
		}
	}
	df_buf_addc(b, '"');
}

void ms_line(struct ms *ms, struct df_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		df_buf_grow(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
		b->len += (size_t)n;
	}
	df_buf_adds(b, ms->eol);
}

/* ---------------------------------------------------------------- the command */

int ms_is_shell(const char *w)
{
	const char *b;

	if (!w)
		return 0;
	b = strrchr(w, '/');
	b = b ? b + 1 : w;
	return strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 || strcmp(b, "ash") == 0 ||
	       strcmp(b, "dash") == 0 || strcmp(b, "zsh") == 0;
}

/* Static words of a shell-form CMD/ENTRYPOINT made of one simple command. */
static int shell_words(struct ms *ms, struct ms_item *it, char ***out, int loose)
{
	const struct df_sh_cmd *c;
	char **v;
	size_t i;

	if (!it->sh.ok || it->sh.complex || it->sh.ncmds != 1 || it->sh.has_heredoc)
		return -1;
	c = &it->sh.cmds[0];
	if (c->kind != DF_SH_SIMPLE || c->op != DF_SH_OP_NONE)
		return -1;
	v = df_arena_alloc(&ms->doc->arena, (c->nwords + 1) * sizeof(*v));
	for (i = 0; i < c->nwords; i++) {
		if (c->words[i].flags & (DF_SH_REDIR | DF_SH_ASSIGN | DF_SH_RESERVED))
			return -1;
		v[i] = df_sh_unquote(&ms->doc->arena, it->sh_base, &c->words[i], NULL);
		if (!v[i] && (!loose || i == 0))
			return -1;
	}
	*out = v;
	return (int)c->nwords;
}

static int exec_words(struct ms *ms, struct ms_item *it, char ***out)
{
	char **v = df_arena_alloc(&ms->doc->arena, (it->inst->nargs + 1) * sizeof(*v));
	size_t i;

	for (i = 0; i < it->inst->nargs; i++) {
		if (memchr(it->inst->args[i].ptr, '\0', it->inst->args[i].len))
			return -1;
		v[i] = ms_strndup(ms, it->inst->args[i].ptr, it->inst->args[i].len);
	}
	*out = v;
	return (int)it->inst->nargs;
}

int ms_item_words(struct ms *ms, struct ms_item *it, char ***argv)
{
	return it->inst->json ? exec_words(ms, it, argv) : shell_words(ms, it, argv, 0);
}

int ms_item_words_loose(struct ms *ms, struct ms_item *it, char ***argv)
{
	return it->inst->json ? exec_words(ms, it, argv) : shell_words(ms, it, argv, 1);
}

static int command(struct ms *ms, char ***argv, long *entry_item, long *cmd_item, int loose);

int ms_command(struct ms *ms, char ***argv, long *entry_item, long *cmd_item)
{
	return command(ms, argv, entry_item, cmd_item, 0);
}

int ms_command_loose(struct ms *ms, char ***argv, long *entry_item, long *cmd_item)
{
	return command(ms, argv, entry_item, cmd_item, 1);
}

static int command(struct ms *ms, char ***argv, long *entry_item, long *cmd_item, int loose)
{
	long e = -1, c = -1;
	char **ev = NULL, **cv = NULL, **v;
	int en = 0, cn = 0;
	size_t i;

	for (i = 0; i < ms->nitems; i++) {
		if (ms->items[i].cmd == DF_CMD_ENTRYPOINT)
			e = (long)i;
		else if (ms->items[i].cmd == DF_CMD_CMD)
			c = (long)i;
	}
	*entry_item = e;
	*cmd_item = c;
	*argv = NULL;
	if (e >= 0) {
		struct ms_item *it = &ms->items[e];

		en = it->inst->json ? exec_words(ms, it, &ev) : shell_words(ms, it, &ev, loose);
		if (en < 0)
			return -1;
		if (!it->inst->json)
			c = -1; /* a shell-form ENTRYPOINT ignores CMD */
	}
	if (c >= 0) {
		struct ms_item *it = &ms->items[c];

		cn = it->inst->json ? exec_words(ms, it, &cv) : shell_words(ms, it, &cv, loose);
		if (cn < 0)
			return -1;
	}
	if (en + cn == 0)
		return 0;
	v = df_arena_alloc(&ms->doc->arena, (size_t)(en + cn + 1) * sizeof(*v));
	if (en)
		memcpy(v, ev, (size_t)en * sizeof(*v));
	if (cn)
		memcpy(v + en, cv, (size_t)cn * sizeof(*v));
	*argv = v;
	return en + cn;
}

/* ---------------------------------------------------------------- shipping */

void ms_ship(struct ms *ms, const char *src, const char *dst)
{
	size_t i;

	for (i = 0; i < ms->nship; i++)
		if (strcmp(ms->ship[i].src, src) == 0 && strcmp(ms->ship[i].abs, dst) == 0)
			return;
	if (ms->nship == ms->shipcap) {
		ms->shipcap = ms->shipcap ? ms->shipcap * 2 : 8;
		ms->ship = df_xrealloc(ms->ship, ms->shipcap * sizeof(*ms->ship));
	}
	ms->ship[ms->nship].src = src;
	ms->ship[ms->nship].abs = dst;
	ms->ship[ms->nship].dst = dst;
	ms->nship++;
}

int ms_shipped(struct ms *ms, const char *abs)
{
	size_t i;

	for (i = 0; i < ms->nship; i++)
		if (!strchr(ms->ship[i].src, '*') && ms_under(abs, ms->ship[i].abs))
			return 1;
	return 0;
}

static int path_like(const char *w)
{
	return w[0] == '/' || ms_starts(w, "./") || ms_starts(w, "../") || strchr(w, '/') ||
	       (strchr(w, '.') && w[0] != '-' && w[0] != '.' && !strchr(w, ':') &&
		!strchr(w, '='));
}

int ms_ship_command_files(struct ms *ms, char **argv, int argc, const char *wd, int from_arg)
{
	int i;

	for (i = from_arg; i < argc; i++) {
		const char *w = argv[i], *eq, *abs, *rel;

		if (!w || !*w)
			continue;
		if (w[0] == '-' && (eq = strchr(w, '=')) != NULL)
			w = eq + 1;
		if (!*w || strchr(w, '$') || strchr(w, '*') || strstr(w, "://") || !path_like(w))
			continue;
		abs = ms_abs(ms, wd, w);
		if (!abs || strcmp(abs, "/") == 0 || ms_shipped(ms, abs))
			continue;
		/* a file the builder got from the context; not one a later COPY gives */
		rel = ms_context_path(ms, abs, ms->last_build + 1);
		if (!rel || strcmp(rel, ".") == 0 || ms_context_path(ms, abs, ms->nitems) != rel)
			continue;
		ms_ship(ms, abs, abs);
	}
	return 0;
}

void ms_ship_dotenv(struct ms *ms)
{
	static const char *const files[] = { ".env", ".env.production", NULL };
	size_t i;

	for (i = 0; files[i]; i++) {
		const char *bp = ms_builder_path(ms, files[i], ms->last_build + 1);

		if (bp && ms_exists(ms, files[i]) && !ms_isdir(ms, files[i]) && !ms_shipped(ms, bp))
			ms_ship(ms, bp, bp);
	}
}

/* ---------------------------------------------------------------- packages */

const char *ms_runtime_pkgs(const char *manager, const char *name)
{
	const char *kind = strcmp(manager, "apk") == 0 ? "apk-runtime" : "apt-runtime";

	return df_pkg_map(kind, name, strlen(name));
}

int ms_build_tool_pkg(const char *name)
{
	static const char *const tools[] = {
		"build-essential", "build-base", "gcc", "g++", "cpp", "clang", "make", "cmake",
		"ninja-build", "samurai", "autoconf", "automake", "libtool", "bison", "flex",
		"pkg-config", "pkgconf", "pkgconfig", "git", "curl", "wget", "unzip", "xz-utils",
		"xz", "bzip2", "patch", "gnupg", "gnupg2", "openssh-client", "ca-certificates",
		"musl-dev", "libc6-dev", "libc-dev", "linux-headers", "binutils", "upx",
		"upx-ucl", "protobuf-compiler", "protoc", "python3-dev", "python-dev", "swig",
		"apt-transport-https", "software-properties-common", "lsb-release", "tar",
		"gzip", "file", "mercurial", "bzr", "subversion", "tzdata", NULL
	};
	size_t i;

	for (i = 0; tools[i]; i++)
		if (strcmp(name, tools[i]) == 0)
			return 1;
	return 0;
}

void ms_pkg_install(struct ms *ms, struct df_buf *b, const char *manager, const char *pkgs)
{
	if (strcmp(manager, "apk") == 0)
		ms_line(ms, b, "RUN apk add --no-cache %s", pkgs);
	else
		ms_line(ms, b, "RUN apt-get update && apt-get install -y --no-install-recommends %s"
			" && rm -rf /var/lib/apt/lists/*", pkgs);
}

/* ---------------------------------------------------------------- classification */

void ms_to(struct ms_item *it, int builder, int runtime)
{
	it->builder = (unsigned char)builder;
	it->runtime = (unsigned char)runtime;
}

void ms_to_other(struct ms_item *it, size_t i, size_t L)
{
	switch (it->cmd) {
	case DF_CMD_ENV:
	case DF_CMD_WORKDIR:
	case DF_CMD_USER:
		ms_to(it, i <= L, 1);
		break;
	case DF_CMD_ARG:
		break;
	default:
		ms_to(it, 0, 1);
		break;
	}
}

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

static void pkg_add(struct ms *ms, struct ms_pkgs *p, const char *name)
{
	char **v = df_arena_alloc(&ms->doc->arena, (p->n + 1) * sizeof(*v));

	if (p->n)
		memcpy(v, p->names, p->n * sizeof(*v));
	v[p->n++] = (char *)name;
	p->names = v;
}

/* Options of apt-get/apk that take a value as the next word. */
static int pkg_opt_value(const char *mgr, const char *w)
{
	if (strcmp(mgr, "apk") == 0)
		return strcmp(w, "-t") == 0 || strcmp(w, "--virtual") == 0 ||
		       strcmp(w, "-X") == 0 || strcmp(w, "--repository") == 0 ||
		       strcmp(w, "-p") == 0 || strcmp(w, "--root") == 0;
	return strcmp(w, "-o") == 0 || strcmp(w, "-t") == 0 ||
	       strcmp(w, "--target-release") == 0 || strcmp(w, "-c") == 0;
}

static int cache_path(const char *w)
{
	return ms_starts(w, "/var/lib/apt/lists") || ms_starts(w, "/var/cache/") ||
	       ms_starts(w, "/tmp/") || strcmp(w, "/tmp") == 0 || ms_starts(w, "/root/.cache") ||
	       ms_starts(w, "~/.cache") || ms_starts(w, "/var/log/") ||
	       ms_starts(w, "/usr/share/doc") || ms_starts(w, "/usr/share/man");
}

static int writes_file(const struct ms_item *it, const struct ms_cmd *c)
{
	size_t i;

	for (i = 0; i < c->sh->nwords; i++) {
		const struct df_sh_word *w = &c->sh->words[i];
		struct df_sh_word t;
		size_t ol;

		if (!(w->flags & DF_SH_REDIR) || (w->flags & DF_SH_HEREDOC))
			continue;
		ol = df_sh_redir_target(it->sh_base, w, &t);
		if (memchr(it->sh_base + w->off, '>', ol) &&
		    !(t.len == 9 && memcmp(it->sh_base + t.off, "/dev/null", 9) == 0) &&
		    !(t.len >= 1 && it->sh_base[t.off] == '&'))
			return 1;
	}
	return 0;
}

unsigned ms_generic_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c)
{
	static const char *const setup[] = {
		"useradd", "adduser", "groupadd", "addgroup", "usermod", "mkdir", "chown",
		"chmod", "chgrp", "ln", "ldconfig", "update-ca-certificates", NULL
	};
	static const char *const neutral[] = {
		"set", "export", "true", ":", "pwd", "ls", "echo", "printf", "which", "whoami",
		"env", "printenv", "id", "uname", "date", "cat", "test", "[", "sleep", NULL
	};
	const char *name, *b;
	size_t i;

	if (!c->argc || !c->argv[0])
		return 0;
	name = c->argv[0];
	b = base_name(name);
	if (writes_file(it, c))
		return MS_K_OTHER;
	if (strcmp(b, "apt-get") == 0 || strcmp(b, "apt") == 0 || strcmp(b, "apk") == 0) {
		const char *mgr = b[2] == 'k' ? "apk" : "apt";
		int install = 0;

		if (it->pkgs.manager && strcmp(it->pkgs.manager, mgr) != 0)
			it->pkgs.unknown = 1;
		it->pkgs.manager = mgr;
		for (i = 1; i < c->argc; i++) {
			const char *w = c->argv[i];

			if (!w) {
				it->pkgs.unknown = 1;
				continue;
			}
			if (!install) {
				if (w[0] == '-') {
					if (pkg_opt_value(mgr, w))
						i++;
					continue;
				}
				if (strcmp(w, "install") == 0 || strcmp(w, "add") == 0)
					install = 1;
				else if (strcmp(w, "update") && strcmp(w, "upgrade") &&
					 strcmp(w, "clean") && strcmp(w, "autoclean") &&
					 strcmp(w, "autoremove") && strcmp(w, "dist-upgrade") &&
					 strcmp(w, "purge") && strcmp(w, "remove") && strcmp(w, "del") &&
					 strcmp(w, "cache"))
					it->pkgs.unknown = 1;
				if (!install)
					break;
				continue;
			}
			if (w[0] == '-') {
				if (pkg_opt_value(mgr, w))
					i++;
				continue;
			}
			if (strchr(w, '=') || strchr(w, '/') || strchr(w, '*')) {
				/* pinned version or release: keep the name */
				const char *cut = w + strcspn(w, "=/*");

				if (*cut == '=' || *cut == '/')
					w = ms_strndup(ms, w, (size_t)(cut - w));
				else
					it->pkgs.unknown = 1;
			}
			if (*w)
				pkg_add(ms, &it->pkgs, w);
		}
		return MS_K_PKG;
	}
	if (strcmp(b, "yum") == 0 || strcmp(b, "dnf") == 0 || strcmp(b, "microdnf") == 0 ||
	    strcmp(b, "zypper") == 0 || strcmp(b, "aptitude") == 0 || strcmp(b, "apt-key") == 0 ||
	    strcmp(b, "add-apt-repository") == 0) {
		it->pkgs.unknown = 1;
		return MS_K_PKG;
	}
	if (strcmp(b, "rm") == 0) {
		int force = 0, caches = 1, any = 0;

		for (i = 1; i < c->argc; i++) {
			const char *w = c->argv[i];

			if (!w) {
				caches = 0;
				any = 1;
				continue;
			}
			if (w[0] == '-') {
				if (strchr(w, 'f'))
					force = 1;
				continue;
			}
			any = 1;
			if (!cache_path(w))
				caches = 0;
		}
		if (!force)
			return MS_K_OTHER;
		return any && caches ? MS_K_PKG : MS_K_SETUP;
	}
	if (strcmp(b, "cd") == 0 || strcmp(b, "pushd") == 0 || strcmp(b, "popd") == 0)
		return MS_K_CD;
	for (i = 0; setup[i]; i++)
		if (strcmp(b, setup[i]) == 0) {
			size_t k;

			/* chmod +x entrypoint.sh: acts on a file the build context gave */
			if (strcmp(b, "chmod") && strcmp(b, "chown") && strcmp(b, "chgrp") &&
			    strcmp(b, "ln"))
				return MS_K_SETUP;
			for (k = 1; k < c->argc; k++) {
				const char *a = c->argv[k], *abs;

				if (!a)
					return MS_K_SETUP | MS_K_TOUCH;
				if (a[0] == '-' || a[0] == '+' || !it->wd)
					continue;
				abs = ms_abs(ms, it->wd, a);
				if (abs && ms_context_path(ms, abs, (size_t)(it - ms->items)))
					return MS_K_SETUP | MS_K_TOUCH;
			}
			return MS_K_SETUP;
		}
	for (i = 0; neutral[i]; i++)
		if (strcmp(b, neutral[i]) == 0)
			return MS_K_NEUTRAL;
	return 0;
}

/* ---------------------------------------------------------------- edits */

size_t ms_word_off(const struct ms_item *it, const struct df_sh_word *w)
{
	return (size_t)(it->sh_base - it->inst->logical.ptr) + w->off;
}

char *ms_edit_node(struct ms *ms, size_t item, struct ms_edit *e, size_t ne)
{
	return ms_edit_inst(ms, ms->items[item].idx, ms->items[item].inst, e, ne);
}

char *ms_edit_inst(struct ms *ms, size_t idx, const struct df_inst *inst, struct ms_edit *e,
		   size_t ne)
{
	const struct df_node *n = &ms->doc->nodes[idx];
	struct df_buf b = DF_BUF_INIT;
	size_t pos = 0, i, j;
	char *r;

	/* sort by offset (few edits) */
	for (i = 1; i < ne; i++)
		for (j = i; j > 0 && e[j].off < e[j - 1].off; j--) {
			struct ms_edit t = e[j];

			e[j] = e[j - 1];
			e[j - 1] = t;
		}
	for (i = 0; i < ne; i++) {
		size_t s = df_inst_node_off(inst, e[i].off);
		size_t t = e[i].end > e[i].off ? df_inst_node_off(inst, e[i].end - 1) + 1 : s;

		if (s < pos || t < s || t > n->text.len) {
			df_buf_release(&b);
			return NULL;
		}
		df_buf_add(&b, n->text.ptr + pos, s - pos);
		df_buf_adds(&b, e[i].text);
		pos = t;
	}
	df_buf_add(&b, n->text.ptr + pos, n->text.len - pos);
	r = ms_strndup(ms, b.ptr, b.len);
	df_buf_release(&b);
	return r;
}
