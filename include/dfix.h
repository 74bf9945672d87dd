/*
 * dfix.h - the public API of dfix, a lossless Dockerfile rewriter.
 *
 * Sections:
 *   1. utilities   memory that dies on OOM, growable buffers, the arena
 *   2. documents   the concrete syntax tree (CST): parse, print, edit
 *   3. instructions  the BuildKit view of one instruction (read-only model)
 *   4. passes      the registry, the run context, findings
 *   5. output      dump, diff, write
 *
 * Ownership: a function that returns allocated memory says who frees it.
 * Everything hanging off a struct df_doc (nodes, lines, replaced text, models)
 * lives in the document's arena and is freed by df_doc_free().
 * Source text is always a (ptr, len) span; nothing assumes NUL termination.
 */
#ifndef DFIX_H
#define DFIX_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>

#define DFIX_VERSION "0.1.0"

/* Exit statuses of the CLI. */
enum df_exit {
	DF_EXIT_OK = 0,      /* nothing to change, or written */
	DF_EXIT_CHANGES = 1, /* changes needed (-d, -l, --check) */
	DF_EXIT_ERROR = 2    /* bad input or usage; nothing written */
};

/* ---------------------------------------------------------------- 1. utilities */

#if defined(__GNUC__)
#define DF_NORETURN __attribute__((noreturn))
#define DF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DF_NORETURN
#define DF_PRINTF(a, b)
#endif

/* Print "dfix: <message>" on stderr and exit with status 2. */
DF_NORETURN void df_die(const char *fmt, ...) DF_PRINTF(1, 2);

/* Allocation that never returns NULL (dies on OOM). Free with free(). */
void *df_xmalloc(size_t n);
void *df_xcalloc(size_t n, size_t size);
void *df_xrealloc(void *p, size_t n);
char *df_xstrndup(const char *s, size_t n);

/* A span of bytes: never owned, never NUL-terminated. */
struct df_span {
	const char *ptr;
	size_t len;
};

/* Growable byte buffer. ptr is always NUL-terminated (for convenience only;
 * the content may contain NULs). Free with df_buf_release(). Growth beyond
 * DF_BUF_MAX dies: no input dfix accepts comes near it. */
#define DF_BUF_MAX ((size_t)1 << 31)
struct df_buf {
	char *ptr;
	size_t len, cap;
};
#define DF_BUF_INIT { NULL, 0, 0 }
void df_buf_init(struct df_buf *b);
void df_buf_release(struct df_buf *b);
void df_buf_grow(struct df_buf *b, size_t extra);
void df_buf_add(struct df_buf *b, const void *p, size_t n);
void df_buf_addc(struct df_buf *b, int c);
void df_buf_adds(struct df_buf *b, const char *s);
void df_buf_addf(struct df_buf *b, const char *fmt, ...) DF_PRINTF(2, 3);
void df_buf_reset(struct df_buf *b);
/* Take ownership of the bytes (caller frees); the buffer is reset. */
char *df_buf_detach(struct df_buf *b, size_t *len);

/* Bump allocator: every block is freed at once by df_arena_release(). */
struct df_arena {
	struct df_arena_block *head;
	size_t first;    /* size of the first block (0: a small default) */
};
void df_arena_init(struct df_arena *a);
/* Before the first allocation: about n bytes will be needed (one block of
 * that size instead of many small ones). */
void df_arena_expect(struct df_arena *a, size_t n);
void df_arena_release(struct df_arena *a);
/* Free everything allocated, keeping the newest block for what comes next
 * (scratch memory used over and over). */
void df_arena_rewind(struct df_arena *a);
void *df_arena_alloc(struct df_arena *a, size_t n);       /* 16-aligned, zeroed */
void *df_arena_alloc_raw(struct df_arena *a, size_t n);   /* 16-aligned, not zeroed */
char *df_arena_dup(struct df_arena *a, const void *p, size_t n); /* NUL-terminated copy */

/* Span helpers. */
int df_span_eq(struct df_span s, const char *lit);       /* exact */
int df_span_ieq(struct df_span s, const char *lit);      /* ASCII case-insensitive */
int df_mem_ieq(const char *a, const char *b, size_t n);

/* For a process that handles document after document (the language server,
 * bench-mem): keep freed memory for the next one instead of giving it back
 * to the kernel, so a large document does not fault all its pages in again
 * each time. No-op where the C library offers no such setting. */
void df_keep_freed_memory(void);

/* Files. df_read_file reads a whole file into a new buffer (caller frees
 * with free()); on failure returns NULL and sets *err to a static message.
 * A directory is an error. */
