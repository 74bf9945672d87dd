/* test_golang.c - Go compatibility: UTF-8, IsSpace/IsPrint, strconv.Quote,
 * and BuildKit's parseJSON (encoding/json into []interface{}). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- helpers ---- */

static void check_quote_n(const char *in, size_t n, const char *want)
{
	struct df_buf b = DF_BUF_INIT;

	df_go_quote(&b, in, n);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.ptr, want, b.len);
	df_buf_release(&b);
}

#define check_quote(lit, want) check_quote_n(lit, sizeof(lit) - 1, want)

static void check_decode_n(const char *in, size_t n, int32_t want, int wantw)
{
	int w = -1;
	int32_t r = df_utf8_decode((const unsigned char *)in, n, &w);

	assert_int_equal(r, want);
	assert_int_equal(w, wantw);
}

#define check_decode(lit, want, wantw) check_decode_n(lit, sizeof(lit) - 1, want, wantw)

static void check_append(int32_t r, const char *want)
{
	struct df_buf b = DF_BUF_INIT;

	df_utf8_append(&b, r);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.ptr, want, b.len);
	df_buf_release(&b);
}

struct jres {
	struct df_arena arena;
	struct df_span *v;
	size_t n;
	int rc;
};

static void json_n(struct jres *r, const char *in, size_t n)
{
	df_arena_init(&r->arena);
	r->v = (struct df_span *)(uintptr_t)1; /* must be overwritten */
	r->n = 12345;
	r->rc = df_go_json_strings(&r->arena, in, n, &r->v, &r->n);
	if (r->rc != 1) {
		assert_null(r->v);
		assert_int_equal(r->n, 0);
	}
}

#define json(r, lit) json_n(r, lit, sizeof(lit) - 1)

static void jres_release(struct jres *r)
{
	df_arena_release(&r->arena);
}

/* rc of a JSON input, for the many syntax-only checks. */
static int json_rc_n(const char *in, size_t n)
{
	struct jres r;
	int rc;

	json_n(&r, in, n);
	rc = r.rc;
	jres_release(&r);
	return rc;
}

#define json_rc(lit) json_rc_n(lit, sizeof(lit) - 1)

static void assert_item(const struct jres *r, size_t i, const char *want, size_t wantlen)
{
	assert_true(i < r->n);
	assert_int_equal(r->v[i].len, wantlen);
	assert_memory_equal(r->v[i].ptr, want, wantlen);
	assert_int_equal(r->v[i].ptr[wantlen], '\0'); /* arena copy is terminated */
}

#define assert_item_lit(r, i, lit) assert_item(r, i, lit, sizeof(lit) - 1)

/* ---- strconv.Quote ---- */

static void test_quote_ascii(void **state)
{
	(void)state;
	check_quote("", "\"\"");
	check_quote("hello world", "\"hello world\"");
	check_quote("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_quote("'single'", "\"'single'\"");
	check_quote("\t\n", "\"\\t\\n\"");
	check_quote("\a\b\f\r\v", "\"\\a\\b\\f\\r\\v\"");
	check_quote("\x00", "\"\\x00\"");
	check_quote("\x1b[0m", "\"\\x1b[0m\"");
	check_quote("\x7f", "\"\\x7f\"");
}

