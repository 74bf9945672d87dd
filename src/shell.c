/*
 * shell.c - the shell view of a shell-form RUN/CMD/ENTRYPOINT body: a lexer
 * and flat parser for the POSIX sh subset Dockerfiles use (see shell.h).
 *
 * One left-to-right pass. Words are scanned with an explicit stack of
 * quoting contexts ("...", ${...}, $(...), $((...))); groups and control
 * flow use an explicit stack of frames. Both stacks are bounded by
 * DF_SH_MAX_DEPTH, so no input recurses or overflows. Arrays grow by
 * doubling inside the arena (at most twice the final size is allocated).
 *
 * Limits, on purpose (the parse fails, passes leave the RUN alone):
 * `case` inside $(...) can close the substitution early; heredocs inside
 * $(...) are not recognised; bash ;& ;;& and <(...) are refused.
 */
#include <string.h>

#include "shell.h"

#define MAX_HEREDOCS 16

enum ctx_kind { C_DQ, C_CMD, C_BRACE, C_ARITH };

struct ctx {
	uint8_t kind;
	uint32_t parens; /* C_CMD, C_ARITH: unmatched '(' inside */
	uint32_t start;  /* first byte inside */
};

enum frame_kind { F_PAREN, F_BRACE, F_IF, F_LOOP, F_CASE };

struct frame {
	uint8_t kind;
	uint8_t pat;  /* F_CASE: expecting a pattern (not a branch body) */
	uint32_t cmd; /* the group or opening keyword */
};

struct pending {
	const char *delim;
	size_t len;
	int chomp;
};

struct tword {
	struct df_sh_word w;
	uint32_t owner;
};

struct lexer {
	struct df_arena *a;
	const char *p;
	size_t n;
	struct df_sh_script *out;
	struct df_sh_cmd *cmds;
	size_t ncmds, capcmds;
	struct tword *words; /* all words, owner-tagged; sorted at the end */
	size_t nwords, capwords;
	struct df_sh_word *comments;
	size_t ncomments, capcomments;
	struct frame frames[DF_SH_MAX_DEPTH];
	size_t nframes;
	struct ctx ctx[DF_SH_MAX_DEPTH];
	size_t nctx;
	struct pending pend[MAX_HEREDOCS];
	size_t npend;
	long cur;        /* command being built, -1 between commands */
	int closed;      /* cur is a closed group/fi/done/esac: redirections only */
	int need_cmd;    /* after && || |: a command must follow */
	int seen_name;   /* cur has a word that is not an assignment */
	int case_head;   /* cur is "case WORD" waiting for "in" */
	int last_comment;
	const char *error;
	size_t error_off;
};

/* ---- characters ---- */

