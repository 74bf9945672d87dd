/* test_parse.c - the CST parser, the BuildKit model of instructions,
 * validation, stages and pass pragmas. Every expectation here was worked out
 * from BuildKit's rules (frontend/dockerfile/parser), not copied from dfix. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- helpers ---- */

#define PARSE(lit) df_doc_parse(lit, sizeof(lit) - 1)

static void assert_span_n(struct df_span s, const char *want, size_t n)
{
	assert_int_equal(s.len, n);
	if (n)
		assert_memory_equal(s.ptr, want, n);
}

#define assert_span(s, lit) assert_span_n(s, lit, sizeof(lit) - 1)

/* print(parse(x)) == x */
static void assert_prints(const struct df_doc *doc, const char *src, size_t len)
{
	struct df_buf b = DF_BUF_INIT;

	df_doc_print(doc, &b);
	assert_int_equal(b.len, len);
	if (len)
		assert_memory_equal(b.ptr, src, len);
	df_buf_release(&b);
}

#define assert_prints_lit(doc, lit) assert_prints(doc, lit, sizeof(lit) - 1)

static void assert_line(const struct df_line *l, uint32_t off, uint32_t indent, uint32_t body,
			uint32_t cont, uint32_t eol, enum df_line_kind kind)
{
	assert_int_equal(l->off, off);
	assert_int_equal(l->indent, indent);
	assert_int_equal(l->body, body);
	assert_int_equal(l->cont, cont);
	assert_int_equal(l->eol, eol);
	assert_int_equal(l->kind, kind);
}

/* The node's lines cover its text exactly, in order. */
static void assert_lines_cover(const struct df_node *n)
{
	uint32_t i, at = 0;

	for (i = 0; i < n->nlines; i++) {
		const struct df_line *l = &n->lines[i];

		assert_int_equal(l->off, at);
		at += l->indent + l->body + l->cont + l->eol;
	}
	assert_int_equal(at, n->text.len);
}

static void assert_all_lines_cover(const struct df_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->nnodes; i++)
		assert_lines_cover(&doc->nodes[i]);
}

/* The dump of one instruction, without the "(...)\n" wrapper. */
static void assert_dump(const struct df_inst *inst, const char *want)
{
	struct df_buf b = DF_BUF_INIT;
	size_t n = strlen(want);

	df_dump_inst(inst, &b);
	assert_int_equal(b.len, n + 3);
	assert_memory_equal(b.ptr + 1, want, n);
	df_buf_release(&b);
}

/* ---- node kinds and lines ---- */

static void test_node_kinds(void **state)
{
	static const char src[] = "# syntax=docker/dockerfile:1\n# comment\n\nFROM a\n  \nRUN x\n";
	struct df_doc *doc = PARSE(src);
	static const enum df_node_kind kinds[] = { DF_DIRECTIVE, DF_COMMENT, DF_BLANK,
						   DF_INSTRUCTION, DF_BLANK, DF_INSTRUCTION };
	size_t i;

	(void)state;
	assert_int_equal(doc->nnodes, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(doc->nodes[i].kind, kinds[i]);
		assert_int_equal(doc->nodes[i].line, i + 1);
		assert_int_equal(doc->nodes[i].nlines, 1);
	}
	assert_span(doc->nodes[0].text, "# syntax=docker/dockerfile:1\n");
	assert_span(doc->nodes[2].text, "\n");
	assert_span(doc->nodes[4].text, "  \n");
	assert_line(&doc->nodes[4].lines[0], 0, 2, 0, 0, 1, DF_LINE_OTHER);
	assert_line(&doc->nodes[1].lines[0], 0, 0, 9, 0, 1, DF_LINE_OTHER);
	assert_int_equal(doc->nodes[3].inst->cmd, DF_CMD_FROM);
	assert_int_equal(doc->nodes[5].inst->cmd, DF_CMD_RUN);
	assert_null(doc->nodes[1].inst);
	assert_int_equal(doc->escape, '\\');
	assert_int_equal(doc->has_bom, 0);
	assert_int_equal(doc->ndiags, 0);
	assert_null(df_doc_error(doc));
	assert_string_equal(df_doc_eol(doc), "\n");
	assert_prints_lit(doc, src);
	assert_all_lines_cover(doc);
	df_doc_free(doc);
}

