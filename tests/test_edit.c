/* test_edit.c - the CST edits: replace, insert, remove, move. Every edit
 * keeps the bytes it does not touch; a refused edit leaves the tree alone. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PARSE(lit) df_doc_parse(lit, sizeof(lit) - 1)
#define L(lit) lit, sizeof(lit) - 1

static void assert_text(const struct df_doc *doc, const char *want, size_t n)
{
	struct df_buf b = DF_BUF_INIT;

	df_doc_print(doc, &b);
	assert_int_equal(b.len, n);
	if (n)
		assert_memory_equal(b.ptr, want, n);
	df_buf_release(&b);
}

#define assert_text_lit(doc, lit) assert_text(doc, lit, sizeof(lit) - 1)

static void assert_span_n(struct df_span s, const char *want, size_t n)
{
	assert_int_equal(s.len, n);
	if (n)
		assert_memory_equal(s.ptr, want, n);
}

#define assert_span(s, lit) assert_span_n(s, lit, sizeof(lit) - 1)

/* The printed tree parses back to the same node kinds with no errors. */
static void assert_reparses(const struct df_doc *doc)
{
	struct df_buf b = DF_BUF_INIT;
	struct df_doc *again;
	size_t i;

	df_doc_print(doc, &b);
	again = df_doc_parse(b.ptr ? b.ptr : "", b.len);
	assert_int_equal(again->ndiags, 0);
	assert_int_equal(again->nnodes, doc->nnodes);
	for (i = 0; i < doc->nnodes; i++)
		assert_int_equal(again->nodes[i].kind, doc->nodes[i].kind);
	df_doc_free(again);
	df_buf_release(&b);
}

static void test_replace(void **state)
{
	static const char src[] = "FROM a\n# c\nRUN  x  \\\n  y\nCMD y";
	struct df_doc *doc = PARSE(src);

	(void)state;
	assert_int_equal(doc->nnodes, 4);
	/* the replacement gets the newline the old node had */
	assert_int_equal(df_doc_replace(doc, 2, L("RUN z")), 0);
	assert_text_lit(doc, "FROM a\n# c\nRUN z\nCMD y");
	assert_int_equal(doc->nnodes, 4);
	assert_int_equal(doc->nodes[2].kind, DF_INSTRUCTION);
	assert_int_equal(doc->nodes[2].line, 3); /* keeps the old node's line */
	assert_int_equal(doc->nodes[2].nlines, 1);
	assert_int_equal(doc->nodes[2].inst->cmd, DF_CMD_RUN);
	assert_span(doc->nodes[2].inst->args[0], "z");
	/* the other nodes still point at the original bytes */
	assert_ptr_equal(doc->nodes[0].text.ptr, src);
	assert_ptr_equal(doc->nodes[3].text.ptr, src + 25);
	assert_reparses(doc);

	/* the last node had no newline: the replacement gets none either */
	assert_int_equal(df_doc_replace(doc, 3, L("CMD [\"w\"]")), 0);
	assert_text_lit(doc, "FROM a\n# c\nRUN z\nCMD [\"w\"]");
	assert_int_equal(doc->nodes[3].inst->json, 1);

	/* one node may become several */
	assert_int_equal(df_doc_replace(doc, 1, L("# one\n# two\n")), 0);
	assert_int_equal(doc->nnodes, 5);
	assert_text_lit(doc, "FROM a\n# one\n# two\nRUN z\nCMD [\"w\"]");
	assert_int_equal(doc->nodes[1].kind, DF_COMMENT);
	assert_int_equal(doc->nodes[2].kind, DF_COMMENT);
	df_doc_free(doc);
}

