/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device's store: one SQLite file (WAL, synchronous=FULL, our own
 * application_id, user_version migrations) holding every verified bundle
 * version with its raw signed bytes, the certificates (once each, by
 * SHA-256, shared between versions), the device state (channel, active and
 * highest-seen version, time floor, pinned keys and threshold, the last
 * fetch's validators, the last check), the persistent distrust list and an
 * event log with bounded retention.  The only module that includes SQLite.
 * It stores what it is told: every decision (what may be activated, what
 * counts as a rollback) is the policy's.
 *
 * Writers open read-write and wrap changes in store_begin/store_commit; a
 * commit is followed by a WAL checkpoint so the main file alone is current,
 * which is what lets a user who can only read the file still read it.
 * Readers (status, list, certs, the library) never block the writer.
 * A STORE_RO reader that cannot create the -shm file next to the store (no
 * write access to its folder) opens the file as immutable; such a reader
 * notices a writer's commit by the file's size, times and inode, and
 * reopens before its next read (outside a transaction).
 */
#ifndef RK_STORE_H
#define RK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "manifest.h"

#define STORE_APPLICATION_ID 0x524b4b50 /* "RKKP" */
#define STORE_SCHEMA_VERSION 4
#define STORE_MAX_EVENTS 1000  /* older events are deleted */
#define STORE_WRITER_WAIT_S 30 /* a writer's default wait for another */

enum store_mode {
	STORE_RO,     /* read only; works without write access to the file */
	STORE_RW,     /* read-write; the store must exist and be ours */
	STORE_CREATE, /* read-write; creates a new store, RK_EEXIST if any */
};

struct store;

/*
 * Opens (or creates) the store at path.  RK_ENOENT when it does not exist
 * (RO, RW); RK_EEXIST when CREATE finds a file there; RK_ESTORE when the
 * file is not a rootkeeper store (wrong application_id), is from a newer
 * schema, or SQLite fails (detail in why).  Caller closes with
 * store_close().  RW migrates an older schema (each step one
 * transaction); RO refuses one (RK_ESTORE) and, without write access to
 * the store's folder, falls back to reading the file as immutable.
 * CREATE also refuses a leftover PATH-wal/-journal/-shm (RK_EEXIST) and
 * removes its file again when it fails.  A handle is for one thread.
 */
int store_open(const char *path, enum store_mode mode, struct store **out,
    struct rk_why *why) RK_WUR;

void store_close(struct store *s);

/*
 * SQLite's words for the last failure of a call on s ("UNIQUE constraint
 * failed: ...", "the store is open read-only"); "" before any.  Owned by
 * s, valid until the next call on it.  Only the failing call sets it.
 */
const char *store_last_error(const struct store *s);

/*
 * How long a write on s waits for another writer (default
 * STORE_WRITER_WAIT_S) before it fails with RK_EBUSY, store_last_error()
 * then naming the store and saying that another writer holds it.
 */
void store_set_wait(struct store *s, unsigned seconds);

/*
 * BEGIN IMMEDIATE / COMMIT (then checkpoint) / ROLLBACK.  begin waits up
 * to the wait of store_set_wait() for another writer (RK_EBUSY).  A
 * failed commit (a deferred check such as state.active_version naming no
 * stored version, an I/O error, a full disk) rolls the transaction back,
 * with SQLite's words in store_last_error().  Once COMMIT succeeded the
 * change is durable (in the WAL), so commit returns RK_OK even when the
 * checkpoint after it fails: store_checkpoint_error() then says why (a
 * checkpoint that only finds a reader in the way is not a failure; the
 * next commit checkpoints again).  abort is harmless without a
 * transaction.  Every write function below is atomic by itself: outside
 * store_begin it runs (and commits, and checkpoints) as its own
 * transaction.  On a STORE_RO store every write, store_begin and
 * store_commit are RK_EINVAL.
 */
/* Frees what SQLite caches for s (pages of the file); NULL is fine. */
void store_release_memory(struct store *s);

int store_begin(struct store *s) RK_WUR;
int store_commit(struct store *s) RK_WUR;
void store_abort(struct store *s);

/*
 * Why the last checkpoint tried on s failed ("committed, but the WAL
 * checkpoint failed: database or disk is full"), or "" when it did not
 * (or none was tried): a commit that fails itself leaves it as it was, as
 * the WAL still holds what that checkpoint could not move.  Owned by s.
 */
const char *store_checkpoint_error(const struct store *s);

/* The device state: one row.  Strings are NUL-terminated, "" when unset. */
struct store_state {
	char channel[MANIFEST_CHANNEL_MAX + 1];
	uint64_t active_version;  /* 0: none active */
	uint64_t highest_version; /* highest ever verified; 0: none */
	uint8_t highest_sha256[CRYPTO_SHA256_LEN];
	int64_t time_floor;   /* largest issued_at ever verified; 0: none */
	unsigned threshold;   /* of the pinned keys */
	char fetch_url[1024]; /* the URL the validators below belong to,
				 its password redacted (url_redact()) */
	char etag[1024];      /* of the last 200 from fetch_url */
	char last_modified[64];
	int64_t last_check_at;	    /* 0: never */
	char last_check_result[16]; /* updated|current|rejected|error */
	char last_check_detail[256];
	int64_t next_check_at; /* 0: not scheduled (no daemon) */
	/* A verified bundle a staged rollout left this device out of: */
	uint64_t deferred_version; /* 0: none */
	unsigned deferred_percent; /* its rollout percentage */
};

/*
 * set writes every field, active_version and threshold included: read the
 * state after store_activate() or store_set_keys() before setting it.
 * highest_version and time_floor only ever rise: a set that would lower
 * either is refused by the store itself (RK_ESTORE).  A nonzero
 * active_version must name a stored version by the commit (RK_ESTORE
 * otherwise); a string field without its NUL is RK_EINVAL.
 */
int store_get_state(struct store *s, struct store_state *out) RK_WUR;
int store_set_state(struct store *s, const struct store_state *st) RK_WUR;

/*
 * The pinned keys.  get: *keys is a malloc'ed array of n keys; the caller
 * frees each with pubkey_free() and the array with free() (NULL when
 * n is 0).  set replaces the whole set (and the state's threshold), in
 * order; RK_EINVAL for a duplicate key or a threshold outside 1..n (0 only
 * with no keys).
 */
int store_get_keys(struct store *s, struct pubkey ***keys, size_t *n) RK_WUR;
int store_set_keys(struct store *s, struct pubkey *const *keys, size_t n,
    unsigned threshold) RK_WUR;

struct store_cert {
	uint8_t sha256[CRYPTO_SHA256_LEN];
	uint8_t *der; /* owned; freed by store_certs_free() */
	size_t der_len;
	char subject[256];
	int64_t not_before;
	int64_t not_after;
};

void store_certs_free(struct store_cert *c, size_t n);

struct store_version {
	uint64_t version;
	uint8_t sha256[CRYPTO_SHA256_LEN]; /* of the raw bundle file */
	int64_t issued_at;
	int64_t expires_at;
	int64_t stored_at;
	int64_t activated_at; /* last activation; 0: never */
	size_t ncerts;
	int factory; /* installed by init */
	int bad;     /* rolled back from; never chosen by rollback again */
};

/*
 * Stores a verified version: the raw bytes, its facts and its
 * certificates in order (certificates already stored are shared, not
 * copied).  RK_EEXIST if that version is stored already.  v->ncerts is
 * ignored (ncerts counts); RK_EINVAL when the version is 0.  The caller
 * vouches that v->sha256 is SHA-256 of raw and each certificate's sha256
 * that of its der (certificates are shared by that hash): the agent has
 * them from the one hashing of those bytes, and they are not redone.
 */
int store_add_version(struct store *s, const struct store_version *v,
    const uint8_t *raw, size_t raw_len, const struct store_cert *certs,
    size_t ncerts) RK_WUR;

/*
 * Sets active_version to version and its activated_at to now; RK_ENOENT
 * when the version is not stored.
 */
int store_activate(struct store *s, uint64_t version, int64_t now) RK_WUR;

/* RK_ENOENT when the version is not stored. */
int store_mark_bad(struct store *s, uint64_t version) RK_WUR;

/* All stored versions, newest first; caller frees *out (NULL if none). */
int store_list_versions(
    struct store *s, struct store_version **out, size_t *n) RK_WUR;

/* One version; RK_ENOENT when it is not stored. */
int store_get_version(
    struct store *s, uint64_t version, struct store_version *out) RK_WUR;

/*
 * The raw signed bundle of a version; caller frees *raw.  RK_ENOENT when
 * the version is not stored.
 */
int store_get_raw(
    struct store *s, uint64_t version, uint8_t **raw, size_t *len) RK_WUR;

/*
 * A version's certificates in bundle order; store_certs_free().  RK_ENOENT
 * when the version is not stored.
 */
int store_version_certs(struct store *s, uint64_t version,
    struct store_cert **out, size_t *n) RK_WUR;

/*
 * Retention: deletes every version but the newest keep, the factory ones
 * and the active one, then every certificate no version uses.  *deleted
 * (may be NULL) gets the number of versions deleted.
 */
int store_prune(struct store *s, unsigned keep, size_t *deleted) RK_WUR;

struct store_distrust {
	uint8_t sha256[CRYPTO_SHA256_LEN];
	int has_after; /* 0: never trusted (unless lifted) */
	int64_t after;
	int lifted; /* 1: the entry was lifted; has_after is then 0 */
	char reason[256];
	uint64_t since_version; /* the version that set the entry in force */
};

/*
 * Merges the distrust list of the bundle with this version into the
 * persistent one.  For each fingerprint the entry of the highest version
 * that mentions it is in force: an entry replaces the known one (a date
 * moved either way, a partial distrust made full or the reverse) and
 * takes its since_version from version (and its reason, when it gives
 * one), unless the known one is from a higher version, which stays.  A
 * lift marks a known entry lifted; a lift of an unknown fingerprint is
 * not stored.  Nothing is ever deleted.  Reasons are cut to 255 bytes at
 * a UTF-8 character boundary.  RK_EINVAL for a lift with a date.
 */
int store_add_distrust(struct store *s, const struct distrust *d, size_t n,
    uint64_t version) RK_WUR;

/* The persistent list, by sha256; caller frees *out (NULL if empty). */
int store_get_distrust(
    struct store *s, struct store_distrust **out, size_t *n) RK_WUR;

struct store_event {
	int64_t id;
	int64_t at;
	char kind[24];	  /* check, updated, current, rejected, equivocation,
			     activated, rollback, export, error, init */
	uint64_t version; /* 0: none */
	char detail[512];
};

/*
 * Appends an event; keeps the newest STORE_MAX_EVENTS.  kind is 1..23
 * bytes (RK_EINVAL otherwise); detail (NULL: "") is cut to 511 bytes at a
 * UTF-8 character boundary.  Ids increase and are never reused.
 */
int store_add_event(struct store *s, int64_t at, const char *kind,
    uint64_t version, const char *detail) RK_WUR;

/* The newest max events, newest first; caller frees *out (NULL if none). */
int store_list_events(
    struct store *s, size_t max, struct store_event **out, size_t *n) RK_WUR;

/*
 * Cheap change detection for readers (librootkeeper): the active version
 * with one indexed read.
 */
int store_active_version(struct store *s, uint64_t *version) RK_WUR;

/*
 * For tests: the number of distinct certificates stored (what
 * store_prune() must bring down once no version uses one).
 */
int store_count_certs(struct store *s, size_t *n) RK_WUR;

/*
 * How one anti-lockout probe ended.  The values are those the probes
 * table stores (and status prints): they never change.
 */
enum store_probe_result {
	STORE_PROBE_OK = 0,   /* the chain and the name validated */
	STORE_PROBE_CERT = 1, /* the certificate was refused */
	STORE_PROBE_NET = 2,  /* a network failure */
};

/*
 * The last result of one anti-lockout probe (a TLS handshake to target
 * with the active set).  On STORE_PROBE_OK, root_* name the root the
 * chain ended at and alternative says whether another root of the active
 * set validates the target too (so that the root's expiry does not cut
 * the device off).
 */
struct store_probe {
	char target[300]; /* host:port */
	int64_t at;
	enum store_probe_result result;
	char root_subject[256];
	uint8_t root_sha256[CRYPTO_SHA256_LEN];
	int64_t root_not_after;
	int alternative;
	char detail[256];
};

/* Records a probe's result, replacing the last one for that target. */
int store_set_probe(struct store *s, const struct store_probe *p) RK_WUR;

/* Every recorded probe, by target; caller frees *out. */
int store_list_probes(
    struct store *s, struct store_probe **out, size_t *n) RK_WUR;

/*
 * store_activate() of a version that store_add_version() stored in this
 * write transaction with activated_at already now: only the state moves,
 * so the version's row, raw bundle and all, is not copied and rewritten.
 * RK_ENOENT when the version is not stored, RK_EINVAL when its
 * activated_at is not now.
 */
int store_activate_added(struct store *s, uint64_t version, int64_t now) RK_WUR;

/*
 * Called with each certificate of a version in bundle order: its SHA-256
 * and DER, both borrowed for the call only.  An rc other than RK_OK stops
 * the walk and is returned.
 */
typedef int (*store_cert_fn)(void *arg, const uint8_t sha[CRYPTO_SHA256_LEN],
    const uint8_t *der, size_t der_len);

/*
 * Walks version's certificates one at a time (none is copied, so the
 * memory does not grow with the set); fn's rc stops the walk and is
 * returned.  RK_ENOENT when the version is not stored.
 */
int store_each_cert(
    struct store *s, uint64_t version, store_cert_fn fn, void *arg) RK_WUR;

/*
 * A read transaction around several reads, so that they all see one
 * version of the store (a writer may commit between two reads that are
 * not in one).  RK_EINVAL when a transaction is open already;
 * store_end_read() ends it (harmless without one, never a write).
 */
int store_begin_read(struct store *s) RK_WUR;
void store_end_read(struct store *s);

#endif
