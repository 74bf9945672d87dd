/*
 * report.c - --report=FORMAT: the findings of every file with their fixes,
 * as text, JSON, SARIF 2.1.0, reviewdog's rdjson, GitHub workflow commands
 * or GitLab Code Quality. docs/integrations.md documents each format.
 *
 * Positions: lines and columns are 1-based; columns count UTF-8 bytes
 * except in SARIF, whose default unit is UTF-16 code units. JSON text must
 * be UTF-8: bytes that are not become U+FFFD in messages and fix text.
 */
#include <string.h>

#include <jansson.h>

#include "report.h"

static const char *const level_names[] = { "format", "safe", "review" };

int df_report_format_parse(const char *name)
{
	static const char *const names[] = { "text", "json", "sarif", "rdjson", "github",
					     "gitlab" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

void df_report_init(struct df_report *r, enum df_report_format format)
{
	memset(r, 0, sizeof(*r));
	r->format = format;
}

void df_report_add(struct df_report *r, struct df_changes *c)
{
	r->files = df_xrealloc(r->files, (r->nfiles + 1) * sizeof(*r->files));
	r->files[r->nfiles++] = *c;
	memset(c, 0, sizeof(*c));
}

void df_report_release(struct df_report *r)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++)
		df_changes_release(&r->files[i]);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- helpers */

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

void df_rule_url(struct df_buf *out, const char *code)
{
	size_t i, n = code ? strlen(code) : 0;

	if (n == 6 && (strncmp(code, "DL", 2) == 0 || strncmp(code, "SC", 2) == 0) &&
	    is_digit(code[2]) && is_digit(code[3]) && is_digit(code[4]) && is_digit(code[5])) {
		df_buf_adds(out, code[0] == 'D' ? "https://github.com/hadolint/hadolint/wiki/"
						: "https://www.shellcheck.net/wiki/");
		df_buf_adds(out, code);
		return;
	}
	if (!n || !is_upper(code[0]))
		return;
	for (i = 0; i < n; i++)
		if (!is_upper(code[i]) && !is_lower(code[i]) && !is_digit(code[i]))
			return;
	/* a BuildKit check: JSONArgsRecommended -> json-args-recommended */
	df_buf_adds(out, "https://docs.docker.com/reference/build-checks/");
	for (i = 0; i < n; i++) {
		char c = code[i];

		if (i && is_upper(c) && (!is_upper(code[i - 1]) ||
					 (i + 1 < n && is_lower(code[i + 1]))))
			df_buf_addc(out, '-');
		df_buf_addc(out, is_upper(c) ? (char)(c - 'A' + 'a') : c);
	}
	df_buf_addc(out, '/');
}

/* Does the message already name its code ("... (DL3059)")? */
static int names_code(const struct df_item *it)
{
	char tag[64];

	if (!it->code)
		return 1;
	snprintf(tag, sizeof(tag), "(%s)", it->code);
	return strstr(it->msg, tag) != NULL;
}

static const char *rule_id(const struct df_item *it)
{
	return it->code ? it->code : it->pass;
}

json_t *df_json_string(const char *p, size_t n)
{
	struct df_buf b = DF_BUF_INIT;
	json_t *s = json_stringn(p, n);
	size_t i = 0;

	if (s)
		return s;
	while (i < n) {
		size_t k;
		json_t *t;

		/* longest valid prefix of length 1..4 */
		for (k = 1; k <= 4 && i + k <= n; k++) {
			t = json_stringn(p + i, k);
			if (t) {
				json_decref(t);
				break;
			}
		}
		if (k <= 4 && i + k <= n) {
			df_buf_add(&b, p + i, k);
			i += k;
		} else {
			df_buf_adds(&b, "\xef\xbf\xbd");
			i++;
		}
	}
	s = json_stringn(b.ptr ? b.ptr : "", b.len);
	df_buf_release(&b);
	return s;
}

#define jstr df_json_string

static json_t *jstrs(const char *s)
{
	return jstr(s, strlen(s));
}

static void pos(const struct df_changes *c, size_t off, enum df_unit u, uint32_t *line,
		uint32_t *col)
{
	df_text_pos(c->src, c->lines, c->nlines, off, u, line, col);
}

/* {"line": L, "column": C} (+ "offset" when with_off) */
static json_t *jpos(const char *text, const size_t *lines, size_t nlines, size_t off,
		    int with_off)
{
	uint32_t l, col;
	json_t *o = json_object();

	df_text_pos(text, lines, nlines, off, DF_UNIT_BYTE, &l, &col);
	if (with_off)
		json_object_set_new(o, "offset", json_integer((json_int_t)off));
	json_object_set_new(o, "line", json_integer(l));
	json_object_set_new(o, "column", json_integer(col));
	return o;
}

static void add_json(struct df_buf *out, json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (!s)
		df_die("out of memory");
	df_buf_adds(out, s);
	df_buf_addc(out, '\n');
	free(s);
	json_decref(v);
}

/* Messages on one line: control characters become spaces. */
static void add_line(struct df_buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		df_buf_addc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

/* ---------------------------------------------------------------- text, github */

static void print_text(const struct df_report *r, struct df_buf *out)
{
	size_t f, i;

	for (f = 0; f < r->nfiles; f++) {
		const struct df_changes *c = &r->files[f];

		for (i = 0; i < c->nitems; i++) {
			const struct df_item *it = &c->items[i];
			uint32_t l, col;

			pos(c, it->start, DF_UNIT_BYTE, &l, &col);
			add_line(out, c->path);
			df_buf_addf(out, ":%u:%u: ", l, col);
			add_line(out, it->pass);
			df_buf_adds(out, ": ");
			add_line(out, it->msg);
			if (!names_code(it)) {
				df_buf_adds(out, " [");
				add_line(out, it->code);
				df_buf_addc(out, ']');
			}
			df_buf_addc(out, '\n');
		}
	}
}

/* GitHub's escaping of workflow command data (prop: a property value). */
static void gh_escape(struct df_buf *out, const char *s, int prop)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': df_buf_adds(out, "%25"); break;
		case '\r': df_buf_adds(out, "%0D"); break;
		case '\n': df_buf_adds(out, "%0A"); break;
		case ':': df_buf_adds(out, prop ? "%3A" : ":"); break;
		case ',': df_buf_adds(out, prop ? "%2C" : ","); break;
		default: df_buf_addc(out, *s); break;
		}
	}
}

