/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite store against real files in a fresh temporary folder per
 * test: opening (create, reopen, every refusal: an existing path, a
 * missing one, a foreign SQLite database, a file that is no database, a
 * newer schema), the migration runner (a hand-made v0 store is migrated
 * once, a failing migration leaves it as it was), every table through the
 * public API (state, keys, versions with shared certificates, activation,
 * retention, the distrust merge, the event log's bound), transactions
 * (abort, savepoint atomicity inside a caller's transaction, the deferred
 * check of the active version), and concurrency with real connections:
 * a reader holding a snapshot does not delay a writer, a writer waits for
 * another writer, and a user who can only read the file (nobody via
 * setpriv when run as root, else the owner of a folder made read-only)
 * reads the store through tests/store_reader and sees a later commit.
 * The suite opens raw SQLite connections only to build or inspect files
 * the store itself must judge.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "crypto.h"
#include "keys.h"
#include "store.h"

#ifndef STORE_READER
#error "STORE_READER must name the store_reader binary"
#endif

struct fix {
	char dir[64];
	char db[128];
};

/* Takes a store back to before schema version 4. */
#define V4_COLUMNS_DROPPED                                                     \
	"ALTER TABLE distrust DROP COLUMN lifted; "                            \
	"ALTER TABLE state DROP COLUMN deferred_version; "                     \
	"ALTER TABLE state DROP COLUMN deferred_percent; "

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	/* Not $TMPDIR: nobody must be able to reach the folder. */
	snprintf(f->dir, sizeof(f->dir), "/tmp/rk-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	struct dirent *e;
	char p[512];
	DIR *d;

	(void)chmod(f->dir, 0700);
	if ((d = opendir(f->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
			(void)unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static struct store *
open_ok(const char *path, enum store_mode mode)
{
	struct rk_why why = {""};
	struct store *s = NULL;
	int rc = store_open(path, mode, &s, &why);

	if (rc != RK_OK)
		print_error("store_open(%s, %d): %d %s\n", path, (int)mode, rc,
		    why.msg);
	assert_int_equal(rc, RK_OK);
	assert_non_null(s);
	return s;
}

/* A raw connection, to make or inspect files outside the store's API. */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
	    SQLITE_OK);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err != NULL ? err : "?");
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
raw_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	assert_non_null(t);
	snprintf(buf, size, "%s", (const char *)t);
	sqlite3_finalize(st);
}

/* Runs sql on the file at path outside the store (to age a store). */
static void
raw_file_exec(const char *path, const char *sql)
{
	sqlite3 *db = raw_open(path);

	raw_exec(db, sql);
	sqlite3_close(db);
}

/* The schema version the file at path says it has. */
static int64_t
raw_schema(const char *path)
{
	sqlite3 *db = raw_open(path);
	int64_t v = raw_int(db, "PRAGMA user_version");

	sqlite3_close(db);
	return v;
}

/*
 * A writer and a reader both refuse the file at path (RK_ESTORE, no
 * handle), the reason saying what and also (NULL: nothing more).
 */
static void
expect_refused(const char *path, const char *what, const char *also)
{
	static const enum store_mode modes[] = {STORE_RW, STORE_RO};
	struct rk_why why;
	struct store *s;
	size_t i;

	for (i = 0; i < 2; i++) {
		memset(&why, 0, sizeof(why));
		s = NULL;
		assert_int_equal(
		    store_open(path, modes[i], &s, &why), RK_ESTORE);
		assert_null(s);
		assert_non_null(strstr(why.msg, what));
		if (also != NULL)
			assert_non_null(strstr(why.msg, also));
	}
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The whole file; caller frees. */
static uint8_t *
read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, 1 << 20, fp);
	assert_true(feof(fp));
	fclose(fp);
	*len = n;
	return buf;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Certificate i: its bytes are arbitrary, the store does not parse them. */
static void
make_cert(int i, struct store_cert *c)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "not really a certificate #%d", i);

	memset(c, 0, sizeof(*c));
	c->der_len = (size_t)n;
	c->der = malloc(c->der_len);
	assert_non_null(c->der);
	memcpy(c->der, buf, c->der_len);
	assert_int_equal(
	    crypto_sha256(c->der, c->der_len, NULL, 0, c->sha256), RK_OK);
	snprintf(c->subject, sizeof(c->subject), "/O=Test/CN=Root %d", i);
	c->not_before = 1000000 + i;
	c->not_after = 2000000000 + i;
}

static void
free_certs(struct store_cert *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].der);
}

static void
make_raw(uint64_t version, uint8_t raw[64], size_t *len,
    uint8_t sha[CRYPTO_SHA256_LEN])
{
	int n = snprintf((char *)raw, 64, "RKB1 raw bundle of version %llu",
	    (unsigned long long)version);

	*len = (size_t)n;
	assert_int_equal(crypto_sha256(raw, *len, NULL, 0, sha), RK_OK);
}

/* Stores version with certificates ids[0..n) and returns the result. */
static int
add_version(
    struct store *s, uint64_t version, int factory, const int *ids, size_t n)
{
	struct store_cert certs[16];
	struct store_version v;
	uint8_t raw[64];
	size_t len, i;
	int rc;

	assert_true(n <= 16);
	memset(&v, 0, sizeof(v));
	v.version = version;
	v.issued_at = 1700000000 + (int64_t)version;
	v.expires_at = 1800000000 + (int64_t)version;
	v.stored_at = 1750000000 + (int64_t)version;
	v.factory = factory;
	make_raw(version, raw, &len, v.sha256);
	for (i = 0; i < n; i++)
		make_cert(ids[i], &certs[i]);
	rc = store_add_version(s, &v, raw, len, certs, n);
	free_certs(certs, n);
	return rc;
}

#define IDS(...)                                                               \
	(const int[]){__VA_ARGS__},                                            \
	    sizeof((const int[]){__VA_ARGS__}) / sizeof(int)

static size_t
count_certs(struct store *s)
{
	size_t n = 0;

	assert_int_equal(store_count_certs(s, &n), RK_OK);
	return n;
}

static uint64_t
active(struct store *s)
{
	uint64_t v = 99;

	assert_int_equal(store_active_version(s, &v), RK_OK);
	return v;
}

static void
test_create_open_reopen(void **state)
{
	struct fix *f = *state;
	struct store_state st;
	struct store *s;
	struct store_version *v = (void *)1;
	uint8_t zero[CRYPTO_SHA256_LEN] = {0};
	char jm[16];
	size_t n = 7;
	sqlite3 *db;

	s = open_ok(f->db, STORE_CREATE);
	assert_string_equal(store_last_error(s), "");
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_string_equal(st.channel, "");
	assert_int_equal(st.active_version, 0);
	assert_int_equal(st.highest_version, 0);
	assert_memory_equal(st.highest_sha256, zero, sizeof(zero));
	assert_int_equal(st.time_floor, 0);
	assert_int_equal(st.threshold, 0);
	assert_string_equal(st.fetch_url, "");
	assert_string_equal(st.last_check_result, "");
	assert_int_equal(st.last_check_at, 0);
	assert_int_equal(st.next_check_at, 0);
	assert_int_equal(store_list_versions(s, &v, &n), RK_OK);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(active(s), 0);
	assert_int_equal(add_version(s, 1, 1, IDS(1)), RK_OK);
	store_close(s);
	/* The last connection checkpoints and removes the WAL. */
	assert_true(exists(f->db));

	/* The file says what it is, on its own. */
	db = raw_open(f->db);
	assert_int_equal(
	    raw_int(db, "PRAGMA application_id"), STORE_APPLICATION_ID);
	assert_int_equal(
	    raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	raw_text(db, "PRAGMA journal_mode", jm, sizeof(jm));
	assert_string_equal(jm, "wal");
	sqlite3_close(db);

	s = open_ok(f->db, STORE_RW);
	assert_int_equal(store_list_versions(s, &v, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].version, 1);
	free(v);
	store_close(s);
	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_list_versions(s, &v, &n), RK_OK);
	assert_int_equal(n, 1);
	free(v);
	store_close(s);
	store_close(NULL);
}

