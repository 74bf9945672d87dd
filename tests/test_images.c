/* test_images.c - image references, the image and package tables, FROM with
 * ARG defaults, the edit helpers the image passes share, and the apt/rpm ->
 * apk translation (transforms/apk.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../transforms/apk.h"
#include "imageref.h"
#include "internal.h"

static void assert_span(struct df_span s, const char *want)
{
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.ptr, want, s.len);
}

/* ---- references ---- */

static void parse_ok(const char *text, const char *reg, const char *path, const char *name,
		     const char *tag, const char *digest)
{
	struct df_imageref r;

	assert_int_equal(df_imageref_parse(text, strlen(text), &r), 0);
	assert_span(r.text, text);
	assert_span(r.registry, reg);
	assert_span(r.path, path);
	assert_span(r.name, name);
	assert_span(r.tag, tag);
	assert_span(r.digest, digest);
	assert_int_equal(r.has_tag, *tag != '\0');
	assert_int_equal(r.has_digest, *digest != '\0');
}

static void test_ref_parse(void **state)
{
	struct df_imageref r;

	(void)state;
	parse_ok("node", "", "node", "node", "", "");
	parse_ok("node:18-alpine", "", "node", "node", "18-alpine", "");
	parse_ok("library/node:18", "", "library/node", "node", "18", "");
	parse_ok("docker.io/library/node:latest", "docker.io", "library/node", "node", "latest", "");
	parse_ok("localhost:5000/app", "localhost:5000", "app", "app", "", "");
	parse_ok("localhost/app:1", "localhost", "app", "app", "1", "");
	parse_ok("registry.example.com:443/team/sub/app:v1.2@sha256:abc", "registry.example.com:443",
		 "team/sub/app", "app", "v1.2", "sha256:abc");
	parse_ok("python@sha256:0123", "", "python", "python", "", "sha256:0123");
	parse_ok("gcr.io/distroless/static-debian12:nonroot", "gcr.io", "distroless/static-debian12",
		 "static-debian12", "nonroot", "");
	parse_ok("mcr.microsoft.com/dotnet/aspnet:8.0", "mcr.microsoft.com", "dotnet/aspnet",
		 "aspnet", "8.0", "");
	/* a first component without '.' or ':' is a namespace, not a registry */
	parse_ok("acme/app:2", "", "acme/app", "app", "2", "");

	assert_int_equal(df_imageref_parse("scratch", 7, &r), 0);
	assert_true(r.scratch);
	assert_int_equal(df_imageref_parse("acme/scratch", 12, &r), 0);
	assert_false(r.scratch);

	assert_int_equal(df_imageref_parse("", 0, &r), -1);
	assert_int_equal(df_imageref_parse("node:", 5, &r), -1);
	assert_int_equal(df_imageref_parse("node@", 5, &r), -1);
	assert_int_equal(df_imageref_parse("${BASE}", 7, &r), -1);
	assert_int_equal(df_imageref_parse("no de", 5, &r), -1);
	assert_int_equal(df_imageref_parse("/node", 5, &r), -1);
	assert_int_equal(df_imageref_parse("node/", 5, &r), -1);
}

static void key_is(const char *text, const char *want, int want_mirror)
{
	struct df_imageref r;
	char buf[256];
	int mirror = -1;

	assert_int_equal(df_imageref_parse(text, strlen(text), &r), 0);
	assert_int_equal(df_imageref_key(&r, buf, sizeof(buf), &mirror), strlen(want));
	assert_string_equal(buf, want);
	assert_int_equal(mirror, want_mirror);
}

static void test_ref_key(void **state)
{
	struct df_imageref r;
	char small[4];

	(void)state;
	key_is("node:18", "node", 0);
	key_is("library/node:18", "node", 0);
	key_is("docker.io/library/node:18", "node", 1);
	key_is("index.docker.io/library/python", "python", 1);
	key_is("docker.io/bitnami/redis", "bitnami/redis", 1);
	key_is("public.ecr.aws/docker/library/node:20", "node", 1);
	key_is("mirror.gcr.io/library/golang", "golang", 1);
	key_is("ghcr.io/acme/app:1", "ghcr.io/acme/app", 0);
	key_is("mcr.microsoft.com/dotnet/sdk:8.0", "mcr.microsoft.com/dotnet/sdk", 0);
	assert_int_equal(df_imageref_parse("node", 4, &r), 0);
	assert_int_equal(df_imageref_key(&r, small, sizeof(small), NULL), 0);
}

