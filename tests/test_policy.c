/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device policy (DESIGN section 3, steps 1 to 7) as the pure function
 * it is: bundles are built in memory with the project's own API
 * (fixture.c) from the committed test PKI in data/, judged by
 * policy_evaluate() against a hand-made device state, and every rule is
 * checked with its exact verdict and rk_err, its boundary and the text of
 * the rejection.  Then the order of the steps: a bundle that breaks two
 * rules must be refused for the earlier one (nothing of the manifest
 * before the signatures).  The clock is a number here, never the system's;
 * probes, the store and the export are the agent's (test_agent.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle.h"
#include "fixture.h"
#include "manifest.h"
#include "policy.h"

#define MAX_SIZE BUNDLE_DEFAULT_MAX_SIZE

#define DAY 86400
#define T_1971 31536000	  /* 1971-01-01T00:00:00Z */
#define T_2026 1767225600 /* 2026-01-01T00:00:00Z */
#define T_2030 1893456000 /* 2030-01-01T00:00:00Z */
#define T_2099 4070908800 /* 2099-01-01T00:00:00Z */
#define NOW T_2030

/* Channel "test", v1, issued 2026, expires 2099, {A, B}, signed by ED1. */
static struct spec
spec(void)
{
	static const int ab[] = {ROOT_A, ROOT_B}, ed1[] = {ED1};
	struct spec s;

	memset(&s, 0, sizeof(s));
	s.channel = "test";
	s.version = 1;
	s.issued_at = T_2026;
	s.expires_at = T_2099;
	s.certs = ab;
	s.ncerts = 2;
	s.signers = ed1;
	s.nsigners = 1;
	return s;
}

/* A device on channel "test" pinning ED1 (1 of 1), nothing seen yet. */
static struct policy_ctx
device(const struct pki *p)
{
	static struct pubkey *keys[NKEY];
	struct policy_ctx c;
	size_t i;

	for (i = 0; i < NKEY; i++)
		keys[i] = p->pub[i];
	memset(&c, 0, sizeof(c));
	c.channel = "test";
	c.keys = keys; /* ED1 first: nkeys 1 pins ED1 only */
	c.nkeys = 1;
	c.threshold = 1;
	c.now = NOW;
	c.max_size = MAX_SIZE;
	return c;
}

/* policy_evaluate that must reach a verdict. */
static struct policy_result
judge(const struct policy_ctx *c, const uint8_t *buf, size_t len)
{
	struct policy_result r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(policy_evaluate(c, buf, len, &r), RK_OK);
	if (r.verdict != POLICY_ACCEPT) {
		assert_null(r.bundle);
		assert_null(r.manifest);
		assert_null(r.certs);
	}
	return r;
}

static const char *
verdict_name(enum policy_verdict v)
{
	return v == POLICY_ACCEPT    ? "ACCEPT"
	       : v == POLICY_CURRENT ? "CURRENT"
	       : v == POLICY_REJECT  ? "REJECT"
	       : v == POLICY_DEFER   ? "DEFER"
				     : "?";
}

/*
 * The verdict on s under c must be REJECT with err (version: as known),
 * the reason saying what (NULL: anything).
 */
static void
expect_reject_why(const struct pki *p, const struct policy_ctx *c,
    const struct spec *s, int err, uint64_t version, const char *what)
{
	struct policy_result r;
	char prefix[64];
	uint8_t *buf;
	size_t len;

	buf = fixture_make(p, s, &len);
	r = judge(c, buf, len);
	if (r.verdict != POLICY_REJECT || r.err != err)
		fail_msg("verdict %s err %s (%s), want REJECT %s",
		    verdict_name(r.verdict), rk_strerror(r.err), r.why.msg,
		    rk_strerror(err));
	assert_int_equal(r.version, version);
	if (version > 0)
		snprintf(prefix, sizeof(prefix),
		    "bundle v%llu rejected: ", (unsigned long long)version);
	else
		snprintf(prefix, sizeof(prefix), "bundle rejected: ");
	if (strncmp(r.why.msg, prefix, strlen(prefix)) != 0)
		fail_msg(
		    "why \"%s\" does not start with \"%s\"", r.why.msg, prefix);
	assert_true(strlen(r.why.msg) > strlen(prefix));
	if (what != NULL && strstr(r.why.msg, what) == NULL)
		fail_msg("why \"%s\" does not say \"%s\"", r.why.msg, what);
	policy_result_free(&r);
	free(buf);
}

static void
expect_reject(const struct pki *p, const struct policy_ctx *c,
    const struct spec *s, int err, uint64_t version)
{
	expect_reject_why(p, c, s, err, version, NULL);
}

static void
expect_accept(const struct pki *p, const struct policy_ctx *c,
    const struct spec *s, size_t n_trusted)
{
	struct policy_result r;
	uint8_t *buf;
	size_t len;

	buf = fixture_make(p, s, &len);
	r = judge(c, buf, len);
	if (r.verdict != POLICY_ACCEPT)
		fail_msg("verdict %s err %s (%s), want ACCEPT",
		    verdict_name(r.verdict), rk_strerror(r.err), r.why.msg);
	assert_int_equal(r.version, s->version);
	assert_int_equal(r.n_trusted, n_trusted);
	policy_result_free(&r);
	free(buf);
}

/*
 * The time floor bound: a sane clock (not behind the floor, not before
 * the build) refuses a bundle issued more than 24 hours ahead of it; a
 * clock that is not sane cannot judge that and accepts.
 */
