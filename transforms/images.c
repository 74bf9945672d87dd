/*
 * images.c - the image and package tables, image references, and the FROM
 * of a stage with its ARG defaults substituted (API in src/imageref.h).
 *
 * The tables are the .tsv files under transforms/, compiled in as one
 * string per row (images_data.c) and read on first use; DFIX_IMAGES and
 * DFIX_PACKAGES name user files whose rows replace the built-in ones.
 */
#include <stdarg.h>
#include <string.h>

#include "imageref.h"
#include "internal.h"

/* ---------------------------------------------------------------- tables */

struct size_row {
	const char *repo, *pattern, *source;
	unsigned mb;
};
struct pkg_row {
	const char *kind, *from, *to;
};
struct tool_row {
	const char *name, *apt, *apk;
};

#define VEC(T) struct { T *v; size_t n, cap; }

static struct {
	int loaded;
	VEC(struct df_image) img;
	VEC(struct df_variant) var;
	VEC(struct size_row) size;
	VEC(struct pkg_row) pkg;
	VEC(struct tool_row) tool;
} T;

/* Index of the row to fill: an existing one with the same key, or a new one. */
#define SLOT(vec, same) \
	do { \
		for (slot = 0; slot < (vec).n; slot++) \
			if (same) \
				break; \
		if (slot == (vec).n) { \
			if ((vec).n == (vec).cap) { \
				(vec).cap = (vec).cap ? (vec).cap * 2 : 64; \
				(vec).v = df_xrealloc((vec).v, (vec).cap * sizeof(*(vec).v)); \
			} \
			(vec).n++; \
		} \
	} while (0)

static const char *opt(const char *f)
{
	return strcmp(f, "-") == 0 ? NULL : f;
}

static const char *opt_empty(const char *f)
{
	return strcmp(f, "-") == 0 ? "" : f;
}

/* Parse one row (a malloc'ed copy that the table keeps). Returns NULL or
 * what is wrong with it. */
