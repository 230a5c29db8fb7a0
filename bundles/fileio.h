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
 * caller frees *out.  RK_ELIMIT when the file holds more than max bytes,
 * RK_ENOENT when it does not exist, RK_EIO otherwise (errno is kept).
 */
int fileio_read(
    const char *path, size_t max, uint8_t **out, size_t *len) RK_WUR;

/* Replaces path atomically with data, created with mode. */
int fileio_write_atomic(
    const char *path, const void *data, size_t len, mode_t mode) RK_WUR;

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