static void test_replace_keeps_escape(void **state)
{
	/* new text is parsed with the document's escape character */
	static const char src[] = "# escape=`\nFROM a\nRUN x\n";
	struct df_doc *doc = PARSE(src);

	(void)state;
	assert_int_equal(df_doc_replace(doc, 2, L("RUN c:\\ `\n  && d\n")), 0);
	assert_int_equal(doc->nnodes, 3);
	assert_int_equal(doc->nodes[2].nlines, 2);
	assert_span(doc->nodes[2].inst->args[0], "c:\\   && d");
	assert_text_lit(doc, "# escape=`\nFROM a\nRUN c:\\ `\n  && d\n");
	df_doc_free(doc);
}

static void test_insert(void **state)
{
	static const char src[] = "FROM a\nRUN x";
	struct df_doc *doc = PARSE(src);

	(void)state;
	/* at the end of a file without a final newline: the last line gets one */
	assert_int_equal(df_doc_insert(doc, 2, L("CMD y")), 0);
	assert_text_lit(doc, "FROM a\nRUN x\nCMD y\n");
	assert_int_equal(doc->nnodes, 3);
	assert_int_equal(doc->nodes[2].line, 0); /* inserted */
	assert_int_equal(doc->nodes[2].inst->cmd, DF_CMD_CMD);
	assert_int_equal(doc->nodes[1].inst->cmd, DF_CMD_RUN);
	assert_reparses(doc);

	/* in the middle, several nodes at once */
	assert_int_equal(df_doc_insert(doc, 1, L("# why\nWORKDIR /app\n")), 0);
	assert_text_lit(doc, "FROM a\n# why\nWORKDIR /app\nRUN x\nCMD y\n");
	assert_int_equal(doc->nnodes, 5);
	assert_int_equal(doc->nodes[1].kind, DF_COMMENT);
	assert_int_equal(doc->nodes[2].inst->cmd, DF_CMD_WORKDIR);

	/* at the start */
	assert_int_equal(df_doc_insert(doc, 0, L("ARG V=1")), 0);
	assert_text_lit(doc, "ARG V=1\nFROM a\n# why\nWORKDIR /app\nRUN x\nCMD y\n");
	df_doc_free(doc);

	/* a CRLF document gets CRLF line ends */
	doc = PARSE("FROM a\r\nRUN x");
	assert_int_equal(df_doc_insert(doc, 2, L("CMD y")), 0);
	assert_text_lit(doc, "FROM a\r\nRUN x\r\nCMD y\r\n");
	df_doc_free(doc);

	/* a heredoc is one node with its body */
	doc = PARSE("FROM a\n");
	assert_int_equal(df_doc_insert(doc, 1, L("COPY <<EOF /x\nhi\nEOF\n")), 0);
	assert_int_equal(doc->nnodes, 2);
	assert_int_equal(doc->nodes[1].inst->nheredocs, 1);
	assert_span(doc->nodes[1].inst->heredocs[0].body, "hi\n");
	assert_text_lit(doc, "FROM a\nCOPY <<EOF /x\nhi\nEOF\n");
	df_doc_free(doc);
}

static void test_remove(void **state)
{
	static const char src[] = "FROM a\n# c\nRUN x\nCMD y";
	struct df_doc *doc = PARSE(src);

	(void)state;
	df_doc_remove(doc, 1, 2);
	assert_int_equal(doc->nnodes, 2);
	assert_text_lit(doc, "FROM a\nCMD y");
	assert_int_equal(doc->nodes[1].inst->cmd, DF_CMD_CMD);
	assert_int_equal(doc->nodes[1].line, 4);
	/* out of range: clamped or ignored */
	df_doc_remove(doc, 5, 1);
	assert_int_equal(doc->nnodes, 2);
	df_doc_remove(doc, 1, 10);
	assert_int_equal(doc->nnodes, 1);
	assert_text_lit(doc, "FROM a\n");
	df_doc_free(doc);
}

