/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the PKCS#11 URI parser of signing/p11uri.c.  Besides
 * memory errors it checks what p11uri.h promises of an accepted URI:
 * token and object present and within their PKCS#11 sizes, every field
 * NUL-terminated inside its buffer with no NUL before the end of its
 * decoded value, never both a pin-value and a pin-source, no "file:"
 * prefix left on a pin-source; and of a refused one: the struct wiped and
 * the reason a terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p11uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char empty[1];
	struct p11uri u;
	struct rk_why why = {""};
	const char *s = size == 0 ? empty : (const char *)data;
	int rc;

	rc = p11uri_parse(s, size, &u, &why);
	if (rc != RK_OK) {
		if (rc != RK_EFORMAT || !all_zero(&u, sizeof(u)) ||
		    !terminated(why.msg, sizeof(why.msg)))
			abort();
		return 0;
	}
	if (!terminated(u.token, sizeof(u.token)) ||
	    !terminated(u.object, sizeof(u.object)) ||
	    !terminated(u.module, sizeof(u.module)) ||
	    !terminated(u.pin_source, sizeof(u.pin_source)) ||
	    !terminated(u.pin, sizeof(u.pin)))
		abort();
	if (u.token[0] == '\0' || u.object[0] == '\0' ||
	    strlen(u.token) > P11URI_TOKEN_MAX ||
	    (u.has_pin && u.pin_source[0] != '\0') ||
	    (u.has_pin != (u.pin[0] != '\0')) ||
	    strncmp(u.pin_source, "file:", 5) == 0 || size > P11URI_MAX ||
	    !p11uri_is_uri(s) == (size >= 7))
		abort();
	p11uri_wipe(&u);
	if (!all_zero(&u, sizeof(u)))
		abort();
	return 0;
}
