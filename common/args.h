/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line number parsing shared by the two programs: strict decimal,
 * no sign, no spaces, no trailing text, within a range.  (atoi and friends
 * accept all of those silently, which is why they are banned.)
 */
#ifndef RK_ARGS_H
#define RK_ARGS_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* 0 and *out set when s is a decimal in [min, max]; -1 otherwise. */
static inline int
args_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

#endif
