/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolfSSL adapter for hashing, signature verification and certificate
 * facts.  Public keys are recognised by their exact SPKI DER prefix rather
 * than by a general ASN.1 parser: only two kinds are valid in a bundle, and
 * a byte comparison cannot be confused by odd encodings.  ECDSA signatures
 * are parsed here, strictly, before wolfSSL sees them, so a BER-encoded or
 * padded signature never counts however lenient the library is.
 */
#include "crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "cursor.h"
#include "fileio.h"
#include "pem.h"
#include "rfc3339.h"

#define ED25519_PK_LEN 32
#define ED25519_SIG_LEN 64
#define P256_POINT_LEN 65
#define P256_SCALAR_LEN 32

static const uint8_t ed25519_spki_prefix[] = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const uint8_t p256_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

struct pubkey {
	enum crypto_alg alg;
	uint8_t id[CRYPTO_SHA256_LEN];
	uint8_t spki[CRYPTO_SPKI_MAX];
	size_t spki_len;
	const uint8_t *raw; /* points into spki: the key bytes */
	size_t raw_len;
};

int
crypto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    uint8_t out[CRYPTO_SHA256_LEN])
{
	wc_Sha256 sha;
	const uint8_t *part[2] = {a, b};
	size_t plen[2] = {alen, blen}, i, n;
	int rc = RK_ECRYPTO;

	if (wc_InitSha256(&sha) != 0)
		return RK_ECRYPTO;
	for (i = 0; i < 2; i++) {
		const uint8_t *p = part[i];
		size_t left = plen[i];

		while (left > 0) {
			n = left > 0x40000000u ? 0x40000000u : left;
			if (wc_Sha256Update(&sha, p, (word32)n) != 0)
				goto out;
			p += n;
			left -= n;
		}
	}
	if (wc_Sha256Final(&sha, out) != 0)
		goto out;
	rc = RK_OK;
out:
	wc_Sha256Free(&sha);
	return rc;
}

int
pubkey_from_spki(const uint8_t *der, size_t len, struct pubkey **out)
{
	struct pubkey *k;
	enum crypto_alg alg;
	size_t plen;

	if (len == sizeof(ed25519_spki_prefix) + ED25519_PK_LEN &&
	    memcmp(der, ed25519_spki_prefix, sizeof(ed25519_spki_prefix)) ==
		0) {
		alg = CRYPTO_ED25519;
		plen = sizeof(ed25519_spki_prefix);
	} else if (len == sizeof(p256_spki_prefix) + P256_POINT_LEN &&
		   memcmp(der, p256_spki_prefix, sizeof(p256_spki_prefix)) ==
		       0 &&
		   der[sizeof(p256_spki_prefix)] == 0x04) {
		alg = CRYPTO_ECDSA_P256;
		plen = sizeof(p256_spki_prefix);
	} else {
		return RK_EKEY;
	}
	if (alg == CRYPTO_ECDSA_P256) {
		/* Refuse a point that is not on the curve now, not at verify.
		 */
		ecc_key ecc;
		int bad;

		if (wc_ecc_init(&ecc) != 0)
			return RK_ECRYPTO;
		bad = wc_ecc_import_x963_ex(der + plen, P256_POINT_LEN, &ecc,
			  ECC_SECP256R1) != 0 ||
		      wc_ecc_check_key(&ecc) != 0;
		wc_ecc_free(&ecc);
		if (bad)
			return RK_EKEY;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return RK_ENOMEM;
	k->alg = alg;
	memcpy(k->spki, der, len);
	k->spki_len = len;
	k->raw = k->spki + plen;
	k->raw_len = len - plen;
	if (crypto_sha256(der, len, NULL, 0, k->id) != RK_OK) {
		free(k);
		return RK_ECRYPTO;
	}
	*out = k;
	return RK_OK;
}

int
pubkey_from_pem(const char *pem, size_t len, struct pubkey **out)
{
	uint8_t *der = NULL;
	size_t der_len = 0, pos = 0;
	int rc;

	rc = pem_next(pem, len, &pos, "PUBLIC KEY", NULL, &der, &der_len);
	if (rc == RK_ENOENT)
		return RK_EKEY;
	if (rc != RK_OK)
		return rc;
	rc = pubkey_from_spki(der, der_len, out);
	free(der);
	return rc;
}

int
pubkey_from_file(const char *path, struct pubkey **out, struct rk_why *why)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	/* A key file is a few hundred bytes; 64 KiB is generous. */
	if ((rc = fileio_read(path, 64u << 10, &buf, &len)) != RK_OK)
		return rk_fail(why, rc, "%s: %s", path, fileio_read_error(rc));
	rc = pubkey_from_pem((const char *)buf, len, out);
	free(buf);
	if (rc == RK_EKEY || rc == RK_EFORMAT)
		return rk_fail(why, RK_EKEY,
		    "%s: not an Ed25519 or ECDSA P-256 public key "
		    "(\"PUBLIC KEY\" PEM)",
		    path);
	return rc;
}

