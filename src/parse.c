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
#include <stddef.h>
#include <string.h>

#include "internal.h"

#define MAX_LINE 65536 /* bufio.MaxScanTokenSize: line plus its '\n' */

struct pline {
	size_t start, end;   /* [start, end) whole physical line */
	size_t cend;         /* end of content (before trailing \r\n run) */
};

/* The line at pos; -1 when it is longer than BuildKit's scanner takes. */
static int next_line(const char *s, size_t len, size_t pos, struct pline *l)
{
	const char *nl = memchr(s + pos, '\n', len - pos);
	size_t e = nl ? (size_t)(nl - s) + 1 : len;
	size_t c = e;

	if (e - pos > MAX_LINE || (!nl && e - pos >= MAX_LINE))
		return -1;
	while (c > pos && (s[c - 1] == '\n' || s[c - 1] == '\r'))
		c--;
	l->start = pos;
	l->end = e;
	l->cend = c;
	return 0;
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
	int open;            /* the last node ran into `limit` mid-continuation */
	int toolong;         /* it stopped at a line BuildKit's scanner refuses */
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

			if (next_line(ps->s, ps->limit, ps->pos, &l) < 0) {
				ps->toolong = 1;
				return -1;
			}
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

		if (next_line(s, ps->limit, ps->pos, &l) < 0) {
			ps->toolong = 1;
			return;
		}
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
		ps->open = 0;
		if (a < b && s[a] == '#') {
			push_line(ps, node_start, &l, DF_LINE_OTHER, a - l.start, b, b);
			n = new_node(ps, is_dir > 0 ? DF_DIRECTIVE : is_dir < 0 ? DF_ERROR : DF_COMMENT,
				     node_start, l.end, startline);
			if (is_dir < 0)
				n->error = ps->doc->diags[ps->doc->ndiags - 1].msg;
			else if (!ps->doc->file_pragma)
				ps->doc->file_pragma = df_node_file_pragma(n);
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
			if (next_line(s, ps->limit, ps->pos, &l) < 0) {
				ps->toolong = 1;
				return;
			}
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
		ps->open = !eol_reached;
		inst = model(ps, node_start, first_trim, &err);
		if (!err && inst && inst->nheredocs && heredoc_bodies(ps, node_start, inst) < 0) {
			if (ps->toolong)
				return;
			err = "unterminated heredoc";
			ps->open = 1;
		}
		n = new_node(ps, err ? DF_ERROR : DF_INSTRUCTION, node_start, ps->pos, startline);
		n->inst = inst;
		n->cmd = inst ? inst->cmd : DF_CMD_UNKNOWN;
		n->nflags = !inst ? 0 : inst->nflags > UINT16_MAX ? UINT16_MAX : (uint16_t)inst->nflags;
		if (!err && inst && !ps->doc->first_refused &&
		    df_inst_refused(&ps->doc->arena, inst))
			ps->doc->first_refused = ps->doc->nnodes; /* (index + 1) */
		if (err) {
			n->error = err;
			add_diag(ps->doc, startline, 1, err);
		}
	}
}

static int parse_window(struct parser *ps, size_t a, size_t b, uint32_t lineno, int full);

static struct df_doc *parse_doc(const char *src, size_t len, char escape, int fragment)
{
	struct df_doc *doc = df_xcalloc(1, sizeof(*doc));
	struct parser ps;
	size_t cut;
	uint32_t cutline;

	doc->src.ptr = src;
	doc->src.len = len;
	doc->escape = escape;
	df_arena_init(&doc->arena);
	df_arena_expect(&doc->arena, 3 * len + 1024); /* lines, models: about 3 bytes a byte */
	if (len >= 4096) { /* a node is some 70 bytes of a large file: grow the array less */
		doc->cap = len / 64;
		doc->nodes = df_xmalloc(doc->cap * sizeof(*doc->nodes));
	}

