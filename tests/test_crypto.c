/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The crypto of bundles/ and signing/ against answers this project did not
 * write: every Wycheproof Ed25519 and ECDSA P-256/SHA-256 (DER) case and
 * the five RFC 8032 Ed25519 vectors (tests/vectors/, see its README), all
 * through the project's own pubkey_from_spki, crypto_verify,
 * privkey_from_pem and privkey_sign.  Case counts are compared with the
 * files' numberOfTests so that a group skipped by mistake fails the suite.
 * Also: private key round trips, wrong-key signatures, re-encoded ECDSA
 * DER that must not count, and the SPKI forms pubkey_from_spki must refuse.
 * Of certificates (crypto_cert_info) only the dates past 2038, which must
 * come out right also where time_t was 32 bits; not the bundle format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "crypto.h"
#include "fileio.h"
#include "keys.h"
#include "manifest.h"
#include "pem.h"

#define ED25519_FILE "vectors/ed25519_test.json"
#define ECDSA_FILE "vectors/ecdsa_secp256r1_sha256_test.json"
#define RFC8032_FILE "vectors/rfc8032-ed25519.json"

/* Counts from tests/vectors/README.md, checked against the files too. */
#define ED25519_TESTS 151
#define ED25519_VALID 88
#define ECDSA_TESTS 484
#define ECDSA_VALID 174
#define RFC8032_TESTS 5

static const uint8_t ed_spki_prefix[] = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
static const uint8_t ed_pkcs8_prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30,
    0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
static const uint8_t p256_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
/* The same with room for a compressed point (33 bytes). */
static const uint8_t p256c_spki_prefix[] = {0x30, 0x39, 0x30, 0x13, 0x06, 0x07,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00};

/* publicKeyDer of the first group of Wycheproof's P-384/SHA-384 file. */
static const char p384_spki_hex[] =
    "3076301006072a8648ce3d020106052b8104002203620004"
    "29bdb76d5fa741bfd70233cb3a66cc7d44beb3b0663d92a8136650478bcefb61"
    "ef182e155a54345a5e8e5e88f064e5bc9a525ab7f764dad3dae1468c2b419f3b"
    "62b9ba917d5e8c4fb1ec47404a3fc76474b2713081be9db4c00e043ada9fc4a3";

/* A 1024-bit RSA SubjectPublicKeyInfo made with openssl genpkey. */
static const char rsa_spki_hex[] =
    "30819f300d06092a864886f70d010101050003818d0030818902818100a3226ea4"
    "33ae0f9693bac4115a3ad645537194be3ffd87f2e03dffbc96c9e4d39574c38d28"
    "d47b8a70864b64b3ecad64664859d02e650b76fb9dc293e561d521ffffbdc07f77"
    "8e52fb3aaee6549731a692d1324a78812a3d1d2113dd386851933ab2cc934d660d"
    "ae07149cc6a7aa20a04c79f6c15632b9bed65b7a7acd4521950203010001";

/*
 * Decodes hex into a malloc'ed buffer (never NULL, even for ""); fails the
 * test on bad hex.
 */
static uint8_t *
unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex);
	uint8_t *out;

	assert_int_equal(n % 2, 0);
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	assert_int_equal(hex_decode(hex, n, out, n / 2), RK_OK);
	*len = n / 2;
	return out;
}

/* The string member key of o; fails the test when it is missing. */
static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("missing string member \"%s\"", key);
	return s;
}

static uint8_t *
jhex(const json_t *o, const char *key, size_t *len)
{
	return unhex(jstr(o, key), len);
}

static json_t *
load_json(const char *path)
{
	json_error_t err;
	json_t *root;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	return root;
}

struct tally {
	size_t cases, valid, invalid, wrong;
};

/*
 * Runs every test of one Wycheproof verify file through pubkey_from_spki
 * and crypto_verify.  An invalid case must give RK_ESIG, the contract's
 * "not a valid signature"; a library failure (RK_ECRYPTO) or anything
 * else is reported as a wrong verdict too.
 */
