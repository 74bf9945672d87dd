/* test_diff.c - df_diff: exact git-format output, minimal and applicable
 * diffs, big inputs, and (when git is installed) `git apply` and
 * `git diff` as oracles. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfix.h"

/* ---------------------------------------------------------------- helpers */

/* df_diff into a NUL-terminated string (caller frees). */
static char *diff(const char *old, size_t oldlen, const char *new_, size_t newlen,
		  const char *path, int color, size_t *len)
{
	struct df_buf b = DF_BUF_INIT;

	df_diff(&b, path, old, oldlen, new_, newlen, color);
	df_buf_add(&b, "", 0); /* NUL-terminated even when empty */
	return df_buf_detach(&b, len);
}

static char *diffs(const char *old, const char *new_, int color)
{
	return diff(old, old ? strlen(old) : 0, new_, strlen(new_), "Dockerfile", color,
		    NULL);
}

static void expect(const char *old, const char *new_, const char *want)
{
	char *got = diffs(old, new_, 0);

	assert_string_equal(got, want);
	free(got);
}

static void expect_color(const char *old, const char *new_, const char *want)
{
	char *got = diffs(old, new_, 1);

	assert_string_equal(got, want);
	free(got);
}

/* Lines of "line 1\n" .. "line n\n" with a few replaced. */
static char *numbered(int n, int skip, int change, const char *with, int insert_after,
		      const char *ins, size_t *len)
{
	struct df_buf b = DF_BUF_INIT;
	int i;

	for (i = 1; i <= n; i++) {
		if (i == change)
			df_buf_adds(&b, with);
		else if (i != skip)
			df_buf_addf(&b, "line %d\n", i);
		if (i == insert_after)
			df_buf_adds(&b, ins);
	}
	return df_buf_detach(&b, len);
}

struct pline {
	const char *p;
	size_t len;
	int nl;
};

static size_t split(const char *t, size_t n, struct pline **out)
{
	size_t i, start = 0, count = 0;

	*out = df_xcalloc(n + 1, sizeof(**out));
	for (i = 0; i < n; i++) {
		if (t[i] == '\n') {
			(*out)[count++] = (struct pline){ t + start, i - start, 1 };
			start = i + 1;
		}
	}
	if (start < n)
		(*out)[count++] = (struct pline){ t + start, n - start, 0 };
	return count;
}

static int pline_eq(const struct pline *a, const struct pline *b)
{
	return a->len == b->len && a->nl == b->nl && memcmp(a->p, b->p, a->len) == 0;
}

static int parse_range(const char **s, char sign, long *start, long *count)
{
	char *end;

	if (**s != sign)
		return -1;
	*start = strtol(*s + 1, &end, 10);
	*count = 1;
	if (*end == ',')
		*count = strtol(end + 1, &end, 10);
	*s = end;
	return 0;
}

/*
 * A strict patch applier for df_diff's uncoloured output: every context and
 * removed line must match, hunk counts must add up, hunks must be in order.
 * Returns the patched text (caller frees) or NULL. *changes gets the number
 * of '-' and '+' lines.
 */
static char *apply(const char *old, size_t oldlen, const char *patch, size_t plen,
		   size_t *outlen, long *changes)
{
	struct pline *o, *p;
	size_t no = split(old, oldlen, &o), np = split(patch, plen, &p), i = 0;
	struct df_buf out = DF_BUF_INIT;
	long cur = 0, a, b, c, d, seen_a, seen_c;
	const char *s;
	int ok = 1;

	*changes = 0;
	while (i < np && !(p[i].len >= 2 && !memcmp(p[i].p, "@@", 2)))
		i++;
	while (ok && i < np) {
		s = p[i].p + 3;
		if (p[i].len < 10 || memcmp(p[i].p, "@@ ", 3) ||
		    parse_range(&s, '-', &a, &b) || *s++ != ' ' ||
		    parse_range(&s, '+', &c, &d) || strncmp(s, " @@", 3)) {
			ok = 0;
			break;
		}
		a = b ? a - 1 : a;
		if (a < cur || (size_t)a > no) {
			ok = 0;
			break;
		}
		for (; cur < a; cur++) {
			df_buf_add(&out, o[cur].p, o[cur].len);
			if (o[cur].nl)
				df_buf_addc(&out, '\n');
		}
		seen_a = seen_c = 0;
		for (i++; ok && i < np && p[i].len && p[i].p[0] != '@'; i++) {
			struct pline l = { p[i].p + 1, p[i].len - 1, 1 };
			char sign = p[i].p[0];

			if (sign == '\\')
				continue;
			if (i + 1 < np && p[i + 1].len && p[i + 1].p[0] == '\\')
				l.nl = 0;
			if (sign == ' ' || sign == '-') {
				if ((size_t)cur >= no || !pline_eq(&o[cur], &l)) {
					ok = 0;
					break;
				}
				cur++;
				seen_a++;
			}
			if (sign == ' ' || sign == '+') {
				df_buf_add(&out, l.p, l.len);
				if (l.nl)
					df_buf_addc(&out, '\n');
				seen_c++;
			}
			if (sign == '-' || sign == '+')
				++*changes;
			else if (sign != ' ')
				ok = 0;
		}
		if (seen_a != b || seen_c != d)
			ok = 0;
	}
	for (; ok && (size_t)cur < no; cur++) {
		df_buf_add(&out, o[cur].p, o[cur].len);
		if (o[cur].nl)
			df_buf_addc(&out, '\n');
	}
	free(o);
	free(p);
	if (!ok) {
		df_buf_release(&out);
		return NULL;
	}
	return df_buf_detach(&out, outlen);
}

