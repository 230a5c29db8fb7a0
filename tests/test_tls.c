/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.c and librootkeeper against real TLS servers (openssl s_server and a
 * plain-HTTP nginx, started by tests/tls/run.sh with a test PKI of its own:
 * Root A with an intermediate, Root B, Root C, a twin of Root A).  tls_probe:
 * the right root and its fingerprint, a set without the root, a set of only
 * Root B against a Root A server (DESIGN section 6), a root of the same
 * name and another key, an address not in the certificate, names and IPv6,
 * a closed port, a port that is not TLS, a peer that never answers, partial
 * distrust (a leaf from before the date accepted, one from after refused
 * with its own words), an expired leaf.  librootkeeper: a store made by the
 * rootkeeper command (run from here, between our reads, as another process
 * would), the same Root B refusal through rk_trust_load_wolfssl, refresh
 * (unchanged, then changed by `rootkeeper apply`), the PEM against the
 * agent's export byte for byte, the chained callback, and what
 * wolfSSL_CTX_set_verify() afterwards costs.  The "clock" group runs under
 * faketime in 1971: the time floor makes the chains valid again, and
 * forgives nothing but dates.
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
#include <pthread.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "crypto.h"
#include "fileio.h"
#include "rootkeeper.h"
#include "tls.h"

extern char **environ;

#define TIMEOUT 10

enum cert {
	ROOT_A,
	ROOT_B,
	ROOT_C,
	ROOT_R,
	ROOT_E,
	TWIN_A,
	INT_A,
	LEAF_A,
	LEAF_C_OLD,
	LEAF_C_NEW,
	N_CERTS
};

static const char *const cert_name[N_CERTS] = {"rootA", "rootB", "rootC",
    "rootR", "rootE", "twinA", "intA", "leafA", "leafCold", "leafCnew"};

struct env {
	const char *dir;
	const char *bundles;
	const char *rootkeeper;
	const char *store;
	char export_pem[1024];
	unsigned port_a, port_b, port_cold, port_cnew, port_aexp, port_acrit;
	unsigned port_aweak, port_a0, port_ax, port_r, port_e;
	unsigned port_http, port_closed;
	int64_t now; /* the real time when the PKI was made */
	int64_t d;   /* the distrust date of Root C */
	uint8_t *der[N_CERTS];
	size_t len[N_CERTS];
	struct certinfo info[N_CERTS];
};

static struct env E;

static const char *
need_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || v[0] == '\0') {
		fprintf(
		    stderr, "%s not set: run through tests/tls/run.sh\n", name);
		return NULL;
	}
	return v;
}

static int
env_num(const char *name, int64_t *out)
{
	const char *v = need_env(name);
	char *end;
	long long n;

	if (v == NULL)
		return -1;
	n = strtoll(v, &end, 10);
	if (*end != '\0' || n < 0)
		return -1;
	*out = n;
	return 0;
}

static int
env_port(const char *name, unsigned *out)
{
	int64_t n;

	if (env_num(name, &n) != 0 || n < 1 || n > 65535)
		return -1;
	*out = (unsigned)n;
	return 0;
}

static int
setup_env(void **state)
{
	char path[1024];
	size_t i;

	(void)state;
	if ((E.dir = need_env("RK_TLS_DIR")) == NULL ||
	    (E.bundles = need_env("RK_TLS_BUNDLES")) == NULL ||
	    (E.rootkeeper = need_env("RK_TLS_ROOTKEEPER")) == NULL ||
	    (E.store = need_env("RK_TLS_STORE")) == NULL ||
	    env_port("RK_TLS_PORT_A", &E.port_a) != 0 ||
	    env_port("RK_TLS_PORT_B", &E.port_b) != 0 ||
	    env_port("RK_TLS_PORT_COLD", &E.port_cold) != 0 ||
	    env_port("RK_TLS_PORT_CNEW", &E.port_cnew) != 0 ||
	    env_port("RK_TLS_PORT_AEXP", &E.port_aexp) != 0 ||
	    env_port("RK_TLS_PORT_ACRIT", &E.port_acrit) != 0 ||
	    env_port("RK_TLS_PORT_AWEAK", &E.port_aweak) != 0 ||
	    env_port("RK_TLS_PORT_A0", &E.port_a0) != 0 ||
	    env_port("RK_TLS_PORT_AX", &E.port_ax) != 0 ||
	    env_port("RK_TLS_PORT_R", &E.port_r) != 0 ||
	    env_port("RK_TLS_PORT_E", &E.port_e) != 0 ||
	    env_port("RK_TLS_PORT_HTTP", &E.port_http) != 0 ||
	    env_port("RK_TLS_PORT_CLOSED", &E.port_closed) != 0 ||
	    env_num("RK_TLS_NOW", &E.now) != 0 ||
	    env_num("RK_TLS_D", &E.d) != 0)
		return -1;
	/* The agent exports next to the store unless configured. */
	snprintf(E.export_pem, sizeof(E.export_pem), "%.*s/trust.pem",
	    (int)(strrchr(E.store, '/') - E.store), E.store);
	for (i = 0; i < N_CERTS; i++) {
		snprintf(path, sizeof(path), "%s/%s.der", E.dir, cert_name[i]);
		if (fileio_read(path, 65536, &E.der[i], &E.len[i]) != RK_OK ||
		    crypto_cert_info(E.der[i], E.len[i], &E.info[i]) != RK_OK) {
			fprintf(stderr, "cannot read %s\n", path);
			return -1;
		}
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return -1;
	return 0;
}

static int
teardown_env(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_CERTS; i++)
		free(E.der[i]);
	wolfSSL_Cleanup();
	return 0;
}