static void test_continuation_with_comment(void **state)
{
	/* A comment line and a whitespace-only line inside a continuation are
	 * dropped by BuildKit without ending the instruction. */
	static const char src[] = "FROM a\nRUN x \\\n  # c\n  \n  y\nCMD z\n";
	struct df_doc *doc = PARSE(src);
	const struct df_node *n;
	const struct df_inst *inst;

	(void)state;
	assert_int_equal(doc->nnodes, 3);
	n = &doc->nodes[1];
	assert_int_equal(n->kind, DF_INSTRUCTION);
	assert_int_equal(n->line, 2);
	assert_int_equal(n->nlines, 4);
	assert_span(n->text, "RUN x \\\n  # c\n  \n  y\n");
	assert_line(&n->lines[0], 0, 0, 6, 1, 1, DF_LINE_CODE);
	assert_line(&n->lines[1], 8, 2, 3, 0, 1, DF_LINE_COMMENT);
	assert_line(&n->lines[2], 14, 2, 0, 0, 1, DF_LINE_BLANK);
	assert_line(&n->lines[3], 17, 2, 1, 0, 1, DF_LINE_CODE);
	assert_lines_cover(n);

	inst = n->inst;
	assert_span(inst->keyword, "RUN");
	assert_span(inst->logical, "RUN x   y");
	assert_span(inst->rest, "x   y");
	assert_int_equal(inst->args_off, 4);
	assert_int_equal(inst->nargs, 1);
	assert_span(inst->args[0], "x   y");
	assert_int_equal(inst->json, 0);
	assert_int_equal(inst->npieces, 2);
	assert_int_equal(inst->pieces[0].log_off, 0);
	assert_int_equal(inst->pieces[0].node_off, 0);
	assert_int_equal(inst->pieces[0].len, 6);
	assert_int_equal(inst->pieces[1].log_off, 6);
	assert_int_equal(inst->pieces[1].node_off, 17);
	assert_int_equal(inst->pieces[1].len, 3);

	/* logical -> node text */
	assert_int_equal(df_inst_node_off(inst, 0), 0);
	assert_int_equal(df_inst_node_off(inst, 4), 4);
	assert_int_equal(n->text.ptr[df_inst_node_off(inst, 4)], 'x');
	assert_int_equal(df_inst_node_off(inst, 6), 17);
	assert_int_equal(df_inst_node_off(inst, 8), 19);
	assert_int_equal(n->text.ptr[df_inst_node_off(inst, 8)], 'y');

	assert_int_equal(doc->nodes[2].line, 6);
	assert_dump(inst, "run \"x   y\"");
	assert_prints_lit(doc, src);
	df_doc_free(doc);
}

static void test_line_endings(void **state)
{
	/* CRLF, a run of CRs before LF, blanks after the escape, no final newline */
	static const char src[] = "FROM a\r\nRUN x \\  \r\n y\r\r\nCMD z";
	struct df_doc *doc = PARSE(src);
	const struct df_node *n;

	(void)state;
	assert_int_equal(doc->nnodes, 3);
	assert_string_equal(df_doc_eol(doc), "\r\n");
	assert_line(&doc->nodes[0].lines[0], 0, 0, 6, 0, 2, DF_LINE_CODE);
	n = &doc->nodes[1];
	assert_int_equal(n->nlines, 2);
	assert_line(&n->lines[0], 0, 0, 6, 3, 2, DF_LINE_CODE);
	assert_line(&n->lines[1], 11, 1, 1, 0, 3, DF_LINE_CODE);
	assert_span(n->inst->logical, "RUN x  y");
	assert_span(n->inst->args[0], "x  y");
	n = &doc->nodes[2];
	assert_line(&n->lines[0], 0, 0, 5, 0, 0, DF_LINE_CODE);
	assert_span(n->inst->args[0], "z");
	assert_int_equal(n->line, 4);
	assert_prints_lit(doc, src);
	assert_all_lines_cover(doc);
	df_doc_free(doc);
}

static void test_lone_cr(void **state)
{
	/* A lone CR does not end a line: BuildKit splits on '\n' only. */
	static const char src[] = "FROM alpine\rRUN x\r";
	struct df_doc *doc = PARSE(src);
	const struct df_inst *inst;

	(void)state;
	assert_int_equal(doc->nnodes, 1);
	inst = doc->nodes[0].inst;
	assert_int_equal(inst->cmd, DF_CMD_FROM);
	assert_int_equal(inst->nargs, 3);
	assert_span(inst->args[0], "alpine");
	assert_span(inst->args[1], "RUN");
	assert_span(inst->args[2], "x");
	assert_line(&doc->nodes[0].lines[0], 0, 0, 17, 0, 1, DF_LINE_CODE);
	assert_prints_lit(doc, src);
	df_doc_free(doc);
}

