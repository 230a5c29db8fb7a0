/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite adapter behind store.h, and the only file of the project that
 * includes sqlite3.h.  It owns the schema (an ordered list of migrations,
 * each run in one transaction that also bumps user_version), refuses any
 * file that does not carry our application_id or comes from a newer
 * schema, and maps every SQLite failure to RK_ESTORE with SQLite's own
 * words kept for store_last_error().  Only bound parameters reach SQL.
 * Every write is atomic on its own (a savepoint inside the caller's
 * transaction, or a transaction of its own), and every commit is followed
 * by a WAL checkpoint so that the main file alone is current: that is what
 * lets a reader that cannot create the -shm file open the store as an
 * immutable file.  It does not parse certificates or bundles and makes no
 * policy decision; it checks only that what it is given is well formed
 * (hashes match their bytes, strings fit, versions are positive).
 */
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

/* A writer waits this long for another writer before giving up. */
#define BUSY_TIMEOUT_MS (STORE_WRITER_WAIT_S * 1000)

#define FIELD_SIZE(type, f) sizeof(((type *)0)->f)

#define STR_(x) #x
#define STR(x) STR_(x)

struct store {
	sqlite3 *db;
	enum store_mode mode;
	char *path;
	int immutable; /* RO fallback: SQLite cannot see a writer's changes */
	int wait_ms;   /* how long a writer waits for another one */
	struct stat seen; /* the file when the immutable connection opened */
	char err[256];
	char ckpt_err[256]; /* why the last commit's checkpoint failed; "" */
};

/*
 * Schema version 1.  The version and the application id are part of the
 * migration's own text so that no SQL is ever assembled at run time; the
 * runner checks user_version afterwards.  state.active_version refers to a
 * stored version (NULL: none); the check is deferred to COMMIT so that a
 * caller may set the state and add the version in either order inside one
 * transaction.
 */
/* clang-format off */
static const char schema_v1[] =
    "PRAGMA application_id = " STR(STORE_APPLICATION_ID) ";"
    "CREATE TABLE versions ("
    "  version INTEGER PRIMARY KEY CHECK (version > 0),"
    "  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
    "  issued_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  stored_at INTEGER NOT NULL,"
    "  activated_at INTEGER NOT NULL DEFAULT 0,"
    "  factory INTEGER NOT NULL DEFAULT 0 CHECK (factory IN (0, 1)),"
    "  bad INTEGER NOT NULL DEFAULT 0 CHECK (bad IN (0, 1)),"
    "  raw BLOB NOT NULL CHECK (length(raw) > 0));"
    "CREATE TABLE certs ("
    "  sha256 BLOB PRIMARY KEY CHECK (length(sha256) = 32),"
    "  der BLOB NOT NULL CHECK (length(der) > 0),"
    "  subject TEXT NOT NULL,"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL);"
    "CREATE TABLE version_certs ("
    "  version INTEGER NOT NULL"
    "    REFERENCES versions (version) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL CHECK (position >= 0),"
    "  sha256 BLOB NOT NULL REFERENCES certs (sha256),"
    "  PRIMARY KEY (version, position)) WITHOUT ROWID;"
    "CREATE INDEX version_certs_by_cert ON version_certs (sha256);"
    "CREATE TABLE state ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  channel TEXT NOT NULL DEFAULT '',"
    "  active_version INTEGER"
    "    REFERENCES versions (version) DEFERRABLE INITIALLY DEFERRED,"
    "  highest_version INTEGER NOT NULL DEFAULT 0"
    "    CHECK (highest_version >= 0),"
    "  highest_sha256 BLOB NOT NULL DEFAULT (zeroblob(32))"
    "    CHECK (length(highest_sha256) = 32),"
    "  time_floor INTEGER NOT NULL DEFAULT 0,"
    "  threshold INTEGER NOT NULL DEFAULT 0 CHECK (threshold >= 0),"
    "  fetch_url TEXT NOT NULL DEFAULT '',"
    "  etag TEXT NOT NULL DEFAULT '',"
    "  last_modified TEXT NOT NULL DEFAULT '',"
    "  last_check_at INTEGER NOT NULL DEFAULT 0,"
    "  last_check_result TEXT NOT NULL DEFAULT '',"
    "  last_check_detail TEXT NOT NULL DEFAULT '',"
    "  next_check_at INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO state (id) VALUES (1);"
    "CREATE TABLE keys ("
    "  position INTEGER PRIMARY KEY CHECK (position >= 0),"
    "  key_id BLOB NOT NULL UNIQUE CHECK (length(key_id) = 32),"
    "  spki BLOB NOT NULL CHECK (length(spki) > 0));"
    "CREATE TABLE distrust ("
    "  sha256 BLOB PRIMARY KEY CHECK (length(sha256) = 32),"
    "  has_after INTEGER NOT NULL CHECK (has_after IN (0, 1)),"
    "  after_time INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  since_version INTEGER NOT NULL CHECK (since_version >= 0));"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  version INTEGER NOT NULL CHECK (version >= 0),"
    "  detail TEXT NOT NULL);"
    "PRAGMA user_version = 1;";
/* clang-format on */

/*
 * Schema version 2: the last result of each anti-lockout probe, so that
 * status can say which root a hub depends on without touching the network.
 */
/* clang-format off */
static const char schema_v2[] =
    "CREATE TABLE probes ("
    "  target TEXT PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  result INTEGER NOT NULL CHECK (result BETWEEN 0 AND 2),"
    "  root_subject TEXT NOT NULL,"
    "  root_sha256 BLOB NOT NULL CHECK (length(root_sha256) = 32),"
    "  root_not_after INTEGER NOT NULL,"
    "  alternative INTEGER NOT NULL CHECK (alternative IN (0, 1)),"
    "  detail TEXT NOT NULL);"
    "PRAGMA user_version = 2;";
/* clang-format on */

/*
 * Schema version 3: the highest version ever verified and the time floor
 * only ever rise.  The agent re-judges every bundle inside the transaction
 * that commits it; the store refuses a lowering too, so that no writer,
 * however confused, can reopen a rollback window.
 */
/* clang-format off */
static const char schema_v3[] =
    "CREATE TRIGGER state_only_rises BEFORE UPDATE ON state"
    "  WHEN NEW.highest_version < OLD.highest_version"
    "    OR NEW.time_floor < OLD.time_floor "
    "BEGIN SELECT RAISE(ABORT,"
    "  'highest_version and time_floor never go down'); END;"
    "PRAGMA user_version = 3;";
/* clang-format on */

/*
 * Schema version 4: a distrust entry may be lifted (the entry in force is
 * the one of the highest version that mentions the fingerprint), and the
 * state remembers a bundle that a staged rollout deferred on this device.
 */
/* clang-format off */
static const char schema_v4[] =
    "ALTER TABLE distrust ADD COLUMN lifted INTEGER NOT NULL DEFAULT 0"
    "  CHECK (lifted IN (0, 1));"
    "ALTER TABLE state ADD COLUMN deferred_version INTEGER NOT NULL"
    "  DEFAULT 0 CHECK (deferred_version >= 0);"
    "ALTER TABLE state ADD COLUMN deferred_percent INTEGER NOT NULL"
    "  DEFAULT 0 CHECK (deferred_percent BETWEEN 0 AND 100);"
    "PRAGMA user_version = 4;";
/* clang-format on */