static void print_github(const struct df_report *r, struct df_buf *out)
{
	size_t f, i;

	for (f = 0; f < r->nfiles; f++) {
		const struct df_changes *c = &r->files[f];

		for (i = 0; i < c->nitems; i++) {
			const struct df_item *it = &c->items[i];
			struct df_buf t = DF_BUF_INIT;
			uint32_t l, col, el, ec;

			pos(c, it->start, DF_UNIT_BYTE, &l, &col);
			pos(c, it->end, DF_UNIT_BYTE, &el, &ec);
			df_buf_adds(out, it->note ? "::notice file=" : "::warning file=");
			gh_escape(out, c->path, 1);
			df_buf_addf(out, ",line=%u,col=%u,endLine=%u", l, col, el);
			if (el == l)
				df_buf_addf(out, ",endColumn=%u", ec);
			df_buf_addf(&t, "dfix %s", it->pass);
			df_buf_adds(out, ",title=");
			gh_escape(out, t.ptr, 1);
			df_buf_adds(out, "::");
			gh_escape(out, it->msg, 0);
			if (!names_code(it)) {
				df_buf_adds(out, " [");
				gh_escape(out, it->code, 0);
				df_buf_addc(out, ']');
			}
			df_buf_addc(out, '\n');
			df_buf_release(&t);
		}
	}
}

/* ---------------------------------------------------------------- json */

