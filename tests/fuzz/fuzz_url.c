/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the URL redaction every message, event and stored
 * state of the agent goes through (url_redact), and the scheme check
 * (url_scheme_ok).  The input, up to its first NUL, is the URL.  Beyond
 * memory errors it checks what url.h promises, against a reference
 * written here: the password (between the first ':' of the userinfo and
 * its last '@') is replaced by "***" and everything else is kept byte for
 * byte; a redacted URL redacts to itself; with a buffer too small the
 * result is RK_ELIMIT and "", never a cut URL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The expected redaction of in, malloc'ed. */
static char *
reference(const char *in)
{
	const char *auth = strstr(in, "://"), *end, *at = NULL, *colon = NULL;
	const char *p;
	size_t n = strlen(in);
	char *out = malloc(n + sizeof(URL_REDACTED));

	if (out == NULL)
		abort();
	auth = auth != NULL ? auth + 3 : in;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	for (p = auth; at != NULL && p < at; p++)
		if (*p == ':') {
			colon = p;
			break;
		}
	if (colon == NULL) {
		memcpy(out, in, n + 1);
		return out;
	}
	memcpy(out, in, (size_t)(colon + 1 - in));
	memcpy(out + (colon + 1 - in), URL_REDACTED, strlen(URL_REDACTED));
	memcpy(
	    out + (colon + 1 - in) + strlen(URL_REDACTED), at, strlen(at) + 1);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in, *want, *out, *again;
	size_t cap, k;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	cap = strlen(in) + sizeof(URL_REDACTED) + 1;
	want = reference(in);
	out = malloc(cap);
	again = malloc(cap);
	if (out == NULL || again == NULL)
		abort();
	if (url_redact(in, out, cap) != RK_OK || strcmp(out, want) != 0) {
		fprintf(stderr, "redacted \"%s\" to \"%s\", want \"%s\"\n", in,
		    out, want);
		abort();
	}
	if (url_redact(out, again, cap) != RK_OK || strcmp(again, out) != 0)
		abort(); /* not a fixed point */
	for (k = 1; k < cap && k < 64; k++) {
		int rc = url_redact(in, again, k);

		if (rc == RK_OK && strcmp(again, want) != 0)
			abort();
		if (rc != RK_OK && (rc != RK_ELIMIT || again[0] != '\0'))
			abort();
		if ((rc == RK_OK) != (strlen(want) < k))
			abort();
	}
	(void)url_scheme_ok(in);
	free(in);
	free(want);
	free(out);
	free(again);
	return 0;
}
