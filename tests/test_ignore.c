/* test_ignore.c - .dockerignore semantics: each test pins one behaviour of
 * Docker (BuildKit's ignorefile.ReadAll, moby/patternmatcher, fsutil's walk)
 * with concrete paths. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfix.h"
#include "ignore.h"

static struct df_ignore *parse(const char *text)
{
	char *err = NULL;
	struct df_ignore *ig = df_ignore_parse(text, strlen(text), &err);

	if (!ig)
		fail_msg("parse failed: %s", err);
	assert_null(err);
	return ig;
}

/* The error message of an invalid file (caller frees). */
static char *parse_error(const char *text, size_t len)
{
	char *err = NULL;
	struct df_ignore *ig = df_ignore_parse(text, len, &err);

	if (ig)
		fail_msg("parse of %s succeeded", text);
	assert_non_null(err);
	return err;
}

#define EXCLUDED(ig, path) assert_int_equal(df_ignore_excluded(ig, path), 1)
#define KEPT(ig, path) assert_int_equal(df_ignore_excluded(ig, path), 0)

/* ---- wildcards ---- */

static void star_does_not_cross_slash(void **state)
{
	struct df_ignore *ig = parse("*.txt\n");

	EXCLUDED(ig, "a.txt");
	EXCLUDED(ig, ".txt");
	KEPT(ig, "docs/a.txt");
	KEPT(ig, "a.txt.bak");
	df_ignore_free(ig);
}

static void star_alone_excludes_everything_through_parents(void **state)
{
	struct df_ignore *ig = parse("*\n");

	EXCLUDED(ig, "Dockerfile");
	/* "*" matches the top directory "src", which carries its contents */
	EXCLUDED(ig, "src/deep/main.c");
	df_ignore_free(ig);
}

static void star_slash_temp_one_level_down(void **state)
{
	struct df_ignore *ig = parse("*/temp*\n");

	EXCLUDED(ig, "a/temporary");
	EXCLUDED(ig, "somedir/temp");
	EXCLUDED(ig, "somedir/temp/inside.txt");
	KEPT(ig, "a/b/temp");
	KEPT(ig, "temp");
	KEPT(ig, "a/xtemp");
	df_ignore_free(ig);
}

static void question_mark_is_one_character(void **state)
{
	struct df_ignore *ig = parse("temp?\n");

	EXCLUDED(ig, "tempa");
	EXCLUDED(ig, "tempb/file");
	EXCLUDED(ig, "temp\xc3\xa9");     /* one rune, two bytes */
	EXCLUDED(ig, "temp\xff");         /* an invalid byte counts as one rune */
	KEPT(ig, "temp");
	KEPT(ig, "tempab");
	KEPT(ig, "dir/tempa");
	df_ignore_free(ig);
}

static void double_star_any_depth(void **state)
{
	struct df_ignore *ig = parse("**/*.go\n");

	EXCLUDED(ig, "a.go");
	EXCLUDED(ig, "x/a.go");
	EXCLUDED(ig, "x/y/a.go");
	KEPT(ig, "a.gox");
	KEPT(ig, "x/a.go.txt");
	df_ignore_free(ig);
}

static void double_star_alone(void **state)
{
	struct df_ignore *ig = parse("**\n");

	EXCLUDED(ig, "file");
	EXCLUDED(ig, "dir/file");
	EXCLUDED(ig, ".hidden/x/y");
	assert_string_equal(df_ignore_pattern(ig, 0), "**");
	df_ignore_free(ig);
}

static void double_star_in_the_middle(void **state)
{
	struct df_ignore *ig = parse("a/**/b\n");

	EXCLUDED(ig, "a/b");
	EXCLUDED(ig, "a/x/b");
	EXCLUDED(ig, "a/x/y/b");
	EXCLUDED(ig, "a/x/b/inside"); /* through the directory a/x/b */
	KEPT(ig, "ab");
	KEPT(ig, "a/xb");
	KEPT(ig, "a/b2");
	KEPT(ig, "z/a/b");
	df_ignore_free(ig);
}

