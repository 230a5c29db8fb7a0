/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Out-of-memory behaviour: this suite replaces malloc, calloc, realloc and
 * free for the whole process (the libraries' allocations included) so that
 * the Nth allocation fails, and runs the bundle operations once for every
 * N until one completes without reaching the failure.  Each run must fail
 * cleanly or succeed with a correct result, and must leave no allocation
 * behind.  Not built under the sanitizers, whose allocator this would
 * fight with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "bundle.h"
#include "fileio.h"
#include "keys.h"
#include "manifest.h"
#include "pem.h"

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);

/* The allocation hook's state: the only mutable globals of this suite. */
static long fail_at;  /* 0: never fail; N: the Nth allocation fails */
static long n_allocs; /* allocations seen since arming */
static long live;     /* allocations made here and not yet freed */
static int failed;    /* the armed failure happened */

/*
 * The pointers this hook handed out, so that free() counts only those and
 * not what libc allocated for itself through its internal entry points.
 * Open addressing with tombstones; sized far above what the suite holds.
 */
#define TRACK_SLOTS (1u << 18)
#define TOMBSTONE ((void *)1)
static void *tracked[TRACK_SLOTS];

static size_t
slot_of(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 2654435761u) & (TRACK_SLOTS - 1);
}

static void
track(void *p)
{
	size_t i = slot_of(p);

	while (tracked[i] != NULL && tracked[i] != TOMBSTONE)
		i = (i + 1) & (TRACK_SLOTS - 1);
	tracked[i] = p;
	live++;
}

static void
untrack(void *p)
{
	size_t i = slot_of(p);

	while (tracked[i] != NULL) {
		if (tracked[i] == p) {
			tracked[i] = TOMBSTONE;
			live--;
			return;
		}
		i = (i + 1) & (TRACK_SLOTS - 1);
	}
}

static int
should_fail(void)
{
	if (fail_at == 0)
		return 0;
	if (++n_allocs == fail_at) {
		failed = 1;
		return 1;
	}
	return 0;
}

void *
malloc(size_t n)
{
	void *p;

	if (should_fail())
		return NULL;
	if ((p = __libc_malloc(n)) != NULL)
		track(p);
	return p;
}

void *
calloc(size_t a, size_t b)
{
	void *p;

	if (should_fail())
		return NULL;
	if ((p = __libc_calloc(a, b)) != NULL)
		track(p);
	return p;
}

void *
realloc(void *old, size_t n)
{
	void *p;

	if (old == NULL)
		return malloc(n);
	if (should_fail())
		return NULL;
	if ((p = __libc_realloc(old, n)) != NULL) {
		untrack(old);
		track(p);
	}
	return p;
}

void
free(void *p)
{
	if (p != NULL)
		untrack(p);
	__libc_free(p);
}

struct fixture {
	uint8_t *file;
	size_t len;
	struct pubkey *pub;
};

/* A small signed bundle of three real roots from the system store. */
static int
setup(void **state)
{
	static struct fixture fx;
	struct privkey *k = NULL;
	struct bundle *b = NULL;
	struct manifest m;
	uint8_t *pem = NULL, *der[3], *man = NULL, sig[KEYS_MAX_SIG];
	size_t pem_len = 0, pos = 0, lens[3], man_len = 0, siglen = 0, i,
	       msglen;
	const uint8_t *msg;

	assert_int_equal(fileio_read("/etc/ssl/certs/ca-certificates.crt",
			     1u << 24, &pem, &pem_len),
	    RK_OK);
	for (i = 0; i < 3; i++)
		assert_int_equal(pem_next((const char *)pem, pem_len, &pos,
				     "CERTIFICATE", NULL, &der[i], &lens[i]),
		    RK_OK);
	memset(&m, 0, sizeof(m));
	memcpy(m.channel, "oom", 4);
	m.version = 7;
	m.issued_at = 1764115200;  /* 2025-11-26 */
	m.expires_at = 4102444800; /* 2100-01-01 */
	/* Every kind of optional field, so their decoders are swept too. */
	{
		static struct distrust d[2];

		memset(d, 0, sizeof(d));
		memset(d[0].sha256, 0xab, sizeof(d[0].sha256));
		d[0].lift = 1;
		d[0].reason = "lifted";
		memset(d[1].sha256, 0xcd, sizeof(d[1].sha256));
		d[1].has_after = 1;
		d[1].after = 1764115200;
		m.distrust = d;
		m.n_distrust = 2;
		m.rollout.percent = 10;
		memcpy(m.rollout.seed, "oom-wave", 9);
	}
	assert_int_equal(manifest_encode(&m, &man, &man_len, NULL), RK_OK);
	assert_int_equal(bundle_new(man, man_len, (const uint8_t *const *)der,
			     lens, 3, &b, NULL),
	    RK_OK);
	assert_int_equal(privkey_generate(CRYPTO_ED25519, &k), RK_OK);
	assert_int_equal(privkey_public(k, &fx.pub), RK_OK);
	msg = bundle_message(b, &msglen);
	assert_int_equal(privkey_sign(k, msg, msglen, sig, &siglen), RK_OK);
	assert_int_equal(
	    bundle_add_sig(b, pubkey_id(fx.pub), CRYPTO_ED25519, sig, siglen),
	    RK_OK);
	assert_int_equal(bundle_encode(b, &fx.file, &fx.len), RK_OK);
	for (i = 0; i < 3; i++)
		free(der[i]);
	free(pem);
	free(man);
	bundle_free(b);
	privkey_free(k);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->file);
	pubkey_free(fx->pub);
	return 0;
}

