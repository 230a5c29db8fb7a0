/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS with a given trust set, through wolfSSL (see tls.h).  Debian's
 * wolfSSL verifies nothing unless told to, and a PEM file cannot say "only
 * for leaves issued before T", so what matters lives in one verify
 * callback: wolfSSL, built with WOLFSSL_ALWAYS_VERIFY_CB and
 * WOLFSSL_VERIFY_CB_ALL_CERTS, calls it for every certificate the peer
 * sent, the leaf last, also when the chain validated.  The callback finds
 * its context's state through ex_data, leaving wolfSSL_SetCertCbCtx() to
 * the application; the two ex_data indices, taken once per process, and
 * whether tls_probe()'s one wolfSSL_Init() worked are the only globals.  It
 * walks from the leaf to the root by signature (a name can be copied, a
 * signature cannot), and judges every certificate's dates itself, at the
 * clock or at the time floor when the clock is behind it: wolfSSL's clock
 * may be behind the floor, and a wolfSSL with a 32-bit time_t cannot read
 * a clock past 2038.  It forgives wolfSSL's date error only when the
 * certificate is valid then and passes all of wolfSSL's other checks,
 * because wolfSSL reports a date error in place of an unknown critical
 * extension or a weak key.  No revocation (CRL, OCSP), no connection
 * reuse: a probe is one handshake.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "rfc3339.h"
#include "strcopy.h"
#include "x509name.h"

/*
 * Without these the callback is not called for a chain that validated,
 * and partial distrust would silently not be enforced.
 */
#if !defined(WOLFSSL_ALWAYS_VERIFY_CB) || !defined(WOLFSSL_VERIFY_CB_ALL_CERTS)
#error "wolfSSL needs WOLFSSL_ALWAYS_VERIFY_CB and WOLFSSL_VERIFY_CB_ALL_CERTS"
#endif
#if !defined(HAVE_EX_DATA) || !defined(OPENSSL_EXTRA)
#error "wolfSSL needs HAVE_EX_DATA and OPENSSL_EXTRA"
#endif

#define WALK_MAX 16 /* of the peer's certificates, the most looked at */
/* wolfSSL's default minimum key sizes, in its own units (bytes). */
#define MIN_RSA_KEY_BYTES (1024 / 8)
#define MIN_ECC_KEY_BYTES (224 / 8)

/* A public key as wc_CheckCertSigPubKey() takes it. */
struct key {
	word32 len;
	word32 oid;
	uint8_t bytes[];
};

/*
 * A certificate as the chain walk needs it: its names as DER (pointing
 * into the certificate), compared byte for byte as wolfSSL compares their
 * hashes, and its key.
 */
struct facts {
	struct x509name_raw names;
	struct key *key;
};

/*
 * A root's key is parsed only when a certificate names the root as its
 * issuer, at the first verification that needs it: most roots of a set
 * never sign anything a device sees, and the names alone need no parse.
 * Once set, key is never changed until the roots are freed.
 */
struct root {
	uint8_t sha256[CRYPTO_SHA256_LEN];
	char subject[256];
	int64_t not_before;
	int64_t not_after;
	int has_after;
	int64_t after;
	struct x509name_raw names;
	struct key *key;    /* NULL until needed; set atomically */
	const uint8_t *der; /* in the arena of struct tls_roots */
	size_t len;
};

/*
 * A trust set's roots as the callback needs them, made once and shared by
 * every context loaded from them; immutable once made but for each root's
 * key, freed with the last reference (the maker's and one per verifier).
 * The DER of all roots is one copy in one allocation.
 */
struct tls_roots {
	long refs;
	struct root *roots;
	size_t n;
	size_t skipped; /* could not be read */
	int64_t floor;
	uint8_t *arena;
};

struct tls_verifier {
	struct tls_roots *rs; /* a reference */
	struct root **roots;  /* those of rs that ctx took */
	size_t n;
	size_t skipped;
	int64_t floor;
	const struct tls_hook *hook;
};

/* What one handshake of tls_probe() learns; the callback fills it. */
struct conn {
	int failed;
	char detail[256];
	int have_root;
	struct tls_root root;
	int have_leaf;
	int64_t leaf_not_before;
	size_t ip_len; /* 4 or 16 when the host is an address literal */
	uint8_t ip[16];
};

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int ctx_index = -1;
static int ssl_index = -1;

static void
take_indices(void)
{
	ctx_index = wolfSSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ssl_index = wolfSSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int
indices(void)
{
	if (pthread_once(&index_once, take_indices) != 0)
		return RK_ECRYPTO;
	return ctx_index >= 0 && ssl_index >= 0 ? RK_OK : RK_ECRYPTO;
}

static void
facts_free(struct facts *f)
{
	free(f->key);
	f->key = NULL;
}

/* The key of the certificate der. */
static int
key_of(const uint8_t *der, size_t len, struct key **out)
{
	DecodedCert *dc;
	struct key *k;
	int rc = RK_ECERT;

	if (der == NULL || len == 0 || len > UINT32_MAX)
		return RK_ECERT;
	if ((dc = malloc(sizeof(*dc))) == NULL)
		return RK_ENOMEM;
	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	if (wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL) != 0 ||
	    dc->publicKey == NULL || dc->pubKeySize == 0)
		goto out;
	rc = RK_ENOMEM;
	if ((k = malloc(sizeof(*k) + dc->pubKeySize)) == NULL)
		goto out;
	memcpy(k->bytes, dc->publicKey, dc->pubKeySize);
	k->len = dc->pubKeySize;
	k->oid = dc->keyOID;
	*out = k;
	rc = RK_OK;
out:
	wc_FreeDecodedCert(dc);
	free(dc);
	return rc;
}