static json_t *json_edits(const struct df_changes *c, const struct df_item *it)
{
	json_t *edits = json_array();
	size_t k;

	for (k = 0; k < it->nhunks; k++) {
		const struct df_hunk *h = &c->hunks[it->hunks[k]];
		json_t *e = json_object();

		json_object_set_new(e, "start", jpos(c->src, c->lines, c->nlines, h->start, 1));
		json_object_set_new(e, "end", jpos(c->src, c->lines, c->nlines, h->end, 1));
		json_object_set_new(e, "text", jstr(c->out + h->new_start, h->new_end - h->new_start));
		json_array_append_new(edits, e);
	}
	if (it->extra != DF_NONE) {
		const struct df_extra *x = &c->extras[it->extra];
		const char *old = x->old ? x->old : "";
		size_t n, *lines = df_text_lines(old, x->oldlen, &n);
		json_t *e = json_object();

		json_object_set_new(e, "file", jstrs(x->path));
		json_object_set_new(e, "start", jpos(old, lines, n, 0, 1));
		json_object_set_new(e, "end", jpos(old, lines, n, x->oldlen, 1));
		json_object_set_new(e, "text", jstr(x->text, x->len));
		json_array_append_new(edits, e);
		free(lines);
	}
	return edits;
}

static void print_json(const struct df_report *r, struct df_buf *out)
{
	json_t *all = json_array();
	size_t f, i;

	for (f = 0; f < r->nfiles; f++) {
		const struct df_changes *c = &r->files[f];

		for (i = 0; i < c->nitems; i++) {
			const struct df_item *it = &c->items[i];
			json_t *o = json_object();
			struct df_buf url = DF_BUF_INIT;

			json_object_set_new(o, "file", jstrs(c->path));
			json_object_set_new(o, "pass", jstrs(it->pass));
			json_object_set_new(o, "code", it->code ? jstrs(it->code) : json_null());
			json_object_set_new(o, "level", json_string(it->note ? "note" : "warning"));
			json_object_set_new(o, "safety", it->level >= 0 && it->level <= 2
					    ? json_string(level_names[it->level]) : json_null());
			json_object_set_new(o, "message", jstrs(it->msg));
			df_rule_url(&url, it->code);
			json_object_set_new(o, "url", url.len ? json_string(url.ptr) : json_null());
			df_buf_release(&url);
			json_object_set_new(o, "start", jpos(c->src, c->lines, c->nlines, it->start, 0));
			json_object_set_new(o, "end", jpos(c->src, c->lines, c->nlines, it->end, 0));
			if (it->nhunks || it->extra != DF_NONE) {
				json_t *fix = json_object();

				json_object_set_new(fix, "edits", json_edits(c, it));
				json_object_set_new(o, "fix", fix);
			} else {
				json_object_set_new(o, "fix", json_null());
			}
			json_array_append_new(all, o);
		}
	}
	add_json(out, all);
}

/* ---------------------------------------------------------------- sarif */

/* A relative path as a URI reference; an absolute one as a file: URI. */
static json_t *uri_of(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	struct df_buf b = DF_BUF_INIT;
	const unsigned char *p = (const unsigned char *)path;
	json_t *s;

	if (*p == '/')
		df_buf_adds(&b, "file://");
	for (; *p; p++) {
		if (is_upper((char)*p) || is_lower((char)*p) || is_digit((char)*p) ||
		    strchr("-._~/!$&'()*+,;=@", *p)) {
			df_buf_addc(&b, (char)*p);
		} else {
			df_buf_addc(&b, '%');
			df_buf_addc(&b, hex[*p >> 4]);
			df_buf_addc(&b, hex[*p & 15]);
		}
	}
	s = json_string(b.ptr ? b.ptr : "");
	df_buf_release(&b);
	return s;
}

static json_t *region(const char *text, const size_t *lines, size_t nlines, size_t start,
		      size_t end)
{
	json_t *o = json_object();
	uint32_t l, c;

	df_text_pos(text, lines, nlines, start, DF_UNIT_UTF16, &l, &c);
	json_object_set_new(o, "startLine", json_integer(l));
	json_object_set_new(o, "startColumn", json_integer(c));
	df_text_pos(text, lines, nlines, end, DF_UNIT_UTF16, &l, &c);
	json_object_set_new(o, "endLine", json_integer(l));
	json_object_set_new(o, "endColumn", json_integer(c));
	return o;
}

