/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 7512 URIs as rootkeeper-sign takes them (signing/p11uri.c): the
 * attributes it knows, percent-decoding, the limits of each field, and
 * every way a URI is refused, with the struct wiped and the PIN absent
 * from the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "p11uri.h"

static int
parse(const char *s, struct p11uri *u, struct rk_why *why)
{
	return p11uri_parse(s, strlen(s), u, why);
}

/* A field the case names must hold exactly that (NULL: not looked at). */
static void
expect_field(const char *got, const char *want)
{
	if (want != NULL)
		assert_string_equal(got, want);
}

static void
test_accepted(void **state)
{
	static const struct {
		const char *uri;
		const char *token, *object, *module, *pin_source, *pin;
		int has_pin;
	} good[] = {
	    {"pkcs11:token=rk-ops;object=signer-1?"
	     "module-path=/usr/lib/softhsm/libsofthsm2.so&"
	     "pin-source=/etc/rk/pin",
		"rk-ops", "signer-1", "/usr/lib/softhsm/libsofthsm2.so",
		"/etc/rk/pin", NULL, 0},
	    /* Percent escapes, type=private, path attributes in any order. */
	    {"pkcs11:object=key%2f1;type=private;"
	     "token=My%20Token?pin-value=12%2634",
		"My Token", "key/1", "", NULL, "12&34", 1},
	    /* file: URIs of RFC 7512 section 2.4. */
	    {"pkcs11:token=t;object=o?pin-source=file:///run/pin", NULL, NULL,
		NULL, "/run/pin", NULL, -1},
	    {"pkcs11:token=t;object=o?pin-source=file:/run/pin", NULL, NULL,
		NULL, "/run/pin", NULL, -1},
	};
	struct p11uri u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(good[i].uri, &u, NULL), RK_OK);
		expect_field(u.token, good[i].token);
		expect_field(u.object, good[i].object);
		expect_field(u.module, good[i].module);
		expect_field(u.pin_source, good[i].pin_source);
		expect_field(u.pin, good[i].pin);
		if (good[i].has_pin >= 0)
			assert_int_equal(u.has_pin, good[i].has_pin);
	}
	p11uri_wipe(&u);
	assert_int_equal(u.has_pin, 0);
	assert_string_equal(u.token, "");
}

static void
test_limits(void **state)
{
	struct p11uri u;
	char s[P11URI_MAX + 64];
	char label[64];

	(void)state;
	/* A token label is at most 32 bytes (CK_TOKEN_INFO.label). */
	memset(label, 'a', 32);
	label[32] = '\0';
	snprintf(s, sizeof(s), "pkcs11:token=%s;object=o", label);
	assert_int_equal(parse(s, &u, NULL), RK_OK);
	snprintf(s, sizeof(s), "pkcs11:token=%sa;object=o", label);
	assert_int_equal(parse(s, &u, NULL), RK_EFORMAT);
	/* The whole URI is at most P11URI_MAX bytes. */
	memset(s, 'x', sizeof(s));
	memcpy(s, "pkcs11:token=t;object=o?module-path=", 36);
	s[P11URI_MAX + 1] = '\0';
	assert_int_equal(parse(s, &u, NULL), RK_EFORMAT);
	/* A length shorter than the string: only that much is read. */
	assert_int_equal(
	    p11uri_parse("pkcs11:token=t;object=o;junk", 23, &u, NULL), RK_OK);
	assert_string_equal(u.object, "o");
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "pkcs11",
	    "pkcs11:",
	    "PKCS11:token=t;object=o",
	    "pkcs11:token=t",
	    "pkcs11:object=o",
	    "pkcs11:token=;object=o",
	    "pkcs11:token=t;object=o;",
	    "pkcs11:token=t;;object=o",
	    "pkcs11:token=t;object=o;token=u",
	    "pkcs11:token=t;object",
	    "pkcs11:token=t;object=o;id=%01",
	    "pkcs11:token=t;object=o;type=cert",
	    "pkcs11:token=t;object=o?slot-id=1",
	    "pkcs11:token=t?object=o",
	    "pkcs11:token=t;object=o;module-path=/x",
	    "pkcs11:token=t%;object=o",
	    "pkcs11:token=t%4;object=o",
	    "pkcs11:token=t%zz;object=o",
	    "pkcs11:token=t%00;object=o",
	    "pkcs11:token=t;object=o?pin-value=1&pin-source=/p",
	    "pkcs11:token=t;object=o?pin-source=file://host/p",
	    "pkcs11:token=t;object=o?pin-source=file://file:///p",
	};
	struct p11uri u;
	struct rk_why why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&u, 0x5a, sizeof(u));
		why.msg[0] = '\0';
		if (parse(bad[i], &u, &why) != RK_EFORMAT)
			fail_msg("accepted: %s", bad[i]);
		assert_true(why.msg[0] != '\0');
		assert_int_equal(u.has_pin, 0);
		assert_int_equal(u.token[0], '\0');
	}
}

static void
test_pin_not_in_message(void **state)
{
	struct p11uri u;
	struct rk_why why = {""};

	(void)state;
	assert_int_equal(parse("pkcs11:token=t;object=o?pin-value=S3cr3t-PIN&"
			       "pin-source=/p",
			     &u, &why),
	    RK_EFORMAT);
	assert_null(strstr(why.msg, "S3cr3t"));
	assert_int_equal(
	    parse("pkcs11:token=t;object=o?pin-value=S3cr3t%zz", &u, &why),
	    RK_EFORMAT);
	assert_null(strstr(why.msg, "S3cr3t"));
	assert_int_equal(
	    parse("pkcs11:token=t;object=o?S3cr3t", &u, &why), RK_EFORMAT);
	assert_null(strstr(why.msg, "S3cr3t"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepted),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_pin_not_in_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
