/* test_layer.c - merge-runs and layer-cleanup: exact rewrites, the meaning
 * of merged RUNs checked by running them with /bin/sh (each original RUN in
 * its own `sh -c`, stopping at the first failure, against the merged RUN),
 * the build context, --cache-mounts, idempotence, pathological sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dfix.h"

/* ---- helpers ---- */

/* df_fix with only the passes in `ids` (comma-separated). */
static int fix_with(const char *src, const char *ids, const char *context, int cache_mounts,
		    struct df_buf *out)
{
	struct df_ctx ctx;
	const char *why;
	size_t i;
	int rc;

	df_ctx_init(&ctx);
	for (i = 0; df_passes[i]; i++) {
		const char *p = strstr(ids, df_passes[i]->id);
		size_t n = strlen(df_passes[i]->id);

		ctx.enabled[i] = p && (p == ids || p[-1] == ',') && (p[n] == '\0' || p[n] == ',');
	}
	ctx.context_dir = context;
	ctx.cache_mounts = cache_mounts;
	df_buf_reset(out);
	rc = df_fix(&ctx, src, strlen(src), out, &why);
	df_ctx_release(&ctx);
	return rc;
}

static void expect_fix(const char *ids, const char *src, const char *want)
{
	struct df_buf out = DF_BUF_INIT, again = DF_BUF_INIT;

	assert_int_equal(fix_with(src, ids, NULL, 0, &out), 0);
	if (strcmp(out.ptr, want) != 0)
		fail_msg("input:\n%s\nwant:\n%s\ngot:\n%s", src, want, out.ptr);
	assert_int_equal(fix_with(out.ptr, ids, NULL, 0, &again), 0);
	assert_string_equal(again.ptr, out.ptr); /* idempotent */
	df_buf_release(&out);
	df_buf_release(&again);
}

/* Run `script` with argv[0..] + script in directory dir; stdout appended
 * to out; returns the exit status (-1 on a signal). */
