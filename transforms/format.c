/*
 * format.c - the `format` pass: layout and keyword case, never meaning.
 *
 * BuildKit's --dump is the contract: it must not change. That decides what
 * may move. BuildKit joins continuation lines verbatim (only the first line
 * is left-trimmed), so the indentation of a continuation line is part of the
 * argument text wherever the parser keeps text as written (shell-form RUN,
 * CMD, ENTRYPOINT, SHELL, USER, WORKDIR, the value of legacy `ENV k v`...).
 * It is free only where a parser splits on whitespace: between keyword,
 * flags and arguments, between the words of FROM, EXPOSE, ARG, ENV/LABEL
 * k=v, COPY/ADD/VOLUME, between JSON tokens, and at the ends of the line.
 *
 * For each instruction the pass finds those free whitespace runs ("segments")
 * in the logical line by replaying the BuildKit parsers of inst.c, then
 * prints the node again: segments become one space (or nothing, inside JSON
 * brackets and at the line's end), the rest is copied byte for byte. When
 * every continuation break falls inside a free segment, continuation lines
 * are re-indented too; otherwise they keep their indentation. Each rewritten
 * node is parsed again and kept only when its dump and heredocs are the same.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { SEP, GLUE };          /* a free segment prints as " " / "" */

struct seg {
	uint32_t s, e;       /* [s, e) in the top logical line */
	uint8_t kind;        /* SEP or GLUE */
	uint8_t touch;       /* contains or borders a continuation break */
};

struct repl {                /* same-length replacement (keyword case) */
	uint32_t s, e;
	const char *text;
};

struct hist {
	size_t tabs, other, nspaces, width[17];
};

/* The indents of a file's continuation lines: of those a run leaves as
 * they are, of those it re-indents (and how many nodes those are). */
struct hists {
	struct hist fixed, moving;
	size_t nmoving;
};

struct fmt {
	struct df_ctx *ctx;
	struct df_doc *doc;
	char esc;
	const char *unit;    /* continuation indent */
	size_t unitlen;
	int unit_open;       /* chosen from the file: not known before the end */
	struct hists hin;    /* the file's */
	struct hists hout;   /* its output's, as another run would count them */
	int unsettled;       /* the output may change on another run */
	signed char *verdict;/* per node: the analyse() verdict its indents counted with */
	size_t *later;       /* nodes to re-indent once the unit is known */
	size_t nlater, latercap;
	int use_marks;       /* the DF_SEEN_FORMAT* marks hold for this escape */
	unsigned char *mark; /* per node: the marks this run leaves (see marked()) */
	size_t *moving;      /* marked nodes re-indented to the recorded unit */
	size_t nmoving, movingcap;
	size_t skipped;      /* marked nodes not looked at again */
	const char *log;     /* top logical line of the current instruction */
	int heredoc_words;   /* it holds "<<": BuildKit splits it into shell words */
	struct seg *segs;
	size_t nseg, segcap;
	struct repl repl[2];
	size_t nrepl;
	unsigned nblank;     /* empty continuation lines dropped */
	struct df_buf out;
	struct df_buf batch; /* new texts of the changed nodes, in order */
	struct change *ch;
	size_t nch, chcap;
};

/* A node to replace by batch[off, off + len). */
struct change {
	size_t idx;
	size_t off, len;
	unsigned nblank;     /* empty continuation lines it drops */
	int eol_added;       /* it gets the file's final newline */
	int only_eol;        /* and nothing else */
	int only_keyword;    /* only the keyword's case changes */
};

static const char spaces[] = "                                                                ";
static const char bom[] = "\xEF\xBB\xBF";

/* ---- whitespace classes of BuildKit's parsers ---- */

static int byte_space(unsigned char c) /* unicode.IsSpace(rune(byte)) */
{
	return (c >= 9 && c <= 13) || c == ' ' || c == 0x85 || c == 0xA0;
}

