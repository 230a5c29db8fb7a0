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

/* Steps a statement that returns no row. */
static int
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int src = sqlite3_step(st);

	return src == SQLITE_DONE ? RK_OK : db_fail(s, src, what);
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
bind_i64(struct store *s, sqlite3_stmt *st, int i, int64_t v)
{
	int src = sqlite3_bind_int64(st, i, v);

	return src == SQLITE_OK ? RK_OK : db_fail(s, src, "bind");
}

/* Versions are at most 2^53 - 1 by the format; SQLite holds int64. */
static int
bind_u64(struct store *s, sqlite3_stmt *st, int i, uint64_t v)
{
	if (v > INT64_MAX)
		return arg_fail(s, RK_EINVAL, "number out of range");
	return bind_i64(s, st, i, (int64_t)v);
}

/* The bytes must outlive the step: every caller steps before returning. */
static int
bind_blob(struct store *s, sqlite3_stmt *st, int i, const void *p, size_t len)
{
	int src;

	if (len == 0)
		src = sqlite3_bind_zeroblob(st, i, 0);
	else
		src = sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC);
	return src == SQLITE_OK ? RK_OK : db_fail(s, src, "bind");
}

static int
bind_text(struct store *s, sqlite3_stmt *st, int i, const char *p, size_t len)
{
	int src =
	    sqlite3_bind_text64(st, i, p, len, SQLITE_STATIC, SQLITE_UTF8);

	return src == SQLITE_OK ? RK_OK : db_fail(s, src, "bind");
}

/* A NUL-terminated string held in a fixed array of size bytes. */
static int
bind_field(struct store *s, sqlite3_stmt *st, int i, const char *p, size_t size)
{
	size_t len = strnlen(p, size);

	if (len == size)
		return arg_fail(s, RK_EINVAL, "string not terminated");
	return bind_text(s, st, i, p, len);
}

static int
corrupt(struct store *s, int col)
{
	snprintf(s->err, sizeof(s->err),
	    "corrupt store: unexpected value in column %d", col);
	return RK_ESTORE;
}

static int
col_i64(struct store *s, sqlite3_stmt *st, int i, int64_t *v)
{
	if (sqlite3_column_type(st, i) != SQLITE_INTEGER)
		return corrupt(s, i);
	*v = sqlite3_column_int64(st, i);
	return RK_OK;
}

static int
col_u64(struct store *s, sqlite3_stmt *st, int i, uint64_t *v)
{
	int64_t x;
	int rc = col_i64(s, st, i, &x);

	if (rc != RK_OK)
		return rc;
	if (x < 0)
		return corrupt(s, i);
	*v = (uint64_t)x;
	return RK_OK;
}

static int
col_flag(struct store *s, sqlite3_stmt *st, int i, int *v)
{
	int64_t x;
	int rc = col_i64(s, st, i, &x);

	if (rc != RK_OK)
		return rc;
	if (x != 0 && x != 1)
		return corrupt(s, i);
	*v = (int)x;
	return RK_OK;
}

/* Text into a fixed buffer; what does not fit was not written by us. */
static int
col_text(struct store *s, sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *p;
	int n;

	if (sqlite3_column_type(st, i) != SQLITE_TEXT)
		return corrupt(s, i);
	p = sqlite3_column_text(st, i);
	n = sqlite3_column_bytes(st, i);
	if (p == NULL)
		return db_fail(s, SQLITE_NOMEM, "column");
	if (n < 0 || (size_t)n >= size || memchr(p, 0, (size_t)n) != NULL)
		return corrupt(s, i);
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
	return RK_OK;
}

static int
col_sha(
    struct store *s, sqlite3_stmt *st, int i, uint8_t out[CRYPTO_SHA256_LEN])
{
	const void *p;

	if (sqlite3_column_type(st, i) != SQLITE_BLOB)
		return corrupt(s, i);
	p = sqlite3_column_blob(st, i);
	if (sqlite3_column_bytes(st, i) != CRYPTO_SHA256_LEN || p == NULL)
		return corrupt(s, i);
	memcpy(out, p, CRYPTO_SHA256_LEN);
	return RK_OK;
}

/* A non-empty blob, copied to a malloc'ed buffer. */
static int
col_blob(struct store *s, sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	const void *p;
	uint8_t *b;
	int n;

	if (sqlite3_column_type(st, i) != SQLITE_BLOB)
		return corrupt(s, i);
	p = sqlite3_column_blob(st, i);
	n = sqlite3_column_bytes(st, i);
	if (n <= 0 || p == NULL)
		return corrupt(s, i);
	if ((b = malloc((size_t)n)) == NULL)
		return arg_fail(s, RK_ENOMEM, "out of memory");
	memcpy(b, p, (size_t)n);
	*out = b;
	*len = (size_t)n;
	return RK_OK;
}

