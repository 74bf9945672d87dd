/*
 * apk.h - package steps for Alpine: apt-get/apt/aptitude and yum/dnf/microdnf/
 * tdnf become `apk add --no-cache` / `apk del` / `apk upgrade`, package names
 * go through the package table (df_pkg_map, kinds "apt" and "rpm"),
 * useradd/groupadd/Debian's adduser become busybox adduser -D/addgroup, and
 * `apt-get update`, `apt-get clean` and the removal of /var/lib/apt/lists go.
 * base-image uses it when a stage moves to an Alpine variant.
 *
 * Sections:
 *   1. translation  check or apply, stage by stage
 *   2. package sets " a b " lists of package names
 *   3. text scans   tokens and substrings of instruction text
 *
 * A translation is all or nothing per stage chain: the caller checks every
 * stage first (apply == 0) and only then applies (apply == 1), so a refusal
 * (an unknown package, an option apk lacks, a step in a heredoc...) leaves
 * the document unchanged and says why.
 */
#ifndef DFIX_APK_H
#define DFIX_APK_H

#include "internal.h"

/* ---------------------------------------------------------------- 1. translation */

struct df_apk {
	struct df_ctx *ctx;   /* for df_pass_ignored */
	struct df_doc *doc;
	char why[256];        /* the first thing that cannot be translated, with
				 its line; "" while everything could be */
	struct df_buf apk;    /* " pkg pkg " Alpine packages the steps install */
	struct df_buf native; /* " pkg pkg " the same in the source's own names */
	int bash;             /* the instructions seen use bash */
};

/* Start (zeroed) for doc; release frees the two sets. */
void df_apk_init(struct df_apk *x, struct df_ctx *ctx, struct df_doc *doc);
void df_apk_release(struct df_apk *x);

/* Check (apply == 0) or translate (apply == 1) the instructions at nodes
 * [first, end) of x->doc, last first: a RUN whose every command goes is
 * removed, so only nodes at or after `first` move. Returns 0, or -1 with
 * x->why set (when applying, RUNs after the refused one may already be
 * translated: check first). Collects x->apk, x->native and x->bash. */
int df_apk_translate(struct df_apk *x, size_t first, size_t end, int apply);

/* ---------------------------------------------------------------- 2. package sets */

/* A set is a df_buf holding " a b c " (or nothing): each name with a blank
 * on both sides. */
int df_pkgset_has(const struct df_buf *set, const char *p, size_t n);
/* Add p[0..n) unless it is there. */
void df_pkgset_add(struct df_buf *set, const char *p, size_t n);

/* ---------------------------------------------------------------- 3. text scans */

/* Is w a shell token of s (split at blanks and ; & | ( ) < > quotes `
 * backslash), or the last path component of one ("/usr/bin/gcc")? */
int df_apk_has_word(struct df_span s, const char *w);
/* Does s contain needle? */
int df_apk_has_text(struct df_span s, const char *needle);

#endif
