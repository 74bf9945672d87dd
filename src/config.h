/*
 * config.h - .dfix.yaml: find it, read it, apply it to one Dockerfile's run.
 *
 *   level: format | safe | all
 *   select: [pass, ...]        (or "pass,pass"; "all" and "none" as on the CLI)
 *   ignore: [pass, ...]
 *   base: alpine | slim | distroless | keep
 *   pin: {image: tag, ...}
 *   cache-mounts: true | false
 *   indent: 1..8
 *   overrides:
 *     - paths: [glob, ...]     (or one glob)
 *       <any key above>        replaces the top-level value for those files
 *
 * A glob without '/' matches the Dockerfile's name; with '/', its path
 * relative to the directory of the configuration file (fnmatch with
 * FNM_PATHNAME; a leading "**" "/" matches any number of directories).
 * Overrides apply in order, a later one winning. Command-line flags win over
 * the file: the CLI says which settings it was given.
 */
#ifndef DFIX_CONFIG_H
#define DFIX_CONFIG_H

#include "dfix.h"

/* The keys of the file; also the settings the command line was given. */
enum df_config_key {
	DF_CFG_LEVEL = 1u << 0,
	DF_CFG_SELECT = 1u << 1,
	DF_CFG_IGNORE = 1u << 2,
	DF_CFG_BASE = 1u << 3,
	DF_CFG_PIN = 1u << 4,
	DF_CFG_CACHE_MOUNTS = 1u << 5,
	DF_CFG_INDENT = 1u << 6
};

#define DF_CONFIG_NAME ".dfix.yaml"

struct df_config_pin {
	char *image; /* as written: "node", "docker.io/library/node" */
	char *tag;   /* "20-alpine", "20@sha256:..." */
};

/* The settings of one block: the top level or one override. */
struct df_config_set {
	unsigned keys;              /* DF_CFG_* given in this block */
	enum df_level level;
	unsigned char *select;      /* one byte per df_passes index */
	unsigned char *ignore;      /* idem */
	const char *base;           /* static string */
	struct df_config_pin *pins;
	size_t npins;
	int cache_mounts;
	int indent;
};

struct df_config_override {
	char **paths;               /* globs */
	size_t npaths;
	struct df_config_set set;
};

struct df_config {
	char *path;                 /* the file that was read */
	char *dir;                  /* its directory (absolute when resolvable) */
	struct df_config_set top;
	struct df_config_override *overrides;
	size_t noverrides;
};

/* An empty configuration (no keys): applying it changes nothing. */
void df_config_init(struct df_config *cfg);

/* Read and check the file at path into cfg (which it initialises). Returns 0,
 * or -1 with *err a malloc'ed "PATH:LINE:COL: message" (caller frees; cfg is
 * then empty). Unknown keys, wrong types, unknown pass ids and bad YAML are
 * errors. */
int df_config_load(const char *path, struct df_config *cfg, char **err);

/* Look for .dfix.yaml in the Dockerfile's directory and upward, stopping at
 * the filesystem root or after a directory that holds .git. dockerfile_path
 * NULL or "-" starts in the current directory. Returns 1 and *found_path
 * (malloc'ed, caller frees), or 0 when there is none. */
int df_config_find(const char *dockerfile_path, char **found_path);

/* The settings for one Dockerfile: the top level with every matching
 * override laid over it. *out points into cfg (do not release it). */
void df_config_resolve(const struct df_config *cfg, const char *dockerfile_path,
		       struct df_config_set *out);

/*
 * Apply the settings for dockerfile_path to ctx, except those the command
 * line gave (cli_keys, DF_CFG_* bits). ctx->enabled must already hold the
 * CLI's choice; the file can only switch passes off there: its `level` (not
 * applied when the CLI gave --level or --select), `select` (not when the CLI
 * gave --select) and `ignore` (not when it gave --ignore). `pin` has no
 * ctx field: read it with df_config_resolve().
 */
void df_config_apply(const struct df_config *cfg, const char *dockerfile_path,
		     struct df_ctx *ctx, unsigned cli_keys);

void df_config_release(struct df_config *cfg);

#endif
