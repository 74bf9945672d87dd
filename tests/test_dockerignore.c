/* test_dockerignore.c - the dockerignore pass: which file it writes, what
 * it adds for each ecosystem, how it merges, and that it never hides what
 * the Dockerfile uses. Each test builds a context in a temporary directory,
 * runs df_fix with only this pass and reads ctx.extras and ctx.findings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfix.h"

static char dir[64];

/* The bytes at p start with the literal lit. */
#define STARTS(p, lit) assert_memory_equal(p, lit, sizeof(lit) - 1)

static int setup(void **state)
{
	strcpy(dir, "/tmp/dfix-di-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Write dir/rel (parents made), content as given. */
static void put(const char *rel, const char *text)
{
	char path[512], *s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (s = path + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
}

struct result {
	struct df_ctx ctx;
	char want_path[512];
	const struct df_extra *extra; /* the ignore file, or NULL */
};

/* Run the pass (plus `also`, or NULL) on dir/name with dir as the context. */
static void run_with(struct result *r, const char *name, const char *dockerfile,
		     const char *also, int with_context)
{
	struct df_buf out = DF_BUF_INIT;
	const char *why = NULL;
	static char path[512];
	size_t i;

	put(name, dockerfile);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	df_ctx_init(&r->ctx);
	r->ctx.path = path;
	r->ctx.context_dir = with_context ? dir : NULL;
	for (i = 0; df_passes[i]; i++)
		r->ctx.enabled[i] = !strcmp(df_passes[i]->id, "dockerignore") ||
				    (also && !strcmp(df_passes[i]->id, also));
	assert_int_equal(df_fix(&r->ctx, dockerfile, strlen(dockerfile), &out, &why), 0);
	df_buf_release(&out);
	r->extra = r->ctx.nextras ? &r->ctx.extras[0] : NULL;
	assert_true(r->ctx.nextras <= 1);
}

static void run_pass(struct result *r, const char *dockerfile)
{
	run_with(r, "Dockerfile", dockerfile, NULL, 1);
}

static void done(struct result *r)
{
	df_ctx_release(&r->ctx);
}

/* The new text has this line / does not. */
static int has_line(const struct df_extra *e, const char *line)
{
	size_t n = strlen(line);
	const char *p = e->text, *end = e->text + e->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len && p[len - 1] == '\r')
			len--;
		if (len == n && !memcmp(p, line, n))
			return 1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static size_t findings_with(const struct df_ctx *ctx, const char *code, const char *sub)
{
	size_t i, k = 0;

	for (i = 0; i < ctx->nfindings; i++)
		if ((!code || (ctx->findings[i].code && !strcmp(ctx->findings[i].code, code))) &&
		    strstr(ctx->findings[i].msg, sub))
			k++;
	return k;
}

/* Write the proposed file and run again: nothing more to do. */
static void assert_settled(struct result *r, const char *dockerfile)
{
	struct result again;
	FILE *f = fopen(r->extra->path, "wb");

	assert_non_null(f);
	fwrite(r->extra->text, 1, r->extra->len, f);
	fclose(f);
	run_pass(&again, dockerfile);
	assert_null(again.extra);
	done(&again);
}

/* ---- new files ---- */

static const char node_df[] =
	"FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"index.js\"]\n";

static void node_new_file(void **state)
{
	struct result r;
	char want[512];

	put("package.json", "{}\n");
	run_pass(&r, node_df);
	assert_non_null(r.extra);
	snprintf(want, sizeof(want), "%s/.dockerignore", dir);
	assert_string_equal(r.extra->path, want);
	assert_null(r.extra->old);
	STARTS(r.extra->text, "# added by dfix\n.git\n.env\n*.log\n");
	assert_true(has_line(r.extra, "node_modules"));
	assert_true(has_line(r.extra, "Dockerfile*"));
	assert_true(has_line(r.extra, "coverage/"));
	assert_false(has_line(r.extra, "**/__pycache__"));
	assert_false(has_line(r.extra, ".next/cache")); /* not a Next.js app */
	assert_int_equal(findings_with(&r.ctx, NULL, "wrote 11 entries"), 1);
	assert_settled(&r, node_df);
	done(&r);
}

static void python_new_file(void **state)
{
	static const char df[] = "FROM python:3.12\nCOPY . /app\nRUN pip install /app\n";
	struct result r;

	put("requirements.txt", "flask\n");
	run_pass(&r, df);
	assert_true(has_line(r.extra, "**/__pycache__"));
	assert_true(has_line(r.extra, "**/*.pyc"));
	assert_true(has_line(r.extra, ".venv"));
	assert_true(has_line(r.extra, ".git"));
	assert_false(has_line(r.extra, "node_modules"));
	done(&r);
}

static void python_version_from_git_keeps_git(void **state)
{
	static const char df[] = "FROM python:3.12\nCOPY . /app\nRUN pip install /app\n";
	struct result r;

	put("pyproject.toml", "[build-system]\nrequires = [\"setuptools\", \"setuptools-scm\"]\n");
	run_pass(&r, df);
	assert_false(has_line(r.extra, ".git"));
	assert_int_equal(findings_with(&r.ctx, NULL, "did not add `.git`"), 1);
	done(&r);
}

static void stdin_without_context(void **state)
{
	struct result r;

	run_with(&r, "Dockerfile", node_df, NULL, 0);
	assert_null(r.extra);
	assert_int_equal(findings_with(&r.ctx, NULL, "no build context"), 1);
	done(&r);
}

/* ---- merging ---- */

static void merge_keeps_user_lines(void **state)
{
	struct result r;
	static const char old[] = "# mine\nsecrets/\n\n*.tmp\nnode_modules/\n";

	put("package.json", "{}\n");
	put(".dockerignore", old);
	run_pass(&r, node_df);
	assert_non_null(r.extra->old);
	assert_int_equal(r.extra->oldlen, strlen(old));
	assert_memory_equal(r.extra->text, old, strlen(old));
	STARTS(r.extra->text + strlen(old), "\n# added by dfix\n.git\n");
	/* node_modules/ is node_modules: not added twice */
	assert_false(has_line(r.extra, "node_modules"));
	assert_settled(&r, node_df);
	done(&r);
}

static void merge_keeps_crlf_and_adds_final_newline(void **state)
{
	struct result r;

	put(".dockerignore", "a\r\nb");
	run_pass(&r, "FROM alpine\nCOPY . .\n");
	STARTS(r.extra->text, "a\r\nb\r\n\r\n# added by dfix\r\n.git\r\n");
	done(&r);
}

static void merge_under_existing_header(void **state)
{
	struct result r;

	put(".dockerignore", "x\n\n# added by dfix\n.git\n");
	run_pass(&r, "FROM alpine\nCOPY . .\n");
	STARTS(r.extra->text, "x\n\n# added by dfix\n.git\n.env\n");
	done(&r);
}

static void whitelist_file_needs_nothing(void **state)
{
	struct result r;

	put(".dockerignore", "*\n!src\n");
	put("src/a.c", "");
	run_pass(&r, "FROM alpine\nCOPY src /src\n");
	assert_null(r.extra);
	done(&r);
}

static void invalid_file_is_left_alone(void **state)
{
	struct result r;

	put(".dockerignore", "a[\n");
	run_pass(&r, "FROM alpine\nCOPY . .\n");
	assert_null(r.extra);
	assert_int_equal(findings_with(&r.ctx, NULL, "not merged"), 1);
	done(&r);
}

/* ---- never hide what the build uses ---- */

static void copied_files_are_not_hidden(void **state)
{
	static const char df[] = "FROM alpine\nCOPY Dockerfile .env /etc/app/\n";
	struct result r;

	run_pass(&r, df);
	assert_false(has_line(r.extra, "Dockerfile*"));
	assert_false(has_line(r.extra, ".env"));
	assert_true(has_line(r.extra, ".git"));
	assert_int_equal(findings_with(&r.ctx, NULL, "did not add `Dockerfile*`"), 1);
	assert_int_equal(findings_with(&r.ctx, NULL, "did not add `.env`"), 1);
	done(&r);
}

static void user_pattern_hiding_a_copy_gets_an_exception(void **state)
{
	static const char df[] = "FROM python:3.12\nCOPY README.md /app/\nCOPY . /app\n"
				 "WORKDIR /app\nRUN pytest tests/\n";
	struct result r;

	put(".dockerignore", "*.md\ntests/\n");
	put("README.md", "hi\n");
	put("tests/test_a.py", "");
	put("requirements.txt", "");
	run_pass(&r, df);
	assert_true(has_line(r.extra, "!README.md"));
	assert_true(has_line(r.extra, "!tests"));
	assert_int_equal(findings_with(&r.ctx, "CopyIgnoredFile", "`*.md` excludes README.md"), 1);
	assert_int_equal(findings_with(&r.ctx, "CopyIgnoredFile", "`tests/` excludes tests"), 1);
	assert_settled(&r, df);
	done(&r);
}

static void glob_sources_protect_their_directory(void **state)
{
	static const char df[] = "FROM eclipse-temurin:21\nCOPY target/*.jar /app.jar\n";
	struct result r;

	put("pom.xml", "<project/>\n");
	run_pass(&r, df); /* no target/ yet: CI builds the jar first */
	assert_false(has_line(r.extra, "target/"));
	assert_int_equal(findings_with(&r.ctx, NULL, "copies target/*.jar"), 1);
	done(&r);
}

static void stage_copies_and_heredocs_are_not_context(void **state)
{
	static const char df[] =
		"FROM rust:1 AS b\nCOPY . .\nRUN cargo build --release\n"
		"FROM debian\nCOPY --from=b /target/release/app /app\n"
		"COPY <<EOF /etc/conf\nx\nEOF\n";
	struct result r;

	put("Cargo.toml", "[package]\n");
	run_pass(&r, df);
	assert_true(has_line(r.extra, "target/"));
	done(&r);
}

static void user_exception_is_respected(void **state)
{
	struct result r;

	put(".dockerignore", "!keep.log\n");
	run_pass(&r, "FROM alpine\nCOPY . .\n");
	assert_false(has_line(r.extra, "*.log"));
	assert_int_equal(findings_with(&r.ctx, NULL, "`!keep.log` (line 1) keeps it"), 1);
	done(&r);
}

static void run_git_keeps_git(void **state)
{
	struct result r;

	run_pass(&r, "FROM alpine\nCOPY . .\nRUN git describe --tags > /version\n");
	assert_false(has_line(r.extra, ".git"));
	done(&r);
}

static void run_rm_is_not_a_read(void **state)
{
	struct result r;

	put("package.json", "{}\n");
	put("node_modules/a/index.js", "");
	run_pass(&r, "FROM node:20\nCOPY . .\nRUN rm -rf node_modules && npm ci\n");
	assert_true(has_line(r.extra, "node_modules"));
	done(&r);
}

static void go_vendor_only_when_unused(void **state)
{
	struct result r;

	put("go.mod", "module x\n\ngo 1.22\n");
	put("vendor/modules.txt", "");
	run_pass(&r, "FROM golang:1.22\nCOPY . .\nRUN go build ./...\n");
	assert_false(has_line(r.extra, "vendor/"));
	assert_int_equal(findings_with(&r.ctx, NULL, "kept vendor/"), 1);
	done(&r);
	run_pass(&r, "FROM golang:1.22\nCOPY go.* .\nRUN go mod download\nCOPY . .\nRUN go build\n");
	assert_true(has_line(r.extra, "vendor/"));
	done(&r);
	/* before the whole copy, words made of quoted pieces count too */
	run_pass(&r, "FROM golang:1.22\nCOPY go.* .\nRUN go \"mo\"d download\nCOPY . .\nRUN go build\n");
	assert_true(has_line(r.extra, "vendor/"));
	done(&r);
	run_pass(&r, "FROM golang:1.22\nCOPY go.* .\nRUN go mod download && go build -m'od'=\\vendor\n"
		     "COPY . .\n");
	assert_false(has_line(r.extra, "vendor/"));
	assert_int_equal(findings_with(&r.ctx, NULL, "(-mod=vendor)"), 1);
	done(&r);
}

static void sibling_dockerfiles_share_the_file(void **state)
{
	struct result r;

	put("Dockerfile.dev", "FROM alpine\nCOPY .env /app/\n");
	run_pass(&r, "FROM alpine\nCOPY . .\n");
	assert_false(has_line(r.extra, ".env"));
	assert_int_equal(findings_with(&r.ctx, NULL, "Dockerfile.dev: COPY at line 2 uses .env"), 1);
	done(&r);
}

static void findings_once_across_rounds(void **state)
{
	struct result r;

	/* the format pass changes the file: the driver runs a second round */
	run_with(&r, "Dockerfile", "from alpine\nCOPY Dockerfile /\n", "format", 1);
	assert_int_equal(findings_with(&r.ctx, NULL, "did not add `Dockerfile*`"), 1);
	assert_int_equal(findings_with(&r.ctx, NULL, "wrote"), 1);
	done(&r);
}

/* ---- which file ---- */

static void per_dockerfile_convention(void **state)
{
	struct result r;
	char want[512];

	put("web.Dockerfile.dockerignore", "node_modules\n");
	put(".dockerignore", "secrets/\n");
	run_with(&r, "api.Dockerfile", "FROM alpine\nCOPY . .\n", NULL, 1);
	snprintf(want, sizeof(want), "%s/api.Dockerfile.dockerignore", dir);
	assert_string_equal(r.extra->path, want);
	assert_null(r.extra->old);
	/* seeded with the context's file, which BuildKit then stops reading */
	STARTS(r.extra->text, "secrets/\n\n# added by dfix\n");
	done(&r);
}

static void per_dockerfile_file_in_effect(void **state)
{
	struct result r;
	char want[512];

	put("Dockerfile.dockerignore", ".git\n");
	run_pass(&r, "FROM alpine\nCOPY . .\n");
	snprintf(want, sizeof(want), "%s/Dockerfile.dockerignore", dir);
	assert_string_equal(r.extra->path, want);
	STARTS(r.extra->old, ".git\n");
	done(&r);
}

static void no_convention_uses_context_file(void **state)
{
	struct result r;
	char want[512];

	run_with(&r, "api.Dockerfile", "FROM alpine\nCOPY . .\n", NULL, 1);
	snprintf(want, sizeof(want), "%s/.dockerignore", dir);
	assert_string_equal(r.extra->path, want);
	assert_true(has_line(r.extra, "*.Dockerfile"));
	done(&r);
}

static void windows_context(void **state)
{
	static const char df[] = "# escape=`\nFROM mcr.microsoft.com/dotnet/sdk:8.0-nanoserver-ltsc2022\n"
				 "COPY . C:\\src\nRUN dotnet publish -o C:\\out\n";
	struct result r;

	put("App.csproj", "<Project/>\n");
	run_pass(&r, df);
	STARTS(r.extra->text, "# added by dfix\r\n.git\r\n");
	assert_true(has_line(r.extra, "**/bin/"));
	assert_true(has_line(r.extra, "**/obj/"));
	assert_true(has_line(r.extra, ".vs/"));
	assert_false(has_line(r.extra, "**/.DS_Store"));
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(node_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(python_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(python_version_from_git_keeps_git, setup, teardown),
		cmocka_unit_test_setup_teardown(stdin_without_context, setup, teardown),
		cmocka_unit_test_setup_teardown(merge_keeps_user_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(merge_keeps_crlf_and_adds_final_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(merge_under_existing_header, setup, teardown),
		cmocka_unit_test_setup_teardown(whitelist_file_needs_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_file_is_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(copied_files_are_not_hidden, setup, teardown),
		cmocka_unit_test_setup_teardown(user_pattern_hiding_a_copy_gets_an_exception, setup, teardown),
		cmocka_unit_test_setup_teardown(glob_sources_protect_their_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(stage_copies_and_heredocs_are_not_context, setup, teardown),
		cmocka_unit_test_setup_teardown(user_exception_is_respected, setup, teardown),
		cmocka_unit_test_setup_teardown(run_git_keeps_git, setup, teardown),
		cmocka_unit_test_setup_teardown(run_rm_is_not_a_read, setup, teardown),
		cmocka_unit_test_setup_teardown(go_vendor_only_when_unused, setup, teardown),
		cmocka_unit_test_setup_teardown(sibling_dockerfiles_share_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(findings_once_across_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(per_dockerfile_convention, setup, teardown),
		cmocka_unit_test_setup_teardown(per_dockerfile_file_in_effect, setup, teardown),
		cmocka_unit_test_setup_teardown(no_convention_uses_context_file, setup, teardown),
		cmocka_unit_test_setup_teardown(windows_context, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
