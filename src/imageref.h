/*
 * imageref.h - image references, the image and package tables, and the small
 * helpers the image passes (pin-tag, base-image, non-root) share.
 *
 * Sections:
 *   1. references  registry:port/ns/name:tag@digest, parsed as spans
 *   2. FROM        the image a stage starts from, ARG defaults substituted
 *   3. images      the image table (transforms/images.tsv)
 *   4. packages    package names across distributions (transforms/packages.tsv)
 *   5. edits       byte edits inside one node, findings without repeats
 *
 * The tables are read once, on first use, from the copies compiled into dfix
 * (transforms/images_data.c, generated from the .tsv files by
 * tools/gen_tables.py) and then from the files named by the environment
 * variables DFIX_IMAGES and DFIX_PACKAGES, whose rows replace the built-in
 * rows with the same key. A bad user file stops dfix (df_die). Table entries
 * live until the process exits; nothing here needs freeing unless it says so.
 */
#ifndef DFIX_IMAGEREF_H
#define DFIX_IMAGEREF_H

#include "dfix.h"

/* ---------------------------------------------------------------- 1. references */

struct df_imageref {
	struct df_span text;     /* the whole reference */
	struct df_span registry; /* "ghcr.io", "localhost:5000"; empty for Docker Hub */
	struct df_span path;     /* what follows the registry: "library/node", "ns/app" */
	struct df_span name;     /* the last path component: "node", "app" */
	struct df_span tag;      /* after ':' (empty when there is none) */
	struct df_span digest;   /* after '@': "sha256:..." (empty when none) */
	int has_tag, has_digest;
	int scratch;             /* the reserved name "scratch" */
};

/* Split a reference (no variables: resolve them first). Returns 0, or -1
 * when the text cannot be a reference (empty, blanks, "$", empty parts).
 * The spans point into p. */
int df_imageref_parse(const char *p, size_t n, struct df_imageref *r);

/* The repository as the image table names it, written NUL-terminated to buf:
 * Docker Hub's "docker.io/", "index.docker.io/", "registry-1.docker.io/" and
 * "library/", and the official-image mirrors "public.ecr.aws/docker/library/"
 * and "mirror.gcr.io/(library/)" are dropped; other registries are kept
 * ("ghcr.io/org/app", "mcr.microsoft.com/dotnet/aspnet"). Returns the
 * length, or 0 when it does not fit. *mirror (may be NULL) is set to 1 when
 * a registry prefix was dropped (so the written key is not what the file says). */
size_t df_imageref_key(const struct df_imageref *r, char *buf, size_t cap, int *mirror);

/* ---------------------------------------------------------------- 2. FROM */

struct df_from {
	size_t idx;             /* node index of the FROM */
	struct df_span word;    /* the image argument as BuildKit reads it (in the
				   instruction's logical line) */
	int has_var;            /* it has $ expansions */
	const char *resolved;   /* the word with the global ARG defaults
				   substituted (arena), NULL when that is not known */
	struct df_imageref ref; /* parse of `resolved` (valid when resolved != NULL) */
	int stage;              /* >= 0: the word names that earlier stage */
	int windows;            /* a Windows image, or a file with `# escape=\`` */
};

/* Read the FROM of stage s (an entry of df_stages()). Substitutes $NAME,
 * ${NAME}, ${NAME:-word} and ${NAME-word} with the defaults of the ARGs
 * declared before the first FROM, as BuildKit does with no --build-arg.
 * Returns 0, or -1 when the FROM has no image argument. */
int df_from_read(struct df_doc *doc, const struct df_stage *st, size_t ns, size_t s,
		 struct df_from *out);

/* ---------------------------------------------------------------- 3. images */

struct df_image {
	const char *repo;    /* key, see df_imageref_key */
	const char *family;  /* node python go java build ruby php rust web os rpm db
				dotnet distroless windows busybox */
	const char *pin;     /* tag for pin-tag, or NULL */
	const char *lean;    /* base-image's default: alpine slim jre keep */
	const char *user;    /* non-root user the image ships, or NULL */
	const char *flags;   /* comma list (root-ports, drops-root, build-tool,
				deprecated), "" when none */
};