static int re_ws(unsigned char c) /* reWhitespace [\t\v\f\r ] */
{
	return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

static int json_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* ---- segments ---- */

/* Record [s, e) of the logical line as free, if it is plain blanks. */
static void add_seg(struct fmt *f, size_t s, size_t e, int kind)
{
	size_t i;

	for (i = s; i < e; i++)
		if (!blank((unsigned char)f->log[i]))
			return;
	if (f->nseg == f->segcap) {
		f->segcap = f->segcap ? f->segcap * 2 : 32;
		f->segs = df_xrealloc(f->segs, f->segcap * sizeof(*f->segs));
	}
	f->segs[f->nseg].s = (uint32_t)s;
	f->segs[f->nseg].e = (uint32_t)e;
	f->segs[f->nseg].kind = (uint8_t)kind;
	f->segs[f->nseg].touch = 0;
	f->nseg++;
}

static void add_repl(struct fmt *f, size_t s, size_t len, const char *text)
{
	if (f->nrepl < sizeof(f->repl) / sizeof(f->repl[0]) && memcmp(f->log + s, text, len)) {
		f->repl[f->nrepl].s = (uint32_t)s;
		f->repl[f->nrepl].e = (uint32_t)(s + len);
		f->repl[f->nrepl].text = text;
		f->nrepl++;
	}
}

/* splitWhitespace (FROM, EXPOSE, COPY/ADD/VOLUME shell form): the runs of
 * reWhitespace between words. p[0, n) at logical offset base. */
static void split_segs(struct fmt *f, size_t base, const char *p, size_t n)
{
	size_t i = 0, ws;

	while (i < n) {
		if (!re_ws((unsigned char)p[i])) {
			i++;
			continue;
		}
		ws = i;
		while (i < n && re_ws((unsigned char)p[i]))
			i++;
		/* heredoc words take `\ ` as an escaped blank: keep that gap */
		if (ws > 0 && i < n && !(f->heredoc_words && p[ws - 1] == '\\'))
			add_seg(f, base + ws, base + i, SEP);
	}
}

/* parseWords (ARG, ENV/LABEL k=v): the separator runs, replaying its
 * quote and escape rules exactly. */
static void word_segs(struct fmt *f, size_t base, const char *p, size_t n)
{
	enum { SP, WORD, QUOTE } phase = SP;
	const unsigned char *u = (const unsigned char *)p;
	int32_t quote = 0, ch;
	size_t pos, run = 0;
	int width = 0, esc = (unsigned char)f->esc;

	for (pos = 0; pos < n; pos += (size_t)width) {
		ch = df_utf8_decode(u + pos, n - pos, &width);
		if (phase == SP) {
			if (df_go_isspace(ch))
				continue;
			if (pos > run)
				add_seg(f, base + run, base + pos, SEP);
			phase = WORD;
		}
		if (phase == WORD) {
			if (df_go_isspace(ch)) {
				phase = SP;
				run = pos;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				phase = QUOTE;
			}
			if (ch == esc) {
				if (pos + (size_t)width == n)
					continue;
				pos += (size_t)width;
				(void)df_utf8_decode(u + pos, n - pos, &width);
			}
			continue;
		}
		if (ch == quote)
			phase = WORD;
		if (ch == esc && quote != '\'') {
			if (pos + (size_t)width == n) {
				phase = WORD;
				continue;
			}
			pos += (size_t)width;
			(void)df_utf8_decode(u + pos, n - pos, &width);
		}
	}
}

/* A JSON array of strings at p[0, n): no blanks inside the brackets, ", "
 * between elements; the strings themselves are kept as written. Returns 0
 * (and records nothing) when the text is not the shape expected. */
static int json_segs(struct fmt *f, size_t base, const char *p, size_t n)
{
	size_t save = f->nseg, i = 1, s;

	if (!n || p[0] != '[')
		return 0;
	s = i;
	while (i < n && json_ws((unsigned char)p[i]))
		i++;
	add_seg(f, base + s, base + i, GLUE);
	if (i < n && p[i] == ']')
		return 1;
	for (;;) {
		if (i >= n || p[i] != '"')
			break;
		for (i++; i < n && p[i] != '"'; i++)
			if (p[i] == '\\')
				i++;
		if (i >= n)
			break;
		s = ++i;
		while (i < n && json_ws((unsigned char)p[i]))
			i++;
		add_seg(f, base + s, base + i, GLUE);
		if (i < n && p[i] == ']')
			return 1;
		if (i >= n || p[i] != ',')
			break;
		s = ++i;
		while (i < n && json_ws((unsigned char)p[i]))
			i++;
		add_seg(f, base + s, base + i, SEP);
	}
	f->nseg = save;
	return 0;
}

/* Between the keyword (ending at k) and the argument text (at rs): the
 * flags, split as extractBuilderFlags does (quotes, backslashes). */
static void head_segs(struct fmt *f, size_t base, const char *p, size_t k, size_t rs)
{
	size_t pos = k, s;

	for (;;) {
		s = pos;
		while (pos < rs && byte_space((unsigned char)p[pos]))
			pos++;
		if (pos > s)
			add_seg(f, base + s, base + pos, SEP);
		if (pos >= rs)
			return;
		{
			unsigned char q = 0;

			for (; pos < rs; pos++) {
				unsigned char c = (unsigned char)p[pos];

				if (q) {
					if (c == q)
						q = 0;
					else if (c == '\\')
						pos++;
				} else if (byte_space(c)) {
					break;
				} else if (c == '\'' || c == '"') {
					q = c;
				} else if (c == '\\') {
					pos++;
				}
			}
			if (pos > rs)
				pos = rs;
		}
	}
}

/* The free segments of one instruction (an ONBUILD trigger recursively),
 * whose logical line starts at offset base of the top logical line. */
static void inst_segs(struct fmt *f, const struct df_inst *in, size_t base, int top)
{
	const char *p = in->logical.ptr;
	size_t n = in->logical.len, kw = (size_t)(in->keyword.ptr - p);
	size_t k = kw + in->keyword.len, rs = in->args_off, re = rs + in->rest.len;
	size_t tend = n - df_go_space_suffix(p, n), rn = in->rest.len, i, v;
	const char *r;

	if (rs > tend) /* no argument text: args_off is the end of the line */
		rs = re = tend;
	r = p + rs;
	if (in->cmd != DF_CMD_UNKNOWN)
		add_repl(f, base + kw, in->keyword.len, df_cmd_name(in->cmd));
	if (rs > k && rs <= n)
		head_segs(f, base, p, k, rs);
	switch (in->cmd) {
	case DF_CMD_ADD:
	case DF_CMD_COPY:
	case DF_CMD_VOLUME:
		if (in->json)
			json_segs(f, base + rs, r, rn);
		else
			split_segs(f, base + rs, r, rn);
		break;
	case DF_CMD_FROM:
	case DF_CMD_EXPOSE:
		split_segs(f, base + rs, r, rn);
		break;
	case DF_CMD_CMD:
	case DF_CMD_ENTRYPOINT:
	case DF_CMD_RUN:
	case DF_CMD_SHELL:
		if (in->json)
			json_segs(f, base + rs, r, rn);
		break;
	case DF_CMD_ARG:
		word_segs(f, base + rs, r, rn);
		break;
	case DF_CMD_ENV:
	case DF_CMD_LABEL:
		if (in->nargs == 3 && in->args[2].len == 0) {
			/* legacy `ENV key value`: only the first gap is free, and
			 * only when no escape or quote in the key could reach into
			 * it (`foo\  a=b` would become `foo\ a=b`: one k=v word) */
			for (i = 0; i < rn && !re_ws((unsigned char)r[i]); i++)
				if (r[i] == f->esc || r[i] == '\'' || r[i] == '"')
					break;
			if (i < rn && !re_ws((unsigned char)r[i]))
				break;
			for (v = i; v < rn && re_ws((unsigned char)r[v]); v++)
				;
			if (v > i && v < rn)
				add_seg(f, base + rs + i, base + rs + v, SEP);
		} else {
			word_segs(f, base + rs, r, rn);
		}
		break;
	case DF_CMD_HEALTHCHECK:
		for (i = 0; i < rn && !byte_space((unsigned char)r[i]); i++)
			;
		for (v = i; v < rn && byte_space((unsigned char)r[v]); v++)
			;
		if (i > 0 && v > i && v < rn) {
			add_seg(f, base + rs + i, base + rs + v, SEP);
			if (in->json)
				json_segs(f, base + rs + v, r + v, rn - v);
		}
		break;
	case DF_CMD_ONBUILD:
		if (in->sub && in->sub->logical.ptr == r)
			inst_segs(f, in->sub, base + rs, 0);
		break;
	default:
		break;
	}
	/* TrimSpace drops the end of the line, unless an escape sits before it
	 * (a heredoc word like <<EOF\ would change) */
	if (top && re < n && re > 0 && p[re - 1] != '\\' && p[re - 1] != f->esc)
		add_seg(f, base + re, base + n, GLUE);
}

/* Mark segments that contain or border a continuation break; return 1
 * when every break lies in a free segment (the lines may be re-indented). */
static int mark_breaks(struct fmt *f, const struct df_inst *in)
{
	size_t b = 1, s, np = in->npieces;
	int ok = 1;

	for (s = 0; s < f->nseg; s++) {
		struct seg *S = &f->segs[s];

		while (b < np && in->pieces[b].log_off < S->s)
			b++;
		S->touch = b < np && in->pieces[b].log_off <= S->e;
	}
	for (b = 1, s = 0; b < np && ok; b++) {
		uint32_t B = in->pieces[b].log_off;

		while (s < f->nseg && f->segs[s].e < B)
			s++;
		if (s == f->nseg || f->segs[s].s > B)
			ok = 0;
	}
	return ok;
}

/* Segments of the instruction node n; returns the re-indent verdict, or
 * -1 when the node is left alone (its first line holds no text). */
static int analyse(struct fmt *f, const struct df_node *n)
{
	const struct df_inst *in = n->inst;

	f->nseg = 0;
	f->nrepl = 0;
	f->log = in->logical.ptr;
	f->heredoc_words = in->has_lshift;
	if (!in->npieces || !n->nlines || n->lines[0].kind != DF_LINE_CODE ||
	    in->pieces[0].node_off >= n->lines[0].off + n->lines[0].indent + n->lines[0].body)
		return -1;
	inst_segs(f, in, 0, 1);
	return mark_breaks(f, in);
}

/* ---- printing an instruction ---- */

/* Logical bytes [a, b) found at src, with keyword replacements applied. */
static void put_fixed(struct fmt *f, const char *src, size_t a, size_t b)
{
	size_t o = f->out.len, r;

	df_buf_add(&f->out, src, b - a);
	for (r = 0; r < f->nrepl; r++) {
		const struct repl *rp = &f->repl[r];
		size_t lo = rp->s > a ? rp->s : a, hi = rp->e < b ? rp->e : b;

		if (lo < hi)
			memcpy(f->out.ptr + o + (lo - a), rp->text + (lo - rp->s), hi - lo);
	}
}

static size_t rtrim(const char *p, size_t n)
{
	while (n && blank((unsigned char)p[n - 1]))
		n--;
	return n;
}

/* Print instruction node n into f->out. */
static void print_inst(struct fmt *f, const struct df_node *n, int reindent)
{
	const struct df_inst *in = n->inst;
	const char *t = n->text.ptr;
	size_t pi = 0, si = 0, j, next_code = 0;
	struct df_span prev_indent = { "", 0 };

	f->nblank = 0;
	df_buf_reset(&f->out);
	for (j = 0; j < n->nlines; j++) {
		const struct df_line *L = &n->lines[j];
		size_t cend = L->off + L->indent + L->body, ls, le, x;
		const struct df_piece *P;

		if (L->kind == DF_LINE_BLANK) {
			f->nblank++;
			continue;
		}
		if (L->kind == DF_LINE_COMMENT) {
			/* dropped by BuildKit: indent it like the code it sits in */
			if (reindent) {
				df_buf_add(&f->out, f->unit, f->unitlen);
			} else {
				if (next_code <= j)
					for (next_code = j + 1; next_code < n->nlines &&
					     n->lines[next_code].kind != DF_LINE_CODE; next_code++)
						;
				if (next_code < n->nlines)
					df_buf_add(&f->out, t + n->lines[next_code].off,
						   n->lines[next_code].indent);
				else
					df_buf_add(&f->out, prev_indent.ptr, prev_indent.len);
			}
			df_buf_add(&f->out, t + L->off + L->indent,
				   rtrim(t + L->off + L->indent, L->body));
			df_buf_add(&f->out, t + cend + L->cont, L->eol);
			continue;
		}
		if (L->kind != DF_LINE_CODE) {
			df_buf_add(&f->out, t + L->off, L->indent + L->body + L->cont + L->eol);
			continue;
		}
		if (j > 0) {
			prev_indent.ptr = t + L->off;
			prev_indent.len = L->indent;
		}
		if (!(pi < in->npieces && in->pieces[pi].node_off >= L->off &&
		      in->pieces[pi].node_off < cend)) {
			/* a line holding only the escape character */
			if (reindent)
				continue;
			df_buf_add(&f->out, t + L->off, cend - L->off);
			goto line_end;
		}
		P = &in->pieces[pi++];
		ls = P->log_off;
		le = ls + P->len;
		x = ls;
		if (j == 0) {
			if (P->node_off - L->off >= 3 && memcmp(t + L->off, bom, 3) == 0)
				df_buf_add(&f->out, bom, 3);
		} else if (reindent) {
			if (si < f->nseg && f->segs[si].s <= ls && f->segs[si].e > ls) {
				if (f->segs[si].e >= le) {
					/* blanks only: the line goes */
					if (f->segs[si].e == le)
						si++;
					continue;
				}
				x = f->segs[si++].e;
			}
			df_buf_add(&f->out, f->unit, f->unitlen);
		}
		for (;;) {
			size_t nx = si < f->nseg ? f->segs[si].s : (size_t)-1, fe = nx < le ? nx : le;
			const struct seg *S;
			size_t a, b;

			if (x < fe) {
				put_fixed(f, t + P->node_off + (x - ls), x, fe);
				x = fe;
			}
			if (si >= f->nseg || f->segs[si].s > le)
				break;
			S = &f->segs[si];
			if (S->s == le && S->e > le)
				break;
			a = S->s > x ? S->s : x;
			b = S->e < le ? S->e : le;
			if (S->touch) {
				if (!reindent)
					df_buf_add(&f->out, t + P->node_off + (a - ls), b - a);
			} else if (S->kind == SEP) {
				df_buf_addc(&f->out, ' ');
			}
			x = b;
			if (S->e > le)
				break;
			si++;
		}
line_end:
		if (L->cont) {
			/* ` \` at the end (a dropped trailing blank comes back) */
			if (!(f->out.len && blank((unsigned char)f->out.ptr[f->out.len - 1])) &&
			    (reindent || (cend > L->off && blank((unsigned char)t[cend - 1]))))
				df_buf_addc(&f->out, ' ');
			df_buf_addc(&f->out, t[cend]);
		}
		df_buf_add(&f->out, t + cend + L->cont, L->eol);
	}
}

/* ---- keeping only what means the same ---- */

static int same_heredocs(const struct df_inst *a, const struct df_inst *b)
{
	size_t i;

	if (a->nheredocs != b->nheredocs)
		return 0;
	for (i = 0; i < a->nheredocs; i++) {
		const struct df_heredoc *x = &a->heredocs[i], *y = &b->heredocs[i];

		if (x->chomp != y->chomp || x->expand != y->expand || x->fd != y->fd ||
		    x->name.len != y->name.len || memcmp(x->name.ptr, y->name.ptr, x->name.len) ||
		    x->body.len != y->body.len || memcmp(x->body.ptr, y->body.ptr, x->body.len))
			return 0;
	}
	return 1;
}

static int same_meaning(struct fmt *f, const struct df_node *a, const struct df_node *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind != DF_INSTRUCTION)
		return 1;
	if (!a->inst || !b->inst || !same_heredocs(a->inst, b->inst))
		return 0;
	return df_inst_same_dump(a->inst, b->inst);
}