/* ---- the image table ---- */

static const struct df_variant *variant_of(const char *ref, const char **version)
{
	static char vbuf[64];
	struct df_imageref r;
	const struct df_image *img;
	const struct df_variant *v;
	struct df_span ver;

	assert_int_equal(df_imageref_parse(ref, strlen(ref), &r), 0);
	img = df_image_lookup(&r);
	assert_non_null(img);
	v = df_variant_lookup(img, r.tag, &ver);
	snprintf(vbuf, sizeof(vbuf), "%.*s", (int)ver.len, ver.ptr ? ver.ptr : "");
	if (version)
		*version = vbuf;
	return v;
}

static void test_image_table(void **state)
{
	const struct df_image *img;
	const struct df_variant *v;
	const char *ver;
	struct df_imageref r;

	(void)state;
	img = df_image_get("node");
	assert_non_null(img);
	assert_string_equal(img->family, "node");
	assert_string_equal(img->pin, "22");
	assert_string_equal(img->lean, "alpine");
	assert_string_equal(img->user, "node");
	assert_string_equal(df_image_get("python")->pin, "3.12");
	assert_string_equal(df_image_get("golang")->pin, "1.23");
	assert_string_equal(df_image_get("nginx")->pin, "1.27");
	assert_string_equal(df_image_get("debian")->pin, "bookworm");
	assert_string_equal(df_image_get("ubuntu")->pin, "24.04");
	assert_string_equal(df_image_get("alpine")->pin, "3.20");
	assert_null(df_image_get("openjdk")->pin);
	assert_null(df_image_get("python")->user);
	assert_true(df_image_flag(df_image_get("nginx"), "root-ports"));
	assert_false(df_image_flag(df_image_get("node"), "root-ports"));
	assert_true(df_image_flag(df_image_get("postgres"), "drops-root"));
	assert_string_equal(df_image_get("gcr.io/distroless/static-debian12")->user, "65532");
	assert_null(df_image_get("no-such-image"));
	assert_int_equal(df_imageref_parse("docker.io/library/redis:7", 25, &r), 0);
	assert_string_equal(df_image_lookup(&r)->repo, "redis");

	v = variant_of("node:18", &ver);
	assert_string_equal(v->kind, "full");
	assert_string_equal(v->libc, "glibc");
	assert_string_equal(v->pkg, "apt");
	assert_string_equal(ver, "18");
	v = variant_of("node:18.20.4-alpine3.20", &ver);
	assert_string_equal(v->kind, "alpine");
	assert_string_equal(v->libc, "musl");
	assert_string_equal(ver, "18.20.4");
	v = variant_of("node:alpine", &ver);
	assert_string_equal(v->kind, "alpine");
	assert_string_equal(ver, "");
	v = variant_of("node:20-bookworm-slim", &ver);
	assert_string_equal(v->kind, "slim");
	assert_string_equal(v->pattern, "{v}-bookworm-slim");
	v = variant_of("python:3.12-slim-bookworm", &ver);
	assert_string_equal(v->kind, "slim");
	assert_string_equal(ver, "3.12");
	v = variant_of("python:3.12-windowsservercore-ltsc2022", NULL);
	assert_string_equal(v->kind, "windows");
	v = variant_of("eclipse-temurin:17.0.9_9-jre-alpine", &ver);
	assert_string_equal(v->kind, "jre");
	assert_string_equal(ver, "17.0.9_9");
	v = variant_of("gcr.io/distroless/static-debian12", NULL);
	assert_string_equal(v->pattern, "latest*");
	assert_false(v->shell);
	assert_string_equal(v->runs_as, "root");
	v = variant_of("gcr.io/distroless/static-debian12:nonroot-amd64", NULL);
	assert_string_equal(v->runs_as, "65532");
	v = variant_of("gcr.io/distroless/base-debian12:debug-nonroot", NULL);
	assert_true(v->shell);
	assert_string_equal(v->runs_as, "65532");
	v = variant_of("mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled", NULL);
	assert_string_equal(v->kind, "distroless");
	assert_string_equal(v->runs_as, "app");
	v = variant_of("node:18-weird-suffix", NULL);
	assert_null(v);
}

