/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rotation index and URLs (see rotation.h).  The index parser takes
 * untrusted bytes from the update server: it checks every byte, caps the
 * size before it reads, and has a fuzz target (tests/fuzz/fuzz_rotation.c).
 */
#include "rotation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
rotation_index_parse(const uint8_t *buf, size_t len, uint64_t **out, size_t *n,
    struct rk_why *why)
{
	uint64_t *vs = NULL, v;
	size_t i = 0, cnt = 0, k, line = 1, start;

	if (len > ROTATION_INDEX_MAX)
		return rk_fail(why, RK_EFORMAT,
		    "rotation index: %zu bytes, over %d", len,
		    ROTATION_INDEX_MAX);
	/* A line is at least two bytes: this many versions at most. */
	if (len > 0 && (vs = calloc(len / 2 + 1, sizeof(*vs))) == NULL)
		return RK_ENOMEM;
	while (i < len) {
		start = i;
		v = 0;
		while (i < len && buf[i] >= '0' && buf[i] <= '9') {
			v = v * 10 + (uint64_t)(buf[i] - '0');
			if (v > MANIFEST_VERSION_MAX)
				break;
			i++;
		}
		if (i == start || buf[start] == '0' ||
		    v > MANIFEST_VERSION_MAX || (i < len && buf[i] != '\n')) {
			free(vs);
			return rk_fail(why, RK_EFORMAT,
			    "rotation index: line %zu is not a version", line);
		}
		vs[cnt++] = v;
		i++; /* the line feed, or past the end */
		line++;
	}
	if (cnt > 0)
		qsort(vs, cnt, sizeof(*vs), cmp_u64);
	for (i = k = 0; i < cnt; i++)
		if (k == 0 || vs[i] != vs[k - 1])
			vs[k++] = vs[i];
	if (k == 0) {
		free(vs);
		vs = NULL;
	}
	*out = vs;
	*n = k;
	return RK_OK;
}

int
rotation_url(const char *latest_url, uint64_t version, char *out, size_t cap)
{
	const char *scheme = strstr(latest_url, "://"), *path, *end, *slash;
	char leaf[40];
	size_t base;
	int w;

	if (scheme == NULL)
		return RK_EINVAL;
	/* The path starts after the authority; file:// has an empty one. */
	path = strchr(scheme + 3, '/');
	if (path == NULL)
		return RK_EINVAL;
	end = path + strcspn(path, "?#");
	for (slash = end - 1; *slash != '/'; slash--)
		;
	base = (size_t)(slash + 1 - latest_url);
	if (base > 4096)
		return RK_EINVAL;
	if (version == 0)
		snprintf(leaf, sizeof(leaf), "rotations/index.txt");
	else
		snprintf(
		    leaf, sizeof(leaf), "rotations/%" PRIu64 ".rkb", version);
	w = snprintf(out, cap, "%.*s%s", (int)base, latest_url, leaf);
	if (w < 0 || (size_t)w >= cap)
		return RK_EINVAL;
	return RK_OK;
}
