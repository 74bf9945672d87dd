/* test_multi_stage.c - the multi-stage pass where golden files cannot
 * reach: no build context (stdin), the findings it leaves when it does not
 * split, CRLF files, pragmas, named stages, ARGs, comments, and the reasons
 * it refuses. The golden cases in golden/multi-stage/ show one app per
 * ecosystem. */
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

static const char node_pkg[] =
	"{\"name\":\"a\",\"main\":\"dist/index.js\",\"scripts\":{\"build\":\"tsc\","
	"\"start\":\"node dist/index.js\"},\"dependencies\":{\"express\":\"4\"},"
	"\"devDependencies\":{\"typescript\":\"5\"}}";

static void node_context(void)
{
	put("package.json", node_pkg);
	put("package-lock.json", "{}");
	put("tsconfig.json", "{\"compilerOptions\":{\"outDir\":\"dist\"}}");
	put("src/index.ts", "console.log(1)\n");
}

static const char article[] =
	"FROM node:18\n"
	"WORKDIR /app\n"
	"COPY . .\n"
	"RUN npm install  # Installs dev dependencies\n"
	"RUN npm run build\n"
	"CMD [\"npm\", \"start\"]\n";

static const char article_split[] =
	"FROM node:18 AS builder\n"
	"WORKDIR /app\n"
	"COPY . .\n"
	"RUN npm ci  # Installs dev dependencies\n"
	"RUN npm run build\n"
	"RUN npm prune --omit=dev\n"
	"\n"
	"FROM node:18\n"
	"WORKDIR /app\n"
	"COPY --from=builder /app/package*.json ./\n"
	"COPY --from=builder /app/node_modules ./node_modules\n"
	"COPY --from=builder /app/dist ./dist\n"
	"CMD [\"node\", \"dist/index.js\"]\n";

/* ---- what it leaves alone ---- */

static void test_stdin_skips_with_finding(void **state)
{
	struct result r;

	(void)state;
	check_same(article, NULL, &r);
	assert_int_equal(r.nfindings, 1);
	assert_has(r.notes, "1: skipped, no build context");
	result_free(&r);
}

static void test_no_build_step(void **state)
{
	struct result r;

	(void)state;
	put("package.json", "{\"name\":\"a\",\"scripts\":{\"start\":\"node server.js\"}}");
	check_same("FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
		   "CMD [\"node\", \"server.js\"]\n", ctxdir, &r);
	assert_int_equal(r.nfindings, 0); /* nothing to say: no builder invented */
	result_free(&r);
}

static void test_already_multi_stage(void **state)
{
	struct result r;

	(void)state;
	node_context();
	check_same("FROM node:18 AS build\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"
		   "FROM node:18-alpine\nCOPY --from=build /app/dist /dist\nCMD [\"node\", \"/dist/index.js\"]\n",
		   ctxdir, &r);
	assert_int_equal(r.nfindings, 0);
	result_free(&r);
}

static void test_pragma(void **state)
{
	struct result r;

	(void)state;
	node_context();
	check_same("# dfix ignore=multi-stage\nFROM node:18\nWORKDIR /app\nCOPY . .\n"
		   "RUN npm install\nRUN npm run build\nCMD [\"npm\", \"start\"]\n", ctxdir, &r);
	result_free(&r);
	check_same("FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
		   "# dfix ignore=multi-stage\nRUN npm run build\nCMD [\"npm\", \"start\"]\n", ctxdir, &r);
	result_free(&r);
}

static void test_windows_escape(void **state)
{
	struct result r;

	(void)state;
	node_context();
	check_same("# escape=`\nFROM node:18\nWORKDIR C:\\\\app\nCOPY . .\nRUN npm install\n"
		   "RUN npm run build\nCMD [\"npm\", \"start\"]\n", ctxdir, &r);
	result_free(&r);
}

/* ---- node ---- */

static void test_article_node(void **state)
{
	struct result r;

	(void)state;
	node_context();
	check(article, ctxdir, article_split, &r);
	assert_int_equal(r.nfindings, 1);
	assert_has(r.notes, "1: split into a builder stage and a runtime stage on node:18");
	assert_has(r.notes, "./dist");
	result_free(&r);
}

static void test_crlf(void **state)
{
	struct result r;
	const char *p;

	(void)state;
	node_context();
	assert_int_equal(fix("FROM node:18\r\nWORKDIR /app\r\nCOPY . .\r\nRUN npm install\r\n"
			     "RUN npm run build\r\nCMD [\"npm\", \"start\"]\r\n", ctxdir, &r), 0);
	assert_has(r.text, "FROM node:18 AS builder\r\n");
	assert_has(r.text, "RUN npm prune --omit=dev\r\n\r\nFROM node:18\r\n");
	for (p = r.text; (p = strchr(p, '\n')) != NULL; p++)
		assert_true(p > r.text && p[-1] == '\r');
	result_free(&r);
}