static void double_star_trailing(void **state)
{
	struct df_ignore *ig = parse("build/**\n");

	/* patternmatcher's prefix match on "build/": the directory itself is
	 * not matched, everything in it is */
	KEPT(ig, "build");
	EXCLUDED(ig, "build/out.o");
	EXCLUDED(ig, "build/x/y.o");
	KEPT(ig, "builder/x");
	df_ignore_free(ig);
}

static void double_star_glued_to_text(void **state)
{
	/* patternmatcher: a pattern starting with "**" and no other wildcard
	 * is a plain suffix compare */
	struct df_ignore *ig = parse("**file\n");

	EXCLUDED(ig, "file");
	EXCLUDED(ig, "dir/file");
	EXCLUDED(ig, "dir/dir/file");
	EXCLUDED(ig, "dir/myfile");
	KEPT(ig, "file2");
	df_ignore_free(ig);
}

static void character_classes(void **state)
{
	struct df_ignore *ig = parse("[a-c]x\n");

	EXCLUDED(ig, "ax");
	EXCLUDED(ig, "cx");
	KEPT(ig, "dx");
	KEPT(ig, "x");
	df_ignore_free(ig);

	ig = parse("[^a-c]x\n");
	EXCLUDED(ig, "dx");
	EXCLUDED(ig, "\xce\xb1x"); /* a negated class takes one rune */
	KEPT(ig, "bx");
	df_ignore_free(ig);

	/* Go negates with '^' only: "[!a]" is the class of '!' and 'a' */
	ig = parse("[!a]x\n");
	EXCLUDED(ig, "!x");
	EXCLUDED(ig, "ax");
	KEPT(ig, "bx");
	df_ignore_free(ig);

	/* an escaped ']' inside a class */
	ig = parse("[\\]a]\n");
	EXCLUDED(ig, "]");
	EXCLUDED(ig, "a");
	KEPT(ig, "b");
	df_ignore_free(ig);
}

static void backslash_escapes(void **state)
{
	struct df_ignore *ig = parse("a\\*b\n\\#notes\n\\!keep\n");

	EXCLUDED(ig, "a*b");
	KEPT(ig, "axb");
	KEPT(ig, "ab");
	EXCLUDED(ig, "#notes");
	/* "\!" is not an exception: it names a file starting with '!' */
	assert_int_equal(df_ignore_is_exception(ig, 2), 0);
	EXCLUDED(ig, "!keep");
	df_ignore_free(ig);

	/* regexp-only characters are literal */
	ig = parse("a.|)$(}+{bc\n");
	EXCLUDED(ig, "a.|)$(}+{bc");
	KEPT(ig, "aX|)$(}+{bc");
	df_ignore_free(ig);
}

static void regexp_escapes_docker_accepts(void **state)
{
	/* patternmatcher hands "\d" to Go's regexp: a digit */
	struct df_ignore *ig = parse("log\\d\n");
	char *err;

	EXCLUDED(ig, "log1");
	KEPT(ig, "logd");
	df_ignore_free(ig);

	/* and "\s" to mean white space, so "dir\sub" is not "dirsub" */
	ig = parse("dir\\sub\n");
	EXCLUDED(ig, "dir ub");
	KEPT(ig, "dirsub");
	df_ignore_free(ig);

	err = parse_error("ok\nfile\\q\n", 10);
	assert_non_null(strstr(err, "line 2: unsupported escape"));
	free(err);
}

