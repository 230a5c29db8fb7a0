/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wolfSSL adapter for the signing host.  PKCS#8 is read by a small strict
 * DER walker here (two fixed shapes) rather than by the library's general
 * decoder, so that exactly the keys documented are accepted; the elliptic
 * curve arithmetic (public key from private, signing) is wolfSSL's.
 */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>

#include "cursor.h"
#include "pem.h"
#include "token.h"

#define SECRET_LEN 32
#define ED_PUB_LEN 32
#define EC_PUB_LEN 65

struct privkey {
	enum crypto_alg alg;
	uint8_t secret[SECRET_LEN]; /* Ed25519 seed or P-256 scalar */
	uint8_t pub[EC_PUB_LEN];    /* raw public key */
	size_t pub_len;
	struct token *tok; /* the key is in this token; secret unused */
};

static const uint8_t oid_ed25519[] = {0x2b, 0x65, 0x70};
static const uint8_t oid_ec_public_key[] = {
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_p256[] = {
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* PKCS#8 templates, as openssl writes them; the secret goes at the end. */
static const uint8_t ed_pkcs8_prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
    0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
static const uint8_t ec_pkcs8_prefix[] = {0x30, 0x81, 0x87, 0x02, 0x01, 0x00,
    0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30,
    0x6b, 0x02, 0x01, 0x01, 0x04, 0x20};
static const uint8_t ec_pkcs8_mid[] = {0xa1, 0x44, 0x03, 0x42, 0x00};

static const uint8_t ed_spki_prefix[] = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const uint8_t ec_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};

void
privkey_free(struct privkey *k)
{
	if (k == NULL)
		return;
	token_close(k->tok);
	explicit_bzero(k, sizeof(*k));
	free(k);
}

enum crypto_alg
privkey_alg(const struct privkey *k)
{
	return k->alg;
}

/* Ed25519 public key from the seed. */
static int
ed_public(struct privkey *k)
{
	ed25519_key ed;
	int rc = RK_ECRYPTO;

	if (wc_ed25519_init(&ed) != 0)
		return RK_ECRYPTO;
	if (wc_ed25519_import_private_only(k->secret, SECRET_LEN, &ed) == 0 &&
	    wc_ed25519_make_public(&ed, k->pub, ED_PUB_LEN) == 0)
		rc = RK_OK;
	wc_ed25519_free(&ed);
	k->pub_len = ED_PUB_LEN;
	return rc;
}

/* Is the big-endian scalar in [1, n-1]?  Not secret-dependent in time. */
static int
ec_scalar_ok(const uint8_t s[SECRET_LEN])
{
	static const uint8_t order[SECRET_LEN] = {0xff, 0xff, 0xff, 0xff, 0x00,
	    0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca,
	    0xc2, 0xfc, 0x63, 0x25, 0x51};
	unsigned lt = 0, gt = 0, nonzero = 0;
	size_t i;

	for (i = 0; i < SECRET_LEN; i++) {
		/* The first differing byte decides; later ones are masked. */
		unsigned undecided = !(lt | gt);

		lt |= undecided & (s[i] < order[i]);
		gt |= undecided & (s[i] > order[i]);
		nonzero |= s[i];
	}
	return lt && nonzero != 0;
}

/*
 * P-256 public point from the scalar: RK_EKEY for a scalar out of range,
 * RK_ECRYPTO when the library fails (out of memory, say).
 */
static int
ec_public(struct privkey *k)
{
	ecc_key ecc;
	word32 len = EC_PUB_LEN;
	int rc = RK_ECRYPTO;

	if (!ec_scalar_ok(k->secret))
		return RK_EKEY;
	if (wc_ecc_init(&ecc) != 0)
		return RK_ECRYPTO;
	if (wc_ecc_import_private_key_ex(
		k->secret, SECRET_LEN, NULL, 0, &ecc, ECC_SECP256R1) == 0 &&
	    wc_ecc_make_pub(&ecc, NULL) == 0 && wc_ecc_check_key(&ecc) == 0 &&
	    wc_ecc_export_x963(&ecc, k->pub, &len) == 0 && len == EC_PUB_LEN)
		rc = RK_OK;
	wc_ecc_free(&ecc);
	k->pub_len = EC_PUB_LEN;
	return rc;
}

int
privkey_generate(enum crypto_alg alg, struct privkey **out)
{
	struct privkey *k;
	WC_RNG rng;
	int rc = RK_ECRYPTO;

	if (alg != CRYPTO_ED25519 && alg != CRYPTO_ECDSA_P256)
		return RK_EINVAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return RK_ENOMEM;
	k->alg = alg;
	if (wc_InitRng(&rng) != 0)
		goto out;
	/*
	 * Both secrets are 32 uniformly random bytes; a P-256 scalar that
	 * lands outside [1, n-1] (odds about 2^-32) is drawn again.
	 */
	for (;;) {
		if (wc_RNG_GenerateBlock(&rng, k->secret, SECRET_LEN) != 0)
			break;
		rc = alg == CRYPTO_ED25519 ? ed_public(k) : ec_public(k);
		if (rc != RK_EKEY)
			break;
	}
	wc_FreeRng(&rng);
out:
	if (rc != RK_OK) {
		privkey_free(k);
		return rc;
	}
	*out = k;
	return RK_OK;
}

/* One DER TLV with a one-byte tag and a definite, minimal length. */
static int
der_get(struct cursor *c, uint8_t want, struct cursor *inner)
{
	const uint8_t *v;
	size_t len = 0;
	uint8_t tag, l0, b;
	int i;

	if (cursor_u8(c, &tag) || tag != want || cursor_u8(c, &l0))
		return RK_EKEY;
	if (l0 < 0x80) {
		len = l0;
	} else if (l0 == 0x81 || l0 == 0x82) {
		for (i = 0; i < (l0 & 0x7f); i++) {
			if (cursor_u8(c, &b))
				return RK_EKEY;
			len = len << 8 | b;
		}
		if (len < (l0 == 0x81 ? 0x80u : 0x100u))
			return RK_EKEY;
	} else {
		return RK_EKEY;
	}
	if (cursor_bytes(c, len, &v))
		return RK_EKEY;
	cursor_init(inner, v, len);
	return RK_OK;
}

static int
eq(const struct cursor *c, const uint8_t *want, size_t n)
{
	return c->left == n && memcmp(c->p, want, n) == 0;
}

/*
 * What may follow the private key in a PKCS#8 SEQUENCE: [0] attributes
 * (not used) and, in a v2 key only (version 1), [1] IMPLICIT BIT STRING
 * publicKey, which must be the key derived from the private one.
 */
static int
pkcs8_tail(struct cursor *top, uint8_t version, const struct privkey *k)
{
	struct cursor attrs, pub;

	if (top->left > 0 && top->p[0] == 0xa0 && der_get(top, 0xa0, &attrs))
		return RK_EKEY;
	if (top->left > 0 && (version != 1 || der_get(top, 0x81, &pub) ||
				 pub.left != 1 + k->pub_len || pub.p[0] != 0 ||
				 memcmp(pub.p + 1, k->pub, k->pub_len) != 0))
		return RK_EKEY;
	return top->left == 0 ? RK_OK : RK_EKEY;
}

/*
 * PKCS#8 (RFC 5208/5958): SEQUENCE { INTEGER 0|1, AlgorithmIdentifier,
 * OCTET STRING key, [0] attributes OPTIONAL, [1] publicKey OPTIONAL }.
 */
static int
parse_pkcs8(const uint8_t *der, size_t len, struct privkey *k)
{
	struct cursor c, top, alg, oid, param, key, ec, v, pub;
	uint8_t version;
	int rc;

	cursor_init(&c, der, len);
	if (der_get(&c, 0x30, &top) || c.left != 0)
		return RK_EKEY;
	if (der_get(&top, 0x02, &v) || v.left != 1 || v.p[0] > 1 ||
	    der_get(&top, 0x30, &alg) || der_get(&alg, 0x06, &oid) ||
	    der_get(&top, 0x04, &key))
		return RK_EKEY;
	version = v.p[0];
	if (eq(&oid, oid_ed25519, sizeof(oid_ed25519))) {
		/* RFC 8410: no parameters; the key is an OCTET STRING seed. */
		if (alg.left != 0 || der_get(&key, 0x04, &v) || key.left != 0 ||
		    v.left != SECRET_LEN)
			return RK_EKEY;
		k->alg = CRYPTO_ED25519;
		memcpy(k->secret, v.p, SECRET_LEN);
		if ((rc = ed_public(k)) != RK_OK)
			return rc;
		return pkcs8_tail(&top, version, k);
	}
	if (!eq(&oid, oid_ec_public_key, sizeof(oid_ec_public_key)) ||
	    der_get(&alg, 0x06, &param) || alg.left != 0 ||
	    !eq(&param, oid_p256, sizeof(oid_p256)))
		return RK_EKEY;
	/* RFC 5915 ECPrivateKey { 1, OCTET STRING, [0] params, [1] pub } */
	if (der_get(&key, 0x30, &ec) || key.left != 0 ||
	    der_get(&ec, 0x02, &v) || v.left != 1 || v.p[0] != 1 ||
	    der_get(&ec, 0x04, &v) || v.left != SECRET_LEN)
		return RK_EKEY;
	k->alg = CRYPTO_ECDSA_P256;
	memcpy(k->secret, v.p, SECRET_LEN);
	if ((rc = ec_public(k)) != RK_OK)
		return rc;
	if (ec.left > 0 && ec.p[0] == 0xa0) {
		if (der_get(&ec, 0xa0, &param) || der_get(&param, 0x06, &oid) ||
		    param.left != 0 || !eq(&oid, oid_p256, sizeof(oid_p256)))
			return RK_EKEY;
	}
	if (ec.left > 0) {
		/* The public key, if given, must be the one we derived. */
		if (der_get(&ec, 0xa1, &param) || der_get(&param, 0x03, &pub) ||
		    param.left != 0 || pub.left != 1 + EC_PUB_LEN ||
		    pub.p[0] != 0 || memcmp(pub.p + 1, k->pub, EC_PUB_LEN) != 0)
			return RK_EKEY;
	}
	if (ec.left != 0)
		return RK_EKEY;
	return pkcs8_tail(&top, version, k);
}

/*
 * Decrypts an EncryptedPrivateKeyInfo (PKCS#5 v2 as openssl pkcs8 -topk8
 * -v2 writes it) in place; the PKCS#8 inside ends up at der[0..*len).
 */
static int
decrypt_pkcs8(uint8_t *der, size_t *len, const char *pass, size_t pass_len)
{
	int n;

	if (*len > UINT32_MAX || pass_len > INT32_MAX)
		return RK_ELIMIT;
	n = wc_DecryptPKCS8Key(der, (word32)*len, pass, (int)pass_len);
	if (n <= 0 || (size_t)n > *len)
		return RK_EKEY;
	*len = (size_t)n;
	return RK_OK;
}

int
privkey_pem_encrypted(const char *pem, size_t len)
{
	static const char begin[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
	size_t n = sizeof(begin) - 1, i;

	for (i = 0; len >= n && i <= len - n; i++)
		if (memcmp(pem + i, begin, n) == 0)
			return 1;
	return 0;
}

int
privkey_from_pem_pass(const char *pem, size_t len, const char *pass,
    size_t pass_len, struct privkey **out)
{
	struct privkey *k;
	uint8_t *der = NULL;
	size_t der_len = 0, pos = 0, all = 0;
	int rc;

	if (pass != NULL)
		rc = pem_next(pem, len, &pos, "ENCRYPTED PRIVATE KEY", NULL,
		    &der, &der_len);
	else
		rc = pem_next(
		    pem, len, &pos, "PRIVATE KEY", NULL, &der, &der_len);
	if (rc == RK_ENOENT)
		return RK_EKEY;
	if (rc != RK_OK)
		return rc;
	all = der_len;
	if (pass != NULL &&
	    (rc = decrypt_pkcs8(der, &der_len, pass, pass_len)) != RK_OK)
		goto out;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		rc = RK_ENOMEM;
		goto out;
	}
	if ((rc = parse_pkcs8(der, der_len, k)) != RK_OK) {
		privkey_free(k);
		goto out;
	}
	*out = k;
out:
	explicit_bzero(der, all);
	free(der);
	return rc;
}

int
privkey_from_pem(const char *pem, size_t len, struct privkey **out)
{
	return privkey_from_pem_pass(pem, len, NULL, 0, out);
}

/* The key of u in its token, with the raw public key filled in. */
static int
token_key(struct privkey *k, const struct p11uri *u, const char *pin,
    size_t pin_len, int generate, enum crypto_alg alg, struct rk_why *why)
{
	uint8_t pub[TOKEN_PUB_MAX];
	size_t n = 0;
	int rc;

	if ((rc = token_open(u, pin, pin_len, &k->tok, why)) != RK_OK)
		return rc;
	if (generate)
		rc = token_generate(k->tok, u->object, alg, pub, &n, why);
	else
		rc = token_find_key(k->tok, u->object, &alg, pub, &n, why);
	if (rc != RK_OK)
		return rc;
	if (n > sizeof(k->pub))
		return RK_EKEY;
	k->alg = alg;
	memcpy(k->pub, pub, n);
	k->pub_len = n;
	return RK_OK;
}

int
privkey_from_token(const struct p11uri *u, const char *pin, size_t pin_len,
    struct privkey **out, struct rk_why *why)
{
	struct privkey *k;
	struct pubkey *pub = NULL;
	uint8_t sig[KEYS_MAX_SIG];
	size_t sig_len = 0;
	int rc;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return RK_ENOMEM;
	if ((rc = token_key(k, u, pin, pin_len, 0, CRYPTO_ED25519, why)) !=
	    RK_OK)
		goto out;
	/*
	 * The public key object is only a label away from the private one:
	 * a signature checked under it proves that the two belong together
	 * (and that the point is a valid one) before anything is signed.
	 */
	if ((rc = privkey_public(k, &pub)) != RK_OK ||
	    (rc = privkey_sign(k, (const uint8_t *)"rootkeeper", 10, sig,
		 &sig_len)) != RK_OK) {
		rc = rk_fail(why, RK_EKEY,
		    "PKCS#11: key '%s' does not sign under its public key",
		    u->object);
		goto out;
	}
	*out = k;
	k = NULL;
out:
	pubkey_free(pub);
	privkey_free(k);
	return rc;
}

int
privkey_generate_in_token(enum crypto_alg alg, const struct p11uri *u,
    const char *pin, size_t pin_len, struct privkey **out, struct rk_why *why)
{
	struct privkey *k;
	int rc;

	if (alg != CRYPTO_ED25519 && alg != CRYPTO_ECDSA_P256)
		return RK_EINVAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return RK_ENOMEM;
	if ((rc = token_key(k, u, pin, pin_len, 1, alg, why)) != RK_OK) {
		privkey_free(k);
		return rc;
	}
	*out = k;
	return RK_OK;
}

int
privkey_in_token(const struct privkey *k)
{
	return k->tok != NULL;
}

/*
 * The length of the DER SEQUENCE at der[0..cap), header included; 0 when
 * it does not fit.  (wolfSSL 5.5 may report a few bytes more than it
 * wrote for an encrypted key.)
 */
static size_t
der_total(const uint8_t *der, size_t cap)
{
	struct cursor c, inner;

	cursor_init(&c, der, cap);
	if (der_get(&c, 0x30, &inner) != RK_OK)
		return 0;
	return cap - c.left;
}

/* The PKCS#8 DER of k, as openssl writes it, into der (160 bytes). */
static size_t
pkcs8_der(const struct privkey *k, uint8_t der[160])
{
	size_t n;

	if (k->alg == CRYPTO_ED25519) {
		memcpy(der, ed_pkcs8_prefix, sizeof(ed_pkcs8_prefix));
		n = sizeof(ed_pkcs8_prefix);
		memcpy(der + n, k->secret, SECRET_LEN);
		return n + SECRET_LEN;
	}
	memcpy(der, ec_pkcs8_prefix, sizeof(ec_pkcs8_prefix));
	n = sizeof(ec_pkcs8_prefix);
	memcpy(der + n, k->secret, SECRET_LEN);
	n += SECRET_LEN;
	memcpy(der + n, ec_pkcs8_mid, sizeof(ec_pkcs8_mid));
	n += sizeof(ec_pkcs8_mid);
	memcpy(der + n, k->pub, EC_PUB_LEN);
	return n + EC_PUB_LEN;
}

int
privkey_to_pem(const struct privkey *k, char **pem, size_t *len)
{
	uint8_t der[160];
	size_t n;
	int rc;

	if (k->tok != NULL)
		return RK_EINVAL;
	n = pkcs8_der(k, der);
	rc = pem_encode("PRIVATE KEY", der, n, pem, len);
	explicit_bzero(der, sizeof(der));
	return rc;
}

int
privkey_to_pem_encrypted(const struct privkey *k, const char *pass,
    size_t pass_len, char **pem, size_t *len)
{
	uint8_t der[160], enc[512];
	word32 enc_len = sizeof(enc);
	WC_RNG rng;
	size_t n;
	int rc = RK_ECRYPTO;

	if (k->tok != NULL || pass_len == 0 || pass_len > INT32_MAX)
		return RK_EINVAL;
	n = pkcs8_der(k, der);
	if (k->alg == CRYPTO_ED25519) {
		/*
		 * The 48-byte key is a whole number of AES blocks, and
		 * wolfSSL 5.5 then leaves out the block of padding PKCS#5
		 * wants, which openssl cannot read; an empty [0] attributes
		 * (RFC 5958, which every reader takes) makes it 50 bytes.
		 */
		der[1] = (uint8_t)(der[1] + 2);
		der[n++] = 0xa0;
		der[n++] = 0x00;
	}
	if (wc_InitRng(&rng) != 0)
		goto out;
	/* PBES2: PBKDF2 (random salt) and AES-256-CBC, as openssl -v2. */
	if (wc_EncryptPKCS8Key(der, (word32)n, enc, &enc_len, pass,
		(int)pass_len, PKCS5, PBES2, AES256CBCb, NULL, 0,
		KEYS_PBKDF2_ITERATIONS, &rng, NULL) > 0 &&
	    (n = der_total(enc, enc_len)) > 0)
		rc = pem_encode("ENCRYPTED PRIVATE KEY", enc, n, pem, len);
	wc_FreeRng(&rng);
out:
	explicit_bzero(der, sizeof(der));
	explicit_bzero(enc, sizeof(enc));
	return rc;
}

int
privkey_public(const struct privkey *k, struct pubkey **out)
{
	uint8_t spki[CRYPTO_SPKI_MAX];
	size_t n;

	if (k->alg == CRYPTO_ED25519) {
		memcpy(spki, ed_spki_prefix, sizeof(ed_spki_prefix));
		n = sizeof(ed_spki_prefix);
	} else {
		memcpy(spki, ec_spki_prefix, sizeof(ec_spki_prefix));
		n = sizeof(ec_spki_prefix);
	}
	memcpy(spki + n, k->pub, k->pub_len);
	return pubkey_from_spki(spki, n + k->pub_len, out);
}

static int
sign_ed25519(const struct privkey *k, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *sig_len)
{
	ed25519_key ed;
	word32 n = KEYS_MAX_SIG;
	int rc = RK_ECRYPTO;

	if (len > UINT32_MAX)
		return RK_ELIMIT;
	if (msg == NULL) /* wolfSSL refuses NULL even for an empty message */
		msg = (const uint8_t *)"";
	if (wc_ed25519_init(&ed) != 0)
		return RK_ECRYPTO;
	if (wc_ed25519_import_private_key(
		k->secret, SECRET_LEN, k->pub, ED_PUB_LEN, &ed) == 0 &&
	    wc_ed25519_sign_msg(msg, (word32)len, sig, &n, &ed) == 0) {
		*sig_len = n;
		rc = RK_OK;
	}
	wc_ed25519_free(&ed);
	return rc;
}

static int
sign_ecdsa(const struct privkey *k, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *sig_len)
{
	uint8_t hash[CRYPTO_SHA256_LEN];
	word32 n = KEYS_MAX_SIG;
	ecc_key ecc;
	WC_RNG rng;
	int rc = RK_ECRYPTO;

	if ((rc = crypto_sha256(msg, len, NULL, 0, hash)) != RK_OK)
		return rc;
	rc = RK_ECRYPTO;
	if (wc_InitRng(&rng) != 0)
		return RK_ECRYPTO;
	if (wc_ecc_init(&ecc) != 0) {
		wc_FreeRng(&rng);
		return RK_ECRYPTO;
	}
	if (wc_ecc_import_private_key_ex(k->secret, SECRET_LEN, k->pub,
		EC_PUB_LEN, &ecc, ECC_SECP256R1) == 0 &&
	    wc_ecc_set_rng(&ecc, &rng) == 0 &&
	    wc_ecc_sign_hash(hash, sizeof(hash), sig, &n, &rng, &ecc) == 0) {
		*sig_len = n;
		rc = RK_OK;
	}
	wc_ecc_free(&ecc);
	wc_FreeRng(&rng);
	return rc;
}

/* A DER INTEGER of the 32-byte big-endian magnitude v, minimal. */
static size_t
der_uint(const uint8_t v[32], uint8_t *out)
{
	size_t skip = 0, n;

	while (skip < 31 && v[skip] == 0)
		skip++;
	n = 32 - skip;
	out[0] = 0x02;
	out[1] = (uint8_t)(n + (v[skip] >> 7));
	out += 2;
	if (v[skip] & 0x80)
		*out++ = 0;
	memcpy(out, v + skip, n);
	return 2 + n + (v[skip] >> 7);
}

/*
 * A token signs as PKCS#11 says: raw r || s for CKM_ECDSA, which the
 * format wants as a DER Ecdsa-Sig-Value.
 */
static int
sign_token(const struct privkey *k, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *sig_len)
{
	uint8_t hash[CRYPTO_SHA256_LEN], raw[TOKEN_SIG_MAX], der[KEYS_MAX_SIG];
	size_t n = 0, at = 2;
	int rc;

	if (k->alg == CRYPTO_ED25519)
		return token_sign(k->tok, msg, len, sig, sig_len);
	if ((rc = crypto_sha256(msg, len, NULL, 0, hash)) != RK_OK ||
	    (rc = token_sign(k->tok, hash, sizeof(hash), raw, &n)) != RK_OK)
		return rc;
	at += der_uint(raw, der + at);
	at += der_uint(raw + 32, der + at);
	der[0] = 0x30;
	der[1] = (uint8_t)(at - 2);
	memcpy(sig, der, at);
	*sig_len = at;
	return RK_OK;
}

int
privkey_sign(const struct privkey *k, const uint8_t *msg, size_t len,
    uint8_t sig[KEYS_MAX_SIG], size_t *sig_len)
{
	struct pubkey *pub = NULL;
	size_t n = 0;
	int rc;

	if (k->tok != NULL)
		rc = sign_token(k, msg, len, sig, &n);
	else if (k->alg == CRYPTO_ED25519)
		rc = sign_ed25519(k, msg, len, sig, &n);
	else
		rc = sign_ecdsa(k, msg, len, sig, &n);
	if (rc != RK_OK)
		return rc;
	/* A fault while signing must not leave with a bad signature. */
	if ((rc = privkey_public(k, &pub)) != RK_OK)
		return rc;
	rc = crypto_verify(pub, msg, len, sig, n);
	pubkey_free(pub);
	if (rc != RK_OK)
		return RK_ECRYPTO;
	*sig_len = n;
	return RK_OK;
}