/* ---- the file's continuation indent ---- */

/* Count one indent p[0, n) (one: +1, or (size_t)-1 to take it back). */
static void hist_add(struct hist *h, const char *p, size_t n, size_t one)
{
	size_t i, sp = 0, tb = 0;

	for (i = 0; i < n; i++) {
		if (p[i] == ' ')
			sp++;
		else
			tb++;
	}
	if (sp && tb)
		h->other += one;
	else if (tb)
		h->tabs += one;
	else if (sp <= 16)
		h->width[sp] += one, h->nspaces += one;
	else
		h->other += one;
}

/* The indent a histogram agrees on: tabs only, or spaces only with one
 * width on more than half of the lines (deeper nesting allowed). NULL when
 * mixed or empty. */
static const char *hist_unit(const struct hist *h, size_t *len)
{
	size_t w, best = 0;

	if (h->other || (h->tabs && h->nspaces) || (!h->tabs && !h->nspaces))
		return NULL;
	if (h->tabs) {
		*len = 1;
		return "\t";
	}
	for (w = 1; w <= 16; w++)
		if (h->width[w] > h->width[best])
			best = w;
	if (2 * h->width[best] <= h->nspaces)
		return NULL;
	*len = best;
	return spaces;
}

/*
 * The continuation indent: an explicit --indent other than the default 4,
 * else the indent the file already uses consistently, else ctx->indent.
 * Lines this pass can never re-indent decide first, so the choice is the
 * same on the pass's own output (idempotence). The histograms fill while the
 * pass walks the file (hist_node); the nodes to re-indent wait for the
 * choice (choose_unit).
 */
