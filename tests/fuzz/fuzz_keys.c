/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the key parsers and the signature decoders: the
 * PKCS#8 reader of signing/keys.c (the input as PEM text, and wrapped as
 * a "PRIVATE KEY" block so that its DER walker sees arbitrary bytes), the
 * public-key readers (SPKI DER and PEM), and crypto_verify with the input
 * as an Ed25519 and as an ECDSA signature over a fixed message, under
 * fixed keys for which the seed corpus holds valid signatures (the ECDSA
 * key is Wycheproof's, so its DER test signatures reach the curve).
 * Besides memory errors it checks that a private key that parses has the
 * shape keys.h allows (by a DER walker of our own: no byte ignored, any
 * public key inside it the key's own), re-encodes to a PEM that parses
 * to the same public key, is a fixed point of that encoding and signs
 * verifiably; that a public key keeps the exact DER it came from; and
 * that every ECDSA signature accepted is the one strict DER spelling of
 * its (r, s), checked here by an encoder of our own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "keys.h"
#include "pem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What both signatures are over: Wycheproof's usual message. */
static const uint8_t msg[] = {'1', '2', '3', '4', '0', '0'};

/* tests/data/key-ed1.pub, and its signature of msg (openssl pkeyutl). */
static const uint8_t ed_spki[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b,
    0x65, 0x70, 0x03, 0x21, 0x00, 0x9f, 0xfb, 0xe6, 0x67, 0x61, 0xd1, 0x7e,
    0xbd, 0xe2, 0x6d, 0x5c, 0xd7, 0xae, 0x80, 0x97, 0x02, 0x4b, 0xd6, 0x23,
    0xb0, 0xe3, 0x9a, 0xf5, 0x8c, 0x96, 0x10, 0xd6, 0x19, 0x11, 0x1f, 0x91,
    0x5e};
static const uint8_t ed_sig[] = {0x78, 0x85, 0x6e, 0xad, 0x0b, 0x0e, 0xbd, 0x59,
    0xb0, 0xed, 0xb8, 0x7a, 0x13, 0x37, 0xa1, 0x2c, 0x81, 0xfe, 0x47, 0xe4,
    0x72, 0x03, 0x9a, 0x26, 0xd7, 0x50, 0x72, 0x79, 0x74, 0x3c, 0x2d, 0x3d,
    0xd6, 0xec, 0x86, 0xd5, 0xdc, 0xd1, 0x7c, 0xae, 0x4b, 0xd9, 0xe4, 0xa5,
    0x57, 0x81, 0x2b, 0xcd, 0x42, 0x1b, 0xf8, 0x6d, 0x30, 0x49, 0x83, 0x0e,
    0xf1, 0x37, 0x7b, 0xd3, 0x46, 0x24, 0xdf, 0x07};

/*
 * The key of the largest group of ecdsa_secp256r1_sha256_test.json, and
 * its tcId 7 ("valid") signature of msg.
 */
static const uint8_t ec_spki[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x29, 0x27, 0xb1, 0x05,
    0x12, 0xba, 0xe3, 0xed, 0xdc, 0xfe, 0x46, 0x78, 0x28, 0x12, 0x8b, 0xad,
    0x29, 0x03, 0x26, 0x99, 0x19, 0xf7, 0x08, 0x60, 0x69, 0xc8, 0xc4, 0xdf,
    0x6c, 0x73, 0x28, 0x38, 0xc7, 0x78, 0x79, 0x64, 0xea, 0xac, 0x00, 0xe5,
    0x92, 0x1f, 0xb1, 0x49, 0x8a, 0x60, 0xf4, 0x60, 0x67, 0x66, 0xb3, 0xd9,
    0x68, 0x50, 0x01, 0x55, 0x8d, 0x1a, 0x97, 0x4e, 0x73, 0x41, 0x51, 0x3e};
static const uint8_t ec_sig[] = {0x30, 0x45, 0x02, 0x20, 0x2b, 0xa3, 0xa8, 0xbe,
    0x6b, 0x94, 0xd5, 0xec, 0x80, 0xa6, 0xd9, 0xd1, 0x19, 0x0a, 0x43, 0x6e,
    0xff, 0xe5, 0x0d, 0x85, 0xa1, 0xee, 0xe8, 0x59, 0xb8, 0xcc, 0x6a, 0xf9,
    0xbd, 0x5c, 0x2e, 0x18, 0x02, 0x21, 0x00, 0xb3, 0x29, 0xf4, 0x79, 0xa2,
    0xbb, 0xd0, 0xa5, 0xc3, 0x84, 0xee, 0x14, 0x93, 0xb1, 0xf5, 0x18, 0x6a,
    0x87, 0x13, 0x9c, 0xac, 0x5d, 0xf4, 0x08, 0x7c, 0x13, 0x4b, 0x49, 0x15,
    0x68, 0x47, 0xdb};

/* The Ed25519 group order L, little-endian as S is in a signature. */
static const uint8_t ed_order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12,
    0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0x10};

static struct pubkey *ed_key, *ec_key;

static int
same_spki(const struct pubkey *a, const struct pubkey *b)
{
	const uint8_t *da, *db;
	size_t la, lb;

	da = pubkey_spki(a, &la);
	db = pubkey_spki(b, &lb);
	return la == lb && memcmp(da, db, la) == 0 &&
	       memcmp(pubkey_id(a), pubkey_id(b), CRYPTO_SHA256_LEN) == 0;
}

/*
 * One INTEGER of an Ecdsa-Sig-Value read loosely (any short length, any
 * padding): its magnitude without leading zero bytes.  0 when it is not
 * even that.
 */
static int
loose_int(const uint8_t **p, size_t *left, const uint8_t **mag, size_t *n)
{
	size_t len;

	if (*left < 2 || (*p)[0] != 0x02 || (*p)[1] >= 0x80 ||
	    (size_t)(*p)[1] > *left - 2)
		return 0;
	len = (*p)[1];
	*mag = *p + 2;
	*p += 2 + len;
	*left -= 2 + len;
	if (len > 0 && (*mag)[0] & 0x80)
		return 0; /* negative */
	while (len > 0 && (*mag)[0] == 0) {
		(*mag)++;
		len--;
	}
	*n = len;
	return 1;
}

/* Appends the DER INTEGER of a magnitude (1..32 bytes) to out at *at. */
static void
put_int(uint8_t *out, size_t *at, const uint8_t *mag, size_t n)
{
	int pad = (mag[0] & 0x80) != 0;

	out[(*at)++] = 0x02;
	out[(*at)++] = (uint8_t)(n + (size_t)pad);
	if (pad)
		out[(*at)++] = 0;
	memcpy(out + *at, mag, n);
	*at += n;
}

/*
 * Is sig the strict DER spelling of its (r, s), both in 1..2^256-1?  Read
 * loosely and re-encoded canonically, independently of crypto.c.
 */
static int
ecdsa_sig_canonical(const uint8_t *sig, size_t len)
{
	const uint8_t *p = sig + 2, *r, *s;
	size_t left, rn, sn, at = 2;
	uint8_t enc[2 + 2 * 35];

	if (len < 2 || sig[0] != 0x30 || sig[1] >= 0x80 ||
	    (size_t)sig[1] != len - 2)
		return 0;
	left = len - 2;
	if (!loose_int(&p, &left, &r, &rn) || !loose_int(&p, &left, &s, &sn) ||
	    left != 0 || rn == 0 || rn > 32 || sn == 0 || sn > 32)
		return 0;
	put_int(enc, &at, r, rn);
	put_int(enc, &at, s, sn);
	enc[0] = 0x30;
	enc[1] = (uint8_t)(at - 2);
	return at == len && memcmp(enc, sig, len) == 0;
}

/* S < L, as RFC 8032 5.1.7 wants of an accepted signature. */
static int
ed_s_reduced(const uint8_t sig[64])
{
	int i;

	for (i = 31; i >= 0 && sig[32 + i] == ed_order[i]; i--)
		;
	return i >= 0 && sig[32 + i] < ed_order[i];
}

/* The input as a signature over msg, under either fixed key. */
static void
check_sig(const uint8_t *sig, size_t len)
{
	int rc;

	rc = crypto_verify(ed_key, msg, sizeof(msg), sig, len);
	if (rc != RK_OK && rc != RK_ESIG)
		abort();
	if (rc == RK_OK && (len != 64 || !ed_s_reduced(sig)))
		abort();
	rc = crypto_verify(ec_key, msg, sizeof(msg), sig, len);
	if (rc != RK_OK && rc != RK_ESIG)
		abort();
	if (rc == RK_OK && !ecdsa_sig_canonical(sig, len))
		abort();
}

/*
 * One DER TLV at *p (any one-byte tag, definite minimal length of up to
 * two bytes, which covers every key): 0 when there is none.
 */
static int
tlv(const uint8_t **p, size_t *left, uint8_t *tag, const uint8_t **val,
    size_t *len)
{
	size_t n, hdr = 2;

	if (*left < 2)
		return 0;
	*tag = (*p)[0];
	n = (*p)[1];
	if (n == 0x81 || n == 0x82) {
		hdr += n & 0x7f;
		if (*left < hdr)
			return 0;
		n = n == 0x81 ? (*p)[2] : (size_t)(*p)[2] << 8 | (*p)[3];
		if (n < (hdr == 3 ? 0x80u : 0x100u))
			return 0;
	} else if (n >= 0x80) {
		return 0;
	}
	if (n > *left - hdr)
		return 0;
	*val = *p + hdr;
	*len = n;
	*p += hdr + n;
	*left -= hdr + n;
	return 1;
}

/* Consumes want[0..n) at *p if the bytes there are exactly those. */
static int
take(const uint8_t **p, size_t *left, const uint8_t *want, size_t n)
{
	if (*left < n || memcmp(*p, want, n) != 0)
		return 0;
	*p += n;
	*left -= n;
	return 1;
}

/*
 * The inside of an RFC 5915 ECPrivateKey that parsed: SEQUENCE { 1,
 * OCTET STRING of 32, [0] { P-256 } OPTIONAL, [1] { BIT STRING of the
 * key's own point } OPTIONAL } and nothing else.
 */
static int
ec_private_shape_ok(const uint8_t *p, size_t left, const uint8_t *raw)
{
	static const uint8_t head[] = {0x02, 0x01, 0x01, 0x04, 0x20};
	static const uint8_t params[] = {0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86,
	    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
	static const uint8_t pub_head[] = {0xa1, 0x44, 0x03, 0x42, 0x00};
	const uint8_t *v;
	size_t n;
	uint8_t tag;

	if (!tlv(&p, &left, &tag, &v, &n) || tag != 0x30 || left != 0)
		return 0;
	p = v;
	left = n;
	if (!take(&p, &left, head, sizeof(head)) || left < 32)
		return 0;
	p += 32;
	left -= 32;
	if (left > 0 && p[0] == 0xa0 &&
	    !take(&p, &left, params, sizeof(params)))
		return 0;
	if (left > 0 && (!take(&p, &left, pub_head, sizeof(pub_head)) ||
			    !take(&p, &left, raw, 65)))
		return 0;
	return left == 0;
}

/*
 * A PKCS#8 key that parsed, checked against RFC 5958, 8410 and 5915 by a
 * walker of our own: SEQUENCE { version 0 or 1, the algorithm of the
 * key's kind, the private key in the shape of that kind, [0] attributes
 * OPTIONAL, [1] public key OPTIONAL (version 1 only) } and nothing else.
 * A public key given (in either place an EC key may have it) is the
 * key's own: keys.h promises RK_EKEY otherwise.
 */
static int
pkcs8_shape_ok(const uint8_t *der, size_t len, const struct pubkey *pub)
{
	static const uint8_t ed_alg[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	static const uint8_t ec_alg[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
	    0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
	    0x01, 0x07};
	int ed = pubkey_alg(pub) == CRYPTO_ED25519;
	const uint8_t *p = der, *v, *raw;
	size_t left = len, n, raw_len;
	uint8_t tag, version;

	raw = pubkey_spki(pub, &raw_len);
	raw += ed ? 12 : 26; /* the SPKI prefixes of crypto.c */
	raw_len -= ed ? 12 : 26;
	if (!tlv(&p, &left, &tag, &v, &n) || tag != 0x30 || left != 0)
		return 0;
	p = v;
	left = n;
	if (!tlv(&p, &left, &tag, &v, &n) || tag != 0x02 || n != 1 || v[0] > 1)
		return 0;
	version = v[0];
	if (!tlv(&p, &left, &tag, &v, &n) || tag != 0x30 ||
	    n != (ed ? sizeof(ed_alg) : sizeof(ec_alg)) ||
	    memcmp(v, ed ? ed_alg : ec_alg, n) != 0)
		return 0;
	if (!tlv(&p, &left, &tag, &v, &n) || tag != 0x04)
		return 0;
	if (ed ? n != 34 || v[0] != 0x04 || v[1] != 0x20
	       : !ec_private_shape_ok(v, n, raw))
		return 0;
	if (left > 0 && p[0] == 0xa0 && !tlv(&p, &left, &tag, &v, &n))
		return 0;
	if (left > 0 && (!tlv(&p, &left, &tag, &v, &n) || tag != 0x81 ||
			    version != 1 || n != 1 + raw_len || v[0] != 0 ||
			    memcmp(v + 1, raw, raw_len) != 0))
		return 0;
	return left == 0;
}

/*
 * A private key that parsed from der: der has the shape keys.h allows,
 * the key's PEM reads back to the same public key and is a fixed point of
 * read-then-write, and the key signs msg verifiably.
 */
static void
check_privkey(const struct privkey *k, const uint8_t *der, size_t der_len)
{
	struct privkey *k2 = NULL;
	struct pubkey *pub = NULL, *pub2 = NULL;
	char *pem = NULL, *pem2 = NULL;
	size_t pem_len = 0, pem2_len = 0, sig_len = 0;
	uint8_t sig[KEYS_MAX_SIG];

	if (privkey_public(k, &pub) != RK_OK ||
	    privkey_to_pem(k, &pem, &pem_len) != RK_OK ||
	    privkey_from_pem(pem, pem_len, &k2) != RK_OK ||
	    privkey_alg(k2) != privkey_alg(k) ||
	    privkey_public(k2, &pub2) != RK_OK || !same_spki(pub, pub2) ||
	    pubkey_alg(pub) != privkey_alg(k) ||
	    privkey_to_pem(k2, &pem2, &pem2_len) != RK_OK ||
	    pem2_len != pem_len || memcmp(pem, pem2, pem_len) != 0 ||
	    !pkcs8_shape_ok(der, der_len, pub))
		abort();
	if (privkey_sign(k, msg, sizeof(msg), sig, &sig_len) != RK_OK ||
	    sig_len > KEYS_MAX_SIG ||
	    crypto_verify(pub, msg, sizeof(msg), sig, sig_len) != RK_OK)
		abort();
	if (privkey_alg(k) == CRYPTO_ECDSA_P256 &&
	    !ecdsa_sig_canonical(sig, sig_len))
		abort();
	explicit_bzero(pem, pem_len);
	explicit_bzero(pem2, pem2_len);
	free(pem);
	free(pem2);
	pubkey_free(pub);
	pubkey_free(pub2);
	privkey_free(k2);
}

/* A public key that parsed from SPKI DER keeps exactly that DER. */
static void
check_spki(const uint8_t *der, size_t len)
{
	struct pubkey *k = NULL, *again = NULL;
	uint8_t id[CRYPTO_SHA256_LEN];
	const uint8_t *spki;
	size_t spki_len;
	int rc;

	if (pubkey_from_spki(der, len, &k) != RK_OK)
		return;
	spki = pubkey_spki(k, &spki_len);
	if (spki_len != len || memcmp(spki, der, len) != 0 ||
	    crypto_sha256(der, len, NULL, 0, id) != RK_OK ||
	    memcmp(id, pubkey_id(k), sizeof(id)) != 0 ||
	    pubkey_from_spki(spki, spki_len, &again) != RK_OK ||
	    !same_spki(k, again))
		abort();
	/* A fuzzed key under a fixed signature: only a yes or a no. */
	if (pubkey_alg(k) == CRYPTO_ED25519)
		rc = crypto_verify(k, msg, sizeof(msg), ed_sig, sizeof(ed_sig));
	else
		rc = crypto_verify(k, msg, sizeof(msg), ec_sig, sizeof(ec_sig));
	if (rc != RK_OK && rc != RK_ESIG)
		abort();
	pubkey_free(again);
	pubkey_free(k);
}

/* A public key from PEM: its DER re-armoured reads back the same. */
static void
check_pubkey_pem(const char *text, size_t len)
{
	struct pubkey *k = NULL, *again = NULL;
	const uint8_t *spki;
	size_t spki_len, pem_len;
	char *pem = NULL;

	if (pubkey_from_pem(text, len, &k) != RK_OK)
		return;
	spki = pubkey_spki(k, &spki_len);
	if (pem_encode("PUBLIC KEY", spki, spki_len, &pem, &pem_len) != RK_OK ||
	    pubkey_from_pem(pem, pem_len, &again) != RK_OK ||
	    !same_spki(k, again))
		abort();
	free(pem);
	pubkey_free(again);
	pubkey_free(k);
}

static struct pubkey *
fixed_key(const uint8_t *spki, size_t len, const uint8_t *sig, size_t siglen)
{
	struct pubkey *k = NULL;

	/* Were the keys or signatures wrong, only rejection would be run. */
	if (pubkey_from_spki(spki, len, &k) != RK_OK ||
	    crypto_verify(k, msg, sizeof(msg), sig, siglen) != RK_OK)
		abort();
	return k;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ed_key = fixed_key(ed_spki, sizeof(ed_spki), ed_sig, sizeof(ed_sig));
	ec_key = fixed_key(ec_spki, sizeof(ec_spki), ec_sig, sizeof(ec_sig));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	struct privkey *k = NULL;
	uint8_t *der = NULL;
	char *pem = NULL;
	size_t pem_len = 0, der_len = 0, pos = 0;

	if (size == 0)
		data = empty; /* libFuzzer's pointer need not be usable */
	if (privkey_from_pem((const char *)data, size, &k) == RK_OK) {
		/* The block privkey_from_pem read, to check its shape. */
		if (pem_next((const char *)data, size, &pos, "PRIVATE KEY",
			NULL, &der, &der_len) != RK_OK)
			abort();
		check_privkey(k, der, der_len);
		privkey_free(k);
		k = NULL;
		explicit_bzero(der, der_len);
		free(der);
	}
	if (pem_encode("PRIVATE KEY", data, size, &pem, &pem_len) == RK_OK) {
		if (privkey_from_pem(pem, pem_len, &k) == RK_OK) {
			check_privkey(k, data, size);
			privkey_free(k);
		}
		explicit_bzero(pem, pem_len);
		free(pem);
	}
	check_spki(data, size);
	check_pubkey_pem((const char *)data, size);
	check_sig(data, size);
	return 0;
}