/* ---- trust sets -------------------------------------------------- */

struct set {
	const uint8_t *der[N_CERTS];
	size_t len[N_CERTS];
	struct tls_after after[2];
	struct tls_trust t;
};

/* A trust set of the roots given, ending with N_CERTS. */
static struct tls_trust *
trust_of(struct set *s, int64_t floor, ...)
{
	va_list ap;
	int c;

	memset(s, 0, sizeof(*s));
	va_start(ap, floor);
	while ((c = va_arg(ap, int)) != N_CERTS) {
		s->der[s->t.n] = E.der[c];
		s->len[s->t.n++] = E.len[c];
	}
	va_end(ap);
	s->t.der = s->der;
	s->t.len = s->len;
	s->t.floor = floor;
	return &s->t;
}

/* root trusted only for leaves issued up to when. */
static void
distrust_after(struct set *s, enum cert root, int64_t when)
{
	memcpy(s->after[s->t.n_after].sha256, E.info[root].sha256,
	    CRYPTO_SHA256_LEN);
	s->after[s->t.n_after++].after = when;
	s->t.after = s->after;
}

/* Root C trusted only for leaves issued up to D. */
static void
distrust_c_after_d(struct set *s)
{
	distrust_after(s, ROOT_C, E.d);
}

static struct tls_probe
probe(const char *host, unsigned port, const struct tls_trust *t)
{
	struct tls_probe r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(tls_probe(host, port, t, TIMEOUT, &r), RK_OK);
	if (getenv("RK_TLS_VERBOSE") != NULL)
		print_message(
		    "%s port %u: %d %s\n", host, port, (int)r.result, r.detail);
	return r;
}

static void
assert_result(const struct tls_probe *r, enum tls_probe_result want)
{
	if (r->result != want)
		fail_msg("probe result %d, want %d (%s)", (int)r->result,
		    (int)want, r->detail);
}

