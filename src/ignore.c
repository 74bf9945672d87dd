/* ignore.c - .dockerignore parsing and matching, as Docker does it (see ignore.h).
 *
 * A line goes through the two normalisations Docker applies (BuildKit's
 * ignorefile.ReadAll, then patternmatcher.New), is checked for the syntax
 * errors Go's filepath.Match reports, and is compiled the way patternmatcher
 * compiles it: a plain string compare when the pattern has no wildcard, a
 * prefix compare for "lit**", a suffix compare for "**lit", and otherwise a
 * regexp, here a PCRE2 one (JIT when available) equivalent to Go's.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfix.h"
#include "ignore.h"

/* Go's bufio.Scanner holds a line and its '\n' in a 64 KiB buffer. */
#define MAX_LINE 65535

/* How patternmatcher matches one pattern. */
enum kind {
	K_EXACT,  /* path == text */
	K_PREFIX, /* text is "lit**": path starts with lit */
	K_SUFFIX, /* text starts with "**" and has no other wildcard */
	K_REGEX
};

struct pat {
	const char *text; /* cleaned, without the '!' (arena, NUL-terminated) */
	size_t len;
	unsigned line;
	int exception;
	enum kind kind;
	pcre2_code *re;   /* K_REGEX only */
};

struct df_ignore {
	unsigned flags;
	unsigned nlines;  /* lines read so far */
	struct pat *pats;
	size_t n, cap;
	pcre2_match_context *mctx;
	struct df_arena arena;
};

/* The first regexp attempt gives up early on pathological backtracking
 * ("**" several times in one pattern, deep paths); the DFA matcher then
 * answers in time linear in the path. */
#define MATCH_LIMIT 100000
#define DFA_WS_MAX (1 << 20)

/* ---------------------------------------------------------------- Go text helpers */

