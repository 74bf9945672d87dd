/* test_manifests.c - the manifests-first pass where golden files cannot
 * reach: no build context (stdin), the findings it leaves when it changes
 * nothing, CRLF files, pragmas, flags, and pathological inputs. The golden
 * cases in golden/manifests-first/ cover one case per ecosystem. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "passcase.h"

/* ---- no build context (stdin) ---- */

static void test_stdin_npm(void **state)
{
	struct result r;

	(void)state;
	check("FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN npm run build\n", NULL,
	      "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
	      "RUN npm run build\n", &r);
	assert_has(r.notes, "4: copied package*.json before npm ci so dependency layers stay "
			    "cached when sources change (no build context");
	result_free(&r);
}

static void test_stdin_pip(void **state)
{
	struct result r;

	(void)state;
	check("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n", NULL,
	      "FROM python\nWORKDIR /app\nCOPY requirements*.txt ./\n"
	      "RUN pip install -r requirements.txt\nCOPY . .\n", &r);
	assert_has(r.notes, "copied requirements*.txt before pip install");
	result_free(&r);
	/* a file in a directory: the directory (it may include its neighbours) */
	check("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r reqs/prod.txt\n", NULL,
	      "FROM python\nWORKDIR /app\nCOPY reqs ./reqs/\n"
	      "RUN pip install -r reqs/prod.txt\nCOPY . .\n", &r);
	result_free(&r);
	/* another name: that file */
	check("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r deps.txt\n", NULL,
	      "FROM python\nWORKDIR /app\nCOPY deps.txt ./\n"
	      "RUN pip install -r deps.txt\nCOPY . .\n", &r);
	result_free(&r);
}

static void test_stdin_others_unchanged(void **state)
{
	static const char *const runs[] = {
		"yarn install", "pnpm install", "poetry install", "pipenv install --deploy",
		"go build -o /app .", "go mod download", "bundle install", "composer install",
		"mvn package", NULL
	};
	char src[256];
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; runs[i]; i++) {
		snprintf(src, sizeof(src), "FROM x\nWORKDIR /app\nCOPY . .\nRUN %s\n", runs[i]);
		check_same(src, NULL, &r);
		assert_has(r.notes, "without a build context dfix cannot tell which manifests");
		assert_int_equal(r.nfindings, 1);
		result_free(&r);
	}
}

static void test_stdin_source_installs_unchanged(void **state)
{
	struct result r;

	(void)state;
	check_same("FROM python\nCOPY . /src\nRUN pip install /src\n", NULL, &r);
	result_free(&r);
	check_same("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -e .\n", NULL, &r);
	result_free(&r);
	check_same("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt .\n",
		   NULL, &r);
	assert_has(r.notes, "it installs . from the sources");
	result_free(&r);
	/* npm install <pkg> edits package.json */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install express\n", NULL, &r);
	result_free(&r);
}

/* ---- the shape of the change ---- */

static void test_split_keeps_shell_state(void **state)
{
	struct result r;

	(void)state;
	check("FROM node\nWORKDIR /app\nCOPY . .\n"
	      "RUN set -eux && cd web && npm ci && npm run build\n", NULL,
	      "FROM node\nWORKDIR /app\nCOPY web/package*.json ./web/\n"
	      "RUN set -eux && cd web && npm ci\nCOPY . .\n"
	      "RUN set -eux && cd web && npm run build\n", &r);
	result_free(&r);
	/* `;` between the install and the build: not split */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci; npm run build\n", NULL, &r);
	result_free(&r);
}

static void test_flags_and_mounts(void **state)
{
	struct result r;

	(void)state;
	check("FROM node\nWORKDIR /app\nCOPY --chown=1000:1000 --chmod=644 --link . .\n"
	      "RUN --mount=type=cache,target=/root/.npm npm ci\n", NULL,
	      "FROM node\nWORKDIR /app\nCOPY --chown=1000:1000 --chmod=644 --link package*.json ./\n"
	      "RUN --mount=type=cache,target=/root/.npm npm ci\n"
	      "COPY --chown=1000:1000 --chmod=644 --link . .\n", &r);
	result_free(&r);
	/* a bind mount of the context reads sources */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\n"
		   "RUN --mount=type=bind,target=/x npm ci\n", NULL, &r);
	result_free(&r);
	/* another stage's files */
	check_same("FROM node AS a\nFROM node\nCOPY --from=a . .\nRUN npm ci\n", NULL, &r);
	result_free(&r);
}

