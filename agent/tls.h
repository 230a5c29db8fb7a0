/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS with a given trust set, through wolfSSL: the one module of the
 * agent that includes wolfSSL's TLS API.  It builds client contexts that
 * trust exactly a set of DER roots, verify the peer and its host name,
 * and enforce what a PEM file cannot say: distrust of a root for leaves
 * issued after a date, and validity judged against the time floor when
 * the system clock is behind it.  It serves both the anti-lockout probes
 * (policy step 8) and librootkeeper.  It knows nothing of the store.
 */
#ifndef RK_TLS_H
#define RK_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

/* A root trusted only for leaves whose notBefore is at or before after. */
struct tls_after {
	uint8_t sha256[CRYPTO_SHA256_LEN];
	int64_t after;
};

/* What the caller already knows of a root (the store keeps it). */
struct tls_known {
	const uint8_t *sha256; /* CRYPTO_SHA256_LEN bytes, of the DER */
	const char *subject;
	int64_t not_before;
	int64_t not_after;
};

/* What a TLS client trusts; all borrowed, must outlive its use. */
struct tls_trust {
	const uint8_t *const *der; /* root certificates */
	const size_t *len;
	size_t n;
	const struct tls_after *after; /* partial distrust */
	size_t n_after;
	int64_t floor; /* time floor; 0: none */
};

/*
 * The trust set of n roots (der[i], len[i] bytes each) with n_after
 * partial-distrust entries and the time floor (0: none): the one way a
 * struct tls_trust is built.  Everything stays borrowed.
 */
static inline struct tls_trust
tls_trust_make(const uint8_t *const *der, const size_t *len, size_t n,
    const struct tls_after *after, size_t n_after, int64_t floor)
{
	struct tls_trust t = {.der = der,
	    .len = len,
	    .n = n,
	    .after = after,
	    .n_after = n_after,
	    .floor = floor};

	return t;
}

/*
 * The root a validated chain ended at: the nearest certificate of the
 * trust set the chain reaches, by signature (an intermediate in the set
 * counts; a root of the same name and another key does not).
 */
struct tls_root {
	uint8_t sha256[CRYPTO_SHA256_LEN];
	char subject[256];
	int64_t not_after;
};

enum tls_probe_result {
	TLS_PROBE_OK,	/* handshake done, chain and name valid */
	TLS_PROBE_CERT, /* the peer's certificate did not validate */
	TLS_PROBE_NET,	/* could not connect or the handshake broke off */
};

struct tls_probe {
	enum tls_probe_result result;
	struct tls_root root;	 /* TLS_PROBE_OK: where the chain ended */
	int have_leaf;		 /* the chain validated up to the leaf */
	int64_t leaf_not_before; /* then: the leaf's notBefore */
	char detail[256];	 /* the reason for CERT or NET */
};

/*
 * The verification state of one WOLFSSL_CTX: what it needs of a trust set
 * (each root's fingerprint, name, key and dates, the partial-distrust
 * dates, the floor), copied, so that the trust set may go once the
 * context is set up.
 */
struct tls_verifier;

/* wolfSSL's types, declared here so that includers need not see wolfSSL. */
struct WOLFSSL_CTX;
struct WOLFSSL_X509_STORE_CTX;

/*
 * An application's verify callback, chained after ours: it gets our
 * verdict as preverify and what it returns decides.
 */
typedef int (*tls_app_verify_fn)(
    int preverify, struct WOLFSSL_X509_STORE_CTX *store, void *arg);

/* Where the chained callback is read at each verification (may change). */
struct tls_hook {
	tls_app_verify_fn fn; /* NULL: none */
	void *arg;
};

/*
 * A trust set's roots made once (fingerprint, name, dates, the partial-
 * distrust date, the floor, where the issuer and subject names are, one
 * copy of all the DER), to be loaded into any number of contexts with
 * tls_ctx_load(), each of which then costs wolfSSL's load of the DER and
 * nothing of ours.  A root's key is read only when a chain being verified
 * names the root as its issuer, once for all contexts and threads; a
 * chain that needs a key that cannot be read is refused.  A root whose
 * names cannot be found (or, when known is NULL, that cannot be parsed)
 * is skipped and counted.  Reference counted: each verifier made from it
 * keeps it alive, so the maker may drop its reference with
 * tls_roots_free() at any time.  known is NULL, or trust->n entries: what
 * crypto_cert_info() gave for each root when it was stored, which saves
 * a parse and a hash per root: with it no root is parsed here at all.
 * RK_EINVAL for bad arguments, RK_ENOMEM.
 */
struct tls_roots;

int tls_roots_new(const struct tls_trust *trust, const struct tls_known *known,
    struct tls_roots **out) RK_WUR;

/* Drops the maker's reference; NULL is fine. */
void tls_roots_free(struct tls_roots *rs);

/*
 * tls_ctx_setup() from roots made once: the same checks, contract and
 * errors.  Takes its own reference to rs for *out.
 */
int tls_ctx_load(struct WOLFSSL_CTX *ctx, struct tls_roots *rs,
    const struct tls_hook *hook, struct tls_verifier **out) RK_WUR;

/*
 * Makes ctx a client context that checks peers against trust: loads each
 * root (a root wolfSSL refuses is skipped and counted, so that one odd
 * certificate cannot take TLS away from the device; roots are loaded
 * whatever their dates, which the callback judges), turns on
 * WOLFSSL_VERIFY_PEER with the verify callback and attaches the state to
 * ctx.  Besides wolfSSL's own checks the callback refuses a chain that
 * reaches a root with a tls_after entry when the leaf's notBefore is
 * later (any root the chain reaches, so that a second path cannot hide
 * the distrusted one), and a chain whose roots are all out of their own
 * dates; when the system clock is behind trust->floor it judges dates at
 * the floor instead of now, forgiving a date error only for a certificate
 * valid then that passes every other check of wolfSSL's.  CAs already in
 * ctx stay.  hook (may be NULL) is borrowed and must outlive ctx.  *out
 * must outlive every connection made with ctx; free it with
 * tls_verifier_free() once ctx is freed.  RK_EINVAL for bad arguments
 * (ctx untouched), RK_ECRYPTO when wolfSSL fails (no ex_data index left),
 * RK_ENOMEM; after these two ctx refuses every peer.
 */
int tls_ctx_setup(struct WOLFSSL_CTX *ctx, const struct tls_trust *trust,
    const struct tls_hook *hook, struct tls_verifier **out) RK_WUR;

/* How many roots wolfSSL refused to load. */
size_t tls_verifier_skipped(const struct tls_verifier *v);

/* NULL is fine. */
void tls_verifier_free(struct tls_verifier *v);

/*
 * One TLS handshake (TLS 1.2 or 1.3) to host:port trusting exactly trust,
 * with the checks of tls_ctx_setup().  host is a name (resolved, sent as
 * SNI and checked against the certificate) or an IPv4 or IPv6 literal
 * (no SNI; the certificate must name that address in an IP
 * subjectAltName).  Fills *out; returns RK_OK whenever a result was
 * reached (also CERT and NET), RK_EINVAL for bad arguments, RK_ENOMEM or
 * RK_ECRYPTO when it could not try.  timeout_s (> 0) bounds connect plus
 * handshake.  CERT means the certificate did not validate; anything else
 * that keeps the handshake from completing (no address, refused, reset,
 * timeout, not TLS) is NET.
 */
int tls_probe(const char *host, unsigned port, const struct tls_trust *trust,
    int timeout_s, struct tls_probe *out) RK_WUR;

#endif