static const char *add_row(char *line, int packages)
{
	char *f[12];
	size_t nf = 0, slot;
	char *p = line;

	for (;;) {
		char *tab = strchr(p, '\t');

		if (nf == sizeof(f) / sizeof(f[0]))
			return "too many fields";
		f[nf++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	for (slot = 0; slot < nf; slot++)
		if (!*f[slot])
			return "empty field (write '-')";
	if (!packages && strcmp(f[0], "image") == 0) {
		struct df_image *im;

		if (nf != 7)
			return "an image row has 7 fields";
		SLOT(T.img, strcmp(T.img.v[slot].repo, f[1]) == 0);
		im = &T.img.v[slot];
		im->repo = f[1];
		im->family = f[2];
		im->pin = opt(f[3]);
		im->lean = f[4];
		im->user = opt(f[5]);
		im->flags = opt_empty(f[6]);
		return NULL;
	}
	if (!packages && strcmp(f[0], "variant") == 0) {
		struct df_variant *v;

		if (nf != 9)
			return "a variant row has 9 fields";
		if (strcmp(f[6], "yes") != 0 && strcmp(f[6], "no") != 0)
			return "SHELL is yes or no";
		SLOT(T.var, strcmp(T.var.v[slot].repo, f[1]) == 0 &&
			       strcmp(T.var.v[slot].pattern, f[2]) == 0);
		v = &T.var.v[slot];
		v->repo = f[1];
		v->pattern = f[2];
		v->kind = f[3];
		v->libc = f[4];
		v->pkg = opt(f[5]);
		v->shell = strcmp(f[6], "yes") == 0;
		v->runs_as = f[7];
		v->targets = opt_empty(f[8]);
		return NULL;
	}
	if (!packages && strcmp(f[0], "size") == 0) {
		struct size_row *s;
		char *end;
		unsigned long mb;

		if (nf != 5)
			return "a size row has 5 fields";
		mb = strtoul(f[3], &end, 10);
		if (*end || mb > 100000)
			return "MB is a number";
		SLOT(T.size, strcmp(T.size.v[slot].repo, f[1]) == 0 &&
				strcmp(T.size.v[slot].pattern, f[2]) == 0);
		s = &T.size.v[slot];
		s->repo = f[1];
		s->pattern = f[2];
		s->mb = (unsigned)mb;
		s->source = f[4];
		return NULL;
	}
	if (packages && strcmp(f[0], "tool") == 0) {
		if (nf != 4)
			return "a tool row has 4 fields";
		SLOT(T.tool, strcmp(T.tool.v[slot].name, f[1]) == 0);
		T.tool.v[slot].name = f[1];
		T.tool.v[slot].apt = opt(f[2]);
		T.tool.v[slot].apk = opt(f[3]);
		return NULL;
	}
	if (packages && (strcmp(f[0], "apt") == 0 || strcmp(f[0], "rpm") == 0 ||
			 strcmp(f[0], "apt-runtime") == 0 || strcmp(f[0], "apk-runtime") == 0)) {
		if (nf != 3)
			return "a package row has 3 fields";
		SLOT(T.pkg, strcmp(T.pkg.v[slot].kind, f[0]) == 0 &&
			       strcmp(T.pkg.v[slot].from, f[1]) == 0);
		T.pkg.v[slot].kind = f[0];
		T.pkg.v[slot].from = f[1];
		T.pkg.v[slot].to = opt_empty(f[2]);
		return NULL;
	}
	return packages ? "unknown row kind (apt, rpm, apt-runtime, apk-runtime, tool)"
			: "unknown row kind (image, variant, size)";
}

static void load_builtin(const char *const *lines, int packages)
{
	for (; *lines; lines++) {
		const char *err = add_row(df_xstrndup(*lines, strlen(*lines)), packages);

		if (err)
			df_die("built-in table: %s: %s", err, *lines);
	}
}

static void load_user(const char *var, int packages)
{
	const char *path = getenv(var), *err = NULL;
	size_t len, i = 0, lineno = 0;
	char *text;

	if (!path || !*path)
		return;
	text = df_read_file(path, &len, &err);
	if (!text)
		df_die("%s=%s: %s", var, path, err);
	while (i < len) {
		size_t s = i, e;

		while (i < len && text[i] != '\n')
			i++;
		e = i++;
		lineno++;
		if (e > s && text[e - 1] == '\r')
			e--;
		while (s < e && (text[s] == ' ' || text[s] == '\t'))
			s++;
		if (s == e || text[s] == '#')
			continue;
		if (memchr(text + s, '\0', e - s))
			err = "NUL byte";
		else
			err = add_row(df_xstrndup(text + s, e - s), packages);
		if (err)
			df_die("%s:%zu: %s", path, lineno, err);
	}
	free(text);
}

static void load(void)
{
	if (T.loaded)
		return;
	T.loaded = 1;
	load_builtin(df_images_tsv, 0);
	load_builtin(df_packages_tsv, 1);
	load_user("DFIX_IMAGES", 0);
	load_user("DFIX_PACKAGES", 1);
}

/* ---------------------------------------------------------------- references */

static int span_is(struct df_span s, const char *lit)
{
	return df_span_eq(s, lit);
}

int df_imageref_parse(const char *p, size_t n, struct df_imageref *r)
{
	size_t i, name_end, slash = (size_t)-1, first_slash = (size_t)-1;
	const char *at;

	memset(r, 0, sizeof(*r));
	if (!n)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c <= ' ' || c == '$' || c == '"' || c == '\'' || c == '\\' || c == 0x7f)
			return -1;
	}
	r->text.ptr = p;
	r->text.len = n;
	at = memchr(p, '@', n);
	name_end = at ? (size_t)(at - p) : n;
	if (at) {
		r->has_digest = 1;
		r->digest.ptr = at + 1;
		r->digest.len = n - name_end - 1;
		if (!r->digest.len)
			return -1;
	}
	for (i = 0; i < name_end; i++)
		if (p[i] == '/') {
			if (first_slash == (size_t)-1)
				first_slash = i;
			slash = i;
		}
	/* the tag: a ':' after the last '/' */
	for (i = slash == (size_t)-1 ? 0 : slash + 1; i < name_end; i++)
		if (p[i] == ':') {
			r->has_tag = 1;
			r->tag.ptr = p + i + 1;
			r->tag.len = name_end - i - 1;
			if (!r->tag.len)
				return -1;
			name_end = i;
			break;
		}
	if (!name_end)
		return -1;
	if (first_slash != (size_t)-1) {
		struct df_span c0 = { p, first_slash };

		if (memchr(p, '.', first_slash) || memchr(p, ':', first_slash) ||
		    span_is(c0, "localhost")) {
			r->registry = c0;
			if (!c0.len)
				return -1;
		}
	}
	r->path.ptr = r->registry.len ? p + r->registry.len + 1 : p;
	r->path.len = name_end - (size_t)(r->path.ptr - p);
	if (!r->path.len || r->path.ptr[r->path.len - 1] == '/' || r->path.ptr[0] == '/')
		return -1;
	r->name.ptr = slash == (size_t)-1 || slash >= name_end ? r->path.ptr : p + slash + 1;
	r->name.len = name_end - (size_t)(r->name.ptr - p);
	r->scratch = !r->registry.len && span_is(r->path, "scratch");
	return 0;
}

