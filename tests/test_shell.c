/* test_shell.c - the shell view of RUN bodies: words, commands, operators,
 * groups, control flow, redirections, comments, unquoting, and inputs that
 * must fail cleanly (unbalanced, too deep) or stay linear (pathological). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shell.h"

/* ---- helpers ---- */

static struct df_arena arena;

static int setup(void **state)
{
	df_arena_init(&arena);
	return 0;
}

static int teardown(void **state)
{
	df_arena_release(&arena);
	return 0;
}

static void parse_n(const char *src, size_t n, struct df_sh_script *s)
{
	int rc = df_sh_parse(&arena, src, n, s);

	if (rc != 0)
		fail_msg("parse failed: %s at %u", s->error ? s->error : "?", s->error_off);
	assert_int_equal(s->ok, 1);
}

#define parse(src, s) parse_n(src, strlen(src), s)

/* Parse must fail with `msg` at byte `off`. */
static void parse_fails(const char *src, const char *msg, uint32_t off)
{
	struct df_sh_script s;

	assert_int_equal(df_sh_parse(&arena, src, strlen(src), &s), -1);
	assert_int_equal(s.ok, 0);
	assert_non_null(s.error);
	assert_string_equal(s.error, msg);
	assert_int_equal(s.error_off, off);
	assert_int_equal(s.ncmds, 0);
}

/* Word k of c is `text` at `off` with exactly `flags`. */
static void check_word(const char *src, const struct df_sh_cmd *c, size_t k,
		       const char *text, uint32_t off, uint32_t flags)
{
	const struct df_sh_word *w;

	assert_true(k < c->nwords);
	w = &c->words[k];
	assert_int_equal(w->off, off);
	assert_int_equal(w->len, strlen(text));
	assert_memory_equal(src + w->off, text, w->len);
	assert_int_equal(w->flags, flags);
}

static void check_cmd(const struct df_sh_cmd *c, enum df_sh_kind kind, uint32_t off,
		      uint32_t end, size_t nwords, uint32_t depth)
{
	assert_int_equal(c->kind, kind);
	assert_int_equal(c->off, off);
	assert_int_equal(c->end, end);
	assert_int_equal(c->nwords, nwords);
	assert_int_equal(c->depth, depth);
}

static void check_op(const struct df_sh_cmd *c, enum df_sh_op op, uint32_t off, uint32_t len)
{
	assert_int_equal(c->op, op);
	assert_int_equal(c->op_off, off);
	assert_int_equal(c->op_len, len);
}

static void check_unquote(const char *src, const struct df_sh_word *w, const char *want)
{
	size_t len = 12345;
	char *v = df_sh_unquote(&arena, src, w, &len);

	if (!want) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
	assert_int_equal(v[len], '\0');
}

/* ---- commands and operators ---- */

static void test_and_list(void **state)
{
	const char *src = "apt-get update && apt-get install -y curl";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 2);
	assert_int_equal(s.complex, 0);
	assert_int_equal(s.has_comment, 0);
	assert_int_equal(s.sets_e, 0);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 14, 2, 0);
	check_word(src, &s.cmds[0], 0, "apt-get", 0, 0);
	check_word(src, &s.cmds[0], 1, "update", 8, 0);
	check_op(&s.cmds[0], DF_SH_OP_AND, 15, 2);
	check_cmd(&s.cmds[1], DF_SH_SIMPLE, 18, 41, 4, 0);
	check_word(src, &s.cmds[1], 0, "apt-get", 18, 0);
	check_word(src, &s.cmds[1], 1, "install", 26, 0);
	check_word(src, &s.cmds[1], 2, "-y", 34, 0);
	check_word(src, &s.cmds[1], 3, "curl", 37, 0);
	check_op(&s.cmds[1], DF_SH_OP_NONE, 0, 0);
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[1]), 0);
	assert_true(df_sh_word_is(src, &s.cmds[1].words[1], "install"));
	assert_false(df_sh_word_is(src, &s.cmds[1].words[1], "instal"));
	assert_false(df_sh_word_is(src, &s.cmds[1].words[1], "install "));
}

static void test_all_operators(void **state)
{
	const char *src = "a; b || c | d & e";
	struct df_sh_script s;
	static const enum df_sh_op ops[] = {
		DF_SH_OP_SEMI, DF_SH_OP_OR, DF_SH_OP_PIPE, DF_SH_OP_AMP, DF_SH_OP_NONE
	};
	static const uint32_t offs[] = { 0, 3, 8, 12, 16 }, opoffs[] = { 1, 5, 10, 14, 0 };
	static const uint32_t oplens[] = { 1, 2, 1, 1, 0 };
	static const char *const texts[] = { ";", "||", "|", "&", "" };
	size_t i;

	parse(src, &s);
	assert_int_equal(s.ncmds, 5);
	for (i = 0; i < 5; i++) {
		check_cmd(&s.cmds[i], DF_SH_SIMPLE, offs[i], offs[i] + 1, 1, 0);
		check_op(&s.cmds[i], ops[i], opoffs[i], oplens[i]);
		assert_string_equal(df_sh_op_text(ops[i]), texts[i]);
	}
}