char *df_read_file(const char *path, size_t *len, const char **err);
char *df_read_stream(FILE *f, size_t *len, const char **err);

/* ---------------------------------------------------------------- 2. documents */

enum df_node_kind {
	DF_DIRECTIVE,   /* parser directive line at the top: # syntax= / escape= / check= */
	DF_COMMENT,     /* a comment line between instructions */
	DF_BLANK,       /* a whitespace-only line between instructions */
	DF_INSTRUCTION, /* an instruction with its continuation lines and heredoc bodies */
	DF_ERROR        /* bytes the parser could not make sense of: left alone */
};

/* One physical line of a node. Every byte of the line is in exactly one of
 * its four parts: indent, body, cont (the escape character and any blanks
 * after it, when the line continues), eol ("\n", "\r\n", "" at EOF, or any
 * run of trailing '\r' before "\n"). Offsets are relative to the node text. */
enum df_line_kind {
	DF_LINE_CODE,    /* first line of an instruction, or a continuation line */
	DF_LINE_COMMENT, /* a comment line inside a continuation (BuildKit drops it) */
	DF_LINE_BLANK,   /* an empty line inside a continuation (BuildKit drops it) */
	DF_LINE_BODY,    /* a heredoc body line (verbatim) */
	DF_LINE_TERM,    /* a heredoc terminator line */
	DF_LINE_OTHER    /* a line of a comment/blank/directive/error node */
};
struct df_line {
	uint32_t off;  /* start of line within the node text */
	uint32_t indent, body, cont, eol; /* lengths of the four parts */
	uint8_t kind;  /* enum df_line_kind */
};

struct df_inst; /* section 3 */

/* What instruction a node holds (df_cmd_lookup of its keyword). */
enum df_cmd {
	DF_CMD_UNKNOWN = 0,
	DF_CMD_ADD, DF_CMD_ARG, DF_CMD_CMD, DF_CMD_COPY, DF_CMD_ENTRYPOINT,
	DF_CMD_ENV, DF_CMD_EXPOSE, DF_CMD_FROM, DF_CMD_HEALTHCHECK, DF_CMD_LABEL,
	DF_CMD_MAINTAINER, DF_CMD_ONBUILD, DF_CMD_RUN, DF_CMD_SHELL,
	DF_CMD_STOPSIGNAL, DF_CMD_USER, DF_CMD_VOLUME, DF_CMD_WORKDIR
};


struct df_node {
	enum df_node_kind kind;
	enum df_cmd cmd;         /* for DF_INSTRUCTION: inst->cmd, at hand without
				    reading the model */
	struct df_span text;     /* all bytes of the node, final newline included */
	uint32_t line;           /* 1-based line of the first byte in the parsed input (0 = inserted) */
	uint32_t nlines;
	struct df_line *lines;   /* nlines entries (arena) */
	struct df_inst *inst;    /* for DF_INSTRUCTION: the BuildKit model (arena) */
	const char *error;       /* for DF_ERROR: what is wrong (static or arena) */
	uint32_t error_col;      /* 1-based column of the error, 0 if unknown */
	uint16_t nflags;         /* inst->nflags (at most 65535), at hand like cmd */
	uint8_t seen;            /* what a pass found the node to be (DF_SEEN_*):
				    kept with the node while a re-parse leaves it
				    alone, 0 in a node parsed anew */
	uint8_t unused_;
};

/* df_node.seen: the format pass's last run left the instruction as it is
 * (FORMAT), with the verdict it counted its indents with: re-indented to
 * the unit it recorded (MOVING) or not its to lay out (ALONE). */
enum {
	DF_SEEN_FORMAT = 1 << 0,
	DF_SEEN_FORMAT_MOVING = 1 << 1,
	DF_SEEN_FORMAT_ALONE = 1 << 2
};

/* A diagnostic the parser or a validator found. line/col are 1-based. */
struct df_diag {
	uint32_t line, col;
	const char *msg; /* static or arena */
};

struct df_doc {
	struct df_span src;      /* the input as given (not owned) */
	struct df_node *nodes;   /* malloc'ed array; df_doc_free frees it */
	size_t nnodes, cap;
	char escape;             /* '\\' or '`' */
	int has_bom;
	int file_pragma;         /* the parse met a comment with a file-level
				    pragma (df_doc_file_pragmas); meaningful
				    while edits == 0 */
	size_t first_refused;    /* the first instruction node (index + 1) whose
				    model df_doc_validate refuses, 0: none;
				    meaningful while edits == 0 */
	struct df_diag *diags;   /* malloc'ed array of errors BuildKit would report */
	size_t ndiags, diagcap;
	struct df_arena arena;
	unsigned long edits;     /* bumped by every change to the node list (the
				    edit helpers, and passes that splice nodes
				    themselves must bump it too) */
	struct df_memo *memo;    /* facts about the whole document that passes
				    ask for again and again (df_stages...),
				    kept while `edits` stays the same */
};

