/*
 * base_image.h - what the base-image pass (base_image.c) reads in the stages
 * (base_image_scan.c): the instructions on a root, the musl caveats, the
 * builders that share the runtime's libc, the tools a smaller image lacks.
 */
#ifndef DFIX_BASE_IMAGE_H
#define DFIX_BASE_IMAGE_H

#include "apk.h"
#include "imageref.h"
#include "internal.h"

struct bi {
	struct df_ctx *ctx;
	struct df_doc *doc;
	struct df_stage *st;
	size_t ns;
	size_t *root; /* per stage: the stage whose FROM names its image */
	/* the builders the root being decided copies build output from and that
	   must share its libc (bi_builders_of): their roots, and a mark per root */
	size_t *mates, nmates;
	unsigned char *along;
};

/* The instructions of the stages on root r (built FROM one another on the
 * same base), in order:
 *   for (bi_on_root_start(&it, r); bi_on_root_next(b, &it);) ... it.inst ...
 * it.t is the stage, it.i the node. */
struct on_root {
	size_t r, t, i;
	const struct df_inst *inst;
};
void bi_on_root_start(struct on_root *it, size_t r);
int bi_on_root_next(struct bi *b, struct on_root *it);

/* ---------------------------------------------------------------- scanning */

/* A byte that ends a word of shell text (blank, operator, quote, escape). */
int bi_is_sep(unsigned char c);
/* The model of node i, NULL unless it is an instruction. */
struct df_inst *bi_inst_at(struct bi *b, size_t i);

/* Does any RUN of the stages built on root r (or of stage r alone when
 * only) contain the token / text? */
int bi_chain_run_has(struct bi *b, size_t r, const char *s, int token, size_t *line);
/* The stage a COPY --from names, or -1 (an image, or nothing). */
int bi_copy_from_stage(struct bi *b, size_t t, const struct df_inst *inst);

/* ---------------------------------------------------------------- musl caveats */

/* Why node on Alpine would break, or NULL. */
const char *bi_node_musl(struct bi *b, size_t r, char *buf, size_t cap);
/* Why binaries fetched by the stages would not run on musl, or NULL. */
const char *bi_glibc_downloads(struct bi *b, size_t r, char *buf, size_t cap);
/* Files compiled on glibc in another stage and copied in? */
const char *bi_glibc_copies(struct bi *b, size_t r, char *buf, size_t cap);

/* ---------------------------------------------------------------- builders */

/* Families whose build output holds native code linked against the builder's
 * C library (node modules, Python packages, gems, PHP extensions): a builder
 * of the same family must use the runtime's libc. Go, Rust and Java builders
 * are left as they are: static binaries and jars do not care, and a cgo
 * build keeps the runtime on glibc (bi_glibc_copies). */
int bi_libc_family(const char *family);
/* The table row (*img, NULL when none) and the variant (NULL when unknown)
 * of the image root stage q starts from. */
const struct df_variant *bi_root_variant(struct bi *b, size_t q, const struct df_image **img);
/* The roots of the stages that the stages on root r copy build output from
 * (COPY/ADD --from), and so on from those, as long as they start from an
 * image of the same family: into b->mates and b->along. */
void bi_builders_of(struct bi *b, size_t r, const char *family);
/* "`name`" or the index of stage q, for messages. */
const char *bi_stage_label(struct bi *b, size_t q, char *buf, size_t cap);

/* ---------------------------------------------------------------- apt/rpm -> apk, tools */

/* Check or apply the translation of every RUN on root r (apk.c). */
int bi_xlate_chain(struct df_apk *x, struct bi *b, size_t r, int apply);
/* Packages the stages on root r install (apt-get, apt, yum, dnf, microdnf,
 * apk), in the names they give, into set. */
void bi_collect_installed(struct bi *b, size_t r, struct df_buf *set);
/* Commands the stages on root r run (RUN, CMD, ENTRYPOINT, HEALTHCHECK):
 * each one the tool table knows is passed to fn. */
void bi_used_tools(struct bi *b, size_t r, void (*fn)(void *, const char *, size_t),
		  void *arg);
/* Add the packages (" a b ") to the first `apk add` / `apt-get install` of
 * stage t. Returns 0, or -1 when the stage has none. */
int bi_append_install(struct bi *b, size_t t, int apk, const struct df_buf *pkgs);

#endif