static void test_newline_separator(void **state)
{
	const char *src = "a\n\nb &&\n  c |\nd";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 4);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 1, 1, 0);
	check_op(&s.cmds[0], DF_SH_OP_NEWLINE, 1, 1);
	check_cmd(&s.cmds[1], DF_SH_SIMPLE, 3, 4, 1, 0);
	check_op(&s.cmds[1], DF_SH_OP_AND, 5, 2); /* newline after && is a blank */
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 10, 11, 1, 0);
	check_op(&s.cmds[2], DF_SH_OP_PIPE, 12, 1);
	check_cmd(&s.cmds[3], DF_SH_SIMPLE, 14, 15, 1, 0);
	check_op(&s.cmds[3], DF_SH_OP_NONE, 0, 0);
}

static void test_empty_script(void **state)
{
	struct df_sh_script s;

	parse("", &s);
	assert_int_equal(s.ncmds, 0);
	parse(" \t \n", &s);
	assert_int_equal(s.ncmds, 0);
	assert_int_equal(s.has_comment, 0);
}

/* ---- comments ---- */

static void test_trailing_comment(void **state)
{
	const char *src = "npm install  # Installs dev dependencies";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.has_comment, 1);
	assert_int_equal(s.ncmds, 1);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 11, 2, 0);
	check_word(src, &s.cmds[0], 0, "npm", 0, 0);
	check_word(src, &s.cmds[0], 1, "install", 4, 0);
	check_op(&s.cmds[0], DF_SH_OP_NONE, 0, 0);
	assert_int_equal(s.trail_off, 13);
	assert_int_equal(s.trail_len, 27);
	assert_int_equal(s.ncomments, 1);
	assert_int_equal(s.comments[0].off, 13);
	assert_int_equal(s.comments[0].len, 27);
	assert_int_equal(s.comments[0].flags, DF_SH_COMMENT);
	check_unquote(src, &s.comments[0], "# Installs dev dependencies");
}

static void test_comments_inside(void **state)
{
	const char *src = "a # one\nb && # two\n c#d 'e#f'";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.has_comment, 1);
	assert_int_equal(s.ncomments, 2);
	assert_int_equal(s.comments[0].off, 2);
	assert_int_equal(s.comments[0].len, 5);
	assert_int_equal(s.comments[1].off, 13);
	assert_int_equal(s.comments[1].len, 5);
	assert_int_equal(s.trail_len, 0); /* the script ends with a command */
	assert_int_equal(s.ncmds, 3);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 1, 1, 0);
	check_op(&s.cmds[0], DF_SH_OP_NEWLINE, 7, 1);
	check_op(&s.cmds[1], DF_SH_OP_AND, 10, 2);
	/* '#' inside a word or quotes is not a comment */
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 20, 29, 2, 0);
	check_word(src, &s.cmds[2], 0, "c#d", 20, 0);
	check_word(src, &s.cmds[2], 1, "'e#f'", 24, DF_SH_SQUOTE);
}

/* ---- quoting and expansions ---- */

static void test_quotes_one_command(void **state)
{
	const char *src = "echo \"a && b\" 'c;d'";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 1);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 19, 3, 0);
	check_word(src, &s.cmds[0], 0, "echo", 0, 0);
	check_word(src, &s.cmds[0], 1, "\"a && b\"", 5, DF_SH_DQUOTE);
	check_word(src, &s.cmds[0], 2, "'c;d'", 14, DF_SH_SQUOTE);
	check_unquote(src, &s.cmds[0].words[1], "a && b");
	check_unquote(src, &s.cmds[0].words[2], "c;d");
	/* quoted words are not literals */
	assert_false(df_sh_word_is(src, &s.cmds[0].words[2], "'c;d'"));
}

static void test_assignment_and_expansion(void **state)
{
	const char *src = "FOO=bar make -j\"$(nproc)\" install";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 1);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 33, 4, 0);
	check_word(src, &s.cmds[0], 0, "FOO=bar", 0, DF_SH_ASSIGN);
	check_word(src, &s.cmds[0], 1, "make", 8, 0);
	check_word(src, &s.cmds[0], 2, "-j\"$(nproc)\"", 13, DF_SH_DQUOTE | DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 3, "install", 26, 0);
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[0]), 1);
	check_unquote(src, &s.cmds[0].words[0], "FOO=bar");
	check_unquote(src, &s.cmds[0].words[2], NULL);
}

static void test_assignment_only_before_name(void **state)
{
	const char *src = "A=1 B=\"x y\" env C=2 X=3 cmd D=4";
	struct df_sh_script s;

	parse(src, &s);
	check_word(src, &s.cmds[0], 0, "A=1", 0, DF_SH_ASSIGN);
	check_word(src, &s.cmds[0], 1, "B=\"x y\"", 4, DF_SH_ASSIGN | DF_SH_DQUOTE);
	check_word(src, &s.cmds[0], 2, "env", 12, 0);
	check_word(src, &s.cmds[0], 3, "C=2", 16, 0); /* arguments of env */
	check_word(src, &s.cmds[0], 6, "D=4", 28, 0);
	check_unquote(src, &s.cmds[0].words[1], "B=x y");
	/* the name goes through env and its NAME=value words */
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[0]), 5);
	/* "=x" and "1A=x" are not assignments */
	parse("=x 1A=x", &s);
	assert_int_equal(s.cmds[0].words[0].flags, 0);
	assert_int_equal(s.cmds[0].words[1].flags, 0);
	assert_int_equal(df_sh_cmd_name("=x 1A=x", &s.cmds[0]), 0);
	/* only assignments: no command name */
	parse("A=1 B=2", &s);
	assert_int_equal(df_sh_cmd_name("A=1 B=2", &s.cmds[0]), -1);
}

