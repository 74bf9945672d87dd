/*
 * multi_stage_rust.c - the Rust ecosystem of the multi-stage pass.
 *
 * `cargo build [--release|--profile P] [--bin X] [--target T]` writes
 * target/[T/]<profile>/<bin>; `cargo install --path .` writes
 * $CARGO_HOME/bin/<bin> (/usr/local/cargo/bin in the rust image; --root R:
 * R/bin). The binaries are the [[bin]] targets of Cargo.toml, the package
 * name when src/main.rs exists, and the files of src/bin. Rust binaries link glibc
 * dynamically: the runtime is gcr.io/distroless/cc-debian12:nonroot, or
 * debian:<release>-slim when it needs a shell (multi_stage_native.c).
 */
#include <dirent.h>
#include <string.h>

#include "multi_stage.h"

#define MAX_BIN 16

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

unsigned ms_rust_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c)
{
	const char *n = base_name(c->argv[0]), *sub;
	size_t i;

	(void)ms;
	(void)it;
	if (strcmp(n, "rustup") == 0)
		return MS_K_DEPS;
	if (strcmp(n, "cargo") != 0)
		return 0;
	sub = c->argc > 1 ? c->argv[1] : NULL;
	if (!sub)
		return MS_K_OTHER;
	if (strcmp(sub, "build") == 0 || strcmp(sub, "b") == 0)
		return MS_K_BUILD;
	if (strcmp(sub, "install") == 0) {
		for (i = 2; i < c->argc; i++)
			if (ms_word_is(c->argv[i], "--path") || ms_starts(c->argv[i], "--path="))
				return MS_K_BUILD;
		return MS_K_DEPS; /* a tool: cargo install sqlx-cli */
	}
	if (!strcmp(sub, "fetch") || !strcmp(sub, "vendor") || !strcmp(sub, "generate-lockfile") ||
	    !strcmp(sub, "update") || !strcmp(sub, "new") || !strcmp(sub, "init") ||
	    !strcmp(sub, "chef") || !strcmp(sub, "add"))
		return MS_K_DEPS;
	if (!strcmp(sub, "test") || !strcmp(sub, "check") || !strcmp(sub, "clippy") ||
	    !strcmp(sub, "fmt") || !strcmp(sub, "--version") || !strcmp(sub, "-V") ||
	    !strcmp(sub, "doc"))
		return MS_K_NEUTRAL;
	return MS_K_OTHER;
}

/* ---------------------------------------------------------------- Cargo.toml */

struct cargo {
	const char *package;           /* [package] name */
	const char *bins[MAX_BIN];     /* every binary target */
	size_t nbins;
	int workspace;                 /* [workspace] */
	int autobins;                  /* not `autobins = false` */
};

static void add_name(struct cargo *c, const char *n)
{
	size_t i;

	for (i = 0; i < c->nbins; i++)
		if (strcmp(c->bins[i], n) == 0)
			return;
	if (c->nbins < MAX_BIN)
		c->bins[c->nbins++] = n;
}

/* `key = "value"` on a line: the value, or NULL. */
static const char *toml_value(struct ms *ms, const char *line, size_t n, const char *key)
{
	size_t k = strlen(key), i;
	const char *e;

	if (n <= k || strncmp(line, key, k) != 0)
		return NULL;
	i = k;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n || line[i] != '=')
		return NULL;
	i++;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= n)
		return NULL;
	if (line[i] != '"' && line[i] != '\'')
		return ms_strndup(ms, line + i, strcspn(line + i, " \t\r#"));
	e = memchr(line + i + 1, line[i], n - i - 1);
	return e ? ms_strndup(ms, line + i + 1, (size_t)(e - line - i - 1)) : NULL;
}