static void
assert_contains(const char *s, const char *part)
{
	if (strstr(s, part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

static void
assert_root(const struct tls_probe *r, enum cert root)
{
	assert_memory_equal(
	    r->root.sha256, E.info[root].sha256, CRYPTO_SHA256_LEN);
	assert_string_equal(r->root.subject, E.info[root].subject);
	assert_int_equal(r->root.not_after, E.info[root].not_after);
}

static int app_connect(
    WOLFSSL_CTX *ctx, unsigned port, const char *name, int *err);

/* ---- tls_probe --------------------------------------------------- */

/* A socket listening on 127.0.0.1 at a port the kernel picks (*port). */
static int
listen_loopback(unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
probe_ok_reports_root(void **state)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_a,
	    trust_of(&s, 0, ROOT_C, ROOT_B, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_OK);
	/* Root A's fingerprint is SHA-256 of its DER, hashed here anew. */
	assert_int_equal(
	    crypto_sha256(E.der[ROOT_A], E.len[ROOT_A], NULL, 0, sha), RK_OK);
	assert_memory_equal(r.root.sha256, sha, CRYPTO_SHA256_LEN);
	assert_root(&r, ROOT_A);
	assert_true(r.have_leaf);
	assert_int_equal(r.leaf_not_before, E.info[LEAF_A].not_before);

	/* A trusted intermediate is where the chain ends ... */
	r = probe(
	    "127.0.0.1", E.port_a, trust_of(&s, 0, ROOT_A, INT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_OK);
	assert_memory_equal(
	    r.root.sha256, E.info[INT_A].sha256, CRYPTO_SHA256_LEN);
	/* ... but the partial distrust of the root above it still holds. */
	distrust_after(&s, ROOT_A, E.d);
	r = probe("127.0.0.1", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "root \"/O=rootkeeper test/CN=Root A\" is "
				  "distrusted for leaves issued after");
}

static void
probe_names_and_ipv6(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	trust_of(&s, 0, ROOT_A, N_CERTS);
	r = probe("localhost", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_A);
	r = probe("::1", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_A);
	r = probe("0:0:0:0:0:0:0:1", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_OK);
}

static void
probe_cert_without_the_root(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe(
	    "127.0.0.1", E.port_a, trust_of(&s, 0, ROOT_B, ROOT_C, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "no trusted root");
	/* An empty set trusts nothing at all. */
	r = probe("127.0.0.1", E.port_a, trust_of(&s, 0, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
}

/* DESIGN section 6: a client trusting only Root B refuses Root A. */
static void
probe_only_root_b_refuses_root_a(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	trust_of(&s, 0, ROOT_B, N_CERTS);
	r = probe("127.0.0.1", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	/* ... while the same set does reach a Root B server. */
	r = probe("127.0.0.1", E.port_b, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_B);
}

/* A root of the same name and another key is not Root A. */
static void
probe_twin_root_refused(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	assert_string_equal(E.info[TWIN_A].subject, E.info[ROOT_A].subject);
	r = probe("127.0.0.1", E.port_a, trust_of(&s, 0, TWIN_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
}

static void
probe_cert_wrong_address(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	/* Loopback too, and the server listens there, but not named. */
	r = probe("127.0.0.2", E.port_a, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
}

static void
probe_net_closed_port(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_closed, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_NET);
	assert_contains(r.detail, "refused");
	assert_false(r.have_leaf);
}

static void
probe_net_not_tls(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_http, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_NET);
	assert_contains(r.detail, "TLS handshake");
}

static void
probe_net_silent_peer(void **state)
{
	struct set s;
	struct tls_probe r;
	unsigned port;
	time_t t0;
	int fd;

	(void)state;
	/* The kernel completes the connect; nobody ever speaks TLS. */
	fd = listen_loopback(&port);
	t0 = time(NULL);
	assert_int_equal(tls_probe("127.0.0.1", port,
			     trust_of(&s, 0, ROOT_A, N_CERTS), 1, &r),
	    RK_OK);
	close(fd);
	assert_result(&r, TLS_PROBE_NET);
	assert_contains(r.detail, "timed out");
	assert_true(time(NULL) - t0 <= 3);
}

/* A peer that takes the connection and closes it without a word. */
static void
probe_net_peer_closes(void **state)
{
	struct set s;
	struct tls_probe r;
	unsigned port;
	pid_t pid;
	int fd, st;

	(void)state;
	fd = listen_loopback(&port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int cfd = accept(fd, NULL, NULL);
		char buf[16];

		/* Read a little of the ClientHello, then hang up. */
		if (cfd >= 0 && read(cfd, buf, sizeof(buf)) > 0)
			close(cfd);
		_exit(0);
	}
	close(fd);
	assert_int_equal(tls_probe("127.0.0.1", port,
			     trust_of(&s, 0, ROOT_A, N_CERTS), TIMEOUT, &r),
	    RK_OK);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_result(&r, TLS_PROBE_NET);
	assert_contains(r.detail, "TLS handshake with 127.0.0.1");
}

static void
probe_bad_arguments(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	trust_of(&s, 0, ROOT_A, N_CERTS);
	assert_int_equal(tls_probe(NULL, 1, &s.t, 1, &r), RK_EINVAL);
	assert_int_equal(tls_probe("127.0.0.1", 0, &s.t, 1, &r), RK_EINVAL);
	assert_int_equal(tls_probe("127.0.0.1", 65536, &s.t, 1, &r), RK_EINVAL);
	assert_int_equal(tls_probe("127.0.0.1", 1, NULL, 1, &r), RK_EINVAL);
	assert_int_equal(tls_probe("127.0.0.1", 1, &s.t, 0, &r), RK_EINVAL);
}

static void
probe_distrust_after(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	/* The premise: one leaf from before D, one from after. */
	assert_true(E.info[LEAF_C_OLD].not_before <= E.d);
	assert_true(E.info[LEAF_C_NEW].not_before > E.d);
	trust_of(&s, 0, ROOT_A, ROOT_C, N_CERTS);

	/* Without the entry both validate. */
	r = probe("127.0.0.1", E.port_cnew, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_C);

	distrust_c_after_d(&s);
	r = probe("127.0.0.1", E.port_cold, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_C);
	assert_int_equal(r.leaf_not_before, E.info[LEAF_C_OLD].not_before);

	r = probe("127.0.0.1", E.port_cnew, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "root \"/O=rootkeeper test/CN=Root C\" is "
				  "distrusted for leaves issued after "
				  "2025-01-01T00:00:00Z");
	assert_true(r.have_leaf);
	assert_int_equal(r.leaf_not_before, E.info[LEAF_C_NEW].not_before);

	/* An entry for another root changes nothing for Root A. */
	r = probe("127.0.0.1", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_OK);
}

/* A second copy of the distrusted root (same key, same name) is no way
 * around the distrust: any root that verifies the chain and refuses it
 * decides. */
static void
probe_distrust_after_twice_listed(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	trust_of(&s, 0, ROOT_C, ROOT_A, ROOT_C, N_CERTS);
	distrust_c_after_d(&s);
	r = probe("127.0.0.1", E.port_cnew, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "is distrusted for leaves issued after");
}

static void
probe_expired_leaf(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_aexp, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "expired");
	/* A floor the clock is past changes nothing: it is not a date. */
	r = probe("127.0.0.1", E.port_aexp,
	    trust_of(&s, 1590969600 /* 2020-06-01 */, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
}

/* The premises of the clock group's twins of these cases. */
static void
probe_masked_errors(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_acrit, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "depth 1");
	assert_contains(r.detail, "Critical extension");
	/* wolfSSL's minimum RSA key, 1024 bits, above the leaf. */
	r = probe("127.0.0.1", E.port_aweak, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "depth 1");
}

/* RSA roots are the common kind: the walk checks their signatures too. */
static void
probe_rsa_root(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_r,
	    trust_of(&s, 0, ROOT_A, ROOT_R, ROOT_C, N_CERTS));
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_R);
}

/* wolfSSL does not look at an anchor's dates; we do. */
static void
probe_expired_root(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	assert_true(E.info[ROOT_E].not_after < E.now);
	r = probe("127.0.0.1", E.port_e, trust_of(&s, 0, ROOT_E, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail,
	    "root \"/O=rootkeeper test/CN=Root E (expired)\" expired at "
	    "2020-01-01T00:00:00Z");
}

/*
 * wolfSSL keeps every intermediate it validated in the context and uses it
 * for later peers that leave it out, or that send another copy of it
 * (cross-signed by a root not in the set).  Partial distrust must follow
 * the chain into that cache.
 */
static void
cached_intermediate_keeps_distrust(void **state)
{
	struct tls_verifier *v = NULL, *v2 = NULL;
	WOLFSSL_CTX *ctx, *fresh;
	struct set s;
	int err;

	(void)state;
	trust_of(&s, 0, ROOT_A, N_CERTS);
	/* The premises, without partial distrust. */
	assert_non_null(fresh = wolfSSL_CTX_new(wolfSSLv23_client_method()));
	assert_int_equal(tls_ctx_setup(fresh, &s.t, NULL, &v2), RK_OK);
	assert_false(app_connect(fresh, E.port_a0, "127.0.0.1", &err));
	assert_false(app_connect(fresh, E.port_ax, "127.0.0.1", &err));
	wolfSSL_CTX_free(fresh);
	tls_verifier_free(v2);
	assert_non_null(ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()));
	assert_int_equal(tls_ctx_setup(ctx, &s.t, NULL, &v), RK_OK);
	assert_true(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	assert_true(app_connect(ctx, E.port_a0, "127.0.0.1", &err));
	assert_true(app_connect(ctx, E.port_ax, "127.0.0.1", &err));
	wolfSSL_CTX_free(ctx);
	tls_verifier_free(v);

	/* Root A trusted only up to D: its leaf (from yesterday) is not. */
	distrust_after(&s, ROOT_A, E.d);
	assert_non_null(ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()));
	assert_int_equal(tls_ctx_setup(ctx, &s.t, NULL, &v), RK_OK);
	/* Refused, but wolfSSL has cached the intermediate by now. */
	assert_false(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	assert_false(app_connect(ctx, E.port_a0, "127.0.0.1", &err));
	assert_false(app_connect(ctx, E.port_ax, "127.0.0.1", &err));
	wolfSSL_CTX_free(ctx);
	tls_verifier_free(v);
}

/*
 * The chain as sent decides which root it ends at: Intermediate A
 * cross-signed by Root B ends at Root B, and Root A's partial distrust
 * does not touch it; sent as signed by Root A, it does.
 */
static void
probe_cross_signed_path(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	trust_of(&s, 0, ROOT_A, ROOT_B, N_CERTS);
	distrust_after(&s, ROOT_A, E.d);
	r = probe("127.0.0.1", E.port_ax, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_B);
	r = probe("127.0.0.1", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "CN=Root A\" is distrusted");
	/* Without Root B in the set, the copy leads nowhere. */
	r = probe("127.0.0.1", E.port_ax, trust_of(&s, 0, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
}

/* A root wolfSSL cannot load is skipped and counted, not fatal. */
static void
setup_skips_bad_roots(void **state)
{
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct tls_verifier *v = NULL;
	WOLFSSL_CTX *ctx;
	struct set s;
	int err;

	(void)state;
	trust_of(&s, 0, ROOT_A, N_CERTS);
	s.der[1] = junk;
	s.len[1] = sizeof(junk);
	s.t.n = 2;
	assert_non_null(ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()));
	assert_int_equal(tls_ctx_setup(ctx, &s.t, NULL, &v), RK_OK);
	assert_int_equal(tls_verifier_skipped(v), 1);
	assert_true(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	assert_false(app_connect(ctx, E.port_b, "127.0.0.1", &err));
	wolfSSL_CTX_free(ctx);
	tls_verifier_free(v);
}

/* One handshake from a thread: app_connect() without cmocka's asserts. */
struct racer {
	WOLFSSL_CTX *ctx;
	unsigned port;
	int ok;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	struct sockaddr_in sa;
	struct timeval tv = {TIMEOUT, 0};
	WOLFSSL *ssl;
	int fd;

	r->ok = -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return NULL;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)r->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    (ssl = wolfSSL_new(r->ctx)) != NULL) {
		if (wolfSSL_set_fd(ssl, fd) == WOLFSSL_SUCCESS &&
		    wolfSSL_check_domain_name(ssl, "127.0.0.1") ==
			WOLFSSL_SUCCESS)
			r->ok = wolfSSL_connect(ssl) == WOLFSSL_SUCCESS;
		wolfSSL_free(ssl);
	}
	close(fd);
	/* wolfSSL's ECC cache is per thread; each thread must free its own. */
	wc_ecc_fp_free();
	return NULL;
}

#define RACERS 6

/*
 * Roots made once with what the store knows of them (as librootkeeper
 * does) and shared by contexts that verify on several threads at once.
 * A root's key is read on the first verification that needs it, by
 * whichever thread comes first: every context must then use it (ASan
 * sees a leak or a double free of a key that two threads read), and
 * every context enforces partial distrust with it.
 */
static void
shared_roots_on_threads(void **state)
{
	struct tls_known known[2];
	struct tls_verifier *v[RACERS];
	struct racer r[RACERS];
	pthread_t th[RACERS];
	struct tls_roots *rs;
	struct set s;
	int round, i;

	(void)state;
	trust_of(&s, 0, ROOT_A, ROOT_C, N_CERTS);
	for (i = 0; i < 2; i++) {
		const struct certinfo *ci = &E.info[i == 0 ? ROOT_A : ROOT_C];

		known[i] = (struct tls_known){
		    ci->sha256, ci->subject, ci->not_before, ci->not_after};
	}
	for (round = 0; round < 2; round++) {
		/* Round 1: Root C trusted only for leaves up to D. */
		if (round == 1)
			distrust_c_after_d(&s);
		assert_int_equal(tls_roots_new(&s.t, known, &rs), RK_OK);
		for (i = 0; i < RACERS; i++) {
			assert_non_null(r[i].ctx = wolfSSL_CTX_new(
					    wolfSSLv23_client_method()));
			assert_int_equal(
			    tls_ctx_load(r[i].ctx, rs, NULL, &v[i]), RK_OK);
			r[i].port = i % 3 == 0	 ? E.port_a
				    : i % 3 == 1 ? E.port_cold
						 : E.port_cnew;
		}
		/* The verifiers keep the roots alive. */
		tls_roots_free(rs);
		for (i = 0; i < RACERS; i++)
			assert_int_equal(
			    pthread_create(&th[i], NULL, race, &r[i]), 0);
		for (i = 0; i < RACERS; i++)
			assert_int_equal(pthread_join(th[i], NULL), 0);
		for (i = 0; i < RACERS; i++) {
			assert_int_equal(
			    r[i].ok, round == 1 && i % 3 == 2 ? 0 : 1);
			wolfSSL_CTX_free(r[i].ctx);
			tls_verifier_free(v[i]);
		}
	}
}

/* ---- librootkeeper ----------------------------------------------- */

/* Runs `rootkeeper --db STORE ARGS...`; returns its exit status. */
static int
rootkeeper(const char *a1, const char *a2, const char *a3, const char *a4,
    const char *a5, const char *a6, const char *a7)
{
	char *argv[] = {(char *)E.rootkeeper, (char *)"--db", (char *)E.store,
	    (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5,
	    (char *)a6, (char *)a7, NULL};
	pid_t pid;
	int st;

	if (posix_spawn(&pid, E.rootkeeper, NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
bundle_path(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", E.bundles, name);
}

/*
 * The application's side: a handshake with ctx to 127.0.0.1:port, checking
 * name (NULL: none).  1 when it completed; *err gets wolfSSL's error.
 */
static int
app_connect(WOLFSSL_CTX *ctx, unsigned port, const char *name, int *err)
{
	struct sockaddr_in sa;
	struct timeval tv = {TIMEOUT, 0};
	WOLFSSL *ssl;
	int fd, r, ok = 0;

	*err = 0;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_non_null(ssl = wolfSSL_new(ctx));
	assert_int_equal(wolfSSL_set_fd(ssl, fd), WOLFSSL_SUCCESS);
	if (name != NULL)
		assert_int_equal(
		    wolfSSL_check_domain_name(ssl, name), WOLFSSL_SUCCESS);
	r = wolfSSL_connect(ssl);
	if (r == WOLFSSL_SUCCESS)
		ok = 1;
	else
		*err = wolfSSL_get_error(ssl, r);
	wolfSSL_free(ssl);
	close(fd);
	return ok;
}

static WOLFSSL_CTX *
rk_ctx(struct rk_trust *t)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());

	assert_non_null(ctx);
	assert_int_equal(rk_trust_load_wolfssl(t, ctx), 0);
	return ctx;
}

static int
connects(struct rk_trust *t, unsigned port)
{
	WOLFSSL_CTX *ctx = rk_ctx(t);
	int ok, err;

	ok = app_connect(ctx, port, "127.0.0.1", &err);
	wolfSSL_CTX_free(ctx);
	return ok;
}

/* rk_trust_pem() against the agent's export, byte for byte. */
static void
assert_pem_is_export(struct rk_trust *t)
{
	const char *pem;
	uint8_t *file;
	size_t len, flen;

	assert_int_equal(rk_trust_pem(t, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	assert_int_equal(
	    fileio_read(E.export_pem, 1 << 20, &file, &flen), RK_OK);
	assert_int_equal(len, flen);
	assert_memory_equal(pem, file, len);
	free(file);
}

static void
rk_no_store(void **state)
{
	struct rk_trust *t = (struct rk_trust *)1;

	(void)state;
	assert_int_equal(rk_trust_open("/nonexistent/store.db", &t), RK_ENOENT);
	assert_ptr_equal(t, (struct rk_trust *)1); /* untouched */
	assert_string_equal(rk_strerror(RK_ENOENT), "not found");
	assert_string_equal(rk_strerror(-1), "unknown error");
	assert_non_null(rk_strerror(1000));
	rk_trust_close(NULL);
	assert_int_equal(rk_trust_version(NULL), 0);
}

/*
 * The whole life of a handle: a store with only Root B, then Root A and
 * B, then A, B and C with C distrusted after D, each version applied by
 * the rootkeeper command while the handle stays open.
 */
static void
rk_lifecycle(void **state)
{
	char v1[1024], v2[1024], v3[1024], pub[1024];
	const char *pem1, *pem2;
	char *pem1_copy;
	size_t len1, len2;
	struct rk_trust *t = NULL;
	WOLFSSL_CTX *old;
	int changed = -1, err;

	(void)state;
	bundle_path(v1, sizeof(v1), "v1.rkb");
	bundle_path(v2, sizeof(v2), "v2.rkb");
	bundle_path(v3, sizeof(v3), "v3.rkb");
	bundle_path(pub, sizeof(pub), "k1.pub");
	assert_int_equal(rootkeeper("init", "--pin", pub, "--channel", "tls",
			     "--bundle", v1),
	    0);

	assert_int_equal(rk_trust_open(E.store, &t), 0);
	assert_int_equal(rk_trust_version(t), 1);
	assert_pem_is_export(t);

	/* DESIGN section 6, through the library: Root B only refuses A. */
	assert_false(connects(t, E.port_a));
	assert_true(connects(t, E.port_b));
	old = rk_ctx(t);

	assert_int_equal(rk_trust_refresh(t, &changed), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(rk_trust_version(t), 1);
	assert_int_equal(rk_trust_pem(t, &pem1, &len1), 0);
	assert_non_null(pem1_copy = strdup(pem1));

	assert_int_equal(
	    rootkeeper("apply", v2, NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(rk_trust_refresh(t, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(rk_trust_version(t), 2);
	assert_int_equal(rk_trust_pem(t, &pem2, &len2), 0);
	assert_true(len2 > len1);
	assert_string_not_equal(pem2, pem1_copy);
	assert_pem_is_export(t);
	assert_true(connects(t, E.port_a));
	/* A context loaded before keeps the set it was given. */
	assert_false(app_connect(old, E.port_a, "127.0.0.1", &err));
	wolfSSL_CTX_free(old);
	assert_int_equal(rk_trust_refresh(t, &changed), 0);
	assert_int_equal(changed, 0);

	assert_int_equal(
	    rootkeeper("apply", v3, NULL, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(rk_trust_refresh(t, &changed), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(rk_trust_version(t), 3);
	assert_pem_is_export(t);
	/* Partial distrust comes from the store: C's old leaf only. */
	assert_true(connects(t, E.port_cold));
	assert_false(connects(t, E.port_cnew));
	assert_true(connects(t, E.port_a));
	free(pem1_copy);
	rk_trust_close(t);
}

struct seen {
	int calls;
	int leaf_calls;
	int leaf_preverify;
	int veto;
};

static int
app_cb(int preverify, WOLFSSL_X509_STORE_CTX *store, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	if (wolfSSL_X509_STORE_CTX_get_error_depth(store) == 0) {
		s->leaf_calls++;
		s->leaf_preverify = preverify;
		if (s->veto)
			return 0;
	}
	return preverify;
}

static void
rk_verify_cb_chained(void **state)
{
	struct rk_trust *t = NULL;
	struct seen s;
	WOLFSSL_CTX *ctx;
	int err;

	(void)state;
	assert_int_equal(rk_trust_open(E.store, &t), 0);
	assert_int_equal(rk_trust_version(t), 3);
	memset(&s, 0, sizeof(s));
	ctx = rk_ctx(t);
	assert_int_equal(rk_trust_set_verify_cb(t, app_cb, &s), 0);

	/* A good chain: the app sees our yes at the leaf. */
	assert_true(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	assert_int_equal(s.leaf_calls, 1);
	assert_int_equal(s.leaf_preverify, 1);
	assert_true(s.calls >= 2); /* the intermediate, then the leaf */

	/* The app can veto. */
	memset(&s, 0, sizeof(s));
	s.veto = 1;
	assert_false(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	assert_int_equal(s.leaf_calls, 1);
	assert_int_equal(s.leaf_preverify, 1);

	/* Our refusal (distrust after D) reaches it as preverify 0. */
	memset(&s, 0, sizeof(s));
	assert_false(app_connect(ctx, E.port_cnew, "127.0.0.1", &err));
	assert_int_equal(s.leaf_calls, 1);
	assert_int_equal(s.leaf_preverify, 0);

	/* Removed: our checks alone again. */
	assert_int_equal(rk_trust_set_verify_cb(t, NULL, NULL), 0);
	memset(&s, 0, sizeof(s));
	assert_true(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	assert_int_equal(s.calls, 0);

	/* The host name is the application's to set, and is checked. */
	assert_false(app_connect(ctx, E.port_a, "wrong.example", &err));
	assert_int_equal(err, DOMAIN_NAME_MISMATCH);
	assert_true(app_connect(ctx, E.port_a, "localhost", &err));

	/*
	 * What the header warns of: wolfSSL_CTX_set_verify() afterwards
	 * replaces our callback, and the distrusted leaf gets through.
	 */
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	assert_true(app_connect(ctx, E.port_cnew, "127.0.0.1", &err));
	wolfSSL_CTX_free(ctx);

	/* And without rootkeeper at all, Debian's wolfSSL checks nothing. */
	assert_non_null(ctx = wolfSSL_CTX_new(wolfSSLv23_client_method()));
	assert_true(app_connect(ctx, E.port_a, "127.0.0.1", &err));
	wolfSSL_CTX_free(ctx);
	rk_trust_close(t);
}

/* ---- the clock group: under faketime in 1971 ---------------------- */

static void
clock_is_behind(void **state)
{
	(void)state;
	/* Else this group proves nothing. */
	assert_true(time(NULL) < 100000000);
}

static void
clock_floor_accepts(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	/* Leaf and intermediate are "not yet valid" in 1971. */
	r = probe("127.0.0.1", E.port_a,
	    trust_of(&s, E.now, ROOT_A, ROOT_B, N_CERTS));
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_A);
	r = probe("localhost", E.port_a, &s.t);
	assert_result(&r, TLS_PROBE_OK);
}

static void
clock_no_floor_refuses(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe(
	    "127.0.0.1", E.port_a, trust_of(&s, 0, ROOT_A, ROOT_B, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "not yet valid");
}

/* The floor forgives dates, nothing else. */
static void
clock_floor_forgives_only_dates(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	r = probe("127.0.0.1", E.port_a,
	    trust_of(&s, E.now, ROOT_B, ROOT_C, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	r = probe("127.0.0.1", E.port_a, trust_of(&s, E.now, TWIN_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	r = probe("127.0.0.2", E.port_a, trust_of(&s, E.now, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	/* Partial distrust holds whatever the clock. */
	trust_of(&s, E.now, ROOT_C, N_CERTS);
	distrust_c_after_d(&s);
	r = probe("127.0.0.1", E.port_cold, &s.t);
	assert_result(&r, TLS_PROBE_OK);
	r = probe("127.0.0.1", E.port_cnew, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "is distrusted for leaves issued after");
}

/* Validity is judged at the floor, not waived. */
static void
clock_judged_at_the_floor(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	/* Expired in 2021: invalid at a 2026 floor ... */
	r = probe(
	    "127.0.0.1", E.port_aexp, trust_of(&s, E.now, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "time floor");
	/* ... valid at a 2020 one (so are its CAs, from 2019). */
	r = probe("127.0.0.1", E.port_aexp,
	    trust_of(&s, 1590969600 /* 2020-06-01 */, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_OK);
	assert_root(&r, ROOT_A);
	/* A floor before the leaf's notBefore does not help it. */
	r = probe(
	    "127.0.0.1", E.port_a, trust_of(&s, 1590969600, ROOT_A, N_CERTS));
	assert_result(&r, TLS_PROBE_CERT);
}

/*
 * wolfSSL reports a date error in place of an unknown critical extension
 * and, above the leaf, of a key too small: forgiving the date must let
 * neither through.
 */
static void
clock_floor_does_not_unmask(void **state)
{
	struct set s;
	struct tls_probe r;

	(void)state;
	trust_of(&s, E.now, ROOT_A, N_CERTS);
	r = probe("127.0.0.1", E.port_acrit, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "depth 1");
	assert_contains(r.detail, "judged at the time floor");
	r = probe("127.0.0.1", E.port_aweak, &s.t);
	assert_result(&r, TLS_PROBE_CERT);
	assert_contains(r.detail, "depth 1");
	assert_contains(r.detail, "its key is too small");
}

/* librootkeeper takes the floor from the store (the last issued_at). */
static void
clock_rk_uses_store_floor(void **state)
{
	struct rk_trust *t = NULL;

	(void)state;
	assert_int_equal(rk_trust_open(E.store, &t), 0);
	assert_int_equal(rk_trust_version(t), 3);
	assert_true(connects(t, E.port_a));
	assert_true(connects(t, E.port_cold));
	assert_false(connects(t, E.port_cnew));
	rk_trust_close(t);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(probe_ok_reports_root),
	    cmocka_unit_test(probe_names_and_ipv6),
	    cmocka_unit_test(probe_cert_without_the_root),
	    cmocka_unit_test(probe_only_root_b_refuses_root_a),
	    cmocka_unit_test(probe_twin_root_refused),
	    cmocka_unit_test(probe_cert_wrong_address),
	    cmocka_unit_test(probe_net_closed_port),
	    cmocka_unit_test(probe_net_not_tls),
	    cmocka_unit_test(probe_net_silent_peer),
	    cmocka_unit_test(probe_net_peer_closes),
	    cmocka_unit_test(probe_bad_arguments),
	    cmocka_unit_test(probe_distrust_after),
	    cmocka_unit_test(probe_distrust_after_twice_listed),
	    cmocka_unit_test(probe_expired_leaf),
	    cmocka_unit_test(probe_masked_errors),
	    cmocka_unit_test(setup_skips_bad_roots),
	    cmocka_unit_test(probe_rsa_root),
	    cmocka_unit_test(probe_expired_root),
	    cmocka_unit_test(probe_cross_signed_path),
	    cmocka_unit_test(cached_intermediate_keeps_distrust),
	    cmocka_unit_test(shared_roots_on_threads),
	    cmocka_unit_test(rk_no_store),
	    cmocka_unit_test(rk_lifecycle),
	    cmocka_unit_test(rk_verify_cb_chained),
	};
	const struct CMUnitTest clock[] = {
	    cmocka_unit_test(clock_is_behind),
	    cmocka_unit_test(clock_floor_accepts),
	    cmocka_unit_test(clock_no_floor_refuses),
	    cmocka_unit_test(clock_floor_forgives_only_dates),
	    cmocka_unit_test(clock_judged_at_the_floor),
	    cmocka_unit_test(clock_floor_does_not_unmask),
	    cmocka_unit_test(clock_rk_uses_store_floor),
	};

	if (argc > 1 && strcmp(argv[1], "clock") == 0)
		return cmocka_run_group_tests_name(
		    "tls_clock", clock, setup_env, teardown_env);
	return cmocka_run_group_tests_name(
	    "tls", tests, setup_env, teardown_env);
}
