/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The poll file an unchanged poll leaves beside the store
 * (agent/pollstate.c), against a temp folder: a record written is read
 * back the same, without a temp file left behind and readable by others;
 * a missing file is RK_ENOENT; a truncated, extended or foreign file is
 * RK_EFORMAT, never a record; a file of version 1 (before the store
 * record) still reads; the export it vouches for is the file it saw and
 * no other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "pollstate.h"

struct tmp {
	char dir[64];
	char db[96];
};

static int
setup(void **state)
{
	static struct tmp t;

	snprintf(t.dir, sizeof(t.dir), "/tmp/rk-pollstate.XXXXXX");
	if (mkdtemp(t.dir) == NULL)
		return -1;
	snprintf(t.db, sizeof(t.db), "%s/store.db", t.dir);
	*state = &t;
	return 0;
}

static int
teardown(void **state)
{
	struct tmp *t = *state;
	char p[128];

	pollstate_remove(t->db);
	snprintf(p, sizeof(p), "%s-poll.tmp", t->db);
	(void)unlink(p);
	return rmdir(t->dir);
}

static void
sample(struct pollstate *ps)
{
	size_t i;

	memset(ps, 0, sizeof(*ps));
	ps->last_check_at = 1796000000;
	ps->next_check_at = 1796021600;
	snprintf(ps->detail, sizeof(ps->detail), "not modified at %s",
	    "http://127.0.0.1/x/latest.rkb");
	ps->export_version = 42;
	ps->export_size = 151677;
	ps->export_dev = 2049;
	ps->export_ino = 1u << 20;
	ps->export_mtime_ns = -5; /* signed fields keep their sign */
	for (i = 0; i < CRYPTO_SHA256_LEN; i++)
		ps->export_bundle_sha256[i] = (uint8_t)i;
	ps->store.valid = 1;
	ps->store.db = (struct pollstate_file){2049, 77, 589824, -1, 7};
	ps->store.wal = (struct pollstate_file){2049, 78, 4152, 5, 6};
	ps->store.active_version = 42;
	ps->store.highest_version = 43;
	snprintf(ps->store.channel, sizeof(ps->store.channel), "stable");
	snprintf(ps->store.fetch_url, sizeof(ps->store.fetch_url),
	    "http://127.0.0.1/x/latest.rkb");
	snprintf(ps->store.etag, sizeof(ps->store.etag), "\"6b0c-2507d\"");
	snprintf(ps->store.last_modified, sizeof(ps->store.last_modified),
	    "Sat, 01 Jan 2000 00:00:00 GMT");
}

