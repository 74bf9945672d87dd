/*
 * multi_stage_node.c - the Node ecosystem of the multi-stage pass.
 *
 * The builder is the original stage up to its build (npm/yarn/pnpm install,
 * `npm run build`, tsc, vite, next, ...) plus a prune of dev dependencies.
 * What the build writes comes from the build context: the scripts of
 * package.json, tsconfig.json's outDir, the tools' conventions (vite and
 * vue-cli: dist/, react-scripts: build/, next: .next/, nuxt: .output/), and
 * the file `main` or the start script runs. The runtime is the same node
 * image (the base-image pass may make it leaner) with package.json,
 * node_modules, the output, and the top-level files the code names at run
 * time (public/, views/, ...). A front end whose container only serves the
 * build with a preview or dev server (vite preview, react-scripts start,
 * serve -s dist) ships its output on nginx:alpine instead.
 */
#include <string.h>

#include "multi_stage.h"

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

/* First argument that is not an option (from argv[from]); index or -1. */
static long first_arg(struct ms_cmd *c, size_t from)
{
	size_t i;

	for (i = from; i < c->argc; i++) {
		if (!c->argv[i])
			return -1;
		if (c->argv[i][0] != '-')
			return (long)i;
	}
	return -1;
}

static int has_opt(struct ms_cmd *c, const char *opt)
{
	size_t i, n = strlen(opt);

	for (i = 1; i < c->argc; i++)
		if (c->argv[i] && strncmp(c->argv[i], opt, n) == 0 &&
		    (c->argv[i][n] == '\0' || c->argv[i][n] == '='))
			return 1;
	return 0;
}

/* A build tool run directly (tsc, vite build, next build, ...). */
static int build_tool(struct ms_cmd *c, size_t at)
{
	const char *t = base_name(c->argv[at]);
	const char *sub = at + 1 < c->argc ? c->argv[at + 1] : NULL;

	if (strcmp(t, "tsc") == 0 || strcmp(t, "webpack") == 0 || strcmp(t, "rollup") == 0 ||
	    strcmp(t, "esbuild") == 0 || strcmp(t, "tsup") == 0 || strcmp(t, "babel") == 0)
		return !has_opt(c, "--noEmit") && !has_opt(c, "--version") && !has_opt(c, "-v");
	if (strcmp(t, "vite") == 0 || strcmp(t, "next") == 0 || strcmp(t, "ng") == 0 ||
	    strcmp(t, "nest") == 0 || strcmp(t, "react-scripts") == 0 || strcmp(t, "parcel") == 0 ||
	    strcmp(t, "nuxt") == 0 || strcmp(t, "nuxi") == 0 || strcmp(t, "astro") == 0 ||
	    strcmp(t, "vue-cli-service") == 0 || strcmp(t, "ncc") == 0 || strcmp(t, "gatsby") == 0)
		return ms_word_is(sub, "build");
	return 0;
}

