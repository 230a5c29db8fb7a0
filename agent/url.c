/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URLs as the agent shows them (see url.h): pure string work, no
 * dependency, so that the config reader, the transfer adapter and the
 * command line share one notion of "a URL we take" and "a URL we may
 * show".  It does not parse URLs fully or check hosts: libcurl does that.
 */
#include "url.h"

#include <limits.h>
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

int
url_redact(const char *url, char *out, size_t cap)
{
	const char *auth, *end, *at = NULL, *colon, *p;
	size_t n;
	int w;

	if (cap == 0)
		return RK_ELIMIT;
	out[0] = '\0';
	/* Without a scheme, curl would still read "user:pass@host". */
	auth = strstr(url, "://");
	auth = auth != NULL ? auth + 3 : url;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p; /* the last one: redact too much, never too
				   little */
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon == NULL) {
		n = strlen(url);
		if (n >= cap)
			return RK_ELIMIT;
		memcpy(out, url, n + 1);
		return RK_OK;
	}
	if ((size_t)(colon + 1 - url) > INT_MAX)
		return RK_ELIMIT;
	w = snprintf(out, cap, "%.*s%s%s", (int)(colon + 1 - url), url,
	    URL_REDACTED, at);
	if (w < 0 || (size_t)w >= cap) {
		out[0] = '\0';
		return RK_ELIMIT;
	}
	return RK_OK;
}