/* Makes room for one more element in a growing array. */
static int
grow(struct store *s, void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return RK_OK;
	ncap = *cap != 0 ? *cap * 2 : 8;
	if (ncap < *cap || (p = reallocarray(*arr, ncap, elem)) == NULL)
		return arg_fail(s, RK_ENOMEM, "out of memory");
	*arr = p;
	*cap = ncap;
	return RK_OK;
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
	if ((src = sqlite3_busy_timeout(s->db, 0)) != SQLITE_OK)
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

static int connect_db(struct store *s, const char *query, struct rk_why *why);
static int check_ours(
    struct store *s, int *src, int64_t *version, struct rk_why *why);

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
	int64_t uv;
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
	rc = connect_db(&fresh, "immutable=1", &why);
	if (rc == RK_OK)
		rc = check_ours(&fresh, &src, &uv, &why);
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
	int rc;

	*own = sqlite3_get_autocommit(s->db);
	if (!*own)
		return RK_OK;
	if (s->immutable && (rc = refresh_immutable(s)) != RK_OK)
		return rc;
	return exec(s, "BEGIN");
}

static void
rd_leave(struct store *s, int own)
{
	/* A read transaction has nothing to lose: ROLLBACK ends it. */
	if (own)
		rollback(s);
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
	if ((uri = malloc(len * 3 + strlen(query) + 16)) == NULL)
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
	int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
	char *uri;
	int src, rc = RK_OK;

	flags |=
	    s->mode == STORE_RO ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if ((uri = make_uri(s->path, query)) == NULL)
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
	if ((src = sqlite3_extended_result_codes(s->db, 1)) != SQLITE_OK ||
	    (src = sqlite3_busy_timeout(s->db, s->wait_ms)) != SQLITE_OK ||
	    (src = sqlite3_db_config(
		 s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL)) != SQLITE_OK ||
	    (src = sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
		 NULL)) != SQLITE_OK ||
	    (src = sqlite3_db_config(
		 s->db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, NULL)) != SQLITE_OK) {
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

	if ((rc = exec(s, "BEGIN IMMEDIATE")) != RK_OK)
		goto fail;
	if ((rc = pragma_int(s, "PRAGMA user_version", &uv, &src)) != RK_OK) {
		rc = db_fail(s, src, "user_version");
		goto fail;
	}
	for (i = 0; i < N_MIGRATIONS; i++) {
		if (migrations[i].to <= uv)
			continue;
		if ((rc = exec(s, migrations[i].sql)) != RK_OK)
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
	if ((rc = commit(s)) != RK_OK)
		return rk_fail(why, rc, "%s: migrating: %s", s->path, s->err);
	return RK_OK;
fail:
	rollback(s);
	return rk_fail(why, rc, "%s: migrating: %s", s->path, s->err);
}

/* Setup of a read-write connection on our own, or a freshly made, file. */
static int
setup_rw(struct store *s, int created, struct rk_why *why)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *jm;
	int64_t app = 0, uv = 0;
	int rc, src;

	if (sqlite3_db_readonly(s->db, "main") == 1)
		return rk_fail(why, RK_ESTORE, "%s: no write access", s->path);
	if (created) {
		/* Our own empty file: nothing to check but emptiness. */
		if (pragma_int(s, "PRAGMA application_id", &app, &src) !=
			RK_OK ||
		    pragma_int(s, "PRAGMA user_version", &uv, &src) != RK_OK ||
		    app != 0 || uv != 0)
			return rk_fail(
			    why, RK_ESTORE, "%s: new file not empty", s->path);
	} else if ((rc = check_ours(s, &src, &uv, why)) != RK_OK) {
		return rc;
	}
	/* Only now that the file is known to be ours may it be changed. */
	if ((rc = prep(s, "PRAGMA journal_mode = WAL", &st)) != RK_OK)
		goto out;
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		rc = db_fail(s, src, "journal_mode");
		goto out;
	}
	jm = sqlite3_column_text(st, 0);
	if (jm == NULL || strcmp((const char *)jm, "wal") != 0) {
		rc = arg_fail(s, RK_ESTORE, "cannot switch to WAL");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = exec(s, "PRAGMA synchronous = FULL")) != RK_OK)
		goto out;
	/*
	 * A device has little memory: a page cache of 256 KiB (SQLite's
	 * default is 2 MiB) is plenty for a store this size, and temporary
	 * tables stay in memory rather than in files of their own.
	 */
	if ((rc = exec(s, "PRAGMA cache_size = -256")) != RK_OK ||
	    (rc = exec(s, "PRAGMA temp_store = MEMORY")) != RK_OK)
		goto out;
	/* A current store is not locked for writing just to be opened. */
	return uv == STORE_SCHEMA_VERSION ? RK_OK : migrate(s, why);
out:
	sqlite3_finalize(st);
	return rk_fail(why, rc, "%s: %s", s->path, s->err);
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

int
store_open(const char *path, enum store_mode mode, struct store **out,
    struct rk_why *why)
{
	struct store *s = NULL;
	struct rk_why first = {""};
	struct stat st;
	int64_t uv;
	int rc, src = SQLITE_OK, created = 0;

