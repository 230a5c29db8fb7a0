/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URLs as the agent shows them (see url.h): pure string work, no
 * dependency, so that the config reader, the transfer adapter and the
 * command line share one notion of "a URL we take" and "a URL we may
 * show".  It does not parse URLs fully or check hosts: libcurl does that.
 */
#include "url.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* 1 if url starts with "<scheme>://", ignoring case. */
static int
has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 &&
	       strncmp(url + n, "://", 3) == 0;
}

int
url_scheme_ok(const char *url)
{
	static const char *const schemes[] = {"http", "https", "file"};
	size_t i;

	if (url == NULL)
		return 0;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (has_scheme(url, schemes[i]) &&
		    url[strlen(schemes[i]) + 3] != '\0')
			return 1;
	return 0;
}

/*
 * Where the password of url is: *off and *len (0, 0 when there is none).
 * The userinfo ends at the last '@' before the path (too much, never too
 * little); without "://" the string is read as "user:pass@host..." too,
 * as libcurl would.
 */
static void
password_span(const char *url, size_t *off, size_t *len)
{
	const char *auth, *end, *at = NULL, *colon, *p;

	*off = *len = 0;
	auth = strstr(url, "://");
	auth = auth != NULL ? auth + 3 : url;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL)
		return;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon - 1);
}

int
url_redact(const char *url, char *out, size_t cap)
{
	size_t off, len, n = strlen(url), r = strlen(URL_REDACTED);

	if (cap == 0)
		return RK_ELIMIT;
	out[0] = '\0';
	password_span(url, &off, &len);
	if (off == 0) {
		if (n >= cap)
			return RK_ELIMIT;
		memcpy(out, url, n + 1);
		return RK_OK;
	}
	if (n - len + r >= cap)
		return RK_ELIMIT;
	memcpy(out, url, off);
	memcpy(out + off, URL_REDACTED, r);
	memcpy(out + off + r, url + off + len, n - off - len + 1);
	return RK_OK;
}

void
url_hide_password(char *url)
{
	size_t off, len;

	password_span(url, &off, &len);
	memset(url + off, '*', len);
}