static void test_quote_invalid_utf8(void **state)
{
	(void)state;
	check_quote("\xff", "\"\\xff\"");
	check_quote("a\xfe" "b", "\"a\\xfeb\"");
	check_quote("\xc3", "\"\\xc3\"");                   /* truncated */
	check_quote("\xe2\x82" "A", "\"\\xe2\\x82A\"");     /* truncated then ASCII */
	check_quote("\xc0\xaf", "\"\\xc0\\xaf\"");          /* overlong */
	check_quote("\xed\xa0\x80", "\"\\xed\\xa0\\x80\""); /* surrogate */
	check_quote("\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""); /* > U+10FFFF */
	/* A correctly encoded U+FFFD is a printable rune, kept as is. */
	check_quote("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");
}

static void test_quote_unicode(void **state)
{
	(void)state;
	check_quote("caf\xc3\xa9", "\"caf\xc3\xa9\"");          /* é */
	check_quote("\xc2\xa0", "\"\\u00a0\"");                  /* NBSP: Zs */
	check_quote("\xc2\x85", "\"\\u0085\"");                  /* NEL: Cc */
	check_quote("\xc2\xad", "\"\\u00ad\"");                  /* soft hyphen: Cf */
	check_quote("\xe2\x80\xa8", "\"\\u2028\"");              /* line separator */
	check_quote("\xe3\x80\x80", "\"\\u3000\"");              /* ideographic space */
	check_quote("\xef\xbb\xbf", "\"\\ufeff\"");              /* BOM: Cf */
	check_quote("\xee\x80\x80", "\"\\ue000\"");              /* private use */
	check_quote("\xe4\xb8\xad", "\"\xe4\xb8\xad\"");          /* 中 */
	check_quote("\xcc\x81", "\"\xcc\x81\"");                  /* combining acute: Mn */
	check_quote("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""); /* 😀 */
	check_quote("\xf4\x8f\xbf\xbf", "\"\\U0010ffff\"");      /* noncharacter */
	check_quote("\xf3\xa0\x80\x81", "\"\\U000e0001\"");      /* language tag: Cf */
	check_quote("\xf0\x9d\x85\xb3", "\"\\U0001d173\"");      /* musical symbol: Cf */
	check_quote("\xf0\x9f\x9b\x9c", "\"\xf0\x9f\x9b\x9c\""); /* U+1F6DC, Unicode 15 */
	check_quote("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000 */
	check_quote("\xf0\x90\x80\x8c", "\"\\U0001000c\"");      /* unassigned */
	check_quote("a\tb\xc3\xa9\xff\"", "\"a\\tb\xc3\xa9\\xff\\\"\"");
}

/* ---- UTF-8 ---- */

static void test_utf8_decode(void **state)
{
	(void)state;
	check_decode("A", 'A', 1);
	check_decode("\x00", 0, 1);
	check_decode("\x7f", 0x7F, 1);
	check_decode("\xc2\x80", 0x80, 2);
	check_decode("\xc3\xa9x", 0xE9, 2);
	check_decode("\xdf\xbf", 0x7FF, 2);
	check_decode("\xe0\xa0\x80", 0x800, 3);
	check_decode("\xe2\x82\xac", 0x20AC, 3);
	check_decode("\xed\x9f\xbf", 0xD7FF, 3);
	check_decode("\xee\x80\x80", 0xE000, 3);
	check_decode("\xef\xbf\xbd", 0xFFFD, 3);
	check_decode("\xf0\x90\x80\x80", 0x10000, 4);
	check_decode("\xf0\x9f\x98\x80", 0x1F600, 4);
	check_decode("\xf4\x8f\xbf\xbf", 0x10FFFF, 4);
	/* invalid: U+FFFD, width 1 */
	check_decode("\x80", 0xFFFD, 1);
	check_decode("\xbf", 0xFFFD, 1);
	check_decode("\xc0\x80", 0xFFFD, 1);
	check_decode("\xc1\xbf", 0xFFFD, 1);
	check_decode("\xe0\x80\x80", 0xFFFD, 1);
	check_decode("\xe0\x9f\xbf", 0xFFFD, 1);
	check_decode("\xf0\x80\x80\x80", 0xFFFD, 1);
	check_decode("\xf0\x8f\xbf\xbf", 0xFFFD, 1);
	check_decode("\xed\xa0\x80", 0xFFFD, 1);
	check_decode("\xed\xbf\xbf", 0xFFFD, 1);
	check_decode("\xf4\x90\x80\x80", 0xFFFD, 1);
	check_decode("\xf5\x80\x80\x80", 0xFFFD, 1);
	check_decode("\xff", 0xFFFD, 1);
	check_decode("\xe2\x28\xa1", 0xFFFD, 1);
	check_decode("\xe2\x82\x28", 0xFFFD, 1);
	check_decode("\xf0\x9f\x98\x28", 0xFFFD, 1);
	/* truncated */
	check_decode("\xc3", 0xFFFD, 1);
	check_decode("\xe2\x82", 0xFFFD, 1);
	check_decode("\xf0\x9f\x98", 0xFFFD, 1);
	/* n limits the read even when more bytes follow */
	check_decode_n("\xe2\x82\xac", 2, 0xFFFD, 1);
}

static void test_utf8_append(void **state)
{
	(void)state;
	check_append('A', "A");
	check_append(0xE9, "\xc3\xa9");
	check_append(0x7FF, "\xdf\xbf");
	check_append(0x800, "\xe0\xa0\x80");
	check_append(0x20AC, "\xe2\x82\xac");
	check_append(0xFFFF, "\xef\xbf\xbf");
	check_append(0x10000, "\xf0\x90\x80\x80");
	check_append(0x1F600, "\xf0\x9f\x98\x80");
	check_append(0x10FFFF, "\xf4\x8f\xbf\xbf");
	check_append(0xD800, "\xef\xbf\xbd");
	check_append(0xDFFF, "\xef\xbf\xbd");
	check_append(0x110000, "\xef\xbf\xbd");
	check_append(-1, "\xef\xbf\xbd");
}

static void test_utf8_append_nul(void **state)
{
	struct df_buf b = DF_BUF_INIT;

	(void)state;
	df_utf8_append(&b, 0);
	assert_int_equal(b.len, 1);
	assert_int_equal(b.ptr[0], '\0');
	df_buf_release(&b);
}

/* ---- unicode.IsSpace / IsPrint ---- */

static void test_isspace(void **state)
{
	static const int32_t yes[] = {
		'\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2000,
		0x2005, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000
	};
	static const int32_t no[] = {
		0, 'a', 0x08, 0x0E, 0x1C, 0x1F, 0x7F, 0x84, 0x86, 0x9F, 0xA1,
		0x180E, 0x200B, 0x200C, 0x2060, 0xFEFF, 0x3001, 0xFFFD, 0x10FFFF, -1
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(df_go_isspace(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(df_go_isspace(no[i]));
}

static void test_isprint(void **state)
{
	static const int32_t yes[] = {
		' ', '!', 'a', '~', 0xA1, 0xAC, 0xAE, 0xE9, 0xFF, 0x300, 0x377,
		0x4E00, 0x20AC, 0xFFFD, 0x10000, 0x1F600,
		0x1F6DC, 0x31350, /* added in Unicode 15.0 (Go 1.21+) */
		0xE0100 /* variation selector: Mn */
	};
	static const int32_t no[] = {
		0, '\t', '\n', 0x1F, 0x7F, 0x80, 0x9F, 0xA0, 0xAD, 0x378, 0x2028,
		0x2000, 0x3000, 0xFEFF, 0xD800, 0xDFFF, 0xE000, 0xF8FF, 0xFFFE,
		0xE0001, 0x10FFFF, 0x110000, -1
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(df_go_isprint(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(df_go_isprint(no[i]));
}

static void test_space_prefix_suffix(void **state)
{
	/* " \t" NBSP "x" IDEOGRAPHIC-SPACE " " */
	static const char s1[] = " \t\xc2\xa0x\xe3\x80\x80 ";
	static const char s2[] = "\xe2\x80\xa8\xa8";     /* U+2028 then a stray byte */
	static const char s3[] = "\x80\xe2\x80\xa8";     /* stray byte then U+2028 */

	(void)state;
	assert_int_equal(df_go_space_prefix(s1, sizeof(s1) - 1), 4);
	assert_int_equal(df_go_space_suffix(s1, sizeof(s1) - 1), 4);
	assert_int_equal(df_go_space_prefix("", 0), 0);
	assert_int_equal(df_go_space_suffix("", 0), 0);
	assert_int_equal(df_go_space_prefix("   ", 3), 3);
	assert_int_equal(df_go_space_suffix("   ", 3), 3);
	assert_int_equal(df_go_space_prefix("abc", 3), 0);
	assert_int_equal(df_go_space_suffix("abc", 3), 0);
	/* invalid bytes are U+FFFD, not space */
	assert_int_equal(df_go_space_prefix("\xff ", 2), 0);
	assert_int_equal(df_go_space_suffix("\xff ", 2), 1);
	assert_int_equal(df_go_space_prefix(" \x80", 2), 1);
	assert_int_equal(df_go_space_suffix(" \x80", 2), 0);
	assert_int_equal(df_go_space_prefix(s2, sizeof(s2) - 1), 3);
	assert_int_equal(df_go_space_suffix(s2, sizeof(s2) - 1), 0);
	assert_int_equal(df_go_space_prefix(s3, sizeof(s3) - 1), 0);
	assert_int_equal(df_go_space_suffix(s3, sizeof(s3) - 1), 3);
	/* a space rune cut short is not space */
	assert_int_equal(df_go_space_suffix(" \xe3\x80", 3), 0);
	assert_int_equal(df_go_space_prefix("\xe3\x80 ", 3), 0);
	/* NEL and vertical tab are space; ZWSP and BOM are not */
	assert_int_equal(df_go_space_prefix("\xc2\x85\v\xe2\x80\x8bx", 7), 3);
	assert_int_equal(df_go_space_suffix("x\xef\xbb\xbf", 4), 0);
}

/* ---- JSON ---- */

static void test_json_strings(void **state)
{
	struct jres r;

	(void)state;
	json(&r, "[\"a\",\"b\"]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 2);
	assert_item_lit(&r, 0, "a");
	assert_item_lit(&r, 1, "b");
	jres_release(&r);

	json(&r, "[ \"a\" ,\n \"b c\"\r\n\t]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 2);
	assert_item_lit(&r, 0, "a");
	assert_item_lit(&r, 1, "b c");
	jres_release(&r);

	json(&r, "[\"\"]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 1);
	assert_item_lit(&r, 0, "");
	jres_release(&r);
}

static void test_json_empty(void **state)
{
	struct jres r;

	(void)state;
	json(&r, "[]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 0);
	jres_release(&r);

	json(&r, "[ \n ]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 0);
	jres_release(&r);
}

static void test_json_not_strings(void **state)
{
	(void)state;
	assert_int_equal(json_rc("[\"a\", 1]"), -1);
	assert_int_equal(json_rc("[null]"), -1);
	assert_int_equal(json_rc("[true]"), -1);
	assert_int_equal(json_rc("[false, \"a\"]"), -1);
	assert_int_equal(json_rc("[[\"a\"]]"), -1);
	assert_int_equal(json_rc("[[]]"), -1);
	assert_int_equal(json_rc("[{}]"), -1);
	assert_int_equal(json_rc("[{\"k\":\"v\"}]"), -1);
	assert_int_equal(json_rc("[{\"a\":[1,{\"b\":null}],\"c\":true}]"), -1);
	assert_int_equal(json_rc("[-0.5e+10]"), -1);
	assert_int_equal(json_rc("[0]"), -1);
	assert_int_equal(json_rc("[1E5, 2e-3, 3.25]"), -1);
	/* a non-string element still needs the rest to be valid */
	assert_int_equal(json_rc("[1, \"a\""), 0);
	assert_int_equal(json_rc("[null, ]"), 0);
}

static void test_json_number_range(void **state)
{
	(void)state;
	/* strconv.ParseFloat overflow -> UnmarshalTypeError -> shell form */
	assert_int_equal(json_rc("[1e999]"), 0);
	assert_int_equal(json_rc("[\"a\", -1e999]"), 0);
	assert_int_equal(json_rc("[[1e999]]"), 0);
	assert_int_equal(json_rc("[{\"k\":1E400}]"), 0);
	assert_int_equal(json_rc("[null, 1e309]"), 0);
	assert_int_equal(json_rc("[1e99999999999999999999999]"), 0);
	assert_int_equal(json_rc("[0.0002e312]"), 0);
	assert_int_equal(json_rc("[1.7976931348623159e308]"), 0);
	/* 2^1024 - 2^970 exactly: a tie, rounds to even = +Inf */
	assert_int_equal(json_rc("[179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792]"), 0);
	/* one less: rounds down to MaxFloat64 */
	assert_int_equal(json_rc("[179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.999]"), -1);
	/* in range, or underflow (no error in Go) */
	assert_int_equal(json_rc("[1e308]"), -1);
	assert_int_equal(json_rc("[1.7976931348623157e308]"), -1);
	assert_int_equal(json_rc("[1.7976931348623158e308]"), -1);
	assert_int_equal(json_rc("[0.0001e312]"), -1);
	assert_int_equal(json_rc("[1e-999]"), -1);
	assert_int_equal(json_rc("[0e99999999999]"), -1);
	assert_int_equal(json_rc("[-0.000e400]"), -1);
}

static void test_json_syntax(void **state)
{
	(void)state;
	assert_int_equal(json_rc("[\"a\",]"), 0);
	assert_int_equal(json_rc("[\"a\""), 0);
	assert_int_equal(json_rc("[\"a\",\n"), 0);
	assert_int_equal(json_rc("["), 0);
	assert_int_equal(json_rc("[\"a"), 0);
	assert_int_equal(json_rc("[\"a\\"), 0);
	assert_int_equal(json_rc("['a']"), 0);
	assert_int_equal(json_rc("[,\"a\"]"), 0);
	assert_int_equal(json_rc("[\"a\",,\"b\"]"), 0);
	assert_int_equal(json_rc("[\"a\" \"b\"]"), 0);
	assert_int_equal(json_rc("[\"a\":\"b\"]"), 0);
	assert_int_equal(json_rc("[\"a\"}"), 0);
	assert_int_equal(json_rc("[a]"), 0);
	/* only space, \t, \n, \r are JSON whitespace */
	assert_int_equal(json_rc("[\v\"a\"]"), 0);
	assert_int_equal(json_rc("[\"a\"\f]"), 0);
	assert_int_equal(json_rc("[\xc2\xa0\"a\"]"), 0);
	/* numbers */
	assert_int_equal(json_rc("[01]"), 0);
	assert_int_equal(json_rc("[-]"), 0);
	assert_int_equal(json_rc("[-a]"), 0);
	assert_int_equal(json_rc("[1.]"), 0);
	assert_int_equal(json_rc("[.5]"), 0);
	assert_int_equal(json_rc("[1e]"), 0);
	assert_int_equal(json_rc("[1e+]"), 0);
	assert_int_equal(json_rc("[+1]"), 0);
	assert_int_equal(json_rc("[0x10]"), 0);
	assert_int_equal(json_rc("[1"), 0);
	assert_int_equal(json_rc("[NaN]"), 0);
	assert_int_equal(json_rc("[Infinity]"), 0);
	/* literals */
	assert_int_equal(json_rc("[tru]"), 0);
	assert_int_equal(json_rc("[True]"), 0);
	assert_int_equal(json_rc("[nul"), 0);
	assert_int_equal(json_rc("[nulls]"), 0);
	assert_int_equal(json_rc("[falsey]"), 0);
	/* objects */
	assert_int_equal(json_rc("[{\"a\":1,}]"), 0);
	assert_int_equal(json_rc("[{\"a\" 1}]"), 0);
	assert_int_equal(json_rc("[{1:2}]"), 0);
	assert_int_equal(json_rc("[{\"a\"}]"), 0);
	assert_int_equal(json_rc("[{\"a\":}]"), 0);
	assert_int_equal(json_rc("[{\"a\":\"b\"]"), 0);
	assert_int_equal(json_rc("[{,}]"), 0);
	assert_int_equal(json_rc("[{'a':1}]"), 0);
	/* not an array at all */
	assert_int_equal(json_rc("{\"a\":\"b\"}"), 0);
	assert_int_equal(json_rc("\"a\""), 0);
	assert_int_equal(json_rc(""), 0);
}

static void test_json_trailing(void **state)
{
	struct jres r;

	(void)state;
	json(&r, "[\"a\"] trailing garbage {");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 1);
	assert_item_lit(&r, 0, "a");
	jres_release(&r);

	json(&r, "[\"a\"]]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 1);
	jres_release(&r);

	json(&r, "[\"x\"][\"y\"]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 1);
	assert_item_lit(&r, 0, "x");
	jres_release(&r);

	assert_int_equal(json_rc("[1]\"not reached"), -1);
	assert_int_equal(json_rc("[]\x01\xff"), 1);
}

static void test_json_escapes(void **state)
{
	struct jres r;

	(void)state;
	json(&r, "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]");
	assert_int_equal(r.rc, 1);
	assert_item_lit(&r, 0, "\"\\/\b\f\n\r\t");
	jres_release(&r);

	json(&r, "[\"\\u00e9\\ud83d\\ude00\", \"\\u0041\\u20AC\"]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 2);
	assert_item_lit(&r, 0, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_item_lit(&r, 1, "A\xe2\x82\xac");
	jres_release(&r);

	json(&r, "[\"a\\u0000b\"]");
	assert_int_equal(r.rc, 1);
	assert_item(&r, 0, "a\0b", 3);
	jres_release(&r);

	/* bad escapes are syntax errors */
	assert_int_equal(json_rc("[\"\\x41\"]"), 0);
	assert_int_equal(json_rc("[\"\\a\"]"), 0);
	assert_int_equal(json_rc("[\"\\'\"]"), 0);
	assert_int_equal(json_rc("[\"\\u12\"]"), 0);
	assert_int_equal(json_rc("[\"\\u12G4\"]"), 0);
	assert_int_equal(json_rc("[\"\\U0041\"]"), 0);
	assert_int_equal(json_rc("[\"\\ud800\\u12\"]"), 0);
}

static void test_json_surrogates(void **state)
{
	struct jres r;

	(void)state;
	json(&r, "[\"\\ud800\", \"x\\udc00y\", \"\\ud800\\u0041\", \"\\udc00\\ud800\","
		 " \"\\ud800\\ud800\\udc00\", \"\\uDBFF\\uDFFF\", \"\\ud800\\n\"]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 7);
	assert_item_lit(&r, 0, "\xef\xbf\xbd");
	assert_item_lit(&r, 1, "x\xef\xbf\xbdy");
	assert_item_lit(&r, 2, "\xef\xbf\xbd" "A");
	assert_item_lit(&r, 3, "\xef\xbf\xbd\xef\xbf\xbd");
	assert_item_lit(&r, 4, "\xef\xbf\xbd\xf0\x90\x80\x80");
	assert_item_lit(&r, 5, "\xf4\x8f\xbf\xbf");
	assert_item_lit(&r, 6, "\xef\xbf\xbd\n");
	jres_release(&r);
}

static void test_json_raw_bytes(void **state)
{
	struct jres r;

	(void)state;
	/* invalid UTF-8 inside a string: each bad byte becomes U+FFFD */
	json(&r, "[\"a\xff" "b\", \"\xc3\", \"\xe2\x82\", \"\xed\xa0\x80\", \"\xc3\xa9\"]");
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 5);
	assert_item_lit(&r, 0, "a\xef\xbf\xbd" "b");
	assert_item_lit(&r, 1, "\xef\xbf\xbd");
	assert_item_lit(&r, 2, "\xef\xbf\xbd\xef\xbf\xbd");
	assert_item_lit(&r, 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_item_lit(&r, 4, "\xc3\xa9");
	jres_release(&r);

	/* DEL is not a control character for JSON */
	json(&r, "[\"\x7f\"]");
	assert_int_equal(r.rc, 1);
	assert_item_lit(&r, 0, "\x7f");
	jres_release(&r);

	/* raw control characters are syntax errors */
	assert_int_equal(json_rc("[\"a\tb\"]"), 0);
	assert_int_equal(json_rc("[\"a\nb\"]"), 0);
	assert_int_equal(json_rc("[\"\x1f\"]"), 0);
	assert_int_equal(json_rc_n("[\"a\0\"]", 6), 0);
	/* ... also outside the top level */
	assert_int_equal(json_rc("[{\"k\\u0000\":\"\x01\"}]"), 0);
}

static void test_json_many(void **state)
{
	struct df_buf in = DF_BUF_INIT;
	struct jres r;
	int i;

	(void)state;
	df_buf_addc(&in, '[');
	for (i = 0; i < 1000; i++)
		df_buf_addf(&in, "%s\"item%d\"", i ? "," : "", i);
	df_buf_addc(&in, ']');
	json_n(&r, in.ptr, in.len);
	assert_int_equal(r.rc, 1);
	assert_int_equal(r.n, 1000);
	assert_item_lit(&r, 0, "item0");
	assert_item_lit(&r, 537, "item537");
	assert_item_lit(&r, 999, "item999");
	jres_release(&r);
	df_buf_release(&in);
}

static void nested(struct df_buf *b, size_t open, size_t close)
{
	size_t i;

	df_buf_reset(b);
	for (i = 0; i < open; i++)
		df_buf_addc(b, '[');
	for (i = 0; i < close; i++)
		df_buf_addc(b, ']');
}

static void test_json_deep(void **state)
{
	struct df_buf b = DF_BUF_INIT;
	size_t i;

	(void)state;
	nested(&b, 20000, 0);
	assert_int_equal(json_rc_n(b.ptr, b.len), 0);
	nested(&b, 20000, 20000);
	assert_int_equal(json_rc_n(b.ptr, b.len), 0);
	/* Go's limit: 10000 open containers are fine, 10001 are not */
	nested(&b, 10000, 10000);
	assert_int_equal(json_rc_n(b.ptr, b.len), -1);
	nested(&b, 10001, 10001);
	assert_int_equal(json_rc_n(b.ptr, b.len), 0);
	/* objects count too */
	df_buf_reset(&b);
	df_buf_addc(&b, '[');
	for (i = 1; i < 10000; i++)
		df_buf_adds(&b, "{\"k\":");
	df_buf_adds(&b, "1");
	for (i = 1; i < 10000; i++)
		df_buf_addc(&b, '}');
	df_buf_addc(&b, ']');
	assert_int_equal(json_rc_n(b.ptr, b.len), -1);
	df_buf_reset(&b);
	df_buf_addc(&b, '[');
	for (i = 1; i <= 10000; i++)
		df_buf_adds(&b, "{\"k\":");
	df_buf_adds(&b, "1");
	for (i = 1; i <= 10000; i++)
		df_buf_addc(&b, '}');
	df_buf_addc(&b, ']');
	assert_int_equal(json_rc_n(b.ptr, b.len), 0);
	df_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_ascii),
		cmocka_unit_test(test_quote_invalid_utf8),
		cmocka_unit_test(test_quote_unicode),
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_utf8_append),
		cmocka_unit_test(test_utf8_append_nul),
		cmocka_unit_test(test_isspace),
		cmocka_unit_test(test_isprint),
		cmocka_unit_test(test_space_prefix_suffix),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_json_not_strings),
		cmocka_unit_test(test_json_number_range),
		cmocka_unit_test(test_json_syntax),
		cmocka_unit_test(test_json_trailing),
		cmocka_unit_test(test_json_escapes),
		cmocka_unit_test(test_json_surrogates),
		cmocka_unit_test(test_json_raw_bytes),
		cmocka_unit_test(test_json_many),
		cmocka_unit_test(test_json_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