static void regexp_engine_agrees_with_go(void **state)
{
	/* Go's regexp reads "[[:digit:]]" as a POSIX class, ASCII only */
	struct df_ignore *ig = parse("v[[:digit:]]\n*.py[cod]\n");
	char *err;

	EXCLUDED(ig, "v7");
	KEPT(ig, "v\xd9\xa3"); /* ARABIC-INDIC DIGIT THREE */
	EXCLUDED(ig, "a.pyc");
	KEPT(ig, "a.pyx");
	df_ignore_free(ig);

	/* Go's '$' is the end of the text, not "before a final newline" */
	ig = parse("ab\nc?\n");
	KEPT(ig, "ab\n");
	EXCLUDED(ig, "c\n"); /* '?' takes any character but '/' */
	df_ignore_free(ig);

	/* forms PCRE2 and Go would read apart are refused, not guessed */
	err = parse_error("[:alpha:]", 9);
	assert_non_null(strstr(err, "line 1: invalid pattern"));
	free(err);
	err = parse_error("a\\bc", 4);
	assert_non_null(strstr(err, "line 1: unsupported escape"));
	free(err);
}

/* ---- reading the file ---- */

static void leading_slash_and_dot_slash_cleaned(void **state)
{
	struct df_ignore *ig = parse("/foo\n./bar\n//baz//\n");

	assert_int_equal(df_ignore_count(ig), 3);
	assert_string_equal(df_ignore_pattern(ig, 0), "foo");
	assert_string_equal(df_ignore_pattern(ig, 1), "bar");
	assert_string_equal(df_ignore_pattern(ig, 2), "baz");
	EXCLUDED(ig, "foo");
	EXCLUDED(ig, "bar/x");
	KEPT(ig, "sub/foo"); /* patterns are anchored at the context root */
	df_ignore_free(ig);
}

static void dot_dot_cleaned(void **state)
{
	struct df_ignore *ig = parse("a/../b\nc/d/..\n../outside\n!x/./../y\n");

	assert_string_equal(df_ignore_pattern(ig, 0), "b");
	assert_string_equal(df_ignore_pattern(ig, 1), "c");
	assert_string_equal(df_ignore_pattern(ig, 2), "../outside");
	assert_string_equal(df_ignore_pattern(ig, 3), "y");
	assert_int_equal(df_ignore_is_exception(ig, 3), 1);
	EXCLUDED(ig, "b");
	EXCLUDED(ig, "c/d");
	KEPT(ig, "a");
	KEPT(ig, "outside");
	df_ignore_free(ig);
}

static void directory_excludes_its_contents(void **state)
{
	struct df_ignore *ig = parse("node_modules\n");

	EXCLUDED(ig, "node_modules");
	EXCLUDED(ig, "node_modules/x/y.js");
	EXCLUDED(ig, "./node_modules/x");
	KEPT(ig, "src/node_modules/x.js"); /* unlike .gitignore */
	KEPT(ig, "node_modules2");
	df_ignore_free(ig);
}

static void trailing_slash_pattern(void **state)
{
	struct df_ignore *ig = parse("logs/\n");

	assert_string_equal(df_ignore_pattern(ig, 0), "logs");
	EXCLUDED(ig, "logs");
	EXCLUDED(ig, "logs/2024/app.log");
	/* the slash is cleaned away: a plain file named "logs" is excluded
	 * as well, and only that name */
	KEPT(ig, "logsx");
	df_ignore_free(ig);
}

static void comments_and_blank_lines(void **state)
{
	struct df_ignore *ig = parse("# comment\n\n   \n\t\nfoo\n#bar\n  # not a comment\n");

	assert_int_equal(df_ignore_count(ig), 2);
	assert_string_equal(df_ignore_pattern(ig, 0), "foo");
	assert_int_equal(df_ignore_line(ig, 0), 5);
	KEPT(ig, "#bar");
	KEPT(ig, "# comment");
	/* '#' starts a comment only in column 1: after trimming, this line is
	 * the pattern "# not a comment" */
	assert_string_equal(df_ignore_pattern(ig, 1), "# not a comment");
	assert_int_equal(df_ignore_line(ig, 1), 7);
	EXCLUDED(ig, "# not a comment");
	df_ignore_free(ig);
}

