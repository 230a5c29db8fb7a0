/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch against a real nginx (started by tests/fetch/run.sh through
 * tests/lib/nginx.sh): bodies, the conditional GET and its 304s (seen in
 * nginx's access log too), the size cap with and without Content-Length
 * (the transfer cut short, not read to the end), https against the right,
 * a wrong and no CA, the redirect limit and the refusal of file://
 * redirects, file:// reads, schemes refused before curl runs, a closed
 * port, the total timeout and, once, the 15-second low-speed abort.  The
 * server's own log is the witness wherever the client's word alone would
 * prove nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fetch.h"
#include "url.h"

#define OK_SIZE 100000
#define BIG_SIZE (32 * 1024 * 1024)
#define BIG_CAP (64 * 1024)

struct env {
	const char *url;     /* http://127.0.0.1:PORT */
	const char *tls_url; /* https://127.0.0.1:PORT */
	const char *docroot;
	const char *access_log;
	char *ca;
	size_t ca_len;
	char *wrong_ca;
	size_t wrong_ca_len;
	uint8_t *ok;	  /* the bytes of DOCROOT/ok.bin */
	char ok_etag[64]; /* what nginx derives from ok.bin's stat */
	char ok_lm[64];
};

static struct env E;

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0') {
		fprintf(stderr, "%s not set: run through tests/fetch/run.sh\n",
		    name);
		return NULL;
	}
	return v;
}

static int
read_all(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* Deterministic bytes that no two offsets of a short window repeat. */
static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 23);
	}
}

static int
write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[1024];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", E.docroot, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (n > 0 && fwrite(p, 1, n, f) != n)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int
write_big(const char *name)
{
	uint8_t *p = malloc(BIG_SIZE);
	int rc;

	if (p == NULL)
		return -1;
	fill(p, BIG_SIZE, 7);
	rc = write_file(name, p, BIG_SIZE);
	free(p);
	return rc;
}