static void
test_create_refuses_existing(void **state)
{
	struct fix *f = *state;
	struct rk_why why = {""};
	struct store *s = NULL;
	char side[160];
	uint8_t *b;
	size_t len;

	write_file(f->db, "precious", 8);
	assert_int_equal(store_open(f->db, STORE_CREATE, &s, &why), RK_EEXIST);
	assert_null(s);
	assert_non_null(strstr(why.msg, f->db));
	b = read_all(f->db, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(b, "precious", 8);
	free(b);
	assert_int_equal(unlink(f->db), 0);

	s = open_ok(f->db, STORE_CREATE);
	store_close(s);
	s = NULL;
	assert_int_equal(store_open(f->db, STORE_CREATE, &s, &why), RK_EEXIST);
	assert_null(s);
	assert_int_equal(unlink(f->db), 0);

	/* A stale WAL would be replayed into the new file. */
	snprintf(side, sizeof(side), "%s-wal", f->db);
	write_file(side, "stale", 5);
	assert_int_equal(store_open(f->db, STORE_CREATE, &s, &why), RK_EEXIST);
	assert_false(exists(f->db));
	assert_int_equal(unlink(side), 0);

	/* A folder that does not exist. */
	snprintf(side, sizeof(side), "%s/no/such.db", f->dir);
	assert_int_equal(store_open(side, STORE_CREATE, &s, &why), RK_ENOENT);
	assert_null(s);
}

static void
test_missing(void **state)
{
	struct fix *f = *state;
	struct rk_why why = {""};
	struct store *s = NULL;

	assert_int_equal(store_open(f->db, STORE_RO, &s, &why), RK_ENOENT);
	assert_int_equal(store_open(f->db, STORE_RW, &s, &why), RK_ENOENT);
	assert_null(s);
	assert_false(exists(f->db));
	assert_int_equal(store_open(f->dir, STORE_RW, &s, &why), RK_ESTORE);
	assert_int_equal(store_open(NULL, STORE_RW, &s, &why), RK_EINVAL);
	assert_int_equal(store_open("", STORE_RW, &s, &why), RK_EINVAL);
	assert_null(s);
}

static void
test_foreign_sqlite(void **state)
{
	struct fix *f = *state;
	struct rk_why why;
	struct store *s = NULL;
	char jm[16];
	sqlite3 *db;

	raw_file_exec(f->db, "CREATE TABLE notes (t TEXT); "
			     "INSERT INTO notes VALUES ('mine')");
	expect_refused(f->db, "not a rootkeeper store", "application_id");
	/* Refused before anything was changed. */
	db = raw_open(f->db);
	raw_text(db, "PRAGMA journal_mode", jm, sizeof(jm));
	assert_string_equal(jm, "delete");
	assert_int_equal(raw_int(db, "PRAGMA application_id"), 0);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master"), 1);
	/* Another program's application_id is refused too. */
	raw_exec(db, "PRAGMA application_id = 1234");
	sqlite3_close(db);
	assert_int_equal(store_open(f->db, STORE_RW, &s, &why), RK_ESTORE);
	assert_non_null(strstr(why.msg, "0x000004d2"));
}

static void
test_not_a_database(void **state)
{
	struct fix *f = *state;
	uint8_t junk[4096], *b;
	size_t i, len;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	write_file(f->db, junk, sizeof(junk));
	expect_refused(f->db, "not an SQLite database", NULL);
	b = read_all(f->db, &len);
	assert_int_equal(len, sizeof(junk));
	assert_memory_equal(b, junk, len);
	free(b);

	/* An empty file is an empty database, but not one of ours. */
	write_file(f->db, "", 0);
	expect_refused(f->db, "not a rootkeeper store", NULL);
	b = read_all(f->db, &len);
	assert_int_equal(len, 0);
	free(b);
}

static void
test_newer_schema(void **state)
{
	struct fix *f = *state;
	char sql[64];

	store_close(open_ok(f->db, STORE_CREATE));
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    STORE_SCHEMA_VERSION + 1);
	raw_file_exec(f->db, sql);
	expect_refused(f->db, "newer", NULL);
	assert_int_equal(raw_schema(f->db), STORE_SCHEMA_VERSION + 1);
}

/* An old store: a reader refuses it, the first writer migrates it. */
static struct store *
open_migrated(const char *path)
{
	struct store *s = NULL;

	assert_int_equal(store_open(path, STORE_RO, &s, NULL), RK_ESTORE);
	return open_ok(path, STORE_RW);
}

/* A v0 store by hand: ours (application_id) but with no schema yet. */
static void
make_v0(const char *path, const char *extra)
{
	sqlite3 *db = raw_open(path);
	char sql[128];

	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
	    STORE_APPLICATION_ID);
	raw_exec(db, sql);
	if (extra != NULL)
		raw_exec(db, extra);
	sqlite3_close(db);
}

static void
test_migration(void **state)
{
	struct fix *f = *state;
	struct store_state st;
	struct rk_why why = {""};
	struct store *s = NULL;
	char jm[16];
	sqlite3 *db;

	make_v0(f->db, NULL);
	/* A reader may not migrate. */
	assert_int_equal(store_open(f->db, STORE_RO, &s, &why), RK_ESTORE);
	assert_non_null(strstr(why.msg, "read-write once"));

	s = open_ok(f->db, STORE_RW);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	snprintf(st.channel, sizeof(st.channel), "migrated");
	assert_int_equal(store_set_state(s, &st), RK_OK);
	store_close(s);
	db = raw_open(f->db);
	assert_int_equal(
	    raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	raw_text(db, "PRAGMA journal_mode", jm, sizeof(jm));
	assert_string_equal(jm, "wal");
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master "
				     "WHERE type = 'table' AND name IN "
				     "('versions', 'certs', 'version_certs', "
				     "'state', 'keys', 'distrust', 'events', "
				     "'probes')"),
	    8);
	sqlite3_close(db);
	/* Run again, the v1 step would fail on its CREATE TABLEs. */
	s = open_ok(f->db, STORE_RW);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_string_equal(st.channel, "migrated");
	store_close(s);
	s = open_ok(f->db, STORE_RO);
	store_close(s);
	assert_int_equal(unlink(f->db), 0);

	/* A step that fails leaves the file as it was: one transaction. */
	s = NULL;
	make_v0(f->db, "CREATE TABLE state (x); INSERT INTO state VALUES (7)");
	assert_int_equal(store_open(f->db, STORE_RW, &s, &why), RK_ESTORE);
	assert_null(s);
	assert_non_null(strstr(why.msg, "migrating"));
	db = raw_open(f->db);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master "
				     "WHERE name = 'versions'"),
	    0);
	assert_int_equal(raw_int(db, "SELECT x FROM state"), 7);
	sqlite3_close(db);
}

