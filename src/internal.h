/* internal.h - helpers shared between dfix's own files (not public API). */
#ifndef DFIX_INTERNAL_H
#define DFIX_INTERNAL_H

#include <stdarg.h>

#include "dfix.h"

/* ---- Go compatibility (golang.c): BuildKit is written in Go and its
 * parser's output depends on Go's definitions of space, print and JSON. */

/* Decode one UTF-8 rune as Go's utf8.DecodeRune does: invalid input gives
 * rune 0xFFFD with width 1. n > 0. */
int32_t df_utf8_decode(const unsigned char *p, size_t n, int *width);
/* Append the UTF-8 encoding of r (Go's string(rune): invalid -> U+FFFD). */
void df_utf8_append(struct df_buf *b, int32_t r);
/* unicode.IsSpace and unicode.IsPrint. */
int df_go_isspace(int32_t r);
int df_go_isprint(int32_t r);
/* Length of the leading / trailing run of Go unicode.IsSpace runes. */
size_t df_go_space_prefix(const char *p, size_t n);
size_t df_go_space_suffix(const char *p, size_t n);

/* BuildKit's parseJSON: decode a JSON array of strings the way Go's
 * json.Decoder does (first value only; trailing bytes ignored; invalid UTF-8
 * and bad surrogates become U+FFFD).
 * Returns 1 and the strings (arena) when p is such an array, 0 when it is not
 * valid JSON or not an array (BuildKit then falls back to shell form), and -1
 * when it is a valid array with a non-string element (BuildKit's error). */
int df_go_json_strings(struct df_arena *a, const char *p, size_t n,
		       struct df_span **out, size_t *nout);



/* ---- parser internals (parse.c, inst.c) */

/* BuildKit's directive regexp on a left-trimmed line. */
int df_match_directive(const char *p, size_t n, struct df_span *key, struct df_span *val);
void df_doc_add_diag(struct df_doc *doc, uint32_t line, uint32_t col, const char *msg);
/* printf into the arena. */
char *df_arena_printf(struct df_arena *a, const char *fmt, ...) DF_PRINTF(2, 3);
char *df_arena_vprintf(struct df_arena *a, const char *fmt, va_list ap);
/* Build the BuildKit model of an instruction from its logical-line pieces
 * (offsets into node_text). NULL + *err on what BuildKit's parser rejects;
 * the returned model is still filled as far as possible when non-NULL. */
struct df_inst *df_inst_build(struct df_doc *doc, const char *node_text,
			      struct df_piece *pieces, size_t npieces, size_t total,
			      const char **err);
/* Parse text that goes inside an existing document: no parser directives,
 * the given escape character. */
struct df_doc *df_doc_parse_fragment(const char *src, size_t len, char escape);
/* The same with the parent's escape character, its models allocated in the
 * parent's arena (nothing to adopt; they stay there when the fragment is
 * freed). A line too long for BuildKit is an error diag; src must outlive
 * the parent. */
struct df_doc *df_doc_parse_in(struct df_doc *parent, const char *src, size_t len);
/* After a pass edited doc (a parse of doc->src), make it the parse of text,
 * the print of the edited tree, parsing again only around what changed.
 * *oldline (malloc'ed, *nold entries) maps each line of text (and one past
 * its end) to a line of the old text. -1: parse text whole instead (doc is
 * then only fit to be freed). */
int df_doc_reparse(struct df_doc *doc, const char *text, size_t len, uint32_t **oldline,
		   size_t *nold);
/* After df_doc_reparse: does the tree hold anything df_doc_validate would
 * refuse? Only the nodes parsed again are checked, and the instructions
 * before the first FROM (the rest passed before). Whole check otherwise. */
int df_doc_invalid_after_reparse(struct df_doc *doc);
/* df_doc_file_pragmas after df_doc_reparse, given its value before. */
int df_doc_file_pragmas_after_reparse(const struct df_doc *doc, int before);
/* Are two parses the same tree (kinds, bytes, lines, models)? For checks. */
int df_doc_same_tree(const struct df_doc *a, const struct df_doc *b);
/* The memo of a document (allocated on first use; df_doc_free frees it).
 * An entry is valid while its stamp is doc->edits + 1. */
/* df_doc_reparse keeps at most this many texts in use: past that, it moves
 * the nodes of the middle ones into the new text. */
#define DF_TEXTS 4

