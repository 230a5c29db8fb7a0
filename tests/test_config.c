/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration file and its logging: the defaults, DESIGN
 * section 5's example verbatim, every kind of bad file with the line its
 * error must name, the promise that a failed load leaves the caller's
 * config exactly as it was, the value parsers (durations, sizes, probes)
 * as tables, the export path, and log.c's stderr lines (format, level
 * filter, control characters, truncation).  Files are written to a fresh
 * temporary folder.  Syslog delivery is not checked (the test would need
 * the system's /dev/log); only that a syslog target leaves stderr alone.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "config.h"
#include "log.h"

#define DESIGN_URL "https://updates.example.net/rootkeeper/azure-iot/latest.rkb"
#define MIRROR_URL "http://mirror.example.org/rk/azure-iot/latest.rkb"

/* DESIGN.md section 5, character for character. */
static const char design_example[] =
    "[agent]\n"
    "url = https://updates.example.net/rootkeeper/azure-iot/latest.rkb   ; "
    "may repeat: mirrors, tried in order\n"
    "channel = azure-iot\n"
    "db = /var/lib/rootkeeper/store.db\n"
    "export_pem = /var/lib/rootkeeper/trust.pem\n"
    "interval = 6h\n"
    "jitter = 30m\n"
    "max_bundle_size = 4M\n"
    "keep_versions = 5\n"
    "probe = myhub.azure-devices.net:8883                                ; "
    "may repeat\n";

static char tmpdir[64];
static char path_buf[128];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rk-test-config-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/rootkeeper.conf", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/log.txt", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/subdir", tmpdir);
	rmdir(p);
	return rmdir(tmpdir);
}

