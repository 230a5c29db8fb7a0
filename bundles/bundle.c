/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bundle framing and signature checks.  A bundle keeps one buffer that
 * starts with the 21-byte signing context followed by the file's bytes, so
 * the signed message is a slice of it and verifying costs no copy.  Parsing
 * walks the buffer with a cursor and checks every count and length against
 * its limit and against the bytes left before using it.
 */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"

struct cert_ref {
	const uint8_t *der;
	size_t len;
};

struct bundle {
	uint8_t *buf;	   /* context, signed region, [signature block] */
	size_t signed_len; /* bytes of the signed region */
	const uint8_t *manifest;
	size_t manifest_len;
	struct cert_ref *certs;
	size_t ncerts;
	struct bundle_sig sigs[BUNDLE_MAX_SIGS];
	uint8_t sigdata[BUNDLE_MAX_SIGS][BUNDLE_ECDSA_MAX_SIG];
	size_t nsigs;
};

static int
sig_len_ok(uint8_t alg, size_t len)
{
	if (alg == CRYPTO_ED25519)
		return len == BUNDLE_ED25519_SIG;
	if (alg == CRYPTO_ECDSA_P256)
		return len >= 1 && len <= BUNDLE_ECDSA_MAX_SIG;
	return 0;
}

void
bundle_free(struct bundle *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	free(b->certs);
	free(b);
}