static json_t *replacement(json_t *deleted, const char *text, size_t len)
{
	json_t *rep = json_object(), *ins = json_object();

	json_object_set_new(rep, "deletedRegion", deleted);
	json_object_set_new(ins, "text", jstr(text, len));
	json_object_set_new(rep, "insertedContent", ins);
	return rep;
}

static json_t *change(const char *path, json_t *reps)
{
	json_t *ch = json_object(), *loc = json_object();

	json_object_set_new(loc, "uri", uri_of(path));
	json_object_set_new(ch, "artifactLocation", loc);
	json_object_set_new(ch, "replacements", reps);
	return ch;
}

static json_t *sarif_fixes(const struct df_changes *c, const struct df_item *it)
{
	json_t *fix = json_object(), *desc = json_object(), *changes = json_array();
	json_t *fixes = json_array();
	size_t k;

	json_object_set_new(desc, "text", jstrs(it->msg));
	json_object_set_new(fix, "description", desc);
	if (it->nhunks) {
		json_t *reps = json_array();

		for (k = 0; k < it->nhunks; k++) {
			const struct df_hunk *h = &c->hunks[it->hunks[k]];

			json_array_append_new(reps, replacement(
				region(c->src, c->lines, c->nlines, h->start, h->end),
				c->out + h->new_start, h->new_end - h->new_start));
		}
		json_array_append_new(changes, change(c->path, reps));
	}
	if (it->extra != DF_NONE) {
		const struct df_extra *x = &c->extras[it->extra];
		const char *old = x->old ? x->old : "";
		size_t n, *lines = df_text_lines(old, x->oldlen, &n);
		json_t *reps = json_array();

		json_array_append_new(reps, replacement(region(old, lines, n, 0, x->oldlen),
							x->text, x->len));
		json_array_append_new(changes, change(x->path, reps));
		free(lines);
	}
	json_object_set_new(fix, "artifactChanges", changes);
	json_array_append_new(fixes, fix);
	return fixes;
}

static json_t *sarif_rule(const char *id, const struct df_item *it)
{
	const struct df_pass *p = df_pass_find(it->pass);
	json_t *rule = json_object(), *sd = json_object(), *props = json_object();
	json_t *tags = json_array();
	struct df_buf url = DF_BUF_INIT;

	json_object_set_new(rule, "id", jstrs(id));
	json_object_set_new(sd, "text", jstrs(p && p->summary ? p->summary : "a change dfix made"));
	json_object_set_new(rule, "shortDescription", sd);
	if (p && p->doc && *p->doc) {
		json_t *help = json_object();

		json_object_set_new(help, "text", jstrs(p->doc));
		json_object_set_new(rule, "help", help);
	}
	df_rule_url(&url, it->code);
	if (url.len)
		json_object_set_new(rule, "helpUri", json_string(url.ptr));
	df_buf_release(&url);
	json_array_append_new(tags, json_string("dockerfile"));
	if (p)
		json_array_append_new(tags, json_string(level_names[p->level]));
	json_object_set_new(props, "tags", tags);
	json_object_set_new(props, "pass", jstrs(it->pass));
	json_object_set_new(rule, "properties", props);
	return rule;
}