/* The names and key of the certificate der, which must outlive out. */
static int
facts_of(const uint8_t *der, size_t len, struct facts *out)
{
	struct facts f;
	int rc;

	memset(&f, 0, sizeof(f));
	if ((rc = key_of(der, len, &f.key)) != RK_OK)
		return rc;
	if (x509name_raw(der, len, &f.names) != RK_OK) {
		facts_free(&f);
		return RK_ECERT;
	}
	*out = f;
	return RK_OK;
}

/* Does the child's issuer name what parent names as its subject? */
static int
names_issuer(
    const struct x509name_raw *child, const struct x509name_raw *parent)
{
	return child->issuer_len == parent->subject_len &&
	       memcmp(child->issuer, parent->subject, parent->subject_len) == 0;
}

/* Did the holder of key k sign child? */
static int
signed_with(const uint8_t *child, size_t len, const struct key *k)
{
	return wc_CheckCertSigPubKey(child, (word32)len, NULL, k->bytes, k->len,
		   (int)k->oid) == 0;
}

/* Did parent sign child (whose facts are cf)?  Names first: it is cheap. */
static int
signed_by(const uint8_t *child, size_t len, const struct facts *cf,
    const struct facts *parent)
{
	return names_issuer(&cf->names, &parent->names) &&
	       signed_with(child, len, parent->key);
}

/*
 * Root r's key, parsed on the first call.  Callbacks of several threads
 * may race here: each parses, one publishes its key, the others free
 * theirs.  RK_ENOMEM, or RK_ECERT when wolfSSL cannot read the key.
 */
static int
root_key(struct root *r, const struct key **out)
{
	struct key *k, *none = NULL;
	int rc;

	if ((k = __atomic_load_n(&r->key, __ATOMIC_ACQUIRE)) == NULL) {
		if ((rc = key_of(r->der, r->len, &k)) != RK_OK)
			return rc;
		if (!__atomic_compare_exchange_n(&r->key, &none, k, 0,
			__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			free(k);
			k = none;
		}
	}
	*out = k;
	return RK_OK;
}

/*
 * Did root r sign child (whose names are cn)?  *yes says.  RK_ENOMEM or
 * RK_ECERT when r's key cannot be had: the caller cannot tell where the
 * chain ends and must refuse it.
 */
static int
root_signed(const uint8_t *child, size_t len, const struct x509name_raw *cn,
    struct root *r, int *yes)
{
	const struct key *k;
	int rc;

	*yes = 0;
	if (!names_issuer(cn, &r->names))
		return RK_OK;
	if ((rc = root_key(r, &k)) != RK_OK)
		return rc;
	*yes = signed_with(child, len, k);
	return RK_OK;
}

void
tls_roots_free(struct tls_roots *rs)
{
	size_t i;

	if (rs == NULL ||
	    __atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (i = 0; i < rs->n; i++)
		free(rs->roots[i].key);
	free(rs->roots);
	free(rs->arena);
	free(rs);
}

void
tls_verifier_free(struct tls_verifier *v)
{
	if (v == NULL)
		return;
	tls_roots_free(v->rs);
	free(v->roots);
	free(v);
}

size_t
tls_verifier_skipped(const struct tls_verifier *v)
{
	return v->skipped;
}

/* The earliest date of the after list for this root, if any. */
static void
root_after(const struct tls_trust *t, struct root *r)
{
	size_t i;

	for (i = 0; i < t->n_after; i++) {
		if (memcmp(t->after[i].sha256, r->sha256, CRYPTO_SHA256_LEN))
			continue;
		if (!r->has_after || t->after[i].after < r->after)
			r->after = t->after[i].after;
		r->has_after = 1;
	}
}

static int
trust_ok(const struct tls_trust *trust)
{
	return trust != NULL &&
	       (trust->n == 0 || (trust->der != NULL && trust->len != NULL)) &&
	       (trust->n_after == 0 || trust->after != NULL);
}

int
tls_roots_new(const struct tls_trust *trust, const struct tls_known *known,
    struct tls_roots **out)
{
	struct tls_roots *rs = NULL;
	struct certinfo ci;
	size_t i, total = 0, used = 0;
	int rc;

	if (!trust_ok(trust) || out == NULL)
		return RK_EINVAL;
	for (i = 0; i < trust->n; i++) {
		if (known != NULL &&
		    (known[i].sha256 == NULL || known[i].subject == NULL))
			return RK_EINVAL;
		if (trust->len[i] > SIZE_MAX - total)
			return RK_EINVAL;
		total += trust->len[i];
	}
	rc = RK_ENOMEM;
	if ((rs = calloc(1, sizeof(*rs))) == NULL ||
	    (rs->roots = calloc(trust->n + 1, sizeof(*rs->roots))) == NULL ||
	    (rs->arena = malloc(total + 1)) == NULL)
		goto fail;
	rs->refs = 1;
	rs->floor = trust->floor;
	for (i = 0; i < trust->n; i++) {
		struct root *r = &rs->roots[rs->n];
		const uint8_t *der = trust->der[i];
		size_t len = trust->len[i];

		if (known != NULL) {
			const struct tls_known *k = &known[i];

			memcpy(ci.sha256, k->sha256, CRYPTO_SHA256_LEN);
			str_copy(ci.subject, sizeof(ci.subject), k->subject);
			ci.not_before = k->not_before;
			ci.not_after = k->not_after;
		} else if (len > INT32_MAX ||
			   crypto_cert_info(der, len, &ci) != RK_OK) {
			rs->skipped++;
			continue;
		}
		/* The names point into the copy, which lives as long as r. */
		memcpy(rs->arena + used, der, len);
		r->der = rs->arena + used;
		r->len = len;
		if (len == 0 || len > INT32_MAX ||
		    x509name_raw(r->der, len, &r->names) != RK_OK) {
			rs->skipped++;
			continue;
		}
		used += len;
		rs->n++;
		memcpy(r->sha256, ci.sha256, CRYPTO_SHA256_LEN);
		memcpy(r->subject, ci.subject, sizeof(r->subject));
		r->not_before = ci.not_before;
		r->not_after = ci.not_after;
		root_after(trust, r);
	}
	*out = rs;
	return RK_OK;
fail:
	tls_roots_free(rs);
	return rc;
}

static int verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store);

static int
refuse_all(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	(void)preverify;
	(void)store;
	return 0;
}

int
tls_ctx_load(struct WOLFSSL_CTX *ctx, struct tls_roots *rs,
    const struct tls_hook *hook, struct tls_verifier **out)
{
	struct tls_verifier *v = NULL;
	size_t i;
	int rc;

	if (ctx == NULL || rs == NULL || out == NULL)
		return RK_EINVAL;
	if ((rc = indices()) != RK_OK)
		goto fail;
	rc = RK_ENOMEM;
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->roots = calloc(rs->n + 1, sizeof(*v->roots))) == NULL) {
		free(v);
		v = NULL;
		goto fail;
	}
	__atomic_add_fetch(&rs->refs, 1, __ATOMIC_RELAXED);
	v->rs = rs;
	v->floor = rs->floor;
	v->hook = hook;
	v->skipped = rs->skipped;
	for (i = 0; i < rs->n; i++) {
		struct root *r = &rs->roots[i];

		/*
		 * Dates are the callback's business: a device whose clock
		 * is behind would otherwise load no root at all.
		 */
		if (wolfSSL_CTX_load_verify_buffer_ex(ctx, r->der, (long)r->len,
			WOLFSSL_FILETYPE_ASN1, 0,
			WOLFSSL_LOAD_FLAG_DATE_ERR_OKAY) != WOLFSSL_SUCCESS) {
			v->skipped++;
			continue;
		}
		v->roots[v->n++] = r;
	}
	rc = RK_ECRYPTO;
	if (wolfSSL_CTX_set_ex_data(ctx, ctx_index, v) != WOLFSSL_SUCCESS)
		goto fail;
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, verify_cb);
	*out = v;
	return RK_OK;