static int is_blank(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static int is_opchar(unsigned char c)
{
	switch (c) {
	case ';': case '&': case '|': case '(': case ')': case '<': case '>':
		return 1;
	}
	return 0;
}

static int ends_word(unsigned char c)
{
	return is_blank(c) || c == '\n' || is_opchar(c);
}

/* Bytes a word simply goes on over (most of them): all but NUL, blank,
 * newline, the operators ;&|()<>, quotes and escape \\ ' " `, $, the globs
 * * ? [ and ~ (bits of the ASCII ones below: 0 9 10 32 34 36 38 39 40 41
 * 42 59 60 62 63 | 91 92 96 124 126). */
static int plain_byte(unsigned char c)
{
	static const uint64_t special[2] = { 0xd80007d500000601u, 0x5000000118000000u };

	return c >= 128 || !((special[c >> 6] >> (c & 63)) & 1);
}

static int is_name_start(unsigned char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_name(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_special_param(unsigned char c)
{
	switch (c) {
	case '@': case '*': case '#': case '?': case '$': case '!': case '-':
		return 1;
	}
	return is_digit(c);
}

/* A byte after which '#' starts a comment inside $(...). */
static int is_cmd_sep(unsigned char c)
{
	return is_blank(c) || c == '\n' || is_opchar(c);
}

static int span_is(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* NAME= at the start of the n bytes at s. */
static int is_assign(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !is_name_start((unsigned char)s[0]))
		return 0;
	while (i < n && is_name((unsigned char)s[i]))
		i++;
	return i < n && s[i] == '=';
}

/* Length of the redirection operator at i, fd digits included; 0 if none. */
static size_t redir_len(const char *p, size_t n, size_t i)
{
	size_t k = i;

	while (k < n && is_digit((unsigned char)p[k]))
		k++;
	if (k == i && k + 1 < n && p[k] == '&' && p[k + 1] == '>')
		return k + 2 < n && p[k + 2] == '>' ? 3 : 2;
	if (k >= n || (p[k] != '<' && p[k] != '>'))
		return 0;
	if (p[k] == '<') {
		if (k + 1 < n && p[k + 1] == '<')
			return k + 2 < n && (p[k + 2] == '<' || p[k + 2] == '-')
				? k + 3 - i : k + 2 - i;
		if (k + 1 < n && (p[k + 1] == '>' || p[k + 1] == '&'))
			return k + 2 - i;
		return k + 1 - i;
	}
	if (k + 1 < n && (p[k + 1] == '>' || p[k + 1] == '&' || p[k + 1] == '|'))
		return k + 2 - i;
	return k + 1 - i;
}

/* ---- storage ---- */

static void *grow(struct df_arena *a, void *old, size_t n, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p = df_arena_alloc_raw(a, ncap * size); /* callers fill what they use */

	if (n)
		memcpy(p, old, n * size);
	*cap = ncap;
	return p;
}

static int fail(struct lexer *lx, size_t off, const char *msg)
{
	if (!lx->error) {
		lx->error = msg;
		lx->error_off = off;
	}
	return -1;
}

static long new_cmd(struct lexer *lx, enum df_sh_kind kind, size_t off, size_t depth)
{
	struct df_sh_cmd *c;

	if (lx->ncmds == lx->capcmds)
		lx->cmds = grow(lx->a, lx->cmds, lx->ncmds, &lx->capcmds, sizeof(*lx->cmds));
	c = &lx->cmds[lx->ncmds];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->off = c->end = (uint32_t)off;
	c->depth = (uint32_t)depth;
	lx->cur = (long)lx->ncmds++;
	lx->closed = lx->need_cmd = lx->seen_name = 0;
	return lx->cur;
}

static void add_word(struct lexer *lx, long owner, size_t off, size_t len, uint32_t flags)
{
	struct tword *t;
	struct df_sh_cmd *c = &lx->cmds[owner];

	if (lx->nwords == lx->capwords)
		lx->words = grow(lx->a, lx->words, lx->nwords, &lx->capwords, sizeof(*lx->words));
	t = &lx->words[lx->nwords++];
	t->w.off = (uint32_t)off;
	t->w.len = (uint32_t)len;
	t->w.flags = flags;
	t->owner = (uint32_t)owner;
	c->nwords++;
	if (off + len > c->end)
		c->end = (uint32_t)(off + len);
}

static void set_op(struct lexer *lx, enum df_sh_op op, size_t off, size_t len)
{
	struct df_sh_cmd *c = &lx->cmds[lx->cur];

	c->op = op;
	c->op_off = (uint32_t)off;
	c->op_len = (uint32_t)len;
	lx->cur = -1;
	lx->closed = 0;
}

static int push_frame(struct lexer *lx, enum frame_kind kind, long cmd)
{
	struct frame *f;

	if (lx->nframes == DF_SH_MAX_DEPTH)
		return fail(lx, lx->cmds[cmd].off, "nesting too deep");
	f = &lx->frames[lx->nframes++];
	f->kind = (uint8_t)kind;
	f->pat = kind == F_CASE;
	f->cmd = (uint32_t)cmd;
	return 0;
}

static struct frame *top_frame(struct lexer *lx)
{
	return lx->nframes ? &lx->frames[lx->nframes - 1] : NULL;
}

/* ---- words ---- */

static int push_ctx(struct lexer *lx, enum ctx_kind kind, size_t start)
{
	struct ctx *c;

	if (lx->nctx == DF_SH_MAX_DEPTH)
		return fail(lx, start, "nesting too deep");
	c = &lx->ctx[lx->nctx++];
	c->kind = (uint8_t)kind;
	c->parens = 0;
	c->start = (uint32_t)start;
	return 0;
}

static int in_dq(const struct lexer *lx)
{
	return lx->nctx && lx->ctx[lx->nctx - 1].kind == C_DQ;
}

/* p[*ip] is a quote opening '...': move past its closing quote. With
 * escapes (bash $'...'), a backslash protects the next byte. */
static int skip_squote(struct lexer *lx, size_t *ip, int escapes)
{
	size_t i = *ip + 1;
	const char *q;

	if (!escapes) {
		q = memchr(lx->p + i, '\'', lx->n - i);
		if (!q)
			return fail(lx, *ip, "unterminated single quote");
		*ip = (size_t)(q - lx->p) + 1;
		return 0;
	}
	for (; i < lx->n; i++) {
		if (lx->p[i] == '\\')
			i++;
		else if (lx->p[i] == '\'') {
			*ip = i + 1;
			return 0;
		}
	}
	return fail(lx, *ip, "unterminated $'...'");
}

/* p[*ip] is '`': move past the closing backtick. */
static int skip_backtick(struct lexer *lx, size_t *ip)
{
	size_t i;

	for (i = *ip + 1; i < lx->n; i++) {
		if (lx->p[i] == '\\')
			i++;
		else if (lx->p[i] == '`') {
			*ip = i + 1;
			return 0;
		}
	}
	return fail(lx, *ip, "unterminated backquote");
}

/* p[*ip] is '$': step over a parameter, or open ${ $( $((. */
static int dollar(struct lexer *lx, size_t *ip, uint32_t *f)
{
	const char *p = lx->p;
	size_t i = *ip, n = lx->n;
	unsigned char c;

	if (i + 1 >= n) {
		*ip = i + 1;
		return 0;
	}
	c = (unsigned char)p[i + 1];
	if (c == '{') {
		*ip = i + 2;
		*f |= DF_SH_EXPAND;
		return push_ctx(lx, C_BRACE, i + 2);
	}
	if (c == '(') {
		*f |= DF_SH_EXPAND;
		if (i + 2 < n && p[i + 2] == '(') {
			*ip = i + 3;
			return push_ctx(lx, C_ARITH, i + 3);
		}
		*ip = i + 2;
		return push_ctx(lx, C_CMD, i + 2);
	}
	if (c == '\'' && !in_dq(lx)) {
		*ip = i + 1;
		if (!lx->nctx)
			*f |= DF_SH_SQUOTE;
		lx->out->complex = 1;
		return skip_squote(lx, ip, 1);
	}
	if (is_name_start(c)) {
		i += 2;
		while (i < n && is_name((unsigned char)p[i]))
			i++;
		*ip = i;
		*f |= DF_SH_EXPAND;
		return 0;
	}
	if (is_special_param(c)) {
		*ip = i + 2;
		*f |= DF_SH_EXPAND;
		return 0;
	}
	*ip = i + 1; /* a literal '$' */
	return 0;
}

/* One step inside the innermost quoting context. */
static int step_ctx(struct lexer *lx, size_t *ip, uint32_t *f)
{
	struct ctx *t = &lx->ctx[lx->nctx - 1];
	const char *p = lx->p;
	size_t i = *ip, n = lx->n;
	unsigned char c = (unsigned char)p[i];
	const char *q;

	switch (c) {
	case '\\':
		*ip = i + 2 <= n ? i + 2 : n;
		return 0;
	case '$':
		return dollar(lx, ip, f);
	case '`':
		*f |= DF_SH_EXPAND;
		return skip_backtick(lx, ip);
	case '"':
		if (t->kind == C_DQ) {
			lx->nctx--;
			*ip = i + 1;
			return 0;
		}
		*ip = i + 1;
		return push_ctx(lx, C_DQ, i + 1);
	case '\'':
		if (t->kind == C_DQ ||
		    (t->kind == C_BRACE && lx->nctx > 1 && lx->ctx[lx->nctx - 2].kind == C_DQ))
			break;
		return skip_squote(lx, ip, 0);
	case '}':
		if (t->kind == C_BRACE) {
			lx->nctx--;
			*ip = i + 1;
			return 0;
		}
		break;
	case '(':
		if (t->kind == C_CMD || t->kind == C_ARITH)
			t->parens++;
		break;
	case ')':
		if (t->kind == C_CMD) {
			if (t->parens)
				t->parens--;
			else
				lx->nctx--;
		} else if (t->kind == C_ARITH) {
			if (t->parens)
				t->parens--;
			else if (i + 1 < n && p[i + 1] == ')') {
				lx->nctx--;
				*ip = i + 2;
				return 0;
			} else
				return fail(lx, i, "unbalanced ')' in $((...))");
		}
		break;
	case '#':
		if (t->kind == C_CMD && (i == t->start || is_cmd_sep((unsigned char)p[i - 1]))) {
			q = memchr(p + i, '\n', n - i);
			*ip = q ? (size_t)(q - p) : n;
			return 0;
		}
		break;
	}
	*ip = i + 1;
	return 0;
}

static const char *ctx_error(const struct ctx *c)
{
	switch (c->kind) {
	case C_DQ: return "unterminated double quote";
	case C_BRACE: return "unterminated ${";
	case C_ARITH: return "unterminated $((";
	}
	return "unterminated $(";
}

/* Scan the word at i (p[i] does not end a word); *endp: its end. */
static int scan_word(struct lexer *lx, size_t i, size_t *endp, uint32_t *fp)
{
	const char *p = lx->p;
	size_t n = lx->n, start = i;
	uint32_t f = 0;
	unsigned char c;

	lx->nctx = 0;
	while (i < n) {
		if (lx->nctx) {
			if (step_ctx(lx, &i, &f) < 0)
				return -1;
			continue;
		}
		while (i < n && plain_byte((unsigned char)p[i]))
			i++;
		if (i == n)
			break;
		c = (unsigned char)p[i];
		if (ends_word(c))
			break;
		switch (c) {
		case '\\':
			f |= DF_SH_ESCAPE;
			i = i + 2 <= n ? i + 2 : n;
			break;
		case '\'':
			f |= DF_SH_SQUOTE;
			if (skip_squote(lx, &i, 0) < 0)
				return -1;
			break;
		case '"':
			f |= DF_SH_DQUOTE;
			if (push_ctx(lx, C_DQ, ++i) < 0)
				return -1;
			break;
		case '$':
			if (dollar(lx, &i, &f) < 0)
				return -1;
			break;
		case '`':
			f |= DF_SH_EXPAND;
			if (skip_backtick(lx, &i) < 0)
				return -1;
			break;
		case '*': case '?': case '[':
			f |= DF_SH_GLOB;
			i++;
			break;
		case '~':
			if (i == start || p[i - 1] == '=' || p[i - 1] == ':')
				f |= DF_SH_TILDE;
			i++;
			break;
		default:
			i++;
		}
	}
	if (lx->nctx)
		return fail(lx, lx->ctx[lx->nctx - 1].start, ctx_error(&lx->ctx[lx->nctx - 1]));
	*endp = i;
	*fp = f;
	return 0;
}

/* Copy of a heredoc delimiter with quotes and backslashes removed. */
static char *dequote_raw(struct df_arena *a, const char *s, size_t n, size_t *len)
{
	char *d = df_arena_alloc(a, n + 1);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '"')
			continue;
		if (s[i] == '\\' && i + 1 < n)
			i++;
		d[k++] = s[i];
	}
	*len = k;
	return d;
}

/* ---- commands ---- */

static size_t skip_blanks(const char *p, size_t n, size_t i)
{
	while (i < n) {
		if (is_blank((unsigned char)p[i]))
			i++;
		else if (p[i] == '\\' && i + 1 < n && p[i + 1] == '\n')
			i += 2;
		else
			break;
	}
	return i;
}

static const char *frame_name(enum frame_kind k)
{
	switch (k) {
	case F_PAREN: return "unclosed '('";
	case F_BRACE: return "unclosed '{'";
	case F_IF: return "'if' without 'fi'";
	case F_LOOP: return "loop without 'done'";
	case F_CASE: return "'case' without 'esac'";
	}
	return "unclosed group";
}

/* A keyword command for then/elif/else/do (mid) or fi/done/esac (end). */
static int keyword_in(struct lexer *lx, enum frame_kind kind, size_t i, size_t j, int end)
{
	struct frame *t = top_frame(lx);
	long idx;

	if (!t || t->kind != kind)
		return fail(lx, i, "keyword out of place");
	if (lx->need_cmd)
		return fail(lx, i, "missing command after operator");
	idx = new_cmd(lx, DF_SH_KEYWORD, i, lx->nframes - 1);
	add_word(lx, idx, i, j - i, DF_SH_RESERVED);
	if (!end) {
		lx->cur = -1;
		return 1;
	}
	lx->cmds[t->cmd].ninner = (uint32_t)(idx - (long)t->cmd);
	lx->nframes--;
	lx->closed = 1;
	return 1;
}

/* A keyword that opens a compound: if while until (alone), for select
 * case (their words follow). */
static int keyword_open(struct lexer *lx, enum frame_kind kind, size_t i, size_t j, int head)
{
	long idx = new_cmd(lx, DF_SH_KEYWORD, i, lx->nframes);

	add_word(lx, idx, i, j - i, DF_SH_RESERVED);
	lx->out->complex = 1;
	if (kind == F_CASE) {
		lx->case_head = 1;
		return 1;
	}
	if (push_frame(lx, kind, idx) < 0)
		return -1;
	if (!head)
		lx->cur = -1;
	return 1;
}

static int close_group(struct lexer *lx, enum frame_kind kind, size_t i, size_t end)
{
	struct frame *t = top_frame(lx);
	struct df_sh_cmd *g;

	if (!t || t->kind != kind)
		return fail(lx, i, kind == F_PAREN ? "unbalanced ')'" : "unbalanced '}'");
	if (lx->need_cmd)
		return fail(lx, i, "missing command after operator");
	g = &lx->cmds[t->cmd];
	g->ninner = (uint32_t)(lx->ncmds - 1 - t->cmd);
	if (!g->ninner)
		return fail(lx, i, "empty group");
	g->inner_end = (uint32_t)i;
	g->end = (uint32_t)end;
	lx->cur = (long)t->cmd;
	lx->nframes--;
	lx->closed = 1;
	return 1;
}

/* Reserved words at the start of a command: 1 handled, 0 not one, -1. */
static int keyword(struct lexer *lx, size_t i, size_t j)
{
	const char *s = lx->p + i;
	size_t n = j - i;
	long idx;

	if (span_is(s, n, "{")) {
		idx = new_cmd(lx, DF_SH_BRACE, i, lx->nframes);
		lx->cmds[idx].inner_off = (uint32_t)j;
		lx->cur = -1;
		return push_frame(lx, F_BRACE, idx) < 0 ? -1 : 1;
	}
	if (span_is(s, n, "}"))
		return close_group(lx, F_BRACE, i, j);
	if (span_is(s, n, "!")) {
		idx = new_cmd(lx, DF_SH_SIMPLE, i, lx->nframes);
		add_word(lx, idx, i, n, DF_SH_RESERVED);
		return 1;
	}
	if (span_is(s, n, "if"))
		return keyword_open(lx, F_IF, i, j, 0);
	if (span_is(s, n, "while") || span_is(s, n, "until"))
		return keyword_open(lx, F_LOOP, i, j, 0);
	if (span_is(s, n, "for") || span_is(s, n, "select"))
		return keyword_open(lx, F_LOOP, i, j, 1);
	if (span_is(s, n, "case"))
		return keyword_open(lx, F_CASE, i, j, 1);
	if (span_is(s, n, "then") || span_is(s, n, "elif") || span_is(s, n, "else"))
		return keyword_in(lx, F_IF, i, j, 0);
	if (span_is(s, n, "fi"))
		return keyword_in(lx, F_IF, i, j, 1);
	if (span_is(s, n, "do"))
		return keyword_in(lx, F_LOOP, i, j, 0);
	if (span_is(s, n, "done"))
		return keyword_in(lx, F_LOOP, i, j, 1);
	if (span_is(s, n, "esac"))
		return keyword_in(lx, F_CASE, i, j, 1);
	if (span_is(s, n, "function") || span_is(s, n, "[[") || span_is(s, n, "coproc"))
		lx->out->complex = 1;
	return 0;
}

static int word(struct lexer *lx, size_t i, size_t *ip)
{
	struct df_sh_cmd *c;
	size_t j;
	uint32_t f;
	int r;

	if (scan_word(lx, i, &j, &f) < 0)
		return -1;
	*ip = j;
	if (lx->cur < 0) {
		r = keyword(lx, i, j);
		if (r)
			return r < 0 ? -1 : 0;
		new_cmd(lx, DF_SH_SIMPLE, i, lx->nframes);
	} else if (lx->closed) {
		return fail(lx, i, "unexpected word after a closing keyword or group");
	}
	c = &lx->cmds[lx->cur];
	if (c->kind == DF_SH_SIMPLE) {
		if (!lx->seen_name && is_assign(lx->p + i, j - i))
			f |= DF_SH_ASSIGN;
		else
			lx->seen_name = 1;
	}
	add_word(lx, lx->cur, i, j - i, f);
	if (lx->case_head && c->nwords == 3) {
		if (!span_is(lx->p + i, j - i, "in"))
			return fail(lx, i, "'case' needs WORD in");
		lx->case_head = 0;
		if (push_frame(lx, F_CASE, lx->cur) < 0)
			return -1;
		lx->cur = -1;
	}
	return 0;
}

/* A case pattern "(a|b)" or the esac that ends the case. */
static int pattern(struct lexer *lx, size_t i, size_t *ip)
{
	const char *p = lx->p;
	size_t n = lx->n, j;
	uint32_t f;
	long idx;

	if (!is_opchar((unsigned char)p[i])) {
		if (scan_word(lx, i, &j, &f) < 0)
			return -1;
		if (span_is(p + i, j - i, "esac")) {
			*ip = j;
			return keyword_in(lx, F_CASE, i, j, 1) < 0 ? -1 : 0;
		}
	}
	idx = new_cmd(lx, DF_SH_PATTERN, i, lx->nframes);
	if (p[i] == '(')
		i++;
	for (;;) {
		i = skip_blanks(p, n, i);
		if (i >= n || ends_word((unsigned char)p[i]))
			return fail(lx, i, "bad case pattern");
		if (scan_word(lx, i, &j, &f) < 0)
			return -1;
		add_word(lx, idx, i, j - i, f);
		i = skip_blanks(p, n, j);
		if (i < n && p[i] == '|') {
			i++;
			continue;
		}
		if (i < n && p[i] == ')')
			break;
		return fail(lx, i, "bad case pattern");
	}
	lx->cmds[idx].end = (uint32_t)(i + 1);
	*ip = i + 1;
	top_frame(lx)->pat = 0;
	lx->cur = -1;
	return 0;
}

static int redirect(struct lexer *lx, size_t i, size_t rl, size_t *ip)
{
	const char *p = lx->p;
	size_t n = lx->n, k = i, t, j, oplen;
	uint32_t f, extra = DF_SH_REDIR;
	struct pending *h;
	int heredoc = 0, chomp = 0;

	while (k < n && is_digit((unsigned char)p[k]))
		k++;
	oplen = i + rl - k;
	if (p[k] == '&')
		lx->out->complex = 1; /* bash &> (dash: background, then redirect) */
	else if (oplen >= 2 && p[k] == '<' && p[k + 1] == '<') {
		if (oplen == 3 && p[k + 2] == '<')
			lx->out->complex = 1; /* here-string */
		else
			heredoc = 1, chomp = oplen == 3;
	}
	if (lx->cur < 0)
		new_cmd(lx, DF_SH_SIMPLE, i, lx->nframes);
	t = skip_blanks(p, n, i + rl);
	if (t >= n || ends_word((unsigned char)p[t]) || p[t] == '#')
		return fail(lx, i, "redirection without a target");
	if (scan_word(lx, t, &j, &f) < 0)
		return -1;
	if (heredoc) {
		if (lx->npend == MAX_HEREDOCS)
			return fail(lx, i, "too many heredocs");
		h = &lx->pend[lx->npend++];
		h->delim = dequote_raw(lx->a, p + t, j - t, &h->len);
		h->chomp = chomp;
		extra |= DF_SH_HEREDOC;
		lx->out->has_heredoc = 1;
	}
	add_word(lx, lx->cur, i, j - i, f | extra);
	*ip = j;
	return 0;
}

/* After a newline: skip the bodies of the heredocs opened on that line. */
static int heredoc_bodies(struct lexer *lx, size_t *ip)
{
	const char *p = lx->p, *q;
	size_t n = lx->n, i = *ip, e, s, k;
	struct pending *h;
	int found;

	for (k = 0; k < lx->npend; k++) {
		h = &lx->pend[k];
		found = 0;
		while (i < n && !found) {
			q = memchr(p + i, '\n', n - i);
			e = q ? (size_t)(q - p) : n;
			s = i;
			while (h->chomp && s < e && p[s] == '\t')
				s++;
			found = e - s == h->len && memcmp(p + s, h->delim, h->len) == 0;
			i = e < n ? e + 1 : n;
		}
		if (!found)
			return fail(lx, *ip, "heredoc without its terminator");
	}
	lx->npend = 0;
	lx->last_comment = 0;
	*ip = i;
	return 0;
}

static int open_paren(struct lexer *lx, size_t i, size_t *ip)
{
	const char *p = lx->p;
	struct df_sh_cmd *c;
	size_t k;
	long idx;

	if (lx->cur < 0) {
		idx = new_cmd(lx, DF_SH_SUBSHELL, i, lx->nframes);
		lx->cmds[idx].inner_off = (uint32_t)(i + 1);
		lx->cur = -1;
		if (i + 1 < lx->n && p[i + 1] == '(')
			lx->out->complex = 1; /* bash (( arithmetic )) */
		*ip = i + 1;
		return push_frame(lx, F_PAREN, idx);
	}
	c = &lx->cmds[lx->cur];
	k = skip_blanks(p, lx->n, i + 1);
	if (c->kind != DF_SH_SIMPLE || lx->closed || c->nwords != 1 ||
	    lx->words[lx->nwords - 1].w.flags || k >= lx->n || p[k] != ')')
		return fail(lx, i, "unexpected '('");
	c->kind = DF_SH_FUNCDEF;
	c->end = (uint32_t)(k + 1);
	lx->out->complex = 1;
	lx->cur = -1;
	*ip = k + 1;
	return 0;
}

static int operator(struct lexer *lx, size_t i, size_t *ip)
{
	const char *p = lx->p;
	unsigned char c = (unsigned char)p[i], c2 = i + 1 < lx->n ? (unsigned char)p[i + 1] : 0;
	struct frame *t;
	enum df_sh_op op;
	size_t len = 1;

	if (c == '&' && c2 == '&')
		op = DF_SH_OP_AND, len = 2;
	else if (c == '|' && c2 == '|')
		op = DF_SH_OP_OR, len = 2;
	else if (c == '|') {
		op = DF_SH_OP_PIPE;
		if (c2 == '&')
			len = 2, lx->out->complex = 1;
	} else if (c == ';' && c2 == ';') {
		if (i + 2 < lx->n && p[i + 2] == '&')
			return fail(lx, i, "bash ';;&' is not supported");
		op = DF_SH_OP_DSEMI, len = 2;
	} else if (c == ';' && c2 == '&')
		return fail(lx, i, "bash ';&' is not supported");
	else if (c == ';')
		op = DF_SH_OP_SEMI;
	else if (c == '&')
		op = DF_SH_OP_AMP;
	else
		return fail(lx, i, "unexpected operator");
	*ip = i + len;
	if (op == DF_SH_OP_DSEMI) {
		t = top_frame(lx);
		if (!t || t->kind != F_CASE || t->pat)
			return fail(lx, i, "';;' outside a case branch");
		if (lx->need_cmd)
			return fail(lx, i, "missing command after operator");
		if (lx->cur >= 0)
			set_op(lx, op, i, len);
		t->pat = 1;
		return 0;
	}
	if (lx->cur < 0)
		return fail(lx, i, "operator without a command before it");
	set_op(lx, op, i, len);
	if (op == DF_SH_OP_AND || op == DF_SH_OP_OR || op == DF_SH_OP_PIPE)
		lx->need_cmd = 1;
	return 0;
}

static void comment(struct lexer *lx, size_t i, size_t *ip)
{
	const char *q = memchr(lx->p + i, '\n', lx->n - i);
	size_t e = q ? (size_t)(q - lx->p) : lx->n;
	struct df_sh_word *w;

	if (lx->ncomments == lx->capcomments)
		lx->comments = grow(lx->a, lx->comments, lx->ncomments, &lx->capcomments,
				    sizeof(*lx->comments));
	w = &lx->comments[lx->ncomments++];
	w->off = (uint32_t)i;
	w->len = (uint32_t)(e - i);
	w->flags = DF_SH_COMMENT;
	lx->out->has_comment = 1;
	lx->last_comment = 1;
	*ip = e;
}

static int run(struct lexer *lx)
{
	const char *p = lx->p;
	size_t n = lx->n, i = 0, rl;
	struct frame *t;
	unsigned char c;
	int r;

	for (;;) {
		i = skip_blanks(p, n, i);
		if (i >= n)
			break;
		c = (unsigned char)p[i];
		rl = redir_len(p, n, i);
		if (lx->case_head && (c == '\n' || c == '#' || is_opchar(c) || rl))
			return fail(lx, i, "'case' needs WORD in");
		if (c == '\n') {
			if (lx->cur >= 0)
				set_op(lx, DF_SH_OP_NEWLINE, i, 1);
			i++;
			if (lx->npend && heredoc_bodies(lx, &i) < 0)
				return -1;
			continue;
		}
		if (c == '#') {
			comment(lx, i, &i);
			continue;
		}
		lx->last_comment = 0;
		t = top_frame(lx);
		if (t && t->kind == F_CASE && t->pat && lx->cur < 0)
			r = pattern(lx, i, &i);
		else if (rl)
			r = redirect(lx, i, rl, &i);
		else if (c == '(')
			r = open_paren(lx, i, &i);
		else if (c == ')') {
			r = close_group(lx, F_PAREN, i, i + 1) < 0 ? -1 : 0;
			i++;
		} else if (is_opchar(c))
			r = operator(lx, i, &i);
		else
			r = word(lx, i, &i);
		if (r < 0)
			return -1;
	}
	if (lx->need_cmd)
		return fail(lx, n, "missing command after operator");
	if (lx->case_head)
		return fail(lx, n, "'case' needs WORD in");
	if (lx->nframes) {
		t = top_frame(lx);
		return fail(lx, lx->cmds[t->cmd].off, frame_name((enum frame_kind)t->kind));
	}
	return 0;
}

/* `set` options in force after the depth-0 commands. */
static void scan_set(const char *base, struct df_sh_script *s)
{
	const struct df_sh_cmd *c;
	const struct df_sh_word *w;
	const char *t;
	size_t k, m, q;
	int name, on, on_o = 0, want_o;

	for (k = 0; k < s->ncmds; k++) {
		c = &s->cmds[k];
		if (c->depth || c->kind != DF_SH_SIMPLE)
			continue;
		name = df_sh_cmd_name(base, c);
		if (name < 0 || !df_sh_word_is(base, &c->words[name], "set"))
			continue;
		want_o = 0;
		for (m = (size_t)name + 1; m < c->nwords; m++) {
			w = &c->words[m];
			t = base + w->off;
			if (w->flags & DF_SH_REDIR)
				continue;
			if (want_o) {
				if (df_sh_word_is(base, w, "errexit"))
					s->sets_e = on_o;
				else if (df_sh_word_is(base, w, "pipefail"))
					s->sets_pipefail = on_o;
				want_o--;
				continue;
			}
			if (w->flags || w->len < 2 || (t[0] != '-' && t[0] != '+') || t[1] == '-')
				break;
			on = t[0] == '-';
			for (q = 1; q < w->len; q++) {
				if (t[q] == 'e')
					s->sets_e = on;
				else if (t[q] == 'o') {
					want_o++;
					on_o = on;
				}
			}
		}
	}
}

static void finish(struct lexer *lx)
{
	struct df_sh_script *s = lx->out;
	struct df_sh_word *all = NULL;
	struct df_sh_cmd *c;
	size_t k, pos = 0;

	if (lx->nwords)
		all = df_arena_alloc(lx->a, lx->nwords * sizeof(*all));
	for (k = 0; k < lx->ncmds; k++) {
		c = &lx->cmds[k];
		c->words = all ? all + pos : NULL;
		pos += c->nwords;
		c->nwords = 0;
	}
	for (k = 0; k < lx->nwords; k++) {
		c = &lx->cmds[lx->words[k].owner];
		c->words[c->nwords++] = lx->words[k].w;
	}
	s->cmds = lx->cmds;
	s->ncmds = lx->ncmds;
	s->comments = lx->comments;
	s->ncomments = lx->ncomments;
	if (lx->last_comment) {
		s->trail_off = lx->comments[lx->ncomments - 1].off;
		s->trail_len = lx->comments[lx->ncomments - 1].len;
	}
	scan_set(lx->p, s);
}

int df_sh_parse(struct df_arena *a, const char *p, size_t n, struct df_sh_script *out)
{
	struct lexer lx;

	memset(out, 0, sizeof(*out));
	if (n >= UINT32_MAX) {
		out->error = "script too long";
		return -1;
	}
	memset(&lx, 0, sizeof(lx));
	lx.a = a;
	lx.p = p;
	lx.n = n;
	lx.out = out;
	lx.cur = -1;
	if (run(&lx) < 0) {
		memset(out, 0, sizeof(*out));
		out->error = lx.error;
		out->error_off = (uint32_t)lx.error_off;
		return -1;
	}
	finish(&lx);
	out->ok = 1;
	return 0;
}

const char *df_sh_op_text(enum df_sh_op op)
{
	switch (op) {
	case DF_SH_OP_NONE: return "";
	case DF_SH_OP_AND: return "&&";
	case DF_SH_OP_OR: return "||";
	case DF_SH_OP_SEMI: return ";";
	case DF_SH_OP_PIPE: return "|";
	case DF_SH_OP_AMP: return "&";
	case DF_SH_OP_NEWLINE: return "\n";
	case DF_SH_OP_DSEMI: return ";;";
	}
	return "";
}

/* ---- helpers ---- */

int df_sh_word_is(const char *base, const struct df_sh_word *w, const char *lit)
{
	return !(w->flags & (DF_SH_QUOTED | DF_SH_EXPAND | DF_SH_REDIR | DF_SH_COMMENT)) &&
	       span_is(base + w->off, w->len, lit);
}

/* Skip a wrapper's options from words[i]: clusters "-abc"; a letter in
 * `args` takes the rest of the cluster or the next word. "--" ends them. */
static size_t skip_opts(const char *base, const struct df_sh_cmd *c, size_t i,
			const char *args)
{
	const struct df_sh_word *w;
	const char *t;
	size_t q;

	for (; i < c->nwords; i++) {
		w = &c->words[i];
		t = base + w->off;
		if ((w->flags & DF_SH_REDIR) || (w->len == 1 && t[0] == '-'))
			continue;
		if (w->len < 2 || t[0] != '-')
			return i;
		if (w->len == 2 && t[1] == '-')
			return i + 1;
		if (t[1] == '-')
			continue; /* --long or --long=value */
		for (q = 1; q < w->len; q++) {
			if (t[q] && strchr(args, t[q])) {
				if (q + 1 == w->len)
					i++;
				break;
			}
		}
	}
	return i;
}

int df_sh_cmd_name(const char *base, const struct df_sh_cmd *cmd)
{
	const struct df_sh_word *w;
	size_t i = 0;

	if (cmd->kind != DF_SH_SIMPLE)
		return -1;
	for (;;) {
		while (i < cmd->nwords &&
		       (cmd->words[i].flags & (DF_SH_RESERVED | DF_SH_ASSIGN | DF_SH_REDIR)))
			i++;
		if (i >= cmd->nwords)
			return -1;
		w = &cmd->words[i];
		if (df_sh_word_is(base, w, "sudo")) {
			i = skip_opts(base, cmd, i + 1, "CDghpRrtTUu");
		} else if (df_sh_word_is(base, w, "env")) {
			i = skip_opts(base, cmd, i + 1, "CSu");
			while (i < cmd->nwords && (is_assign(base + cmd->words[i].off,
							   cmd->words[i].len) ||
						   (cmd->words[i].flags & DF_SH_REDIR)))
				i++;
		} else if (df_sh_word_is(base, w, "exec")) {
			i = skip_opts(base, cmd, i + 1, "a");
		} else if (df_sh_word_is(base, w, "nohup")) {
			i++;
		} else if (df_sh_word_is(base, w, "command") && i + 1 < cmd->nwords &&
			   base[cmd->words[i + 1].off] != '-') {
			i++;
		} else {
			return (int)i;
		}
	}
}

char *df_sh_unquote(struct df_arena *a, const char *base, const struct df_sh_word *w,
		    size_t *len)
{
	const char *s = base + w->off;
	size_t n = w->len, i, k = 0;
	char *d;

	if (w->flags & (DF_SH_EXPAND | DF_SH_TILDE | DF_SH_REDIR))
		return NULL;
	d = df_arena_alloc(a, n + 1);
	if (w->flags & DF_SH_COMMENT) {
		memcpy(d, s, n);
		k = n;
		goto done;
	}
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			if (i + 1 < n) {
				i++;
				if (s[i] != '\n')
					d[k++] = s[i];
			} else {
				d[k++] = '\\';
			}
			break;
		case '\'':
			for (i++; i < n && s[i] != '\''; i++)
				d[k++] = s[i];
			break;
		case '"':
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n && s[i + 1] &&
				    strchr("$`\"\\\n", s[i + 1])) {
					i++;
					if (s[i] != '\n')
						d[k++] = s[i];
				} else {
					d[k++] = s[i];
				}
			}
			break;
		case '$':
			if (i + 1 < n && (s[i + 1] == '\'' || s[i + 1] == '"'))
				return NULL; /* $'...' and $"..." */
			d[k++] = '$';
			break;
		default:
			d[k++] = s[i];
		}
	}