size_t
pubkey_count_distinct(struct pubkey *const *keys, size_t n)
{
	size_t i, j, distinct = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (memcmp(keys[i]->id, keys[j]->id,
				CRYPTO_SHA256_LEN) == 0)
				break;
		distinct += j == i;
	}
	return distinct;
}

void
pubkey_free(struct pubkey *k)
{
	free(k);
}

enum crypto_alg
pubkey_alg(const struct pubkey *k)
{
	return k->alg;
}

const uint8_t *
pubkey_id(const struct pubkey *k)
{
	return k->id;
}

const uint8_t *
pubkey_spki(const struct pubkey *k, size_t *len)
{
	*len = k->spki_len;
	return k->spki;
}

/*
 * One DER INTEGER of an Ecdsa-Sig-Value: short-form length, positive,
 * minimally encoded, non-zero, at most 32 bytes of magnitude.
 */
static int
der_scalar(struct cursor *c, const uint8_t **v, size_t *vlen)
{
	uint8_t tag, n;
	const uint8_t *p;

	if (cursor_u8(c, &tag) || tag != 0x02 || cursor_u8(c, &n) || n == 0 ||
	    n > P256_SCALAR_LEN + 1 || cursor_bytes(c, n, &p))
		return RK_ESIG;
	if (p[0] & 0x80)
		return RK_ESIG;
	if (n > 1 && p[0] == 0 && !(p[1] & 0x80))
		return RK_ESIG;
	if (p[0] == 0) {
		p++;
		n--;
	}
	if (n == 0 || n > P256_SCALAR_LEN)
		return RK_ESIG;
	*v = p;
	*vlen = n;
	return RK_OK;
}

static int
verify_ecdsa(const struct pubkey *k, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	struct cursor c, seq;
	const uint8_t *r, *s, *body;
	size_t rlen, slen;
	uint8_t tag, n, hash[CRYPTO_SHA256_LEN], der[80];
	word32 der_len = sizeof(der);
	ecc_key ecc;
	int res = 0, rc;

	cursor_init(&c, sig, siglen);
	if (cursor_u8(&c, &tag) || tag != 0x30 || cursor_u8(&c, &n) ||
	    n >= 0x80 || cursor_bytes(&c, n, &body) || c.left != 0)
		return RK_ESIG;
	cursor_init(&seq, body, n);
	if (der_scalar(&seq, &r, &rlen) || der_scalar(&seq, &s, &slen) ||
	    seq.left != 0)
		return RK_ESIG;
	if ((rc = crypto_sha256(msg, msglen, NULL, 0, hash)) != RK_OK)
		return rc;
	if (wc_ecc_rs_raw_to_sig(
		r, (word32)rlen, s, (word32)slen, der, &der_len) != 0)
		return RK_ESIG;
	if (wc_ecc_init(&ecc) != 0)
		return RK_ECRYPTO;
	rc = RK_ESIG;
	if (wc_ecc_import_x963_ex(
		k->raw, (word32)k->raw_len, &ecc, ECC_SECP256R1) != 0) {
		rc = RK_EKEY;
		goto out;
	}
	/* wolfSSL refuses r or s outside [1, n-1] with an error code. */
	if (wc_ecc_verify_hash(der, der_len, hash, sizeof(hash), &res, &ecc) ==
		0 &&
	    res == 1)
		rc = RK_OK;
out:
	wc_ecc_free(&ecc);
	return rc;
}

static int
verify_ed25519(const struct pubkey *k, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	/* The group order L, little-endian like the S half of sig. */
	static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63,
	    0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	ed25519_key ed;
	const uint8_t *s = sig + 32;
	int res = 0, rc = RK_ESIG, i;

	if (siglen != ED25519_SIG_LEN || msglen > UINT32_MAX)
		return RK_ESIG;
	/*
	 * RFC 8032 5.1.7 requires S < L.  Debian 12's wolfSSL 5.5.4 lets
	 * some S >= L through (Wycheproof tcId 85; wolfSSL issue 7510, fixed
	 * upstream by PR 7513), and S + L would then be a second valid
	 * signature of the same message.  Not constant-time: S is public.
	 */
	for (i = 31; i >= 0 && s[i] == order[i]; i--)
		;
	if (i < 0 || s[i] > order[i])
		return RK_ESIG;
	/* wolfSSL refuses NULL even with length 0; crypto.h allows it. */
	if (msg == NULL)
		msg = order;
	if (wc_ed25519_init(&ed) != 0)
		return RK_ECRYPTO;
	if (wc_ed25519_import_public(k->raw, (word32)k->raw_len, &ed) != 0) {
		rc = RK_EKEY;
		goto out;
	}
	/* wolfSSL rejects a non-canonical R itself. */
	if (wc_ed25519_verify_msg(
		sig, (word32)siglen, msg, (word32)msglen, &res, &ed) == 0 &&
	    res == 1)
		rc = RK_OK;
out:
	wc_ed25519_free(&ed);
	return rc;
}

