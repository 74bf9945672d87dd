/*
 * multi_stage.h - what the files of the multi-stage pass share.
 *
 * The pass (multi_stage.c) turns a single-stage Dockerfile that builds an
 * app into a builder stage and a runtime stage. It works in three steps:
 *
 *   1. scan    every instruction of the stage becomes an item: its node, the
 *              comments and blank lines above it (its lead), the WORKDIR and
 *              USER in effect, and for a RUN its shell view and what it does
 *              (MS_K_* bits, asked of the ecosystem's classifier);
 *   2. plan    the ecosystem's planner (multi_stage_<eco>.c) reads the build
 *              context, decides what the builder builds and what the runtime
 *              ships, and marks each item: builder, runtime, both, with
 *              replacement text or new instructions around it; or it gives
 *              a reason not to split;
 *   3. emit    the stage's nodes are replaced by the text of both stages,
 *              built from the original node texts (comments included) and
 *              the new instructions, parsed as one fragment.
 *
 * Memory: strings hanging off struct ms live in the document's arena
 * (ms_strdup, ms_printf); buffers (struct df_buf) are released by the pass.
 */
#ifndef DFIX_MULTI_STAGE_H
#define DFIX_MULTI_STAGE_H

#include "ignore.h"
#include "imageref.h"
#include "internal.h"
#include "shell.h"

/* What a RUN does (bits, from its simple commands). */
enum {
	MS_K_DEPS = 1 << 0,  /* installs or prunes dependencies, or build tools */
	MS_K_BUILD = 1 << 1, /* builds the app */
	MS_K_PKG = 1 << 2,   /* system packages: apt-get, apk, ... and their cleanup */
	MS_K_SETUP = 1 << 3, /* users, directories, permissions, links */
	MS_K_OTHER = 1 << 4, /* anything else */
	MS_K_CD = 1 << 5,    /* changes directory (cd, pushd) */
	MS_K_NEUTRAL = 1 << 6, /* leaves nothing behind (echo, ls, set, export) */
	MS_K_TOUCH = 1 << 7   /* setup on files from the build context (chmod +x run.sh) */
};

enum ms_eco { MS_NONE = 0, MS_NODE, MS_GO, MS_PYTHON, MS_JAVA, MS_RUST };

/* The packages a system-package RUN installs. */
struct ms_pkgs {
	const char *manager;  /* "apt" or "apk"; NULL: another manager */
	char **names;         /* unquoted package names (arena) */
	size_t n;
	int unknown;          /* a name with an expansion, or a command dfix does not read */
};

/* One simple command of a RUN, with its words unquoted. */
struct ms_cmd {
	const struct df_sh_cmd *sh;
	char **argv;          /* from the command name on; NULL entries: not static */
	size_t argc;
	size_t name;          /* index in sh->words of argv[0] */
};

struct ms_item {
	size_t idx;             /* node index of the instruction */
	size_t lead;            /* first node of the comment/blank lines above it */
	size_t owned;           /* first comment line directly above it (its own) */
	struct df_inst *inst;
	enum df_cmd cmd;
	unsigned kind;          /* RUN: MS_K_* */
	int shell_ok;           /* RUN: shell form, parsed, not complex */
	struct df_sh_script sh; /* RUN/CMD/ENTRYPOINT shell form: its shell view */
	const char *sh_base;    /* the text sh was parsed from (inst->rest.ptr) */
	struct ms_cmd *cmds;    /* RUN: the simple commands */
	size_t ncmds;
	const char *wd;         /* WORKDIR in effect ("/" by default; NULL: unknown) */
	const char *user;       /* USER in effect, NULL for root */
	struct ms_pkgs pkgs;    /* RUN with MS_K_PKG */
	unsigned char builder, runtime; /* where it goes */
	unsigned char no_runtime; /* ms_plan_compiled: keep it out of the runtime */
	char *btext, *rtext;    /* replacement text in the builder / runtime (arena) */
	struct df_buf rbefore;  /* new instructions before it in the runtime */
	struct df_buf bbefore;  /* new instructions before it in the builder */
	struct df_buf bafter;   /* new instructions after it in the builder */
};

/* A file or directory the runtime gets from the builder. */
struct ms_ship {
	const char *src;        /* path (or glob) in the builder */
	const char *dst;        /* destination as written (relative to WORKDIR or absolute) */
	const char *abs;        /* absolute destination, for ms_shipped */
};

