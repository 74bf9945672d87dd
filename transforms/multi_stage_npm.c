/*
 * multi_stage_npm.c - what package.json and the build tools' configs say
 * for the Node ecosystem of the multi-stage pass: the directories a build
 * script writes (tsc and tsconfig.json outDir with "extends", vite and its
 * config's outDir, react-scripts, vue-cli, next, nuxt, nest, tsup, ncc,
 * babel, esbuild; `npm run x` scripts are followed) and what a start
 * command runs (node FILE, next start, a static preview or dev server).
 */
#include <jansson.h>
#include <string.h>

#include "multi_stage.h"

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

unsigned ms_npm_script_kind(const char *name)
{
	static const char *const neutral[] = {
		"test", "lint", "format", "typecheck", "type-check", "check", "prettier", "eslint",
		"audit", NULL
	};
	size_t i;

	if (!name)
		return MS_K_OTHER;
	if (ms_starts(name, "build") || ms_starts(name, "compile") || ms_starts(name, "dist") ||
	    ms_starts(name, "bundle"))
		return MS_K_BUILD;
	if (strcmp(name, "start") == 0 || strcmp(name, "dev") == 0 || strcmp(name, "serve") == 0)
		return MS_K_OTHER;
	for (i = 0; neutral[i]; i++)
		if (ms_starts(name, neutral[i]))
			return MS_K_NEUTRAL;
	return MS_K_DEPS;
}

/* ---------------------------------------------------------------- package.json */

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = o ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *ms_npm_script(struct ms_node *nd, const char *name)
{
	return jstr(nd->scripts, name);
}

int ms_npm_dep(struct ms_node *nd, const char *field, const char *name)
{
	json_t *d = json_object_get(nd->pkg, field);

	return json_is_object(d) && json_object_get(d, name) != NULL;
}

