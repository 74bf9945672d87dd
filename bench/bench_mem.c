/*
 * bench_mem.c - in-process throughput of dfix's library on one input already
 * in memory: parse + print, and df_fix at --level format and with every pass.
 *
 * usage: bench-mem [-t SECONDS] [-m MODES] [-c DIR] FILE
 *   MODES: comma-separated from parse, format, all (default: all three), or
 *          pass=ID: df_fix with that one pass only (to see where time goes)
 *   -c: the build context df_fix's passes may read, as `dfix --context DIR`
 *       (default: none, as for standard input)
 *   -t: minimum time per measurement (default 1.0); each measurement repeats
 *       the work until that much time has passed, three times, and keeps the best
 *       (one round only when a single run takes more than 5 s)
 *
 * The allocator keeps freed memory between runs (df_keep_freed_memory, as
 * `dfix lsp` does): the numbers are those of a process that handles one
 * document after another, without the page faults of its first run.
 *
 * Prints one line per mode: "MODE SECONDS_PER_RUN MB_PER_S STATUS", where
 * STATUS is "ok", or "refused: why" when df_fix declines the input (its time
 * is still the time it took to decide). Exit 2 when the round trip is not
 * byte-identical: that is a bug, not a slow run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dfix.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_parse(const char *src, size_t len, struct df_buf *out)
{
	struct df_doc *doc = df_doc_parse(src, len);

	df_buf_reset(out);
	df_doc_print(doc, out);
	df_doc_free(doc);
	return out->len == len && memcmp(out->ptr ? out->ptr : "", src, len) == 0 ? 0 : -1;
}

static const char *context_dir;

static int run_fix(const char *src, size_t len, struct df_buf *out, enum df_level level,
		   const char *only, const char **why)
{
	struct df_ctx ctx;
	size_t p;
	int rc;

	df_ctx_init(&ctx);
	ctx.level = level;
	for (p = 0; only && df_passes[p]; p++)
		ctx.enabled[p] = strcmp(df_passes[p]->id, only) == 0;
	ctx.context_dir = context_dir;
	*why = NULL;
	rc = df_fix(&ctx, src, len, out, why);
	df_ctx_release(&ctx);
	return rc;
}

/* Best seconds per run over three rounds of at least `mintime` each. */
static double measure(const char *mode, const char *src, size_t len, double mintime,
		      const char **status)
{
	struct df_buf out = DF_BUF_INIT;
	double best = 0;
	int round;

	*status = "ok";
	for (round = 0; round < 3; round++) {
		double t0 = now(), t;
		long n = 0;

		do {
			if (strcmp(mode, "parse") == 0) {
				if (run_parse(src, len, &out) != 0) {
					fprintf(stderr, "bench-mem: print(parse(x)) != x\n");
					exit(2);
				}
			} else {
				const char *why;
				int rc = run_fix(src, len, &out,
						 strcmp(mode, "format") == 0 ? DF_LEVEL_FORMAT
									     : DF_LEVEL_REVIEW,
						 strncmp(mode, "pass=", 5) == 0 ? mode + 5 : NULL,
						 &why);

				if (rc != 0)
					*status = why ? why : "refused";
			}
			n++;
			t = now() - t0;
		} while (t < mintime);
		t /= (double)n;
		if (round == 0 || t < best)
			best = t;
		if (t > 5.0) /* slow enough that noise does not matter: once is enough */
			break;
	}
	df_buf_release(&out);
	return best;
}

int main(int argc, char **argv)
{
	const char *modes = "parse,format,all", *path = NULL, *err = NULL;
	double mintime = 1.0;
	char *src, *list, *m;
	size_t len;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			mintime = atof(argv[++i]);
		else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc)
			modes = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			context_dir = argv[++i];
		else if (!path)
			path = argv[i];
		else
			path = NULL, i = argc;
	}
	if (!path) {
		fprintf(stderr, "usage: bench-mem [-t SECONDS] [-m parse,format,all,pass=ID] [-c DIR] FILE\n");
		return 2;
	}
	/* measure the code, not the kernel zeroing pages: memory a run frees
	 * stays for the next one, as in the language server */
	df_keep_freed_memory();
	src = df_read_file(path, &len, &err);
	if (!src) {
		fprintf(stderr, "bench-mem: %s: %s\n", path, err ? err : "cannot read");
		return 2;
	}
	list = df_xstrndup(modes, strlen(modes));
	for (m = strtok(list, ","); m; m = strtok(NULL, ",")) {
		const char *status;
		double t;

		if (strcmp(m, "parse") && strcmp(m, "format") && strcmp(m, "all") &&
		    !(strncmp(m, "pass=", 5) == 0 && df_pass_find(m + 5))) {
			fprintf(stderr, "bench-mem: unknown mode '%s'\n", m);
			return 2;
		}
		t = measure(m, src, len, mintime, &status);
		printf("%s %.6f %.1f %s\n", m, t, (double)len / 1e6 / t, status);
		fflush(stdout);
	}
	free(list);
	free(src);
	return 0;
}