/* Length of a longest common subsequence of lines (quadratic: small
 * inputs only). */
static long lcs(const struct pline *a, size_t na, const struct pline *b, size_t nb)
{
	long *row = df_xcalloc((nb + 1) * (na + 1), sizeof(*row)), r;
	size_t i, j;

	for (i = 1; i <= na; i++)
		for (j = 1; j <= nb; j++) {
			long *x = &row[i * (nb + 1) + j];

			if (pline_eq(&a[i - 1], &b[j - 1]))
				*x = row[(i - 1) * (nb + 1) + j - 1] + 1;
			else
				*x = row[(i - 1) * (nb + 1) + j] > row[i * (nb + 1) + j - 1] ?
					     row[(i - 1) * (nb + 1) + j] :
					     row[i * (nb + 1) + j - 1];
		}
	r = row[na * (nb + 1) + nb];
	free(row);
	return r;
}

static uint32_t rng = 2463534242u;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* ---------------------------------------------------------------- exact output */

static void test_identical(void **state)
{
	size_t len = 99;
	char *out = diff("FROM a\n", 7, "FROM a\n", 7, "Dockerfile", 1, &len);

	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
	out = diff("", 0, "", 0, "Dockerfile", 0, &len);
	assert_int_equal(len, 0);
	free(out);
	out = diff("x\r\ny", 4, "x\r\ny", 4, "Dockerfile", 0, &len);
	assert_int_equal(len, 0);
	free(out);
}

static void test_one_change_in_middle(void **state)
{
	char *old = numbered(20, 0, 0, NULL, 0, NULL, NULL);
	char *new_ = numbered(20, 0, 10, "line ten\n", 0, NULL, NULL);

	expect(old, new_,
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -7,7 +7,7 @@ line 6\n"
	       " line 7\n"
	       " line 8\n"
	       " line 9\n"
	       "-line 10\n"
	       "+line ten\n"
	       " line 11\n"
	       " line 12\n"
	       " line 13\n");
	expect_color(old, new_,
		     "\033[1mdiff --git a/Dockerfile b/Dockerfile\033[m\n"
		     "\033[1m--- a/Dockerfile\033[m\n"
		     "\033[1m+++ b/Dockerfile\033[m\n"
		     "\033[36m@@ -7,7 +7,7 @@\033[m \033[mline 6\033[m\n"
		     " line 7\033[m\n"
		     " line 8\033[m\n"
		     " line 9\033[m\n"
		     "\033[31m-line 10\033[m\n"
		     "\033[32m+\033[m\033[32mline ten\033[m\n"
		     " line 11\033[m\n"
		     " line 12\033[m\n"
		     " line 13\033[m\n");
	free(old);
	free(new_);
}

static void test_insert_at_start(void **state)
{
	expect("RUN b\nRUN c\n", "FROM a\nRUN b\nRUN c\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1,2 +1,3 @@\n"
	       "+FROM a\n"
	       " RUN b\n"
	       " RUN c\n");
}

static void test_delete_at_end(void **state)
{
	expect("FROM a\nRUN b\nRUN c\nRUN d\nRUN e\n", "FROM a\nRUN b\nRUN c\nRUN d\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -2,4 +2,3 @@ FROM a\n"
	       " RUN b\n"
	       " RUN c\n"
	       " RUN d\n"
	       "-RUN e\n");
	/* Everything removed: the new range is empty and shows start 0. */
	expect("FROM a\n", "",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1 +0,0 @@\n"
	       "-FROM a\n");
}