fail:
	/* Half a setup must not leave a context that verifies nothing. */
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, refuse_all);
	tls_verifier_free(v);
	return rc;
}

int
tls_ctx_setup(struct WOLFSSL_CTX *ctx, const struct tls_trust *trust,
    const struct tls_hook *hook, struct tls_verifier **out)
{
	struct tls_roots *rs = NULL;
	int rc;

	if (ctx == NULL || !trust_ok(trust) || out == NULL)
		return RK_EINVAL;
	if ((rc = tls_roots_new(trust, NULL, &rs)) != RK_OK) {
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, refuse_all);
		return rc;
	}
	rc = tls_ctx_load(ctx, rs, hook, out);
	tls_roots_free(rs);
	return rc;
}

/* ---- the verify callback ------------------------------------------ */

static int
is_date_error(int err)
{
	return err == X509_V_ERR_CERT_NOT_YET_VALID ||
	       err == X509_V_ERR_CERT_HAS_EXPIRED ||
	       err == X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD ||
	       err == X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD ||
	       err == ASN_BEFORE_DATE_E || err == ASN_AFTER_DATE_E;
}

static void conn_fail(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the first reason a handshake of tls_probe() was refused. */
static void
conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c == NULL || c->failed)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/*
 * wolfSSL found the certificate at depth outside its dates, by its clock:
 * is it valid at `at` (the clock, or the floor when the clock is behind
 * it), and does it pass every other check of wolfSSL's there?  A date
 * error hides an unknown critical extension (ParseCertRelative reports the
 * date first) and, above the leaf, the key-size check, so both are
 * redone: the certificate is parsed again against ctx's CAs with only the
 * date check skipped.  why gets the reason when it is not.
 */
static int
valid_at(WOLFSSL_CTX *ctx, const uint8_t *der, size_t len, int64_t at,
    char *why, size_t cap)
{
	char t[RFC3339_LEN + 1];
	struct certinfo ci;
	DecodedCert *dc;
	int ok = 0;

	snprintf(why, cap, "it cannot be parsed");
	if (len == 0 || len > INT32_MAX ||
	    crypto_cert_info(der, len, &ci) != RK_OK)
		return 0;
	if (ci.not_before > at || ci.not_after < at) {
		rfc3339_show(
		    ci.not_before > at ? ci.not_before : ci.not_after, t);
		snprintf(why, cap, "%s %s",
		    ci.not_before > at ? "it is not valid before"
				       : "it expired at",
		    t);
		return 0;
	}
	snprintf(why, cap, "out of memory");
	if ((dc = malloc(sizeof(*dc))) == NULL)
		return 0;
	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	snprintf(why, cap, "it fails wolfSSL's other checks");
	if (wc_ParseCert(dc, CERT_TYPE, VERIFY_SKIP_DATE,
		wolfSSL_CTX_GetCertManager(ctx)) == 0) {
		snprintf(why, cap, "its key is too small");
		if (dc->keyOID == RSAk)
			ok = dc->pubKeySize >= MIN_RSA_KEY_BYTES;
		else if (dc->keyOID == ECDSAk)
			ok = dc->pubKeySize >= MIN_ECC_KEY_BYTES;
		else
			ok = 1;
	}
	wc_FreeDecodedCert(dc);
	free(dc);
	return ok;
}