/* Parse bytes into a CST. Never fails: problems become DF_ERROR nodes and
 * entries in doc->diags. The input must outlive the document. Free with
 * df_doc_free(). */
struct df_doc *df_doc_parse(const char *src, size_t len);
void df_doc_free(struct df_doc *doc);

/* Print the tree: the input byte for byte unless a pass edited it. */
void df_doc_print(const struct df_doc *doc, struct df_buf *out);

/* First error BuildKit would report for this document (including "file with
 * no instructions"), or NULL. */
const struct df_diag *df_doc_error(const struct df_doc *doc);

/* Stricter check used before rewriting: also what BuildKit's instruction
 * layer rejects (unknown instruction, FROM without image, COPY with one
 * argument, instruction before the first FROM, NUL bytes). Returns the
 * first problem or NULL; the diag lives in the doc. */
const struct df_diag *df_doc_validate(struct df_doc *doc);

/* Edits. Each keeps the tree lossless: new text is parsed with the
 * document's escape character and must make exactly the node kinds the
 * caller expects, or the edit is refused (returns -1, tree unchanged).
 * Text is copied into the arena. */
int df_doc_replace(struct df_doc *doc, size_t idx, const char *text, size_t len);
int df_doc_insert(struct df_doc *doc, size_t idx, const char *text, size_t len);
void df_doc_remove(struct df_doc *doc, size_t idx, size_t count);
/* Move nodes [from, from+count) to just before node `to` (indices in the
 * current tree, to not inside the moved range). */
void df_doc_move(struct df_doc *doc, size_t from, size_t count, size_t to);
/* Index of the first comment line owned by the instruction at idx: the run
 * of DF_COMMENT nodes directly above it (no blank line between). */
size_t df_doc_owned_start(const struct df_doc *doc, size_t idx);

/* Line ending used by the document ("\r\n" if its first line ends so). */
const char *df_doc_eol(const struct df_doc *doc);

/* ---------------------------------------------------------------- 3. instructions */

struct df_heredoc {
	struct df_span name;  /* terminator word, quotes removed (arena) */
	int chomp;            /* <<- */
	int expand;           /* name was not quoted */
	int fd;               /* 3<<EOF -> 3; 0 when absent */
	struct df_span body;  /* body bytes without the terminator line */
};

/* One piece of the logical line: `len` bytes that start at `node_off` in the
 * node text and at `log_off` in the logical line. */
struct df_piece {
	uint32_t log_off, node_off, len;
};

/*
 * The BuildKit meaning of an instruction: the logical line (continuations
 * joined, comment lines dropped, as BuildKit does), the keyword, flags,
 * arguments exactly as BuildKit's parser produces them. All in the arena.
 */
struct df_inst {
	enum df_cmd cmd;
	struct df_span keyword;   /* as written */
	struct df_span logical;   /* the joined line */
	struct df_piece *pieces;  /* logical -> node text map */
	size_t npieces;
	size_t log_base;          /* offset of `logical` in the top-level logical line
				     (non-zero for an ONBUILD trigger) */
	size_t args_off;          /* offset of the argument text in `logical` */
	struct df_span rest;      /* argument text after flags, trimmed */
	struct df_span *flags;    /* "--name=value" as BuildKit sees them */
	size_t nflags;
	struct df_span *args;     /* BuildKit's Next chain, in order */
	size_t nargs;
	int json;                 /* exec (JSON array) form */
	int has_next;             /* Next chain present (dump prints the values) */
	int has_lshift;           /* `logical` holds "<<" (where a heredoc may start) */
	struct df_inst *sub;      /* ONBUILD trigger */
	struct df_heredoc *heredocs;
	size_t nheredocs;
	const void *shell;        /* the shell view of `rest`, made once
				     (df_sh_parse_rest in src/shell.h) */
	const void *image;        /* FROM without variables: what df_from_read
				     reads in its image, made once */
};

enum df_cmd df_cmd_lookup(const char *p, size_t n);
const char *df_cmd_name(enum df_cmd cmd); /* upper case, "" for unknown */

/* The value of flag --NAME=value (as BuildKit keeps flags): 1 and *value,
 * or 0 when the instruction has no such flag. */
int df_inst_flag(const struct df_inst *inst, const char *name, struct df_span *value);

/* Map an offset in inst->logical to an offset in the node text. */
size_t df_inst_node_off(const struct df_inst *inst, size_t log_off);

