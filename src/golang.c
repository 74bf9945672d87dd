/* golang.c - Go's definitions that BuildKit's output depends on.
 *
 * BuildKit's Dockerfile parser is Go; what it prints and which instructions
 * it takes as exec (JSON) form depend on Go's UTF-8 decoding,
 * unicode.IsSpace / IsPrint, strconv.Quote and encoding/json. This file
 * reproduces each of them byte for byte. The Unicode tables are generated
 * by tools/gen_unicode.py (see unicode_tables.h for the version).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "unicode_tables.h"

#define RUNE_ERROR 0xFFFD
#define MAX_RUNE 0x10FFFF

/* ---- UTF-8 (unicode/utf8) ---- */

int32_t df_utf8_decode(const unsigned char *p, size_t n, int *width)
{
	unsigned c, lo = 0x80, hi = 0xBF;
	int need, i;
	int32_t r;

	if (n == 0) {
		*width = 0;
		return RUNE_ERROR;
	}
	c = p[0];
	if (c < 0x80) {
		*width = 1;
		return (int32_t)c;
	}
	if (c < 0xC2 || c > 0xF4)
		goto bad; /* continuation byte, overlong lead, or > U+10FFFF */
	if (c < 0xE0) {
		need = 1;
		r = (int32_t)(c & 0x1F);
	} else if (c < 0xF0) {
		need = 2;
		r = (int32_t)(c & 0x0F);
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else {
		need = 3;
		r = (int32_t)(c & 0x07);
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* > U+10FFFF */
	}
	if (n <= (size_t)need)
		goto bad;
	for (i = 1; i <= need; i++) {
		unsigned b = p[i];

		if (b < lo || b > hi)
			goto bad;
		lo = 0x80;
		hi = 0xBF;
		r = (r << 6) | (int32_t)(b & 0x3F);
	}
	*width = need + 1;
	return r;
bad:
	*width = 1;
	return RUNE_ERROR;
}

/* utf8.DecodeLastRune: back up to the start of the last rune (at most 4
 * bytes), decode it, and insist that it ends exactly at the end. */
static int32_t decode_last(const unsigned char *p, size_t n, int *width)
{
	size_t start, lim;
	int32_t r;

	if (n == 0) {
		*width = 0;
		return RUNE_ERROR;
	}
	start = n - 1;
	if (p[start] < 0x80) {
		*width = 1;
		return p[start];
	}
	lim = n >= 4 ? n - 4 : 0;
	while (start > lim && (p[start] & 0xC0) == 0x80)
		start--;
	r = df_utf8_decode(p + start, n - start, width);
	if (start + (size_t)*width != n) {
		*width = 1;
		return RUNE_ERROR;
	}
	return r;
}

void df_utf8_append(struct df_buf *b, int32_t r)
{
	unsigned char s[4];
	uint32_t u;

	if (r < 0 || r > MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
		r = RUNE_ERROR;
	u = (uint32_t)r;
	if (u < 0x80) {
		df_buf_addc(b, (int)u);
	} else if (u < 0x800) {
		s[0] = (unsigned char)(0xC0 | (u >> 6));
		s[1] = (unsigned char)(0x80 | (u & 0x3F));
		df_buf_add(b, s, 2);
	} else if (u < 0x10000) {
		s[0] = (unsigned char)(0xE0 | (u >> 12));
		s[1] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
		s[2] = (unsigned char)(0x80 | (u & 0x3F));
		df_buf_add(b, s, 3);
	} else {
		s[0] = (unsigned char)(0xF0 | (u >> 18));
		s[1] = (unsigned char)(0x80 | ((u >> 12) & 0x3F));
		s[2] = (unsigned char)(0x80 | ((u >> 6) & 0x3F));
		s[3] = (unsigned char)(0x80 | (u & 0x3F));
		df_buf_add(b, s, 4);
	}
}

/* ---- unicode.IsSpace, unicode.IsPrint ---- */

static int in_ranges(const uint32_t (*t)[2], size_t n, int32_t r)
{
	size_t lo = 0, hi = n;
	uint32_t u;

	if (r < 0)
		return 0;
	u = (uint32_t)r;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u < t[mid][0])
			hi = mid;
		else if (u > t[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int df_go_isspace(int32_t r)
{
	if (r < 0x80)
		return r == ' ' || (r >= '\t' && r <= '\r');
	return in_ranges(df_space_ranges, NELEM(df_space_ranges), r);
}

int df_go_isprint(int32_t r)
{
	if (r < 0x80)
		return r >= 0x20 && r < 0x7F;
	return in_ranges(df_print_ranges, NELEM(df_print_ranges), r);
}

/* strings.TrimLeftFunc(s, unicode.IsSpace): invalid bytes decode to U+FFFD,
 * which is not space. */
size_t df_go_space_prefix(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < n) {
		int w;
		int32_t r;

		if (s[i] < 0x80) { /* ASCII fast path */
			if (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
				i++;
				continue;
			}
			break;
		}
		r = df_utf8_decode(s + i, n - i, &w);
		if (!df_go_isspace(r))
			break;
		i += (size_t)w;
	}
	return i;
}

/* strings.TrimRightFunc(s, unicode.IsSpace), decoding backwards. */
size_t df_go_space_suffix(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t end = n;

	while (end > 0) {
		int w;
		int32_t r = decode_last(s, end, &w);

		if (!df_go_isspace(r))
			break;
		end -= (size_t)w;
	}
	return n - end;
}

/* ---- strconv.Quote ---- */

static const char lowerhex[] = "0123456789abcdef";

static void add_hex(struct df_buf *out, const char *prefix, uint32_t v, int digits)
{
	df_buf_adds(out, prefix);
	while (digits-- > 0)
		df_buf_addc(out, lowerhex[(v >> (4 * digits)) & 0xF]);
}

/* strconv.appendEscapedRune with quote '"', not ASCII-only, not graphic. */
static void quote_rune(struct df_buf *out, int32_t r)
{
	if (r == '"' || r == '\\') {
		df_buf_addc(out, '\\');
		df_buf_addc(out, (int)r);
		return;
	}
	if (df_go_isprint(r)) {
		df_utf8_append(out, r);
		return;
	}
	switch (r) {
	case '\a': df_buf_adds(out, "\\a"); return;
	case '\b': df_buf_adds(out, "\\b"); return;
	case '\f': df_buf_adds(out, "\\f"); return;
	case '\n': df_buf_adds(out, "\\n"); return;
	case '\r': df_buf_adds(out, "\\r"); return;
	case '\t': df_buf_adds(out, "\\t"); return;
	case '\v': df_buf_adds(out, "\\v"); return;
	default: break;
	}
	if (r < ' ' || r == 0x7F)
		add_hex(out, "\\x", (uint32_t)r, 2);
	else if (r > MAX_RUNE || (r >= 0xD800 && r <= 0xDFFF))
		add_hex(out, "\\u", RUNE_ERROR, 4); /* unreachable from decoded input */
	else if (r < 0x10000)
		add_hex(out, "\\u", (uint32_t)r, 4);
	else
		add_hex(out, "\\U", (uint32_t)r, 8);
}

void df_go_quote(struct df_buf *out, const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	df_buf_addc(out, '"');
	while (i < n) {
		int w = 1;
		int32_t r = s[i];

		if (r >= 0x80)
			r = df_utf8_decode(s + i, n - i, &w);
		if (w == 1 && r == RUNE_ERROR)
			add_hex(out, "\\x", s[i], 2); /* an invalid byte */
		else
			quote_rune(out, r);
		i += (size_t)w;
	}
	df_buf_addc(out, '"');
}

/* ---- encoding/json: BuildKit's parseJSON ---- */

/* encoding/json's scanner refuses more than this many open arrays/objects. */
#define JSON_MAX_DEPTH 10000

/* The smallest magnitude strconv.ParseFloat(s, 64) rounds to infinity
 * (ErrRange): MaxFloat64 + half an ULP = 2^1024 - 2^970, 309 digits. A tie
 * rounds to even, which is up, so this value itself overflows. */
static const char float64_overflow[] =
	"17976931348623158079372897140530341507993413271003782693617377898044"
	"49682927647509466490179775872070963302864166928879109465555478519404"
	"02630657488671505820681908902000708383676273854845817711531764475730"
	"27006985557136695962284291481986083493647529271907416844436551070434"
	"2711559699508093042880177904174497792";

struct json {
	const unsigned char *p;
	size_t n, i;
	int range_err; /* a number too large for float64 was seen */
};

static int is_json_space(unsigned c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct json *j)
{
	while (j->i < j->n && is_json_space(j->p[j->i]))
		j->i++;
}

static int is_digit(unsigned c)
{
	return c >= '0' && c <= '9';
}

static int hexval(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* The XXXX of "\uXXXX" at p (p points at the backslash), or -1. */
static int32_t get_u4(const unsigned char *p, size_t n)
{
	int32_t r = 0;
	size_t k;

	if (n < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (k = 2; k < 6; k++) {
		int h = hexval(p[k]);

		if (h < 0)
			return -1;
		r = r * 16 + h;
	}
	return r;
}

/* Scan the string at j->i (its opening quote). When dec is not NULL, append
 * the decoded bytes as Go's unquote produces them. Returns 0 on a syntax
 * error (the scanner's rules: raw control byte, bad escape, no closing
 * quote). */
static int scan_string(struct json *j, struct df_buf *dec)
{
	const unsigned char *p = j->p;
	size_t n = j->n, i = j->i + 1;

	while (i < n) {
		unsigned c = p[i];
		int32_t r, r2;
		int w;

		if (c == '"') {
			j->i = i + 1;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c != '\\') {
			if (c < 0x80) {
				if (dec)
					df_buf_addc(dec, (int)c);
				i++;
				continue;
			}
			/* Any byte >= 0x80 is accepted; unquote turns each
			 * invalid byte into U+FFFD. A quote or backslash is
			 * never a continuation byte, so decoding past the
			 * closing quote cannot happen. */
			r = df_utf8_decode(p + i, n - i, &w);
			if (dec)
				df_utf8_append(dec, r);
			i += (size_t)w;
			continue;
		}
		if (i + 1 >= n)
			return 0;
		c = p[i + 1];
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			r = get_u4(p + i, n - i);
			if (r < 0)
				return 0;
			i += 6;
			if (r >= 0xD800 && r < 0xE000) {
				/* utf16.DecodeRune(r, next \uXXXX or -1): a high
				 * then a low surrogate combine and both are
				 * consumed; otherwise only r is, as U+FFFD. */
				r2 = get_u4(p + i, n - i);
				if (r < 0xDC00 && r2 >= 0xDC00 && r2 < 0xE000) {
					r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
					i += 6;
				} else {
					r = RUNE_ERROR;
				}
			}
			if (dec)
				df_utf8_append(dec, r);
			continue;
		default:
			return 0;
		}
		if (dec)
			df_buf_addc(dec, (int)c);
		i += 2;
	}
	return 0;
}

/* Would strconv.ParseFloat(s, 64) fail with ErrRange? s is a valid JSON
 * number: int digits [ip, ip+nint), fraction digits [fp, fp+nfrac), decimal
 * exponent exp (saturated). Exact: no locale, no libm. */
static int float_overflows(const unsigned char *ip, size_t nint,
			   const unsigned char *fp, size_t nfrac, long long exp)
{
	size_t total = nint + nfrac, k, len, cmp, d;
	long long mag;

	for (k = 0; k < total; k++)
		if ((k < nint ? ip[k] : fp[k - nint]) != '0')
			break;
	if (k == total)
		return 0; /* zero */
	/* The first non-zero digit has place value 10^(nint-1-k+exp), so the
	 * magnitude has mag digits before the decimal point. */
	mag = (long long)nint - (long long)k + exp;
	if (mag < 309)
		return 0;
	if (mag > 309)
		return 1;
	len = total - k;
	cmp = len < 309 ? len : 309;
	for (d = 0; d < cmp; d++, k++) {
		unsigned c = k < nint ? ip[k] : fp[k - nint];

		if (c != (unsigned char)float64_overflow[d])
			return c > (unsigned char)float64_overflow[d];
	}
	/* Equal prefix: with 309 or more digits the value is >= the bound;
	 * with fewer it is smaller (the bound does not end in zeros). */
	return len >= 309;
}

static int scan_number(struct json *j)
{
	const unsigned char *p = j->p;
	size_t n = j->n, i = j->i, ip, nint, fp = 0, nfrac = 0;
	long long exp = 0;
	int eneg = 0;

	if (i < n && p[i] == '-')
		i++;
	if (i >= n || !is_digit(p[i]))
		return 0;
	ip = i;
	if (p[i] == '0')
		i++;
	else
		while (i < n && is_digit(p[i]))
			i++;
	nint = i - ip;
	if (i < n && p[i] == '.') {
		i++;
		if (i >= n || !is_digit(p[i]))
			return 0;
		fp = i;
		while (i < n && is_digit(p[i]))
			i++;
		nfrac = i - fp;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			eneg = p[i++] == '-';
		if (i >= n || !is_digit(p[i]))
			return 0;
		while (i < n && is_digit(p[i])) {
			if (exp < 1000000000LL)
				exp = exp * 10 + (p[i] - '0');
			i++;
		}
		if (eneg)
			exp = -exp;
	}
	if (float_overflows(p + ip, nint, p + fp, nfrac, exp))
		j->range_err = 1;
	j->i = i;
	return 1;
}

static int scan_literal(struct json *j, const char *lit)
{
	size_t len = strlen(lit);

	if (j->n - j->i < len || memcmp(j->p + j->i, lit, len) != 0)
		return 0;
	j->i += len;
	return 1;
}

/* A scalar value at j->i: 1 ok, 0 syntax error. */
static int scan_scalar(struct json *j)
{
	switch (j->p[j->i]) {
	case '"': return scan_string(j, NULL);
	case 't': return scan_literal(j, "true");
	case 'f': return scan_literal(j, "false");
	case 'n': return scan_literal(j, "null");
	default: return scan_number(j);
	}
}

/* An object key and its colon, from the key's opening quote on. */
static int scan_key(struct json *j)
{
	if (j->i >= j->n || j->p[j->i] != '"' || !scan_string(j, NULL))
		return 0;
	skip_ws(j);
	if (j->i >= j->n || j->p[j->i] != ':')
		return 0;
	j->i++;
	return 1;
}

/*
 * json.NewDecoder(strings.NewReader(p)).Decode(&[]interface{}) followed by
 * BuildKit's "every element is a string" check. Iterative: the container
 * stack is a bit per level (1 = object), so deep nesting costs no C stack.
 */
int df_go_json_strings(struct df_arena *a, const char *p, size_t n,
		       struct df_span **out, size_t *nout)
{
	enum { VALUE, END_VALUE } state = VALUE;
	unsigned char objbit[JSON_MAX_DEPTH / 8 + 1];
	struct json j;
	struct df_buf str = DF_BUF_INIT;
	size_t *ends = NULL, nends = 0, cap = 0, k;
	int depth = 0, nonstring = 0, ret = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0 || p[0] != '[')
		return 0;
	j.p = (const unsigned char *)p;
	j.n = n;
	j.i = 0;
	j.range_err = 0;
	for (;;) {
		unsigned c;

		if (state == END_VALUE && depth == 0)
			break; /* the first value is complete; the rest is ignored */
		skip_ws(&j);
		if (j.i >= n)
			goto done; /* unexpected end of JSON input */
		c = j.p[j.i];
		if (state == VALUE) {
			int top = depth == 1; /* an element of the outer array */

			if (c == '[' || c == '{') {
				if (depth >= JSON_MAX_DEPTH)
					goto done; /* exceeded max depth */
				if (c == '{')
					objbit[depth / 8] |= (unsigned char)(1u << (depth % 8));
				else
					objbit[depth / 8] &= (unsigned char)~(1u << (depth % 8));
				depth++;
				nonstring |= top;
				j.i++;
				skip_ws(&j);
				if (j.i < n && j.p[j.i] == (c == '[' ? ']' : '}')) {
					j.i++;
					depth--;
					state = END_VALUE;
				} else if (c == '{') {
					if (!scan_key(&j))
						goto done;
				}
				continue;
			}
			if (top && c == '"') {
				if (!scan_string(&j, &str))
					goto done;
				if (nends == cap) {
					cap = cap ? 2 * cap : 8;
					ends = df_xrealloc(ends, cap * sizeof(*ends));
				}
				ends[nends++] = str.len;
			} else {
				if (!scan_scalar(&j))
					goto done;
				nonstring |= top;
			}
			state = END_VALUE;
			continue;
		}
		/* END_VALUE: after a value inside container number depth. */
		j.i++;
		if (objbit[(depth - 1) / 8] & (1u << ((depth - 1) % 8))) {
			if (c == ',') {
				skip_ws(&j);
				if (!scan_key(&j))
					goto done;
				state = VALUE;
			} else if (c == '}') {
				depth--;
			} else {
				goto done;
			}
		} else {
			if (c == ',')
				state = VALUE;
			else if (c == ']')
				depth--;
			else
				goto done;
		}
	}
	if (j.range_err) {
		ret = 0; /* UnmarshalTypeError: BuildKit falls back to shell form */
	} else if (nonstring) {
		ret = -1;
	} else {
		size_t start = 0;

		*out = nends ? df_arena_alloc(a, nends * sizeof(**out)) : NULL;
		for (k = 0; k < nends; k++) {
			(*out)[k].ptr = df_arena_dup(a, str.ptr ? str.ptr + start : "",
						     ends[k] - start);
			(*out)[k].len = ends[k] - start;
			start = ends[k];
		}
		*nout = nends;
		ret = 1;
	}
done:
	free(ends);
	df_buf_release(&str);
	return ret;
}
