/* files.h - finding Dockerfiles under a directory (used by the CLI). */
#ifndef DFIX_FILES_H
#define DFIX_FILES_H

#include <stddef.h>

/* A growable list of malloc'ed path strings. Free with df_pathlist_release(). */
struct df_pathlist {
	char **v;
	size_t n, cap;
};
#define DF_PATHLIST_INIT { NULL, 0, 0 }
void df_pathlist_init(struct df_pathlist *l);
void df_pathlist_release(struct df_pathlist *l);
/* Append a copy of path. */
void df_pathlist_add(struct df_pathlist *l, const char *path);

/* Is `name` (a file name, no directory part) one dfix picks up when it
 * walks a directory? Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile,
 * Containerfile, Containerfile.*, except BuildKit's per-Dockerfile ignore
 * files (*.dockerignore) and patch/editor leftovers (.orig .rej .bak .swp ~). */
int df_dockerfile_name(const char *name);

/*
 * Append to `out` every Dockerfile under `dir`, recursively, sorted by path
 * (byte order). Directories named .git, .hg, .svn, node_modules and vendor
 * are skipped; symbolic links are not followed (neither to directories nor
 * to files: the file is found where it lives). Paths are `dir`
 * joined with the names below it, so they stay relative when `dir` is.
 * A directory that cannot be read calls err(path, strerror-style message,
 * arg) and the walk goes on. Returns the number of errors.
 */
size_t df_find_dockerfiles(struct df_pathlist *out, const char *dir,
			   void (*err)(const char *path, const char *msg, void *arg),
			   void *arg);

#endif