static void unit_init(struct fmt *f)
{
	size_t w = f->ctx->indent < 0 ? 4 : (size_t)f->ctx->indent;

	if (w > sizeof(spaces) - 1)
		w = sizeof(spaces) - 1;
	f->unit = spaces;
	f->unitlen = w;
	f->unit_open = w == 4;
	memset(&f->hin, 0, sizeof(f->hin));
}

/* Count (one = 1) or take back (one = (size_t)-1) the continuation
 * indents of instruction node n into the histogram its verdict r (from
 * analyse(); 0 when the pass leaves it alone) puts it in. */
static void hist_lines(struct hists *hs, const struct df_node *n, int r, size_t one)
{
	struct hist *h = r > 0 ? &hs->moving : &hs->fixed;
	size_t j;

	if (n->nlines < 2 || n->inst->npieces < 2)
		return;
	if (r > 0)
		hs->nmoving += one;
	for (j = 1; j < n->nlines; j++) {
		const struct df_line *L = &n->lines[j];

		if (L->kind == DF_LINE_CODE && L->indent && L->body)
			hist_add(h, n->text.ptr + L->off, L->indent, one);
	}
}

static void hist_node(struct fmt *f, const struct df_node *n, int r)
{
	if (f->unit_open)
		hist_lines(&f->hin, n, r, 1);
}