/* ---------------------------------------------------------------- 4. passes */

enum df_level {
	DF_LEVEL_FORMAT = 0, /* whitespace and casing only; --dump unchanged */
	DF_LEVEL_SAFE = 1,   /* same image behaviour */
	DF_LEVEL_REVIEW = 2  /* changes what is built: needs a human look */
};

struct df_finding {
	const char *pass;   /* pass id (static) */
	const char *code;   /* hadolint / BuildKit code, or NULL */
	uint32_t line, col; /* in the input */
	char *msg;          /* malloc'ed; freed with the context */
};

/* A file other than the Dockerfile that a pass wants written, e.g. the
 * build context's .dockerignore. `old` is NULL when the file does not exist. */
struct df_extra {
	char *path;        /* path as it should be shown and written */
	char *old;         /* current content or NULL (malloc'ed) */
	size_t oldlen;
	char *text;        /* new content (malloc'ed) */
	size_t len;
};

struct df_ctx;

struct df_pass {
	const char *id;
	enum df_level level;
	const char *codes;   /* comma-separated hadolint/BuildKit codes, or "" */
	const char *summary; /* one line */
	const char *doc;     /* --explain text */
	/* Edit the document in place; return the number of changes made. */
	int (*run)(struct df_ctx *ctx, struct df_doc *doc);
	/* What it does in a stage depends only on that stage, the stages it is
	 * built on (FROM, transitively) and those built on it, the facts of
	 * df_stages, and the nodes before the first FROM: it may skip the
	 * stages df_stage_settled() names. */
	int stage_local;
	/* It never changes the Dockerfile, only writes other files
	 * (df_ctx_extra) and reports: the driver runs it once, on the final
	 * text, after the others have settled. */
	int extras_only;
};

/* The registry, in the order the driver runs the passes. */
extern const struct df_pass *const df_passes[];
const struct df_pass *df_pass_find(const char *id);

struct df_ctx {
	const char *path;        /* display path of the Dockerfile ("-" for stdin) */
	const char *context_dir; /* build context directory, or NULL (stdin) */
	enum df_level level;
	const char *base;        /* --base: alpine, slim, distroless, keep */
	int cache_mounts;
	int indent;              /* continuation indent for the format pass */
	unsigned char *enabled;  /* per registry index: run this pass? */
	struct df_finding *findings;
	size_t nfindings, findcap;
	const struct df_pass *current; /* set by the driver while a pass runs */
	struct df_extra *extras; /* other files to write, see df_ctx_extra */
	size_t nextras;
	const char *dockerfile_name; /* base name used for per-Dockerfile ignore files */
	struct df_diag error;    /* set by df_fix when it refuses invalid input:
				    line/col of the problem (msg static) */
	char errbuf[512];        /* holds error.msg */
	struct df_findex *findex; /* df_ctx_has_finding's index (private) */
	struct df_statcache *stats; /* what df_context_exists found (private) */
	int self_settled;        /* a pass that changed the text sets it when it
				    checked that running it again on its output
				    changes nothing: the driver then need not */
	struct df_settle *settle; /* df_stage_settled's record (private) */
};

void df_ctx_init(struct df_ctx *ctx);
void df_ctx_release(struct df_ctx *ctx);
void df_ctx_finding(struct df_ctx *ctx, const char *code, uint32_t line,
		    const char *fmt, ...) DF_PRINTF(4, 5);
/* Is there already a finding of pass `pass` (its id) with message msg, at
 * any line? Constant time (a hash index of the findings). */
int df_ctx_has_finding(struct df_ctx *ctx, const char *pass, const char *msg);
/* Drop the findings after the first `keep`, or every finding of pass `pass`
 * (its id): what a pass that takes back its work calls. */
void df_ctx_drop_findings(struct df_ctx *ctx, size_t keep);
void df_ctx_forget_pass(struct df_ctx *ctx, const char *pass);
/* Record (or replace, same path) a file to write beside the Dockerfile.
 * Copies everything. Nothing is recorded when text equals old. */
void df_ctx_extra(struct df_ctx *ctx, const char *path, const char *old, size_t oldlen,
		  const char *text, size_t len);

/* Is the current pass switched off for the node at idx by `# dfix
 * ignore=ID,...` / `# hadolint ignore=CODE,...` in the comment lines directly
 * above the instruction? (`# dfix off`, `# dfix ignore-file=ID,...` and
 * `# hadolint global ignore=CODE,...` switch a pass off for the whole file:
 * the driver then does not run it at all.) */
int df_pass_ignored(const struct df_ctx *ctx, const struct df_doc *doc, size_t idx);