static void
test_state_round_trip(void **state)
{
	struct fix *f = *state;
	struct store_state st, got;
	struct store *s;
	size_t i;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(s, 41, 0, IDS(1)), RK_OK);
	memset(&st, 0, sizeof(st));
	memset(st.channel, 'c', sizeof(st.channel) - 1);
	st.active_version = 41;
	st.highest_version = 9007199254740991ULL;
	for (i = 0; i < sizeof(st.highest_sha256); i++)
		st.highest_sha256[i] = (uint8_t)(0xa0 + i);
	st.time_floor = 1764115200; /* only rises: from 0, any later */
	st.threshold = 3;
	memset(st.fetch_url, 'u', sizeof(st.fetch_url) - 1);
	snprintf(st.etag, sizeof(st.etag), "\"abc-\xc3\xa9\"");
	snprintf(st.last_modified, sizeof(st.last_modified),
	    "Wed, 25 Nov 2026 10:00:00 GMT");
	st.last_check_at = 1764000000;
	snprintf(
	    st.last_check_result, sizeof(st.last_check_result), "rejected");
	memset(st.last_check_detail, 'd', sizeof(st.last_check_detail) - 1);
	st.next_check_at = INT64_MAX;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	store_close(s);

	s = open_ok(f->db, STORE_RO);
	memset(&got, 0x55, sizeof(got));
	assert_int_equal(store_get_state(s, &got), RK_OK);
	assert_string_equal(got.channel, st.channel);
	assert_int_equal(got.active_version, 41);
	assert_true(got.highest_version == st.highest_version);
	assert_memory_equal(
	    got.highest_sha256, st.highest_sha256, sizeof(st.highest_sha256));
	assert_int_equal(got.time_floor, 1764115200);
	assert_int_equal(got.threshold, 3);
	assert_string_equal(got.fetch_url, st.fetch_url);
	assert_string_equal(got.etag, st.etag);
	assert_string_equal(got.last_modified, st.last_modified);
	assert_int_equal(got.last_check_at, st.last_check_at);
	assert_string_equal(got.last_check_result, "rejected");
	assert_string_equal(got.last_check_detail, st.last_check_detail);
	assert_true(got.next_check_at == INT64_MAX);
	assert_int_equal(active(s), 41);
	store_close(s);

	/* Out of range or unterminated: refused, nothing changed. */
	s = open_ok(f->db, STORE_RW);
	got = st;
	got.channel[sizeof(got.channel) - 1] = 'x';
	got.threshold = 1;
	assert_int_equal(store_set_state(s, &got), RK_EINVAL);
	got = st;
	got.highest_version = (uint64_t)INT64_MAX + 1;
	assert_int_equal(store_set_state(s, &got), RK_EINVAL);
	assert_int_equal(store_get_state(s, &got), RK_OK);
	assert_int_equal(got.threshold, 3);
	assert_true(got.highest_version == st.highest_version);
	store_close(s);
}

static void
test_active_must_be_stored(void **state)
{
	struct fix *f = *state;
	struct store_state st;
	struct store *s;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	st.active_version = 5;
	assert_int_equal(store_set_state(s, &st), RK_ESTORE);
	assert_non_null(strstr(store_last_error(s), "FOREIGN KEY"));
	assert_int_equal(active(s), 0);
	/* Deferred to the commit: the state may come first. */
	assert_int_equal(store_begin(s), RK_OK);
	assert_int_equal(store_set_state(s, &st), RK_OK);
	assert_int_equal(add_version(s, 5, 0, IDS(1)), RK_OK);
	assert_int_equal(store_commit(s), RK_OK);
	assert_int_equal(active(s), 5);
	/* A commit that fails rolls back and leaves no transaction. */
	assert_int_equal(store_begin(s), RK_OK);
	st.active_version = 6;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	assert_int_equal(store_commit(s), RK_ESTORE);
	assert_int_equal(active(s), 5);
	assert_int_equal(store_begin(s), RK_OK);
	store_abort(s);
	store_abort(s); /* harmless without a transaction */
	store_close(s);
}

static void
test_keys_round_trip(void **state)
{
	struct fix *f = *state;
	struct privkey *ed = NULL, *ec = NULL;
	struct pubkey *pub[3] = {NULL, NULL, NULL}, **got = NULL;
	struct store_state st;
	struct store *s;
	const uint8_t *a, *b;
	size_t n = 9, la, lb, i;

	assert_int_equal(privkey_generate(CRYPTO_ED25519, &ed), RK_OK);
	assert_int_equal(privkey_generate(CRYPTO_ECDSA_P256, &ec), RK_OK);
	assert_int_equal(privkey_public(ed, &pub[0]), RK_OK);
	assert_int_equal(privkey_public(ec, &pub[1]), RK_OK);
	assert_int_equal(privkey_public(ed, &pub[2]), RK_OK);

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_get_keys(s, &got, &n), RK_OK);
	assert_int_equal(n, 0);
	assert_null(got);
	assert_int_equal(store_set_keys(s, pub, 2, 2), RK_OK);
	store_close(s);

	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_get_keys(s, &got, &n), RK_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pubkey_alg(got[i]), pubkey_alg(pub[i]));
		assert_memory_equal(
		    pubkey_id(got[i]), pubkey_id(pub[i]), CRYPTO_SHA256_LEN);
		a = pubkey_spki(got[i], &la);
		b = pubkey_spki(pub[i], &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		pubkey_free(got[i]);
	}
	free(got);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_int_equal(st.threshold, 2);
	store_close(s);

	s = open_ok(f->db, STORE_RW);
	/* Bad thresholds and a key pinned twice change nothing. */
	assert_int_equal(store_set_keys(s, pub, 2, 3), RK_EINVAL);
	assert_int_equal(store_set_keys(s, pub, 2, 0), RK_EINVAL);
	assert_int_equal(store_set_keys(s, pub, 3, 1), RK_EINVAL);
	assert_int_equal(store_get_keys(s, &got, &n), RK_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		pubkey_free(got[i]);
	free(got);
	/* Replacing: the new set in its order, the new threshold. */
	assert_int_equal(store_set_keys(s, &pub[1], 1, 1), RK_OK);
	assert_int_equal(store_get_keys(s, &got, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pubkey_alg(got[0]), CRYPTO_ECDSA_P256);
	assert_memory_equal(
	    pubkey_id(got[0]), pubkey_id(pub[1]), CRYPTO_SHA256_LEN);
	pubkey_free(got[0]);
	free(got);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_int_equal(st.threshold, 1);
	store_close(s);
	for (i = 0; i < 3; i++)
		pubkey_free(pub[i]);
	privkey_free(ed);
	privkey_free(ec);
}

static void
test_versions(void **state)
{
	struct fix *f = *state;
	struct store_version *list = NULL, v;
	struct store_cert *certs = NULL, c[2];
	struct store_version nv;
	struct store *s;
	uint8_t *raw = NULL, want[64], sha[CRYPTO_SHA256_LEN];
	size_t n = 0, len, wlen;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(s, 1, 1, IDS(1, 2)), RK_OK);
	assert_int_equal(count_certs(s), 2);
	/* Cert 2 is shared: stored once. */
	assert_int_equal(add_version(s, 2, 0, IDS(3, 2, 4)), RK_OK);
	assert_int_equal(count_certs(s), 4);
	assert_int_equal(add_version(s, 3, 0, NULL, 0), RK_OK);
	/* A duplicate version is refused and changes nothing. */
	assert_int_equal(add_version(s, 2, 0, IDS(9)), RK_EEXIST);
	assert_non_null(strstr(store_last_error(s), "stored already"));
	assert_int_equal(count_certs(s), 4);
	assert_int_equal(add_version(s, 0, 0, IDS(9)), RK_EINVAL);
	store_close(s);

	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_list_versions(s, &list, &n), RK_OK);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].version, 3);
	assert_int_equal(list[1].version, 2);
	assert_int_equal(list[2].version, 1);
	assert_int_equal(list[0].ncerts, 0);
	assert_int_equal(list[1].ncerts, 3);
	assert_int_equal(list[2].ncerts, 2);
	assert_int_equal(list[2].factory, 1);
	assert_int_equal(list[1].factory, 0);
	free(list);

	memset(&v, 0x55, sizeof(v));
	assert_int_equal(store_get_version(s, 2, &v), RK_OK);
	make_raw(2, want, &wlen, sha);
	assert_int_equal(v.version, 2);
	assert_memory_equal(v.sha256, sha, sizeof(sha));
	assert_int_equal(v.issued_at, 1700000002);
	assert_int_equal(v.expires_at, 1800000002);
	assert_int_equal(v.stored_at, 1750000002);
	assert_int_equal(v.activated_at, 0);
	assert_int_equal(v.ncerts, 3);
	assert_int_equal(v.factory, 0);
	assert_int_equal(v.bad, 0);
	assert_int_equal(store_get_version(s, 7, &v), RK_ENOENT);
	assert_int_equal(v.version, 2); /* untouched on failure */

	assert_int_equal(store_get_raw(s, 2, &raw, &len), RK_OK);
	assert_int_equal(len, wlen);
	assert_memory_equal(raw, want, len);
	free(raw);
	assert_int_equal(store_get_raw(s, 7, &raw, &len), RK_ENOENT);

	/* In bundle order, with everything stored for each. */
	assert_int_equal(store_version_certs(s, 2, &certs, &n), RK_OK);
	assert_int_equal(n, 3);
	make_cert(3, &c[0]);
	make_cert(2, &c[1]);
	assert_memory_equal(certs[0].sha256, c[0].sha256, CRYPTO_SHA256_LEN);
	assert_int_equal(certs[0].der_len, c[0].der_len);
	assert_memory_equal(certs[0].der, c[0].der, c[0].der_len);
	assert_string_equal(certs[0].subject, "/O=Test/CN=Root 3");
	assert_int_equal(certs[0].not_before, 1000003);
	assert_int_equal(certs[0].not_after, 2000000003);
	assert_memory_equal(certs[1].sha256, c[1].sha256, CRYPTO_SHA256_LEN);
	assert_memory_equal(certs[1].der, c[1].der, c[1].der_len);
	assert_string_equal(certs[2].subject, "/O=Test/CN=Root 4");
	store_certs_free(certs, n);
	store_certs_free(NULL, 0);
	assert_int_equal(store_version_certs(s, 3, &certs, &n), RK_OK);
	assert_int_equal(n, 0);
	store_certs_free(certs, n);
	assert_int_equal(store_version_certs(s, 7, &certs, &n), RK_ENOENT);
	store_close(s);

	/* The caller's digests, computed once, are taken as they are. */
	s = open_ok(f->db, STORE_RW);
	memset(&nv, 0, sizeof(nv));
	nv.version = 10;
	make_raw(10, want, &wlen, nv.sha256);
	assert_int_equal(store_add_version(s, &nv, want, wlen, c, 2), RK_OK);
	assert_int_equal(count_certs(s), 4);
	free_certs(c, 2);
	store_close(s);
}

