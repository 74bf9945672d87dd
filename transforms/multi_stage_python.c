/*
 * multi_stage_python.c - the Python ecosystem of the multi-stage pass.
 *
 * A Python app runs from its sources, so the runtime keeps the stage as it
 * was, minus what only builds the dependencies: the builder (the original
 * image, build packages such as gcc and libpq-dev, poetry or pipenv)
 * installs requirements into a virtualenv, /opt/venv, and the runtime (the
 * -slim image of the same version, or the same image when it is slim or
 * alpine already) gets /opt/venv, PATH, and the run-time libraries of the
 * build packages (libpq-dev -> libpq5: the apt-runtime/apk-runtime rows of
 * transforms/packages.tsv), plus those of a few requirements a full image
 * builds silently (psycopg2 -> libpq5, mysqlclient -> libmariadb3).
 * A Dockerfile that makes its own virtualenv keeps it: that is what ships.
 * `pip install --user`, `-e .`, `--target` and the like are left alone.
 */
#include <string.h>

#include "multi_stage.h"

/* Requirements that compile against a system library on full images. */
static const struct {
	const char *req, *apt, *apk;
} req_libs[] = {
	{ "psycopg2", "libpq5", "libpq" },
	{ "mysqlclient", "libmariadb3", "mariadb-connector-c" },
	{ "python-ldap", "libldap-2.5-0 libsasl2-2", "libldap libsasl" },
	{ "pycurl", "libcurl4", "libcurl" },
	{ "pyodbc", "unixodbc", "unixodbc" },
	{ "psycopg", NULL, NULL }, /* psycopg 3 brings its own libpq in wheels */
};

static const char *base_name(const char *w)
{
	const char *b = strrchr(w, '/');

	return b ? b + 1 : w;
}

static int is_pip(struct ms_cmd *c, size_t *sub)
{
	const char *n = base_name(c->argv[0]);

	if (ms_starts(n, "pip") && strspn(n + 3, "0123456789.") == strlen(n + 3)) {
		*sub = 1;
		return 1;
	}
	if (ms_starts(n, "python") && strspn(n + 6, "0123456789.") == strlen(n + 6) &&
	    c->argc > 2 && ms_word_is(c->argv[1], "-m") && ms_word_is(c->argv[2], "pip")) {
		*sub = 3;
		return 1;
	}
	return 0;
}

static int tool_pkg(const char *p)
{
	static const char *const tools[] = {
		"pip", "setuptools", "wheel", "poetry", "pipenv", "uv", "virtualenv", "pip-tools",
		"poetry-plugin-export", "poetry-core", "cython", "Cython", NULL
	};
	size_t i, n = strcspn(p, "=<>~![ ");

	for (i = 0; tools[i]; i++)
		if (strlen(tools[i]) == n && strncmp(p, tools[i], n) == 0)
			return 1;
	return 0;
}