static int starts(struct df_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len >= n && memcmp(s.ptr, lit, n) == 0;
}

size_t df_imageref_key(const struct df_imageref *r, char *buf, size_t cap, int *mirror)
{
	struct df_span reg = r->registry, path = r->path;
	int m = 0;
	size_t n;

	if (span_is(reg, "docker.io") || span_is(reg, "index.docker.io") ||
	    span_is(reg, "registry-1.docker.io")) {
		reg.len = 0;
		m = 1;
	} else if (span_is(reg, "public.ecr.aws") && starts(path, "docker/library/")) {
		reg.len = 0;
		path.ptr += 7;
		path.len -= 7;
		m = 1;
	} else if (span_is(reg, "mirror.gcr.io")) {
		reg.len = 0;
		m = 1;
	}
	if (!reg.len && starts(path, "library/") && path.len > 8) {
		path.ptr += 8;
		path.len -= 8;
	}
	if (mirror)
		*mirror = m;
	n = (reg.len ? reg.len + 1 : 0) + path.len;
	if (n + 1 > cap)
		return 0;
	if (reg.len) {
		memcpy(buf, reg.ptr, reg.len);
		buf[reg.len] = '/';
	}
	memcpy(buf + (reg.len ? reg.len + 1 : 0), path.ptr, path.len);
	buf[n] = '\0';
	return n;
}

/* ---------------------------------------------------------------- images */

const struct df_image *df_image_get(const char *repo)
{
	size_t i;

	load();
	for (i = 0; i < T.img.n; i++)
		if (strcmp(T.img.v[i].repo, repo) == 0)
			return &T.img.v[i];
	return NULL;
}

const struct df_image *df_image_lookup(const struct df_imageref *r)
{
	char key[512];

	if (r->scratch || !df_imageref_key(r, key, sizeof(key), NULL))
		return NULL;
	return df_image_get(key);
}

int df_image_flag(const struct df_image *img, const char *flag)
{
	const char *p = img->flags;
	size_t fl = strlen(flag);

	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == fl && memcmp(p, flag, fl) == 0)
			return 1;
		p += k;
		if (*p)
			p++;
	}
	return 0;
}

static int lit_match(const char *s, size_t n, const char *lit, size_t ll, int star)
{
	return star ? n >= ll && memcmp(s, lit, ll) == 0 : n == ll && memcmp(s, lit, ll) == 0;
}

/* Does the tag match the pattern? *score: how specific the pattern is. */
static int pattern_match(const char *pat, struct df_span tag, struct df_span *ver, size_t *score)
{
	int has_v = strncmp(pat, "{v}", 3) == 0;
	const char *lit = has_v ? pat + 3 : pat;
	size_t ll = strlen(lit), d;
	int star = ll && lit[ll - 1] == '*';

	if (star)
		ll--;
	*score = ll * 2 + !star;
	ver->ptr = tag.ptr;
	ver->len = 0;
	if (!has_v)
		return lit_match(tag.ptr, tag.len, lit, ll, star);
	d = 0;
	while (d < tag.len && tag.ptr[d] != '-')
		d++;
	if (d > 0 && lit_match(tag.ptr + d, tag.len - d, lit, ll, star)) {
		ver->len = d;
		return 1;
	}
	/* "alpine" is {v}-alpine with an empty version */
	return ll > 1 && lit[0] == '-' && lit_match(tag.ptr, tag.len, lit + 1, ll - 1, star);
}