/* In order; a new schema appends a step, it never edits an old one. */
static const struct migration {
	int to;
	const char *sql;
} migrations[] = {
    {1, schema_v1},
    {2, schema_v2},
    {3, schema_v3},
    {4, schema_v4},
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* The runner checks at run time that the last step reaches it. */
_Static_assert(STORE_SCHEMA_VERSION == 4,
    "add a migration step for the new STORE_SCHEMA_VERSION");

/* Sets store_last_error(); a long message is cut, never overflows. */
static void set_err(struct store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_err(struct store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/*
 * SQLite's words for the last failure on db, and the OS's when a system
 * call failed under it ("disk I/O error (No space left on device)"):
 * SQLite alone says "disk I/O error" for a full disk met while mapping
 * the -shm file.
 */
static void
db_words(sqlite3 *db, char *buf, size_t n)
{
	int code = sqlite3_extended_errcode(db) & 0xff;
	int en = sqlite3_system_errno(db);

	if (en != 0 && (code == SQLITE_IOERR || code == SQLITE_FULL ||
			   code == SQLITE_CANTOPEN))
		snprintf(buf, n, "%s (%s)", sqlite3_errmsg(db), strerror(en));
	else
		snprintf(buf, n, "%s", sqlite3_errmsg(db));
}

/* Keeps SQLite's words for store_last_error() and maps the code. */
static int
db_fail(struct store *s, int src, const char *what)
{
	char msg[200];

	if ((src & 0xff) == SQLITE_BUSY) {
		set_err(s,
		    "%s: another writer holds the store; gave up after "
		    "waiting %d s",
		    s->path != NULL ? s->path : "store",
		    (s->wait_ms + 999) / 1000);
		return RK_EBUSY;
	}
	if (s->db != NULL)
		db_words(s->db, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "%s", sqlite3_errstr(src));
	set_err(s, "%s: %s", what, msg);
	return (src & 0xff) == SQLITE_NOMEM ? RK_ENOMEM : RK_ESTORE;
}

static int
arg_fail(struct store *s, int err, const char *what)
{
	set_err(s, "%s", what);
	return err;
}

static int
exec(struct store *s, const char *sql)
{
	int src = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return src == SQLITE_OK ? RK_OK : db_fail(s, src, sql);
}

static int
prep(struct store *s, const char *sql, sqlite3_stmt **st)
{
	int src = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);

	if (src != SQLITE_OK) {
		*st = NULL;
		return db_fail(s, src, "prepare");
	}
	return RK_OK;
}

/* The byte length of the longest prefix of str, at most max bytes, that
 * does not end inside a UTF-8 sequence. */
static size_t
utf8_cut(const char *str, size_t max)
{
	size_t len = strnlen(str, max + 1);

	if (len <= max)
		return len;
	len = max;
	while (len > 0 && ((unsigned char)str[len] & 0xc0) == 0x80)
		len--;
	return len;
}

static int
corrupt(struct store *s, int col)
{
	snprintf(s->err, sizeof(s->err),
	    "corrupt store: unexpected value in column %d", col);
	return RK_ESTORE;
}

/*
 * Truncates the WAL into the main file.  A reader holding an old snapshot
 * makes this impossible for now; waiting for it would let readers block
 * the writer, so the busy handler is off here and SQLITE_BUSY is fine:
 * the next commit checkpoints again.
 */
static int
checkpoint(struct store *s)
{
	int src, brc;

	s->ckpt_err[0] = '\0';
	src = sqlite3_busy_timeout(s->db, 0);
	if (src != SQLITE_OK)
		return db_fail(s, src, "busy timeout");
	src = sqlite3_wal_checkpoint_v2(
	    s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	/*
	 * The commit is durable in the WAL whatever happens here (a full
	 * disk, an I/O error): say why, but never call the commit failed.
	 */
	if (src != SQLITE_OK && (src & 0xff) != SQLITE_BUSY &&
	    (src & 0xff) != SQLITE_LOCKED) {
		char msg[200];

		db_words(s->db, msg, sizeof(msg));
		snprintf(s->ckpt_err, sizeof(s->ckpt_err),
		    "committed, but the WAL checkpoint failed: %s", msg);
	}
	brc = sqlite3_busy_timeout(s->db, s->wait_ms);
	if (brc != SQLITE_OK)
		return db_fail(s, brc, "busy timeout");
	return RK_OK;
}

const char *
store_checkpoint_error(const struct store *s)
{
	return s->ckpt_err;
}

static void
rollback(struct store *s)
{
	/* Fails only when SQLite already rolled back on its own. */
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* COMMIT; a failed commit (a deferred constraint, I/O) rolls back. */
static int
commit(struct store *s)
{
	int src = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	int rc;

	if (src != SQLITE_OK) {
		rc = db_fail(s, src, "commit");
		rollback(s);
		return rc;
	}
	return checkpoint(s);
}

/*
 * Every write is atomic by itself: inside the caller's transaction it is a
 * savepoint, otherwise a transaction of its own (IMMEDIATE: the write lock
 * is taken, waiting for another writer, before anything is read).
 */
static int
wr_enter(struct store *s, int *own)
{
	if (s->mode == STORE_RO)
		return arg_fail(s, RK_EINVAL, "the store is open read-only");
	*own = sqlite3_get_autocommit(s->db);
	return exec(s, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT store_op");
}

static int
wr_leave(struct store *s, int own, int rc)
{
	if (rc == RK_OK)
		return own ? commit(s) : exec(s, "RELEASE store_op");
	if (own) {
		rollback(s);
	} else if (!sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db,
		    "ROLLBACK TO store_op; RELEASE store_op", NULL, NULL, NULL);
	}
	return rc;
}

static int open_ours(
    struct store *s, const char *query, int *src, struct rk_why *why);

/*
 * An immutable connection never looks for changes, so a reader of one
 * reopens when the file is no longer the one it opened.  Writers
 * checkpoint after every commit, so the file changes with every commit.
 */
static int
refresh_immutable(struct store *s)
{
	struct store fresh;
	struct stat st;
	struct rk_why why;
	int rc, src;

	if (stat(s->path, &st) != 0) {
		snprintf(
		    s->err, sizeof(s->err), "%s: %s", s->path, strerror(errno));
		return errno == ENOENT ? RK_ENOENT : RK_ESTORE;
	}
	if (st.st_dev == s->seen.st_dev && st.st_ino == s->seen.st_ino &&
	    st.st_size == s->seen.st_size &&
	    st.st_mtim.tv_sec == s->seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == s->seen.st_mtim.tv_nsec &&
	    st.st_ctim.tv_sec == s->seen.st_ctim.tv_sec &&
	    st.st_ctim.tv_nsec == s->seen.st_ctim.tv_nsec)
		return RK_OK;
	fresh = *s;
	fresh.db = NULL;
	rc = open_ours(&fresh, "immutable=1", &src, &why);
	if (rc != RK_OK) {
		(void)sqlite3_close_v2(fresh.db);
		snprintf(s->err, sizeof(s->err), "%s", why.msg);
		return rc;
	}
	(void)sqlite3_close_v2(s->db);
	s->db = fresh.db;
	s->seen = fresh.seen;
	return RK_OK;
}

/* Reads see one snapshot: a read transaction unless one is open. */
static int
rd_enter(struct store *s, int *own)
{
	int rc = RK_OK;

	*own = sqlite3_get_autocommit(s->db);
	if (!*own)
		return RK_OK;
	if (s->immutable)
		rc = refresh_immutable(s);
	return rc != RK_OK ? rc : exec(s, "BEGIN");
}

static void
rd_leave(struct store *s, int own)
{
	/* A read transaction has nothing to lose: ROLLBACK ends it. */
	if (own)
		rollback(s);
}

/*
 * One statement of a call and the first error met on it.  Once err is
 * set, every later step (prepare, bind, step, column) does nothing and
 * the first error stays, its words in store_last_error(): a function runs
 * its steps in a row and looks at the result once, at q_end (as a wbuf
 * does for an encoder).  The first statement of a call also holds the
 * call's transaction (q_begin), which q_end ends.
 */
enum { TX_NONE, TX_READ, TX_WRITE };

struct stmt {
	struct store *s;
	sqlite3_stmt *q;
	int err;
	int tx;	 /* what q_end ends: TX_NONE, TX_READ or TX_WRITE */
	int own; /* the transaction is the call's own (rd_enter, wr_enter) */
};

/*
 * x takes other's error when it has none of its own: of two statements
 * that one call runs in turn, neither steps once either has failed.
 */
static void
q_join(struct stmt *x, const struct stmt *other)
{
	if (x->err == RK_OK)
		x->err = other->err;
}

/*
 * The first statement of a call on s, which begins the call's
 * transaction: in a TX_READ every statement sees one snapshot, a
 * TX_WRITE is atomic by itself (wr_enter), TX_NONE begins none.
 */
static void
q_begin(struct stmt *x, struct store *s, int tx)
{
	memset(x, 0, sizeof(*x));
	x->s = s;
	if (tx == TX_READ)
		x->err = rd_enter(s, &x->own);
	else if (tx == TX_WRITE)
		x->err = wr_enter(s, &x->own);
	if (x->err == RK_OK)
		x->tx = tx;
}

/* A second statement of first's call, failed already if first is. */
static void
q_also(struct stmt *x, const struct stmt *first)
{
	q_begin(x, first->s, TX_NONE);
	q_join(x, first);
}

/* Finalizes x and ends its transaction: the result of the call. */
static int
q_end(struct stmt *x)
{
	sqlite3_finalize(x->q);
	x->q = NULL;
	if (x->tx == TX_READ)
		rd_leave(x->s, x->own);
	if (x->tx == TX_WRITE)
		return wr_leave(x->s, x->own, x->err);
	return x->err;
}

/* The failures below keep their words only when they come first. */
static void
q_arg(struct stmt *x, int err, const char *what)
{
	if (x->err == RK_OK)
		x->err = arg_fail(x->s, err, what);
}

static void
q_corrupt(struct stmt *x, int col)
{
	if (x->err == RK_OK)
		x->err = corrupt(x->s, col);
}

static void
q_missing(struct stmt *x, uint64_t version)
{
	if (x->err != RK_OK)
		return;
	snprintf(x->s->err, sizeof(x->s->err), "version %llu is not stored",
	    (unsigned long long)version);
	x->err = RK_ENOENT;
}

/* Prepares sql in x, after finalizing the statement x held before. */
static void
q_prep(struct stmt *x, const char *sql)
{
	int src;

	sqlite3_finalize(x->q);
	x->q = NULL;
	if (x->err != RK_OK)
		return;
	src = sqlite3_prepare_v2(x->s->db, sql, -1, &x->q, NULL);
	if (src != SQLITE_OK) {
		x->q = NULL;
		x->err = db_fail(x->s, src, "prepare");
	}
}

/* Runs sql, which returns no row, on x's connection. */
static void
q_exec(struct stmt *x, const char *sql)
{
	if (x->err == RK_OK)
		x->err = exec(x->s, sql);
}

static void
q_bound(struct stmt *x, int src)
{
	if (src != SQLITE_OK)
		x->err = db_fail(x->s, src, "bind");
}

static void
q_i64(struct stmt *x, int i, int64_t v)
{
	if (x->err == RK_OK)
		q_bound(x, sqlite3_bind_int64(x->q, i, v));
}

/* Versions are at most 2^53 - 1 by the format; SQLite holds int64. */
static void
q_u64(struct stmt *x, int i, uint64_t v)
{
	if (v > INT64_MAX)
		q_arg(x, RK_EINVAL, "number out of range");
	else
		q_i64(x, i, (int64_t)v);
}

static void
q_null(struct stmt *x, int i)
{
	if (x->err == RK_OK)
		q_bound(x, sqlite3_bind_null(x->q, i));
}

/* The bytes must outlive the step: every caller steps before returning. */
static void
q_blob(struct stmt *x, int i, const void *p, size_t len)
{
	if (x->err != RK_OK)
		return;
	if (len == 0)
		q_bound(x, sqlite3_bind_zeroblob(x->q, i, 0));
	else
		q_bound(x, sqlite3_bind_blob64(x->q, i, p, len, SQLITE_STATIC));
}

static void
q_text(struct stmt *x, int i, const char *p, size_t len)
{
	if (x->err == RK_OK)
		q_bound(x, sqlite3_bind_text64(
			       x->q, i, p, len, SQLITE_STATIC, SQLITE_UTF8));
}

/* A NUL-terminated string held in a fixed array of size bytes. */
static void
q_field(struct stmt *x, int i, const char *p, size_t size)
{
	size_t len = strnlen(p, size);

	if (len == size)
		q_arg(x, RK_EINVAL, "string not terminated");
	else
		q_text(x, i, p, len);
}

/* Steps a statement that returns no row, and resets it for the next. */
static void
q_done(struct stmt *x, const char *what)
{
	int src;

	if (x->err != RK_OK)
		return;
	src = sqlite3_step(x->q);
	if (src != SQLITE_DONE)
		x->err = db_fail(x->s, src, what);
	else if (sqlite3_reset(x->q) != SQLITE_OK)
		x->err = db_fail(x->s, SQLITE_ERROR, "reset");
}

/* q_done for an INSERT of version: one stored already is RK_EEXIST. */
static void
q_insert(struct stmt *x, const char *what, uint64_t version)
{
	int src;

	if (x->err != RK_OK)
		return;
	src = sqlite3_step(x->q);
	if (src == SQLITE_CONSTRAINT_PRIMARYKEY) {
		snprintf(x->s->err, sizeof(x->s->err),
		    "version %llu is stored already",
		    (unsigned long long)version);
		x->err = RK_EEXIST;
	} else if (src != SQLITE_DONE) {
		x->err = db_fail(x->s, src, what);
	}
}

/* Steps to the next row: 1 with a row to read, 0 at the end or failed. */
static int
q_row(struct stmt *x, const char *what)
{
	int src;

	if (x->err != RK_OK)
		return 0;
	src = sqlite3_step(x->q);
	if (src == SQLITE_ROW)
		return 1;
	if (src != SQLITE_DONE)
		x->err = db_fail(x->s, src, what);
	return 0;
}

/* Whether column i of the row is NULL (0 once x failed). */
static int
c_null(struct stmt *x, int i)
{
	return x->err == RK_OK && sqlite3_column_type(x->q, i) == SQLITE_NULL;
}

/* The columns: each writes *v only when it reads a well-formed value. */
static void
c_i64(struct stmt *x, int i, int64_t *v)
{
	if (x->err != RK_OK)
		return;
	if (sqlite3_column_type(x->q, i) != SQLITE_INTEGER)
		x->err = corrupt(x->s, i);
	else
		*v = sqlite3_column_int64(x->q, i);
}

/* An integer column within lo..hi; anything else was not written by us. */
static int64_t
c_int(struct stmt *x, int i, int64_t lo, int64_t hi)
{
	int64_t n = 0;

	c_i64(x, i, &n);
	if (n < lo || n > hi)
		q_corrupt(x, i);
	return n;
}

static void
c_u64(struct stmt *x, int i, uint64_t *v)
{
	int64_t n = c_int(x, i, 0, INT64_MAX);

	if (x->err == RK_OK)
		*v = (uint64_t)n;
}

static void
c_flag(struct stmt *x, int i, int *v)
{
	int64_t n = c_int(x, i, 0, 1);

	if (x->err == RK_OK)
		*v = (int)n;
}

/*
 * Column i where SQLite holds it, valid until the next step, when it is
 * of type (SQLITE_TEXT or SQLITE_BLOB): its bytes, NULL once x failed.
 */
static const void *
c_bytes(struct stmt *x, int i, int type, int *n)
{
	const void *p;

	if (x->err != RK_OK)
		return NULL;
	if (sqlite3_column_type(x->q, i) != type) {
		x->err = corrupt(x->s, i);
		return NULL;
	}
	if (type == SQLITE_TEXT)
		p = sqlite3_column_text(x->q, i);
	else
		p = sqlite3_column_blob(x->q, i);
	*n = sqlite3_column_bytes(x->q, i);
	return p;
}

/* Text into a fixed buffer; what does not fit was not written by us. */
static void
c_text(struct stmt *x, int i, char *buf, size_t size)
{
	int n = 0;
	const char *p = c_bytes(x, i, SQLITE_TEXT, &n);

	if (x->err != RK_OK)
		return;
	if (p == NULL)
		x->err = db_fail(x->s, SQLITE_NOMEM, "column");
	else if (n < 0 || (size_t)n >= size || memchr(p, 0, (size_t)n) != NULL)
		x->err = corrupt(x->s, i);
	if (x->err != RK_OK)
		return;
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
}

/* A non-empty blob where SQLite holds it, valid until the next step. */
static void
c_view(struct stmt *x, int i, const uint8_t **p, size_t *len)
{
	int n = 0;
	const uint8_t *b = c_bytes(x, i, SQLITE_BLOB, &n);

	if (x->err != RK_OK)
		return;
	if (n <= 0 || b == NULL) {
		x->err = corrupt(x->s, i);
		return;
	}
	*p = b;
	*len = (size_t)n;
}

static void
c_sha(struct stmt *x, int i, uint8_t out[CRYPTO_SHA256_LEN])
{
	const uint8_t *p = NULL;
	size_t len = 0;

	c_view(x, i, &p, &len);
	if (x->err == RK_OK && len != CRYPTO_SHA256_LEN)
		x->err = corrupt(x->s, i);
	if (x->err == RK_OK)
		memcpy(out, p, CRYPTO_SHA256_LEN);
}

/* A non-empty blob, copied to a malloc'ed buffer. */
static void
c_blob(struct stmt *x, int i, uint8_t **out, size_t *len)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	uint8_t *b;

	c_view(x, i, &p, &n);
	if (x->err != RK_OK)
		return;
	b = malloc(n);
	if (b == NULL) {
		x->err = arg_fail(x->s, RK_ENOMEM, "out of memory");
		return;
	}
	memcpy(b, p, n);
	*out = b;
	*len = n;
}

/*
 * The call's result, with every row of x's query read by row() into a
 * malloc'ed array of elem-sized elements (zeroed before row() fills
 * them): *out and *n on success (NULL and 0 when no row), and nothing
 * left behind on failure, where drop (may be NULL) frees what an element
 * holds, one that failed half-read included.
 */
static int
q_list(struct stmt *x, const char *what, void **out, size_t elem, size_t *n,
    void (*row)(struct stmt *x, void *e), void (*drop)(void *e))
{
	uint8_t *arr = NULL, *p;
	size_t cnt = 0, cap = 0, ncap, i;
	int rc;

	while (q_row(x, what)) {
		if (cnt == cap) {
			ncap = cap != 0 ? cap * 2 : 8;
			p = ncap > cap ? reallocarray(arr, ncap, elem) : NULL;
			if (p == NULL) {
				x->err =
				    arg_fail(x->s, RK_ENOMEM, "out of memory");
				break;
			}
			arr = p;
			cap = ncap;
		}
		memset(arr + cnt * elem, 0, elem);
		row(x, arr + cnt++ * elem);
	}
	rc = q_end(x);
	if (rc == RK_OK) {
		*out = arr;
		*n = cnt;
		return RK_OK;
	}
	for (i = 0; drop != NULL && i < cnt; i++)
		drop(arr + i * elem);
	free(arr);
	return rc;
}

/* "file:" URI of path, percent-encoded, with query. */
static char *
make_uri(const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(path), i, o = 0;
	char *uri;

	if (len > (SIZE_MAX - 16 - strlen(query)) / 3)
		return NULL;
	uri = malloc(len * 3 + strlen(query) + 16);
	if (uri == NULL)
		return NULL;
	/* An empty authority, so that "//x" stays a path. */
	memcpy(
	    uri, path[0] == '/' ? "file://" : "file:", path[0] == '/' ? 7 : 5);
	o = path[0] == '/' ? 7 : 5;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '/' || c == '-' ||
		    c == '.' || c == '_' || c == '~') {
			uri[o++] = (char)c;
		} else {
			uri[o++] = '%';
			uri[o++] = hex[c >> 4];
			uri[o++] = hex[c & 15];
		}
	}
	uri[o++] = '?';
	memcpy(uri + o, query, strlen(query) + 1);
	return uri;
}

/* Opens s->db on s->path with the URI query and the session settings. */
static int
connect_db(struct store *s, const char *query, struct rk_why *why)
{
	/* Defensive, no trusted schema, foreign keys: each setting, value. */
	static const int config[][2] = {
	    {SQLITE_DBCONFIG_DEFENSIVE, 1},
	    {SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0},
	    {SQLITE_DBCONFIG_ENABLE_FKEY, 1},
	};
	int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
	char *uri;
	size_t i;
	int src, rc = RK_OK;

	flags |=
	    s->mode == STORE_RO ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	uri = make_uri(s->path, query);
	if (uri == NULL)
		return rk_fail(why, RK_ENOMEM, "out of memory");
	if (s->immutable && stat(s->path, &s->seen) != 0) {
		rc =
		    rk_fail(why, RK_ESTORE, "%s: %s", s->path, strerror(errno));
		goto out;
	}
	src = sqlite3_open_v2(uri, &s->db, flags, NULL);
	if (src != SQLITE_OK) {
		rc = rk_fail(why,
		    (src & 0xff) == SQLITE_NOMEM ? RK_ENOMEM : RK_ESTORE,
		    "%s: %s", s->path,
		    s->db != NULL ? sqlite3_errmsg(s->db)
				  : sqlite3_errstr(src));
		goto out;
	}
	src = sqlite3_extended_result_codes(s->db, 1);
	if (src == SQLITE_OK)
		src = sqlite3_busy_timeout(s->db, s->wait_ms);
	for (i = 0; i < sizeof(config) / sizeof(config[0]); i++)
		if (src == SQLITE_OK)
			src = sqlite3_db_config(
			    s->db, config[i][0], config[i][1], NULL);
	if (src != SQLITE_OK) {
		rc = rk_fail(
		    why, RK_ESTORE, "%s: %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
out:
	free(uri);
	return rc;
}

/* Reads one integer pragma; the SQLite code is kept in *src. */
static int
pragma_int(struct store *s, const char *sql, int64_t *v, int *src)
{
	sqlite3_stmt *st = NULL;

	*src = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (*src == SQLITE_OK) {
		*src = sqlite3_step(st);
		if (*src == SQLITE_ROW &&
		    sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
			*v = sqlite3_column_int64(st, 0);
			*src = SQLITE_OK;
		} else if (*src == SQLITE_ROW || *src == SQLITE_DONE) {
			*src = SQLITE_CORRUPT;
		}
	}
	sqlite3_finalize(st);
	return *src == SQLITE_OK ? RK_OK : RK_ESTORE;
}

/*
 * Refuses anything but one of our stores at a schema this code knows; the
 * first read of the file happens here, so *src tells the caller whether
 * the connection itself could not read (no -shm for a reader).
 */
static int
check_ours(struct store *s, int *src, int64_t *version, struct rk_why *why)
{
	int64_t app = 0, uv = 0;

	if (pragma_int(s, "PRAGMA application_id", &app, src) != RK_OK ||
	    pragma_int(s, "PRAGMA user_version", &uv, src) != RK_OK) {
		if ((*src & 0xff) == SQLITE_NOTADB)
			return rk_fail(why, RK_ESTORE,
			    "%s is not a rootkeeper store (not an SQLite "
			    "database)",
			    s->path);
		char msg[200];

		db_words(s->db, msg, sizeof(msg));
		return rk_fail(why,
		    (*src & 0xff) == SQLITE_NOMEM ? RK_ENOMEM : RK_ESTORE,
		    "%s: cannot read: %s", s->path, msg);
	}
	if (app != STORE_APPLICATION_ID)
		return rk_fail(why, RK_ESTORE,
		    "%s is not a rootkeeper store (application_id 0x%08llx, "
		    "not 0x%08x)",
		    s->path, (unsigned long long)(uint32_t)app,
		    STORE_APPLICATION_ID);
	if (uv > STORE_SCHEMA_VERSION || uv < 0)
		return rk_fail(why, RK_ESTORE,
		    "%s has schema version %lld, newer than this program's "
		    "%d",
		    s->path, (long long)uv, STORE_SCHEMA_VERSION);
	if (uv < STORE_SCHEMA_VERSION && s->mode == STORE_RO)
		return rk_fail(why, RK_ESTORE,
		    "%s has schema version %lld: open it read-write once to "
		    "migrate it to %d",
		    s->path, (long long)uv, STORE_SCHEMA_VERSION);
	*version = uv;
	return RK_OK;
}

/* Connects with query to a file that must be one of our stores. */
static int
open_ours(struct store *s, const char *query, int *src, struct rk_why *why)
{
	int64_t uv;
	int rc = connect_db(s, query, why);

	if (rc == RK_OK)
		rc = check_ours(s, src, &uv, why);
	return rc;
}

/*
 * Brings the schema to STORE_SCHEMA_VERSION.  user_version is read again
 * under the write lock, so two processes opening an old store at once
 * migrate it once.
 */
static int
migrate(struct store *s, struct rk_why *why)
{
	int64_t uv = 0, app = 0;
	size_t i;
	int rc, src;

	rc = exec(s, "BEGIN IMMEDIATE");
	if (rc != RK_OK)
		goto fail;
	if (pragma_int(s, "PRAGMA user_version", &uv, &src) != RK_OK) {
		rc = db_fail(s, src, "user_version");
		goto fail;
	}
	for (i = 0; i < N_MIGRATIONS; i++) {
		if (migrations[i].to <= uv)
			continue;
		rc = exec(s, migrations[i].sql);
		if (rc != RK_OK)
			goto fail;
		rc = pragma_int(s, "PRAGMA user_version", &uv, &src);
		if (rc != RK_OK || uv != migrations[i].to) {
			rc = arg_fail(
			    s, RK_ESTORE, "migration did not set user_version");
			goto fail;
		}
	}
	rc = pragma_int(s, "PRAGMA application_id", &app, &src);
	if (rc != RK_OK || app != STORE_APPLICATION_ID ||
	    uv != STORE_SCHEMA_VERSION) {
		rc = arg_fail(
		    s, RK_ESTORE, "schema is not current after migrating");
		goto fail;
	}
	rc = commit(s);
	if (rc == RK_OK)
		return RK_OK;
fail:
	/* Nothing to roll back after a failed commit: it rolled back. */
	rollback(s);
	return rk_fail(why, rc, "%s: migrating: %s", s->path, s->err);
}

/* Switches to WAL: SQLite answers with the journal mode now in force. */
static int
journal_wal(struct store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *jm;
	int rc, src;

	rc = prep(s, "PRAGMA journal_mode = WAL", &st);
	if (rc != RK_OK)
		return rc;
	src = sqlite3_step(st);
	if (src != SQLITE_ROW) {
		rc = db_fail(s, src, "journal_mode");
	} else {
		jm = sqlite3_column_text(st, 0);
		if (jm == NULL || strcmp((const char *)jm, "wal") != 0)
			rc = arg_fail(s, RK_ESTORE, "cannot switch to WAL");
	}
	sqlite3_finalize(st);
	return rc;
}

/* Setup of a read-write connection on our own, or a freshly made, file. */
static int
setup_rw(struct store *s, int created, struct rk_why *why)
{
	/*
	 * A device has little memory: a page cache of 256 KiB (SQLite's
	 * default is 2 MiB) is plenty for a store this size, and temporary
	 * tables stay in memory rather than in files of their own.
	 */
	static const char *const pragmas[] = {
	    "PRAGMA synchronous = FULL",
	    "PRAGMA cache_size = -256",
	    "PRAGMA temp_store = MEMORY",
	};
	int64_t app = 0, uv = 0;
	size_t i;
	int rc, src;

	if (sqlite3_db_readonly(s->db, "main") == 1)
		return rk_fail(why, RK_ESTORE, "%s: no write access", s->path);
	if (created) {
		/* Our own empty file: nothing to check but emptiness. */
		rc = pragma_int(s, "PRAGMA application_id", &app, &src);
		if (rc == RK_OK)
			rc = pragma_int(s, "PRAGMA user_version", &uv, &src);
		if (rc != RK_OK || app != 0 || uv != 0)
			return rk_fail(
			    why, RK_ESTORE, "%s: new file not empty", s->path);
	} else {
		rc = check_ours(s, &src, &uv, why);
		if (rc != RK_OK)
			return rc;
	}
	/* Only now that the file is known to be ours may it be changed. */
	rc = journal_wal(s);
	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]) && rc == RK_OK;
	     i++)
		rc = exec(s, pragmas[i]);
	if (rc != RK_OK)
		return rk_fail(why, rc, "%s: %s", s->path, s->err);
	/* A current store is not locked for writing just to be opened. */
	return uv == STORE_SCHEMA_VERSION ? RK_OK : migrate(s, why);
}