static void test_cmd_name_wrappers(void **state)
{
	const char *src = "sudo -E -u root env -i A=1 nohup apt-get install; ! >log command ls; "
			  "exec -a x cmd; command -v ls";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 4);
	/* sudo -E -u root env -i A=1 nohup apt-get */
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[0]), 8);
	check_word(src, &s.cmds[0], 8, "apt-get", 33, 0);
	/* ! >log command ls */
	check_word(src, &s.cmds[1], 0, "!", 50, DF_SH_RESERVED);
	check_word(src, &s.cmds[1], 1, ">log", 52, DF_SH_REDIR);
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[1]), 3);
	check_word(src, &s.cmds[1], 3, "ls", 65, 0);
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[2]), 3);
	/* command -v is a query, not a wrapper */
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[3]), 0);
}

static void test_backticks(void **state)
{
	const char *src = "echo `date +%s` \"`id -u`\" x`echo \\`y\\``z";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 1);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 40, 4, 0);
	check_word(src, &s.cmds[0], 1, "`date +%s`", 5, DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 2, "\"`id -u`\"", 16, DF_SH_DQUOTE | DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 3, "x`echo \\`y\\``z", 26, DF_SH_EXPAND);
	check_unquote(src, &s.cmds[0].words[1], NULL);
}

static void test_arithmetic(void **state)
{
	const char *src = "echo $((1+2)) $(( (3*4) - ${n} )) done";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 1);
	check_word(src, &s.cmds[0], 1, "$((1+2))", 5, DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 2, "$(( (3*4) - ${n} ))", 14, DF_SH_EXPAND);
	/* "done" after echo is an argument, not a keyword */
	check_word(src, &s.cmds[0], 3, "done", 34, 0);
	assert_int_equal(s.complex, 0);
}

static void test_nested_expansions(void **state)
{
	const char *src = "echo ${a:-${b:-\"x}\"}} $(echo \"$(date)\" \\)) $(f (g) ')') ok";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 1);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 58, 5, 0);
	check_word(src, &s.cmds[0], 1, "${a:-${b:-\"x}\"}}", 5, DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 2, "$(echo \"$(date)\" \\))", 22, DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 3, "$(f (g) ')')", 43, DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 4, "ok", 56, 0);
}

static void test_special_params(void **state)
{
	const char *src = "echo $1 $@ $? $$ $# $HOME_1x a$ \"b$\"";
	struct df_sh_script s;
	size_t k;

	parse(src, &s);
	assert_int_equal(s.cmds[0].nwords, 9);
	for (k = 1; k <= 6; k++)
		assert_int_equal(s.cmds[0].words[k].flags, DF_SH_EXPAND);
	/* a lone '$' is literal */
	check_word(src, &s.cmds[0], 7, "a$", 29, 0);
	check_word(src, &s.cmds[0], 8, "\"b$\"", 32, DF_SH_DQUOTE);
	check_unquote(src, &s.cmds[0].words[8], "b$");
}

static void test_glob(void **state)
{
	const char *src = "rm -rf /var/lib/apt/lists/* file?.[ch] '*.txt' \\*";
	struct df_sh_script s;

	parse(src, &s);
	check_word(src, &s.cmds[0], 2, "/var/lib/apt/lists/*", 7, DF_SH_GLOB);
	check_word(src, &s.cmds[0], 3, "file?.[ch]", 28, DF_SH_GLOB);
	check_word(src, &s.cmds[0], 4, "'*.txt'", 39, DF_SH_SQUOTE);
	check_word(src, &s.cmds[0], 5, "\\*", 47, DF_SH_ESCAPE);
	check_unquote(src, &s.cmds[0].words[2], "/var/lib/apt/lists/*");
	check_unquote(src, &s.cmds[0].words[5], "*");
}

static void test_tilde(void **state)
{
	const char *src = "cd ~/src PATH=~/bin a~b";
	struct df_sh_script s;

	parse(src, &s);
	check_word(src, &s.cmds[0], 1, "~/src", 3, DF_SH_TILDE);
	check_word(src, &s.cmds[0], 2, "PATH=~/bin", 9, DF_SH_TILDE);
	check_word(src, &s.cmds[0], 3, "a~b", 20, 0);
	check_unquote(src, &s.cmds[0].words[1], NULL);
	check_unquote(src, &s.cmds[0].words[3], "a~b");
}