static const struct df_variant *variant_in(const char *repo, struct df_span tag,
					   struct df_span *version)
{
	const struct df_variant *best = NULL;
	size_t i, best_score = 0;
	struct df_span v, bv = { tag.ptr, 0 };

	if (!tag.len) {
		tag.ptr = "latest";
		tag.len = 6;
	}
	for (i = 0; i < T.var.n; i++) {
		size_t score;

		if (strcmp(T.var.v[i].repo, repo) != 0 ||
		    !pattern_match(T.var.v[i].pattern, tag, &v, &score))
			continue;
		if (!best || score > best_score) {
			best = &T.var.v[i];
			best_score = score;
			bv = v;
		}
	}
	if (version)
		*version = bv;
	return best;
}

const struct df_variant *df_variant_lookup(const struct df_image *img, struct df_span tag,
					   struct df_span *version)
{
	load();
	return variant_in(img->repo, tag, version);
}

int df_variant_target(const struct df_variant *v, const char *key, struct df_span version,
		      char *buf, size_t cap)
{
	const char *p = v->targets;
	size_t kl = strlen(key), out = 0, m = 0;

	while (m < version.len && version.ptr[m] >= '0' && version.ptr[m] <= '9')
		m++;
	if (!m)
		m = version.len;
	while (*p) {
		size_t k = strcspn(p, ","), i;

		if (k > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
			for (i = kl + 1; i < k; i++) {
				const char *add = NULL;
				size_t al = 1;

				if (p[i] == '{' && i + 2 < k && p[i + 2] == '}' &&
				    (p[i + 1] == 'v' || p[i + 1] == 'm')) {
					add = version.ptr;
					al = p[i + 1] == 'v' ? version.len : m;
					i += 2;
					if (!al && i + 1 < k && p[i + 1] == '-')
						i++;
				} else {
					add = p + i;
				}
				if (out + al + 1 > cap)
					return -1;
				memcpy(buf + out, add, al);
				out += al;
			}
			buf[out] = '\0';
			return out ? 0 : -1;
		}
		p += k;
		if (*p)
			p++;
	}
	return -1;
}

int df_image_size(const char *repo, struct df_span tag, unsigned *mb, const char **source)
{
	size_t i;
	const struct size_row *best = NULL;
	size_t best_score = 0;

	load();
	if (!tag.len) {
		tag.ptr = "latest";
		tag.len = 6;
	}
	for (i = 0; i < T.size.n; i++) {
		const struct size_row *s = &T.size.v[i];
		struct df_span v;
		size_t score;

		if (strcmp(s->repo, repo) != 0)
			continue;
		if (strlen(s->pattern) == tag.len && memcmp(s->pattern, tag.ptr, tag.len) == 0)
			score = (size_t)-1; /* an exact tag */
		else if (!pattern_match(s->pattern, tag, &v, &score))
			continue;
		if (!best || score > best_score) {
			best = s;
			best_score = score;
		}
	}
	if (!best)
		return -1;
	*mb = best->mb;
	*source = best->source;
	return 0;
}

int df_tag_windows(struct df_span tag)
{
	return df_mem_ihas(tag.ptr, tag.len, "windowsservercore") ||
	       df_mem_ihas(tag.ptr, tag.len, "nanoserver") || df_mem_ihas(tag.ptr, tag.len, "ltsc20");
}

/* ---------------------------------------------------------------- packages */

const char *df_pkg_map(const char *kind, const char *name, size_t n)
{
	size_t i;

	load();
	for (i = 0; i < T.pkg.n; i++)
		if (strcmp(T.pkg.v[i].kind, kind) == 0 && strlen(T.pkg.v[i].from) == n &&
		    memcmp(T.pkg.v[i].from, name, n) == 0)
			return T.pkg.v[i].to;
	return NULL;
}

