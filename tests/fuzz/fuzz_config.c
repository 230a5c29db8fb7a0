/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the agent's configuration file: config_load reads
 * the input through a path (a memfd, rewritten for each input, so no disk
 * is touched), and the three value parsers see the input as a string.
 * Besides memory errors it checks what config.h promises: a file that
 * loads holds only allowed URLs, valid probes and values within their
 * bounds, each string taken verbatim from the file, and loads again to the
 * same result into the struct it filled; a file that does not load leaves
 * the struct as config_init() did and says why, starting with the path
 * and a line the file has.  The value parsers are compared with simple
 * reference parsers written here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "manifest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST_MAX 253

static int memfd = -1;
static char path[64];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz_config", MFD_CLOEXEC);
	if (memfd < 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void
write_input(const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;

	if (ftruncate(memfd, 0) != 0)
		abort();
	while (done < size) {
		n = pwrite(memfd, data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

/*
 * Reference for config_parse_duration and config_parse_size: digits, then
 * at most one unit from units (whose multipliers are mults).  0 when s is
 * not of that shape or the value exceeds max.
 */
static int
ref_number(const char *s, const char *units, const uint64_t *mults,
    uint64_t max, uint64_t *out)
{
	uint64_t v = 0, mult = 1;
	const char *u;
	size_t i;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return 0; /* stays too big: digits only add */
	}
	if (s[i] != '\0') {
		u = strchr(units, s[i]);
		if (u == NULL || s[i + 1] != '\0')
			return 0;
		mult = mults[u - units];
	}
	if (v > max / mult)
		return 0;
	*out = v * mult;
	return 1;
}

static void
check_values(const char *s)
{
	static const uint64_t dur_mults[] = {1, 60, 3600, 86400};
	static const uint64_t size_mults[] = {
	    1ULL << 10, 1ULL << 20, 1ULL << 30};
	char host[HOST_MAX + 2], host2[HOST_MAX + 2], again[HOST_MAX + 16];
	int64_t d = -1;
	uint64_t n = 0, want = 0;
	unsigned port = 0, port2 = 0;
	size_t hl;
	int ok;

	ok = ref_number(s, "smhd", dur_mults, CONFIG_DURATION_MAX, &want);
	if ((config_parse_duration(s, &d) == RK_OK) != ok ||
	    (ok && (uint64_t)d != want) || (!ok && d != -1))
		abort();
	ok = ref_number(s, "KMG", size_mults, CONFIG_SIZE_MAX, &want);
	if ((config_parse_size(s, &n) == RK_OK) != ok || (ok && n != want) ||
	    (!ok && n != 0))
		abort();

	/* Written on success only. */
	memset(host, 'x', sizeof(host));
	if (config_parse_probe(s, host, sizeof(host), &port) != RK_OK) {
		if (port != 0 || host[0] != 'x')
			abort();
		return;
	}
	hl = strlen(host);
	if (port < 1 || port > 65535 || hl == 0 || hl > HOST_MAX)
		abort();
	/* One byte short of room for the host: refused, nothing written. */
	memset(host2, 'x', sizeof(host2));
	if (config_parse_probe(s, host2, hl, &port2) != RK_EINVAL ||
	    host2[0] != 'x' || port2 != 0)
		abort();
	/* Written back in the form it must have had, it reads the same. */
	snprintf(again, sizeof(again),
	    strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host, port);
	if (config_parse_probe(again, host2, sizeof(host2), &port2) != RK_OK ||
	    strcmp(host, host2) != 0 || port != port2)
		abort();
}

static int
url_allowed(const char *u)
{
	static const char *const schemes[] = {"http://", "https://", "file://"};
	size_t i, n;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i]);
		if (strncmp(u, schemes[i], n) == 0)
			break;
	}
	if (i == sizeof(schemes) / sizeof(schemes[0]) || u[n] == '\0')
		return 0;
	for (u += n; *u != '\0'; u++)
		if ((unsigned char)*u <= ' ' || (unsigned char)*u >= 0x7f)
			return 0;
	return 1;
}

/* A value taken from the file appears in it as it is. */
static int
from_file(const char *v, const uint8_t *data, size_t size)
{
	return v != NULL && *v != '\0' &&
	       memmem(data, size, v, strlen(v)) != NULL;
}

