/* runs.h - helpers merge-runs and layer-cleanup share (merge_runs.c). */
#ifndef DFIX_RUNS_H
#define DFIX_RUNS_H

#include "internal.h"

/* One batch edit: nodes [first, last] become the text buf[off, off+len). */
struct df_runs_edit {
	size_t first, last; /* nodes replaced (inclusive) */
	size_t off, len;    /* their new text in the buffer */
	size_t count;       /* for the caller */
	uint32_t line;
};

/* A stage, found by a linear scan. */
struct df_runs_stage {
	size_t from, end;        /* FROM node, one past the last node */
	struct df_span image, name;
	long base;               /* the stage named by FROM, or -1 */
};

#define SH_OK 1      /* RUN goes through an sh-like shell */
#define SH_ERREXIT 2 /* ... started with -e */

/* Stages (malloc'ed, caller frees). */
struct df_runs_stage *df_runs_stages(const struct df_doc *doc, size_t *n);
/* Per node: SH_* bits of the shell its RUNs use (malloc'ed, caller frees). */
unsigned char *df_runs_shells(const struct df_doc *doc, const struct df_runs_stage *st, size_t ns);
/* Text of RUNs first..last merged into one. 0 or -1 when they cannot be. */
int df_runs_merge_text(struct df_ctx *ctx, struct df_doc *doc, size_t first, size_t last,
		       int errexit, struct df_buf *out);
/* Apply edits (sorted, not overlapping) in one splice; -1 leaves doc as is. */
int df_runs_apply(struct df_doc *doc, const struct df_runs_edit *e, size_t n, const char *buf,
		  size_t len);
/* 1 when the RUN at idx puts && at line ends, -1 at line starts, 0 unknown. */
int df_runs_style(const struct df_doc *doc, size_t idx);
/* The indent continuation lines of RUNs first..last use. */
void df_runs_indent(const struct df_ctx *ctx, const struct df_doc *doc, size_t first,
		    size_t last, struct df_buf *out);

#endif