static void whitespace_trimmed(void **state)
{
	/* spaces, tabs, CRLF, and Unicode spaces (Go's TrimSpace) */
	struct df_ignore *ig = parse("foo   \t\r\n  bar\r\n\xc2\xa0" "baz\xe3\x80\x80\n!  qux \n");

	assert_int_equal(df_ignore_count(ig), 4);
	assert_string_equal(df_ignore_pattern(ig, 0), "foo");
	assert_string_equal(df_ignore_pattern(ig, 1), "bar");
	assert_string_equal(df_ignore_pattern(ig, 2), "baz");
	assert_string_equal(df_ignore_pattern(ig, 3), "qux");
	assert_int_equal(df_ignore_is_exception(ig, 3), 1);
	EXCLUDED(ig, "foo");
	KEPT(ig, "foo   ");
	df_ignore_free(ig);
}

static void bom_on_first_line(void **state)
{
	struct df_ignore *ig = parse("\xef\xbb\xbf# comment\n\xef\xbb\xbfx\n");

	/* stripped on line 1 only (where it would hide the '#') */
	assert_int_equal(df_ignore_count(ig), 1);
	assert_string_equal(df_ignore_pattern(ig, 0), "\xef\xbb\xbfx");
	df_ignore_free(ig);
}

static void dot_pattern_is_inert(void **state)
{
	/* the docs: "for historical reasons, the pattern . is ignored" */
	struct df_ignore *ig = parse(".\n./\n");

	assert_int_equal(df_ignore_count(ig), 2);
	KEPT(ig, "a");
	KEPT(ig, ".");
	KEPT(ig, ".git/config");
	df_ignore_free(ig);
}

/* ---- exceptions and order ---- */

static void exception_keeps_readme(void **state)
{
	struct df_ignore *ig = parse("*.md\n!README.md\n");

	EXCLUDED(ig, "CHANGES.md");
	KEPT(ig, "README.md");
	KEPT(ig, "docs/guide.md"); /* "*" stays in the top directory */
	assert_int_equal(df_ignore_which(ig, "README.md"), 1);
	assert_int_equal(df_ignore_which(ig, "CHANGES.md"), 0);
	assert_int_equal(df_ignore_which(ig, "main.c"), -1);
	df_ignore_free(ig);
}

static void last_match_wins(void **state)
{
	struct df_ignore *ig = parse("!README.md\n*.md\n");

	EXCLUDED(ig, "README.md");
	assert_int_equal(df_ignore_which(ig, "README.md"), 1);
	df_ignore_free(ig);

	ig = parse("*.md\n!README.md\nREADME.md\n");
	EXCLUDED(ig, "README.md");
	df_ignore_free(ig);
}

static void exception_inside_excluded_directory(void **state)
{
	/* Unlike git, Docker re-includes a file under an excluded directory
	 * when an exception names it: the walk descends into "docs". */
	struct df_ignore *ig = parse("docs\n!docs/README.md\n!docs/keep\n");

	EXCLUDED(ig, "docs");
	EXCLUDED(ig, "docs/guide.md");
	KEPT(ig, "docs/README.md");
	KEPT(ig, "docs/keep");
	KEPT(ig, "docs/keep/deep/file"); /* the exception matched a directory */
	df_ignore_free(ig);

	ig = parse("**\n!util/docker/web\n");
	KEPT(ig, "util/docker/web/foo");
	EXCLUDED(ig, "util/docker/other");
	df_ignore_free(ig);

	ig = parse("**\n!util/docker/web\nutil/docker/web/foo\n");
	EXCLUDED(ig, "util/docker/web/foo");
	KEPT(ig, "util/docker/web/bar");
	df_ignore_free(ig);
}

static void skipped_exception_is_not_inherited(void **state)
{
	/* fsutil's walk: "!a" is not tried on the directory "a" (nothing
	 * excluded it yet), so a/b/c, excluded through a/b, stays excluded */
	struct df_ignore *ig = parse("a/b\n!a\n");

	EXCLUDED(ig, "a/b");
	EXCLUDED(ig, "a/b/c");
	KEPT(ig, "a/x");
	df_ignore_free(ig);
}

/* ---- errors ---- */