/*
 * wolfSSL adds every intermediate it validated to ctx's CAs, which is how
 * the next certificate down finds its issuer, but never one that had an
 * error, even an error the callback forgave.  An intermediate valid at the
 * floor is added here instead, as wolfSSL would have (valid_at() has
 * checked its signature against ctx's CAs).  Without it the leaf would
 * find no issuer.
 */
static void
adopt_ca(WOLFSSL_CTX *ctx, const uint8_t *der, size_t len)
{
	struct certinfo ci;

	if (crypto_cert_info(der, len, &ci) != RK_OK || !ci.is_ca)
		return;
	(void)wolfSSL_CTX_load_verify_buffer_ex(ctx, der, (long)len,
	    WOLFSSL_FILETYPE_ASN1, 0, WOLFSSL_LOAD_FLAG_DATE_ERR_OKAY);
}

/* Would root r be refused for a leaf issued at leaf_nb? */
static int
refuses(const struct root *r, int64_t leaf_nb)
{
	return r->has_after && leaf_nb > r->after;
}

/* A certificate that may stand between the leaf and a root. */
struct cand {
	const uint8_t *der;
	size_t len;
	struct facts f;
	int seen;
};

/* Where the chain may end, for check_chain(). */
struct reach {
	uint8_t *root; /* v->n flags: this root of ours is reachable */
	long nearest;  /* the first reached, breadth first; -1: none */
};

/*
 * Breadth first from the leaf (c[0]) through the candidates, each step by
 * signature, marking every root of ours that is a candidate reached or
 * signed one.  All paths, not one: wolfSSL does not say which it took,
 * and when the peer sends two (an intermediate and a cross-signed copy of
 * it), a distrusted root at the end of one must not hide behind the
 * other: revocation beats availability.
 */
static int
search(
    const struct tls_verifier *v, struct cand *c, size_t n, struct reach *out)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	size_t *queue, head = 0, tail = 0, i;
	int rc, yes;

	if ((queue = calloc(n + 1, sizeof(*queue))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < n; i++)
		c[i].seen = 0;
	memset(out->root, 0, v->n + 1);
	out->nearest = -1;
	queue[tail++] = 0;
	c[0].seen = 1;
	while (head < tail) {
		struct cand *cur = &c[queue[head++]];

		if (crypto_sha256(cur->der, cur->len, NULL, 0, sha) != RK_OK) {
			free(queue);
			return RK_ECRYPTO;
		}
		for (i = 0; i < v->n; i++) {
			if (memcmp(sha, v->roots[i]->sha256,
				CRYPTO_SHA256_LEN) != 0) {
				if ((rc = root_signed(cur->der, cur->len,
					 &cur->f.names, v->roots[i], &yes)) !=
				    RK_OK) {
					free(queue);
					return rc;
				}
				if (!yes)
					continue;
			}
			out->root[i] = 1;
			if (out->nearest < 0)
				out->nearest = (long)i;
		}
		for (i = 0; i < n; i++) {
			if (c[i].seen ||
			    !signed_by(cur->der, cur->len, &cur->f, &c[i].f))
				continue;
			c[i].seen = 1;
			queue[tail++] = i;
		}
	}
	free(queue);
	return RK_OK;
}

/*
 * Extends the reached roots upward through our own roots (a set may hold
 * an intermediate or a cross-signed root as well as the root above it),
 * and sets *hit to one that refuses a leaf issued at leaf_nb, or -1.
 * RK_ENOMEM, or RK_ECERT when a root's key cannot be read.
 */
static int
refusing(
    const struct tls_verifier *v, struct reach *re, int64_t leaf_nb, long *hit)
{
	size_t *queue, head = 0, tail = 0, i;
	int rc = RK_OK, yes;

	*hit = -1;
	if ((queue = calloc(v->n + 1, sizeof(*queue))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < v->n; i++)
		if (re->root[i])
			queue[tail++] = i;
	while (head < tail && rc == RK_OK) {
		const struct root *cur = v->roots[queue[head++]];

		for (i = 0; i < v->n && rc == RK_OK; i++) {
			if (re->root[i] ||
			    (rc = root_signed(cur->der, cur->len, &cur->names,
				 v->roots[i], &yes)) != RK_OK ||
			    !yes)
				continue;
			re->root[i] = 1;
			queue[tail++] = i;
		}
	}
	for (i = 0; rc == RK_OK && i < v->n && *hit < 0; i++)
		if (re->root[i] && refuses(v->roots[i], leaf_nb))
			*hit = (long)i;
	free(queue);
	return rc;
}

static void
cands_free(struct cand *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++)
		facts_free(&c[i].f);
	free(c);
}

