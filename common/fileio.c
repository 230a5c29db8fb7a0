/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POSIX file helpers; see fileio.h.  errno is left as the failing call set
 * it so that main.c can print strerror(errno) next to the path.
 */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_INFIX ".tmp."
#define TEMP_RANDOM 6	     /* the XXXXXX of mkstemp */
#define LEGACY_AGE (60 * 60) /* an unnamed writer's file is stale after */

static int read_path(
    const char *path, size_t max, int streams, uint8_t **out, size_t *len);

int
fileio_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	return read_path(path, max, 0, out, len);
}

int
fileio_read_stream(const char *path, size_t max, uint8_t **out, size_t *len)
{
	return read_path(path, max, 1, out, len);
}

/*
 * Opens path to read it (a regular file, or with streams also a FIFO or a
 * character device), blocking from then on; *sb gets its fstat.
 */
static int
open_input(const char *path, int streams, int *out, struct stat *sb)
{
	int fd, fl, saved;

	/*
	 * O_NONBLOCK: a FIFO's open() returns at once, then fstat.  A
	 * caller that takes streams waits for the writer, as cat does (a
	 * FIFO opened without one reads as empty).
	 */
	fd = open(
	    path, O_RDONLY | (streams ? 0 : O_NONBLOCK) | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		/* ENXIO: a socket, or a device with nothing behind. */
		if (errno == ENXIO)
			errno = EINVAL;
		return errno == ENOENT	 ? RK_ENOENT
		       : errno == EINVAL ? RK_EINVAL
					 : RK_EIO;
	}
	if (fstat(fd, sb) != 0)
		goto fail;
	/*
	 * A stream (a pipe, <(...)) the caller allowed is read as it
	 * comes: blocking, and to its end or max.
	 */
	if (!S_ISREG(sb->st_mode) &&
	    !(streams && (S_ISFIFO(sb->st_mode) || S_ISCHR(sb->st_mode)))) {
		close(fd);
		errno = EINVAL;
		return RK_EINVAL;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
		goto fail;
	*out = fd;
	return RK_OK;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return RK_EIO;
}

int
fileio_open(const char *path, int *fd)
{
	struct stat sb;

	return open_input(path, 0, fd, &sb);
}

int
fileio_read_full(int fd, void *buf, size_t len, size_t *got)
{
	uint8_t *p = buf;
	ssize_t r;

	*got = 0;
	while (*got < len) {
		r = read(fd, p + *got, len - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return RK_EIO;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return RK_OK;
}

static int
read_path(const char *path, size_t max, int streams, uint8_t **out, size_t *len)
{
	uint8_t *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd, rc = RK_EIO, saved;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		struct stat sb;

		if ((rc = open_input(path, streams, &fd, &sb)) != RK_OK)
			return rc;
		rc = RK_EIO;
		/*
		 * Its size is known: one buffer of that size and a byte
		 * (which also finds a file that grew), not a doubling one
		 * that can hold nearly twice the file.  Only a hint.
		 */
		if (sb.st_size > 0 && (uintmax_t)sb.st_size <= max) {
			cap = (size_t)sb.st_size + 1;
			if ((buf = malloc(cap + 1)) == NULL) {
				rc = RK_ENOMEM;
				goto out;
			}
		}
	}
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

const char *
fileio_read_error(int rc)
{
	if (rc == RK_EINVAL)
		return "not a regular file (a FIFO, device, socket or folder)";
	if (rc == RK_EIO || rc == RK_ENOENT)
		return strerror(errno);
	return rk_strerror(rc);
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

/* A replacement under way: its temp file and what is not yet written. */
struct fileio_atomic {
	int fd;
	char *tmp;
	size_t used;
	uint8_t buf[16384];
};

/* Writes out what the buffer holds; RK_EIO keeps errno. */
static int
flush_buf(struct fileio_atomic *w)
{
	int rc = write_all(w->fd, w->buf, w->used);

	w->used = 0;
	return rc;
}

int
fileio_atomic_open(const char *path, mode_t mode, struct fileio_atomic **out)
{
	struct fileio_atomic *w;
	size_t tlen = strlen(path) + 40;
	int saved;

	if ((w = malloc(sizeof(*w))) == NULL)
		return RK_ENOMEM;
	w->used = 0;
	if ((w->tmp = malloc(tlen)) == NULL) {
		free(w);
		return RK_ENOMEM;
	}
	snprintf(
	    w->tmp, tlen, "%s" TEMP_INFIX "%ld.XXXXXX", path, (long)getpid());
	if ((w->fd = mkstemp(w->tmp)) < 0) {
		saved = errno;
		free(w->tmp);
		free(w);
		errno = saved;
		return RK_EIO;
	}
	if (fchmod(w->fd, mode) != 0) {
		fileio_atomic_abort(w);
		return RK_EIO;
	}
	*out = w;
	return RK_OK;
}

int
fileio_atomic_write(struct fileio_atomic *w, const void *data, size_t len)
{
	int rc;

	if (len <= sizeof(w->buf) - w->used) {
		memcpy(w->buf + w->used, data, len);
		w->used += len;
		return RK_OK;
	}
	if ((rc = flush_buf(w)) != RK_OK)
		return rc;
	if (len >= sizeof(w->buf))
		return write_all(w->fd, data, len);
	memcpy(w->buf, data, len);
	w->used = len;
	return RK_OK;
}

void
fileio_atomic_abort(struct fileio_atomic *w)
{
	int saved = errno;

	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	free(w->tmp);
	free(w);
	errno = saved;
}

int
fileio_atomic_commit(struct fileio_atomic *w, const char *path)
{
	int fd = w->fd;

	if (flush_buf(w) != RK_OK || fsync(fd) != 0)
		goto fail;
	w->fd = -1;
	if (close(fd) != 0 || rename(w->tmp, path) != 0)
		goto fail;
	free(w->tmp);
	free(w);
	return fsync_dir_of(path);
fail:
	fileio_atomic_abort(w);
	return RK_EIO;
}

int
fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct fileio_atomic *w;
	int rc;

	if ((rc = fileio_atomic_open(path, mode, &w)) != RK_OK)
		return rc;
	if ((rc = fileio_atomic_write(w, data, len)) != RK_OK) {
		fileio_atomic_abort(w);
		return rc;
	}
	return fileio_atomic_commit(w, path);
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
/*
 * Is name (an entry of path's folder, whose base name is base) a temporary
 * file of path that nobody will rename any more?  *pid gets the writer's
 * pid, 0 for an older version's file (no pid in its name).
 */
static int
temp_is_stale(int dfd, const char *base, const char *name, long *pid)
{
	size_t bl = strlen(base), il = strlen(TEMP_INFIX);
	const char *p, *dot;
	struct stat sb;
	char *end;

	*pid = 0;
	if (strncmp(name, base, bl) != 0 ||
	    strncmp(name + bl, TEMP_INFIX, il) != 0)
		return 0;
	p = name + bl + il;
	if ((dot = strchr(p, '.')) != NULL) {
		if (strlen(dot + 1) != TEMP_RANDOM || dot == p)
			return 0;
		errno = 0;
		*pid = strtol(p, &end, 10);
		if (end != dot || errno != 0 || *pid <= 0)
			return 0;
		if (*pid == (long)getpid())
			return 1;
		/* EPERM: alive, another user's.  Only ESRCH means gone. */
		return kill((pid_t)*pid, 0) != 0 && errno == ESRCH;
	}
	if (strlen(p) != TEMP_RANDOM)
		return 0;
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(sb.st_mode))
		return 0;
	return (int64_t)time(NULL) - (int64_t)sb.st_mtime > LEGACY_AGE;
}

/* Walks path's folder; removes the stale temps when rm, counts them. */
static int
walk_temps(const char *path, int rm, size_t *count)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	const char *base;
	struct dirent *de;
	DIR *d = NULL;
	long pid;
	int rc = RK_EIO;

	*count = 0;
	if (dcopy == NULL || bcopy == NULL) {
		rc = RK_ENOMEM;
		goto out;
	}
	base = basename(bcopy);
	if ((d = opendir(dirname(dcopy))) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!temp_is_stale(dirfd(d), base, de->d_name, &pid))
			continue;
		if (rm && unlinkat(dirfd(d), de->d_name, 0) != 0)
			continue;
		(*count)++;
	}
	rc = RK_OK;
out:
	if (d != NULL)
		closedir(d);
	free(dcopy);
	free(bcopy);
	return rc;
}

int
fileio_clean_temps(const char *path, size_t *removed)
{
	size_t n = 0;
	int rc = walk_temps(path, 1, &n);

	if (removed != NULL)
		*removed = n;
	return rc;
}

size_t
fileio_count_stale_temps(const char *path)
{
	size_t n = 0;

	if (walk_temps(path, 0, &n) != RK_OK)
		return 0;
	return n;
}