static void invalid_pattern_reports_line(void **state)
{
	char *err = parse_error("# c\nok\n[\n", 9);

	assert_non_null(strstr(err, "line 3:"));
	assert_non_null(strstr(err, "syntax error in pattern"));
	free(err);

	static const char *const bad[] = {"a[", "[]", "[]a]", "[-]", "[x-]", "[^",
					  "a[b-c-d]", "x\\", "[a\xff]"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err = parse_error(bad[i], strlen(bad[i]));
		assert_non_null(strstr(err, "line 1: syntax error"));
		free(err);
	}

	err = parse_error("a\n!\n", 4);
	assert_string_equal(err, "line 2: illegal exclusion pattern: \"!\"");
	free(err);
	/* "!/" cleans to "!" on the second pass */
	err = parse_error("! /", 3);
	assert_string_equal(err, "line 1: illegal exclusion pattern: \"!\"");
	free(err);
	/* an error Go's regexp reports, not filepath.Match: */
	err = parse_error("[z-a]", 5);
	assert_non_null(strstr(err, "line 1: invalid pattern"));
	free(err);
}

static void line_too_long(void **state)
{
	size_t n = 65536;
	char *text = malloc(n + 8), *err;
	struct df_ignore *ig;

	memset(text, 'a', n);
	memcpy(text + n, "\n", 1);
	err = parse_error(text, n + 1);
	assert_non_null(strstr(err, "line 1: line too long"));
	free(err);

	ig = df_ignore_parse(text + 1, n, &err); /* 65535 bytes + '\n': fits */
	assert_non_null(ig);
	df_ignore_free(ig);
	free(text);
}

/* ---- the merge helpers ---- */

static void has_pattern_equivalences(void **state)
{
	struct df_ignore *ig = parse("/node_modules\n!keep/\n*.log\n");

	assert_int_equal(df_ignore_has_pattern(ig, "node_modules"), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "node_modules/"), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "./node_modules"), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "  /node_modules//  "), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "a/../node_modules"), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "**/node_modules"), 0);
	assert_int_equal(df_ignore_has_pattern(ig, "!node_modules"), 0);
	assert_int_equal(df_ignore_has_pattern(ig, "!keep"), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "keep"), 0);
	assert_int_equal(df_ignore_has_pattern(ig, "*.log"), 1);
	assert_int_equal(df_ignore_has_pattern(ig, "# *.log"), 0);
	assert_int_equal(df_ignore_has_pattern(ig, ""), 0);
	assert_int_equal(df_ignore_has_pattern(ig, "!"), 0);
	df_ignore_free(ig);
}

static void add_appends_lines(void **state)
{
	struct df_ignore *ig = parse("a\n# c\n");
	char *err = NULL;

	assert_int_equal(df_ignore_add(ig, "b\n", 2, &err), 1);
	assert_int_equal(df_ignore_add(ig, "# c2", 4, &err), 0);
	assert_int_equal(df_ignore_add(ig, "   ", 3, &err), 0);
	assert_int_equal(df_ignore_add(ig, "!b/c\r\n", 6, &err), 1);
	assert_null(err);
	assert_int_equal(df_ignore_count(ig), 3);
	assert_int_equal(df_ignore_line(ig, 1), 3);
	assert_int_equal(df_ignore_line(ig, 2), 6);
	EXCLUDED(ig, "b/x");
	KEPT(ig, "b/c");

	assert_int_equal(df_ignore_add(ig, "[", 1, &err), -1);
	assert_string_equal(err, "line 7: syntax error in pattern \"[\"");
	free(err);
	err = NULL;
	assert_int_equal(df_ignore_add(ig, "x\ny", 3, &err), -1);
	assert_non_null(strstr(err, "newline"));
	free(err);
	assert_int_equal(df_ignore_count(ig), 3);
	df_ignore_free(ig);

	ig = df_ignore_new(0);
	assert_int_equal(df_ignore_count(ig), 0);
	KEPT(ig, "anything");
	df_ignore_free(ig);
}