static void test_comments_move_with_instructions(void **state)
{
	struct result r;

	(void)state;
	node_context();
	assert_int_equal(fix("# the app\nFROM node:18\n# where it lives\nWORKDIR /app\n"
			     "# sources\nCOPY . .\nRUN npm install\n\n# compile\nRUN npm run build\n"
			     "# the port\nEXPOSE 3000\n# run it\nCMD [\"npm\", \"start\"]\n# end\n",
			     ctxdir, &r), 0);
	assert_has(r.text, "# the app\nFROM node:18 AS builder\n# where it lives\nWORKDIR /app\n"
		   "# sources\nCOPY . .\n");
	assert_has(r.text, "\n# compile\nRUN npm run build\nRUN npm prune --omit=dev\n");
	assert_has(r.text, "FROM node:18\n# where it lives\nWORKDIR /app\n");
	assert_has(r.text, "# the port\nEXPOSE 3000\n# run it\nCMD [\"node\", \"dist/index.js\"]\n"
		   "# end\n");
	result_free(&r);
}

static void test_named_stage_and_args(void **state)
{
	struct result r;

	(void)state;
	node_context();
	assert_int_equal(fix("ARG NODE=18\nFROM node:${NODE} AS app\nARG PORT=3000\nARG TOKEN\n"
			     "WORKDIR /app\nCOPY . .\nRUN npm ci\nRUN NPM_TOKEN=$TOKEN npm run build\n"
			     "EXPOSE $PORT\nCMD [\"npm\", \"start\"]\n", ctxdir, &r), 0);
	assert_has(r.text, "ARG NODE=18\nFROM node:${NODE} AS builder\nARG PORT=3000\nARG TOKEN\n");
	/* the runtime keeps the name, and only the ARG it uses */
	assert_has(r.text, "\nFROM node:${NODE} AS app\nARG PORT=3000\nWORKDIR /app\n");
	assert_true(strstr(strstr(r.text, "AS app"), "ARG TOKEN") == NULL);
	result_free(&r);
}

static void test_node_no_output(void **state)
{
	struct result r;

	(void)state;
	put("package.json", "{\"scripts\":{\"build\":\"webpack\",\"start\":\"node server.js\"}}");
	put("server.js", "require('./dist/bundle.js')\n");
	check_same("FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm run build\n"
		   "CMD [\"npm\", \"start\"]\n", ctxdir, &r);
	assert_has(r.notes, "skipped, no build output found in package.json");
	result_free(&r);
}

static void test_node_start_from_sources(void **state)
{
	struct result r;

	(void)state;
	put("package.json", "{\"scripts\":{\"build\":\"tsc\",\"start\":\"ts-node src/index.ts\"}}");
	put("tsconfig.json", "{\"compilerOptions\":{\"outDir\":\"dist\"}}");
	check_same("FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm run build\n"
		   "CMD [\"npm\", \"start\"]\n", ctxdir, &r);
	assert_has(r.notes, "skipped, the start command `npm start` is not one dfix understands");
	result_free(&r);
}

static void test_node_app_in_root(void **state)
{
	struct result r;

	(void)state;
	put("package.json", "{\"main\":\"lib/index.js\",\"scripts\":{\"build\":\"babel src -d lib\","
	    "\"start\":\"node lib/index.js\"}}");
	check_same("FROM node\nWORKDIR /\nCOPY . .\nRUN npm install\nRUN npm run build\n"
		   "CMD [\"npm\", \"start\"]\n", ctxdir, &r);
	assert_has(r.notes, "a directory of the system");
	result_free(&r);
}

/* ---- go ---- */

static void test_go_cgo_import_c(void **state)
{
	struct result r;

	(void)state;
	put("go.mod", "module example.com/tool\n\ngo 1.22\n");
	put("main.go", "package main\n\n// #include <stdio.h>\nimport \"C\"\n\nfunc main() {}\n");
	assert_int_equal(fix("FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/tool .\n"
			     "ENTRYPOINT [\"/out/tool\"]\n", ctxdir, &r), 0);
	assert_has(r.text, "FROM golang:1.22-bookworm AS builder\n");
	assert_has(r.text, "RUN go build -trimpath -ldflags=\"-s -w\" -o /out/tool .\n");
	assert_has(r.text, "FROM gcr.io/distroless/base-debian12:nonroot\n");
	assert_has(r.notes, "main.go imports \"C\"");
	result_free(&r);
}

static void test_go_other_os(void **state)
{
	struct result r;

	(void)state;
	put("go.mod", "module example.com/tool\n\ngo 1.22\n");
	check_same("FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN GOOS=windows go build -o tool.exe .\n"
		   "CMD [\"./tool.exe\"]\n", ctxdir, &r);
	assert_has(r.notes, "skipped, the go build at line 4 is for GOOS=windows");
	result_free(&r);
}