static void test_move(void **state)
{
	static const char src[] = "FROM a\nRUN 1\nRUN 2\nRUN 3\n";
	struct df_doc *doc = PARSE(src);

	(void)state;
	df_doc_move(doc, 3, 1, 1); /* backwards */
	assert_text_lit(doc, "FROM a\nRUN 3\nRUN 1\nRUN 2\n");
	assert_int_equal(doc->nodes[1].line, 4);
	df_doc_move(doc, 1, 1, 4); /* forwards, to the end */
	assert_text_lit(doc, "FROM a\nRUN 1\nRUN 2\nRUN 3\n");
	df_doc_move(doc, 1, 2, 4); /* two nodes */
	assert_text_lit(doc, "FROM a\nRUN 3\nRUN 1\nRUN 2\n");
	/* into the moved range, or out of range: nothing happens */
	df_doc_move(doc, 1, 2, 2);
	df_doc_move(doc, 3, 5, 0);
	df_doc_move(doc, 1, 0, 3);
	assert_text_lit(doc, "FROM a\nRUN 3\nRUN 1\nRUN 2\n");
	assert_int_equal(doc->nnodes, 4);
	df_doc_free(doc);
}

static void test_move_with_comments(void **state)
{
	/* an instruction moves with the comment lines it owns */
	static const char src[] = "FROM a\nRUN x\n\n# about y\n# more\nCOPY y /y\n";
	struct df_doc *doc = PARSE(src);
	size_t start;

	(void)state;
	start = df_doc_owned_start(doc, 5);
	assert_int_equal(start, 3);
	df_doc_move(doc, start, 5 - start + 1, 1);
	assert_text_lit(doc, "FROM a\n# about y\n# more\nCOPY y /y\nRUN x\n\n");
	assert_int_equal(df_doc_owned_start(doc, 3), 1);
	assert_int_equal(df_doc_owned_start(doc, 4), 4);
	df_doc_free(doc);
}

static void test_refused(void **state)
{
	static const char src[] = "FROM a\nRUN x\nCMD y\n";
	static const char *const bad[] = {
		"RUN <<EOF\nbody\n",          /* unterminated heredoc */
		"ENV KEY\n",                   /* BuildKit parse error */
		"CMD [\"a\", 1]\n",            /* JSON array of non-strings */
	};
	struct df_doc *doc = PARSE(src);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(df_doc_replace(doc, 1, bad[i], strlen(bad[i])), -1);
		assert_int_equal(df_doc_insert(doc, 1, bad[i], strlen(bad[i])), -1);
		assert_int_equal(doc->nnodes, 3);
		assert_text_lit(doc, src);
		assert_int_equal(doc->nodes[1].inst->cmd, DF_CMD_RUN);
		assert_ptr_equal(doc->nodes[1].text.ptr, src + 7);
	}
	/* indices out of range */
	assert_int_equal(df_doc_replace(doc, 3, L("RUN z\n")), -1);
	assert_int_equal(df_doc_insert(doc, 4, L("RUN z\n")), -1);
	assert_int_equal(doc->ndiags, 0);
	assert_text_lit(doc, src);
	df_doc_free(doc);
}

/* ---- df_doc_reparse: the edited tree becomes the parse of its print ---- */

/* Reparse doc after an edit; check it against a whole parse of the print.
 * Returns 0, or -1 when reparse asked for a whole parse. The line map goes
 * to *map (NULL when not wanted). */
static int reparse_check(struct df_doc *doc, struct df_buf *text, uint32_t **map, size_t *nmap)
{
	struct df_doc *full;
	uint32_t *m = NULL;
	size_t nm = 0;
	int rc;

	df_buf_reset(text);
	df_doc_print(doc, text);
	rc = df_doc_reparse(doc, text->ptr ? text->ptr : "", text->len, &m, &nm);
	if (rc == 0) {
		full = df_doc_parse(text->ptr ? text->ptr : "", text->len);
		assert_true(df_doc_same_tree(doc, full));
		df_doc_free(full);
	}
	if (map) {
		*map = m;
		*nmap = nm;
	} else {
		free(m);
	}
	return rc;
}

