/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 3339 timestamps as the bundle format spells them: known instants,
 * round trips over every day from 1970 to 9999, every calendar date's
 * validity, the spellings that must be refused, and format() checked
 * against the C library's gmtime_r and strftime for pseudo-random times.
 * The C library is only a witness here; the module itself never calls it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "rfc3339.h"

#define MAX_TIME 253402300799LL /* 9999-12-31T23:59:59Z */
#define SENTINEL 0x5a5a5a5a5a5aLL

struct instant {
	const char *s;
	int64_t t;
};

/* Values from Python's calendar.timegm, an independent implementation. */
static const struct instant known[] = {
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T00:00:01Z", 1},
    {"1972-02-29T00:00:00Z", 68169600},
    {"1999-12-31T23:59:59Z", 946684799},
    {"2000-01-01T00:00:00Z", 946684800},
    {"2000-02-29T12:34:56Z", 951827696},
    {"2024-02-29T23:59:59Z", 1709251199},
    {"2038-01-19T03:14:07Z", 2147483647},
    {"2038-01-19T03:14:08Z", 2147483648LL},
    {"2100-02-28T23:59:59Z", 4107542399LL},
    {"2100-03-01T00:00:00Z", 4107542400LL},
    {"2106-02-07T06:28:16Z", 4294967296LL},
    {"9996-02-29T00:00:00Z", 253281168000LL},
    {"9999-12-31T23:59:59Z", MAX_TIME},
};

static void
test_known_instants(void **state)
{
	char buf[RFC3339_LEN + 1];
	int64_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		t = SENTINEL;
		assert_int_equal(
		    rfc3339_parse(known[i].s, strlen(known[i].s), &t), RK_OK);
		assert_int_equal(t, known[i].t);
		memset(buf, 'x', sizeof(buf));
		assert_int_equal(rfc3339_format(known[i].t, buf), RK_OK);
		assert_string_equal(buf, known[i].s);
	}
}

static void
test_format_range(void **state)
{
	static const int64_t bad[] = {
	    -1, MAX_TIME + 1, INT64_MIN, INT64_MAX, -86400};
	char buf[RFC3339_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rfc3339_format(bad[i], buf), RK_EINVAL);
}

/*
 * The display forms: a time the store has not set (0) is "-" for
 * rfc3339_show_opt but 1970 for rfc3339_show; what cannot be written is
 * "(out of range)" or "-".
 */
