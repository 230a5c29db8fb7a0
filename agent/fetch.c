/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libcurl adapter: one GET of a bundle over http://, https:// or
 * file://, with the limits of DESIGN section 8 enforced by the transfer
 * itself (size cap while receiving, total time, low-speed abort, redirect
 * count) and the conditional-GET validators sent and captured.  Each call
 * uses a fresh easy handle, so nothing (connections, TLS sessions, a CA
 * cache) carries over from one trust set to the next.  https trusts the
 * PEM the caller passes and nothing else: no system store, ever.  file://
 * never reaches libcurl: it is opened here once, without blocking, and
 * read only when the descriptor is a regular file, so that a FIFO planted
 * at the path cannot hold a poll (or the daemon) forever.  A URL's
 * password goes to libcurl and nowhere else: every message shows the
 * redacted URL.  It does not retry, try mirrors or look at the bytes; the
 * caller does that.
 */
#include "fetch.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fileio.h"
#include "url.h"

#define BODY_MIN_ALLOC 16384
#define HEADER_MAX (FETCH_ETAG_MAX + 64)
#define URL_SHOWN 1024 /* a redacted URL longer than this is cut in why */

_Static_assert(sizeof(curl_off_t) == sizeof(int64_t), "curl_off_t is 64-bit");

/*
 * libcurl, opened with dlopen() by fetch_global_init() instead of linked:
 * loading it and its thirty-odd libraries costs every process several
 * milliseconds at start, and most commands (apply, status, list, certs,
 * rollback, export) never fetch.  This table of its functions, filled once
 * and never unloaded, is the one mutable global of this file.
 */
static struct {
	void *lib;
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	curl_version_info_data *(*version_info)(CURLversion);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} cu;

/* One symbol of libcurl into *fn (a function pointer's storage). */
static int
sym(const char *name, void *fn, size_t size)
{
	void *p = dlsym(cu.lib, name);

	if (p == NULL || size != sizeof(p))
		return -1;
	memcpy(fn, &p, sizeof(p));
	return 0;
}

#define SYM(field, name) sym(name, &cu.field, sizeof(cu.field))

/* Under a sanitizer runtime, which refuses RTLD_DEEPBIND. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||     \
    __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif

/*
 * How libcurl is opened.  Its thirty-odd libraries cost an idle check
 * more to bind than everything else it does, so as little as can be is
 * bound: RTLD_LAZY leaves the functions of the libraries not built for
 * immediate binding to their first call, as a program linked with libcurl
 * gets them; RTLD_DEEPBIND looks a symbol up in libcurl's own libraries
 * first, rather than walking this program's libraries before them for
 * every one (none of which defines a name they use).  Not when something
 * is preloaded (LD_PRELOAD, /etc/ld.so.preload): an interposer such as a
 * test clock must see libcurl's calls too, as it would if linked; nor
 * under a sanitizer, which refuses it.
 */
static int
open_mode(void)
{
	int mode = RTLD_LAZY | RTLD_LOCAL;
#ifndef SANITIZED
	const char *pre = getenv("LD_PRELOAD");

	if ((pre == NULL || pre[0] == '\0') &&
	    access("/etc/ld.so.preload", F_OK) != 0)
		mode |= RTLD_DEEPBIND;
#endif
	return mode;
}

/*
 * Loads libcurl once; RK_EINVAL when it or a function is missing.  GnuTLS
 * comes with some of libcurl's libraries (RTMP, LDAP), for schemes that
 * are never allowed here (CURLOPT_PROTOCOLS_STR): its documented switch,
 * GNUTLS_NO_IMPLICIT_INIT, spares its load-time initialisation (100 KiB
 * of heap a daemon would hold for good, and 0.6 M instructions), and is
 * unset again at once so that no child inherits it.
 */
