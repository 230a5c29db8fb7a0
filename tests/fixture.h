/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the cmocka suites of bundles, policy and agent share: the committed
 * test PKI of data/ (made by data/make-test-pki.sh) loaded once per group,
 * and bundles built and signed in memory with the project's own API, as
 * rootkeeper-sign would.  Every failure here fails the running test
 * (cmocka's assert and fail_msg): the helpers return only what worked.
 * It holds no policy and no expectation: each suite's defaults (the times,
 * the channel, the pins) and all its checks stay in the suite.  The index
 * names (ROOT_A, ED1, ...) are short on purpose: tests use them on every
 * line.
 */
#ifndef RK_TEST_FIXTURE_H
#define RK_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "crypto.h"
#include "keys.h"

/* Relative to tests/, the folder every suite runs in. */
#define FIXTURE_DATA_DIR "data/"

/* SET(s, certs, ROOT_A, ROOT_B) sets s.certs and s.ncerts. */
#define SET(s, f, ...)                                                         \
	((s).f = (const int[]){__VA_ARGS__},                                   \
	    (s).n##f = sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

/* data/<name>.pem certificates, data/<name>.key (and .pub) keys. */
enum cert_ix { ROOT_A, ROOT_B, LEAF, ROOT_V1, ROOT_EXPIRED, NCERT };
enum key_ix { ED1, ED2, ED3, EC1, EC2, NKEY };

struct pki {
	uint8_t *cert[NCERT]; /* DER */
	size_t cert_len[NCERT];
	uint8_t cert_sha[NCERT][CRYPTO_SHA256_LEN];
	struct privkey *key[NKEY];
	struct pubkey *pub[NKEY]; /* the public half of key[] */
};

/* What a test bundle is made of; each suite's spec() fills the defaults. */
struct spec {
	const char *channel;
	uint64_t version;
	int64_t issued_at;
	int64_t expires_at;
	const int *certs;
	size_t ncerts;
	const int *signers;
	size_t nsigners;
	const int *next; /* next_keys, by key index */
	size_t nnext;
	unsigned next_threshold;
	const int *distrust; /* fully distrusted, by cert index */
	size_t ndistrust;
	const int *lift; /* lifted, by cert index, after the distrusted */
	size_t nlift;
	unsigned rollout_percent; /* 0: no rollout */
	const char *rollout_seed;
	const char *note;	  /* other bytes, same meaning */
	const char *raw_manifest; /* used as is when set */
};

/*
 * The whole of path, at most max bytes, NUL-terminated; the caller frees
 * it.  Fails the test when the file cannot be read.
 */
uint8_t *fixture_read(const char *path, size_t max, size_t *len);

/* "key-ed1" for ED1: the file names of the keys in data/, no suffix. */
extern const char *const fixture_key_names[NKEY];

/*
 * A cmocka group setup: loads every certificate (DER and SHA-256) and key
 * (with its public half) of data/ into a struct pki in *state.  Fails the
 * test on a missing or unreadable file, leaving in *state what it loaded
 * for the teardown; -1 when out of memory.
 */
int fixture_pki_setup(void **state);

/* The group teardown: frees what fixture_pki_setup() put in *state, if any. */
int fixture_pki_teardown(void **state);

/* Adds to b the signature of key k over bundle_message(), as signing does. */
void fixture_sign(const struct pki *p, struct bundle *b, int k);

/*
 * The file bytes of a bundle of the manifest bytes man (used as they are),
 * the certificates certs (at most 16) in that order, signed by signers in
 * that order.  The caller frees the result.
 */
uint8_t *fixture_build(const struct pki *p, const uint8_t *man, size_t man_len,
    const int *certs, size_t ncerts, const int *signers, size_t nsigners,
    size_t *len);

/*
 * The file bytes of the bundle s describes: its manifest encoded by
 * manifest_encode() (or s->raw_manifest as is), then fixture_build().  At
 * most 8 next keys and 8 distrusted certificates.  The caller frees the
 * result.
 */
uint8_t *fixture_make(const struct pki *p, const struct spec *s, size_t *len);

#endif