struct df_memo {
	unsigned long stages_at;
	struct df_stage *stages;
	size_t nstages;
	const struct df_inst **rel; /* what df_stages read, in order: the FROMs, and */
	size_t nrel, relcap;        /* COPY/ADD/RUN with flags (df_stage_relevant) */
	size_t *name_slot, name_cap; /* its table of stage names (stages.c) */
	unsigned char *shells;   /* df_runs_shells (merge_runs.c), valid while */
	unsigned long shells_at; /* shells_at == edits + 1 */
	const struct df_inst **win_from; /* per stage: the FROM whose image */
	unsigned char *win_image;        /* win_image says is Windows or not */
	size_t nwin_from;
	unsigned long dev_at;
	int dev;
	struct df_node *spare;   /* df_doc_reparse's other node array, reused */
	size_t sparecap;
	size_t *win;             /* the nodes df_doc_reparse parsed again: pairs */
	size_t nwin, wincap;     /* [first, end); valid while win_at == edits + 1 */
	unsigned long win_at;
	/* the texts the nodes' spans point into (df_doc_reparse leaves a node
	 * it did not parse again where it was): the first the document was
	 * parsed from, then texts it was re-parsed into; doc->src is the last.
	 * None listed: only doc->src. refs: nodes in it after the last
	 * re-parse. */
	struct df_text {
		const char *ptr;
		size_t len, refs;
	} texts[DF_TEXTS];
	size_t ntexts;
	uint64_t *sigs;          /* df_stage_sigs, valid while sigs_at == edits + 1 */
	unsigned long sigs_at;
	const char *last_end;    /* end of the last node's text (NULL: of doc->src) */
	/* what the DF_SEEN_FORMAT* marks hold under (format.c): the escape
	 * character, and the unit of MOVING ones; fmt_unitlen 0: no record */
	char fmt_esc;
	char fmt_unit;
	size_t fmt_unitlen;
};
struct df_memo *df_doc_memo(const struct df_doc *doc);
/* Is the node one df_stages reads: a FROM, or a COPY/ADD/RUN with flags
 * (--from, --mount)? */
static inline int df_stage_relevant(const struct df_node *nd)
{
	return nd->kind == DF_INSTRUCTION && nd->inst &&
	       (nd->cmd == DF_CMD_FROM ||
		(nd->nflags && (nd->cmd == DF_CMD_COPY || nd->cmd == DF_CMD_ADD ||
				nd->cmd == DF_CMD_RUN)));
}
/* After df_doc_reparse: kept[] are the relevant nodes of the new tree
 * (model, index), in order ((size_t)-1: unknown). When they are the nodes
 * the stages were last found from (the same models, or models parsed again
 * that say the same to df_stages: FROM's image and name, the flags), in the
 * same order (less some that said what the one before them in their stage
 * says: merged RUNs), the stages stay valid with the new indices. Else they
 * are found again when next asked. */
struct df_kept {
	const struct df_inst *inst;
	size_t idx;
};
void df_stages_reparsed(struct df_doc *doc, const struct df_kept *kept, size_t nkept);
/* For checks: are the stages df_stages keeps those it would find again? */
int df_stages_same_as_found(const struct df_doc *doc);
/* Per stage (df_stages order), a hash of everything a stage_local pass may
 * read for it: the nodes (each known by its line table, which a re-parse
 * that leaves the node alone keeps) of the stage and the comments right
 * above its FROM, of the stages it is built on (FROM, transitively) and of
 * those built on it, their stage facts and indices, and the nodes before
 * the first FROM. Equal hashes: the same input for that pass there. NULL
 * when there are no stages. */
const uint64_t *df_stage_sigs(const struct df_doc *doc, size_t *n);
/* Do doc's nodes point into the text that starts at p (a text it was parsed
 * or re-parsed from)? The caller keeps such a text alive. */
int df_doc_holds(const struct df_doc *doc, const char *p);
/* Do two spans hold the same bytes? And two arrays of n spans? */
int df_span_same(struct df_span a, struct df_span b);
int df_spans_same(const struct df_span *a, const struct df_span *b, size_t n);
/* Is s a (non-empty) run of decimal digits: a stage index, not a name? */
int df_span_digits(struct df_span s);
/* FNV-1a over a NUL-terminated string, continuing from h (start with
 * DF_HASH_INIT): the hash of the hash tables keyed by strings. */
#define DF_HASH_INIT ((size_t)1469598103934665603u)
size_t df_hash_str(size_t h, const char *s);
/* Does p[0, n) hold lit (case-sensitive / ASCII case-insensitive)? */
int df_mem_has(const char *p, size_t n, const char *lit);
int df_mem_ihas(const char *p, size_t n, const char *lit);

/* File-level pragmas (`# dfix off`, ignore-file, hadolint global ignore)
 * that switch the pass off for the whole document. */
int df_pass_file_ignored(const struct df_pass *pass, const struct df_doc *doc);
/* Does any comment of the document switch passes off for the whole file
 * (`# dfix off`, `# dfix ignore-file=`, `# hadolint global ignore=`)? When
 * not, df_pass_file_ignored() is 0 for every pass: the driver asks once. */
int df_doc_file_pragmas(const struct df_doc *doc);
/* What df_doc_validate says about one model (NULL: nothing), checked while
 * the parser has it at hand (message in arena a). */
const char *df_inst_refused(struct df_arena *a, const struct df_inst *inst);
/* Is node n a comment with a file-level pragma? */
int df_node_file_pragma(const struct df_node *n);

#endif