static void print_sarif(const struct df_report *r, struct df_buf *out)
{
	json_t *log = json_object(), *runs = json_array(), *run = json_object();
	json_t *tool = json_object(), *driver = json_object(), *rules = json_array();
	json_t *results = json_array();
	size_t f, i, k;

	json_object_set_new(log, "$schema", json_string("https://json.schemastore.org/sarif-2.1.0.json"));
	json_object_set_new(log, "version", json_string("2.1.0"));
	json_object_set_new(driver, "name", json_string("dfix"));
	json_object_set_new(driver, "version", json_string(DFIX_VERSION));
	json_object_set_new(driver, "semanticVersion", json_string(DFIX_VERSION));
	json_object_set_new(driver, "informationUri", json_string(DFIX_URL));
	for (f = 0; f < r->nfiles; f++) {
		const struct df_changes *c = &r->files[f];

		for (i = 0; i < c->nitems; i++) {
			const struct df_item *it = &c->items[i];
			const char *id = rule_id(it);
			json_t *res = json_object(), *msg = json_object(), *locs = json_array();
			json_t *loc = json_object(), *phys = json_object(), *art = json_object();
			json_t *props = json_object();

			for (k = 0; k < json_array_size(rules); k++)
				if (strcmp(json_string_value(json_object_get(
					json_array_get(rules, k), "id")), id) == 0)
					break;
			if (k == json_array_size(rules))
				json_array_append_new(rules, sarif_rule(id, it));
			json_object_set_new(res, "ruleId", jstrs(id));
			json_object_set_new(res, "ruleIndex", json_integer((json_int_t)k));
			json_object_set_new(res, "level", json_string(it->note ? "note" : "warning"));
			json_object_set_new(msg, "text", jstrs(it->msg));
			json_object_set_new(res, "message", msg);
			json_object_set_new(art, "uri", uri_of(c->path));
			json_object_set_new(phys, "artifactLocation", art);
			json_object_set_new(phys, "region",
					    region(c->src, c->lines, c->nlines, it->start, it->end));
			json_object_set_new(loc, "physicalLocation", phys);
			json_array_append_new(locs, loc);
			json_object_set_new(res, "locations", locs);
			if (it->nhunks || it->extra != DF_NONE)
				json_object_set_new(res, "fixes", sarif_fixes(c, it));
			json_object_set_new(props, "pass", jstrs(it->pass));
			if (it->level >= 0 && it->level <= 2)
				json_object_set_new(props, "safety", json_string(level_names[it->level]));
			json_object_set_new(res, "properties", props);
			json_array_append_new(results, res);
		}
	}
	json_object_set_new(driver, "rules", rules);
	json_object_set_new(tool, "driver", driver);
	json_object_set_new(run, "tool", tool);
	json_object_set_new(run, "columnKind", json_string("utf16CodeUnits"));
	json_object_set_new(run, "results", results);
	json_array_append_new(runs, run);
	json_object_set_new(log, "runs", runs);
	add_json(out, log);
}

/* ---------------------------------------------------------------- rdjson */

static json_t *rd_pos(uint32_t line, uint32_t col)
{
	json_t *o = json_object();

	json_object_set_new(o, "line", json_integer(line));
	if (col)
		json_object_set_new(o, "column", json_integer(col));
	return o;
}

static json_t *rd_range(json_t *start, json_t *end)
{
	json_t *o = json_object();

	json_object_set_new(o, "start", start);
	json_object_set_new(o, "end", end);
	return o;
}