static void
run_wycheproof(const char *path, const char *group_type, size_t raw_len,
    enum crypto_alg alg, struct tally *t)
{
	json_t *root, *groups, *g, *tests, *tc, *pk;
	struct pubkey *key;
	const char *result, *raw_key;
	uint8_t *spki, *msg, *sig, *raw;
	size_t gi, ti, spki_len, msg_len, sig_len, len;
	int rc, want_ok = 0;

	memset(t, 0, sizeof(*t));
	root = load_json(path);
	groups = json_object_get(root, "testGroups");
	assert_true(json_is_array(groups));
	assert_true(json_array_size(groups) > 0);
	for (gi = 0; gi < json_array_size(groups); gi++) {
		g = json_array_get(groups, gi);
		assert_string_equal(jstr(g, "type"), group_type);
		pk = json_object_get(g, "publicKey");
		assert_non_null(pk);
		if (alg == CRYPTO_ECDSA_P256) {
			assert_string_equal(jstr(g, "sha"), "SHA-256");
			assert_string_equal(jstr(pk, "curve"), "secp256r1");
			raw_key = "uncompressed";
		} else {
			assert_string_equal(jstr(pk, "curve"), "edwards25519");
			raw_key = "pk";
		}
		spki = jhex(g, "publicKeyDer", &spki_len);
		raw = jhex(pk, raw_key, &len);
		/* The SPKI carries the very key the group describes. */
		assert_int_equal(len, raw_len);
		assert_true(spki_len > raw_len);
		assert_memory_equal(spki + spki_len - raw_len, raw, raw_len);
		free(raw);
		key = NULL;
		rc = pubkey_from_spki(spki, spki_len, &key);
		if (rc != RK_OK)
			fail_msg("%s group %zu: publicKeyDer refused: %s", path,
			    gi, rk_strerror(rc));
		assert_int_equal(pubkey_alg(key), alg);
		tests = json_object_get(g, "tests");
		assert_true(json_is_array(tests));
		for (ti = 0; ti < json_array_size(tests); ti++) {
			tc = json_array_get(tests, ti);
			result = jstr(tc, "result");
			if (strcmp(result, "valid") == 0) {
				want_ok = 1;
				t->valid++;
			} else if (strcmp(result, "invalid") == 0) {
				want_ok = 0;
				t->invalid++;
			} else {
				fail_msg("tcId %lld: unexpected result \"%s\"",
				    json_integer_value(
					json_object_get(tc, "tcId")),
				    result);
			}
			msg = jhex(tc, "msg", &msg_len);
			sig = jhex(tc, "sig", &sig_len);
			rc = crypto_verify(key, msg, msg_len, sig, sig_len);
			if (want_ok ? rc != RK_OK : rc != RK_ESIG) {
				t->wrong++;
				print_message("%s tcId %lld (%s, %s): got %s\n",
				    path,
				    json_integer_value(
					json_object_get(tc, "tcId")),
				    result, jstr(tc, "comment"),
				    rk_strerror(rc));
			}
			t->cases++;
			free(msg);
			free(sig);
		}
		pubkey_free(key);
		free(spki);
	}
	/* The file's own count, so a group the loop missed shows. */
	assert_int_equal(t->cases,
	    (size_t)json_integer_value(json_object_get(root, "numberOfTests")));
	json_decref(root);
}

/* Runs a Wycheproof file; it must give its known counts, all as expected. */
static void
check_wycheproof(const char *name, const char *path, const char *group_type,
    size_t raw_len, enum crypto_alg alg, size_t tests, size_t valid)
{
	struct tally t;

	run_wycheproof(path, group_type, raw_len, alg, &t);
	print_message("%s: %zu cases, %zu valid, %zu invalid, %s\n", name,
	    t.cases, t.valid, t.invalid,
	    t.wrong == 0 ? "all as expected" : "SOME WRONG");
	assert_int_equal(t.wrong, 0);
	assert_int_equal(t.cases, tests);
	assert_int_equal(t.valid, valid);
	assert_int_equal(t.invalid, tests - valid);
}

