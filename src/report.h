/*
 * report.h - findings with their fixes, and the formats that print them.
 *
 *   edits.c   what changed: the line diff of the input and df_fix()'s output
 *             as hunks (byte ranges of the input + replacement text), each
 *             attached to the finding it answers
 *   report.c  --report=text|json|sarif|rdjson|github|gitlab
 *
 * Both are used by the CLI (main.c), the language server (lsp.c) and the
 * tests. Ownership: struct df_changes owns copies of everything it points
 * at and is freed with df_changes_release().
 */
#ifndef DFIX_REPORT_H
#define DFIX_REPORT_H

#include "dfix.h"

#define DF_NONE ((size_t)-1)

/* diff.c: the change blocks of the line diff df_diff() prints, in order:
 * old lines [i1, i1 + c1) become new lines [i2, i2 + c2) (0-based). A NULL
 * text is empty. Returns a malloc'ed array (caller frees), *n blocks. */
struct df_diff_block {
	long i1, c1, i2, c2;
};
struct df_diff_block *df_diff_blocks(const char *old, size_t oldlen, const char *new_,
				     size_t newlen, size_t *n);

/* One change: the input's lines [old_line, old_line + old_count) become the
 * output's lines [new_line, new_line + new_count). Lines are 1-based; a
 * pure insertion (old_count 0) goes before line old_line (which may be one
 * past the last line). */
struct df_hunk {
	uint32_t old_line, old_count, new_line, new_count;
	size_t start, end;         /* bytes [start, end) of the input replaced */
	size_t new_start, new_end; /* by bytes [new_start, new_end) of the output */
	size_t owner;              /* index in df_changes.items of its finding */
};

/* The change blocks of a line diff of old and new, in order: the same
 * blocks `dfix -d` prints. Returns a malloc'ed array (caller frees), NULL
 * when the texts are equal; *n gets the count. */
struct df_hunk *df_hunks(const char *old, size_t oldlen, const char *new_, size_t newlen,
			 size_t *n);

/* A finding placed in the input, with the hunks that fix it. */
struct df_item {
	const char *pass;     /* pass id; "dfix" for a change no pass explained */
	const char *code;     /* hadolint code / BuildKit check name, or NULL */
	char *msg;            /* owned */
	int level;            /* the pass's enum df_level, -1 when unknown */
	int note;             /* carries no fix: information only */
	uint32_t line;        /* 1-based line of the finding in the input */
	size_t start, end;    /* bytes it points at: the instruction (or line),
				 without its indentation and final newline */
	size_t *hunks;        /* indices in df_changes.hunks it carries (owned) */
	size_t nhunks;
	size_t inside;        /* a hunk that covers its line (maybe another
				 finding's), or DF_NONE */
	size_t extra;         /* index in df_changes.extras it writes, or DF_NONE */
};

/* Everything dfix would change in one file. */
struct df_changes {
	char *path;               /* display path (owned) */
	char *src;                /* the input (owned copy) */
	size_t len;
	char *out;                /* df_fix()'s output: what --write writes (owned) */
	size_t outlen;
	struct df_hunk *hunks;
	size_t nhunks;
	struct df_item *items;    /* sorted by line, then in the passes' order */
	size_t nitems;
	struct df_extra *extras;  /* other files to write (owned copies) */
	size_t nextras;
	size_t *lines;            /* start offset of each line of src, plus len */
	size_t nlines;            /* number of lines (a final line without '\n'
				     counts; "" has none) */
};

/* Compute the hunks of src -> out and copy the findings and extra files of
 * ctx. The diff's change blocks are joined where an instruction runs from
 * one into the next, and split between whole instructions, so every hunk
 * replaces whole nodes and can be applied alone. Each hunk goes to one
 * finding: the first on a line it covers, else the one of its block's
 * other pieces, else the nearest finding not yet tied to a change, else
 * the nearest, else a new "dfix" finding. Extra files go to the finding
 * that names them. Release with df_changes_release(). */
void df_changes_build(struct df_changes *c, const struct df_ctx *ctx, const char *path,
		      const char *src, size_t len, const char *out, size_t outlen);
void df_changes_release(struct df_changes *c);

/* Was anything changed (the Dockerfile or an extra file)? */
int df_changes_any(const struct df_changes *c);

/* Column units for positions. */
enum df_unit {
	DF_UNIT_BYTE,  /* UTF-8 bytes (json, rdjson, text, github) */
	DF_UNIT_UTF16  /* UTF-16 code units (SARIF's default, LSP) */
};

/* 1-based line and column of byte offset off (0 <= off <= len) in text
 * with the given line starts (lines[k] = start of line k+1; lines[n] = len).
 * An offset just past a final '\n' is line n+1, column 1. Invalid UTF-8
 * counts one unit per byte. */
void df_text_pos(const char *text, const size_t *lines, size_t nlines, size_t off,
		 enum df_unit unit, uint32_t *line, uint32_t *col);
/* Line starts of a text: malloc'ed array of nlines + 1 entries. */
size_t *df_text_lines(const char *text, size_t len, size_t *nlines);

/* Apply hunks (indices into c->hunks, in increasing order; NULL = all) to
 * c->src, appending the result to out. All hunks give c->out exactly. */
void df_changes_apply(const struct df_changes *c, const size_t *which, size_t n,
		      struct df_buf *out);

/* ---- report formats (report.c) */

enum df_report_format {
	DF_REPORT_TEXT, DF_REPORT_JSON, DF_REPORT_SARIF, DF_REPORT_RDJSON,
	DF_REPORT_GITHUB, DF_REPORT_GITLAB
};

/* "text", "json", ... -> format; -1 for an unknown name. */
int df_report_format_parse(const char *name);

/* dfix's home page (SARIF informationUri, rdjson source.url): set it at
 * build time with -DDFIX_URL='"..."'. */
#ifndef DFIX_URL
#define DFIX_URL "https://github.com/dfix-project/dfix"
#endif

/* Findings of several files, printed together. */
struct df_report {
	enum df_report_format format;
	struct df_changes *files;
	size_t nfiles;
};

void df_report_init(struct df_report *r, enum df_report_format format);
/* Move the changes of one file into the report (c is left empty). */
void df_report_add(struct df_report *r, struct df_changes *c);
/* Render the report (all formats end with a newline; text and github print
 * nothing when there are no findings). */
void df_report_print(const struct df_report *r, struct df_buf *out);
void df_report_release(struct df_report *r);

/* Append the documentation URL of a code: the hadolint wiki for DLxxxx,
 * ShellCheck's wiki for SCxxxx, Docker's build-check reference for BuildKit
 * check names (JSONArgsRecommended); nothing for NULL or anything else. */
void df_rule_url(struct df_buf *out, const char *code);

/* A new jansson string of arbitrary bytes: invalid UTF-8 becomes U+FFFD
 * (JSON text is UTF-8). The caller owns the reference. */
struct json_t;
struct json_t *df_json_string(const char *p, size_t n);

#endif