static int
load_curl(void)
{
	static const char gnutls_init[] = "GNUTLS_NO_IMPLICIT_INIT";
	int set;

	if (cu.lib != NULL)
		return RK_OK;
	set = getenv(gnutls_init) == NULL && setenv(gnutls_init, "1", 0) == 0;
	cu.lib = dlopen("libcurl.so.4", open_mode());
	if (set)
		(void)unsetenv(gnutls_init);
	if (cu.lib == NULL)
		return RK_EINVAL;
	if (SYM(global_init, "curl_global_init") ||
	    SYM(global_cleanup, "curl_global_cleanup") ||
	    SYM(version_info, "curl_version_info") ||
	    SYM(easy_init, "curl_easy_init") ||
	    SYM(easy_setopt, "curl_easy_setopt") ||
	    SYM(easy_perform, "curl_easy_perform") ||
	    SYM(easy_getinfo, "curl_easy_getinfo") ||
	    SYM(easy_cleanup, "curl_easy_cleanup") ||
	    SYM(easy_strerror, "curl_easy_strerror") ||
	    SYM(slist_append, "curl_slist_append") ||
	    SYM(slist_free_all, "curl_slist_free_all")) {
		(void)dlclose(cu.lib);
		memset(&cu, 0, sizeof(cu));
		return RK_EINVAL;
	}
	return RK_OK;
}
#undef SYM

/* The state one transfer's callbacks share. */
struct xfer {
	uint8_t *body;
	size_t len;
	size_t cap;
	size_t max_size;
	int over_limit; /* the write callback refused: cap passed */
	int no_memory;	/* the write callback refused: malloc failed */
	int in_body;	/* headers after this are trailers: ignored */
	int cancelled;	/* the progress callback saw req->cancel set */
	int in_headers; /* a status line came, its headers are not over */
	const volatile int *cancel;
	char etag[sizeof(((struct fetch_res *)0)->etag)];
	char last_modified[sizeof(((struct fetch_res *)0)->last_modified)];
};

int
fetch_global_init(void)
{
	const curl_version_info_data *vi;
	int rc;

	if ((rc = load_curl()) != RK_OK)
		return rc;
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return RK_ENOMEM;
	/* CURLOPT_PROTOCOLS_STR is what keeps us off other schemes. */
	vi = cu.version_info(CURLVERSION_NOW);
	if (vi == NULL || vi->version_num < 0x075500 ||
	    (vi->features & CURL_VERSION_SSL) == 0) {
		cu.global_cleanup();
		return RK_EINVAL;
	}
	return RK_OK;
}

void
fetch_global_cleanup(void)
{
	cu.global_cleanup();
}

void
fetch_res_free(struct fetch_res *res)
{
	if (res == NULL)
		return;
	free(res->body);
	memset(res, 0, sizeof(*res));
}

/* 1 if url starts with "<scheme>://", ignoring case. */
static int
has_scheme(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(url, scheme, n) == 0 &&
	       strncmp(url + n, "://", 3) == 0;
}

/* The redacted URL for a message; cut when longer than URL_SHOWN. */
static void
shown_url(const char *url, char out[URL_SHOWN])
{
	char *big;
	size_t n = strlen(url) + sizeof(URL_REDACTED);

	if (url_redact(url, out, URL_SHOWN) == RK_OK)
		return;
	/* Redact whole, then cut: a cut before redacting could leak. */
	if ((big = malloc(n)) != NULL && url_redact(url, big, n) == RK_OK) {
		snprintf(out, URL_SHOWN, "%.*s...", URL_SHOWN - 4, big);
	} else {
		snprintf(out, URL_SHOWN, "(URL of %zu bytes)", strlen(url));
	}
	free(big);
}

/*
 * The path of a file:// URL: "file:///PATH" or "file://localhost/PATH",
 * %XX decoded, up to a '?' or '#' (as libcurl read it).  RK_EINVAL for
 * another host, a relative path, a bad escape or an encoded NUL.
 */
