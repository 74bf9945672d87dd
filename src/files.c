/* files.c - finding Dockerfiles under a directory. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dfix.h"
#include "files.h"

void df_pathlist_init(struct df_pathlist *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

void df_pathlist_release(struct df_pathlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	df_pathlist_init(l);
}

static void add_owned(struct df_pathlist *l, char *path)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = df_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = path;
}

void df_pathlist_add(struct df_pathlist *l, const char *path)
{
	add_owned(l, df_xstrndup(path, strlen(path)));
}

static int has_prefix(const char *s, const char *pre)
{
	return strncmp(s, pre, strlen(pre)) == 0;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

int df_dockerfile_name(const char *name)
{
	static const char *const leftovers[] = {
		".dockerignore", ".orig", ".rej", ".bak", ".swp", "~", NULL
	};
	size_t i;
	int ok;

	ok = strcmp(name, "Dockerfile") == 0 || strcmp(name, "Containerfile") == 0 ||
	     (has_prefix(name, "Dockerfile.") && name[11]) ||
	     (has_prefix(name, "Containerfile.") && name[14]) ||
	     (has_suffix(name, ".Dockerfile") && strlen(name) > 11) ||
	     (has_suffix(name, ".dockerfile") && strlen(name) > 11);
	if (!ok)
		return 0;
	for (i = 0; leftovers[i]; i++)
		if (has_suffix(name, leftovers[i]))
			return 0;
	return 1;
}

static int skipped_dir(const char *name)
{
	static const char *const skip[] = {
		".git", ".hg", ".svn", "node_modules", "vendor", NULL
	};
	size_t i;

	for (i = 0; skip[i]; i++)
		if (strcmp(name, skip[i]) == 0)
			return 1;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t dn = strlen(dir), nn = strlen(name);
	char *p = df_xmalloc(dn + nn + 2);

	while (dn > 1 && dir[dn - 1] == '/')
		dn--; /* "proj//" -> "proj/name" */
	memcpy(p, dir, dn);
	if (dn && dir[dn - 1] != '/')
		p[dn++] = '/';
	memcpy(p + dn, name, nn + 1);
	return p;
}

static size_t walk(struct df_pathlist *out, const char *dir,
		   void (*err)(const char *, const char *, void *), void *arg)
{
	struct df_pathlist subdirs = DF_PATHLIST_INIT;
	struct dirent *de;
	struct stat st;
	size_t i, nerr = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		err(dir, strerror(errno), arg);
		return 1;
	}
	for (;;) {
		char *path;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = join(dir, de->d_name);
		if (lstat(path, &st) != 0) {
			free(path);
			continue; /* vanished while we looked */
		}
		if (S_ISDIR(st.st_mode)) {
			if (skipped_dir(de->d_name))
				free(path);
			else
				add_owned(&subdirs, path);
			continue;
		}
		/* Symbolic links are not followed: the file they name is found
		 * where it lives (and git cannot apply a patch through one). */
		if (S_ISREG(st.st_mode) && df_dockerfile_name(de->d_name))
			add_owned(out, path);
		else
			free(path);
	}
	if (errno) {
		err(dir, strerror(errno), arg);
		nerr++;
	}
	closedir(d);
	for (i = 0; i < subdirs.n; i++)
		nerr += walk(out, subdirs.v[i], err, arg);
	df_pathlist_release(&subdirs);
	return nerr;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t df_find_dockerfiles(struct df_pathlist *out, const char *dir,
			   void (*err)(const char *path, const char *msg, void *arg),
			   void *arg)
{
	size_t first = out->n, nerr;

	nerr = walk(out, dir, err, arg);
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_path);
	return nerr;
}