int df_tool_lookup(const char *name, size_t n, const char **apt, const char **apk)
{
	size_t i;

	load();
	for (i = 0; i < T.tool.n; i++)
		if (strlen(T.tool.v[i].name) == n && memcmp(T.tool.v[i].name, name, n) == 0) {
			*apt = T.tool.v[i].apt;
			*apk = T.tool.v[i].apk;
			return 0;
		}
	return -1;
}

/* ---------------------------------------------------------------- FROM */

struct argdef {
	struct df_span name;
	const char *value; /* NULL: declared without a default (or not known) */
	size_t len;
};

struct args {
	struct argdef *v;
	size_t n;
};

static const struct argdef *arg_find(const struct args *a, const char *p, size_t n)
{
	size_t i = a->n;

	while (i-- > 0)
		if (a->v[i].name.len == n && memcmp(a->v[i].name.ptr, p, n) == 0)
			return &a->v[i];
	return NULL;
}

static int is_name_char(unsigned char c, int first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

/*
 * BuildKit's word processing with the given args: quotes removed, escapes
 * applied, $NAME ${NAME} ${NAME:-w} ${NAME-w} ${NAME:+w} ${NAME+w}
 * substituted. -1 when the result is not known statically: an ARG without a
 * default, syntax this does not follow, or nesting deeper than 16.
 */
static int expand(const char *p, size_t n, char esc, const struct args *a, struct df_buf *out,
		  int depth)
{
	size_t i = 0;
	int dq = 0;

	while (i < n) {
		char c = p[i];

		if (c == esc && i + 1 < n) {
			if (dq && p[i + 1] != '"' && p[i + 1] != '$' && p[i + 1] != esc)
				df_buf_addc(out, c);
			df_buf_addc(out, p[i + 1]);
			i += 2;
		} else if (c == '\'' && !dq) {
			const char *q = memchr(p + i + 1, '\'', n - i - 1);

			if (!q)
				return -1;
			df_buf_add(out, p + i + 1, (size_t)(q - p) - i - 1);
			i = (size_t)(q - p) + 1;
		} else if (c == '"') {
			dq = !dq;
			i++;
		} else if (c == '$' && i + 1 < n) {
			size_t s, e;
			const struct argdef *d;
			char op = 0;
			int colon = 0;
			struct df_span word = { NULL, 0 };

			if (p[i + 1] == '{') {
				s = i + 2;
				e = s;
				while (e < n && is_name_char((unsigned char)p[e], e == s))
					e++;
				if (e == s || e >= n)
					return -1;
				d = arg_find(a, p + s, e - s);
				if (p[e] != '}') {
					size_t w, open = 1;

					if (p[e] == ':') {
						colon = 1;
						e++;
					}
					if (e >= n || (p[e] != '-' && p[e] != '+'))
						return -1;
					op = p[e];
					w = e + 1;
					word.ptr = p + w;
					while (w < n) {
						if (p[w] == '{')
							open++;
						else if (p[w] == '}' && --open == 0)
							break;
						w++;
					}
					if (w >= n)
						return -1;
					word.len = (size_t)(p + w - word.ptr);
					i = w + 1;
				} else {
					i = e + 1;
				}
			} else if (is_name_char((unsigned char)p[i + 1], 1)) {
				s = i + 1;
				e = s;
				while (e < n && is_name_char((unsigned char)p[e], e == s))
					e++;
				d = arg_find(a, p + s, e - s);
				i = e;
			} else {
				df_buf_addc(out, c);
				i++;
				continue;
			}
			{
				int set = d && d->value, nonempty = set && d->len;
				int use_word = op == '-' ? !(colon ? nonempty : set)
					     : op == '+' ? (colon ? nonempty : set) : 0;

				if (use_word) {
					if (depth >= 16 ||
					    expand(word.ptr, word.len, esc, a, out, depth + 1) < 0)
						return -1;
				} else if (op == '+') {
					/* nothing */
				} else if (!set) {
					return -1;
				} else {
					df_buf_add(out, d->value, d->len);
				}
			}
		} else {
			df_buf_addc(out, c);
			i++;
		}
	}
	return dq ? -1 : 0;
}

/* The ARGs before the first FROM, with their defaults (arena). */
static void global_args(struct df_doc *doc, struct args *a)
{
	size_t i, k, cap = 0;

	a->v = NULL;
	a->n = 0;
	for (i = 0; i < doc->nnodes; i++) {
		const struct df_inst *inst = doc->nodes[i].inst;

		if (doc->nodes[i].kind != DF_INSTRUCTION || !inst)
			continue;
		if (inst->cmd == DF_CMD_FROM)
			break;
		if (inst->cmd != DF_CMD_ARG)
			continue;
		for (k = 0; k < inst->nargs; k++) {
			struct df_span w = inst->args[k];
			const char *eq = memchr(w.ptr, '=', w.len);
			struct argdef *d;

			if (a->n == cap) {
				struct argdef *nv;

				cap = cap ? cap * 2 : 8;
				nv = df_arena_alloc(&doc->arena, cap * sizeof(*nv));
				if (a->n)
					memcpy(nv, a->v, a->n * sizeof(*nv));
				a->v = nv;
			}
			d = &a->v[a->n];
			d->name.ptr = w.ptr;
			d->name.len = eq ? (size_t)(eq - w.ptr) : w.len;
			d->value = NULL;
			d->len = 0;
			if (eq) {
				struct df_buf b = DF_BUF_INIT;
				struct args prev = { a->v, a->n };

				if (expand(eq + 1, w.len - d->name.len - 1, doc->escape, &prev, &b, 0) == 0) {
					d->value = df_arena_dup(&doc->arena, b.ptr ? b.ptr : "", b.len);
					d->len = b.len;
				}
				df_buf_release(&b);
			}
			a->n++;
		}
	}
}

/* The first of the stages before s named p[0, n) (a name only: FROM never
 * takes a stage's index). */
static int find_stage(const struct df_stage *st, size_t s, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < s; i++)
		if (st[i].name.len == n && n && df_mem_ieq(st[i].name.ptr, p, n))
			return (int)i;
	return -1;
}