static int
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
same_config(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->n_urls != b->n_urls || a->n_probes != b->n_probes ||
	    strcmp(a->channel, b->channel) != 0 || !str_eq(a->db, b->db) ||
	    !str_eq(a->export_pem, b->export_pem) ||
	    a->interval != b->interval || a->jitter != b->jitter ||
	    a->max_bundle_size != b->max_bundle_size ||
	    a->keep_versions != b->keep_versions ||
	    a->log_target != b->log_target || a->log_level != b->log_level)
		return 0;
	for (i = 0; i < a->n_urls; i++)
		if (strcmp(a->urls[i], b->urls[i]) != 0)
			return 0;
	for (i = 0; i < a->n_probes; i++)
		if (strcmp(a->probes[i], b->probes[i]) != 0)
			return 0;
	return 1;
}

static void
check_loaded(const struct config *c, const uint8_t *data, size_t size)
{
	char host[HOST_MAX + 1], *exp;
	unsigned port;
	size_t i;

	if (c->n_urls > CONFIG_MAX_URLS || c->n_probes > CONFIG_MAX_PROBES ||
	    c->interval < 1 || c->interval > CONFIG_DURATION_MAX ||
	    c->jitter < 0 || c->jitter > CONFIG_DURATION_MAX ||
	    c->keep_versions < 1 || c->keep_versions > 1000 ||
	    c->max_bundle_size < 1024 || c->max_bundle_size > CONFIG_SIZE_MAX ||
	    (c->log_target != LOG_TO_STDERR &&
		c->log_target != LOG_TO_SYSLOG) ||
	    c->log_level < LOG_LVL_ERROR || c->log_level > LOG_LVL_DEBUG)
		abort();
	for (i = 0; i < c->n_urls; i++)
		if (!url_allowed(c->urls[i]) ||
		    !from_file(c->urls[i], data, size))
			abort();
	for (i = 0; i < c->n_probes; i++)
		if (config_parse_probe(
			c->probes[i], host, sizeof(host), &port) != RK_OK ||
		    !from_file(c->probes[i], data, size))
			abort();
	if (c->channel[0] != '\0' && (!manifest_channel_ok(c->channel) ||
					 !from_file(c->channel, data, size)))
		abort();
	if (c->db == NULL || (strcmp(c->db, CONFIG_DEFAULT_DB) != 0 &&
				 !from_file(c->db, data, size)))
		abort();
	if (c->export_pem != NULL && !from_file(c->export_pem, data, size))
		abort();
	exp = config_export_path(c, NULL);
	if (exp == NULL || *exp == '\0' ||
	    (c->export_pem != NULL && strcmp(exp, c->export_pem) != 0))
		abort();
	free(exp);
}

/*
 * A failure's why: "PATH: reason" or "PATH:LINE: reason" with a line the
 * file has (a file ending without a newline still has its last line).
 */
static void
check_why(const char *msg, const uint8_t *data, size_t size)
{
	size_t plen = strlen(path), lines = 1, i;
	unsigned long line = 0;
	const char *p;

	if (strncmp(msg, path, plen) != 0 || msg[plen] != ':' ||
	    msg[plen + 1] == '\0')
		abort();
	p = msg + plen + 1;
	if (*p < '0' || *p > '9')
		return;
	for (; *p >= '0' && *p <= '9' && line <= size + 1; p++)
		line = line * 10 + (unsigned long)(*p - '0');
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (*p != ':' || line < 1 || line > lines)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, fresh, copy;
	struct rk_why why;
	char *s;
	int rc;

	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	check_values(s);
	free(s);

	write_input(data, size);
	config_init(&c);
	config_init(&fresh);
	memset(&why, 0, sizeof(why));
	rc = config_load(&c, path, &why);
	if (rc == RK_ENOMEM)
		return 0;
	if (rc != RK_OK) {
		if (rc != RK_EINVAL || memcmp(&c, &fresh, sizeof(c)) != 0)
			abort();
		check_why(why.msg, data, size);
		return 0;
	}
	check_loaded(&c, data, size);
	/* A reload into the filled struct replaces it: same as a fresh load. */
	config_init(&copy);
	if (config_load(&copy, path, &why) != RK_OK)
		abort();
	if (config_load(&c, path, &why) != RK_OK || !same_config(&c, &copy))
		abort();
	config_free(&copy);
	config_free(&c);
	return 0;
}