static void test_unquote(void **state)
{
	const char *src = "\"a b\" a\\ b \"q\\\"x\\n\" 'it'\\''s' x\"\"y '' $'a' $\"b\" a\\\nb";
	struct df_sh_script s;
	const struct df_sh_cmd *c;

	parse(src, &s);
	c = &s.cmds[0];
	assert_int_equal(c->nwords, 9);
	check_word(src, c, 0, "\"a b\"", 0, DF_SH_DQUOTE);
	check_unquote(src, &c->words[0], "a b");
	check_unquote(src, &c->words[1], "a b");
	assert_int_equal(c->words[1].flags, DF_SH_ESCAPE);
	/* in double quotes \" is a quote, \n stays two bytes */
	check_unquote(src, &c->words[2], "q\"x\\n");
	check_word(src, c, 3, "'it'\\''s'", 20, DF_SH_SQUOTE | DF_SH_ESCAPE);
	check_unquote(src, &c->words[3], "it's");
	check_unquote(src, &c->words[4], "xy");
	check_unquote(src, &c->words[5], "");
	/* bash $'...' and $"..." are not known statically */
	check_word(src, c, 6, "$'a'", 38, DF_SH_SQUOTE);
	check_unquote(src, &c->words[6], NULL);
	check_unquote(src, &c->words[7], NULL);
	assert_int_equal(s.complex, 1); /* $'...' is bash */
	/* backslash-newline is a line continuation */
	check_word(src, c, 8, "a\\\nb", 48, DF_SH_ESCAPE);
	check_unquote(src, &c->words[8], "ab");
}

/* ---- groups and control flow ---- */

static void test_brace_group(void **state)
{
	const char *src = "{ a; b; } && c";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 4);
	assert_int_equal(s.complex, 0);
	check_cmd(&s.cmds[0], DF_SH_BRACE, 0, 9, 0, 0);
	assert_int_equal(s.cmds[0].inner_off, 1);
	assert_int_equal(s.cmds[0].inner_end, 8);
	assert_int_equal(s.cmds[0].ninner, 2);
	check_op(&s.cmds[0], DF_SH_OP_AND, 10, 2);
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[0]), -1);
	check_cmd(&s.cmds[1], DF_SH_SIMPLE, 2, 3, 1, 1);
	check_op(&s.cmds[1], DF_SH_OP_SEMI, 3, 1);
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 5, 6, 1, 1);
	check_op(&s.cmds[2], DF_SH_OP_SEMI, 6, 1);
	check_cmd(&s.cmds[3], DF_SH_SIMPLE, 13, 14, 1, 0);
	check_op(&s.cmds[3], DF_SH_OP_NONE, 0, 0);
}

static void test_subshell(void **state)
{
	const char *src = "(cd x && make)";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 3);
	check_cmd(&s.cmds[0], DF_SH_SUBSHELL, 0, 14, 0, 0);
	assert_int_equal(s.cmds[0].inner_off, 1);
	assert_int_equal(s.cmds[0].inner_end, 13);
	assert_int_equal(s.cmds[0].ninner, 2);
	check_op(&s.cmds[0], DF_SH_OP_NONE, 0, 0);
	check_cmd(&s.cmds[1], DF_SH_SIMPLE, 1, 5, 2, 1);
	check_word(src, &s.cmds[1], 0, "cd", 1, 0);
	check_word(src, &s.cmds[1], 1, "x", 4, 0);
	check_op(&s.cmds[1], DF_SH_OP_AND, 6, 2);
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 9, 13, 1, 1);
	check_op(&s.cmds[2], DF_SH_OP_NONE, 0, 0);
}

static void test_group_redirections_and_nesting(void **state)
{
	const char *src = "a && (b; { c; }) > log 2>&1 || d";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 6);
	check_cmd(&s.cmds[1], DF_SH_SUBSHELL, 5, 27, 2, 0);
	assert_int_equal(s.cmds[1].inner_off, 6);
	assert_int_equal(s.cmds[1].inner_end, 15);
	assert_int_equal(s.cmds[1].ninner, 3);
	check_word(src, &s.cmds[1], 0, "> log", 17, DF_SH_REDIR);
	check_word(src, &s.cmds[1], 1, "2>&1", 23, DF_SH_REDIR);
	check_op(&s.cmds[1], DF_SH_OP_OR, 28, 2);
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 6, 7, 1, 1);
	check_cmd(&s.cmds[3], DF_SH_BRACE, 9, 15, 0, 1);
	assert_int_equal(s.cmds[3].ninner, 1);
	check_cmd(&s.cmds[4], DF_SH_SIMPLE, 11, 12, 1, 2);
	check_cmd(&s.cmds[5], DF_SH_SIMPLE, 31, 32, 1, 0);
}

