/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Times as the bundle format writes them: RFC 3339 in UTC with whole
 * seconds, exactly "YYYY-MM-DDTHH:MM:SSZ" (20 characters).  Offsets other
 * than Z, fractions, lower-case separators and leap seconds are refused, so
 * one instant has one spelling.  Pure arithmetic: no locale, no TZ, no libc
 * time functions.
 */
#ifndef RK_RFC3339_H
#define RK_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define RFC3339_LEN 20 /* without the terminating NUL */

/*
 * Parses s[0..len) into seconds since 1970-01-01T00:00:00Z.  Years 1970 to
 * 9999.  RK_EFORMAT for anything else; *out is written only on success.
 */
int rfc3339_parse(const char *s, size_t len, int64_t *out) RK_WUR;

/* Writes t as RFC3339_LEN characters and a NUL; RK_EINVAL out of range. */
int rfc3339_format(int64_t t, char out[RFC3339_LEN + 1]) RK_WUR;

/*
 * t for people to read (messages, listings): as rfc3339_format writes it,
 * or "(out of range)" when it cannot be written.
 */
void rfc3339_show(int64_t t, char out[RFC3339_LEN + 1]);

/*
 * The same for a time that may be unset (the agent's store keeps 0 for a
 * time it has not recorded): "-" for 0 or less and for a time that cannot
 * be written.
 */
void rfc3339_show_opt(int64_t t, char out[RFC3339_LEN + 1]);

/* Days since 1970-01-01 of a proleptic Gregorian date (valid input). */
int64_t rfc3339_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