static void test_reparse_replace(void **state)
{
	static const char src[] = "FROM a\nRUN b\n# c\nRUN d\n";
	struct df_buf t1 = DF_BUF_INIT, t2 = DF_BUF_INIT;
	struct df_doc *doc = PARSE(src);
	uint32_t *map;
	size_t nmap;

	(void)state;
	assert_int_equal(df_doc_replace(doc, 1, L("RUN b \\\n    && e\n")), 0);
	assert_int_equal(reparse_check(doc, &t1, &map, &nmap), 0);
	assert_ptr_equal(doc->src.ptr, t1.ptr);
	/* what was parsed again points into the print, a node left alone
	 * where it was */
	assert_ptr_equal(doc->nodes[1].text.ptr, t1.ptr + 7);
	assert_ptr_equal(doc->nodes[3].text.ptr, src + sizeof(src) - 1 - 6);
	assert_true(df_doc_holds(doc, src));
	assert_true(df_doc_holds(doc, t1.ptr));
	assert_int_equal(doc->nodes[3].line, 5);
	/* lines 1..5 and one past the end, back to lines of src */
	assert_int_equal(nmap, 6);
	assert_int_equal(map[0], 1);
	assert_int_equal(map[1], 2);
	assert_int_equal(map[2], 2);
	assert_int_equal(map[3], 3);
	assert_int_equal(map[4], 4);
	free(map);
	/* a second edit on the re-parsed tree */
	df_doc_remove(doc, 2, 1);
	assert_int_equal(df_doc_insert(doc, 1, L("WORKDIR /w\n")), 0);
	assert_int_equal(reparse_check(doc, &t2, &map, &nmap), 0);
	/* lines of the first print: FROM a, RUN b, && e, # c, RUN d */
	assert_int_equal(nmap, 6);
	assert_int_equal(map[0], 1);
	assert_int_equal(map[1], 2); /* inserted: the line of the node after it */
	assert_int_equal(map[2], 2);
	assert_int_equal(map[3], 3);
	assert_int_equal(map[4], 5);
	free(map);
	/* RUN b && e is still in the first print, FROM a and RUN d in src */
	assert_true(df_doc_holds(doc, src));
	assert_true(df_doc_holds(doc, t1.ptr));
	assert_true(df_doc_holds(doc, t2.ptr));
	assert_ptr_equal(doc->nodes[2].text.ptr, t1.ptr + 7);
	/* the edit that rewrites it lets the first print go */
	assert_int_equal(df_doc_replace(doc, 2, L("RUN b\n")), 0);
	df_buf_release(&t1);
	assert_int_equal(reparse_check(doc, &t1, NULL, NULL), 0);
	assert_true(df_doc_holds(doc, src));
	assert_true(df_doc_holds(doc, t2.ptr));
	assert_true(df_doc_holds(doc, t1.ptr)); /* the new print */
	assert_memory_equal(t1.ptr, "FROM a\nWORKDIR /w\nRUN b\nRUN d\n", t1.len);
	df_doc_free(doc);
	df_buf_release(&t1);
	df_buf_release(&t2);
}

/* Each re-parse leaves what it did not parse again in the text it was in;
 * past DF_TEXTS texts in use, all but the first are moved into the new one. */