/* The unit the histograms choose (*len as it was when they agree on none). */
static const char *pick_unit(const struct hists *hs, const char *unit, size_t *len)
{
	const char *u;
	size_t w = *len;

	if (!hs->nmoving)
		return unit;
	if (hs->fixed.tabs || hs->fixed.nspaces || hs->fixed.other)
		u = hist_unit(&hs->fixed, &w);
	else
		u = hist_unit(&hs->moving, &w);
	if (!u)
		return unit;
	*len = w;
	return u;
}

static void choose_unit(struct fmt *f)
{
	if (f->unit_open)
		f->unit = pick_unit(&f->hin, f->unit, &f->unitlen);
}

/* ---- committing the changes ---- */

static void note(struct fmt *f, const struct df_node *old, const struct change *c)
{
	const struct df_inst *in = old->inst;
	const char *up;
	int kw;

	if (c->eol_added)
		df_ctx_finding(f->ctx, NULL, old->line, "added the final newline");
	if (c->only_eol)
		return;
	if (old->kind == DF_COMMENT) {
		df_ctx_finding(f->ctx, NULL, old->line, "removed blanks around the comment");
		return;
	}
	if (old->kind != DF_INSTRUCTION) {
		df_ctx_finding(f->ctx, NULL, old->line, "emptied a line of blanks");
		return;
	}
	up = df_cmd_name(in->cmd);
	kw = in->cmd != DF_CMD_UNKNOWN && memcmp(in->keyword.ptr, up, in->keyword.len) != 0;
	if (c->nblank)
		df_ctx_finding(f->ctx, "NoEmptyContinuation", old->line,
			       "%s%s%sremoved %u empty continuation line%s "
			       "(BuildKit ignores them and warns)",
			       kw ? "upper-cased " : "", kw ? up : "", kw ? "; " : "", c->nblank,
			       c->nblank == 1 ? "" : "s");
	else if (kw)
		df_ctx_finding(f->ctx, "ConsistentInstructionCasing", old->line, "upper-cased %s%s",
			       up, c->only_keyword ? "" : ", normalised spacing");
	else
		df_ctx_finding(f->ctx, NULL, old->line, "normalised spacing of %s", up);
}

static int plain_line(const struct fmt *f, const struct df_node *n);

/* All of this pass's bits of df_node.seen. */
#define FORMAT_MARKS (DF_SEEN_FORMAT | DF_SEEN_FORMAT_MOVING | DF_SEEN_FORMAT_ALONE)

/* The marks of a node another run would leave as it is, with verdict r. */
static unsigned char mark_of(int r)
{
	return DF_SEEN_FORMAT | (r > 0 ? DF_SEEN_FORMAT_MOVING : r < 0 ? DF_SEEN_FORMAT_ALONE : 0);
}

/*
 * Would another run change the new node nw of old? Its indents replace the
 * old ones in the histograms of the output (the unit must come out the
 * same, see commit), and printing it again must give it back. Returns the
 * marks nw gets: none unless it is left as it is.
 */
static unsigned char settle_check(struct fmt *f, const struct change *c, const struct df_node *old,
				  const struct df_node *nw)
{
	int ign = df_pass_ignored(f->ctx, f->doc, c->idx), r;

	if (old->kind != DF_INSTRUCTION || !old->inst || !nw->inst) {
		if (nw->kind == DF_INSTRUCTION)
			f->unsettled = 1; /* not a case the pass makes */
		return 0;
	}
	r = ign ? 0 : analyse(f, nw);
	if (f->unit_open) {
		hist_lines(&f->hout, old, f->verdict[c->idx], (size_t)-1);
		hist_lines(&f->hout, nw, r, 1);
	}
	if (ign)
		return 0;
	/* only the keyword's case or the final newline changed: the blanks
	 * were right already, and print the same again */
	if (r < 0 || c->only_keyword || c->only_eol || plain_line(f, nw))
		return mark_of(r);
	print_inst(f, nw, r);
	if (f->out.len != nw->text.len || memcmp(f->out.ptr, nw->text.ptr, f->out.len) != 0) {
		f->unsettled = 1;
		return 0;
	}
	return mark_of(r);
}

/* Put the parsed new node in place of the old one if it means the same. */
static int swap_in(struct fmt *f, const struct change *c, const struct df_node *nw)
{
	struct df_node *old = &f->doc->nodes[c->idx];
	uint32_t line = old->line;
	unsigned char mark;

	if (!same_meaning(f, old, nw))
		return 0;
	mark = settle_check(f, c, old, nw);
	note(f, old, c);
	*old = *nw;
	old->line = line;
	f->mark[c->idx] = mark;
	return 1;
}

/*
 * Parse the new texts of all changed nodes at once (each node's text is
 * self-contained, so they split again at the same places) and swap in each
 * node whose BuildKit meaning is unchanged. The nodes after a changed one do
 * not move: a file full of changes stays linear.
 */