	if (path == NULL || *path == '\0' || out == NULL ||
	    (mode != STORE_RO && mode != STORE_RW && mode != STORE_CREATE))
		return rk_fail(why, RK_EINVAL, "store: bad arguments");
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		rc = rk_fail(why, RK_ENOMEM, "out of memory");
		goto out;
	}
	s->mode = mode;
	s->wait_ms = BUSY_TIMEOUT_MS;
	if (mode == STORE_CREATE) {
		if ((rc = create_file(path, why)) != RK_OK)
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
	if (mode != STORE_RO) {
		if ((rc = connect_db(s, "mode=rw", why)) == RK_OK)
			rc = setup_rw(s, created, why);
		goto out;
	}
	if ((rc = connect_db(s, "mode=ro", &first)) == RK_OK)
		rc = check_ours(s, &src, &uv, &first);
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
		if ((rc = connect_db(s, "immutable=1", why)) == RK_OK)
			rc = check_ours(s, &src, &uv, why);
	} else if (rc != RK_OK && why != NULL) {
		*why = first;
	}
	if (rc == RK_OK && (rc = exec(s, "PRAGMA query_only = ON")) != RK_OK)
		rk_fail(why, rc, "%s: %s", path, s->err);
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
	sqlite3_stmt *q = NULL;
	int64_t thr, pct;
	int rc, own, src;

	memset(&st, 0, sizeof(st));
	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, sql, &q)) != RK_OK)
		goto out;
	if ((src = sqlite3_step(q)) != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? corrupt(s, 0)
					: db_fail(s, src, "state");
		goto out;
	}
	if ((rc = col_text(s, q, 0, st.channel, sizeof(st.channel))) != RK_OK)
		goto out;
	if (sqlite3_column_type(q, 1) == SQLITE_NULL)
		st.active_version = 0;
	else if ((rc = col_u64(s, q, 1, &st.active_version)) != RK_OK)
		goto out;
	if ((rc = col_u64(s, q, 2, &st.highest_version)) != RK_OK ||
	    (rc = col_sha(s, q, 3, st.highest_sha256)) != RK_OK ||
	    (rc = col_i64(s, q, 4, &st.time_floor)) != RK_OK ||
	    (rc = col_i64(s, q, 5, &thr)) != RK_OK ||
	    (rc = col_text(s, q, 6, st.fetch_url, sizeof(st.fetch_url))) !=
		RK_OK ||
	    (rc = col_text(s, q, 7, st.etag, sizeof(st.etag))) != RK_OK ||
	    (rc = col_text(s, q, 8, st.last_modified,
		 sizeof(st.last_modified))) != RK_OK ||
	    (rc = col_i64(s, q, 9, &st.last_check_at)) != RK_OK ||
	    (rc = col_text(s, q, 10, st.last_check_result,
		 sizeof(st.last_check_result))) != RK_OK ||
	    (rc = col_text(s, q, 11, st.last_check_detail,
		 sizeof(st.last_check_detail))) != RK_OK ||
	    (rc = col_i64(s, q, 12, &st.next_check_at)) != RK_OK ||
	    (rc = col_u64(s, q, 13, &st.deferred_version)) != RK_OK ||
	    (rc = col_i64(s, q, 14, &pct)) != RK_OK)
		goto out;
	if (thr < 0 || thr > UINT_MAX) {
		rc = corrupt(s, 5);
		goto out;
	}
	if (pct < 0 || pct > 100) {
		rc = corrupt(s, 14);
		goto out;
	}
	st.threshold = (unsigned)thr;
	st.deferred_percent = (unsigned)pct;
	*out = st;
out:
	sqlite3_finalize(q);
	rd_leave(s, own);
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
	sqlite3_stmt *q = NULL;
	int rc, own, src;

	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, sql, &q)) != RK_OK)
		goto out;
	if ((rc = bind_field(s, q, 1, st->channel, sizeof(st->channel))) !=
	    RK_OK)
		goto out;
	/* NULL, not 0, for "none": the column refers to versions. */
	if (st->active_version != 0)
		rc = bind_u64(s, q, 2, st->active_version);
	else if ((src = sqlite3_bind_null(q, 2)) != SQLITE_OK)
		rc = db_fail(s, src, "bind");
	if (rc != RK_OK)
		goto out;
	if ((rc = bind_u64(s, q, 3, st->highest_version)) != RK_OK ||
	    (rc = bind_blob(s, q, 4, st->highest_sha256,
		 sizeof(st->highest_sha256))) != RK_OK ||
	    (rc = bind_i64(s, q, 5, st->time_floor)) != RK_OK ||
	    (rc = bind_i64(s, q, 6, st->threshold)) != RK_OK ||
	    (rc = bind_field(s, q, 7, st->fetch_url, sizeof(st->fetch_url))) !=
		RK_OK ||
	    (rc = bind_field(s, q, 8, st->etag, sizeof(st->etag))) != RK_OK ||
	    (rc = bind_field(s, q, 9, st->last_modified,
		 sizeof(st->last_modified))) != RK_OK ||
	    (rc = bind_i64(s, q, 10, st->last_check_at)) != RK_OK ||
	    (rc = bind_field(s, q, 11, st->last_check_result,
		 sizeof(st->last_check_result))) != RK_OK ||
	    (rc = bind_field(s, q, 12, st->last_check_detail,
		 sizeof(st->last_check_detail))) != RK_OK ||
	    (rc = bind_i64(s, q, 13, st->next_check_at)) != RK_OK ||
	    (rc = bind_u64(s, q, 14, st->deferred_version)) != RK_OK ||
	    (rc = bind_i64(s, q, 15, st->deferred_percent)) != RK_OK)
		goto out;
	if ((rc = step_done(s, q, "state")) != RK_OK)
		goto out;
	if (sqlite3_changes(s->db) != 1)
		rc = corrupt(s, 0);