static void test_if_is_complex(void **state)
{
	const char *src = "if [ -f x ]; then y; fi";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.complex, 1);
	assert_int_equal(s.ncmds, 5);
	check_cmd(&s.cmds[0], DF_SH_KEYWORD, 0, 2, 1, 0);
	check_word(src, &s.cmds[0], 0, "if", 0, DF_SH_RESERVED);
	assert_int_equal(s.cmds[0].ninner, 4);
	check_op(&s.cmds[0], DF_SH_OP_NONE, 0, 0);
	check_cmd(&s.cmds[1], DF_SH_SIMPLE, 3, 11, 4, 1);
	check_word(src, &s.cmds[1], 0, "[", 3, DF_SH_GLOB);
	check_word(src, &s.cmds[1], 3, "]", 10, 0);
	check_op(&s.cmds[1], DF_SH_OP_SEMI, 11, 1);
	check_cmd(&s.cmds[2], DF_SH_KEYWORD, 13, 17, 1, 0);
	check_word(src, &s.cmds[2], 0, "then", 13, DF_SH_RESERVED);
	check_cmd(&s.cmds[3], DF_SH_SIMPLE, 18, 19, 1, 1);
	check_op(&s.cmds[3], DF_SH_OP_SEMI, 19, 1);
	check_cmd(&s.cmds[4], DF_SH_KEYWORD, 21, 23, 1, 0);
	check_word(src, &s.cmds[4], 0, "fi", 21, DF_SH_RESERVED);
	assert_int_equal(df_sh_cmd_name(src, &s.cmds[0]), -1);
}

static void test_loops(void **state)
{
	const char *src = "for i in a b; do echo $i; done > log\nwhile read l; do :; done";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.complex, 1);
	assert_int_equal(s.ncmds, 9);
	check_cmd(&s.cmds[0], DF_SH_KEYWORD, 0, 12, 5, 0);
	check_word(src, &s.cmds[0], 0, "for", 0, DF_SH_RESERVED);
	check_word(src, &s.cmds[0], 4, "b", 11, 0);
	assert_int_equal(s.cmds[0].ninner, 3);
	check_op(&s.cmds[0], DF_SH_OP_SEMI, 12, 1);
	check_cmd(&s.cmds[1], DF_SH_KEYWORD, 14, 16, 1, 0);
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 17, 24, 2, 1);
	check_cmd(&s.cmds[3], DF_SH_KEYWORD, 26, 36, 2, 0);
	check_word(src, &s.cmds[3], 1, "> log", 31, DF_SH_REDIR);
	check_op(&s.cmds[3], DF_SH_OP_NEWLINE, 36, 1);
	check_cmd(&s.cmds[4], DF_SH_KEYWORD, 37, 42, 1, 0);
	assert_int_equal(s.cmds[4].ninner, 4);
	check_cmd(&s.cmds[5], DF_SH_SIMPLE, 43, 49, 2, 1);
	check_cmd(&s.cmds[8], DF_SH_KEYWORD, 57, 61, 1, 0);
}

static void test_case(void **state)
{
	const char *src = "case \"$(uname -m)\" in x86_64|amd64) A=amd64;; (arm64) A=arm ;; "
			  "*) exit 1;; esac; echo $A";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.complex, 1);
	assert_int_equal(s.ncmds, 9);
	check_cmd(&s.cmds[0], DF_SH_KEYWORD, 0, 21, 3, 0);
	check_word(src, &s.cmds[0], 1, "\"$(uname -m)\"", 5, DF_SH_DQUOTE | DF_SH_EXPAND);
	check_word(src, &s.cmds[0], 2, "in", 19, 0);
	assert_int_equal(s.cmds[0].ninner, 7);
	check_cmd(&s.cmds[1], DF_SH_PATTERN, 22, 35, 2, 1);
	check_word(src, &s.cmds[1], 0, "x86_64", 22, 0);
	check_word(src, &s.cmds[1], 1, "amd64", 29, 0);
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 36, 43, 1, 1);
	check_op(&s.cmds[2], DF_SH_OP_DSEMI, 43, 2);
	check_cmd(&s.cmds[3], DF_SH_PATTERN, 46, 53, 1, 1);
	check_word(src, &s.cmds[3], 0, "arm64", 47, 0);
	check_op(&s.cmds[4], DF_SH_OP_DSEMI, 60, 2); /* after the blank */
	check_word(src, &s.cmds[5], 0, "*", 63, DF_SH_GLOB);
	check_cmd(&s.cmds[6], DF_SH_SIMPLE, 66, 72, 2, 1);
	check_op(&s.cmds[6], DF_SH_OP_DSEMI, 72, 2);
	check_cmd(&s.cmds[7], DF_SH_KEYWORD, 75, 79, 1, 0);
	check_word(src, &s.cmds[7], 0, "esac", 75, DF_SH_RESERVED);
	check_op(&s.cmds[7], DF_SH_OP_SEMI, 79, 1);
	check_cmd(&s.cmds[8], DF_SH_SIMPLE, 81, 88, 2, 0);
}

static void test_function_and_bashisms(void **state)
{
	const char *src = "f() { echo hi; }; f";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.complex, 1);
	assert_int_equal(s.ncmds, 4);
	check_cmd(&s.cmds[0], DF_SH_FUNCDEF, 0, 3, 1, 0);
	check_cmd(&s.cmds[1], DF_SH_BRACE, 4, 16, 0, 0);
	check_op(&s.cmds[1], DF_SH_OP_SEMI, 16, 1);

	parse("[[ -f x ]]", &s);
	assert_int_equal(s.complex, 1);
	parse("(( i = 1 ))", &s);
	assert_int_equal(s.complex, 1);
	parse("a |& b", &s);
	assert_int_equal(s.complex, 1);
	check_op(&s.cmds[0], DF_SH_OP_PIPE, 2, 2);
	parse("a &>/dev/null", &s);
	assert_int_equal(s.complex, 1);
	check_word("a &>/dev/null", &s.cmds[0], 1, "&>/dev/null", 2, DF_SH_REDIR);
	parse("a & >/dev/null b", &s);
	assert_int_equal(s.complex, 0);
	assert_int_equal(s.ncmds, 2);
	parse("echo {a,b} } !", &s); /* braces and ! as arguments */
	assert_int_equal(s.complex, 0);
	assert_int_equal(s.cmds[0].nwords, 4);
}

