/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the rotation index a device reads from the update
 * server (agent/rotation.c).  Besides memory errors it checks what
 * rotation.h promises: an accepted index yields versions in 1 .. 2^53-1,
 * strictly ascending, and written back one a line it parses again to the
 * same list; a refused one leaves the outputs untouched.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "rotation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t *vs = (uint64_t *)(uintptr_t)1, *again = NULL;
	size_t n = 12345, n2 = 0, i, used = 0;
	struct rk_why why = {""};
	char *text;
	int rc;

	rc = rotation_index_parse(data, size, &vs, &n, &why);
	if (rc != RK_OK) {
		if (vs != (uint64_t *)(uintptr_t)1 || n != 12345)
			abort();
		return 0;
	}
	for (i = 0; i < n; i++)
		if (vs[i] < 1 || vs[i] > MANIFEST_VERSION_MAX ||
		    (i > 0 && vs[i] <= vs[i - 1]))
			abort();
	if ((text = malloc(n * 21 + 1)) == NULL)
		abort();
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(
		    text + used, n * 21 + 1 - used, "%" PRIu64 "\n", vs[i]);
	if (rotation_index_parse(
		(const uint8_t *)text, used, &again, &n2, &why) != RK_OK ||
	    n2 != n || (n > 0 && memcmp(again, vs, n * sizeof(*vs)) != 0))
		abort();
	free(text);
	free(again);
	free(vs);
	return 0;
}