static void test_go_shell_cmd_becomes_exec(void **state)
{
	struct result r;

	(void)state;
	put("go.mod", "module github.com/acme/svc\n\ngo 1.22\n");
	assert_int_equal(fix("FROM golang:1.22-alpine\nWORKDIR /app\nCOPY . .\nRUN go build\n"
			     "RUN adduser -D app\nUSER app\nCMD ./svc --port 80\n", ctxdir, &r), 0);
	assert_has(r.text, "FROM gcr.io/distroless/static-debian12:nonroot\nWORKDIR /app\n"
		   "COPY --from=builder /app/svc ./svc\nCMD [\"./svc\", \"--port\", \"80\"]\n");
	result_free(&r);
}

/* ---- python, java, rust ---- */

static void test_python_user_install(void **state)
{
	struct result r;

	(void)state;
	put("requirements.txt", "flask\n");
	check_same("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install --user -r requirements.txt\n"
		   "CMD [\"python\", \"app.py\"]\n", ctxdir, &r);
	assert_has(r.notes, "`--user`");
	result_free(&r);
}

static void test_python_slim_without_build_packages(void **state)
{
	struct result r;

	(void)state;
	put("requirements.txt", "requests\n");
	check_same("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
		   "CMD [\"python\", \"main.py\"]\n", ctxdir, &r);
	assert_int_equal(r.nfindings, 0);
	result_free(&r);
}

static void test_java_not_a_jar(void **state)
{
	struct result r;

	(void)state;
	put("pom.xml", "<project><artifactId>a</artifactId><version>1</version></project>\n");
	check_same("FROM maven:3.9-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\nRUN mvn package\n"
		   "CMD [\"mvn\", \"spring-boot:run\"]\n", ctxdir, &r);
	assert_has(r.notes, "does not run `java -jar`");
	result_free(&r);
}

static void test_java_shell_glob(void **state)
{
	struct result r;

	(void)state;
	put("pom.xml", "<project><artifactId>shop</artifactId><version>2.0</version>"
	    "<properties><java.version>21</java.version></properties></project>\n");
	assert_int_equal(fix("FROM maven:3.9\nWORKDIR /app\nCOPY . .\nRUN mvn -B package\n"
			     "CMD java -jar target/*.jar\n", ctxdir, &r), 0);
	assert_has(r.text, "FROM eclipse-temurin:21-jre\nWORKDIR /app\n"
		   "COPY --from=builder /app/target/shop-2.0.jar /app/app.jar\n"
		   "CMD java -jar /app/app.jar\n");
	result_free(&r);
}

static void test_rust_workspace(void **state)
{
	struct result r;

	(void)state;
	put("Cargo.toml", "[workspace]\nmembers = [\"a\", \"b\"]\n");
	check_same("FROM rust:1.80\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
		   "CMD [\"./target/release/a\"]\n", ctxdir, &r);
	assert_has(r.notes, "workspace");
	result_free(&r);
}

static void test_rust_bins(void **state)
{
	struct result r;

	(void)state;
	put("Cargo.toml", "[package]\nname = \"srv\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"cli\"\n"
	    "path = \"src/cli.rs\"\n");
	put("src/main.rs", "fn main() {}\n");
	assert_int_equal(fix("FROM rust:1.80-bookworm\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
			     "CMD [\"/app/target/release/srv\"]\n", ctxdir, &r), 0);
	assert_has(r.text, "FROM rust:1.80-bookworm AS builder\n");
	assert_has(r.text, "COPY --from=builder /app/target/release/cli ./target/release/cli\n");
	assert_has(r.text, "COPY --from=builder /app/target/release/srv ./target/release/srv\n");
	result_free(&r);
}

/* ---- inputs that must stay cheap ---- */

static void test_many_runs_linear(void **state)
{
	struct df_buf b = DF_BUF_INIT;
	struct result r;
	clock_t t0;
	int i;

	(void)state;
	node_context();
	df_buf_adds(&b, "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\n");
	for (i = 0; i < 4000; i++)
		df_buf_addf(&b, "RUN echo step %d && mkdir -p /app/d%d\n", i, i);
	df_buf_adds(&b, "RUN npm run build\nCMD [\"npm\", \"start\"]\n");
	t0 = clock();
	assert_int_equal(fix(b.ptr, ctxdir, &r), 0);
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	assert_has(r.text, "\nFROM node:18\n");
	result_free(&r);
	df_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stdin_skips_with_finding, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_no_build_step, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_already_multi_stage, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_pragma, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_windows_escape, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_article_node, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_crlf, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_comments_move_with_instructions, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_named_stage_and_args, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_node_no_output, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_node_start_from_sources, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_node_app_in_root, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_go_cgo_import_c, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_go_other_os, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_go_shell_cmd_becomes_exec, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_python_user_install, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_python_slim_without_build_packages, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_java_not_a_jar, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_java_shell_glob, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_rust_workspace, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_rust_bins, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(test_many_runs_linear, setup_ctx, teardown_ctx),
	};

	passcase_pass = "multi-stage";
	passcase_dir = "/tmp/dfix-multistage-XXXXXX";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