	memset(&ps, 0, sizeof(ps));
	ps.doc = doc;
	ps.s = src;
	ps.len = len;
	if (parse_window(&ps, 0, len, 0, !fragment) == 0) {
		free(ps.lines);
		return doc;
	}
	/* bufio.Scanner refuses a line longer than its 64 KiB buffer: the
	 * parse stopped at the first such line; parse again what comes before
	 * it, and the rest is one error */
	cut = ps.pos;
	cutline = ps.lineno + 1;
	doc->nnodes = doc->ndiags = 0;
	doc->escape = escape;
	doc->has_bom = 0;
	doc->file_pragma = 0;
	doc->first_refused = 0;
	df_arena_release(&doc->arena);
	df_arena_init(&doc->arena);
	parse_window(&ps, 0, cut, 0, !fragment);
	{
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

struct df_doc *df_doc_parse_in(struct df_doc *parent, const char *src, size_t len)
{
	struct df_doc *frag = df_xcalloc(1, sizeof(*frag));
	struct parser ps;

	/* parse_doc, with the parent's arena lent for the time of the parse */
	frag->src.ptr = src;
	frag->src.len = len;
	frag->escape = parent->escape;
	frag->arena = parent->arena;
	memset(&ps, 0, sizeof(ps));
	ps.doc = frag;
	ps.s = src;
	ps.len = len;
	if (parse_window(&ps, 0, len, 0, 0) < 0)
		add_diag(frag, 1, 1, "dockerfile line greater than max allowed size of 65535");
	free(ps.lines);
	parent->arena = frag->arena;
	df_arena_init(&frag->arena);
	return frag;
}

/* ---- re-parsing after an edit ---- */

static void shift(struct df_span *sp, const char *lo, const char *hi, ptrdiff_t d)
{
	if (sp->ptr && sp->ptr >= lo && sp->ptr <= hi)
		sp->ptr += d;
}

/* Move the spans of a model that point into [lo, hi] by d bytes. */
static void rebase_inst(struct df_inst *in, const char *lo, const char *hi, ptrdiff_t d)
{
	size_t i;

	for (; in; in = in->sub) {
		shift(&in->keyword, lo, hi, d);
		shift(&in->logical, lo, hi, d);
		shift(&in->rest, lo, hi, d);
		for (i = 0; i < in->nflags; i++)
			shift(&in->flags[i], lo, hi, d);
		for (i = 0; i < in->nargs; i++)
			shift(&in->args[i], lo, hi, d);
		for (i = 0; i < in->nheredocs; i++) {
			shift(&in->heredocs[i].name, lo, hi, d);
			shift(&in->heredocs[i].body, lo, hi, d);
		}
	}
}

/* Parse text[a, b) into ps->doc->nodes as the parser would at that point of
 * the whole text (lineno lines before it). `full`: from the start of the
 * file, directives included. Returns -1 for a line that is too long. */
static int parse_window(struct parser *ps, size_t a, size_t b, uint32_t lineno, int full)
{
	ps->pos = a;
	ps->limit = b;
	ps->lineno = lineno;
	ps->directives_done = !full;
	ps->seen = 0;
	ps->open = 0;
	ps->toolong = 0;
	ps->nlines = 0;
	parse_lines(ps);
	return ps->toolong ? -1 : 0;
}

static int ends_nl(const struct df_node *n)
{
	return n->text.len && n->text.ptr[n->text.len - 1] == '\n';
}

/* Fill map[] for the lines of nodes [start, doc->nnodes), just parsed
 * again from the text of edited nodes i... (at offsets offs[]). A line of a
 * node the pass left alone (its text within [os, oe)) keeps its old line;
 * every line of a rewritten node maps to the node's first old line; an
 * inserted node (line 0) to the first line of the old node after it. */
static uint32_t inserted_line(const struct df_node *edited, size_t n, size_t i, uint32_t last,
			      size_t *next);

static int text_of(const struct df_memo *m, const struct df_span *t);

static void map_window(const struct df_doc *doc, const char *text, const struct df_node *edited,
		       size_t nedited, const size_t *offs, size_t i, size_t start,
		       const struct df_memo *memo, uint32_t *map, uint32_t *last)
{
	size_t k, e = i, c = 0, next = 0;

	for (k = start; k < doc->nnodes; k++) {
		const struct df_node *nd = &doc->nodes[k];
		size_t l;

		for (l = 0; l < nd->nlines; l++) {
			size_t at = (size_t)(nd->text.ptr - text) + nd->lines[l].off;
			const struct df_node *ed;
			uint32_t old;

			while (offs[e + 1] <= at) {
				e++;
				c = 0;
			}
			ed = &edited[e];
			if (!ed->line) {
				old = inserted_line(edited, nedited, e, *last, &next);
			} else if (text_of(memo, &ed->text) >= 0) {
				while (c < ed->nlines && ed->lines[c].off < at - offs[e])
					c++;
				old = ed->line + (uint32_t)c;
			} else {
				old = ed->line;
			}
			map[nd->line - 1 + l] = old;
			*last = old;
		}
	}
}

/* A node a pass parsed (df_doc_parse_in, the edit helpers) that parses the
 * same in the file: a comment, a blank line or an instruction that ends
 * (no continuation or heredoc left open), with its newline unless it is
 * the file's last, and no BOM (only the file's first byte may be one). */
static int whole_node(const struct df_node *nd, int last)
{
	const struct df_line *L;

	if (!nd->nlines || !nd->text.len || (!last && !ends_nl(nd)) ||
	    (nd->text.len >= 3 && memcmp(nd->text.ptr, "\xEF\xBB\xBF", 3) == 0))
		return 0;
	if (nd->kind == DF_COMMENT || nd->kind == DF_BLANK)
		return nd->nlines == 1;
	if (nd->kind != DF_INSTRUCTION || !nd->inst)
		return 0;
	L = &nd->lines[nd->nlines - 1];
	return L->kind == DF_LINE_TERM || (L->kind == DF_LINE_CODE && !L->cont);
}

/* The old line an inserted node (line 0) at edited[i] maps to: that of the
 * first old node after it, else `last`. *next caches where that is. */
static uint32_t inserted_line(const struct df_node *edited, size_t n, size_t i, uint32_t last,
			      size_t *next)
{
	if (*next <= i)
		for (*next = i + 1; *next < n && !edited[*next].line; (*next)++)
			;
	return *next < n ? edited[*next].line : last;
}

static int in_text(const struct df_text *x, const struct df_span *t)
{
	return t->ptr >= x->ptr && t->ptr + t->len <= x->ptr + x->len;
}

/* Which of the listed texts holds t (its index), or -1 (the arena: a pass
 * made it). */
static int text_of(const struct df_memo *m, const struct df_span *t)
{
	size_t k;

	for (k = m->ntexts; k-- > 0;)
		if (in_text(&m->texts[k], t))
			return (int)k;
	return -1;
}

/* The nodes df_stages reads, in the order a re-parse meets them
 * (df_stages_reparsed); more than cap: they are not the same. */
struct keeping {
	struct df_kept *v;   /* NULL: not kept (no stages found yet) */
	size_t n, cap;
	int over;
};

static void keep_relevant(struct keeping *kp, const struct df_doc *doc, size_t k)
{
	if (!kp->v || !df_stage_relevant(&doc->nodes[k]))
		return;
	if (kp->n == kp->cap) {
		kp->over = 1;
		return;
	}
	kp->v[kp->n].inst = doc->nodes[k].inst;
	kp->v[kp->n++].idx = k;
}

int df_doc_holds(const struct df_doc *doc, const char *p)
{
	const struct df_memo *m = doc->memo;
	size_t k;

	if (!m || !m->ntexts)
		return p == doc->src.ptr;
	for (k = 0; k < m->ntexts; k++)
		if (m->texts[k].ptr == p)
			return 1;
	return 0;
}

static void add_window(struct df_memo *memo, size_t first, size_t end)
{
	if (memo->nwin + 2 > memo->wincap) {
		memo->wincap = memo->wincap ? memo->wincap * 2 : 64;
		memo->win = df_xrealloc(memo->win, memo->wincap * sizeof(*memo->win));
	}
	memo->win[memo->nwin++] = first;
	memo->win[memo->nwin++] = end;
}

/*
 * A pass edited doc, a parse of doc->src, and text is its print. Turn doc
 * into the parse of text without parsing it all: a node the pass left alone
 * (its text still in a text the document was parsed from) parses the same
 * wherever it now stands, as long as the parser reaches it in the same
 * state. Everything between the nodes left alone is parsed again. The
 * parser's state between two nodes is the escape character and whether
 * parser directives may still follow; a node that ends mid-continuation
 * (only the last one of a file can) or without a newline joins what
 * follows it, so it is parsed again when anything does. Returns 0, or -1
 * when only a whole parse will do (doc is then in an unspecified state and
 * must be freed).
 *
 * A node left alone keeps its spans where they are: in the text it was
 * parsed from (memo->texts), which the caller keeps alive while
 * df_doc_holds() says so. Only when more than DF_TEXTS texts would be in
 * use are the nodes of all but the first moved into the new one.
 *
 * *oldline (malloc'ed, *nold entries) gets, for each line of text, the line
 * of the old text it comes from: the same line for a node left alone, the
 * first line of the node a pass replaced, and for inserted text the first
 * line of the old node after it.
 */
int df_doc_reparse(struct df_doc *doc, const char *text, size_t len, uint32_t **oldline,
		   size_t *nold)
{
	const char *os = doc->src.ptr;
	struct df_node *edited = doc->nodes;
	size_t n = doc->nnodes, i, j, off, pend, total = 0;
	unsigned char *dirty;
	signed char *tix;                  /* per node: index of its text, -1: none */
	size_t *offs;
	uint32_t lineno = 0;
	char escape = doc->escape;
	struct parser ps;
	uint32_t *map = NULL, last = 1;
	size_t nl = 1, e, ecap, next_old = 0, k, nt;
	struct df_memo *memo = df_doc_memo(doc);
	const char *last_end;
	int rc = 0, compact, hint = -1;
	/* the stages df_stages found (maybe before the pass edited) stay valid
	 * when the nodes it read are still there, in that order */
	struct keeping kp = { NULL, 0, memo->nrel + 1, 0 };

	if (memo->stages_at)
		kp.v = df_xmalloc(kp.cap * sizeof(*kp.v));
	if (!memo->ntexts) {
		memo->texts[0].ptr = doc->src.ptr;
		memo->texts[0].len = doc->src.len;
		memo->ntexts = 1;
	}
	last_end = memo->last_end ? memo->last_end : doc->src.ptr + doc->src.len;
	/* one more text would be too many: move the nodes of all but the
	 * first into the new one */
	compact = memo->ntexts + 1 > DF_TEXTS;
	for (k = 0; k < memo->ntexts; k++)
		memo->texts[k].refs = 0;
	dirty = df_xmalloc(n + 1);
	tix = df_xmalloc(n + 1);
	offs = df_xmalloc((n + 1) * sizeof(*offs));
	/* one sweep of the nodes (the array is large, and each sweep reads it
	 * all from memory): where each one's text lies, whether it is parsed
	 * again, where it lands in text */
	for (i = off = 0; i < n; i++) {
		const struct df_node *nd = &edited[i];
		/* (most nodes lie in the text of the node before them) */
		int t = hint >= 0 && in_text(&memo->texts[hint], &nd->text) ? hint
									  : text_of(memo, &nd->text);
		int clean = t >= 0;
		const char *end = nd->text.ptr + nd->text.len;

		/* a file's last node may end mid-continuation or without
		 * newline (only the last node of a text can lack one) */
		if (clean && i + 1 < n &&
		    (end == last_end ||
		     (end == memo->texts[t].ptr + memo->texts[t].len && !ends_nl(nd))))
			clean = 0;
		/* a directive or an error left alone: parsed again (up to the
		 * first instruction or blank line they decide the directives,
		 * past it a directive is a comment now) */
		if (nd->kind == DF_DIRECTIVE || nd->kind == DF_ERROR)
			clean = 0;
		dirty[i] = clean ? 0 : whole_node(nd, i + 1 == n) ? 2 : 1;
		tix[i] = (signed char)t;
		hint = t;
		offs[i] = off;
		off += nd->text.len;
		nl += nd->nlines;
	}
	offs[n] = total = off;
	if (total != len) {
		free(dirty);
		free(tix);
		free(offs);
		free(kp.v);
		return -1;
	}
	map = df_xmalloc(nl * sizeof(*map));
	/* Directives: the nodes up to the first instruction or blank line
	 * decide them. Unless those are what they were (where they were in
	 * the old text), parse from the start of the file to the first such
	 * node left alone. (A directive is never left alone: see above.) */
	for (i = 0; i < n; i++) {
		if (dirty[i] || edited[i].text.ptr != os + offs[i])
			break;
		if (edited[i].kind == DF_INSTRUCTION || edited[i].kind == DF_BLANK)
			break;
	}
	pend = i;
	if (i < n && (dirty[i] || edited[i].text.ptr != os + offs[i])) {
		/* (a node a pass parsed is not trusted here: the directives) */
		for (pend = 0; pend < n; pend++)
			if (!dirty[pend] &&
			    (edited[pend].kind == DF_INSTRUCTION || edited[pend].kind == DF_BLANK))
				break;
		memset(dirty, 1, pend);
	}

	memset(&ps, 0, sizeof(ps));
	ps.doc = doc;
	ps.s = text;
	ps.len = len;
	/* the new list goes to the array the last re-parse left over (a large
	 * array is fresh memory each time otherwise) */
	memo->nwin = 0;
	memo->win_at = 0;
	ecap = doc->cap;
	doc->nodes = memo->spare;
	doc->cap = memo->sparecap;
	doc->nnodes = 0;
	doc->ndiags = 0;
	doc->src.ptr = text;
	doc->src.len = len;
	doc->edits++; /* node indices and spans move */
	for (i = 0; i < n && rc == 0;) {
		struct df_node *nd;
		size_t start;

		if (dirty[i] != 1) {
			if (doc->nnodes == doc->cap) {
				doc->cap = doc->cap > n ? doc->cap * 2 : (n | 63) + 1;
				doc->nodes = df_xrealloc(doc->nodes, doc->cap * sizeof(*doc->nodes));
			}
			nd = &doc->nodes[doc->nnodes++];
			*nd = edited[i];
			keep_relevant(&kp, doc, doc->nnodes - 1);
			if (dirty[i] == 2 || (compact && tix[i] > 0)) {
				/* into the new text: a node the pass made (in the
				 * arena), or one of a text given up */
				ptrdiff_t d = (text + offs[i]) - nd->text.ptr;

				if (nd->inst)
					rebase_inst(nd->inst, nd->text.ptr, nd->text.ptr + nd->text.len, d);
				nd->text.ptr += d;
			} else {
				memo->texts[tix[i]].refs++;
			}
			if (lineno + nd->nlines >= nl) {
				rc = -1;
				break;
			}
			if (dirty[i] == 2) {
				/* parsed by the pass: every line from the node it replaced */
				uint32_t old = nd->line ? nd->line
							: inserted_line(edited, n, i, last, &next_old);

				for (e = 0; e < nd->nlines; e++)
					map[lineno + e] = old;
				add_window(memo, doc->nnodes - 1, doc->nnodes);
			} else {
				for (e = 0; e < nd->nlines; e++)
					map[lineno + e] = nd->line + (uint32_t)e;
			}
			if (nd->nlines)
				last = map[lineno + nd->nlines - 1];
			nd->line = lineno + 1;
			lineno += nd->nlines;
			i++;
			continue;
		}
		for (j = i; j < n && dirty[j]; j++)
			;
		start = doc->nnodes;
		for (;;) {
			size_t keep = doc->nnodes, keepd = doc->ndiags;

			if (i == 0) {
				doc->escape = '\\';
				doc->has_bom = 0;
			}
			if (parse_window(&ps, offs[i], offs[j], lineno, i == 0) < 0) {
				rc = -1;
				break;
			}
			if (j == n || (!ps.open && text[offs[j] - 1] == '\n'))
				break;
			/* it runs on into the next node: take that one too */
			doc->nnodes = keep;
			doc->ndiags = keepd;
			j++;
		}
		if (i == 0 && doc->escape != escape)
			rc = -1; /* a new escape character changes every later node */
		if (rc == 0 && ps.lineno >= nl)
			rc = -1;
		if (rc == 0)
			map_window(doc, text, edited, n, offs, i, start, memo, map, &last);
		for (k = start; kp.v && k < doc->nnodes; k++)
			keep_relevant(&kp, doc, k);
		add_window(memo, start, doc->nnodes);
		lineno = ps.lineno;
		i = j;
	}
	free(ps.lines);
	memo->spare = edited;
	memo->sparecap = ecap;
	free(dirty);
	free(tix);
	free(offs);
	/* the texts still in use, then the new one */
	for (k = nt = 0; k < memo->ntexts; k++)
		if (memo->texts[k].refs)
			memo->texts[nt++] = memo->texts[k];
	memo->texts[nt].ptr = text;
	memo->texts[nt].len = len;
	memo->texts[nt].refs = 0;
	memo->ntexts = nt + 1;
	memo->last_end = doc->nnodes ? doc->nodes[doc->nnodes - 1].text.ptr +
					       doc->nodes[doc->nnodes - 1].text.len
				     : NULL;
	if (kp.v)
		df_stages_reparsed(doc, kp.v, rc == 0 && !kp.over ? kp.n : (size_t)-1);
	free(kp.v);
	if (rc == 0) {
		memo->win_at = doc->edits + 1;
		map[lineno] = last; /* a position just past the end */
		*oldline = map;
		*nold = lineno + 1;
	} else {
		free(map);
	}
	return rc;
}

/* ---- comparing two parses (a check on df_doc_reparse) ---- */

struct side {
	const char *lo, *hi;
};

/* Same bytes, and at the same place when either points into its node's
 * text (a node's spans stay in the text it was parsed from: the nodes of
 * two parses of the same text may point into different copies of it). */
static int span_same_at(struct df_span a, struct df_span b, struct side sa, struct side sb)
{
	int ina = a.ptr >= sa.lo && a.ptr <= sa.hi, inb = b.ptr >= sb.lo && b.ptr <= sb.hi;

	if (a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len)))
		return 0;
	if (ina || inb)
		return ina && inb && a.ptr - sa.lo == b.ptr - sb.lo;
	return 1;
}

