/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 3339 UTC timestamps, parsed and printed by hand so that the result
 * never depends on the process's time zone or locale.  The calendar
 * arithmetic is Howard Hinnant's days_from_civil/civil_from_days.
 */
#include "rfc3339.h"

#include <string.h>

#define MAX_TIME 253402300799LL /* 9999-12-31T23:59:59Z */

static int
digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return RK_EFORMAT;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return RK_OK;
}

int64_t
rfc3339_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static unsigned
days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29u : dim[m - 1];
}

int
rfc3339_parse(const char *s, size_t len, int64_t *out)
{
	unsigned y, mo, d, h, mi, se;

	if (len != RFC3339_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return RK_EFORMAT;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) ||
	    digits(s + 17, 2, &se))
		return RK_EFORMAT;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
		return RK_EFORMAT;
	*out =
	    rfc3339_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return RK_OK;
}

static void
put_digits(char *out, unsigned v, int n)
{
	while (n-- > 0) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int
rfc3339_format(int64_t t, char out[RFC3339_LEN + 1])
{
	int64_t z, era, doe, yoe, y, doy, mp, d, m, secs;

	if (t < 0 || t > MAX_TIME)
		return RK_EINVAL;
	z = t / 86400 + 719468;
	secs = t % 86400;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, (unsigned)m, 2);
	out[7] = '-';
	put_digits(out + 8, (unsigned)d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(secs / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(secs / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(secs % 60), 2);
	out[19] = 'Z';
	out[20] = '\0';
	return RK_OK;
}

void
rfc3339_show(int64_t t, char out[RFC3339_LEN + 1])
{
	static const char none[] = "(out of range)";

	if (rfc3339_format(t, out) != RK_OK)
		memcpy(out, none, sizeof(none));
}

void
rfc3339_show_opt(int64_t t, char out[RFC3339_LEN + 1])
{
	if (t <= 0 || rfc3339_format(t, out) != RK_OK)
		memcpy(out, "-", sizeof("-"));
}