static void
test_wycheproof_ed25519(void **state)
{
	(void)state;
	check_wycheproof("ed25519", ED25519_FILE, "EddsaVerify", 32,
	    CRYPTO_ED25519, ED25519_TESTS, ED25519_VALID);
}

static void
test_wycheproof_ecdsa_p256(void **state)
{
	(void)state;
	check_wycheproof("ecdsa p256", ECDSA_FILE, "EcdsaVerify", 65,
	    CRYPTO_ECDSA_P256, ECDSA_TESTS, ECDSA_VALID);
}

/* s += L, little-endian, as 256-bit numbers (S < L, so no carry out). */
static void
add_order(uint8_t s[32])
{
	static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63,
	    0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	unsigned carry = 0, v;
	int i;

	for (i = 0; i < 32; i++) {
		v = s[i] + order[i] + carry;
		s[i] = (uint8_t)v;
		carry = v >> 8;
	}
	assert_int_equal(carry, 0);
}

/*
 * RFC 8032 section 7.1: each vector verifies; a flip of any one of the 512
 * signature bits, S + L in place of S, or one more message byte does not; and
 * the secret, read as PKCS#8 PEM, yields the same public key and signs to the
 * same bytes (Ed25519 is deterministic).
 */
static void
test_rfc8032(void **state)
{
	json_t *root, *tests, *tc;
	struct privkey *priv;
	struct pubkey *pub, *derived;
	uint8_t *secret, *public, *msg, *sig, *msg2;
	uint8_t spki[44], pkcs8[48], mysig[KEYS_MAX_SIG], sig2[64];
	char *pem, *pem2;
	size_t i, bit, n, secret_len, public_len, msg_len, sig_len;
	size_t pem_len, pem2_len, spki_len, mysig_len;
	const uint8_t *dspki;

	(void)state;
	root = load_json(RFC8032_FILE);
	tests = json_object_get(root, "tests");
	assert_true(json_is_array(tests));
	n = 0;
	for (i = 0; i < json_array_size(tests); i++) {
		tc = json_array_get(tests, i);
		secret = jhex(tc, "secret", &secret_len);
		public = jhex(tc, "public", &public_len);
		msg = jhex(tc, "msg", &msg_len);
		sig = jhex(tc, "sig", &sig_len);
		assert_int_equal(secret_len, 32);
		assert_int_equal(public_len, 32);
		assert_int_equal(sig_len, 64);

		memcpy(spki, ed_spki_prefix, sizeof(ed_spki_prefix));
		memcpy(spki + sizeof(ed_spki_prefix), public, 32);
		assert_int_equal(
		    pubkey_from_spki(spki, sizeof(spki), &pub), RK_OK);
		assert_int_equal(pubkey_alg(pub), CRYPTO_ED25519);
		assert_int_equal(
		    crypto_verify(pub, msg, msg_len, sig, 64), RK_OK);
		for (bit = 0; bit < 64 * 8; bit++) {
			sig[bit / 8] ^= (uint8_t)(1u << bit % 8);
			if (crypto_verify(pub, msg, msg_len, sig, 64) !=
			    RK_ESIG)
				fail_msg("RFC 8032 test %zu: bit %zu flipped "
					 "still verifies",
				    i, bit);
			sig[bit / 8] ^= (uint8_t)(1u << bit % 8);
		}
		/* The same signature with S + L: malleable unless refused. */
		memcpy(sig2, sig, 64);
		add_order(sig2 + 32);
		assert_true(sig2[63] < 0x20);
		assert_int_equal(
		    crypto_verify(pub, msg, msg_len, sig2, 64), RK_ESIG);
		msg2 = malloc(msg_len + 1);
		assert_non_null(msg2);
		if (msg_len > 0)
			memcpy(msg2, msg, msg_len);
		msg2[msg_len] = 0;
		assert_int_equal(
		    crypto_verify(pub, msg2, msg_len + 1, sig, 64), RK_ESIG);
		free(msg2);
		/* A truncated or padded signature is not a signature. */
		assert_int_equal(
		    crypto_verify(pub, msg, msg_len, sig, 63), RK_ESIG);

		memcpy(pkcs8, ed_pkcs8_prefix, sizeof(ed_pkcs8_prefix));
		memcpy(pkcs8 + sizeof(ed_pkcs8_prefix), secret, 32);
		assert_int_equal(pem_encode("PRIVATE KEY", pkcs8, sizeof(pkcs8),
				     &pem, &pem_len),
		    RK_OK);
		assert_int_equal(privkey_from_pem(pem, pem_len, &priv), RK_OK);
		assert_int_equal(privkey_alg(priv), CRYPTO_ED25519);
		assert_int_equal(privkey_public(priv, &derived), RK_OK);
		dspki = pubkey_spki(derived, &spki_len);
		assert_int_equal(spki_len, sizeof(spki));
		assert_memory_equal(dspki, spki, sizeof(spki));
		assert_memory_equal(pubkey_id(derived), pubkey_id(pub), 32);
		assert_int_equal(
		    privkey_sign(priv, msg, msg_len, mysig, &mysig_len), RK_OK);
		assert_int_equal(mysig_len, 64);
		assert_memory_equal(mysig, sig, 64);
		/* Written back, the key is the same PKCS#8 that was read. */
		assert_int_equal(privkey_to_pem(priv, &pem2, &pem2_len), RK_OK);
		assert_int_equal(pem2_len, pem_len);
		assert_memory_equal(pem2, pem, pem_len);

		explicit_bzero(pem, pem_len);
		explicit_bzero(pem2, pem2_len);
		free(pem);
		free(pem2);
		privkey_free(priv);
		pubkey_free(derived);
		pubkey_free(pub);
		free(secret);
		free(public);
		free(msg);
		free(sig);
		n++;
	}
	json_decref(root);
	print_message("rfc8032 ed25519: %zu cases, all verify and re-sign "
		      "byte for byte\n",
	    n);
	assert_int_equal(n, RFC8032_TESTS);
}

