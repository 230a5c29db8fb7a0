/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PEM and base64: round trips, RFC 4648 test vectors, and the strictness
 * the parser promises (bad characters, bad padding, non-canonical bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pem.h"

static void
test_base64_rfc4648(void **state)
{
	static const char *const plain[] = {
	    "", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {
	    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	uint8_t *d;
	size_t i, n;
	char *s;

	(void)state;
	for (i = 0; i < 7; i++) {
		assert_int_equal(base64_encode((const uint8_t *)plain[i],
				     strlen(plain[i]), &s),
		    RK_OK);
		assert_string_equal(s, enc[i]);
		free(s);
		assert_int_equal(
		    base64_decode(enc[i], strlen(enc[i]), &d, &n), RK_OK);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
}

static void
test_base64_strict(void **state)
{
	static const char *const bad[] = {"Zg=", "Zg",
	    "Zh==", "Zm9=", "Z===", "Zg==Zg==", "Zm9v!", "Zm 9v", "=Zg="};
	uint8_t *d = NULL;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(
		    base64_decode(bad[i], strlen(bad[i]), &d, &n), RK_OK);
}

static void
test_pem_round_trip(void **state)
{
	uint8_t der[200], *out;
	char *pem, lab[64];
	size_t i, len, pos = 0, n;

	(void)state;
	for (i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(
	    pem_encode("CERTIFICATE", der, sizeof(der), &pem, &len), RK_OK);
	assert_int_equal(strlen(pem), len);
	assert_non_null(strstr(pem, "-----END CERTIFICATE-----\n"));
	assert_int_equal(pem_next(pem, len, &pos, NULL, lab, &out, &n), RK_OK);
	assert_string_equal(lab, "CERTIFICATE");
	assert_int_equal(n, sizeof(der));
	assert_memory_equal(out, der, n);
	free(out);
	assert_int_equal(
	    pem_next(pem, len, &pos, NULL, lab, &out, &n), RK_ENOENT);
	free(pem);
}

static void
test_pem_label_and_errors(void **state)
{
	const char *two = "junk\n-----BEGIN PUBLIC KEY-----\nZm9v\n"
			  "-----END PUBLIC KEY-----\n"
			  "-----BEGIN CERTIFICATE-----\nZm9vYmFy\n"
			  "-----END CERTIFICATE-----\n";
	const char *noend = "-----BEGIN CERTIFICATE-----\nZm9v\n";
	const char *badb64 = "-----BEGIN CERTIFICATE-----\nZm9*\n"
			     "-----END CERTIFICATE-----\n";
	uint8_t *out = NULL;
	size_t pos = 0, n;

	(void)state;
	assert_int_equal(
	    pem_next(two, strlen(two), &pos, "CERTIFICATE", NULL, &out, &n),
	    RK_OK);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	free(out);
	pos = 0;
	assert_int_equal(
	    pem_next(noend, strlen(noend), &pos, NULL, NULL, &out, &n),
	    RK_EFORMAT);
	pos = 0;
	assert_int_equal(
	    pem_next(badb64, strlen(badb64), &pos, NULL, NULL, &out, &n),
	    RK_EFORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_rfc4648),
	    cmocka_unit_test(test_base64_strict),
	    cmocka_unit_test(test_pem_round_trip),
	    cmocka_unit_test(test_pem_label_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
