/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See fixture.h.  The suites' shared setup only: it checks nothing about
 * the code under test beyond "this step worked", so that a failure here
 * means a broken fixture (a missing data file, a library that cannot
 * sign), never a verdict.
 */
#include "fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "manifest.h"
#include "pem.h"

/* The PKI's files are a few hundred bytes each. */
#define PKI_FILE_MAX (1 << 20)

static const char *const cert_names[NCERT] = {
    "root-a", "root-b", "leaf", "root-v1", "root-expired"};
const char *const fixture_key_names[NKEY] = {
    "key-ed1", "key-ed2", "key-ed3", "key-ec1", "key-ec2"};

uint8_t *
fixture_read(const char *path, size_t max, size_t *len)
{
	uint8_t *buf = NULL;
	int rc;

	rc = fileio_read(path, max, &buf, len);
	if (rc != RK_OK)
		fail_msg("cannot read %s: %s", path, rk_strerror(rc));
	return buf;
}

int
fixture_pki_setup(void **state)
{
	struct pki *p;
	char path[128];
	uint8_t *text;
	size_t i, len, pos;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	/* cmocka runs the teardown after a failed setup: it frees the rest. */
	*state = p;
	for (i = 0; i < NCERT; i++) {
		snprintf(path, sizeof(path), FIXTURE_DATA_DIR "%s.pem",
		    cert_names[i]);
		text = fixture_read(path, PKI_FILE_MAX, &len);
		pos = 0;
		assert_int_equal(
		    pem_next((const char *)text, len, &pos, "CERTIFICATE", NULL,
			&p->cert[i], &p->cert_len[i]),
		    RK_OK);
		free(text);
		assert_int_equal(crypto_sha256(p->cert[i], p->cert_len[i], NULL,
				     0, p->cert_sha[i]),
		    RK_OK);
	}
	for (i = 0; i < NKEY; i++) {
		snprintf(path, sizeof(path), FIXTURE_DATA_DIR "%s.key",
		    fixture_key_names[i]);
		text = fixture_read(path, PKI_FILE_MAX, &len);
		assert_int_equal(
		    privkey_from_pem((const char *)text, len, &p->key[i]),
		    RK_OK);
		explicit_bzero(text, len);
		free(text);
		assert_int_equal(privkey_public(p->key[i], &p->pub[i]), RK_OK);
	}
	return 0;
}

int
fixture_pki_teardown(void **state)
{
	struct pki *p = *state;
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < NCERT; i++)
		free(p->cert[i]);
	for (i = 0; i < NKEY; i++) {
		privkey_free(p->key[i]);
		pubkey_free(p->pub[i]);
	}
	free(p);
	return 0;
}

void
fixture_sign(const struct pki *p, struct bundle *b, int k)
{
	uint8_t sig[KEYS_MAX_SIG];
	const uint8_t *msg;
	size_t msglen, siglen;

	msg = bundle_message(b, &msglen);
	assert_int_equal(
	    privkey_sign(p->key[k], msg, msglen, sig, &siglen), RK_OK);
	assert_int_equal(bundle_add_sig(b, pubkey_id(p->pub[k]),
			     (uint8_t)privkey_alg(p->key[k]), sig, siglen),
	    RK_OK);
}

uint8_t *
fixture_build(const struct pki *p, const uint8_t *man, size_t man_len,
    const int *certs, size_t ncerts, const int *signers, size_t nsigners,
    size_t *len)
{
	const uint8_t *ders[16];
	size_t lens[16], i;
	struct bundle *b = NULL;
	uint8_t *out = NULL;

	assert_true(ncerts <= 16);
	for (i = 0; i < ncerts; i++) {
		ders[i] = p->cert[certs[i]];
		lens[i] = p->cert_len[certs[i]];
	}
	assert_int_equal(
	    bundle_new(man, man_len, ders, lens, ncerts, &b, NULL), RK_OK);
	for (i = 0; i < nsigners; i++)
		fixture_sign(p, b, signers[i]);
	assert_int_equal(bundle_encode(b, &out, len), RK_OK);
	bundle_free(b);
	return out;
}

uint8_t *
fixture_make(const struct pki *p, const struct spec *s, size_t *len)
{
	struct distrust dis[8];
	struct pubkey *next[8];
	size_t i, man_len;
	struct manifest m;
	uint8_t *man = NULL, *out;

	assert_true(s->nnext <= 8 && s->ndistrust + s->nlift <= 8);
	if (s->raw_manifest != NULL) {
		man_len = strlen(s->raw_manifest);
		assert_non_null(man = malloc(man_len));
		memcpy(man, s->raw_manifest, man_len);
	} else {
		memset(&m, 0, sizeof(m));
		memset(dis, 0, sizeof(dis));
		assert_true(strlen(s->channel) <= MANIFEST_CHANNEL_MAX);
		memcpy(m.channel, s->channel, strlen(s->channel) + 1);
		m.version = s->version;
		m.issued_at = s->issued_at;
		m.expires_at = s->expires_at;
		for (i = 0; i < s->ndistrust; i++)
			memcpy(dis[i].sha256, p->cert_sha[s->distrust[i]],
			    CRYPTO_SHA256_LEN);
		for (i = 0; i < s->nlift; i++) {
			memcpy(dis[s->ndistrust + i].sha256,
			    p->cert_sha[s->lift[i]], CRYPTO_SHA256_LEN);
			dis[s->ndistrust + i].lift = 1;
		}
		m.distrust = s->ndistrust + s->nlift > 0 ? dis : NULL;
		m.n_distrust = s->ndistrust + s->nlift;
		if (s->rollout_percent > 0) {
			m.rollout.percent = s->rollout_percent;
			assert_true(
			    strlen(s->rollout_seed) <= MANIFEST_SEED_MAX);
			memcpy(m.rollout.seed, s->rollout_seed,
			    strlen(s->rollout_seed) + 1);
		}
		for (i = 0; i < s->nnext; i++)
			next[i] = p->pub[s->next[i]];
		m.next_keys = s->nnext > 0 ? next : NULL;
		m.n_next_keys = s->nnext;
		m.next_threshold = s->next_threshold;
		/* manifest_encode only reads the note. */
		m.note = (char *)(uintptr_t)s->note;
		assert_int_equal(
		    manifest_encode(&m, &man, &man_len, NULL), RK_OK);
	}
	out = fixture_build(
	    p, man, man_len, s->certs, s->ncerts, s->signers, s->nsigners, len);
	free(man);
	return out;
}
