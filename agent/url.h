/* SPDX-License-Identifier: Apache-2.0 */
/*
 * URLs as the agent may show them.  A URL's password
 * ("scheme://user:PASSWORD@host/...") is for the transfer only: every
 * message, log line, event and stored state gets the URL from
 * url_redact().  And which URLs the agent takes at all (url_scheme_ok()).
 * Pure string functions: no dependency, no allocation.
 */
#ifndef RK_URL_H
#define RK_URL_H

#include <stddef.h>

#include "error.h"

/* What url_redact() writes in place of a password. */
#define URL_REDACTED "***"

/*
 * url as it may be shown, logged or stored: the password of its userinfo
 * (up to the last '@' before the path) replaced by URL_REDACTED, the rest
 * as is; a string without "://" is read as "user:password@host..." too,
 * as libcurl would.  Writes at most cap bytes with the NUL; RK_ELIMIT when
 * the result does not fit (out then holds "", so that no cut URL is ever
 * taken for a whole one).
 */
int url_redact(const char *url, char *out, size_t cap) RK_WUR;

/*
 * Overwrites the password of url in place with as many '*': for a copy of
 * the URL that must keep its length, such as the process's own argv,
 * which the process list shows to every local user.
 */
void url_hide_password(char *url);

/*
 * 1 when url is one the agent fetches: http://, https:// or file:// (any
 * case) followed by something; 0 otherwise (NULL included).
 */
int url_scheme_ok(const char *url);

#endif