out:
	sqlite3_finalize(q);
	return wr_leave(s, own, rc);
}

int
store_get_keys(struct store *s, struct pubkey ***keys, size_t *n)
{
	struct pubkey **arr = NULL;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0, i;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, "SELECT spki FROM keys ORDER BY position", &q)) !=
	    RK_OK)
		goto out;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(q, 0);
		int len = sqlite3_column_bytes(q, 0);

		if (sqlite3_column_type(q, 0) != SQLITE_BLOB || p == NULL ||
		    len <= 0) {
			rc = corrupt(s, 0);
			goto out;
		}
		if ((rc = grow(s, (void **)&arr, &cap, cnt, sizeof(*arr))) !=
		    RK_OK)
			goto out;
		rc = pubkey_from_spki(p, (size_t)len, &arr[cnt]);
		if (rc == RK_ENOMEM)
			goto out;
		if (rc != RK_OK) {
			rc = arg_fail(s, RK_ESTORE,
			    "corrupt store: a pinned key does not parse");
			goto out;
		}
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "keys");
		goto out;
	}
	*keys = arr;
	*n = cnt;
	arr = NULL;
	cnt = 0;
out:
	for (i = 0; i < cnt; i++)
		pubkey_free(arr[i]);
	free(arr);
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

int
store_set_keys(
    struct store *s, struct pubkey *const *keys, size_t n, unsigned threshold)
{
	sqlite3_stmt *q = NULL;
	const uint8_t *spki;
	size_t i, j, len;
	int rc, own;

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
	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = exec(s, "DELETE FROM keys")) != RK_OK)
		goto out;
	if ((rc = prep(s,
		 "INSERT INTO keys (position, key_id, spki) "
		 "VALUES (?1, ?2, ?3)",
		 &q)) != RK_OK)
		goto out;
	for (i = 0; i < n; i++) {
		spki = pubkey_spki(keys[i], &len);
		if ((rc = bind_u64(s, q, 1, i)) != RK_OK ||
		    (rc = bind_blob(s, q, 2, pubkey_id(keys[i]),
			 CRYPTO_SHA256_LEN)) != RK_OK ||
		    (rc = bind_blob(s, q, 3, spki, len)) != RK_OK ||
		    (rc = step_done(s, q, "keys")) != RK_OK)
			goto out;
		if (sqlite3_reset(q) != SQLITE_OK) {
			rc = db_fail(s, SQLITE_ERROR, "reset");
			goto out;
		}
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = prep(s, "UPDATE state SET threshold = ?1 WHERE id = 1",
		 &q)) != RK_OK ||
	    (rc = bind_i64(s, q, 1, threshold)) != RK_OK ||
	    (rc = step_done(s, q, "threshold")) != RK_OK)
		goto out;
out:
	sqlite3_finalize(q);
	return wr_leave(s, own, rc);
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

static int
add_certs(struct store *s, uint64_t version, const struct store_cert *certs,
    size_t ncerts)
{
	sqlite3_stmt *ins = NULL, *link = NULL;
	const struct store_cert *c;
	size_t i;
	int rc;

	if ((rc = prep(s,
		 "INSERT INTO certs (sha256, der, subject, "
		 "not_before, not_after) VALUES (?1, ?2, ?3, ?4, ?5) "
		 "ON CONFLICT (sha256) DO NOTHING",
		 &ins)) != RK_OK ||
	    (rc = prep(s,
		 "INSERT INTO version_certs (version, position, "
		 "sha256) VALUES (?1, ?2, ?3)",
		 &link)) != RK_OK)
		goto out;
	for (i = 0; i < ncerts; i++) {
		c = &certs[i];
		if ((rc = bind_blob(s, ins, 1, c->sha256, CRYPTO_SHA256_LEN)) !=
			RK_OK ||
		    (rc = bind_blob(s, ins, 2, c->der, c->der_len)) != RK_OK ||
		    (rc = bind_field(
			 s, ins, 3, c->subject, sizeof(c->subject))) != RK_OK ||
		    (rc = bind_i64(s, ins, 4, c->not_before)) != RK_OK ||
		    (rc = bind_i64(s, ins, 5, c->not_after)) != RK_OK ||
		    (rc = step_done(s, ins, "cert")) != RK_OK ||
		    (rc = bind_u64(s, link, 1, version)) != RK_OK ||
		    (rc = bind_u64(s, link, 2, i)) != RK_OK ||
		    (rc = bind_blob(
			 s, link, 3, c->sha256, CRYPTO_SHA256_LEN)) != RK_OK ||
		    (rc = step_done(s, link, "version cert")) != RK_OK)
			goto out;
		if (sqlite3_reset(ins) != SQLITE_OK ||
		    sqlite3_reset(link) != SQLITE_OK) {
			rc = db_fail(s, SQLITE_ERROR, "reset");
			goto out;
		}
	}
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(link);
	return rc;
}

