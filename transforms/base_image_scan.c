/*
 * base_image_scan.c - what base-image reads in the stages on a root: the
 * RUNs and copies, why musl would break them, the builders that must share
 * the runtime's libc, the packages installed and the tools used (see
 * base_image.h; the decisions are in base_image.c).
 */
#include <string.h>

#include "base_image.h"
#include "shell.h"

/* ---------------------------------------------------------------- scanning */

int bi_is_sep(unsigned char c)
{
	return c <= ' ' || (c && strchr(";&|()<>\"'`\\", c) != NULL);
}

struct df_inst *bi_inst_at(struct bi *b, size_t i)
{
	struct df_node *n = &b->doc->nodes[i];

	return n->kind == DF_INSTRUCTION ? n->inst : NULL;
}

void bi_on_root_start(struct on_root *it, size_t r)
{
	memset(it, 0, sizeof(*it));
	it->r = r;
}

int bi_on_root_next(struct bi *b, struct on_root *it)
{
	for (; it->t < b->ns; it->t++, it->i = 0) {
		if (b->root[it->t] != it->r)
			continue;
		if (!it->i)
			it->i = b->st[it->t].from;
		while (++it->i < b->st[it->t].end)
			if ((it->inst = bi_inst_at(b, it->i)))
				return 1;
	}
	return 0;
}

int bi_chain_run_has(struct bi *b, size_t r, const char *s, int token, size_t *line)
{
	struct on_root it;
	size_t h;

	for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;

		if (inst->cmd != DF_CMD_RUN)
			continue;
		if (token ? df_apk_has_word(inst->rest, s) : df_apk_has_text(inst->rest, s))
			goto found;
		for (h = 0; h < inst->nheredocs; h++)
			if (token ? df_apk_has_word(inst->heredocs[h].body, s)
				  : df_apk_has_text(inst->heredocs[h].body, s))
				goto found;
		continue;
found:
		if (line)
			*line = b->doc->nodes[it.i].line;
		return 1;
	}
	return 0;
}

/* The value of --NAME=value among an instruction's flags. */
static int flag_value(const struct df_inst *inst, const char *name, struct df_span *v)
{
	size_t nl = strlen(name), i;

	for (i = 0; i < inst->nflags; i++) {
		const struct df_span *f = &inst->flags[i];

		if (f->len > nl + 3 && memcmp(f->ptr, "--", 2) == 0 &&
		    memcmp(f->ptr + 2, name, nl) == 0 && f->ptr[nl + 2] == '=') {
			v->ptr = f->ptr + nl + 3;
			v->len = f->len - nl - 3;
			return 1;
		}
	}
	return 0;
}

int bi_copy_from_stage(struct bi *b, size_t t, const struct df_inst *inst)
{
	struct df_span v;
	size_t i;
	int all_digits = 1;

	if ((inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD) || !flag_value(inst, "from", &v) ||
	    !v.len)
		return -1;
	for (i = 0; i < v.len; i++)
		if (v.ptr[i] < '0' || v.ptr[i] > '9')
			all_digits = 0;
	if (all_digits) {
		size_t k = 0;

		for (i = 0; i < v.len && k < 100000; i++)
			k = k * 10 + (size_t)(v.ptr[i] - '0');
		return k < t ? (int)k : -1;
	}
	for (i = 0; i < t; i++)
		if (b->st[i].name.len == v.len && df_mem_ieq(b->st[i].name.ptr, v.ptr, v.len))
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------- musl caveats */

static const char *const native_modules[] = {
	"bcrypt", "sharp", "canvas", "sqlite3", "better-sqlite3", "grpc", "node-sass",
	"argon2", "@tensorflow/tfjs-node", "leveldown", "node-pty", "re2", "zeromq",
	"kerberos", "libxmljs", "libxmljs2", "ffi-napi", "ref-napi", "serialport",
	"@serialport/bindings", "@serialport/bindings-cpp", "usb", "isolated-vm",
	"microtime", "node-rdkafka", "oracledb", "puppeteer", "playwright", "farmhash",
	"deasync", "cpu-features", "node-expat", "iconv", "unix-dgram", "@discordjs/opus",
};

/* A native module named as a key in package.json text. */
static const char *native_in(const char *p, size_t n)
{
	size_t m, i;

	for (m = 0; m < sizeof(native_modules) / sizeof(native_modules[0]); m++) {
		size_t ml = strlen(native_modules[m]);

		for (i = 0; i + ml + 2 <= n; i++) {
			size_t j;

			if (p[i] != '"' || memcmp(p + i + 1, native_modules[m], ml) != 0 ||
			    p[i + 1 + ml] != '"')
				continue;
			for (j = i + ml + 2; j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' ||
						    p[j] == '\n'); j++)
				;
			if (j < n && p[j] == ':')
				return native_modules[m];
		}
	}
	return NULL;
}