int
crypto_verify(const struct pubkey *k, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen)
{
	if (k == NULL || (msg == NULL && msglen != 0) || sig == NULL)
		return RK_EINVAL;
	switch (k->alg) {
	case CRYPTO_ED25519:
		return verify_ed25519(k, msg, msglen, sig, siglen);
	case CRYPTO_ECDSA_P256:
		return verify_ecdsa(k, msg, msglen, sig, siglen);
	}
	return RK_EKEY;
}

static int
two_digits(const unsigned char *p, unsigned *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	*v = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
	return 0;
}

/*
 * An X.509 time as seconds since the epoch: UTCTime "YYMMDDHHMMSSZ"
 * (RFC 5280: YY below 50 is 20YY) or GeneralizedTime "YYYYMMDDHHMMSSZ".
 * Parsed here because wolfSSL_ASN1_TIME_to_tm() goes through mktime(),
 * which reads the local time zone and can shift an instant by an hour.
 */
static int
asn1_time(WOLFSSL_ASN1_TIME *t, int64_t *out)
{
	static const unsigned char dim[12] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const unsigned char *d;
	unsigned hi, lo, y, mo, dd, h, mi, se;
	int n;

	if (t == NULL || (d = wolfSSL_ASN1_TIME_get_data(t)) == NULL)
		return RK_ECERT;
	n = wolfSSL_ASN1_TIME_get_length(t);
	if (n == 13) {
		if (two_digits(d, &lo))
			return RK_ECERT;
		y = lo < 50 ? 2000 + lo : 1900 + lo;
		d += 2;
	} else if (n == 15) {
		if (two_digits(d, &hi) || two_digits(d + 2, &lo))
			return RK_ECERT;
		y = hi * 100 + lo;
		d += 4;
	} else {
		return RK_ECERT;
	}
	if (two_digits(d, &mo) || two_digits(d + 2, &dd) ||
	    two_digits(d + 4, &h) || two_digits(d + 6, &mi) ||
	    two_digits(d + 8, &se) || d[10] != 'Z')
		return RK_ECERT;
	if (mo < 1 || mo > 12 || dd < 1 || dd > dim[mo - 1] || h > 23 ||
	    mi > 59 || se > 59)
		return RK_ECERT;
	if (mo == 2 && dd == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return RK_ECERT;
	*out = rfc3339_days_from_civil(y, mo, dd) * 86400 + h * 3600 + mi * 60 +
	       se;
	return RK_OK;
}

int
crypto_cert_info(const uint8_t *der, size_t len, struct certinfo *out)
{
	const unsigned char *p = der;
	WOLFSSL_X509 *x = NULL;
	WOLFSSL_EVP_PKEY *pk = NULL;
	struct certinfo ci;
	long ver;
	int rc = RK_ECERT;

	if (len == 0 || len > INT32_MAX)
		return RK_ECERT;
	memset(&ci, 0, sizeof(ci));
	if ((rc = crypto_sha256(der, len, NULL, 0, ci.sha256)) != RK_OK)
		return rc;
	rc = RK_ECERT;
	x = wolfSSL_d2i_X509(NULL, &p, (int)len);
	if (x == NULL || p != der + len)
		goto out;
	if (wolfSSL_X509_NAME_oneline(wolfSSL_X509_get_subject_name(x),
		ci.subject, (int)sizeof(ci.subject)) == NULL)
		goto out;
	if (asn1_time(wolfSSL_X509_get_notBefore(x), &ci.not_before) ||
	    asn1_time(wolfSSL_X509_get_notAfter(x), &ci.not_after))
		goto out;
	ver = wolfSSL_X509_get_version(x);
	if (ver < 0 || ver > 2)
		goto out;
	ci.version = (int)ver + 1;
	ci.is_ca = wolfSSL_X509_get_isCA(x) == 1;
	/*
	 * Only a v1 certificate needs the self-signature check (a v3 one
	 * must say CA:TRUE).  It is also the one call here that wolfSSL
	 * 5.5.4 does not survive when an allocation fails inside it (it
	 * frees an RSA key it never initialised; see tests/test_oom.c), so
	 * it is not made for the other 99% of roots.
	 */
	if (ci.version == 1 &&
	    wolfSSL_X509_NAME_cmp(wolfSSL_X509_get_subject_name(x),
		wolfSSL_X509_get_issuer_name(x)) == 0 &&
	    (pk = wolfSSL_X509_get_pubkey(x)) != NULL &&
	    wolfSSL_X509_verify(x, pk) == WOLFSSL_SUCCESS)
		ci.self_signed = 1;
	*out = ci;
	rc = RK_OK;
out:
	wolfSSL_EVP_PKEY_free(pk);
	wolfSSL_X509_free(x);
	return rc;
}