static int read_cargo(struct ms *ms, struct cargo *c)
{
	char *text = ms_read(ms, "Cargo.toml", NULL);
	const char *p;
	enum { S_OTHER, S_PACKAGE, S_BIN } sec = S_OTHER;

	memset(c, 0, sizeof(*c));
	c->autobins = 1;
	if (!text)
		return -1;
	for (p = text; *p;) {
		size_t n = strcspn(p, "\n");
		const char *l = p, *v;

		while (n && (*l == ' ' || *l == '\t')) {
			l++;
			n--;
		}
		if (n >= 2 && l[0] == '[' && l[1] == '[')
			sec = n >= 7 && strncmp(l, "[[bin]]", 7) == 0 ? S_BIN : S_OTHER;
		else if (n >= 1 && l[0] == '[') {
			sec = n >= 9 && strncmp(l, "[package]", 9) == 0 ? S_PACKAGE : S_OTHER;
			if (n >= 11 && strncmp(l, "[workspace]", 11) == 0)
				c->workspace = 1;
		} else if (sec == S_PACKAGE && (v = toml_value(ms, l, n, "name")) != NULL) {
			c->package = v;
		} else if (sec == S_PACKAGE && (v = toml_value(ms, l, n, "autobins")) != NULL) {
			c->autobins = strcmp(v, "false") != 0;
		} else if (sec == S_BIN && (v = toml_value(ms, l, n, "name")) != NULL) {
			add_name(c, v);
		}
		p += n + (l - p);
		if (*p == '\n')
			p++;
	}
	free(text);
	if (c->package && c->autobins) {
		if (ms_exists(ms, "src/main.rs"))
			add_name(c, c->package);
		if (ms_isdir(ms, "src/bin") && ms->ctx->context_dir) {
			struct df_buf b = DF_BUF_INIT;
			DIR *d;
			struct dirent *de;

			df_buf_adds(&b, ms->ctx->context_dir);
			df_buf_adds(&b, "/src/bin");
			d = opendir(b.ptr);
			df_buf_release(&b);
			while (d && (de = readdir(d)) != NULL)
				if (ms_ends(de->d_name, ".rs"))
					add_name(c, ms_strndup(ms, de->d_name, strlen(de->d_name) - 3));
				else if (de->d_name[0] != '.' &&
					 ms_exists(ms, ms_printf(ms, "src/bin/%s/main.rs", de->d_name)))
					add_name(c, ms_strdup(ms, de->d_name));
			if (d)
				closedir(d);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- builds */

static int add_bin(struct ms *ms, struct ms_native *nv, const char *path, const char *name,
		   int onpath)
{
	size_t i;

	for (i = 0; i < nv->nbins; i++)
		if (strcmp(nv->bins[i].path, path) == 0)
			return 0;
	if (nv->nbins == MAX_BIN)
		return ms_skip(ms, "more than %d binaries", MAX_BIN);
	nv->bins[nv->nbins].path = path;
	nv->bins[nv->nbins].rt = path;
	nv->bins[nv->nbins].name = name;
	nv->bins[nv->nbins].onpath = onpath;
	nv->nbins++;
	return 0;
}

static int read_build(struct ms *ms, struct cargo *cg, struct ms_native *nv, size_t item,
		      struct ms_cmd *c)
{
	struct ms_item *it = &ms->items[item];
	uint32_t line = ms->doc->nodes[it->idx].line;
	int install = ms_word_is(c->argv[1], "install");
	const char *profile = install ? "release" : "debug", *target = NULL, *tdir = NULL;
	const char *root = NULL, *path = NULL, *bins[MAX_BIN];
	size_t nb = 0, i;

	if (it->kind & MS_K_CD)
		return ms_skip(ms, "the cargo build at line %u changes directory", line);
	if (!it->wd)
		return ms_skip(ms, "the WORKDIR of the cargo build at line %u is not known", line);
	for (i = 2; i < c->argc; i++) {
		const char *a = c->argv[i], *v = NULL;

		if (!a)
			return ms_skip(ms, "the cargo build at line %u has variables", line);
		if (a[0] != '-')
			return ms_skip(ms, "cargo %s %s at line %u", c->argv[1], a, line);
		if (strchr(a, '='))
			v = strchr(a, '=') + 1;
#define OPT(name) (strncmp(a, name, strlen(name)) == 0 && (a[strlen(name)] == '=' || \
	(a[strlen(name)] == '\0' && i + 1 < c->argc && (v = c->argv[++i]) != NULL)))
		if (!strcmp(a, "--release") || !strcmp(a, "-r"))
			profile = "release";
		else if (!strcmp(a, "--debug"))
			profile = "debug";
		else if (OPT("--profile"))
			profile = strcmp(v, "dev") == 0 ? "debug" : strcmp(v, "test") == 0 ? "debug" : v;
		else if (OPT("--bin")) {
			if (nb < MAX_BIN)
				bins[nb++] = v;
		} else if (OPT("--target"))
			target = v;
		else if (OPT("--target-dir"))
			tdir = v;
		else if (OPT("--root"))
			root = v;
		else if (OPT("--path"))
			path = v;
		else if (OPT("--features") || OPT("-F") || OPT("--jobs") || OPT("-j") ||
			 OPT("--config") || OPT("--color") || OPT("--message-format"))
			;
		else if (!strcmp(a, "--locked") || !strcmp(a, "--frozen") || !strcmp(a, "--offline") ||
			 !strcmp(a, "--all-features") || !strcmp(a, "--no-default-features") ||
			 !strcmp(a, "-v") || !strcmp(a, "-vv") || !strcmp(a, "--verbose") ||
			 !strcmp(a, "-q") || !strcmp(a, "--quiet") || !strcmp(a, "--bins") ||
			 !strcmp(a, "--force") || !strcmp(a, "-f") || !strcmp(a, "--no-track"))
			;
		else
			return ms_skip(ms, "cargo option %s at line %u", a, line);
#undef OPT
		if (!v && strchr(a, '='))
			return ms_skip(ms, "cargo option %s at line %u", a, line);
	}
	if (install && (!path || strcmp(ms_abs(ms, it->wd, path), it->wd) != 0))
		return ms_skip(ms, "cargo install at line %u does not install the crate of the WORKDIR",
			       line);
	if (!nb)
		for (i = 0; i < cg->nbins && nb < MAX_BIN; i++)
			bins[nb++] = cg->bins[i];
	if (!nb)
		return ms_skip(ms, "no binary target in Cargo.toml");
	if (install) {
		const char *home = ms_var(ms, item, "CARGO_HOME");
		const char *r = root ? root : ms_var(ms, item, "CARGO_INSTALL_ROOT");

		if ((r && strchr(r, '$')) || (home && strchr(home, '$')))
			return ms_skip(ms, "the cargo install root is not known (line %u)", line);
		if (!r)
			r = home ? home : "/usr/local/cargo";
		for (i = 0; i < nb; i++)
			if (add_bin(ms, nv, ms_abs(ms, ms_abs(ms, it->wd, r), ms_printf(ms, "bin/%s", bins[i])),
				    bins[i], !root && !ms_var(ms, item, "CARGO_INSTALL_ROOT")) < 0)
				return -1;
		return 0;
	}
	if (!tdir)
		tdir = ms_var(ms, item, "CARGO_TARGET_DIR");
	if (!tdir)
		tdir = "target";
	if (strchr(tdir, '$') || (target && strchr(target, '$')))
		return ms_skip(ms, "the cargo target directory is not known (line %u)", line);
	for (i = 0; i < nb; i++) {
		const char *p = target ? ms_printf(ms, "%s/%s/%s/%s", tdir, target, profile, bins[i])
				       : ms_printf(ms, "%s/%s/%s", tdir, profile, bins[i]);

		if (add_bin(ms, nv, ms_abs(ms, it->wd, p), bins[i], 0) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- plan */

static const char *const rust_env[] = {
	"CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_INCREMENTAL", "CARGO_NET_GIT_FETCH_WITH_CLI",
	"CARGO_REGISTRIES_CRATES_IO_PROTOCOL", "CARGO_BUILD_TARGET", "CARGO_PROFILE_RELEASE_LTO",
	"CARGO_TERM_COLOR", "RUSTFLAGS", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN", "RUST_VERSION",
	"CC", "CXX", "PKG_CONFIG_PATH", "OPENSSL_DIR", "OPENSSL_STATIC", "SQLX_OFFLINE", NULL
};
static const char *const rust_sfx[] = { ".rs", NULL };
static const char *const rust_not_runtime[] = {
	"Cargo.toml", "Cargo.lock", "src", "target", "benches", "examples", "tests", "build.rs",
	"Dockerfile*", "*.dockerfile", "docker-compose*", "compose*.y*ml", "Makefile", "README*",
	"LICENSE*", "CHANGELOG*", "*.md", "docs", "doc", "scripts", "rust-toolchain*",
	"rustfmt.toml", "clippy.toml", "deny.toml", "*.sh", NULL
};

int ms_rust_plan(struct ms *ms)
{
	struct cargo cg;
	struct ms_native nv;
	struct ms_bin bins[MAX_BIN];
	size_t i, k;

	if (read_cargo(ms, &cg) < 0)
		return ms_skip(ms, "no Cargo.toml in the build context");
	if (!cg.package)
		return ms_skip(ms, "Cargo.toml is a workspace without a [package]");
	memset(&nv, 0, sizeof(nv));
	nv.bins = bins;
	for (i = 0; i <= ms->last_build; i++) {
		struct ms_item *it = &ms->items[i];

		if (it->cmd != DF_CMD_RUN || !(it->kind & MS_K_BUILD))
			continue;
		for (k = 0; k < it->ncmds; k++) {
			struct ms_cmd *c = &it->cmds[k];

			if (!c->argc || !c->argv[0] || !(ms_rust_kind(ms, it, c) & MS_K_BUILD))
				continue;
			if (read_build(ms, &cg, &nv, i, c) < 0)
				return -1;
		}
	}
	if (!nv.nbins)
		return ms_skip(ms, "no cargo build writes a binary");
	nv.glibc = 1;
	nv.distroless = "cc";
	nv.build_env = rust_env;
	nv.src_suffixes = rust_sfx;
	nv.not_runtime = rust_not_runtime;
	nv.what = "cargo build";
	if (strstr(ms->tag, "alpine"))
		return ms_skip(ms, "rust on alpine: dfix does not pick a musl runtime");
	if (ms_plan_native(ms, &nv) < 0)
		return -1;
	{ /* the binaries first in the finding */
		struct df_buf rest = DF_BUF_INIT;

		df_buf_add(&rest, ms->note.ptr ? ms->note.ptr : "", ms->note.len);
		df_buf_reset(&ms->note);
		df_buf_addf(&ms->note, "the binar%s", nv.nbins > 1 ? "ies" : "y");
		for (i = 0; i < nv.nbins; i++)
			df_buf_addf(&ms->note, "%s %s", i ? "," : "", nv.bins[i].rt);
		df_buf_addf(&ms->note, " with the builder's glibc");
		df_buf_add(&ms->note, rest.ptr ? rest.ptr : "", rest.len);
		df_buf_release(&rest);
	}
	return 0;
}