static void test_bom(void **state)
{
	static const char src[] = "\xEF\xBB\xBF" "FROM a\nRUN x\n";
	static const char late[] = "FROM a\n\xEF\xBB\xBFRUN x\n";
	struct df_doc *doc = PARSE(src);

	(void)state;
	assert_int_equal(doc->has_bom, 1);
	assert_int_equal(doc->nnodes, 2);
	assert_int_equal(doc->nodes[0].kind, DF_INSTRUCTION);
	assert_line(&doc->nodes[0].lines[0], 0, 3, 6, 0, 1, DF_LINE_CODE);
	assert_span(doc->nodes[0].inst->keyword, "FROM");
	assert_span(doc->nodes[0].inst->args[0], "a");
	assert_prints_lit(doc, src);
	df_doc_free(doc);

	/* only the first line loses a BOM: elsewhere it is part of the keyword */
	doc = PARSE(late);
	assert_int_equal(doc->has_bom, 0);
	assert_int_equal(doc->nodes[1].inst->cmd, DF_CMD_UNKNOWN);
	assert_span(doc->nodes[1].inst->keyword, "\xEF\xBB\xBFRUN");
	assert_prints_lit(doc, late);
	df_doc_free(doc);

	/* a BOM before a directive: still a directive */
	doc = PARSE("\xEF\xBB\xBF# escape=`\nFROM a\n");
	assert_int_equal(doc->has_bom, 1);
	assert_int_equal(doc->nodes[0].kind, DF_DIRECTIVE);
	assert_int_equal(doc->escape, '`');
	df_doc_free(doc);
}

/* ---- parser directives ---- */

static void test_escape_directive(void **state)
{
	static const char src[] = "# escape=`\nFROM a\nRUN x `\n  y\nRUN c:\\\nCMD d\n";
	struct df_doc *doc = PARSE(src);

	(void)state;
	assert_int_equal(doc->escape, '`');
	assert_int_equal(doc->nnodes, 5);
	assert_int_equal(doc->nodes[0].kind, DF_DIRECTIVE);
	assert_int_equal(doc->nodes[2].nlines, 2);
	assert_line(&doc->nodes[2].lines[0], 0, 0, 6, 1, 1, DF_LINE_CODE);
	assert_span(doc->nodes[2].inst->args[0], "x   y");
	/* a backslash at the end of a line no longer continues it */
	assert_int_equal(doc->nodes[3].nlines, 1);
	assert_span(doc->nodes[3].inst->args[0], "c:\\");
	assert_int_equal(doc->nodes[4].inst->cmd, DF_CMD_CMD);
	assert_int_equal(doc->nodes[4].line, 6);
	assert_prints_lit(doc, src);
	df_doc_free(doc);

	/* case-insensitive, blanks around '=' */
	doc = PARSE("#  ESCAPE  =  `  \nFROM a\n");
	assert_int_equal(doc->escape, '`');
	assert_int_equal(doc->nodes[0].kind, DF_DIRECTIVE);
	df_doc_free(doc);

	/* a comment ends the directives for good */
	doc = PARSE("# hello\n# escape=`\nFROM a\n");
	assert_int_equal(doc->escape, '\\');
	assert_int_equal(doc->nodes[0].kind, DF_COMMENT);
	assert_int_equal(doc->nodes[1].kind, DF_COMMENT);
	df_doc_free(doc);

	/* so does a blank line */
	doc = PARSE("\n# escape=`\nFROM a\n");
	assert_int_equal(doc->escape, '\\');
	assert_int_equal(doc->nodes[0].kind, DF_BLANK);
	assert_int_equal(doc->nodes[1].kind, DF_COMMENT);
	df_doc_free(doc);

	/* and an unknown key */
	doc = PARSE("# foo=bar\n# escape=`\nFROM a\n");
	assert_int_equal(doc->escape, '\\');
	assert_int_equal(doc->nodes[0].kind, DF_COMMENT);
	assert_int_equal(doc->nodes[1].kind, DF_COMMENT);
	df_doc_free(doc);

	/* syntax, check and escape together */
	doc = PARSE("# syntax=docker/dockerfile:1\n# check=skip=all\n# escape=`\nFROM a\n");
	assert_int_equal(doc->nodes[0].kind, DF_DIRECTIVE);
	assert_int_equal(doc->nodes[1].kind, DF_DIRECTIVE);
	assert_int_equal(doc->nodes[2].kind, DF_DIRECTIVE);
	assert_int_equal(doc->escape, '`');
	assert_int_equal(doc->ndiags, 0);
	df_doc_free(doc);
}