int
store_add_version(struct store *s, const struct store_version *v,
    const uint8_t *raw, size_t raw_len, const struct store_cert *certs,
    size_t ncerts)
{
	sqlite3_stmt *q = NULL;
	size_t i;
	int rc, own, src;

	if (v == NULL || raw == NULL || raw_len == 0 ||
	    (ncerts > 0 && certs == NULL))
		return arg_fail(s, RK_EINVAL, "add_version: bad arguments");
	if (v->version == 0 || v->version > INT64_MAX)
		return arg_fail(s, RK_EINVAL, "version out of range");
	/* The digests are the caller's, computed once from these bytes. */
	for (i = 0; i < ncerts; i++)
		if (certs[i].der == NULL || certs[i].der_len == 0)
			return arg_fail(s, RK_EINVAL, "empty certificate");
	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s,
		 "INSERT INTO versions (version, sha256, issued_at, "
		 "expires_at, stored_at, activated_at, factory, bad, "
		 "raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
		 &q)) != RK_OK)
		goto out;
	if ((rc = bind_u64(s, q, 1, v->version)) != RK_OK ||
	    (rc = bind_blob(s, q, 2, v->sha256, CRYPTO_SHA256_LEN)) != RK_OK ||
	    (rc = bind_i64(s, q, 3, v->issued_at)) != RK_OK ||
	    (rc = bind_i64(s, q, 4, v->expires_at)) != RK_OK ||
	    (rc = bind_i64(s, q, 5, v->stored_at)) != RK_OK ||
	    (rc = bind_i64(s, q, 6, v->activated_at)) != RK_OK ||
	    (rc = bind_i64(s, q, 7, v->factory != 0)) != RK_OK ||
	    (rc = bind_i64(s, q, 8, v->bad != 0)) != RK_OK ||
	    (rc = bind_blob(s, q, 9, raw, raw_len)) != RK_OK)
		goto out;
	src = sqlite3_step(q);
	if (src == SQLITE_CONSTRAINT_PRIMARYKEY) {
		snprintf(s->err, sizeof(s->err),
		    "version %llu is stored already",
		    (unsigned long long)v->version);
		rc = RK_EEXIST;
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "version");
		goto out;
	}
	rc = add_certs(s, v->version, certs, ncerts);
out:
	sqlite3_finalize(q);
	return wr_leave(s, own, rc);
}

/* Runs one UPDATE of a version; RK_ENOENT when no such version. */
static int
update_version(struct store *s, const char *sql, uint64_t version, int64_t arg)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prep(s, sql, &q)) != RK_OK ||
	    (rc = bind_u64(s, q, 1, version)) != RK_OK ||
	    (rc = bind_i64(s, q, 2, arg)) != RK_OK ||
	    (rc = step_done(s, q, "version")) != RK_OK)
		goto out;
	if (sqlite3_changes(s->db) != 1) {
		snprintf(s->err, sizeof(s->err), "version %llu is not stored",
		    (unsigned long long)version);
		rc = RK_ENOENT;
	}
out:
	sqlite3_finalize(q);
	return rc;
}

int
store_activate(struct store *s, uint64_t version, int64_t now)
{
	sqlite3_stmt *q = NULL;
	int rc, own;

	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = update_version(s,
		 "UPDATE versions SET activated_at = ?2 "
		 "WHERE version = ?1",
		 version, now)) != RK_OK)
		goto out;
	if ((rc = prep(s, "UPDATE state SET active_version = ?1 WHERE id = 1",
		 &q)) != RK_OK ||
	    (rc = bind_u64(s, q, 1, version)) != RK_OK ||
	    (rc = step_done(s, q, "state")) != RK_OK)
		goto out;
	if (sqlite3_changes(s->db) != 1)
		rc = corrupt(s, 0);
out:
	sqlite3_finalize(q);
	return wr_leave(s, own, rc);
}

int
store_mark_bad(struct store *s, uint64_t version)
{
	int rc, own;

	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	rc = update_version(
	    s, "UPDATE versions SET bad = ?2 WHERE version = ?1", version, 1);
	return wr_leave(s, own, rc);
}

#define VERSION_SELECT                                                         \
	"SELECT v.version, v.sha256, v.issued_at, v.expires_at, "              \
	"v.stored_at, v.activated_at, v.factory, v.bad, (SELECT count(*) "     \
	"FROM version_certs c WHERE c.version = v.version) FROM versions v "

static int
read_version(struct store *s, sqlite3_stmt *q, struct store_version *v)
{
	uint64_t nc;
	int rc;

	memset(v, 0, sizeof(*v));
	if ((rc = col_u64(s, q, 0, &v->version)) != RK_OK ||
	    (rc = col_sha(s, q, 1, v->sha256)) != RK_OK ||
	    (rc = col_i64(s, q, 2, &v->issued_at)) != RK_OK ||
	    (rc = col_i64(s, q, 3, &v->expires_at)) != RK_OK ||
	    (rc = col_i64(s, q, 4, &v->stored_at)) != RK_OK ||
	    (rc = col_i64(s, q, 5, &v->activated_at)) != RK_OK ||
	    (rc = col_flag(s, q, 6, &v->factory)) != RK_OK ||
	    (rc = col_flag(s, q, 7, &v->bad)) != RK_OK ||
	    (rc = col_u64(s, q, 8, &nc)) != RK_OK)
		return rc;
	if (nc > SIZE_MAX)
		return corrupt(s, 8);
	v->ncerts = (size_t)nc;
	return RK_OK;
}