/* Writes len bytes to the suite's config file; returns its path. */
static const char *
write_conf(const char *data, size_t len)
{
	FILE *f;

	snprintf(path_buf, sizeof(path_buf), "%s/rootkeeper.conf", tmpdir);
	f = fopen(path_buf, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path_buf;
}

static int
load_text(struct config *c, const char *text, struct rk_why *why)
{
	const char *p = write_conf(text, strlen(text));

	memset(why->msg, 0, sizeof(why->msg));
	return config_load(c, p, why);
}

static void
assert_defaults(const struct config *c, int loaded)
{
	assert_int_equal(c->n_urls, 0);
	assert_null(c->urls[0]);
	assert_string_equal(c->channel, "");
	if (loaded)
		assert_string_equal(c->db, CONFIG_DEFAULT_DB);
	else
		assert_null(c->db);
	assert_null(c->export_pem);
	assert_int_equal(c->interval, 6 * 3600);
	assert_int_equal(c->jitter, 30 * 60);
	assert_int_equal(c->max_bundle_size, 4194304);
	assert_int_equal(c->keep_versions, 5);
	assert_int_equal(c->n_probes, 0);
	assert_null(c->probes[0]);
	assert_int_equal(c->log_target, LOG_TO_STDERR);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_string_equal(c->device_id, "");
	assert_int_equal(c->census, 1);
}

static void
test_defaults(void **state)
{
	struct rk_why why;
	struct config c;

	(void)state;
	config_init(&c);
	assert_defaults(&c, 0);

	/* An empty file and one of comments only are all defaults. */
	assert_int_equal(load_text(&c, "", &why), RK_OK);
	assert_defaults(&c, 1);
	assert_int_equal(
	    load_text(&c, "; nothing\n# here\n\n[agent]\n\n", &why), RK_OK);
	assert_defaults(&c, 1);
	config_free(&c);
	assert_defaults(&c, 0);
	config_free(&c); /* twice is fine */
	config_free(NULL);
}

/* Only meaningful where the default path is absent, as on a build host. */
static void
test_default_path_missing(void **state)
{
	struct rk_why why;
	struct config c;

	(void)state;
	if (access(CONFIG_DEFAULT_PATH, F_OK) == 0 || errno != ENOENT)
		skip();
	config_init(&c);
	assert_int_equal(config_load(&c, NULL, &why), RK_OK);
	assert_defaults(&c, 1);
	config_free(&c);
}

static void
test_design_example(void **state)
{
	struct rk_why why;
	struct config c;
	char *text;
	size_t n;

	(void)state;
	config_init(&c);
	assert_int_equal(load_text(&c, design_example, &why), RK_OK);
	assert_int_equal(c.n_urls, 1);
	assert_string_equal(c.urls[0], DESIGN_URL);
	assert_string_equal(c.channel, "azure-iot");
	assert_string_equal(c.db, "/var/lib/rootkeeper/store.db");
	assert_string_equal(c.export_pem, "/var/lib/rootkeeper/trust.pem");
	assert_int_equal(c.interval, 21600);
	assert_int_equal(c.jitter, 1800);
	assert_int_equal(c.max_bundle_size, 4194304);
	assert_int_equal(c.keep_versions, 5);
	assert_int_equal(c.n_probes, 1);
	assert_string_equal(c.probes[0], "myhub.azure-devices.net:8883");
	assert_int_equal(c.log_target, LOG_TO_STDERR);
	assert_int_equal(c.log_level, LOG_LVL_INFO);

	/* With a mirror after it, as the comment invites. */
	n = strlen(design_example) + 200;
	text = malloc(n);
	assert_non_null(text);
	snprintf(
	    text, n, "%surl = %s ; the mirror\n", design_example, MIRROR_URL);
	assert_int_equal(load_text(&c, text, &why), RK_OK);
	free(text);
	assert_int_equal(c.n_urls, 2);
	assert_string_equal(c.urls[0], DESIGN_URL);
	assert_string_equal(c.urls[1], MIRROR_URL);
	assert_int_equal(c.n_probes, 1);
	config_free(&c);
}

static void
test_every_key(void **state)
{
	static const char text[] =
	    "\xef\xbb\xbf# a BOM, CRLF line ends and indentation\r\n"
	    "[agent] ; the only section\r\n"
	    "  url = file:///srv/rk/latest.rkb\r\n"
	    "\turl = https://b.example/x;y=1\r\n" /* ';' without a space */
	    "url=http://c.example:8080/latest.rkb\r\n"
	    "channel = a.b_c-1\r\n"
	    "db = /data/rk.db\r\n"
	    "interval = 90\r\n"
	    "jitter = 0\r\n"
	    "max_bundle_size = 1K\r\n"
	    "keep_versions = 1000\r\n"
	    "probe = [2001:db8::1]:8883\r\n"
	    "probe = hub_1.example:443 ; second\r\n"
	    "probe = 10.0.0.1:1\r\n"
	    "log = syslog\r\n"
	    "log_level = debug"; /* no line end at all */
	struct rk_why why;
	struct config c;

	(void)state;
	config_init(&c);
	assert_int_equal(load_text(&c, text, &why), RK_OK);
	assert_int_equal(c.n_urls, 3);
	assert_string_equal(c.urls[0], "file:///srv/rk/latest.rkb");
	assert_string_equal(c.urls[1], "https://b.example/x;y=1");
	assert_string_equal(c.urls[2], "http://c.example:8080/latest.rkb");
	assert_string_equal(c.channel, "a.b_c-1");
	assert_string_equal(c.db, "/data/rk.db");
	assert_null(c.export_pem);
	assert_int_equal(c.interval, 90);
	assert_int_equal(c.jitter, 0);
	assert_int_equal(c.max_bundle_size, 1024);
	assert_int_equal(c.keep_versions, 1000);
	assert_int_equal(c.n_probes, 3);
	assert_string_equal(c.probes[0], "[2001:db8::1]:8883");
	assert_string_equal(c.probes[1], "hub_1.example:443");
	assert_string_equal(c.probes[2], "10.0.0.1:1");
	assert_int_equal(c.log_target, LOG_TO_SYSLOG);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);

	/* A reload starts from the defaults, not from the last file. */
	assert_int_equal(
	    load_text(&c, "[agent]\nlog_level = warn\n", &why), RK_OK);
	assert_int_equal(c.n_urls, 0);
	assert_int_equal(c.n_probes, 0);
	assert_string_equal(c.db, CONFIG_DEFAULT_DB);
	assert_int_equal(c.log_target, LOG_TO_STDERR);
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	config_free(&c);
}

/* The limits exactly at, in the order given. */
static void
test_repeated_order(void **state)
{
	char text[4096], *w = text;
	struct rk_why why;
	struct config c;
	size_t i, left = sizeof(text);
	int n;

	(void)state;
	n = snprintf(w, left, "[agent]\n");
	w += n, left -= (size_t)n;
	for (i = 0; i < CONFIG_MAX_URLS; i++) {
		n = snprintf(w, left, "url = http://m%zu.example/l.rkb\n", i);
		w += n, left -= (size_t)n;
	}
	for (i = 0; i < CONFIG_MAX_PROBES; i++) {
		n = snprintf(w, left, "probe = p%zu.example:%zu\n", i, 100 + i);
		w += n, left -= (size_t)n;
	}
	config_init(&c);
	assert_int_equal(load_text(&c, text, &why), RK_OK);
	assert_int_equal(c.n_urls, CONFIG_MAX_URLS);
	assert_int_equal(c.n_probes, CONFIG_MAX_PROBES);
	for (i = 0; i < CONFIG_MAX_URLS; i++) {
		char want[64];

		snprintf(want, sizeof(want), "http://m%zu.example/l.rkb", i);
		assert_string_equal(c.urls[i], want);
	}
	for (i = 0; i < CONFIG_MAX_PROBES; i++) {
		char want[64];

		snprintf(want, sizeof(want), "p%zu.example:%zu", i, 100 + i);
		assert_string_equal(c.probes[i], want);
	}
	config_free(&c);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *reason; /* a substring of why after "PATH:LINE: " */
};

