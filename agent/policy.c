/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Device policy, steps 1 to 7 (see policy.h).  Each rejection names the
 * bundle's version once it is known, so that an event reads "bundle v4
 * rejected: version not above 5".  The costly steps (the file's hash,
 * framing, signatures, manifest, certificates) go through the facts, which
 * keep their outcomes for the next judgement of the same bytes.
 */
#include "policy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc3339.h"

/* One step's outcome on the bytes alone: RK_OK or a verdict, with why. */
struct fact {
	int done;
	int rc;
	struct rk_why why;
};

struct policy_facts {
	const uint8_t *buf; /* the caller's */
	size_t len;
	uint8_t sha256[CRYPTO_SHA256_LEN];
	struct fact framing;
	struct bundle *bundle;
	/* By signature slot: 1 valid, -1 not, 0 not checked yet. */
	signed char sigs[BUNDLE_MAX_SIGS];
	struct fact parsed;
	struct manifest *manifest;
	struct fact checked;
	struct certinfo *certs;
	/* The device's certificates, sorted by DER (policy_facts_known()). */
	const struct store_cert **known;
	size_t n_known;
};

int
policy_facts_new(const uint8_t *buf, size_t len, struct policy_facts **out)
{
	struct policy_facts *f;
	int rc;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return RK_ENOMEM;
	f->buf = buf;
	f->len = len;
	if ((rc = crypto_sha256(buf, len, NULL, 0, f->sha256)) != RK_OK) {
		free(f);
		return rc;
	}
	*out = f;
	return RK_OK;
}

void
policy_facts_free(struct policy_facts *f)
{
	if (f == NULL)
		return;
	bundle_free(f->bundle);
	manifest_free(f->manifest);
	free(f->certs);
	free(f->known);
	free(f);
}

/* DER bytes in an order: by length, then byte for byte. */
static int
der_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int
known_cmp(const void *x, const void *y)
{
	const struct store_cert *a = *(const struct store_cert *const *)x;
	const struct store_cert *b = *(const struct store_cert *const *)y;

	return der_cmp(a->der, a->der_len, b->der, b->der_len);
}

void
policy_facts_known(
    struct policy_facts *f, const struct store_cert *known, size_t n)
{
	size_t i;

	free(f->known);
	f->known = NULL;
	f->n_known = 0;
	/* Out of memory: nothing is known, every certificate is parsed. */
	if (n == 0 || (f->known = calloc(n, sizeof(*f->known))) == NULL)
		return;
	for (i = 0; i < n; i++)
		f->known[i] = &known[i];
	qsort(f->known, n, sizeof(*f->known), known_cmp);
	f->n_known = n;
}

