/*
 * parse.c - bytes to CST, following BuildKit's line scanner exactly.
 *
 * BuildKit (frontend/dockerfile/parser) reads a Dockerfile line by line:
 * lines end at '\n' and lose any trailing '\r'/'\n' run; the first line loses
 * a UTF-8 BOM; parser directives are recognised until the first line that is
 * not one; a line that ends with the escape character (blanks after it
 * allowed, but not when it is itself escaped) continues on the next line;
 * inside a continuation, comment lines and empty lines are dropped; heredoc
 * bodies follow the instruction that opens them. A line may hold at most
 * 65535 bytes before its newline.
 *
 * Here every physical line becomes a struct df_line of a node, so printing the
 * nodes gives back the input byte for byte; the BuildKit logical line of each
 * instruction is described by pieces that point back into the node text.
 */
#include <string.h>

#include "internal.h"

#define MAX_LINE 65536 /* bufio.MaxScanTokenSize: line plus its '\n' */

struct pline {
	size_t start, end;   /* [start, end) whole physical line */
	size_t cend;         /* end of content (before trailing \r\n run) */
};

static void next_line(const char *s, size_t len, size_t pos, struct pline *l)
{
	const char *nl = memchr(s + pos, '\n', len - pos);
	size_t e = nl ? (size_t)(nl - s) + 1 : len;
	size_t c = e;

	while (c > pos && (s[c - 1] == '\n' || s[c - 1] == '\r'))
		c--;
	l->start = pos;
	l->end = e;
	l->cend = c;
}

static int is_re_space(int c) /* RE2 \s */
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/* BuildKit's reDirectives: ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ */
int df_match_directive(const char *p, size_t n, struct df_span *key, struct df_span *val)
{
	size_t i = 0, ks, ke, vs, ve;

	if (n == 0 || p[0] != '#')
		return 0;
	i = 1;
	while (i < n && is_re_space((unsigned char)p[i]))
		i++;
	if (i >= n || !is_alpha((unsigned char)p[i]))
		return 0;
	ks = i;
	while (i < n && is_alnum((unsigned char)p[i]))
		i++;
	ke = i;
	while (i < n && is_re_space((unsigned char)p[i]))
		i++;
	if (i >= n || p[i] != '=')
		return 0;
	i++;
	if (i >= n)
		return 0;
	vs = i;
	while (vs < n && is_re_space((unsigned char)p[vs]))
		vs++;
	if (vs == n) {
		/* only blanks: the lazy group takes the last one */
		vs = n - 1;
		ve = n;
	} else {
		ve = n;
		while (ve > vs && is_re_space((unsigned char)p[ve - 1]))
			ve--;
	}
	/* '.' does not match '\n'; lines hold none. */
	key->ptr = p + ks;
	key->len = ke - ks;
	val->ptr = p + vs;
	val->len = ve - vs;
	return 1;
}

struct parser {
	struct df_doc *doc;
	const char *s;
	size_t len, limit;   /* limit: bytes parsed normally (a too-long line cuts) */
	size_t pos;
	uint32_t lineno;     /* lines consumed so far */
	int directives_done;
	unsigned seen;       /* bit per directive */
	/* scratch for the node being built */
	struct df_line *lines;
	size_t nlines, linecap;
};

static void add_diag(struct df_doc *doc, uint32_t line, uint32_t col, const char *msg)
{
	if (doc->ndiags == doc->diagcap) {
		doc->diagcap = doc->diagcap ? doc->diagcap * 2 : 4;
		doc->diags = df_xrealloc(doc->diags, doc->diagcap * sizeof(*doc->diags));
	}
	doc->diags[doc->ndiags].line = line;
	doc->diags[doc->ndiags].col = col;
	doc->diags[doc->ndiags].msg = msg;
	doc->ndiags++;
}

void df_doc_add_diag(struct df_doc *doc, uint32_t line, uint32_t col, const char *msg)
{
	add_diag(doc, line, col, msg);
}

static void push_line(struct parser *ps, size_t node_start, const struct pline *l,
		      enum df_line_kind kind, size_t indent, size_t body_end, size_t cont_end)
{
	struct df_line *dl;