int
store_list_versions(struct store *s, struct store_version **out, size_t *n)
{
	struct store_version *arr = NULL;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, VERSION_SELECT "ORDER BY v.version DESC", &q)) !=
	    RK_OK)
		goto out;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if ((rc = grow(s, (void **)&arr, &cap, cnt, sizeof(*arr))) !=
			RK_OK ||
		    (rc = read_version(s, q, &arr[cnt])) != RK_OK)
			goto out;
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "versions");
		goto out;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
out:
	free(arr);
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

static int
not_stored(struct store *s, uint64_t version)
{
	snprintf(s->err, sizeof(s->err), "version %llu is not stored",
	    (unsigned long long)version);
	return RK_ENOENT;
}

int
store_get_version(struct store *s, uint64_t version, struct store_version *out)
{
	struct store_version v;
	sqlite3_stmt *q = NULL;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, VERSION_SELECT "WHERE v.version = ?1", &q)) !=
		RK_OK ||
	    (rc = bind_u64(s, q, 1, version)) != RK_OK)
		goto out;
	src = sqlite3_step(q);
	if (src == SQLITE_DONE)
		rc = not_stored(s, version);
	else if (src != SQLITE_ROW)
		rc = db_fail(s, src, "version");
	else if ((rc = read_version(s, q, &v)) == RK_OK)
		*out = v;
out:
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

int
store_get_raw(struct store *s, uint64_t version, uint8_t **raw, size_t *len)
{
	sqlite3_stmt *q = NULL;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, "SELECT raw FROM versions WHERE version = ?1", &q)) !=
		RK_OK ||
	    (rc = bind_u64(s, q, 1, version)) != RK_OK)
		goto out;
	src = sqlite3_step(q);
	if (src == SQLITE_DONE)
		rc = not_stored(s, version);
	else if (src != SQLITE_ROW)
		rc = db_fail(s, src, "raw");
	else
		rc = col_blob(s, q, 0, raw, len);
out:
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

int
store_version_certs(
    struct store *s, uint64_t version, struct store_cert **out, size_t *n)
{
	struct store_cert *arr = NULL, *c;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	/* Tells "not stored" from a version without certificates. */
	if ((rc = prep(s, "SELECT 1 FROM versions WHERE version = ?1", &q)) !=
		RK_OK ||
	    (rc = bind_u64(s, q, 1, version)) != RK_OK)
		goto out;
	src = sqlite3_step(q);
	if (src == SQLITE_DONE) {
		rc = not_stored(s, version);
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = db_fail(s, src, "version");
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if ((rc = prep(s,
		 "SELECT c.sha256, c.der, c.subject, c.not_before, "
		 "c.not_after FROM version_certs vc JOIN certs c ON "
		 "c.sha256 = vc.sha256 WHERE vc.version = ?1 "
		 "ORDER BY vc.position",
		 &q)) != RK_OK ||
	    (rc = bind_u64(s, q, 1, version)) != RK_OK)
		goto out;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if ((rc = grow(s, (void **)&arr, &cap, cnt, sizeof(*arr))) !=
		    RK_OK)
			goto out;
		c = &arr[cnt];
		memset(c, 0, sizeof(*c));
		if ((rc = col_sha(s, q, 0, c->sha256)) != RK_OK ||
		    (rc = col_blob(s, q, 1, &c->der, &c->der_len)) != RK_OK)
			goto out;
		cnt++; /* c->der is owned by arr from here */
		if ((rc = col_text(s, q, 2, c->subject, sizeof(c->subject))) !=
			RK_OK ||
		    (rc = col_i64(s, q, 3, &c->not_before)) != RK_OK ||
		    (rc = col_i64(s, q, 4, &c->not_after)) != RK_OK)
			goto out;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "certs");
		goto out;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
	cnt = 0;
out:
	store_certs_free(arr, cnt);
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

int
store_prune(struct store *s, unsigned keep, size_t *deleted)
{
	sqlite3_stmt *q = NULL;
	int64_t gone = 0;
	int rc, own;

	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	/* version_certs rows go by ON DELETE CASCADE. */
	if ((rc = prep(s,
		 "DELETE FROM versions WHERE factory = 0 AND "
		 "version IS NOT (SELECT active_version FROM state "
		 "WHERE id = 1) AND version NOT IN (SELECT version "
		 "FROM versions ORDER BY version DESC LIMIT ?1)",
		 &q)) != RK_OK ||
	    (rc = bind_i64(s, q, 1, keep)) != RK_OK ||
	    (rc = step_done(s, q, "prune")) != RK_OK)
		goto out;
	gone = sqlite3_changes64(s->db);
	rc = exec(s, "DELETE FROM certs WHERE NOT EXISTS (SELECT 1 FROM "
		     "version_certs vc WHERE vc.sha256 = certs.sha256)");
out:
	sqlite3_finalize(q);
	rc = wr_leave(s, own, rc);
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
	sqlite3_stmt *q = NULL, *ql = NULL, *x;
	const char *reason;
	size_t i;
	int rc, own;

	if (n > 0 && d == NULL)
		return arg_fail(s, RK_EINVAL, "no distrust list");
	if (version > INT64_MAX)
		return arg_fail(s, RK_EINVAL, "version out of range");
	for (i = 0; i < n; i++)
		if (d[i].lift && d[i].has_after)
			return arg_fail(s, RK_EINVAL, "a lift with a date");
	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, set_sql, &q)) != RK_OK ||
	    (rc = prep(s, lift_sql, &ql)) != RK_OK)
		goto out;
	for (i = 0; i < n; i++) {
		x = d[i].lift ? ql : q;
		reason = d[i].reason != NULL ? d[i].reason : "";
		if ((rc = bind_blob(s, x, 1, d[i].sha256, CRYPTO_SHA256_LEN)) !=
			RK_OK ||
		    (!d[i].lift &&
			((rc = bind_i64(s, x, 2, d[i].has_after != 0)) !=
				RK_OK ||
			    (rc = bind_i64(s, x, 3,
				 d[i].has_after ? d[i].after : 0)) != RK_OK)) ||
		    (rc = bind_text(s, x, 4, reason, utf8_cut(reason, rmax))) !=
			RK_OK ||
		    (rc = bind_u64(s, x, 5, version)) != RK_OK ||
		    (rc = step_done(s, x, "distrust")) != RK_OK)
			goto out;
		if (sqlite3_reset(x) != SQLITE_OK) {
			rc = db_fail(s, SQLITE_ERROR, "reset");
			goto out;
		}
	}