static void test_directive_errors(void **state)
{
	static const char src[] = "# escape=`\n# escape=`\nFROM a\n";
	struct df_doc *doc = PARSE(src);
	const struct df_diag *d;

	(void)state;
	assert_int_equal(doc->nnodes, 3);
	assert_int_equal(doc->nodes[0].kind, DF_DIRECTIVE);
	assert_int_equal(doc->nodes[1].kind, DF_ERROR);
	assert_string_equal(doc->nodes[1].error, "only one escape parser directive can be used");
	assert_int_equal(doc->ndiags, 1);
	d = df_doc_error(doc);
	assert_ptr_equal(d, &doc->diags[0]);
	assert_int_equal(d->line, 2);
	assert_int_equal(d->col, 1);
	assert_string_equal(d->msg, "only one escape parser directive can be used");
	assert_prints_lit(doc, src);
	df_doc_free(doc);

	doc = PARSE("# syntax=a\n# SYNTAX=b\nFROM a\n");
	d = df_doc_error(doc);
	assert_non_null(d);
	assert_int_equal(d->line, 2);
	assert_string_equal(d->msg, "only one syntax parser directive can be used");
	df_doc_free(doc);

	doc = PARSE("# escape=x\nFROM a\n");
	d = df_doc_error(doc);
	assert_non_null(d);
	assert_int_equal(d->line, 1);
	assert_string_equal(d->msg, "invalid escape token 'x' does not match ` or \\");
	assert_int_equal(doc->nodes[0].kind, DF_ERROR);
	df_doc_free(doc);
}

/* ---- 64 KiB lines ---- */

static struct df_buf long_input(size_t linelen)
{
	struct df_buf b = DF_BUF_INIT;
	size_t i;

	df_buf_adds(&b, "FROM a\nRUN ");
	for (i = 4; i < linelen; i++)
		df_buf_addc(&b, 'x');
	df_buf_adds(&b, "\nCMD y\n");
	return b;
}

static void test_line_limit(void **state)
{
	struct df_buf b = long_input(65535);
	struct df_doc *doc = df_doc_parse(b.ptr, b.len);
	const struct df_diag *d;

	(void)state;
	assert_int_equal(doc->ndiags, 0);
	assert_int_equal(doc->nnodes, 3);
	assert_int_equal(doc->nodes[1].inst->args[0].len, 65535 - 4);
	assert_int_equal(doc->nodes[2].inst->cmd, DF_CMD_CMD);
	assert_prints(doc, b.ptr, b.len);
	df_doc_free(doc);
	df_buf_release(&b);

	b = long_input(65536);
	doc = df_doc_parse(b.ptr, b.len);
	d = df_doc_error(doc);
	assert_non_null(d);
	assert_int_equal(d->line, 2);
	assert_string_equal(d->msg, "dockerfile line greater than max allowed size of 65535");
	assert_int_equal(doc->nnodes, 2);
	assert_int_equal(doc->nodes[0].kind, DF_INSTRUCTION);
	assert_int_equal(doc->nodes[1].kind, DF_ERROR);
	assert_int_equal(doc->nodes[1].line, 2);
	assert_int_equal(doc->nodes[1].text.len, b.len - 7); /* everything after "FROM a\n" */
	assert_prints(doc, b.ptr, b.len);
	df_doc_free(doc);
	df_buf_release(&b);
}

/* ---- the BuildKit model ---- */

static void test_copy_from(void **state)
{
	static const char src[] = "FROM a\nCOPY --from=x a b\nCOPY [\"a b\", \"c\"]\n";
	struct df_doc *doc = PARSE(src);
	const struct df_inst *inst = doc->nodes[1].inst;

	(void)state;
	assert_int_equal(inst->cmd, DF_CMD_COPY);
	assert_span(inst->keyword, "COPY");
	assert_int_equal(inst->nflags, 1);
	assert_span(inst->flags[0], "--from=x");
	assert_span(inst->rest, "a b");
	assert_int_equal(inst->nargs, 2);
	assert_span(inst->args[0], "a");
	assert_span(inst->args[1], "b");
	assert_int_equal(inst->json, 0);
	assert_int_equal(inst->has_next, 1);
	assert_int_equal(inst->nheredocs, 0);
	assert_null(inst->sub);
	assert_int_equal(inst->log_base, 0);
	assert_dump(inst, "copy [\"--from=x\"] \"a\" \"b\"");

	inst = doc->nodes[2].inst;
	assert_int_equal(inst->json, 1);
	assert_int_equal(inst->nflags, 0);
	assert_int_equal(inst->nargs, 2);
	assert_span(inst->args[0], "a b");
	assert_span(inst->args[1], "c");
	df_doc_free(doc);
}