/*
 * The candidates: what the peer sent, then, with cm, the CAs wolfSSL keeps
 * in ctx but for our own roots.  wolfSSL caches every intermediate it
 * validates there, and a later peer may leave it out.
 */
static int
cands_load(const struct tls_verifier *v, WOLFSSL_CTX *ctx,
    const WOLFSSL_BUFFER_INFO *certs, int ncerts, int cm, WOLFSSL_STACK **sk,
    struct cand **out, size_t *n)
{
	uint8_t sha[CRYPTO_SHA256_LEN];
	struct cand *c;
	WOLFSSL_X509 *x;
	const unsigned char *d;
	size_t k = 0, i, cap;
	int j, nsk = 0, sz, rc;

	*sk = NULL;
	if (cm && (*sk = wolfSSL_CertManagerGetCerts(
		       wolfSSL_CTX_GetCertManager(ctx))) != NULL)
		nsk = wolfSSL_sk_X509_num(*sk);
	cap = (size_t)ncerts + (nsk > 0 ? (size_t)nsk : 0) + 1;
	if ((c = calloc(cap, sizeof(*c))) == NULL)
		return RK_ENOMEM;
	for (j = 0; j < ncerts && j < WALK_MAX; j++) {
		c[k].der = certs[j].buffer;
		c[k].len = certs[j].length;
		if ((rc = facts_of(c[k].der, c[k].len, &c[k].f)) == RK_OK)
			k++;
		else if (rc == RK_ENOMEM || j == 0)
			goto fail; /* the leaf must parse */
	}
	for (j = 0; j < nsk; j++) {
		if ((x = wolfSSL_sk_X509_value(*sk, j)) == NULL ||
		    (d = wolfSSL_X509_get_der(x, &sz)) == NULL || sz <= 0)
			continue;
		if ((rc = crypto_sha256(d, (size_t)sz, NULL, 0, sha)) != RK_OK)
			goto fail;
		for (i = 0; i < v->n; i++)
			if (memcmp(sha, v->roots[i]->sha256,
				CRYPTO_SHA256_LEN) == 0)
				break;
		if (i < v->n)
			continue; /* ours: search() looks at those anyway */
		c[k].der = d;
		c[k].len = (size_t)sz;
		if ((rc = facts_of(d, (size_t)sz, &c[k].f)) == RK_OK)
			k++;
		else if (rc == RK_ENOMEM)
			goto fail;
	}
	*out = c;
	*n = k;
	return RK_OK;
fail:
	cands_free(c, k);
	if (*sk != NULL)
		wolfSSL_sk_X509_pop_free(*sk, NULL);
	*sk = NULL;
	return rc == RK_OK ? RK_ECERT : rc;
}

/*
 * Which of our roots the validated chain ends at: those the peer's
 * certificates lead to (the chain as sent decides, as with a cross-signed
 * intermediate that leads to another root of the set), or, when they lead
 * to none because the peer left intermediates out, those reached through
 * the CAs wolfSSL keeps in ctx (where it caches every intermediate it
 * validated, and found the missing ones).
 */
static int
find_roots(const struct tls_verifier *v, WOLFSSL_CTX *ctx,
    const WOLFSSL_BUFFER_INFO *certs, int ncerts, struct reach *out)
{
	WOLFSSL_STACK *sk = NULL;
	struct cand *c = NULL;
	size_t n = 0;
	int rc;

	if ((rc = cands_load(v, ctx, certs, ncerts, 0, &sk, &c, &n)) != RK_OK)
		return rc;
	rc = search(v, c, n, out);
	if (rc == RK_OK && out->nearest < 0) {
		cands_free(c, n);
		c = NULL;
		n = 0;
		if ((rc = cands_load(v, ctx, certs, ncerts, 1, &sk, &c, &n)) ==
		    RK_OK)
			rc = search(v, c, n, out);
	}
	cands_free(c, n);
	if (sk != NULL)
		wolfSSL_sk_X509_pop_free(sk, NULL);
	return rc;
}

/* Does the leaf name the address c->ip in its subjectAltName? */
static int
leaf_has_ip(const struct conn *c, const uint8_t *der, size_t len)
{
	DecodedCert *dc;
	DNS_entry *e;
	int hit = 0;

	if ((dc = malloc(sizeof(*dc))) == NULL)
		return 0;
	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	if (wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL) == 0)
		for (e = dc->altNames; e != NULL && !hit; e = e->next)
			hit = e->type == ASN_IP_TYPE && e->len >= 0 &&
			      (size_t)e->len == c->ip_len &&
			      memcmp(e->name, c->ip, c->ip_len) == 0;
	wc_FreeDecodedCert(dc);
	free(dc);
	return hit;
}

/*
 * The checks of a chain wolfSSL validated, at the leaf: which root it
 * ends at, partial distrust, the root's own dates, and (for tls_probe)
 * the address of an address-literal host.  1: accept.
 */