/* ---- set -e ---- */

static void test_sets_e(void **state)
{
	struct df_sh_script s;

	parse("set -eux; a", &s);
	assert_int_equal(s.sets_e, 1);
	assert_int_equal(s.sets_pipefail, 0);
	assert_int_equal(s.ncmds, 2);
	check_word("set -eux; a", &s.cmds[0], 1, "-eux", 4, 0);
	check_op(&s.cmds[0], DF_SH_OP_SEMI, 8, 1);

	parse("set -o errexit -o pipefail && a", &s);
	assert_int_equal(s.sets_e, 1);
	assert_int_equal(s.sets_pipefail, 1);
	parse("set -euo pipefail", &s);
	assert_int_equal(s.sets_e, 1);
	assert_int_equal(s.sets_pipefail, 1);
	parse("set -e; a; set +e", &s);
	assert_int_equal(s.sets_e, 0);
	parse("set -x; echo -e x; set -- -e", &s);
	assert_int_equal(s.sets_e, 0);
	parse("(set -e; a)", &s); /* a subshell's option */
	assert_int_equal(s.sets_e, 0);
	parse("echo set -e", &s);
	assert_int_equal(s.sets_e, 0);
}

/* ---- redirections and heredocs ---- */

static void test_redirections(void **state)
{
	const char *src = "cmd 2>&1 >/dev/null 2>> err.log <in >|f 3<>g >&- x>y";
	struct df_sh_script s;
	struct df_sh_word t;
	const struct df_sh_cmd *c;

	parse(src, &s);
	assert_int_equal(s.ncmds, 1);
	c = &s.cmds[0];
	check_cmd(c, DF_SH_SIMPLE, 0, 52, 10, 0);
	check_word(src, c, 0, "cmd", 0, 0);
	check_word(src, c, 1, "2>&1", 4, DF_SH_REDIR);
	check_word(src, c, 2, ">/dev/null", 9, DF_SH_REDIR);
	check_word(src, c, 3, "2>> err.log", 20, DF_SH_REDIR);
	check_word(src, c, 4, "<in", 32, DF_SH_REDIR);
	check_word(src, c, 5, ">|f", 36, DF_SH_REDIR);
	check_word(src, c, 6, "3<>g", 40, DF_SH_REDIR);
	check_word(src, c, 7, ">&-", 45, DF_SH_REDIR);
	check_word(src, c, 8, "x", 49, 0); /* not digits: a word, then >y */
	check_word(src, c, 9, ">y", 50, DF_SH_REDIR);
	assert_int_equal(df_sh_cmd_name(src, c), 0);

	assert_int_equal(df_sh_redir_target(src, &c->words[1], &t), 3);
	assert_int_equal(t.off, 7);
	assert_int_equal(t.len, 1);
	assert_int_equal(t.flags, 0);
	assert_int_equal(df_sh_redir_target(src, &c->words[3], &t), 3);
	assert_int_equal(t.off, 24);
	assert_int_equal(t.len, 7);
	check_unquote(src, &t, "err.log");
	assert_int_equal(df_sh_redir_target(src, &c->words[7], &t), 2);
	assert_int_equal(t.off, 47);
	assert_int_equal(df_sh_redir_target(src, &c->words[0], &t), 0);
	check_unquote(src, &c->words[2], NULL);

	/* a redirection may come first */
	parse(">out echo hi", &s);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 12, 3, 0);
	assert_int_equal(df_sh_cmd_name(">out echo hi", &s.cmds[0]), 1);
}

static void test_heredoc_marker(void **state)
{
	const char *src = "cat <<EOF";
	struct df_sh_script s;
	struct df_sh_word t;

	parse(src, &s);
	assert_int_equal(s.has_heredoc, 1);
	assert_int_equal(s.complex, 0);
	assert_int_equal(s.ncmds, 1);
	check_cmd(&s.cmds[0], DF_SH_SIMPLE, 0, 9, 2, 0);
	check_word(src, &s.cmds[0], 1, "<<EOF", 4, DF_SH_REDIR | DF_SH_HEREDOC);
	assert_int_equal(df_sh_redir_target(src, &s.cmds[0].words[1], &t), 2);
	assert_int_equal(t.off, 6);
	assert_int_equal(t.len, 3);
	assert_int_equal(t.flags, 0);

	src = "cat <<-'EOT' >f";
	parse(src, &s);
	check_word(src, &s.cmds[0], 1, "<<-'EOT'", 4,
		   DF_SH_REDIR | DF_SH_HEREDOC | DF_SH_SQUOTE);
	assert_int_equal(df_sh_redir_target(src, &s.cmds[0].words[1], &t), 3);
	check_unquote(src, &t, "EOT");
	check_word(src, &s.cmds[0], 2, ">f", 13, DF_SH_REDIR);

	/* here-string: a redirection, not a heredoc, and bash */
	src = "cat <<< \"$x\"";
	parse(src, &s);
	assert_int_equal(s.complex, 1);
	assert_int_equal(s.has_heredoc, 0);
	check_word(src, &s.cmds[0], 1, "<<< \"$x\"", 4,
		   DF_SH_REDIR | DF_SH_DQUOTE | DF_SH_EXPAND);
}

