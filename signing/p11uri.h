/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 7512 PKCS#11 URIs as rootkeeper-sign takes them for a key in a token:
 * "pkcs11:token=LABEL;object=LABEL?module-path=PATH&pin-source=FILE".  The
 * path attributes `token` and `object` (and `type=private`, the only type
 * a signing key can be) name the key; the query attributes `module-path`,
 * `pin-value` and `pin-source` say how to reach it.  Any other attribute
 * is refused rather than ignored, so a URI never selects a key other than
 * the one it seems to.  Parsing only: no token is touched here, and the
 * parser takes (buf, len) and allocates nothing, so it can be fuzzed.
 */
#ifndef RK_P11URI_H
#define RK_P11URI_H

#include <stddef.h>

#include "error.h"

#define P11URI_MAX 4096	      /* the whole URI */
#define P11URI_TOKEN_MAX 32   /* CK_TOKEN_INFO.label is 32 bytes */
#define P11URI_OBJECT_MAX 255 /* a CKA_LABEL we are willing to look for */
#define P11URI_PATH_MAX 1024  /* module-path, pin-source */
#define P11URI_PIN_MAX 256

/* Plain struct: p11uri_parse() fills it; strings are NUL-terminated. */
struct p11uri {
	char token[P11URI_TOKEN_MAX + 1];
	char object[P11URI_OBJECT_MAX + 1];
	char module[P11URI_PATH_MAX + 1];     /* "" when not given */
	char pin_source[P11URI_PATH_MAX + 1]; /* "" when not given */
	char pin[P11URI_PIN_MAX + 1];	      /* a secret: p11uri_wipe() */
	int has_pin;			      /* pin-value was given */
};

/* Does s (NUL-terminated) start with "pkcs11:"? */
int p11uri_is_uri(const char *s);

/*
 * Parses s[0..len) into *out: percent-decoding, each attribute at most
 * once, `token` and `object` required, not both `pin-value` and
 * `pin-source`, no NUL byte in any value.  A `pin-source` of the form
 * "file:PATH" (RFC 7512 section 2.4) is stored as PATH.  RK_EFORMAT with
 * the reason in why (which never holds the PIN) for anything else; *out is
 * wiped on failure.
 */
int p11uri_parse(
    const char *s, size_t len, struct p11uri *out, struct rk_why *why) RK_WUR;

/* Wipes the URI's secret (and the rest); NULL is fine. */
void p11uri_wipe(struct p11uri *u);

#endif
