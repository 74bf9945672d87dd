/* config.c - .dfix.yaml, read with libyaml's document API (see config.h). */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "internal.h"

static const struct {
	const char *name;
	unsigned key; /* 0: overrides */
} keys[] = {
	{ "level", DF_CFG_LEVEL },
	{ "select", DF_CFG_SELECT },
	{ "ignore", DF_CFG_IGNORE },
	{ "base", DF_CFG_BASE },
	{ "pin", DF_CFG_PIN },
	{ "cache-mounts", DF_CFG_CACHE_MOUNTS },
	{ "indent", DF_CFG_INDENT },
	{ "overrides", 0 },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const bases[] = { "alpine", "slim", "distroless", "keep" };

struct loader {
	const char *path;
	yaml_document_t *doc;
	size_t npasses;
	char *err;
};

static size_t count_passes(void)
{
	size_t n = 0;

	while (df_passes[n])
		n++;
	return n;
}

/* ---- messages ---- */

static int fail_at(struct loader *ld, unsigned long line, unsigned long col, const char *fmt,
		   ...) DF_PRINTF(4, 5);
static int fail_at(struct loader *ld, unsigned long line, unsigned long col, const char *fmt, ...)
{
	struct df_buf b = DF_BUF_INIT;
	char msg[512];
	va_list ap;

	if (ld->err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	df_buf_addf(&b, "%s:%lu:%lu: %s", ld->path, line, col, msg);
	ld->err = df_buf_detach(&b, NULL);
	return -1;
}

/* libyaml marks are 0-based. */
#define fail(ld, node, ...) \
	fail_at(ld, (unsigned long)(node)->start_mark.line + 1, \
		(unsigned long)(node)->start_mark.column + 1, __VA_ARGS__)

static const char *type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

/* A scalar with no NUL inside (libyaml allows "\0" escapes). */
static int is_string(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE && strlen(scalar(n)) == n->data.scalar.length;
}

/* An empty value, ~ or null. */
static int is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	return n->type == YAML_SCALAR_NODE && plain(n) &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		!strcmp(v, "NULL"));
}

static yaml_node_t *node(struct loader *ld, int idx)
{
	return yaml_document_get_node(ld->doc, idx);
}

/* ---- values ---- */

static int get_level(struct loader *ld, const yaml_node_t *v, struct df_config_set *s)
{
	if (is_string(v)) {
		if (strcmp(scalar(v), "format") == 0)
			s->level = DF_LEVEL_FORMAT;
		else if (strcmp(scalar(v), "safe") == 0)
			s->level = DF_LEVEL_SAFE;
		else if (strcmp(scalar(v), "all") == 0)
			s->level = DF_LEVEL_REVIEW;
		else
			return fail(ld, v, "level: expected format, safe or all, got '%s'", scalar(v));
		return 0;
	}
	return fail(ld, v, "level: expected format, safe or all, got %s", type_name(v));
}

/* One pass id (or all/none) into set[]. */
static int mark_pass(struct loader *ld, const yaml_node_t *at, const char *what, const char *id,
		     size_t n, unsigned char *set)
{
	const struct df_pass *p;
	char buf[128];
	size_t i;

	if (n == 0)
		return fail(ld, at, "%s: empty pass id", what);
	if (n >= sizeof(buf))
		return fail(ld, at, "%s: unknown pass '%.*s' (see dfix --list-passes)", what,
			    (int)n, id);
	memcpy(buf, id, n);
	buf[n] = '\0';
	if (strcmp(buf, "none") == 0)
		return 0;
	if (strcmp(buf, "all") == 0) {
		memset(set, 1, ld->npasses);
		return 0;
	}
	p = df_pass_find(buf);
	if (!p)
		return fail(ld, at, "%s: unknown pass '%s' (see dfix --list-passes)", what, buf);
	for (i = 0; i < ld->npasses; i++)
		if (df_passes[i] == p)
			set[i] = 1;
	return 0;
}