static void
test_issued_in_future(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();

	c.build_time = T_2026;
	s.issued_at = NOW + DAY + 1;
	expect_reject_why(p, &c, &s, RK_EFUTURE, 1, "issued in the future");
	s.issued_at = T_2099 - 1; /* 2090 or so: a typo */
	expect_reject(p, &c, &s, RK_EFUTURE, 1);
	/* Within a day: clocks drift, publishers are early. */
	s.issued_at = NOW + DAY;
	expect_accept(p, &c, &s, 2);
	/* A clock behind the floor is not sane: accepted. */
	s.issued_at = T_2099 - 1;
	c.floor = NOW + 1;
	expect_accept(p, &c, &s, 2);
	/* Nor is one before the agent's build (a device in 1971). */
	c.floor = 0;
	c.now = T_1971;
	expect_accept(p, &c, &s, 2);
	/* The floor wins over such a clock for expiry all the same. */
	c.floor = T_2099;
	expect_reject(p, &c, &s, RK_EEXPIRED, 1);
}

static void
test_accept(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf, sha[CRYPTO_SHA256_LEN];
	size_t len, i;

	s.version = 42;
	buf = fixture_make(p, &s, &len);
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.err, RK_OK);
	assert_int_equal(r.version, 42);
	assert_int_equal(crypto_sha256(buf, len, NULL, 0, sha), RK_OK);
	assert_memory_equal(r.sha256, sha, CRYPTO_SHA256_LEN);
	assert_non_null(r.bundle);
	assert_non_null(r.manifest);
	assert_non_null(r.certs);
	assert_string_equal(r.manifest->channel, "test");
	assert_int_equal(r.manifest->version, 42);
	assert_int_equal(bundle_ncerts(r.bundle), 2);
	assert_int_equal(r.n_trusted, 2);
	for (i = 0; i < 2; i++)
		assert_memory_equal(r.certs[i].sha256, p->cert_sha[s.certs[i]],
		    CRYPTO_SHA256_LEN);
	assert_string_equal(
	    r.certs[0].subject, "/O=rootkeeper test/CN=Test Root A");
	/* The result owns its bundle: the input may go first. */
	memset(buf, 0, len);
	free(buf);
	assert_int_equal(r.manifest->expires_at, T_2099);
	policy_result_free(&r);
	assert_null(r.bundle);
	policy_result_free(&r); /* twice is harmless */
	policy_result_free(NULL);

	/* ECDSA, a v1 root, and a CA root already past its own dates. */
	s = spec();
	SET(s, signers, EC1);
	SET(s, certs, ROOT_V1, ROOT_EXPIRED);
	c.keys = &c.keys[EC1];
	expect_accept(p, &c, &s, 2);
}

/* Step 1: the size cap, before anything is parsed. */
static void
test_size_cap(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf, *junk;
	size_t len;

	buf = fixture_make(p, &s, &len);
	c.max_size = len;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	policy_result_free(&r);

	c.max_size = len - 1;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ELIMIT);
	assert_int_equal(r.version, 0);
	assert_non_null(strstr(r.why.msg, "max_bundle_size"));
	assert_int_equal(strncmp(r.why.msg, "bundle rejected: ", 17), 0);
	free(buf);

	/* Junk over the cap is over the cap, not a framing error. */
	assert_non_null(junk = calloc(1, 100));
	c.max_size = 99;
	r = judge(&c, junk, 100);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ELIMIT);
	c.max_size = 100;
	r = judge(&c, junk, 100);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_EFORMAT);
	free(junk);
}

/* Step 2, first half: the framing. */
static void
test_framing(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf, *longer;
	size_t len;

	buf = fixture_make(p, &s, &len);
	r = judge(&c, buf, len - 1);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ETRUNC);
	assert_int_equal(r.version, 0);
	r = judge(&c, buf, 0);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ETRUNC);

	assert_non_null(longer = malloc(len + 1));
	memcpy(longer, buf, len);
	longer[len] = 0;
	r = judge(&c, longer, len + 1);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ETRAILING);
	free(longer);

	buf[3] = '2'; /* "RKB2" */
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_EFORMAT);
	assert_int_equal(strncmp(r.why.msg, "bundle rejected: ", 17), 0);
	free(buf);
}

/* Step 2, second half: a threshold of distinct pinned keys. */
static void
test_signatures(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct pubkey *three[3] = {p->pub[ED1], p->pub[ED2], p->pub[EC1]};
	struct spec s = spec();

	s.version = 3;
	/* Unknown key only. */
	SET(s, signers, ED2);
	expect_reject(p, &c, &s, RK_ESIG, 0);
	SET(s, signers, EC2, ED3);
	expect_reject(p, &c, &s, RK_ESIG, 0);
	/* An unknown key besides a pinned one is ignored. */
	SET(s, signers, ED3, ED1);
	expect_accept(p, &c, &s, 2);

	/* 2 of 3. */
	c.keys = three;
	c.nkeys = 3;
	c.threshold = 2;
	SET(s, signers, ED1);
	expect_reject(p, &c, &s, RK_ESIG, 0);
	SET(s, signers, EC1, ED3);
	expect_reject(p, &c, &s, RK_ESIG, 0);
	SET(s, signers, ED2, EC1);
	expect_accept(p, &c, &s, 2);
	SET(s, signers, ED1, ED2, EC1);
	expect_accept(p, &c, &s, 2);
	c.threshold = 3;
	SET(s, signers, ED1, ED2, ED3, EC2);
	expect_reject(p, &c, &s, RK_ESIG, 0);
	SET(s, signers, ED1, ED2, EC1);
	expect_accept(p, &c, &s, 2);
}

/* A signed bundle whose manifest bytes are then changed: a forgery. */
static void
test_forged_manifest(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf, *v;
	size_t len;

	s.version = 5;
	buf = fixture_make(p, &s, &len);
	v = memmem(buf, len, "\"version\":5", 11);
	assert_non_null(v);
	v[10] = '9';
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ESIG);
	/* The forged version was never read. */
	assert_int_equal(r.version, 0);
	assert_int_equal(strncmp(r.why.msg, "bundle rejected: ", 17), 0);
	assert_null(strstr(r.why.msg, "v9"));
	free(buf);
}

