/*
 * shell.h - the shell view of a shell-form RUN, CMD or ENTRYPOINT body.
 *
 * A lexer and flat parser for the POSIX sh subset Dockerfiles use. It reads
 * a byte span (the BuildKit logical line of the instruction's arguments:
 * continuations already joined) and gives back the simple commands, their
 * words and the operators between them, each as offsets relative to the
 * start of that span. A pass maps an offset back to the source with
 * df_inst_node_off() and edits one word without reformatting the rest.
 *
 * Sections:
 *   1. words      one token of a command, with what is inside it
 *   2. commands   one simple command, group, or control-flow keyword
 *   3. scripts    the parse, and what passes should be careful about
 *   4. helpers    literal matches, command name, unquoting
 *
 * Memory: everything df_sh_parse() and df_sh_unquote() return lives in the
 * arena the caller passes (normally the document's); nothing is freed
 * separately. Nothing is copied to look at it: read the text through the
 * same base pointer that was parsed. Input need not be NUL-terminated and
 * may hold any bytes (NULs, invalid UTF-8). Time and memory are linear in
 * the input; nesting deeper than DF_SH_MAX_DEPTH is refused, not recursed.
 */
#ifndef DFIX_SHELL_H
#define DFIX_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "dfix.h"

/* Deepest nesting accepted, counted separately for groups/control flow
 * and for quotes/expansions inside one word. Deeper input: df_sh_parse -1. */
#define DF_SH_MAX_DEPTH 128

/* ---------------------------------------------------------------- 1. words */

enum df_sh_word_flag {
	DF_SH_SQUOTE = 1 << 0,   /* '...' (or bash $'...') outside other quotes */
	DF_SH_DQUOTE = 1 << 1,   /* "..." */
	DF_SH_ESCAPE = 1 << 2,   /* a backslash outside quotes */
	DF_SH_EXPAND = 1 << 3,   /* $VAR ${...} $(...) `...` $((...)), quoted or not */
	DF_SH_GLOB = 1 << 4,     /* unquoted * ? or [ */
	DF_SH_TILDE = 1 << 5,    /* unquoted ~ at the start or after = or : */
	DF_SH_ASSIGN = 1 << 6,   /* NAME=value before the command name */
	DF_SH_REDIR = 1 << 7,    /* redirection: operator + target, see below */
	DF_SH_HEREDOC = 1 << 8,  /* with REDIR: << or <<- and its delimiter word */
	DF_SH_COMMENT = 1 << 9,  /* '#' ... to the end of the line */
	DF_SH_RESERVED = 1 << 10 /* a keyword: if then ... esac, or a leading ! */
};
/* A word whose raw bytes are not its value. */
#define DF_SH_QUOTED (DF_SH_SQUOTE | DF_SH_DQUOTE | DF_SH_ESCAPE)

/*
 * One word: bytes [off, off+len) of the parsed span.
 * A redirection is one word from its fd digits to the end of its target,
 * blanks between included: "2>&1", ">/dev/null", "> out.log", "<<'EOF'".
 * The quote/expansion flags of a redirection describe its target (a quoted
 * heredoc delimiter has DF_SH_SQUOTE or DF_SH_DQUOTE); split it with
 * df_sh_redir_target(). Here-strings (<<<) are redirections without
 * DF_SH_HEREDOC, and make the script complex.
 */
struct df_sh_word {
	uint32_t off, len;
	uint32_t flags; /* enum df_sh_word_flag bits */
};

/* ---------------------------------------------------------------- 2. commands */

enum df_sh_kind {
	DF_SH_SIMPLE = 0, /* assignments, name, arguments, redirections */
	DF_SH_SUBSHELL,   /* group "( ... )": words = redirections after ')' */
	DF_SH_BRACE,      /* group "{ ...; }": words = redirections after '}' */
	DF_SH_KEYWORD,    /* if then elif else fi while until for select do done
			   * case esac: words[0] is the keyword; "for x in a b"
			   * and "case W in" keep their words; fi/done/esac keep
			   * redirections after them */
	DF_SH_PATTERN,    /* a case pattern "a|b)": one word per alternative */
	DF_SH_FUNCDEF     /* "name()": words[0] is the name; the body follows */
};

/* The operator after a command. */
enum df_sh_op {
	DF_SH_OP_NONE = 0, /* nothing: end of the script or of a group, or a
			    * keyword/pattern/funcdef running into what follows */
	DF_SH_OP_AND,      /* && */
	DF_SH_OP_OR,       /* || */
	DF_SH_OP_SEMI,     /* ; */
	DF_SH_OP_PIPE,     /* | (or bash |&, 2 bytes, script complex) */
	DF_SH_OP_AMP,      /* & */
	DF_SH_OP_NEWLINE,  /* \n (only the first of a run of newlines) */
	DF_SH_OP_DSEMI     /* ;; ending a case branch */
};