static int commit(struct fmt *f)
{
	struct df_doc *doc = f->doc, *frag;
	size_t k;
	char *copy;
	int n = 0;

	if (!f->nch)
		return 0;
	f->hout = f->hin;
	copy = df_arena_dup(&doc->arena, f->batch.ptr, f->batch.len);
	frag = df_doc_parse_in(doc, copy, f->batch.len);
	if (frag->ndiags == 0 && frag->nnodes == f->nch) {
		for (k = 0; k < f->nch; k++)
			n += swap_in(f, &f->ch[k], &frag->nodes[k]);
		df_doc_free(frag);
		return n;
	}
	df_doc_free(frag);
	/* it did not split as expected: one node at a time */
	for (k = 0; k < f->nch; k++) {
		frag = df_doc_parse_in(doc, copy + f->ch[k].off, f->ch[k].len);
		if (frag->ndiags == 0 && frag->nnodes == 1 && swap_in(f, &f->ch[k], &frag->nodes[0]))
			n++;
		df_doc_free(frag);
	}
	return n;
}

/* Queue f->out as the new text of node i when it differs. */
static void queue(struct fmt *f, size_t i, unsigned nblank)
{
	const struct df_node *n = &f->doc->nodes[i];
	struct change *c;

	if (!f->out.len || (f->out.len == n->text.len && !memcmp(f->out.ptr, n->text.ptr, n->text.len)))
		return;
	if (f->nch == f->chcap) {
		f->chcap = f->chcap ? f->chcap * 2 : 64;
		f->ch = df_xrealloc(f->ch, f->chcap * sizeof(*f->ch));
	}
	c = &f->ch[f->nch++];
	c->idx = i;
	c->off = f->batch.len;
	c->len = f->out.len;
	c->nblank = nblank;
	c->eol_added = 0;
	c->only_eol = 0;
	c->only_keyword = 0;
	df_buf_add(&f->batch, f->out.ptr, f->out.len);
}

/* ---- the pass ---- */

/* Length of a node's text without its line end (the \r\n run). */
static size_t text_end(const struct df_node *n)
{
	size_t e = n->text.len;

	while (e && (n->text.ptr[e - 1] == '\n' || n->text.ptr[e - 1] == '\r'))
		e--;
	return e;
}

/*
 * A one-line instruction the pass would print as it is: the keyword in upper
 * case at the start of the line, printable ASCII with single spaces, none at
 * the end or where JSON glues tokens together, one after each comma that may
 * be JSON's. A free segment there prints as the one space it is, so
 * analysing the node would change nothing; most lines of most files are
 * like this.
 */
static int plain_line(const struct fmt *f, const struct df_node *n)
{
	/* only the node's text: its line table and model stay out of the cache */
	const unsigned char *p = (const unsigned char *)n->text.ptr, *e = p + text_end(n);
	int kw = 1, bracket = 0;

	if (n->nlines != 1 || e == p || e[-1] == ' ' || e[-1] == (unsigned char)f->esc ||
	    (e - p >= 7 && memcmp(p, "ONBUILD", 7) == 0))
		return 0;
	for (; p < e; p++) {
		if (*p == ' ') {
			if (kw && p == (const unsigned char *)n->text.ptr)
				return 0;
			if (p[1] == ' ' || p[1] == ']' || p[1] == ',' || p[-1] == '[')
				return 0;
			kw = 0;
		} else if (*p < 0x21 || *p > 0x7e || (kw && !(*p >= 'A' && *p <= 'Z'))) {
			return 0;
		} else if (*p == '[') {
			bracket = 1;
		} else if (*p == ',' && bracket && p + 1 < e && p[1] != ' ') {
			return 0; /* JSON puts a blank after the comma */
		}
	}
	return 1;
}

static void print_queue(struct fmt *f, size_t i, int r)
{
	const struct df_node *n = &f->doc->nodes[i];
	size_t ko, a, b;

	print_inst(f, n, r);
	queue(f, i, f->nblank);
	if (!f->nch || f->ch[f->nch - 1].idx != i || f->out.len != n->text.len)
		return;
	/* did only the keyword's bytes change? */
	ko = df_inst_node_off(n->inst, (size_t)(n->inst->keyword.ptr - n->inst->logical.ptr));
	for (a = 0; a < n->text.len && f->out.ptr[a] == n->text.ptr[a]; a++)
		;
	for (b = n->text.len; b > a && f->out.ptr[b - 1] == n->text.ptr[b - 1]; b--)
		;
	f->ch[f->nch - 1].only_keyword = a >= ko && b <= ko + n->inst->keyword.len;
}

static void push_idx(size_t **v, size_t *n, size_t *cap, size_t i)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = df_xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = i;
}

/*
 * An instruction a run of this pass left as it is carries DF_SEEN_FORMAT
 * (with its verdict: MOVING, ALONE or neither), and the memo records the
 * escape and the unit that held under. The node's text decides the rest,
 * so while it is there (a re-parse keeps a node it leaves alone, marks and
 * all) another run needs only its indents for the histograms. Two things
 * come from around it: the escape (no mark holds under another) and, for a
 * MOVING node, the unit and whether a pragma above switches the pass off
 * (checked again; when the unit differs it is laid out again).
 */
static int marked(struct fmt *f, size_t i)
{
	const struct df_node *n = &f->doc->nodes[i];
	int moving = (n->seen & DF_SEEN_FORMAT_MOVING) != 0, r;

	if (!f->use_marks || !(n->seen & DF_SEEN_FORMAT) ||
	    (moving && df_pass_ignored(f->ctx, f->doc, i)))
		return 0;
	r = moving ? 1 : (n->seen & DF_SEEN_FORMAT_ALONE) ? -1 : 0;
	hist_node(f, n, r);
	f->verdict[i] = (signed char)r;
	f->mark[i] = n->seen & FORMAT_MARKS;
	if (moving)
		push_idx(&f->moving, &f->nmoving, &f->movingcap, i);
	f->skipped++;
	return 1;
}

