/*
 * multi_stage.c - the `multi-stage` pass: a single-stage Dockerfile that
 * builds an app becomes a builder stage and a runtime stage that ships only
 * what the app needs at run time (the lean-images article, strategies 1
 * and 5). Node, Go, Python, Java and Rust; see multi_stage.h for the steps
 * and multi_stage_<eco>.c for what each ecosystem ships.
 *
 * The pass never guesses: it splits only when the build context tells what
 * the build produces and what the container runs. Otherwise it records a
 * finding that says why it did not split. A file that has more than one
 * stage already is left alone, which also makes the pass idempotent.
 */
#include <string.h>

#include "multi_stage.h"

static const char pass_doc[] =
	"Turns a single-stage Dockerfile that builds an app into a builder stage\n"
	"(`AS builder`: the original image and build steps) and a runtime stage that\n"
	"ships only what the app runs (article strategies 1 and 5). It reads the build\n"
	"context to know what the build writes and what the container runs:\n"
	"\n"
	"  node    package.json (main, scripts), tsconfig.json outDir (and \"extends\"),\n"
	"          tool conventions (vite, vue-cli: dist/; react-scripts: build/;\n"
	"          next: .next/; nuxt: .output/; angular.json outputPath); the builder\n"
	"          installs with package-lock.json (`npm install` -> `npm ci`), builds\n"
	"          and prunes dev dependencies; the runtime is the same node image\n"
	"          (base-image may make it leaner) with package.json, node_modules,\n"
	"          the output and the top-level files the code names (public/,\n"
	"          views/...). `npm start` becomes `node <file>` when scripts.start is\n"
	"          exactly that. A front end served by a preview or dev server\n"
	"          (vite preview, react-scripts start, ng serve, serve -s dist) ships\n"
	"          its output on nginx:alpine in /usr/share/nginx/html, port 80.\n"
	"  go      go.mod; every `go build`/`go install` binary (-o, package, module\n"
	"          path) at the same path. Without cgo: CGO_ENABLED=0 -trimpath\n"
	"          -ldflags=\"-s -w\" on gcr.io/distroless/static-debian12:nonroot.\n"
	"          With cgo (import \"C\", go-sqlite3, CGO_ENABLED=1, -race):\n"
	"          gcr.io/distroless/base-debian12 and a builder pinned to -bookworm.\n"
	"  python  requirements/poetry/pipenv installed into /opt/venv in the builder\n"
	"          (with gcc and *-dev packages); the runtime is the -slim image of the\n"
	"          same version with /opt/venv, PATH and the run-time libraries of the\n"
	"          build packages (libpq-dev -> libpq5: apt-runtime rows of\n"
	"          transforms/packages.tsv). Split only when something is built that\n"
	"          the runtime can leave behind (build packages, poetry/pipenv, a full\n"
	"          python image).\n"
	"  java    `java -jar` of the jar CMD names or pom.xml/gradle files give,\n"
	"          copied to /app/app.jar on eclipse-temurin:<JDK>-jre; CMD/ENTRYPOINT\n"
	"          point at it.\n"
	"  rust    Cargo.toml [package] name and [[bin]]s; `cargo build --release` or\n"
	"          `cargo install --path .`; gcr.io/distroless/cc-debian12:nonroot\n"
	"          (builder pinned to -bookworm).\n"
	"\n"
	"Go and Rust runtimes are debian:<release>-slim (alpine for an alpine Go\n"
	"builder) when a RUN, a shell-form command with shell syntax, or a library\n"
	"must live there; not :nonroot when the app keeps data in a VOLUME.\n"
	"Builder and runtime keep the same libc family. The runtime keeps ENV, the\n"
	"ARGs it uses, WORKDIR, USER, EXPOSE, VOLUME, LABEL, HEALTHCHECK, STOPSIGNAL,\n"
	"ENTRYPOINT, CMD and what is copied after the build; files CMD/ENTRYPOINT\n"
	"name and .env are shipped; comments move with their instructions. When dfix\n"
	"cannot tell the artifacts with confidence it does not split and its finding\n"
	"(--report) says why. Files with several stages, no build step, or no build\n"
	"context (stdin) are left alone.\n";

/* ---------------------------------------------------------------- scan */

#define MAX_NODES 20000

static unsigned (*const kind_fn[])(struct ms *, struct ms_item *, struct ms_cmd *) = {
	NULL, ms_node_kind, ms_go_kind, ms_python_kind, ms_java_kind, ms_rust_kind
};
static int (*const plan_fn[])(struct ms *) = {
	NULL, ms_node_plan, ms_go_plan, ms_python_plan, ms_java_plan, ms_rust_plan
};
static const char *const eco_name[] = { "", "node", "go", "python", "java", "rust" };