static void test_heredoc_body_skipped(void **state)
{
	const char *src = "cat <<-\"EOF\" >x && a\n\tif ( 'x\n\tEOF\necho done # bye\n";
	struct df_sh_script s;

	parse(src, &s);
	assert_int_equal(s.ncmds, 3);
	check_op(&s.cmds[0], DF_SH_OP_AND, 16, 2);
	check_op(&s.cmds[1], DF_SH_OP_NEWLINE, 20, 1);
	/* the body (with its unbalanced quote and paren) is not parsed */
	check_cmd(&s.cmds[2], DF_SH_SIMPLE, 35, 44, 2, 0);
	check_word(src, &s.cmds[2], 1, "done", 40, 0);
	check_op(&s.cmds[2], DF_SH_OP_NEWLINE, 50, 1);
	assert_int_equal(s.complex, 0);
	assert_int_equal(s.trail_off, 45);
	assert_int_equal(s.trail_len, 5);

	parse_fails("cat <<EOF\nbody\nEOFX\n", "heredoc without its terminator", 10);
}

/* ---- failures ---- */

static void test_unbalanced(void **state)
{
	parse_fails("echo \"abc", "unterminated double quote", 6);
	parse_fails("echo 'abc", "unterminated single quote", 5);
	parse_fails("echo $(date", "unterminated $(", 7);
	parse_fails("echo ${a", "unterminated ${", 7);
	parse_fails("echo $((1+2", "unterminated $((", 8);
	parse_fails("echo $((1+2) x", "unbalanced ')' in $((...))", 11);
	parse_fails("echo `date", "unterminated backquote", 5);
	parse_fails("(a", "unclosed '('", 0);
	parse_fails("a)", "unbalanced ')'", 1);
	parse_fails("{ a }", "unclosed '{'", 0);
	parse_fails("a; }", "unbalanced '}'", 3);
	parse_fails("( )", "empty group", 2);
	parse_fails("if a; then b", "'if' without 'fi'", 0);
	parse_fails("a; fi", "keyword out of place", 3);
	parse_fails("for x in a; do b; fi", "keyword out of place", 18);
	parse_fails("case x esac", "'case' needs WORD in", 7);
}

static void test_syntax_errors(void **state)
{
	parse_fails("&& a", "operator without a command before it", 0);
	parse_fails("a; ; b", "operator without a command before it", 3);
	parse_fails("a &&", "missing command after operator", 4);
	parse_fails("a | # c", "missing command after operator", 7);
	parse_fails("{ a && }", "missing command after operator", 7);
	parse_fails("a ;; b", "';;' outside a case branch", 2);
	parse_fails("case x in a) b;& esac", "bash ';&' is not supported", 14);
	parse_fails("a >", "redirection without a target", 2);
	parse_fails("a > ;", "redirection without a target", 2);
	parse_fails("diff <(a) <(b)", "redirection without a target", 5);
	parse_fails("(a) b", "unexpected word after a closing keyword or group", 4);
	parse_fails("echo (a)", "unexpected '('", 5);
	/* a case inside $(...) is beyond the lexer: refused, not misread */
	parse_fails("echo $(case a in a) b;; esac)", "';;' outside a case branch", 21);
}

static char *repeat(const char *unit, size_t times, const char *tail, size_t *len)
{
	size_t u = strlen(unit), t = strlen(tail), i;
	char *p = malloc(u * times + t + 1);

	assert_non_null(p);
	for (i = 0; i < times; i++)
		memcpy(p + i * u, unit, u);
	memcpy(p + u * times, tail, t + 1);
	*len = u * times + t;
	return p;
}

static void test_deep_nesting(void **state)
{
	static const char *const units[] = { "(", "{ ", "$(", "\"$(", "${", "$((", "if a; then " };
	struct df_sh_script s;
	size_t i, n;
	char *p;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		p = repeat(units[i], 100000, "x", &n);
		assert_int_equal(df_sh_parse(&arena, p, n, &s), -1);
		assert_string_equal(s.error, "nesting too deep");
		assert_int_equal(s.ok, 0);
		free(p);
	}
	/* within the limit: fine */
	p = repeat("(", DF_SH_MAX_DEPTH, "x", &n);
	p = realloc(p, n + DF_SH_MAX_DEPTH + 1);
	memset(p + n, ')', DF_SH_MAX_DEPTH);
	n += DF_SH_MAX_DEPTH;
	parse_n(p, n, &s);
	assert_int_equal(s.ncmds, DF_SH_MAX_DEPTH + 1);
	assert_int_equal(s.cmds[DF_SH_MAX_DEPTH].depth, DF_SH_MAX_DEPTH);
	assert_int_equal(s.cmds[0].ninner, DF_SH_MAX_DEPTH);
	free(p);
	/* parens counted inside $((...)) and $(...) are not nesting */
	p = repeat("(", 100000, "", &n);
	p = realloc(p, 2 * n + 8);
	memmove(p + 3, p, n);
	memcpy(p, "$((", 3);
	memset(p + 3 + n, ')', n + 2);
	n = 2 * n + 5;
	parse_n(p, n, &s);
	assert_int_equal(s.cmds[0].words[0].len, n);
	free(p);
}

