/* test_format.c - the format pass, run alone through df_fix: whole outputs,
 * the BuildKit dump before and after, and idempotence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

extern const struct df_pass df_pass_format;

/* ---- helpers ---- */

static void ctx_format_only(struct df_ctx *ctx, int indent)
{
	size_t i;

	df_ctx_init(ctx);
	ctx->level = DF_LEVEL_FORMAT;
	if (indent >= 0)
		ctx->indent = indent;
	for (i = 0; df_passes[i]; i++)
		ctx->enabled[i] = df_passes[i] == &df_pass_format;
}

/* df_fix with only the format pass; returns the output (malloc'ed). */
static char *run_format(const char *in, size_t len, int indent, size_t *outlen)
{
	struct df_buf out = DF_BUF_INIT;
	struct df_ctx ctx;
	const char *why = NULL;
	int rc;

	ctx_format_only(&ctx, indent);
	rc = df_fix(&ctx, in, len, &out, &why);
	if (rc != 0)
		fail_msg("df_fix refused: %s", why ? why : "?");
	df_ctx_release(&ctx);
	return df_buf_detach(&out, outlen);
}

static char *dump_of(const char *s, size_t n)
{
	struct df_buf b = DF_BUF_INIT;
	struct df_doc *doc = df_doc_parse(s, n);

	assert_null(df_doc_error(doc));
	df_dump(doc, &b);
	df_doc_free(doc);
	return df_buf_detach(&b, NULL);
}

/* The pass itself (no driver) reports no change on its own output. */
static void assert_pass_quiet(const char *s, size_t n)
{
	struct df_doc *doc = df_doc_parse(s, n);
	struct df_ctx ctx;

	ctx_format_only(&ctx, -1);
	ctx.current = &df_pass_format;
	if (!df_pass_file_ignored(&df_pass_format, doc))
		assert_int_equal(df_pass_format.run(&ctx, doc), 0);
	ctx.current = NULL;
	df_ctx_release(&ctx);
	df_doc_free(doc);
}

static void check_n(const char *in, size_t inlen, const char *want, size_t wantlen, int indent)
{
	size_t n, n2;
	char *out = run_format(in, inlen, indent, &n), *again, *d1, *d2;

	if (n != wantlen || memcmp(out, want, n) != 0)
		fail_msg("format of\n%.*s\ngave\n%.*s\nwant\n%.*s", (int)inlen, in, (int)n, out,
			 (int)wantlen, want);
	d1 = dump_of(in, inlen);
	d2 = dump_of(out, n);
	assert_string_equal(d1, d2);
	again = run_format(out, n, indent, &n2);
	assert_int_equal(n2, n);
	assert_memory_equal(again, out, n);
	if (indent < 0)
		assert_pass_quiet(out, n);
	free(out);
	free(again);
	free(d1);
	free(d2);
}

#define check(in, want) check_n(in, sizeof(in) - 1, want, sizeof(want) - 1, -1)
#define check_indent(in, want, ind) check_n(in, sizeof(in) - 1, want, sizeof(want) - 1, ind)
#define unchanged(in) check(in, in)

/* ---- keywords and spacing ---- */

static void test_keywords(void **state)
{
	(void)state;
	check("from alpine\n"
	      "arg V=1\n"
	      "env A=1\n"
	      "label a=b\n"
	      "maintainer me\n"
	      "workdir /app\n"
	      "user app\n"
	      "copy a /b\n"
	      "add b /c\n"
	      "run make\n"
	      "expose 80\n"
	      "volume /data\n"
	      "stopsignal SIGTERM\n"
	      "healthcheck NONE\n"
	      "shell [\"/bin/sh\", \"-c\"]\n"
	      "onbuild run make\n"
	      "entrypoint [\"app\"]\n"
	      "cmd [\"--help\"]\n",
	      "FROM alpine\n"
	      "ARG V=1\n"
	      "ENV A=1\n"
	      "LABEL a=b\n"
	      "MAINTAINER me\n"
	      "WORKDIR /app\n"
	      "USER app\n"
	      "COPY a /b\n"
	      "ADD b /c\n"
	      "RUN make\n"
	      "EXPOSE 80\n"
	      "VOLUME /data\n"
	      "STOPSIGNAL SIGTERM\n"
	      "HEALTHCHECK NONE\n"
	      "SHELL [\"/bin/sh\", \"-c\"]\n"
	      "ONBUILD RUN make\n"
	      "ENTRYPOINT [\"app\"]\n"
	      "CMD [\"--help\"]\n");
	/* mixed case; an instruction's indentation goes */
	check("FROM alpine\n  Run echo Run\n\tcOpY . /x\n",
	      "FROM alpine\nRUN echo Run\nCOPY . /x\n");
}

