/*
 * multi_stage_go.c - the Go ecosystem of the multi-stage pass.
 *
 * The builder keeps the golang image and the build; every `go build` /
 * `go install` that writes a binary is read (-o, package, module path from
 * go.mod) and all binaries are copied to the runtime at the same path, so
 * CMD and ENTRYPOINT stay as written. Without cgo the build gets
 * CGO_ENABLED=0 -trimpath -ldflags="-s -w" and the runtime is
 * gcr.io/distroless/static-debian12:nonroot. With cgo (import "C" outside
 * cgo-only files, modules known to need it, CGO_ENABLED=1, -race) the
 * binary needs the builder's glibc: the runtime is distroless base of the
 * same Debian release (the builder is pinned to -bookworm when its tag does
 * not say), or debian:<release>-slim when the runtime needs a shell or
 * libraries. Files the code opens at run time (templates/, config.yaml...)
 * are copied too; go:embed'ed ones are not.
 */
#include <string.h>

#include "multi_stage.h"

#define MAX_BIN 16

struct gob {
	struct ms *ms;
	const char *module; /* module path from go.mod */
	struct ms_bin bins[MAX_BIN];
	size_t nbins;
	int cgo;            /* the build needs cgo */
	int cgo_off;        /* CGO_ENABLED=0 set by the file */
	const char *why_cgo;
};

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

/* go build flags that take a value (as the next word unless -flag=value). */
static int takes_value(const char *f)
{
	static const char *const v[] = {
		"o", "ldflags", "gcflags", "asmflags", "tags", "mod", "modfile", "p", "buildmode",
		"compiler", "gccgoflags", "installsuffix", "pkgdir", "toolexec", "overlay", "pgo",
		"buildvcs", "covermode", "coverpkg", "C", "exec", NULL
	};
	size_t i;

	while (*f == '-')
		f++;
	if (strchr(f, '='))
		return 0;
	for (i = 0; v[i]; i++)
		if (strcmp(f, v[i]) == 0)
			return 1;
	return 0;
}

unsigned ms_go_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c)
{
	const char *n = base_name(c->argv[0]), *sub;
	size_t i;

	(void)ms;
	(void)it;
	if (strcmp(n, "go") != 0) {
		static const char *const gen[] = {
			"swag", "protoc", "templ", "sqlc", "mockgen", "wire", "stringer", "buf",
			"oapi-codegen", "goimports", "gofmt", "upx", "strip", "golangci-lint", NULL
		};

		for (i = 0; gen[i]; i++)
			if (strcmp(n, gen[i]) == 0)
				return MS_K_DEPS;
		return 0;
	}
	if (c->argc < 2 || !(sub = c->argv[1]))
		return MS_K_OTHER;
	if (strcmp(sub, "build") == 0)
		return MS_K_BUILD;
	if (strcmp(sub, "install") == 0) {
		for (i = 2; i < c->argc; i++)
			if (c->argv[i] && c->argv[i][0] != '-' && strchr(c->argv[i], '@'))
				return MS_K_DEPS; /* a tool: go install x@version */
		return MS_K_BUILD;
	}
	if (strcmp(sub, "mod") == 0 || strcmp(sub, "get") == 0 || strcmp(sub, "generate") == 0 ||
	    strcmp(sub, "run") == 0 || strcmp(sub, "tool") == 0 || strcmp(sub, "work") == 0)
		return MS_K_DEPS;
	if (strcmp(sub, "env") == 0)
		return c->argc > 2 && ms_word_is(c->argv[2], "-w") ? MS_K_DEPS : MS_K_NEUTRAL;
	if (strcmp(sub, "test") == 0 || strcmp(sub, "vet") == 0 || strcmp(sub, "fmt") == 0 ||
	    strcmp(sub, "version") == 0 || strcmp(sub, "list") == 0)
		return MS_K_NEUTRAL;
	return MS_K_OTHER;
}

/* ---------------------------------------------------------------- go.mod and sources */