static const struct bad_case bad_cases[] = {
    /* sections */
    {"[other]\n", 1, "unknown section [other]"},
    {"[agent]\ninterval = 6h\n\n[foo]\n", 4, "unknown section [foo]"},
    {"[Agent]\nurl = http://x\n", 1, "unknown section [Agent]"},
    {"[ agent ]\n", 1, "unknown section [ agent ]"},
    {"[agent] junk\n", 1, "unexpected text after [agent]"},
    {"\xef\xbb\xbf[other]\n", 1, "unknown section [other]"},
    {"url = http://x/\n", 1, "key \"url\" before [agent]"},
    {"; c\n\nchannel = x\n[agent]\n", 3, "before [agent]"},
    /* keys */
    {"[agent]\nfoo = 1\n", 2, "unknown key \"foo\""},
    {"[agent]\nURL = http://x/\n", 2, "unknown key \"URL\""},
    {"[agent]\n= 1\n", 2, "unknown key \"\""},
    {"[agent]\nurl http://x/\n", 2, "unknown key \"url http\""},
    /* lines inih cannot parse */
    {"[agent]\njust words\n", 2, "cannot parse"},
    {"[agent\n", 1, "cannot parse"},
    {"[agent]\nurl = http://a/\n   more words\n", 3, "cannot parse"},
    {"[agent]\nnonsense\nfoo = 1\n", 2, "cannot parse"},
    {"[agent]\nnonsense\n[other]\n", 2, "cannot parse"},
    /* bytes our reader refuses */
    {"[agent]\nchannel = a\x01"
     "b\n",
	2, "control character 0x01"},
    {"[agent]\nchannel = a\x7f\n", 2, "control character 0x7f"},
    {"[agent]\r\nchannel = a\rb\r\n", 2, "carriage return"},
    /* single-valued keys given twice */
    {"[agent]\nchannel = a\nchannel = a\n", 3,
	"channel given twice (first on line 2)"},
    {"[agent]\ndb = /a\n\ndb = /b\n", 4, "db given twice (first on line 2)"},
    {"[agent]\nexport_pem = /a\nexport_pem = /a\n", 3, "export_pem given"},
    {"[agent]\ninterval = 1h\ninterval = 2h\n", 3, "interval given twice"},
    {"[agent]\njitter = 0\njitter = 0\n", 3, "jitter given twice"},
    {"[agent]\nmax_bundle_size = 1M\nmax_bundle_size = 1M\n", 3,
	"max_bundle_size given twice"},
    {"[agent]\nkeep_versions = 2\nkeep_versions = 2\n", 3,
	"keep_versions given twice"},
    {"[agent]\nlog = syslog\nlog = syslog\n", 3, "log given twice"},
    {"[agent]\nlog_level = info\nlog_level = info\n", 3,
	"log_level given twice"},
    /* an indented line is its own line, not a continuation */
    {"[agent]\nchannel = a\n  channel = b\n", 3, "channel given twice"},
    /* bad values */
    {"[agent]\nurl = ftp://x/\n", 2, "bad url \"ftp://x/\""},
    {"[agent]\nurl = http://\n", 2, "bad url"},
    {"[agent]\nurl = HTTP://x/\n", 2, "bad url"},
    {"[agent]\nurl = https://a b/\n", 2, "bad url"},
    {"[agent]\nurl = https://\xc3\xa9.example/\n", 2, "bad url"},
    {"[agent]\nurl =\n", 2, "bad url \"\""},
    {"[agent]\nurl = ; only a comment\n", 2, "bad url \"\""},
    {"[agent]\nchannel = Azure\n", 2, "bad channel \"Azure\""},
    {"[agent]\nchannel = a/b\n", 2, "bad channel"},
    {"[agent]\nchannel = "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	2, "bad channel"},
    {"[agent]\ndb =\n", 2, "bad db \"\""},
    {"[agent]\nexport_pem =   \n", 2, "bad export_pem \"\""},
    {"[agent]\ninterval = 6x\n", 2, "bad interval \"6x\""},
    {"[agent]\ninterval = 0\n", 2, "bad interval \"0\""},
    {"[agent]\ninterval = 0s\n", 2, "bad interval"},
    {"[agent]\ninterval = -1\n", 2, "bad interval"},
    {"[agent]\ninterval = 6h # no such comment\n", 2, "bad interval"},
    {"[agent]\ninterval = 99999999999999999999d\n", 2, "bad interval"},
    {"[agent]\njitter = -5m\n", 2, "bad jitter"},
    {"[agent]\njitter =\n", 2, "bad jitter"},
    {"[agent]\nmax_bundle_size = 1023\n", 2, "bad max_bundle_size"},
    {"[agent]\nmax_bundle_size = 0\n", 2, "bad max_bundle_size"},
    {"[agent]\nmax_bundle_size = 2G\n", 2, "bad max_bundle_size"},
    {"[agent]\nmax_bundle_size = 4m\n", 2, "bad max_bundle_size"},
    {"[agent]\nkeep_versions = 0\n", 2, "bad keep_versions"},
    {"[agent]\nkeep_versions = 1001\n", 2, "bad keep_versions"},
    {"[agent]\nkeep_versions = 5x\n", 2, "bad keep_versions"},
    {"[agent]\nkeep_versions = -1\n", 2, "bad keep_versions"},
    {"[agent]\nkeep_versions = 99999999999999999999\n", 2, "bad keep_versions"},
    {"[agent]\nprobe = hub\n", 2, "bad probe \"hub\""},
    {"[agent]\nprobe = hub:0\n", 2, "bad probe"},
    {"[agent]\nprobe = ::1:8883\n", 2, "bad probe"},
    {"[agent]\nlog = file\n", 2, "bad log \"file\""},
    {"[agent]\nlog_level = verbose\n", 2, "bad log_level \"verbose\""},
    {"[agent]\nlog_level = INFO\n", 2, "bad log_level"},
    {"[agent]\ndevice_id = a b\n", 2, "bad device_id \"a b\""},
    {"[agent]\ndevice_id =\n", 2, "bad device_id"},
    {"[agent]\ndevice_id = "
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	2, "bad device_id"},
    {"[agent]\ndevice_id = a\ndevice_id = b\n", 3, "device_id given twice"},
    {"[agent]\ncensus = off\n", 2, "bad census \"off\""},
    {"[agent]\ncensus = Yes\n", 2, "bad census"},
};