unsigned ms_node_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c)
{
	const char *n = base_name(c->argv[0]);
	long a;

	(void)ms;
	(void)it;
	if (strcmp(n, "npm") == 0) {
		a = first_arg(c, 1);
		if (a < 0)
			return has_opt(c, "-v") || has_opt(c, "--version") ? MS_K_NEUTRAL : 0;
		n = c->argv[a];
		if (!strcmp(n, "install") || !strcmp(n, "i") || !strcmp(n, "ci") ||
		    !strcmp(n, "add") || !strcmp(n, "update") || !strcmp(n, "prune") ||
		    !strcmp(n, "rebuild") || !strcmp(n, "dedupe") || !strcmp(n, "config") ||
		    !strcmp(n, "set") || !strcmp(n, "cache") || !strcmp(n, "uninstall") ||
		    !strcmp(n, "clean-install") || !strcmp(n, "install-clean"))
			return MS_K_DEPS;
		if (!strcmp(n, "run") || !strcmp(n, "run-script")) {
			long s = first_arg(c, (size_t)a + 1);

			return ms_npm_script_kind(s < 0 ? NULL : c->argv[s]);
		}
		if (!strcmp(n, "test") || !strcmp(n, "t") || !strcmp(n, "audit") ||
		    !strcmp(n, "version") || !strcmp(n, "ls") || !strcmp(n, "list"))
			return MS_K_NEUTRAL;
		if (!strcmp(n, "exec") || !strcmp(n, "x")) {
			long s = first_arg(c, (size_t)a + 1);

			return s >= 0 && build_tool(c, (size_t)s) ? MS_K_BUILD : MS_K_DEPS;
		}
		return MS_K_OTHER;
	}
	if (strcmp(n, "yarn") == 0 || strcmp(n, "pnpm") == 0) {
		a = first_arg(c, 1);
		if (a < 0)
			return has_opt(c, "-v") || has_opt(c, "--version") ? MS_K_NEUTRAL : MS_K_DEPS;
		n = c->argv[a];
		if (!strcmp(n, "install") || !strcmp(n, "i") || !strcmp(n, "add") ||
		    !strcmp(n, "global") || !strcmp(n, "cache") || !strcmp(n, "config") ||
		    !strcmp(n, "fetch") || !strcmp(n, "prune") || !strcmp(n, "rebuild") ||
		    !strcmp(n, "set") || !strcmp(n, "remove") || !strcmp(n, "workspaces") ||
		    !strcmp(n, "deploy") || !strcmp(n, "store") || !strcmp(n, "setup"))
			return MS_K_DEPS;
		if (!strcmp(n, "run")) {
			long s = first_arg(c, (size_t)a + 1);

			return ms_npm_script_kind(s < 0 ? NULL : c->argv[s]);
		}
		if (!strcmp(n, "exec") || !strcmp(n, "dlx")) {
			long s = first_arg(c, (size_t)a + 1);

			return s >= 0 && build_tool(c, (size_t)s) ? MS_K_BUILD : MS_K_DEPS;
		}
		if (!strcmp(n, "test") || !strcmp(n, "audit") || !strcmp(n, "why") ||
		    !strcmp(n, "list") || !strcmp(n, "ls") || !strcmp(n, "version"))
			return MS_K_NEUTRAL;
		return ms_npm_script_kind(n);
	}
	if (strcmp(n, "npx") == 0 || strcmp(n, "pnpx") == 0) {
		a = first_arg(c, 1);
		if (a < 0)
			return MS_K_OTHER;
		return build_tool(c, (size_t)a) ? MS_K_BUILD : MS_K_DEPS;
	}
	if (strcmp(n, "corepack") == 0 || strcmp(n, "node-gyp") == 0 || strcmp(n, "bower") == 0)
		return MS_K_DEPS;
	if (strcmp(n, "node") == 0 || strcmp(n, "nodejs") == 0) {
		a = first_arg(c, 1);
		if (a < 0)
			return MS_K_NEUTRAL;
		return strstr(c->argv[a], "build") ? MS_K_BUILD : MS_K_OTHER;
	}
	if (build_tool(c, 0))
		return MS_K_BUILD;
	return 0;
}

/* ---------------------------------------------------------------- plan */

static const char *join_argv(struct ms *ms, char **argv, int argc)
{
	struct df_buf b = DF_BUF_INIT;
	const char *r;
	int i;

	for (i = 0; i < argc; i++) {
		if (i)
			df_buf_addc(&b, ' ');
		df_buf_adds(&b, argv[i] ? argv[i] : "?");
	}
	r = ms_strndup(ms, b.ptr ? b.ptr : "", b.len);
	df_buf_release(&b);
	return r;
}

