/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-process cost of librootkeeper for scripts/bench.sh: how long a
 * device application spends in rk_trust_open (+ close), in
 * rk_trust_load_wolfssl into a fresh WOLFSSL_CTX (+ the context's new and
 * free), in both (the first context of a program, which pays for making
 * the snapshot's roots once), and in rk_trust_refresh when nothing changed
 * (what it calls before every connect), next to the reference: the same set, as
 * the PEM string rk_trust_pem gives, loaded with wolfSSL_CTX_load_verify_buffer
 * into a fresh context, which is what an application without rootkeeper
 * would do on every connect to pick up a changed CA file; and the floor:
 * the same certificates as DER, decoded beforehand, each loaded with
 * wolfSSL_CTX_load_verify_buffer_ex as rk_trust_load_wolfssl does, which
 * is the least any loader of these roots into wolfSSL pays.  Each case runs
 * one warm-up batch that also sizes the batches (about 100 ms each), then
 * BATCHES timed batches; it prints one line per case, "NAME MEDIAN MIN MAX
 * ITERS" in microseconds per call over the batches, the cases taking turns
 * batch by batch.  It uses only the
 * public header and the shared library, as an application would.  It
 * checks that each call succeeds (and that refresh saw no change) but
 * judges no timing: the machines it runs on are shared and noisy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rootkeeper.h>

#define WARMUP_NS 20000000.0 /* the warm-up batch runs this long */
#define BATCH_NS 100000000.0 /* each timed batch aims at this */
#define MAX_BATCHES 1000

struct bench {
	const char *db;
	struct rk_trust *t;
	const char *pem;
	size_t pem_len;
	unsigned char **der; /* the PEM's certificates, decoded once */
	int *der_len;
	size_t n_der;
};

/* One call of the case under measurement; 0 on success. */
typedef int (*bench_fn)(struct bench *b);

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int
case_open(struct bench *b)
{
	struct rk_trust *t = NULL;
	int rc;

	if ((rc = rk_trust_open(b->db, &t)) != 0)
		return rc;
	rk_trust_close(t);
	return 0;
}

static int
case_load(struct bench *b)
{
	WOLFSSL_CTX *ctx;
	int rc;

	if ((ctx = wolfSSL_CTX_new(wolfTLS_client_method())) == NULL)
		return -1;
	rc = rk_trust_load_wolfssl(b->t, ctx);
	wolfSSL_CTX_free(ctx);
	return rc;
}

/* What a program pays to trust the set in its first context. */
static int
case_open_load(struct bench *b)
{
	struct rk_trust *t = NULL;
	WOLFSSL_CTX *ctx;
	int rc;

	if ((ctx = wolfSSL_CTX_new(wolfTLS_client_method())) == NULL)
		return -1;
	if ((rc = rk_trust_open(b->db, &t)) == 0)
		rc = rk_trust_load_wolfssl(t, ctx);
	wolfSSL_CTX_free(ctx);
	rk_trust_close(t);
	return rc;
}

static int
case_refresh(struct bench *b)
{
	int rc, changed = -1;

	if ((rc = rk_trust_refresh(b->t, &changed)) != 0)
		return rc;
	/* A change would measure a snapshot read, not the cheap path. */
	return changed == 0 ? 0 : -1;
}

static int
case_ref_load(struct bench *b)
{
	WOLFSSL_CTX *ctx;
	int rc;

	if ((ctx = wolfSSL_CTX_new(wolfTLS_client_method())) == NULL)
		return -1;
	rc = wolfSSL_CTX_load_verify_buffer(ctx, (const unsigned char *)b->pem,
		 (long)b->pem_len, WOLFSSL_FILETYPE_PEM) == WOLFSSL_SUCCESS
		 ? 0
		 : -1;
	wolfSSL_CTX_free(ctx);
	return rc;
}

static int
case_ref_load_der(struct bench *b)
{
	WOLFSSL_CTX *ctx;
	size_t i;
	int rc = 0;

	if ((ctx = wolfSSL_CTX_new(wolfTLS_client_method())) == NULL)
		return -1;
	for (i = 0; i < b->n_der && rc == 0; i++)
		if (wolfSSL_CTX_load_verify_buffer_ex(ctx, b->der[i],
			b->der_len[i], WOLFSSL_FILETYPE_ASN1, 0,
			WOLFSSL_LOAD_FLAG_DATE_ERR_OKAY) != WOLFSSL_SUCCESS)
			rc = -1;
	wolfSSL_CTX_free(ctx);
	return rc;
}

/* Decodes every CERTIFICATE block of b->pem into b->der; 0 on success. */
static int
decode_pem(struct bench *b)
{
	static const char end[] = "-----END CERTIFICATE-----";
	const char *p = b->pem, *stop = b->pem + b->pem_len, *e;
	size_t cap = 0;
	int n;

	while (p < stop && (e = strstr(p, end)) != NULL) {
		e += sizeof(end) - 1;
		if (b->n_der == cap) {
			void *nd, *nl;

			cap = cap ? 2 * cap : 256;
			nd = realloc(b->der, cap * sizeof(*b->der));
			if (nd == NULL)
				return -1;
			b->der = nd;
			nl = realloc(b->der_len, cap * sizeof(*b->der_len));
			if (nl == NULL)
				return -1;
			b->der_len = nl;
		}
		if ((b->der[b->n_der] = malloc((size_t)(e - p))) == NULL)
			return -1;
		n = wolfSSL_CertPemToDer((const unsigned char *)p, (int)(e - p),
		    b->der[b->n_der], (int)(e - p), CERT_TYPE);
		if (n <= 0) {
			free(b->der[b->n_der]);
			return -1;
		}
		b->der_len[b->n_der++] = n;
		p = e;
	}
	return b->n_der > 0 ? 0 : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

#define NCASES 6

/* One case: its function, batch size and the time per call of each batch. */
struct bcase {
	const char *name;
	bench_fn fn;
	long iters;
	double per[MAX_BATCHES];
};

/* Sizes the batches of c from a warm-up.  0, or the failing call's code. */
static int
warm_up(struct bcase *c, struct bench *b)
{
	double t0, t1;
	long n = 0;
	int rc;

	t0 = now_ns();
	do {
		if ((rc = c->fn(b)) != 0)
			return rc;
		n++;
		t1 = now_ns();
	} while (t1 - t0 < WARMUP_NS);
	c->iters = (long)(BATCH_NS / ((t1 - t0) / (double)n));
	if (c->iters < 1)
		c->iters = 1;
	return 0;
}

/* Batch k of c.  0, or the failing call's code. */
static int
batch(struct bcase *c, struct bench *b, int k)
{
	double t0, t1;
	long i;
	int rc;

	t0 = now_ns();
	for (i = 0; i < c->iters; i++)
		if ((rc = c->fn(b)) != 0)
			return rc;
	t1 = now_ns();
	c->per[k] = (t1 - t0) / (double)c->iters / 1e3;
	return 0;
}

/* Prints the line of c. */
static void
report(struct bcase *c, int nbatches)
{
	double med;

	qsort(c->per, (size_t)nbatches, sizeof(c->per[0]), cmp_double);
	med = nbatches % 2
		  ? c->per[nbatches / 2]
		  : (c->per[nbatches / 2 - 1] + c->per[nbatches / 2]) / 2;
	printf("%s %.3f %.3f %.3f %ld\n", c->name, med, c->per[0],
	    c->per[nbatches - 1], c->iters);
}

/*
 * Warms every case up, then runs batch k of each case in turn, for each
 * k: on a shared machine the load changes in the meantime, and taking
 * turns lets each ratio compare batches run at about the same time.
 */
static int
run_cases(struct bcase *cs, size_t n, struct bench *b, int nbatches)
{
	size_t j;
	int k, rc;

	for (j = 0; j < n; j++)
		if ((rc = warm_up(&cs[j], b)) != 0)
			goto fail;
	for (k = 0; k < nbatches; k++)
		for (j = 0; j < n; j++)
			if ((rc = batch(&cs[j], b, k)) != 0)
				goto fail;
	for (j = 0; j < n; j++)
		report(&cs[j], nbatches);
	return 0;
fail:
	fprintf(stderr, "bench_trust: %s failed: %d (%s)\n", cs[j].name, rc,
	    rc > 0 ? rk_strerror(rc) : "see the case");
	return rc;
}

int
main(int argc, char **argv)
{
	static struct bcase cases[NCASES] = {{"open", case_open, 0, {0}},
	    {"load_wolfssl", case_load, 0, {0}},
	    {"open_load_wolfssl", case_open_load, 0, {0}},
	    {"refresh", case_refresh, 0, {0}},
	    {"ref_load_verify_buffer", case_ref_load, 0, {0}},
	    {"ref_load_der", case_ref_load_der, 0, {0}}};
	struct bench b = {NULL, NULL, NULL, 0, NULL, NULL, 0};
	char *end = NULL;
	long nb = 9;
	size_t k;
	int rc, ex = 1;

	if (argc == 3)
		nb = strtol(argv[2], &end, 10);
	if (argc < 2 || argc > 3 || (end != NULL && *end != '\0') || nb < 1 ||
	    nb > MAX_BATCHES) {
		fprintf(stderr, "usage: bench_trust DB [BATCHES (1..%d)]\n",
		    MAX_BATCHES);
		return 2;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		fprintf(stderr, "bench_trust: wolfSSL_Init failed\n");
		return 1;
	}
	b.db = argv[1];
	if ((rc = rk_trust_open(b.db, &b.t)) != 0 ||
	    (rc = rk_trust_pem(b.t, &b.pem, &b.pem_len)) != 0) {
		fprintf(stderr, "bench_trust: %s: %s\n", b.db, rk_strerror(rc));
		goto out;
	}
	if (decode_pem(&b) != 0) {
		fprintf(stderr, "bench_trust: cannot decode the set's PEM\n");
		goto out;
	}
	if (run_cases(cases, NCASES, &b, (int)nb) != 0)
		goto out;
	ex = 0;
out:
	for (k = 0; k < b.n_der; k++)
		free(b.der[k]);
	free(b.der);
	free(b.der_len);
	rk_trust_close(b.t);
	wolfSSL_Cleanup();
	return ex;
}