static enum ms_eco image_eco(const char *repo)
{
	static const char *const java[] = {
		"maven", "gradle", "eclipse-temurin", "openjdk", "amazoncorretto", "sapmachine",
		"ibm-semeru-runtimes", "ibmjava", NULL
	};
	size_t i;

	if (strcmp(repo, "node") == 0)
		return MS_NODE;
	if (strcmp(repo, "golang") == 0)
		return MS_GO;
	if (strcmp(repo, "python") == 0)
		return MS_PYTHON;
	if (strcmp(repo, "rust") == 0)
		return MS_RUST;
	for (i = 0; java[i]; i++)
		if (strcmp(repo, java[i]) == 0)
			return MS_JAVA;
	return MS_NONE;
}

static const char *default_wd(const char *repo)
{
	if (strcmp(repo, "golang") == 0)
		return "/go";
	if (strcmp(repo, "gradle") == 0)
		return NULL; /* not sure what the image sets */
	return "/";
}

/* A value with $VARs replaced by what ENV/ARG set before item upto. */
static const char *subst(struct ms *ms, size_t upto, struct df_span v)
{
	struct df_buf b = DF_BUF_INIT;
	const char *r = NULL;
	size_t i = 0;

	if (v.len >= 2 && (v.ptr[0] == '"' || v.ptr[0] == '\'') && v.ptr[v.len - 1] == v.ptr[0]) {
		v.ptr++;
		v.len -= 2;
	}
	while (i < v.len) {
		if (v.ptr[i] == '$') {
			size_t s, e;
			const char *val;
			char name[128];

			i++;
			if (i < v.len && v.ptr[i] == '{') {
				s = ++i;
				while (i < v.len && v.ptr[i] != '}')
					i++;
				if (i >= v.len)
					goto out;
				e = i++;
			} else {
				s = i;
				while (i < v.len && (v.ptr[i] == '_' || (v.ptr[i] >= 'a' && v.ptr[i] <= 'z') ||
						     (v.ptr[i] >= 'A' && v.ptr[i] <= 'Z') ||
						     (i > s && v.ptr[i] >= '0' && v.ptr[i] <= '9')))
					i++;
				e = i;
			}
			if (e == s || e - s >= sizeof(name) || memchr(v.ptr + s, ':', e - s))
				goto out;
			memcpy(name, v.ptr + s, e - s);
			name[e - s] = '\0';
			val = ms_var(ms, upto, name);
			if (!val || strchr(val, '$'))
				goto out;
			df_buf_adds(&b, val);
			continue;
		}
		if (v.ptr[i] == '\\' || v.ptr[i] == '"' || v.ptr[i] == '\'')
			goto out;
		df_buf_addc(&b, v.ptr[i++]);
	}
	r = ms_strndup(ms, b.ptr ? b.ptr : "", b.len);
out:
	df_buf_release(&b);
	return r;
}

static int has_flag(const struct df_inst *inst, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < inst->nflags; i++)
		if (inst->flags[i].len >= n && memcmp(inst->flags[i].ptr, name, n) == 0 &&
		    (inst->flags[i].len == n || inst->flags[i].ptr[n] == '='))
			return 1;
	return 0;
}