/* Reads the signed region from c into b (pointers into c's buffer). */
static int
parse_region(struct bundle *b, struct cursor *c, struct rk_why *why)
{
	const uint8_t *magic;
	uint32_t man_len, n, der_len;
	size_t i;

	if (cursor_bytes(c, 4, &magic))
		return rk_fail(
		    why, RK_ETRUNC, "bundle: shorter than its magic");
	if (memcmp(magic, BUNDLE_MAGIC, 4) != 0)
		return rk_fail(
		    why, RK_EFORMAT, "bundle: bad magic (not an RKB1 file)");
	if (cursor_u32(c, &man_len))
		return rk_fail(why, RK_ETRUNC, "bundle: truncated in header");
	if (man_len < 1 || man_len > BUNDLE_MAX_MANIFEST)
		return rk_fail(why, man_len ? RK_ELIMIT : RK_EFORMAT,
		    "bundle: manifest length %u not in 1..%u", man_len,
		    BUNDLE_MAX_MANIFEST);
	if (cursor_bytes(c, man_len, &b->manifest))
		return rk_fail(why, RK_ETRUNC, "bundle: truncated in manifest");
	b->manifest_len = man_len;
	if (cursor_u32(c, &n))
		return rk_fail(why, RK_ETRUNC,
		    "bundle: truncated before the certificate count");
	if (n < 1 || n > BUNDLE_MAX_CERTS)
		return rk_fail(why, n ? RK_ELIMIT : RK_EFORMAT,
		    "bundle: %u certificates, not in 1..%u", n,
		    BUNDLE_MAX_CERTS);
	/* Each cert takes at least 5 bytes: refuse a count the data lacks. */
	if (n > c->left / 5)
		return rk_fail(why, RK_ETRUNC,
		    "bundle: %u certificates cannot fit in %zu bytes", n,
		    c->left);
	if ((b->certs = calloc(n, sizeof(*b->certs))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < n; i++) {
		if (cursor_u32(c, &der_len))
			return rk_fail(why, RK_ETRUNC,
			    "bundle: truncated at certificate %zu", i);
		if (der_len < 1 || der_len > BUNDLE_MAX_CERT)
			return rk_fail(why, der_len ? RK_ELIMIT : RK_EFORMAT,
			    "bundle: certificate %zu length %u not in 1..%u", i,
			    der_len, BUNDLE_MAX_CERT);
		if (cursor_bytes(c, der_len, &b->certs[i].der))
			return rk_fail(why, RK_ETRUNC,
			    "bundle: truncated in certificate %zu", i);
		b->certs[i].len = der_len;
	}
	b->ncerts = n;
	return RK_OK;
}

int
bundle_parse(
    const uint8_t *buf, size_t len, struct bundle **out, struct rk_why *why)
{
	struct bundle *b;
	struct cursor c;
	const uint8_t *p;
	uint8_t nsigs, alg;
	uint16_t slen;
	size_t i;
	int rc = RK_ENOMEM;

	if (len > SIZE_MAX - BUNDLE_CONTEXT_LEN)
		return RK_ELIMIT;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return RK_ENOMEM;
	if ((b->buf = malloc(BUNDLE_CONTEXT_LEN + len)) == NULL)
		goto out;
	memcpy(b->buf, BUNDLE_CONTEXT, BUNDLE_CONTEXT_LEN);
	if (len > 0)
		memcpy(b->buf + BUNDLE_CONTEXT_LEN, buf, len);
	cursor_init(&c, b->buf + BUNDLE_CONTEXT_LEN, len);
	if ((rc = parse_region(b, &c, why)) != RK_OK)
		goto out;
	b->signed_len = len - c.left;
	rc = RK_ETRUNC;
	if (cursor_u8(&c, &nsigs)) {
		rk_fail(why, rc, "bundle: no signature block");
		goto out;
	}
	if (nsigs < 1 || nsigs > BUNDLE_MAX_SIGS) {
		rc = rk_fail(why, nsigs ? RK_ELIMIT : RK_EFORMAT,
		    "bundle: %u signatures, not in 1..%u", nsigs,
		    BUNDLE_MAX_SIGS);
		goto out;
	}
	for (i = 0; i < nsigs; i++) {
		struct bundle_sig *s = &b->sigs[i];

		if (cursor_bytes(&c, CRYPTO_SHA256_LEN, &p) ||
		    cursor_u8(&c, &alg) || cursor_u16(&c, &slen)) {
			rk_fail(
			    why, rc, "bundle: truncated in signature %zu", i);
			goto out;
		}
		if (!sig_len_ok(alg, slen)) {
			rc = rk_fail(why, RK_EFORMAT,
			    "bundle: signature %zu: algorithm %u with length "
			    "%u",
			    i, alg, slen);
			goto out;
		}
		memcpy(s->key_id, p, CRYPTO_SHA256_LEN);
		s->alg = alg;
		s->len = slen;
		if (cursor_bytes(&c, slen, &p)) {
			rk_fail(
			    why, rc, "bundle: truncated in signature %zu", i);
			goto out;
		}
		memcpy(b->sigdata[i], p, slen);
		s->sig = b->sigdata[i];
	}
	b->nsigs = nsigs;
	if (c.left != 0) {
		rc = rk_fail(why, RK_ETRAILING,
		    "bundle: %zu bytes after the last signature", c.left);
		goto out;
	}
	*out = b;
	return RK_OK;
out:
	bundle_free(b);
	return rc;
}

int
bundle_new(const uint8_t *manifest, size_t manifest_len,
    const uint8_t *const *certs, const size_t *cert_lens, size_t n,
    struct bundle **out, struct rk_why *why)
{
	struct bundle *b = NULL;
	struct cursor c;
	struct wbuf w;
	size_t i;
	int rc;

	if (manifest_len < 1 || manifest_len > BUNDLE_MAX_MANIFEST)
		return rk_fail(why, RK_ELIMIT,
		    "manifest of %zu bytes, not in 1..%u", manifest_len,
		    BUNDLE_MAX_MANIFEST);
	if (n < 1 || n > BUNDLE_MAX_CERTS)
		return rk_fail(why, RK_ELIMIT, "%zu certificates, not in 1..%u",
		    n, BUNDLE_MAX_CERTS);
	wbuf_init(&w, SIZE_MAX);
	wbuf_put(&w, BUNDLE_CONTEXT, BUNDLE_CONTEXT_LEN);
	wbuf_put(&w, BUNDLE_MAGIC, 4);
	wbuf_u32(&w, (uint32_t)manifest_len);
	wbuf_put(&w, manifest, manifest_len);
	wbuf_u32(&w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		if (cert_lens[i] < 1 || cert_lens[i] > BUNDLE_MAX_CERT) {
			wbuf_free(&w);
			return rk_fail(why, RK_ELIMIT,
			    "certificate %zu of %zu bytes, not in 1..%u", i,
			    cert_lens[i], BUNDLE_MAX_CERT);
		}
		wbuf_u32(&w, (uint32_t)cert_lens[i]);
		wbuf_put(&w, certs[i], cert_lens[i]);
	}
	if ((rc = w.err) != RK_OK)
		goto out;
	rc = RK_ENOMEM;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto out;
	b->buf = w.p;
	w.p = NULL;
	b->signed_len = w.len - BUNDLE_CONTEXT_LEN;
	cursor_init(&c, b->buf + BUNDLE_CONTEXT_LEN, b->signed_len);
	if ((rc = parse_region(b, &c, why)) != RK_OK)
		goto out;
	*out = b;
	b = NULL;
out:
	bundle_free(b);
	wbuf_free(&w);
	return rc;
}

const uint8_t *
bundle_manifest(const struct bundle *b, size_t *len)
{
	*len = b->manifest_len;
	return b->manifest;
}

size_t
bundle_ncerts(const struct bundle *b)
{
	return b->ncerts;
}

const uint8_t *
bundle_cert(const struct bundle *b, size_t i, size_t *len)
{
	if (i >= b->ncerts)
		return NULL;
	*len = b->certs[i].len;
	return b->certs[i].der;
}

size_t
bundle_nsigs(const struct bundle *b)
{
	return b->nsigs;
}

const struct bundle_sig *
bundle_sig(const struct bundle *b, size_t i)
{
	return i < b->nsigs ? &b->sigs[i] : NULL;
}

const uint8_t *
bundle_message(const struct bundle *b, size_t *len)
{
	*len = BUNDLE_CONTEXT_LEN + b->signed_len;
	return b->buf;
}

int
bundle_add_sig(struct bundle *b, const uint8_t key_id[CRYPTO_SHA256_LEN],
    uint8_t alg, const uint8_t *sig, size_t len)
{
	struct bundle_sig *s;
	size_t i;

	if (!sig_len_ok(alg, len))
		return RK_EINVAL;
	for (i = 0; i < b->nsigs; i++)
		if (memcmp(b->sigs[i].key_id, key_id, CRYPTO_SHA256_LEN) == 0)
			return RK_EEXIST;
	if (b->nsigs >= BUNDLE_MAX_SIGS)
		return RK_ELIMIT;
	s = &b->sigs[b->nsigs];
	memcpy(s->key_id, key_id, CRYPTO_SHA256_LEN);
	s->alg = alg;
	s->len = (uint16_t)len;
	memcpy(b->sigdata[b->nsigs], sig, len);
	s->sig = b->sigdata[b->nsigs];
	b->nsigs++;
	return RK_OK;
}

int
bundle_encode(const struct bundle *b, uint8_t **out, size_t *len)
{
	struct wbuf w;
	size_t i;

	if (b->nsigs < 1)
		return RK_EINVAL;
	wbuf_init(&w, SIZE_MAX);
	wbuf_put(&w, b->buf + BUNDLE_CONTEXT_LEN, b->signed_len);
	wbuf_u8(&w, (uint8_t)b->nsigs);
	for (i = 0; i < b->nsigs; i++) {
		wbuf_put(&w, b->sigs[i].key_id, CRYPTO_SHA256_LEN);
		wbuf_u8(&w, b->sigs[i].alg);
		wbuf_u16(&w, b->sigs[i].len);
		wbuf_put(&w, b->sigs[i].sig, b->sigs[i].len);
	}
	if (w.err != RK_OK) {
		wbuf_free(&w);
		return w.err;
	}
	*out = w.p;
	*len = w.len;
	return RK_OK;
}

int
bundle_verify_sigs(const struct bundle *b, struct pubkey *const *keys,
    size_t nkeys, unsigned threshold, unsigned *valid, struct rk_why *why)
{
	return bundle_verify_sigs_memo(
	    b, keys, nkeys, threshold, NULL, valid, why);
}

int
bundle_verify_sigs_memo(const struct bundle *b, struct pubkey *const *keys,
    size_t nkeys, unsigned threshold, signed char memo[BUNDLE_MAX_SIGS],
    unsigned *valid, struct rk_why *why)
{
	const uint8_t *msg;
	size_t msglen, i, j, k;
	unsigned count = 0;
	int rc, dup;

	if (threshold == 0)
		return RK_EINVAL;
	msg = bundle_message(b, &msglen);
	for (i = 0; i < nkeys; i++) {
		const uint8_t *id = pubkey_id(keys[i]);

		/* A key listed twice is still one key. */
		for (dup = 0, k = 0; k < i && !dup; k++)
			dup = memcmp(pubkey_id(keys[k]), id,
				  CRYPTO_SHA256_LEN) == 0;
		if (dup)
			continue;
		for (j = 0; j < b->nsigs; j++) {
			const struct bundle_sig *s = &b->sigs[j];

			if (memcmp(s->key_id, id, CRYPTO_SHA256_LEN) != 0 ||
			    s->alg != pubkey_alg(keys[i]))
				continue;
			/*
			 * The slot names its key by id, the SHA-256 of the
			 * key's SPKI: a key with that id is that key, so its
			 * verdict on these bytes is known once checked.
			 */
			if (memo != NULL && memo[j] != 0) {
				rc = memo[j] > 0 ? RK_OK : RK_ESIG;
			} else {
				rc = crypto_verify(
				    keys[i], msg, msglen, s->sig, s->len);
				/* A library failure is no verdict: not kept. */
				if (memo != NULL &&
				    (rc == RK_OK || rc == RK_ESIG ||
					rc == RK_EKEY))
					memo[j] = rc == RK_OK ? 1 : -1;
			}
			if (rc == RK_OK) {
				count++;
				break;
			}
			if (rc != RK_ESIG && rc != RK_EKEY)
				return rc;
		}
	}
	if (valid != NULL)
		*valid = count;
	if (count < threshold)
		return rk_fail(why, RK_ESIG,
		    "%u valid signature%s by pinned keys, %u required", count,
		    count == 1 ? "" : "s", threshold);
	return RK_OK;
}

/* Certificate i parses as X.509 and is a CA (or a v1 self-signed root). */
static int
check_cert(
    const struct bundle *b, size_t i, struct certinfo *ci, struct rk_why *why)
{
	int rc = crypto_cert_info(b->certs[i].der, b->certs[i].len, ci);

	if (rc == RK_ENOMEM)
		return rc;
	if (rc != RK_OK)
		return rk_fail(why, RK_ECERT,
		    "cert %zu: not a valid X.509 certificate", i);
	if (!ci->is_ca && !(ci->version == 1 && ci->self_signed))
		return rk_fail(why, RK_ECERT,
		    "cert %zu (%s): not a CA (no basicConstraints "
		    "CA:TRUE, not a v1 self-signed root)",
		    i, ci->subject);
	return RK_OK;
}

int
bundle_check_certs(const struct bundle *b, const struct manifest *m,
    struct certinfo *infos, struct rk_why *why)
{
	return bundle_check_certs_known(b, m, NULL, NULL, infos, why);
}

int
bundle_check_certs_known(const struct bundle *b, const struct manifest *m,
    int (*known)(
	void *arg, const uint8_t *der, size_t len, struct certinfo *ci),
    void *arg, struct certinfo *infos, struct rk_why *why)
{
	struct certinfo *ci;
	size_t i, j;
	int rc = RK_OK;

	if (b->ncerts == 0)
		return rk_fail(why, RK_ECERT, "empty certificate set");
	if ((ci = calloc(b->ncerts, sizeof(*ci))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < b->ncerts; i++) {
		/* One learnt before passed these checks then. */
		if ((known == NULL || !known(arg, b->certs[i].der,
					  b->certs[i].len, &ci[i])) &&
		    (rc = check_cert(b, i, &ci[i], why)) != RK_OK)
			goto out;
		for (j = 0; j < i; j++)
			if (memcmp(ci[j].sha256, ci[i].sha256,
				CRYPTO_SHA256_LEN) == 0) {
				rc = rk_fail(why, RK_ECERT,
				    "cert %zu (%s): duplicate of cert %zu", i,
				    ci[i].subject, j);
				goto out;
			}
		for (j = 0; j < m->n_distrust; j++)
			if (manifest_distrust_full(&m->distrust[j]) &&
			    memcmp(m->distrust[j].sha256, ci[i].sha256,
				CRYPTO_SHA256_LEN) == 0) {
				rc = rk_fail(why, RK_ECERT,
				    "cert %zu (%s): also fully distrusted", i,
				    ci[i].subject);
				goto out;
			}
	}
	if (infos != NULL)
		memcpy(infos, ci, b->ncerts * sizeof(*ci));
out:
	free(ci);
	return rc;
}

int
bundle_open(const uint8_t *buf, size_t len, size_t max_size,
    struct pubkey *const *keys, size_t nkeys, unsigned threshold,
    struct bundle **bundle, struct manifest **manifest, struct rk_why *why)
{
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	const uint8_t *man;
	size_t man_len;
	int rc;

	if (len > max_size)
		return rk_fail(why, RK_ELIMIT,
		    "bundle: %zu bytes, over the cap of %zu", len, max_size);
	if ((rc = bundle_parse(buf, len, &b, why)) != RK_OK)
		return rc;
	if ((rc = bundle_verify_sigs(b, keys, nkeys, threshold, NULL, why)) !=
	    RK_OK)
		goto out;
	man = bundle_manifest(b, &man_len);
	if ((rc = manifest_parse(man, man_len, &m, why)) != RK_OK)
		goto out;
	if ((rc = bundle_check_certs(b, m, NULL, why)) != RK_OK)
		goto out;
	if (m->n_next_keys > 0 &&
	    (rc = bundle_verify_sigs(b, m->next_keys, m->n_next_keys,
		 m->next_threshold, NULL, why)) != RK_OK) {
		/* Only a verdict is a rejection; a failure stays a failure. */
		if (rc == RK_ESIG)
			rc = rk_fail(why, RK_ESIG,
			    "next_keys: fewer than %u valid signatures by the "
			    "new keys",
			    m->next_threshold);
		goto out;
	}
	*bundle = b;
	*manifest = m;
	return RK_OK;
out:
	manifest_free(m);
	bundle_free(b);
	return rc;
}