/*
 * Creates the file itself so that an existing one is never taken over,
 * nor a stale WAL or journal replayed into the new store.
 */
static int
create_file(const char *path, struct rk_why *why)
{
	static const char *const sfx[] = {"-wal", "-journal", "-shm"};
	struct stat st;
	char side[PATH_MAX];
	size_t i;
	int fd, n;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		n = snprintf(side, sizeof(side), "%s%s", path, sfx[i]);
		if (n < 0 || (size_t)n >= sizeof(side))
			return rk_fail(
			    why, RK_EINVAL, "%s: path too long", path);
		if (lstat(side, &st) == 0)
			return rk_fail(why, RK_EEXIST, "%s exists", side);
	}
	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;

		return rk_fail(why,
		    e == EEXIST	  ? RK_EEXIST
		    : e == ENOENT ? RK_ENOENT
				  : RK_ESTORE,
		    "%s: %s", path, strerror(e));
	}
	if (close(fd) != 0)
		return rk_fail(why, RK_ESTORE, "%s: %s", path, strerror(errno));
	return RK_OK;
}

static void
remove_files(const char *path)
{
	static const char *const sfx[] = {"-wal", "-shm"};
	char side[PATH_MAX];
	size_t i;
	int n;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		n = snprintf(side, sizeof(side), "%s%s", path, sfx[i]);
		if (n > 0 && (size_t)n < sizeof(side))
			(void)unlink(side);
	}
	(void)unlink(path);
}