struct df_variant {
	const char *repo;
	const char *pattern; /* tag pattern: {v} version, trailing '*' */
	const char *kind;    /* full slim alpine jdk jre distroless windows */
	const char *libc;    /* glibc musl none */
	const char *pkg;     /* apt apk dnf yum microdnf tdnf none, or NULL (unknown) */
	int shell;           /* /bin/sh present */
	const char *runs_as; /* "root" or the user the image runs as */
	const char *targets; /* "key=pattern,..." or "" */
};

/* The table row of a repository key (df_imageref_key), or NULL. */
const struct df_image *df_image_get(const char *repo);
/* The same from a reference. */
const struct df_image *df_image_lookup(const struct df_imageref *r);
int df_image_flag(const struct df_image *img, const char *flag);

/* The variant of img a tag belongs to (the most specific pattern that
 * matches), or NULL. *version (may be NULL) gets the part {v} matched
 * (empty when the pattern has none). An empty tag is read as "latest". */
const struct df_variant *df_variant_lookup(const struct df_image *img, struct df_span tag,
					   struct df_span *version);

/* The target pattern for key ("slim", "alpine", "jre", ...) of a variant,
 * expanded with the version: "18-alpine", or "eclipse-temurin:17-jre" for a
 * target in another repository. Writes to buf (NUL-terminated); returns 0,
 * or -1 when the variant has no such target or it does not fit. */
int df_variant_target(const struct df_variant *v, const char *key, struct df_span version,
		      char *buf, size_t cap);

/* Size in MB of repo:tag and where it was read ("article:2025-10-25",
 * "approx:2026-11"). Returns 0, or -1 when the table has no size for it. */
int df_image_size(const char *repo, struct df_span tag, unsigned *mb, const char **source);

/* Is the tag a Windows one (windowsservercore, nanoserver, ltsc20xx)? */
int df_tag_windows(struct df_span tag);

/* ---------------------------------------------------------------- 4. packages */

/* The packages to install instead of `name` (kind "apt", "rpm", "apt-runtime",
 * "apk-runtime"): a space-separated list, "" for nothing, NULL when the table
 * has no row for it. */
const char *df_pkg_map(const char *kind, const char *name, size_t n);

/* A command the full images ship (tool rows): the Debian and Alpine packages
 * that provide it, NULL when the variant already has it. Returns 0, or -1
 * when the command is not in the table. */
int df_tool_lookup(const char *name, size_t n, const char **apt, const char **apk);

/* ---------------------------------------------------------------- 5. edits */

/* Byte edits to one node's text, applied together. Offsets are in the node
 * text (n->text); replacements are copied. */
struct df_edit {
	size_t start, end;
	char *text; /* malloc'ed */
	size_t len;
};
struct df_edits {
	struct df_edit *v;
	size_t n, cap;
};
void df_edits_add(struct df_edits *e, size_t start, size_t end, const char *text, size_t len);
/* Apply to node idx with df_doc_replace. Returns 0, or -1 when edits overlap
 * or the result does not parse (the node is then unchanged). The edits are
 * released either way. */
int df_edits_apply(struct df_doc *doc, size_t idx, struct df_edits *e);
void df_edits_release(struct df_edits *e);

/* The node-text range of the logical span [off, off+len) of an instruction,
 * when those bytes are contiguous in the node (no continuation inside):
 * returns 0 and sets *start, *end; -1 otherwise. */
int df_inst_range(const struct df_inst *inst, size_t off, size_t len, size_t *start,
		  size_t *end);
/* Offset in inst->logical of a span that points into it. */
size_t df_inst_log_off(const struct df_inst *inst, struct df_span s);

/* Is this a development container (VS Code dev containers: the text names
 * "devcontainer" or "vscode")? Its image is a workstation: the image passes
 * leave its base and user alone. Decided on the text, not the path, so
 * that fixing the output again gives the same answer. */
int df_doc_devcontainer(const struct df_doc *doc);

/* A finding that only reports (no change): added once per pass and message,
 * however many rounds the driver runs. */
void df_img_note(struct df_ctx *ctx, const char *code, uint32_t line, const char *fmt, ...)
	DF_PRINTF(4, 5);

/* ---------------------------------------------------------------- 6. generated data */

/* transforms/images_data.c: the .tsv files, one string per line, NULL-ended,
 * and the --explain text of base-image. */
extern const char *const df_images_tsv[];
extern const char *const df_packages_tsv[];
extern const char df_base_image_doc[];

#endif