done:
	d[k] = '\0';
	if (len)
		*len = k;
	return d;
}

size_t df_sh_redir_target(const char *base, const struct df_sh_word *w,
			  struct df_sh_word *target)
{
	const char *s = base + w->off;
	size_t rl, k;

	if (!(w->flags & DF_SH_REDIR))
		return 0;
	rl = redir_len(s, w->len, 0);
	if (!rl)
		return 0;
	k = skip_blanks(s, w->len, rl);
	target->off = w->off + (uint32_t)k;
	target->len = w->len - (uint32_t)k;
	target->flags = w->flags & ~(uint32_t)(DF_SH_REDIR | DF_SH_HEREDOC);
	return rl;
}

struct cached_script {
	int rc;
	struct df_sh_script sc;
};

int df_sh_parse_rest(struct df_doc *doc, const struct df_inst *inst, struct df_sh_script *out)
{
	const struct cached_script *c = inst->shell;

	if (!c) {
		struct cached_script *n = df_arena_alloc(&doc->arena, sizeof(*n));

		n->rc = df_sh_parse(&doc->arena, inst->rest.ptr, inst->rest.len, &n->sc);
		((struct df_inst *)inst)->shell = n; /* a memo: the model means the same */
		c = n;
	}
	*out = c->sc;
	return c->rc;
}