/* Width of the valid UTF-8 sequence at p (Go's utf8.DecodeRune: no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0 if invalid. */
static int utf8_width(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	int w;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		w = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		w = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		w = 4;
	else
		return 0;
	if (p[0] == 0xE0)
		lo = 0xA0;
	else if (p[0] == 0xED)
		hi = 0x9F;
	else if (p[0] == 0xF0)
		lo = 0x90;
	else if (p[0] == 0xF4)
		hi = 0x8F;
	if ((size_t)w > n || p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < w; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return w;
}

/* Length of the unicode.IsSpace rune at p, or 0. */
static size_t space_at(const unsigned char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))
		return 1;
	if (n >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0))
		return 2; /* U+0085, U+00A0 */
	if (n < 3)
		return 0;
	if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
		return 3; /* U+1680 */
	if (p[0] == 0xE2 && p[1] == 0x80 &&
	    (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
		return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
	if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
		return 3; /* U+205F */
	if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

/* strings.TrimSpace. A space rune's encoding starts with a lead byte, so
 * matching it at the end of the text is what utf8.DecodeLastRune sees. */
static void trim_space(const char **pp, size_t *np)
{
	const unsigned char *p = (const unsigned char *)*pp;
	size_t n = *np, w;

	while ((w = space_at(p, n)) > 0) {
		p += w;
		n -= w;
	}
	for (;;) {
		size_t k;

		for (k = 1; k <= 3 && k <= n; k++)
			if (space_at(p + n - k, k) == k)
				break;
		if (k > 3 || k > n)
			break;
		n -= k;
	}
	*pp = (const char *)p;
	*np = n;
}

/* filepath.Clean on a '/'-separated path. out has room for n + 1 bytes. */
static size_t clean_path(const char *p, size_t n, char *out)
{
	size_t r = 0, w = 0, dotdot = 0;
	int rooted = n > 0 && p[0] == '/';

	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if (w != (size_t)rooted)
				out[w++] = '/';
			while (r < n && p[r] != '/')
				out[w++] = p[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	return w;
}

/* ---------------------------------------------------------------- errors */

static void add_quoted(struct df_buf *b, const char *p, size_t n)
{
	df_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			df_buf_addf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			df_buf_addf(b, "\\x%02x", c);
		else
			df_buf_addc(b, c);
	}
	df_buf_addc(b, '"');
}

/* Set *err to "line N: <what> "<pattern>"<detail>" and return -1. */
static int fail(char **err, unsigned line, const char *what, const char *pat,
		size_t patlen, const char *detail)
{
	struct df_buf b = DF_BUF_INIT;

	if (!err)
		return -1;
	df_buf_addf(&b, "line %u: %s", line, what);
	if (pat) {
		df_buf_addc(&b, ' ');
		add_quoted(&b, pat, patlen);
	}
	if (detail)
		df_buf_addf(&b, ": %s", detail);
	*err = df_buf_detach(&b, NULL);
	return -1;
}

/* ---------------------------------------------------------------- normalising */

/*
 * Docker's reading of one line (n excludes the '\n'): ReadAll, then New.
 * Returns 1 with the cleaned pattern (without '!') in out, 0 for a line
 * that adds nothing, -1 with *why set for an invalid line.
 */
static int normalise(unsigned flags, const char *p, size_t n, int first_line,
		     struct df_buf *out, int *exception, const char **why)
{
	struct df_buf tmp = DF_BUF_INIT;
	int invert;
	size_t len;

	df_buf_reset(out);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (first_line && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	if (n > 0 && p[0] == '#')
		return 0;
	trim_space(&p, &n);
	if (n == 0)
		return 0;

	/* ReadAll: '!' apart, clean, drop one leading '/'. */
	invert = p[0] == '!';
	if (invert) {
		p++;
		n--;
		trim_space(&p, &n);
	}
	df_buf_grow(&tmp, n + 2);
	if (invert)
		tmp.ptr[tmp.len++] = '!';
	if (n > 0) {
		char *body = tmp.ptr + tmp.len;

		if (flags & DF_IGNORE_WINDOWS) {
			char *q = df_xstrndup(p, n);

			for (size_t i = 0; i < n; i++)
				if (q[i] == '\\')
					q[i] = '/';
			len = clean_path(q, n, body);
			free(q);
		} else {
			len = clean_path(p, n, body);
		}
		if (len > 1 && body[0] == '/') {
			memmove(body, body + 1, len - 1);
			len--;
		}
		tmp.len += len;
	}

	/* New: trim and clean again, then '!'. */
	p = tmp.ptr;
	n = tmp.len;
	trim_space(&p, &n);
	if (n == 0) {
		df_buf_release(&tmp);
		return 0;
	}
	df_buf_grow(out, n + 1);
	out->len = clean_path(p, n, out->ptr);
	out->ptr[out->len] = '\0';
	df_buf_release(&tmp);
	*exception = out->ptr[0] == '!';
	if (*exception) {
		if (out->len == 1) {
			*why = "illegal exclusion pattern: \"!\"";
			return -1;
		}
		memmove(out->ptr, out->ptr + 1, out->len);
		out->len--;
	}
	return 1;
}

/* ---------------------------------------------------------------- syntax check */

/* One member of a class (Go's getEsc): advances *ip, nonzero on error. */
static int class_char(const char *p, size_t n, size_t *ip, int escapes)
{
	size_t i = *ip;
	int w;

	if (i >= n || p[i] == '-' || p[i] == ']')
		return 1;
	if (p[i] == '\\' && escapes && ++i >= n)
		return 1;
	w = utf8_width((const unsigned char *)p + i, n - i);
	if (w == 0)
		return 1;
	i += (size_t)w;
	if (i >= n)
		return 1;
	*ip = i;
	return 0;
}

/* 1 if filepath.Match(p, ".") would return ErrBadPattern. Go checks every
 * part of the pattern even after a mismatch, so this is a plain scan. */
static int bad_pattern(const char *p, size_t n, int escapes)
{
	size_t i = 0;

	while (i < n) {
		if (p[i] == '\\' && escapes) {
			if (i + 1 == n)
				return 1;
			i += 2;
		} else if (p[i] == '[') {
			int nrange = 0;

			if (++i < n && p[i] == '^')
				i++;
			for (;;) {
				if (i < n && p[i] == ']' && nrange > 0) {
					i++;
					break;
				}
				if (class_char(p, n, &i, escapes))
					return 1;
				if (p[i] == '-') {
					i++;
					if (class_char(p, n, &i, escapes))
						return 1;
				}
				nrange++;
			}
		} else {
			i++;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- compiling */

static int is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

/* The escape "\c" at p[*ip] (just after the '\'), as Go's regexp reads the
 * "\c" patternmatcher emits. Returns -1 for escapes Go and PCRE2 do not read
 * alike (or Go rejects). */
static int add_escape(struct df_buf *re, const unsigned char *p, size_t n, size_t *ip)
{
	unsigned char c = p[*ip];

	if (c < 0x80 && !is_alnum(c)) {
		df_buf_addc(re, '\\');
		df_buf_addc(re, c);
		(*ip)++;
		return 0;
	}
	switch (c) {
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
	case 'a': case 'f': case 'n': case 'r': case 't':
	case 'A': case 'z': case 'B': case 'p': case 'P':
		df_buf_addc(re, '\\');
		df_buf_addc(re, c);
		(*ip)++;
		return 0;
	case 'v': /* Go: the VT character; PCRE2: a class */
		df_buf_adds(re, "\\x0b");
		(*ip)++;
		return 0;
	case 'x':
		if (*ip + 2 < n && is_hex(p[*ip + 1]) && is_hex(p[*ip + 2])) {
			df_buf_add(re, p + *ip - 1, 4);
			*ip += 3;
			return 0;
		}
		return -1;
	default:
		return -1;
	}
}

/* patternmatcher's compile: choose the kind and build the regexp. */
static int compile(struct df_ignore *ig, struct pat *pt, char **err)
{
	const unsigned char *p = (const unsigned char *)pt->text;
	size_t n = pt->len, i = 0;
	int first = 1, last_dirs = 0, errcode;
	int escapes = !(ig->flags & DF_IGNORE_WINDOWS);
	struct df_buf re = DF_BUF_INIT;
	enum kind kind = K_EXACT;
	PCRE2_SIZE erroff;
	pcre2_compile_context *cctx;

	df_buf_addc(&re, '^');
	while (i < n) {
		unsigned char c = p[i];
		int dirs = 0;

		if (c == '*' && i + 1 < n && p[i + 1] == '*') {
			i += 2;
			if (i < n && p[i] == '/')
				i++;
			if (i == n) {
				if (kind == K_EXACT) {
					kind = K_PREFIX;
				} else {
					df_buf_adds(&re, ".*");
					kind = K_REGEX;
				}
			} else {
				/* The any-directories group twice in a row means
				 * the same as once, and backtracks much more. */
				if (!last_dirs)
					df_buf_adds(&re, "(.*/)?");
				dirs = 1;
				kind = K_REGEX;
			}
			if (first)
				kind = K_SUFFIX;
		} else if (c == '*') {
			df_buf_adds(&re, "[^/]*");
			kind = K_REGEX;
			i++;
		} else if (c == '?') {
			df_buf_adds(&re, "[^/]");
			kind = K_REGEX;
			i++;
		} else if (c != '\0' && strchr(".+()|{}$", c)) {
			df_buf_addc(&re, '\\');
			df_buf_addc(&re, c);
			i++;
		} else if (c == '\\' && escapes) {
			i++; /* bad_pattern() saw that something follows */
			if (add_escape(&re, p, n, &i) < 0) {
				df_buf_release(&re);
				return fail(err, pt->line, "unsupported escape in pattern",
					    pt->text, pt->len, "only \\ + punctuation and "
					    "\\d \\D \\s \\S \\w \\W \\a \\f \\n \\r \\t \\v "
					    "\\xHH \\pX \\PX \\A \\z \\B are read alike by Docker");
			}
			kind = K_REGEX;
		} else if (c == '[' || c == ']') {
			df_buf_addc(&re, c);
			kind = K_REGEX;
			i++;
		} else {
			/* Go's text/scanner reads an invalid byte as U+FFFD. */
			int w = utf8_width(p + i, n - i);

			if (w == 0) {
				df_buf_adds(&re, "\xEF\xBF\xBD");
				w = 1;
			} else {
				df_buf_add(&re, p + i, (size_t)w);
			}
			i += (size_t)w;
		}
		first = 0;
		last_dirs = dirs;
	}
	pt->kind = kind;
	if (kind != K_REGEX) {
		df_buf_release(&re);
		return 0;
	}
	df_buf_addc(&re, '$');

	cctx = pcre2_compile_context_create(NULL);
	if (!cctx)
		df_die("out of memory");
	pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
	pt->re = pcre2_compile((PCRE2_SPTR)re.ptr, re.len,
			       PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C,
			       &errcode, &erroff, cctx);
	pcre2_compile_context_free(cctx);
	df_buf_release(&re);
	if (!pt->re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof msg);
		return fail(err, pt->line, "invalid pattern", pt->text, pt->len,
			    (const char *)msg);
	}
	(void)pcre2_jit_compile(pt->re, PCRE2_JIT_COMPLETE); /* failing is fine */
	return 0;
}

/* ---------------------------------------------------------------- building the list */

struct df_ignore *df_ignore_new(unsigned flags)
{
	struct df_ignore *ig = df_xcalloc(1, sizeof *ig);

	ig->flags = flags;
	df_arena_init(&ig->arena);
	ig->mctx = pcre2_match_context_create(NULL);
	if (!ig->mctx)
		df_die("out of memory");
	pcre2_set_match_limit(ig->mctx, MATCH_LIMIT);
	return ig;
}

void df_ignore_free(struct df_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		pcre2_code_free(ig->pats[i].re);
	free(ig->pats);
	pcre2_match_context_free(ig->mctx);
	df_arena_release(&ig->arena);
	free(ig);
}

/* One line of the file, without its '\n'. */
static int add_line(struct df_ignore *ig, const char *p, size_t n, char **err)
{
	struct df_buf pat = DF_BUF_INIT;
	const char *why = NULL;
	unsigned line = ++ig->nlines;
	struct pat *pt;
	int exception = 0, r;

	if (n > MAX_LINE)
		return fail(err, line, "line too long (Docker reads at most 65535 bytes)",
			    NULL, 0, NULL);
	r = normalise(ig->flags, p, n, line == 1, &pat, &exception, &why);
	if (r <= 0) {
		df_buf_release(&pat);
		return r < 0 ? fail(err, line, why, NULL, 0, NULL) : 0;
	}
	if (bad_pattern(pat.ptr, pat.len, !(ig->flags & DF_IGNORE_WINDOWS))) {
		r = fail(err, line, "syntax error in pattern", pat.ptr, pat.len, NULL);
		df_buf_release(&pat);
		return r;
	}
	if (ig->n == ig->cap) {
		ig->cap = ig->cap ? 2 * ig->cap : 16;
		ig->pats = df_xrealloc(ig->pats, ig->cap * sizeof *ig->pats);
	}
	pt = &ig->pats[ig->n];
	memset(pt, 0, sizeof *pt);
	pt->text = df_arena_dup(&ig->arena, pat.ptr, pat.len);
	pt->len = pat.len;
	pt->line = line;
	pt->exception = exception;
	df_buf_release(&pat);
	if (compile(ig, pt, err) < 0)
		return -1;
	ig->n++;
	return 1;
}

int df_ignore_add(struct df_ignore *ig, const char *line, size_t len, char **err)
{
	const char *nl;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	nl = memchr(line, '\n', len);
	if (nl)
		return fail(err, ig->nlines + 1, "a pattern line cannot contain a newline",
			    NULL, 0, NULL);
	return add_line(ig, line, len, err);
}

int df_ignore_load(struct df_ignore *ig, const char *text, size_t len, char **err)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (add_line(ig, text + start, end - start, err) < 0)
			return -1;
		start = end + 1;
	}
	return 0;
}

struct df_ignore *df_ignore_parse(const char *text, size_t len, char **err)
{
	struct df_ignore *ig = df_ignore_new(0);

	if (df_ignore_load(ig, text, len, err) < 0) {
		df_ignore_free(ig);
		return NULL;
	}
	return ig;
}

/* ---------------------------------------------------------------- queries */

size_t df_ignore_count(const struct df_ignore *ig)
{
	return ig->n;
}

const char *df_ignore_pattern(const struct df_ignore *ig, size_t i)
{
	return i < ig->n ? ig->pats[i].text : NULL;
}

int df_ignore_is_exception(const struct df_ignore *ig, size_t i)
{
	return i < ig->n && ig->pats[i].exception;
}

unsigned df_ignore_line(const struct df_ignore *ig, size_t i)
{
	return i < ig->n ? ig->pats[i].line : 0;
}

int df_ignore_has_pattern(const struct df_ignore *ig, const char *line)
{
	struct df_buf pat = DF_BUF_INIT;
	const char *why;
	int exception = 0, found = 0;

	if (normalise(ig->flags, line, strlen(line), 0, &pat, &exception, &why) == 1) {
		for (size_t i = 0; i < ig->n && !found; i++)
			found = ig->pats[i].exception == exception &&
				ig->pats[i].len == pat.len &&
				memcmp(ig->pats[i].text, pat.ptr, pat.len) == 0;
	}
	df_buf_release(&pat);
	return found;
}

/* ---------------------------------------------------------------- matching */

/* A copy of p with each byte of invalid UTF-8 replaced by U+FFFD, as Go's
 * regexp reads it; NULL when p is valid already. */
static char *utf8_sanitize(const char *p, size_t n, size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)p;
	struct df_buf b = DF_BUF_INIT;
	size_t i = 0, done = 0;

	while (i < n) {
		int w = utf8_width(s + i, n - i);

		if (w > 0) {
			i += (size_t)w;
			continue;
		}
		df_buf_add(&b, p + done, i - done);
		df_buf_adds(&b, "\xEF\xBF\xBD");
		done = ++i;
	}
	if (!b.ptr)
		return NULL;
	df_buf_add(&b, p + done, n - done);
	return df_buf_detach(&b, outlen);
}

/* *slow is set once the backtracking matcher hit a limit on this pattern:
 * the deeper levels of the same path go straight to the DFA matcher. */
static int regex_match(const struct df_ignore *ig, const pcre2_code *re,
		       const char *s, size_t n, pcre2_match_data *md,
		       unsigned char *slow)
{
	size_t wscount = 1024;
	int rc;

	if (!*slow) {
		rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, md, ig->mctx);
		if (rc >= 0)
			return 1;
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		*slow = 1;
	}
	/* The DFA matcher does not backtrack. */
	for (;;) {
		int *ws = df_xmalloc(wscount * sizeof *ws);

		rc = pcre2_dfa_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, md,
				     NULL, ws, wscount);
		free(ws);
		if (rc != PCRE2_ERROR_DFA_WSSIZE || wscount >= DFA_WS_MAX)
			return rc >= 0;
		wscount *= 2;
	}
}