static void test_no_final_newline(void **state)
{
	const char *head = "diff --git a/Dockerfile b/Dockerfile\n"
			   "--- a/Dockerfile\n"
			   "+++ b/Dockerfile\n";
	char want[512];

	snprintf(want, sizeof(want), "%s@@ -1,2 +1,2 @@\n"
		 " FROM a\n"
		 "-RUN b\n"
		 "\\ No newline at end of file\n"
		 "+RUN c\n"
		 "\\ No newline at end of file\n", head);
	expect("FROM a\nRUN b", "FROM a\nRUN c", want);
	snprintf(want, sizeof(want), "%s@@ -1,2 +1,2 @@\n"
		 " FROM a\n"
		 "-RUN b\n"
		 "\\ No newline at end of file\n"
		 "+RUN b\n", head);
	expect("FROM a\nRUN b", "FROM a\nRUN b\n", want);
	snprintf(want, sizeof(want), "%s@@ -1,2 +1,2 @@\n"
		 " FROM a\n"
		 "-RUN b\n"
		 "+RUN b\n"
		 "\\ No newline at end of file\n", head);
	expect("FROM a\nRUN b\n", "FROM a\nRUN b", want);
	/* An unchanged last line without newline, as context. */
	snprintf(want, sizeof(want), "%s@@ -1,2 +1,2 @@\n"
		 "-FROM a\n"
		 "+FROM b\n"
		 " RUN b\n"
		 "\\ No newline at end of file\n", head);
	expect("FROM a\nRUN b", "FROM b\nRUN b", want);
	expect_color("FROM a\nRUN b", "FROM a\nRUN c",
		     "\033[1mdiff --git a/Dockerfile b/Dockerfile\033[m\n"
		     "\033[1m--- a/Dockerfile\033[m\n"
		     "\033[1m+++ b/Dockerfile\033[m\n"
		     "\033[36m@@ -1,2 +1,2 @@\033[m\n"
		     " FROM a\033[m\n"
		     "\033[31m-RUN b\033[m\n"
		     "\\ No newline at end of file\033[m\n"
		     "\033[32m+\033[m\033[32mRUN c\033[m\n"
		     "\\ No newline at end of file\033[m\n");
}

static void test_new_file(void **state)
{
	expect(NULL, "FROM a\nRUN b\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "new file mode 100644\n"
	       "--- /dev/null\n"
	       "+++ b/Dockerfile\n"
	       "@@ -0,0 +1,2 @@\n"
	       "+FROM a\n"
	       "+RUN b\n");
	expect(NULL, "x\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "new file mode 100644\n"
	       "--- /dev/null\n"
	       "+++ b/Dockerfile\n"
	       "@@ -0,0 +1 @@\n"
	       "+x\n");
	/* git shows an empty new file by its header alone. */
	expect(NULL, "",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "new file mode 100644\n");
	/* An existing empty file is not a new one. */
	expect("", "x\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -0,0 +1 @@\n"
	       "+x\n");
	expect_color(NULL, "a\n",
		     "\033[1mdiff --git a/Dockerfile b/Dockerfile\033[m\n"
		     "\033[1mnew file mode 100644\033[m\n"
		     "\033[1m--- /dev/null\033[m\n"
		     "\033[1m+++ b/Dockerfile\033[m\n"
		     "\033[36m@@ -0,0 +1 @@\033[m\n"
		     "\033[32m+\033[m\033[32ma\033[m\n");
}

static void test_crlf(void **state)
{
	const char *old = "FROM a\r\nRUN b\r\nCMD c\r\n", *new_ = "FROM a\r\nRUN B\r\nCMD c\r\n";

	expect(old, new_,
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1,3 +1,3 @@\n"
	       " FROM a\r\n"
	       "-RUN b\r\n"
	       "+RUN B\r\n"
	       " CMD c\r\n");
	/* git resets the colour before the '\r' and flags the added one as
	 * trailing whitespace. */
	expect_color(old, new_,
		     "\033[1mdiff --git a/Dockerfile b/Dockerfile\033[m\n"
		     "\033[1m--- a/Dockerfile\033[m\n"
		     "\033[1m+++ b/Dockerfile\033[m\n"
		     "\033[36m@@ -1,3 +1,3 @@\033[m\n"
		     " FROM a\033[m\r\n"
		     "\033[31m-RUN b\033[m\r\n"
		     "\033[32m+\033[m\033[32mRUN B\033[m\033[41m\r\033[m\n"
		     " CMD c\033[m\r\n");
	/* A CRLF line is not the same line as an LF one. */
	expect("FROM a\r\n", "FROM a\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1 +1 @@\n"
	       "-FROM a\r\n"
	       "+FROM a\n");
}

