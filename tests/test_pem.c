/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PEM and base64: round trips, RFC 4648 test vectors, and the strictness
 * the parser promises (bad characters, bad padding, non-canonical bits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/*
 * The encoder against one written from base64_encode(): every length from
 * 0 to 200 (each remainder, each line end), and pem_encode_to() writes
 * exactly pem_encoded_len() bytes.
 */
static void
test_pem_encode_every_length(void **state)
{
	uint8_t der[200];
	char *pem, *b64, want[400], *buf;
	size_t i, n, len, o, k;

	(void)state;
	for (i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)(i * 13 + 5);
	for (n = 0; n <= sizeof(der); n++) {
		assert_int_equal(base64_encode(der, n, &b64), RK_OK);
		o = (size_t)snprintf(
		    want, sizeof(want), "-----BEGIN X509 CRL-----\n");
		for (k = 0; k < strlen(b64); k += 64) {
			size_t m = strlen(b64) - k < 64 ? strlen(b64) - k : 64;

			memcpy(want + o, b64 + k, m);
			o += m;
			want[o++] = '\n';
		}
		o += (size_t)snprintf(
		    want + o, sizeof(want) - o, "-----END X509 CRL-----\n");
		free(b64);
		assert_int_equal(
		    pem_encode("X509 CRL", der, n, &pem, &len), RK_OK);
		assert_int_equal(len, o);
		assert_int_equal(pem_encoded_len("X509 CRL", n), o);
		assert_memory_equal(pem, want, o);
		assert_int_equal(pem[len], '\0');
		free(pem);
		assert_non_null(buf = malloc(o + 1));
		buf[o] = '#';
		pem_encode_to("X509 CRL", der, n, buf);
		assert_memory_equal(buf, want, o);
		assert_int_equal(buf[o], '#');
		free(buf);
	}
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
	    cmocka_unit_test(test_pem_encode_every_length),
	    cmocka_unit_test(test_pem_label_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
