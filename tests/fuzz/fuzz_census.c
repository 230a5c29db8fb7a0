/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the access-log parser of the census
 * (signing/census.c).  The input is split into lines, each parsed alone and
 * added to one census.  Besides memory errors it checks that an accepted
 * line names a valid channel, a non-empty agent version and versions within
 * the format's range, that parse and add agree, and that every channel's
 * tallies add up: as many devices by agent version as the channel has,
 * never more by active or deferred version, and the channels together as
 * many as the census.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "census.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
sum(const struct census *c, size_t i, enum census_kind kind)
{
	struct census_count *cnt = NULL;
	size_t n = 0, k, total = 0;

	if (census_tally(c, i, kind, &cnt, &n) != RK_OK)
		abort();
	for (k = 0; k < n; k++) {
		if (cnt[k].count == 0 || cnt[k].key[0] == '\0')
			abort();
		total += cnt[k].count;
	}
	free(cnt);
	return total;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *nl;
	struct census *c = NULL;
	struct census_line l;
	size_t left = size, n, i, all = 0, dev;
	int rc, rc2;

	if (census_new(&c) != RK_OK)
		return 0;
	while (left > 0) {
		nl = memchr(s, '\n', left);
		n = nl != NULL ? (size_t)(nl - s) : left;
		rc = census_parse_line(s, n, &l);
		if (rc == RK_OK &&
		    (!manifest_channel_ok(l.channel) || l.agent[0] == '\0' ||
			l.active > MANIFEST_VERSION_MAX ||
			l.highest > MANIFEST_VERSION_MAX ||
			l.deferred > MANIFEST_VERSION_MAX))
			abort();
		if (rc != RK_OK && rc != RK_ENOENT && rc != RK_EFORMAT)
			abort();
		rc2 = census_add(c, s, n);
		if (rc2 != rc && rc2 != RK_ENOMEM)
			abort();
		s += n;
		left -= n;
		if (left > 0) {
			s++;
			left--;
		}
	}
	for (i = 0; i < census_nchannels(c); i++) {
		dev = sum(c, i, CENSUS_DEVICES);
		if (sum(c, i, CENSUS_AGENTS) != dev ||
		    sum(c, i, CENSUS_ACTIVE) > dev ||
		    sum(c, i, CENSUS_DEFERRED) > dev)
			abort();
		all += dev;
	}
	if (all != census_devices(c))
		abort();
	census_free(c);
	return 0;
}