static void format_inst(struct fmt *f, size_t i)
{
	const struct df_node *n = &f->doc->nodes[i];
	int r;

	if (marked(f, i))
		return;
	if (plain_line(f, n)) { /* one line, nothing to change (ignored or not) */
		f->mark[i] = DF_SEEN_FORMAT;
		return;
	}
	if (df_pass_ignored(f->ctx, f->doc, i)) {
		hist_node(f, n, 0);
		return;
	}
	r = analyse(f, n);
	hist_node(f, n, r);
	f->verdict[i] = (signed char)r;
	if (r < 0) {
		f->mark[i] = mark_of(r);
		return;
	}
	if (r > 0 && f->unit_open) {
		/* re-indented: printed once the file's unit is known */
		push_idx(&f->later, &f->nlater, &f->latercap, i);
		return;
	}
	print_queue(f, i, r);
	f->mark[i] = mark_of(r); /* unless it changes */
}

/* After the unit is chosen: the MOVING marks hold for it, or those nodes
 * are laid out again (with the others that wait for it). */
static void check_moving(struct fmt *f, const struct df_memo *m)
{
	size_t k;

	if (f->unitlen == m->fmt_unitlen && f->unit[0] == m->fmt_unit)
		return;
	for (k = 0; k < f->nmoving; k++)
		push_idx(&f->later, &f->nlater, &f->latercap, f->moving[k]);
}