static int
file_path(const char *url, char *out, size_t cap)
{
	const char *p = url + strlen("file://");
	size_t n = 0;
	unsigned hi, lo;

	if (strncasecmp(p, "localhost/", 10) == 0)
		p += 9;
	if (*p != '/')
		return RK_EINVAL;
	for (; *p != '\0' && *p != '?' && *p != '#'; p++) {
		char c = *p;

		if (c == '%') {
			if (sscanf(p + 1, "%1x%1x", &hi, &lo) != 2 ||
			    (hi | lo) == 0)
				return RK_EINVAL;
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (n + 1 >= cap)
			return RK_EINVAL;
		out[n++] = c;
	}
	out[n] = '\0';
	return RK_OK;
}

/*
 * A file:// "download": one open (O_NONBLOCK: a FIFO answers at once), a
 * fstat of that descriptor (regular files only, so no check-then-open
 * race), a read capped at max_size.  Lives here because libcurl would
 * block in open() on a FIFO with no writer, past every transfer limit.
 */
static int
read_file_url(const struct fetch_req *req, const char *shown,
    struct fetch_res *res, struct rk_why *why)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (file_path(req->url, path, sizeof(path)) != RK_OK)
		return rk_fail(why, RK_EINVAL,
		    "%s: a file URL is file:///PATH or file://localhost/PATH",
		    shown);
	rc = fileio_read(path, req->max_size, &buf, &len);
	switch (rc) {
	case RK_OK:
		break;
	case RK_ELIMIT:
		return rk_fail(why, RK_ELIMIT, "%s: body larger than %zu bytes",
		    shown, req->max_size);
	case RK_ENOMEM:
		return rk_fail(why, RK_ENOMEM, "%s: out of memory", shown);
	default:
		return rk_fail(
		    why, RK_ENET, "%s: %s", shown, fileio_read_error(rc));
	}
	res->status = 200;
	res->body = buf;
	res->len = len;
	snprintf(res->effective_url, sizeof(res->effective_url), "%s", shown);
	return RK_OK;
}

/*
 * Refuses more than max_size bytes, so that a body without Content-Length
 * (chunked, or a lying server) is cut off the moment it passes the cap.
 * The buffer grows geometrically but never beyond max_size.
 */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n, want;
	uint8_t *p;

	x->in_body = 1;
	if (nmemb != 0 && size > SIZE_MAX / nmemb) {
		x->over_limit = 1;
		return 0;
	}
	n = size * nmemb;
	if (n > x->max_size - x->len) {
		x->over_limit = 1;
		return 0;
	}
	if (x->len + n > x->cap) {
		want = x->cap < x->max_size / 2 ? x->cap * 2 : x->max_size;
		if (want < BODY_MIN_ALLOC)
			want = BODY_MIN_ALLOC < x->max_size ? BODY_MIN_ALLOC
							    : x->max_size;
		if (want < x->len + n)
			want = x->len + n;
		p = realloc(x->body, want);
		if (p == NULL) {
			x->no_memory = 1;
			return 0;
		}
		x->body = p;
		x->cap = want;
	}
	memcpy(x->body + x->len, data, n);
	x->len += n;
	return n;
}

/*
 * Copies a header's value into dst when name matches (any case); values
 * that do not fit are ignored rather than cut, as half a validator would
 * never match anyway.
 */
static void
take_header(
    const char *line, size_t len, const char *name, char *dst, size_t dstlen)
{
	size_t n = strlen(name), a, b;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	a = n + 1;
	b = len;
	while (a < b && (line[a] == ' ' || line[a] == '\t'))
		a++;
	while (b > a && (line[b - 1] == '\r' || line[b - 1] == '\n' ||
			    line[b - 1] == ' ' || line[b - 1] == '\t'))
		b--;
	if (b - a >= dstlen)
		return;
	memcpy(dst, line + a, b - a);
	dst[b - a] = '\0';
}

/*
 * Called once per header line of every response, redirects included: a
 * status line starts a new response, so the validators kept are the final
 * response's.
 */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n;

	if (nmemb != 0 && size > SIZE_MAX / nmemb)
		return 0;
	n = size * nmemb;
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		x->etag[0] = '\0';
		x->last_modified[0] = '\0';
		x->in_body = 0;
		x->in_headers = 1;
		return n;
	}
	if (n <= 2 && (data[0] == '\r' || data[0] == '\n'))
		x->in_headers = 0; /* the blank line that ends them */
	if (x->in_body)
		return n;
	take_header(data, n, "ETag", x->etag, sizeof(x->etag));
	take_header(data, n, "Last-Modified", x->last_modified,
	    sizeof(x->last_modified));
	return n;
}

/*
 * Appends "Name: value" to *list.  A value with CR or LF would smuggle a
 * header of its own: refused.
 */
static int
add_header(struct curl_slist **list, const char *name, const char *value,
    struct rk_why *why)
{
	char line[HEADER_MAX];
	struct curl_slist *l;
	int n;

	if (strpbrk(value, "\r\n") != NULL)
		return rk_fail(why, RK_EINVAL, "%s: line break in value", name);
	n = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(line))
		return rk_fail(why, RK_EINVAL, "%s: value too long", name);
	l = cu.slist_append(*list, line);
	if (l == NULL)
		return rk_fail(why, RK_ENOMEM, "%s: out of memory", name);
	*list = l;
	return RK_OK;
}