static void test_flags(void **state)
{
	static const char src[] = "FROM a\nRUN --mount=\"type=secret,id=a b\" --network=none -- --x y\n";
	struct df_doc *doc = PARSE(src);
	const struct df_inst *inst = doc->nodes[1].inst;

	(void)state;
	assert_int_equal(inst->nflags, 2);
	assert_span(inst->flags[0], "--mount=type=secret,id=a b");
	assert_span(inst->flags[1], "--network=none");
	assert_span(inst->rest, "--x y");
	assert_int_equal(inst->nargs, 1);
	assert_span(inst->args[0], "--x y");
	df_doc_free(doc);
}

static void test_env_forms(void **state)
{
	static const char src[] = "FROM a\nENV A 1 2\nENV A=1 B=\"x y\"\nLABEL k=v\nARG X Y=2\n";
	struct df_doc *doc = PARSE(src);
	const struct df_inst *inst;

	(void)state;
	/* legacy: key, the rest of the line, "" */
	inst = doc->nodes[1].inst;
	assert_int_equal(inst->cmd, DF_CMD_ENV);
	assert_int_equal(inst->nargs, 3);
	assert_span(inst->args[0], "A");
	assert_span(inst->args[1], "1 2");
	assert_span(inst->args[2], "");
	assert_dump(inst, "env \"A\" \"1 2\" \"\"");
	/* k=v: key, value (quotes kept), "=" per pair */
	inst = doc->nodes[2].inst;
	assert_int_equal(inst->nargs, 6);
	assert_span(inst->args[0], "A");
	assert_span(inst->args[1], "1");
	assert_span(inst->args[2], "=");
	assert_span(inst->args[3], "B");
	assert_span(inst->args[4], "\"x y\"");
	assert_span(inst->args[5], "=");
	inst = doc->nodes[3].inst;
	assert_int_equal(inst->cmd, DF_CMD_LABEL);
	assert_int_equal(inst->nargs, 3);
	assert_span(inst->args[0], "k");
	assert_span(inst->args[1], "v");
	assert_span(inst->args[2], "=");
	inst = doc->nodes[4].inst;
	assert_int_equal(inst->cmd, DF_CMD_ARG);
	assert_int_equal(inst->nargs, 2);
	assert_span(inst->args[0], "X");
	assert_span(inst->args[1], "Y=2");
	assert_int_equal(doc->ndiags, 0);
	df_doc_free(doc);

	doc = PARSE("FROM a\nENV KEY\n");
	assert_int_equal(doc->nodes[1].kind, DF_ERROR);
	assert_string_equal(doc->nodes[1].error, "ENV must have two arguments");
	assert_int_equal(doc->diags[0].line, 2);
	df_doc_free(doc);
}

static void test_onbuild(void **state)
{
	static const char src[] = "FROM a\nONBUILD RUN x \\\n  y\n";
	struct df_doc *doc = PARSE(src);
	const struct df_node *n = &doc->nodes[1];
	const struct df_inst *inst = n->inst, *sub = inst->sub;

	(void)state;
	assert_int_equal(inst->cmd, DF_CMD_ONBUILD);
	assert_non_null(sub);
	assert_int_equal(sub->cmd, DF_CMD_RUN);
	assert_span(sub->keyword, "RUN");
	assert_span(sub->logical, "RUN x   y");
	assert_int_equal(sub->log_base, 8);
	assert_span(sub->args[0], "x   y");
	/* the trigger's offsets map into the ONBUILD node's text */
	assert_int_equal(df_inst_node_off(sub, 0), 8);
	assert_int_equal(n->text.ptr[df_inst_node_off(sub, 0)], 'R');
	assert_int_equal(df_inst_node_off(sub, 8), 18);
	assert_int_equal(n->text.ptr[df_inst_node_off(sub, 8)], 'y');
	assert_dump(inst, "onbuild (run \"x   y\")");
	df_doc_free(doc);
}