/* What an image reference (resolved, NUL-terminated) says. */
struct from_image {
	int parsed;             /* df_imageref_parse took it */
	const char *resolved;
	struct df_imageref ref; /* spans in resolved */
	int windows;            /* a Windows image, by its name or tag */
};

static void read_image(const char *text, size_t len, struct from_image *im)
{
	const struct df_image *img;

	memset(im, 0, sizeof(*im));
	if (df_imageref_parse(text, len, &im->ref) < 0)
		return;
	im->parsed = 1;
	im->resolved = text;
	img = df_image_lookup(&im->ref);
	im->windows = df_tag_windows(im->ref.tag) || (img && strcmp(img->family, "windows") == 0) ||
		      starts(im->ref.path, "windows/") ||
		      df_mem_ihas(im->ref.path.ptr, im->ref.path.len, "windowsservercore") ||
		      df_mem_ihas(im->ref.path.ptr, im->ref.path.len, "nanoserver");
}

/* Fill out from what was read (nothing when the word is not a reference). */
static void from_image(struct df_from *out, const struct from_image *im)
{
	if (!im->parsed)
		return;
	out->resolved = im->resolved;
	out->ref = im->ref;
	out->windows = out->windows || im->windows;
}

int df_from_read(struct df_doc *doc, const struct df_stage *st, size_t ns, size_t s,
		 struct df_from *out)
{
	const struct df_inst *inst = doc->nodes[st[s].from].inst;
	struct df_buf b = DF_BUF_INIT;
	const char *text;
	size_t len;