static void add_copies(struct ms *ms, size_t item)
{
	struct ms_item *it = &ms->items[item];
	const struct df_inst *inst = it->inst;
	const char *dst;
	int dst_dir;
	size_t i;

	if (inst->nargs < 2 || inst->nheredocs || has_flag(inst, "--from") || !it->wd)
		return;
	dst = subst(ms, item, inst->args[inst->nargs - 1]);
	if (!dst)
		return;
	dst_dir = inst->nargs > 2 || ms_ends(dst, "/") || strcmp(dst, ".") == 0;
	dst = ms_abs(ms, it->wd, dst);
	for (i = 0; i + 1 < inst->nargs; i++) {
		struct df_span s = inst->args[i];
		struct ms_copy *c;
		const char *src;

		if (memchr(s.ptr, '$', s.len) || memchr(s.ptr, '\0', s.len))
			continue;
		src = ms_strndup(ms, s.ptr, s.len);
		if (strstr(src, "://") || ms_starts(src, "git@"))
			continue;
		if (inst->cmd == DF_CMD_ADD && (ms_ends(src, ".tar") || ms_ends(src, ".gz") ||
						ms_ends(src, ".tgz") || ms_ends(src, ".xz") ||
						ms_ends(src, ".bz2") || ms_ends(src, ".zst")))
			continue;
		while (ms_starts(src, "./"))
			src += 2;
		while (*src == '/')
			src++;
		{
			size_t n = strlen(src);

			while (n > 1 && src[n - 1] == '/')
				n--;
			src = ms_strndup(ms, src, n);
		}
		if (!*src)
			src = ".";
		ms->copies = df_xrealloc(ms->copies, (ms->ncopies + 1) * sizeof(*ms->copies));
		c = &ms->copies[ms->ncopies++];
		memset(c, 0, sizeof(*c));
		c->item = item;
		c->src = src;
		c->glob = strpbrk(src, "*?[") != NULL;
		c->dir = !c->glob && (strcmp(src, ".") == 0 || ms_isdir(ms, src));
		if (c->glob || c->dir) {
			c->dst = dst;
		} else {
			const char *b = strrchr(src, '/');

			c->dst = dst_dir ? ms_abs(ms, dst, b ? b + 1 : src) : dst;
		}
	}
}

static void parse_shell(struct ms *ms, struct ms_item *it)
{
	const struct df_inst *inst = it->inst;
	size_t i;

	if (inst->json || inst->nheredocs || !inst->rest.len)
		return;
	if (df_sh_parse_rest(ms->doc, inst, &it->sh) != 0)
		return;
	it->sh_base = inst->rest.ptr;
	if (it->cmd != DF_CMD_RUN)
		return;
	it->shell_ok = !it->sh.complex && !it->sh.has_heredoc;
	it->cmds = df_arena_alloc(&ms->doc->arena, (it->sh.ncmds + 1) * sizeof(*it->cmds));
	for (i = 0; i < it->sh.ncmds; i++) {
		const struct df_sh_cmd *c = &it->sh.cmds[i];
		struct ms_cmd *mc;
		int name;
		size_t k;

		if (c->kind != DF_SH_SIMPLE)
			continue;
		mc = &it->cmds[it->ncmds++];
		mc->sh = c;
		name = df_sh_cmd_name(it->sh_base, c);
		if (name < 0)
			continue;
		mc->name = (size_t)name;
		mc->argv = df_arena_alloc(&ms->doc->arena, (c->nwords + 1) * sizeof(*mc->argv));
		for (k = (size_t)name; k < c->nwords; k++) {
			if (c->words[k].flags & DF_SH_REDIR)
				continue;
			mc->argv[mc->argc++] = df_sh_unquote(&ms->doc->arena, it->sh_base,
							     &c->words[k], NULL);
		}
	}
}

/* A reason not to split, told only if the stage turns out to build an app. */
static void later(struct ms *ms, const char *why)
{
	if (!ms->scan_skip)
		ms->scan_skip = why;
}

static int scan(struct ms *ms, const struct df_stage *st)
{
	const char *wd, *user = NULL;
	size_t i, prev = st->from;

	wd = default_wd(ms->repo);
	ms->items = df_xcalloc(st->end - st->from + 1, sizeof(*ms->items));
	for (i = st->from + 1; i < st->end; i++) {
		struct df_node *n = &ms->doc->nodes[i];
		struct ms_item *it;
		size_t own;

		if (n->kind == DF_ERROR || (n->kind == DF_INSTRUCTION && !n->inst)) {
			later(ms, ms_printf(ms, "line %u does not parse", n->line));
			continue;
		}
		if (n->kind != DF_INSTRUCTION)
			continue;
		if (df_pass_ignored(ms->ctx, ms->doc, i)) {
			ms->quiet = 1;
			return -1;
		}
		it = &ms->items[ms->nitems++];
		it->idx = i;
		it->lead = prev + 1;
		own = df_doc_owned_start(ms->doc, i);
		it->owned = own > it->lead ? own : it->lead;
		it->inst = n->inst;
		it->cmd = n->inst->cmd;
		df_buf_init(&it->rbefore);
		df_buf_init(&it->bafter);
		df_buf_init(&it->bbefore);
		switch (it->cmd) {
		case DF_CMD_WORKDIR:
			if (it->inst->nargs) {
				const char *v = subst(ms, ms->nitems - 1, it->inst->args[0]);

				wd = v ? ms_abs(ms, wd, v) : NULL;
			}
			break;
		case DF_CMD_USER:
			if (it->inst->nargs) {
				struct df_span u = it->inst->args[0];

				user = df_span_eq(u, "root") || df_span_eq(u, "0") ||
					       df_span_eq(u, "0:0") || df_span_eq(u, "root:root")
					       ? NULL : ms_strndup(ms, u.ptr, u.len);
			}
			break;
		case DF_CMD_ONBUILD:
			later(ms, ms_printf(ms, "ONBUILD at line %u: the image is a base for others",
					    n->line));
			break;
		case DF_CMD_SHELL:
			later(ms, ms_printf(ms, "SHELL at line %u changes how RUN works", n->line));
			break;
		case DF_CMD_UNKNOWN:
			later(ms, ms_printf(ms, "line %u is not an instruction dfix knows", n->line));
			break;
		default:
			break;
		}
		it->wd = wd;
		it->user = user;
		if (it->cmd == DF_CMD_COPY || it->cmd == DF_CMD_ADD) {
			if (has_flag(it->inst, "--parents"))
				later(ms, ms_printf(ms, "COPY --parents at line %u", n->line));
			add_copies(ms, ms->nitems - 1);
		}
		if (it->cmd == DF_CMD_RUN || it->cmd == DF_CMD_CMD || it->cmd == DF_CMD_ENTRYPOINT)
			parse_shell(ms, it);
		prev = i;
	}
	return 0;
}