static void
round_trip(enum crypto_alg alg)
{
	static const uint8_t msg[] = "rootkeeper bundle v1\0signed region";
	struct privkey *a, *a2, *b;
	struct pubkey *pa, *pa2, *pb;
	uint8_t sig[KEYS_MAX_SIG], sig2[KEYS_MAX_SIG];
	const uint8_t *s1, *s2;
	char *pem, *pem2;
	size_t pem_len, pem2_len, l1, l2, sig_len, sig2_len;

	assert_int_equal(privkey_generate(alg, &a), RK_OK);
	assert_int_equal(privkey_generate(alg, &b), RK_OK);
	assert_int_equal(privkey_alg(a), alg);
	assert_int_equal(privkey_to_pem(a, &pem, &pem_len), RK_OK);
	assert_int_equal(strlen(pem), pem_len);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	assert_int_equal(privkey_from_pem(pem, pem_len, &a2), RK_OK);
	assert_int_equal(privkey_alg(a2), alg);

	assert_int_equal(privkey_public(a, &pa), RK_OK);
	assert_int_equal(privkey_public(a2, &pa2), RK_OK);
	assert_int_equal(privkey_public(b, &pb), RK_OK);
	assert_int_equal(pubkey_alg(pa), alg);
	s1 = pubkey_spki(pa, &l1);
	s2 = pubkey_spki(pa2, &l2);
	assert_int_equal(l1, alg == CRYPTO_ED25519 ? 44 : 91);
	assert_int_equal(l1, l2);
	assert_memory_equal(s1, s2, l1);
	assert_memory_equal(pubkey_id(pa), pubkey_id(pa2), CRYPTO_SHA256_LEN);
	/* Two fresh keys differ. */
	s2 = pubkey_spki(pb, &l2);
	assert_memory_not_equal(s1, s2, l1);

	assert_int_equal(privkey_to_pem(a2, &pem2, &pem2_len), RK_OK);
	assert_int_equal(pem2_len, pem_len);
	assert_memory_equal(pem2, pem, pem_len);

	/* Signed by the re-read key, checked with the original's public. */
	assert_int_equal(
	    privkey_sign(a2, msg, sizeof(msg), sig, &sig_len), RK_OK);
	if (alg == CRYPTO_ED25519)
		assert_int_equal(sig_len, 64);
	else
		assert_in_range(sig_len, 8, 72);
	assert_int_equal(
	    crypto_verify(pa, msg, sizeof(msg), sig, sig_len), RK_OK);
	assert_int_equal(
	    crypto_verify(pa, msg, sizeof(msg) - 1, sig, sig_len), RK_ESIG);
	/* Key A's signature is not key B's. */
	assert_int_equal(
	    crypto_verify(pb, msg, sizeof(msg), sig, sig_len), RK_ESIG);
	assert_int_equal(
	    privkey_sign(b, msg, sizeof(msg), sig2, &sig2_len), RK_OK);
	assert_int_equal(
	    crypto_verify(pb, msg, sizeof(msg), sig2, sig2_len), RK_OK);
	assert_int_equal(
	    crypto_verify(pa, msg, sizeof(msg), sig2, sig2_len), RK_ESIG);
	/*
	 * The empty message is a message, and crypto.h allows it as NULL.
	 * privkey_sign gets a real pointer: wolfSSL refuses to sign NULL.
	 */
	assert_int_equal(privkey_sign(a, msg, 0, sig2, &sig2_len), RK_OK);
	assert_int_equal(crypto_verify(pa, msg, 0, sig2, sig2_len), RK_OK);
	assert_int_equal(crypto_verify(pa, NULL, 0, sig2, sig2_len), RK_OK);
	assert_int_equal(crypto_verify(pb, NULL, 0, sig2, sig2_len), RK_ESIG);

	explicit_bzero(pem, pem_len);
	explicit_bzero(pem2, pem2_len);
	free(pem);
	free(pem2);
	pubkey_free(pa);
	pubkey_free(pa2);
	pubkey_free(pb);
	privkey_free(a);
	privkey_free(a2);
	privkey_free(b);
}