static int
group_setup(void **state)
{
	char path[1024];
	struct stat st;
	struct tm tm;
	time_t mt;
	const char *ca, *wrong;

	(void)state;
	E.url = need_env("RK_FETCH_URL");
	E.tls_url = need_env("RK_FETCH_TLS_URL");
	E.docroot = need_env("RK_FETCH_DOCROOT");
	E.access_log = need_env("RK_FETCH_ACCESS_LOG");
	ca = need_env("RK_FETCH_CA");
	wrong = need_env("RK_FETCH_WRONG_CA");
	if (E.url == NULL || E.tls_url == NULL || E.docroot == NULL ||
	    E.access_log == NULL || ca == NULL || wrong == NULL)
		return -1;
	if (read_all(ca, &E.ca, &E.ca_len) != 0 ||
	    read_all(wrong, &E.wrong_ca, &E.wrong_ca_len) != 0)
		return -1;
	E.ok = malloc(OK_SIZE);
	if (E.ok == NULL)
		return -1;
	fill(E.ok, OK_SIZE, 1);
	if (write_file("ok.bin", E.ok, OK_SIZE) != 0 ||
	    write_file("empty.bin", NULL, 0) != 0 || write_big("big.bin") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/ok.bin", E.docroot);
	if (stat(path, &st) != 0)
		return -1;
	/* nginx's ETag: "<mtime hex>-<size hex>". */
	snprintf(E.ok_etag, sizeof(E.ok_etag), "\"%llx-%llx\"",
	    (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
	mt = st.st_mtime;
	if (gmtime_r(&mt, &tm) == NULL ||
	    strftime(E.ok_lm, sizeof(E.ok_lm), "%a, %d %b %Y %H:%M:%S GMT",
		&tm) == 0)
		return -1;
	return fetch_global_init() == RK_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	fetch_global_cleanup();
	free(E.ca);
	free(E.wrong_ca);
	free(E.ok);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A request for base + path with the test's defaults. */
static void
req_init(struct fetch_req *req, char *url, size_t urlsz, const char *base,
    const char *path)
{
	int n = snprintf(url, urlsz, "%s%s", base, path);

	assert_true(n >= 0 && (size_t)n < urlsz);
	memset(req, 0, sizeof(*req));
	req->url = url;
	req->max_size = 4 * 1024 * 1024;
}

static int
get(const char *base, const char *path, size_t max_size, struct fetch_res *res,
    struct rk_why *why)
{
	struct fetch_req req;
	char url[1024];

	req_init(&req, url, sizeof(url), base, path);
	req.max_size = max_size;
	return fetch_get(&req, res, why);
}

/*
 * The access log line of the request "GET <target> ", polling for up to
 * tries tenths of a second: nginx writes it when the request ends, which
 * for an aborted transfer is when it notices the client gone.  Fields:
 * status, bytes sent, and whether the response went out in full.
 */
static int
log_line(const char *target, int tries, long *status, unsigned long long *bytes,
    int *complete)
{
	char want[512], line[1024], done[16];
	int found = 0;
	FILE *f;

	snprintf(want, sizeof(want), "GET %s HTTP/", target);
	for (;;) {
		f = fopen(E.access_log, "r");
		if (f == NULL)
			return -1;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (strncmp(line, want, strlen(want)) != 0)
				continue;
			done[0] = '\0';
			if (sscanf(line, "%*s %*s %*s %ld %llu %15s", status,
				bytes, done) < 2)
				continue;
			*complete = strcmp(done, "OK") == 0;
			found = 1;
		}
		fclose(f);
		if (found || --tries <= 0)
			break;
		usleep(100000);
	}
	return found ? 0 : -1;
}

static int
log_has(const char *target)
{
	unsigned long long b;
	long s;
	int c;

	return log_line(target, 50, &s, &b, &c) == 0;
}

/*
 * 1 if nginx never logged target.  A marker request made afterwards is
 * waited for first: nginx (one worker) logs a request as soon as it has
 * written the response, before it accepts our next connection, so once
 * the marker is there an absent line is absent for good.
 */
static int
log_absent(const char *target)
{
	static unsigned marker;
	struct fetch_res res;
	unsigned long long b;
	char path[64];
	long s;
	int c;

	snprintf(path, sizeof(path), "/empty.bin?marker=%u", ++marker);
	if (get(E.url, path, 16, &res, NULL) != RK_OK)
		return 0;
	fetch_res_free(&res);
	if (!log_has(path))
		return 0;
	return log_line(target, 1, &s, &b, &c) != 0;
}

static void
assert_ok_body(const struct fetch_res *res)
{
	assert_int_equal(res->status, 200);
	assert_non_null(res->body);
	assert_int_equal(res->len, OK_SIZE);
	assert_memory_equal(res->body, E.ok, OK_SIZE);
}

static void
assert_zeroed(const struct fetch_res *res)
{
	struct fetch_res z;

	memset(&z, 0, sizeof(z));
	assert_memory_equal(res, &z, sizeof(z));
}

/*
 * A GET that must fail with err: the result is left zeroed, and the
 * reason in *why (cleared first) for the caller to look at.
 */
static void
get_fails(const char *base, const char *path, size_t max_size, int err,
    struct rk_why *why)
{
	struct fetch_res res;

	memset(why, 0, sizeof(*why));
	assert_int_equal(get(base, path, max_size, &res, why), err);
	assert_zeroed(&res);
	fetch_res_free(&res);
}

static void
test_get_200(void **state)
{
	struct fetch_res res;
	struct rk_why why;
	char url[256];
	unsigned long long bytes;
	long status;
	int complete;

	(void)state;
	assert_int_equal(
	    get(E.url, "/ok.bin?c=200", OK_SIZE * 2, &res, &why), RK_OK);
	assert_ok_body(&res);
	assert_string_equal(res.etag, E.ok_etag);
	assert_string_equal(res.last_modified, E.ok_lm);
	snprintf(url, sizeof(url), "%s/ok.bin?c=200", E.url);
	assert_string_equal(res.effective_url, url);
	fetch_res_free(&res);
	assert_zeroed(&res);
	fetch_res_free(&res);

	assert_int_equal(
	    log_line("/ok.bin?c=200", 50, &status, &bytes, &complete), 0);
	assert_int_equal(status, 200);
	assert_int_equal(bytes, OK_SIZE);
	assert_true(complete);
}

static void
test_empty_200(void **state)
{
	struct fetch_res res;
	struct rk_why why;

	(void)state;
	assert_int_equal(get(E.url, "/empty.bin", 16, &res, &why), RK_OK);
	assert_int_equal(res.status, 200);
	assert_non_null(res.body);
	assert_int_equal(res.len, 0);
	fetch_res_free(&res);
}

static void
test_etag_304(void **state)
{
	struct fetch_req req;
	struct fetch_res res, res2;
	struct rk_why why;
	char url[1024], etag[256];
	unsigned long long bytes;
	long status;
	int complete;

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/ok.bin?c=first");
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_ok_body(&res);
	assert_true(res.etag[0] != '\0');
	memcpy(etag, res.etag, sizeof(etag));
	fetch_res_free(&res);

	req_init(&req, url, sizeof(url), E.url, "/ok.bin?c=inm");
	req.etag = etag;
	assert_int_equal(fetch_get(&req, &res2, &why), RK_OK);
	assert_int_equal(res2.status, 304);
	assert_null(res2.body);
	assert_int_equal(res2.len, 0);
	assert_string_equal(res2.etag, etag);
	fetch_res_free(&res2);
	assert_int_equal(
	    log_line("/ok.bin?c=inm", 50, &status, &bytes, &complete), 0);
	assert_int_equal(status, 304);
	assert_int_equal(bytes, 0);

	/* A validator that no longer matches gets the body again. */
	req_init(&req, url, sizeof(url), E.url, "/ok.bin?c=stale");
	req.etag = "\"0-0\"";
	assert_int_equal(fetch_get(&req, &res2, &why), RK_OK);
	assert_ok_body(&res2);
	fetch_res_free(&res2);
	assert_int_equal(
	    log_line("/ok.bin?c=stale", 50, &status, &bytes, &complete), 0);
	assert_int_equal(status, 200);
}

static void
test_ims_304(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024], lm[64];
	unsigned long long bytes;
	long status;
	int complete;

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/ok.bin?c=lm");
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_ok_body(&res);
	memcpy(lm, res.last_modified, sizeof(lm));
	fetch_res_free(&res);
	assert_string_equal(lm, E.ok_lm);

	req_init(&req, url, sizeof(url), E.url, "/ok.bin?c=ims");
	req.last_modified = lm;
	req.etag = "";
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_int_equal(res.status, 304);
	assert_null(res.body);
	fetch_res_free(&res);
	assert_int_equal(
	    log_line("/ok.bin?c=ims", 50, &status, &bytes, &complete), 0);
	assert_int_equal(status, 304);
}

/* The validators reach the server byte for byte, and only when set. */
static void
test_conditional_headers_sent(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/echo/cond");
	req.etag = "\"abc-123\"";
	req.last_modified = "Tue, 01 Jan 2030 00:00:00 GMT";
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_int_equal(res.status, 200);
	assert_int_equal(
	    res.len, strlen("\"abc-123\"|Tue, 01 Jan 2030 00:00:00 GMT"));
	assert_memory_equal(
	    res.body, "\"abc-123\"|Tue, 01 Jan 2030 00:00:00 GMT", res.len);
	fetch_res_free(&res);

	req.etag = NULL;
	req.last_modified = "";
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_int_equal(res.len, 1);
	assert_memory_equal(res.body, "|", 1);
	fetch_res_free(&res);
}

static void
test_header_injection_refused(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024], longv[FETCH_ETAG_MAX + 100];

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/ok.bin?c=inject");
	req.etag = "\"x\"\r\nX-Evil: 1";
	assert_int_equal(fetch_get(&req, &res, &why), RK_EINVAL);
	assert_zeroed(&res);
	req.etag = NULL;
	req.last_modified = "Tue\n";
	assert_int_equal(fetch_get(&req, &res, &why), RK_EINVAL);
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	req.last_modified = NULL;
	req.etag = longv;
	assert_int_equal(fetch_get(&req, &res, &why), RK_EINVAL);
	fetch_res_free(&res);
	assert_true(log_absent("/ok.bin?c=inject"));
}

static void
test_user_agent(void **state)
{
	const char *ua = "rootkeeper/" RK_VERSION_STRING;
	struct fetch_res res;
	struct rk_why why;

	(void)state;
	assert_int_equal(get(E.url, "/echo/ua", 1024, &res, &why), RK_OK);
	assert_int_equal(res.len, strlen(ua));
	assert_memory_equal(res.body, ua, res.len);
	fetch_res_free(&res);
}

static void
test_http_errors(void **state)
{
	struct fetch_res res;
	struct rk_why why;
	char want[300];

	(void)state;
	get_fails(E.url, "/missing.bin", 1024, RK_ENET, &why);
	snprintf(want, sizeof(want), "HTTP 404 from %s/missing.bin", E.url);
	assert_string_equal(why.msg, want);

	memset(&why, 0, sizeof(why));
	assert_int_equal(get(E.url, "/status/500", 1024, &res, &why), RK_ENET);
	assert_non_null(strstr(why.msg, "HTTP 500"));
	fetch_res_free(&res);
}

/*
 * The premise of the chunked cases: /chunked/ answers without a length,
 * so only the write callback can enforce the cap.
 */
static void
test_chunked_premise(void **state)
{
	struct sockaddr_in sa;
	char buf[4096], req[256];
	const char *p;
	size_t got = 0;
	ssize_t n;
	int fd;

	(void)state;
	p = strrchr(E.url, ':');
	assert_non_null(p);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)strtol(p + 1, NULL, 10));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req),
	    "GET /chunked/ok.bin HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n");
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < sizeof(buf) - 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	close(fd);
	buf[got] = '\0';
	p = strstr(buf, "\r\n\r\n");
	assert_non_null(p);
	buf[p - buf] = '\0';
	assert_non_null(strcasestr(buf, "\r\nTransfer-Encoding: chunked"));
	assert_null(strcasestr(buf, "\r\nContent-Length:"));
}