/* Length of text without its final line ending. */
static size_t chomp(const char *p, size_t n)
{
	if (n && p[n - 1] == '\n')
		n--;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

/* Byte column just past the content of line k (1-based), its line ending
 * left out. */
static uint32_t line_end_col(const struct df_changes *c, uint32_t k)
{
	size_t s = c->lines[k - 1], e = c->lines[k];

	return (uint32_t)(chomp(c->src + s, e - s) + 1);
}

/*
 * A suggestion in the form reviewdog turns into a GitHub suggested change:
 * its lines are the lines of the review comment, and the suggested lines
 * are the first line up to the start column, the text, and the last line
 * from the end column. So a change of lines s..e is the range (s, 1) to
 * (e, end of its content) with the new lines as text (without the final
 * line ending); an insertion replaces the line above it (below, at the top
 * of the file) by itself plus the new lines; a deletion is a line-based
 * range (no columns) with empty text, which reviewdog turns into removed
 * lines.
 */
static json_t *rd_suggestion(const struct df_changes *c, const struct df_hunk *h,
			     uint32_t *lfirst, uint32_t *llast)
{
	struct df_buf t = DF_BUF_INIT;
	json_t *s = json_object(), *range;
	uint32_t first = h->old_line, last = h->old_line + h->old_count - 1;
	const char *nt = c->out + h->new_start;
	size_t nn = h->new_end - h->new_start;

	if (c->nlines == 0) { /* an empty file: a line-based insertion */
		df_buf_add(&t, nt, chomp(nt, nn));
		range = rd_range(rd_pos(1, 0), rd_pos(1, 0));
	} else if (h->new_count == 0) {
		range = rd_range(rd_pos(first, 0), rd_pos(last, 0));
	} else {
		if (h->old_count == 0 && h->old_line > 1) {
			size_t s0 = c->lines[h->old_line - 2], e0 = c->lines[h->old_line - 1];

			first = last = h->old_line - 1;
			df_buf_add(&t, c->src + s0, e0 - s0);
			df_buf_add(&t, nt, chomp(nt, nn));
		} else if (h->old_count == 0) {
			first = last = 1;
			df_buf_add(&t, nt, nn);
			df_buf_add(&t, c->src, chomp(c->src, c->lines[1]));
		} else if (h->end > h->start && c->src[h->end - 1] == '\n') {
			df_buf_add(&t, nt, chomp(nt, nn)); /* the last line keeps its ending */
		} else {
			df_buf_add(&t, nt, nn); /* the last line of a file without one */
		}
		range = rd_range(rd_pos(first, 1), rd_pos(last, line_end_col(c, last)));
	}
	json_object_set_new(s, "range", range);
	json_object_set_new(s, "text", jstr(t.ptr ? t.ptr : "", t.len));
	df_buf_release(&t);
	*lfirst = c->nlines ? first : 1;
	*llast = c->nlines ? last : 1;
	return s;
}

static json_t *rd_diag(const struct df_changes *c, const struct df_item *it, size_t hunk)
{
	json_t *d = json_object(), *loc = json_object(), *src = json_object();
	json_t *code = json_object(), *sugg = NULL;
	struct df_buf m = DF_BUF_INIT, url = DF_BUF_INIT;
	uint32_t l, col, el, ec;

	df_buf_addf(&m, "%s: %s", it->pass, it->msg);
	json_object_set_new(d, "message", jstr(m.ptr, m.len));
	df_buf_release(&m);
	pos(c, it->start, DF_UNIT_BYTE, &l, &col);
	pos(c, it->end, DF_UNIT_BYTE, &el, &ec);
	if (hunk != DF_NONE) {
		/* reviewdog reads the lines a suggestion rebuilds from the
		 * diagnostic's own lines, and comments there: the hunk's lines */
		sugg = json_array();
		json_array_append_new(sugg, rd_suggestion(c, &c->hunks[hunk], &l, &el));
		col = 1;
		ec = c->nlines ? line_end_col(c, el) : 1;
	}
	json_object_set_new(loc, "path", jstrs(c->path));
	json_object_set_new(loc, "range", rd_range(rd_pos(l, col), rd_pos(el, ec)));
	json_object_set_new(d, "location", loc);
	json_object_set_new(d, "severity", json_string(it->note ? "INFO" : "WARNING"));
	json_object_set_new(src, "name", json_string("dfix"));
	json_object_set_new(d, "source", src);
	json_object_set_new(code, "value", jstrs(rule_id(it)));
	df_rule_url(&url, it->code);
	if (url.len)
		json_object_set_new(code, "url", json_string(url.ptr));
	df_buf_release(&url);
	json_object_set_new(d, "code", code);
	if (sugg)
		json_object_set_new(d, "suggestions", sugg);
	return d;
}

static void print_rdjson(const struct df_report *r, struct df_buf *out)
{
	json_t *res = json_object(), *src = json_object(), *diags = json_array();
	size_t f, i, k;

	json_object_set_new(src, "name", json_string("dfix"));
	json_object_set_new(src, "url", json_string(DFIX_URL));
	json_object_set_new(res, "source", src);
	json_object_set_new(res, "severity", json_string("WARNING"));
	for (f = 0; f < r->nfiles; f++) {
		const struct df_changes *c = &r->files[f];

		for (i = 0; i < c->nitems; i++) {
			const struct df_item *it = &c->items[i];

			/* reviewdog posts one suggestion per comment: one
			 * diagnostic per hunk */
			if (!it->nhunks)
				json_array_append_new(diags, rd_diag(c, it, DF_NONE));
			for (k = 0; k < it->nhunks; k++)
				json_array_append_new(diags, rd_diag(c, it, it->hunks[k]));
		}
	}
	json_object_set_new(res, "diagnostics", diags);
	add_json(out, res);
}

/* ---------------------------------------------------------------- gitlab */

static uint64_t fnv(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3u;
	}
	h ^= 0xff; /* field separator */
	h *= 0x100000001b3u;
	return h;
}