/* A list of pass ids, or one comma-separated string. */
static int get_passes(struct loader *ld, const yaml_node_t *v, const char *what,
		      unsigned char **out)
{
	unsigned char *set = df_xcalloc(ld->npasses + 1, 1);
	yaml_node_item_t *it;

	*out = set;
	if (is_string(v)) {
		const char *p = scalar(v), *end;

		for (;; p = end + 1) {
			size_t n;

			end = strchr(p, ',');
			if (!end)
				end = p + strlen(p);
			n = (size_t)(end - p);
			while (n && (*p == ' ' || *p == '\t'))
				p++, n--;
			while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			if (mark_pass(ld, v, what, p, n, set) < 0)
				return -1;
			if (!*end)
				return 0;
		}
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(ld, v, "%s: expected a list of pass ids, got %s", what, type_name(v));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *e = node(ld, *it);

		if (!is_string(e))
			return fail(ld, e, "%s: expected a pass id, got %s", what, type_name(e));
		if (mark_pass(ld, e, what, scalar(e), e->data.scalar.length, set) < 0)
			return -1;
	}
	return 0;
}

static int get_base(struct loader *ld, const yaml_node_t *v, struct df_config_set *s)
{
	size_t i;

	if (!is_string(v))
		return fail(ld, v, "base: expected alpine, slim, distroless or keep, got %s",
			    type_name(v));
	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (strcmp(scalar(v), bases[i]) == 0) {
			s->base = bases[i];
			return 0;
		}
	return fail(ld, v, "base: expected alpine, slim, distroless or keep, got '%s'", scalar(v));
}

static int get_pins(struct loader *ld, const yaml_node_t *v, struct df_config_set *s)
{
	yaml_node_pair_t *pr;
	size_t n = 0;

	if (v->type != YAML_MAPPING_NODE)
		return fail(ld, v, "pin: expected a mapping of image: tag, got %s", type_name(v));
	s->pins = df_xcalloc((size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start) + 1,
			     sizeof(*s->pins));
	for (pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(ld, pr->key), *t = node(ld, pr->value);
		size_t i;

		if (!is_string(k) || !k->data.scalar.length)
			return fail(ld, k, "pin: expected an image name, got %s",
				    k->type == YAML_SCALAR_NODE ? "an empty string" : type_name(k));
		for (i = 0; i < n; i++)
			if (strcmp(s->pins[i].image, scalar(k)) == 0)
				return fail(ld, k, "pin: '%s' is pinned twice", scalar(k));
		if (!is_string(t) || !t->data.scalar.length || (plain(t) && (strcmp(scalar(t), "~") == 0 ||
								       strcmp(scalar(t), "null") == 0)))
			return fail(ld, t, "pin: the tag of '%s' must be a non-empty string, got %s",
				    scalar(k), t->type == YAML_SCALAR_NODE ? "nothing" : type_name(t));
		s->pins[n].image = df_xstrndup(scalar(k), k->data.scalar.length);
		s->pins[n].tag = df_xstrndup(scalar(t), t->data.scalar.length);
		s->npins = ++n;
	}
	return 0;
}

static int get_bool(struct loader *ld, const yaml_node_t *v, const char *what, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
	size_t i;

	if (is_string(v) && plain(v))
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(scalar(v), yes[i]) == 0) {
				*out = 1;
				return 0;
			}
			if (strcmp(scalar(v), no[i]) == 0) {
				*out = 0;
				return 0;
			}
		}
	if (v->type == YAML_SCALAR_NODE)
		return fail(ld, v, "%s: expected true or false, got %s'%s'", what,
			    plain(v) ? "" : "the quoted string ", scalar(v));
	return fail(ld, v, "%s: expected true or false, got %s", what, type_name(v));
}

static int get_indent(struct loader *ld, const yaml_node_t *v, struct df_config_set *s)
{
	const char *p;

	if (v->type != YAML_SCALAR_NODE)
		return fail(ld, v, "indent: expected a whole number from 1 to 8, got %s",
			    type_name(v));
	p = scalar(v);
	if (!plain(v) || v->data.scalar.length != 1 || p[0] < '1' || p[0] > '8')
		return fail(ld, v, "indent: expected a whole number from 1 to 8, got %s'%s'",
			    plain(v) ? "" : "the quoted string ", p);
	s->indent = p[0] - '0';
	return 0;
}