/* patternmatcher's Pattern.match on one path (raw bytes, and the same path
 * as valid UTF-8 for the regexp). */
static int pat_match(const struct df_ignore *ig, const struct pat *pt,
		     const char *raw, size_t rawlen, const char *u, size_t ulen,
		     pcre2_match_data *md, unsigned char *slow)
{
	const char *sfx;
	size_t sl;

	switch (pt->kind) {
	case K_EXACT:
		return rawlen == pt->len && memcmp(raw, pt->text, rawlen) == 0;
	case K_PREFIX:
		return rawlen >= pt->len - 2 && memcmp(raw, pt->text, pt->len - 2) == 0;
	case K_SUFFIX:
		sfx = pt->text + 2;
		sl = pt->len - 2;
		if (rawlen >= sl && memcmp(raw + rawlen - sl, sfx, sl) == 0)
			return 1;
		/* "**" + "/foo" also matches "foo" itself */
		return sl > 0 && sfx[0] == '/' && rawlen == sl - 1 &&
		       memcmp(raw, sfx + 1, sl - 1) == 0;
	case K_REGEX:
		return regex_match(ig, pt->re, u, ulen, md, slow);
	}
	return 0;
}

/* Index of the next '/' in p[from, n), or n. */
static size_t next_sep(const char *p, size_t n, size_t from)
{
	const char *s = from < n ? memchr(p + from, '/', n - from) : NULL;

	return s ? (size_t)(s - p) : n;
}

