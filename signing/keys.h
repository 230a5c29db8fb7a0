/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private keys of the signing host: generation, PKCS#8 PEM in and out, and
 * signing.  The only code that holds a secret; it is linked into
 * rootkeeper-sign and never into the agent.  Every buffer that held a
 * secret is wiped before it is freed.  Keys are those openssl makes with
 * `genpkey -algorithm ed25519` and `genpkey -algorithm EC -pkeyopt
 * ec_paramgen_curve:P-256`, and openssl reads the ones made here.
 */
#ifndef RK_KEYS_H
#define RK_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "p11uri.h"

#define KEYS_MAX_SIG 72
/*
 * PBKDF2 rounds of keygen --encrypt: wolfSSL 5.5 writes the count as a
 * two-byte INTEGER, so 32767 is the most it can say (openssl's own default
 * is 2048).
 */
#define KEYS_PBKDF2_ITERATIONS 32767

struct privkey;

/* A fresh key from the system's RNG.  Caller frees with privkey_free(). */
int privkey_generate(enum crypto_alg alg, struct privkey **out) RK_WUR;

/*
 * Reads the first "PRIVATE KEY" (PKCS#8) block of pem.  RK_EKEY for a key
 * of another kind or curve, an encrypted key, or a public key that does
 * not match the private one.  Caller frees with privkey_free().
 */
int privkey_from_pem(const char *pem, size_t len, struct privkey **out) RK_WUR;

/*
 * The same for an "ENCRYPTED PRIVATE KEY" block (PKCS#8 encrypted with
 * PKCS#5 v2, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes it) and its
 * passphrase pass[0..pass_len); pass NULL reads an unencrypted key as
 * privkey_from_pem() does.  RK_EKEY also for a wrong passphrase.
 */
int privkey_from_pem_pass(const char *pem, size_t len, const char *pass,
    size_t pass_len, struct privkey **out) RK_WUR;

/* Does pem hold an "ENCRYPTED PRIVATE KEY" block? */
int privkey_pem_encrypted(const char *pem, size_t len);

/*
 * The key named by u in its PKCS#11 token, logged in with pin[0..pin_len)
 * (see token.h for the errors; why says which, never with the PIN).  The
 * key signs once before it is returned, checked under the token's public
 * key of the same label.  The private key stays in the token: the handle
 * only signs.  Caller frees with privkey_free(), which closes the token.
 */
int privkey_from_token(const struct p11uri *u, const char *pin, size_t pin_len,
    struct privkey **out, struct rk_why *why) RK_WUR;

/*
 * Makes a fresh key pair of alg inside the token of u, labelled
 * u->object; RK_EEXIST when that label is taken.  As privkey_from_token()
 * otherwise.
 */
int privkey_generate_in_token(enum crypto_alg alg, const struct p11uri *u,
    const char *pin, size_t pin_len, struct privkey **out,
    struct rk_why *why) RK_WUR;

/* Is k a handle on a key in a token (which privkey_to_pem() refuses)? */
int privkey_in_token(const struct privkey *k);

/*
 * The key as PKCS#8 PEM (RK_EINVAL for a key in a token).  *pem is malloc'ed
 * and holds a secret: the caller wipes it (explicit_bzero) and frees it.
 */
int privkey_to_pem(const struct privkey *k, char **pem, size_t *len) RK_WUR;

/*
 * The key as an "ENCRYPTED PRIVATE KEY" PEM under pass[0..pass_len)
 * (PKCS#5 v2: PBKDF2 with a random salt, AES-256-CBC), which openssl and
 * privkey_from_pem_pass() read.  RK_EINVAL for a key in a token or an
 * empty passphrase.  *pem is malloc'ed; the caller frees it.
 */
int privkey_to_pem_encrypted(const struct privkey *k, const char *pass,
    size_t pass_len, char **pem, size_t *len) RK_WUR;

/* The public half.  Caller frees *out with pubkey_free(). */
int privkey_public(const struct privkey *k, struct pubkey **out) RK_WUR;

enum crypto_alg privkey_alg(const struct privkey *k);

/*
 * Signs msg as the bundle format wants it (pure Ed25519, or ECDSA P-256
 * over SHA-256(msg) as DER); sig has room for KEYS_MAX_SIG bytes.  The
 * signature is checked against the public key before it is returned.
 */
int privkey_sign(const struct privkey *k, const uint8_t *msg, size_t len,
    uint8_t sig[KEYS_MAX_SIG], size_t *sig_len) RK_WUR;

/* Wipes and frees; NULL is fine. */
void privkey_free(struct privkey *k);

#endif