static int get_paths(struct loader *ld, const yaml_node_t *v, struct df_config_override *o)
{
	yaml_node_item_t *it;
	size_t n;

	if (is_string(v)) {
		if (!v->data.scalar.length)
			return fail(ld, v, "paths: empty glob");
		o->paths = df_xcalloc(1, sizeof(*o->paths));
		o->paths[0] = df_xstrndup(scalar(v), v->data.scalar.length);
		o->npaths = 1;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(ld, v, "paths: expected a list of globs, got %s", type_name(v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (!n)
		return fail(ld, v, "paths: expected at least one glob");
	o->paths = df_xcalloc(n, sizeof(*o->paths));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *e = node(ld, *it);

		if (!is_string(e) || !e->data.scalar.length)
			return fail(ld, e, "paths: expected a glob, got %s",
				    e->type == YAML_SCALAR_NODE ? "an empty string" : type_name(e));
		o->paths[o->npaths++] = df_xstrndup(scalar(e), e->data.scalar.length);
	}
	return 0;
}

static int get_overrides(struct loader *ld, const yaml_node_t *v, struct df_config *cfg);

/* The keys of one mapping: the top level (cfg != NULL) or an override. */
static int get_block(struct loader *ld, const yaml_node_t *m, struct df_config_set *s,
		     struct df_config *cfg, struct df_config_override *o)
{
	yaml_node_pair_t *pr;
	int seen_paths = 0, seen_over = 0;

	if (m->type != YAML_MAPPING_NODE)
		return fail(ld, m, "%s: expected a mapping of settings, got %s",
			    cfg ? "configuration" : "overrides", type_name(m));
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(ld, pr->key), *v = node(ld, pr->value);
		size_t i;
		int rc = 0;

		if (!is_string(k))
			return fail(ld, k, "expected a key name, got %s", type_name(k));
		if (o && strcmp(scalar(k), "paths") == 0) {
			if (seen_paths++)
				return fail(ld, k, "duplicate key 'paths'");
			if (get_paths(ld, v, o) < 0)
				return -1;
			continue;
		}
		for (i = 0; i < NKEYS; i++)
			if (strcmp(scalar(k), keys[i].name) == 0)
				break;
		if (i == NKEYS)
			return fail(ld, k, "unknown key '%s' (expected %s%s)", scalar(k),
				    o ? "paths, " : "",
				    "level, select, ignore, base, pin, cache-mounts, indent"
				    " or overrides");
		if (!keys[i].key) {
			if (!cfg)
				return fail(ld, k, "overrides cannot be nested");
			if (seen_over++)
				return fail(ld, k, "duplicate key 'overrides'");
			if (get_overrides(ld, v, cfg) < 0)
				return -1;
			continue;
		}
		if (s->keys & keys[i].key)
			return fail(ld, k, "duplicate key '%s'", scalar(k));
		s->keys |= keys[i].key;
		switch (keys[i].key) {
		case DF_CFG_LEVEL: rc = get_level(ld, v, s); break;
		case DF_CFG_SELECT: rc = get_passes(ld, v, "select", &s->select); break;
		case DF_CFG_IGNORE: rc = get_passes(ld, v, "ignore", &s->ignore); break;
		case DF_CFG_BASE: rc = get_base(ld, v, s); break;
		case DF_CFG_PIN: rc = get_pins(ld, v, s); break;
		case DF_CFG_CACHE_MOUNTS: rc = get_bool(ld, v, "cache-mounts", &s->cache_mounts); break;
		case DF_CFG_INDENT: rc = get_indent(ld, v, s); break;
		default: break;
		}
		if (rc < 0)
			return -1;
	}
	if (o && !seen_paths)
		return fail(ld, m, "overrides: each entry needs 'paths'");
	return 0;
}

static int get_overrides(struct loader *ld, const yaml_node_t *v, struct df_config *cfg)
{
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(ld, v, "overrides: expected a list of {paths: [...], settings}, got %s",
			    type_name(v));
	cfg->overrides = df_xcalloc((size_t)(v->data.sequence.items.top -
					     v->data.sequence.items.start) + 1,
				    sizeof(*cfg->overrides));
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		struct df_config_override *o = &cfg->overrides[cfg->noverrides++];

		if (get_block(ld, node(ld, *it), &o->set, NULL, o) < 0)
			return -1;
	}
	return 0;
}

/* ---- loading ---- */

