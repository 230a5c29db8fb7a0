/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading and writing the files that matter.  Reads are capped; writes are
 * either atomic replacements (temp file, fsync, rename, fsync of the
 * directory: a reader sees the old file or the new one, never half of
 * one) or exclusive creations for secrets (O_EXCL, a mode fixed at
 * creation, never an existing file overwritten).
 */
#ifndef RK_FILEIO_H
#define RK_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/*
 * Reads the whole of path ("-" is standard input) into a malloc'ed buffer
 * with one NUL byte after the data (so text may be used as a string); the
 * caller frees *out.  path is opened once without blocking and read only
 * when that descriptor is a regular file: a FIFO, a device, a socket or a
 * directory is RK_EINVAL at once (a FIFO with no writer would otherwise
 * block open() for good).  RK_ELIMIT when the file holds more than max
 * bytes, RK_ENOENT when it does not exist, RK_EIO otherwise (errno is
 * kept).
 */
int fileio_read(
    const char *path, size_t max, uint8_t **out, size_t *len) RK_WUR;

/*
 * The same for the operator's own inputs, which may also be a pipe or a
 * character device (`--certs <(...)`, `--key /dev/stdin`): those are read
 * to their end (blocking, as such a stream must), still capped at max.  A
 * directory or a socket is RK_EINVAL.  The device agent never reads with
 * this: a planted FIFO must not stop it.
 */
int fileio_read_stream(
    const char *path, size_t max, uint8_t **out, size_t *len) RK_WUR;

/*
 * The words for a failure rc of fileio_read(): "not a regular file" for
 * RK_EINVAL, strerror(errno) for RK_EIO and RK_ENOENT, rk_strerror(rc)
 * otherwise.  Call it before anything else can change errno.
 */
const char *fileio_read_error(int rc);

/*
 * Replaces path atomically with data, created with mode.  The temporary
 * file is "PATH.tmp.PID.XXXXXX" in path's folder: the writer's pid is in
 * its name so that fileio_clean_temps() can tell a crashed writer's file
 * from a live one's.
 */
int fileio_write_atomic(
    const char *path, const void *data, size_t len, mode_t mode) RK_WUR;

/*
 * The same replacement written in parts, for data too large to hold at
 * once: fileio_atomic_open() makes the temporary file (created with mode),
 * fileio_atomic_write() appends to it (buffered), fileio_atomic_commit()
 * flushes, fsyncs and closes it, renames it over path and fsyncs path's
 * folder; fileio_atomic_abort() removes it.  Commit and abort free w, and
 * a failed commit removes the temporary file.  RK_EIO keeps errno.
 */
struct fileio_atomic;
int fileio_atomic_open(
    const char *path, mode_t mode, struct fileio_atomic **w) RK_WUR;
int fileio_atomic_write(
    struct fileio_atomic *w, const void *data, size_t len) RK_WUR;
int fileio_atomic_commit(struct fileio_atomic *w, const char *path) RK_WUR;
void fileio_atomic_abort(struct fileio_atomic *w);

/*
 * Opens path for reading as fileio_read() does (without blocking on a
 * FIFO; a regular file only), with its codes; the caller closes *fd.
 */
int fileio_open(const char *path, int *fd) RK_WUR;

/*
 * Reads up to len bytes of fd into buf, stopping early only at the end of
 * the file; *got gets how many.  RK_EIO (errno kept) on a failed read.
 */
int fileio_read_full(int fd, void *buf, size_t len, size_t *got) RK_WUR;

/*
 * Removes the temporary files that writers of path killed before their
 * rename left behind: "PATH.tmp.PID.XXXXXX" whose process PID is gone
 * (a live one's, another user's included, is left alone), this process's
 * own (call it only when this process is not itself writing path), and
 * those of older versions, "PATH.tmp.XXXXXX", once older than an hour.
 * *removed (may be NULL) gets how many went.  RK_EIO when the folder
 * cannot be read; files that cannot be removed are skipped.
 */
int fileio_clean_temps(const char *path, size_t *removed);

/*
 * How many of path's temporary files fileio_clean_temps() would remove
 * now: for readers (status) that may not remove them.  0 when the folder
 * cannot be read.
 */
size_t fileio_count_stale_temps(const char *path);

/*
 * Creates path with mode and writes data; RK_EEXIST if anything is there
 * already (a dangling link included).  A failed write removes the file.
 */
int fileio_write_new(
    const char *path, const void *data, size_t len, mode_t mode) RK_WUR;

/*
 * Makes the folder path and any missing parents (mode, less the umask),
 * like mkdir -p.  RK_OK when it is there already; RK_EINVAL when path or
 * one of its parents exists but is not a folder; RK_EIO otherwise (errno
 * is kept).
 */
int fileio_mkdirs(const char *path, mode_t mode) RK_WUR;

#endif