static void test_spacing(void **state)
{
	(void)state;
	check("FROM   alpine:3.19  \nRUN\t\t--mount=type=cache,target=/x   --network=none   make   all  \n",
	      "FROM alpine:3.19\nRUN --mount=type=cache,target=/x --network=none make   all\n");
	/* between the words of whitespace-split instructions, not inside words */
	check("FROM alpine\nEXPOSE 80   443/udp\nCOPY  --chown=a:b   a  b   /dst/\n"
	      "ARG  A=\"x  y\"   B\nENV A=\"1  2\"    B=3\nLABEL  a='q  r'\tb=c\n",
	      "FROM alpine\nEXPOSE 80 443/udp\nCOPY --chown=a:b a b /dst/\n"
	      "ARG A=\"x  y\" B\nENV A=\"1  2\" B=3\nLABEL a='q  r' b=c\n");
	/* a quoted flag keeps its blanks */
	check("FROM alpine\nRUN   --mount=\"type=secret,id=a b\"   cat x\n",
	      "FROM alpine\nRUN --mount=\"type=secret,id=a b\" cat x\n");
	/* legacy ENV k v: only the gap after the key */
	check("FROM alpine\nENV   PATH    /a  /b  \n", "FROM alpine\nENV PATH /a  /b\n");
	/* the escape takes the first blank: the gap is not free */
	check("FROM alpine\nENV  foo\\  a=b\n", "FROM alpine\nENV foo\\  a=b\n");
	/* verbatim arguments stay verbatim */
	unchanged("FROM alpine\nUSER a  b\nWORKDIR /a  b\nRUN a  &&   b\nMAINTAINER a  <b>\n");
	check("FROM alpine\nHEALTHCHECK   --interval=5s   CMD   curl  -f x\n",
	      "FROM alpine\nHEALTHCHECK --interval=5s CMD curl  -f x\n");
	check("FROM alpine\nonbuild   copy    a   /b\n", "FROM alpine\nONBUILD COPY a /b\n");
}

static void test_from_as_kept(void **state)
{
	(void)state;
	/* --dump quotes `as` as written: changing it would change the dump */
	check("from  golang:1.22   as   build\nFROM scratch\n",
	      "FROM golang:1.22 as build\nFROM scratch\n");
}

/* ---- JSON ---- */

static void test_json(void **state)
{
	(void)state;
	check("FROM alpine\nCMD [ \"a\" ,\"b\",\t\"c\" ]\nENTRYPOINT [\"x\"]\nRUN [ ]\n",
	      "FROM alpine\nCMD [\"a\", \"b\", \"c\"]\nENTRYPOINT [\"x\"]\nRUN []\n");
	/* strings stay as written, escapes included */
	check("FROM alpine\nCMD [ \"\\u00e9\" , \"\\/x\",\"t\\tab\" , \"q\\\"\" ]\n",
	      "FROM alpine\nCMD [\"\\u00e9\", \"\\/x\", \"t\\tab\", \"q\\\"\"]\n");
	/* bytes after the array: BuildKit ignores them, they stay */
	check("FROM alpine\nCMD [ \"a\" ]   junk\n", "FROM alpine\nCMD [\"a\"]   junk\n");
	/* not JSON: shell form, left alone */
	unchanged("FROM alpine\nCMD [ 'a', 'b' ]\nCMD [\"a\" \"b\"]\n");
	check("FROM alpine\nCOPY [ \"a b\",  \"/c\" ]\nVOLUME [ \"/v\" ]\n"
	      "HEALTHCHECK CMD [ \"curl\",\"-f\" ]\n",
	      "FROM alpine\nCOPY [\"a b\", \"/c\"]\nVOLUME [\"/v\"]\n"
	      "HEALTHCHECK CMD [\"curl\", \"-f\"]\n");
}

