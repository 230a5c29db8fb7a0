/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small PKCS#11 client: a signing key that lives in a token (an HSM, a
 * smart card, SoftHSM) and never leaves it.  It loads the module named by
 * the URI with dlopen, finds the token by its label, logs in, and finds,
 * makes or uses one key pair by its CKA_LABEL: CKM_ECDSA over a SHA-256
 * digest (raw r || s out, as PKCS#11 gives it) or CKM_EDDSA (pure
 * Ed25519).  It never asks for a private key's value, and the keys it
 * makes are sensitive and not extractable.  No crypto of its own and no
 * printing: errors come back with a reason that never holds the PIN.
 */
#ifndef RK_TOKEN_H
#define RK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "p11uri.h"

#define TOKEN_PUB_MAX 65 /* an uncompressed P-256 point */
#define TOKEN_SIG_MAX 64 /* raw r || s, or an Ed25519 signature */

struct token;

/*
 * Loads u->module, finds the token labelled u->token and logs in to it
 * with pin[0..pin_len).  RK_EINVAL when the URI has no module-path,
 * RK_EIO when the module cannot be loaded, RK_ENOENT when no token has
 * that label, RK_EKEY for a wrong PIN, RK_ECRYPTO for other failures of
 * the module.  Caller closes *out with token_close().
 */
int token_open(const struct p11uri *u, const char *pin, size_t pin_len,
    struct token **out, struct rk_why *why) RK_WUR;

/*
 * Finds the private key labelled label and the public key of the same
 * label (whose point the caller checks by a signature), and selects the
 * private one for token_sign().  pub gets the raw public key: 65 bytes of
 * uncompressed P-256 point or 32 of Ed25519.  RK_ENOENT when there is no
 * such pair, RK_EEXIST when the label is not unique, RK_EKEY for a key of
 * another kind or curve.
 */
int token_find_key(struct token *t, const char *label, enum crypto_alg *alg,
    uint8_t pub[TOKEN_PUB_MAX], size_t *pub_len, struct rk_why *why) RK_WUR;

/*
 * Makes a key pair labelled label inside the token (private half
 * sensitive, never extractable) and selects it as token_find_key() does.
 * RK_EEXIST when a key of that label is there already, RK_EINVAL when the
 * token cannot make keys of alg.
 */
int token_generate(struct token *t, const char *label, enum crypto_alg alg,
    uint8_t pub[TOKEN_PUB_MAX], size_t *pub_len, struct rk_why *why) RK_WUR;

/*
 * Signs in[0..len) with the selected key: for ECDSA in is the SHA-256
 * digest and sig gets r || s (64 bytes); for Ed25519 in is the message.
 */
int token_sign(struct token *t, const uint8_t *in, size_t len,
    uint8_t sig[TOKEN_SIG_MAX], size_t *sig_len) RK_WUR;

/* Logs out, closes the session and unloads the module; NULL is fine. */
void token_close(struct token *t);

#endif