static void
test_activate_mark_bad(void **state)
{
	struct fix *f = *state;
	struct store_version v;
	struct store_state st;
	struct store *s;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(s, 1, 1, IDS(1)), RK_OK);
	assert_int_equal(add_version(s, 2, 0, IDS(2)), RK_OK);
	assert_int_equal(store_activate(s, 2, 1760000000), RK_OK);
	assert_int_equal(active(s), 2);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_int_equal(st.active_version, 2);
	assert_int_equal(store_get_version(s, 2, &v), RK_OK);
	assert_int_equal(v.activated_at, 1760000000);
	assert_int_equal(store_activate(s, 3, 1760000001), RK_ENOENT);
	assert_int_equal(active(s), 2);

	assert_int_equal(store_mark_bad(s, 2), RK_OK);
	assert_int_equal(store_activate(s, 1, 1760000002), RK_OK);
	assert_int_equal(active(s), 1);
	assert_int_equal(store_get_version(s, 2, &v), RK_OK);
	assert_int_equal(v.bad, 1);
	assert_int_equal(v.activated_at, 1760000000);
	assert_int_equal(store_get_version(s, 1, &v), RK_OK);
	assert_int_equal(v.bad, 0);
	assert_int_equal(v.activated_at, 1760000002);
	assert_int_equal(store_mark_bad(s, 9), RK_ENOENT);
	store_close(s);
}

static void
test_prune(void **state)
{
	struct fix *f = *state;
	static const uint64_t left[] = {8, 7, 3, 1};
	struct store_version *list = NULL;
	struct store_cert *certs = NULL;
	struct store *s;
	size_t n = 0, gone = 99, i;
	uint8_t *raw = NULL;
	uint64_t ver;

	s = open_ok(f->db, STORE_CREATE);
	/* Cert 100 in every version; cert ver+10 in ver only. */
	assert_int_equal(add_version(s, 1, 1, IDS(100, 11)), RK_OK);
	for (ver = 2; ver <= 8; ver++) {
		int ids[2] = {100, (int)ver + 10};

		assert_int_equal(add_version(s, ver, 0, ids, 2), RK_OK);
	}
	assert_int_equal(count_certs(s), 9);
	assert_int_equal(store_activate(s, 3, 1), RK_OK);

	assert_int_equal(store_prune(s, 2, &gone), RK_OK);
	assert_int_equal(gone, 4); /* 2, 4, 5, 6 */
	assert_int_equal(store_list_versions(s, &list, &n), RK_OK);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++)
		assert_int_equal(list[i].version, left[i]);
	free(list);
	/* Certs 12, 14, 15, 16 went with their versions. */
	assert_int_equal(count_certs(s), 5);
	for (i = 0; i < 4; i++) {
		assert_int_equal(
		    store_version_certs(s, left[i], &certs, &n), RK_OK);
		assert_int_equal(n, 2);
		assert_true(certs[0].der_len > 0);
		assert_true(certs[1].der_len > 0);
		store_certs_free(certs, n);
	}
	assert_int_equal(store_get_raw(s, 2, &raw, &n), RK_ENOENT);

	assert_int_equal(store_prune(s, 2, &gone), RK_OK);
	assert_int_equal(gone, 0);
	/* keep 0: only the factory and the active version stay. */
	assert_int_equal(store_prune(s, 0, NULL), RK_OK);
	assert_int_equal(store_list_versions(s, &list, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].version, 3);
	assert_int_equal(list[1].version, 1);
	free(list);
	assert_int_equal(count_certs(s), 3); /* 100, 11, 13 */
	store_close(s);
}