static void test_heredocs(void **state)
{
	static const char src[] =
		"FROM a\n"
		"RUN <<-'EOT' 3<<X cat\n"
		"\tbody\n"
		"\tEOT\n"
		"xx\n"
		"X\n"
		"COPY <<EOF /dst\n"
		"hi\n"
		"EOF\n"
		"CMD y\n";
	struct df_doc *doc = PARSE(src);
	const struct df_node *n = &doc->nodes[1];
	const struct df_inst *inst = n->inst;
	const struct df_heredoc *h;

	(void)state;
	assert_int_equal(doc->ndiags, 0);
	assert_int_equal(doc->nnodes, 4);
	assert_int_equal(n->nlines, 5);
	assert_line(&n->lines[0], 0, 0, 21, 0, 1, DF_LINE_CODE);
	assert_line(&n->lines[1], 22, 0, 5, 0, 1, DF_LINE_BODY);
	assert_line(&n->lines[2], 28, 0, 4, 0, 1, DF_LINE_TERM);
	assert_line(&n->lines[3], 33, 0, 2, 0, 1, DF_LINE_BODY);
	assert_line(&n->lines[4], 36, 0, 1, 0, 1, DF_LINE_TERM);
	assert_lines_cover(n);
	assert_int_equal(inst->nheredocs, 2);
	h = &inst->heredocs[0];
	assert_span(h->name, "EOT");
	assert_int_equal(h->chomp, 1);
	assert_int_equal(h->expand, 0);
	assert_int_equal(h->fd, 0);
	assert_span(h->body, "\tbody\n");
	assert_ptr_equal(h->body.ptr, src + 29);
	h = &inst->heredocs[1];
	assert_span(h->name, "X");
	assert_int_equal(h->chomp, 0);
	assert_int_equal(h->expand, 1);
	assert_int_equal(h->fd, 3);
	assert_span(h->body, "xx\n");
	assert_ptr_equal(h->body.ptr, src + 40);
	assert_span(inst->args[0], "<<-'EOT' 3<<X cat");

	n = &doc->nodes[2];
	assert_int_equal(n->line, 7);
	assert_int_equal(n->inst->nheredocs, 1);
	assert_span(n->inst->heredocs[0].name, "EOF");
	assert_int_equal(n->inst->heredocs[0].expand, 1);
	assert_span(n->inst->heredocs[0].body, "hi\n");
	assert_int_equal(n->inst->nargs, 2);
	assert_span(n->inst->args[0], "<<EOF");
	assert_span(n->inst->args[1], "/dst");
	assert_int_equal(doc->nodes[3].line, 10);
	assert_prints_lit(doc, src);
	df_doc_free(doc);

	/* "EOF" in double quotes: no expansion either */
	doc = PARSE("FROM a\nRUN <<\"EOF\"\n$x\nEOF\n");
	assert_span(doc->nodes[1].inst->heredocs[0].name, "EOF");
	assert_int_equal(doc->nodes[1].inst->heredocs[0].expand, 0);
	df_doc_free(doc);
}

static void test_not_heredocs(void **state)
{
	static const char *const lines[] = {
		"FROM a\nRUN cat<<EOF\n",
		"FROM a\nRUN echo \"<<EOF\"\n",
		"FROM a\nRUN cat <<<EOF\n",
		"FROM a\nRUN [\"<<EOF\"]\n",
		"FROM a\nRUN cat << EOF\n",
		"FROM a\nENV A=<<EOF\n",
		"FROM a\nCMD <<EOF\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct df_doc *doc = df_doc_parse(lines[i], strlen(lines[i]));

		assert_int_equal(doc->ndiags, 0);
		assert_int_equal(doc->nnodes, 2);
		assert_int_equal(doc->nodes[1].kind, DF_INSTRUCTION);
		assert_int_equal(doc->nodes[1].inst->nheredocs, 0);
		assert_int_equal(doc->nodes[1].nlines, 1);
		df_doc_free(doc);
	}
}

static void test_heredoc_escape_and_errors(void **state)
{
	/* heredoc detection always uses '\\', even under escape=` */
	static const char src[] = "# escape=`\nFROM a\nRUN <<EOF\necho `\nEOF\n";
	struct df_doc *doc = PARSE(src);
	const struct df_diag *d;

	(void)state;
	assert_int_equal(doc->ndiags, 0);
	assert_int_equal(doc->nnodes, 3);
	assert_int_equal(doc->nodes[2].inst->nheredocs, 1);
	assert_span(doc->nodes[2].inst->heredocs[0].body, "echo `\n");
	assert_prints_lit(doc, src);
	df_doc_free(doc);

	/* ONBUILD triggers may open heredocs */
	doc = PARSE("FROM a\nONBUILD RUN <<EOF\nx\nEOF\n");
	assert_int_equal(doc->ndiags, 0);
	assert_int_equal(doc->nodes[1].inst->nheredocs, 1);
	assert_int_equal(doc->nodes[1].nlines, 3);
	df_doc_free(doc);

	doc = PARSE("FROM a\nRUN <<EOF\nx\nEOF \n");
	d = df_doc_error(doc);
	assert_non_null(d);
	assert_int_equal(d->line, 2);
	assert_string_equal(d->msg, "unterminated heredoc");
	assert_int_equal(doc->nodes[1].kind, DF_ERROR);
	assert_prints_lit(doc, "FROM a\nRUN <<EOF\nx\nEOF \n");
	df_doc_free(doc);
}