int df_ignore_which(const struct df_ignore *ig, const char *path)
{
	size_t n = strlen(path), len, ulen, rend = 0, uend = 0;
	char *buf = df_xstrndup(path, n), *clean = df_xmalloc(n + 1);
	const char *raw = clean, *u;
	char *sane;
	unsigned char *prev, *slow;
	pcre2_match_data *md;
	int decided = -1, level = 0;

	/* Name the path as the walk would: cleaned, relative. */
	if (ig->flags & DF_IGNORE_WINDOWS)
		for (size_t i = 0; i < n; i++)
			if (buf[i] == '\\')
				buf[i] = '/';
	len = clean_path(buf, n, clean);
	free(buf);
	if (raw[0] == '/') {
		raw++;
		len--;
	}
	if (ig->n == 0 || len == 0 || (len == 1 && raw[0] == '.') ||
	    (len >= 2 && raw[0] == '.' && raw[1] == '.' && (len == 2 || raw[2] == '/'))) {
		free(clean);
		return -1;
	}
	sane = utf8_sanitize(raw, len, &ulen);
	u = sane ? sane : raw;
	if (!sane)
		ulen = len;

	md = pcre2_match_data_create(1, NULL);
	if (!md)
		df_die("out of memory");
	prev = df_xcalloc(3, ig->n);
	slow = prev + 2 * ig->n;

	/* fsutil's walk: each directory from the top, then the path itself;
	 * a level inherits the patterns its parent matched. */
	for (;;) {
		unsigned char *cur = prev + ig->n;
		int matched = 0;

		rend = next_sep(raw, len, level ? rend + 1 : 0);
		uend = next_sep(u, ulen, level ? uend + 1 : 0);
		decided = -1;
		for (size_t i = 0; i < ig->n; i++) {
			const struct pat *pt = &ig->pats[i];
			int m = level && prev[i];

			if (!m) {
				if (pt->exception != matched) {
					cur[i] = 0;
					continue;
				}
				m = pat_match(ig, pt, raw, rend, u, uend, md, &slow[i]);
			}
			cur[i] = (unsigned char)m;
			if (m) {
				matched = !pt->exception;
				decided = (int)i;
			}
		}
		if (rend == len)
			break;
		memcpy(prev, cur, ig->n);
		level++;
	}

	pcre2_match_data_free(md);
	free(prev);
	free(sane);
	free(clean);
	return decided;
}

int df_ignore_excluded(const struct df_ignore *ig, const char *path)
{
	int i = df_ignore_which(ig, path);

	return i >= 0 && !ig->pats[i].exception;
}