static const char *module_path(struct ms *ms, const char *gomod)
{
	const char *p = gomod;

	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "module", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
			const char *s = p + 6, *e;

			while (*s == ' ' || *s == '\t')
				s++;
			if (*s == '"')
				s++;
			e = s;
			while (*e && !strchr(" \t\r\n\"", *e))
				e++;
			return e > s ? ms_strndup(ms, s, (size_t)(e - s)) : NULL;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* Binary name `go build` gives package path p ("." -> the module's). */
static const char *pkg_name(struct gob *g, const char *p)
{
	const char *m;
	size_t n;

	if (!p || strcmp(p, ".") == 0 || strcmp(p, "./") == 0)
		p = g->module;
	if (!p)
		return NULL;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	p = ms_strndup(g->ms, p, n);
	m = strrchr(p, '/');
	if (m && m[1] == 'v' && m[2] >= '1' && m[2] <= '9' && strspn(m + 2, "0123456789") == strlen(m + 2) &&
	    m > p) { /* example.com/x/v2 -> x */
		p = ms_strndup(g->ms, p, (size_t)(m - p));
		m = strrchr(p, '/');
	}
	m = m ? m + 1 : p;
	if (!*m || strcmp(m, ".") == 0 || strcmp(m, "..") == 0 || strchr(m, '.') == m)
		return NULL;
	return m;
}

static const char *find(const char *p, size_t n, const char *lit, size_t ln)
{
	size_t i;

	for (i = 0; i + ln <= n; i++)
		if (p[i] == lit[0] && memcmp(p + i, lit, ln) == 0)
			return p + i;
	return NULL;
}

static const char *const cgo_modules[] = {
	"github.com/mattn/go-sqlite3", "github.com/confluentinc/confluent-kafka-go",
	"gopkg.in/gographics/imagick", "github.com/tecbot/gorocksdb", "github.com/linxGnu/grocksdb",
	"github.com/go-gl/", "github.com/google/gopacket/pcap", "github.com/gen2brain/go-fitz",
	"github.com/h2non/bimg", "github.com/davidbyttow/govips", "github.com/rjeczalik/notify",
	"github.com/DataDog/zstd", "github.com/valyala/gozstd", "github.com/go-vgo/robotgo",
	"github.com/mattn/go-oci8", "github.com/godror/godror", "github.com/ibmdb/go_ibm_db",
	"github.com/alexbrainman/odbc", "github.com/kbinani/screenshot", "fyne.io/fyne",
	"gioui.org", "github.com/libvirt/libvirt-go", "libvirt.org/go/libvirt",
	"github.com/ceph/go-ceph", "github.com/cilium/ebpf/cmd", "github.com/miekg/pkcs11",
	NULL
};

static int cgo_file(struct ms *ms, const char *rel, const char *text, size_t len, void *arg)
{
	struct gob *g = arg;
	const char *p = text, *end = text + len;

	(void)ms;
	if (ms_ends(rel, "_test.go"))
		return 0;
	/* a file that only builds with cgo (or never) leaves CGO_ENABLED=0 possible */
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);

		if (n >= 10 && memcmp(p, "//go:build", 10) == 0) {
			const char *c = p + 10;

			while (c < p + n) {
				const char *h = memchr(c, 'c', (size_t)(p + n - c));

				if (!h || h + 3 > p + n)
					break;
				if (memcmp(h, "cgo", 3) == 0)
					return 0;
				c = h + 1;
			}
			if (find(p, n, "ignore", 6))
				return 0;
		}
		if (n >= 7 && memcmp(p, "package", 7) == 0)
			break;
		p = e ? e + 1 : end;
	}
	for (p = text; p < end;) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
		const char *s = p;

		while (s < p + n && (*s == ' ' || *s == '\t'))
			s++;
		if ((size_t)(p + n - s) >= 10 && memcmp(s, "import \"C\"", 10) == 0) {
			g->why_cgo = ms_printf(g->ms, "%s imports \"C\"", rel);
			return 1;
		}
		if ((size_t)(p + n - s) >= 3 && memcmp(s, "\"C\"", 3) == 0) {
			/* inside an import block */
			const char *b = text;
			const char *blk = NULL;

			while ((b = find(b, (size_t)(s - b), "import (", 8)) != NULL) {
				blk = b;
				b += 8;
			}
			if (blk && !memchr(blk, ')', (size_t)(s - blk))) {
				g->why_cgo = ms_printf(g->ms, "%s imports \"C\"", rel);
				return 1;
			}
		}
		p = e ? e + 1 : end;
	}
	return 0;
}