static void
test_distrust_merge(void **state)
{
	struct fix *f = *state;
	struct distrust d[4];
	struct store_distrust *got = NULL;
	struct store *s;
	char longr[400];
	size_t n = 0, i;

	memset(d, 0, sizeof(d));
	for (i = 0; i < 4; i++)
		memset(d[i].sha256, (int)(0x10 * (i + 1)), CRYPTO_SHA256_LEN);
	/* A: partial 2024; B: full; C: partial 2025; D: partial 2020. */
	d[0].has_after = 1;
	d[0].after = 1733011199;
	d[0].reason = "entrust";
	d[1].reason = NULL;
	d[2].has_after = 1;
	d[2].after = 1750000000;
	d[2].reason = "c first";
	d[3].has_after = 1;
	d[3].after = 1600000000;
	d[3].reason = "d";

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_add_distrust(s, d, 4, 10), RK_OK);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_int_equal(n, 4);
	assert_int_equal(got[0].has_after, 1);
	assert_int_equal(got[0].after, 1733011199);
	assert_string_equal(got[0].reason, "entrust");
	assert_int_equal(got[0].since_version, 10);
	assert_int_equal(got[1].has_after, 0);
	assert_string_equal(got[1].reason, "");
	free(got);

	/*
	 * Version 11 says: A full, B partial, C a later date, D an earlier
	 * one (no reason: the old one stays).  The entry of the highest
	 * version is in force, looser or not.
	 */
	d[0].has_after = 0;
	d[0].reason = "now fully";
	d[1].has_after = 1;
	d[1].after = 1;
	d[1].reason = "looser";
	d[2].after = 1760000000;
	d[2].reason = "c later";
	d[3].after = 1500000000;
	d[3].reason = "";
	assert_int_equal(store_add_distrust(s, d, 4, 11), RK_OK);
	/* A version that lists nothing removes nothing. */
	assert_int_equal(store_add_distrust(s, NULL, 0, 12), RK_OK);
	store_close(s);

	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(got[0].sha256, d[0].sha256, CRYPTO_SHA256_LEN);
	assert_int_equal(got[0].has_after, 0);
	assert_string_equal(got[0].reason, "now fully");
	assert_int_equal(got[0].since_version, 11);
	assert_int_equal(got[1].has_after, 1);
	assert_int_equal(got[1].after, 1);
	assert_string_equal(got[1].reason, "looser");
	assert_int_equal(got[1].since_version, 11);
	assert_int_equal(got[2].has_after, 1);
	assert_int_equal(got[2].after, 1760000000);
	assert_string_equal(got[2].reason, "c later");
	assert_int_equal(got[2].since_version, 11);
	assert_int_equal(got[3].has_after, 1);
	assert_int_equal(got[3].after, 1500000000);
	assert_string_equal(got[3].reason, "d");
	assert_int_equal(got[3].since_version, 11);
	assert_false(got[0].lifted || got[1].lifted);
	free(got);
	store_close(s);

	/*
	 * A lower version changes nothing in force; a lift ends an entry and
	 * a later entry starts it again; a lift of what is unknown leaves no
	 * trace.
	 */
	s = open_ok(f->db, STORE_RW);
	d[0].has_after = 1;
	d[0].after = 5;
	assert_int_equal(store_add_distrust(s, d, 1, 9), RK_OK);
	d[0].has_after = 0;
	d[0].lift = 1;
	d[0].reason = "by mistake";
	assert_int_equal(store_add_distrust(s, d, 1, 12), RK_OK);
	memset(d[3].sha256, 0x99, CRYPTO_SHA256_LEN);
	d[3].has_after = 0;
	d[3].lift = 1;
	assert_int_equal(store_add_distrust(s, &d[3], 1, 12), RK_OK);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_int_equal(n, 4);
	assert_true(got[0].lifted);
	assert_int_equal(got[0].has_after, 0);
	assert_string_equal(got[0].reason, "by mistake");
	assert_int_equal(got[0].since_version, 12);
	free(got);
	d[0].lift = 0;
	d[0].has_after = 1;
	d[0].after = 1700000000;
	d[0].reason = NULL;
	assert_int_equal(store_add_distrust(s, d, 1, 13), RK_OK);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_false(got[0].lifted);
	assert_int_equal(got[0].after, 1700000000);
	assert_int_equal(got[0].since_version, 13);
	free(got);
	d[0].lift = 1;
	assert_int_equal(store_add_distrust(s, d, 1, 14), RK_EINVAL);
	store_close(s);

	/*
	 * The same fingerprint twice in one list (a manifest refuses that):
	 * the later entry wins; it gives no reason, so the first one's stays.
	 */
	s = open_ok(f->db, STORE_RW);
	memset(d, 0, sizeof(d));
	memset(d[0].sha256, 0x77, CRYPTO_SHA256_LEN);
	memset(d[1].sha256, 0x77, CRYPTO_SHA256_LEN);
	d[0].has_after = 1;
	d[0].after = 1000;
	d[1].has_after = 1;
	d[1].after = 2000;
	/* Long reasons are cut at a character boundary (2-byte "é"). */
	for (i = 0; i + 2 <= sizeof(longr) - 1; i += 2)
		memcpy(&longr[i], "\xc3\xa9", 2);
	longr[i] = '\0';
	d[0].reason = longr;
	assert_int_equal(store_add_distrust(s, d, 2, 13), RK_OK);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_int_equal(n, 5);
	assert_int_equal(got[4].after, 2000);
	assert_int_equal(strlen(got[4].reason), 254);
	assert_memory_equal(got[4].reason, longr, 254);
	free(got);
	store_close(s);
}

static void
test_events(void **state)
{
	struct fix *f = *state;
	struct store_event *ev = NULL;
	struct store *s;
	char detail[32], longd[700];
	size_t n = 0, i;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_begin(s), RK_OK);
	for (i = 0; i < STORE_MAX_EVENTS + 5; i++) {
		snprintf(detail, sizeof(detail), "event %zu", i);
		assert_int_equal(store_add_event(s, 1700000000 + (int64_t)i,
				     "check", i, detail),
		    RK_OK);
	}
	assert_int_equal(store_commit(s), RK_OK);
	assert_int_equal(store_list_events(s, 5000, &ev, &n), RK_OK);
	assert_int_equal(n, STORE_MAX_EVENTS);
	assert_string_equal(ev[0].detail, "event 1004");
	assert_int_equal(ev[0].version, 1004);
	assert_int_equal(ev[0].at, 1700001004);
	assert_string_equal(ev[0].kind, "check");
	assert_string_equal(ev[n - 1].detail, "event 5");
	for (i = 1; i < n; i++)
		assert_true(ev[i].id < ev[i - 1].id);
	free(ev);
	assert_int_equal(store_list_events(s, 10, &ev, &n), RK_OK);
	assert_int_equal(n, 10);
	assert_string_equal(ev[9].detail, "event 995");
	free(ev);
	assert_int_equal(store_list_events(s, 0, &ev, &n), RK_OK);
	assert_int_equal(n, 0);
	assert_null(ev);

	/* Kinds must fit; details are cut at a character boundary. */
	assert_int_equal(store_add_event(s, 1, "", 0, NULL), RK_EINVAL);
	assert_int_equal(
	    store_add_event(s, 1, "abcdefghijklmnopqrstuvwx", 0, NULL),
	    RK_EINVAL);
	assert_int_equal(
	    store_add_event(s, 1, "abcdefghijklmnopqrstuvw", 0, NULL), RK_OK);
	for (i = 0; i + 2 <= sizeof(longd) - 1; i += 2)
		memcpy(&longd[i], "\xc3\xa9", 2);
	longd[i] = '\0';
	assert_int_equal(store_add_event(s, 2, "error", 0, longd), RK_OK);
	assert_int_equal(store_list_events(s, 2, &ev, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_int_equal(strlen(ev[0].detail), 510);
	assert_memory_equal(ev[0].detail, longd, 510);
	assert_string_equal(ev[1].kind, "abcdefghijklmnopqrstuvw");
	assert_string_equal(ev[1].detail, "");
	free(ev);
	store_close(s);

	/* Ids keep increasing across reopenings and trimming. */
	s = open_ok(f->db, STORE_RW);
	assert_int_equal(store_add_event(s, 3, "init", 0, "x"), RK_OK);
	assert_int_equal(
	    store_list_events(s, STORE_MAX_EVENTS + 10, &ev, &n), RK_OK);
	assert_int_equal(n, STORE_MAX_EVENTS);
	assert_int_equal(ev[0].id, STORE_MAX_EVENTS + 5 + 2 + 1);
	free(ev);
	store_close(s);
}

static void
test_abort_rolls_back(void **state)
{
	struct fix *f = *state;
	struct store_state st;
	struct store_event *ev = NULL;
	struct store_version v;
	struct store *s;
	size_t n = 0;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_begin(s), RK_OK);
	/* One transaction at a time. */
	assert_int_equal(store_begin(s), RK_ESTORE);
	assert_int_equal(add_version(s, 1, 0, IDS(1)), RK_OK);
	assert_int_equal(store_activate(s, 1, 5), RK_OK);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	snprintf(st.channel, sizeof(st.channel), "aborted");
	assert_int_equal(store_set_state(s, &st), RK_OK);
	assert_int_equal(store_add_event(s, 1, "updated", 1, "x"), RK_OK);
	assert_int_equal(active(s), 1); /* visible inside */
	store_abort(s);
	assert_int_equal(active(s), 0);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_string_equal(st.channel, "");
	assert_int_equal(store_get_version(s, 1, &v), RK_ENOENT);
	assert_int_equal(count_certs(s), 0);
	assert_int_equal(store_list_events(s, 10, &ev, &n), RK_OK);
	assert_int_equal(n, 0);

	/*
	 * Inside a transaction a failing write undoes only itself: version
	 * 2's certificates do not linger after its duplicate is refused.
	 */
	assert_int_equal(store_begin(s), RK_OK);
	assert_int_equal(add_version(s, 2, 0, IDS(1)), RK_OK);
	assert_int_equal(add_version(s, 2, 0, IDS(7, 8)), RK_EEXIST);
	assert_int_equal(store_commit(s), RK_OK);
	assert_int_equal(count_certs(s), 1);
	assert_int_equal(store_commit(s), RK_ESTORE); /* none open */
	store_close(s);
	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_get_version(s, 2, &v), RK_OK);
	assert_int_equal(v.ncerts, 1);
	store_close(s);
}

