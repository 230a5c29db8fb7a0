/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file of the last unchanged poll (see pollstate.h).  Its layout, all
 * integers big-endian: "RKPS", u32 version 1, i64 last_check_at, i64
 * next_check_at, u64 export_version, export_size, export_dev, export_ino,
 * i64 export_mtime_ns, 32 bytes export_bundle_sha256, u16 detail length, the
 * detail (printable text); then, from version 2 on, u8 1 when a store
 * record follows (0: none, the end), and that record: the database's and
 * the WAL's u64 dev, ino, size, i64 mtime_ns, ctime_ns, u64 active_version,
 * highest_version, and channel, fetch_url, etag, last_modified, each a u16
 * length and bytes without a NUL; nothing after.  Binary and fixed, so that
 * its reader is a handful of bounds-checked reads; it is never sent
 * anywhere.  Version 1 files (no store record) are still read.
 */
#include "pollstate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cursor.h"

#define MAGIC "RKPS"
#define VERSION 2
#define MAX_LEN                                                                \
	(4 + 4 + 9 * 8 + CRYPTO_SHA256_LEN + 2 + POLLSTATE_DETAIL_MAX + 1 +    \
	    12 * 8 + 4 * 2 + POLLSTATE_CHANNEL_MAX + POLLSTATE_URL_MAX +       \
	    POLLSTATE_ETAG_MAX + POLLSTATE_LM_MAX)

static int
get_u64(struct cursor *c, uint64_t *v)
{
	uint32_t hi, lo;

	if (cursor_u32(c, &hi) || cursor_u32(c, &lo))
		return RK_EFORMAT;
	*v = (uint64_t)hi << 32 | lo;
	return RK_OK;
}

static int
get_i64(struct cursor *c, int64_t *v)
{
	uint64_t u;

	if (get_u64(c, &u))
		return RK_EFORMAT;
	*v = (int64_t)u;
	return RK_OK;
}

/* A u16 length and that many bytes, none a NUL, into dst[max + 1]. */
static int
get_str(struct cursor *c, char *dst, size_t max)
{
	const uint8_t *p;
	uint16_t n;

	if (cursor_u16(c, &n) || n > max || cursor_bytes(c, n, &p) ||
	    memchr(p, '\0', n) != NULL)
		return RK_EFORMAT;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return RK_OK;
}

static int
get_file(struct cursor *c, struct pollstate_file *f)
{
	if (get_u64(c, &f->dev) || get_u64(c, &f->ino) ||
	    get_u64(c, &f->size) || get_i64(c, &f->mtime_ns) ||
	    get_i64(c, &f->ctime_ns))
		return RK_EFORMAT;
	return RK_OK;
}

/* The store record of version 2 (the u8 that announces it included). */
static int
get_store(struct cursor *c, struct pollstate_store *st)
{
	uint8_t has;

	if (cursor_u8(c, &has) || has > 1)
		return RK_EFORMAT;
	if (has == 0)
		return RK_OK;
	st->valid = 1;
	if (get_file(c, &st->db) || get_file(c, &st->wal) ||
	    get_u64(c, &st->active_version) ||
	    get_u64(c, &st->highest_version) ||
	    get_str(c, st->channel, POLLSTATE_CHANNEL_MAX) ||
	    get_str(c, st->fetch_url, POLLSTATE_URL_MAX) ||
	    get_str(c, st->etag, POLLSTATE_ETAG_MAX) ||
	    get_str(c, st->last_modified, POLLSTATE_LM_MAX))
		return RK_EFORMAT;
	return RK_OK;
}

int
pollstate_parse(const uint8_t *buf, size_t len, struct pollstate *out)
{
	struct pollstate ps;
	struct cursor c;
	const uint8_t *p;
	uint32_t version;
	uint16_t n;
	size_t i;

	memset(&ps, 0, sizeof(ps));
	cursor_init(&c, buf, len);
	if (buf == NULL || cursor_bytes(&c, 4, &p) || memcmp(p, MAGIC, 4) ||
	    cursor_u32(&c, &version) || version < 1 || version > VERSION ||
	    get_i64(&c, &ps.last_check_at) || get_i64(&c, &ps.next_check_at) ||
	    get_u64(&c, &ps.export_version) || get_u64(&c, &ps.export_size) ||
	    get_u64(&c, &ps.export_dev) || get_u64(&c, &ps.export_ino) ||
	    get_i64(&c, &ps.export_mtime_ns) ||
	    cursor_bytes(&c, CRYPTO_SHA256_LEN, &p))
		return RK_EFORMAT;
	memcpy(ps.export_bundle_sha256, p, CRYPTO_SHA256_LEN);
	if (cursor_u16(&c, &n) || n > POLLSTATE_DETAIL_MAX ||
	    cursor_bytes(&c, n, &p))
		return RK_EFORMAT;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return RK_EFORMAT;
	memcpy(ps.detail, p, n);
	ps.detail[n] = '\0';
	if ((version >= 2 && get_store(&c, &ps.store)) || c.left != 0)
		return RK_EFORMAT;
	*out = ps;
	return RK_OK;
}

static char *
path_of(const char *db_path, const char *suffix)
{
	size_t n = strlen(db_path) + strlen(suffix) + 1;
	char *p;

	if ((p = malloc(n)) != NULL)
		snprintf(p, n, "%s%s", db_path, suffix);
	return p;
}