/* A run of context files a COPY/ADD put into the builder. */
struct ms_copy {
	size_t item;
	const char *src;        /* context path ("." for all of it), cleaned */
	const char *dst;        /* absolute path in the image */
	int dir;                /* src is a directory (its content lands in dst) */
	int glob;               /* src has wildcards */
};

struct ms {
	struct df_ctx *ctx;
	struct df_doc *doc;
	const char *eol;
	enum ms_eco eco;
	struct df_from from;       /* the stage's FROM */
	const struct df_inst *from_inst;
	const char *tag;           /* its tag, "" for none (arena) */
	const char *repo;          /* its repository key (arena) */
	struct ms_item *items;
	size_t nitems;
	size_t first, end;         /* node range of the stage: FROM's lead .. end */
	size_t last_build;         /* index of the last MS_K_DEPS|MS_K_BUILD item */
	struct ms_copy *copies;    /* context copies into the builder, in order */
	size_t ncopies;
	struct df_ignore *ignore;  /* the context's .dockerignore, or NULL */
	/* the plan */
	struct ms_ship *ship;      /* COPY --from=builder lines of the runtime */
	size_t nship, shipcap;
	size_t ship_at;            /* they go before this item (nitems: at the end) */
	const char *ship_chown;    /* --chown= for them, or NULL */
	const char *builder_image; /* new image word for the builder, or NULL: keep */
	const char *runtime_image; /* FROM of the runtime stage */
	struct df_buf rtail;       /* new instructions at the end of the runtime */
	struct df_buf note;        /* what the finding says was done */
	const char *skip;          /* reason not to split (arena), or NULL */
	const char *scan_skip;     /* ... found while scanning, told after detection */
	int quiet;                 /* no build step: no split and no finding */
};

/* ---- shared helpers (multi_stage.c) ---- */

char *ms_strdup(struct ms *ms, const char *s);
char *ms_strndup(struct ms *ms, const char *s, size_t n);
char *ms_printf(struct ms *ms, const char *fmt, ...) DF_PRINTF(2, 3);
/* Record why the split does not happen (the first reason wins); returns -1. */
int ms_skip(struct ms *ms, const char *fmt, ...) DF_PRINTF(2, 3);

/* The n-th word of the item's instruction text, unquoted where static. */
int ms_word_is(const char *w, const char *lit);
int ms_starts(const char *s, const char *prefix);
int ms_ends(const char *s, const char *suffix);

/* Context: read a file (NUL-terminated, caller frees) or NULL; does it exist;
 * is it a directory; is it sent (not excluded by .dockerignore). */
char *ms_read(struct ms *ms, const char *rel, size_t *len);
int ms_exists(struct ms *ms, const char *rel);
int ms_isdir(struct ms *ms, const char *rel);
int ms_sent(struct ms *ms, const char *rel);

/* Walk the context (skipping .git, node_modules, vendor, target and hidden
 * directories, at most a few thousand files) and call fn on each regular
 * file whose name ends with one of the suffixes (NULL-ended list). fn returns
 * non-zero to stop. */
void ms_walk(struct ms *ms, const char *const *suffixes,
	     int (*fn)(struct ms *ms, const char *rel, const char *text, size_t len, void *arg),
	     void *arg);

/* Top-level entries of the context named as string literals in the source
 * files with the given suffixes ('"name"', '"name/...', '"./name', '/name"'):
 * the files a program opens at run time. Entries listed in `skip`
 * (NULL-ended) and hidden ones are not considered. Returns the number of
 * names put in out[] (arena), at most max. */
size_t ms_referenced(struct ms *ms, const char *const *suffixes, const char *const *skip,
		     const char **out, size_t max);

/* The absolute path in the builder of context path rel (after the COPYs
 * before item `upto`), or NULL when rel is not in the context or no COPY
 * puts it there. */
const char *ms_builder_path(struct ms *ms, const char *rel, size_t upto);
/* The context path that became absolute builder path abs, or NULL. */
const char *ms_context_path(struct ms *ms, const char *abs, size_t upto);

/* Join a path to a directory and clean it ("/app" + "./dist/" -> "/app/dist").
 * NULL when dir is NULL and path is relative. */
const char *ms_abs(struct ms *ms, const char *dir, const char *path);
/* The rest of path inside dir ("" for dir itself), or NULL. */
const char *ms_under(const char *path, const char *dir);
/* A path relative to dir when it is inside it ("./dist"), else the path. */
const char *ms_rel(struct ms *ms, const char *dir, const char *path);