/*
 * Runs op with the Nth allocation failing, for N = 1, 2, ...  Each run must
 * end in an error or in a result the op checked as right, and must free
 * everything.  wolfSSL keeps a global cache of precomputed multiples of
 * the P-256 generator (FP_ECC), built on a point's second use and kept
 * until wc_ecc_fp_free(); it is emptied before each snapshot and after
 * each run so that only what the run itself lost counts.
 */
static void
sweep(const char *name, int (*op)(struct fixture *), struct fixture *fx)
{
	long n, before;
	int rc;

	/* Unarmed first: other lazy global state is set up and kept. */
	assert_int_equal(op(fx), RK_OK);
	for (n = 1;; n++) {
		wc_ecc_fp_free();
		before = live;
		failed = 0;
		n_allocs = 0;
		fail_at = n;
		rc = op(fx);
		fail_at = 0;
		wc_ecc_fp_free();
		if (live != before)
			fail_msg("%s: allocation %ld failing leaked %ld "
				 "allocation(s)",
			    name, n, live - before);
		if (!failed) {
			assert_int_equal(rc, RK_OK);
			break;
		}
		/*
		 * A failure absorbed (rc RK_OK) is fine: each op checks its
		 * own result, so a wrong success shows as RK_EINVAL.
		 */
		assert_int_not_equal(rc, RK_EINVAL);
	}
	printf(
	    "%s: %ld allocation failures injected, none leaked\n", name, n - 1);
}

static int
op_open(struct fixture *fx)
{
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	int rc;

	rc = bundle_open(
	    fx->file, fx->len, fx->len, &fx->pub, 1, 1, &b, &m, NULL);
	if (rc == RK_OK && (m->version != 7 || bundle_ncerts(b) != 3 ||
			       strcmp(m->channel, "oom") != 0))
		rc = RK_EINVAL;
	bundle_free(b);
	manifest_free(m);
	return rc;
}

static int
op_reencode(struct fixture *fx)
{
	struct bundle *b = NULL;
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	if ((rc = bundle_parse(fx->file, fx->len, &b, NULL)) == RK_OK &&
	    (rc = bundle_encode(b, &out, &len)) == RK_OK &&
	    (len != fx->len || memcmp(out, fx->file, len) != 0))
		rc = RK_EINVAL;
	free(out);
	bundle_free(b);
	return rc;
}

static int
op_manifest(struct fixture *fx)
{
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	const uint8_t *man;
	uint8_t *enc = NULL;
	size_t man_len, enc_len = 0;
	int rc;

	if ((rc = bundle_parse(fx->file, fx->len, &b, NULL)) != RK_OK)
		return rc;
	man = bundle_manifest(b, &man_len);
	if ((rc = manifest_parse(man, man_len, &m, NULL)) == RK_OK &&
	    (rc = manifest_encode(m, &enc, &enc_len, NULL)) == RK_OK &&
	    (enc_len != man_len || memcmp(enc, man, man_len) != 0))
		rc = RK_EINVAL;
	free(enc);
	manifest_free(m);
	bundle_free(b);
	return rc;
}

static int
op_keys(struct fixture *fx)
{
	struct privkey *k = NULL, *k2 = NULL;
	char *pem = NULL;
	size_t len = 0;
	int rc;

	(void)fx;
	if ((rc = privkey_generate(CRYPTO_ECDSA_P256, &k)) == RK_OK &&
	    (rc = privkey_to_pem(k, &pem, &len)) == RK_OK)
		rc = privkey_from_pem(pem, len, &k2);
	if (pem != NULL)
		explicit_bzero(pem, len);
	free(pem);
	privkey_free(k);
	privkey_free(k2);
	return rc;
}

static void
test_oom_open(void **state)
{
	sweep("bundle_open", op_open, *state);
}

static void
test_oom_reencode(void **state)
{
	sweep("bundle_parse+encode", op_reencode, *state);
}

static void
test_oom_manifest(void **state)
{
	sweep("manifest_parse+encode", op_manifest, *state);
}

static void
test_oom_keys(void **state)
{
	sweep("privkey generate+pem", op_keys, *state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oom_open),
	    cmocka_unit_test(test_oom_reencode),
	    cmocka_unit_test(test_oom_manifest),
	    cmocka_unit_test(test_oom_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
