/*
 * multi_stage_context.c - the build context as the multi-stage pass reads
 * it: files and directories (minus what .dockerignore leaves out), a
 * bounded walk over the sources, the top-level files the code names, the
 * paths COPY gives them in the builder, and the values of ENV/ARG.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>

#include "multi_stage.h"

/* ---------------------------------------------------------------- the build context */

char *ms_read(struct ms *ms, const char *rel, size_t *len)
{
	size_t n = 0;
	char *p;

	if (!ms_sent(ms, rel))
		return NULL;
	p = df_context_read(ms->ctx, rel, &n);
	if (p && len)
		*len = n;
	if (p && memchr(p, '\0', n)) { /* binary: not a manifest */
		free(p);
		return NULL;
	}
	return p;
}

static int stat_rel(struct ms *ms, const char *rel, struct stat *st)
{
	struct df_buf b = DF_BUF_INIT;
	int r;

	if (!ms->ctx->context_dir || strstr(rel, ".."))
		return -1;
	df_buf_adds(&b, ms->ctx->context_dir);
	if (*rel && strcmp(rel, ".") != 0) {
		df_buf_addc(&b, '/');
		df_buf_adds(&b, rel);
	}
	r = stat(b.ptr, st);
	df_buf_release(&b);
	return r;
}

int ms_exists(struct ms *ms, const char *rel)
{
	struct stat st;

	return ms_sent(ms, rel) && stat_rel(ms, rel, &st) == 0;
}

int ms_isdir(struct ms *ms, const char *rel)
{
	struct stat st;

	return ms_sent(ms, rel) && stat_rel(ms, rel, &st) == 0 && S_ISDIR(st.st_mode);
}

int ms_sent(struct ms *ms, const char *rel)
{
	if (!rel || strstr(rel, ".."))
		return 0;
	return !ms->ignore || !df_ignore_excluded(ms->ignore, rel);
}

#define WALK_MAX_FILES 4000
#define WALK_MAX_BYTES ((size_t)24 << 20)
#define WALK_MAX_DEPTH 12

struct walk {
	struct ms *ms;
	const char *const *suffixes;
	int (*fn)(struct ms *, const char *, const char *, size_t, void *);
	void *arg;
	size_t files, bytes;
	int stop;
};

static int skip_dir(const char *name)
{
	static const char *const skip[] = {
		"node_modules", "vendor", "target", "__pycache__", "venv", "site-packages",
		"bower_components", NULL
	};
	size_t i;

	if (name[0] == '.')
		return 1;
	for (i = 0; skip[i]; i++)
		if (strcmp(name, skip[i]) == 0)
			return 1;
	return 0;
}