/* Parse JSON that may have comments and trailing commas (tsconfig). */
static json_t *loose_json(const char *p, size_t n)
{
	struct df_buf b = DF_BUF_INIT;
	json_t *j;
	size_t i = 0;

	while (i < n) {
		char c = p[i];

		if (c == '"') {
			size_t s = i++;

			while (i < n && p[i] != '"')
				i += p[i] == '\\' ? 2 : 1;
			i = i < n ? i + 1 : n;
			df_buf_add(&b, p + s, i - s);
		} else if (c == '/' && i + 1 < n && p[i + 1] == '/') {
			while (i < n && p[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < n && p[i + 1] == '*') {
			i += 2;
			while (i + 1 < n && !(p[i] == '*' && p[i + 1] == '/'))
				i++;
			i += 2;
		} else if (c == ',') {
			size_t k = i + 1;

			while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\n' || p[k] == '\r'))
				k++;
			if (k < n && (p[k] == '}' || p[k] == ']')) {
				i++;
				continue;
			}
			df_buf_addc(&b, c);
			i++;
		} else {
			df_buf_addc(&b, c);
			i++;
		}
	}
	j = b.len ? json_loadb(b.ptr, b.len, 0, NULL) : NULL;
	df_buf_release(&b);
	return j;
}

static json_t *read_json(struct ms *ms, const char *rel)
{
	size_t len = 0;
	char *p = ms_read(ms, rel, &len);
	json_t *j;

	if (!p)
		return NULL;
	j = loose_json(p, len);
	free(p);
	return j;
}

/* A path as written in a config ("./dist/", "dist") -> "dist"; NULL if odd. */
const char *ms_npm_clean(struct ms *ms, const char *dir, const char *p)
{
	const char *a;

	if (!p || !*p || strchr(p, '$') || strchr(p, '*'))
		return NULL;
	a = ms_abs(ms, dir && *dir ? ms_printf(ms, "/%s", dir) : "/", p);
	if (!a || strcmp(a, "/") == 0)
		return NULL;
	return a + 1;
}

/* tsconfig outDir, following "extends" to a relative file. */
static const char *ts_outdir(struct ms *ms, const char *file, int depth)
{
	json_t *j = read_json(ms, file);
	const char *r = NULL, *dir, *slash;

	if (!j)
		return NULL;
	slash = strrchr(file, '/');
	dir = slash ? ms_strndup(ms, file, (size_t)(slash - file)) : "";
	r = jstr(json_object_get(j, "compilerOptions"), "outDir");
	if (r) {
		r = ms_npm_clean(ms, dir, r);
	} else if (depth < 3) {
		const char *ext = jstr(j, "extends");

		if (ext && (ms_starts(ext, "./") || ms_starts(ext, "../"))) {
			const char *f = ms_npm_clean(ms, dir, ext);

			if (f && !ms_ends(f, ".json"))
				f = ms_printf(ms, "%s.json", f);
			if (f)
				r = ts_outdir(ms, f, depth + 1);
		}
	}
	if (json_is_true(json_object_get(json_object_get(j, "compilerOptions"), "noEmit")))
		r = NULL;
	json_decref(j);
	return r;
}

/* A literal `outDir: 'x'` in a vite config; "dist" when the config has none. */
static const char *vite_outdir(struct ms *ms)
{
	static const char *const files[] = {
		"vite.config.ts", "vite.config.js", "vite.config.mjs", "vite.config.mts",
		"vite.config.cjs", NULL
	};
	const char *r = "dist";
	size_t i;

	for (i = 0; files[i]; i++) {
		char *p = ms_read(ms, files[i], NULL);
		const char *o;

		if (!p)
			continue;
		o = strstr(p, "outDir");
		if (o) {
			o += 6;
			while (*o == ' ' || *o == ':' || *o == '\t')
				o++;
			if (*o == '\'' || *o == '"' || *o == '`') {
				const char *e = strchr(o + 1, *o);

				r = e ? ms_npm_clean(ms, "", ms_strndup(ms, o + 1, (size_t)(e - o - 1))) : NULL;
			} else {
				r = NULL;
			}
		}
		free(p);
		break;
	}
	return r;
}

void ms_npm_add_out(struct ms_node *nd, const char *dir)
{
	size_t i;

	if (!dir) {
		nd->unknown_out = 1;
		return;
	}
	for (i = 0; i < nd->nout; i++)
		if (strcmp(nd->out[i], dir) == 0)
			return;
	if (nd->nout < MS_NODE_MAX_OUT)
		nd->out[nd->nout++] = dir;
}

/* angular.json: the build's outputPath of the default (or first) project;
 * the application builder writes the site to its browser/ directory. */
static const char *angular_outdir(struct ms *ms)
{
	json_t *j = read_json(ms, "angular.json"), *projects, *p, *build, *out;
	const char *name, *r = NULL, *builder;
	void *iter;

	if (!j)
		return NULL;
	projects = json_object_get(j, "projects");
	name = jstr(j, "defaultProject");
	if (!name && json_is_object(projects) && json_object_size(projects) == 1 &&
	    (iter = json_object_iter(projects)) != NULL)
		name = json_object_iter_key(iter);
	p = name && json_is_object(projects) ? json_object_get(projects, name) : NULL;
	build = json_object_get(json_object_get(p, "architect"), "build");
	out = json_object_get(json_object_get(build, "options"), "outputPath");
	builder = jstr(build, "builder");
	if (json_is_object(out))
		out = json_object_get(out, "base");
	if (json_is_string(out)) {
		r = ms_npm_clean(ms, "", json_string_value(out));
		if (r && builder && strstr(builder, ":application"))
			r = ms_printf(ms, "%s/browser", r);
	}
	json_decref(j);
	return r;
}

/* Split a script into words; operators are words of their own. */
size_t ms_npm_words(struct ms *ms, const char *s, char **w, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		const char *b;

		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		b = s;
		if (strchr("&|;", *s)) {
			while (*s && strchr("&|;", *s))
				s++;
		} else if (*s == '\'' || *s == '"') {
			char q = *s++;

			b = s;
			while (*s && *s != q)
				s++;
			w[n++] = ms_strndup(ms, b, (size_t)(s - b));
			if (*s)
				s++;
			continue;
		} else {
			while (*s && !strchr(" \t\n&|;", *s))
				s++;
		}
		w[n++] = ms_strndup(ms, b, (size_t)(s - b));
	}
	return n;
}

static int is_op(const char *w)
{
	return strchr("&|;", w[0]) != NULL;
}

/* Value of an option in words [i, end): "--outDir x" or "--outDir=x". */
static const char *opt_val(char **w, size_t i, size_t end, const char *o1, const char *o2)
{
	size_t n1 = strlen(o1), n2 = o2 ? strlen(o2) : 0;

	for (; i < end; i++) {
		if (strcmp(w[i], o1) == 0 || (o2 && strcmp(w[i], o2) == 0))
			return i + 1 < end ? w[i + 1] : NULL;
		if (strncmp(w[i], o1, n1) == 0 && w[i][n1] == '=')
			return w[i] + n1 + 1;
		if (o2 && strncmp(w[i], o2, n2) == 0 && w[i][n2] == '=')
			return w[i] + n2 + 1;
	}
	return NULL;
}

static void build_text(struct ms_node *nd, const char *text, int depth);

/* One command of a build script: words [i, end). */
static void build_cmd(struct ms_node *nd, char **w, size_t i, size_t end, int depth)
{
	struct ms *ms = nd->ms;
	const char *t;

	while (i < end && strchr(w[i], '=') && w[i][0] != '-')
		i++; /* NODE_ENV=production */
	if (i < end && (strcmp(w[i], "cross-env") == 0 || strcmp(w[i], "env") == 0)) {
		i++;
		while (i < end && strchr(w[i], '='))
			i++;
	}
	if (i < end && (strcmp(w[i], "npx") == 0 || strcmp(w[i], "pnpx") == 0))
		i++;
	if (i + 1 < end && (strcmp(w[i], "yarn") == 0 || strcmp(w[i], "pnpm") == 0 ||
			    strcmp(w[i], "npm") == 0) &&
	    (strcmp(w[i + 1], "exec") == 0 || strcmp(w[i + 1], "dlx") == 0))
		i += 2;
	if (i >= end)
		return;
	t = base_name(w[i]);
	if (strcmp(t, "npm") == 0 || strcmp(t, "yarn") == 0 || strcmp(t, "pnpm") == 0) {
		size_t k = i + 1;
		const char *s;

		if (k < end && (strcmp(w[k], "run") == 0 || strcmp(w[k], "run-script") == 0))
			k++;
		while (k < end && w[k][0] == '-')
			k++;
		if (k >= end)
			return;
		if (strcmp(t, "npm") != 0 || k > i + 1) {
			s = ms_npm_script(nd, w[k]);
			if (s && depth < 4)
				build_text(nd, s, depth + 1);
			else if (!s && ms_npm_script_kind(w[k]) == MS_K_BUILD)
				nd->unknown_out = 1;
		}
		return;
	}
	if (strcmp(t, "tsc") == 0) {
		const char *o = opt_val(w, i + 1, end, "--outDir", NULL);
		const char *p = opt_val(w, i + 1, end, "-p", "--project");

		if (opt_val(w, i + 1, end, "--noEmit", NULL) || (i + 1 < end && !strcmp(w[i + 1], "--noEmit")))
			return;
		if (!p) {
			const char *b = opt_val(w, i + 1, end, "-b", "--build");

			p = b && b[0] != '-' ? b : NULL;
		}
		if (p && ms_isdir(ms, p))
			p = ms_printf(ms, "%s/tsconfig.json", p);
		o = o ? ms_npm_clean(ms, "", o) : ts_outdir(ms, p ? p : "tsconfig.json", 0);
		if (o)
			ms_npm_add_out(nd, o);
		else
			nd->tsc_unknown = 1;
		nd->tool = nd->tool ? nd->tool : "tsc";
		return;
	}
	if (strcmp(t, "vite") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		const char *o = opt_val(w, i + 2, end, "--outDir", NULL);

		ms_npm_add_out(nd, o ? ms_npm_clean(ms, "", o) : vite_outdir(ms));
		nd->static_ok = 1;
		nd->tool = "vite";
		return;
	}
	if (strcmp(t, "react-scripts") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		ms_npm_add_out(nd, "build");
		nd->static_ok = 1;
		nd->tool = "react-scripts";
		return;
	}
	if (strcmp(t, "vue-cli-service") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		const char *o = opt_val(w, i + 2, end, "--dest", NULL);

		ms_npm_add_out(nd, o ? ms_npm_clean(ms, "", o) : "dist");
		nd->static_ok = 1;
		nd->tool = "vue-cli";
		return;
	}
	if (strcmp(t, "next") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		ms_npm_add_out(nd, ".next");
		nd->tool = "next";
		return;
	}
	if ((strcmp(t, "nuxt") == 0 || strcmp(t, "nuxi") == 0) && i + 1 < end &&
	    strcmp(w[i + 1], "build") == 0) {
		ms_npm_add_out(nd, ".output");
		nd->tool = "nuxt";
		return;
	}
	if (strcmp(t, "nest") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		const char *o = ts_outdir(ms, "tsconfig.build.json", 0);

		ms_npm_add_out(nd, o ? o : ts_outdir(ms, "tsconfig.json", 0) ? ts_outdir(ms, "tsconfig.json", 0)
								       : "dist");
		nd->tool = "nest";
		return;
	}
	if (strcmp(t, "tsup") == 0 || strcmp(t, "ncc") == 0) {
		const char *o = opt_val(w, i + 1, end, "-d", "--out-dir");

		if (!o && strcmp(t, "ncc") == 0)
			o = opt_val(w, i + 1, end, "-o", "--out");
		ms_npm_add_out(nd, o ? ms_npm_clean(ms, "", o) : "dist");
		nd->tool = t;
		return;
	}
	if (strcmp(t, "babel") == 0) {
		const char *o = opt_val(w, i + 1, end, "-d", "--out-dir");

		ms_npm_add_out(nd, o ? ms_npm_clean(ms, "", o) : NULL);
		nd->tool = "babel";
		return;
	}
	if (strcmp(t, "esbuild") == 0) {
		const char *o = opt_val(w, i + 1, end, "--outdir", NULL);
		const char *f = o ? NULL : opt_val(w, i + 1, end, "--outfile", NULL);

		if (f && strchr(f, '/'))
			o = ms_strndup(ms, f, (size_t)(strchr(f, '/') - f));
		ms_npm_add_out(nd, o ? ms_npm_clean(ms, "", o) : NULL);
		nd->tool = "esbuild";
		return;
	}
	if (strcmp(t, "ng") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		ms_npm_add_out(nd, angular_outdir(ms));
		nd->static_ok = 1;
		nd->tool = "angular";
		return;
	}
	if (strcmp(t, "gatsby") == 0 && i + 1 < end && strcmp(w[i + 1], "build") == 0) {
		ms_npm_add_out(nd, "public");
		nd->static_ok = 1;
		nd->tool = "gatsby";
		return;
	}
	if (strcmp(t, "webpack") == 0 || strcmp(t, "rollup") == 0 || strcmp(t, "parcel") == 0 ||
	    strcmp(t, "ng") == 0 || strcmp(t, "astro") == 0 || strcmp(t, "svelte-kit") == 0 ||
	    strcmp(t, "gulp") == 0 || strcmp(t, "grunt") == 0 || strcmp(t, "node") == 0) {
		nd->unknown_out = 1;
		nd->tool = t;
	}
}

static void build_text(struct ms_node *nd, const char *text, int depth)
{
	char *w[MS_NODE_MAX_WORDS];
	size_t n = ms_npm_words(nd->ms, text, w, MS_NODE_MAX_WORDS), i = 0;

	while (i < n) {
		size_t e = i;

		while (e < n && !is_op(w[e]))
			e++;
		build_cmd(nd, w, i, e, depth);
		i = e + 1;
	}
}

/* What a start script runs: sets mode, start, start_tool. 0 or -1. */
static int start_cmd(struct ms_node *nd, char **w, size_t n, int depth)
{
	struct ms *ms = nd->ms;
	size_t i = 0, k;
	const char *t;

	for (k = 0; k < n; k++)
		if (is_op(w[k]) && strcmp(w[k], "&&") != 0)
			return ms_skip(ms, "the start command `%s` is more than one program",
				       nd->cmdtext);
	/* `a && b`: the last command is the server */
	for (k = n; k > 0; k--)
		if (is_op(w[k - 1])) {
			i = k;
			break;
		}
	while (i < n && strchr(w[i], '=') && w[i][0] != '-')
		i++;
	if (i < n && strcmp(w[i], "cross-env") == 0) {
		nd->start_tool = "cross-env";
		i++;
		while (i < n && strchr(w[i], '='))
			i++;
	}
	if (i < n && (strcmp(w[i], "npx") == 0 || strcmp(w[i], "exec") == 0))
		i++;
	if (i >= n)
		return ms_skip(ms, "no start command found in package.json");
	t = base_name(w[i]);
	if (ms_is_shell(t) && i + 3 == n && strcmp(w[i + 1], "-c") == 0 &&
	    depth < 4) {
		char *sw[MS_NODE_MAX_WORDS];

		return start_cmd(nd, sw, ms_npm_words(ms, w[i + 2], sw, MS_NODE_MAX_WORDS), depth + 1);
	}
	if (strcmp(t, "npm") == 0 || strcmp(t, "yarn") == 0 || strcmp(t, "pnpm") == 0) {
		size_t s = i + 1;
		const char *name, *text;
		char *sw[MS_NODE_MAX_WORDS];

		if (s < n && (strcmp(w[s], "run") == 0 || strcmp(w[s], "run-script") == 0))
			s++;
		else if (strcmp(t, "npm") == 0 && s < n && strcmp(w[s], "start") != 0 &&
			 strcmp(w[s], "run") != 0)
			return ms_skip(ms, "the container runs `%s`", nd->cmdtext);
		if (s >= n || depth > 4)
			return ms_skip(ms, "the container runs `%s`", nd->cmdtext);
		name = w[s];
		text = ms_npm_script(nd, name);
		if (!text && strcmp(name, "start") == 0 && ms_exists(ms, "server.js"))
			text = "node server.js"; /* npm's default start */
		if (!text)
			return ms_skip(ms, "no script `%s` in package.json", name);
		if (ms_npm_script(nd, ms_printf(ms, "pre%s", name)) || ms_npm_script(nd, ms_printf(ms, "post%s", name)))
			return ms_skip(ms, "package.json has pre/post scripts around `%s`", name);
		return start_cmd(nd, sw, ms_npm_words(ms, text, sw, MS_NODE_MAX_WORDS), depth + 1);
	}
	if (strcmp(t, "node") == 0 || strcmp(t, "nodejs") == 0) {
		for (k = i + 1; k < n; k++) {
			if (w[k][0] != '-')
				break;
			if ((!strcmp(w[k], "-r") || !strcmp(w[k], "--require") || !strcmp(w[k], "--import") ||
			     !strcmp(w[k], "--loader")) && k + 1 < n) {
				const char *m = w[++k];

				if (m[0] == '.' || m[0] == '/')
					return ms_skip(ms, "`%s` loads %s from the sources", nd->cmdtext, m);
			}
		}
		if (k >= n)
			return ms_skip(ms, "the container runs node without a file");
		nd->start = w[k];
		if (strcmp(nd->start, ".") == 0 || strcmp(nd->start, "./") == 0) {
			const char *m = jstr(nd->pkg, "main");

			nd->start = m ? m : "index.js";
		}
		nd->mode = MS_M_SERVER;
		return 0;
	}
	if (strcmp(t, "next") == 0 && i + 1 < n && strcmp(w[i + 1], "start") == 0) {
		nd->mode = MS_M_NEXT;
		nd->start_tool = "next";
		return 0;
	}
	if ((strcmp(t, "nuxt") == 0 || strcmp(t, "nuxi") == 0) && i + 1 < n &&
	    (strcmp(w[i + 1], "start") == 0 || strcmp(w[i + 1], "preview") == 0)) {
		nd->mode = MS_M_NUXT;
		nd->start = ".output/server/index.mjs";
		return 0;
	}
	if ((strcmp(t, "vite") == 0 && (i + 1 >= n || strcmp(w[i + 1], "preview") == 0 ||
					 strcmp(w[i + 1], "dev") == 0 || strcmp(w[i + 1], "serve") == 0 ||
					 w[i + 1][0] == '-')) ||
	    (strcmp(t, "react-scripts") == 0 && i + 1 < n && strcmp(w[i + 1], "start") == 0) ||
	    (strcmp(t, "ng") == 0 && i + 1 < n && strcmp(w[i + 1], "serve") == 0) ||
	    (strcmp(t, "gatsby") == 0 && i + 1 < n && (strcmp(w[i + 1], "serve") == 0 ||
						     strcmp(w[i + 1], "develop") == 0)) ||
	    (strcmp(t, "vue-cli-service") == 0 && i + 1 < n && strcmp(w[i + 1], "serve") == 0) ||
	    strcmp(t, "serve") == 0 || strcmp(t, "http-server") == 0) {
		nd->mode = MS_M_STATIC;
		return 0;
	}
	return ms_skip(ms, "the start command `%s` is not one dfix understands", nd->cmdtext);
}


void ms_npm_build(struct ms_node *nd, const char *text)
{
	build_text(nd, text, 0);
}

int ms_npm_start(struct ms_node *nd, char **w, size_t n)
{
	return start_cmd(nd, w, n, 0);
}

const char *ms_npm_field(struct ms_node *nd, const char *key)
{
	return jstr(nd->pkg, key);
}

int ms_npm_load(struct ms_node *nd)
{
	struct ms *ms = nd->ms;
	json_error_t jerr;
	size_t len = 0;
	char *text = ms_read(ms, "package.json", &len);
	json_t *j;

	if (!text)
		return ms_skip(ms, "no package.json in the build context");
	j = json_loadb(text, len, 0, &jerr);
	free(text);
	if (!json_is_object(j)) {
		if (j)
			json_decref(j);
		return ms_skip(ms, "package.json does not parse");
	}
	nd->pkg = j;
	nd->scripts = json_object_get(j, "scripts");
	if (!json_is_object((json_t *)nd->scripts))
		nd->scripts = NULL;
	return 0;
}

void ms_npm_free(struct ms_node *nd)
{
	if (nd->pkg)
		json_decref((json_t *)nd->pkg);
	nd->pkg = nd->scripts = NULL;
}