static void
cap_exact(const char *path)
{
	struct fetch_res res;
	struct rk_why why;

	assert_int_equal(get(E.url, path, OK_SIZE, &res, &why), RK_OK);
	assert_ok_body(&res);
	fetch_res_free(&res);

	get_fails(E.url, path, OK_SIZE - 1, RK_ELIMIT, &why);
	assert_non_null(strstr(why.msg, "99999"));
}

static void
test_cap_exact_content_length(void **state)
{
	(void)state;
	cap_exact("/ok.bin?c=cap");
}

static void
test_cap_exact_chunked(void **state)
{
	(void)state;
	cap_exact("/chunked/ok.bin?c=cap");
}

/*
 * 32 MiB offered, 64 KiB allowed: the transfer must stop near the cap,
 * which nginx sees as a response it could not finish.  Socket buffers
 * let it push a few MiB before it notices; never the whole file.
 */
static void
cap_aborts(const char *path)
{
	struct fetch_res res;
	struct rk_why why;
	unsigned long long bytes;
	long status;
	int complete;
	double t0;

	t0 = now_s();
	assert_int_equal(get(E.url, path, BIG_CAP, &res, &why), RK_ELIMIT);
	assert_true(now_s() - t0 < 5.0);
	assert_zeroed(&res);
	fetch_res_free(&res);
	assert_int_equal(log_line(path, 50, &status, &bytes, &complete), 0);
	fprintf(stderr, "%s: nginx sent %llu of %d bytes before the abort\n",
	    path, bytes, BIG_SIZE);
	assert_int_equal(status, 200);
	assert_false(complete);
	assert_true(bytes < BIG_SIZE / 2);
}