/*
 * curl calls this about once a second even when no byte moves, so a stop
 * request cuts a slow transfer short instead of waiting for its timeout.
 */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct xfer *x = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->cancel != NULL && *x->cancel) {
		x->cancelled = 1;
		return 1;
	}
	return 0;
}

/* Every option of one GET; the first option curl refuses stops it. */
static CURLcode
configure(CURL *h, const struct fetch_req *req, struct xfer *x,
    struct curl_slist *headers, char *errbuf)
{
	struct curl_blob ca = {NULL, 0, CURL_BLOB_COPY};
	uint64_t max = req->max_size; /* a 32-bit size_t always fits */
	curl_off_t cap =
	    max > (uint64_t)INT64_MAX ? (curl_off_t)INT64_MAX : (curl_off_t)max;
	long timeout = req->timeout_s > 0 ? req->timeout_s : FETCH_TIMEOUT_S;
	int tls = req->ca_pem != NULL && req->ca_pem_len > 0;
	CURLcode cc = CURLE_OK;

#define SETOPT(opt, val)                                                       \
	do {                                                                   \
		if (cc == CURLE_OK)                                            \
			cc = cu.easy_setopt(h, opt, val);                      \
	} while (0)

	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	/*
	 * Without a trust set an https redirect could only end in a failed
	 * (or, with a fallback-built curl, system-trusted) handshake: it is
	 * not even followed.
	 */
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, tls ? "http,https" : "http");
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_USERAGENT, req->user_agent != NULL
				      ? req->user_agent
				      : "rootkeeper/" RK_VERSION_STRING);
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRS);
	SETOPT(CURLOPT_FAILONERROR, 0L);
	SETOPT(CURLOPT_TIMEOUT, timeout);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, (long)FETCH_LOW_SPEED_BPS);
	SETOPT(CURLOPT_LOW_SPEED_TIME, (long)FETCH_LOW_SPEED_S);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, cap);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, x);
	if (req->cancel != NULL) {
		SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
		SETOPT(CURLOPT_XFERINFODATA, x);
		SETOPT(CURLOPT_NOPROGRESS, 0L);
	}
	if (headers != NULL)
		SETOPT(CURLOPT_HTTPHEADER, headers);

	/* The caller's PEM and nothing else, for the server and a proxy. */
	SETOPT(CURLOPT_CAINFO, (char *)NULL);
	SETOPT(CURLOPT_CAPATH, (char *)NULL);
	SETOPT(CURLOPT_PROXY_CAINFO, (char *)NULL);
	SETOPT(CURLOPT_PROXY_CAPATH, (char *)NULL);
	if (tls) {
		ca.data = (void *)(uintptr_t)req->ca_pem;
		ca.len = req->ca_pem_len;
		SETOPT(CURLOPT_CAINFO_BLOB, &ca);
		SETOPT(CURLOPT_PROXY_CAINFO_BLOB, &ca);
	}
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
#undef SETOPT
	return cc;
}

/* Turns a failed transfer into our error and a reason naming the URL. */
static int
transfer_error(CURLcode cc, const struct xfer *x, const char *url,
    const char *errbuf, struct rk_why *why)
{
	const char *reason = errbuf[0] != '\0' ? errbuf : cu.easy_strerror(cc);

	if (cc == CURLE_FILESIZE_EXCEEDED || x->over_limit)
		return rk_fail(why, RK_ELIMIT, "%s: body larger than %zu bytes",
		    url, x->max_size);
	/*
	 * libcurl before 8.6 reports a response header over its limit
	 * (100 KiB) as "out of memory", often without a word in errbuf.
	 * Failing between a status line and the end of its headers, it is
	 * the server's doing far more likely than ours: say so.
	 */
	if ((cc == CURLE_OUT_OF_MEMORY && !x->no_memory && x->in_headers)
#if LIBCURL_VERSION_NUM >= 0x080600
	    || cc == CURLE_TOO_LARGE
#endif
	)
		return rk_fail(why, RK_ENET,
		    "%s: the server's response header is too large (over "
		    "libcurl's limit)",
		    url);
	if (x->no_memory || cc == CURLE_OUT_OF_MEMORY)
		return rk_fail(why, RK_ENOMEM, "%s: out of memory", url);
	if (x->cancelled)
		return rk_fail(why, RK_ENET, "%s: cancelled", url);
	return rk_fail(why, RK_ENET, "%s: %s", url, reason);
}