/*
 * One command. The list is flat, in source order: a group or an opening
 * keyword comes first, then what is inside it at depth + 1, so
 * "{ a; b; } && c" gives BRACE(depth 0, op &&), a(1, ;), b(1, ;), c(0).
 * Control-flow keywords are commands of their own at the depth of the
 * compound: "if a; then b; fi" gives if(0), a(1, ;), then(0), b(1, ;), fi(0).
 */
struct df_sh_cmd {
	enum df_sh_kind kind;
	struct df_sh_word *words; /* in source order (arena) */
	size_t nwords;
	uint32_t off, end;        /* [off, end): the command's text, operator and
				   * trailing comment excluded; groups from '('
				   * or '{' to the end of their last redirection */
	uint32_t inner_off, inner_end; /* groups: text between the braces or
					* parens, blanks included */
	uint32_t depth;           /* groups and compounds around it */
	uint32_t ninner;          /* group, if/while/until/for/select/case: the
				   * next ninner commands are inside it (for
				   * keywords: up to its fi/done/esac) */
	enum df_sh_op op;         /* what follows */
	uint32_t op_off, op_len;  /* where (op_len 0 for DF_SH_OP_NONE) */
};

/* ---------------------------------------------------------------- 3. scripts */

struct df_sh_script {
	struct df_sh_cmd *cmds;   /* arena */
	size_t ncmds;
	struct df_sh_word *comments; /* every comment, flags DF_SH_COMMENT (arena) */
	size_t ncomments;
	uint32_t trail_off, trail_len; /* the comment the script ends with (only
					* blanks/newlines after it); len 0: none */
	int ok;            /* 1 iff df_sh_parse returned 0 */
	int has_comment;
	int has_heredoc;   /* a << redirection (bodies live in the Dockerfile,
			    * or after the next newline of the span, skipped) */
	int complex;       /* control flow, case, functions, here-strings,
			    * bash-only syntax ([[, ((, &>, |&, $'...'):
			    * parsed, but passes should leave it alone */
	int sets_e;        /* a depth-0 `set -e`, `set -eux`, `set -o errexit`
			    * ... is in force at the end of the script */
	int sets_pipefail; /* likewise `set -o pipefail` */
	const char *error; /* when df_sh_parse returned -1: why (static) */
	uint32_t error_off;/* ... and where */
};

/*
 * Parse n bytes at p. Returns 0 and fills *out, or -1 when the text is not
 * something the lexer understands (unbalanced quotes, parens, braces or
 * keywords; an operator with a missing command; a redirection without a
 * target; bash-only ;& ;;& <(...); nesting deeper than DF_SH_MAX_DEPTH;
 * a heredoc body in the span without its terminator): then only ok,
 * error and error_off are set, and passes leave the instruction alone.
 * Allocations go to the arena; p must outlive *out.
 */
int df_sh_parse(struct df_arena *a, const char *p, size_t n, struct df_sh_script *out);

/*
 * df_sh_parse of inst->rest, made once per model in the document's arena
 * and kept with it: a node no pass changes keeps its model across passes
 * and rounds (df_doc_reparse), and the offsets of a parse do not depend on
 * where the text lies. Read the words through inst->rest.ptr. The result is
 * shared: do not change it.
 */
int df_sh_parse_rest(struct df_doc *doc, const struct df_inst *inst, struct df_sh_script *out);

/* "&&", "||", ";", "|", "&", "\n", ";;" or "" for DF_SH_OP_NONE. */
const char *df_sh_op_text(enum df_sh_op op);

/* ---------------------------------------------------------------- 4. helpers */

/* Is the word exactly the unquoted literal `lit` ("install" matches
 * install, not "install" or inst\all)? base: the span that was parsed. */
int df_sh_word_is(const char *base, const struct df_sh_word *w, const char *lit);

/*
 * Index in cmd->words of the command name: after a leading !, assignments
 * and redirections, and through the wrappers sudo [opts], env [opts]
 * [NAME=value...], exec, nohup and command (without options). -1 when the
 * command has no name (only assignments or redirections) or is not
 * DF_SH_SIMPLE.
 */
int df_sh_cmd_name(const char *base, const struct df_sh_cmd *cmd);

/*
 * The value of a word with its quotes and escapes removed, NUL-terminated
 * (it may also contain NULs: *len, when not NULL, gets the length), in
 * the arena. NULL when the value is not known statically: the word has an
 * expansion, a tilde, $'...' or $"...", or is a redirection (unquote its
 * target). A comment gives its raw text.
 */
char *df_sh_unquote(struct df_arena *a, const char *base, const struct df_sh_word *w,
		    size_t *len);

/* Split a redirection word: *target gets its target word (operator and
 * blanks skipped, flags without REDIR/HEREDOC) and the return value is the
 * operator's length with its fd digits ("2>&1" -> 3, target "1").
 * Returns 0 when w is not a redirection. */
size_t df_sh_redir_target(const char *base, const struct df_sh_word *w,
			  struct df_sh_word *target);

#endif