static void test_reparse_texts(void **state)
{
	static const char src[] = "FROM a\nRUN 0\nRUN 1\nRUN 2\nRUN 3\nRUN 4\nRUN 5\n";
	struct df_buf t[8];
	struct df_doc *doc = PARSE(src);
	size_t k, e, i, held;

	(void)state;
	for (k = 0; k < 8; k++)
		df_buf_init(&t[k]);
	for (k = 0; k < 6; k++) {
		char run[16];

		snprintf(run, sizeof(run), "RUN %zu %zu\n", k, k);
		assert_int_equal(df_doc_replace(doc, k + 1, run, strlen(run)), 0);
		assert_int_equal(reparse_check(doc, &t[k], NULL, NULL), 0);
		assert_true(df_doc_holds(doc, src)); /* FROM a never moves */
		assert_ptr_equal(doc->nodes[0].text.ptr, src);
		for (e = held = 0; e <= k; e++)
			held += df_doc_holds(doc, t[e].ptr) != 0;
		/* src, the new print, and the prints of the RUNs rewritten
		 * before: at most DF_TEXTS */
		assert_true(held + 1 <= DF_TEXTS);
		assert_true(df_doc_holds(doc, t[k].ptr));
		for (e = 0; e < k; e++)
			if (!df_doc_holds(doc, t[e].ptr)) /* no node points there */
				for (i = 0; i < doc->nnodes; i++)
					assert_false(doc->nodes[i].text.ptr >= t[e].ptr &&
						     doc->nodes[i].text.ptr < t[e].ptr + t[e].len);
	}
	df_buf_reset(&t[6]);
	df_doc_print(doc, &t[6]);
	assert_memory_equal(t[6].ptr, "FROM a\nRUN 0 0\nRUN 1 1\nRUN 2 2\nRUN 3 3\nRUN 4 4\nRUN 5 5\n",
			    t[6].len);
	df_doc_free(doc);
	for (k = 0; k < 7; k++)
		df_buf_release(&t[k]);
}

