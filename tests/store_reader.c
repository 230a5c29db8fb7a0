/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny reader of a store for test_store, run as a user who can only read
 * the database file (nobody, or the owner of a folder made read-only).  It
 * prints what it saw, one "key=value ..." line at a time, for the suite to
 * check: whether SQLite's own read-only open works there ("plain_ro", the
 * case the store's immutable fallback exists for), the result of
 * store_open(STORE_RO), the state, the result of a write attempt (which
 * must fail), and with "wait" the state once more after a line arrives on
 * standard input (the suite writes a new version in between).  It is not a
 * cmocka suite and checks nothing itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

/* SQLite's read-only open on its own, as any reader would try first. */
static int
plain_ro(const char *path)
{
	char uri[4200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int src, n;

	n = snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
	if (n < 0 || (size_t)n >= sizeof(uri))
		return -1;
	src = sqlite3_open_v2(
	    uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_prepare_v2(
		    db, "SELECT count(*) FROM state", -1, &st, NULL);
	if (src == SQLITE_OK)
		src = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK
						     : sqlite3_errcode(db);
	sqlite3_finalize(st);
	sqlite3_close_v2(db);
	return src;
}

static int
print_state(struct store *s)
{
	struct store_state st;
	struct store_version *v = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_get_state(s, &st)) != RK_OK ||
	    (rc = store_list_versions(s, &v, &n)) != RK_OK) {
		printf("state error=%d %s\n", rc, store_last_error(s));
		return rc;
	}
	printf("state active=%llu highest=%llu channel=%s versions=%zu\n",
	    (unsigned long long)st.active_version,
	    (unsigned long long)st.highest_version, st.channel, n);
	free(v);
	return RK_OK;
}

int
main(int argc, char **argv)
{
	struct store_state st;
	struct store *s = NULL;
	struct rk_why why = {""};
	char line[64];
	int rc, wrc;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "wait"))) {
		fprintf(stderr, "usage: store_reader DB [wait]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("plain_ro=%d\n", plain_ro(argv[1]));
	rc = store_open(argv[1], STORE_RO, &s, &why);
	printf("open=%d %s\n", rc, why.msg);
	if (rc != RK_OK)
		return 1;
	if ((rc = print_state(s)) != RK_OK)
		goto out;
	if ((rc = store_get_state(s, &st)) != RK_OK)
		goto out;
	st.time_floor = 12345;
	wrc = store_set_state(s, &st);
	printf("write=%d %s\n", wrc, store_last_error(s));
	if (argc == 3) {
		if (fgets(line, sizeof(line), stdin) == NULL) {
			rc = RK_EIO;
			goto out;
		}
		rc = print_state(s);
	}
out:
	store_close(s);
	return rc == RK_OK ? 0 : 1;
}
