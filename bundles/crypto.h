/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verify side of the crypto, and X.509 facts: the one module of
 * bundles/ that includes wolfSSL.  Public keys are SubjectPublicKeyInfo DER
 * (Ed25519, or ECDSA on P-256 with an uncompressed point); a key's id is
 * SHA-256 of that DER.  Nothing here signs or touches a secret: signing is
 * in signing/keys.c and is not linked into the agent.
 */
#ifndef RK_CRYPTO_H
#define RK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SPKI_MAX 91

enum crypto_alg {
	CRYPTO_ED25519 = 1,
	CRYPTO_ECDSA_P256 = 2,
};

struct pubkey;

#define CRYPTO_SHA1_LEN 20

/*
 * SHA-1 of data: only for OpenSSL's subject name hash (x509name.c), which
 * names files and is no security decision.
 */
int crypto_sha1(
    const uint8_t *data, size_t len, uint8_t out[CRYPTO_SHA1_LEN]) RK_WUR;

/* SHA-256 of a || b (b may be NULL with blen 0). */
int crypto_sha256(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    uint8_t out[CRYPTO_SHA256_LEN]) RK_WUR;

/*
 * Parses a SubjectPublicKeyInfo DER of exactly one of the two supported
 * kinds; RK_EKEY for any other key (RSA, P-384, compressed or off-curve
 * points).  Caller frees *out with pubkey_free().
 */
int pubkey_from_spki(
    const uint8_t *der, size_t len, struct pubkey **out) RK_WUR;

/* The same from a "PUBLIC KEY" PEM text (the first such block). */
int pubkey_from_pem(const char *pem, size_t len, struct pubkey **out) RK_WUR;

/*
 * The same from a file: RK_ENOENT or RK_EIO (errno kept) when it cannot
 * be read, RK_EKEY when it holds no usable public key; why names the file
 * and the reason either way.
 */
int pubkey_from_file(
    const char *path, struct pubkey **out, struct rk_why *why) RK_WUR;

/* How many of keys[0..n) are different keys (by key id). */
size_t pubkey_count_distinct(struct pubkey *const *keys, size_t n);

void pubkey_free(struct pubkey *k);

enum crypto_alg pubkey_alg(const struct pubkey *k);

/* SHA-256 of the SPKI DER: 32 bytes owned by k. */
const uint8_t *pubkey_id(const struct pubkey *k);

/* The SPKI DER, owned by k. */
const uint8_t *pubkey_spki(const struct pubkey *k, size_t *len);

/*
 * Checks sig over msg with k: pure Ed25519 over msg, or ECDSA P-256 over
 * SHA-256(msg) with a strict DER Ecdsa-Sig-Value (minimal lengths and
 * integers, no trailing bytes).  RK_OK when valid, RK_ESIG when not,
 * RK_ECRYPTO when the library failed.
 */
int crypto_verify(const struct pubkey *k, const uint8_t *msg, size_t msglen,
    const uint8_t *sig, size_t siglen) RK_WUR;

/* What the format and the tools need to know of a certificate. */
struct certinfo {
	uint8_t sha256[CRYPTO_SHA256_LEN]; /* of the DER */
	char subject[256];		   /* "/C=US/O=Example/CN=Root" */
	int64_t not_before;		   /* seconds since the epoch */
	int64_t not_after;
	int version;	 /* 1 or 3 as in "X.509 v3" */
	int is_ca;	 /* basicConstraints CA:TRUE */
	int self_signed; /* v1 only: subject == issuer, own key verifies it */
};

/*
 * Parses one X.509 certificate DER (the whole buffer; trailing bytes are
 * RK_ECERT).  Fills *out on success.
 */
int crypto_cert_info(
    const uint8_t *der, size_t len, struct certinfo *out) RK_WUR;

#endif