/* The package manager of the install, and whether dev deps are pruned. */
static int package_manager(struct ms_node *nd, int *pruned)
{
	struct ms *ms = nd->ms;
	size_t i, k;
	int built = 0, install = 0;

	*pruned = 0;
	for (i = 0; i <= ms->last_build && i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];

		if (it->cmd != DF_CMD_RUN)
			continue;
		if ((it->kind & (MS_K_BUILD | MS_K_DEPS)) && (it->kind & MS_K_CD))
			return ms_skip(ms, "the build at line %u changes directory",
				       ms->doc->nodes[it->idx].line);
		for (k = 0; k < it->ncmds; k++) {
			struct ms_cmd *c = &it->cmds[k];
			const char *n;
			unsigned kind;

			if (!c->argc || !c->argv[0])
				continue;
			n = base_name(c->argv[0]);
			kind = ms_node_kind(ms, it, c);
			if (kind & MS_K_BUILD)
				built = 1;
			if (!(kind & (MS_K_DEPS | MS_K_BUILD)))
				continue;
			if (has_opt(c, "--prefix") || has_opt(c, "-w") || has_opt(c, "--workspace") ||
			    has_opt(c, "--filter") || has_opt(c, "--cwd") || has_opt(c, "-C"))
				return ms_skip(ms, "the build at line %u works in another directory",
					       ms->doc->nodes[it->idx].line);
			if ((strcmp(n, "npm") == 0 || strcmp(n, "yarn") == 0 || strcmp(n, "pnpm") == 0) &&
			    !has_opt(c, "-g") && !has_opt(c, "--global") &&
			    !(c->argc > 1 && ms_word_is(c->argv[1], "global")) &&
			    (!nd->pm || (!install && (kind & MS_K_DEPS)))) {
				/* the manager that installs decides (over one that only runs scripts) */
				nd->pm = strcmp(n, "npm") == 0 ? "npm" : strcmp(n, "yarn") == 0 ? "yarn" : "pnpm";
				install = (kind & MS_K_DEPS) != 0;
			}
			if (built && (kind & MS_K_DEPS) &&
			    (has_opt(c, "--production") || has_opt(c, "--prod") ||
			     has_opt(c, "--omit") || has_opt(c, "--only") ||
			     (c->argc > 1 && ms_word_is(c->argv[1], "prune"))))
				*pruned = 1;
		}
	}
	if (!nd->pm)
		nd->pm = "npm";
	return 0;
}

static const char *prune_cmd(struct ms_node *nd)
{
	struct ms *ms = nd->ms;

	if (strcmp(nd->pm, "yarn") == 0)
		return ms_exists(ms, "yarn.lock")
			? "RUN yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline"
			: "RUN yarn install --production --ignore-scripts --prefer-offline";
	if (strcmp(nd->pm, "pnpm") == 0)
		return "RUN pnpm prune --prod";
	{
		/* npm 7+ (node 16+) knows --omit=dev; older npm --production */
		const char *t = ms->tag;
		int major = 0;

		while (*t >= '0' && *t <= '9')
			major = major * 10 + (*t++ - '0');
		if (major && major < 16)
			return "RUN npm prune --production";
	}
	return "RUN npm prune --omit=dev";
}

static int under_out(struct ms_node *nd, const char *file)
{
	const char *f = ms_npm_clean(nd->ms, "", file);
	size_t i;

	for (i = 0; f && i < nd->nout; i++) {
		size_t n = strlen(nd->out[i]);

		if (strncmp(f, nd->out[i], n) == 0 && f[n] == '/')
			return 1;
	}
	return 0;
}

/* The top-level directory of a file written by the build ("dist/a.js" ->
 * "dist"), when that directory is not part of the sources. */
static const char *generated_top(struct ms_node *nd, const char *file)
{
	const char *f = ms_npm_clean(nd->ms, "", file), *slash;

	if (!f || !(slash = strchr(f, '/')))
		return NULL;
	f = ms_strndup(nd->ms, f, (size_t)(slash - f));
	if (ms_exists(nd->ms, f) || strcmp(f, "src") == 0 || strcmp(f, "node_modules") == 0)
		return NULL;
	return f;
}

static const char *const source_suffixes[] = {
	".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", NULL
};
static const char *const not_runtime[] = {
	"node_modules", "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml",
	"npm-shrinkwrap.json", "src", "test", "tests", "__tests__", "spec", "coverage", "docs",
	"doc", "tsconfig*", "*.config.*", "Dockerfile*", "*.dockerfile", "docker-compose*",
	"compose*.y*ml", "README*", "LICENSE*", "CHANGELOG*", "*.md", "Makefile", "jest*",
	"babel*", "webpack*", "rollup*", "vite*", "nodemon.json", "scripts", "e2e", "cypress",
	"playwright*", "*.log", "dist", "build", "out", ".next", ".output", NULL
};