static int inst_same_tree(const struct df_inst *a, const struct df_inst *b, struct side sa,
			  struct side sb)
{
	size_t i;

	for (; a || b; a = a->sub, b = b->sub) {
		if (!a || !b || a->cmd != b->cmd || a->npieces != b->npieces ||
		    a->log_base != b->log_base || a->args_off != b->args_off ||
		    a->nflags != b->nflags || a->nargs != b->nargs || a->json != b->json ||
		    a->has_next != b->has_next || a->nheredocs != b->nheredocs ||
		    !span_same_at(a->keyword, b->keyword, sa, sb) ||
		    !span_same_at(a->logical, b->logical, sa, sb) ||
		    !span_same_at(a->rest, b->rest, sa, sb) ||
		    (a->npieces && memcmp(a->pieces, b->pieces, a->npieces * sizeof(*a->pieces))))
			return 0;
		for (i = 0; i < a->nflags; i++)
			if (!span_same_at(a->flags[i], b->flags[i], sa, sb))
				return 0;
		for (i = 0; i < a->nargs; i++)
			if (!span_same_at(a->args[i], b->args[i], sa, sb))
				return 0;
		for (i = 0; i < a->nheredocs; i++) {
			const struct df_heredoc *x = &a->heredocs[i], *y = &b->heredocs[i];

			if (x->chomp != y->chomp || x->expand != y->expand || x->fd != y->fd ||
			    !span_same_at(x->name, y->name, sa, sb) ||
			    !span_same_at(x->body, y->body, sa, sb))
				return 0;
		}
	}
	return 1;
}