static void test_two_hunks(void **state)
{
	char *old = numbered(30, 0, 0, NULL, 0, NULL, NULL);
	char *new_ = numbered(30, 5, 25, "line 25 changed\n", 0, NULL, NULL);

	expect(old, new_,
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -2,7 +2,6 @@ line 1\n"
	       " line 2\n"
	       " line 3\n"
	       " line 4\n"
	       "-line 5\n"
	       " line 6\n"
	       " line 7\n"
	       " line 8\n"
	       "@@ -22,7 +21,7 @@ line 21\n"
	       " line 22\n"
	       " line 23\n"
	       " line 24\n"
	       "-line 25\n"
	       "+line 25 changed\n"
	       " line 26\n"
	       " line 27\n"
	       " line 28\n");
	free(new_);
	/* Seven unchanged lines between two changes: still two hunks. */
	new_ = numbered(30, 0, 13, "line 13 changed\n", 5, "inserted\n", NULL);
	expect(old, new_,
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -3,6 +3,7 @@ line 2\n"
	       " line 3\n"
	       " line 4\n"
	       " line 5\n"
	       "+inserted\n"
	       " line 6\n"
	       " line 7\n"
	       " line 8\n"
	       "@@ -10,7 +11,7 @@ line 9\n"
	       " line 10\n"
	       " line 11\n"
	       " line 12\n"
	       "-line 13\n"
	       "+line 13 changed\n"
	       " line 14\n"
	       " line 15\n"
	       " line 16\n");
	free(old);
	free(new_);
}

static void test_nearby_changes_merge(void **state)
{
	char *old = numbered(30, 0, 0, NULL, 0, NULL, NULL);
	/* Six unchanged lines (6..11) between the changes: the contexts
	 * touch and git makes one hunk. */
	char *new_ = numbered(30, 5, 12, "line 12 changed\n", 0, NULL, NULL);

	expect(old, new_,
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -2,14 +2,13 @@ line 1\n"
	       " line 2\n"
	       " line 3\n"
	       " line 4\n"
	       "-line 5\n"
	       " line 6\n"
	       " line 7\n"
	       " line 8\n"
	       " line 9\n"
	       " line 10\n"
	       " line 11\n"
	       "-line 12\n"
	       "+line 12 changed\n"
	       " line 13\n"
	       " line 14\n"
	       " line 15\n");
	free(old);
	free(new_);
}

static void test_function_context(void **state)
{
	/* The hunk header names the nearest line above the hunk that starts
	 * with a letter, '_' or '$'; indented lines do not count. */
	const char *old = "FROM alpine AS build\n  a\n  b\n  c\n  d\n  e\n  f\n",
		   *new_ = "FROM alpine AS build\n  a\n  b\n  c\n  d\n  e\n  F\n";

	expect(old, new_,
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -4,4 +4,4 @@ FROM alpine AS build\n"
	       "   c\n"
	       "   d\n"
	       "   e\n"
	       "-  f\n"
	       "+  F\n");
}

static void test_function_line_cut(void **state)
{
	/* git keeps at most 80 bytes of the function line, trailing blanks
	 * dropped, and cuts the header at the first invalid UTF-8 byte. */
	char old[512], new_[512];
	const char *body = " 1\n 2\n 3\n 4\n";
	char *out;

	snprintf(old, sizeof(old), "RUN %s  \n%s", "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789", body);
	snprintf(new_, sizeof(new_), "RUN %s  \n 1\n 2\n 3\n 5\n",
		 "0123456789012345678901234567890123456789"
		 "0123456789012345678901234567890123456789");
	out = diffs(old, new_, 0);
	assert_non_null(strstr(out, "\n@@ -2,4 +2,4 @@ RUN 0123456789012345678901234567890123456789"
				    "012345678901234567890123456789012345\n"));
	free(out);
	snprintf(old, sizeof(old), "FROM caf\xe9 x\n%s", body);
	out = diffs(old, "FROM caf\xe9 x\n 1\n 2\n 3\n 5\n", 0);
	assert_non_null(strstr(out, "\n@@ -2,4 +2,4 @@ FROM caf\n"));
	free(out);
	out = diffs(old, "FROM caf\xe9 x\n 1\n 2\n 3\n 5\n", 1);
	assert_non_null(strstr(out, "\n\033[36m@@ -2,4 +2,4 @@\033[m \033[mFROM caf\033[m\n"));
	free(out);
	/* A lead byte without its continuation, an overlong '/', and valid
	 * UTF-8, which stays. */
	snprintf(old, sizeof(old), "FROM a\xc3x\n%s", body);
	out = diffs(old, "FROM a\xc3x\n 1\n 2\n 3\n 5\n", 0);
	assert_non_null(strstr(out, "\n@@ -2,4 +2,4 @@ FROM a\n"));
	free(out);
	snprintf(old, sizeof(old), "FROM \xc0\xaf\n%s", body);
	out = diffs(old, "FROM \xc0\xaf\n 1\n 2\n 3\n 5\n", 0);
	assert_non_null(strstr(out, "\n@@ -2,4 +2,4 @@ FROM \n"));
	free(out);
	snprintf(old, sizeof(old), "FROM \xc3\xa9\xf0\x9f\x90\xb3\n%s", body);
	out = diffs(old, "FROM \xc3\xa9\xf0\x9f\x90\xb3\n 1\n 2\n 3\n 5\n", 0);
	assert_non_null(strstr(out, "\n@@ -2,4 +2,4 @@ FROM \xc3\xa9\xf0\x9f\x90\xb3\n"));
	free(out);
}