static void
test_round_trip_ed25519(void **state)
{
	(void)state;
	round_trip(CRYPTO_ED25519);
}

static void
test_round_trip_ecdsa_p256(void **state)
{
	(void)state;
	round_trip(CRYPTO_ECDSA_P256);
}

/* A signature of one algorithm never passes under a key of the other. */
static void
test_cross_algorithm(void **state)
{
	static const uint8_t msg[] = "cross";
	struct privkey *ed, *ec;
	struct pubkey *ped, *pec;
	uint8_t sig_ed[KEYS_MAX_SIG], sig_ec[KEYS_MAX_SIG];
	size_t len_ed, len_ec;

	(void)state;
	assert_int_equal(privkey_generate(CRYPTO_ED25519, &ed), RK_OK);
	assert_int_equal(privkey_generate(CRYPTO_ECDSA_P256, &ec), RK_OK);
	assert_int_equal(privkey_public(ed, &ped), RK_OK);
	assert_int_equal(privkey_public(ec, &pec), RK_OK);
	assert_int_equal(
	    privkey_sign(ed, msg, sizeof(msg), sig_ed, &len_ed), RK_OK);
	assert_int_equal(
	    privkey_sign(ec, msg, sizeof(msg), sig_ec, &len_ec), RK_OK);
	assert_int_equal(
	    crypto_verify(pec, msg, sizeof(msg), sig_ed, len_ed), RK_ESIG);
	assert_int_equal(
	    crypto_verify(ped, msg, sizeof(msg), sig_ec, len_ec), RK_ESIG);
	assert_int_not_equal(privkey_generate((enum crypto_alg)3, &ed), RK_OK);
	pubkey_free(ped);
	pubkey_free(pec);
	privkey_free(ed);
	privkey_free(ec);
}