/* A read-only connection; the file alone when the WAL is out of reach. */
static int
open_reader(struct store *s, struct rk_why *why)
{
	struct rk_why first = {""};
	int rc, src = SQLITE_OK;

	rc = open_ours(s, "mode=ro", &src, &first);
	/*
	 * A reader that may not create the -shm file (no write access to
	 * the folder) cannot use the WAL; the main file alone is current
	 * because writers checkpoint after every commit.
	 */
	if (rc != RK_OK && ((src & 0xff) == SQLITE_CANTOPEN ||
			       (src & 0xff) == SQLITE_READONLY)) {
		(void)sqlite3_close_v2(s->db);
		s->db = NULL;
		s->immutable = 1;
		rc = open_ours(s, "immutable=1", &src, why);
	} else if (rc != RK_OK && why != NULL) {
		*why = first;
	}
	if (rc == RK_OK) {
		rc = exec(s, "PRAGMA query_only = ON");
		if (rc != RK_OK)
			rk_fail(why, rc, "%s: %s", s->path, s->err);
	}
	return rc;
}

int
store_open(const char *path, enum store_mode mode, struct store **out,
    struct rk_why *why)
{
	struct store *s = NULL;
	struct stat st;
	int rc, created = 0;

	if (path == NULL || *path == '\0' || out == NULL ||
	    (mode != STORE_RO && mode != STORE_RW && mode != STORE_CREATE))
		return rk_fail(why, RK_EINVAL, "store: bad arguments");
	s = calloc(1, sizeof(*s));
	if (s != NULL)
		s->path = strdup(path);
	if (s == NULL || s->path == NULL) {
		rc = rk_fail(why, RK_ENOMEM, "out of memory");
		goto out;
	}
	s->mode = mode;
	s->wait_ms = BUSY_TIMEOUT_MS;
	if (mode == STORE_CREATE) {
		rc = create_file(path, why);
		if (rc != RK_OK)
			goto out;
		created = 1;
	} else if (stat(path, &st) != 0) {
		rc = rk_fail(why, errno == ENOENT ? RK_ENOENT : RK_ESTORE,
		    "%s: %s", path, strerror(errno));
		goto out;
	} else if (!S_ISREG(st.st_mode)) {
		rc = rk_fail(why, RK_ESTORE, "%s: not a regular file", path);
		goto out;
	}
	if (mode == STORE_RO) {
		rc = open_reader(s, why);
	} else {
		rc = connect_db(s, "mode=rw", why);
		if (rc == RK_OK)
			rc = setup_rw(s, created, why);
	}
out:
	if (rc != RK_OK) {
		store_close(s);
		if (created)
			remove_files(path);
		return rc;
	}
	*out = s;
	return RK_OK;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	/* Statements are always finalized, so this closes for real. */
	(void)sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

const char *
store_last_error(const struct store *s)
{
	return s != NULL ? s->err : "";
}

void
store_set_wait(struct store *s, unsigned seconds)
{
	s->wait_ms = seconds > INT_MAX / 1000 ? INT_MAX : (int)seconds * 1000;
	if (s->db != NULL)
		(void)sqlite3_busy_timeout(s->db, s->wait_ms);
}

void
store_release_memory(struct store *s)
{
	if (s != NULL && s->db != NULL)
		(void)sqlite3_db_release_memory(s->db);
}

int
store_begin(struct store *s)
{
	if (s->mode == STORE_RO)
		return arg_fail(s, RK_EINVAL, "the store is open read-only");
	return exec(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	if (s->mode == STORE_RO)
		return arg_fail(s, RK_EINVAL, "the store is open read-only");
	return commit(s);
}

void
store_abort(struct store *s)
{
	if (s != NULL)
		rollback(s);
}

int
store_get_state(struct store *s, struct store_state *out)
{
	static const char sql[] =
	    "SELECT channel, active_version, highest_version, highest_sha256, "
	    "time_floor, threshold, fetch_url, etag, last_modified, "
	    "last_check_at, last_check_result, last_check_detail, "
	    "next_check_at, deferred_version, deferred_percent FROM state "
	    "WHERE id = 1";
	struct store_state st;
	struct stmt q;
	int64_t thr = 0, pct = 0;
	int rc;

	memset(&st, 0, sizeof(st));
	q_begin(&q, s, TX_READ);
	q_prep(&q, sql);
	if (!q_row(&q, "state"))
		q_corrupt(&q, 0);
	c_text(&q, 0, st.channel, sizeof(st.channel));
	if (!c_null(&q, 1))
		c_u64(&q, 1, &st.active_version);
	c_u64(&q, 2, &st.highest_version);
	c_sha(&q, 3, st.highest_sha256);
	c_i64(&q, 4, &st.time_floor);
	c_i64(&q, 5, &thr);
	c_text(&q, 6, st.fetch_url, sizeof(st.fetch_url));
	c_text(&q, 7, st.etag, sizeof(st.etag));
	c_text(&q, 8, st.last_modified, sizeof(st.last_modified));
	c_i64(&q, 9, &st.last_check_at);
	c_text(&q, 10, st.last_check_result, sizeof(st.last_check_result));
	c_text(&q, 11, st.last_check_detail, sizeof(st.last_check_detail));
	c_i64(&q, 12, &st.next_check_at);
	c_u64(&q, 13, &st.deferred_version);
	c_i64(&q, 14, &pct);
	if (thr < 0 || thr > UINT_MAX)
		q_corrupt(&q, 5);
	if (pct < 0 || pct > 100)
		q_corrupt(&q, 14);
	st.threshold = (unsigned)thr;
	st.deferred_percent = (unsigned)pct;
	rc = q_end(&q);
	if (rc == RK_OK)
		*out = st;
	return rc;
}

int
store_set_state(struct store *s, const struct store_state *st)
{
	static const char sql[] =
	    "UPDATE state SET channel = ?1, active_version = ?2, "
	    "highest_version = ?3, highest_sha256 = ?4, time_floor = ?5, "
	    "threshold = ?6, fetch_url = ?7, etag = ?8, last_modified = ?9, "
	    "last_check_at = ?10, last_check_result = ?11, "
	    "last_check_detail = ?12, next_check_at = ?13, "
	    "deferred_version = ?14, deferred_percent = ?15 WHERE id = 1";
	struct stmt q;

	q_begin(&q, s, TX_WRITE);
	q_prep(&q, sql);
	q_field(&q, 1, st->channel, sizeof(st->channel));
	/* NULL, not 0, for "none": the column refers to versions. */
	if (st->active_version != 0)
		q_u64(&q, 2, st->active_version);
	else
		q_null(&q, 2);
	q_u64(&q, 3, st->highest_version);
	q_blob(&q, 4, st->highest_sha256, sizeof(st->highest_sha256));
	q_i64(&q, 5, st->time_floor);
	q_i64(&q, 6, st->threshold);
	q_field(&q, 7, st->fetch_url, sizeof(st->fetch_url));
	q_field(&q, 8, st->etag, sizeof(st->etag));
	q_field(&q, 9, st->last_modified, sizeof(st->last_modified));
	q_i64(&q, 10, st->last_check_at);
	q_field(&q, 11, st->last_check_result, sizeof(st->last_check_result));
	q_field(&q, 12, st->last_check_detail, sizeof(st->last_check_detail));
	q_i64(&q, 13, st->next_check_at);
	q_u64(&q, 14, st->deferred_version);
	q_i64(&q, 15, st->deferred_percent);
	q_done(&q, "state");
	if (sqlite3_changes(s->db) != 1)
		q_corrupt(&q, 0);
	return q_end(&q);
}

/* One pinned key: out of memory keeps its code, any other failure is ours. */
static void
read_key(struct stmt *x, void *e)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int rc;

	c_view(x, 0, &p, &len);
	if (x->err != RK_OK)
		return;
	rc = pubkey_from_spki(p, len, e);
	if (rc == RK_ENOMEM)
		x->err = rc;
	else if (rc != RK_OK)
		q_arg(
		    x, RK_ESTORE, "corrupt store: a pinned key does not parse");
}

static void
drop_key(void *e)
{
	pubkey_free(*(struct pubkey **)e);
}

int
store_get_keys(struct store *s, struct pubkey ***keys, size_t *n)
{
	struct stmt q;

	q_begin(&q, s, TX_READ);
	q_prep(&q, "SELECT spki FROM keys ORDER BY position");
	return q_list(
	    &q, "keys", (void **)keys, sizeof(**keys), n, read_key, drop_key);
}

int
store_set_keys(
    struct store *s, struct pubkey *const *keys, size_t n, unsigned threshold)
{
	struct stmt q;
	const uint8_t *spki;
	size_t i, j, len;