static int by_idx(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A comment or blank line between instructions: no indent, no trailing
 * blanks (the BOM stays). */
static void format_line(struct fmt *f, size_t i)
{
	const struct df_node *n = &f->doc->nodes[i];
	const unsigned char *t0 = (const unsigned char *)n->text.ptr;
	size_t e0 = text_end(n);
	const struct df_line *L;

	/* most are as they should be: "#..." without blanks at the end, or
	 * an empty line (seen from the text alone) */
	if (n->nlines == 1 && (e0 == 0 || (t0[0] == '#' && t0[e0 - 1] != ' ' && t0[e0 - 1] != '\t')))
		return;
	L = &n->lines[0];
	const char *t = n->text.ptr;
	size_t keep = L->indent >= 3 && memcmp(t, bom, 3) == 0 ? 3 : 0;
	size_t body = rtrim(t + L->off + L->indent, L->body);

	if (n->nlines != 1 || (L->indent == keep && body == L->body && !L->cont))
		return;
	df_buf_reset(&f->out);
	df_buf_add(&f->out, t, keep);
	df_buf_add(&f->out, t + L->off + L->indent, body);
	df_buf_add(&f->out, t + L->off + L->indent + L->body + L->cont, L->eol);
	queue(f, i, 0);
}

static int is_bom_line(const struct df_node *n)
{
	return n->text.len >= 3 && memcmp(n->text.ptr, bom, 3) == 0;
}

/* The last live node gets the final newline it lacks. */
static void final_newline(struct fmt *f, const unsigned char *dead)
{
	struct df_doc *doc = f->doc;
	const struct df_node *n;
	const char *eol = df_doc_eol(doc);
	size_t i = doc->nnodes;

	while (i > 0 && dead[i - 1])
		i--;
	if (!i)
		return;
	n = &doc->nodes[--i];
	if (n->kind == DF_DIRECTIVE || n->kind == DF_ERROR)
		return;
	if (f->nch && f->ch[f->nch - 1].idx == i) {
		if (f->batch.ptr[f->batch.len - 1] == '\n')
			return;
	} else {
		if (!n->text.len || n->text.ptr[n->text.len - 1] == '\n')
			return;
		df_buf_reset(&f->out);
		df_buf_add(&f->out, n->text.ptr, n->text.len);
		df_buf_adds(&f->out, eol);
		queue(f, i, 0);
		f->ch[f->nch - 1].eol_added = 1;
		f->ch[f->nch - 1].only_eol = 1;
		return;
	}
	df_buf_adds(&f->batch, eol);
	f->ch[f->nch - 1].len += strlen(eol);
	f->ch[f->nch - 1].eol_added = 1;
}

static int run(struct df_ctx *ctx, struct df_doc *doc)
{
	struct df_memo *memo = df_doc_memo(doc);
	struct fmt f;
	unsigned char *dead = df_xcalloc(doc->nnodes + 1, 1);
	size_t i, w, end, removed = 0;
	int changes = 0;

	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	f.doc = doc;
	f.esc = doc->escape;
	f.verdict = df_xcalloc(doc->nnodes + 1, 1);
	f.mark = df_xcalloc(doc->nnodes + 1, 1);
	f.use_marks = memo->fmt_unitlen && memo->fmt_esc == doc->escape;
	unit_init(&f);
	/* no blank lines at the end */
	for (end = doc->nnodes; end > 1 && doc->nodes[end - 1].kind == DF_BLANK &&
	     !is_bom_line(&doc->nodes[end - 1]); end--)
		dead[end - 1] = 1;
	if (end < doc->nnodes) {
		df_ctx_finding(ctx, NULL, doc->nodes[end].line,
			       "removed blank lines at the end of the file");
		changes++;
	}
	for (i = 0; i < end; i++) {
		const struct df_node *n = &doc->nodes[i];

		switch (n->kind) {
		case DF_INSTRUCTION:
			if (n->inst)
				format_inst(&f, i);
			break;
		case DF_COMMENT:
			format_line(&f, i);
			break;
		case DF_BLANK:
			if (i > 0 && doc->nodes[i - 1].kind == DF_BLANK && !is_bom_line(n)) {
				/* at most one blank line in a row */
				if (!removed++) {
					df_ctx_finding(ctx, NULL, n->line, "removed extra blank lines");
					changes++;
				}
				dead[i] = 1;
				continue;
			}
			format_line(&f, i);
			break;
		default:
			break;
		}
		removed = 0;
	}
	choose_unit(&f);
	check_moving(&f, memo);
	for (i = 0; i < f.nlater; i++) {
		analyse(&f, &doc->nodes[f.later[i]]);
		print_queue(&f, f.later[i], 1);
		f.mark[f.later[i]] = mark_of(1);
	}
	if (f.nlater && f.nch) {
		/* back into node order, texts too (commit parses them in one go) */
		struct df_buf b = DF_BUF_INIT;

		qsort(f.ch, f.nch, sizeof(*f.ch), by_idx);
		df_buf_grow(&b, f.batch.len);
		for (i = 0; i < f.nch; i++) {
			df_buf_add(&b, f.batch.ptr + f.ch[i].off, f.ch[i].len);
			f.ch[i].off = b.len - f.ch[i].len;
		}
		df_buf_release(&f.batch);
		f.batch = b;
	}
	final_newline(&f, dead);
	for (i = 0; i < f.nch; i++) /* a node that changes: as swap_in finds it */
		f.mark[f.ch[i].idx] = 0;
	changes += commit(&f);
	if (changes && !f.unsettled) {
		int same = 1;

		if (f.unit_open && f.nch) {
			/* another run starts from the default unit and the
			 * output's histograms: it must choose this one */
			size_t len = 4;
			const char *u = pick_unit(&f.hout, spaces, &len);

			same = len == f.unitlen && memcmp(u, f.unit, len) == 0;
		}
		ctx->self_settled = same;
	}
	/* every node gets the marks of this run (none: those it did not
	 * look at, changed, or that a pragma keeps from it) */
	for (i = w = 0; i < doc->nnodes; i++) {
		if (dead[i])
			continue;
		doc->nodes[i].seen = (uint8_t)((doc->nodes[i].seen & ~FORMAT_MARKS) | f.mark[i]);
		doc->nodes[w++] = doc->nodes[i];
	}
	memo->fmt_esc = f.esc;
	memo->fmt_unit = f.unit[0];
	memo->fmt_unitlen = f.unitlen;
	df_nodes_skipped(ctx, f.skipped);
	if (w != doc->nnodes || changes)
		doc->edits++;
	doc->nnodes = w;
	free(dead);
	free(f.mark);
	free(f.moving);
	free(f.segs);
	free(f.ch);
	free(f.later);
	free(f.verdict);
	df_buf_release(&f.out);
	df_buf_release(&f.batch);
	return changes;
}

const struct df_pass df_pass_format = {
	.id = "format",
	.level = DF_LEVEL_FORMAT,
	.codes = "ConsistentInstructionCasing,NoEmptyContinuation",
	.summary = "upper-case keywords, one blank between words, tidy continuations and blank lines",
	.doc =
	"Lays the file out the way the best Dockerfiles are written, without changing\n"
	"what BuildKit parses: `dfix --dump` is identical before and after (every\n"
	"rewritten instruction is parsed again and kept only if its dump and heredocs\n"
	"are unchanged). Safe as format-on-save: `dfix --level format -`.\n"
	"\n"
	"It does:\n"
	"  - upper-case instruction keywords, including an ONBUILD trigger's;\n"
	"  - drop the indentation of instruction lines and of comment lines between\n"
	"    instructions (a UTF-8 BOM stays);\n"
	"  - put one space between keyword, flags and arguments, and between the words\n"
	"    of FROM, EXPOSE, ARG, ENV/LABEL key=value, COPY/ADD/VOLUME, HEALTHCHECK;\n"
	"  - write JSON (exec-form) arrays as [\"a\", \"b\"]: only the blanks between\n"
	"    tokens change, each string stays exactly as written (escapes included);\n"
	"  - remove trailing blanks: after the continuation escape, at the end of an\n"
	"    instruction, on comment and blank lines;\n"
	"  - end continued lines with ` \\` and indent continuation lines by 4 spaces\n"
	"    (--indent N, or the indent the file already uses consistently) when the\n"
	"    line breaks fall between words that BuildKit splits anyway;\n"
	"  - indent comment lines inside a continuation like the code around them;\n"
	"  - remove empty lines inside a continuation (BuildKit ignores them and warns:\n"
	"    NoEmptyContinuation);\n"
	"  - keep at most one blank line in a row, none at the end, one final newline.\n"
	"\n"
	"It never:\n"
	"  - changes a byte inside an argument: shell text, quoted strings, JSON\n"
	"    strings, values of USER/WORKDIR/STOPSIGNAL/MAINTAINER, legacy `ENV k v`;\n"
	"  - re-indents continuation lines of shell-form RUN/CMD/ENTRYPOINT/SHELL:\n"
	"    BuildKit keeps their leading blanks in the command string, so moving them\n"
	"    would change --dump (the same holds for `&&` at line starts: not moved);\n"
	"  - touches heredoc bodies or terminators, parser directives, comment text,\n"
	"    or instructions under `# dfix ignore=format`;\n"
	"  - changes line endings (CRLF files stay CRLF), the BOM, or `# escape=`;\n"
	"  - upper-cases FROM's `as`: --dump records it as written, so the modernize\n"
	"    pass (level safe) does it.\n",
	.run = run,
};