static int plan_static(struct ms_node *nd, const char *app)
{
	struct ms *ms = nd->ms;
	size_t i, L = ms->last_build;
	int exposed = 0;

	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];
		uint32_t line = ms->doc->nodes[it->idx].line;

		switch (it->cmd) {
		case DF_CMD_LABEL:
			ms_to(it, 0, 1);
			break;
		case DF_CMD_EXPOSE:
			if (!exposed) {
				it->rtext = ms_printf(ms, "EXPOSE 80%s", ms->eol);
				ms_to(it, 0, 1);
				exposed = 1;
			} else {
				ms_to(it, 0, 0);
			}
			break;
		case DF_CMD_HEALTHCHECK:
			return ms_skip(ms, "the HEALTHCHECK at line %u checks the old server", line);
		case DF_CMD_RUN:
		case DF_CMD_COPY:
		case DF_CMD_ADD:
			if (i > L)
				return ms_skip(ms, "line %u after the build would have to run on nginx",
					       line);
			ms_to(it, 1, 0);
			break;
		case DF_CMD_CMD:
		case DF_CMD_ENTRYPOINT:
		case DF_CMD_USER:
		case DF_CMD_VOLUME:
		case DF_CMD_STOPSIGNAL:
			ms_to(it, 0, 0);
			break;
		default: /* ENV ARG WORKDIR */
			ms_to(it, i <= L, 0);
			break;
		}
	}
	ms->runtime_image = "nginx:alpine";
	ms_ship(ms, ms_abs(ms, app, nd->out[0]), "/usr/share/nginx/html");
	ms->ship_at = L + 1;
	df_buf_addf(&ms->note, "the %s build (%s/) is served by nginx on port 80 instead of `%s`",
		    nd->tool, nd->out[0], nd->cmdtext);
	return 0;
}

/* A program the container runs by name that a COPY before the build put in
 * a directory on PATH: its path, or NULL. */
static const char *copied_program(struct ms *ms, const char *prog)
{
	static const char *const path[] = {
		"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL
	};
	size_t i, k;

	if (!prog || strchr(prog, '/'))
		return NULL;
	for (i = ms->ncopies; i-- > 0;) {
		const struct ms_copy *c = &ms->copies[i];
		const char *dst = NULL;

		if (c->item > ms->last_build || c->glob)
			continue;
		if (c->dir && strcmp(c->src, ".") != 0 &&
		    ms_exists(ms, ms_printf(ms, "%s/%s", c->src, prog)))
			dst = ms_abs(ms, c->dst, prog);
		else if (!c->dir && strcmp(base_name(c->dst), prog) == 0)
			dst = c->dst;
		for (k = 0; dst && path[k]; k++)
			if (strlen(dst) == strlen(path[k]) + 1 + strlen(prog) &&
			    strncmp(dst, path[k], strlen(path[k])) == 0)
				return dst;
	}
	return NULL;
}

/* Package RUNs before the build: the runtime is the same image, so it gets
 * what they install except build tools (python3 make g++ for node-gyp) and
 * -dev packages, which leave their run-time libraries. */
static int runtime_packages(struct ms *ms)
{
	size_t i, k;

	for (i = 0; i < ms->last_build; i++) {
		struct ms_item *it = &ms->items[i];
		struct df_buf keep = DF_BUF_INIT;
		int build = 0;

		if (it->cmd != DF_CMD_RUN || it->kind != MS_K_PKG || !it->pkgs.manager ||
		    it->pkgs.unknown)
			continue;
		for (k = 0; k < it->pkgs.n; k++) {
			const char *p = it->pkgs.names[k];
			const char *rt = ms_runtime_pkgs(it->pkgs.manager, p);

			if (rt || ms_build_tool_pkg(p) || !strcmp(p, "python3") || !strcmp(p, "python") ||
			    !strcmp(p, "py3-pip") || ms_ends(p, "-dev")) {
				build = 1;
				if (rt && *rt) {
					if (keep.len)
						df_buf_addc(&keep, ' ');
					df_buf_adds(&keep, rt);
				} else if (!strcmp(p, "ca-certificates") || !strcmp(p, "tzdata") ||
					   !strcmp(p, "curl") || !strcmp(p, "wget") || !strcmp(p, "git")) {
					/* may be used at run time: keep */
					if (keep.len)
						df_buf_addc(&keep, ' ');
					df_buf_adds(&keep, p);
				}
				continue;
			}
			if (keep.len)
				df_buf_addc(&keep, ' ');
			df_buf_adds(&keep, p);
		}
		if (!build) {
			ms_to(it, 1, 1);
		} else if (keep.len) {
			struct df_buf b = DF_BUF_INIT;

			ms_pkg_install(ms, &b, it->pkgs.manager, keep.ptr);
			it->rtext = ms_strndup(ms, b.ptr, b.len);
			df_buf_release(&b);
			ms_to(it, 1, 1);
		}
		df_buf_release(&keep);
	}
	return 0;
}

/* `npm install` (no packages named) in the builder becomes `npm ci` when
 * the lockfile is there: the build installs exactly what was locked. */