static void
test_round_trip(void **state)
{
	struct tmp *t = *state;
	struct pollstate in, out;
	struct stat sb;
	char p[128];

	assert_int_equal(pollstate_read(t->db, &out), RK_ENOENT);
	sample(&in);
	assert_int_equal(pollstate_write(t->db, &in), RK_OK);
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(pollstate_read(t->db, &out), RK_OK);
	assert_memory_equal(&in, &out, sizeof(in));
	snprintf(p, sizeof(p), "%s-poll", t->db);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	snprintf(p, sizeof(p), "%s-poll.tmp", t->db);
	assert_int_not_equal(access(p, F_OK), 0);
	/* Replaced whole by the next write. */
	in.last_check_at++;
	memset(in.detail, 0, sizeof(in.detail));
	assert_int_equal(pollstate_write(t->db, &in), RK_OK);
	assert_int_equal(pollstate_read(t->db, &out), RK_OK);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_damaged(void **state)
{
	struct tmp *t = *state;
	struct pollstate ps, out;
	uint8_t *enc = NULL, *big;
	size_t len = 0, n;
	char p[128];

	(void)t;
	sample(&ps);
	assert_int_equal(pollstate_encode(&ps, &enc, &len), RK_OK);
	assert_int_equal(pollstate_parse(enc, len, &out), RK_OK);
	/* Every truncation fails. */
	for (n = 0; n < len; n++)
		assert_int_equal(pollstate_parse(enc, n, &out), RK_EFORMAT);
	/* A byte more fails. */
	assert_non_null(big = malloc(len + 1));
	memcpy(big, enc, len);
	big[len] = 'x';
	assert_int_equal(pollstate_parse(big, len + 1, &out), RK_EFORMAT);
	/* Another version, another magic, a control byte in the detail. */
	memcpy(big, enc, len);
	big[7] = 3;
	assert_int_equal(pollstate_parse(big, len, &out), RK_EFORMAT);
	memcpy(big, enc, len);
	big[0] = 'X';
	assert_int_equal(pollstate_parse(big, len, &out), RK_EFORMAT);
	memcpy(big, enc, len);
	big[4 + 4 + 9 * 8 + CRYPTO_SHA256_LEN + 2] = '\n'; /* the detail's */
	assert_int_equal(pollstate_parse(big, len, &out), RK_EFORMAT);
	/* A NUL inside a string of the store record. */
	memcpy(big, enc, len);
	big[len - 2] = '\0';
	assert_int_equal(pollstate_parse(big, len, &out), RK_EFORMAT);
	free(big);
	/* On disk: a torn file is not a record. */
	snprintf(p, sizeof(p), "%s-poll", t->db);
	assert_int_equal(fileio_write_atomic(p, enc, len / 2, 0644), RK_OK);
	assert_int_equal(pollstate_read(t->db, &out), RK_EFORMAT);
	free(enc);
}

/* A file of version 1 (no store record) still reads, as no record. */
static void
test_version_1(void **state)
{
	struct pollstate ps, out;
	uint8_t *enc = NULL;
	size_t len = 0;

	(void)state;
	sample(&ps);
	memset(&ps.store, 0, sizeof(ps.store));
	assert_int_equal(pollstate_encode(&ps, &enc, &len), RK_OK);
	/* Version 2 without a record is version 1 and a 0 byte. */
	assert_int_equal(enc[len - 1], 0);
	enc[7] = 1;
	assert_int_equal(pollstate_parse(enc, len - 1, &out), RK_OK);
	assert_memory_equal(&ps, &out, sizeof(ps));
	assert_int_equal(pollstate_parse(enc, len, &out), RK_EFORMAT);
	free(enc);
}

/*
 * The export as the poll file vouches for it: the version and bundle it
 * names, and the file untouched since (another file under its name, or
 * none, is not the file it saw).
 */
static void
test_export_unchanged(void **state)
{
	struct tmp *t = *state;
	struct pollstate ps;
	struct stat sb;
	uint8_t other[CRYPTO_SHA256_LEN];
	char p[128];

	snprintf(p, sizeof(p), "%s/roots.pem", t->dir);
	assert_int_equal(fileio_write_atomic(p, "pem\n", 4, 0644), RK_OK);
	assert_int_equal(stat(p, &sb), 0);
	sample(&ps);
	ps.export_size = (uint64_t)sb.st_size;
	ps.export_dev = (uint64_t)sb.st_dev;
	ps.export_ino = (uint64_t)sb.st_ino;
	ps.export_mtime_ns =
	    (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	assert_int_equal(
	    pollstate_export_unchanged(&ps, 42, ps.export_bundle_sha256, p), 1);
	/* Another version, another bundle, no version: not vouched for. */
	assert_int_equal(
	    pollstate_export_unchanged(&ps, 43, ps.export_bundle_sha256, p), 0);
	memcpy(other, ps.export_bundle_sha256, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(pollstate_export_unchanged(&ps, 42, other, p), 0);
	ps.export_version = 0;
	assert_int_equal(
	    pollstate_export_unchanged(&ps, 0, ps.export_bundle_sha256, p), 0);
	ps.export_version = 42;
	/* Another file (another size) under the same name. */
	assert_int_equal(fileio_write_atomic(p, "other\n", 6, 0644), RK_OK);
	assert_int_equal(
	    pollstate_export_unchanged(&ps, 42, ps.export_bundle_sha256, p), 0);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(
	    pollstate_export_unchanged(&ps, 42, ps.export_bundle_sha256, p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_damaged),
	    cmocka_unit_test(test_version_1),
	    cmocka_unit_test(test_export_unchanged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