static void test_slide(void **state)
{
	/* Of the places a block of changes can sit, git shows the lowest... */
	expect("C\nC\n", "C\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1,2 +1 @@\n"
	       " C\n"
	       "-C\n");
	expect("A\nB\nB\nA\nB\n", "A\nB\nA\nB\nB\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1,5 +1,5 @@\n"
	       " A\n"
	       " B\n"
	       "-B\n"
	       " A\n"
	       " B\n"
	       "+B\n");
	/* ...unless it can face a change on the other side. */
	expect("C\n\n", "\n\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -1,2 +1,2 @@\n"
	       "-C\n"
	       "+\n"
	       " \n");
	expect("A\nC\nA\nC\nC\nC\n", "A\nC\nA\nC\nC\nB\n",
	       "diff --git a/Dockerfile b/Dockerfile\n"
	       "--- a/Dockerfile\n"
	       "+++ b/Dockerfile\n"
	       "@@ -3,4 +3,4 @@ C\n"
	       " A\n"
	       " C\n"
	       " C\n"
	       "-C\n"
	       "+B\n");
}

static void test_paths(void **state)
{
	char *out = diff("a\n", 2, "b\n", 2, "dir name/Dockerfile", 0, NULL);

	/* Spaces are not quoted, but ---/+++ get a trailing tab. */
	assert_string_equal(out, "diff --git a/dir name/Dockerfile b/dir name/Dockerfile\n"
				 "--- a/dir name/Dockerfile\t\n"
				 "+++ b/dir name/Dockerfile\t\n"
				 "@@ -1 +1 @@\n"
				 "-a\n"
				 "+b\n");
	free(out);
	out = diff("a\n", 2, "b\n", 2, "t\tx\xc3\xa9\"\\", 0, NULL);
	assert_string_equal(out, "diff --git \"a/t\\tx\\303\\251\\\"\\\\\" \"b/t\\tx\\303\\251\\\"\\\\\"\n"
				 "--- \"a/t\\tx\\303\\251\\\"\\\\\"\n"
				 "+++ \"b/t\\tx\\303\\251\\\"\\\\\"\n"
				 "@@ -1 +1 @@\n"
				 "-a\n"
				 "+b\n");
	free(out);
	/* Like git, one leading '/' is dropped. */
	out = diff(NULL, 0, "b\n", 2, "/abs/Dockerfile", 0, NULL);
	assert_string_equal(out, "diff --git a/abs/Dockerfile b/abs/Dockerfile\n"
				 "new file mode 100644\n"
				 "--- /dev/null\n"
				 "+++ b/abs/Dockerfile\n"
				 "@@ -0,0 +1 @@\n"
				 "+b\n");
	free(out);
}

static void test_whitespace_colors(void **state)
{
	/* git's default core.whitespace: trailing blanks, a space before a
	 * tab in the indent, and blank lines added at the end of the file. */
	expect_color("FROM a\n", "FROM a\nRUN x  \n \tRUN y\n\n",
		     "\033[1mdiff --git a/Dockerfile b/Dockerfile\033[m\n"
		     "\033[1m--- a/Dockerfile\033[m\n"
		     "\033[1m+++ b/Dockerfile\033[m\n"
		     "\033[36m@@ -1 +1,4 @@\033[m\n"
		     " FROM a\033[m\n"
		     "\033[32m+\033[m\033[32mRUN x\033[m\033[41m  \033[m\n"
		     "\033[32m+\033[m\033[41m \033[m\t\033[32mRUN y\033[m\n"
		     "\033[41m+\033[m\n");
}

