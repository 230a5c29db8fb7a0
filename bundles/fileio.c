/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POSIX file helpers; see fileio.h.  errno is left as the failing call set
 * it so that main.c can print strerror(errno) next to the path.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fileio_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd, rc = RK_EIO, saved;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? RK_ENOENT : RK_EIO;
	for (;;) {
		if (n == cap) {
			/* Read one byte past max so that "exactly max" fits. */
			size_t ncap = cap ? cap * 2 : 65536;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= cap) {
				rc = RK_ELIMIT;
				goto out;
			}
			if ((nb = realloc(buf, ncap + 1)) == NULL) {
				rc = RK_ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto out;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = RK_ELIMIT;
			goto out;
		}
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	buf = NULL;
	rc = RK_OK;
out:
	saved = errno;
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	errno = saved;
	return rc;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t w;

	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RK_EIO;
		p += w;
		len -= (size_t)w;
	}
	return RK_OK;
}

static int
fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = RK_EIO;

	if (copy == NULL)
		return RK_ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd) == 0)
			rc = RK_OK;
		close(fd);
	}
	free(copy);
	return rc;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	size_t tlen = strlen(path) + 16;
	char *tmp;
	int fd, rc = RK_EIO, saved;

	if ((tmp = malloc(tlen)) == NULL)
		return RK_ENOMEM;
	snprintf(tmp, tlen, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		free(tmp);
		return RK_EIO;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != RK_OK ||
	    fsync(fd) != 0) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		saved = errno;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		goto fail;
	}
	free(tmp);
	return fsync_dir_of(path);
fail:
	unlink(tmp);
	free(tmp);
	errno = saved;
	return rc;
}

int
fileio_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd, saved;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return errno == EEXIST ? RK_EEXIST : RK_EIO;
	/* The umask may have taken bits away; never add any to a secret. */
	if (write_all(fd, data, len) != RK_OK || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return RK_EIO;
	}
	if (close(fd) != 0) {
		saved = errno;
		unlink(path);
		errno = saved;
		return RK_EIO;
	}
	return fsync_dir_of(path);
}

int
fileio_mkdirs(const char *path, mode_t mode)
{
	struct stat st;
	char *copy, *p;
	int rc = RK_OK;

	if (path[0] == '\0')
		return RK_EINVAL;
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? RK_OK : RK_EINVAL;
	if ((copy = strdup(path)) == NULL)
		return RK_ENOMEM;
	/* Each parent in turn: "a/b/c" makes "a", "a/b", then "a/b/c". */
	for (p = copy + 1; rc == RK_OK; p++) {
		int last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST)
			rc = RK_EIO;
		else if (stat(copy, &st) != 0)
			rc = RK_EIO;
		else if (!S_ISDIR(st.st_mode))
			rc = RK_EINVAL;
		if (last)
			break;
		*p = '/';
	}
	free(copy);
	return rc;
}
