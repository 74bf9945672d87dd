/*
 * fuzz_roundtrip.c - the invariants of DESIGN.md under libFuzzer:
 *   1. print(parse(x)) == x, for any bytes
 *   2. --dump of what parses does not crash
 *   3. df_fix with the default context does not crash; when it accepts the
 *      input, its output is a fixpoint (fixing it again gives the same bytes)
 *      and parses back without diagnostics.
 *
 * `make fuzz` builds it with clang -fsanitize=fuzzer,address,undefined;
 * with -DFUZZ_REPLAY_MAIN a plain main() replays the files (or directories of
 * files) named on the command line, so `make test` runs the corpus under gcc.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dfix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, size_t at)
{
	fprintf(stderr, "fuzz_roundtrip: %s (byte %zu)\n", what, at);
	abort();
}

static size_t first_diff(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i, n = an < bn ? an : bn;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return n;
}

static void check_same(const char *what, const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn || (an && memcmp(a, b, an) != 0))
		fail(what, first_diff(a, an, b, bn));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy: nothing may rely on bytes past the end */
	char *src = malloc(size ? size : 1);
	struct df_buf out = DF_BUF_INIT, again = DF_BUF_INIT;
	struct df_doc *doc;
	struct df_ctx ctx;
	const char *why = NULL;

	if (size)
		memcpy(src, data, size);
	else
		src[0] = '\0';

	/* 1. lossless */
	doc = df_doc_parse(src, size);
	df_doc_print(doc, &out);
	check_same("print(parse(x)) != x", out.ptr, out.len, src, size);

	/* 2. dump */
	if (!df_doc_error(doc)) {
		df_buf_reset(&out);
		df_dump(doc, &out);
	}
	df_doc_free(doc);

	/* 3. fix, fixpoint, re-parse */
	df_ctx_init(&ctx);
	df_buf_reset(&out);
	if (df_fix(&ctx, src, size, &out, &why) == 0) {
		struct df_doc *re = df_doc_parse(out.ptr ? out.ptr : "", out.len);

		if (df_doc_validate(re))
			fail("fix(x) does not parse back cleanly", 0);
		df_doc_free(re);
		df_ctx_release(&ctx);
		df_ctx_init(&ctx);
		why = NULL;
		if (df_fix(&ctx, out.ptr ? out.ptr : "", out.len, &again, &why) != 0)
			fail("fix(fix(x)) refused", 0);
		check_same("fix(fix(x)) != fix(x)", again.ptr, again.len, out.ptr, out.len);
	}
	df_ctx_release(&ctx);
	df_buf_release(&out);
	df_buf_release(&again);
	free(src);
	return 0;
}

#ifdef FUZZ_REPLAY_MAIN
static int replay_file(const char *path)
{
	const char *err = NULL;
	size_t len;
	char *p = df_read_file(path, &len, &err);

	if (!p) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, err ? err : "cannot read");
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)p, len);
	free(p);
	return 0;
}

static int replay(const char *path, size_t *n)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	int bad = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n)++;
		return replay_file(path);
	}
	d = opendir(path);
	if (!d) {
		perror(path);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		struct df_buf sub = DF_BUF_INIT;

		if (e->d_name[0] == '.')
			continue;
		df_buf_addf(&sub, "%s/%s", path, e->d_name);
		if (stat(sub.ptr, &st) == 0 && S_ISREG(st.st_mode)) {
			(*n)++;
			bad |= replay_file(sub.ptr);
		}
		df_buf_release(&sub);
	}
	closedir(d);
	return bad;
}

int main(int argc, char **argv)
{
	size_t n = 0;
	int i, bad = 0;

	for (i = 1; i < argc; i++)
		bad |= replay(argv[i], &n);
	fprintf(stderr, "fuzz-replay: %zu inputs replayed\n", n);
	return bad;
}
#endif
