/* test_write.c - df_write_atomic: content, mode, symlinks, clean failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfix.h"

/* ---- helpers ---- */

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = df_xmalloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static void remove_tree(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (lstat(path, &st) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			char *sub;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			sub = join(path, de->d_name);
			remove_tree(sub);
			free(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Entries of dir whose name starts with prefix ("" = all but . and ..). */
static int count_entries(const char *dir, const char *prefix)
{
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			n++;
	}
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_file(const char *path, const char *data, size_t len)
{
	const char *err = NULL;
	size_t n = 0;
	char *p = df_read_file(path, &n, &err);

	assert_non_null(p);
	assert_int_equal(n, len);
	assert_memory_equal(p, data, len);
	free(p);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/dfix-test-write-XXXXXX";
	char *dir = mkdtemp(tmpl);

	if (!dir)
		return -1;
	*state = df_xstrndup(dir, strlen(dir));
	return 0;
}

static int teardown(void **state)
{
	remove_tree(*state);
	free(*state);
	return 0;
}

/* ---- tests ---- */

static void test_new_file(void **state)
{
	const char *dir = *state, *err = NULL;
	char *path = join(dir, "Dockerfile");
	mode_t old = umask(022);

	assert_int_equal(df_write_atomic(path, "FROM alpine\n", 12, &err), 0);
	assert_null(err);
	assert_file(path, "FROM alpine\n", 12);
	assert_int_equal(mode_of(path), 0644);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	assert_int_equal(count_entries(dir, ""), 1);

	/* The mode of a new file follows the umask. */
	umask(077);
	free(path);
	path = join(dir, "other");
	assert_int_equal(df_write_atomic(path, "x", 1, &err), 0);
	assert_int_equal(mode_of(path), 0600);
	umask(old);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	free(path);
}

static void test_keep_mode(void **state)
{
	const char *dir = *state, *err = NULL;
	char *path = join(dir, "Dockerfile");
	char buf[16] = { 0 };
	int fd;

	put_file(path, "old contents\n", 0750);
	assert_int_equal(mode_of(path), 0750);
	/* A reader that opened the old file keeps seeing it whole. */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(df_write_atomic(path, "new\n", 4, &err), 0);
	assert_file(path, "new\n", 4);
	assert_int_equal(mode_of(path), 0750);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 13);
	assert_string_equal(buf, "old contents\n");
	close(fd);

	/* Other modes too, setgid-free: 0600 and 0444 (read-only file). */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(df_write_atomic(path, "a", 1, &err), 0);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(chmod(path, 0444), 0);
	assert_int_equal(df_write_atomic(path, "b", 1, &err), 0);
	assert_int_equal(mode_of(path), 0444);
	assert_file(path, "b", 1);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	free(path);
}

static void test_keep_owner(void **state)
{
	const char *dir = *state, *err = NULL;
	char *path = join(dir, "Dockerfile");
	struct stat st;

	put_file(path, "old\n", 0644);
	if (geteuid() != 0 || chown(path, 65534, 65534) < 0) {
		/* Only root can give a file away. */
		free(path);
		skip();
		return;
	}
	assert_int_equal(df_write_atomic(path, "new\n", 4, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_file(path, "new\n", 4);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	free(path);
}

static void test_symlink(void **state)
{
	const char *dir = *state, *err = NULL;
	char *real = join(dir, "real"), *target = join(dir, "real/Dockerfile");
	char *link = join(dir, "link"), *link2 = join(dir, "link2");
	char buf[64];
	struct stat st;
	ssize_t n;

	assert_int_equal(mkdir(real, 0755), 0);
	put_file(target, "FROM a\n", 0640);
	assert_int_equal(symlink("real/Dockerfile", link), 0);
	assert_int_equal(symlink("link", link2), 0);

	assert_int_equal(df_write_atomic(link, "FROM b\n", 7, &err), 0);
	assert_file(target, "FROM b\n", 7);
	assert_int_equal(mode_of(target), 0640);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	n = readlink(link, buf, sizeof(buf) - 1);
	assert_int_equal(n, 15);
	buf[n] = '\0';
	assert_string_equal(buf, "real/Dockerfile");

	/* A chain of links ends at the same file. */
	assert_int_equal(df_write_atomic(link2, "FROM c\n", 7, &err), 0);
	assert_file(target, "FROM c\n", 7);
	assert_int_equal(lstat(link2, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* The temp file went to the target's directory and is gone. */
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	assert_int_equal(count_entries(real, ".dfix-"), 0);
	assert_int_equal(count_entries(real, ""), 1);
	assert_int_equal(count_entries(dir, ""), 3);
	free(real);
	free(target);
	free(link);
	free(link2);
}

static void test_dangling_symlink_fails(void **state)
{
	const char *dir = *state, *err = NULL;
	char *link = join(dir, "link"), *missing = join(dir, "missing");
	struct stat st;

	assert_int_equal(symlink("missing", link), 0);
	assert_int_equal(df_write_atomic(link, "x\n", 2, &err), -1);
	assert_non_null(err);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(missing, &st), -1);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	assert_int_equal(count_entries(dir, ""), 1);
	free(link);
	free(missing);
}

static void test_directory_fails(void **state)
{
	const char *dir = *state, *err = NULL;
	char *sub = join(dir, "sub"), *link = join(dir, "link");
	struct stat st;

	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(df_write_atomic(sub, "x\n", 2, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, "is a directory");
	assert_int_equal(stat(sub, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(count_entries(sub, ""), 0);
	assert_int_equal(count_entries(dir, ""), 1);

	/* Through a symlink to the directory: same refusal. */
	assert_int_equal(symlink("sub", link), 0);
	err = NULL;
	assert_int_equal(df_write_atomic(link, "x\n", 2, &err), -1);
	assert_non_null(err);
	assert_int_equal(count_entries(sub, ""), 0);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	free(sub);
	free(link);
}

static void test_missing_dir_fails(void **state)
{
	const char *dir = *state, *err = NULL;
	char *path = join(dir, "nope/Dockerfile"), *nope = join(dir, "nope");
	struct stat st;

	assert_int_equal(df_write_atomic(path, "x\n", 2, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, strerror(ENOENT));
	assert_int_equal(lstat(nope, &st), -1);
	assert_int_equal(count_entries(dir, ""), 0);
	free(path);
	free(nope);
}

static void test_readonly_dir_fails(void **state)
{
	const char *dir = *state, *err = NULL;
	char *ro = join(dir, "ro"), *path = join(dir, "ro/Dockerfile");
	char *fresh = join(dir, "ro/new");
	struct stat st;

	assert_int_equal(mkdir(ro, 0755), 0);
	put_file(path, "original\n", 0644);
	assert_int_equal(chmod(ro, 0555), 0);
	if (geteuid() == 0) {
		/* root writes anyway; the permission check cannot be tested. */
		chmod(ro, 0755);
		free(ro);
		free(path);
		free(fresh);
		skip();
		return;
	}
	assert_int_equal(df_write_atomic(path, "changed\n", 8, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, strerror(EACCES));
	assert_file(path, "original\n", 9);
	err = NULL;
	assert_int_equal(df_write_atomic(fresh, "x", 1, &err), -1);
	assert_non_null(err);
	assert_int_equal(lstat(fresh, &st), -1);
	assert_int_equal(count_entries(ro, ".dfix-"), 0);
	assert_int_equal(count_entries(ro, ""), 1);
	chmod(ro, 0755);
	free(ro);
	free(path);
	free(fresh);
}

static void test_not_regular_fails(void **state)
{
	const char *err = NULL;
	struct stat before, after;

	assert_int_equal(stat("/dev/null", &before), 0);
	assert_int_equal(df_write_atomic("/dev/null", "x", 1, &err), -1);
	assert_non_null(err);
	assert_string_equal(err, "not a regular file");
	assert_int_equal(stat("/dev/null", &after), 0);
	assert_true(S_ISCHR(after.st_mode));
	assert_int_equal(before.st_ino, after.st_ino);
	assert_int_equal(df_write_atomic("", "x", 1, &err), -1);
	assert_string_equal(err, "empty path");
}

static void test_empty_and_large(void **state)
{
	const char *dir = *state, *err = NULL;
	char *path = join(dir, "Dockerfile");
	size_t n = (size_t)8 << 20, i;
	char *big = df_xmalloc(n);
	uint32_t x = 12345;

	put_file(path, "something\n", 0644);
	assert_int_equal(df_write_atomic(path, "", 0, &err), 0);
	assert_file(path, "", 0);
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (char)(x >> 16);
	}
	assert_int_equal(df_write_atomic(path, big, n, &err), 0);
	assert_file(path, big, n);
	assert_int_equal(count_entries(dir, ".dfix-"), 0);
	assert_int_equal(count_entries(dir, ""), 1);
	free(big);
	free(path);
}

static void test_relative_path(void **state)
{
	const char *dir = *state, *err = NULL;
	char cwd[4096];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(df_write_atomic("Dockerfile", "FROM x\n", 7, &err), 0);
	assert_int_equal(df_write_atomic("Dockerfile", "FROM y\n", 7, &err), 0);
	assert_file("Dockerfile", "FROM y\n", 7);
	assert_int_equal(count_entries(".", ".dfix-"), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(count_entries(dir, ""), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dangling_symlink_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_dir_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_and_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