static void
test_show(void **state)
{
	char buf[RFC3339_LEN + 1];

	(void)state;
	rfc3339_show(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	rfc3339_show(MAX_TIME, buf);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	rfc3339_show(MAX_TIME + 1, buf);
	assert_string_equal(buf, "(out of range)");
	rfc3339_show(-1, buf);
	assert_string_equal(buf, "(out of range)");
	rfc3339_show_opt(0, buf);
	assert_string_equal(buf, "-");
	rfc3339_show_opt(-1, buf);
	assert_string_equal(buf, "-");
	rfc3339_show_opt(MAX_TIME + 1, buf);
	assert_string_equal(buf, "-");
	rfc3339_show_opt(1, buf);
	assert_string_equal(buf, "1970-01-01T00:00:01Z");
}

/*
 * Every day from 1970-01-01 to 9999-12-31, at a time of day that moves
 * around: parse(format(t)) == t, and the strings sort as the times do.
 */
static void
test_round_trip_every_day(void **state)
{
	char prev[RFC3339_LEN + 1], buf[RFC3339_LEN + 1];
	int64_t day, t, back, days = MAX_TIME / 86400 + 1;

	(void)state;
	prev[0] = '\0';
	for (day = 0; day < days; day++) {
		t = day * 86400 + day * 7919 % 86400;
		assert_int_equal(rfc3339_format(t, buf), RK_OK);
		assert_int_equal(strlen(buf), RFC3339_LEN);
		back = SENTINEL;
		assert_int_equal(rfc3339_parse(buf, RFC3339_LEN, &back), RK_OK);
		if (back != t)
			fail_msg("%s: parsed %lld, formatted from %lld", buf,
			    (long long)back, (long long)t);
		if (strcmp(prev, buf) >= 0)
			fail_msg("%s does not sort after %s", buf, prev);
		memcpy(prev, buf, sizeof(buf));
	}
	assert_string_equal(prev, "9999-12-31T20:30:24Z");
}

static int
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Every (year, month, day) with day 0..32: accepted exactly when the date
 * exists, and then formatted back to the same text; the number accepted is
 * the number of days in 1970..9999.
 */
static void
test_every_date(void **state)
{
	static const unsigned dim[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	char s[RFC3339_LEN + 1], buf[RFC3339_LEN + 1];
	unsigned y, m, d, last;
	int64_t t, accepted = 0;
	int rc;

	(void)state;
	for (y = 1970; y <= 9999; y++) {
		for (m = 1; m <= 12; m++) {
			last = dim[m - 1] + (m == 2 && is_leap(y));
			for (d = 0; d <= 32; d++) {
				snprintf(s, sizeof(s),
				    "%04u-%02u-%02uT12:00:00Z", y, m, d);
				t = SENTINEL;
				rc = rfc3339_parse(s, RFC3339_LEN, &t);
				if (d >= 1 && d <= last) {
					if (rc != RK_OK)
						fail_msg("%s refused", s);
					assert_int_equal(
					    rfc3339_format(t, buf), RK_OK);
					assert_string_equal(buf, s);
					accepted++;
				} else {
					if (rc != RK_EFORMAT)
						fail_msg("%s accepted", s);
					assert_int_equal(t, SENTINEL);
				}
			}
		}
	}
	assert_int_equal(accepted, MAX_TIME / 86400 + 1);
}

static void
expect_refused(const char *s, size_t len)
{
	int64_t t = SENTINEL;
	int rc;

	rc = rfc3339_parse(s, len, &t);
	if (rc != RK_EFORMAT)
		fail_msg("\"%.*s\" (len %zu): got %s, want %s", (int)len, s,
		    len, rk_strerror(rc), rk_strerror(RK_EFORMAT));
	assert_int_equal(t, SENTINEL);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "2025-01-01t00:00:00Z",	 /* lower-case t */
	    "2025-01-01T00:00:00z",	 /* lower-case z */
	    "2025-01-01 00:00:00Z",	 /* space for T */
	    "2025-01-01T00:00:00+00:00", /* offsets, even zero */
	    "2025-01-01T00:00:00-00:00",
	    "2025-01-01T01:00:00+01:00",
	    "2025-01-01T00:00:00",    /* no zone */
	    "2025-01-01T00:00:00.5Z", /* fractions */
	    "2025-01-01T00:00:00.000Z",
	    "2025-01-01T00:00:.5Z", /* a fraction of the right length */
	    "2025-02-30T00:00:00Z", /* dates that do not exist */
	    "2025-02-29T00:00:00Z",
	    "2100-02-29T00:00:00Z",
	    "2025-04-31T00:00:00Z",
	    "2025-00-10T00:00:00Z",
	    "2025-13-01T00:00:00Z",
	    "2025-01-00T00:00:00Z",
	    "2025-01-01T24:00:00Z", /* hour 24 */
	    "2025-01-01T00:60:00Z",
	    "2016-12-31T23:59:60Z", /* a real leap second */
	    "2025-01-01T00:00:60Z",
	    "1969-12-31T23:59:59Z", /* before the epoch */
	    "0000-01-01T00:00:00Z",
	    "+2025-01-01T00:00:00Z",
	    "2025-1-01T00:00:00Z", /* wrong lengths */
	    "2025-01-01T0:00:00Z",
	    "25-01-01T00:00:00Z",
	    "2025-01-01T00:00:00ZZ",
	    "2025-01-01T00:00:00Z ",
	    " 2025-01-01T00:00:00Z",
	    "2025-01-01",
	    "",
	    "2025/01/01T00:00:00Z", /* wrong separators */
	    "2025-01-01T00-00-00Z",
	    "2025-01-01T00:00:00X",
	    "2025-0a-01T00:00:00Z", /* not digits */
	    "2025-01-01T0+:00:00Z",
	    "2025- 1-01T00:00:00Z",
	    "-025-01-01T00:00:00Z",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], strlen(bad[i]));
	/* Length is the caller's: 20 good bytes followed by more count. */
	expect_refused("2025-01-01T00:00:00Z\0", 21);
	expect_refused("2025-01-01T00:00:00Zjunk", 24);
	expect_refused("2025-01-01T00:00:00Z", 19);
}

/* xorshift64*: a fixed, portable stream so failures reproduce. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static void
test_against_libc(void **state)
{
	char mine[RFC3339_LEN + 1], libc[64];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct tm tm;
	time_t tt;
	int64_t t, back;
	size_t i, n = 5000;

	(void)state;
	assert_true(sizeof(time_t) >= 8);
	for (i = 0; i < n; i++) {
		t = (int64_t)(next_random(&seed) % (uint64_t)(MAX_TIME + 1));
		/* Some near the ends of the range and of days and years. */
		if (i < 16)
			t = (int64_t)i;
		else if (i < 32)
			t = MAX_TIME - (int64_t)(i - 16);
		else if (i % 7 == 0)
			t -= t % 86400;
		tt = (time_t)t;
		assert_non_null(gmtime_r(&tt, &tm));
		assert_int_equal(
		    strftime(libc, sizeof(libc), "%Y-%m-%dT%H:%M:%SZ", &tm),
		    RFC3339_LEN);
		assert_int_equal(rfc3339_format(t, mine), RK_OK);
		if (strcmp(mine, libc) != 0)
			fail_msg("t=%lld: rfc3339 %s, libc %s", (long long)t,
			    mine, libc);
		assert_int_equal(
		    rfc3339_parse(libc, RFC3339_LEN, &back), RK_OK);
		assert_int_equal(back, t);
		/* And the inverse: the library's timegm agrees with parse. */
		assert_int_equal((int64_t)timegm(&tm), t);
	}
	print_message("rfc3339: %zu pseudo-random times agree with gmtime_r "
		      "and strftime\n",
	    n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_instants),
	    cmocka_unit_test(test_format_range),
	    cmocka_unit_test(test_show),
	    cmocka_unit_test(test_round_trip_every_day),
	    cmocka_unit_test(test_every_date),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_against_libc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