static void test_between(void **state)
{
	struct result r;

	(void)state;
	/* ENV, ARG, USER, WORKDIR (absolute destination) stay before the install */
	check("FROM node\nCOPY . /app\nARG NODE_ENV=production\nWORKDIR /app\nUSER node\n"
	      "RUN npm ci\nCMD [\"node\", \"i.js\"]\n", NULL,
	      "FROM node\nCOPY package*.json /app/\nARG NODE_ENV=production\nWORKDIR /app\n"
	      "USER node\nRUN npm ci\nCOPY . /app\nCMD [\"node\", \"i.js\"]\n", &r);
	result_free(&r);
	/* a variable in the copy: it cannot move past ENV */
	check_same("FROM node\nWORKDIR /app\nCOPY . $DIR\nENV DIR=/x\nRUN npm ci\n", NULL, &r);
	result_free(&r);
	/* a RUN that may read the sources */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN ./configure\nRUN npm ci\n", NULL, &r);
	result_free(&r);
	/* a system package RUN in between moves along */
	check("FROM node\nWORKDIR /app\nCOPY . .\n"
	      "RUN apt-get update && apt-get install -y python3 && rm -rf /var/lib/apt/lists/*\n"
	      "RUN npm ci\n", NULL,
	      "FROM node\nWORKDIR /app\nCOPY package*.json ./\n"
	      "RUN apt-get update && apt-get install -y python3 && rm -rf /var/lib/apt/lists/*\n"
	      "RUN npm ci\nCOPY . .\n", &r);
	result_free(&r);
	/* a local .deb is a source */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN apt-get install -y ./x.deb\n"
		   "RUN npm ci\n", NULL, &r);
	result_free(&r);
}

static void test_left_alone(void **state)
{
	struct result r;

	(void)state;
	/* pragma on the install */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\n# dfix ignore=manifests-first\nRUN npm ci\n",
		   NULL, &r);
	result_free(&r);
	/* exec form, heredoc */
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN [\"npm\", \"ci\"]\n", NULL, &r);
	result_free(&r);
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN <<EOF\nnpm ci\nEOF\n", NULL, &r);
	result_free(&r);
	/* a non-POSIX shell */
	check_same("FROM node\nSHELL [\"pwsh\", \"-c\"]\nWORKDIR /app\nCOPY . .\nRUN npm ci\n",
		   NULL, &r);
	result_free(&r);
	/* Windows: escape directive, Windows base image */
	check_same("# escape=`\nFROM node\nWORKDIR C:\\\\app\nCOPY . .\nRUN npm ci\n", NULL, &r);
	result_free(&r);
	check_same("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR /app\nCOPY . .\n"
		   "RUN npm ci\n", NULL, &r);
	result_free(&r);
	/* a copy of something else */
	check_same("FROM node\nWORKDIR /app\nCOPY src .\nRUN npm ci\n", NULL, &r);
	result_free(&r);
}

/* The driver refuses files with errors, so call the pass on such a tree. */
static void test_error_node(void **state)
{
	static const char src[] = "FROM node\nWORKDIR /app\nCOPY . .\nRUN <<EOF\nnpm ci\n";
	const struct df_pass *pass = df_pass_find("manifests-first");
	struct df_doc *doc = df_doc_parse(src, sizeof(src) - 1);
	struct df_ctx ctx;

	(void)state;
	assert_non_null(pass);
	assert_int_equal(doc->nodes[doc->nnodes - 1].kind, DF_ERROR);
	df_ctx_init(&ctx);
	ctx.current = pass;
	assert_int_equal(pass->run(&ctx, doc), 0);
	df_ctx_release(&ctx);
	df_doc_free(doc);
}