/*
 * The DER of an ECDSA signature is taken strictly: a fresh signature
 * verifies, and the same r and s re-encoded with a padding zero, a long
 * form length, a trailing byte, or as raw r||s do not.  Signatures are
 * drawn until r is 32 bytes with its top bit clear, the case where a
 * padding zero would otherwise decode to the same value.
 */
static void
test_ecdsa_der_strict(void **state)
{
	static const uint8_t msg[] = "strict der";
	struct privkey *priv;
	struct pubkey *pub;
	uint8_t sig[KEYS_MAX_SIG], bad[KEYS_MAX_SIG + 8];
	size_t len, i, tries;
	const uint8_t *r, *s;
	size_t rlen, slen;

	(void)state;
	assert_int_equal(privkey_generate(CRYPTO_ECDSA_P256, &priv), RK_OK);
	assert_int_equal(privkey_public(priv, &pub), RK_OK);
	for (tries = 0;; tries++) {
		assert_true(tries < 200);
		assert_int_equal(
		    privkey_sign(priv, msg, sizeof(msg), sig, &len), RK_OK);
		assert_int_equal(sig[0], 0x30);
		assert_int_equal(sig[1], len - 2);
		assert_int_equal(sig[2], 0x02);
		if (sig[3] == 32 && !(sig[4] & 0x80))
			break;
	}
	assert_int_equal(crypto_verify(pub, msg, sizeof(msg), sig, len), RK_OK);
	r = sig + 4;
	rlen = sig[3];
	assert_int_equal(sig[4 + rlen], 0x02);
	slen = sig[5 + rlen];
	s = sig + 6 + rlen;
	assert_int_equal(6 + rlen + slen, len);

	/* r with one padding zero: 02 21 00 r. */
	i = 0;
	bad[i++] = 0x30;
	bad[i++] = (uint8_t)(len - 2 + 1);
	bad[i++] = 0x02;
	bad[i++] = 33;
	bad[i++] = 0x00;
	memcpy(bad + i, r, rlen);
	i += rlen;
	bad[i++] = 0x02;
	bad[i++] = (uint8_t)slen;
	memcpy(bad + i, s, slen);
	i += slen;
	assert_int_equal(crypto_verify(pub, msg, sizeof(msg), bad, i), RK_ESIG);

	/* The outer length in long form: 30 81 len. */
	bad[0] = 0x30;
	bad[1] = 0x81;
	bad[2] = (uint8_t)(len - 2);
	memcpy(bad + 3, sig + 2, len - 2);
	assert_int_equal(
	    crypto_verify(pub, msg, sizeof(msg), bad, len + 1), RK_ESIG);

	/* A trailing byte, inside and outside the SEQUENCE. */
	memcpy(bad, sig, len);
	bad[len] = 0x00;
	assert_int_equal(
	    crypto_verify(pub, msg, sizeof(msg), bad, len + 1), RK_ESIG);
	bad[1]++;
	assert_int_equal(
	    crypto_verify(pub, msg, sizeof(msg), bad, len + 1), RK_ESIG);

	/* Raw r||s (P1363) is not the format's encoding. */
	memset(bad, 0, 64);
	memcpy(bad + 32 - rlen, r, rlen);
	memcpy(bad + 64 - (s[0] == 0 ? slen - 1 : slen),
	    s + (s[0] == 0 ? 1 : 0), s[0] == 0 ? slen - 1 : slen);
	assert_int_equal(
	    crypto_verify(pub, msg, sizeof(msg), bad, 64), RK_ESIG);

	/* Every truncation of the good signature. */
	for (i = 0; i < len; i++)
		assert_int_equal(
		    crypto_verify(pub, msg, sizeof(msg), sig, i), RK_ESIG);
	pubkey_free(pub);
	privkey_free(priv);
}

static void
expect_ekey(const uint8_t *der, size_t len, const char *what)
{
	struct pubkey *k = NULL;
	int rc;

	rc = pubkey_from_spki(der, len, &k);
	if (rc != RK_EKEY)
		fail_msg("%s (%zu bytes): got %s, want %s", what, len,
		    rk_strerror(rc), rk_strerror(RK_EKEY));
	assert_null(k);
}