static int run_sh(const char *const *shell, const char *script, const char *dir,
		  struct df_buf *out)
{
	const char *argv[8];
	int fd[2], status, k = 0;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	while (shell[k] && k < 6) {
		argv[k] = shell[k];
		k++;
	}
	argv[k++] = script;
	argv[k] = NULL;
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		if (chdir(dir) != 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd[1]);
	while ((n = read(fd[0], buf, sizeof(buf))) > 0)
		df_buf_add(out, buf, (size_t)n);
	close(fd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* What the build does with the RUNs of a Dockerfile: each RUN's script in
 * its own shell, in order, in one fresh directory (the image's file
 * system), until one fails. Output and failure. */
static int build_runs(const char *dockerfile, const char *const *shell, struct df_buf *out,
		      size_t *nruns)
{
	struct df_doc *doc = df_doc_parse(dockerfile, strlen(dockerfile));
	char dir[] = "/tmp/dfix-test-layer-XXXXXX", cmd[128];
	size_t i;
	int failed = 0;

	assert_non_null(mkdtemp(dir));
	*nruns = 0;
	for (i = 0; i < doc->nnodes; i++) {
		const struct df_inst *inst = doc->nodes[i].inst;
		char *script;

		if (doc->nodes[i].kind != DF_INSTRUCTION || !inst || inst->cmd != DF_CMD_RUN)
			continue;
		(*nruns)++;
		if (failed)
			continue;
		script = df_xstrndup(inst->rest.ptr, inst->rest.len);
		df_buf_addf(out, "[run %zu]\n", *nruns);
		if (run_sh(shell, script, dir, out) != 0)
			failed = 1;
		free(script);
	}
	df_doc_free(doc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fail_msg("cannot remove %s", dir);
	return failed;
}

/* The merged Dockerfile must do what the original did: same output (the
 * [run N] markers aside), same success or failure. `runs`: RUNs after. */
static void same_meaning(const char *shell_line, const char *body, size_t runs)
{
	static const char *const sh[] = { "/bin/sh", "-c", NULL };
	static const char *const sh_e[] = { "/bin/sh", "-e", "-c", NULL };
	const char *const *shell = shell_line ? sh_e : sh;
	struct df_buf src = DF_BUF_INIT, fixed = DF_BUF_INIT, o1 = DF_BUF_INIT, o2 = DF_BUF_INIT;
	size_t n1, n2, i, k;
	int f1, f2;

	df_buf_adds(&src, "FROM alpine:3.20\n");
	if (shell_line)
		df_buf_adds(&src, shell_line);
	df_buf_adds(&src, body);
	assert_int_equal(fix_with(src.ptr, "merge-runs", NULL, 0, &fixed), 0);
	f1 = build_runs(src.ptr, shell, &o1, &n1);
	f2 = build_runs(fixed.ptr, shell, &o2, &n2);
	/* drop the markers: the merged build has fewer RUNs */
	for (k = 0; k < 2; k++) {
		struct df_buf *b = k ? &o2 : &o1;
		struct df_buf t = DF_BUF_INIT;

		for (i = 0; i < b->len; i++) {
			if (b->ptr[i] == '[' && (i == 0 || b->ptr[i - 1] == '\n') &&
			    strncmp(b->ptr + i, "[run ", 5) == 0) {
				while (i < b->len && b->ptr[i] != '\n')
					i++;
				continue;
			}
			df_buf_addc(&t, b->ptr[i]);
		}
		df_buf_reset(b);
		df_buf_add(b, t.ptr ? t.ptr : "", t.len);
		df_buf_release(&t);
	}
	if (f1 != f2 || strcmp(o1.ptr ? o1.ptr : "", o2.ptr ? o2.ptr : "") != 0)
		fail_msg("meaning changed\ninput:\n%s\nmerged:\n%s\noriginal (%s):\n%s\nmerged (%s):\n%s",
			 src.ptr, fixed.ptr, f1 ? "failed" : "ok", o1.ptr ? o1.ptr : "",
			 f2 ? "failed" : "ok", o2.ptr ? o2.ptr : "");
	if (n2 != runs)
		fail_msg("want %zu RUNs after merging, got %zu:\n%s", runs, n2, fixed.ptr);
	df_buf_release(&src);
	df_buf_release(&fixed);
	df_buf_release(&o1);
	df_buf_release(&o2);
}

/* ---- merge-runs: exact rewrites ---- */

static void test_merge_article(void **state)
{
	expect_fix("merge-runs",
		   "FROM node:18\n"
		   "WORKDIR /app\n"
		   "COPY . .\n"
		   "RUN npm install  # Installs dev dependencies\n"
		   "RUN npm run build\n"
		   "CMD [\"npm\", \"start\"]\n",
		   "FROM node:18\n"
		   "WORKDIR /app\n"
		   "COPY . .\n"
		   "RUN npm install \\\n"
		   "    # Installs dev dependencies\n"
		   "    && npm run build\n"
		   "CMD [\"npm\", \"start\"]\n");
}

static void test_merge_groups(void **state)
{
	expect_fix("merge-runs",
		   "FROM alpine\nRUN a || b\nRUN c; d\nRUN e\n",
		   "FROM alpine\nRUN { a || b; } \\\n    && { c; d; } \\\n    && e\n");
	expect_fix("merge-runs",
		   "FROM alpine\nRUN cd /x && make\nRUN make install\n",
		   "FROM alpine\nRUN (cd /x && make) \\\n    && make install\n");
	/* the last RUN keeps cd, set and & as they are */
	expect_fix("merge-runs",
		   "FROM alpine\nRUN a\nRUN set -e; cd /x; b &\n",
		   "FROM alpine\nRUN a \\\n    && { set -e; cd /x; b & }\n");
}

static void test_merge_refusals(void **state)
{
	static const char *const same[] = {
		"FROM alpine\nRUN set -e\nRUN a\n",
		"FROM alpine\nRUN a &\nRUN b\n",
		"FROM alpine\nRUN service x start\nRUN b\n",
		"FROM alpine\nRUN --network=none a\nRUN b\n",
		"FROM alpine\nRUN a\nENV X=1\nRUN b\n",
		"FROM alpine\nRUN a\nFROM alpine\nRUN b\n",
		"FROM alpine\nRUN [\"a\"]\nRUN b\n",
		"FROM alpine\nRUN a\n# hadolint ignore=DL3059\nRUN b\n",
		"FROM alpine\nRUN a\n# dfix ignore=merge-runs\nRUN b\n",
		"FROM alpine\nRUN a\n# hadolint ignore=DL3008\nRUN b\n",
		"FROM alpine\nRUN for i in 1 2; do echo $i; done\nRUN b\n",
		"FROM alpine\nRUN a # comment \\\n  continued\nRUN b\n",
		"FROM alpine\nSHELL [\"pwsh\", \"-c\"]\nRUN a\nRUN b\n",
		"FROM mcr.microsoft.com/windows/nanoserver\nRUN a\nRUN b\n",
		"FROM alpine\nRUN --mount=type=tmpfs,target=/t a\nRUN --mount=type=tmpfs,target=/t b\n",
		NULL
	};
	size_t i;

	for (i = 0; same[i]; i++)
		expect_fix("merge-runs", same[i], same[i]);
}

static void test_merge_crlf_escape(void **state)
{
	expect_fix("merge-runs",
		   "FROM alpine\r\nRUN a  # x\r\nRUN b\r\n",
		   "FROM alpine\r\nRUN a \\\r\n    # x\r\n    && b\r\n");
	expect_fix("merge-runs",
		   "# escape=`\nFROM alpine\nRUN a\nRUN b\n",
		   "# escape=`\nFROM alpine\nRUN a `\n    && b\n");
	/* no final newline: kept so */
	expect_fix("merge-runs", "FROM alpine\nRUN a\nRUN b", "FROM alpine\nRUN a \\\n    && b");
}

/* ---- merge-runs: the merged RUN means what the RUNs meant ---- */

static void test_merge_meaning(void **state)
{
	same_meaning(NULL, "RUN echo one  # trailing comment\nRUN echo two\n", 1);
	same_meaning(NULL, "RUN echo a; false\nRUN echo unreachable\n", 1);
	same_meaning(NULL, "RUN false || echo recovered; echo next\nRUN echo after\n", 1);
	same_meaning(NULL, "RUN false && echo no || echo yes\nRUN echo after\n", 1);
	same_meaning(NULL, "RUN mkdir -p d && cd d && touch f\nRUN ls; [ -f f ] && echo in-d || echo top\n", 1);
	same_meaning(NULL, "RUN x=1 && echo \"in: $x\"\nRUN echo \"out: $x\"\n", 1);
	same_meaning(NULL, "RUN y=2\nRUN echo \"y=${y}\"\n", 1);
	same_meaning(NULL, "RUN export E=1\nRUN echo \"E=$E\"; env | grep -c '^E=' || true\n", 1);
	same_meaning(NULL, "RUN umask 077\nRUN umask\n", 1);
	same_meaning(NULL, "RUN echo a; exit 0; echo b\nRUN echo c\n", 1);
	same_meaning(NULL, "RUN echo a; exit 3\nRUN echo c\n", 1);
	same_meaning(NULL, "RUN trap 'echo trapped' EXIT; echo body\nRUN echo next\n", 1);
	same_meaning(NULL, "RUN echo a | tr a b\nRUN echo c;\nRUN echo d\n", 1);
	same_meaning(NULL, "RUN echo ok\n# between\n\nRUN false\nRUN echo never\n", 1);
	same_meaning(NULL, "RUN set -e; false; echo no\nRUN echo after\n", 2);
	same_meaning(NULL, "RUN echo first\nRUN set -e; false; echo no\n", 1);
	same_meaning(NULL, "RUN { echo g1; echo g2; } | cat\nRUN echo after\n", 1);
	same_meaning(NULL, "RUN (cd / && pwd)\nRUN [ \"$PWD\" = / ] && echo root || echo here\n", 1);
	same_meaning(NULL, "RUN cd /\nRUN [ \"$PWD\" = / ] && echo root || echo here\n", 1);
	same_meaning(NULL, "RUN touch a; cd / \nRUN ls\n", 1);
	/* a SHELL with -e: a RUN of several lists cannot go first */
	same_meaning("SHELL [\"/bin/sh\", \"-e\", \"-c\"]\n",
		     "RUN false; echo no\nRUN echo after\n", 2);
	same_meaning("SHELL [\"/bin/sh\", \"-e\", \"-c\"]\n",
		     "RUN false || echo yes\nRUN echo a; false; echo no\n", 1);
	same_meaning("SHELL [\"/bin/sh\", \"-e\", \"-c\"]\n",
		     "RUN echo ok && true\nRUN echo then\n", 1);
}

/* ---- layer-cleanup ---- */

static void test_cleanup_apt(void **state)
{
	expect_fix("layer-cleanup",
		   "FROM debian:12\nRUN apt-get update && apt-get install curl\n",
		   "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
		   "    && rm -rf /var/lib/apt/lists/*\n");
	/* official-image style: already clean */
	expect_fix("layer-cleanup",
		   "FROM debian:12\nRUN set -eux; \\\n\tapt-get update; \\\n"
		   "\tapt-get install -y --no-install-recommends curl; \\\n"
		   "\trm -rf /var/lib/apt/lists/*\n",
		   "FROM debian:12\nRUN set -eux; \\\n\tapt-get update; \\\n"
		   "\tapt-get install -y --no-install-recommends curl; \\\n"
		   "\trm -rf /var/lib/apt/lists/*\n");
	/* split across RUNs: merged, then cleaned */
	expect_fix("layer-cleanup",
		   "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends curl\n",
		   "FROM debian:12\nRUN apt-get update \\\n"
		   "    && apt-get install -y --no-install-recommends curl \\\n"
		   "    && rm -rf /var/lib/apt/lists/*\n");
	/* a builder stage only copied from keeps its caches */
	expect_fix("layer-cleanup",
		   "FROM debian:12 AS b\nRUN apt-get update && apt-get install -y gcc\n"
		   "FROM scratch\nCOPY --from=b /x /x\n",
		   "FROM debian:12 AS b\nRUN apt-get update && apt-get install -y gcc\n"
		   "FROM scratch\nCOPY --from=b /x /x\n");
}

static void test_cleanup_others(void **state)
{
	expect_fix("layer-cleanup", "FROM alpine\nRUN apk update && apk add curl\n",
		   "FROM alpine\nRUN apk add --no-cache curl\n");
	expect_fix("layer-cleanup", "FROM python:3\nRUN pip install -r r.txt\n",
		   "FROM python:3\nRUN pip install --no-cache-dir -r r.txt\n");
	expect_fix("layer-cleanup", "FROM python:3\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n",
		   "FROM python:3\nENV PIP_NO_CACHE_DIR=1\nRUN pip install x\n");
	expect_fix("layer-cleanup", "FROM centos:7\nRUN yum install httpd\n",
		   "FROM centos:7\nRUN yum install -y httpd \\\n    && yum clean all\n");
	expect_fix("layer-cleanup", "FROM fedora\nRUN dnf install -y x && dnf clean all\n",
		   "FROM fedora\nRUN dnf install -y x && dnf clean all\n");
	expect_fix("layer-cleanup", "FROM node\nRUN yarn global add serve\n",
		   "FROM node\nRUN yarn global add serve \\\n    && yarn cache clean\n");
	expect_fix("layer-cleanup", "FROM debian\nRUN gem install rake\n",
		   "FROM debian\nRUN gem install --no-document rake\n");
	/* no context (stdin): no lockfile known, so the cache is cleaned */
	expect_fix("layer-cleanup", "FROM node\nCOPY . .\nRUN npm install\n",
		   "FROM node\nCOPY . .\nRUN npm install \\\n    && npm cache clean --force\n");
	/* left alone: heredoc, exec form, control flow, background jobs */
	expect_fix("layer-cleanup", "FROM debian\nRUN [\"apt-get\", \"install\", \"x\"]\n",
		   "FROM debian\nRUN [\"apt-get\", \"install\", \"x\"]\n");
	expect_fix("layer-cleanup", "FROM debian\nRUN if true; then apt-get install x; fi\n",
		   "FROM debian\nRUN if true; then apt-get install x; fi\n");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_cleanup_context(void **state)
{
	char dir[] = "/tmp/dfix-test-ctx-XXXXXX";
	struct df_buf out = DF_BUF_INIT;
	char cmd[128];

	assert_non_null(mkdtemp(dir));
	write_file(dir, "package.json", "{}\n");
	write_file(dir, "package-lock.json", "{}\n");
	assert_int_equal(fix_with("FROM node\nCOPY package*.json ./\nRUN npm install\n",
				  "layer-cleanup", dir, 0, &out), 0);
	assert_string_equal(out.ptr, "FROM node\nCOPY package*.json ./\nRUN npm ci\n");
	/* the lockfile is not copied: npm ci would fail */
	assert_int_equal(fix_with("FROM node\nCOPY package.json ./\nRUN npm install\n",
				  "layer-cleanup", dir, 0, &out), 0);
	assert_string_equal(out.ptr, "FROM node\nCOPY package.json ./\nRUN npm install \\\n"
			    "    && npm cache clean --force\n");
	write_file(dir, "yarn.lock", "# yarn lockfile v1\n");
	assert_int_equal(fix_with("FROM node\nCOPY . .\nRUN yarn\n", "layer-cleanup", dir, 0, &out), 0);
	assert_string_equal(out.ptr, "FROM node\nCOPY . .\nRUN yarn --frozen-lockfile \\\n"
			    "    && yarn cache clean\n");
	write_file(dir, ".yarnrc.yml", "nodeLinker: pnp\n");
	assert_int_equal(fix_with("FROM node\nCOPY . .\nRUN yarn\n", "layer-cleanup", dir, 0, &out), 0);
	assert_string_equal(out.ptr, "FROM node\nCOPY . .\nRUN yarn\n");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	df_buf_release(&out);
}

static void test_cleanup_cache_mounts(void **state)
{
	struct df_buf out = DF_BUF_INIT, again = DF_BUF_INIT;
	const char *src = "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends x\n";

	assert_int_equal(fix_with(src, "layer-cleanup", NULL, 1, &out), 0);
	assert_string_equal(out.ptr,
			    "# syntax=docker/dockerfile:1\n"
			    "FROM debian\n"
			    "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
			    "    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n"
			    "    apt-get update && apt-get install -y --no-install-recommends x\n");
	assert_int_equal(fix_with(out.ptr, "layer-cleanup", NULL, 1, &again), 0);
	assert_string_equal(again.ptr, out.ptr);
	/* a BOM stays first: no directive added */
	assert_int_equal(fix_with("\xef\xbb\xbf" "FROM alpine\nRUN apk add x\n", "layer-cleanup", NULL, 1,
				  &out), 0);
	assert_string_equal(out.ptr, "\xef\xbb\xbf" "FROM alpine\n"
			    "RUN --mount=type=cache,target=/var/cache/apk,sharing=locked \\\n    apk add x\n");
	df_buf_release(&out);
	df_buf_release(&again);
}

/* Both passes together, then again: nothing changes the second time. */
static void test_both_idempotent(void **state)
{
	static const char *const inputs[] = {
		"FROM debian\nRUN apt-get update\nRUN apt-get install x  # c\nRUN pip install y\n"
		"RUN set -eux; apt-get update; apt-get install -y z\nRUN npm i -g q\n",
		"FROM alpine AS a\nRUN apk update\nRUN apk add x\nFROM a\nRUN apk add y && \\\n    make\n",
		"FROM centos\nRUN yum -y install a && \\\n    { make; make install; }\nRUN echo done\n",
		NULL
	};
	struct df_buf out = DF_BUF_INIT, again = DF_BUF_INIT;
	size_t i;

	for (i = 0; inputs[i]; i++) {
		assert_int_equal(fix_with(inputs[i], "merge-runs,layer-cleanup", NULL, 0, &out), 0);
		assert_int_equal(fix_with(out.ptr, "merge-runs,layer-cleanup", NULL, 0, &again), 0);
		assert_string_equal(again.ptr, out.ptr);
	}
	df_buf_release(&out);
	df_buf_release(&again);
}

/* ---- pathological sizes: linear time ---- */

static double seconds_for(size_t n, const char *unit)
{
	struct df_buf src = DF_BUF_INIT, out = DF_BUF_INIT;
	struct timespec a, b;
	size_t i;

	df_buf_adds(&src, "FROM debian\n");
	for (i = 0; i < n; i++)
		df_buf_addf(&src, unit, i, i);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(fix_with(src.ptr, "merge-runs,layer-cleanup", NULL, 0, &out), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	df_buf_release(&src);
	df_buf_release(&out);
	return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
}

static void test_pathological(void **state)
{
	static const char *const units[] = {
		"RUN echo a%zu\nRUN echo b%zu\nENV X=1\n",
		"RUN apt-get update\nRUN apt-get install -y x%zu y%zu\nENV X=1\n",
		"RUN v%zu=1 && echo $v%zu\n",
		NULL
	};
	size_t k;

	for (k = 0; units[k]; k++) {
		double t1 = seconds_for(5000, units[k]), t4 = seconds_for(20000, units[k]);

		/* four times the input: well under sixteen times the time */
		if (t4 > 8 * t1 + 0.2)
			fail_msg("%s: 5000 units %.3f s, 20000 units %.3f s", units[k], t1, t4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_article),
		cmocka_unit_test(test_merge_groups),
		cmocka_unit_test(test_merge_refusals),
		cmocka_unit_test(test_merge_crlf_escape),
		cmocka_unit_test(test_merge_meaning),
		cmocka_unit_test(test_cleanup_apt),
		cmocka_unit_test(test_cleanup_others),
		cmocka_unit_test(test_cleanup_context),
		cmocka_unit_test(test_cleanup_cache_mounts),
		cmocka_unit_test(test_both_idempotent),
		cmocka_unit_test(test_pathological),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