int
fetch_get(
    const struct fetch_req *req, struct fetch_res *res, struct rk_why *why)
{
	char errbuf[CURL_ERROR_SIZE], shown[URL_SHOWN], eff[URL_SHOWN];
	struct curl_slist *headers = NULL;
	struct xfer x;
	CURL *h = NULL;
	CURLcode cc;
	char *info = NULL;
	long status = 0;
	int rc;

	if (res == NULL)
		return rk_fail(why, RK_EINVAL, "fetch: no result");
	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	errbuf[0] = '\0';
	if (req == NULL || req->url == NULL)
		return rk_fail(why, RK_EINVAL, "fetch: no URL");
	shown_url(req->url, shown);
	if (req->max_size == 0)
		return rk_fail(why, RK_EINVAL, "%s: size cap of 0", shown);
	if (!url_scheme_ok(req->url))
		return rk_fail(why, RK_EINVAL,
		    "%s: only http://, https:// and file:// are supported",
		    shown);
	if (has_scheme(req->url, "file")) {
		rc = read_file_url(req, shown, res, why);
		if (rc != RK_OK)
			fetch_res_free(res);
		return rc;
	}
	if (has_scheme(req->url, "https") &&
	    (req->ca_pem == NULL || req->ca_pem_len == 0))
		return rk_fail(why, RK_ENET,
		    "%s: no trusted roots to verify the server with", shown);
	x.max_size = req->max_size;
	x.cancel = req->cancel;

	if (req->etag != NULL && req->etag[0] != '\0') {
		rc = add_header(&headers, "If-None-Match", req->etag, why);
		if (rc != RK_OK)
			goto out;
	}
	if (req->last_modified != NULL && req->last_modified[0] != '\0') {
		rc = add_header(
		    &headers, "If-Modified-Since", req->last_modified, why);
		if (rc != RK_OK)
			goto out;
	}

	h = cu.easy_init();
	if (h == NULL) {
		rc =
		    rk_fail(why, RK_ENOMEM, "%s: curl_easy_init failed", shown);
		goto out;
	}
	cc = configure(h, req, &x, headers, errbuf);
	if (cc != CURLE_OK) {
		rc = rk_fail(why,
		    cc == CURLE_OUT_OF_MEMORY ? RK_ENOMEM : RK_EINVAL,
		    "%s: curl option refused: %s", shown, cu.easy_strerror(cc));
		goto out;
	}
	cc = cu.easy_perform(h);
	if (cc != CURLE_OK) {
		/*
		 * An https redirect, refused for want of a trust set: curl
		 * has moved on to the URL it would not fetch.
		 */
		if (cc == CURLE_UNSUPPORTED_PROTOCOL &&
		    (req->ca_pem == NULL || req->ca_pem_len == 0) &&
		    cu.easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &info) ==
			CURLE_OK &&
		    info != NULL && strncasecmp(info, "https://", 8) == 0)
			res->wants_tls = 1;
		rc = transfer_error(cc, &x, shown, errbuf, why);
		goto out;
	}
	if (cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    cu.easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &info) != CURLE_OK)
		info = NULL;
	/* A redirect may name a password of its own. */
	if (info != NULL)
		shown_url(info, eff);
	else
		memcpy(eff, shown, sizeof(eff));
	if (status != 200 && status != 304) {
		rc = rk_fail(why, RK_ENET, "HTTP %ld from %s", status, eff);
		goto out;
	}

	if (status == 200) {
		/* A 200 always has a body, if only an empty one. */
		if (x.body == NULL) {
			x.body = malloc(1);
			if (x.body == NULL) {
				rc = rk_fail(
				    why, RK_ENOMEM, "%s: out of memory", shown);
				goto out;
			}
		}
		res->body = x.body;
		res->len = x.len;
		x.body = NULL;
	}
	res->status = status;
	memcpy(res->etag, x.etag, sizeof(res->etag));
	memcpy(res->last_modified, x.last_modified, sizeof(res->last_modified));
	if (strlen(eff) < sizeof(res->effective_url))
		memcpy(res->effective_url, eff, strlen(eff) + 1);
	rc = RK_OK;
out:
	free(x.body);
	cu.easy_cleanup(h);
	cu.slist_free_all(headers);
	return rc;
}