static void test_reparse_context(void **state)
{
	struct df_buf t = DF_BUF_INIT;
	struct df_doc *doc;

	(void)state;
	/* a node in front of the directives: they are comments now */
	doc = PARSE("# syntax=docker/dockerfile:1\n# check=skip=all\nFROM a\n");
	assert_int_equal(df_doc_insert(doc, 0, L("# hello\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nodes[1].kind, DF_COMMENT);
	df_doc_free(doc);

	/* a blank line removed: the comment after it becomes a directive */
	doc = PARSE("\n# syntax=x\nFROM a\n");
	df_doc_remove(doc, 0, 1);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nodes[0].kind, DF_DIRECTIVE);
	df_doc_free(doc);

	/* ... and an escape directive changes every later line: whole parse */
	doc = PARSE("\n# escape=`\nFROM a\nRUN x `\n  y\n");
	df_doc_remove(doc, 0, 1);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), -1);
	df_doc_free(doc);

	/* a last line that continues runs into what is appended after it */
	doc = PARSE("FROM a\nRUN x \\\n");
	assert_int_equal(doc->nnodes, 2);
	assert_int_equal(df_doc_insert(doc, 2, L("  y\n")) == 0 ||
			 df_doc_insert(doc, 2, L("CMD y\n")) == 0, 1);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nnodes, 2);
	df_doc_free(doc);

	/* a last line without newline moved to the front joins the next line */
	doc = PARSE("FROM a\nRUN x\n# end");
	df_doc_move(doc, 2, 1, 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nnodes, 2);
	assert_int_equal(doc->nodes[0].kind, DF_COMMENT);
	df_doc_free(doc);

	/* heredocs: a body re-parsed, the nodes around it kept */
	doc = PARSE("FROM a\nRUN <<EOF\necho 1\nEOF\nCMD x\n");
	assert_int_equal(df_doc_replace(doc, 1, L("RUN <<EOT\necho 2\nEOT\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nodes[1].inst->nheredocs, 1);
	assert_int_equal(doc->nodes[2].line, 5);
	df_doc_free(doc);

	/* a BOM line replaced: parsed again from the start of the file */
	doc = PARSE("\xEF\xBB\xBF" "from a\nRUN x\n");
	assert_int_equal(df_doc_replace(doc, 0, L("\xEF\xBB\xBF" "FROM a\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->has_bom, 1);
	df_doc_free(doc);

	/* a node the pass parsed is kept as it is when it ends... */
	doc = PARSE("FROM a\nRUN x\nCMD y\n");
	assert_int_equal(df_doc_replace(doc, 1, L("RUN <<EOF\nhi\nEOF\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nnodes, 3);
	df_doc_free(doc);
	/* ... and parsed again when it runs on into the next line */
	doc = PARSE("FROM a\nRUN x\nCMD y\n");
	assert_int_equal(df_doc_replace(doc, 1, L("RUN x \\\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nnodes, 2); /* RUN x CMD y */
	df_doc_free(doc);
	doc = PARSE("FROM a\nRUN x\n");
	assert_int_equal(df_doc_insert(doc, 1, L("\xEF\xBB\xBF# bom\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	df_doc_free(doc);

	/* everything removed */
	doc = PARSE("FROM a\n");
	df_doc_remove(doc, 0, 1);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	assert_int_equal(doc->nnodes, 0);
	df_doc_free(doc);
	df_buf_release(&t);
}

/* Stage hashes (df_stage_sigs): a stage's changes when it, a stage it is
 * built on or one built on it changes; not when an unrelated stage does,
 * and not when a re-parse only moves it. */
static void test_stage_sigs(void **state)
{
	static const char src[] = "ARG V=1\nFROM a AS base\nRUN x\n"
				  "FROM base AS mid\nRUN y\n"
				  "FROM base\nRUN y2\n"
				  "FROM other\nRUN z\n";
	struct df_buf t = DF_BUF_INIT, t2 = DF_BUF_INIT;
	struct df_doc *doc = PARSE(src);
	uint64_t before[4];
	const uint64_t *h;
	size_t n, i;

	(void)state;
	h = df_stage_sigs(doc, &n);
	assert_int_equal(n, 4);
	memcpy(before, h, sizeof(before));
	for (i = 0; i < 4; i++)
		assert_true(before[i] != 0);
	assert_true(before[0] != before[1] && before[1] != before[2] && before[2] != before[3]);
	/* the same tree: the same hashes */
	h = df_stage_sigs(doc, &n);
	assert_memory_equal(h, before, sizeof(before));

	/* RUN y (stage mid, built on base) changes: mid and base change, the
	 * sibling built on base and the unrelated stage do not */
	assert_int_equal(df_doc_replace(doc, 4, L("RUN y && true\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	h = df_stage_sigs(doc, &n);
	assert_int_equal(n, 4);
	assert_true(h[0] != before[0]);
	assert_true(h[1] != before[1]);
	assert_true(h[2] == before[2]); /* base's own nodes are the same */
	assert_true(h[3] == before[3]);
	memcpy(before, h, sizeof(before));

	/* a comment before the first FROM: every stage may read it (ARGs) */
	assert_int_equal(df_doc_insert(doc, 0, L("# hello\n")), 0);
	assert_int_equal(reparse_check(doc, &t2, NULL, NULL), 0);
	h = df_stage_sigs(doc, &n);
	for (i = 0; i < 4; i++)
		assert_true(h[i] != before[i]);
	df_doc_free(doc);

	/* a comment right above a FROM may switch a pass off for its stage */
	doc = PARSE("FROM a\nRUN x\n# c\nFROM b\nRUN y\n");
	h = df_stage_sigs(doc, &n);
	assert_int_equal(n, 2);
	memcpy(before, h, 2 * sizeof(*h));
	assert_int_equal(df_doc_replace(doc, 2, L("# dfix ignore=pin-tag\n")), 0);
	assert_int_equal(reparse_check(doc, &t, NULL, NULL), 0);
	h = df_stage_sigs(doc, &n);
	assert_true(h[1] != before[1]);
	df_doc_free(doc);
	df_buf_release(&t);
	df_buf_release(&t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_replace_keeps_escape),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_move_with_comments),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_reparse_replace),
		cmocka_unit_test(test_reparse_context),
		cmocka_unit_test(test_reparse_texts),
		cmocka_unit_test(test_stage_sigs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