/* ---- continuations ---- */

static void test_shell_continuations_keep_indent(void **state)
{
	(void)state;
	/* the indentation is part of the command string BuildKit records */
	check("FROM alpine\nrun apt-get update &&   \\  \n  apt-get install -y x \\\t\n\t&& rm -rf /v\n",
	      "FROM alpine\nRUN apt-get update &&   \\\n  apt-get install -y x \\\n\t&& rm -rf /v\n");
	unchanged("FROM alpine\nRUN foo; \\\n    bar; \\\n    baz\n");
	unchanged("FROM alpine\nRUN a\\\nb\n");
}

static void test_reindent(void **state)
{
	(void)state;
	check("FROM alpine\nENV A=1 \\\n  B=2   \\\n        C=3\n",
	      "FROM alpine\nENV A=1 \\\n    B=2 \\\n    C=3\n");
	check("FROM alpine\nCOPY --from=build  \\\n\t/a \\\n /b\n",
	      "FROM alpine\nCOPY --from=build \\\n    /a \\\n    /b\n");
	check("FROM alpine\nCMD [\"a\",\\\n\t\"b\" ,  \\\n  \"c\"]\n",
	      "FROM alpine\nCMD [\"a\", \\\n    \"b\", \\\n    \"c\"]\n");
	/* flags on their own lines, then a one-line command */
	check("FROM alpine\nRUN --mount=type=cache,target=/a \\\n\t--mount=type=cache,target=/b \\\n  make\n",
	      "FROM alpine\nRUN --mount=type=cache,target=/a \\\n    --mount=type=cache,target=/b \\\n    make\n");
	/* a line holding only blanks and the escape goes */
	check("FROM alpine\nEXPOSE 80 \\\n   \\\n  443\n", "FROM alpine\nEXPOSE 80 \\\n  443\n");
	/* --indent */
	check_indent("FROM alpine\nENV A=1 \\\n    B=2\n", "FROM alpine\nENV A=1 \\\n  B=2\n", 2);
}

static void test_file_indent(void **state)
{
	(void)state;
	/* the file's RUNs use tabs: ENV follows them */
	check("FROM alpine\nRUN a \\\n\t&& b\nENV A=1 \\\n  B=2\n",
	      "FROM alpine\nRUN a \\\n\t&& b\nENV A=1 \\\n\tB=2\n");
	/* mixed: the default 4 */
	check("FROM alpine\nRUN a \\\n\t&& b \\\n  && c\nENV A=1 \\\n  B=2\n",
	      "FROM alpine\nRUN a \\\n\t&& b \\\n  && c\nENV A=1 \\\n    B=2\n");
}

static void test_comments_in_continuation(void **state)
{
	(void)state;
	/* ENV a=1 \ followed by a comment line (a dprint/dockerfmt breaker) */
	check("FROM alpine\nENV a=1 \\\n# the next one   \n  b=2\n",
	      "FROM alpine\nENV a=1 \\\n  # the next one\n  b=2\n");
	check("FROM alpine\nENV a=1 \\\n# the next one   \n\tb=2 \\\n  c=3\n",
	      "FROM alpine\nENV a=1 \\\n    # the next one\n    b=2 \\\n    c=3\n");
	/* in a shell RUN the comment takes the indent of the line after it */
	check("FROM alpine\nRUN a \\\n# note\n  && b \\\n      # last\n",
	      "FROM alpine\nRUN a \\\n  # note\n  && b \\\n  # last\n");
	/* empty continuation lines go (BuildKit ignores them and warns) */
	check("FROM alpine\nRUN a \\\n\n   \n  && b\n", "FROM alpine\nRUN a \\\n  && b\n");
}

/* ---- what is never touched ---- */

static void test_heredoc(void **state)
{
	(void)state;
	check("FROM alpine\nrun  <<EOF  \n  echo  hi   \n\n\n\nEOF\ncopy <<-\"X\"  /a\n\tbody  \n\tX\n",
	      "FROM alpine\nRUN <<EOF\n  echo  hi   \n\n\n\nEOF\nCOPY <<-\"X\" /a\n\tbody  \n\tX\n");
	unchanged("FROM alpine\nRUN <<EOF\n#!/bin/sh\n  set -e   \nEOF\n");
	/* `\ ` escapes a blank in heredoc words: `a\ <<EOF` would be one word */
	check("FROM alpine\ncopy  a\\  <<EOF   /x\nbody\nEOF\n",
	      "FROM alpine\nCOPY a\\  <<EOF /x\nbody\nEOF\n");
}