static void
test_cap_aborts_content_length(void **state)
{
	(void)state;
	cap_aborts("/big.bin?c=abort");
}

static void
test_cap_aborts_chunked(void **state)
{
	(void)state;
	cap_aborts("/chunked/big.bin?c=abort");
}

static void
test_https(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];
	const char *port;

	(void)state;
	req_init(&req, url, sizeof(url), E.tls_url, "/ok.bin?c=tls");
	req.ca_pem = E.ca;
	req.ca_pem_len = E.ca_len;
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_ok_body(&res);
	assert_string_equal(res.etag, E.ok_etag);
	fetch_res_free(&res);

	/* The name check on a DNS name: the certificate says localhost. */
	port = strrchr(E.tls_url, ':');
	assert_non_null(port);
	snprintf(
	    url, sizeof(url), "https://localhost%s/ok.bin?c=tlsname", port);
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_ok_body(&res);
	fetch_res_free(&res);
}

static void
test_https_wrong_ca(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];

	(void)state;
	req_init(&req, url, sizeof(url), E.tls_url, "/ok.bin?c=wrongca");
	req.ca_pem = E.wrong_ca;
	req.ca_pem_len = E.wrong_ca_len;
	memset(&why, 0, sizeof(why));
	assert_int_equal(fetch_get(&req, &res, &why), RK_ENET);
	assert_zeroed(&res);
	assert_true(why.msg[0] != '\0');
	fetch_res_free(&res);
	/* Refused in the handshake: no request reached nginx. */
	assert_true(log_absent("/ok.bin?c=wrongca"));
}

