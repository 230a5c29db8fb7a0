/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signed bundle, format v1 (FORMAT.md): framing, encoding, signature
 * checks with a threshold of distinct pinned keys, and bundle_open(), which
 * runs every check a bundle must pass on its own in the order the format
 * fixes: framing, then signatures, and only then the manifest and the
 * certificates.  What a device additionally requires (its channel, version
 * order, freshness against its clock) is policy and is not decided here.
 */
#ifndef RK_BUNDLE_H
#define RK_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "manifest.h"

#define BUNDLE_MAGIC "RKB1"
#define BUNDLE_CONTEXT "rootkeeper bundle v1" /* signed with its NUL */
#define BUNDLE_CONTEXT_LEN 21
#define BUNDLE_MAX_MANIFEST 65536u
#define BUNDLE_MAX_CERTS 1024u
#define BUNDLE_MAX_CERT 65535u
#define BUNDLE_MAX_SIGS 16u
#define BUNDLE_ECDSA_MAX_SIG 72u
#define BUNDLE_ED25519_SIG 64u
#define BUNDLE_DEFAULT_MAX_SIZE (4u << 20)

struct bundle_sig {
	uint8_t key_id[CRYPTO_SHA256_LEN];
	uint8_t alg; /* enum crypto_alg */
	uint16_t len;
	const uint8_t *sig; /* owned by the bundle */
};

struct bundle;

/*
 * Parses the framing of buf[0..len): every length is checked against the
 * bytes left before use, trailing bytes are an error.  Does not look inside
 * the manifest, the certificates or the signatures.  The bundle keeps its
 * own copy of the bytes.  Caller frees *out with bundle_free().
 */
int bundle_parse(const uint8_t *buf, size_t len, struct bundle **out,
    struct rk_why *why) RK_WUR;

/*
 * A new unsigned bundle from a manifest and n certificate DERs, with the
 * framing limits checked.  Caller frees with bundle_free().
 */
int bundle_new(const uint8_t *manifest, size_t manifest_len,
    const uint8_t *const *certs, const size_t *cert_lens, size_t n,
    struct bundle **out, struct rk_why *why) RK_WUR;

void bundle_free(struct bundle *b);

/* Borrowed views into the bundle; valid until bundle_free(). */
const uint8_t *bundle_manifest(const struct bundle *b, size_t *len);
size_t bundle_ncerts(const struct bundle *b);
const uint8_t *bundle_cert(const struct bundle *b, size_t i, size_t *len);
size_t bundle_nsigs(const struct bundle *b);
const struct bundle_sig *bundle_sig(const struct bundle *b, size_t i);

/* The exact bytes every signature covers: context string, then region. */
const uint8_t *bundle_message(const struct bundle *b, size_t *len);

/*
 * Appends a signature.  RK_EEXIST when the key id already signed,
 * RK_ELIMIT at BUNDLE_MAX_SIGS, RK_EINVAL for a bad alg or length.
 */
int bundle_add_sig(struct bundle *b, const uint8_t key_id[CRYPTO_SHA256_LEN],
    uint8_t alg, const uint8_t *sig, size_t len) RK_WUR;

/* The file bytes; *out is malloc'ed (caller frees). */
int bundle_encode(const struct bundle *b, uint8_t **out, size_t *len) RK_WUR;

/*
 * Counts the distinct keys among keys[0..nkeys) that have a valid
 * signature on b (a key that signed twice counts once; signatures by keys
 * not listed are ignored).  *valid gets the count; returns RK_OK when it
 * reaches threshold, RK_ESIG otherwise.  threshold 0 is RK_EINVAL.
 */
int bundle_verify_sigs(const struct bundle *b, struct pubkey *const *keys,
    size_t nkeys, unsigned threshold, unsigned *valid,
    struct rk_why *why) RK_WUR;

/*
 * The same, with the verdicts of earlier checks of this bundle: memo (one
 * entry per signature slot, zeroed before the first call) keeps 1 for a
 * slot found valid and -1 for one found not valid by the key its key id
 * names (an id is the SHA-256 of the key's SPKI, so the key and the signed
 * bytes are those of the first check), and a slot is verified only when
 * its entry is 0.  A memo belongs to one bundle: another bundle, or other
 * bytes, need their own.  A library failure (RK_ECRYPTO, RK_ENOMEM) is
 * not kept.  memo NULL is bundle_verify_sigs().
 */
int bundle_verify_sigs_memo(const struct bundle *b, struct pubkey *const *keys,
    size_t nkeys, unsigned threshold, signed char memo[BUNDLE_MAX_SIGS],
    unsigned *valid, struct rk_why *why) RK_WUR;

/*
 * Every check a bundle must pass by itself, in order: framing (size cap
 * max_size), signatures (threshold of the pinned keys), manifest, the
 * certificate set against its distrust list, and, if the manifest names
 * next_keys, a threshold of valid signatures by those too.  On success the
 * caller owns *bundle and *manifest.  On failure the error says which step
 * refused, with the detail in why.
 */
int bundle_open(const uint8_t *buf, size_t len, size_t max_size,
    struct pubkey *const *keys, size_t nkeys, unsigned threshold,
    struct bundle **bundle, struct manifest **manifest,
    struct rk_why *why) RK_WUR;

/*
 * The certificate checks: each cert parses as X.509 and is a CA (or a v1
 * self-signed root), no two are the same, and no cert is also fully
 * distrusted.  infos (may be NULL) gets bundle_ncerts() entries on success.
 */
int bundle_check_certs(const struct bundle *b, const struct manifest *m,
    struct certinfo *infos, struct rk_why *why) RK_WUR;

/*
 * The same, where known (may be NULL) looks a certificate up by its DER
 * among certificates that passed these checks before: when it returns 1
 * with *ci filled (at least sha256, subject and the dates), that
 * certificate is taken as it was learnt, not parsed and hashed again; the
 * duplicate and distrust checks still see every certificate.  known must
 * answer only for the very same bytes.
 */
int bundle_check_certs_known(const struct bundle *b, const struct manifest *m,
    int (*known)(
	void *arg, const uint8_t *der, size_t len, struct certinfo *ci),
    void *arg, struct certinfo *infos, struct rk_why *why) RK_WUR;

#endif