/* ---------------------------------------------------------------- ecosystem */

static unsigned classify_cmd(struct ms *ms, enum ms_eco eco, struct ms_item *it, struct ms_cmd *c)
{
	unsigned k;

	if (!c->argc) { /* only assignments or redirections */
		size_t i;

		for (i = 0; i < c->sh->nwords; i++)
			if (c->sh->words[i].flags & DF_SH_REDIR)
				return MS_K_OTHER;
		return MS_K_NEUTRAL;
	}
	if (!c->argv[0])
		return MS_K_OTHER;
	k = kind_fn[eco](ms, it, c);
	if (!k)
		k = ms_generic_kind(ms, it, c);
	return k ? k : MS_K_OTHER;
}

static int detect(struct ms *ms)
{
	unsigned build[6] = { 0 };
	enum ms_eco img = image_eco(ms->repo), eco = MS_NONE;
	size_t i, k;
	int e, n = 0;

	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];

		for (k = 0; k < it->ncmds; k++) {
			struct ms_cmd *c = &it->cmds[k];

			if (!c->argc || !c->argv[0])
				continue;
			for (e = 1; e <= 5; e++)
				build[e] |= kind_fn[e](ms, it, c);
		}
		/* the pkgs a classifier may have filled are recomputed below */
		memset(&it->pkgs, 0, sizeof(it->pkgs));
	}
	for (e = 1; e <= 5; e++)
		if (build[e] & MS_K_BUILD) {
			n++;
			if (eco == MS_NONE || (enum ms_eco)e == img)
				eco = (enum ms_eco)e;
		}
	if (!n) {
		ms->quiet = 1;
		return -1;
	}
	if (img != MS_NONE && eco != img) { /* e.g. pip for a tool on a node image */
		ms->quiet = 1;
		return -1;
	}
	if (eco != img) {
		if (n > 1)
			return ms_skip(ms, "builds with several toolchains on %s", ms->from.resolved);
		return ms_skip(ms, "%s builds on %s, not on a %s image dfix knows", eco_name[eco],
			       ms->from.resolved, eco_name[eco]);
	}
	ms->eco = eco;
	ms->last_build = (size_t)-1;
	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];

		if (it->cmd != DF_CMD_RUN)
			continue;
		if (!it->shell_ok) {
			it->kind = MS_K_OTHER;
			continue;
		}
		for (k = 0; k < it->ncmds; k++)
			it->kind |= classify_cmd(ms, eco, it, &it->cmds[k]);
		if (it->kind & ~MS_K_NEUTRAL)
			it->kind &= ~MS_K_NEUTRAL;
		if (it->kind & (MS_K_DEPS | MS_K_BUILD))
			ms->last_build = i;
	}
	if (ms->last_build == (size_t)-1) {
		ms->quiet = 1;
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- the pass */

static void note_once(struct df_ctx *ctx, uint32_t line, const char *msg)
{
	size_t i;

	for (i = 0; i < ctx->nfindings; i++)
		if (ctx->findings[i].pass && strcmp(ctx->findings[i].pass, "multi-stage") == 0 &&
		    strcmp(ctx->findings[i].msg, msg) == 0)
			return;
	df_ctx_finding(ctx, NULL, line, "%s", msg);
}

static void ms_release(struct ms *ms)
{
	size_t i;

	for (i = 0; i < ms->nitems; i++) {
		df_buf_release(&ms->items[i].rbefore);
		df_buf_release(&ms->items[i].bafter);
		df_buf_release(&ms->items[i].bbefore);
	}
	free(ms->items);
	free(ms->copies);
	free(ms->ship);
	df_buf_release(&ms->rtail);
	df_buf_release(&ms->note);
	if (ms->ignore)
		df_ignore_free(ms->ignore);
}

static void load_ignore(struct ms *ms)
{
	size_t len = 0;
	char *text = df_context_read(ms->ctx, ".dockerignore", &len);

	if (text) {
		ms->ignore = df_ignore_parse(text, len, NULL);
		free(text);
	}
}

static int split(struct df_ctx *ctx, struct df_doc *doc, const struct df_stage *st)
{
	struct ms ms;
	struct df_buf out = DF_BUF_INIT;
	char key[256];
	uint32_t line = doc->nodes[st->from].line;
	int r = 0;

	memset(&ms, 0, sizeof(ms));
	ms.ctx = ctx;
	ms.doc = doc;
	ms.eol = df_doc_eol(doc);
	ms.end = st->end;
	df_buf_init(&ms.rtail);
	df_buf_init(&ms.note);
	if (st->end - st->from > MAX_NODES) /* no app is that long: keep the pass linear */
		goto out;
	if (df_from_read(doc, st, 1, 0, &ms.from) < 0 || !ms.from.resolved || ms.from.windows ||
	    ms.from.ref.scratch || ms.from.stage >= 0 || doc->escape != '\\' ||
	    df_pass_ignored(ctx, doc, st->from))
		goto out;
	if (!df_imageref_key(&ms.from.ref, key, sizeof(key), NULL))
		goto out;
	ms.repo = ms_strdup(&ms, key);
	ms.tag = ms_strndup(&ms, ms.from.ref.tag.ptr, ms.from.ref.tag.len);
	ms.from_inst = doc->nodes[st->from].inst;
	if (ctx->context_dir)
		load_ignore(&ms);
	if (scan(&ms, st) < 0 || detect(&ms) < 0)
		goto out;
	if (ms.scan_skip) {
		ms_skip(&ms, "%s", ms.scan_skip);
		goto out;
	}
	if (!ctx->context_dir) {
		ms_skip(&ms, "no build context (standard input): dfix cannot see what the %s "
			"build produces", eco_name[ms.eco]);
		goto out;
	}
	if (plan_fn[ms.eco](&ms) < 0)
		goto out;
	if (ms_system_dirs(&ms) < 0)
		goto out;
	ms_place_args(&ms);
	ms_emit(&ms, &out);
	if (df_doc_insert(doc, st->end, out.ptr, out.len) < 0) {
		ms_skip(&ms, "the new stages do not parse (please report this file)");
		goto out;
	}
	df_doc_remove(doc, st->from, st->end - st->from);
	if (ms.builder_image)
		df_buf_addf(&ms.note, "; the builder is pinned to %s, the runtime's Debian release",
			    ms.builder_image);
	df_ctx_finding(ctx, NULL, line, "split into a builder stage and a runtime stage on %s%s%s",
		       ms.runtime_image, ms.note.len ? ": " : "", ms.note.len ? ms.note.ptr : "");
	r = 1;
out:
	if (ms.skip && !ms.quiet) {
		char *msg = ms_printf(&ms, "skipped, %s", ms.skip);

		note_once(ctx, line, msg);
	}
	df_buf_release(&out);
	ms_release(&ms);
	return r;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct df_stage *st;
	size_t ns;
	int r = 0;

	size_t i, froms = 0;

	/* a single stage only: stop at a second FROM */
	for (i = 0; i < doc->nnodes && froms < 2; i++)
		froms += doc->nodes[i].kind == DF_INSTRUCTION && doc->nodes[i].cmd == DF_CMD_FROM &&
			 doc->nodes[i].inst;
	if (froms != 1)
		return 0;
	st = df_stages(doc, &ns);
	if (ns == 1)
		r = split(ctx, doc, &st[0]);
	free(st);
	return r;
}

const struct df_pass df_pass_multi_stage = {
	.id = "multi-stage",
	.level = DF_LEVEL_REVIEW,
	.codes = "",
	.summary = "split a single-stage build into a builder and a lean runtime stage",
	.doc = pass_doc,
	.run = run,
};