/* GitLab Code Quality (a subset of Code Climate's issue format). The
 * fingerprint hashes the file, rule, message and the text it points at,
 * not the line number, so moving code keeps the issue the same; repeats
 * get a running count. */
static void print_gitlab(const struct df_report *r, struct df_buf *out)
{
	json_t *all = json_array();
	uint64_t *seen = NULL;
	size_t nseen = 0, f, i, k;

	for (f = 0; f < r->nfiles; f++) {
		const struct df_changes *c = &r->files[f];

		for (i = 0; i < c->nitems; i++) {
			const struct df_item *it = &c->items[i];
			json_t *o = json_object(), *loc = json_object(), *lines = json_object();
			struct df_buf d = DF_BUF_INIT;
			uint64_t h = 0xcbf29ce484222325u, base;
			uint32_t l, col, el, ec;
			char fp[17];
			size_t rep = 0;

			h = fnv(h, c->path, strlen(c->path));
			h = fnv(h, it->pass, strlen(it->pass));
			h = fnv(h, it->code ? it->code : "", it->code ? strlen(it->code) : 0);
			h = fnv(h, it->msg, strlen(it->msg));
			h = fnv(h, c->src + it->start, it->end - it->start);
			base = h;
			for (;;) {
				for (k = 0; k < nseen && seen[k] != h; k++)
					;
				if (k == nseen)
					break;
				char num[24];

				rep++;
				snprintf(num, sizeof(num), "%zu", rep);
				h = fnv(base, num, strlen(num));
			}
			seen = df_xrealloc(seen, (nseen + 1) * sizeof(*seen));
			seen[nseen++] = h;
			snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)h);

			df_buf_addf(&d, "%s: %s", it->pass, it->msg);
			json_object_set_new(o, "type", json_string("issue"));
			json_object_set_new(o, "description", jstr(d.ptr, d.len));
			json_object_set_new(o, "check_name", jstrs(rule_id(it)));
			json_object_set_new(o, "fingerprint", json_string(fp));
			json_object_set_new(o, "severity", json_string(it->note ? "info" : "minor"));
			json_object_set_new(o, "engine_name", json_string("dfix"));
			pos(c, it->start, DF_UNIT_BYTE, &l, &col);
			pos(c, it->end, DF_UNIT_BYTE, &el, &ec);
			json_object_set_new(loc, "path", jstrs(c->path));
			json_object_set_new(lines, "begin", json_integer(l));
			json_object_set_new(lines, "end", json_integer(el));
			json_object_set_new(loc, "lines", lines);
			json_object_set_new(o, "location", loc);
			json_array_append_new(all, o);
			df_buf_release(&d);
		}
	}
	free(seen);
	add_json(out, all);
}

void df_report_print(const struct df_report *r, struct df_buf *out)
{
	switch (r->format) {
	case DF_REPORT_TEXT: print_text(r, out); break;
	case DF_REPORT_JSON: print_json(r, out); break;
	case DF_REPORT_SARIF: print_sarif(r, out); break;
	case DF_REPORT_RDJSON: print_rdjson(r, out); break;
	case DF_REPORT_GITHUB: print_github(r, out); break;
	case DF_REPORT_GITLAB: print_gitlab(r, out); break;
	}
}