/* Do the stages on root r install node modules (or copy them in)? */
static int installs_node_modules(struct bi *b, size_t r)
{
	struct on_root it;

	if (bi_chain_run_has(b, r, "npm", 1, NULL) || bi_chain_run_has(b, r, "yarn", 1, NULL) ||
	    bi_chain_run_has(b, r, "pnpm", 1, NULL))
		return 1;
	for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;
		size_t a;

		if ((inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD))
			continue;
		for (a = 0; a < inst->nargs; a++)
			if (df_apk_has_text(inst->args[a], "node_modules"))
				return 1;
	}
	return 0;
}

/* A native module among the packages a lock file installs, transitive ones
 * included: npm ("node_modules/NAME"), yarn and pnpm (NAME@ at the start of
 * an entry). */
static const char *native_in_lock(const char *p, size_t n)
{
	size_t m, i;

	for (m = 0; m < sizeof(native_modules) / sizeof(native_modules[0]); m++) {
		const char *name = native_modules[m];
		size_t ml = strlen(name);

		for (i = 0; i + ml + 1 < n; i++) {
			char before = i ? p[i - 1] : '\n', after = p[i + ml];

			if (memcmp(p + i, name, ml) != 0)
				continue;
			if (i >= 13 && memcmp(p + i - 13, "node_modules/", 13) == 0 && after == '"' &&
			    (i == 13 || p[i - 14] == '"'))
				return name;
			if (after == '@' && (before == '\n' || before == ' ' || before == '"' ||
					     before == '/' || before == '\''))
				return name;
		}
	}
	return NULL;
}

/* Read dir's package.json and lock files: 1 when package.json is there,
 * *mod set to a native module found, *from to the file that names it. */
static int node_dir(struct bi *b, const char *dir, size_t dl, const char **mod, const char **from)
{
	static const char *const locks[] = {
		"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
	};
	struct df_buf path = DF_BUF_INIT;
	size_t len, k;
	char *p;
	int seen = 0;

	while (dl && dir[0] == '/') {
		dir++;
		dl--;
	}
	df_buf_add(&path, dir, dl);
	df_buf_adds(&path, "package.json");
	p = df_context_read(b->ctx, path.ptr, &len);
	if (p) {
		seen = 1;
		if ((*mod = native_in(p, len)) != NULL)
			*from = "package.json";
		free(p);
	}
	for (k = 0; k < sizeof(locks) / sizeof(locks[0]) && seen && !*mod; k++) {
		df_buf_reset(&path);
		df_buf_add(&path, dir, dl);
		df_buf_adds(&path, locks[k]);
		p = df_context_read(b->ctx, path.ptr, &len);
		if (p) {
			if ((*mod = native_in_lock(p, len)) != NULL)
				*from = locks[k];
			free(p);
		}
	}
	df_buf_release(&path);
	return seen;
}

const char *bi_node_musl(struct bi *b, size_t r, char *buf, size_t cap)
{
	const char *mod = NULL, *from = NULL;
	struct on_root it;
	size_t a;
	int seen = 0;

	if (!installs_node_modules(b, r))
		return NULL;
	if (!b->ctx->context_dir)
		return "there is no build context to check package.json for native modules";
	/* the package.json files the stages copy in */
	for (bi_on_root_start(&it, r); !mod && bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;

		if (inst->cmd != DF_CMD_COPY || bi_copy_from_stage(b, it.t, inst) >= 0 ||
		    inst->nargs < 2)
			continue;
		for (a = 0; a + 1 < inst->nargs && !mod; a++) {
			struct df_span s = inst->args[a];
			size_t d = s.len;

			while (d > 0 && s.ptr[d - 1] != '/')
				d--;
			if (s.len == 1 && s.ptr[0] == '.')
				d = 0;
			else if (!(s.len - d >= 7 && memcmp(s.ptr + d, "package", 7) == 0))
				continue;
			seen |= node_dir(b, s.ptr, d, &mod, &from);
		}
	}
	if (!seen && !node_dir(b, "", 0, &mod, &from))
		return "package.json is not in the build context, so native modules cannot be "
		       "ruled out";
	if (!mod)
		return NULL;
	snprintf(buf, cap, "%s installs %s, a native module built for glibc (Alpine has musl)",
		 from, mod);
	return buf;
}