	if (ps->nlines == ps->linecap) {
		ps->linecap = ps->linecap ? ps->linecap * 2 : 16;
		ps->lines = df_xrealloc(ps->lines, ps->linecap * sizeof(*ps->lines));
	}
	dl = &ps->lines[ps->nlines++];
	dl->off = (uint32_t)(l->start - node_start);
	dl->indent = (uint32_t)indent;
	dl->body = (uint32_t)(body_end - l->start - indent);
	dl->cont = (uint32_t)(cont_end - body_end);
	dl->eol = (uint32_t)(l->end - cont_end);
	dl->kind = (uint8_t)kind;
}

static struct df_node *new_node(struct parser *ps, enum df_node_kind kind, size_t start,
				size_t end, uint32_t line)
{
	struct df_doc *doc = ps->doc;
	struct df_node *n;

	if (doc->nnodes == doc->cap) {
		doc->cap = doc->cap ? doc->cap * 2 : 64;
		doc->nodes = df_xrealloc(doc->nodes, doc->cap * sizeof(*doc->nodes));
	}
	n = &doc->nodes[doc->nnodes++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->text.ptr = ps->s + start;
	n->text.len = end - start;
	n->line = line;
	n->nlines = (uint32_t)ps->nlines;
	n->lines = df_arena_alloc_raw(&doc->arena, ps->nlines * sizeof(*n->lines));
	memcpy(n->lines, ps->lines, ps->nlines * sizeof(*n->lines));
	ps->nlines = 0;
	return n;
}

static size_t ascii_indent(const char *s, size_t a, size_t b)
{
	size_t i = a;

	while (i < b && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i - a;
}

/*
 * BuildKit's lineContinuationRegex: ([^E])E[ \t]*$|^E[ \t]*$ on the line
 * content [a, b). Returns the offset where the continuation marker starts,
 * or b when the line does not continue.
 */
static size_t cont_start(const char *s, size_t a, size_t b, char esc)
{
	size_t k = b;

	while (k > a && (s[k - 1] == ' ' || s[k - 1] == '\t'))
		k--;
	if (k == a || s[k - 1] != esc)
		return b;
	if (k - 1 == a || s[k - 2] != esc)
		return k - 1;
	return b;
}

static int is_comment_line(const char *s, size_t a, size_t b)
{
	size_t sp = df_go_space_prefix(s + a, b - a);

	return a + sp < b && s[a + sp] == '#';
}

static int is_blank_line(const char *s, size_t a, size_t b)
{
	return df_go_space_prefix(s + a, b - a) == b - a;
}

/* possibleParserDirective on the left-trimmed line [a, b). */
static void directive(struct parser *ps, size_t a, size_t b, int *is_directive)
{
	static const char *const names[] = { "syntax", "escape", "check" };
	struct df_span key, val;
	unsigned i;

	*is_directive = 0;
	if (ps->directives_done)
		return;
	if (!df_match_directive(ps->s + a, b - a, &key, &val)) {
		ps->directives_done = 1;
		return;
	}
	for (i = 0; i < 3; i++)
		if (df_span_ieq(key, names[i]))
			break;
	if (i == 3) {
		ps->directives_done = 1;
		return;
	}
	*is_directive = 1;
	if (ps->seen & (1u << i)) {
		static const char *const dup[] = {
			"only one syntax parser directive can be used",
			"only one escape parser directive can be used",
			"only one check parser directive can be used",
		};
		*is_directive = -1;
		add_diag(ps->doc, ps->lineno + 1, 1, dup[i]);
		return;
	}
	ps->seen |= 1u << i;
	if (i == 1) {
		if (val.len == 1 && (val.ptr[0] == '`' || val.ptr[0] == '\\')) {
			ps->doc->escape = val.ptr[0];
		} else {
			*is_directive = -1;
			add_diag(ps->doc, ps->lineno + 1, 1,
				 df_arena_printf(&ps->doc->arena,
						 "invalid escape token '%.*s' does not match ` or \\",
						 (int)val.len, val.ptr));
		}
	}
}

/* Build the logical-line pieces and model of an instruction whose physical
 * lines are ps->lines[0..nlines) starting at node_start. */
static struct df_inst *model(struct parser *ps, size_t node_start, size_t first_trim,
			     const char **err)
{
	struct df_doc *doc = ps->doc;
	struct df_piece *pieces;
	size_t i, np = 0, total = 0;

	pieces = df_arena_alloc_raw(&doc->arena, ps->nlines * sizeof(*pieces));
	for (i = 0; i < ps->nlines; i++) {
		const struct df_line *l = &ps->lines[i];
		size_t a, e;

		if (l->kind != DF_LINE_CODE)
			continue;
		a = l->off + (i == 0 ? first_trim : 0);
		e = l->off + l->indent + l->body;
		if (a > e) /* BOM/indent longer than body: empty piece */
			a = e;
		if (e == a)
			continue;
		pieces[np].log_off = (uint32_t)total;
		pieces[np].node_off = (uint32_t)a;
		pieces[np].len = (uint32_t)(e - a);
		total += e - a;
		np++;
	}
	return df_inst_build(doc, ps->s + node_start, pieces, np, total, err);
}

/* Scan heredoc bodies for `inst`, consuming lines from ps->pos.
 * Returns 0, or -1 when a heredoc is not terminated (all input consumed). */
static int heredoc_bodies(struct parser *ps, size_t node_start, struct df_inst *inst)
{
	size_t h;

	for (h = 0; h < inst->nheredocs; h++) {
		struct df_heredoc *hd = &inst->heredocs[h];
		size_t body_start = ps->pos;
		int done = 0;

		while (ps->pos < ps->limit) {
			struct pline l;
			size_t a;

			next_line(ps->s, ps->limit, ps->pos, &l);
			ps->pos = l.end;
			ps->lineno++;
			a = l.start;
			if (hd->chomp)
				while (a < l.cend && ps->s[a] == '\t')
					a++;
			if (l.cend - a == hd->name.len &&
			    memcmp(ps->s + a, hd->name.ptr, hd->name.len) == 0) {
				hd->body.ptr = ps->s + body_start;
				hd->body.len = l.start - body_start;
				push_line(ps, node_start, &l, DF_LINE_TERM, 0, l.cend, l.cend);
				done = 1;
				break;
			}
			push_line(ps, node_start, &l, DF_LINE_BODY, 0, l.cend, l.cend);
		}
		if (!done) {
			hd->body.ptr = ps->s + body_start;
			hd->body.len = ps->pos - body_start;
			return -1;
		}
	}
	return 0;
}

static void parse_lines(struct parser *ps)
{
	const char *s = ps->s;

	while (ps->pos < ps->limit) {
		struct pline l;
		size_t a, b, node_start, first_trim, c;
		uint32_t startline;
		int is_dir, eol_reached;
		struct df_inst *inst;
		struct df_node *n;
		const char *err = NULL;

		next_line(s, ps->limit, ps->pos, &l);
		node_start = l.start;
		a = l.start;
		b = l.cend;
		if (l.start == 0 && b - a >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
			a += 3;
			ps->doc->has_bom = 1;
		}
		a += df_go_space_prefix(s + a, b - a);
		directive(ps, a, b, &is_dir);
		ps->pos = l.end;
		startline = ++ps->lineno;
		if (a < b && s[a] == '#') {
			push_line(ps, node_start, &l, DF_LINE_OTHER, a - l.start, b, b);
			n = new_node(ps, is_dir > 0 ? DF_DIRECTIVE : is_dir < 0 ? DF_ERROR : DF_COMMENT,
				     node_start, l.end, startline);
			if (is_dir < 0)
				n->error = ps->doc->diags[ps->doc->ndiags - 1].msg;
			continue;
		}
		if (a == b) {
			push_line(ps, node_start, &l, DF_LINE_OTHER, a - l.start, b, b);
			new_node(ps, DF_BLANK, node_start, l.end, startline);
			continue;
		}
		/* an instruction (or a lone escape line that starts one) */
		first_trim = a - l.start;
		c = cont_start(s, a, b, ps->doc->escape);
		eol_reached = c == b;
		push_line(ps, node_start, &l, DF_LINE_CODE, ascii_indent(s, l.start, b) , c, b);
		if (ps->lines[0].indent < first_trim && first_trim <= (size_t)(c - l.start)) {
			/* BOM or Unicode spaces before the keyword count as indent */
			ps->lines[0].body -= (uint32_t)(first_trim - ps->lines[0].indent);
			ps->lines[0].indent = (uint32_t)first_trim;
		}
		while (!eol_reached && ps->pos < ps->limit) {
			next_line(s, ps->limit, ps->pos, &l);
			ps->pos = l.end;
			ps->lineno++;
			if (is_comment_line(s, l.start, l.cend)) {
				size_t ind = df_go_space_prefix(s + l.start, l.cend - l.start);

				push_line(ps, node_start, &l, DF_LINE_COMMENT, ind, l.cend, l.cend);
				continue;
			}
			if (is_blank_line(s, l.start, l.cend)) {
				push_line(ps, node_start, &l, DF_LINE_BLANK, l.cend - l.start, l.cend,
					  l.cend);
				continue;
			}
			c = cont_start(s, l.start, l.cend, ps->doc->escape);
			eol_reached = c == l.cend;
			push_line(ps, node_start, &l, DF_LINE_CODE, ascii_indent(s, l.start, l.cend), c,
				  l.cend);
		}
		inst = model(ps, node_start, first_trim, &err);
		if (!err && inst && inst->nheredocs && heredoc_bodies(ps, node_start, inst) < 0)
			err = "unterminated heredoc";
		n = new_node(ps, err ? DF_ERROR : DF_INSTRUCTION, node_start, ps->pos, startline);
		n->inst = inst;
		if (err) {
			n->error = err;
			add_diag(ps->doc, startline, 1, err);
		}
	}
}

static struct df_doc *parse_doc(const char *src, size_t len, char escape, int fragment)
{
	struct df_doc *doc = df_xcalloc(1, sizeof(*doc));
	struct parser ps;
	size_t pos = 0, cut = len;
	uint32_t lineno = 0, cutline = 0;

	doc->src.ptr = src;
	doc->src.len = len;
	doc->escape = escape;
	df_arena_init(&doc->arena);

	/* bufio.Scanner refuses a line longer than its 64 KiB buffer. */
	while (pos < len) {
		const char *nl = memchr(src + pos, '\n', len - pos);
		size_t e = nl ? (size_t)(nl - src) + 1 : len;

		lineno++;
		if (e - pos > MAX_LINE || (!nl && e - pos >= MAX_LINE)) {
			cut = pos;
			cutline = lineno;
			break;
		}
		pos = e;
	}

	memset(&ps, 0, sizeof(ps));
	ps.doc = doc;
	ps.s = src;
	ps.len = len;
	ps.limit = cut;
	ps.directives_done = fragment;
	parse_lines(&ps);
	if (cut < len) {
		struct pline l = { cut, len, len };
		struct df_node *n;

		push_line(&ps, cut, &l, DF_LINE_OTHER, 0, len, len);
		n = new_node(&ps, DF_ERROR, cut, len, cutline);
		n->error = "dockerfile line greater than max allowed size of 65535";
		add_diag(doc, cutline, 1, n->error);
	}
	free(ps.lines);
	return doc;
}

struct df_doc *df_doc_parse(const char *src, size_t len)
{
	return parse_doc(src, len, '\\', 0);
}

struct df_doc *df_doc_parse_fragment(const char *src, size_t len, char escape)
{
	return parse_doc(src, len, escape, 1);
}

void df_doc_free(struct df_doc *doc)
{
	if (!doc)
		return;
	df_arena_release(&doc->arena);
	free(doc->nodes);
	free(doc->diags);
	free(doc);
}

void df_doc_print(const struct df_doc *doc, struct df_buf *out)
{
	size_t i, total = 0;

	for (i = 0; i < doc->nnodes; i++)
		total += doc->nodes[i].text.len;
	df_buf_grow(out, total);
	for (i = 0; i < doc->nnodes; i++)
		df_buf_add(out, doc->nodes[i].text.ptr, doc->nodes[i].text.len);
}

const struct df_diag *df_doc_error(const struct df_doc *doc)
{
	static struct df_diag none = { 0, 1, "file with no instructions" };
	size_t i;

	if (doc->ndiags)
		return &doc->diags[0];
	for (i = 0; i < doc->nnodes; i++)
		if (doc->nodes[i].kind == DF_INSTRUCTION)
			return NULL;
	return &none;
}

const char *df_doc_eol(const struct df_doc *doc)
{
	const char *nl = memchr(doc->src.ptr, '\n', doc->src.len);

	if (nl && nl > doc->src.ptr && nl[-1] == '\r')
		return "\r\n";
	return "\n";
}