static int
check_chain(const struct tls_verifier *v, WOLFSSL_CTX *ctx,
    WOLFSSL_X509_STORE_CTX *store, struct conn *c)
{
	char t1[RFC3339_LEN + 1], t2[RFC3339_LEN + 1];
	struct certinfo leaf;
	struct reach re;
	const struct root *r;
	int64_t now = (int64_t)time(NULL), at;
	size_t i;
	long hit;
	int err;

	if (store->certs == NULL || store->totalCerts < 1 ||
	    store->certs[0].buffer == NULL ||
	    crypto_cert_info(store->certs[0].buffer, store->certs[0].length,
		&leaf) != RK_OK) {
		conn_fail(c, "cannot read the peer's certificate");
		return 0;
	}
	if (c != NULL) {
		c->have_leaf = 1;
		c->leaf_not_before = leaf.not_before;
		if (c->ip_len > 0 && !leaf_has_ip(c, store->certs[0].buffer,
					 store->certs[0].length)) {
			conn_fail(c,
			    "the certificate of \"%s\" does not name "
			    "this address in its subjectAltName",
			    leaf.subject);
			return 0;
		}
	}
	if ((re.root = calloc(v->n + 1, 1)) == NULL ||
	    find_roots(v, ctx, store->certs, store->totalCerts, &re) != RK_OK) {
		free(re.root);
		conn_fail(c,
		    "cannot tell which root the chain of \"%s\" ends at",
		    leaf.subject);
		return 0;
	}
	if (re.nearest < 0) {
		/* A CA the application put in ctx: none of ours to enforce. */
		free(re.root);
		return 1;
	}
	err = refusing(v, &re, leaf.not_before, &hit);
	if (err != RK_OK || hit >= 0) {
		free(re.root);
		if (err != RK_OK) {
			conn_fail(c, "%s",
			    err == RK_ENOMEM ? "out of memory"
					     : "cannot read the key of a root "
					       "of the set");
			return 0;
		}
		r = v->roots[hit];
		rfc3339_show(r->after, t1);
		rfc3339_show(leaf.not_before, t2);
		conn_fail(c,
		    "root \"%s\" is distrusted for leaves issued after %s "
		    "(leaf issued %s)",
		    r->subject, t1, t2);
		return 0;
	}
	/*
	 * wolfSSL does not look at the dates of a root it did not get from
	 * the peer; OpenSSL does, and so do we: the nearest root reached
	 * that is valid now (or at the floor, the clock being behind it).
	 */
	at = now < v->floor ? v->floor : now;
	r = v->roots[re.nearest];
	for (i = 0; i < v->n; i++)
		if (re.root[i] && at >= v->roots[i]->not_before &&
		    at <= v->roots[i]->not_after)
			break;
	free(re.root);
	if (i == v->n) {
		rfc3339_show(
		    at < r->not_before ? r->not_before : r->not_after, t1);
		conn_fail(c, "root \"%s\" %s %s", r->subject,
		    at < r->not_before ? "is not valid before" : "expired at",
		    t1);
		return 0;
	}
	if (!(at >= r->not_before && at <= r->not_after))
		r = v->roots[i];
	if (c != NULL) {
		c->have_root = 1;
		memcpy(c->root.sha256, r->sha256, CRYPTO_SHA256_LEN);
		memcpy(c->root.subject, r->subject, sizeof(c->root.subject));
		c->root.not_after = r->not_after;
	}
	return 1;
}

static const char *
x509_reason(int err)
{
	static const char *const t[] = {
	    [X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT] = "unable to get issuer",
	    [X509_V_ERR_CERT_SIGNATURE_FAILURE] = "bad signature",
	    [X509_V_ERR_CERT_NOT_YET_VALID] = "not yet valid",
	    [X509_V_ERR_CERT_HAS_EXPIRED] = "expired",
	    [X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD] =
		"not yet valid (before its notBefore)",
	    [X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD] =
		"expired (after its notAfter)",
	    [X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT] = "self-signed",
	    [X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN] =
		"self-signed certificate in the chain",
	    [X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY] =
		"no trusted root or intermediate issued it",
	    [X509_V_ERR_CERT_CHAIN_TOO_LONG] = "chain too long",
	    [X509_V_ERR_INVALID_CA] = "invalid CA",
	    [X509_V_ERR_PATH_LENGTH_EXCEEDED] = "path length exceeded",
	    [X509_V_ERR_CERT_REJECTED] = "rejected",
	};

	if (err > 0 && (size_t)err < sizeof(t) / sizeof(t[0]) && t[err] != NULL)
		return t[err];
	return NULL;
}

/* wolfSSL's reason for err: an X509_V_ERR code or a wolfSSL error. */
static void
reason(int err, char *buf, size_t cap)
{
	const char *s = x509_reason(err);

	if (s != NULL)
		snprintf(buf, cap, "%s", s);
	else if (err < 0)
		snprintf(buf, cap, "%s",
		    wolfSSL_ERR_reason_error_string((unsigned long)-err));
	else
		snprintf(buf, cap, "X509 verify error %d", err);
}

