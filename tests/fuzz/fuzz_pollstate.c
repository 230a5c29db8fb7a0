/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the file an unchanged poll leaves beside the store
 * (agent/pollstate.c): besides memory errors it checks that a record that
 * parses encodes again to the same bytes (a version 1 record as version 2
 * without a store record), and that its detail is text of at most
 * POLLSTATE_DETAIL_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pollstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pollstate ps;
	uint8_t *enc = NULL;
	size_t len = 0;
	int v1;

	if (pollstate_parse(data, size, &ps) != RK_OK)
		return 0;
	if (strlen(ps.detail) > POLLSTATE_DETAIL_MAX)
		abort();
	if (pollstate_encode(&ps, &enc, &len) != RK_OK)
		abort();
	/* Version 1 (no store record) encodes as version 2 without one. */
	v1 = data[7] == 1;
	if (len != size + (v1 ? 1 : 0) || enc[7] != 2 ||
	    memcmp(enc, data, 7) != 0 ||
	    memcmp(enc + 8, data + 8, size - 8) != 0 || (v1 && enc[size] != 0))
		abort();
	free(enc);
	return 0;
}