/* Line and column (1-based) of a byte offset, for reader errors. */
static void offset_pos(const char *src, size_t len, size_t off, unsigned long *line,
		       unsigned long *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (src[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

static int yaml_fail(struct loader *ld, yaml_parser_t *p, const char *src, size_t len)
{
	unsigned long line = (unsigned long)p->problem_mark.line + 1;
	unsigned long col = (unsigned long)p->problem_mark.column + 1;
	const char *problem = p->problem ? p->problem : "cannot parse";

	if (p->error == YAML_READER_ERROR)
		offset_pos(src, len, p->problem_offset, &line, &col);
	if (p->context)
		return fail_at(ld, line, col, "invalid YAML: %s %s (line %lu, column %lu)",
			       problem, p->context, (unsigned long)p->context_mark.line + 1,
			       (unsigned long)p->context_mark.column + 1);
	return fail_at(ld, line, col, "invalid YAML: %s", problem);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d, *abs;

	if (!slash)
		d = df_xstrndup(".", 1);
	else if (slash == path)
		d = df_xstrndup("/", 1);
	else
		d = df_xstrndup(path, (size_t)(slash - path));
	abs = realpath(d, NULL);
	if (abs) {
		free(d);
		return abs;
	}
	return d;
}

void df_config_init(struct df_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

int df_config_load(const char *path, struct df_config *cfg, char **err)
{
	struct loader ld;
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	const char *rerr = NULL;
	size_t len;
	char *src;
	int rc = 0;

	df_config_init(cfg);
	*err = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.npasses = count_passes();
	src = df_read_file(path, &len, &rerr);
	if (!src) {
		struct df_buf b = DF_BUF_INIT;

		df_buf_addf(&b, "%s: %s", path, rerr ? rerr : "cannot read");
		*err = df_buf_detach(&b, NULL);
		return -1;
	}
	if (!yaml_parser_initialize(&parser))
		df_die("out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)src, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&ld, &parser, src, len);
		goto out_parser;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root)) {
		ld.doc = &doc;
		if (get_block(&ld, root, &cfg->top, cfg, NULL) == 0) {
			/* a second document is a mistake, not something to ignore */
			if (!yaml_parser_load(&parser, &extra)) {
				yaml_fail(&ld, &parser, src, len);
			} else {
				yaml_node_t *r2 = yaml_document_get_root_node(&extra);

				if (r2 && !is_null(r2))
					fail(&ld, r2, "only one YAML document is allowed");
				yaml_document_delete(&extra);
			}
		}
	}
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
	free(src);
	if (ld.err) {
		df_config_release(cfg);
		*err = ld.err;
		rc = -1;
	} else {
		cfg->path = df_xstrndup(path, strlen(path));
		cfg->dir = dir_of(path);
	}
	return rc;
}

/* ---- finding ---- */

static int exists(const char *dir, const char *name, int want_file)
{
	struct df_buf b = DF_BUF_INIT;
	struct stat st;
	int r;

	df_buf_addf(&b, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
	r = stat(b.ptr, &st) == 0 && (!want_file || S_ISREG(st.st_mode));
	df_buf_release(&b);
	return r;
}

int df_config_find(const char *dockerfile_path, char **found_path)
{
	char *dir;

	*found_path = NULL;
	if (!dockerfile_path || strcmp(dockerfile_path, "-") == 0)
		dir = realpath(".", NULL);
	else
		dir = dir_of(dockerfile_path);
	if (!dir || dir[0] != '/') {
		free(dir);
		return 0;
	}
	for (;;) {
		char *slash;

		if (exists(dir, DF_CONFIG_NAME, 1)) {
			struct df_buf b = DF_BUF_INIT;

			df_buf_addf(&b, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", DF_CONFIG_NAME);
			*found_path = df_buf_detach(&b, NULL);
			free(dir);
			return 1;
		}
		if (exists(dir, ".git", 0) || strcmp(dir, "/") == 0)
			break;
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(dir);
	return 0;
}

/* ---- applying ---- */

/* The Dockerfile's path relative to dir, or NULL when it is not below it. */
static char *relative_to(const char *dir, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	char *pdir = dir_of(path), *rel = NULL;
	size_t n = strlen(dir);

	if (pdir[0] == '/' && dir[0] == '/') {
		if (strcmp(pdir, dir) == 0) {
			rel = df_xstrndup(base, strlen(base));
		} else if (strncmp(pdir, dir, n) == 0 && (pdir[n] == '/' || n == 1)) {
			struct df_buf b = DF_BUF_INIT;

			df_buf_addf(&b, "%s/%s", pdir + n + (n > 1), base);
			rel = df_buf_detach(&b, NULL);
		}
	}
	free(pdir);
	return rel;
}

static int glob_match(const char *glob, const char *rel, const char *base)
{
	const char *p;

	if (!strchr(glob, '/'))
		return fnmatch(glob, base, 0) == 0;
	if (!rel)
		return 0;
	while (glob[0] == '.' && glob[1] == '/')
		glob += 2;
	if (strncmp(glob, "**/", 3) == 0) {
		/* any number of leading directories, none included */
		for (p = rel;; p++) {
			if (glob_match(glob + 3, p, base))
				return 1;
			p = strchr(p, '/');
			if (!p)
				return 0;
		}
	}
	return fnmatch(glob, rel, FNM_PATHNAME) == 0;
}

static void lay_over(struct df_config_set *out, const struct df_config_set *s)
{
	if (s->keys & DF_CFG_LEVEL)
		out->level = s->level;
	if (s->keys & DF_CFG_SELECT)
		out->select = s->select;
	if (s->keys & DF_CFG_IGNORE)
		out->ignore = s->ignore;
	if (s->keys & DF_CFG_BASE)
		out->base = s->base;
	if (s->keys & DF_CFG_PIN) {
		out->pins = s->pins;
		out->npins = s->npins;
	}
	if (s->keys & DF_CFG_CACHE_MOUNTS)
		out->cache_mounts = s->cache_mounts;
	if (s->keys & DF_CFG_INDENT)
		out->indent = s->indent;
	out->keys |= s->keys;
}

void df_config_resolve(const struct df_config *cfg, const char *dockerfile_path,
		       struct df_config_set *out)
{
	const char *path = dockerfile_path ? dockerfile_path : "-";
	const char *slash = strrchr(path, '/');
	char *rel = NULL;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	lay_over(out, &cfg->top);
	if (!cfg->noverrides)
		return;
	if (cfg->dir)
		rel = relative_to(cfg->dir, path);
	for (i = 0; i < cfg->noverrides; i++)
		for (j = 0; j < cfg->overrides[i].npaths; j++)
			if (glob_match(cfg->overrides[i].paths[j], rel, slash ? slash + 1 : path)) {
				lay_over(out, &cfg->overrides[i].set);
				break;
			}
	free(rel);
}

void df_config_apply(const struct df_config *cfg, const char *dockerfile_path,
		     struct df_ctx *ctx, unsigned cli_keys)
{
	struct df_config_set s;
	size_t i, n = count_passes();
	int level;

	df_config_resolve(cfg, dockerfile_path, &s);
	level = (s.keys & DF_CFG_LEVEL) && !(cli_keys & (DF_CFG_LEVEL | DF_CFG_SELECT));
	if (level)
		ctx->level = s.level;
	for (i = 0; i < n && ctx->enabled; i++) {
		if (level && df_passes[i]->level > s.level)
			ctx->enabled[i] = 0;
		if ((s.keys & DF_CFG_SELECT) && !(cli_keys & DF_CFG_SELECT) && !s.select[i])
			ctx->enabled[i] = 0;
		if ((s.keys & DF_CFG_IGNORE) && !(cli_keys & DF_CFG_IGNORE) && s.ignore[i])
			ctx->enabled[i] = 0;
	}
	if ((s.keys & DF_CFG_BASE) && !(cli_keys & DF_CFG_BASE))
		ctx->base = s.base;
	if ((s.keys & DF_CFG_CACHE_MOUNTS) && !(cli_keys & DF_CFG_CACHE_MOUNTS))
		ctx->cache_mounts = s.cache_mounts;
	if ((s.keys & DF_CFG_INDENT) && !(cli_keys & DF_CFG_INDENT))
		ctx->indent = s.indent;
}

static void set_release(struct df_config_set *s)
{
	size_t i;

	free(s->select);
	free(s->ignore);
	for (i = 0; i < s->npins; i++) {
		free(s->pins[i].image);
		free(s->pins[i].tag);
	}
	free(s->pins);
	memset(s, 0, sizeof(*s));
}

void df_config_release(struct df_config *cfg)
{
	size_t i, j;

	set_release(&cfg->top);
	for (i = 0; i < cfg->noverrides; i++) {
		for (j = 0; j < cfg->overrides[i].npaths; j++)
			free(cfg->overrides[i].paths[j]);
		free(cfg->overrides[i].paths);
		set_release(&cfg->overrides[i].set);
	}
	free(cfg->overrides);
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}