static void
test_https_no_ca(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];

	(void)state;
	req_init(&req, url, sizeof(url), E.tls_url, "/ok.bin?c=noca");
	assert_int_equal(fetch_get(&req, &res, &why), RK_ENET);
	assert_zeroed(&res);
	fetch_res_free(&res);
	/* An empty PEM is no trust either. */
	req.ca_pem = E.ca;
	req.ca_pem_len = 0;
	assert_int_equal(fetch_get(&req, &res, &why), RK_ENET);
	fetch_res_free(&res);
	assert_true(log_absent("/ok.bin?c=noca"));
}

/* http -> https: followed with a trust set, not even tried without. */
static void
test_redirect_to_https(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/to-tls/ok.bin?c=up");
	req.ca_pem = E.ca;
	req.ca_pem_len = E.ca_len;
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_ok_body(&res);
	assert_int_equal(
	    strncmp(res.effective_url, E.tls_url, strlen(E.tls_url)), 0);
	fetch_res_free(&res);
	assert_true(log_has("/ok.bin?c=up"));

	req_init(&req, url, sizeof(url), E.url, "/to-tls/ok.bin?c=upnoca");
	assert_int_equal(fetch_get(&req, &res, &why), RK_ENET);
	fetch_res_free(&res);
	assert_true(log_has("/to-tls/ok.bin?c=upnoca"));
	assert_true(log_absent("/ok.bin?c=upnoca"));
}

static void
test_redirect_limit(void **state)
{
	struct fetch_res res;
	struct rk_why why;
	char want[256];

	(void)state;
	assert_int_equal(
	    get(E.url, "/redir/5/ok.bin?c=r5", OK_SIZE, &res, &why), RK_OK);
	assert_ok_body(&res);
	snprintf(want, sizeof(want), "%s/ok.bin?c=r5", E.url);
	assert_string_equal(res.effective_url, want);
	fetch_res_free(&res);

	get_fails(E.url, "/redir/6/ok.bin?c=r6", OK_SIZE, RK_ENET, &why);
	assert_true(why.msg[0] != '\0');
	assert_true(log_has("/redir/1/ok.bin?c=r6"));
	assert_true(log_absent("/ok.bin?c=r6"));
}

static void
test_redirect_to_file_refused(void **state)
{
	struct rk_why why;

	(void)state;
	get_fails(E.url, "/redir-file/ok.bin", OK_SIZE, RK_ENET, &why);
	/*
	 * The target exists: followed, curl would read it (and report the
	 * 302 it came from).  It must refuse the scheme instead.
	 */
	assert_non_null(strstr(why.msg, "\"file\""));
	assert_null(strstr(why.msg, "HTTP 302"));
	assert_true(log_has("/redir-file/ok.bin"));
}