static void test_crlf_bom(void **state)
{
	(void)state;
	check("\xEF\xBB\xBF" "from alpine  \r\nrun a \\  \r\n  b\r\n\r\n\r\n# c  \r\n",
	      "\xEF\xBB\xBF" "FROM alpine\r\nRUN a \\\r\n  b\r\n\r\n# c\r\n");
	check("\xEF\xBB\xBF  from x\r\nRUN a", "\xEF\xBB\xBF" "FROM x\r\nRUN a\r\n");
}

static void test_backtick_escape(void **state)
{
	(void)state;
	check("# escape=`\nfrom mcr.microsoft.com/windows\nrun powershell -Command `\n    FOR ($i=0; $i -lt 3; $i++) { echo $i }  `  \n    ; exit 0\n"
	      "env A=C:\\path `\n  B=2\n",
	      "# escape=`\nFROM mcr.microsoft.com/windows\nRUN powershell -Command `\n    FOR ($i=0; $i -lt 3; $i++) { echo $i }  `\n    ; exit 0\n"
	      "ENV A=C:\\path `\n    B=2\n");
}

static void test_breakers(void **state)
{
	(void)state;
	unchanged("FROM nginx\nCMD mkdir --parents /x && nginx -g \"daemon off;\"\n");
	unchanged("FROM alpine\nRUN foo; \\\n    bar\n");
	unchanged("#\nFROM alpine\n#\nRUN a\n");
	/* directives are left exactly as written */
	unchanged("#  syntax = docker/dockerfile:1  \n# check=skip=all\nFROM alpine\n");
}

static void test_blank_lines(void **state)
{
	(void)state;
	check("\n\n\nFROM alpine\n\n\n   \nRUN a\n  \t\n\n", "\nFROM alpine\n\nRUN a\n");
	check("FROM alpine\n  # indented comment   \nRUN a", "FROM alpine\n# indented comment\nRUN a\n");
	check("FROM alpine\nRUN a \\\n", "FROM alpine\nRUN a \\\n");
	check("FROM alpine\nRUN <<EOF\nx\nEOF", "FROM alpine\nRUN <<EOF\nx\nEOF\n");
}

static void test_pragma(void **state)
{
	(void)state;
	check("FROM alpine\n# dfix ignore=format\nrun  a\nrun  b\n",
	      "FROM alpine\n# dfix ignore=format\nrun  a\nRUN b\n");
	unchanged("# dfix off\nfrom  alpine\nrun  a\n");
}

static void test_findings(void **state)
{
	static const char in[] = "from alpine\nRUN a \\\n\n  b\n\n\n";
	struct df_buf out = DF_BUF_INIT;
	struct df_ctx ctx;
	const char *why;
	size_t i;
	int casing = 0, empty = 0;

	(void)state;
	ctx_format_only(&ctx, -1);
	assert_int_equal(df_fix(&ctx, in, sizeof(in) - 1, &out, &why), 0);
	for (i = 0; i < ctx.nfindings; i++) {
		assert_string_equal(ctx.findings[i].pass, "format");
		if (ctx.findings[i].code && !strcmp(ctx.findings[i].code, "ConsistentInstructionCasing"))
			casing = ctx.findings[i].line == 1;
		if (ctx.findings[i].code && !strcmp(ctx.findings[i].code, "NoEmptyContinuation"))
			empty = ctx.findings[i].line == 2;
	}
	assert_true(casing);
	assert_true(empty);
	df_buf_release(&out);
	df_ctx_release(&ctx);
}