/* Step 3: the manifest, and the device's channel. */
static void
test_manifest_and_channel(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();

	s.raw_manifest = "{\"format\":1,\"channel\":\"test\",\"version\":7,"
			 "\"issued_at\":\"2026-01-01T00:00:00Z\","
			 "\"expires_at\":\"2099-01-01T00:00:00Z\","
			 "\"extra\":1}";
	expect_reject(p, &c, &s, RK_EMANIFEST, 0);
	s.raw_manifest = "not json";
	expect_reject(p, &c, &s, RK_EMANIFEST, 0);

	s = spec();
	s.version = 7;
	s.channel = "other";
	expect_reject(p, &c, &s, RK_ECHANNEL, 7);
	s.channel = "tes";
	expect_reject(p, &c, &s, RK_ECHANNEL, 7);
	s.channel = "test2";
	expect_reject(p, &c, &s, RK_ECHANNEL, 7);
	s.channel = "other";
	c.channel = "other";
	expect_accept(p, &c, &s, 2);
}

/* A device's version_sha(): knows the SHA-256 of one stored version. */
struct oracle {
	uint64_t version;
	uint8_t sha[CRYPTO_SHA256_LEN];
	int calls;
	uint64_t asked;
};

static int
oracle_sha(void *arg, uint64_t version, uint8_t sha[CRYPTO_SHA256_LEN])
{
	struct oracle *o = arg;

	o->calls++;
	o->asked = version;
	if (version != o->version)
		return 0;
	memcpy(sha, o->sha, CRYPTO_SHA256_LEN);
	return 1;
}

/* Step 4: anti-rollback and equivocation. */
static void
test_rollback_equivocation(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	struct oracle o;
	uint8_t *v5, *v4, sha5[CRYPTO_SHA256_LEN];
	size_t len5, len4;

	s.version = 5;
	v5 = fixture_make(p, &s, &len5);
	assert_int_equal(crypto_sha256(v5, len5, NULL, 0, sha5), RK_OK);
	c.highest_version = 5;
	c.highest_sha256 = sha5;

	/* The very bundle already verified: nothing to do. */
	r = judge(&c, v5, len5);
	assert_int_equal(r.verdict, POLICY_CURRENT);
	assert_int_equal(r.version, 5);
	assert_memory_equal(r.sha256, sha5, CRYPTO_SHA256_LEN);
	policy_result_free(&r);

	/* Other bytes under v5: equivocation. */
	s.note = "the same version, other bytes";
	expect_reject(p, &c, &s, RK_EEQUIV, 5);
	s.note = NULL;
	SET(s, certs, ROOT_A);
	expect_reject(p, &c, &s, RK_EEQUIV, 5);
	SET(s, signers, ED1, ED2); /* another signature only */
	SET(s, certs, ROOT_A, ROOT_B);
	expect_reject(p, &c, &s, RK_EEQUIV, 5);

	/* Below the highest: a rollback, whatever the bytes. */
	s = spec();
	s.version = 4;
	expect_reject_why(p, &c, &s, RK_EROLLBACK, 4, "not above 5");
	s.version = 1;
	expect_reject(p, &c, &s, RK_EROLLBACK, 1);

	/* Above: accepted. */
	s.version = 6;
	expect_accept(p, &c, &s, 2);
	s.version = MANIFEST_VERSION_MAX;
	expect_accept(p, &c, &s, 2);

	/* With the device's stored v4 known, other bytes under v4 are an
	 * equivocation, the same bytes a plain rollback. */
	s = spec();
	s.version = 4;
	v4 = fixture_make(p, &s, &len4);
	memset(&o, 0, sizeof(o));
	o.version = 4;
	assert_int_equal(crypto_sha256(v4, len4, NULL, 0, o.sha), RK_OK);
	c.version_sha = oracle_sha;
	c.arg = &o;
	r = judge(&c, v4, len4);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_EROLLBACK);
	assert_int_equal(o.asked, 4);
	assert_true(o.calls >= 1);
	s.note = "v4 again, other bytes";
	expect_reject(p, &c, &s, RK_EEQUIV, 4);
	/* A version the device does not hold: a rollback. */
	s.version = 3;
	expect_reject(p, &c, &s, RK_EROLLBACK, 3);
	assert_int_equal(o.asked, 3);
	free(v4);
	free(v5);

	/* Highest 0: nothing seen, v1 is new. */
	c = device(p);
	s = spec();
	expect_accept(p, &c, &s, 2);
}

/* Step 5: freshness against max(clock, floor). */
static void
test_expiry(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();

	s.expires_at = NOW;
	expect_reject(p, &c, &s, RK_EEXPIRED, 1);
	s.expires_at = NOW - 30 * DAY;
	expect_reject_why(
	    p, &c, &s, RK_EEXPIRED, 1, "expired at 2029-12-02T00:00:00Z");
	s.expires_at = NOW + 1;
	expect_accept(p, &c, &s, 2);

	/* A floor behind the clock changes nothing. */
	c.floor = T_2026;
	s.expires_at = NOW - 1;
	expect_reject(p, &c, &s, RK_EEXPIRED, 1);
	s.expires_at = NOW + DAY;
	expect_accept(p, &c, &s, 2);
}

/*
 * A device without RTC boots in 1971, but it once verified a bundle
 * issued in 2030: that is its floor, and expiry is judged against it.
 */
