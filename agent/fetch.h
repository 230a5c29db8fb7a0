/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Getting a bundle's bytes: http://, https:// (the server verified against
 * the device's *active* trust set, passed in as PEM), and file://.  The
 * only module that includes libcurl.  It enforces the transfer limits of
 * DESIGN section 8 while downloading (the size cap aborts the transfer the
 * moment it is passed, not after), sends the stored validators so that an
 * unchanged bundle costs a 304, and follows at most five redirects, never
 * to a file:// URL.  It knows nothing of what the bytes mean: the
 * signature, not the transport, is what makes a bundle trusted.
 */
#ifndef RK_FETCH_H
#define RK_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define FETCH_TIMEOUT_S 60
#define FETCH_LOW_SPEED_BPS 100
#define FETCH_LOW_SPEED_S 15
#define FETCH_MAX_REDIRS 5
/*
 * The longest validator kept, NUL included.  RFC 9110 sets no limit; real
 * servers send a few dozen bytes.  A longer one is dropped whole (half a
 * validator never matches), and the next poll downloads again.
 */
#define FETCH_ETAG_MAX 1024

struct fetch_req {
	const char *url;
	const char *etag;	   /* NULL or "": no If-None-Match */
	const char *last_modified; /* NULL or "": no If-Modified-Since */
	size_t max_size;	   /* body cap in bytes */
	const char *ca_pem;	   /* trust for https; NULL: https fails */
	size_t ca_pem_len;
	long timeout_s; /* 0: FETCH_TIMEOUT_S */
	/*
	 * When not NULL and it becomes non-zero (a signal handler sets it),
	 * the transfer stops within about a second: RK_ENET, "cancelled".
	 */
	const volatile int *cancel;
	/* The User-Agent header; NULL: "rootkeeper/VERSION". */
	const char *user_agent;
};

struct fetch_res {
	long status;   /* 200 (a file:// read too), or 304 (not modified) */
	uint8_t *body; /* malloc'ed, NULL on 304 */
	size_t len;
	char etag[FETCH_ETAG_MAX]; /* from the response, "" if none */
	char last_modified[64];
	char effective_url[1024]; /* password redacted */
};

/*
 * Once per process, before any thread; safe to call more than once (curl
 * counts the calls: one fetch_global_cleanup() each).  RK_EINVAL when the
 * libcurl found at run time is older than 7.85 or has no TLS.
 */
int fetch_global_init(void) RK_WUR;
void fetch_global_cleanup(void);

/*
 * One GET.  RK_OK with res->status 200 (body filled) or 304; RK_ELIMIT
 * when the body passed max_size (transfer aborted); RK_ENET for every
 * other failure (DNS, connect, TLS verification, timeout, too slow, too
 * many redirects, an HTTP status other than 200/304, a response header
 * too large for libcurl, a cancel), with the reason in why ("HTTP 404
 * from <url>" for a status).  https with no ca_pem (or an empty one) is
 * RK_ENET without a connection, and an http:// URL then may not redirect
 * to https://.  file:// is read here, not by libcurl: file:///PATH or
 * file://localhost/PATH, opened once without blocking and read only when
 * it is a regular file (a FIFO, device or directory is RK_ENET at once,
 * never a wait).  RK_EINVAL for a scheme other than http, https, file, a
 * max_size of 0, or a validator with a line break or too long for a
 * header; RK_ENOMEM when memory runs out.  URLs in why and in
 * res->effective_url have their password redacted (url_redact()).
 * res is zeroed on entry and filled only on RK_OK.  Free res with
 * fetch_res_free() in every case.
 */
int fetch_get(const struct fetch_req *req, struct fetch_res *res,
    struct rk_why *why) RK_WUR;

void fetch_res_free(struct fetch_res *res);

#endif