/* ---- validation ---- */

struct vcase {
	const char *src;
	size_t len;
	uint32_t line, col;
	const char *msg; /* NULL: valid */
};

#define V(lit, l, c, m) { lit, sizeof(lit) - 1, l, c, m }

static void test_validate(void **state)
{
	static const struct vcase cases[] = {
		V("FROM a\nRUN x\n", 0, 0, NULL),
		V("ARG V=1\nFROM a:$V\n", 0, 0, NULL),
		V("FROM a AS b\nCOPY --from=b x y\nCMD z\n", 0, 0, NULL),
		V("FROM a\nCOPY <<EOF\nx\nEOF\n", 0, 0, NULL),
		V("FROM a\nFOO bar\n", 2, 1, "unknown instruction: FOO"),
		V("RUN x\n", 1, 1, "no build stage in current context: the first instruction must be FROM (ARG may come before it)"),
		V("FROM a\n  COPY x\n", 2, 3, "COPY requires at least two arguments, but only one was provided. Destination could not be determined"),
		V("FROM a\nRUN \0\n", 2, 5, "binary data (NUL byte): not a Dockerfile"),
		V("FROM a b\n", 1, 1, "FROM requires either one or three arguments"),
		V("FROM a\nONBUILD FROM b\n", 2, 1, "FROM isn't allowed as an ONBUILD trigger"),
		V("FROM a\nSHELL sh -c\n", 2, 1, "SHELL requires the arguments to be in JSON form"),
		V("FROM a\nHEALTHCHECK CMD\n", 2, 1, "Missing command after HEALTHCHECK CMD"),
		V("FROM a\nENV KEY\n", 2, 1, "ENV must have two arguments"),
		V("FROM a\nCMD [\"a\", 1]\n", 2, 1, "when using JSON array syntax, arrays must be comprised of strings only"),
		V("# only a comment\n", 0, 1, "file with no instructions"),
		V("", 0, 1, "file with no instructions"),
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct df_doc *doc = df_doc_parse(cases[i].src, cases[i].len);
		const struct df_diag *d = df_doc_validate(doc);

		if (!cases[i].msg) {
			assert_null(d);
		} else {
			assert_non_null(d);
			assert_string_equal(d->msg, cases[i].msg);
			assert_int_equal(d->line, cases[i].line);
			assert_int_equal(d->col, cases[i].col);
		}
		df_doc_free(doc);
	}
}

/* ---- stages ---- */

static void test_stages(void **state)
{
	static const char src[] =
		"FROM alpine AS base\n"       /* 0 */
		"RUN apk add curl\n"          /* 1 */
		"FROM golang AS build\n"      /* 2 */
		"RUN go build -o /app\n"      /* 3 */
		"FROM base\n"                 /* 4 */
		"COPY --from=build /app /app\n"; /* 5 */
	struct df_doc *doc = PARSE(src);
	struct df_stage *st;
	size_t n = 99;

	(void)state;
	st = df_stages(doc, &n);
	assert_int_equal(n, 3);
	assert_int_equal(st[0].from, 0);
	assert_int_equal(st[0].end, 2);
	assert_span(st[0].image, "alpine");
	assert_span(st[0].name, "base");
	assert_int_equal(st[0].is_final, 0);
	assert_int_equal(st[0].reaches_final, 1); /* the final stage builds FROM it */
	assert_int_equal(st[0].only_copied_from, 0);
	assert_int_equal(st[1].from, 2);
	assert_int_equal(st[1].end, 4);
	assert_span(st[1].image, "golang");
	assert_span(st[1].name, "build");
	assert_int_equal(st[1].is_final, 0);
	assert_int_equal(st[1].reaches_final, 0); /* only its /app is copied */
	assert_int_equal(st[1].only_copied_from, 1);
	assert_int_equal(st[2].from, 4);
	assert_int_equal(st[2].end, 6);
	assert_span(st[2].image, "base");
	assert_int_equal(st[2].name.len, 0);
	assert_int_equal(st[2].is_final, 1);
	assert_int_equal(st[2].reaches_final, 1);
	free(st);
	df_doc_free(doc);
}