static void
test_file_url(void **state)
{
	struct fetch_res res;
	struct rk_why why;
	char base[1024];

	(void)state;
	snprintf(base, sizeof(base), "file://%s", E.docroot);
	assert_int_equal(get(base, "/ok.bin", OK_SIZE, &res, &why), RK_OK);
	assert_ok_body(&res);
	fetch_res_free(&res);

	get_fails(base, "/ok.bin", OK_SIZE - 1, RK_ELIMIT, &why);

	assert_int_equal(get(base, "/big.bin", BIG_CAP, &res, &why), RK_ELIMIT);
	fetch_res_free(&res);

	get_fails(base, "/no-such.bin", OK_SIZE, RK_ENET, &why);
	assert_true(why.msg[0] != '\0');
}

static void
test_schemes_refused(void **state)
{
	static const char *const bad[] = {"gopher://127.0.0.1/ok.bin",
	    "ftp://127.0.0.1/ok.bin", "dict://127.0.0.1/", "scp://h/x",
	    "127.0.0.1/ok.bin", "", "http:/ok.bin", "httpx://127.0.0.1/",
	    "file:/etc/hostname"};
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_init(&req, url, sizeof(url), bad[i], "");
		memset(&res, 0x5a, sizeof(res));
		assert_int_equal(fetch_get(&req, &res, &why), RK_EINVAL);
		assert_zeroed(&res);
		fetch_res_free(&res);
	}

	/* Scheme names are case-insensitive. */
	snprintf(url, sizeof(url), "HTTP://%s/ok.bin", E.url + 7);
	req.url = url;
	req.max_size = OK_SIZE;
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	assert_ok_body(&res);
	fetch_res_free(&res);
}

static void
test_bad_arguments(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/ok.bin");
	req.max_size = 0;
	assert_int_equal(fetch_get(&req, &res, &why), RK_EINVAL);
	fetch_res_free(&res);
	req.max_size = OK_SIZE;
	req.url = NULL;
	assert_int_equal(fetch_get(&req, &res, &why), RK_EINVAL);
	fetch_res_free(&res);
	assert_int_equal(fetch_get(NULL, &res, NULL), RK_EINVAL);
	fetch_res_free(&res);
	req.url = url;
	assert_int_equal(fetch_get(&req, NULL, NULL), RK_EINVAL);
	/* why is optional. */
	assert_int_equal(fetch_get(&req, &res, NULL), RK_OK);
	assert_ok_body(&res);
	fetch_res_free(&res);
	fetch_res_free(NULL);
	/* Calls balance curl's own count. */
	assert_int_equal(fetch_global_init(), RK_OK);
	fetch_global_cleanup();
	/* Loading libcurl left nothing in the environment of children. */
	assert_null(getenv("GNUTLS_NO_IMPLICIT_INIT"));
}

/*
 * A port that is bound but not listening refuses connections for as long
 * as the socket is held, with no race against another process.
 */
static void
test_connection_refused(void **state)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct rk_why why;
	char base[64];
	int fd;

	(void)state;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(base, sizeof(base), "http://127.0.0.1:%u",
	    (unsigned)ntohs(sa.sin_port));
	get_fails(base, "/ok.bin", OK_SIZE, RK_ENET, &why);
	assert_non_null(strstr(why.msg, base));
	close(fd);
}

static void
test_response_headers(void **state)
{
	struct fetch_res res;
	struct rk_why why;

	(void)state;
	/* A 302-byte ETag is kept whole: cut, it would never match. */
	assert_int_equal(get(E.url, "/hdr/long", 1024, &res, &why), RK_OK);
	assert_int_equal(strlen(res.etag), 302);
	assert_true(res.etag[0] == '"' && res.etag[301] == '"');
	assert_string_equal(res.last_modified, "Tue, 01 Jan 2030 00:00:00 GMT");
	fetch_res_free(&res);

	/* One over FETCH_ETAG_MAX is dropped, never cut. */
	assert_int_equal(get(E.url, "/hdr/toolong", 1024, &res, &why), RK_OK);
	assert_string_equal(res.etag, "");
	fetch_res_free(&res);

	assert_int_equal(get(E.url, "/hdr/lower", 1024, &res, &why), RK_OK);
	assert_string_equal(res.etag, "\"lower-case\"");
	assert_string_equal(res.last_modified, "Tue, 01 Jan 2030 00:00:00 GMT");
	fetch_res_free(&res);

	/* The redirect's validators are not the final response's. */
	assert_int_equal(get(E.url, "/hdr/redirect", 1024, &res, &why), RK_OK);
	assert_int_equal(res.len, 5);
	assert_memory_equal(res.body, "plain", 5);
	assert_string_equal(res.etag, "");
	assert_string_equal(res.last_modified, "");
	fetch_res_free(&res);
}