static int npm_ci(struct ms_node *nd, const char *app)
{
	struct ms *ms = nd->ms;
	size_t i, k, a;
	int n = 0;

	for (i = 0; i <= ms->last_build; i++) {
		struct ms_item *it = &ms->items[i];
		struct ms_edit ed[4];
		size_t ne = 0;
		const char *lock;

		if (it->cmd != DF_CMD_RUN || !(it->kind & MS_K_DEPS) || it->btext || !it->wd ||
		    strcmp(it->wd, app) != 0)
			continue;
		lock = ms_builder_path(ms, "package-lock.json", i);
		if (!lock)
			lock = ms_builder_path(ms, "npm-shrinkwrap.json", i);
		if (!lock || strncmp(lock, app, strlen(app)) != 0)
			continue;
		for (k = 0; k < it->ncmds && ne < 4; k++) {
			struct ms_cmd *c = &it->cmds[k];
			const struct df_sh_word *w;
			int plain = 1;

			if (c->argc < 2 || !ms_word_is(c->argv[0], "npm") ||
			    !(ms_word_is(c->argv[1], "install") || ms_word_is(c->argv[1], "i")))
				continue;
			for (a = 2; a < c->argc; a++)
				if (!c->argv[a] || c->argv[a][0] != '-' || has_opt(c, "--no-package-lock") ||
				    has_opt(c, "-g") || has_opt(c, "--global") || strchr(c->argv[a], '@'))
					plain = 0;
			w = &c->sh->words[c->name + 1];
			if (!plain || (w->flags & DF_SH_REDIR))
				continue;
			ed[ne].off = ms_word_off(it, w);
			ed[ne].end = ed[ne].off + w->len;
			ed[ne].text = "ci";
			ne++;
		}
		if (ne && (it->btext = ms_edit_node(ms, i, ed, ne)) != NULL)
			n++;
	}
	return n;
}

static void rewrite_cmd(struct ms_node *nd, long cmd_item, char **argv, int argc, long entry)
{
	struct ms *ms = nd->ms;
	const char *s = ms_npm_script(nd, "start");
	char *w[4];
	struct df_buf b = DF_BUF_INIT;

	if (cmd_item < 0 || entry >= 0 || !s || argc < 2)
		return;
	if (!((argc == 2 && ms_word_is(argv[1], "start")) ||
	      (argc == 3 && ms_word_is(argv[1], "run") && ms_word_is(argv[2], "start"))))
		return;
	if (!ms_word_is(argv[0], "npm") && !ms_word_is(argv[0], "yarn") &&
	    !ms_word_is(argv[0], "pnpm"))
		return;
	if (ms_npm_words(ms, s, w, 4) != 2 || strcmp(w[0], "node") != 0 || w[1][0] == '-' ||
	    strpbrk(w[1], "$`\\\"'*?"))
		return;
	df_buf_adds(&b, "CMD [\"node\", ");
	ms_json(&b, w[1]);
	df_buf_addc(&b, ']');
	df_buf_adds(&b, ms->eol);
	ms->items[cmd_item].rtext = ms_strndup(ms, b.ptr, b.len);
	df_buf_addf(&ms->note, "; CMD runs `node %s` (scripts.start) without npm", w[1]);
	df_buf_release(&b);
}

