/*
 * write.c - replace a file atomically (df_write_atomic).
 *
 * The bytes go to a temporary file in the target's own directory, which is
 * flushed to disk, given the old file's mode (and, where allowed, its
 * owner) and renamed over the target: readers see the old file or the new
 * one, never half of it. A symlink is followed to its final target, which
 * is replaced; the link stays a link. On any failure the temporary file is
 * removed and the target is left as it was. As with any rename-based save,
 * other hard links to the old file keep the old contents.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dfix.h"

#define TEMP_NAME ".dfix-XXXXXX"

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sync_fd(int fd)
{
	while (fsync(fd) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* Best effort: make the rename itself durable. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static mode_t new_file_mode(void)
{
	mode_t mask = umask(0);

	umask(mask);
	return 0666 & ~mask;
}

int df_write_atomic(const char *path, const char *data, size_t len, const char **err)
{
	char *target = NULL, *tmp = NULL, *dir = NULL, *slash;
	struct stat st;
	int fd = -1, exists, saved;
	size_t dlen;
	mode_t mode;

	if (!path || !*path) {
		*err = "empty path";
		return -1;
	}
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		target = realpath(path, NULL);
		if (!target) {
			*err = errno == ENOENT ? "dangling symlink" : strerror(errno);
			return -1;
		}
	} else {
		target = df_xstrndup(path, strlen(path));
	}

	exists = stat(target, &st) == 0;
	if (!exists && errno != ENOENT) {
		*err = strerror(errno);
		goto fail;
	}
	if (exists && S_ISDIR(st.st_mode)) {
		*err = "is a directory";
		goto fail;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		*err = "not a regular file";
		goto fail;
	}
	mode = exists ? (st.st_mode & 07777) : new_file_mode();

	slash = strrchr(target, '/');
	if (!slash)
		dir = df_xstrndup(".", 1);
	else if (slash == target)
		dir = df_xstrndup("/", 1);
	else
		dir = df_xstrndup(target, (size_t)(slash - target));
	dlen = strlen(dir);
	tmp = df_xmalloc(dlen + sizeof("/" TEMP_NAME));
	memcpy(tmp, dir, dlen);
	memcpy(tmp + dlen, "/" TEMP_NAME, sizeof("/" TEMP_NAME));

	fd = mkstemp(tmp);
	if (fd < 0) {
		*err = strerror(errno);
		free(tmp);
		tmp = NULL;
		goto fail;
	}
	if (write_all(fd, data, len) < 0)
		goto fail_errno;
	/* Keep the owner when we may (root editing someone's file); the
	 * chown comes first because it can clear set-id bits. */
	if (exists && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) < 0) {
		/* Not allowed: the new file is ours, as with any editor. */
	}
	if (fchmod(fd, mode) < 0 || sync_fd(fd) < 0)
		goto fail_errno;
	if (close(fd) < 0) {
		fd = -1;
		goto fail_errno;
	}
	fd = -1;
	if (rename(tmp, target) < 0)
		goto fail_errno;
	sync_dir(dir);
	free(tmp);
	free(dir);
	free(target);
	return 0;

fail_errno:
	*err = strerror(errno);
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	free(target);
	errno = saved;
	return -1;
}
