/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The census's log-line parser and counting (signing/census.c): nginx's and
 * Apache's spellings of the combined format, time zones, the agent's
 * User-Agent with and without its census, malformed lines, and the newest
 * line of a device winning whatever order the lines come in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "census.h"

#define UA_ID "00112233aabbccdd"

static int
line(const char *s, struct census_line *l)
{
	return census_parse_line(s, strlen(s), l);
}

static void
test_parse(void **state)
{
	struct census_line l;

	(void)state;
	assert_int_equal(
	    line("10.0.0.7 - - [30/Nov/2026:12:00:00 +0000] \"GET "
		 "/hub/latest.rkb HTTP/1.1\" 304 0 \"-\" \"rootkeeper/0.4.0 "
		 "(channel=hub; active=41; highest=42; deferred=42; id=" UA_ID
		 ")\"",
		&l),
	    RK_OK);
	assert_string_equal(l.channel, "hub");
	assert_string_equal(l.agent, "0.4.0");
	assert_int_equal(l.active, 41);
	assert_int_equal(l.highest, 42);
	assert_true(l.has_deferred);
	assert_int_equal(l.deferred, 42);
	assert_true(l.id == 0x00112233aabbccddULL);
	assert_int_equal(l.time, 1796040000); /* 2026-11-30T12:00:00Z */

	/* Apache: a user, escaped quotes, a zone, fields after the UA. */
	assert_int_equal(line("::1 - alice [30/Nov/2026:13:30:00 +0130] \"GET "
			      "/x HTTP/1.1\" 200 - \"http://r/\\\"q\\\"\" "
			      "\"rootkeeper/1.0 (channel=a.b; active=0; "
			      "id=" UA_ID "; future=1) libcurl/7.88\" 1234",
			     &l),
	    RK_OK);
	assert_int_equal(l.time, 1796040000);
	assert_false(l.has_deferred);
	assert_false(l.has_highest);
	assert_int_equal(l.active, 0);
}

static void
test_other_and_malformed(void **state)
{
	static const char *const other[] = {
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 "
	    "1 \"-\" \"curl/7.88.1\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 "
	    "1 \"-\" \"rootkeeper/0.4.0\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"\" 400 0 \"-\" \"-\"",
	    /* An agent with no device id: nothing to count it by. */
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 "
	    "1 \"-\" \"rootkeeper/0.4.0 (channel=hub; active=1; highest=1)\"",
	};
	static const char *const bad[] = {
	    "",
	    "garbage",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
	    "1.2.3.4 - - [31/Foo/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"-\"",
	    "1.2.3.4 - - [30/Nov/2026:25:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"-\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET / 200 1 \"-\" "
	    "\"-\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 20 1 \"-\" "
	    "\"-\"",
	    /* Broken census User-Agents. */
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/1.0 (active=1; id=" UA_ID ")\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/1.0 (channel=hub; id=0011)\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/1.0 (channel=Hub; id=" UA_ID ")\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/1.0 (channel=hub; active=9007199254740992; id=" UA_ID
	    ")\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/1.0 (channel=hub; active=1; active=2; id=" UA_ID
	    ")\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/1.0 (channel=hub; id=" UA_ID "\"",
	    "1.2.3.4 - - [30/Nov/2026:12:00:00 +0000] \"GET /\" 200 1 \"-\" "
	    "\"rootkeeper/ (channel=hub; id=" UA_ID ")\"",
	};
	struct census_line l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		if (line(other[i], &l) != RK_ENOENT)
			fail_msg("not 'other': %s", other[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (line(bad[i], &l) != RK_EFORMAT)
			fail_msg("not malformed: %s", bad[i]);
}

static void
add(struct census *c, const char *time, const char *ch, int active,
    const char *agent, const char *id)
{
	char s[512];

	snprintf(s, sizeof(s),
	    "1.2.3.4 - - [%s +0000] \"GET /\" 200 1 \"-\" \"rootkeeper/%s "
	    "(channel=%s; active=%d; highest=%d; id=%s)\"",
	    time, agent, ch, active, active, id);
	assert_int_equal(census_add(c, s, strlen(s)), RK_OK);
}

static void
test_newest_wins(void **state)
{
	struct census *c = NULL;
	struct census_count *cnt = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(census_new(&c), RK_OK);
	/* Today's log first, then yesterday's: today's lines win. */
	add(c, "30/Nov/2026:12:00:00", "hub", 42, "0.4.0", UA_ID);
	add(c, "29/Nov/2026:12:00:00", "hub", 41, "0.3.0", UA_ID);
	/* One second, two lines: the later in the input wins. */
	add(c, "30/Nov/2026:12:00:00", "hub", 41, "0.3.0", "1111111111111111");
	add(c, "30/Nov/2026:12:00:00", "hub", 43, "0.10.0", "1111111111111111");
	/* A device that moved to another channel counts only there. */
	add(c, "30/Nov/2026:11:00:00", "hub", 40, "0.3.0", "2222222222222222");
	add(c, "30/Nov/2026:11:30:00", "lab", 7, "0.3.0", "2222222222222222");
	assert_int_equal(census_devices(c), 3);
	assert_int_equal(census_nchannels(c), 2);
	assert_string_equal(census_channel(c, 0), "hub");
	assert_string_equal(census_channel(c, 1), "lab");

	assert_int_equal(census_tally(c, 0, CENSUS_ACTIVE, &cnt, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cnt[0].key, "42");
	assert_int_equal(cnt[0].count, 1);
	assert_string_equal(cnt[1].key, "43");
	free(cnt);
	assert_int_equal(census_tally(c, 0, CENSUS_AGENTS, &cnt, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_string_equal(cnt[0].key, "0.4.0"); /* version order */
	assert_string_equal(cnt[1].key, "0.10.0");
	free(cnt);
	assert_int_equal(census_tally(c, 0, CENSUS_DEFERRED, &cnt, &n), RK_OK);
	assert_int_equal(n, 0);
	free(cnt);
	assert_int_equal(census_tally(c, 1, CENSUS_DEVICES, &cnt, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cnt[0].count, 1);
	free(cnt);
	assert_int_equal(
	    census_tally(c, 2, CENSUS_ACTIVE, &cnt, &n), RK_EINVAL);
	census_free(c);
}

static void
test_many_devices(void **state)
{
	struct census *c = NULL;
	struct census_count *cnt = NULL;
	char id[17];
	size_t n = 0, i;

	(void)state;
	assert_int_equal(census_new(&c), RK_OK);
	/* Enough to grow the table several times; each device twice. */
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "%016zx", i * 0x9e3779b97f4a7c15u);
		add(c, "30/Nov/2026:12:00:00", "hub", (int)(i % 3), "1.0", id);
		add(c, "30/Nov/2026:12:00:01", "hub", (int)(i % 3) + 10, "1.0",
		    id);
	}
	assert_int_equal(census_devices(c), 20000);
	assert_int_equal(census_tally(c, 0, CENSUS_ACTIVE, &cnt, &n), RK_OK);
	assert_int_equal(n, 3);
	assert_string_equal(cnt[0].key, "10");
	assert_int_equal(cnt[0].count + cnt[1].count + cnt[2].count, 20000);
	free(cnt);
	census_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_other_and_malformed),
	    cmocka_unit_test(test_newest_wins),
	    cmocka_unit_test(test_many_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