/* The WORKDIR of the runtime's last instruction (where CMD runs). */
const char *ms_final_wd(struct ms *ms);

/* The program and arguments CMD/ENTRYPOINT run: ENTRYPOINT's then CMD's
 * words (exec form, or a shell form made of one simple command of static
 * words). Returns the count, 0 when there is none, -1 when not static. The
 * items are set to the ENTRYPOINT/CMD items or -1. */
int ms_command(struct ms *ms, char ***argv, long *entry_item, long *cmd_item);

/* Is argv[0] a word that runs a shell ("sh", "/bin/bash", ...)? */
int ms_is_shell(const char *w);

/* JSON string of s for an exec-form array. */
void ms_json(struct df_buf *b, const char *s);
/* Append an instruction line (text + the document's line ending). */
void ms_line(struct ms *ms, struct df_buf *b, const char *fmt, ...) DF_PRINTF(3, 4);

/* Packages: the runtime packages a build package leaves behind ("" for
 * nothing), or NULL when dfix knows none. manager "apt" or "apk". */
const char *ms_runtime_pkgs(const char *manager, const char *name);
/* Is it a tool used only while building (compilers, git, curl...)? */
int ms_build_tool_pkg(const char *name);
/* A RUN line installing these packages with the manager, cache cleaned. */
void ms_pkg_install(struct ms *ms, struct df_buf *b, const char *manager, const char *pkgs);

/* ENV/ARG values known at item i: the value of $name, or NULL. */
const char *ms_var(struct ms *ms, size_t upto, const char *name);

/* Add a COPY --from=builder line: src in the builder, dst absolute. */
void ms_ship(struct ms *ms, const char *src, const char *dst);
/* Ship .env / .env.production when the builder got them: the original
 * image had them where the app reads them (dotenv, godotenv, next). */
void ms_ship_dotenv(struct ms *ms);
/* Is the absolute path shipped (it or a directory above it)? */
int ms_shipped(struct ms *ms, const char *abs);

/* Put an item in the builder only / runtime only / both. */
void ms_to(struct ms_item *it, int builder, int runtime);
/* ms_to for an instruction that is neither RUN nor COPY/ADD, item i of a
 * build that ends with item L: ENV, WORKDIR and USER go to the builder (up
 * to L) and the runtime, ARG stays where it is, the rest to the runtime. */
void ms_to_other(struct ms_item *it, size_t i, size_t L);

/* The generic classification of a simple command (users, directories,
 * system packages); 0 when the ecosystem must decide. */
unsigned ms_generic_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c);

/* Text of a node's instruction with the word of a RUN replaced: edits at
 * logical offsets of the instruction are mapped back to the node text. */
struct ms_edit {
	size_t off, end;   /* logical offsets [off, end) in inst->logical */
	const char *text;
};
char *ms_edit_node(struct ms *ms, size_t item, struct ms_edit *e, size_t ne);
/* The same for the node at idx with model inst. */
char *ms_edit_inst(struct ms *ms, size_t idx, const struct df_inst *inst, struct ms_edit *e,
		   size_t ne);
/* Logical offset of a shell word of an item (RUN/CMD shell form). */
size_t ms_word_off(const struct ms_item *it, const struct df_sh_word *w);

/* ---- node internals (multi_stage_node.c, multi_stage_npm.c) ---- */

#define MS_NODE_MAX_OUT 8
#define MS_NODE_MAX_WORDS 256

enum ms_node_mode { MS_M_NONE, MS_M_SERVER, MS_M_STATIC, MS_M_NEXT, MS_M_NUXT };

struct ms_node {
	struct ms *ms;
	void *pkg;            /* package.json (json_t *) */
	void *scripts;        /* its scripts object, or NULL */
	const char *pm;       /* npm yarn pnpm */
	const char *out[MS_NODE_MAX_OUT]; /* directories the build writes */
	size_t nout;
	int unknown_out;      /* a build tool whose output dfix cannot tell */
	int tsc_unknown;      /* tsc without outDir: type checks next to a bundler */
	int static_ok;        /* the build makes a static site (vite, react-scripts, vue) */
	const char *tool;     /* the build tool, for the finding */
	enum ms_node_mode mode;
	const char *start;    /* the file node runs */
	const char *start_tool; /* the package the start command runs (next, serve...) */
	const char *cmdtext;  /* what the container runs, for the finding */
};