/* ---------------------------------------------------------------- properties */

static void check_roundtrip(const char *old, size_t oldlen, const char *new_,
			    size_t newlen, int minimal)
{
	size_t len, outlen = 0;
	long changes;
	char *patch = diff(old, oldlen, new_, newlen, "Dockerfile", 0, &len);
	char *got;

	if (oldlen == newlen && !memcmp(old, new_, oldlen)) {
		assert_int_equal(len, 0);
		free(patch);
		return;
	}
	assert_true(len > 0);
	got = apply(old, oldlen, patch, len, &outlen, &changes);
	assert_non_null(got);
	assert_int_equal(outlen, newlen);
	assert_memory_equal(got, new_, newlen);
	if (minimal) {
		struct pline *a, *b;
		size_t na = split(old, oldlen, &a), nb = split(new_, newlen, &b);

		assert_int_equal(changes, (long)(na + nb) - 2 * lcs(a, na, b, nb));
		free(a);
		free(b);
	}
	free(got);
	free(patch);
}

static void random_text(struct df_buf *b, int lines, int alphabet)
{
	static const char *const pool[] = { "a", "b", "", "c", "  d", "e\r", "f", "g" };
	int i;

	df_buf_reset(b);
	for (i = 0; i < lines; i++) {
		df_buf_adds(b, pool[next_rand() % (uint32_t)alphabet]);
		df_buf_addc(b, '\n');
	}
	if (b->len && next_rand() % 5 == 0)
		b->len--;
}

static void test_random_minimal(void **state)
{
	struct df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
	int i;

	for (i = 0; i < 3000; i++) {
		int alphabet = 2 + (int)(next_rand() % 7);

		random_text(&a, (int)(next_rand() % 40), alphabet);
		if (next_rand() % 3 == 0) {
			/* A few edits of a, to get long common runs. */
			int k, n = 1 + (int)(next_rand() % 3);

			df_buf_reset(&b);
			df_buf_add(&b, a.ptr ? a.ptr : "", a.len);
			for (k = 0; k < n && b.len; k++)
				b.ptr[next_rand() % b.len] = (char)('a' + next_rand() % 3);
		} else {
			random_text(&b, (int)(next_rand() % 40), alphabet);
		}
		check_roundtrip(a.ptr ? a.ptr : "", a.len, b.ptr ? b.ptr : "", b.len, 1);
	}
	df_buf_release(&a);
	df_buf_release(&b);
}

static void test_big_file(void **state)
{
	size_t oldlen, newlen, len, outlen;
	char *old = numbered(100000, 0, 0, NULL, 0, NULL, &oldlen);
	char *new_ = numbered(100000, 50000, 10, "line ten\n", 90000, "inserted\n", &newlen);
	char *patch = diff(old, oldlen, new_, newlen, "Dockerfile", 0, &len);
	char *got, *h1, *h2, *h3;
	long changes;

	h1 = strstr(patch, "\n@@ ");
	assert_non_null(h1);
	assert_memory_equal(h1, "\n@@ -7,7 +7,7 @@ line 6\n", 24);
	h2 = strstr(h1 + 1, "\n@@ ");
	assert_non_null(h2);
	assert_memory_equal(h2, "\n@@ -49997,7 +49997,6 @@ line 49996\n", 36);
	h3 = strstr(h2 + 1, "\n@@ ");
	assert_non_null(h3);
	assert_memory_equal(h3, "\n@@ -89998,6 +89997,7 @@ line 89997\n", 36);
	assert_null(strstr(h3 + 1, "\n@@ "));
	assert_non_null(strstr(h3, "\n line 90000\n+inserted\n line 90001\n"));
	got = apply(old, oldlen, patch, len, &outlen, &changes);
	assert_non_null(got);
	assert_int_equal(changes, 4);
	assert_int_equal(outlen, newlen);
	assert_memory_equal(got, new_, newlen);
	free(got);
	free(patch);
	free(new_);
	free(old);
}

static void test_very_different(void **state)
{
	/* Past the search limit the diff is coarser but must still apply. */
	struct df_buf a = DF_BUF_INIT, b = DF_BUF_INIT;
	int i;

	for (i = 0; i < 60000; i++) {
		df_buf_adds(&a, next_rand() % 2 ? "x\n" : "y\n");
		df_buf_adds(&b, next_rand() % 3 ? "x\n" : "z\n");
	}
	check_roundtrip(a.ptr, a.len, b.ptr, b.len, 0);
	df_buf_reset(&b);
	for (i = 60000; i > 0; i--)
		df_buf_addf(&b, "line %d\n", (int)(next_rand() % 1000));
	check_roundtrip(a.ptr, a.len, b.ptr, b.len, 0);
	df_buf_release(&a);
	df_buf_release(&b);
}