static const char *const glibc_needles[] = {
	".deb", "manylinux", "linux-gnu", "glibc", "dpkg -i", "linux-amd64", "linux_amd64",
	"linux-x64", "linux-x86_64", "Linux_x86_64", "linux64", "linux-arm64", "linux_arm64",
};

const char *bi_glibc_downloads(struct bi *b, size_t r, char *buf, size_t cap)
{
	size_t k, line;

	if (bi_chain_run_has(b, r, "musl", 0, NULL) || bi_chain_run_has(b, r, "alpine", 0, NULL))
		return NULL;
	for (k = 0; k < sizeof(glibc_needles) / sizeof(glibc_needles[0]); k++) {
		int fetch = k >= 5;

		if (!bi_chain_run_has(b, r, glibc_needles[k], 0, &line))
			continue;
		if (fetch && !bi_chain_run_has(b, r, "curl", 1, NULL) &&
		    !bi_chain_run_has(b, r, "wget", 1, NULL))
			continue;
		snprintf(buf, cap, "the RUN at line %zu fetches a glibc build ('%s')", line,
			 glibc_needles[k]);
		return buf;
	}
	return NULL;
}

const char *bi_glibc_copies(struct bi *b, size_t r, char *buf, size_t cap)
{
	static const char *const builds[] = {
		"pip", "pip3", "poetry", "uv", "pipenv", "bundle", "gem", "cargo", "gcc", "g++",
		"make", "cmake",
	};
	struct on_root it;
	size_t k;

	for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;
		struct df_from f;
		int src;
		size_t sr;

		if ((src = bi_copy_from_stage(b, it.t, inst)) < 0)
			continue;
		sr = b->root[src];
		if (sr == r || b->along[sr] ||
		    df_from_read(b->doc, b->st, b->ns, sr, &f) < 0 || !f.resolved)
			continue;
		{
			const struct df_image *img = df_image_lookup(&f.ref);
			const struct df_variant *v = img ? df_variant_lookup(img, f.ref.tag, NULL)
							 : NULL;

			if (v && strcmp(v->libc, "musl") == 0)
				continue;
		}
		for (k = 0; k < sizeof(builds) / sizeof(builds[0]); k++)
			if (bi_chain_run_has(b, sr, builds[k], 1, NULL)) {
				snprintf(buf, cap, "stage %d builds with %s on glibc and this "
					 "stage copies from it", src, builds[k]);
				return buf;
			}
		if (bi_chain_run_has(b, sr, "go", 1, NULL) &&
		    !bi_chain_run_has(b, sr, "CGO_ENABLED=0", 0, NULL)) {
			snprintf(buf, cap, "stage %d builds Go with cgo on glibc and this "
				 "stage copies from it", src);
			return buf;
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------- builders */

int bi_libc_family(const char *family)
{
	return strcmp(family, "node") == 0 || strcmp(family, "python") == 0 ||
	       strcmp(family, "ruby") == 0 || strcmp(family, "php") == 0;
}

const struct df_variant *bi_root_variant(struct bi *b, size_t q, const struct df_image **img)
{
	struct df_from f;

	*img = NULL;
	if (df_from_read(b->doc, b->st, b->ns, q, &f) < 0 || f.stage >= 0 || !f.resolved ||
	    f.ref.scratch || f.windows)
		return NULL;
	*img = df_image_lookup(&f.ref);
	return *img ? df_variant_lookup(*img, f.ref.tag, NULL) : NULL;
}

void bi_builders_of(struct bi *b, size_t r, const char *family)
{
	struct on_root it;
	size_t q = r, k = 0;

	memset(b->along, 0, b->ns + 1);
	b->nmates = 0;
	for (;;) {
		for (bi_on_root_start(&it, q); bi_on_root_next(b, &it);) {
			const struct df_inst *inst = it.inst;
			const struct df_image *img;
			int src;
			size_t sr;

			if ((src = bi_copy_from_stage(b, it.t, inst)) < 0)
				continue;
			sr = b->root[src];
			if (sr == r || b->along[sr])
				continue;
			bi_root_variant(b, sr, &img);
			if (!img || strcmp(img->family, family) != 0)
				continue;
			b->along[sr] = 1;
			b->mates[b->nmates++] = sr;
		}
		if (k == b->nmates)
			break;
		q = b->mates[k++];
	}
}

const char *bi_stage_label(struct bi *b, size_t q, char *buf, size_t cap)
{
	if (b->st[q].name.len)
		snprintf(buf, cap, "`%.*s`", (int)b->st[q].name.len, b->st[q].name.ptr);
	else
		snprintf(buf, cap, "%zu", q);
	return buf;
}

/* ---------------------------------------------------------------- apt/rpm -> apk */

int bi_xlate_chain(struct df_apk *x, struct bi *b, size_t r, int apply)
{
	size_t t;

	/* the last stage first: a removed RUN does not move the ones to do */
	for (t = b->ns; t-- > 0;)
		if (b->root[t] == r && df_apk_translate(x, b->st[t].from + 1, b->st[t].end, apply) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- tools */

/* The name of simple command c, unquoted (arena) and without its
 * directory, with its word's index in *ni; NULL when it has none. */
static const char *cmd_base(struct bi *b, const char *base, const struct df_sh_cmd *c, int *ni)
{
	const char *v;

	*ni = df_sh_cmd_name(base, c); /* (-1 unless a simple command) */
	if (*ni < 0 || !(v = df_sh_unquote(&b->doc->arena, base, &c->words[*ni], NULL)))
		return NULL;
	return strrchr(v, '/') ? strrchr(v, '/') + 1 : v;
}

void bi_collect_installed(struct bi *b, size_t r, struct df_buf *set)
{
	struct on_root it;
	size_t k, j;

	for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;
		struct df_sh_script sc;
		const char *base;

		if (inst->cmd != DF_CMD_RUN || inst->json ||
		    df_sh_parse_rest(b->doc, inst, &sc) < 0)
			continue;
		base = inst->rest.ptr;
		for (k = 0; k < sc.ncmds; k++) {
			const struct df_sh_cmd *c = &sc.cmds[k];
			int ni, sub = 0;
			const char *v = cmd_base(b, base, c, &ni);

			if (!v)
				continue;
			if (strcmp(v, "apt-get") && strcmp(v, "apt") && strcmp(v, "yum") &&
			    strcmp(v, "dnf") && strcmp(v, "microdnf") && strcmp(v, "apk"))
				continue;
			for (j = (size_t)ni + 1; j < c->nwords; j++) {
				char *w = df_sh_unquote(&b->doc->arena, base, &c->words[j], NULL);

				if (!w || w[0] == '-')
					continue;
				if (!sub) {
					sub = strcmp(w, "install") == 0 || strcmp(w, "add") == 0
					      ? 1 : -1;
					if (sub < 0)
						break;
					continue;
				}
				df_pkgset_add(set, w, strlen(w));
			}
		}
	}
}

/* Is a script of that name, copied from the build context into the stages
 * on root r, a bash script (#! line)? */
static int bash_script(struct bi *b, size_t r, const char *name, size_t n)
{
	struct on_root it;
	size_t a;

	if (!b->ctx->context_dir || !n)
		return 0;
	for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;
		struct df_span from;

		/* files from the context only (not --from a stage or image) */
		if ((inst->cmd != DF_CMD_COPY && inst->cmd != DF_CMD_ADD) ||
		    flag_value(inst, "from", &from))
			continue;
		for (a = 0; a + 1 < inst->nargs; a++) {
			struct df_span s = inst->args[a];
			struct df_buf path = DF_BUF_INIT;
			size_t d = s.len, len;
			char *text;
			int bash = 0;

			while (d > 0 && s.ptr[d - 1] != '/')
				d--;
			if (s.len - d != n || memcmp(s.ptr + d, name, n) != 0)
				continue;
			df_buf_add(&path, s.ptr[0] == '/' ? s.ptr + 1 : s.ptr,
				   s.ptr[0] == '/' ? s.len - 1 : s.len);
			text = df_context_read_head(b->ctx, path.ptr, 4096, &len); /* its #! line */
			df_buf_release(&path);
			if (text) {
				struct df_span first = { text, 0 };

				while (first.len < len && text[first.len] != '\n')
					first.len++;
				bash = len > 2 && text[0] == '#' && text[1] == '!' &&
				       df_apk_has_text(first, "bash");
				free(text);
			}
			if (bash)
				return 1;
		}
	}
	return 0;
}

static void seen_command(struct bi *b, size_t r, const char *p, size_t n,
			 void (*fn)(void *, const char *, size_t), void *arg)
{
	fn(arg, p, n);
	if (n > 3 && memcmp(p + n - 3, ".sh", 3) == 0 && bash_script(b, r, p, n))
		fn(arg, "bash", 4);
}

void bi_used_tools(struct bi *b, size_t r, void (*fn)(void *, const char *, size_t),
		  void *arg)
{
	struct on_root it;
	size_t k;

	for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) {
		const struct df_inst *inst = it.inst;
		struct df_sh_script sc;
		struct df_span body;

		if (!inst)
			continue;
		if (inst->cmd == DF_CMD_SHELL && df_apk_has_text(inst->rest, "bash"))
			fn(arg, "bash", 4);
		if (inst->cmd == DF_CMD_RUN && (df_apk_has_text(inst->rest, "git+http") ||
						df_apk_has_text(inst->rest, "git+ssh")))
			fn(arg, "git", 3);
		if (inst->cmd != DF_CMD_RUN && inst->cmd != DF_CMD_CMD &&
		    inst->cmd != DF_CMD_ENTRYPOINT && inst->cmd != DF_CMD_HEALTHCHECK)
			continue;
		if (inst->json) {
			size_t a0 = inst->cmd == DF_CMD_HEALTHCHECK ? 1 : 0;

			if (inst->nargs > a0) {
				struct df_span w = inst->args[a0];
				size_t d = w.len;

				while (d > 0 && w.ptr[d - 1] != '/')
					d--;
				seen_command(b, r, w.ptr + d, w.len - d, fn, arg);
			}
			continue;
		}
		body = inst->rest;
		if (inst->cmd == DF_CMD_HEALTHCHECK) {
			if (inst->nargs < 2 || !df_span_ieq(inst->args[0], "CMD"))
				continue;
			body = inst->args[1];
		}
		if (df_sh_parse(&b->doc->arena, body.ptr, body.len, &sc) < 0)
			continue;
		for (k = 0; k < sc.ncmds; k++) {
			int ni = sc.cmds[k].kind == DF_SH_SIMPLE ?
				 df_sh_cmd_name(body.ptr, &sc.cmds[k]) : -1;
			const struct df_sh_word *w;
			size_t d;

			if (ni < 0)
				continue;
			w = &sc.cmds[k].words[ni];
			if (w->flags & (DF_SH_QUOTED | DF_SH_EXPAND))
				continue;
			d = w->len;
			while (d > 0 && body.ptr[w->off + d - 1] != '/')
				d--;
			seen_command(b, r, body.ptr + w->off + d, w->len - d, fn, arg);
		}
	}
}

int bi_append_install(struct bi *b, size_t t, int apk, const struct df_buf *pkgs)
{
	size_t i, k, j;

	for (i = b->st[t].from + 1; i < b->st[t].end; i++) {
		const struct df_inst *inst = bi_inst_at(b, i);
		struct df_sh_script sc;
		const char *base;

		if (!inst || inst->cmd != DF_CMD_RUN || inst->json || inst->nheredocs ||
		    df_sh_parse_rest(b->doc, inst, &sc) < 0)
			continue;
		base = inst->rest.ptr;
		for (k = 0; k < sc.ncmds; k++) {
			const struct df_sh_cmd *c = &sc.cmds[k];
			size_t sub = 0, last = 0, s, e;
			int ni;
			const char *v = cmd_base(b, base, c, &ni);

			if (!v)
				continue;
			if (apk ? strcmp(v, "apk") != 0 : strcmp(v, "apt-get") != 0 && strcmp(v, "apt") != 0)
				continue;
			for (j = (size_t)ni + 1; j < c->nwords; j++) {
				const char *w = df_sh_unquote(&b->doc->arena, base, &c->words[j], NULL);

				if (c->words[j].flags & DF_SH_REDIR)
					continue;
				if (!w)
					break;
				if (!sub && w[0] != '-') {
					if (strcmp(w, apk ? "add" : "install") != 0)
						break;
					sub = j;
				} else if (sub && w[0] != '-') {
					last = j;
				}
			}
			if (!last || df_inst_range(inst, df_inst_log_off(inst, inst->rest) +
						   c->words[last].off, c->words[last].len, &s, &e) < 0)
				continue;
			{
				struct df_edits ed = { 0 };

				df_edits_add(&ed, e, e, pkgs->ptr, pkgs->len - 1);
				return df_edits_apply(b->doc, i, &ed);
			}
		}
	}
	return -1;
}