static void target_is(const char *ref, const char *key, const char *want)
{
	char buf[128];
	struct df_imageref r;
	const struct df_variant *v;
	struct df_span ver;

	assert_int_equal(df_imageref_parse(ref, strlen(ref), &r), 0);
	v = df_variant_lookup(df_image_lookup(&r), r.tag, &ver);
	assert_non_null(v);
	if (!want) {
		assert_int_equal(df_variant_target(v, key, ver, buf, sizeof(buf)), -1);
		return;
	}
	assert_int_equal(df_variant_target(v, key, ver, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_targets(void **state)
{
	char tiny[4];
	struct df_imageref r;
	struct df_span ver;
	const struct df_variant *v;

	(void)state;
	target_is("node:18", "alpine", "18-alpine");
	target_is("node:18", "slim", "18-slim");
	target_is("node:18-bullseye", "slim", "18-bullseye-slim");
	target_is("node:18-slim", "alpine", "18-alpine");
	target_is("node:18-slim", "slim", NULL);
	target_is("node:18-alpine", "alpine", NULL);
	target_is("python:3.12-bookworm", "slim", "3.12-slim-bookworm");
	target_is("python:3.12", "alpine", "3.12-alpine");
	target_is("debian:bookworm", "slim", "bookworm-slim");
	target_is("eclipse-temurin:21", "jre", "21-jre");
	target_is("eclipse-temurin:21-jdk-jammy", "jre", "21-jre-jammy");
	target_is("openjdk:17.0.2-jdk-slim", "jre", "eclipse-temurin:17-jre");
	target_is("php:8.3-fpm", "alpine", "8.3-fpm-alpine");
	target_is("nginx:1.27", "alpine", "1.27-alpine");
	target_is("nginx:1.27-perl", "alpine", "1.27-alpine-perl");
	/* an empty version drops the dash: node:slim -> alpine */
	target_is("node:slim", "alpine", "alpine");
	assert_int_equal(df_imageref_parse("node:18", 7, &r), 0);
	v = df_variant_lookup(df_image_lookup(&r), r.tag, &ver);
	assert_int_equal(df_variant_target(v, "alpine", ver, tiny, sizeof(tiny)), -1);
}

static void size_is(const char *repo, const char *tag, unsigned want, const char *src)
{
	struct df_span t = { tag, strlen(tag) };
	unsigned mb = 0;
	const char *source = NULL;

	assert_int_equal(df_image_size(repo, t, &mb, &source), 0);
	assert_int_equal(mb, want);
	assert_string_equal(source, src);
}

static void test_sizes(void **state)
{
	struct df_span t = { "1", 1 };
	unsigned mb;
	const char *src;

	(void)state;
	/* the article's figures for node:18, exact tags first */
	size_is("node", "18", 910, "article:2025-10-25");
	size_is("node", "18-slim", 240, "article:2025-10-25");
	size_is("node", "18-alpine", 120, "article:2025-10-25");
	size_is("node", "22-alpine3.20", 50, "approx:2026-11");
	size_is("node", "22", 390, "approx:2026-11");
	size_is("gcr.io/distroless/static-debian12", "", 1, "approx:2026-11");
	assert_int_equal(df_image_size("no-such-image", t, &mb, &src), -1);
}

static void test_windows_tags(void **state)
{
	struct df_span a = { "ltsc2022", 8 }, b = { "8.0-nanoserver-1809", 19 },
		       c = { "3.12-windowsservercore", 22 }, d = { "3.12-slim", 9 };

	(void)state;
	assert_true(df_tag_windows(a));
	assert_true(df_tag_windows(b));
	assert_true(df_tag_windows(c));
	assert_false(df_tag_windows(d));
}

/* ---- packages ---- */

static void test_packages(void **state)
{
	const char *apt, *apk;

	(void)state;
	assert_string_equal(df_pkg_map("apt", "build-essential", 15), "build-base");
	assert_string_equal(df_pkg_map("apt", "libpq-dev", 9), "postgresql-dev");
	assert_string_equal(df_pkg_map("apt", "default-libmysqlclient-dev", 26), "mariadb-dev");
	assert_string_equal(df_pkg_map("apt", "libssl-dev", 10), "openssl-dev");
	assert_string_equal(df_pkg_map("apt", "libjpeg-dev", 11), "libjpeg-turbo-dev");
	assert_string_equal(df_pkg_map("apt", "python3-dev", 11), "python3-dev");
	assert_string_equal(df_pkg_map("apt", "libffi-dev", 10), "libffi-dev");
	assert_string_equal(df_pkg_map("apt", "libxml2-dev", 11), "libxml2-dev");
	assert_string_equal(df_pkg_map("apt", "ca-certificates", 15), "ca-certificates");
	assert_string_equal(df_pkg_map("apt", "curl", 4), "curl");
	assert_string_equal(df_pkg_map("apt", "git", 3), "git");
	assert_string_equal(df_pkg_map("apt", "tzdata", 6), "tzdata");
	assert_string_equal(df_pkg_map("apt", "apt-transport-https", 19), "");
	assert_null(df_pkg_map("apt", "libgdal-dev", 11));
	assert_null(df_pkg_map("apt", "build-essentialX", 16));
	assert_null(df_pkg_map("apt", "build-essential", 5)); /* "build" */
	assert_string_equal(df_pkg_map("rpm", "gcc-c++", 7), "g++");
	assert_string_equal(df_pkg_map("rpm", "openssl-devel", 13), "openssl-dev");
	assert_null(df_pkg_map("rpm", "libpq-dev", 9));
	/* runtime libraries for a runtime stage */
	assert_string_equal(df_pkg_map("apt-runtime", "libpq-dev", 9), "libpq5");
	assert_string_equal(df_pkg_map("apt-runtime", "build-essential", 15), "");
	assert_string_equal(df_pkg_map("apk-runtime", "postgresql-dev", 14), "libpq");
	/* commands the full images ship */
	assert_int_equal(df_tool_lookup("curl", 4, &apt, &apk), 0);
	assert_string_equal(apt, "curl ca-certificates");
	assert_string_equal(apk, "curl");
	assert_int_equal(df_tool_lookup("bash", 4, &apt, &apk), 0);
	assert_null(apt);
	assert_string_equal(apk, "bash");
	assert_int_equal(df_tool_lookup("wget", 4, &apt, &apk), 0);
	assert_null(apk);
	assert_int_equal(df_tool_lookup("node", 4, &apt, &apk), -1);
}

/* ---- FROM with ARG defaults ---- */

struct fixture {
	struct df_doc *doc;
	struct df_stage *st;
	size_t ns;
};

static void open_doc(struct fixture *f, const char *text)
{
	f->doc = df_doc_parse(text, strlen(text));
	f->st = df_stages(f->doc, &f->ns);
}

static void close_doc(struct fixture *f)
{
	free(f->st);
	df_doc_free(f->doc);
}

static void from_is(const char *text, size_t s, const char *resolved, int stage)
{
	struct fixture fx;
	struct df_from f;

	open_doc(&fx, text);
	assert_true(s < fx.ns);
	assert_int_equal(df_from_read(fx.doc, fx.st, fx.ns, s, &f), 0);
	assert_int_equal(f.stage, stage);
	if (resolved)
		assert_string_equal(f.resolved, resolved);
	else
		assert_null(f.resolved);
	close_doc(&fx);
}

static void test_from_args(void **state)
{
	(void)state;
	from_is("FROM node:18\n", 0, "node:18", -1);
	from_is("FROM --platform=$BUILDPLATFORM golang:1.23 AS build\n", 0, "golang:1.23", -1);
	from_is("ARG BASE=python:3.12\nFROM ${BASE}\n", 0, "python:3.12", -1);
	from_is("ARG BASE=python:3.12\nFROM $BASE\n", 0, "python:3.12", -1);
	from_is("ARG V=18\nFROM node:${V}-alpine\n", 0, "node:18-alpine", -1);
	from_is("ARG REG=ghcr.io/acme\nARG TAG=1.0\nFROM ${REG}/app:${TAG}\n", 0,
		"ghcr.io/acme/app:1.0", -1);
	from_is("ARG V\nFROM node:${V:-20}\n", 0, "node:20", -1);
	from_is("ARG V=\nFROM node:${V:-20}\n", 0, "node:20", -1);
	from_is("ARG V=\nFROM node:${V-20}\n", 0, NULL, -1); /* "node:" is no reference */
	from_is("ARG V=22\nFROM node:${V:+lts}\n", 0, "node:lts", -1);
	from_is("ARG A=3.12\nARG B=python:${A}\nFROM $B\n", 0, "python:3.12", -1);
	from_is("ARG Q=\"node:20\"\nFROM $Q\n", 0, "node:20", -1);
	/* no default: not known */
	from_is("ARG BASE\nFROM ${BASE}\n", 0, NULL, -1);
	from_is("FROM ${UNDECLARED}\n", 0, NULL, -1);
	/* an ARG after the first FROM is not global */
	from_is("FROM alpine\nARG X=node\nFROM $X\n", 1, NULL, -1);
	/* stage names, case-insensitively, also through a variable */
	from_is("FROM golang:1.23 AS Build\nFROM build\n", 1, NULL, 0);
	from_is("ARG S=build\nFROM alpine AS build\nFROM ${S}\n", 1, NULL, 0);
	from_is("FROM scratch\n", 0, "scratch", -1);
}

static void test_from_windows(void **state)
{
	struct fixture fx;
	struct df_from f;

	(void)state;
	open_doc(&fx, "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n");
	assert_int_equal(df_from_read(fx.doc, fx.st, fx.ns, 0, &f), 0);
	assert_true(f.windows);
	close_doc(&fx);
	open_doc(&fx, "# escape=`\nFROM alpine:3.20\n");
	assert_int_equal(df_from_read(fx.doc, fx.st, fx.ns, 0, &f), 0);
	assert_true(f.windows);
	close_doc(&fx);
	open_doc(&fx, "FROM python:3.12-nanoserver\n");
	assert_int_equal(df_from_read(fx.doc, fx.st, fx.ns, 0, &f), 0);
	assert_true(f.windows);
	close_doc(&fx);
	open_doc(&fx, "FROM python:3.12\n");
	assert_int_equal(df_from_read(fx.doc, fx.st, fx.ns, 0, &f), 0);
	assert_false(f.windows);
	close_doc(&fx);
}

static void test_stage_root(void **state)
{
	struct fixture fx;

	(void)state;
	open_doc(&fx, "FROM node:20 AS base\nFROM base AS deps\nFROM alpine AS other\n"
		      "FROM deps\n");
	assert_int_equal(fx.ns, 4);
	/* df_stages: the stage each FROM builds on (base-image follows these
	 * links to the stage that names an image) */
	assert_int_equal(fx.st[0].base, -1);
	assert_int_equal(fx.st[1].base, 0);
	assert_int_equal(fx.st[2].base, -1);
	assert_int_equal(fx.st[3].base, 1);
	close_doc(&fx);
}

/* ---- edits ---- */

static void test_edits(void **state)
{
	static const char src[] = "FROM node:18 AS web\nRUN a \\\n    b\n";
	struct df_doc *doc = df_doc_parse(src, sizeof(src) - 1);
	struct df_edits e = { 0 };
	struct df_buf out = DF_BUF_INIT;
	const struct df_inst *inst = doc->nodes[0].inst;
	size_t s, en;

	(void)state;
	/* the image word: contiguous */
	assert_int_equal(df_inst_range(inst, df_inst_log_off(inst, inst->args[0]),
				       inst->args[0].len, &s, &en), 0);
	assert_int_equal(s, 5);
	assert_int_equal(en, 12);
	df_edits_add(&e, en, en, "-alpine", 7);
	df_edits_add(&e, 13, 15, "AS", 2);
	assert_int_equal(df_edits_apply(doc, 0, &e), 0);
	assert_null(e.v);
	/* a span across a continuation is not contiguous */
	inst = doc->nodes[1].inst;
	assert_int_equal(df_inst_range(inst, df_inst_log_off(inst, inst->rest), inst->rest.len,
				       &s, &en), -1);
	/* overlapping edits are refused and change nothing */
	df_edits_add(&e, 4, 8, "x", 1);
	df_edits_add(&e, 6, 9, "y", 1);
	assert_int_equal(df_edits_apply(doc, 1, &e), -1);
	df_doc_print(doc, &out);
	assert_string_equal(out.ptr, "FROM node:18-alpine AS web\nRUN a \\\n    b\n");
	assert_int_equal(df_inst_log_off(inst, (struct df_span){ "elsewhere", 9 }), (size_t)-1);
	df_buf_release(&out);
	df_doc_free(doc);
}

static void test_devcontainer(void **state)
{
	static const char a[] = "FROM python:3\nARG USERNAME=vscode\n";
	static const char b[] = "# See .devcontainer/README\nFROM node:20\n";
	static const char c[] = "FROM node:20\nCMD [\"node\", \"dev.js\"]\n";
	struct df_doc *d;

	(void)state;
	d = df_doc_parse(a, sizeof(a) - 1);
	assert_true(df_doc_devcontainer(d));
	df_doc_free(d);
	d = df_doc_parse(b, sizeof(b) - 1);
	assert_true(df_doc_devcontainer(d));
	df_doc_free(d);
	d = df_doc_parse(c, sizeof(c) - 1);
	assert_false(df_doc_devcontainer(d));
	df_doc_free(d);
}

static void test_notes(void **state)
{
	struct df_ctx ctx;
	static const struct df_pass pass = { .id = "x" };

	(void)state;
	df_ctx_init(&ctx);
	ctx.current = &pass;
	df_img_note(&ctx, "DL3002", 3, "once %d", 1);
	df_img_note(&ctx, "DL3002", 7, "once %d", 1);
	df_img_note(&ctx, NULL, 3, "other");
	assert_int_equal(ctx.nfindings, 2);
	assert_string_equal(ctx.findings[0].msg, "once 1");
	assert_string_equal(ctx.findings[0].pass, "x");
	assert_int_equal(ctx.findings[0].line, 3);
	df_ctx_release(&ctx);
}

/* ---- apk translation ---- */

static void test_apk_sets(void **state)
{
	struct df_buf set = DF_BUF_INIT;

	(void)state;
	assert_false(df_pkgset_has(&set, "curl", 4));
	df_pkgset_add(&set, "curl", 4);
	df_pkgset_add(&set, "git", 3);
	df_pkgset_add(&set, "curl", 4);
	assert_int_equal(set.len, strlen(" curl git "));
	assert_memory_equal(set.ptr, " curl git ", set.len);
	assert_true(df_pkgset_has(&set, "git", 3));
	assert_false(df_pkgset_has(&set, "gi", 2));
	assert_false(df_pkgset_has(&set, "url", 3));
	df_buf_release(&set);
}

static void test_apk_scans(void **state)
{
	static const char text[] = "CC=/usr/bin/cc make && \"g++\" -o x;bash";
	struct df_span s = { text, sizeof(text) - 1 };

	(void)state;
	assert_true(df_apk_has_word(s, "make"));
	assert_true(df_apk_has_word(s, "g++"));
	assert_true(df_apk_has_word(s, "bash"));
	assert_true(df_apk_has_word(s, "cc")); /* the last path component */
	assert_false(df_apk_has_word(s, "CC"));
	assert_false(df_apk_has_word(s, "mak"));
	assert_false(df_apk_has_word(s, "x;bash"));
	assert_true(df_apk_has_text(s, "bin/c"));
	assert_false(df_apk_has_text(s, "clang"));
}

/* Translate every stage of src (apply or check); the result in *out. */
static int translate(const char *src, int apply, struct df_buf *out, char *why, size_t cap,
		     struct df_buf *apk)
{
	struct df_doc *doc = df_doc_parse(src, strlen(src));
	struct df_ctx ctx;
	struct df_apk x;
	int rc;

	df_ctx_init(&ctx);
	df_apk_init(&x, &ctx, doc);
	rc = df_apk_translate(&x, 1, doc->nnodes, apply);
	snprintf(why, cap, "%s", x.why);
	if (apk)
		df_buf_add(apk, x.apk.ptr, x.apk.len);
	df_doc_print(doc, out);
	df_buf_addc(out, '\0');
	df_apk_release(&x);
	df_ctx_release(&ctx);
	df_doc_free(doc);
	return rc;
}

static void test_apk_translate(void **state)
{
	static const char src[] =
		"FROM python:3.12\n"
		"RUN apt-get update \\\n"
		"    && apt-get install -y --no-install-recommends curl build-essential \\\n"
		"    && rm -rf /var/lib/apt/lists/*\n"
		"RUN groupadd -r app && useradd -r -g app -u 1001 app\n"
		"RUN apt-get clean\n"
		"CMD [\"python\", \"app.py\"]\n";
	struct df_buf out = DF_BUF_INIT, apk = DF_BUF_INIT;
	char why[256];

	(void)state;
	/* checking changes nothing */
	assert_int_equal(translate(src, 0, &out, why, sizeof(why), &apk), 0);
	assert_string_equal(out.ptr, src);
	assert_string_equal(why, "");
	df_buf_addc(&apk, '\0');
	assert_string_equal(apk.ptr, " curl build-base ");
	df_buf_reset(&out);
	assert_int_equal(translate(src, 1, &out, why, sizeof(why), NULL), 0);
	assert_string_equal(out.ptr,
			    "FROM python:3.12\n"
			    "RUN apk add --no-cache curl build-base\n"
			    "RUN addgroup -S app && adduser -D -S -G app -u 1001 app\n"
			    "CMD [\"python\", \"app.py\"]\n");
	df_buf_release(&out);
	df_buf_release(&apk);
}

static void test_apk_refuse(void **state)
{
	static const char *const bad[][2] = {
		{ "FROM node:20\nRUN apt-get install -y libvips-tools\n", "libvips-tools" },
		{ "FROM node:20\nRUN apt-get install -y curl=7.88.1-10\n", "Debian version" },
		{ "FROM node:20\nRUN apt-get install -y $PKGS\n", "variable" },
		{ "FROM node:20\nRUN <<EOF\napt-get install -y curl\nEOF\n", "heredoc" },
		{ "FROM node:20\nRUN dpkg -i /tmp/x.deb\n", "dpkg" },
		{ "FROM node:20\nRUN apt-get update || true\n", "||" },
		{ "FROM node:20\nONBUILD RUN apt-get install -y curl\n", "ONBUILD" },
	};
	struct df_buf out = DF_BUF_INIT;
	char why[256];
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		df_buf_reset(&out);
		assert_int_equal(translate(bad[k][0], 0, &out, why, sizeof(why), NULL), -1);
		assert_non_null(strstr(why, bad[k][1]));
		assert_non_null(strstr(why, "(line 2)"));
		assert_string_equal(out.ptr, bad[k][0]);
	}
	df_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_ref_key),
		cmocka_unit_test(test_image_table),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_windows_tags),
		cmocka_unit_test(test_packages),
		cmocka_unit_test(test_from_args),
		cmocka_unit_test(test_from_windows),
		cmocka_unit_test(test_stage_root),
		cmocka_unit_test(test_edits),
		cmocka_unit_test(test_devcontainer),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_apk_sets),
		cmocka_unit_test(test_apk_scans),
		cmocka_unit_test(test_apk_translate),
		cmocka_unit_test(test_apk_refuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