int
pollstate_read(const char *db_path, struct pollstate *out)
{
	uint8_t buf[MAX_LEN + 1];
	ssize_t r;
	size_t len = 0;
	char *path;
	int fd;

	if ((path = path_of(db_path, "-poll")) == NULL)
		return RK_ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? RK_ENOENT : RK_EIO;
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	return pollstate_parse(buf, len, out);
}

static void
put_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)(v >> 32));
	wbuf_u32(w, (uint32_t)v);
}

static void
put_str(struct wbuf *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	wbuf_u16(w, (uint16_t)n);
	wbuf_put(w, s, n);
}

static void
put_file(struct wbuf *w, const struct pollstate_file *f)
{
	put_u64(w, f->dev);
	put_u64(w, f->ino);
	put_u64(w, f->size);
	put_u64(w, (uint64_t)f->mtime_ns);
	put_u64(w, (uint64_t)f->ctime_ns);
}

int
pollstate_encode(const struct pollstate *ps, uint8_t **out, size_t *len)
{
	const struct pollstate_store *st = &ps->store;
	struct wbuf w;
	size_t n = strnlen(ps->detail, POLLSTATE_DETAIL_MAX);

	wbuf_init(&w, MAX_LEN);
	wbuf_put(&w, MAGIC, 4);
	wbuf_u32(&w, VERSION);
	put_u64(&w, (uint64_t)ps->last_check_at);
	put_u64(&w, (uint64_t)ps->next_check_at);
	put_u64(&w, ps->export_version);
	put_u64(&w, ps->export_size);
	put_u64(&w, ps->export_dev);
	put_u64(&w, ps->export_ino);
	put_u64(&w, (uint64_t)ps->export_mtime_ns);
	wbuf_put(&w, ps->export_bundle_sha256, CRYPTO_SHA256_LEN);
	wbuf_u16(&w, (uint16_t)n);
	wbuf_put(&w, ps->detail, n);
	wbuf_u8(&w, st->valid ? 1 : 0);
	if (st->valid) {
		put_file(&w, &st->db);
		put_file(&w, &st->wal);
		put_u64(&w, st->active_version);
		put_u64(&w, st->highest_version);
		put_str(&w, st->channel, POLLSTATE_CHANNEL_MAX);
		put_str(&w, st->fetch_url, POLLSTATE_URL_MAX);
		put_str(&w, st->etag, POLLSTATE_ETAG_MAX);
		put_str(&w, st->last_modified, POLLSTATE_LM_MAX);
	}
	if (w.err != RK_OK) {
		wbuf_free(&w);
		return w.err;
	}
	*out = w.p;
	*len = w.len;
	return RK_OK;
}

int
pollstate_write(const char *db_path, const struct pollstate *ps)
{
	char *path = NULL, *tmp = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	ssize_t r;
	int fd = -1, rc;

	if ((rc = pollstate_encode(ps, &buf, &len)) != RK_OK)
		return rc;
	rc = RK_ENOMEM;
	if ((path = path_of(db_path, "-poll")) == NULL ||
	    (tmp = path_of(db_path, "-poll.tmp")) == NULL)
		goto out;
	rc = RK_EIO;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0)
		goto out;
	while (off < len) {
		r = write(fd, buf + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		off += (size_t)r;
	}
	/* No fsync: losing this file loses nothing (see pollstate.h). */
	r = close(fd);
	fd = -1;
	if (r != 0 || rename(tmp, path) != 0)
		goto out;
	rc = RK_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != RK_OK && tmp != NULL)
		(void)unlink(tmp);
	free(path);
	free(tmp);
	free(buf);
	return rc;
}

int
pollstate_export_unchanged(const struct pollstate *ps, uint64_t version,
    const uint8_t sha[CRYPTO_SHA256_LEN], const char *path)
{
	struct stat sb;

	return version != 0 && ps->export_version == version &&
	       memcmp(ps->export_bundle_sha256, sha, CRYPTO_SHA256_LEN) == 0 &&
	       stat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	       (uint64_t)sb.st_size == ps->export_size &&
	       (uint64_t)sb.st_dev == ps->export_dev &&
	       (uint64_t)sb.st_ino == ps->export_ino &&
	       (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec ==
		   ps->export_mtime_ns;
}

void
pollstate_remove(const char *db_path)
{
	char *path;

	if ((path = path_of(db_path, "-poll")) == NULL)
		return;
	(void)unlink(path);
	free(path);
}

int
pollstate_stat(const char *path, struct pollstate_file *f)
{
	struct stat sb;

	memset(f, 0, sizeof(*f));
	if (stat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	f->dev = (uint64_t)sb.st_dev;
	f->ino = (uint64_t)sb.st_ino;
	f->size = (uint64_t)sb.st_size;
	f->mtime_ns =
	    (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	f->ctime_ns =
	    (int64_t)sb.st_ctim.tv_sec * 1000000000 + sb.st_ctim.tv_nsec;
	return 0;
}

int
pollstate_stat_store(
    const char *db_path, struct pollstate_file *db, struct pollstate_file *wal)
{
	char *path;
	int rc;

	if (pollstate_stat(db_path, db) != 0)
		return -1;
	if ((path = path_of(db_path, "-wal")) == NULL)
		return -1;
	rc = pollstate_stat(path, wal);
	free(path);
	/*
	 * An empty WAL holds no commit: the database says it all.  A reader
	 * (status) leaves one behind where there was none.
	 */
	if (rc == 0 && wal->size == 0)
		memset(wal, 0, sizeof(*wal));
	return rc;
}