/* ---- pass pragmas ---- */

static int fake_run(struct df_ctx *ctx, struct df_doc *doc)
{
	(void)ctx;
	(void)doc;
	return 0;
}

static const struct df_pass fake = {
	"fake", DF_LEVEL_FORMAT, "DL3008,DL3009", "a pass for tests", "", fake_run
};

static void test_pass_ignored(void **state)
{
	static const char src[] =
		"FROM a\n"                      /* 0 */
		"# dfix ignore=fake\n"          /* 1 */
		"RUN x\n"                       /* 2 */
		"# hadolint ignore=DL3009\n"    /* 3 */
		"RUN y\n"                       /* 4 */
		"RUN z\n"                       /* 5 */
		"# dfix ignore=other\n"         /* 6 */
		"RUN w\n"                       /* 7 */
		"# dfix ignore=fake\n"          /* 8 */
		"\n"                            /* 9 */
		"RUN v\n"                       /* 10 */
		"# dfix ignore=all\n"           /* 11 */
		"# just a note\n"               /* 12 */
		"RUN u\n"                       /* 13 */
		"# dfix ignore=other,fake\n"    /* 14 */
		"RUN t\n";                      /* 15 */
	struct df_doc *doc = PARSE(src);
	struct df_ctx ctx;

	(void)state;
	df_ctx_init(&ctx);
	assert_int_equal(doc->nnodes, 16);
	assert_int_equal(df_pass_ignored(&ctx, doc, 2), 0); /* no current pass */
	ctx.current = &fake;
	assert_int_equal(df_pass_ignored(&ctx, doc, 0), 0);
	assert_int_equal(df_pass_ignored(&ctx, doc, 2), 1);
	assert_int_equal(df_pass_ignored(&ctx, doc, 4), 1);
	assert_int_equal(df_pass_ignored(&ctx, doc, 5), 0);
	assert_int_equal(df_pass_ignored(&ctx, doc, 7), 0);
	assert_int_equal(df_pass_ignored(&ctx, doc, 10), 0); /* a blank line breaks ownership */
	assert_int_equal(df_pass_ignored(&ctx, doc, 13), 1);
	assert_int_equal(df_pass_ignored(&ctx, doc, 15), 1);
	assert_int_equal(df_pass_ignored(&ctx, doc, 99), 0);
	assert_int_equal(df_doc_owned_start(doc, 13), 11);
	assert_int_equal(df_doc_owned_start(doc, 10), 10);
	assert_int_equal(df_pass_file_ignored(&fake, doc), 0);
	ctx.current = NULL;
	df_ctx_release(&ctx);
	df_doc_free(doc);
}

static void test_pass_ignored_file_level(void **state)
{
	static const char *const off[] = {
		"FROM a\n# dfix off\nRUN x\n",
		"# dfix ignore-file=other,fake\nFROM a\nRUN x\n",
		"FROM a\n# hadolint global ignore=DL3008\nRUN x\n",
	};
	struct df_ctx ctx;
	size_t i;

	(void)state;
	df_ctx_init(&ctx);
	ctx.current = &fake;
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		struct df_doc *doc = df_doc_parse(off[i], strlen(off[i]));
		size_t last = doc->nnodes - 1;

		assert_int_equal(doc->nodes[last].inst->cmd, DF_CMD_RUN);
		assert_int_equal(df_pass_file_ignored(&fake, doc), 1);
		/* file-level pragmas are the driver's: it never runs the pass */
		df_doc_free(doc);
	}
	{
		static const char on[] = "FROM a\n# dfix ignore-file=other\n# hadolint global ignore=DL3000\nRUN x\n";
		struct df_doc *doc = PARSE(on);

		assert_int_equal(df_pass_file_ignored(&fake, doc), 0);
		assert_int_equal(df_pass_ignored(&ctx, doc, 3), 0);
		df_doc_free(doc);
	}
	ctx.current = NULL;
	df_ctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_node_kinds),
		cmocka_unit_test(test_continuation_with_comment),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_lone_cr),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_escape_directive),
		cmocka_unit_test(test_directive_errors),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_copy_from),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_env_forms),
		cmocka_unit_test(test_onbuild),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_not_heredocs),
		cmocka_unit_test(test_heredoc_escape_and_errors),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_stages),
		cmocka_unit_test(test_pass_ignored),
		cmocka_unit_test(test_pass_ignored_file_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
