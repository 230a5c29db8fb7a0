/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key-rotation catch-up, the parts that are pure functions: where the
 * rotation bundles of a channel are published (beside latest.rkb, under
 * rotations/), and the index that lists them.  The index is unsigned, a
 * hint of which files to try: every step is verified under the keys the
 * step before pinned, so a server that lies in it can only make a device
 * wait, never pin a key the old ones did not sign for.  Fetching and
 * verifying the steps is the agent's (agent.c).
 */
#ifndef RK_ROTATION_H
#define RK_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ROTATION_INDEX_MAX 65536 /* bytes of index.txt */
#define ROTATION_MAX_STEPS 32	 /* rotation bundles fetched in one walk */

/*
 * Parses an index.txt: decimal versions 1 .. 2^53-1 (no sign, no leading
 * zero), each followed by a line feed (the last one may lack it), nothing
 * else, at most ROTATION_INDEX_MAX bytes.  *out gets the versions sorted
 * ascending without repeats (malloc'ed, caller frees; NULL when n is 0).
 * RK_EFORMAT for anything else (why says which line), RK_ENOMEM.
 */
int rotation_index_parse(const uint8_t *buf, size_t len, uint64_t **out,
    size_t *n, struct rk_why *why) RK_WUR;

/*
 * The URL of a rotation file published beside latest_url: the same URL
 * up to its last '/' (query and fragment dropped), then "rotations/" and
 * "index.txt" (version 0) or "<version>.rkb".  RK_EINVAL when latest_url
 * has no path or the result does not fit cap bytes.
 */
int rotation_url(
    const char *latest_url, uint64_t version, char *out, size_t cap) RK_WUR;

#endif