	if (n > 0 && keys == NULL)
		return arg_fail(s, RK_EINVAL, "no keys");
	if (threshold > n || (n > 0 && threshold == 0))
		return arg_fail(s, RK_EINVAL, "threshold out of range");
	for (i = 0; i < n; i++) {
		if (keys[i] == NULL)
			return arg_fail(s, RK_EINVAL, "NULL key");
		for (j = 0; j < i; j++)
			if (memcmp(pubkey_id(keys[i]), pubkey_id(keys[j]),
				CRYPTO_SHA256_LEN) == 0)
				return arg_fail(s, RK_EINVAL, "duplicate key");
	}
	q_begin(&q, s, TX_WRITE);
	q_exec(&q, "DELETE FROM keys");
	q_prep(&q, "INSERT INTO keys (position, key_id, spki) "
		   "VALUES (?1, ?2, ?3)");
	for (i = 0; i < n; i++) {
		spki = pubkey_spki(keys[i], &len);
		q_u64(&q, 1, i);
		q_blob(&q, 2, pubkey_id(keys[i]), CRYPTO_SHA256_LEN);
		q_blob(&q, 3, spki, len);
		q_done(&q, "keys");
	}
	q_prep(&q, "UPDATE state SET threshold = ?1 WHERE id = 1");
	q_i64(&q, 1, threshold);
	q_done(&q, "threshold");
	return q_end(&q);
}

void
store_certs_free(struct store_cert *c, size_t n)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++)
		free(c[i].der);
	free(c);
}