/* bundle_check_certs_known()'s lookup: the facts stored for these bytes. */
static int
known_cert(void *arg, const uint8_t *der, size_t len, struct certinfo *ci)
{
	const struct policy_facts *f = arg;
	const struct store_cert *k;
	size_t lo = 0, hi = f->n_known, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		k = f->known[mid];
		c = der_cmp(der, len, k->der, k->der_len);
		if (c == 0) {
			memset(ci, 0, sizeof(*ci));
			memcpy(ci->sha256, k->sha256, CRYPTO_SHA256_LEN);
			snprintf(
			    ci->subject, sizeof(ci->subject), "%s", k->subject);
			ci->not_before = k->not_before;
			ci->not_after = k->not_after;
			return 1;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

void
policy_result_free(struct policy_result *r)
{
	if (r == NULL)
		return;
	policy_facts_free(r->own);
	r->own = NULL;
	r->bundle = NULL;
	r->manifest = NULL;
	r->certs = NULL;
}

int
policy_distrust_in_force(const uint8_t sha[CRYPTO_SHA256_LEN],
    const struct store_distrust *d, size_t n, const struct manifest *m,
    struct store_distrust *e)
{
	const struct distrust *md;
	size_t i;

	/* m is above every verified version: its word is the last. */
	for (i = 0; m != NULL && i < m->n_distrust; i++) {
		md = &m->distrust[i];
		if (memcmp(md->sha256, sha, CRYPTO_SHA256_LEN) != 0)
			continue;
		memset(e, 0, sizeof(*e));
		memcpy(e->sha256, sha, CRYPTO_SHA256_LEN);
		e->has_after = md->has_after;
		e->after = md->after;
		e->lifted = md->lift;
		if (md->reason != NULL)
			snprintf(
			    e->reason, sizeof(e->reason), "%s", md->reason);
		e->since_version = m->version;
		return 1;
	}
	for (i = 0; i < n; i++)
		if (memcmp(d[i].sha256, sha, CRYPTO_SHA256_LEN) == 0) {
			*e = d[i];
			return 1;
		}
	return 0;
}

int
policy_never_trusted(const uint8_t sha[CRYPTO_SHA256_LEN],
    const struct store_distrust *d, size_t n, const struct manifest *m)
{
	struct store_distrust e;

	return policy_distrust_in_force(sha, d, n, m, &e) && !e.has_after &&
	       !e.lifted;
}

/* "never trusted", "after 2024-11-30T23:59:59Z", "lifted". */
static void
entry_text(int has_after, int64_t after, int lifted, char *out, size_t cap)
{
	char t[RFC3339_LEN + 1];

	if (lifted) {
		snprintf(out, cap, "lifted");
	} else if (has_after) {
		if (rfc3339_format(after, t) != RK_OK)
			snprintf(t, sizeof(t), "?");
		snprintf(out, cap, "after %s", t);
	} else {
		snprintf(out, cap, "never trusted");
	}
}

int
policy_distrust_changes(const struct store_distrust *d, size_t n,
    const struct manifest *m,
    int (*fn)(
	void *arg, const uint8_t sha[CRYPTO_SHA256_LEN], const char *line),
    void *arg)
{
	char hex[2 * CRYPTO_SHA256_LEN + 1], was[48], now[48], line[256];
	const struct store_distrust *old;
	const struct distrust *md;
	size_t i, j;
	int rc;

	for (i = 0; i < m->n_distrust; i++) {
		md = &m->distrust[i];
		for (old = NULL, j = 0; j < n && old == NULL; j++)
			if (memcmp(d[j].sha256, md->sha256,
				CRYPTO_SHA256_LEN) == 0)
				old = &d[j];
		/* Lifting what was never distrusted changes nothing. */
		if (old == NULL && md->lift)
			continue;
		if (old != NULL && old->lifted == md->lift &&
		    old->has_after == md->has_after &&
		    (!md->has_after || old->after == md->after))
			continue;
		hex_encode(md->sha256, CRYPTO_SHA256_LEN, hex);
		entry_text(
		    md->has_after, md->after, md->lift, now, sizeof(now));
		if (old == NULL) {
			snprintf(line, sizeof(line),
			    "distrust of %s set (%s) by v%" PRIu64, hex, now,
			    m->version);
		} else if (md->lift) {
			entry_text(
			    old->has_after, old->after, 0, was, sizeof(was));
			snprintf(line, sizeof(line),
			    "distrust of %s (%s) lifted by v%" PRIu64, hex, was,
			    m->version);
		} else {
			entry_text(old->has_after, old->after, old->lifted, was,
			    sizeof(was));
			snprintf(line, sizeof(line),
			    "distrust of %s moved from %s to %s by v%" PRIu64,
			    hex, was, now, m->version);
		}
		if ((rc = fn(arg, md->sha256, line)) != 0)
			return rc;
	}
	return RK_OK;
}

/* SHA-256(label 0x00 a 0x00 b): the rollout's and the census's hash. */
static int
labelled_hash(const char *label, const char *a, const char *b,
    uint8_t out[CRYPTO_SHA256_LEN])
{
	char buf[32 + 2 * 256];
	size_t ll = strlen(label), al = strlen(a), bl = strlen(b);

	if (ll > 31 || al > 255 || bl > 255)
		return RK_EINVAL;
	memcpy(buf, label, ll);
	buf[ll] = '\0';
	memcpy(buf + ll + 1, a, al);
	buf[ll + 1 + al] = '\0';
	memcpy(buf + ll + 2 + al, b, bl);
	return crypto_sha256(
	    (const uint8_t *)buf, ll + 2 + al + bl, NULL, 0, out);
}

int
policy_rollout_bucket(const char *seed, const char *device_id, unsigned *bucket)
{
	uint8_t h[CRYPTO_SHA256_LEN];
	uint64_t v = 0;
	size_t i;
	int rc;

	if ((rc = labelled_hash("rootkeeper rollout", seed, device_id, h)) !=
	    RK_OK)
		return rc;
	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	*bucket = (unsigned)(v % POLICY_ROLLOUT_BUCKETS);
	return RK_OK;
}

int
policy_rollout_takes(const struct rollout *r, const char *device_id)
{
	unsigned bucket;

	if (r->percent == 0 || r->percent >= 100)
		return 1;
	if (device_id == NULL ||
	    policy_rollout_bucket(r->seed, device_id, &bucket) != RK_OK)
		return 0;
	return bucket < r->percent * 100;
}

int
policy_census_id(const char *channel, const char *device_id,
    char out[POLICY_CENSUS_ID_LEN + 1])
{
	uint8_t h[CRYPTO_SHA256_LEN];
	int rc;

	if ((rc = labelled_hash("rootkeeper census", channel, device_id, h)) !=
	    RK_OK)
		return rc;
	hex_encode(h, POLICY_CENSUS_ID_LEN / 2, out);
	return RK_OK;
}

int
policy_expired(
    int64_t expires_at, int64_t now, int64_t floor, int64_t *judged_at)
{
	int64_t at = now > floor ? now : floor;

	if (judged_at != NULL)
		*judged_at = at;
	return expires_at <= at;
}

/* Records a rejection; the version prefix is added once it is known. */
static int
reject(struct policy_result *r, int err, const char *detail)
{
	r->verdict = POLICY_REJECT;
	r->err = err;
	/* A long detail is cut: the event log keeps one line. */
	if (r->version > 0)
		(void)rk_fail(&r->why, err, "bundle v%" PRIu64 " rejected: %s",
		    r->version, detail);
	else
		(void)rk_fail(&r->why, err, "bundle rejected: %s", detail);
	return RK_OK;
}

/* A library error that means "this bundle is bad", not "we failed". */
static int
is_verdict(int rc)
{
	return rc != RK_ENOMEM && rc != RK_ECRYPTO && rc != RK_EIO &&
	       rc != RK_EINVAL;
}

/*
 * Keeps a step's outcome when it is RK_OK or a verdict on the bytes; a
 * failure to decide (out of memory) is tried again next time.
 */
static int
fact_keep(struct fact *s, int rc, struct rk_why *why)
{
	if (rc == RK_OK || is_verdict(rc)) {
		s->done = 1;
		s->rc = rc;
		if (rc != RK_OK)
			s->why = *why;
	}
	return rc;
}

/* The outcome of a step kept before, with its why. */
static int
fact_recall(const struct fact *s, struct rk_why *why)
{
	if (s->rc != RK_OK)
		*why = s->why;
	return s->rc;
}

/* Step 2's framing, parsed once. */
static int
fact_framing(struct policy_facts *f, struct rk_why *why)
{
	if (f->framing.done)
		return fact_recall(&f->framing, why);
	return fact_keep(
	    &f->framing, bundle_parse(f->buf, f->len, &f->bundle, why), why);
}

/* Step 3's manifest, parsed once (only after the signatures passed). */
static int
fact_manifest(struct policy_facts *f, struct rk_why *why)
{
	const uint8_t *man;
	size_t man_len;

	if (f->parsed.done)
		return fact_recall(&f->parsed, why);
	man = bundle_manifest(f->bundle, &man_len);
	return fact_keep(
	    &f->parsed, manifest_parse(man, man_len, &f->manifest, why), why);
}

/* Step 6's certificate checks, and the certificates' facts, once. */
static int
fact_certs(struct policy_facts *f, struct rk_why *why)
{
	int rc;

	if (f->checked.done)
		return fact_recall(&f->checked, why);
	if ((f->certs = calloc(bundle_ncerts(f->bundle), sizeof(*f->certs))) ==
	    NULL)
		return RK_ENOMEM;
	rc = bundle_check_certs_known(
	    f->bundle, f->manifest, known_cert, f, f->certs, why);
	if (rc != RK_OK) {
		free(f->certs);
		f->certs = NULL;
	}
	return fact_keep(&f->checked, rc, why);
}

int
policy_evaluate(const struct policy_ctx *ctx, const uint8_t *buf, size_t len,
    struct policy_result *out)
{
	struct policy_facts *f = NULL;
	int rc;

	if ((rc = policy_facts_new(buf, len, &f)) != RK_OK)
		return rc;
	if ((rc = policy_judge(ctx, f, out)) != RK_OK ||
	    out->verdict != POLICY_ACCEPT) {
		policy_facts_free(f);
		return rc;
	}
	out->own = f;
	return RK_OK;
}

int
policy_judge(const struct policy_ctx *ctx, struct policy_facts *f,
    struct policy_result *out)
{
	struct policy_result r;
	struct rk_why why = {""};
	char detail[sizeof(why.msg) + 64], t1[RFC3339_LEN + 1],
	    t2[RFC3339_LEN + 1];
	uint8_t known[CRYPTO_SHA256_LEN];
	size_t i;
	int64_t now;
	int rc;

	memset(&r, 0, sizeof(r));
	memcpy(r.sha256, f->sha256, CRYPTO_SHA256_LEN);

	/* 1. Size (the download already stopped at the cap). */
	if (f->len > ctx->max_size) {
		snprintf(detail, sizeof(detail),
		    "%zu bytes, over max_bundle_size %zu", f->len,
		    ctx->max_size);
		rc = reject(&r, RK_ELIMIT, detail);
		goto done;
	}
	/* 2. Framing and signatures; the manifest is still untouched. */
	if ((rc = fact_framing(f, &why)) != RK_OK) {
		if (!is_verdict(rc))
			goto fail;
		rc = reject(&r, rc, why.msg);
		goto done;
	}
	if ((rc = bundle_verify_sigs_memo(f->bundle, ctx->keys, ctx->nkeys,
		 ctx->threshold, f->sigs, NULL, &why)) != RK_OK) {
		if (rc != RK_ESIG)
			goto fail;
		r.pins_failed = 1;
		rc = reject(&r, RK_ESIG, why.msg);
		goto done;
	}
	/* 3. Manifest and channel. */
	if ((rc = fact_manifest(f, &why)) != RK_OK) {
		if (!is_verdict(rc))
			goto fail;
		rc = reject(&r, RK_EMANIFEST, why.msg);
		goto done;
	}
	r.manifest = f->manifest;
	r.version = r.manifest->version;
	if (strcmp(r.manifest->channel, ctx->channel) != 0) {
		snprintf(detail, sizeof(detail),
		    "channel \"%s\", this device follows \"%s\"",
		    r.manifest->channel, ctx->channel);
		rc = reject(&r, RK_ECHANNEL, detail);
		goto done;
	}
	/* 4. Anti-rollback and equivocation. */
	if (ctx->highest_version > 0 && r.version == ctx->highest_version) {
		if (memcmp(r.sha256, ctx->highest_sha256, CRYPTO_SHA256_LEN) ==
		    0) {
			r.verdict = POLICY_CURRENT;
			rc = RK_OK;
			goto done;
		}
		rc = reject(&r, RK_EEQUIV,
		    "equivocation: other bytes under a version already "
		    "verified");
		goto done;
	}
	if (r.version < ctx->highest_version) {
		if (ctx->version_sha != NULL &&
		    ctx->version_sha(ctx->arg, r.version, known) &&
		    memcmp(known, r.sha256, CRYPTO_SHA256_LEN) != 0) {
			rc = reject(&r, RK_EEQUIV,
			    "equivocation: other bytes under a version "
			    "already stored");
			goto done;
		}
		snprintf(detail, sizeof(detail),
		    "version not above %" PRIu64 " (rollback)",
		    ctx->highest_version);
		rc = reject(&r, RK_EROLLBACK, detail);
		goto done;
	}
	/* 5. Freshness against the later of the clock and the floor. */
	if (policy_expired(
		r.manifest->expires_at, ctx->now, ctx->floor, &now)) {
		if (rfc3339_format(r.manifest->expires_at, t1) != RK_OK ||
		    rfc3339_format(now, t2) != RK_OK)
			t1[0] = t2[0] = '\0';
		snprintf(detail, sizeof(detail), "expired at %s (now %s%s)", t1,
		    t2, ctx->floor > ctx->now ? ", the time floor" : "");
		rc = reject(&r, RK_EEXPIRED, detail);
		goto done;
	}
	/*
	 * The time floor bound: a sane clock refuses an issued_at far ahead
	 * of it, which would otherwise lift the floor into the future and
	 * make every later bundle "expired".  A clock that is not sane (behind
	 * the floor, or before the build) cannot judge this.
	 */
	if (ctx->now >= ctx->floor && ctx->now >= ctx->build_time &&
	    r.manifest->issued_at > ctx->now &&
	    r.manifest->issued_at - ctx->now > POLICY_FUTURE_SLACK) {
		if (rfc3339_format(r.manifest->issued_at, t1) != RK_OK ||
		    rfc3339_format(ctx->now, t2) != RK_OK)
			t1[0] = t2[0] = '\0';
		snprintf(detail, sizeof(detail),
		    "issued in the future: issued_at %s, more than 24 hours "
		    "ahead of the clock (now %s)",
		    t1, t2);
		rc = reject(&r, RK_EFUTURE, detail);
		goto done;
	}
	/* 6. Certificates, and something left to trust. */
	if ((rc = fact_certs(f, &why)) != RK_OK) {
		if (!is_verdict(rc))
			goto fail;
		rc = reject(&r, RK_ECERT, why.msg);
		goto done;
	}
	for (i = 0; i < bundle_ncerts(f->bundle); i++)
		if (!policy_never_trusted(f->certs[i].sha256, ctx->distrust,
			ctx->n_distrust, r.manifest))
			r.n_trusted++;
	if (r.n_trusted == 0) {
		rc = reject(&r, RK_EDISTRUST,
		    "every certificate in it is distrusted on this device");
		goto done;
	}
	/* 7. Key rotation: the new keys must have signed too. */
	if (r.manifest->n_next_keys > 0 &&
	    (rc = bundle_verify_sigs_memo(f->bundle, r.manifest->next_keys,
		 r.manifest->n_next_keys, r.manifest->next_threshold, f->sigs,
		 NULL, &why)) != RK_OK) {
		if (rc != RK_ESIG)
			goto fail;
		snprintf(detail, sizeof(detail), "next_keys: %s", why.msg);
		rc = reject(&r, RK_ESIG, detail);
		goto done;
	}
	/* Verified: now whether this device is in the rollout. */
	if (!ctx->ignore_rollout &&
	    !policy_rollout_takes(&r.manifest->rollout, ctx->device_id)) {
		r.verdict = POLICY_DEFER;
		r.rollout_percent = r.manifest->rollout.percent;
		rc = RK_OK;
		goto done;
	}
	r.verdict = POLICY_ACCEPT;
	r.bundle = f->bundle;
	r.certs = f->certs;
	rc = RK_OK;
done:
	if (r.verdict != POLICY_ACCEPT)
		policy_result_free(&r);
	*out = r;
	return rc;
fail:
	return rc;
}