/* 20,000 continuation lines and 100,000 instructions: no quadratic step. */
static void test_large(void **state)
{
	struct df_buf in = DF_BUF_INIT;
	size_t i, n;
	char *out;

	(void)state;
	df_buf_adds(&in, "FROM alpine\nenv A0=0 \\\n");
	for (i = 1; i < 20000; i++)
		df_buf_addf(&in, "%s A%zu=%zu \\\n# c\n", i % 2 ? "" : "\t", i, i);
	df_buf_adds(&in, "  Z=1\n");
	for (i = 0; i < 100000; i++)
		df_buf_adds(&in, "run  x\n");
	out = run_format(in.ptr, in.len, -1, &n);
	assert_true(n > 0);
	assert_memory_equal(out, "FROM alpine\nENV A0=0 \\\n    A1=1 \\\n    # c\n", 40);
	free(out);
	df_buf_release(&in);
}

/* The marks a run leaves (DF_SEEN_FORMAT*): every instruction it left as it
 * is, changed ones too; a re-parse keeps them on the nodes it keeps; the next
 * run skips those, and lays out again a MOVING one when the unit changed. */
static void test_marks(void **state)
{
	static const char src[] = "FROM a\nENV A=1 \\\n  B=2\nRUN x \\\n  && y\ncopy  a b\n";
	static const char run_tab[] = "RUN x \\\n\t&& y\n";
	struct df_doc *doc = df_doc_parse(src, sizeof(src) - 1), *fresh;
	struct df_buf t1 = DF_BUF_INIT, t2 = DF_BUF_INIT, want = DF_BUF_INIT, got = DF_BUF_INIT;
	struct df_ctx ctx;
	uint32_t *map = NULL;
	size_t nmap = 0, i;

	(void)state;
	ctx_format_only(&ctx, -1);
	ctx.current = &df_pass_format;
	assert_int_equal(df_pass_format.run(&ctx, doc), 1); /* copy */
	for (i = 0; i < doc->nnodes; i++)
		assert_true(doc->nodes[i].seen & DF_SEEN_FORMAT);
	assert_true(doc->nodes[1].seen & DF_SEEN_FORMAT_MOVING); /* ENV: to 2 spaces */
	assert_false(doc->nodes[2].seen & DF_SEEN_FORMAT_MOVING); /* RUN: never moved */
	df_doc_print(doc, &t1);
	assert_int_equal(df_doc_reparse(doc, t1.ptr, t1.len, &map, &nmap), 0);
	free(map);
	for (i = 0; i < doc->nnodes; i++)
		assert_true(doc->nodes[i].seen & DF_SEEN_FORMAT);
	/* the RUN now indents with a tab: the file's unit becomes a tab */
	assert_int_equal(df_doc_replace(doc, 2, run_tab, strlen(run_tab)), 0);
	assert_int_equal(doc->nodes[2].seen, 0);
	assert_true(doc->nodes[1].seen & DF_SEEN_FORMAT_MOVING);
	df_doc_print(doc, &t2);
	assert_int_equal(df_doc_reparse(doc, t2.ptr, t2.len, &map, &nmap), 0);
	free(map);
	fresh = df_doc_parse(t2.ptr, t2.len);
	assert_int_equal(df_pass_format.run(&ctx, fresh), 1);
	df_doc_print(fresh, &want);
	assert_string_equal(want.ptr, "FROM a\nENV A=1 \\\n\tB=2\nRUN x \\\n\t&& y\nCOPY a b\n");
	/* the marked tree gives what the fresh one gives */
	assert_int_equal(df_pass_format.run(&ctx, doc), 1);
	df_doc_print(doc, &got); /* (not into t1 or t2: the tree's nodes lie there) */
	assert_string_equal(got.ptr, want.ptr);
	ctx.current = NULL;
	df_ctx_release(&ctx);
	df_doc_free(fresh);
	df_doc_free(doc);
	df_buf_release(&t1);
	df_buf_release(&t2);
	df_buf_release(&want);
	df_buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_spacing),
		cmocka_unit_test(test_from_as_kept),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_shell_continuations_keep_indent),
		cmocka_unit_test(test_reindent),
		cmocka_unit_test(test_file_indent),
		cmocka_unit_test(test_comments_in_continuation),
		cmocka_unit_test(test_heredoc),
		cmocka_unit_test(test_crlf_bom),
		cmocka_unit_test(test_backtick_escape),
		cmocka_unit_test(test_breakers),
		cmocka_unit_test(test_blank_lines),
		cmocka_unit_test(test_pragma),
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