static void paths_are_normalised(void **state)
{
	struct df_ignore *ig = parse("a/b\n");

	EXCLUDED(ig, "./a/b");
	EXCLUDED(ig, "a//b/");
	EXCLUDED(ig, "/a/b");
	EXCLUDED(ig, "a/x/../b/c");
	KEPT(ig, ".");
	KEPT(ig, "");
	KEPT(ig, "../a/b");
	df_ignore_free(ig);
}

static void windows_separators(void **state)
{
	struct df_ignore *ig = df_ignore_new(DF_IGNORE_WINDOWS);
	char *err = NULL;
	const char *text = "dir\\sub\n\\rooted\\x\n";

	assert_int_equal(df_ignore_load(ig, text, strlen(text), &err), 0);
	assert_string_equal(df_ignore_pattern(ig, 0), "dir/sub");
	assert_string_equal(df_ignore_pattern(ig, 1), "rooted/x");
	EXCLUDED(ig, "dir\\sub\\file.txt");
	EXCLUDED(ig, "dir/sub");
	EXCLUDED(ig, "rooted\\x");
	KEPT(ig, "dir\\other");
	assert_int_equal(df_ignore_has_pattern(ig, "dir/sub/"), 1);
	df_ignore_free(ig);

	/* without the flag '\' escapes the next character */
	ig = parse("dir\\.sub\n");
	EXCLUDED(ig, "dir.sub");
	KEPT(ig, "dir/.sub");
	df_ignore_free(ig);
}

/* ---- time ---- */

static void pathological_double_stars(void **state)
{
	/* several "**" in one pattern backtrack polynomially in a regexp
	 * engine; a deep path must still be answered quickly */
	struct df_ignore *ig = parse("**/a/**/b/**/c/**/d/**/e/**/f\n**/**/**/**/zz\n");
	struct df_buf path = DF_BUF_INIT;
	clock_t t0 = clock();

	for (int i = 0; i < 60; i++)
		df_buf_adds(&path, "a/b/c/d/e/f0/");
	df_buf_adds(&path, "e/g");
	KEPT(ig, path.ptr);
	path.len -= 1;
	df_buf_adds(&path, "f");
	EXCLUDED(ig, path.ptr);
	/* backtracking alone would take hours here; generous for valgrind */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 10.0);
	df_buf_release(&path);
	df_ignore_free(ig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(star_does_not_cross_slash),
		cmocka_unit_test(star_alone_excludes_everything_through_parents),
		cmocka_unit_test(star_slash_temp_one_level_down),
		cmocka_unit_test(question_mark_is_one_character),
		cmocka_unit_test(double_star_any_depth),
		cmocka_unit_test(double_star_alone),
		cmocka_unit_test(double_star_in_the_middle),
		cmocka_unit_test(double_star_trailing),
		cmocka_unit_test(double_star_glued_to_text),
		cmocka_unit_test(character_classes),
		cmocka_unit_test(backslash_escapes),
		cmocka_unit_test(regexp_escapes_docker_accepts),
		cmocka_unit_test(regexp_engine_agrees_with_go),
		cmocka_unit_test(leading_slash_and_dot_slash_cleaned),
		cmocka_unit_test(dot_dot_cleaned),
		cmocka_unit_test(directory_excludes_its_contents),
		cmocka_unit_test(trailing_slash_pattern),
		cmocka_unit_test(comments_and_blank_lines),
		cmocka_unit_test(whitespace_trimmed),
		cmocka_unit_test(bom_on_first_line),
		cmocka_unit_test(dot_pattern_is_inert),
		cmocka_unit_test(exception_keeps_readme),
		cmocka_unit_test(last_match_wins),
		cmocka_unit_test(exception_inside_excluded_directory),
		cmocka_unit_test(skipped_exception_is_not_inherited),
		cmocka_unit_test(invalid_pattern_reports_line),
		cmocka_unit_test(line_too_long),
		cmocka_unit_test(has_pattern_equivalences),
		cmocka_unit_test(add_appends_lines),
		cmocka_unit_test(paths_are_normalised),
		cmocka_unit_test(windows_separators),
		cmocka_unit_test(pathological_double_stars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