/* package.json: load (0, or -1 with ms->skip) and free. */
int ms_npm_load(struct ms_node *nd);
void ms_npm_free(struct ms_node *nd);
/* A string field of package.json, a script, a dependency in a field. */
const char *ms_npm_field(struct ms_node *nd, const char *key);
const char *ms_npm_script(struct ms_node *nd, const char *name);
int ms_npm_dep(struct ms_node *nd, const char *field, const char *name);
/* What `npm run NAME` does by its name: MS_K_BUILD, MS_K_DEPS, ... */
unsigned ms_npm_script_kind(const char *name);
/* A path of a config relative to dir, cleaned ("./dist/" -> "dist"). */
const char *ms_npm_clean(struct ms *ms, const char *dir, const char *p);
void ms_npm_add_out(struct ms_node *nd, const char *dir);
/* Split a script into words; operators (&& || ; |) are words of their own. */
size_t ms_npm_words(struct ms *ms, const char *s, char **w, size_t max);
/* Read a build command (the directories it writes) and a start command
 * (mode, start, start_tool; 0 or -1 with ms->skip). */
void ms_npm_build(struct ms_node *nd, const char *text);
int ms_npm_start(struct ms_node *nd, char **w, size_t n);

/* ---- the plan and the text (multi_stage_emit.c) ---- */

/* ARGs: in the builder where they were; in the runtime when it uses them. */
void ms_place_args(struct ms *ms);
/* -1 (skip) when the runtime would copy over a directory of the system. */
int ms_system_dirs(struct ms *ms);
/* The text of both stages, to replace the stage's nodes. */
void ms_emit(struct ms *ms, struct df_buf *out);

/* ---- ecosystems ---- */

/* Classify one simple command for the ecosystem (MS_K_* bits, 0: unknown). */
unsigned ms_node_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c);
unsigned ms_go_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c);
unsigned ms_python_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c);
unsigned ms_java_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c);
unsigned ms_rust_kind(struct ms *ms, struct ms_item *it, struct ms_cmd *c);

/* Plan the split: 0 when planned, -1 with ms->skip or ms->quiet set. */
int ms_node_plan(struct ms *ms);
int ms_go_plan(struct ms *ms);
int ms_python_plan(struct ms *ms);
int ms_java_plan(struct ms *ms);
int ms_rust_plan(struct ms *ms);

/* Shared by the compiled ecosystems (Go, Rust, Java): items before the
 * build go to the builder (WORKDIR, ENV, ARG, USER to both), run-time
 * instructions to the runtime; RUNs after the build must be setup or
 * packages. `shell`: the runtime has /bin/sh. Returns 0 or -1 (skip). */
int ms_plan_compiled(struct ms *ms, int shell);

/* A native binary the build writes (Go, Rust). */
struct ms_bin {
	const char *path;       /* absolute in the builder */
	const char *rt;         /* absolute in the runtime (set by ms_plan_native) */
	const char *name;       /* base name */
	int onpath;             /* in a bin directory only the builder has on PATH */
};

struct ms_native {
	struct ms_bin *bins;
	size_t nbins;
	int glibc;                     /* linked against glibc (else static) */
	const char *distroless;        /* glibc flavour: "base" or "cc" */
	const char *const *build_env;  /* ENV names only the build reads */
	const char *const *src_suffixes; /* source files, for ms_referenced */
	const char *const *not_runtime;  /* top-level entries never shipped */
	const char *what;              /* "go build", "cargo build" */
};

/* Plan the runtime of native binaries (multi_stage_native.c): 0 or -1. */
int ms_plan_native(struct ms *ms, struct ms_native *nv);
/* Debian release a tag names ("" none, NULL alpine); the builder's image
 * word with the release added to its tag, or NULL. */
const char *ms_tag_release(const char *tag);
const char *ms_pin_release(struct ms *ms, const char *release);

/* Words of one CMD/ENTRYPOINT item (exec form, or a static shell form):
 * count, or -1. */
int ms_item_words(struct ms *ms, struct ms_item *it, char ***argv);
/* The same where shell-form words after the program may be dynamic
 * ($JAVA_OPTS): those are NULL. */
int ms_item_words_loose(struct ms *ms, struct ms_item *it, char ***argv);
int ms_command_loose(struct ms *ms, char ***argv, long *entry_item, long *cmd_item);

/* Files and directories CMD/ENTRYPOINT name that the builder got from the
 * context: copy them to the runtime (same path). Returns 0 or -1 (skip). */
int ms_ship_command_files(struct ms *ms, char **argv, int argc, const char *wd,
			  int from_arg);

#endif