static int
verify_cb(int preverify, WOLFSSL_X509_STORE_CTX *store)
{
	const struct tls_verifier *v = NULL;
	WOLFSSL_CTX *ctx = NULL;
	WOLFSSL *ssl;
	struct conn *c = NULL;
	char why[160], redo[256], t[RFC3339_LEN + 1];
	struct certinfo ci;
	int64_t now = (int64_t)time(NULL), at;
	int ok = preverify, forgiven = 0, depth, err, have;

	ssl = wolfSSL_X509_STORE_CTX_get_ex_data(
	    store, wolfSSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL && (ctx = wolfSSL_get_SSL_CTX(ssl)) != NULL)
		v = wolfSSL_CTX_get_ex_data(ctx, ctx_index);
	if (v == NULL)
		return 0; /* our callback without our state: refuse */
	c = wolfSSL_get_ex_data(ssl, ssl_index);
	depth = wolfSSL_X509_STORE_CTX_get_error_depth(store);
	err = wolfSSL_X509_STORE_CTX_get_error(store);
	have = depth >= 0 && depth < store->totalCerts && store->certs != NULL;
	at = now < v->floor ? v->floor : now;
	redo[0] = '\0';

	/*
	 * wolfSSL's dates are judged again with this program's clock: it
	 * may be behind the floor (no RTC), and a wolfSSL with a 32-bit
	 * time_t (Debian's on i386 and armhf) cannot read a clock past
	 * January 2038 and finds every certificate not yet valid.  For the
	 * same reason a certificate it accepted is checked against `at`.
	 */
	if (!ok && is_date_error(err) && have) {
		forgiven = ok = valid_at(ctx, store->certs[depth].buffer,
		    store->certs[depth].length, at, why, sizeof(why));
		if (ok)
			wolfSSL_X509_STORE_CTX_set_error(store, X509_V_OK);
		else if (now < v->floor)
			snprintf(redo, sizeof(redo),
			    "; judged at the time floor (the clock is behind "
			    "it), %s",
			    why);
		else {
			rfc3339_show(at, t);
			snprintf(
			    redo, sizeof(redo), "; judged at %s, %s", t, why);
		}
	} else if (ok && have &&
		   crypto_cert_info(store->certs[depth].buffer,
		       store->certs[depth].length, &ci) == RK_OK &&
		   (ci.not_before > at || ci.not_after < at)) {
		ok = 0;
		err = ci.not_before > at ? X509_V_ERR_CERT_NOT_YET_VALID
					 : X509_V_ERR_CERT_HAS_EXPIRED;
		wolfSSL_X509_STORE_CTX_set_error(store, err);
		rfc3339_show(
		    ci.not_before > at ? ci.not_before : ci.not_after, t);
		snprintf(redo, sizeof(redo), " (%s %s)",
		    ci.not_before > at ? "not before" : "at", t);
	}
	if (!ok) {
		reason(err, why, sizeof(why));
		conn_fail(c, "certificate at depth %d: %s%s", depth, why, redo);
	}
	if (ok && depth == 0) {
		ok = check_chain(v, ctx, store, c);
		if (!ok)
			wolfSSL_X509_STORE_CTX_set_error(
			    store, X509_V_ERR_CERT_REJECTED);
	}
	if (v->hook != NULL && v->hook->fn != NULL)
		ok = v->hook->fn(ok, store, v->hook->arg) != 0;
	if (ok && forgiven && depth > 0)
		adopt_ca(ctx, store->certs[depth].buffer,
		    store->certs[depth].length);
	return ok;
}

/* ---- tls_probe ------------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ok;

static void
init_wolfssl(void)
{
	init_ok = wolfSSL_Init() == WOLFSSL_SUCCESS;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
left_ms(int64_t deadline)
{
	int64_t l = deadline - mono_ms();

	return l < 0 ? 0 : l > INT32_MAX ? INT32_MAX : (int)l;
}

static void probe_net(struct tls_probe *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
probe_net(struct tls_probe *out, const char *fmt, ...)
{
	va_list ap;

	out->result = TLS_PROBE_NET;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
}

/*
 * A connected, non-blocking socket to host:port, each address in turn,
 * within the deadline; -1 with the reason in out.
 */
static int
dial(const char *host, unsigned port, int64_t deadline, struct tls_probe *out)
{
	struct addrinfo hints, *res = NULL, *ai;
	char serv[16];
	int fd = -1, e, soerr = 0, last = 0;
	socklen_t sl;
	struct pollfd p;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	if ((e = getaddrinfo(host, serv, &hints, &res)) != 0) {
		probe_net(out, "cannot resolve %s: %s", host,
		    e == EAI_SYSTEM ? strerror(errno) : gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			p.fd = fd;
			p.events = POLLOUT;
			p.revents = 0;
			do
				e = poll(&p, 1, left_ms(deadline));
			while (e < 0 && errno == EINTR);
			if (e == 0) {
				last = ETIMEDOUT;
			} else if (e > 0) {
				sl = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
					&sl) == 0 &&
				    soerr == 0)
					break;
				last = soerr != 0 ? soerr : errno;
			} else {
				last = errno;
			}
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
		if (left_ms(deadline) == 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		probe_net(out, "connect to %s port %u: %s", host, port,
		    last == ETIMEDOUT ? "timed out" : strerror(last));
	return fd;
}

/* Is err wolfSSL's word for a certificate that did not validate? */
static int
cert_error(int err)
{
	return (err <= ASN_PARSE_E && err >= ASN_NAME_INVALID_E) ||
	       err == ASN_SELF_SIGNED_E || err == ASN_PATHLEN_SIZE_E ||
	       err == ASN_PATHLEN_INV_E || err == DOMAIN_NAME_MISMATCH ||
	       err == IPADDR_MISMATCH || err == VERIFY_CERT_ERROR ||
	       err == MAX_CHAIN_ERROR || err == KEYUSE_SIGNATURE_E ||
	       err == KEYUSE_ENCIPHER_E || err == EXTKEYUSE_AUTH_E;
}

/*
 * wolfSSL's text form of an address, as its host-name check compares it
 * with a certificate's IP subjectAltName (IPv6 in full, upper case).
 */
static void
ip_name(const struct conn *c, char *buf, size_t cap)
{
	size_t i, used = 0;
	int n;

	if (c->ip_len == 4) {
		snprintf(buf, cap, "%u.%u.%u.%u", c->ip[0], c->ip[1], c->ip[2],
		    c->ip[3]);
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < 8 && used < cap; i++) {
		n = snprintf(buf + used, cap - used, "%02X%02X%s", c->ip[2 * i],
		    c->ip[2 * i + 1], i < 7 ? ":" : "");
		if (n < 0)
			return;
		used += (size_t)n;
	}
}

/*
 * wolfSSL_connect() on the non-blocking socket until done or the deadline.
 * 1: done; 0: failed, with wolfSSL's error in *err, or 0 there when time
 * ran out.
 */
static int
handshake(WOLFSSL *ssl, int fd, int64_t deadline, int *err)
{
	struct pollfd p;
	int r, e;

	for (;;) {
		if ((r = wolfSSL_connect(ssl)) == WOLFSSL_SUCCESS)
			return 1;
		e = wolfSSL_get_error(ssl, r);
		if (e != WOLFSSL_ERROR_WANT_READ &&
		    e != WOLFSSL_ERROR_WANT_WRITE) {
			*err = e != 0 ? e : FATAL_ERROR;
			return 0;
		}
		p.fd = fd;
		p.events = e == WOLFSSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		p.revents = 0;
		do
			r = poll(&p, 1, left_ms(deadline));
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			*err = r == 0 ? 0 : SOCKET_ERROR_E;
			return 0;
		}
	}
}