unsigned ms_python_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c)
{
	const char *n = base_name(c->argv[0]);
	size_t sub, i;

	(void)ms;
	(void)it;
	if (is_pip(c, &sub)) {
		const char *s = sub < c->argc ? c->argv[sub] : NULL;
		int real = 0;

		if (!s)
			return MS_K_OTHER;
		if (strcmp(s, "install") != 0)
			return strcmp(s, "config") == 0 || strcmp(s, "wheel") == 0 ||
			       strcmp(s, "download") == 0 || strcmp(s, "uninstall") == 0 ||
			       strcmp(s, "cache") == 0 ? MS_K_DEPS : MS_K_NEUTRAL;
		for (i = sub + 1; i < c->argc; i++) {
			const char *a = c->argv[i];

			if (!a) {
				real = 1;
				continue;
			}
			if (strcmp(a, "-r") == 0 || strcmp(a, "--requirement") == 0 ||
			    ms_starts(a, "--requirement=") || ms_starts(a, "-r")) {
				real = 1;
				if (strcmp(a, "-r") == 0 || strcmp(a, "--requirement") == 0)
					i++;
				continue;
			}
			if (a[0] == '-') {
				if (!strcmp(a, "-c") || !strcmp(a, "--constraint") || !strcmp(a, "-i") ||
				    !strcmp(a, "--index-url") || !strcmp(a, "--extra-index-url") ||
				    !strcmp(a, "-f") || !strcmp(a, "--find-links") || !strcmp(a, "-t") ||
				    !strcmp(a, "--target") || !strcmp(a, "--prefix") || !strcmp(a, "--root") ||
				    !strcmp(a, "--trusted-host") || !strcmp(a, "--platform") ||
				    !strcmp(a, "--python-version") || !strcmp(a, "--only-binary") ||
				    !strcmp(a, "--no-binary") || !strcmp(a, "--progress-bar") ||
				    !strcmp(a, "--cache-dir") || !strcmp(a, "--src") ||
				    !strcmp(a, "--timeout") || !strcmp(a, "--retries"))
					i++;
				else if (!strcmp(a, "-e") || !strcmp(a, "--editable"))
					real = 1;
				continue;
			}
			if (!tool_pkg(a))
				real = 1;
		}
		return real ? MS_K_DEPS | MS_K_BUILD : MS_K_DEPS;
	}
	if (strcmp(n, "poetry") == 0) {
		const char *s = c->argc > 1 ? c->argv[1] : NULL;

		return ms_word_is(s, "install") || ms_word_is(s, "sync") ? MS_K_DEPS | MS_K_BUILD
									  : MS_K_DEPS;
	}
	if (strcmp(n, "pipenv") == 0) {
		const char *s = c->argc > 1 ? c->argv[1] : NULL;

		return ms_word_is(s, "install") || ms_word_is(s, "sync") ? MS_K_DEPS | MS_K_BUILD
									  : MS_K_DEPS;
	}
	if (strcmp(n, "virtualenv") == 0)
		return MS_K_DEPS;
	if (ms_starts(n, "python") && strspn(n + 6, "0123456789.") == strlen(n + 6) && c->argc > 1) {
		if (ms_word_is(c->argv[1], "-m") && c->argc > 2 && ms_word_is(c->argv[2], "venv"))
			return MS_K_DEPS;
		if (c->argc > 2 && c->argv[1] && ms_ends(c->argv[1], "setup.py") &&
		    (ms_word_is(c->argv[2], "install") || ms_word_is(c->argv[2], "develop")))
			return MS_K_DEPS | MS_K_BUILD;
		if (ms_word_is(c->argv[1], "-m") && c->argc > 2 &&
		    (ms_word_is(c->argv[2], "compileall") || ms_word_is(c->argv[2], "ensurepip")))
			return MS_K_NEUTRAL;
		if (ms_word_is(c->argv[1], "--version") || ms_word_is(c->argv[1], "-V"))
			return MS_K_NEUTRAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- plan */

struct py {
	struct ms *ms;
	const char *venv;      /* the virtualenv that ships */
	int own_venv;          /* the Dockerfile makes it */
	size_t first, last;    /* first and last dependency install */
	int full;              /* the builder is a full image (build tools inside) */
	const char *mgr;       /* apt or apk */
	struct df_buf libs;    /* run-time packages the runtime installs (finding) */
	long pkg_item;         /* the package RUN whose runtime line gets extra packages */
	struct df_buf keep;    /* ... and that line's packages */
	int build_pkgs;        /* a package RUN installs build packages */
	int tool;              /* poetry or pipenv builds */
};

static void add_lib(struct df_buf *b, const char *names)
{
	const char *p = names;

	while (p && *p) {
		size_t n = strcspn(p, " ");
		const char *q = b->ptr;
		int dup = 0;

		while (q && *q) {
			size_t m = strcspn(q, " ");

			if (m == n && strncmp(q, p, n) == 0)
				dup = 1;
			q += m;
			while (*q == ' ')
				q++;
		}
		if (n && !dup) {
			if (b->len)
				df_buf_addc(b, ' ');
			df_buf_add(b, p, n);
		}
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* Is `word` a word of the text of an item the runtime keeps? */
static int runtime_uses(struct ms *ms, const char *word)
{
	size_t i, n = strlen(word);

	for (i = 0; i < ms->nitems; i++) {
		const struct ms_item *it = &ms->items[i];
		const char *p, *end;

		if (it->cmd != DF_CMD_HEALTHCHECK && it->cmd != DF_CMD_CMD &&
		    it->cmd != DF_CMD_ENTRYPOINT && !(it->cmd == DF_CMD_RUN && i > ms->last_build))
			continue;
		p = it->inst->logical.ptr;
		end = p + it->inst->logical.len;
		while (p + n <= end) {
			const char *h = memchr(p, word[0], (size_t)(end - p));

			if (!h || h + n > end)
				break;
			if (memcmp(h, word, n) == 0 &&
			    (h == it->inst->logical.ptr || strchr(" \t\"'/[", h[-1])) &&
			    (h + n == end || strchr(" \t\"'", h[n])))
				return 1;
			p = h + 1;
		}
	}
	return 0;
}

/* Commands of the runtime's RUN, HEALTHCHECK, CMD and ENTRYPOINT that the
 * full image ships and the slim one lacks: their packages go to out. */
static void slim_tools(struct py *py, struct df_buf *out)
{
	struct ms *ms = py->ms;
	size_t i;

	for (i = 0; i < ms->nitems; i++) {
		const struct ms_item *it = &ms->items[i];
		const char *p, *end;

		if (!it->runtime || it->rtext || (it->kind & MS_K_PKG) || (it->cmd != DF_CMD_RUN && it->cmd != DF_CMD_HEALTHCHECK &&
						  it->cmd != DF_CMD_CMD && it->cmd != DF_CMD_ENTRYPOINT))
			continue;
		p = it->inst->logical.ptr;
		end = p + it->inst->logical.len;
		while (p < end) {
			const char *s, *b, *apt = NULL, *apk = NULL;

			while (p < end && strchr(" \t\n;&|()<>\"'`=[],", *p))
				p++;
			s = p;
			while (p < end && !strchr(" \t\n;&|()<>\"'`=[],", *p))
				p++;
			for (b = p; b > s && b[-1] != '/'; b--)
				;
			if (p > b && df_tool_lookup(b, (size_t)(p - b), &apt, &apk) == 0) {
				const char *pkg = strcmp(py->mgr, "apk") == 0 ? apk : apt;

				if (pkg && *pkg && !(py->keep.ptr && strstr(py->keep.ptr, pkg)))
					add_lib(out, pkg);
			}
		}
	}
}

/* A RUN before the installs that only fetches a build tool
 * (curl -sSL https://install.python-poetry.org | python3 -). */
static int tool_installer(const struct ms_item *it)
{
	struct df_span t = it->inst->logical;
	static const char *const tools[] = { "poetry", "pipenv", "pdm", "uv", "rustup", NULL };
	size_t i, k;
	int fetch = 0, named = 0;

	for (k = 0; k < it->ncmds; k++) {
		const char *n = it->cmds[k].argc ? it->cmds[k].argv[0] : NULL;

		if (!n)
			return 0;
		n = base_name(n);
		if (!strcmp(n, "curl") || !strcmp(n, "wget"))
			fetch = 1;
		else if (strcmp(n, "sh") && strcmp(n, "bash") && !ms_starts(n, "python") &&
			 strcmp(n, "ln") && strcmp(n, "chmod") && strcmp(n, "export") &&
			 strcmp(n, "poetry") && strcmp(n, "pipenv") && strcmp(n, "echo"))
			return 0;
	}
	for (i = 0; tools[i]; i++) {
		size_t n = strlen(tools[i]), j;

		for (j = 0; j + n <= t.len; j++)
			if (memcmp(t.ptr + j, tools[i], n) == 0)
				named = 1;
	}
	return fetch && named;
}

/* Plan a package RUN before the installs: builder as is; the runtime gets
 * the run-time part of what it installs. */
static int plan_pkgs(struct py *py, size_t i)
{
	struct ms *ms = py->ms;
	struct ms_item *it = &ms->items[i];
	struct df_buf keep = DF_BUF_INIT;
	uint32_t line = ms->doc->nodes[it->idx].line;
	int build = 0;
	size_t k;

	if (it->pkgs.unknown || !it->pkgs.manager)
		return ms_skip(ms, "the package install at line %u is not one dfix reads", line);
	if (it->kind & ~(MS_K_PKG | MS_K_NEUTRAL))
		return ms_skip(ms, "the RUN at line %u mixes packages with other commands", line);
	py->mgr = it->pkgs.manager;
	for (k = 0; k < it->pkgs.n; k++) {
		const char *p = it->pkgs.names[k];
		const char *rt = ms_runtime_pkgs(it->pkgs.manager, p);

		if (rt) {
			build = 1;
			add_lib(&keep, rt);
		} else if (ms_build_tool_pkg(p) && strcmp(p, "ca-certificates") != 0 &&
			   strcmp(p, "tzdata") != 0) {
			build = 1;
			if (runtime_uses(ms, p))
				add_lib(&keep, p);
		} else if (ms_ends(p, "-dev") || ms_ends(p, "-devel")) {
			df_buf_release(&keep);
			return ms_skip(ms, "no run-time library known for %s (line %u)", p, line);
		} else {
			add_lib(&keep, p);
		}
	}
	if (!build) {
		ms_to(it, 1, 1);
	} else {
		py->build_pkgs = 1;
		ms_to(it, 1, keep.len > 0);
		if (py->pkg_item < 0 && keep.len) {
			py->pkg_item = (long)i;
			add_lib(&py->keep, keep.ptr);
		} else if (keep.len) {
			struct df_buf b = DF_BUF_INIT;

			ms_pkg_install(ms, &b, it->pkgs.manager, keep.ptr);
			it->rtext = ms_strndup(ms, b.ptr, b.len);
			df_buf_release(&b);
		}
		add_lib(&py->libs, keep.ptr);
	}
	df_buf_release(&keep);
	return 0;
}

static int is_manifest(const char *src)
{
	const char *b = base_name(src);

	return ms_starts(b, "requirements") || strcmp(b, "poetry.lock") == 0 ||
	       strcmp(b, "pyproject.toml") == 0 || strcmp(b, "Pipfile") == 0 ||
	       strcmp(b, "Pipfile.lock") == 0 || strcmp(b, "constraints.txt") == 0 ||
	       ms_starts(b, "poetry.toml");
}

/* COPY of dependency manifests only, with a copy of everything later? */
static int manifest_copy(struct ms *ms, size_t i)
{
	const struct df_inst *inst = ms->items[i].inst;
	size_t k, j;

	if (inst->cmd != DF_CMD_COPY || inst->nargs < 2 || inst->nflags)
		return 0;
	for (k = 0; k + 1 < inst->nargs; k++) {
		char *s = ms_strndup(ms, inst->args[k].ptr, inst->args[k].len);

		if (!is_manifest(s))
			return 0;
	}
	for (j = 0; j < ms->ncopies; j++)
		if (ms->copies[j].item > i && strcmp(ms->copies[j].src, ".") == 0)
			return 1;
	return 0;
}

/* Requirements a full image builds against its own libraries: add the
 * run-time packages the runtime lacks to out. */
static void implicit_libs(struct py *py, struct df_buf *out)
{
	static const char *const files[] = {
		"requirements.txt", "requirements/base.txt", "requirements/prod.txt",
		"requirements/production.txt", "poetry.lock", "Pipfile.lock", "pyproject.toml", NULL
	};
	struct ms *ms = py->ms;
	size_t f, r;

	for (f = 0; files[f]; f++) {
		char *t = ms_read(ms, files[f], NULL);

		if (!t)
			continue;
		for (r = 0; r < sizeof(req_libs) / sizeof(req_libs[0]); r++) {
			const char *h = t, *lib = strcmp(py->mgr, "apk") == 0 ? req_libs[r].apk
									  : req_libs[r].apt;
			size_t n = strlen(req_libs[r].req);

			while (lib && (h = strstr(h, req_libs[r].req)) != NULL) {
				char after = h[n];

				if ((h == t || strchr("\n\" '", h[-1])) && after != '-' && after != '_' &&
				    !(after >= 'a' && after <= 'z') && !(after >= '0' && after <= '9')) {
					if (!py->libs.ptr || !strstr(py->libs.ptr, lib))
						add_lib(out, lib);
					break;
				}
				h += n;
			}
		}
		free(t);
	}
}

/* The -slim tag of the same version: "3.12" -> "3.12-slim". */
static const char *slim_tag(struct ms *ms, const char *tag)
{
	static const char *const rel[] = { "bookworm", "bullseye", "buster", "trixie", NULL };
	size_t n, i;

	if (!*tag || strcmp(tag, "latest") == 0)
		return "slim";
	if (strstr(tag, "slim") || strstr(tag, "alpine"))
		return tag;
	if (strstr(tag, "windows") || strstr(tag, "nanoserver"))
		return NULL;
	n = strspn(tag, "0123456789.rcab");
	if (!tag[n])
		return ms_printf(ms, "%s-slim", tag);
	for (i = 0; rel[i]; i++) {
		if (strcmp(tag, rel[i]) == 0)
			return ms_printf(ms, "slim-%s", rel[i]);
		if (tag[n] == '-' && strcmp(tag + n + 1, rel[i]) == 0)
			return ms_printf(ms, "%.*s-slim-%s", (int)n, tag, rel[i]);
	}
	return NULL;
}

static int rewrite_run_cmd(struct ms *ms, long item)
{
	struct ms_item *it = &ms->items[item];
	struct df_buf b = DF_BUF_INIT;
	size_t k;

	if (!it->inst->json || it->inst->nargs < 3 ||
	    !(df_span_eq(it->inst->args[0], "poetry") || df_span_eq(it->inst->args[0], "pipenv")) ||
	    !df_span_eq(it->inst->args[1], "run"))
		return -1;
	df_buf_addf(&b, "%s [", it->cmd == DF_CMD_CMD ? "CMD" : "ENTRYPOINT");
	for (k = 2; k < it->inst->nargs; k++) {
		if (k > 2)
			df_buf_adds(&b, ", ");
		ms_json(&b, ms_strndup(ms, it->inst->args[k].ptr, it->inst->args[k].len));
	}
	df_buf_addc(&b, ']');
	df_buf_adds(&b, ms->eol);
	it->rtext = ms_strndup(ms, b.ptr, b.len);
	df_buf_release(&b);
	return 0;
}

int ms_python_plan(struct ms *ms)
{
	struct py py;
	size_t i, k, L = ms->last_build;
	const char *tag, *word = NULL;
	char **argv;
	long entry, cmd;
	int argc, r = -1;

	memset(&py, 0, sizeof(py));
	py.ms = ms;
	py.first = (size_t)-1;
	df_buf_init(&py.libs);
	df_buf_init(&py.keep);
	py.pkg_item = -1;
	py.mgr = strstr(ms->tag, "alpine") ? "apk" : "apt";
	py.full = !strstr(ms->tag, "slim") && !strstr(ms->tag, "alpine");
	/* the installs */
	for (i = 0; i <= L; i++) {
		struct ms_item *it = &ms->items[i];
		uint32_t line = ms->doc->nodes[it->idx].line;

		if (it->cmd != DF_CMD_RUN || !(it->kind & MS_K_DEPS))
			continue;
		if (it->kind & (MS_K_OTHER | MS_K_CD | MS_K_SETUP)) {
			ms_skip(ms, "the RUN at line %u mixes the install with other commands", line);
			goto out;
		}
		for (k = 0; k < it->ncmds; k++) {
			struct ms_cmd *c = &it->cmds[k];
			size_t a, sub;

			if (!c->argc || !c->argv[0])
				continue;
			if (ms_python_kind(ms, it, c) & MS_K_BUILD) {
				if (py.first == (size_t)-1)
					py.first = i;
				if (!is_pip(c, &sub))
					py.tool = 1;
			}
			if (is_pip(c, &sub) || ms_word_is(base_name(c->argv[0]), "poetry") ||
			    ms_word_is(base_name(c->argv[0]), "pipenv"))
				for (a = 1; a < c->argc; a++) {
					const char *w = c->argv[a];

					if (w && (!strcmp(w, "--user") || !strcmp(w, "-t") ||
						  ms_starts(w, "--target") || ms_starts(w, "--prefix") ||
						  ms_starts(w, "--root") || !strcmp(w, "-e") ||
						  ms_starts(w, "--editable") || !strcmp(w, "--system-site-packages"))) {
						ms_skip(ms, "`%s` at line %u installs outside a virtualenv dfix "
							"can ship", w, line);
						goto out;
					}
					if (w && ms_word_is(base_name(c->argv[0]), "poetry") &&
					    (strstr(w, "virtualenvs.in-project") || strstr(w, "virtualenvs.path"))) {
						ms_skip(ms, "poetry keeps its own virtualenv (line %u)", line);
						goto out;
					}
				}
			if (c->argc > 3 && ms_starts(base_name(c->argv[0]), "python") &&
			    ms_word_is(c->argv[1], "-m") && ms_word_is(c->argv[2], "venv")) {
				const char *v = c->argv[c->argc - 1];

				if (!v || v[0] != '/' || py.own_venv) {
					ms_skip(ms, "the virtualenv at line %u is not at a fixed path", line);
					goto out;
				}
				py.venv = ms_abs(ms, "/", v);
				py.own_venv = 1;
			}
			if (ms_word_is(base_name(c->argv[0]), "virtualenv")) {
				ms_skip(ms, "virtualenv at line %u", line);
				goto out;
			}
		}
	}
	if (py.first == (size_t)-1) {
		ms->quiet = 1;
		goto out;
	}
	if (ms->items[py.first].user) {
		ms_skip(ms, "the install at line %u runs as USER %s",
			ms->doc->nodes[ms->items[py.first].idx].line, ms->items[py.first].user);
		goto out;
	}
	if (!py.own_venv)
		py.venv = "/opt/venv";
	/* the runtime image: -slim of the same version */
	if (ms->from.has_var || ms->from.ref.has_digest) {
		word = ms_strndup(ms, ms->from.word.ptr, ms->from.word.len);
	} else {
		tag = slim_tag(ms, ms->tag);
		if (!tag) {
			ms_skip(ms, "no slim variant known for %s", ms->from.resolved);
			goto out;
		}
		word = ms_printf(ms, "%.*s:%s",
				 (int)(ms->from.ref.has_tag ? strlen(ms->from.resolved) - ms->from.ref.tag.len - 1
							    : strlen(ms->from.resolved)),
				 ms->from.resolved, tag);
	}
	ms->runtime_image = word;
	/* what the container runs */
	argc = ms_command(ms, &argv, &entry, &cmd);
	if (entry < 0 && cmd < 0) {
		ms_skip(ms, "no CMD or ENTRYPOINT: an image to work in rather than an app");
		goto out;
	}
	if (argc > 0 && (ms_word_is(argv[0], "poetry") || ms_word_is(argv[0], "pipenv"))) {
		long it = entry >= 0 ? entry : cmd;

		if (!(argc > 2 && ms_word_is(argv[1], "run") && rewrite_run_cmd(ms, it) == 0)) {
			ms_skip(ms, "the container runs %s, which the runtime does not have", argv[0]);
			goto out;
		}
		df_buf_addf(&ms->note, "CMD runs `%s` from the virtualenv without `%s run`; ",
			    argv[2], argv[0]);
	}
	/* place the items */
	for (i = 0; i < ms->nitems; i++) {
		struct ms_item *it = &ms->items[i];

		switch (it->cmd) {
		case DF_CMD_RUN:
			if (i > L)
				ms_to(it, 0, 1);
			else if (it->kind & MS_K_DEPS)
				ms_to(it, 1, 0);
			else if (it->kind & MS_K_PKG) {
				if (plan_pkgs(&py, i) < 0)
					goto out;
			} else if (!(it->kind & (MS_K_OTHER | MS_K_CD)))
				ms_to(it, 1, 1);
			else if (tool_installer(it))
				ms_to(it, 1, 0);
			else {
				ms_skip(ms, "the RUN at line %u before the install: dfix cannot tell "
					"whether the runtime needs it", ms->doc->nodes[it->idx].line);
				goto out;
			}
			break;
		case DF_CMD_COPY:
		case DF_CMD_ADD:
			ms_to(it, i <= L, i > L || !manifest_copy(ms, i));
			break;
		default:
			ms_to_other(it, i, L);
			break;
		}
	}
	if (!py.build_pkgs && !py.tool && !py.full) {
		ms->quiet = 1; /* nothing is built that the runtime could leave behind */
		goto out;
	}
	{
		struct df_buf extra = DF_BUF_INIT, line = DF_BUF_INIT;

		if (py.full) {
			implicit_libs(&py, &extra);
			slim_tools(&py, &extra);
		}
		if (py.pkg_item >= 0) {
			add_lib(&py.keep, extra.ptr ? extra.ptr : "");
			ms_pkg_install(ms, &line, py.mgr, py.keep.ptr);
			ms->items[py.pkg_item].rtext = ms_strndup(ms, line.ptr, line.len);
		} else if (extra.len) {
			ms_pkg_install(ms, &line, py.mgr, extra.ptr);
			df_buf_add(&ms->items[py.first].rbefore, line.ptr, line.len);
		}
		if (extra.len)
			add_lib(&py.libs, extra.ptr);
		df_buf_release(&extra);
		df_buf_release(&line);
	}
	/* the virtualenv */
	if (!py.own_venv) {
		ms_line(ms, &ms->items[py.first].bbefore, "RUN python -m venv %s", py.venv);
		ms_line(ms, &ms->items[py.first].bbefore, "ENV VIRTUAL_ENV=%s PATH=\"%s/bin:$PATH\"",
			py.venv, py.venv);
	}
	ms_ship(ms, py.venv, py.venv);
	ms->ship_at = py.first;
	if (!py.own_venv) {
		struct df_buf t = DF_BUF_INIT;

		ms_line(ms, &t, "ENV VIRTUAL_ENV=%s PATH=\"%s/bin:$PATH\"", py.venv, py.venv);
		df_buf_add(&t, ms->items[py.first].rbefore.ptr, ms->items[py.first].rbefore.len);
		df_buf_reset(&ms->items[py.first].rbefore);
		df_buf_add(&ms->items[py.first].rbefore, t.ptr, t.len);
		df_buf_release(&t);
	}
	df_buf_addf(&ms->note, "dependencies are built in %s and only the virtualenv ships", py.venv);
	if (py.libs.len)
		df_buf_addf(&ms->note, ", with the run-time packages %s", py.libs.ptr);
	r = 0;
out:
	df_buf_release(&py.libs);
	df_buf_release(&py.keep);
	return r;
}