static void test_crlf(void **state)
{
	struct result r;
	const char *p;

	(void)state;
	check("FROM node\r\nWORKDIR /app\r\nCOPY . .\r\nRUN npm ci \\\r\n"
	      "    # deps\r\n    && npm run build\r\n", NULL,
	      "FROM node\r\nWORKDIR /app\r\nCOPY package*.json ./\r\n# deps\r\nRUN npm ci\r\n"
	      "COPY . .\r\nRUN npm run build\r\n", &r);
	for (p = r.text; (p = strchr(p, '\n')) != NULL; p++)
		assert_int_equal(p[-1], '\r');
	result_free(&r);
}

static void test_lines_and_multistage(void **state)
{
	struct result r;

	(void)state;
	check("FROM node AS web\nWORKDIR /w\nCOPY . .\nRUN npm ci\n\n"
	      "FROM python AS api\nWORKDIR /a\nCOPY . .\nRUN pip install -r requirements.txt\n",
	      NULL,
	      "FROM node AS web\nWORKDIR /w\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n\n"
	      "FROM python AS api\nWORKDIR /a\nCOPY requirements*.txt ./\n"
	      "RUN pip install -r requirements.txt\nCOPY . .\n", &r);
	assert_has(r.notes, "9: copied requirements*.txt");
	assert_has(r.notes, "4: copied package*.json");
	result_free(&r);
}

/* ---- with a build context ---- */

static void test_context_notes(void **state)
{
	struct result r;

	(void)state;
	put("package.json", "{\"scripts\": {\"prepare\": \"husky install\"}}\n");
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", ctxdir, &r);
	assert_has(r.notes, "4: left npm ci after the full copy: the prepare script in "
			    "package.json may need the sources");
	result_free(&r);
	put("package.json", "{\"dependencies\": {\"lib\": \"file:../lib\"}}\n");
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", ctxdir, &r);
	assert_has(r.notes, "depends on the local path file:../lib");
	result_free(&r);
	put("package.json", "{\"name\": \"x\"}\n");
	put("node_modules/x/index.js", "\n");
	check_same("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", ctxdir, &r);
	assert_has(r.notes, "the build context has node_modules");
	result_free(&r);
	put(".dockerignore", "node_modules\n.npmrc\n");
	put(".npmrc", "x\n");
	check("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", ctxdir,
	      "FROM node\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n", &r);
	assert_int_equal(r.nfindings, 1);
	result_free(&r);
	/* requirements that include each other, one of them missing */
	put("requirements.txt", "-r base.txt\nflask\n");
	check_same("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
		   ctxdir, &r);
	assert_has(r.notes, "the build context has no base.txt");
	result_free(&r);
	put("base.txt", "requests==2.0\n--find-links ./wheels\n");
	check_same("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
		   ctxdir, &r);
	assert_has(r.notes, "needs files other than requirements");
	result_free(&r);
	put("base.txt", "requests==2.0\n");
	check("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n", ctxdir,
	      "FROM python\nWORKDIR /app\nCOPY requirements.txt base.txt ./\n"
	      "RUN pip install -r requirements.txt\nCOPY . .\n", &r);
	result_free(&r);
	/* the Go module has a local replacement */
	put("go.mod", "module x\n\nreplace y => ../y\n");
	check_same("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go build ./...\n", ctxdir, &r);
	assert_has(r.notes, "replaces a module with a local directory");
	result_free(&r);
	/* no go.sum, a cache mount: left to the cache */
	put("go.mod", "module x\n");
	check_same("FROM golang\nWORKDIR /src\nCOPY . .\n"
		   "RUN --mount=type=cache,target=/go/pkg/mod go build ./...\n", ctxdir, &r);
	result_free(&r);
	check("FROM golang\nWORKDIR /src\nCOPY . .\nRUN go mod tidy && go build ./...\n", ctxdir,
	      "FROM golang\nWORKDIR /src\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\n"
	      "RUN go mod tidy && go build ./...\n", &r);
	result_free(&r);
	/* the copy goes elsewhere than the build's directory */
	check_same("FROM golang\nCOPY . /src\nRUN cd /src && go build ./...\n", ctxdir, &r);
	result_free(&r);
}