static int lines_same(const struct df_line *a, const struct df_line *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].off != b[i].off || a[i].indent != b[i].indent || a[i].body != b[i].body ||
		    a[i].cont != b[i].cont || a[i].eol != b[i].eol || a[i].kind != b[i].kind)
			return 0;
	return 1;
}

int df_doc_same_tree(const struct df_doc *a, const struct df_doc *b)
{
	struct side sa, sb;
	size_t i;

	if (a->escape != b->escape || a->has_bom != b->has_bom || a->ndiags != b->ndiags ||
	    a->nnodes != b->nnodes)
		return 0;
	for (i = 0; i < a->ndiags; i++)
		if (a->diags[i].line != b->diags[i].line || a->diags[i].col != b->diags[i].col ||
		    strcmp(a->diags[i].msg, b->diags[i].msg) != 0)
			return 0;
	for (i = 0; i < a->nnodes; i++) {
		const struct df_node *x = &a->nodes[i], *y = &b->nodes[i];

		if (x->kind != y->kind || x->cmd != y->cmd || x->nflags != y->nflags ||
		    x->line != y->line || x->nlines != y->nlines ||
		    x->error_col != y->error_col || !x->error != !y->error ||
		    (x->error && strcmp(x->error, y->error) != 0) ||
		    x->text.len != y->text.len || memcmp(x->text.ptr, y->text.ptr, x->text.len) ||
		    !lines_same(x->lines, y->lines, x->nlines))
			return 0;
		sa.lo = x->text.ptr;
		sa.hi = x->text.ptr + x->text.len;
		sb.lo = y->text.ptr;
		sb.hi = y->text.ptr + y->text.len;
		if (!inst_same_tree(x->inst, y->inst, sa, sb))
			return 0;
	}
	return 1;
}

struct df_memo *df_doc_memo(const struct df_doc *doc)
{
	struct df_doc *d = (struct df_doc *)doc; /* a memo: the document means the same */

	if (!d->memo)
		d->memo = df_xcalloc(1, sizeof(*d->memo));
	return d->memo;
}

void df_doc_free(struct df_doc *doc)
{
	if (!doc)
		return;
	if (doc->memo) {
		free(doc->memo->stages);
		free(doc->memo->rel);
		free(doc->memo->name_slot);
		free(doc->memo->shells);
		free(doc->memo->win_from);
		free(doc->memo->win_image);
		free(doc->memo->sigs);
		free(doc->memo->spare);
		free(doc->memo->win);
		free(doc->memo);
	}
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
	for (i = 0; i < doc->nnodes;) {
		/* nodes next to each other in the text they came from: one copy */
		const char *p = doc->nodes[i].text.ptr, *e = p + doc->nodes[i].text.len;

		for (i++; i < doc->nnodes && doc->nodes[i].text.ptr == e; i++)
			e += doc->nodes[i].text.len;
		df_buf_add(out, p, (size_t)(e - p));
	}
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