/* ---------------------------------------------------------------- git as oracle */

static int have_git(void)
{
	static int known = -1;

	if (known < 0)
		known = system("git --version >/dev/null 2>&1") == 0;
	return known;
}

static void put(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static char *new_repo(void)
{
	char tmpl[] = "/tmp/dfix-test-diff-XXXXXX", cmd[256];
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	/* Keep the user's and the system's git config out of the way. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	snprintf(cmd, sizeof(cmd), "cd '%s' && git init -q repo", dir);
	assert_int_equal(system(cmd), 0);
	return df_xstrndup(dir, strlen(dir));
}

static void drop_repo(char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

struct gcase {
	const char *path;
	const char *old; /* NULL: a new file */
	const char *new_;
};

static const struct gcase git_cases[] = {
	{ "Dockerfile", "FROM a\nRUN b\nRUN c\n", "FROM a\nRUN B\nRUN c\n" },
	{ "Dockerfile", "RUN b\nRUN c\n", "FROM a\nRUN b\nRUN c\n" },
	{ "Dockerfile", "FROM a\nRUN b\nRUN c\n", "FROM a\nRUN b\n" },
	{ "Dockerfile", "FROM a\nRUN b", "FROM a\nRUN c" },
	{ "Dockerfile", "FROM a\nRUN b", "FROM a\nRUN b\n" },
	{ "Dockerfile", "FROM a\nRUN b\n", "FROM a\nRUN b" },
	{ "Dockerfile", NULL, "FROM a\nRUN b\n" },
	{ "Dockerfile", NULL, "" },
	{ "Dockerfile", "", "FROM a\n" },
	{ "Dockerfile", "FROM a\n", "" },
	{ "Dockerfile", "FROM a\r\nRUN b\r\nCMD c\r\n", "FROM a\r\nRUN B\r\nCMD c\r\n" },
	{ "Dockerfile", "FROM a\r\nRUN b\r\n", "FROM a\nRUN b\n" },
	{ "dir name/Dockerfile", "FROM a\n", "FROM b\n" },
	{ "we\"ird\tname", "FROM a\n", "FROM b\n" },
	{ "Dockerfile", "FROM a\n\n", "FROM a\nRUN x  \n \tRUN y\n\n\n \n" },
	{ "Dockerfile", "FROM caf\xe9 x\n 1\n 2\n 3\n 4\n", "FROM caf\xe9 x\n 1\n 2\n 3\n 5\n" },
	{ "Dockerfile", "A\nC\nA\nC\nC\nC\n", "A\nC\nA\nC\nC\nB\n" },
	{ "Dockerfile", "\nA\nB\nA\n\n", "A\nB\n\nX\n\n" },
	{ "Dockerfile", "FROM a\n\nRUN b\n", "FROM a\n\nRUN x\n\nRUN b\n" },
};

static char *case_old(const struct gcase *c, size_t *len)
{
	*len = c->old ? strlen(c->old) : 0;
	return c->old ? df_xstrndup(c->old, *len) : NULL;
}

/* The cases above plus big ones built here: index 0..n-1. */
static size_t git_case_count(void)
{
	return sizeof(git_cases) / sizeof(git_cases[0]) + 2;
}

static void git_case(size_t i, const char **path, char **old, size_t *oldlen, char **new_,
		     size_t *newlen)
{
	size_t n = sizeof(git_cases) / sizeof(git_cases[0]);

	if (i < n) {
		*path = git_cases[i].path;
		*old = case_old(&git_cases[i], oldlen);
		*newlen = strlen(git_cases[i].new_);
		*new_ = df_xstrndup(git_cases[i].new_, *newlen);
	} else if (i == n) {
		*path = "Dockerfile";
		*old = numbered(100000, 0, 0, NULL, 0, NULL, oldlen);
		*new_ = numbered(100000, 50000, 10, "line ten\n", 90000, "inserted\n", newlen);
	} else {
		*path = "sub/Dockerfile";
		*old = numbered(300, 0, 0, NULL, 0, NULL, oldlen);
		*new_ = numbered(300, 100, 150, "RUN x\r\n", 200, "", newlen);
	}
}

static void test_git_apply(void **state)
{
	size_t i, oldlen, newlen, patchlen, len;
	char path[4096], cmd[8192];
	const char *name;
	char *dir, *old, *new_, *patch, *got;
	const char *err;
	int ok;

	if (!have_git()) {
		print_message("git not installed: skipping the git apply test\n");
		skip();
	}
	for (i = 0; i < git_case_count(); i++) {
		git_case(i, &name, &old, &oldlen, &new_, &newlen);
		dir = new_repo();
		patch = diff(old, oldlen, new_, newlen, name, 0, &patchlen);
		snprintf(path, sizeof(path), "%s/patch", dir);
		put(path, patch, patchlen);
		if (old) {
			snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s/repo/%s')\"", dir, name);
			assert_int_equal(system(cmd), 0);
			snprintf(path, sizeof(path), "%s/repo/%s", dir, name);
			put(path, old, oldlen);
		}
		snprintf(cmd, sizeof(cmd),
			 "cd '%s/repo' && git apply --whitespace=nowarn --check ../patch && git apply --whitespace=nowarn ../patch", dir);
		ok = system(cmd) == 0;
		if (!ok)
			print_message("git apply failed on case %zu:\n%s", i, patch);
		snprintf(path, sizeof(path), "%s/repo/%s", dir, name);
		got = ok ? df_read_file(path, &len, &err) : NULL;
		drop_repo(dir);
		assert_true(ok);
		assert_non_null(got);
		assert_int_equal(len, newlen);
		assert_memory_equal(got, new_, newlen);
		free(got);
		free(patch);
		free(old);
		free(new_);
	}
}

/* git diff between the index (old) and the work tree (new), without the
 * "index" line dfix does not write. */
static char *git_diff(const char *dir, const char *name, const char *old, size_t oldlen,
		      const char *new_, size_t newlen, int color, size_t *outlen)
{
	char path[4096], cmd[8192];
	struct df_buf out = DF_BUF_INIT;
	const char *err, *p, *end, *nl;
	char *raw;
	size_t len;

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s/repo/%s')\"", dir, name);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/repo/%s", dir, name);
	if (old) {
		put(path, old, oldlen);
		snprintf(cmd, sizeof(cmd), "cd '%s/repo' && git add -- '%s'", dir, name);
		assert_int_equal(system(cmd), 0);
	}
	put(path, new_, newlen);
	if (!old) {
		snprintf(cmd, sizeof(cmd), "cd '%s/repo' && git add -N -- '%s'", dir, name);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "cd '%s/repo' && git diff %s -- '%s' > ../git.out", dir,
		 color ? "--color=always" : "--no-color", name);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/git.out", dir);
	raw = df_read_file(path, &len, &err);
	assert_non_null(raw);
	for (p = raw, end = raw + len; p < end; p = nl) {
		nl = memchr(p, '\n', (size_t)(end - p));
		nl = nl ? nl + 1 : end;
		if (!strncmp(p, "index ", 6) || !strncmp(p, "\033[1mindex ", 10))
			continue;
		df_buf_add(&out, p, (size_t)(nl - p));
	}
	free(raw);
	return df_buf_detach(&out, outlen);
}

static void test_same_as_git_diff(void **state)
{
	size_t i, oldlen, newlen, mylen, gitlen;
	const char *name;
	char *dir, *old, *new_, *mine, *theirs;
	int color;

	if (!have_git()) {
		print_message("git not installed: skipping the git diff comparison\n");
		skip();
	}
	for (i = 0; i < git_case_count(); i++) {
		for (color = 0; color < 2; color++) {
			git_case(i, &name, &old, &oldlen, &new_, &newlen);
			dir = new_repo();
			mine = diff(old, oldlen, new_, newlen, name, color, &mylen);
			theirs = git_diff(dir, name, old, oldlen, new_, newlen, color, &gitlen);
			drop_repo(dir);
			if (mylen != gitlen || memcmp(mine, theirs, mylen))
				fail_msg("case %zu color %d differs from git:\n%s\n--- git:\n%s", i,
					 color, mine, theirs);
			free(mine);
			free(theirs);
			free(old);
			free(new_);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_one_change_in_middle),
		cmocka_unit_test(test_insert_at_start),
		cmocka_unit_test(test_delete_at_end),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_new_file),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_two_hunks),
		cmocka_unit_test(test_nearby_changes_merge),
		cmocka_unit_test(test_function_context),
		cmocka_unit_test(test_function_line_cut),
		cmocka_unit_test(test_slide),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_whitespace_colors),
		cmocka_unit_test(test_random_minimal),
		cmocka_unit_test(test_big_file),
		cmocka_unit_test(test_very_different),
		cmocka_unit_test(test_git_apply),
		cmocka_unit_test(test_same_as_git_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
