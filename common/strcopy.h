/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bounded string copy into fixed arrays: the one way the project copies a
 * string into a struct field.  It always terminates and cuts what does
 * not fit (the fields it fills are for display and logs, where a cut
 * string is better than none).
 */
#ifndef RK_STRCOPY_H
#define RK_STRCOPY_H

#include <stddef.h>
#include <string.h>

/* Copies src (NULL: "") into dst[0..cap), cap > 0; returns dst. */
static inline char *
str_copy(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return dst;
}

#endif