/* Stores the certificates of version in order, each once by its hash. */
static void
add_certs(struct stmt *x, uint64_t version, const struct store_cert *certs,
    size_t ncerts)
{
	const struct store_cert *c;
	struct stmt link;
	size_t i;

	q_prep(x, "INSERT INTO certs (sha256, der, subject, not_before, "
		  "not_after) VALUES (?1, ?2, ?3, ?4, ?5) "
		  "ON CONFLICT (sha256) DO NOTHING");
	q_also(&link, x);
	q_prep(&link, "INSERT INTO version_certs (version, position, sha256) "
		      "VALUES (?1, ?2, ?3)");
	q_join(x, &link);
	for (i = 0; i < ncerts; i++) {
		c = &certs[i];
		q_blob(x, 1, c->sha256, CRYPTO_SHA256_LEN);
		q_blob(x, 2, c->der, c->der_len);
		q_field(x, 3, c->subject, sizeof(c->subject));
		q_i64(x, 4, c->not_before);
		q_i64(x, 5, c->not_after);
		q_done(x, "cert");
		q_join(&link, x);
		q_u64(&link, 1, version);
		q_u64(&link, 2, i);
		q_blob(&link, 3, c->sha256, CRYPTO_SHA256_LEN);
		q_done(&link, "version cert");
		q_join(x, &link);
	}
	q_end(&link);
}