static void find_cgo(struct gob *g, const char *gomod)
{
	static const char *const go_sfx[] = { ".go", NULL };
	char *gosum = ms_read(g->ms, "go.sum", NULL);
	size_t i;

	for (i = 0; cgo_modules[i] && !g->cgo; i++)
		if ((gomod && strstr(gomod, cgo_modules[i])) || (gosum && strstr(gosum, cgo_modules[i]))) {
			const char *m = cgo_modules[i];

			g->cgo = 1;
			g->why_cgo = ms_printf(g->ms, "%.*s needs cgo", (int)(strlen(m) - (ms_ends(m, "/") ? 1 : 0)), m);
		}
	free(gosum);
	if (!g->cgo) {
		ms_walk(g->ms, go_sfx, cgo_file, g);
		if (g->why_cgo)
			g->cgo = 1;
	}
}

/* ---------------------------------------------------------------- builds */

static const char *assign_value(struct ms *ms, struct ms_item *it, struct ms_cmd *c,
				const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < c->name; i++) {
		const struct df_sh_word *w = &c->sh->words[i];
		char *v;

		if (!(w->flags & DF_SH_ASSIGN))
			continue;
		v = df_sh_unquote(&ms->doc->arena, it->sh_base, w, NULL);
		if (!v) {
			if (w->len > nl && memcmp(it->sh_base + w->off, name, nl) == 0 &&
			    it->sh_base[w->off + nl] == '=')
				return "?";
			continue;
		}
		if (strncmp(v, name, nl) == 0 && v[nl] == '=')
			return v + nl + 1;
	}
	return NULL;
}

static int add_bin(struct gob *g, const char *path, const char *name, int install)
{
	size_t i;

	for (i = 0; i < g->nbins; i++)
		if (strcmp(g->bins[i].path, path) == 0)
			return 0;
	if (g->nbins == MAX_BIN)
		return ms_skip(g->ms, "more than %d binaries", MAX_BIN);
	g->bins[g->nbins].path = path;
	g->bins[g->nbins].rt = path;
	g->bins[g->nbins].name = name;
	g->bins[g->nbins].onpath = install;
	g->nbins++;
	return 0;
}