out:
	sqlite3_finalize(q);
	sqlite3_finalize(ql);
	return wr_leave(s, own, rc);
}

int
store_get_distrust(struct store *s, struct store_distrust **out, size_t *n)
{
	struct store_distrust *arr = NULL, *e;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s,
		 "SELECT sha256, has_after, after_time, reason, "
		 "since_version, lifted FROM distrust ORDER BY sha256",
		 &q)) != RK_OK)
		goto out;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if ((rc = grow(s, (void **)&arr, &cap, cnt, sizeof(*arr))) !=
		    RK_OK)
			goto out;
		e = &arr[cnt];
		memset(e, 0, sizeof(*e));
		if ((rc = col_sha(s, q, 0, e->sha256)) != RK_OK ||
		    (rc = col_flag(s, q, 1, &e->has_after)) != RK_OK ||
		    (rc = col_i64(s, q, 2, &e->after)) != RK_OK ||
		    (rc = col_text(s, q, 3, e->reason, sizeof(e->reason))) !=
			RK_OK ||
		    (rc = col_u64(s, q, 4, &e->since_version)) != RK_OK ||
		    (rc = col_flag(s, q, 5, &e->lifted)) != RK_OK)
			goto out;
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "distrust");
		goto out;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
out:
	free(arr);
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

int
store_add_event(struct store *s, int64_t at, const char *kind, uint64_t version,
    const char *detail)
{
	sqlite3_stmt *q = NULL;
	size_t klen, dlen;
	int rc, own;

	if (kind == NULL)
		return arg_fail(s, RK_EINVAL, "no event kind");
	klen = strnlen(kind, FIELD_SIZE(struct store_event, kind));
	if (klen == 0 || klen == FIELD_SIZE(struct store_event, kind))
		return arg_fail(s, RK_EINVAL, "event kind empty or too long");
	if (detail == NULL)
		detail = "";
	dlen = utf8_cut(detail, FIELD_SIZE(struct store_event, detail) - 1);
	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s,
		 "INSERT INTO events (at, kind, version, detail) "
		 "VALUES (?1, ?2, ?3, ?4)",
		 &q)) != RK_OK ||
	    (rc = bind_i64(s, q, 1, at)) != RK_OK ||
	    (rc = bind_text(s, q, 2, kind, klen)) != RK_OK ||
	    (rc = bind_u64(s, q, 3, version)) != RK_OK ||
	    (rc = bind_text(s, q, 4, detail, dlen)) != RK_OK ||
	    (rc = step_done(s, q, "event")) != RK_OK)
		goto out;
	sqlite3_finalize(q);
	q = NULL;
	/* The id of the newest event that falls out, if any. */
	if ((rc = prep(s,
		 "DELETE FROM events WHERE id <= (SELECT id FROM "
		 "events ORDER BY id DESC LIMIT 1 OFFSET ?1)",
		 &q)) != RK_OK ||
	    (rc = bind_i64(s, q, 1, STORE_MAX_EVENTS)) != RK_OK ||
	    (rc = step_done(s, q, "trim events")) != RK_OK)
		goto out;
out:
	sqlite3_finalize(q);
	return wr_leave(s, own, rc);
}