static void
test_ro_refuses_writes(void **state)
{
	struct fix *f = *state;
	struct store_state st, after;
	struct store_version v;
	struct distrust d;
	struct pubkey *none[1] = {NULL};
	struct store *s;
	uint8_t raw[64];
	size_t len, n = 9;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(s, 1, 0, IDS(1)), RK_OK);
	store_close(s);

	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	st.time_floor = 77;
	assert_int_equal(store_set_state(s, &st), RK_EINVAL);
	assert_non_null(strstr(store_last_error(s), "read-only"));
	assert_int_equal(store_begin(s), RK_EINVAL);
	assert_int_equal(store_commit(s), RK_EINVAL);
	store_abort(s);
	assert_int_equal(store_set_keys(s, none, 0, 0), RK_EINVAL);
	memset(&v, 0, sizeof(v));
	v.version = 2;
	make_raw(2, raw, &len, v.sha256);
	assert_int_equal(
	    store_add_version(s, &v, raw, len, NULL, 0), RK_EINVAL);
	assert_int_equal(store_activate(s, 1, 1), RK_EINVAL);
	assert_int_equal(store_mark_bad(s, 1), RK_EINVAL);
	assert_int_equal(store_prune(s, 0, &n), RK_EINVAL);
	assert_int_equal(n, 9);
	memset(&d, 0, sizeof(d));
	assert_int_equal(store_add_distrust(s, &d, 1, 1), RK_EINVAL);
	assert_int_equal(store_add_event(s, 1, "check", 0, ""), RK_EINVAL);
	store_close(s);

	s = open_ok(f->db, STORE_RW);
	assert_int_equal(store_get_state(s, &after), RK_OK);
	assert_int_equal(after.time_floor, 0);
	assert_int_equal(active(s), 0);
	assert_int_equal(store_get_version(s, 2, &v), RK_ENOENT);
	store_close(s);
}

static void
test_reader_does_not_block_writer(void **state)
{
	struct fix *f = *state;
	struct store_version *list = NULL;
	struct store *w, *r;
	sqlite3 *raw = NULL;
	int64_t t0, t1;
	size_t n = 0;
	char uri[200];

	w = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(w, 1, 1, IDS(1)), RK_OK);
	r = open_ok(f->db, STORE_RO);
	assert_int_equal(store_list_versions(r, &list, &n), RK_OK);
	assert_int_equal(n, 1);
	free(list);

	/* A reader in the middle of a read transaction, holding a snapshot. */
	snprintf(uri, sizeof(uri), "file:%s?mode=ro", f->db);
	assert_int_equal(sqlite3_open_v2(uri, &raw,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL),
	    SQLITE_OK);
	raw_exec(raw, "BEGIN");
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM versions"), 1);

	t0 = now_ms();
	assert_int_equal(store_begin(w), RK_OK);
	assert_int_equal(add_version(w, 2, 0, IDS(2)), RK_OK);
	assert_int_equal(store_activate(w, 2, 9), RK_OK);
	assert_int_equal(store_commit(w), RK_OK);
	assert_int_equal(add_version(w, 3, 0, IDS(3)), RK_OK);
	t1 = now_ms();
	/* The busy timeout is 5 s: a wait for the reader would show. */
	assert_true(t1 - t0 < 2500);

	/* The snapshot is unchanged; other readers see the commit. */
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM versions"), 1);
	assert_int_equal(store_list_versions(r, &list, &n), RK_OK);
	assert_int_equal(n, 3);
	assert_int_equal(list[0].version, 3);
	free(list);
	assert_int_equal(active(r), 2);
	raw_exec(raw, "COMMIT");
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM versions"), 3);
	sqlite3_close(raw);
	store_close(r);
	store_close(w);
}

static void
test_writer_waits_for_writer(void **state)
{
	struct fix *f = *state;
	struct store_event *ev = NULL;
	struct store *s;
	int p[2], status;
	int64_t t0, t1;
	size_t n = 0;
	pid_t pid;
	char c;

	store_close(open_ok(f->db, STORE_CREATE));
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *cs = NULL;
		int ok;

		close(p[0]);
		ok = store_open(f->db, STORE_RW, &cs, NULL) == RK_OK &&
		     store_begin(cs) == RK_OK &&
		     store_add_event(cs, 1, "check", 0, "child") == RK_OK;
		if (!ok || write(p[1], "x", 1) != 1)
			_exit(1);
		usleep(1000 * 1000);
		ok = store_commit(cs) == RK_OK;
		store_close(cs);
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	/* Opening a current store takes no lock; beginning waits. */
	t0 = now_ms();
	s = open_ok(f->db, STORE_RW);
	assert_true(now_ms() - t0 < 400);
	t0 = now_ms();
	assert_int_equal(store_begin(s), RK_OK);
	t1 = now_ms();
	assert_true(t1 - t0 >= 500);
	assert_true(t1 - t0 < 4000);
	assert_int_equal(store_add_event(s, 2, "check", 0, "parent"), RK_OK);
	assert_int_equal(store_commit(s), RK_OK);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(store_list_events(s, 10, &ev, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].detail, "parent");
	assert_string_equal(ev[1].detail, "child");
	free(ev);
	store_close(s);
}

/*
 * A writer waits a bounded time for another, then gives up with a reason
 * that names the store and the other writer.
 */