/* ---- bytes and size ---- */

static void test_binary_bytes(void **state)
{
	static const char src[] = "ec\0ho \xff\xfe 'a\0b' \xe2\x82;x\0";
	struct df_sh_script s;
	size_t len;
	char *v;

	parse_n(src, sizeof(src) - 1, &s);
	assert_int_equal(s.ncmds, 2);
	assert_int_equal(s.cmds[0].words[0].off, 0);
	assert_int_equal(s.cmds[0].words[0].len, 5);
	assert_int_equal(s.cmds[0].words[1].off, 6);
	assert_int_equal(s.cmds[0].words[2].off, 9);
	v = df_sh_unquote(&arena, src, &s.cmds[0].words[2], &len);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "a\0b", 3);
	check_op(&s.cmds[0], DF_SH_OP_SEMI, 17, 1);
	assert_int_equal(s.cmds[1].words[0].len, 2);
}

static double seconds(clock_t start)
{
	return (double)(clock() - start) / CLOCKS_PER_SEC;
}

/* Linear time: quadratic code takes minutes on these, linear code ms. */
static void test_pathological(void **state)
{
	struct df_sh_script s;
	clock_t t0 = clock();
	size_t n;
	char *p;

	p = repeat("a && ", 200000, "b", &n);
	parse_n(p, n, &s);
	assert_int_equal(s.ncmds, 200001);
	assert_int_equal(s.cmds[200000].off, n - 1);
	free(p);

	p = repeat("x", 1000000, "", &n); /* one huge word */
	p[0] = '"';
	p[n - 1] = '"';
	parse_n(p, n, &s);
	assert_int_equal(s.cmds[0].words[0].len, n);
	free(p);

	p = repeat("'a' ", 200000, "", &n); /* many quotes */
	parse_n(p, n, &s);
	assert_int_equal(s.cmds[0].nwords, 200000);
	free(p);

	p = repeat("(a) > f; ", 50000, "", &n); /* many groups with redirections */
	parse_n(p, n, &s);
	assert_int_equal(s.ncmds, 100000);
	assert_int_equal(s.cmds[99998].nwords, 1);
	free(p);

	p = repeat("1111111111", 100000, " x", &n); /* digits that are not an fd */
	parse_n(p, n, &s);
	assert_int_equal(s.cmds[0].nwords, 2);
	free(p);

	p = repeat("line\n", 200000, "E\n", &n); /* a heredoc body of many lines */
	p = realloc(p, n + 10);
	memmove(p + 8, p, n + 1);
	memcpy(p, "cat <<E\n", 8);
	parse_n(p, n + 8, &s);
	assert_int_equal(s.ncmds, 1);
	free(p);

	assert_true(seconds(t0) < 5.0);
}

/* Scratch words (dockerignore's RUN reading): parse, rewind, parse again;
 * what the second parse gives is whole, and the arena keeps one block. */
static void test_arena_rewind(void **state)
{
	struct df_arena a;
	struct df_sh_script sc;
	size_t k;

	(void)state;
	df_arena_init(&a);
	df_arena_rewind(&a); /* nothing yet: nothing to do */
	for (k = 0; k < 3; k++) {
		static const char big[] = "apt-get install -y curl git make gcc && rm -rf /var/lib/apt/lists/*";
		const char *w;

		assert_int_equal(df_sh_parse(&a, big, strlen(big), &sc), 0);
		assert_int_equal(sc.ncmds, 2);
		w = df_sh_unquote(&a, big, &sc.cmds[0].words[3], NULL);
		assert_string_equal(w, "curl");
		/* many blocks' worth, then back to one */
		assert_non_null(df_arena_alloc(&a, 100000));
		assert_non_null(df_arena_alloc(&a, 300000));
		df_arena_rewind(&a);
		assert_non_null(a.head);
	}
	/* what is left is one block, used again from its start */
	{
		char *p1 = df_arena_alloc(&a, 64), *p2;

		memset(p1, 'x', 64);
		assert_non_null(df_arena_alloc(&a, 1000));
		df_arena_rewind(&a);
		p2 = df_arena_alloc(&a, 64);
		assert_ptr_equal(p1, p2);
		assert_int_equal(p2[0], 0); /* df_arena_alloc zeroes */
	}
	df_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_operators, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newline_separator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_script, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_comment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quotes_one_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assignment_and_expansion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_assignment_only_before_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmd_name_wrappers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backticks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arithmetic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_expansions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tilde, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unquote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_brace_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subshell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_redirections_and_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_if_is_complex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_and_bashisms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sets_e, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heredoc_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heredoc_body_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbalanced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pathological, setup, teardown),
		cmocka_unit_test(test_arena_rewind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