/* For a stage_local pass: did its last run (whose result the driver kept)
 * see stage s and those it depends on exactly as they are now
 * (df_stage_sigs)? Then that
 * run left it settled, and another can change nothing there: skip it.
 * Always 0 outside df_fix and on a pass's first run. */
int df_stage_settled(struct df_ctx *ctx, const struct df_doc *doc, size_t s);
/* The same for stages 0..n-1: a malloc'ed array of 0/1 (n + 1 entries). */
unsigned char *df_stages_settled(struct df_ctx *ctx, const struct df_doc *doc, size_t n);
/* A pass that skipped n nodes by what it recorded in df_node.seen says so:
 * DFIX_CHECK_REPARSE then compares its output with a run on a fresh parse
 * (where no node carries a mark). */
void df_nodes_skipped(struct df_ctx *ctx, size_t n);

/* Stages: one per FROM. `reaches_final` is set for the last stage and every
 * stage it copies from (COPY --from / RUN --mount from=) or builds FROM,
 * transitively; only those stages' files can end up in the final image. */
struct df_stage {
	size_t from;             /* node index of the FROM */
	size_t end;              /* node index one past the stage's last node */
	struct df_span image;    /* FROM's image argument (BuildKit view) */
	struct df_span name;     /* AS name, or empty */
	int is_final;
	int reaches_final;
	int only_copied_from;    /* used by other stages only through COPY --from */
	long base;               /* the earlier stage FROM names, or -1 (an image) */
};
/* Returns a malloc'ed array (caller frees) and its length in *n. */
struct df_stage *df_stages(const struct df_doc *doc, size_t *n);
/* The stage a reference names among the first n stages (`--from=builder`,
 * `--from=0`), or -1. Names compare case-insensitively, as BuildKit does. */
int df_stage_find(const struct df_stage *st, size_t n, struct df_span ref);

/* The build context (DESIGN.md section 3). Paths are relative to it. The
 * answers are kept until the next df_fix (the passes ask about the same
 * paths again and again; nothing writes to the context meanwhile). */
int df_context_exists(const struct df_ctx *ctx, const char *rel);
int df_context_is_dir(const struct df_ctx *ctx, const char *rel);
/* Forget them (df_fix does, at its start; df_ctx_release too). */
void df_context_forget(struct df_ctx *ctx);
/* Whole file, malloc'ed (caller frees), or NULL when absent/unreadable. */
char *df_context_read(const struct df_ctx *ctx, const char *rel, size_t *len);
/* Its first `max` bytes at most (magic numbers, a first line: an archive
 * or a large file is not read whole). NUL-terminated; NULL as above. */
char *df_context_read_head(const struct df_ctx *ctx, const char *rel, size_t max, size_t *len);

/* Run the enabled passes to a fixpoint (at most DF_FIX_ROUNDS rounds),
 * re-parse the result and check the invariants. On success *out holds the
 * new text and 0 is returned. On refusal returns -1 and sets *why; when the
 * input itself is invalid (df_doc_validate), ctx->error also holds its
 * position and message and *why is "LINE:COL: message". */
#define DF_FIX_ROUNDS 8
int df_fix(struct df_ctx *ctx, const char *src, size_t len, struct df_buf *out,
	   const char **why);

/* ---------------------------------------------------------------- 5. output */

/* BuildKit's Node.Dump() of the document plus "\n" (callers check
 * df_doc_error first). */
void df_dump(struct df_doc *doc, struct df_buf *out);
void df_dump_inst(const struct df_inst *inst, struct df_buf *out);
/* 1 when df_dump would print the same (no printing: compares keywords,
 * flags and arguments) for the instructions a[0, na) and those of the node
 * list b, or for two instructions. */
int df_insts_same_dump(const struct df_inst *const *a, size_t na, const struct df_node *b,
		       size_t nb);
int df_inst_same_dump(const struct df_inst *a, const struct df_inst *b);

/* Go's strconv.Quote of a byte string. */
void df_go_quote(struct df_buf *out, const char *p, size_t n);

/* Unified diff in git's format between two texts, headers included
 * ("diff --git a/P b/P"). `old` NULL means a new file. color: ANSI colours. */
void df_diff(struct df_buf *out, const char *path, const char *old, size_t oldlen,
	     const char *new_, size_t newlen, int color);

/* Write atomically: temp file in the same directory, fsync, rename; the
 * mode of an existing file is kept; a symlink's target is written. Returns 0
 * or -1 with *err set (static message). */
int df_write_atomic(const char *path, const char *data, size_t len, const char **err);

#endif /* DFIX_H */