static void
test_writer_gives_up(void **state)
{
	struct fix *f = *state;
	struct store *s1, *s2;

	store_close(open_ok(f->db, STORE_CREATE));
	s1 = open_ok(f->db, STORE_RW);
	s2 = open_ok(f->db, STORE_RW);
	assert_int_equal(store_begin(s1), RK_OK);
	store_set_wait(s2, 1);
	assert_int_equal(store_begin(s2), RK_EBUSY);
	assert_non_null(strstr(store_last_error(s2), f->db));
	assert_non_null(
	    strstr(store_last_error(s2), "another writer holds the store"));
	/* A write of its own waits and gives up the same way. */
	assert_int_equal(store_add_event(s2, 1, "check", 0, "x"), RK_EBUSY);
	store_abort(s1);
	assert_int_equal(store_begin(s2), RK_OK);
	assert_int_equal(store_commit(s2), RK_OK);
	store_close(s1);
	store_close(s2);
}

/*
 * The highest version and the time floor only ever rise: the store
 * itself refuses a state that lowers either, whatever the caller read.
 */
static void
test_state_only_rises(void **state)
{
	struct fix *f = *state;
	struct store_state st, got;
	struct store *s;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	st.highest_version = 9;
	st.time_floor = 1000;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	/* A stale writer's lower values: refused, nothing changed. */
	st.highest_version = 8;
	snprintf(st.last_check_result, sizeof(st.last_check_result), "x");
	assert_int_equal(store_set_state(s, &st), RK_ESTORE);
	assert_non_null(strstr(store_last_error(s), "never go down"));
	st.highest_version = 9;
	st.time_floor = 999;
	assert_int_equal(store_set_state(s, &st), RK_ESTORE);
	/* Inside a transaction too; the rest of it is unharmed. */
	assert_int_equal(store_begin(s), RK_OK);
	st.time_floor = 1;
	assert_int_equal(store_set_state(s, &st), RK_ESTORE);
	assert_int_equal(store_add_event(s, 1, "check", 0, "kept"), RK_OK);
	assert_int_equal(store_commit(s), RK_OK);
	assert_int_equal(store_get_state(s, &got), RK_OK);
	assert_true(got.highest_version == 9);
	assert_int_equal(got.time_floor, 1000);
	assert_string_equal(got.last_check_result, "");
	/* Equal and higher are fine. */
	st.time_floor = 1000;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	st.highest_version = 10;
	st.time_floor = 2000;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	assert_int_equal(store_get_state(s, &got), RK_OK);
	assert_true(got.highest_version == 10);
	assert_int_equal(got.time_floor, 2000);
	store_close(s);
}

/* One line from fd within 10 s (the child may hang; the suite must not). */
static void
read_line(int fd, char *buf, size_t size)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size) {
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		r = read(fd, &buf[n], 1);
		assert_int_equal(r, 1);
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
}

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	uint8_t buf[65536];
	size_t r;
	FILE *in = fopen(from, "rb"), *out;
	int fd;

	assert_non_null(in);
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	out = fdopen(fd, "wb");
	assert_non_null(out);
	while ((r = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, r, out), r);
	assert_true(feof(in));
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, mode), 0);
}

/*
 * Runs the reader on db ("wait" mode), as nobody through setpriv when root;
 * returns only when exec fails.  A cross build's reader goes through the
 * emulator the suite itself runs under: RK_RUN_PREFIX, its words separated
 * by blanks (tests/CMakeLists.txt).
 */
static void
exec_reader(const char *reader, const char *db, int root)
{
	static char words[512];
	char *argv[32], *p;
	const char *pre = getenv("RK_RUN_PREFIX");
	size_t n = 0;

	if (root) {
		argv[n++] = "setpriv";
		argv[n++] = "--reuid=nobody";
		argv[n++] = "--regid=nogroup";
		argv[n++] = "--clear-groups";
	}
	if (pre != NULL && strlen(pre) < sizeof(words)) {
		memcpy(words, pre, strlen(pre) + 1);
		for (p = words; *p != '\0' && n < 28;) {
			while (*p == ' ')
				*p++ = '\0';
			if (*p == '\0')
				break;
			argv[n++] = p;
			while (*p != '\0' && *p != ' ')
				p++;
		}
	}
	argv[n++] = (char *)reader;
	argv[n++] = (char *)db;
	argv[n++] = "wait";
	argv[n] = NULL;
	execvp(argv[0], argv);
}

/*
 * The reader runs as a user with no write access to the folder or the
 * file: nobody when we are root (root ignores permissions), else this
 * user with the folder and the file made read-only.  It must read through
 * the store's fallback (SQLite's own read-only open must fail there, or
 * the test proves nothing) and see a commit made while it is open.
 */