static int has_suffix(const char *name, const char *const *suffixes)
{
	size_t i;

	for (i = 0; suffixes[i]; i++)
		if (ms_ends(name, suffixes[i]))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted names in a context directory (malloc'ed, caller frees each). */
static char **list_dir(struct ms *ms, const char *rel, size_t *n)
{
	struct df_buf b = DF_BUF_INIT;
	char **v = NULL;
	size_t cap = 0;
	struct dirent *de;
	DIR *d;

	*n = 0;
	df_buf_adds(&b, ms->ctx->context_dir);
	if (*rel) {
		df_buf_addc(&b, '/');
		df_buf_adds(&b, rel);
	}
	d = opendir(b.ptr);
	df_buf_release(&b);
	if (!d)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 32;
			v = df_xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = df_xstrndup(de->d_name, strlen(de->d_name));
		if (*n >= 20000)
			break;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void walk_dir(struct walk *w, const char *rel, int depth)
{
	size_t n, i;
	char **names = list_dir(w->ms, rel, &n);

	for (i = 0; i < n; i++) {
		struct df_buf p = DF_BUF_INIT;
		struct stat st;

		if (w->stop || w->files >= WALK_MAX_FILES || w->bytes >= WALK_MAX_BYTES) {
			w->stop = 1;
			goto next;
		}
		if (*rel) {
			df_buf_adds(&p, rel);
			df_buf_addc(&p, '/');
		}
		df_buf_adds(&p, names[i]);
		{
			struct df_buf full = DF_BUF_INIT;

			df_buf_adds(&full, w->ms->ctx->context_dir);
			df_buf_addc(&full, '/');
			df_buf_add(&full, p.ptr, p.len);
			if (lstat(full.ptr, &st) != 0) {
				df_buf_release(&full);
				goto next;
			}
			df_buf_release(&full);
		}
		if (!ms_sent(w->ms, p.ptr))
			goto next;
		if (S_ISDIR(st.st_mode)) {
			if (depth < WALK_MAX_DEPTH && !skip_dir(names[i]))
				walk_dir(w, p.ptr, depth + 1);
		} else if (S_ISREG(st.st_mode) && has_suffix(names[i], w->suffixes) &&
			   st.st_size < (1 << 20)) {
			size_t len = 0;
			char *text = df_context_read(w->ms->ctx, p.ptr, &len);

			if (text) {
				w->files++;
				w->bytes += len;
				if (w->fn(w->ms, p.ptr, text, len, w->arg))
					w->stop = 1;
				free(text);
			}
		}
next:
		df_buf_release(&p);
		free(names[i]);
	}
	free(names);
}

void ms_walk(struct ms *ms, const char *const *suffixes,
	     int (*fn)(struct ms *ms, const char *rel, const char *text, size_t len, void *arg),
	     void *arg)
{
	struct walk w;

	if (!ms->ctx->context_dir)
		return;
	memset(&w, 0, sizeof(w));
	w.ms = ms;
	w.suffixes = suffixes;
	w.fn = fn;
	w.arg = arg;
	walk_dir(&w, "", 0);
}

struct refs {
	const char **names;   /* candidates (malloc'ed strings) */
	size_t n;
	unsigned char *found;
	size_t nfound;
};

static int quote_or_slash(char c)
{
	return c == '"' || c == '\'' || c == '`' || c == '/';
}

static int quote(char c)
{
	return c == '"' || c == '\'' || c == '`';
}

/* Does name occur in text as a path in a string literal (not on a
 * //go:embed line)? With stem_only, it must be the whole string. */
static int named_in(const char *text, size_t len, const char *name, size_t nl, int stem_only)
{
	const char *p = text, *end = text + len;

	while (p + nl <= end) {
		const char *hit = memchr(p, name[0], (size_t)(end - p));
		const char *ls;

		if (!hit || hit + nl > end)
			return 0;
		p = hit + 1;
		if (memcmp(hit, name, nl) != 0 || hit == text || hit + nl >= end)
			continue;
		if (stem_only ? !(quote(hit[-1]) || hit[-1] == '/') || !quote(hit[nl])
			      : !quote_or_slash(hit[-1]) || !(quote_or_slash(hit[nl])))
			continue;
		if (hit[-1] == '/' && hit[nl] == '/')
			continue; /* a/name/b: too common in URLs and imports */
		for (ls = hit; ls > text && ls[-1] != '\n'; ls--)
			;
		while (ls < hit && (*ls == ' ' || *ls == '\t'))
			ls++;
		if ((size_t)(hit - ls) >= 10 && memcmp(ls, "//go:embed", 10) == 0)
			continue;
		if ((size_t)(hit - ls) >= 6 && (memcmp(ls, "import", 6) == 0 ||
						memcmp(ls, "from ", 5) == 0))
			continue;
		return 1;
	}
	return 0;
}

static int refs_file(struct ms *ms, const char *rel, const char *text, size_t len, void *arg)
{
	struct refs *r = arg;
	size_t i;

	(void)ms;
	(void)rel;
	for (i = 0; i < r->n; i++) {
		const char *name = r->names[i], *dot;

		if (r->found[i])
			continue;
		if (named_in(text, len, name, strlen(name), 0)) {
			r->found[i] = 1;
			r->nfound++;
			continue;
		}
		dot = strrchr(name, '.');
		if (dot && dot != name && named_in(text, len, name, (size_t)(dot - name), 1)) {
			r->found[i] = 1;
			r->nfound++;
		}
	}
	return r->nfound == r->n;
}

size_t ms_referenced(struct ms *ms, const char *const *suffixes, const char *const *skip,
		     const char **out, size_t max)
{
	struct refs r;
	size_t n = 0, i, k, cnt = 0;
	char **names;

	if (!ms->ctx->context_dir)
		return 0;
	names = list_dir(ms, "", &n);
	memset(&r, 0, sizeof(r));
	r.names = df_xcalloc(n + 1, sizeof(*r.names));
	r.found = df_xcalloc(n + 1, 1);
	for (i = 0; i < n; i++) {
		int skipped = names[i][0] == '.' || has_suffix(names[i], suffixes) ||
			      !ms_sent(ms, names[i]);

		for (k = 0; skip && skip[k] && !skipped; k++)
			if (fnmatch(skip[k], names[i], 0) == 0)
				skipped = 1;
		if (!skipped && r.n < 64)
			r.names[r.n++] = names[i];
	}
	if (r.n)
		ms_walk(ms, suffixes, refs_file, &r);
	for (i = 0; i < r.n && cnt < max; i++)
		if (r.found[i])
			out[cnt++] = ms_strdup(ms, r.names[i]);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(r.names);
	free(r.found);
	return cnt;
}

/* ---------------------------------------------------------------- paths */

const char *ms_abs(struct ms *ms, const char *dir, const char *path)
{
	struct df_buf b = DF_BUF_INIT, out = DF_BUF_INIT;
	const char *p;
	char *r;

	if (!path)
		return NULL;
	if (path[0] != '/') {
		if (!dir)
			return NULL;
		df_buf_adds(&b, dir);
		df_buf_addc(&b, '/');
	}
	df_buf_adds(&b, path);
	p = b.ptr;
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (out.len && out.ptr[out.len - 1] != '/')
				out.len--;
			if (out.len)
				out.len--;
			continue;
		}
		df_buf_addc(&out, '/');
		df_buf_add(&out, s, n);
	}
	if (!out.len)
		df_buf_addc(&out, '/');
	r = ms_strndup(ms, out.ptr, out.len);
	df_buf_release(&b);
	df_buf_release(&out);
	return r;
}

/* Is path inside dir (or dir itself)? Returns the rest ("" for dir itself). */
const char *ms_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return path[0] == '/' ? path + 1 : NULL;
	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return path + n;
	if (path[n] == '/')
		return path + n + 1;
	return NULL;
}

