/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rotation index parser and the rotation URLs (agent/rotation.c):
 * what an index may hold, byte by byte, and where the rotation files of a
 * channel are found for each way a device may name its latest.rkb.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rotation.h"

static int
parse(const char *text, uint64_t **vs, size_t *n)
{
	struct rk_why why = {""};

	*vs = NULL;
	*n = 99;
	return rotation_index_parse(
	    (const uint8_t *)text, strlen(text), vs, n, &why);
}

static void
test_index_good(void **state)
{
	uint64_t *vs;
	size_t n;

	(void)state;
	assert_int_equal(parse("", &vs, &n), RK_OK);
	assert_int_equal(n, 0);
	assert_null(vs);
	assert_int_equal(parse("7\n", &vs, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(vs[0], 7);
	free(vs);
	/* Out of order and repeated: sorted, once each. */
	assert_int_equal(
	    parse("12\n3\n9007199254740991\n3\n10", &vs, &n), RK_OK);
	assert_int_equal(n, 4);
	assert_int_equal(vs[0], 3);
	assert_int_equal(vs[1], 10);
	assert_int_equal(vs[2], 12);
	assert_int_equal(vs[3], 9007199254740991ULL);
	free(vs);
}

static void
test_index_bad(void **state)
{
	static const char *const bad[] = {"\n", "0\n", "07\n", "-1\n", "+1\n",
	    "1 \n", " 1\n", "1\r\n", "1\n\n", "9007199254740992\n",
	    "99999999999999999999999\n", "1,2\n", "x\n", "1\n2\nthree\n"};
	struct rk_why why = {""};
	uint64_t *vs;
	size_t i, n;
	char *big;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &vs, &n) != RK_EFORMAT)
			fail_msg("index \"%s\" accepted", bad[i]);
	assert_int_equal(parse("1\n2\nthree\n", &vs, &n), RK_EFORMAT);
	assert_int_equal(n, 99); /* untouched on failure */
	/* One NUL inside. */
	assert_int_equal(
	    rotation_index_parse((const uint8_t *)"1\n\0\n", 4, &vs, &n, &why),
	    RK_EFORMAT);
	assert_non_null(strstr(why.msg, "line 2"));
	/* The size cap holds before anything is read. */
	assert_non_null(big = malloc(ROTATION_INDEX_MAX + 2));
	for (i = 0; i + 1 < ROTATION_INDEX_MAX + 2; i += 2)
		memcpy(big + i, "1\n", 2);
	assert_int_equal(rotation_index_parse((const uint8_t *)big,
			     ROTATION_INDEX_MAX, &vs, &n, &why),
	    RK_OK);
	assert_int_equal(n, 1);
	free(vs);
	assert_int_equal(rotation_index_parse((const uint8_t *)big,
			     ROTATION_INDEX_MAX + 2, &vs, &n, &why),
	    RK_EFORMAT);
	free(big);
}

static void
test_urls(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(
	    rotation_url("http://h:8080/rk/c/latest.rkb", 0, out, sizeof(out)),
	    RK_OK);
	assert_string_equal(out, "http://h:8080/rk/c/rotations/index.txt");
	assert_int_equal(rotation_url("https://h/c/latest.rkb?x=/y#z/w", 42,
			     out, sizeof(out)),
	    RK_OK);
	assert_string_equal(out, "https://h/c/rotations/42.rkb");
	assert_int_equal(
	    rotation_url("file:///srv/rk/c/latest.rkb", 7, out, sizeof(out)),
	    RK_OK);
	assert_string_equal(out, "file:///srv/rk/c/rotations/7.rkb");
	assert_int_equal(
	    rotation_url("http://h/latest.rkb", 1, out, sizeof(out)), RK_OK);
	assert_string_equal(out, "http://h/rotations/1.rkb");
	assert_int_equal(
	    rotation_url("http://h", 1, out, sizeof(out)), RK_EINVAL);
	assert_int_equal(
	    rotation_url("h/latest.rkb", 1, out, sizeof(out)), RK_EINVAL);
	assert_int_equal(
	    rotation_url("http://h/c/latest.rkb", 1, out, 20), RK_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_good),
	    cmocka_unit_test(test_index_bad),
	    cmocka_unit_test(test_urls),
	};

	return cmocka_run_group_tests_name("rotation", tests, NULL, NULL);
}