/* The reference config every bad load must leave untouched. */
static const char good_text[] = "[agent]\n"
				"url = http://a.example/l.rkb\n"
				"url = http://b.example/l.rkb\n"
				"channel = beta\n"
				"db = /tmp/x/store.db\n"
				"export_pem = /tmp/x/out.pem\n"
				"interval = 1h\n"
				"jitter = 5m\n"
				"max_bundle_size = 512K\n"
				"keep_versions = 7\n"
				"probe = hub.example:8883\n"
				"log = syslog\n"
				"log_level = error\n";

/* a is the config after a failed load, b a byte copy from before it. */
static void
assert_same(const struct config *a, const struct config *b)
{
	size_t i;

	assert_int_equal(a->n_urls, b->n_urls);
	for (i = 0; i < CONFIG_MAX_URLS; i++)
		assert_ptr_equal(a->urls[i], b->urls[i]);
	assert_string_equal(a->urls[0], "http://a.example/l.rkb");
	assert_string_equal(a->urls[1], "http://b.example/l.rkb");
	assert_memory_equal(a->channel, b->channel, sizeof(a->channel));
	assert_ptr_equal(a->db, b->db);
	assert_string_equal(a->db, "/tmp/x/store.db");
	assert_ptr_equal(a->export_pem, b->export_pem);
	assert_string_equal(a->export_pem, "/tmp/x/out.pem");
	assert_int_equal(a->interval, b->interval);
	assert_int_equal(a->jitter, b->jitter);
	assert_int_equal(a->max_bundle_size, b->max_bundle_size);
	assert_int_equal(a->keep_versions, b->keep_versions);
	assert_int_equal(a->n_probes, b->n_probes);
	for (i = 0; i < CONFIG_MAX_PROBES; i++)
		assert_ptr_equal(a->probes[i], b->probes[i]);
	assert_string_equal(a->probes[0], "hub.example:8883");
	assert_int_equal(a->log_target, b->log_target);
	assert_int_equal(a->log_level, b->log_level);
	assert_memory_equal(a, b, sizeof(*a));
}