/* Every proper prefix and a few extensions of a good SPKI are refused. */
static void
expect_exact_length(const uint8_t *good, size_t len, const char *what)
{
	uint8_t buf[128];
	size_t n;

	assert_true(len + 1 <= sizeof(buf));
	memcpy(buf, good, len);
	for (n = 0; n < len; n++)
		expect_ekey(buf, n, what);
	buf[len] = 0x00;
	expect_ekey(buf, len + 1, what);
	/* Extended consistently: outer and BIT STRING lengths both +1. */
	buf[1]++;
	buf[len - (len == 44 ? 34 : 67)]++;
	expect_ekey(buf, len + 1, what);
}

static void
test_spki_rejects(void **state)
{
	struct privkey *priv;
	struct pubkey *pub, *k;
	const uint8_t *spki;
	uint8_t buf[128], *der;
	size_t len, der_len, i;

	(void)state;
	der = unhex(rsa_spki_hex, &der_len);
	expect_ekey(der, der_len, "RSA SPKI");
	free(der);
	der = unhex(p384_spki_hex, &der_len);
	assert_int_equal(der_len, 120);
	expect_ekey(der, der_len, "P-384 SPKI");
	free(der);
	expect_ekey(buf, 0, "empty");

	/* A fresh P-256 key: its SPKI parses, then bent ones must not. */
	assert_int_equal(privkey_generate(CRYPTO_ECDSA_P256, &priv), RK_OK);
	assert_int_equal(privkey_public(priv, &pub), RK_OK);
	spki = pubkey_spki(pub, &len);
	assert_int_equal(len, 91);
	assert_memory_equal(spki, p256_spki_prefix, sizeof(p256_spki_prefix));
	assert_int_equal(pubkey_from_spki(spki, len, &k), RK_OK);
	assert_memory_equal(pubkey_id(k), pubkey_id(pub), CRYPTO_SHA256_LEN);
	pubkey_free(k);
	expect_exact_length(spki, len, "P-256 SPKI cut or extended");

	/* Compressed: the proper 59-byte SPKI with 02/03 || X. */
	memcpy(buf, p256c_spki_prefix, sizeof(p256c_spki_prefix));
	buf[26] = (uint8_t)(0x02 | (spki[90] & 1));
	memcpy(buf + 27, spki + 27, 32);
	expect_ekey(buf, 59, "compressed P-256 point");
	buf[26] ^= 1;
	expect_ekey(buf, 59, "compressed P-256 point, other parity");
	/* ... and the uncompressed layout with another point type byte. */
	memcpy(buf, spki, len);
	for (i = 0; i < 8; i++) {
		if (i == 4)
			continue;
		buf[26] = (uint8_t)i;
		expect_ekey(buf, len, "P-256 point with type byte != 04");
	}

	/* Off the curve: y + 1, then coordinates zero and out of range. */
	memcpy(buf, spki, len);
	buf[90] ^= 1;
	expect_ekey(buf, len, "P-256 point not on the curve");
	memset(buf + 27, 0, 64);
	expect_ekey(buf, len, "P-256 point (0, 0)");
	memset(buf + 27, 0xff, 64);
	expect_ekey(buf, len, "P-256 coordinates >= p");
	/* The curve OID of P-256 with its last byte changed (P-239v3). */
	memcpy(buf, spki, len);
	buf[22] = 0x06;
	expect_ekey(buf, len, "other named curve");
	pubkey_free(pub);
	privkey_free(priv);

	/* Ed25519: cut, extended, and the X25519 OID. */
	assert_int_equal(privkey_generate(CRYPTO_ED25519, &priv), RK_OK);
	assert_int_equal(privkey_public(priv, &pub), RK_OK);
	spki = pubkey_spki(pub, &len);
	assert_int_equal(len, 44);
	assert_memory_equal(spki, ed_spki_prefix, sizeof(ed_spki_prefix));
	expect_exact_length(spki, len, "Ed25519 SPKI cut or extended");
	memcpy(buf, spki, len);
	buf[8] = 0x6e; /* 1.3.101.110, X25519 */
	expect_ekey(buf, len, "X25519 SPKI");
	pubkey_free(pub);
	privkey_free(priv);
}