static void
test_clock_behind_floor(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();

	c.now = T_1971;
	c.floor = NOW;
	/* Fresh by the 1971 clock, long expired by the floor. */
	s.issued_at = T_1971 - DAY;
	s.expires_at = T_1971 + 365 * DAY;
	expect_reject(p, &c, &s, RK_EEXPIRED, 1);
	s.issued_at = T_2026;
	s.expires_at = NOW - DAY;
	expect_reject_why(p, &c, &s, RK_EEXPIRED, 1, "time floor");
	expect_reject_why(
	    p, &c, &s, RK_EEXPIRED, 1, "now 2030-01-01T00:00:00Z");
	s.expires_at = NOW;
	expect_reject(p, &c, &s, RK_EEXPIRED, 1);
	/* Fresh by the floor. */
	s.expires_at = NOW + DAY;
	expect_accept(p, &c, &s, 2);

	/* No floor yet: only the (wrong) clock is there to judge by. */
	c.floor = 0;
	s.issued_at = T_1971 - DAY;
	s.expires_at = T_1971 + 365 * DAY;
	expect_accept(p, &c, &s, 2);
}

/* Step 6: the certificate set. */
static void
test_certs(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();

	s.version = 3;
	SET(s, certs, ROOT_A, LEAF);
	expect_reject_why(p, &c, &s, RK_ECERT, 3, "not a CA");
	SET(s, certs, LEAF);
	expect_reject(p, &c, &s, RK_ECERT, 3);
	SET(s, certs, ROOT_A, ROOT_B, ROOT_A);
	expect_reject(p, &c, &s, RK_ECERT, 3);

	/* The manifest's own distrust list must agree with the set. */
	SET(s, certs, ROOT_A, ROOT_B);
	SET(s, distrust, ROOT_B);
	expect_reject(p, &c, &s, RK_ECERT, 3);
	SET(s, certs, ROOT_A);
	expect_accept(p, &c, &s, 1);
}