/* timeout_s bounds the whole transfer; /slow/ would need ~33 minutes. */
static void
test_timeout(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024];
	double t;

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/slow/ok.bin?c=timeout");
	req.timeout_s = 2;
	t = now_s();
	assert_int_equal(fetch_get(&req, &res, &why), RK_ENET);
	t = now_s() - t;
	assert_true(t >= 1.5 && t < 8.0);
	assert_zeroed(&res);
	fetch_res_free(&res);
}

/*
 * Slow by design, ~15 s: the only case that waits for the low-speed
 * abort (below 100 B/s for 15 s) under the 60 s total timeout.
 */
static void
test_low_speed_abort_15s(void **state)
{
	struct fetch_res res;
	struct rk_why why;
	double t;

	(void)state;
	memset(&why, 0, sizeof(why));
	t = now_s();
	assert_int_equal(
	    get(E.url, "/slow/ok.bin?c=lowspeed", OK_SIZE, &res, &why),
	    RK_ENET);
	t = now_s() - t;
	fprintf(stderr, "low-speed abort after %.1f s: %s\n", t, why.msg);
	assert_true(t >= FETCH_LOW_SPEED_S - 1 && t < FETCH_TIMEOUT_S - 10);
	assert_non_null(strstr(why.msg, "too slow"));
	assert_zeroed(&res);
	fetch_res_free(&res);
}

/* A long ETag goes back to the server byte for byte. */
static void
test_long_etag_304(void **state)
{
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	char url[1024], etag[303];

	(void)state;
	req_init(&req, url, sizeof(url), E.url, "/echo/cond");
	memset(etag, '0', 302);
	etag[0] = etag[301] = '"';
	etag[302] = '\0';
	req.etag = etag;
	assert_int_equal(strlen(req.etag), 302);
	assert_int_equal(fetch_get(&req, &res, &why), RK_OK);
	/* /echo/cond answers "If-None-Match|If-Modified-Since". */
	assert_true(res.len == strlen(req.etag) + 1);
	assert_memory_equal(res.body, req.etag, strlen(req.etag));
	fetch_res_free(&res);
}

/*
 * A FIFO (no writer: open() would block for good, and this suite with
 * it, until CTest's timeout), a folder and a device behind file:// fail
 * at once, with a reason.
 */
static void
test_file_url_not_regular(void **state)
{
	static const char *const names[] = {"fifo", "", "dev"};
	struct fetch_res res;
	struct rk_why why;
	char base[1024], path[1024];
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/fifo", E.docroot);
	(void)unlink(path);
	assert_int_equal(mkfifo(path, 0644), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i], "dev") == 0)
			snprintf(base, sizeof(base), "file:///dev/zero");
		else
			snprintf(base, sizeof(base), "file://%s/%s", E.docroot,
			    names[i]);
		memset(&why, 0, sizeof(why));
		assert_int_equal(get(base, "", OK_SIZE, &res, &why), RK_ENET);
		assert_non_null(strstr(why.msg, "not a regular file"));
		assert_zeroed(&res);
		fetch_res_free(&res);
	}
	/* file://localhost/ and %-escapes, as libcurl read them. */
	snprintf(base, sizeof(base), "file://localhost%s/ok%%2ebin", E.docroot);
	assert_int_equal(get(base, "", OK_SIZE, &res, &why), RK_OK);
	assert_ok_body(&res);
	fetch_res_free(&res);
	/* Another host, or an encoded NUL: refused. */
	snprintf(base, sizeof(base), "file://otherhost%s/ok.bin", E.docroot);
	assert_int_equal(get(base, "", OK_SIZE, &res, &why), RK_EINVAL);
	fetch_res_free(&res);
	snprintf(base, sizeof(base), "file://%s/ok.bin%%00x", E.docroot);
	assert_int_equal(get(base, "", OK_SIZE, &res, &why), RK_EINVAL);
	fetch_res_free(&res);
	unlink(path);
}