static void test_context_existing_copy(void **state)
{
	struct result r;

	(void)state;
	put("package.json", "{}\n");
	/* package.json already copied: only the full copy moves */
	check("FROM node\nWORKDIR /app\nCOPY package.json ./\nCOPY . .\nRUN npm ci\n", ctxdir,
	      "FROM node\nWORKDIR /app\nCOPY package.json ./\nRUN npm ci\nCOPY . .\n", &r);
	result_free(&r);
	/* another stage's package.json is not the context's */
	check("FROM node AS a\nFROM node\nWORKDIR /app\nCOPY --from=a /x/package.json ./\n"
	      "COPY . .\nRUN npm ci\n", ctxdir,
	      "FROM node AS a\nFROM node\nWORKDIR /app\nCOPY --from=a /x/package.json ./\n"
	      "COPY package*.json ./\nRUN npm ci\nCOPY . .\n", &r);
	result_free(&r);
	put("go.mod", "module x\n");
	check_same("FROM golang\nWORKDIR /src\nCOPY go.mod ./\nCOPY . .\nRUN go build .\n",
		   ctxdir, &r);
	result_free(&r);
}

/* ---- pathological inputs stay linear ---- */

static void test_pathological(void **state)
{
	struct df_buf b = DF_BUF_INIT;
	struct result r;
	clock_t t0;
	size_t i;

	(void)state;
	df_buf_adds(&b, "FROM node\nWORKDIR /app\n");
	for (i = 0; i < 5000; i++)
		df_buf_adds(&b, "COPY . .\nENV A=1\nLABEL a=b\n");
	df_buf_adds(&b, "RUN npm ci");
	for (i = 0; i < 3000; i++)
		df_buf_adds(&b, " && npm ci");
	df_buf_adds(&b, "\n");
	t0 = clock();
	assert_int_equal(fix(b.ptr, NULL, &r), 0);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	result_free(&r);
	df_buf_release(&b);
}

/* 40,000 stages, each rewritten: one rebuild of the tree, not an insert
 * per stage (the pass alone; the driver's own costs are measured elsewhere). */
static void test_many_stages(void **state)
{
	static const char stage[] = "FROM node AS s\nWORKDIR /app\nCOPY . .\n"
				    "RUN npm ci && npm run build\nCMD [\"node\"]\n";
	const struct df_pass *pass = df_pass_find("manifests-first");
	struct df_buf b = DF_BUF_INIT, out = DF_BUF_INIT;
	struct df_doc *doc, *again;
	struct df_ctx ctx;
	clock_t t0;
	size_t i;

	(void)state;
	for (i = 0; i < 40000; i++)
		df_buf_adds(&b, stage);
	doc = df_doc_parse(b.ptr, b.len);
	df_ctx_init(&ctx);
	ctx.current = pass;
	t0 = clock();
	assert_int_equal(pass->run(&ctx, doc), 40000);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 3.0);
	assert_int_equal(ctx.nfindings, 40000);
	df_doc_print(doc, &out);
	again = df_doc_parse(out.ptr, out.len);
	assert_null(df_doc_validate(again));
	assert_int_equal(again->nnodes, 40000 * 7);
	assert_int_equal(pass->run(&ctx, again), 0);
	df_doc_free(again);
	df_doc_free(doc);
	df_ctx_release(&ctx);
	df_buf_release(&out);
	df_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stdin_npm),
		cmocka_unit_test(test_stdin_pip),
		cmocka_unit_test(test_stdin_others_unchanged),
		cmocka_unit_test(test_stdin_source_installs_unchanged),
		cmocka_unit_test(test_split_keeps_shell_state),
		cmocka_unit_test(test_flags_and_mounts),
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_error_node),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_lines_and_multistage),
		cmocka_unit_test_setup_teardown(test_context_notes, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_context_existing_copy, setup_ctx, teardown_ctx),
		cmocka_unit_test(test_pathological),
		cmocka_unit_test(test_many_stages),
	};

	passcase_pass = "manifests-first";
	passcase_dir = "/tmp/dfix-manifests-XXXXXX";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