/*
 * PKCS#8 shapes found by fuzzing: what follows the private key is checked
 * too.  Each file is a DER key; the verdict is privkey_from_pem's on it.
 */
static void
test_pkcs8_tail(void **state)
{
	static const struct {
		const char *file;
		int want;
	} cases[] = {
	    {"fuzz/corpus/keys/ed1-v2-with-public.der", RK_OK},
	    {"fuzz/corpus/keys/ed1-v2-wrong-public.der", RK_EKEY},
	    {"fuzz/corpus/keys/ec1-with-params.der", RK_OK},
	    {"fuzz/corpus/keys/ec1-no-public.der", RK_OK},
	    {"fuzz/corpus/keys/ec1-params-trailing-null.der", RK_EKEY},
	};
	struct privkey *k;
	uint8_t *der;
	size_t i, len, pem_len;
	char *pem;
	FILE *f;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_non_null(f = fopen(cases[i].file, "rb"));
		assert_non_null(der = malloc(4096));
		len = fread(der, 1, 4096, f);
		fclose(f);
		assert_true(len > 0 && len < 4096);
		assert_int_equal(
		    pem_encode("PRIVATE KEY", der, len, &pem, &pem_len), RK_OK);
		k = NULL;
		if (privkey_from_pem(pem, pem_len, &k) != cases[i].want)
			fail_msg("%s: not %s", cases[i].file,
			    rk_strerror(cases[i].want));
		privkey_free(k);
		free(pem);
		free(der);
	}
}

/* crypto_cert_info of the one certificate in tests/data/name.pem. */
static void
cert_of(const char *name, struct certinfo *ci)
{
	char path[64];
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, pos = 0, der_len = 0;

	snprintf(path, sizeof(path), "data/%s.pem", name);
	assert_int_equal(fileio_read(path, 65536, &text, &len), RK_OK);
	assert_int_equal(pem_next((const char *)text, len, &pos, "CERTIFICATE",
			     NULL, &der, &der_len),
	    RK_OK);
	assert_int_equal(crypto_cert_info(der, der_len, ci), RK_OK);
	free(der);
	free(text);
}

/*
 * Dates past a 32-bit time_t, to the second: UTCTime from its first
 * second (2038-01-19T03:14:08Z) to its last (2049-12-31T23:59:59Z), and
 * GeneralizedTime from 2050 (tests/data/make-test-pki.sh made them).
 */
static void
test_cert_dates_past_2038(void **state)
{
	struct certinfo ci;

	(void)state;
	cert_of("root-2040", &ci);
	assert_int_equal(ci.not_before, 2147483648LL);
	assert_int_equal(ci.not_after, 2210198400LL); /* 2040-01-15 */
	cert_of("root-2050", &ci);
	assert_int_equal(ci.not_before, 2524607999LL); /* 2049-12-31 */
	assert_int_equal(ci.not_after, 2537654400LL);  /* 2050-06-01 */
	cert_of("root-a", &ci);
	assert_int_equal(ci.not_after, 4102444799LL); /* 2099-12-31 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wycheproof_ed25519),
	    cmocka_unit_test(test_wycheproof_ecdsa_p256),
	    cmocka_unit_test(test_rfc8032),
	    cmocka_unit_test(test_round_trip_ed25519),
	    cmocka_unit_test(test_round_trip_ecdsa_p256),
	    cmocka_unit_test(test_cross_algorithm),
	    cmocka_unit_test(test_ecdsa_der_strict),
	    cmocka_unit_test(test_spki_rejects),
	    cmocka_unit_test(test_pkcs8_tail),
	    cmocka_unit_test(test_cert_dates_past_2038),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