/*
 * A 1 MiB response header is the server's fault, not a lack of memory:
 * libcurl before 8.6 calls it CURLE_OUT_OF_MEMORY.
 */
static void
test_huge_header(void **state)
{
	struct fetch_res res;
	struct rk_why why;

	(void)state;
	memset(&why, 0, sizeof(why));
	assert_int_equal(get(E.url, "/hdr/huge", OK_SIZE, &res, &why), RK_ENET);
	assert_non_null(strstr(why.msg, "response header is too large"));
	assert_null(strstr(why.msg, "out of memory"));
	assert_zeroed(&res);
	fetch_res_free(&res);
}

static void
test_url_redact(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"http://admin:S3cret@host/x", "http://admin:***@host/x"},
	    {"https://u:p@h:8443/a?b#c", "https://u:***@h:8443/a?b#c"},
	    {"http://user@host/x", "http://user@host/x"},
	    {"http://host/a:b@c", "http://host/a:b@c"},
	    {"http://a:b@c@host/", "http://a:***@host/"},
	    {"http://:pw@host", "http://:***@host"},
	    {"admin:S3cret@host/x", "admin:***@host/x"},
	    {"notaurl", "notaurl"},
	    {"", ""},
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
		    url_redact(cases[i].in, out, sizeof(out)), RK_OK);
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(
	    url_redact("http://a:b@host/0123456789", out, 12), RK_ELIMIT);
	assert_string_equal(out, "");
	assert_true(url_scheme_ok("http://h/x") && url_scheme_ok("HTTPS://h") &&
		    url_scheme_ok("file:///x"));
	assert_false(url_scheme_ok("ftp://x") || url_scheme_ok("notaurl") ||
		     url_scheme_ok("http://") || url_scheme_ok(NULL));
}

/* The password reaches the server, never a message. */
static void
test_password_not_shown(void **state)
{
	struct fetch_res res;
	struct rk_why why;
	char base[256];

	(void)state;
	snprintf(base, sizeof(base), "http://admin:S3cret@%s", E.url + 7);
	memset(&why, 0, sizeof(why));
	assert_int_equal(
	    get(base, "/status/500", OK_SIZE, &res, &why), RK_ENET);
	assert_null(strstr(why.msg, "S3cret"));
	assert_non_null(strstr(why.msg, "admin:***@"));
	fetch_res_free(&res);
	assert_int_equal(
	    get(base, "/redir/1/ok.bin", OK_SIZE, &res, &why), RK_OK);
	assert_null(strstr(res.effective_url, "S3cret"));
	fetch_res_free(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get_200),
	    cmocka_unit_test(test_empty_200),
	    cmocka_unit_test(test_etag_304),
	    cmocka_unit_test(test_ims_304),
	    cmocka_unit_test(test_conditional_headers_sent),
	    cmocka_unit_test(test_header_injection_refused),
	    cmocka_unit_test(test_user_agent),
	    cmocka_unit_test(test_http_errors),
	    cmocka_unit_test(test_chunked_premise),
	    cmocka_unit_test(test_cap_exact_content_length),
	    cmocka_unit_test(test_cap_exact_chunked),
	    cmocka_unit_test(test_cap_aborts_content_length),
	    cmocka_unit_test(test_cap_aborts_chunked),
	    cmocka_unit_test(test_https),
	    cmocka_unit_test(test_https_wrong_ca),
	    cmocka_unit_test(test_https_no_ca),
	    cmocka_unit_test(test_redirect_to_https),
	    cmocka_unit_test(test_redirect_limit),
	    cmocka_unit_test(test_redirect_to_file_refused),
	    cmocka_unit_test(test_file_url),
	    cmocka_unit_test(test_schemes_refused),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_response_headers),
	    cmocka_unit_test(test_long_etag_304),
	    cmocka_unit_test(test_file_url_not_regular),
	    cmocka_unit_test(test_huge_header),
	    cmocka_unit_test(test_url_redact),
	    cmocka_unit_test(test_password_not_shown),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_low_speed_abort_15s),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