/* Read one go build/install; collect its binary; plan the flag edits. */
static int read_build(struct gob *g, size_t item, struct ms_cmd *c, struct ms_edit *ed, size_t *ned)
{
	struct ms *ms = g->ms;
	struct ms_item *it = &ms->items[item];
	uint32_t line = ms->doc->nodes[it->idx].line;
	const char *out = NULL, *pkgs[8], *v, *goos, *cgo;
	int install = ms_word_is(c->argv[1], "install"), trimpath = 0, ldflags = 0;
	size_t np = 0, i;

	if (it->kind & MS_K_CD)
		return ms_skip(ms, "the go build at line %u changes directory", line);
	goos = assign_value(ms, it, c, "GOOS");
	if (!goos)
		goos = ms_var(ms, item, "GOOS");
	if (goos && strcmp(goos, "linux") != 0 && !strchr(goos, '$'))
		return ms_skip(ms, "the go build at line %u is for GOOS=%s", line, goos);
	cgo = assign_value(ms, it, c, "CGO_ENABLED");
	if (!cgo)
		cgo = ms_var(ms, item, "CGO_ENABLED");
	if (cgo && strcmp(cgo, "0") == 0)
		g->cgo_off = 1;
	else if (cgo && strcmp(cgo, "1") == 0) {
		g->cgo = 1;
		g->why_cgo = "the build sets CGO_ENABLED=1";
	} else if (cgo)
		return ms_skip(ms, "CGO_ENABLED=%s at line %u", cgo, line);
	for (i = 2; i < c->argc; i++) {
		const char *a = c->argv[i];

		if (!a)
			return ms_skip(ms, "the go build at line %u has variables", line);
		if (a[0] == '-') {
			const char *f = a + (a[1] == '-' ? 2 : 1);

			if (strcmp(f, "trimpath") == 0)
				trimpath = 1;
			if (ms_starts(f, "ldflags"))
				ldflags = 1;
			if (strcmp(f, "race") == 0 || strcmp(f, "msan") == 0 || strcmp(f, "asan") == 0) {
				g->cgo = 1;
				g->why_cgo = "-race needs cgo";
			}
			if (ms_starts(f, "buildmode")) {
				v = strchr(f, '=') ? strchr(f, '=') + 1 : i + 1 < c->argc ? c->argv[i + 1] : NULL;
				if (!v || (strcmp(v, "exe") && strcmp(v, "default") && strcmp(v, "pie")))
					return ms_skip(ms, "-buildmode=%s at line %u", v ? v : "?", line);
			}
			if (ms_starts(f, "C") && (f[1] == '\0' || f[1] == '='))
				return ms_skip(ms, "go -C at line %u", line);
			if (f[0] == 'o' && (f[1] == '\0' || f[1] == '=')) {
				out = f[1] == '=' ? f + 2 : i + 1 < c->argc ? c->argv[i + 1] : NULL;
				if (install)
					return ms_skip(ms, "go install -o at line %u", line);
			}
			if (takes_value(a))
				i++;
			continue;
		}
		if (np < 8)
			pkgs[np++] = a;
		else
			return ms_skip(ms, "too many packages in the go build at line %u", line);
	}
	if (!it->wd)
		return ms_skip(ms, "the WORKDIR of the go build at line %u is not known", line);
	if (out) {
		const char *abs;

		if (ms_ends(out, "/") || strcmp(out, ".") == 0 || strcmp(out, "/dev/null") == 0)
			return ms_skip(ms, "go build -o %s at line %u names a directory", out, line);
		abs = ms_abs(ms, it->wd, out);
		if (add_bin(g, abs, base_name(abs), 0) < 0)
			return -1;
	} else {
		const char *name = NULL;

		if (np > 1 && ms_ends(pkgs[0], ".go")) {
			name = ms_strndup(ms, pkgs[0], strlen(pkgs[0]) - 3);
			name = base_name(name);
		} else if (np == 1 && ms_ends(pkgs[0], ".go")) {
			name = base_name(ms_strndup(ms, pkgs[0], strlen(pkgs[0]) - 3));
		} else if (np <= 1 && !(np == 1 && strstr(pkgs[0], "..."))) {
			name = pkg_name(g, np ? pkgs[0] : NULL);
		} else if (!install) {
			return 0; /* several packages: go build writes nothing */
		} else {
			return ms_skip(ms, "go install of several packages at line %u", line);
		}
		if (!name)
			return ms_skip(ms, "no binary name for the go build at line %u", line);
		if (install) {
			const char *gobin = ms_var(ms, item, "GOBIN"), *gopath = ms_var(ms, item, "GOPATH");

			if (assign_value(ms, it, c, "GOARCH") || assign_value(ms, it, c, "GOOS"))
				return ms_skip(ms, "go install for another platform at line %u", line);
			if (gobin && strchr(gobin, '$'))
				return ms_skip(ms, "GOBIN is not known at line %u", line);
			if (add_bin(g, ms_abs(ms, gobin ? gobin : gopath ? ms_printf(ms, "%s/bin", gopath)
									  : "/go/bin", name),
				    name, 1) < 0)
				return -1;
		} else if (add_bin(g, ms_abs(ms, it->wd, name), name, 0) < 0) {
			return -1;
		}
	}
	/* edits: CGO_ENABLED=0 before go, -trimpath -ldflags="-s -w" after build */
	if (!ed || *ned + 2 > 8)
		return 0;
	{
		const struct df_sh_word *gw = &c->sh->words[c->name];
		size_t k, sub = c->name + 1;

		while (sub < c->sh->nwords && (c->sh->words[sub].flags & DF_SH_REDIR))
			sub++;
		if (!cgo && !g->cgo) {
			ed[*ned].off = ed[*ned].end = ms_word_off(it, gw);
			ed[*ned].text = "CGO_ENABLED=0 ";
			(*ned)++;
		}
		if (sub < c->sh->nwords && (!trimpath || !ldflags)) {
			const struct df_sh_word *bw = &c->sh->words[sub];

			k = ms_word_off(it, bw) + bw->len;
			ed[*ned].off = ed[*ned].end = k;
			ed[*ned].text = !trimpath && !ldflags ? " -trimpath -ldflags=\"-s -w\""
				      : !trimpath ? " -trimpath" : " -ldflags=\"-s -w\"";
			(*ned)++;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- plan */

static void note_bins(struct ms *ms, struct gob *g);

static const char *const go_env[] = {
	"CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GOPROXY", "GOPRIVATE", "GONOSUMDB",
	"GONOPROXY", "GOFLAGS", "GO111MODULE", "GOPATH", "GOCACHE", "GOMODCACHE", "GOBIN",
	"GOTOOLCHAIN", "GOSUMDB", "GOINSECURE", "GOEXPERIMENT", "CC", "CXX", "CGO_CFLAGS",
	"CGO_LDFLAGS", "CGO_CPPFLAGS", "CGO_CXXFLAGS", "PKG_CONFIG_PATH", "GOWORK", NULL
};
static const char *const go_sfx[] = { ".go", NULL };
static const char *const go_not_runtime[] = {
	"go.mod", "go.sum", "go.work*", "vendor", "cmd", "internal", "pkg", "Dockerfile*",
	"*.dockerfile", "docker-compose*", "compose*.y*ml", "Makefile", "README*", "LICENSE*",
	"CHANGELOG*", "*.md", "docs", "doc", "test", "tests", "testdata", "scripts", "hack", "build",
	"deploy*", "bin", "Taskfile*", "*.sh", NULL
};

int ms_go_plan(struct ms *ms)
{
	struct gob g;
	struct ms_native nv;
	char *gomod;
	size_t i, k;
	int r;

	memset(&g, 0, sizeof(g));
	g.ms = ms;
	gomod = ms_read(ms, "go.mod", NULL);
	if (!gomod)
		return ms_skip(ms, "no go.mod in the build context");
	g.module = module_path(ms, gomod);
	find_cgo(&g, gomod);
	free(gomod);
	/* the builds: binaries and cgo first, then the flag edits */
	for (r = 0; r < 2; r++)
		for (i = 0; i <= ms->last_build; i++) {
			struct ms_item *it = &ms->items[i];
			struct ms_edit ed[8];
			size_t ned = 0;

			if (it->cmd != DF_CMD_RUN || !(it->kind & MS_K_BUILD))
				continue;
			for (k = 0; k < it->ncmds; k++) {
				struct ms_cmd *c = &it->cmds[k];

				if (!c->argc || !c->argv[0] || !(ms_go_kind(ms, it, c) & MS_K_BUILD))
					continue;
				if (read_build(&g, i, c, r ? ed : NULL, &ned) < 0)
					return -1;
			}
			if (r == 0 && g.cgo && g.cgo_off && strcmp(g.why_cgo, "-race needs cgo") != 0)
				g.cgo = 0; /* CGO_ENABLED=0 as the file asks: cgo-only code stays out */
			if (ned) {
				it->btext = ms_edit_node(ms, i, ed, ned);
				if (!it->btext)
					return ms_skip(ms, "cannot edit the go build at line %u",
						       ms->doc->nodes[it->idx].line);
			}
		}
	if (!g.nbins)
		return ms_skip(ms, "no go build writes a binary");
	memset(&nv, 0, sizeof(nv));
	nv.bins = g.bins;
	nv.nbins = g.nbins;
	nv.glibc = g.cgo;
	nv.distroless = "base";
	nv.build_env = go_env;
	nv.src_suffixes = go_sfx;
	nv.not_runtime = go_not_runtime;
	nv.what = "go build";
	if (ms_plan_native(ms, &nv) < 0)
		return -1;
	{ /* the binaries first in the finding */
		struct df_buf rest = DF_BUF_INIT;

		df_buf_add(&rest, ms->note.ptr ? ms->note.ptr : "", ms->note.len);
		df_buf_reset(&ms->note);
		note_bins(ms, &g);
		df_buf_add(&ms->note, rest.ptr ? rest.ptr : "", rest.len);
		df_buf_release(&rest);
	}
	return 0;
}

static void note_bins(struct ms *ms, struct gob *g)
{
	size_t i;

	df_buf_addf(&ms->note, "%s binar%s", g->cgo ? "cgo" : g->cgo_off ? "static" : "CGO_ENABLED=0 static",
		    g->nbins > 1 ? "ies" : "y");
	for (i = 0; i < g->nbins; i++)
		df_buf_addf(&ms->note, "%s %s", i ? "," : "", g->bins[i].rt);
	if (g->cgo)
		df_buf_addf(&ms->note, " (%s) with the builder's glibc", g->why_cgo);
}