int ms_node_plan(struct ms *ms)
{
	struct ms_node nd;
	char **argv;
	long entry, cmd;
	int argc, pruned, r = -1;
	const char *app, *pj, *m;
	size_t i;

	memset(&nd, 0, sizeof(nd));
	nd.ms = ms;
	if (ms_npm_load(&nd) < 0)
		return -1;
	if (package_manager(&nd, &pruned) < 0)
		goto out;
	if (ms_exists(ms, ".yarnrc.yml") || ms_exists(ms, ".pnp.cjs") ||
	    (strcmp(nd.pm, "yarn") == 0 && (m = ms_npm_field(&nd, "packageManager")) &&
	     ms_starts(m, "yarn@") && m[5] != '1')) {
		ms_skip(ms, "yarn 2+ (berry) has no prune dfix can rely on");
		goto out;
	}
	/* what the build writes */
	for (i = 0; i <= ms->last_build; i++) {
		struct ms_item *it = &ms->items[i];
		size_t k;

		if (it->cmd != DF_CMD_RUN || !(it->kind & MS_K_BUILD))
			continue;
		for (k = 0; k < it->ncmds; k++) {
			struct ms_cmd *c = &it->cmds[k];
			size_t a;
			int bad = 0;

			if (!c->argc || !c->argv[0] || !(ms_node_kind(ms, it, c) & MS_K_BUILD))
				continue;
			for (a = 0; a < c->argc; a++)
				if (!c->argv[a])
					bad = 1;
			if (bad) {
				ms_skip(ms, "the build at line %u has variables",
					ms->doc->nodes[it->idx].line);
				goto out;
			}
			ms_npm_build(&nd, join_argv(ms, c->argv, (int)c->argc));
		}
	}
	if (nd.tsc_unknown && !nd.nout)
		nd.unknown_out = 1;
	/* what the container runs */
	argc = ms_command(ms, &argv, &entry, &cmd);
	if (argc < 0) {
		ms_skip(ms, "CMD/ENTRYPOINT is not a plain command");
		goto out;
	}
	if (argc == 0) {
		ms_skip(ms, "no CMD or ENTRYPOINT says what the container runs");
		goto out;
	}
	nd.cmdtext = join_argv(ms, argv, argc);
	app = ms->items[ms->last_build].wd;
	if (!app) {
		ms_skip(ms, "the WORKDIR of the build is not known");
		goto out;
	}
	if (!ms_final_wd(ms) || strcmp(ms_final_wd(ms), app) != 0) {
		ms_skip(ms, "the app runs in %s, not where it is built (%s)",
			ms_final_wd(ms) ? ms_final_wd(ms) : "an unknown WORKDIR", app);
		goto out;
	}
	{
		int first = 0;
		char *w[MS_NODE_MAX_WORDS];
		size_t n = 0;

		const char *script = copied_program(ms, argv[0]);

		if (script) {
			ms_ship(ms, script, script); /* a script the Dockerfile put on PATH */
			first = 1;
		} else if (ms_word_is(argv[0], "docker-entrypoint.sh"))
			first = 1; /* the node image's own entrypoint */
		else if (!ms_word_is(argv[0], "node") && !ms_word_is(argv[0], "npm") &&
			 !ms_word_is(argv[0], "yarn") && !ms_word_is(argv[0], "pnpm") &&
			 !ms_word_is(argv[0], "npx") && (strchr(argv[0], '/') || strchr(argv[0], '.')) &&
			 entry >= 0) {
			/* an entrypoint script from the sources, then the command */
			ms_ship_command_files(ms, argv, 1, ms_final_wd(ms), 0);
			if (!ms_shipped(ms, ms_abs(ms, ms_final_wd(ms), argv[0]))) {
				ms_skip(ms, "the entrypoint %s is not a file of the build context", argv[0]);
				goto out;
			}
			first = 1;
		}
		for (; first < argc && n < MS_NODE_MAX_WORDS; first++)
			w[n++] = argv[first];
		if (!n) {
			ms_skip(ms, "no command after the entrypoint");
			goto out;
		}
		if (ms_npm_start(&nd, w, n) < 0)
			goto out;
	}
	/* output directories */
	if (nd.mode == MS_M_STATIC) {
		if (!nd.static_ok || nd.nout != 1 || nd.unknown_out) {
			ms_skip(ms, "no static build output found for `%s`", nd.cmdtext);
			goto out;
		}
		r = plan_static(&nd, app);
		goto out;
	}
	if (nd.mode == MS_M_NEXT && !(nd.nout && strcmp(nd.out[0], ".next") == 0)) {
		ms_skip(ms, "`next start` without `next build`");
		goto out;
	}
	if (nd.mode == MS_M_SERVER && !under_out(&nd, nd.start)) {
		const char *top = generated_top(&nd, nd.start);
		const char *main = ms_npm_field(&nd, "main");

		if (!top && main)
			top = generated_top(&nd, main);
		if (top && (nd.unknown_out || !nd.nout))
			ms_npm_add_out(&nd, top);
		if (!under_out(&nd, nd.start)) {
			if (!nd.nout || nd.unknown_out)
				ms_skip(ms, "no build output found in package.json");
			else
				ms_skip(ms, "the start file %s is not build output (%s/)", nd.start,
					nd.out[0]);
			goto out;
		}
	}
	if (nd.mode == MS_M_NUXT && !(nd.nout && strcmp(nd.out[0], ".output") == 0)) {
		ms_skip(ms, "`nuxt start` without `nuxt build`");
		goto out;
	}
	if (!nd.nout) {
		ms_skip(ms, "no build output found in package.json");
		goto out;
	}
	if (nd.start_tool && !ms_npm_dep(&nd, "dependencies", nd.start_tool)) {
		ms_skip(ms, "%s runs the app but is not in dependencies: the pruned runtime would "
			"miss it", nd.start_tool);
		goto out;
	}
	/* package.json must sit where the build ran */
	pj = ms_builder_path(ms, "package.json", ms->last_build + 1);
	if (!pj || strcmp(pj, ms_abs(ms, app, "package.json")) != 0) {
		ms_skip(ms, "package.json is not in the WORKDIR of the build (%s)", app);
		goto out;
	}
	if (ms_plan_compiled(ms, 1) < 0 || runtime_packages(ms) < 0)
		goto out;
	ms->runtime_image = ms_strndup(ms, ms->from.word.ptr, ms->from.word.len);
	ms_ship(ms, ms_printf(ms, "%s/%s", strcmp(app, "/") ? app : "",
			      strcmp(nd.pm, "npm") == 0 ? "package*.json" : "package.json"),
		ms_printf(ms, "%s/", strcmp(app, "/") ? app : ""));
	ms->ship[ms->nship - 1].dst = strcmp(app, "/") ? "./" : "/";
	ms_ship(ms, ms_abs(ms, app, "node_modules"), ms_abs(ms, app, "node_modules"));
	for (i = 0; i < nd.nout; i++)
		ms_ship(ms, ms_abs(ms, app, nd.out[i]), ms_abs(ms, app, nd.out[i]));
	if (nd.mode == MS_M_NEXT) {
		static const char *const extra[] = {
			"public", "next.config.js", "next.config.mjs", "next.config.cjs",
			"next.config.ts", NULL
		};

		for (i = 0; extra[i]; i++) {
			const char *bp = ms_builder_path(ms, extra[i], ms->last_build + 1);

			if (bp && ms_exists(ms, extra[i]))
				ms_ship(ms, bp, bp);
		}
	}
	if (nd.mode == MS_M_SERVER || nd.mode == MS_M_NUXT) {
		const char *refs[16];
		size_t nr = ms_referenced(ms, source_suffixes, not_runtime, refs, 16), k;

		for (k = 0; k < nr; k++) {
			const char *bp = ms_builder_path(ms, refs[k], ms->last_build + 1);

			if (bp && !ms_shipped(ms, bp))
				ms_ship(ms, bp, bp);
		}
	}
	ms_ship_dotenv(ms);
	if (!pruned)
		ms_line(ms, &ms->items[ms->last_build].bafter, "%s", prune_cmd(&nd));
	ms_ship_command_files(ms, argv, argc, ms_final_wd(ms), 1);
	{
		const char *own = ms->items[ms->last_build].user;

		for (i = 0; i < ms->nitems; i++)
			if (ms->items[i].cmd == DF_CMD_COPY && ms->items[i].runtime == 0) {
				size_t f;

				for (f = 0; f < ms->items[i].inst->nflags; f++)
					if (ms->items[i].inst->flags[f].len > 8 &&
					    memcmp(ms->items[i].inst->flags[f].ptr, "--chown=", 8) == 0)
						own = ms_strndup(ms, ms->items[i].inst->flags[f].ptr + 8,
								 ms->items[i].inst->flags[f].len - 8);
			}
		ms->ship_chown = own;
	}
	df_buf_addf(&ms->note, "the builder %sruns the %s build%s; the runtime ships",
		    npm_ci(&nd, app) ? "installs with package-lock.json (npm ci), " : "",
		    nd.tool ? nd.tool : nd.pm, pruned ? "" : " and prunes dev dependencies");
	for (i = 0; i < ms->nship; i++)
		df_buf_addf(&ms->note, "%s %s", i ? "," : "", ms_rel(ms, app, ms->ship[i].src));
	rewrite_cmd(&nd, cmd, argv, argc, entry);
	if (ms_word_is(argv[0], "pnpm") && !(cmd >= 0 && ms->items[cmd].rtext)) {
		ms_skip(ms, "the node image has no pnpm to run `%s`", nd.cmdtext);
		goto out;
	}
	r = 0;
out:
	ms_npm_free(&nd);
	return r;
}