int
store_list_events(
    struct store *s, size_t max, struct store_event **out, size_t *n)
{
	struct store_event *arr = NULL, *e;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	uint64_t lim = max; /* a 32-bit size_t is never above INT64_MAX */
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s,
		 "SELECT id, at, kind, version, detail FROM events "
		 "ORDER BY id DESC LIMIT ?1",
		 &q)) != RK_OK ||
	    (rc = bind_i64(
		 s, q, 1, lim > INT64_MAX ? INT64_MAX : (int64_t)lim)) != RK_OK)
		goto out;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if ((rc = grow(s, (void **)&arr, &cap, cnt, sizeof(*arr))) !=
		    RK_OK)
			goto out;
		e = &arr[cnt];
		memset(e, 0, sizeof(*e));
		if ((rc = col_i64(s, q, 0, &e->id)) != RK_OK ||
		    (rc = col_i64(s, q, 1, &e->at)) != RK_OK ||
		    (rc = col_text(s, q, 2, e->kind, sizeof(e->kind))) !=
			RK_OK ||
		    (rc = col_u64(s, q, 3, &e->version)) != RK_OK ||
		    (rc = col_text(s, q, 4, e->detail, sizeof(e->detail))) !=
			RK_OK)
			goto out;
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "events");
		goto out;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
out:
	free(arr);
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

/* One row by its primary key: readers poll this. */
static int
read_u64(struct store *s, const char *sql, uint64_t *v)
{
	sqlite3_stmt *q = NULL;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s, sql, &q)) != RK_OK)
		goto out;
	if ((src = sqlite3_step(q)) != SQLITE_ROW) {
		rc = src == SQLITE_DONE ? corrupt(s, 0) : db_fail(s, src, sql);
		goto out;
	}
	if (sqlite3_column_type(q, 0) == SQLITE_NULL)
		*v = 0;
	else
		rc = col_u64(s, q, 0, v);
out:
	sqlite3_finalize(q);
	rd_leave(s, own);
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
	sqlite3_stmt *q = NULL;
	int rc, own;

	if (p->result < 0 || p->result > 2)
		return arg_fail(s, RK_EINVAL, "probe result out of range");
	if ((rc = wr_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s,
		 "INSERT OR REPLACE INTO probes (target, at, result, "
		 "root_subject, root_sha256, root_not_after, alternative, "
		 "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		 &q)) != RK_OK ||
	    (rc = bind_field(s, q, 1, p->target, sizeof(p->target))) != RK_OK ||
	    (rc = bind_i64(s, q, 2, p->at)) != RK_OK ||
	    (rc = bind_i64(s, q, 3, p->result)) != RK_OK ||
	    (rc = bind_field(
		 s, q, 4, p->root_subject, sizeof(p->root_subject))) != RK_OK ||
	    (rc = bind_blob(s, q, 5, p->root_sha256, CRYPTO_SHA256_LEN)) !=
		RK_OK ||
	    (rc = bind_i64(s, q, 6, p->root_not_after)) != RK_OK ||
	    (rc = bind_i64(s, q, 7, p->alternative ? 1 : 0)) != RK_OK ||
	    (rc = bind_field(s, q, 8, p->detail, sizeof(p->detail))) != RK_OK ||
	    (rc = step_done(s, q, "probe")) != RK_OK)
		goto out;
out:
	sqlite3_finalize(q);
	return wr_leave(s, own, rc);
}

int
store_list_probes(struct store *s, struct store_probe **out, size_t *n)
{
	struct store_probe *arr = NULL, *e;
	sqlite3_stmt *q = NULL;
	size_t cnt = 0, cap = 0;
	int64_t result;
	int rc, own, src;

	if ((rc = rd_enter(s, &own)) != RK_OK)
		return rc;
	if ((rc = prep(s,
		 "SELECT target, at, result, root_subject, root_sha256, "
		 "root_not_after, alternative, detail FROM probes "
		 "ORDER BY target",
		 &q)) != RK_OK)
		goto out;
	while ((src = sqlite3_step(q)) == SQLITE_ROW) {
		if ((rc = grow(s, (void **)&arr, &cap, cnt, sizeof(*arr))) !=
		    RK_OK)
			goto out;
		e = &arr[cnt];
		memset(e, 0, sizeof(*e));
		if ((rc = col_text(s, q, 0, e->target, sizeof(e->target))) !=
			RK_OK ||
		    (rc = col_i64(s, q, 1, &e->at)) != RK_OK ||
		    (rc = col_i64(s, q, 2, &result)) != RK_OK ||
		    (rc = col_text(s, q, 3, e->root_subject,
			 sizeof(e->root_subject))) != RK_OK ||
		    (rc = col_sha(s, q, 4, e->root_sha256)) != RK_OK ||
		    (rc = col_i64(s, q, 5, &e->root_not_after)) != RK_OK ||
		    (rc = col_flag(s, q, 6, &e->alternative)) != RK_OK ||
		    (rc = col_text(s, q, 7, e->detail, sizeof(e->detail))) !=
			RK_OK)
			goto out;
		if (result < 0 || result > 2) {
			rc = corrupt(s, 2);
			goto out;
		}
		e->result = (int)result;
		cnt++;
	}
	if (src != SQLITE_DONE) {
		rc = db_fail(s, src, "probes");
		goto out;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
out:
	free(arr);
	sqlite3_finalize(q);
	rd_leave(s, own);
	return rc;
}

int
store_begin_read(struct store *s)
{
	int own, rc;

	if ((rc = rd_enter(s, &own)) != RK_OK)
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