static void
test_ro_unprivileged(void **state)
{
	struct fix *f = *state;
	struct store_state st;
	struct store *s;
	char reader[160], line[512], wal[160];
	int in[2], out[2], status, root = geteuid() == 0;
	pid_t pid;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(s, 1, 1, IDS(1)), RK_OK);
	assert_int_equal(store_activate(s, 1, 1), RK_OK);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	snprintf(st.channel, sizeof(st.channel), "ro-test");
	st.highest_version = 1;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	store_close(s);
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	assert_false(exists(wal));

	/* A copy nobody can run, whatever the build folder's mode. */
	snprintf(reader, sizeof(reader), "%s/store_reader", f->dir);
	copy_file(STORE_READER, reader, 0755);
	assert_int_equal(chmod(f->dir, root ? 0755 : 0555), 0);
	assert_int_equal(chmod(f->db, root ? 0644 : 0444), 0);
	if (!root)
		assert_int_not_equal(access(f->dir, W_OK), 0);

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		exec_reader(reader, f->db, root);
		dprintf(2, "exec: %s\n", strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);

	read_line(out[0], line, sizeof(line));
	print_message("reader: %s\n", line);
	/* SQLite alone cannot read here: the fallback is what is tested. */
	assert_int_equal(strncmp(line, "plain_ro=", 9), 0);
	assert_string_not_equal(line, "plain_ro=0");
	read_line(out[0], line, sizeof(line));
	print_message("reader: %s\n", line);
	assert_int_equal(strncmp(line, "open=0 ", 7), 0);
	read_line(out[0], line, sizeof(line));
	assert_string_equal(
	    line, "state active=1 highest=1 channel=ro-test versions=1");
	read_line(out[0], line, sizeof(line));
	print_message("reader: %s\n", line);
	assert_int_equal(strncmp(line, "write=", 6), 0);
	assert_int_not_equal(strncmp(line, "write=0 ", 8), 0);

	/* A writer (root, or the owner given write access back) commits. */
	if (!root) {
		assert_int_equal(chmod(f->dir, 0755), 0);
		assert_int_equal(chmod(f->db, 0644), 0);
	}
	s = open_ok(f->db, STORE_RW);
	assert_int_equal(add_version(s, 2, 0, IDS(2)), RK_OK);
	assert_int_equal(store_activate(s, 2, 2), RK_OK);
	store_close(s);
	if (!root) {
		assert_int_equal(chmod(f->dir, 0555), 0);
		assert_int_equal(chmod(f->db, 0444), 0);
	}
	assert_int_equal(write(in[1], "go\n", 3), 3);
	close(in[1]);
	read_line(out[0], line, sizeof(line));
	assert_string_equal(
	    line, "state active=2 highest=1 channel=ro-test versions=2");
	close(out[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The reader left nothing behind (it could not have). */
	assert_false(exists(wal));
}

/*
 * A store of schema 1 (as the first release wrote it: no probes table)
 * is brought to the current schema in place, its data kept.
 */
static void
test_migration_v1_to_v2(void **state)
{
	struct fix *f = *state;
	struct store_state st;
	struct store_probe p, *ps = NULL;
	struct store *s;
	size_t n = 0;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	snprintf(st.channel, sizeof(st.channel), "from-v1");
	assert_int_equal(store_set_state(s, &st), RK_OK);
	store_close(s);
	raw_file_exec(f->db,
	    "DROP TABLE probes; DROP TRIGGER "
	    "state_only_rises; " V4_COLUMNS_DROPPED "PRAGMA user_version = 1");

	/* A reader cannot migrate; the first writer does. */
	s = open_migrated(f->db);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_string_equal(st.channel, "from-v1");
	memset(&p, 0, sizeof(p));
	snprintf(p.target, sizeof(p.target), "hub.example:8883");
	assert_int_equal(store_set_probe(s, &p), RK_OK);
	assert_int_equal(store_list_probes(s, &ps, &n), RK_OK);
	assert_int_equal(n, 1);
	free(ps);
	store_close(s);
	assert_int_equal(raw_schema(f->db), STORE_SCHEMA_VERSION);
}

/* A version 3 store: distrust never lifted, nothing deferred. */
static void
test_migration_v3_to_v4(void **state)
{
	struct fix *f = *state;
	struct store_distrust *got = NULL;
	struct store_state st;
	struct distrust d;
	struct store *s;
	size_t n = 0;

	s = open_ok(f->db, STORE_CREATE);
	memset(&d, 0, sizeof(d));
	memset(d.sha256, 0x42, sizeof(d.sha256));
	assert_int_equal(store_add_distrust(s, &d, 1, 3), RK_OK);
	store_close(s);
	raw_file_exec(f->db, V4_COLUMNS_DROPPED "PRAGMA user_version = 3");

	s = open_migrated(f->db);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_int_equal(st.deferred_version, 0);
	assert_int_equal(st.deferred_percent, 0);
	st.deferred_version = 7;
	st.deferred_percent = 10;
	assert_int_equal(store_set_state(s, &st), RK_OK);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_false(got[0].lifted);
	free(got);
	/* The known entry can be lifted now. */
	d.lift = 1;
	assert_int_equal(store_add_distrust(s, &d, 1, 4), RK_OK);
	assert_int_equal(store_get_distrust(s, &got, &n), RK_OK);
	assert_true(got[0].lifted);
	assert_int_equal(got[0].since_version, 4);
	free(got);
	store_close(s);
	s = open_ok(f->db, STORE_RO);
	assert_int_equal(store_get_state(s, &st), RK_OK);
	assert_int_equal(st.deferred_version, 7);
	assert_int_equal(st.deferred_percent, 10);
	store_close(s);
	assert_int_equal(raw_schema(f->db), STORE_SCHEMA_VERSION);
}

static void
test_probes(void **state)
{
	struct fix *f = *state;
	struct store_probe p, q, *ps = NULL;
	struct store *s = open_ok(f->db, STORE_CREATE), *ro;
	size_t n = 0;

	memset(&p, 0, sizeof(p));
	snprintf(p.target, sizeof(p.target), "b.example:8883");
	p.at = 1764115200;
	p.result = 0;
	snprintf(p.root_subject, sizeof(p.root_subject), "/CN=Root A");
	memset(p.root_sha256, 0xab, sizeof(p.root_sha256));
	p.root_not_after = 1800000000;
	p.alternative = 1;
	snprintf(p.detail, sizeof(p.detail), "validated");
	assert_int_equal(store_set_probe(s, &p), RK_OK);
	q = p;
	snprintf(q.target, sizeof(q.target), "a.example:443");
	q.result = 2;
	q.alternative = 0;
	assert_int_equal(store_set_probe(s, &q), RK_OK);
	/* The same target again replaces its row. */
	p.at++;
	assert_int_equal(store_set_probe(s, &p), RK_OK);
	q.result = 3;
	assert_int_equal(store_set_probe(s, &q), RK_EINVAL);

	ro = open_ok(f->db, STORE_RO);
	assert_int_equal(store_list_probes(ro, &ps, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ps[0].target, "a.example:443");
	assert_int_equal(ps[0].result, 2);
	assert_string_equal(ps[1].target, "b.example:8883");
	assert_int_equal(ps[1].at, p.at);
	assert_string_equal(ps[1].root_subject, "/CN=Root A");
	assert_memory_equal(ps[1].root_sha256, p.root_sha256, 32);
	assert_int_equal(ps[1].root_not_after, 1800000000);
	assert_int_equal(ps[1].alternative, 1);
	assert_string_equal(ps[1].detail, "validated");
	assert_int_equal(store_set_probe(ro, &p), RK_EINVAL);
	free(ps);
	store_close(ro);
	store_close(s);
}

/* What store_each_cert() gave: the certificates' ids, in order. */
struct walk {
	int ids[8];
	size_t n;
	size_t stop_at; /* returns RK_EEXIST at this call (1-based); 0: never */
};

static int
walk_cert(void *arg, const uint8_t sha[CRYPTO_SHA256_LEN], const uint8_t *der,
    size_t der_len)
{
	struct walk *w = arg;
	struct store_cert c;
	char text[64];
	int id;

	assert_true(w->n < 8);
	assert_true(der_len < sizeof(text));
	memcpy(text, der, der_len);
	text[der_len] = '\0';
	assert_int_equal(sscanf(text, "not really a certificate #%d", &id), 1);
	make_cert(id, &c);
	assert_int_equal(der_len, c.der_len);
	assert_memory_equal(der, c.der, der_len);
	assert_memory_equal(sha, c.sha256, CRYPTO_SHA256_LEN);
	free(c.der);
	w->ids[w->n++] = id;
	return w->n == w->stop_at ? RK_EEXIST : RK_OK;
}

static void
test_each_cert_and_activate_added(void **state)
{
	struct fix *f = *state;
	struct store_version v;
	struct walk w;
	struct store *s;

	s = open_ok(f->db, STORE_CREATE);
	assert_int_equal(add_version(s, 1, 1, IDS(3, 1, 2)), RK_OK);
	assert_int_equal(add_version(s, 2, 0, NULL, 0), RK_OK);

	/* One at a time, in bundle order, with their digests. */
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_each_cert(s, 1, walk_cert, &w), RK_OK);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.ids[0], 3);
	assert_int_equal(w.ids[1], 1);
	assert_int_equal(w.ids[2], 2);
	/* The callback's rc stops the walk and comes back. */
	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(store_each_cert(s, 1, walk_cert, &w), RK_EEXIST);
	assert_int_equal(w.n, 2);
	/* No certificates is not "not stored". */
	memset(&w, 0, sizeof(w));
	assert_int_equal(store_each_cert(s, 2, walk_cert, &w), RK_OK);
	assert_int_equal(w.n, 0);
	assert_int_equal(store_each_cert(s, 7, walk_cert, &w), RK_ENOENT);

	/*
	 * Only a version stored with that activated_at is activated so;
	 * add_version() stores 0.
	 */
	assert_int_equal(store_activate_added(s, 1, 1750000009), RK_EINVAL);
	assert_int_equal(active(s), 0);
	assert_int_equal(store_activate_added(s, 7, 0), RK_ENOENT);
	assert_int_equal(store_activate_added(s, 1, 0), RK_OK);
	assert_int_equal(active(s), 1);
	assert_int_equal(store_get_version(s, 1, &v), RK_OK);
	assert_int_equal(v.activated_at, 0);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_create_open_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_create_refuses_existing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_foreign_sqlite, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_not_a_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_migration_v1_to_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_migration_v3_to_v4, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_state_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_active_must_be_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_keys_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_activate_mark_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_distrust_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_abort_rolls_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_ro_refuses_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_reader_does_not_block_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_writer_waits_for_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_ro_unprivileged, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_writer_gives_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_state_only_rises, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_each_cert_and_activate_added, setup, teardown),
	};

	/* A child that dies early must fail a test, not kill the suite. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