	(void)ns;
	memset(out, 0, sizeof(*out));
	out->idx = st[s].from;
	out->stage = -1;
	out->windows = doc->escape == '`';
	if (!inst || !inst->nargs || !inst->args[0].len)
		return -1;
	out->word = inst->args[0];
	out->has_var = memchr(out->word.ptr, '$', out->word.len) != NULL;
	text = out->word.ptr;
	len = out->word.len;
	if (out->has_var) {
		struct args a;

		global_args(doc, &a);
		if (expand(out->word.ptr, out->word.len, doc->escape, &a, &b, 0) < 0 || !b.len) {
			df_buf_release(&b);
			return 0;
		}
		text = df_arena_dup(&doc->arena, b.ptr, b.len);
		len = b.len;
		df_buf_release(&b);
	}
	/* df_stages found the stage an image names already (by hash) */
	out->stage = text == out->word.ptr && !df_span_digits(out->word) ? (int)st[s].base
								       : find_stage(st, s, text, len);
	if (out->stage >= 0)
		return 0;
	if (out->has_var) {
		struct from_image im;

		read_image(text, len, &im);
		from_image(out, &im);
		return 0;
	}
	/* the same word every time the model is asked: read once */
	if (!inst->image) {
		struct from_image *im = df_arena_alloc(&doc->arena, sizeof(*im));

		read_image(df_arena_dup(&doc->arena, text, len), len, im);
		((struct df_inst *)inst)->image = im; /* a memo: the model means the same */
	}
	from_image(out, inst->image);
	return 0;
}

/* ---------------------------------------------------------------- edits */

void df_edits_add(struct df_edits *e, size_t start, size_t end, const char *text, size_t len)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->v = df_xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n].start = start;
	e->v[e->n].end = end;
	e->v[e->n].text = df_xstrndup(text, len);
	e->v[e->n].len = len;
	e->n++;
}

void df_edits_release(struct df_edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

int df_edits_apply(struct df_doc *doc, size_t idx, struct df_edits *e)
{
	struct df_buf b = DF_BUF_INIT;
	struct df_span t = doc->nodes[idx].text;
	size_t i, j, at = 0;
	int rc = -1;

	/* insertion sort by start, stable: few edits per node */
	for (i = 1; i < e->n; i++)
		for (j = i; j > 0 && e->v[j - 1].start > e->v[j].start; j--) {
			struct df_edit x = e->v[j];

			e->v[j] = e->v[j - 1];
			e->v[j - 1] = x;
		}
	for (i = 0; i < e->n; i++) {
		if (e->v[i].start < at || e->v[i].end < e->v[i].start || e->v[i].end > t.len)
			goto out;
		df_buf_add(&b, t.ptr + at, e->v[i].start - at);
		df_buf_add(&b, e->v[i].text, e->v[i].len);
		at = e->v[i].end;
	}
	df_buf_add(&b, t.ptr + at, t.len - at);
	rc = df_doc_replace(doc, idx, b.ptr ? b.ptr : "", b.len);
out:
	df_buf_release(&b);
	df_edits_release(e);
	return rc;
}

int df_inst_range(const struct df_inst *inst, size_t off, size_t len, size_t *start,
		  size_t *end)
{
	size_t s = df_inst_node_off(inst, off), e;

	if (!len) {
		*start = *end = s;
		return 0;
	}
	e = df_inst_node_off(inst, off + len - 1) + 1;
	if (e < s || e - s != len)
		return -1;
	*start = s;
	*end = e;
	return 0;
}

size_t df_inst_log_off(const struct df_inst *inst, struct df_span s)
{
	if (s.ptr < inst->logical.ptr || s.ptr + s.len > inst->logical.ptr + inst->logical.len)
		return (size_t)-1;
	return (size_t)(s.ptr - inst->logical.ptr);
}

int df_doc_devcontainer(const struct df_doc *doc)
{
	struct df_memo *m = df_doc_memo(doc);
	size_t i;

	if (m->dev_at == doc->edits + 1)
		return m->dev;
	m->dev = 0;
	for (i = 0; i < doc->nnodes && !m->dev; i++) {
		struct df_span t = doc->nodes[i].text;

		m->dev = df_mem_ihas(t.ptr, t.len, "devcontainer") || df_mem_ihas(t.ptr, t.len, "vscode");
	}
	m->dev_at = doc->edits + 1;
	return m->dev;
}

void df_img_note(struct df_ctx *ctx, const char *code, uint32_t line, const char *fmt, ...)
{
	const char *pass = ctx->current ? ctx->current->id : "dfix";
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!df_ctx_has_finding(ctx, pass, msg))
		df_ctx_finding(ctx, code, line, "%s", msg);
}