/* Step 6: the device's persistent distrust list. */
static void
test_persistent_distrust(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct store_distrust d[2];
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf;
	size_t len;

	memset(d, 0, sizeof(d));
	memcpy(d[0].sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	memcpy(d[1].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	c.distrust = d;
	c.n_distrust = 1;

	/* Some left: accepted, only the rest counts. */
	s.version = 8;
	SET(s, certs, ROOT_A, ROOT_B, ROOT_V1);
	expect_accept(p, &c, &s, 2);
	SET(s, certs, ROOT_B, ROOT_A);
	buf = fixture_make(p, &s, &len);
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.n_trusted, 1);
	assert_int_equal(bundle_ncerts(r.bundle), 2);
	policy_result_free(&r);
	free(buf);

	/* Nothing left. */
	SET(s, certs, ROOT_A);
	expect_reject(p, &c, &s, RK_EDISTRUST, 8);
	c.n_distrust = 2;
	SET(s, certs, ROOT_B, ROOT_A);
	expect_reject(p, &c, &s, RK_EDISTRUST, 8);
	SET(s, certs, ROOT_B, ROOT_A, ROOT_V1);
	expect_accept(p, &c, &s, 1);

	/* A distrust-after is no full distrust: the root still counts. */
	d[0].has_after = 1;
	d[0].after = T_2026;
	d[1].has_after = 1;
	d[1].after = T_2026;
	SET(s, certs, ROOT_A, ROOT_B);
	expect_accept(p, &c, &s, 2);

	/* Both lists at once: the manifest's B, the device's A. */
	d[0].has_after = 0;
	c.n_distrust = 1;
	SET(s, certs, ROOT_A, ROOT_V1);
	SET(s, distrust, ROOT_B);
	expect_accept(p, &c, &s, 1);
}

static void
test_never_trusted(void **state)
{
	const struct pki *p = *state;
	struct store_distrust d;
	struct distrust md;
	struct manifest m;

	memset(&d, 0, sizeof(d));
	memset(&md, 0, sizeof(md));
	memset(&m, 0, sizeof(m));
	memcpy(d.sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	memcpy(md.sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	m.distrust = &md;
	m.n_distrust = 1;
	assert_true(policy_never_trusted(p->cert_sha[ROOT_A], &d, 1, NULL));
	assert_false(policy_never_trusted(p->cert_sha[ROOT_A], &d, 0, NULL));
	assert_false(policy_never_trusted(p->cert_sha[ROOT_B], &d, 1, NULL));
	assert_true(policy_never_trusted(p->cert_sha[ROOT_B], &d, 1, &m));
	assert_false(policy_never_trusted(p->cert_sha[ROOT_V1], &d, 1, &m));
	assert_false(policy_never_trusted(p->cert_sha[ROOT_V1], NULL, 0, NULL));
	d.has_after = 1;
	md.has_after = 1;
	assert_false(policy_never_trusted(p->cert_sha[ROOT_A], &d, 1, &m));
	assert_false(policy_never_trusted(p->cert_sha[ROOT_B], &d, 1, &m));
}

/* The entry of the highest version that mentions a fingerprint rules. */
static void
test_distrust_in_force(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct store_distrust d[2], e;
	struct distrust md[2];
	struct manifest m;

	memset(d, 0, sizeof(d));
	memset(md, 0, sizeof(md));
	memset(&m, 0, sizeof(m));
	/* On the device: A never trusted (v3), B after 2026 (v4). */
	memcpy(d[0].sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	d[0].since_version = 3;
	memcpy(d[1].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	d[1].has_after = 1;
	d[1].after = T_2026;
	d[1].since_version = 4;
	m.version = 9;
	m.distrust = md;
	assert_true(
	    policy_distrust_in_force(p->cert_sha[ROOT_A], d, 2, &m, &e));
	assert_int_equal(e.since_version, 3);
	assert_true(policy_never_trusted(p->cert_sha[ROOT_A], d, 2, &m));
	assert_false(
	    policy_distrust_in_force(p->cert_sha[ROOT_V1], d, 2, &m, &e));
	/* v9 lifts A and moves B's date later: both are v9's now. */
	memcpy(md[0].sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	md[0].lift = 1;
	memcpy(md[1].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	md[1].has_after = 1;
	md[1].after = T_2030;
	m.n_distrust = 2;
	assert_true(
	    policy_distrust_in_force(p->cert_sha[ROOT_A], d, 2, &m, &e));
	assert_true(e.lifted);
	assert_int_equal(e.since_version, 9);
	assert_false(policy_never_trusted(p->cert_sha[ROOT_A], d, 2, &m));
	assert_true(
	    policy_distrust_in_force(p->cert_sha[ROOT_B], d, 2, &m, &e));
	assert_int_equal(e.after, T_2030);
	/* A lifted entry on the device is no distrust either. */
	d[0].lifted = 1;
	assert_false(policy_never_trusted(p->cert_sha[ROOT_A], d, 2, NULL));
	/* ... until a later bundle distrusts it again. */
	md[0].lift = 0;
	assert_true(policy_never_trusted(p->cert_sha[ROOT_A], d, 2, &m));
	d[0].lifted = 0;

	/*
	 * Through the whole policy: A, distrusted on the device, may come
	 * back in a bundle that lifts it, and only then.
	 */
	c.distrust = d;
	c.n_distrust = 1;
	s.version = 5;
	SET(s, certs, ROOT_A, ROOT_B);
	expect_accept(p, &c, &s, 1);
	SET(s, lift, ROOT_A);
	expect_accept(p, &c, &s, 2);
	SET(s, certs, ROOT_A);
	expect_accept(p, &c, &s, 1);
	s.nlift = 0;
	expect_reject(p, &c, &s, RK_EDISTRUST, 5);
}

struct change_log {
	char lines[4][256];
	size_t n;
};

static int
log_change(void *arg, const uint8_t sha[CRYPTO_SHA256_LEN], const char *line)
{
	struct change_log *l = arg;

	(void)sha;
	assert_true(l->n < 4);
	snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s", line);
	return 0;
}

static void
test_distrust_changes(void **state)
{
	const struct pki *p = *state;
	char hex_a[65], hex_b[65], want[256];
	struct store_distrust d[2];
	struct distrust md[3];
	struct change_log l;
	struct manifest m;

	memset(d, 0, sizeof(d));
	memset(md, 0, sizeof(md));
	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	hex_encode(p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN, hex_a);
	hex_encode(p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN, hex_b);
	memcpy(d[0].sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	d[0].has_after = 1;
	d[0].after = T_2030;
	memcpy(d[1].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	m.version = 9;
	m.distrust = md;
	/* The same entries again change nothing. */
	memcpy(md[0].sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	md[0].has_after = 1;
	md[0].after = T_2030;
	memcpy(md[1].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	m.n_distrust = 2;
	assert_int_equal(policy_distrust_changes(d, 2, &m, log_change, &l), 0);
	assert_int_equal(l.n, 0);
	/* Earlier (tighter) for A, a lift for B, a lift of nothing. */
	md[0].after = T_2026;
	md[1].lift = 1;
	memcpy(md[2].sha256, p->cert_sha[ROOT_V1], CRYPTO_SHA256_LEN);
	md[2].lift = 1;
	m.n_distrust = 3;
	assert_int_equal(policy_distrust_changes(d, 2, &m, log_change, &l), 0);
	assert_int_equal(l.n, 2);
	snprintf(want, sizeof(want),
	    "distrust of %s moved from after 2030-01-01T00:00:00Z to after "
	    "2026-01-01T00:00:00Z by v9",
	    hex_a);
	assert_string_equal(l.lines[0], want);
	snprintf(want, sizeof(want),
	    "distrust of %s (never trusted) lifted by v9", hex_b);
	assert_string_equal(l.lines[1], want);
	/* A later date (looser) and a new entry. */
	l.n = 0;
	d[0].after = T_2026;
	md[0].after = T_2030;
	md[1].lift = 0;
	md[1].has_after = 1;
	md[1].after = T_2026;
	d[1].lifted = 1;
	m.n_distrust = 2;
	assert_int_equal(policy_distrust_changes(d, 1, &m, log_change, &l), 0);
	assert_int_equal(l.n, 2);
	snprintf(want, sizeof(want),
	    "distrust of %s moved from after 2026-01-01T00:00:00Z to after "
	    "2030-01-01T00:00:00Z by v9",
	    hex_a);
	assert_string_equal(l.lines[0], want);
	snprintf(want, sizeof(want),
	    "distrust of %s set (after 2026-01-01T00:00:00Z) by v9", hex_b);
	assert_string_equal(l.lines[1], want);
	/* From lifted back to distrusted. */
	l.n = 0;
	assert_int_equal(
	    policy_distrust_changes(d + 1, 1, &m, log_change, &l), 0);
	snprintf(want, sizeof(want),
	    "distrust of %s moved from lifted to after 2026-01-01T00:00:00Z "
	    "by v9",
	    hex_b);
	assert_string_equal(l.lines[1], want);
}

/*
 * The rollout bucket: a vector computed outside the project, the share
 * of 20000 simulated devices that take each percentage, and that raising
 * the percentage under one seed keeps every device that took it.
 */
static void
test_rollout_bucket(void **state)
{
	static const unsigned pcts[] = {1, 5, 10, 25, 50, 75, 90, 99, 100};
	static unsigned char took[20000];
	struct rollout r;
	char id[64], cid[POLICY_CENSUS_ID_LEN + 1];
	unsigned b, i, k, n;
	double share;

	(void)state;
	/* python3: sha256(b"rootkeeper rollout\0wave-1\0device-0001") */
	assert_int_equal(
	    policy_rollout_bucket("wave-1", "device-0001", &b), RK_OK);
	assert_int_equal(b, 5068);
	assert_int_equal(policy_census_id("azure-iot",
			     "0123456789abcdef0123456789abcdef", cid),
	    RK_OK);
	assert_string_equal(cid, "6c4a6df6a9447b05");

	memset(&r, 0, sizeof(r));
	memcpy(r.seed, "2026-hub-migration", 19);
	memset(took, 0, sizeof(took));
	for (k = 0; k < sizeof(pcts) / sizeof(pcts[0]); k++) {
		r.percent = pcts[k];
		for (i = n = 0; i < sizeof(took); i++) {
			snprintf(
			    id, sizeof(id), "%08x-sim-%u", i * 2654435761u, i);
			if (policy_rollout_takes(&r, id)) {
				n++;
				took[i] = 1;
			} else if (took[i]) {
				fail_msg("device %u left the rollout at %u%%",
				    i, pcts[k]);
			}
		}
		share = 100.0 * n / (double)sizeof(took);
		if (share < pcts[k] - 3.0 || share > pcts[k] + 3.0)
			fail_msg("%u%%: %.2f%% of the devices took it", pcts[k],
			    share);
	}
	/* No rollout: everyone; no id: only at 100%. */
	r.percent = 0;
	assert_true(policy_rollout_takes(&r, NULL));
	r.percent = 99;
	assert_false(policy_rollout_takes(&r, NULL));
	r.percent = 100;
	assert_true(policy_rollout_takes(&r, NULL));
	/* Another seed draws another sample. */
	r.percent = 50;
	for (i = n = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "%08x-sim-%u", i * 2654435761u, i);
		memcpy(r.seed, "a", 2);
		b = (unsigned)policy_rollout_takes(&r, id);
		memcpy(r.seed, "b", 2);
		n += b != (unsigned)policy_rollout_takes(&r, id);
	}
	assert_true(n > 300 && n < 700);
}

/* A rollout that leaves the device out defers a bundle that is valid. */
static void
test_rollout_defer(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	struct rollout ro;
	char in[64] = "", out[64] = "", id[64];
	unsigned i;
	uint8_t *buf;
	size_t len;

	memset(&ro, 0, sizeof(ro));
	ro.percent = 10;
	memcpy(ro.seed, "wave-1", 7);
	for (i = 0; in[0] == '\0' || out[0] == '\0'; i++) {
		snprintf(id, sizeof(id), "dev-%u", i);
		if (policy_rollout_takes(&ro, id))
			snprintf(in, sizeof(in), "%s", id);
		else
			snprintf(out, sizeof(out), "%s", id);
	}
	s.version = 7;
	s.rollout_percent = 10;
	s.rollout_seed = "wave-1";
	buf = fixture_make(p, &s, &len);
	c.device_id = in;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	policy_result_free(&r);
	c.device_id = out;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_DEFER);
	assert_int_equal(r.version, 7);
	assert_int_equal(r.rollout_percent, 10);
	c.device_id = NULL;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_DEFER);
	/* A sideload ignores the rollout. */
	c.device_id = out;
	c.ignore_rollout = 1;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	policy_result_free(&r);
	c.ignore_rollout = 0;
	/* Deferral comes after every check: a bad bundle is rejected. */
	c.now = T_2099;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_EEXPIRED);
	free(buf);
}

/* Step 7: key rotation needs the new keys' signatures too. */
static void
test_next_keys(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf;
	size_t len;

	s.version = 9;
	SET(s, next, ED2, EC1);
	s.next_threshold = 2;
	SET(s, signers, ED1);
	expect_reject_why(p, &c, &s, RK_ESIG, 9, "next_keys");
	SET(s, signers, ED1, ED2);
	expect_reject(p, &c, &s, RK_ESIG, 9);
	SET(s, signers, ED1, EC2, ED3);
	expect_reject(p, &c, &s, RK_ESIG, 9);
	/* The new keys alone are not yet the pinned keys. */
	SET(s, signers, ED2, EC1);
	expect_reject(p, &c, &s, RK_ESIG, 0);
	SET(s, signers, ED1, ED2, EC1);
	buf = fixture_make(p, &s, &len);
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.manifest->n_next_keys, 2);
	assert_int_equal(r.manifest->next_threshold, 2);
	assert_memory_equal(pubkey_id(r.manifest->next_keys[0]),
	    pubkey_id(p->pub[ED2]), CRYPTO_SHA256_LEN);
	policy_result_free(&r);
	free(buf);

	/* 1 of 2, and the old key may stay among the new ones. */
	SET(s, next, ED1, ED2);
	s.next_threshold = 1;
	SET(s, signers, ED1);
	expect_accept(p, &c, &s, 2);
	SET(s, next, ED2);
	expect_reject(p, &c, &s, RK_ESIG, 9);
	SET(s, signers, ED2, ED1);
	expect_accept(p, &c, &s, 2);
}

/* policy_judge() that must reach a verdict, on facts kept between calls. */
static struct policy_result
judge_facts(const struct policy_ctx *c, struct policy_facts *f)
{
	struct policy_result r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(policy_judge(c, f, &r), RK_OK);
	assert_null(r.own);
	if (r.verdict != POLICY_ACCEPT) {
		assert_null(r.bundle);
		assert_null(r.manifest);
		assert_null(r.certs);
	}
	return r;
}

/*
 * The same bytes judged again on facts kept from before (as the agent does
 * inside its write transaction): what the state decides is judged anew,
 * and keys pinned in between are checked for real, either way.
 */
static void
test_judge_again(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct pubkey *ed2[1] = {p->pub[ED2]};
	struct policy_facts *f = NULL;
	struct store_distrust d;
	struct spec s = spec();
	struct policy_result r, r2;
	uint8_t *buf, sha[CRYPTO_SHA256_LEN];
	size_t len;

	s.version = 7;
	buf = fixture_make(p, &s, &len);
	assert_int_equal(policy_facts_new(buf, len, &f), RK_OK);
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.n_trusted, 2);
	r2 = judge_facts(&c, f);
	assert_int_equal(r2.verdict, POLICY_ACCEPT);
	assert_ptr_equal(r2.bundle, r.bundle); /* not parsed again */
	assert_ptr_equal(r2.certs, r.certs);
	assert_memory_equal(r2.sha256, r.sha256, CRYPTO_SHA256_LEN);
	assert_int_equal(crypto_sha256(buf, len, NULL, 0, sha), RK_OK);
	assert_memory_equal(r.sha256, sha, CRYPTO_SHA256_LEN);
	policy_result_free(&r);
	policy_result_free(&r2);
	/* A rotation to ED2 in between: ED1's signature no longer counts. */
	c.keys = ed2;
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ESIG);
	assert_true(r.pins_failed);
	c = device(p);
	/* The state moved: a higher version, then a distrust entry. */
	c.highest_version = 7;
	c.highest_sha256 = sha;
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_CURRENT);
	c.highest_version = 8;
	r = judge_facts(&c, f);
	assert_int_equal(r.err, RK_EROLLBACK);
	c.highest_version = 0;
	memset(&d, 0, sizeof(d));
	memcpy(d.sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	c.distrust = &d;
	c.n_distrust = 1;
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.n_trusted, 1);
	policy_result_free(&r);
	policy_facts_free(f);
	free(buf);

	/* Signed by ED2 only: refused, then accepted once ED2 is pinned. */
	SET(s, signers, ED2);
	buf = fixture_make(p, &s, &len);
	assert_int_equal(policy_facts_new(buf, len, &f), RK_OK);
	c = device(p);
	r = judge_facts(&c, f);
	assert_int_equal(r.err, RK_ESIG);
	assert_int_equal(r.version, 0); /* the manifest was not read */
	c.keys = ed2;
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.version, 7);
	policy_result_free(&r);
	policy_facts_free(f);
	free(buf);

	/* A verdict on the bytes is the same the second time, word for word. */
	s = spec();
	SET(s, certs, ROOT_A, LEAF);
	buf = fixture_make(p, &s, &len);
	assert_int_equal(policy_facts_new(buf, len, &f), RK_OK);
	c = device(p);
	r = judge_facts(&c, f);
	r2 = judge_facts(&c, f);
	assert_int_equal(r.err, RK_ECERT);
	assert_int_equal(r2.err, RK_ECERT);
	assert_string_equal(r.why.msg, r2.why.msg);
	policy_facts_free(f);
	free(buf);
	policy_facts_free(NULL);
}

/*
 * Certificates the device holds: the same bytes take the facts stored for
 * them, other bytes are parsed and checked as ever.
 */
static void
test_known_certs(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct policy_facts *f = NULL;
	struct store_cert known[2];
	struct store_distrust d;
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf;
	size_t len;

	memset(known, 0, sizeof(known));
	known[0].der = p->cert[ROOT_B];
	known[0].der_len = p->cert_len[ROOT_B];
	memcpy(known[0].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	snprintf(known[0].subject, sizeof(known[0].subject), "as stored");
	known[0].not_before = 1;
	known[0].not_after = 2;
	/* The leaf's length, other bytes: not the leaf. */
	known[1].der = p->cert[LEAF];
	known[1].der_len = p->cert_len[LEAF] - 1;

	buf = fixture_make(p, &s, &len);
	assert_int_equal(policy_facts_new(buf, len, &f), RK_OK);
	policy_facts_known(f, known, 2);
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	/* ROOT_A parsed, ROOT_B as stored. */
	assert_string_equal(
	    r.certs[0].subject, "/O=rootkeeper test/CN=Test Root A");
	assert_memory_equal(
	    r.certs[0].sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	assert_string_equal(r.certs[1].subject, "as stored");
	assert_int_equal(r.certs[1].not_before, 1);
	assert_int_equal(r.certs[1].not_after, 2);
	assert_memory_equal(
	    r.certs[1].sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	/* A known certificate is still subject to the distrust list. */
	memset(&d, 0, sizeof(d));
	memcpy(d.sha256, p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	c.distrust = &d;
	c.n_distrust = 1;
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_ACCEPT);
	assert_int_equal(r.n_trusted, 1);
	policy_facts_free(f);
	free(buf);

	/* Bytes that are not known are checked: the leaf is no CA. */
	SET(s, certs, ROOT_B, LEAF);
	buf = fixture_make(p, &s, &len);
	assert_int_equal(policy_facts_new(buf, len, &f), RK_OK);
	policy_facts_known(f, known, 2);
	c = device(p);
	r = judge_facts(&c, f);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ECERT);
	assert_non_null(strstr(r.why.msg, "cert 1"));
	policy_facts_free(f);
	free(buf);

	/* A known certificate twice is still a duplicate. */
	SET(s, certs, ROOT_B, ROOT_B);
	buf = fixture_make(p, &s, &len);
	assert_int_equal(policy_facts_new(buf, len, &f), RK_OK);
	policy_facts_known(f, known, 1);
	r = judge_facts(&c, f);
	assert_int_equal(r.err, RK_ECERT);
	assert_non_null(strstr(r.why.msg, "duplicate"));
	policy_facts_free(f);
	free(buf);
}

/* The first failing step decides, in the order of DESIGN section 3. */
static void
test_order(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct store_distrust d;
	struct spec s, cur = spec();
	struct policy_result r;
	uint8_t *buf, *v5, sha5[CRYPTO_SHA256_LEN];
	size_t len, len5;

	cur.version = 5;
	v5 = fixture_make(p, &cur, &len5);
	assert_int_equal(crypto_sha256(v5, len5, NULL, 0, sha5), RK_OK);
	c.highest_version = 5;
	c.highest_sha256 = sha5;
	memset(&d, 0, sizeof(d));
	memcpy(d.sha256, p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);

	/* 1 before 2: too big and not even a bundle. */
	s = spec();
	s.version = 6;
	s.channel = "other";
	SET(s, signers, ED2);
	buf = fixture_make(p, &s, &len);
	buf[0] = 'X';
	c.max_size = len - 1;
	r = judge(&c, buf, len);
	assert_int_equal(r.err, RK_ELIMIT);
	c.max_size = MAX_SIZE;
	/* 2 (framing) before 2 (signatures). */
	r = judge(&c, buf, len);
	assert_int_equal(r.err, RK_EFORMAT);
	free(buf);

	/* 2 before 3: a bad signature and a wrong channel. */
	expect_reject(p, &c, &s, RK_ESIG, 0);
	/* ... and an invalid manifest. */
	s.raw_manifest = "{\"format\":1,\"channel\":\"test\",\"version\":6,"
			 "\"bogus\":true}";
	expect_reject(p, &c, &s, RK_ESIG, 0);
	/* a bad signature and a rollback, an expiry, a leaf */
	s = spec();
	s.version = 2;
	s.expires_at = NOW - DAY;
	SET(s, certs, LEAF);
	SET(s, signers, EC1);
	expect_reject(p, &c, &s, RK_ESIG, 0);

	/* 3 (manifest) before 3 (channel). */
	s = spec();
	s.raw_manifest = "{\"format\":1,\"channel\":\"other\",\"version\":6,"
			 "\"issued_at\":\"2026-01-01T00:00:00Z\","
			 "\"expires_at\":\"2099-01-01T00:00:00Z\","
			 "\"bogus\":true}";
	expect_reject(p, &c, &s, RK_EMANIFEST, 0);

	/* 3 before 4, 5, 6, 7: wrong channel and everything else. */
	s = spec();
	s.channel = "other";
	s.version = 2;
	expect_reject(p, &c, &s, RK_ECHANNEL, 2);
	s.version = 5;
	expect_reject(p, &c, &s, RK_ECHANNEL, 5);
	s.version = 6;
	s.expires_at = NOW - DAY;
	SET(s, certs, LEAF);
	SET(s, next, ED2);
	s.next_threshold = 1;
	expect_reject(p, &c, &s, RK_ECHANNEL, 6);

	/* 4 before 5, 6, 7. */
	s.channel = "test";
	s.version = 4;
	expect_reject(p, &c, &s, RK_EROLLBACK, 4);
	s.version = 5;
	expect_reject(p, &c, &s, RK_EEQUIV, 5);
	/* The bundle already verified stays "current" once expired. */
	c.now = T_2099 + DAY;
	r = judge(&c, v5, len5);
	assert_int_equal(r.verdict, POLICY_CURRENT);
	c.now = NOW;

	/* 5 before 6 and 7. */
	s.version = 6;
	expect_reject(p, &c, &s, RK_EEXPIRED, 6);

	/* 6 (certs) before 6 (persistent distrust) before 7. */
	s.expires_at = T_2099;
	c.distrust = &d;
	c.n_distrust = 1;
	SET(s, certs, ROOT_A, LEAF);
	expect_reject(p, &c, &s, RK_ECERT, 6);
	SET(s, certs, ROOT_A);
	expect_reject(p, &c, &s, RK_EDISTRUST, 6);
	SET(s, certs, ROOT_A, ROOT_B);
	expect_reject(p, &c, &s, RK_ESIG, 6);
	SET(s, signers, ED1, ED2);
	expect_accept(p, &c, &s, 1);
	free(v5);
}

/* What is not a verdict on the bundle is an error, and writes nothing. */
static void
test_operational_error(void **state)
{
	const struct pki *p = *state;
	struct policy_ctx c = device(p);
	struct spec s = spec();
	struct policy_result r;
	uint8_t *buf;
	size_t len;

	buf = fixture_make(p, &s, &len);
	c.threshold = 0;
	memset(&r, 0x5a, sizeof(r));
	assert_int_equal(policy_evaluate(&c, buf, len, &r), RK_EINVAL);
	assert_int_equal(r.version, 0x5a5a5a5a5a5a5a5aULL);
	/* No pinned key at all: nothing can sign, a verdict. */
	c.threshold = 1;
	c.nkeys = 0;
	r = judge(&c, buf, len);
	assert_int_equal(r.verdict, POLICY_REJECT);
	assert_int_equal(r.err, RK_ESIG);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accept),
	    cmocka_unit_test(test_size_cap),
	    cmocka_unit_test(test_framing),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_forged_manifest),
	    cmocka_unit_test(test_manifest_and_channel),
	    cmocka_unit_test(test_rollback_equivocation),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_clock_behind_floor),
	    cmocka_unit_test(test_certs),
	    cmocka_unit_test(test_persistent_distrust),
	    cmocka_unit_test(test_never_trusted),
	    cmocka_unit_test(test_distrust_in_force),
	    cmocka_unit_test(test_distrust_changes),
	    cmocka_unit_test(test_rollout_bucket),
	    cmocka_unit_test(test_rollout_defer),
	    cmocka_unit_test(test_next_keys),
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_judge_again),
	    cmocka_unit_test(test_known_certs),
	    cmocka_unit_test(test_operational_error),
	    cmocka_unit_test(test_issued_in_future),
	};

	return cmocka_run_group_tests_name(
	    "policy", tests, fixture_pki_setup, fixture_pki_teardown);
}