int
store_add_version(struct store *s, const struct store_version *v,
    const uint8_t *raw, size_t raw_len, const struct store_cert *certs,
    size_t ncerts)
{
	struct stmt q;
	size_t i;

	if (v == NULL || raw == NULL || raw_len == 0 ||
	    (ncerts > 0 && certs == NULL))
		return arg_fail(s, RK_EINVAL, "add_version: bad arguments");
	if (v->version == 0 || v->version > INT64_MAX)
		return arg_fail(s, RK_EINVAL, "version out of range");
	/* The digests are the caller's, computed once from these bytes. */
	for (i = 0; i < ncerts; i++)
		if (certs[i].der == NULL || certs[i].der_len == 0)
			return arg_fail(s, RK_EINVAL, "empty certificate");
	q_begin(&q, s, TX_WRITE);
	q_prep(&q, "INSERT INTO versions (version, sha256, issued_at, "
		   "expires_at, stored_at, activated_at, factory, bad, raw) "
		   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	q_u64(&q, 1, v->version);
	q_blob(&q, 2, v->sha256, CRYPTO_SHA256_LEN);
	q_i64(&q, 3, v->issued_at);
	q_i64(&q, 4, v->expires_at);
	q_i64(&q, 5, v->stored_at);
	q_i64(&q, 6, v->activated_at);
	q_i64(&q, 7, v->factory != 0);
	q_i64(&q, 8, v->bad != 0);
	q_blob(&q, 9, raw, raw_len);
	q_insert(&q, "version", v->version);
	add_certs(&q, v->version, certs, ncerts);
	return q_end(&q);
}

/* Runs one UPDATE of a version; RK_ENOENT when no such version. */
static void
update_version(struct stmt *x, const char *sql, uint64_t version, int64_t arg)
{
	q_prep(x, sql);
	q_u64(x, 1, version);
	q_i64(x, 2, arg);
	q_done(x, "version");
	if (sqlite3_changes(x->s->db) != 1)
		q_missing(x, version);
}

/* The step both activations end with: version becomes the active one. */
static void
set_active(struct stmt *x, uint64_t version)
{
	q_prep(x, "UPDATE state SET active_version = ?1 WHERE id = 1");
	q_u64(x, 1, version);
	q_done(x, "state");
	if (x->err == RK_OK && sqlite3_changes(x->s->db) != 1)
		q_corrupt(x, 0);
}

int
store_activate(struct store *s, uint64_t version, int64_t now)
{
	struct stmt q;

	q_begin(&q, s, TX_WRITE);
	update_version(&q,
	    "UPDATE versions SET activated_at = ?2 WHERE version = ?1", version,
	    now);
	set_active(&q, version);
	return q_end(&q);
}

int
store_mark_bad(struct store *s, uint64_t version)
{
	struct stmt q;

	q_begin(&q, s, TX_WRITE);
	update_version(
	    &q, "UPDATE versions SET bad = ?2 WHERE version = ?1", version, 1);
	return q_end(&q);
}

#define VERSION_SELECT                                                         \
	"SELECT v.version, v.sha256, v.issued_at, v.expires_at, "              \
	"v.stored_at, v.activated_at, v.factory, v.bad, (SELECT count(*) "     \
	"FROM version_certs c WHERE c.version = v.version) FROM versions v "

static void
read_version(struct stmt *x, void *e)
{
	struct store_version *v = e;
	uint64_t nc = 0;

	memset(v, 0, sizeof(*v));
	c_u64(x, 0, &v->version);
	c_sha(x, 1, v->sha256);
	c_i64(x, 2, &v->issued_at);
	c_i64(x, 3, &v->expires_at);
	c_i64(x, 4, &v->stored_at);
	c_i64(x, 5, &v->activated_at);
	c_flag(x, 6, &v->factory);
	c_flag(x, 7, &v->bad);
	c_u64(x, 8, &nc);
	if (nc > SIZE_MAX)
		q_corrupt(x, 8);
	v->ncerts = (size_t)nc;
}

int
store_list_versions(struct store *s, struct store_version **out, size_t *n)
{
	struct stmt q;

	q_begin(&q, s, TX_READ);
	q_prep(&q, VERSION_SELECT "ORDER BY v.version DESC");
	return q_list(
	    &q, "versions", (void **)out, sizeof(**out), n, read_version, NULL);
}

/* Prepares sql, binds version to ?1 and steps to the version's row. */
static void
q_version(struct stmt *x, const char *sql, uint64_t version, const char *what)
{
	q_prep(x, sql);
	q_u64(x, 1, version);
	if (!q_row(x, what))
		q_missing(x, version);
}

int
store_get_version(struct store *s, uint64_t version, struct store_version *out)
{
	struct store_version v;
	struct stmt q;
	int rc;

	q_begin(&q, s, TX_READ);
	q_version(
	    &q, VERSION_SELECT "WHERE v.version = ?1", version, "version");
	read_version(&q, &v);
	rc = q_end(&q);
	if (rc == RK_OK)
		*out = v;
	return rc;
}

int
store_get_raw(struct store *s, uint64_t version, uint8_t **raw, size_t *len)
{
	struct stmt q;

	q_begin(&q, s, TX_READ);
	q_version(
	    &q, "SELECT raw FROM versions WHERE version = ?1", version, "raw");
	c_blob(&q, 0, raw, len);
	return q_end(&q);
}

static void
read_cert(struct stmt *x, void *e)
{
	struct store_cert *c = e;

	c_sha(x, 0, c->sha256);
	c_blob(x, 1, &c->der, &c->der_len);
	c_text(x, 2, c->subject, sizeof(c->subject));
	c_i64(x, 3, &c->not_before);
	c_i64(x, 4, &c->not_after);
}

static void
drop_cert(void *e)
{
	free(((struct store_cert *)e)->der);
}

int
store_version_certs(
    struct store *s, uint64_t version, struct store_cert **out, size_t *n)
{
	struct stmt q;

	q_begin(&q, s, TX_READ);
	/* Tells "not stored" from a version without certificates. */
	q_version(&q, "SELECT 1 FROM versions WHERE version = ?1", version,
	    "version");
	q_prep(&q, "SELECT c.sha256, c.der, c.subject, c.not_before, "
		   "c.not_after FROM version_certs vc JOIN certs c ON "
		   "c.sha256 = vc.sha256 WHERE vc.version = ?1 "
		   "ORDER BY vc.position");
	q_u64(&q, 1, version);
	return q_list(
	    &q, "certs", (void **)out, sizeof(**out), n, read_cert, drop_cert);
}

int
store_prune(struct store *s, unsigned keep, size_t *deleted)
{
	struct stmt q;
	int64_t gone = 0;
	int rc;

	q_begin(&q, s, TX_WRITE);
	/* version_certs rows go by ON DELETE CASCADE. */
	q_prep(&q, "DELETE FROM versions WHERE factory = 0 AND "
		   "version IS NOT (SELECT active_version FROM state "
		   "WHERE id = 1) AND version NOT IN (SELECT version "
		   "FROM versions ORDER BY version DESC LIMIT ?1)");
	q_i64(&q, 1, keep);
	q_done(&q, "prune");
	if (q.err == RK_OK)
		gone = sqlite3_changes64(s->db);
	q_exec(&q, "DELETE FROM certs WHERE NOT EXISTS (SELECT 1 FROM "
		   "version_certs vc WHERE vc.sha256 = certs.sha256)");
	rc = q_end(&q);
	if (rc == RK_OK && deleted != NULL)
		*deleted = (size_t)gone;
	return rc;
}

int
store_add_distrust(
    struct store *s, const struct distrust *d, size_t n, uint64_t version)
{
	/*
	 * One statement per entry.  The entry of the highest version that
	 * mentions a fingerprint is in force: it replaces the known one
	 * (either way) unless that came from a higher version.  A rule with
	 * no reason keeps the older reason.
	 */
	static const char set_sql[] =
	    "INSERT INTO distrust (sha256, has_after, after_time, reason, "
	    "since_version, lifted) VALUES (?1, ?2, ?3, ?4, ?5, 0) "
	    "ON CONFLICT (sha256) DO UPDATE SET "
	    "has_after = excluded.has_after, "
	    "after_time = excluded.after_time, "
	    "reason = CASE WHEN excluded.reason <> '' THEN excluded.reason "
	    "ELSE distrust.reason END, "
	    "since_version = excluded.since_version, lifted = 0 "
	    "WHERE distrust.since_version <= excluded.since_version";
	/* A lift ends a known entry; of an unknown one it has no trace. */
	static const char lift_sql[] =
	    "UPDATE distrust SET has_after = 0, after_time = 0, lifted = 1, "
	    "reason = CASE WHEN ?4 <> '' THEN ?4 ELSE reason END, "
	    "since_version = ?5 "
	    "WHERE sha256 = ?1 AND since_version <= ?5";
	const size_t rmax = FIELD_SIZE(struct store_distrust, reason) - 1;
	struct stmt q, lift, *x;
	const char *reason;
	size_t i;

	if (n > 0 && d == NULL)
		return arg_fail(s, RK_EINVAL, "no distrust list");
	if (version > INT64_MAX)
		return arg_fail(s, RK_EINVAL, "version out of range");
	for (i = 0; i < n; i++)
		if (d[i].lift && d[i].has_after)
			return arg_fail(s, RK_EINVAL, "a lift with a date");
	q_begin(&q, s, TX_WRITE);
	q_prep(&q, set_sql);
	q_also(&lift, &q);
	q_prep(&lift, lift_sql);
	q_join(&q, &lift);
	for (i = 0; i < n; i++) {
		x = d[i].lift ? &lift : &q;
		reason = d[i].reason != NULL ? d[i].reason : "";
		q_blob(x, 1, d[i].sha256, CRYPTO_SHA256_LEN);
		if (!d[i].lift) {
			q_i64(x, 2, d[i].has_after != 0);
			q_i64(x, 3, d[i].has_after ? d[i].after : 0);
		}
		q_text(x, 4, reason, utf8_cut(reason, rmax));
		q_u64(x, 5, version);
		q_done(x, "distrust");
		q_join(&q, &lift);
		q_join(&lift, &q);
	}
	q_end(&lift);
	return q_end(&q);
}

static void
read_distrust(struct stmt *x, void *e)
{
	struct store_distrust *t = e;

	c_sha(x, 0, t->sha256);
	c_flag(x, 1, &t->has_after);
	c_i64(x, 2, &t->after);
	c_text(x, 3, t->reason, sizeof(t->reason));
	c_u64(x, 4, &t->since_version);
	c_flag(x, 5, &t->lifted);
}

int
store_get_distrust(struct store *s, struct store_distrust **out, size_t *n)
{
	struct stmt q;

	q_begin(&q, s, TX_READ);
	q_prep(&q, "SELECT sha256, has_after, after_time, reason, "
		   "since_version, lifted FROM distrust ORDER BY sha256");
	return q_list(&q, "distrust", (void **)out, sizeof(**out), n,
	    read_distrust, NULL);
}

int
store_add_event(struct store *s, int64_t at, const char *kind, uint64_t version,
    const char *detail)
{
	struct stmt q;
	size_t klen, dlen;

	if (kind == NULL)
		return arg_fail(s, RK_EINVAL, "no event kind");
	klen = strnlen(kind, FIELD_SIZE(struct store_event, kind));
	if (klen == 0 || klen == FIELD_SIZE(struct store_event, kind))
		return arg_fail(s, RK_EINVAL, "event kind empty or too long");
	if (detail == NULL)
		detail = "";
	dlen = utf8_cut(detail, FIELD_SIZE(struct store_event, detail) - 1);
	q_begin(&q, s, TX_WRITE);
	q_prep(&q, "INSERT INTO events (at, kind, version, detail) "
		   "VALUES (?1, ?2, ?3, ?4)");
	q_i64(&q, 1, at);
	q_text(&q, 2, kind, klen);
	q_u64(&q, 3, version);
	q_text(&q, 4, detail, dlen);
	q_done(&q, "event");
	/* The id of the newest event that falls out, if any. */
	q_prep(&q, "DELETE FROM events WHERE id <= (SELECT id FROM "
		   "events ORDER BY id DESC LIMIT 1 OFFSET ?1)");
	q_i64(&q, 1, STORE_MAX_EVENTS);
	q_done(&q, "trim events");
	return q_end(&q);
}

static void
read_event(struct stmt *x, void *e)
{
	struct store_event *ev = e;

	c_i64(x, 0, &ev->id);
	c_i64(x, 1, &ev->at);
	c_text(x, 2, ev->kind, sizeof(ev->kind));
	c_u64(x, 3, &ev->version);
	c_text(x, 4, ev->detail, sizeof(ev->detail));
}

int
store_list_events(
    struct store *s, size_t max, struct store_event **out, size_t *n)
{
	uint64_t lim = max; /* a 32-bit size_t is never above INT64_MAX */
	struct stmt q;

	q_begin(&q, s, TX_READ);
	q_prep(&q, "SELECT id, at, kind, version, detail FROM events "
		   "ORDER BY id DESC LIMIT ?1");
	q_i64(&q, 1, lim > INT64_MAX ? INT64_MAX : (int64_t)lim);
	return q_list(
	    &q, "events", (void **)out, sizeof(**out), n, read_event, NULL);
}

/* One row by its primary key: readers poll this. */
static int
read_u64(struct store *s, const char *sql, uint64_t *v)
{
	struct stmt q;
	uint64_t x = 0;
	int rc;

	q_begin(&q, s, TX_READ);
	q_prep(&q, sql);
	if (!q_row(&q, sql))
		q_corrupt(&q, 0);
	if (!c_null(&q, 0))
		c_u64(&q, 0, &x);
	rc = q_end(&q);
	if (rc == RK_OK)
		*v = x;
	return rc;
}

int
store_active_version(struct store *s, uint64_t *version)
{
	return read_u64(
	    s, "SELECT active_version FROM state WHERE id = 1", version);
}

int
store_count_certs(struct store *s, size_t *n)
{
	uint64_t v = 0;
	int rc = read_u64(s, "SELECT count(*) FROM certs", &v);

	if (rc == RK_OK)
		*n = (size_t)v;
	return rc;
}

int
store_set_probe(struct store *s, const struct store_probe *p)
{
	struct stmt q;

	if (p->result < 0 || p->result > 2)
		return arg_fail(s, RK_EINVAL, "probe result out of range");
	q_begin(&q, s, TX_WRITE);
	q_prep(&q, "INSERT OR REPLACE INTO probes (target, at, result, "
		   "root_subject, root_sha256, root_not_after, alternative, "
		   "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	q_field(&q, 1, p->target, sizeof(p->target));
	q_i64(&q, 2, p->at);
	q_i64(&q, 3, p->result);
	q_field(&q, 4, p->root_subject, sizeof(p->root_subject));
	q_blob(&q, 5, p->root_sha256, CRYPTO_SHA256_LEN);
	q_i64(&q, 6, p->root_not_after);
	q_i64(&q, 7, p->alternative ? 1 : 0);
	q_field(&q, 8, p->detail, sizeof(p->detail));
	q_done(&q, "probe");
	return q_end(&q);
}

static void
read_probe(struct stmt *x, void *e)
{
	struct store_probe *p = e;
	int64_t result = 0;

	c_text(x, 0, p->target, sizeof(p->target));
	c_i64(x, 1, &p->at);
	c_i64(x, 2, &result);
	c_text(x, 3, p->root_subject, sizeof(p->root_subject));
	c_sha(x, 4, p->root_sha256);
	c_i64(x, 5, &p->root_not_after);
	c_flag(x, 6, &p->alternative);
	c_text(x, 7, p->detail, sizeof(p->detail));
	if (result < 0 || result > 2)
		q_corrupt(x, 2);
	p->result = (enum store_probe_result)result;
}

int
store_list_probes(struct store *s, struct store_probe **out, size_t *n)
{
	struct stmt q;

	q_begin(&q, s, TX_READ);
	q_prep(&q, "SELECT target, at, result, root_subject, root_sha256, "
		   "root_not_after, alternative, detail FROM probes "
		   "ORDER BY target");
	return q_list(
	    &q, "probes", (void **)out, sizeof(**out), n, read_probe, NULL);
}

int
store_activate_added(struct store *s, uint64_t version, int64_t now)
{
	struct store_version v;
	struct stmt q;

	q_begin(&q, s, TX_WRITE);
	/* Its facts only: the raw bundle, last in the row, is not read. */
	if (q.err == RK_OK)
		q.err = store_get_version(s, version, &v);
	if (q.err == RK_OK && v.activated_at != now)
		q_arg(&q, RK_EINVAL,
		    "activate_added: the version's activated_at differs");
	set_active(&q, version);
	return q_end(&q);
}

int
store_each_cert(struct store *s, uint64_t version, store_cert_fn fn, void *arg)
{
	struct store_version v;
	struct stmt q;
	uint8_t sha[CRYPTO_SHA256_LEN];
	const uint8_t *der = NULL;
	size_t seen = 0, len = 0;

	q_begin(&q, s, TX_READ);
	q_prep(&q, "SELECT c.sha256, c.der FROM version_certs vc JOIN certs c "
		   "ON c.sha256 = vc.sha256 WHERE vc.version = ?1 "
		   "ORDER BY vc.position");
	q_u64(&q, 1, version);
	while (q_row(&q, "certs")) {
		c_sha(&q, 0, sha);
		/* Borrowed from SQLite until the next step. */
		c_view(&q, 1, &der, &len);
		/* fn's rc ends the walk as any failure does: q_row stops. */
		if (q.err == RK_OK) {
			seen++;
			q.err = fn(arg, sha, der, len);
		}
	}
	/* None: is the version stored at all? */
	if (q.err == RK_OK && seen == 0)
		q.err = store_get_version(s, version, &v);
	return q_end(&q);
}

int
store_begin_read(struct store *s)
{
	int own, rc;

	rc = rd_enter(s, &own);
	if (rc != RK_OK)
		return rc;
	return own ? RK_OK
		   : arg_fail(s, RK_EINVAL, "a transaction is open already");
}

void
store_end_read(struct store *s)
{
	/* A write transaction is its owner's to commit or abort. */
	if (s != NULL && sqlite3_txn_state(s->db, NULL) != SQLITE_TXN_WRITE)
		rollback(s);
}
