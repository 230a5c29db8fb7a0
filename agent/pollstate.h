/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an unchanged poll leaves behind: a small file beside the store
 * (DB + "-poll") that says when the agent last checked and found nothing
 * new, when it will check next, and which export it last found equal to
 * the active set.  A device polls every few hours for years on flash that
 * wears, so an unchanged poll makes no durable write: this file is
 * replaced (temp file and rename) without fsync, and may be lost, stale
 * or torn on power loss.  Nothing depends on it for correctness: the
 * store stays the record of every change, status takes the file's times
 * only when they are newer than the store's, and a file that does not
 * parse is ignored.  It is not a store of anything a verdict needs.
 */
#ifndef RK_POLLSTATE_H
#define RK_POLLSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define POLLSTATE_DETAIL_MAX 255
#define POLLSTATE_CHANNEL_MAX 64
#define POLLSTATE_URL_MAX 1023
#define POLLSTATE_ETAG_MAX 1023
#define POLLSTATE_LM_MAX 63

/* A file as stat() saw it; all zero: there was none. */
struct pollstate_file {
	uint64_t dev;
	uint64_t ino;
	uint64_t size;
	int64_t mtime_ns;
	int64_t ctime_ns;
};

/*
 * What the store said at the last unchanged poll, and its files (the
 * database and its WAL) as they were then and as they were left: while
 * both are found exactly so, the store still says this, and a poll needs
 * nothing else from it (agent_idle_check(), agent.h).  Any commit of any
 * writer changes the WAL (or, checkpointed, the database).
 */
struct pollstate_store {
	int valid; /* 0: none, nothing below is set */
	struct pollstate_file db;
	struct pollstate_file wal;
	uint64_t active_version;
	uint64_t highest_version;
	char channel[POLLSTATE_CHANNEL_MAX + 1];
	char fetch_url[POLLSTATE_URL_MAX + 1]; /* redacted */
	char etag[POLLSTATE_ETAG_MAX + 1];
	char last_modified[POLLSTATE_LM_MAX + 1];
};

struct pollstate {
	int64_t last_check_at; /* an unchanged poll ("current"); 0: none */
	int64_t next_check_at; /* 0: none */
	char detail[POLLSTATE_DETAIL_MAX + 1];
	/*
	 * The export file (its size, device, inode and time) as last found
	 * holding the set of the active version, which export_version and
	 * the SHA-256 of that version's bundle file name; version 0: none.
	 */
	uint64_t export_version;
	uint64_t export_size;
	uint64_t export_dev;
	uint64_t export_ino;
	int64_t export_mtime_ns;
	uint8_t export_bundle_sha256[CRYPTO_SHA256_LEN];
	struct pollstate_store store;
};

/*
 * Parses the file's bytes.  RK_EFORMAT for anything but a complete record
 * of version 1 (no store record) or 2 (bad magic, truncated, trailing
 * bytes, a detail that is not text, a NUL in a string).  Fills *out on
 * success.
 */
int pollstate_parse(
    const uint8_t *buf, size_t len, struct pollstate *out) RK_WUR;

/* The file's bytes for ps; caller frees *out.  RK_ENOMEM. */
int pollstate_encode(
    const struct pollstate *ps, uint8_t **out, size_t *len) RK_WUR;

/* Reads DB-poll; RK_ENOENT when it is missing, RK_EFORMAT when unusable. */
int pollstate_read(const char *db_path, struct pollstate *out) RK_WUR;

/*
 * Replaces DB-poll (mode 0644: status may run as a user who can only
 * read) by a temp file and a rename, without fsync.  RK_EIO, RK_ENOMEM.
 */
int pollstate_write(const char *db_path, const struct pollstate *ps) RK_WUR;

/*
 * Does ps vouch for the export at path: it names version (not 0) and sha,
 * the SHA-256 of that version's bundle file, and path is a regular file
 * with the size, device, inode and time ps recorded, untouched since it
 * was found holding that version's set?  1 or 0; only a stat().
 */
int pollstate_export_unchanged(const struct pollstate *ps, uint64_t version,
    const uint8_t sha[CRYPTO_SHA256_LEN], const char *path);

/* Removes DB-poll, if any. */
void pollstate_remove(const char *db_path);

/* The file at path into *f (all zero when there is none); -1 on error. */
int pollstate_stat(const char *path, struct pollstate_file *f);

/*
 * The store's files (DB and DB-wal) now into *db and *wal, an empty WAL
 * as none; -1 when one cannot be looked at (other than missing).
 */
int pollstate_stat_store(
    const char *db_path, struct pollstate_file *db, struct pollstate_file *wal);

#endif