/* Why a handshake broke off, in words. */
static void
net_reason(int err, char *buf, size_t cap)
{
	/* wolfSSL_get_error() turns a few errors into OpenSSL's codes. */
	if (err == WOLFSSL_ERROR_SYSCALL || err == WOLFSSL_ERROR_ZERO_RETURN)
		snprintf(buf, cap, "the peer closed the connection");
	else
		reason(err, buf, cap);
}

int
tls_probe(const char *host, unsigned port, const struct tls_trust *trust,
    int timeout_s, struct tls_probe *out)
{
	struct tls_probe res;
	struct tls_verifier *v = NULL;
	struct conn c;
	WOLFSSL_CTX *ctx = NULL;
	WOLFSSL *ssl = NULL;
	char name[64], why[160];
	const char *check = host;
	int64_t deadline;
	int fd = -1, err = 0, rc;

	if (host == NULL || host[0] == '\0' || port == 0 || port > 65535 ||
	    trust == NULL || timeout_s <= 0 || out == NULL)
		return RK_EINVAL;
	memset(&res, 0, sizeof(res));
	memset(&c, 0, sizeof(c));
	deadline = mono_ms() + (int64_t)timeout_s * 1000;
	if (pthread_once(&init_once, init_wolfssl) != 0 || !init_ok)
		return RK_ECRYPTO;
	if (inet_pton(AF_INET, host, c.ip) == 1)
		c.ip_len = 4;
	else if (inet_pton(AF_INET6, host, c.ip) == 1)
		c.ip_len = 16;
	if (c.ip_len > 0) {
		ip_name(&c, name, sizeof(name));
		check = name;
	}

	rc = RK_ECRYPTO;
	if ((ctx = wolfSSL_CTX_new(wolfSSLv23_client_method())) == NULL ||
	    wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS)
		goto out;
	if ((rc = tls_ctx_setup(ctx, trust, NULL, &v)) != RK_OK)
		goto out;
	rc = RK_OK;
	if ((fd = dial(host, port, deadline, &res)) < 0)
		goto done;
	rc = RK_ECRYPTO;
	if ((ssl = wolfSSL_new(ctx)) == NULL ||
	    wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_set_ex_data(ssl, ssl_index, &c) != WOLFSSL_SUCCESS ||
	    wolfSSL_check_domain_name(ssl, check) != WOLFSSL_SUCCESS)
		goto out;
	/* RFC 6066: no address literals in SNI. */
	if (c.ip_len == 0 &&
	    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, host,
		(unsigned short)strlen(host)) != WOLFSSL_SUCCESS)
		goto out;
	/* A peer that closes must not kill the process with SIGPIPE. */
	wolfSSL_SetIOWriteFlags(ssl, MSG_NOSIGNAL);
	rc = RK_OK;
	if (handshake(ssl, fd, deadline, &err)) {
		res.result = TLS_PROBE_OK;
		res.root = c.root;
		if (!c.have_root)
			snprintf(res.detail, sizeof(res.detail),
			    "the chain ends at no root of the set");
		(void)wolfSSL_shutdown(ssl);
	} else if (c.failed) {
		res.result = TLS_PROBE_CERT;
		snprintf(res.detail, sizeof(res.detail), "%s", c.detail);
	} else if (cert_error(err)) {
		res.result = TLS_PROBE_CERT;
		reason(err, why, sizeof(why));
		snprintf(res.detail, sizeof(res.detail), "%s", why);
	} else if (err == 0) {
		probe_net(&res, "TLS handshake with %s port %u timed out", host,
		    port);
	} else {
		net_reason(err, why, sizeof(why));
		probe_net(
		    &res, "TLS handshake with %s port %u: %s", host, port, why);
	}
	res.have_leaf = c.have_leaf;
	res.leaf_not_before = c.leaf_not_before;
done:
	*out = res;
out:
	wolfSSL_free(ssl);
	if (fd >= 0)
		close(fd);
	wolfSSL_CTX_free(ctx);
	tls_verifier_free(v);
	return rc;
}