const char *ms_rel(struct ms *ms, const char *dir, const char *path)
{
	const char *rest;

	if (!dir || strcmp(dir, "/") == 0 || !(rest = ms_under(path, dir)))
		return path;
	if (!*rest)
		return "./";
	return ms_printf(ms, "./%s", rest);
}

const char *ms_builder_path(struct ms *ms, const char *rel, size_t upto)
{
	size_t i = ms->ncopies;

	if (!ms_exists(ms, rel))
		return NULL;
	while (i-- > 0) {
		const struct ms_copy *c = &ms->copies[i];
		const char *rest;

		if (c->item >= upto)
			continue;
		if (strcmp(c->src, ".") == 0) {
			return ms_sent(ms, rel) ? ms_abs(ms, c->dst, rel) : NULL;
		}
		if (c->glob) {
			const char *base = strrchr(rel, '/');

			if (fnmatch(c->src, rel, FNM_PATHNAME) == 0 && ms_sent(ms, rel))
				return ms_abs(ms, c->dst, base ? base + 1 : rel);
			continue;
		}
		if ((rest = ms_under(rel, c->src)) != NULL && ms_sent(ms, rel)) {
			if (c->dir)
				return ms_abs(ms, c->dst, rest);
			if (!*rest)
				return c->dst;
		}
	}
	return NULL;
}

const char *ms_context_path(struct ms *ms, const char *abs, size_t upto)
{
	size_t i = ms->ncopies;

	while (i-- > 0) {
		const struct ms_copy *c = &ms->copies[i];
		const char *rest, *rel;

		if (c->item >= upto || c->glob)
			continue;
		if ((rest = ms_under(abs, c->dst)) == NULL)
			continue;
		if (c->dir) {
			if (strcmp(c->src, ".") == 0)
				rel = *rest ? rest : ".";
			else
				rel = *rest ? ms_printf(ms, "%s/%s", c->src, rest) : c->src;
		} else {
			if (*rest)
				continue;
			rel = c->src;
		}
		if (strcmp(rel, ".") != 0 && !ms_exists(ms, rel))
			continue;
		return rel;
	}
	return NULL;
}

const char *ms_final_wd(struct ms *ms)
{
	return ms->nitems ? ms->items[ms->nitems - 1].wd : "/";
}

/* ---------------------------------------------------------------- variables */

static const char *unquote_val(struct ms *ms, struct df_span v)
{
	if (v.len >= 2 && (v.ptr[0] == '"' || v.ptr[0] == '\'') && v.ptr[v.len - 1] == v.ptr[0])
		return ms_strndup(ms, v.ptr + 1, v.len - 2);
	return ms_strndup(ms, v.ptr, v.len);
}

static const char *arg_default(struct ms *ms, const struct df_inst *inst, const char *name)
{
	size_t i, nl = strlen(name);

	for (i = 0; i < inst->nargs; i++) {
		struct df_span a = inst->args[i];

		if (a.len > nl && memcmp(a.ptr, name, nl) == 0 && a.ptr[nl] == '=') {
			struct df_span v = { a.ptr + nl + 1, a.len - nl - 1 };

			return unquote_val(ms, v);
		}
	}
	return NULL;
}

const char *ms_var(struct ms *ms, size_t upto, const char *name)
{
	size_t i = upto < ms->nitems ? upto : ms->nitems, k;

	while (i-- > 0) {
		const struct df_inst *inst = ms->items[i].inst;

		if (inst->cmd == DF_CMD_ENV) {
			for (k = inst->nargs / 3; k-- > 0;)
				if (df_span_eq(inst->args[3 * k], name))
					return unquote_val(ms, inst->args[3 * k + 1]);
		} else if (inst->cmd == DF_CMD_ARG) {
			const char *v = arg_default(ms, inst, name);

			if (v)
				return v;
		}
	}
	for (i = ms->from.idx; i-- > 0;) {
		const struct df_node *n = &ms->doc->nodes[i];

		if (n->kind == DF_INSTRUCTION && n->inst && n->inst->cmd == DF_CMD_ARG) {
			const char *v = arg_default(ms, n->inst, name);

			if (v)
				return v;
		}
	}
	return NULL;
}