static void
check_bad(const char *text, size_t len, unsigned line, const char *reason)
{
	struct config c, before, fresh;
	struct rk_why why;
	char prefix[160];
	const char *path;

	config_init(&c);
	assert_int_equal(load_text(&c, good_text, &why), RK_OK);
	memcpy(&before, &c, sizeof(c));

	path = write_conf(text, len);
	memset(why.msg, 0, sizeof(why.msg));
	if (config_load(&c, path, &why) != RK_EINVAL)
		fail_msg(
		    "accepted or wrong code for: %s (why: %s)", text, why.msg);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	if (strncmp(why.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(why.msg + strlen(prefix), reason) == NULL)
		fail_msg("for \"%s\": want \"%s...%s\", got \"%s\"", text,
		    prefix, reason, why.msg);
	assert_same(&c, &before);
	config_free(&c);

	/* A fresh config stays fresh: db still NULL, nothing owned. */
	config_init(&c);
	config_init(&fresh);
	assert_int_equal(config_load(&c, path, NULL), RK_EINVAL);
	assert_memory_equal(&c, &fresh, sizeof(c));
}

static void
test_bad_files(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		check_bad(bad_cases[i].text, strlen(bad_cases[i].text),
		    bad_cases[i].line, bad_cases[i].reason);
	/* A NUL byte, which inih would take for the end of the line. */
	check_bad(
	    "[agent]\n\nchannel = a\0b\n", 22, 3, "control character 0x00");
}

static void
test_too_many(void **state)
{
	char text[4096], *w = text;
	size_t i, left = sizeof(text);
	int n;

	(void)state;
	n = snprintf(w, left, "[agent]\n");
	w += n, left -= (size_t)n;
	for (i = 0; i <= CONFIG_MAX_URLS; i++) {
		n = snprintf(w, left, "url = http://m%zu.example/\n", i);
		w += n, left -= (size_t)n;
	}
	check_bad(text, strlen(text), CONFIG_MAX_URLS + 2, "more than 8 url");

	w = text, left = sizeof(text);
	n = snprintf(w, left, "[agent]\nurl = http://a/\n");
	w += n, left -= (size_t)n;
	for (i = 0; i <= CONFIG_MAX_PROBES; i++) {
		n = snprintf(w, left, "probe = h%zu:1\n", i);
		w += n, left -= (size_t)n;
	}
	check_bad(
	    text, strlen(text), CONFIG_MAX_PROBES + 3, "more than 16 probe");
}

/*
 * Debian's inih reads lines into a 200-byte buffer: 199 characters (after
 * the indentation, before the line end) fit, 200 must be refused rather
 * than split into two lines.
 */
static void
test_long_lines(void **state)
{
	static const char head[] = "url = http://h.example/";
	char text[1000], url[400];
	struct rk_why why;
	struct config c;
	size_t pad;

	(void)state;
	pad = 199 - strlen(head);
	snprintf(
	    text, sizeof(text), "[agent]\n\t\t%s%0*d\n", head, (int)pad, 0);
	config_init(&c);
	assert_int_equal(load_text(&c, text, &why), RK_OK);
	snprintf(url, sizeof(url), "http://h.example/%0*d", (int)pad, 0);
	assert_string_equal(c.urls[0], url);
	assert_int_equal(strlen(c.urls[0]) + strlen("url = "), 199);
	config_free(&c);

	/* Comments may be longer: what does not fit is dropped. */
	snprintf(text, sizeof(text),
	    "; %0400d\n[agent]\n  # %0300d\ninterval = 1\n", 0, 0);
	config_init(&c);
	assert_int_equal(load_text(&c, text, &why), RK_OK);
	assert_int_equal(c.interval, 1);
	config_free(&c);

	snprintf(
	    text, sizeof(text), "[agent]\n%s%0*d\n", head, (int)pad + 1, 0);
	check_bad(text, strlen(text), 2, "line longer than 199 characters");
	snprintf(text, sizeof(text), "[agent]\n%s%0*d\ninterval = 1\n", head,
	    400, 0);
	check_bad(text, strlen(text), 2, "line longer than");
}

static void
test_open_errors(void **state)
{
	struct config c, fresh;
	struct rk_why why;
	char p[128];

	(void)state;
	config_init(&c);
	config_init(&fresh);
	snprintf(p, sizeof(p), "%s/no-such.conf", tmpdir);
	assert_int_equal(config_load(&c, p, &why), RK_ENOENT);
	assert_non_null(strstr(why.msg, p));
	assert_memory_equal(&c, &fresh, sizeof(c));

	snprintf(p, sizeof(p), "%s/subdir", tmpdir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(config_load(&c, p, &why), RK_EIO);
	assert_non_null(strstr(why.msg, p));
	assert_non_null(strstr(why.msg, ": read failed: "));
	assert_memory_equal(&c, &fresh, sizeof(c));
	assert_int_equal(config_load(&c, p, NULL), RK_EIO);
}

struct dur_case {
	const char *s;
	int64_t want;
};

static void
test_durations(void **state)
{
	static const struct dur_case good[] = {{"0", 0}, {"1", 1}, {"90", 90},
	    {"90s", 90}, {"30m", 1800}, {"6h", 21600}, {"1d", 86400},
	    {"007m", 420}, {"0d", 0}, {"2147483647", 2147483647LL},
	    {"2147483647s", 2147483647LL}, {"24855d", 2147472000LL},
	    {"35791394m", 2147483640LL}, {"596523h", 2147482800LL}};
	static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "6x",
	    "6hh", "h", "s", "1.5h", "6H", "6M", "0x10", "1e3", "6h ",
	    "99999999999999999999d", "99999999999999999999",
	    "18446744073709551616", "18446744073709551615", "2147483648",
	    "2147483648s", "24856d", "35791395m", "596524h", "-0"};
	int64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -7;
		if (config_parse_duration(good[i].s, &v) != RK_OK)
			fail_msg("refused \"%s\"", good[i].s);
		assert_int_equal(v, good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -7;
		if (config_parse_duration(bad[i], &v) != RK_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(v, -7);
	}
	assert_int_equal(config_parse_duration(NULL, &v), RK_EINVAL);
}

struct size_case {
	const char *s;
	uint64_t want;
};

static void
test_sizes(void **state)
{
	static const struct size_case good[] = {{"0", 0}, {"1", 1},
	    {"1023", 1023}, {"1K", 1024}, {"512K", 524288}, {"4M", 4194304},
	    {"1G", 1073741824}, {"0G", 0}, {"1048576K", 1073741824},
	    {"1024M", 1073741824}, {"1073741824", 1073741824}};
	static const char *const bad[] = {"", "-1", "+1", " 4M", "4M ", "4 M",
	    "4m", "4k", "4g", "4MB", "4MiB", "M", "1.5M", "1T", "2G", "1025M",
	    "1048577K", "1073741825", "99999999999999999999",
	    "18446744073709551615", "99999999999999999999G", "0x10"};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 7;
		if (config_parse_size(good[i].s, &v) != RK_OK)
			fail_msg("refused \"%s\"", good[i].s);
		assert_int_equal(v, good[i].want);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		if (config_parse_size(bad[i], &v) != RK_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(v, 7);
	}
	assert_int_equal(config_parse_size(NULL, &v), RK_EINVAL);
}

struct probe_case {
	const char *s;
	const char *host;
	unsigned port;
};

static void
test_probes(void **state)
{
	static const struct probe_case good[] = {
	    {"myhub.azure-devices.net:8883", "myhub.azure-devices.net", 8883},
	    {"a:1", "a", 1},
	    {"Host_name-1.X:65535", "Host_name-1.X", 65535},
	    {"127.0.0.1:80", "127.0.0.1", 80},
	    {"[::1]:443", "::1", 443},
	    {"[2001:db8::1]:8883", "2001:db8::1", 8883},
	    {"[::ffff:192.0.2.1]:1", "::ffff:192.0.2.1", 1},
	    {"h:00443", "h", 443},
	};
	static const char *const bad[] = {"", ":80", "host", "host:", "host:0",
	    "host:65536", "host:99999999999999999999", "host:+1", "host:-1",
	    "host:8a", "host:80 ", " host:80", "ho st:80", "h/st:80", "h@st:80",
	    "::1:80", "[::1]80", "[::1]", "[::1]:", "[]:80", "[zz]:80",
	    "[127.0.0.1]:80", "[fe80::1%eth0]:80", "[::1]:80x", "[::1:80",
	    "host:80:81", "h\xc3\xa9:80"};
	char host[300], big[400];
	unsigned port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		port = 7;
		if (config_parse_probe(good[i].s, host, sizeof(host), &port) !=
		    RK_OK)
			fail_msg("refused \"%s\"", good[i].s);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		port = 7;
		snprintf(host, sizeof(host), "untouched");
		if (config_parse_probe(bad[i], host, sizeof(host), &port) !=
		    RK_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(port, 7);
		assert_string_equal(host, "untouched");
	}
	assert_int_equal(
	    config_parse_probe(NULL, host, sizeof(host), &port), RK_EINVAL);

	/* hostlen counts the NUL. */
	assert_int_equal(
	    config_parse_probe("abc:1", host, 3, &port), RK_EINVAL);
	assert_int_equal(config_parse_probe("abc:1", host, 4, &port), RK_OK);
	assert_string_equal(host, "abc");
	assert_int_equal(
	    config_parse_probe("[::1]:2", host, 3, &port), RK_EINVAL);
	assert_int_equal(config_parse_probe("[::1]:2", host, 4, &port), RK_OK);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 2);

	/* 253 characters is the longest name; 254 is too long. */
	memset(big, 'a', 253);
	snprintf(big + 253, sizeof(big) - 253, ":9");
	assert_int_equal(
	    config_parse_probe(big, host, sizeof(host), &port), RK_OK);
	assert_int_equal(strlen(host), 253);
	memset(big, 'a', 254);
	snprintf(big + 254, sizeof(big) - 254, ":9");
	assert_int_equal(
	    config_parse_probe(big, host, sizeof(host), &port), RK_EINVAL);
}

static void
check_export(const char *db, const char *export_pem, const char *want)
{
	struct config c;
	char *p;

	config_init(&c);
	c.db = (char *)db;
	c.export_pem = (char *)export_pem;
	p = config_export_path(&c, NULL);
	assert_non_null(p);
	assert_string_equal(p, want);
	free(p);
}

static void
test_export_path(void **state)
{
	struct rk_why why;
	struct config c;
	char *p;

	(void)state;
	check_export("/var/lib/rootkeeper/store.db", NULL,
	    "/var/lib/rootkeeper/trust.pem");
	check_export("/var/lib/rootkeeper/store.db", "/etc/ssl/rk.pem",
	    "/etc/ssl/rk.pem");
	check_export("store.db", NULL, "./trust.pem");
	check_export("data/store.db", NULL, "data/trust.pem");
	check_export("/store.db", NULL, "/trust.pem");
	check_export("/a//b///store.db", NULL, "/a//b/trust.pem");
	check_export(NULL, NULL, "/var/lib/rootkeeper/trust.pem");
	check_export(NULL, "x.pem", "x.pem");

	/* And through a loaded file. */
	config_init(&c);
	assert_int_equal(
	    load_text(&c, "[agent]\ndb = /srv/rk/s.db\n", &why), RK_OK);
	p = config_export_path(&c, NULL);
	assert_string_equal(p, "/srv/rk/trust.pem");
	free(p);
	/* A store chosen with --db takes the export with it. */
	p = config_export_path(&c, "/elsewhere/s.db");
	assert_string_equal(p, "/elsewhere/trust.pem");
	free(p);
	config_free(&c);
	assert_int_equal(load_text(&c, design_example, &why), RK_OK);
	p = config_export_path(&c, NULL);
	assert_string_equal(p, "/var/lib/rootkeeper/trust.pem");
	free(p);
	config_free(&c);
}

static void
test_log_levels(void **state)
{
	(void)state;
	assert_int_equal(log_level_from_name("error"), LOG_LVL_ERROR);
	assert_int_equal(log_level_from_name("warn"), LOG_LVL_WARN);
	assert_int_equal(log_level_from_name("info"), LOG_LVL_INFO);
	assert_int_equal(log_level_from_name("debug"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_from_name("warning"), -1);
	assert_int_equal(log_level_from_name("Info"), -1);
	assert_int_equal(log_level_from_name(""), -1);
	assert_int_equal(log_level_from_name(NULL), -1);
}

/* Runs the logging calls of step with stderr sent to a file; returns it. */
static char *
capture_stderr(void (*step)(void))
{
	char p[128], *buf;
	int saved, fd;
	FILE *f;
	long n;

	snprintf(p, sizeof(p), "%s/log.txt", tmpdir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	step();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);

	f = fopen(p, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void
log_steps_warn(void)
{
	log_setup(0, LOG_LVL_WARN, "rktest");
	log_debug("hidden %d", 1);
	log_info("hidden %d", 2);
	log_warn("shown %d", 3);
	errno = EAGAIN;
	log_error("two\nlines\tand\x1b[31m escape");
	assert_int_equal(errno, EAGAIN);
}

static void
log_steps_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_setup(0, LOG_LVL_DEBUG, NULL);
	log_debug("%s", big);
	log_msg(LOG_LVL_DEBUG + 1, "above debug: dropped");
	log_msg(-5, "below error: an error");
}

static void
log_steps_syslog(void)
{
	log_setup(1, LOG_LVL_DEBUG, "rktest");
	log_error("to syslog, not stderr");
	log_debug("to syslog, not stderr");
	log_setup(0, LOG_LVL_INFO, "rktest");
	log_info("back on stderr");
}

/* device_id and census, and the machine-id fallback. */
static void
test_device_id(void **state)
{
	char id[CONFIG_DEVICE_ID_MAX + 1], mid[128];
	struct rk_why why;
	struct config c;
	FILE *f;

	(void)state;
	snprintf(mid, sizeof(mid), "%s/machine-id", tmpdir);
	config_init(&c);
	assert_int_equal(
	    load_text(&c,
		"[agent]\ndevice_id = "
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxx\ncensus = no\n",
		&why),
	    RK_OK);
	assert_int_equal(strlen(c.device_id), CONFIG_DEVICE_ID_MAX);
	assert_int_equal(c.census, 0);
	assert_int_equal(
	    load_text(
		&c, "[agent]\ndevice_id = dev-0042/A\ncensus = yes\n", &why),
	    RK_OK);
	assert_string_equal(c.device_id, "dev-0042/A");
	assert_int_equal(c.census, 1);
	/* The config's id wins over the file's. */
	f = fopen(mid, "w");
	assert_non_null(f);
	fputs("0123456789abcdef0123456789abcdef\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_device_id(&c, mid, id), RK_OK);
	assert_string_equal(id, "dev-0042/A");
	assert_int_equal(load_text(&c, "[agent]\n", &why), RK_OK);
	assert_int_equal(config_device_id(&c, mid, id), RK_OK);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	/* An empty or unusable file gives no id; out stays as it was. */
	f = fopen(mid, "w");
	assert_non_null(f);
	fputs("\nsecond line\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_device_id(&c, mid, id), RK_ENOENT);
	assert_string_equal(id, "0123456789abcdef0123456789abcdef");
	unlink(mid);
	assert_int_equal(config_device_id(&c, mid, id), RK_ENOENT);
	config_free(&c);
}

/* Whether syslog(3) has a socket to write to here. */
static int
syslog_socket(void)
{
	struct stat st;

	return stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
}

static void
test_log_stderr(void **state)
{
	char want[512], *got, *nl;
	long pid = (long)getpid();

	(void)state;
	got = capture_stderr(log_steps_warn);
	snprintf(want, sizeof(want),
	    "rktest[%ld]: warn: shown 3\n"
	    "rktest[%ld]: error: two?lines?and?[31m escape\n",
	    pid, pid);
	assert_string_equal(got, want);
	free(got);

	got = capture_stderr(log_steps_long);
	nl = strchr(got, '\n');
	assert_non_null(nl);
	snprintf(want, sizeof(want), "rootkeeper[%ld]: debug: ", pid);
	assert_memory_equal(got, want, strlen(want));
	/* 1023 bytes of message, the last three of them "...". */
	assert_int_equal((size_t)(nl - got), strlen(want) + 1023);
	assert_memory_equal(nl - 4, "x...", 4);
	snprintf(want, sizeof(want),
	    "rootkeeper[%ld]: error: below error: "
	    "an error\n",
	    pid);
	assert_string_equal(nl + 1, want);
	free(got);

	got = capture_stderr(log_steps_syslog);
	if (syslog_socket()) {
		snprintf(want, sizeof(want),
		    "rktest[%ld]: info: back on stderr\n", pid);
	} else {
		/* Nothing would read syslog(3): stderr, and it says so. */
		snprintf(want, sizeof(want),
		    "rktest[%ld]: warn: log = syslog, but there is no syslog "
		    "socket at /dev/log: logging to stderr\n"
		    "rktest[%ld]: error: to syslog, not stderr\n"
		    "rktest[%ld]: debug: to syslog, not stderr\n"
		    "rktest[%ld]: info: back on stderr\n",
		    pid, pid, pid, pid);
	}
	assert_string_equal(got, want);
	free(got);
	log_setup(0, LOG_LVL_INFO, NULL);
}

/*
 * Under journald (JOURNAL_STREAM names stderr) a line carries its syslog
 * priority for the journal and no pid, which the journal records itself;
 * a JOURNAL_STREAM that names another stream changes nothing.
 */
static void
log_steps_journal(void)
{
	struct stat st;
	char js[64];

	assert_int_equal(fstat(2, &st), 0);
	snprintf(js, sizeof(js), "%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
	log_setup(0, LOG_LVL_DEBUG, "rktest");
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	snprintf(js, sizeof(js), "%ju:%ju", (uintmax_t)st.st_dev,
	    (uintmax_t)st.st_ino + 1);
	assert_int_equal(setenv("JOURNAL_STREAM", js, 1), 0);
	log_setup(0, LOG_LVL_DEBUG, "rktest");
	log_info("not the journal");
	assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
	log_setup(0, LOG_LVL_INFO, NULL);
}

static void
test_log_journal(void **state)
{
	char want[256], *got;

	(void)state;
	got = capture_stderr(log_steps_journal);
	snprintf(want, sizeof(want),
	    "<3>error: e\n<4>warn: w\n<6>info: i\n<7>debug: d\n"
	    "rktest[%ld]: info: not the journal\n",
	    (long)getpid());
	assert_string_equal(got, want);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_default_path_missing),
	    cmocka_unit_test(test_design_example),
	    cmocka_unit_test(test_every_key),
	    cmocka_unit_test(test_repeated_order),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_too_many),
	    cmocka_unit_test(test_long_lines),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_probes),
	    cmocka_unit_test(test_export_path),
	    cmocka_unit_test(test_log_levels),
	    cmocka_unit_test(test_device_id),
	    cmocka_unit_test(test_log_stderr),
	    cmocka_unit_test(test_log_journal),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
