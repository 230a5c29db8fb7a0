/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bundle format end to end: bundles built in memory with the project's
 * own API (fixture.c: bundle_new, privkey_sign over bundle_message,
 * bundle_add_sig, bundle_encode) from the committed test PKI in data/ (made
 * by data/make-test-pki.sh), then judged by bundle_open() or, where the
 * framing alone is the subject, bundle_parse(); every verdict is an exact
 * rk_err code.  Forgeries are exhaustive: every byte flipped, every
 * truncation.  Limits are checked one over and exactly at.  The suite also
 * re-checks the committed golden bundles in golden/ against
 * golden/verdicts.txt, and writes them anew when RK_WRITE_GOLDEN names a
 * directory (RK_WRITE_GOLDEN=golden ./test_bundle, run from tests/).  It
 * does not test device policy (channel, version order, expiry against a
 * clock): bundle_open does not decide those.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bundle.h"
#include "cursor.h"
#include "fileio.h"
#include "fixture.h"
#include "keys.h"
#include "manifest.h"
#include "pem.h"

#define GOLDEN_DIR "golden/"
#define VERDICTS "verdicts.txt"
#define MAX_SIZE BUNDLE_DEFAULT_MAX_SIZE

/* A list of indexes for the helpers: LIST(ROOT_A, ROOT_B) is (array, n). */
#define LIST(...)                                                              \
	(const int[]){__VA_ARGS__},                                            \
	    sizeof((const int[]){__VA_ARGS__}) / sizeof(int)
#define NONE NULL, 0

#define T_ISSUED "2026-01-01T00:00:00Z"
#define T_EXPIRES "2099-01-01T00:00:00Z"
#define JSON_HEAD "{\"format\":1,\"channel\":\"test\",\"version\":"
#define JSON_TIMES                                                             \
	",\"issued_at\":\"" T_ISSUED "\",\"expires_at\":\"" T_EXPIRES "\""
#define JSON_OK JSON_HEAD "1" JSON_TIMES "}"
#define ZERO_FP                                                                \
	"\"0000000000000000000000000000000000000000000000000000000000000000\""

static const struct {
	const char *name;
	int code;
} code_names[] = {
    {"RK_OK", RK_OK},
    {"RK_ENOMEM", RK_ENOMEM},
    {"RK_EIO", RK_EIO},
    {"RK_EINVAL", RK_EINVAL},
    {"RK_ENOENT", RK_ENOENT},
    {"RK_EEXIST", RK_EEXIST},
    {"RK_ETRUNC", RK_ETRUNC},
    {"RK_EFORMAT", RK_EFORMAT},
    {"RK_ETRAILING", RK_ETRAILING},
    {"RK_ELIMIT", RK_ELIMIT},
    {"RK_ESIG", RK_ESIG},
    {"RK_EKEY", RK_EKEY},
    {"RK_EMANIFEST", RK_EMANIFEST},
    {"RK_ECERT", RK_ECERT},
    {"RK_ECRYPTO", RK_ECRYPTO},
    {"RK_EVERSION", RK_EVERSION},
};

static const char *
code_name(int code)
{
	size_t i;

	for (i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++)
		if (code_names[i].code == code)
			return code_names[i].name;
	return "?";
}

static int
code_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++)
		if (strcmp(code_names[i].name, name) == 0)
			return code_names[i].code;
	fail_msg("verdicts: unknown code %s", name);
	return -1;
}

/* The shared test PKI, and the committed .pub files checked against it. */
static int
setup(void **state)
{
	struct pki *p;
	struct pubkey *from_file;
	char path[128];
	uint8_t *text;
	size_t i, len;

	if (fixture_pki_setup(state) != 0)
		return -1;
	p = *state;
	for (i = 0; i < NKEY; i++) {
		/* The committed .pub must be the public half of the .key. */
		snprintf(path, sizeof(path), FIXTURE_DATA_DIR "%s.pub",
		    fixture_key_names[i]);
		text = fixture_read(path, MAX_SIZE, &len);
		assert_int_equal(
		    pubkey_from_pem((const char *)text, len, &from_file),
		    RK_OK);
		free(text);
		assert_memory_equal(pubkey_id(from_file), pubkey_id(p->pub[i]),
		    CRYPTO_SHA256_LEN);
		pubkey_free(from_file);
	}
	assert_int_equal(privkey_alg(p->key[ED1]), CRYPTO_ED25519);
	assert_int_equal(privkey_alg(p->key[EC1]), CRYPTO_ECDSA_P256);
	return 0;
}

/* fixture_build() of the manifest text json. */
static uint8_t *
build(const struct pki *p, const char *json, const int *certs, size_t ncerts,
    const int *signers, size_t nsigners, size_t *len)
{
	return fixture_build(p, (const uint8_t *)json, strlen(json), certs,
	    ncerts, signers, nsigners, len);
}

/* bundle_open with the pinned keys pins; frees what it returns. */
static int
open_with(const struct pki *p, const uint8_t *buf, size_t len, const int *pins,
    size_t npins, unsigned threshold)
{
	struct pubkey *keys[16];
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct rk_why why;
	size_t i;
	int rc;

	assert_true(npins <= 16);
	for (i = 0; i < npins; i++)
		keys[i] = p->pub[pins[i]];
	why.msg[0] = '\0';
	rc = bundle_open(
	    buf, len, MAX_SIZE, keys, npins, threshold, &b, &m, &why);
	if (rc == RK_OK) {
		assert_non_null(b);
		assert_non_null(m);
	}
	bundle_free(b);
	manifest_free(m);
	return rc;
}

/* bundle_open of json and certs signed by ED1, with ED1 pinned. */
static int
open_json(
    const struct pki *p, const char *json, const int *certs, size_t ncerts)
{
	size_t len;
	uint8_t *buf = build(p, json, certs, ncerts, LIST(ED1), &len);
	int rc = open_with(p, buf, len, LIST(ED1), 1);

	free(buf);
	return rc;
}

static int
parse_rc(const uint8_t *buf, size_t len)
{
	struct bundle *b = NULL;
	int rc;

	rc = bundle_parse(buf, len, &b, NULL);
	if (rc == RK_OK)
		assert_non_null(b);
	bundle_free(b);
	return rc;
}

/* The default manifest through manifest_encode (channel "test", v1). */
static void
encoded_manifest(struct pubkey **next, size_t nnext, unsigned next_threshold,
    uint8_t **out, size_t *len)
{
	struct manifest m;

	memset(&m, 0, sizeof(m));
	memcpy(m.channel, "test", 5);
	m.version = 1;
	m.issued_at = 1767225600;  /* 2026-01-01T00:00:00Z */
	m.expires_at = 4070908800; /* 2099-01-01T00:00:00Z */
	m.next_keys = next;
	m.n_next_keys = nnext;
	m.next_threshold = next_threshold;
	assert_int_equal(manifest_encode(&m, out, len, NULL), RK_OK);
}

static void
test_valid(void **state)
{
	const struct pki *p = *state;
	struct pubkey *keys[1] = {p->pub[ED1]};
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	uint8_t *man, *buf;
	size_t man_len, len;

	encoded_manifest(NULL, 0, 0, &man, &man_len);
	assert_int_equal(man_len, strlen(JSON_OK));
	assert_memory_equal(man, JSON_OK, man_len);

	/* Ed25519 */
	buf = fixture_build(
	    p, man, man_len, LIST(ROOT_A, ROOT_B), LIST(ED1), &len);
	assert_int_equal(
	    bundle_open(buf, len, MAX_SIZE, keys, 1, 1, &b, &m, NULL), RK_OK);
	assert_string_equal(m->channel, "test");
	assert_int_equal(m->version, 1);
	assert_int_equal(m->expires_at, 4070908800);
	assert_int_equal(bundle_ncerts(b), 2);
	assert_int_equal(bundle_nsigs(b), 1);
	assert_int_equal(bundle_sig(b, 0)->alg, CRYPTO_ED25519);
	assert_int_equal(bundle_sig(b, 0)->len, BUNDLE_ED25519_SIG);
	bundle_free(b);
	manifest_free(m);
	free(buf);

	/* ECDSA P-256 */
	buf = fixture_build(p, man, man_len, LIST(ROOT_A), LIST(EC1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(EC1), 1), RK_OK);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_ESIG);
	free(buf);

	/* 2 of 3: two of the three pinned keys signed. */
	buf = fixture_build(p, man, man_len, LIST(ROOT_A, ROOT_B, ROOT_V1),
	    LIST(ED1, EC1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1, EC1, ED2), 2), RK_OK);
	assert_int_equal(open_with(p, buf, len, LIST(ED2, EC1, ED1), 2), RK_OK);
	assert_int_equal(
	    open_with(p, buf, len, LIST(ED1, EC1, ED2), 3), RK_ESIG);
	free(buf);

	/* Extra signatures by keys nobody pinned are ignored, not fatal. */
	buf = fixture_build(
	    p, man, man_len, LIST(ROOT_A), LIST(ED3, EC2, ED1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_OK);
	free(buf);
	free(man);
}

/*
 * Every byte of the signed region, xor 0x01: a content byte (manifest or
 * DER) must fail the signatures exactly; magic is a format error; a length
 * or count field must at least not verify.  Then every byte of the
 * signature block, with the codes worked out by hand for each field.
 */
static void
flip_all(const struct pki *p, int signer)
{
	enum { CONTENT, MAGIC, FIELD } * kind;
	struct bundle *b = NULL;
	const uint8_t *der;
	uint8_t *buf;
	size_t len, region, off, i, n, der_len, sig_start, slen;
	int rc, expect;

	buf = build(p, JSON_OK, LIST(ROOT_A), &signer, 1, &len);
	assert_int_equal(open_with(p, buf, len, &signer, 1, 1), RK_OK);
	assert_int_equal(bundle_parse(buf, len, &b, NULL), RK_OK);
	bundle_message(b, &region);
	region -= BUNDLE_CONTEXT_LEN;
	assert_non_null(kind = calloc(region, sizeof(*kind)));
	for (i = 0; i < 4; i++)
		kind[i] = MAGIC;
	for (i = 4; i < 8; i++)
		kind[i] = FIELD;
	bundle_manifest(b, &n);
	off = 8 + n;
	for (i = 0; i < 4; i++)
		kind[off++] = FIELD;
	for (n = 0; n < bundle_ncerts(b); n++) {
		der = bundle_cert(b, n, &der_len);
		assert_non_null(der);
		for (i = 0; i < 4; i++)
			kind[off++] = FIELD;
		off += der_len;
	}
	assert_int_equal(off, region);
	slen = bundle_sig(b, 0)->len;
	bundle_free(b);

	for (off = 0; off < region; off++) {
		buf[off] ^= 0x01;
		rc = open_with(p, buf, len, &signer, 1, 1);
		buf[off] ^= 0x01;
		if (kind[off] == CONTENT && rc != RK_ESIG)
			fail_msg("content byte %zu: %s, want RK_ESIG", off,
			    code_name(rc));
		if (kind[off] == MAGIC && rc != RK_EFORMAT)
			fail_msg("magic byte %zu: %s", off, code_name(rc));
		if (kind[off] == FIELD && (rc == RK_OK || rc == RK_ESIG))
			fail_msg("field byte %zu: %s, want a framing error",
			    off, code_name(rc));
	}
	free(kind);

	/* n_sigs, then key_id[32], alg, sig_len u16, sig. */
	sig_start = region;
	assert_int_equal(len, sig_start + 1 + 32 + 1 + 2 + slen);
	for (off = sig_start; off < len; off++) {
		i = off - sig_start;
		if (i == 0)
			expect = RK_EFORMAT; /* 1 -> 0 signatures */
		else if (i <= 32)
			expect = RK_ESIG; /* key id no longer pinned */
		else if (i == 33)
			expect = RK_EFORMAT; /* alg 1 -> 0, 2 -> 3 */
		else if (i == 34)
			expect = RK_EFORMAT; /* sig_len + 256 */
		else if (i == 35)
			/* Ed25519 64 -> 65; ECDSA n -> n ^ 1: one byte
			 * short, one byte over, or 73 */
			expect = signer == ED1 || slen == 72 ? RK_EFORMAT
				 : (slen & 1) == 0	     ? RK_ETRUNC
							     : RK_ETRAILING;
		else
			expect = RK_ESIG;
		buf[off] ^= 0x01;
		rc = open_with(p, buf, len, &signer, 1, 1);
		buf[off] ^= 0x01;
		if (rc != expect)
			fail_msg("signature block byte %zu: %s, want %s", i,
			    code_name(rc), code_name(expect));
	}
	free(buf);
}

static void
test_flip_every_byte(void **state)
{
	flip_all(*state, ED1);
	flip_all(*state, EC1);
}

static void
test_truncate_and_trail(void **state)
{
	const struct pki *p = *state;
	uint8_t *buf, *longer;
	size_t len, n;
	int rc;

	buf = build(p, JSON_OK, LIST(ROOT_A, ROOT_B), LIST(ED1, EC1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1, EC1), 2), RK_OK);
	for (n = 0; n < len; n++) {
		/* A prefix never frames: each field reads past the end. */
		if ((rc = open_with(p, buf, n, LIST(ED1, EC1), 1)) != RK_ETRUNC)
			fail_msg("prefix of %zu bytes: %s", n, code_name(rc));
		assert_int_equal(parse_rc(buf, n), RK_ETRUNC);
	}
	assert_non_null(longer = malloc(len + 1));
	memcpy(longer, buf, len);
	for (n = 0; n < 256; n += 0x55) {
		longer[len] = (uint8_t)n;
		assert_int_equal(
		    open_with(p, longer, len + 1, LIST(ED1), 1), RK_ETRAILING);
		assert_int_equal(parse_rc(longer, len + 1), RK_ETRAILING);
	}
	free(longer);
	free(buf);
}

/* Appends a copy of the only signature record and bumps n_sigs. */
static uint8_t *
splice_duplicate(const uint8_t *buf, size_t len, size_t *out_len)
{
	struct bundle *b = NULL;
	uint8_t *out;
	size_t region, rec;

	assert_int_equal(bundle_parse(buf, len, &b, NULL), RK_OK);
	assert_int_equal(bundle_nsigs(b), 1);
	bundle_message(b, &region);
	region -= BUNDLE_CONTEXT_LEN;
	bundle_free(b);
	rec = len - region - 1;
	assert_non_null(out = malloc(len + rec));
	memcpy(out, buf, len);
	memcpy(out + len, buf + region + 1, rec);
	out[region] = 2;
	*out_len = len + rec;
	return out;
}

static void
test_wrong_key_threshold_duplicate(void **state)
{
	const struct pki *p = *state;
	struct bundle *b = NULL;
	struct pubkey *keys[2];
	uint8_t *buf, *dup;
	size_t len, dlen;
	unsigned valid = 99;

	/* Signed by a key that is not pinned. */
	buf = build(p, JSON_OK, LIST(ROOT_A), LIST(ED2), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_ESIG);
	assert_int_equal(open_with(p, buf, len, LIST(EC1, ED3), 1), RK_ESIG);
	assert_int_equal(open_with(p, buf, len, LIST(ED2), 1), RK_OK);
	free(buf);
	buf = build(p, JSON_OK, LIST(ROOT_A), LIST(EC2), &len);
	assert_int_equal(open_with(p, buf, len, LIST(EC1), 1), RK_ESIG);
	free(buf);

	/* Below threshold: one valid signature where two are required. */
	buf = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1, ED2), 2), RK_ESIG);
	assert_int_equal(
	    open_with(p, buf, len, LIST(ED1, ED2, EC1), 2), RK_ESIG);

	/* The same key twice in the file counts once. */
	dup = splice_duplicate(buf, len, &dlen);
	assert_int_equal(parse_rc(dup, dlen), RK_OK);
	assert_int_equal(open_with(p, dup, dlen, LIST(ED1), 1), RK_OK);
	assert_int_equal(open_with(p, dup, dlen, LIST(ED1), 2), RK_ESIG);
	assert_int_equal(open_with(p, dup, dlen, LIST(ED1, ED1), 2), RK_ESIG);
	assert_int_equal(bundle_parse(dup, dlen, &b, NULL), RK_OK);
	keys[0] = keys[1] = p->pub[ED1];
	assert_int_equal(
	    bundle_verify_sigs(b, keys, 2, 2, &valid, NULL), RK_ESIG);
	assert_int_equal(valid, 1);
	assert_int_equal(
	    bundle_verify_sigs(b, keys, 2, 0, &valid, NULL), RK_EINVAL);
	/* and bundle_add_sig refuses to make such a file */
	assert_int_equal(
	    bundle_add_sig(b, bundle_sig(b, 0)->key_id, CRYPTO_ED25519,
		bundle_sig(b, 0)->sig, BUNDLE_ED25519_SIG),
	    RK_EEXIST);
	bundle_free(b);
	free(dup);
	free(buf);

	/* A valid signature moved onto another bundle does not verify. */
	{
		uint8_t *other, *mixed;
		size_t olen, sigblock;

		buf = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &len);
		other = build(p, JSON_OK, LIST(ROOT_B), LIST(ED1), &olen);
		assert_int_equal(len, olen); /* same-size certs */
		sigblock = 1 + 32 + 1 + 2 + BUNDLE_ED25519_SIG;
		assert_non_null(mixed = malloc(len));
		memcpy(mixed, buf, len - sigblock);
		memcpy(
		    mixed + len - sigblock, other + olen - sigblock, sigblock);
		assert_int_equal(
		    open_with(p, mixed, len, LIST(ED1), 1), RK_ESIG);
		free(mixed);
		free(other);
		free(buf);
	}
}

/*
 * The memo of signature checks: a slot is verified once, by the key its
 * key id names; a key not checked before (a rotation) is verified for
 * real, and its slot's verdict is kept beside the others.
 */
static void
test_verify_memo(void **state)
{
	const struct pki *p = *state;
	struct bundle *b = NULL;
	struct pubkey *k1[1] = {p->pub[ED1]}, *k2[1] = {p->pub[ED2]},
		      *k3[1] = {p->pub[ED3]};
	signed char memo[BUNDLE_MAX_SIGS];
	uint8_t *buf;
	size_t len, i;
	unsigned valid = 99;

	buf = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1, ED2), &len);
	assert_int_equal(bundle_parse(buf, len, &b, NULL), RK_OK);
	memset(memo, 0, sizeof(memo));
	assert_int_equal(
	    bundle_verify_sigs_memo(b, k1, 1, 1, memo, &valid, NULL), RK_OK);
	assert_int_equal(valid, 1);
	assert_int_equal(memo[0], 1);
	for (i = 1; i < BUNDLE_MAX_SIGS; i++)
		assert_int_equal(memo[i], 0);
	/* A kept verdict is used as it is: slot 0 is not verified again. */
	memo[0] = -1;
	assert_int_equal(
	    bundle_verify_sigs_memo(b, k1, 1, 1, memo, &valid, NULL), RK_ESIG);
	assert_int_equal(valid, 0);
	/* Other keys pinned since: their slot is verified for real. */
	assert_int_equal(
	    bundle_verify_sigs_memo(b, k2, 1, 1, memo, &valid, NULL), RK_OK);
	assert_int_equal(memo[1], 1);
	/* A key that signed nothing finds nothing, kept or not. */
	assert_int_equal(
	    bundle_verify_sigs_memo(b, k3, 1, 1, memo, &valid, NULL), RK_ESIG);
	assert_int_equal(memo[0], -1);
	assert_int_equal(memo[1], 1);
	assert_int_equal(memo[2], 0);
	/* Without a memo, every slot is verified. */
	assert_int_equal(bundle_verify_sigs(b, k1, 1, 1, &valid, NULL), RK_OK);
	bundle_free(b);
	free(buf);

	/* A bad signature is kept as such. */
	buf = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &len);
	buf[len - 1] ^= 1;
	assert_int_equal(bundle_parse(buf, len, &b, NULL), RK_OK);
	memset(memo, 0, sizeof(memo));
	assert_int_equal(
	    bundle_verify_sigs_memo(b, k1, 1, 1, memo, &valid, NULL), RK_ESIG);
	assert_int_equal(memo[0], -1);
	bundle_free(b);
	free(buf);
}

static void
test_manifest_rejected(void **state)
{
	static const char *const bad[] = {
	    /* unknown fields, at the top and inside */
	    JSON_HEAD "1" JSON_TIMES ",\"extra\":1}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":\""
		      "000000000000000000000000000000000000000000000000000000"
		      "0000000000\",\"comment\":\"x\"}]}",
	    /* duplicate keys */
	    JSON_HEAD "1,\"version\":2" JSON_TIMES "}",
	    JSON_HEAD "1" JSON_TIMES ",\"note\":\"a\",\"note\":\"b\"}",
	    /* times: not UTC, not the one spelling, not a date */
	    JSON_HEAD "1,\"issued_at\":\"2026-01-01T00:00:00+01:00\","
		      "\"expires_at\":\"" T_EXPIRES "\"}",
	    JSON_HEAD "1,\"issued_at\":\"2026-01-01T00:00:00\","
		      "\"expires_at\":\"" T_EXPIRES "\"}",
	    JSON_HEAD "1,\"issued_at\":\"2026-01-01T00:00:00.5Z\","
		      "\"expires_at\":\"" T_EXPIRES "\"}",
	    JSON_HEAD "1,\"issued_at\":\"2026-01-01t00:00:00z\","
		      "\"expires_at\":\"" T_EXPIRES "\"}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":\"2099-02-30T00:00:00Z\"}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":\"2027-02-29T00:00:00Z\"}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":1900000000}",
	    /* expires before (or at) issued */
	    JSON_HEAD "1,\"issued_at\":\"" T_EXPIRES "\","
		      "\"expires_at\":\"" T_ISSUED "\"}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":\"" T_ISSUED "\"}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\"}",
	    /* versions */
	    JSON_HEAD "0" JSON_TIMES "}",
	    JSON_HEAD "9007199254740992" JSON_TIMES "}",
	    JSON_HEAD "-1" JSON_TIMES "}",
	    JSON_HEAD "1.0" JSON_TIMES "}",
	    JSON_HEAD "\"1\"" JSON_TIMES "}",
	    JSON_HEAD "18446744073709551617" JSON_TIMES "}",
	    JSON_HEAD "4.2e1" JSON_TIMES "}",
	    /* format */
	    "{\"format\":2,\"channel\":\"test\",\"version\":1" JSON_TIMES "}",
	    "{\"format\":0,\"channel\":\"test\",\"version\":1" JSON_TIMES "}",
	    "{\"channel\":\"test\",\"version\":1" JSON_TIMES "}",
	    /* channels */
	    "{\"format\":1,\"channel\":\"Test\",\"version\":1" JSON_TIMES "}",
	    "{\"format\":1,\"channel\":\"\",\"version\":1" JSON_TIMES "}",
	    "{\"format\":1,\"channel\":\"a/b\",\"version\":1" JSON_TIMES "}",
	    "{\"format\":1,\"channel\":\"a b\",\"version\":1" JSON_TIMES "}",
	    "{\"format\":1,\"channel\":\"t\\u0000x\",\"version\":1" JSON_TIMES
	    "}",
	    "{\"format\":1,\"channel\":\"" /* 65 characters */
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	    "abcde\",\"version\":1" JSON_TIMES "}",
	    "{\"format\":1,\"version\":1" JSON_TIMES "}",
	    /* distrust and next_keys that say nothing sane */
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":\""
		      "ABCDEF0000000000000000000000000000000000000000000000000"
		      "000000000\"}]}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":{}}",
	    JSON_HEAD "1" JSON_TIMES ",\"next_keys\":{\"threshold\":1,"
		      "\"keys\":[]}}",
	    JSON_HEAD "1" JSON_TIMES ",\"next_keys\":{\"threshold\":1,"
		      "\"keys\":[\"bm90IGEga2V5\"]}}",
	    JSON_HEAD "1,\"issued_at\":\"2026-06-30T23:59:60Z\","
		      "\"expires_at\":\"" T_EXPIRES "\"}",
	    JSON_HEAD "1,\"issued_at\":\"1969-12-31T23:59:59Z\","
		      "\"expires_at\":\"" T_EXPIRES "\"}",
	    JSON_HEAD "1" JSON_TIMES ",\"note\":\"a\\u0000b\"}",
	    JSON_HEAD "1" JSON_TIMES ",\"note\":7}",
	    /* rollouts: range, syntax, strictness */
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":0,"
		      "\"seed\":\"s\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":101,"
		      "\"seed\":\"s\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10.0,"
		      "\"seed\":\"s\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":\"10\","
		      "\"seed\":\"s\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"Upper\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"a\\u0000b\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"" /* 65 characters */
		      "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
		      "abcdefghijabcde\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"seed\":\"s\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"s\",\"extra\":1}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"s\",\"percent\":20}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":10,"
		      "\"seed\":\"s\"},\"rollout\":{\"percent\":10,"
		      "\"seed\":\"s\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":[10,\"s\"]}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":null}",
	    /* lifts: only true, never with after, once per fingerprint */
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":false}]}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":1}]}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":\"true\"}]}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":true,\"after\":\"" T_ISSUED "\"}]}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":true,\"lift\":true}]}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":true},{\"sha256\":" ZERO_FP "}]}",
	    /* not JSON, or not an object */
	    "\xef\xbb\xbf" JSON_OK,
	    JSON_HEAD "1" JSON_TIMES,
	    "[" JSON_OK "]",
	    JSON_OK " {}",
	};
	static const char *const good[] = {
	    JSON_OK,
	    JSON_HEAD "9007199254740991" JSON_TIMES "}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":\"2028-02-29T00:00:00Z\"}",
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":\"2026-01-01T00:00:01Z\"}",
	    "{\"format\":1,\"channel\":\"" /* 64 characters */
	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	    "a.-_\",\"version\":1" JSON_TIMES "}",
	    JSON_HEAD "1" JSON_TIMES ",\"note\":\"free \\u00e9 text\"}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[]}",
	    " " JSON_OK "\n",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"percent\":1,"
		      "\"seed\":\"a\"}}",
	    JSON_HEAD "1" JSON_TIMES ",\"rollout\":{\"seed\":"
		      "\"2026-hub-migration\",\"percent\":100}}",
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":" ZERO_FP
		      ",\"lift\":true,\"reason\":\"by mistake\"}]}",
	};
	const struct pki *p = *state;
	uint8_t *buf;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf = build(p, bad[i], LIST(ROOT_A), LIST(ED1), &len);
		rc = open_with(p, buf, len, LIST(ED1), 1);
		if (rc != RK_EMANIFEST)
			fail_msg("bad manifest %zu: %s (%s)", i, code_name(rc),
			    bad[i]);
		free(buf);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		buf = build(p, good[i], LIST(ROOT_A), LIST(ED1), &len);
		rc = open_with(p, buf, len, LIST(ED1), 1);
		if (rc != RK_OK)
			fail_msg("good manifest %zu: %s (%s)", i, code_name(rc),
			    good[i]);
		free(buf);
	}
}

/* rollout and lift survive encode and parse, in the documented order. */
static void
test_rollout_lift_roundtrip(void **state)
{
	struct distrust d[2];
	struct manifest m, *back = NULL;
	uint8_t *enc = NULL;
	size_t len = 0;
	const char *r, *l;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(d, 0, sizeof(d));
	memcpy(m.channel, "test", 5);
	m.version = 3;
	m.issued_at = 1767225600;
	m.expires_at = 4070908800;
	memset(d[0].sha256, 0xab, sizeof(d[0].sha256));
	d[0].lift = 1;
	memset(d[1].sha256, 0xcd, sizeof(d[1].sha256));
	d[1].has_after = 1;
	d[1].after = 1767225600;
	m.distrust = d;
	m.n_distrust = 2;
	m.rollout.percent = 25;
	memcpy(m.rollout.seed, "wave-2", 7);
	assert_int_equal(manifest_encode(&m, &enc, &len, NULL), RK_OK);
	assert_non_null(r = memmem(enc, len,
			    "\"rollout\":{\"percent\":25,\"seed\":"
			    "\"wave-2\"}",
			    40));
	assert_non_null(l = memmem(enc, len, "\"lift\":true", 11));
	assert_true(l < r); /* distrust comes before rollout */
	assert_int_equal(manifest_parse(enc, len, &back, NULL), RK_OK);
	assert_int_equal(back->rollout.percent, 25);
	assert_string_equal(back->rollout.seed, "wave-2");
	assert_int_equal(back->n_distrust, 2);
	assert_true(back->distrust[0].lift);
	assert_false(back->distrust[0].has_after);
	assert_false(manifest_distrust_full(&back->distrust[0]));
	assert_false(back->distrust[1].lift);
	assert_true(back->distrust[1].has_after);
	manifest_free(back);
	free(enc);
	/* A lift that also names a date is not encoded. */
	d[0].has_after = 1;
	assert_int_equal(manifest_encode(&m, &enc, &len, NULL), RK_EMANIFEST);
	d[0].has_after = 0;
	/* Nor is a seed outside the syntax. */
	memcpy(m.rollout.seed, "Wave", 5);
	assert_int_equal(manifest_encode(&m, &enc, &len, NULL), RK_EMANIFEST);
}

static void
test_certs(void **state)
{
	const struct pki *p = *state;
	uint8_t hash[CRYPTO_SHA256_LEN], junk[600];
	char hex[2 * CRYPTO_SHA256_LEN + 1], json[512];
	struct bundle *b = NULL;

	assert_int_equal(
	    open_json(p, JSON_OK, LIST(ROOT_A, ROOT_B, LEAF)), RK_ECERT);
	assert_int_equal(open_json(p, JSON_OK, LIST(LEAF)), RK_ECERT);
	assert_int_equal(
	    open_json(p, JSON_OK, LIST(ROOT_A, ROOT_B, ROOT_A)), RK_ECERT);

	/* A v1 self-signed root is a root. */
	assert_int_equal(open_json(p, JSON_OK, LIST(ROOT_V1)), RK_OK);
	/*
	 * Dates are policy (and partly the TLS layer's): the format carries
	 * an expired root as it is.
	 */
	assert_int_equal(
	    open_json(p, JSON_OK, LIST(ROOT_EXPIRED, ROOT_A)), RK_OK);

	/* Fully distrusted and also in the set; distrust-after is fine. */
	assert_int_equal(
	    crypto_sha256(p->cert[ROOT_B], p->cert_len[ROOT_B], NULL, 0, hash),
	    RK_OK);
	hex_encode(hash, sizeof(hash), hex);
	snprintf(json, sizeof(json),
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":\"%s\","
		      "\"reason\":\"test\"}]}",
	    hex);
	assert_int_equal(open_json(p, json, LIST(ROOT_A, ROOT_B)), RK_ECERT);
	assert_int_equal(open_json(p, json, LIST(ROOT_A)), RK_OK);
	snprintf(json, sizeof(json),
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":\"%s\","
		      "\"after\":\"2025-06-30T00:00:00Z\"}]}",
	    hex);
	assert_int_equal(open_json(p, json, LIST(ROOT_A, ROOT_B)), RK_OK);
	/* A lifted fingerprint may be in the set again. */
	snprintf(json, sizeof(json),
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":\"%s\","
		      "\"lift\":true}]}",
	    hex);
	assert_int_equal(open_json(p, json, LIST(ROOT_A, ROOT_B)), RK_OK);

	/* Not X.509 at all, or X.509 with a byte after it. */
	memset(junk, 0x30, sizeof(junk));
	{
		const uint8_t *ders[2] = {p->cert[ROOT_A], junk};
		size_t lens[2] = {p->cert_len[ROOT_A], 10};
		struct manifest *m = NULL;

		assert_int_equal(bundle_new((const uint8_t *)JSON_OK,
				     strlen(JSON_OK), ders, lens, 2, &b, NULL),
		    RK_OK);
		assert_int_equal(manifest_parse((const uint8_t *)JSON_OK,
				     strlen(JSON_OK), &m, NULL),
		    RK_OK);
		assert_int_equal(
		    bundle_check_certs(b, m, NULL, NULL), RK_ECERT);
		bundle_free(b);
		memcpy(junk, p->cert[ROOT_A], p->cert_len[ROOT_A]);
		junk[p->cert_len[ROOT_A]] = 0;
		ders[0] = junk;
		lens[0] = p->cert_len[ROOT_A] + 1;
		assert_int_equal(bundle_new((const uint8_t *)JSON_OK,
				     strlen(JSON_OK), ders, lens, 1, &b, NULL),
		    RK_OK);
		assert_int_equal(
		    bundle_check_certs(b, m, NULL, NULL), RK_ECERT);
		bundle_free(b);
		manifest_free(m);
	}
}

/* Hand-made framing; the content matches the fields, none of it signed. */
struct frame {
	uint32_t man_len;
	uint32_t n_certs;
	uint32_t der_len;
	uint32_t n_sigs; /* written as a u8 */
	uint8_t alg;
	uint16_t sig_len;
};

static const struct frame frame_ok = {2, 1, 1, 1, CRYPTO_ED25519, 64};

static uint8_t *
frame_bytes(const struct frame *f, size_t *len)
{
	struct wbuf w;
	uint8_t zero[65536];
	size_t i;

	memset(zero, 0, sizeof(zero));
	wbuf_init(&w, SIZE_MAX);
	wbuf_put(&w, BUNDLE_MAGIC, 4);
	wbuf_u32(&w, f->man_len);
	for (i = 0; i < f->man_len; i++)
		wbuf_u8(&w, (uint8_t)(i == 0		    ? '{'
				      : i + 1 == f->man_len ? '}'
							    : ' '));
	wbuf_u32(&w, f->n_certs);
	for (i = 0; i < f->n_certs; i++) {
		wbuf_u32(&w, f->der_len);
		wbuf_put(&w, zero, f->der_len);
	}
	wbuf_u8(&w, (uint8_t)f->n_sigs);
	for (i = 0; i < f->n_sigs; i++) {
		memset(zero, (int)i, 32); /* distinct key ids */
		wbuf_put(&w, zero, 32);
		memset(zero, 0, 32);
		wbuf_u8(&w, f->alg);
		wbuf_u16(&w, f->sig_len);
		wbuf_put(&w, zero, f->sig_len);
	}
	assert_int_equal(w.err, RK_OK);
	*len = w.len;
	return w.p;
}

static int
frame_rc(const struct frame *f)
{
	uint8_t *buf;
	size_t len;
	int rc;

	buf = frame_bytes(f, &len);
	rc = parse_rc(buf, len);
	free(buf);
	return rc;
}

static void
test_framing_zero_and_magic(void **state)
{
	const struct pki *p = *state;
	struct frame f;
	uint8_t *buf;
	size_t len;

	assert_int_equal(frame_rc(&frame_ok), RK_OK);
	f = frame_ok;
	f.n_certs = 0;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	buf = frame_bytes(&f, &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_EFORMAT);
	free(buf);
	f = frame_ok;
	f.n_sigs = 0;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	buf = frame_bytes(&f, &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_EFORMAT);
	free(buf);
	f = frame_ok;
	f.man_len = 0;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f = frame_ok;
	f.der_len = 0;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f = frame_ok;
	f.alg = 0;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f.alg = 3;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f.alg = CRYPTO_ECDSA_P256;
	f.sig_len = 0;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);

	buf = frame_bytes(&frame_ok, &len);
	buf[3] = '2';
	assert_int_equal(parse_rc(buf, len), RK_EFORMAT);
	free(buf);
	assert_int_equal(parse_rc(NULL, 0), RK_ETRUNC);
}

/* DESIGN section 8 limits, one over: refused for that limit. */
static void
test_limits_over(void **state)
{
	const struct pki *p = *state;
	struct frame f;
	struct bundle *b = NULL;
	uint8_t *buf, *man, sig[BUNDLE_ECDSA_MAX_SIG + 1], id[32];
	const uint8_t *ders[1];
	size_t len, lens[1], i;

	f = frame_ok;
	f.man_len = BUNDLE_MAX_MANIFEST + 1;
	assert_int_equal(frame_rc(&f), RK_ELIMIT);
	buf = frame_bytes(&f, &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_ELIMIT);
	free(buf);
	f = frame_ok;
	f.n_certs = BUNDLE_MAX_CERTS + 1;
	assert_int_equal(frame_rc(&f), RK_ELIMIT);
	f = frame_ok;
	f.der_len = BUNDLE_MAX_CERT + 1;
	assert_int_equal(frame_rc(&f), RK_ELIMIT);
	f = frame_ok;
	f.n_sigs = BUNDLE_MAX_SIGS + 1;
	assert_int_equal(frame_rc(&f), RK_ELIMIT);
	f.n_sigs = 255;
	assert_int_equal(frame_rc(&f), RK_ELIMIT);
	f = frame_ok;
	f.alg = CRYPTO_ECDSA_P256;
	f.sig_len = BUNDLE_ECDSA_MAX_SIG + 1;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f.sig_len = 0xffff;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f = frame_ok;
	f.sig_len = BUNDLE_ED25519_SIG - 1;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	f.sig_len = BUNDLE_ED25519_SIG + 1;
	assert_int_equal(frame_rc(&f), RK_EFORMAT);
	/* Counts far beyond the data are refused before any allocation. */
	f = frame_ok;
	buf = frame_bytes(&f, &len);
	buf[4 + 4 + 2 + 2] = 0x04; /* n_certs 1 -> 1024, one cert there */
	buf[4 + 4 + 2 + 3] = 0x00;
	assert_int_equal(parse_rc(buf, len), RK_ETRUNC);
	free(buf);

	/* The file size cap of bundle_open, one byte over. */
	buf = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &len);
	{
		struct pubkey *keys[1] = {p->pub[ED1]};
		struct bundle *ob = NULL;
		struct manifest *m = NULL;

		assert_int_equal(
		    bundle_open(buf, len, len - 1, keys, 1, 1, &ob, &m, NULL),
		    RK_ELIMIT);
		assert_null(ob);
		assert_null(m);
		assert_int_equal(
		    bundle_open(buf, len, len, keys, 1, 1, &ob, &m, NULL),
		    RK_OK);
		bundle_free(ob);
		manifest_free(m);
	}
	free(buf);

	/* The builder refuses what the parser would. */
	assert_non_null(man = malloc(BUNDLE_MAX_MANIFEST + 1));
	memset(man, ' ', BUNDLE_MAX_MANIFEST + 1);
	ders[0] = p->cert[ROOT_A];
	lens[0] = p->cert_len[ROOT_A];
	assert_int_equal(
	    bundle_new(man, BUNDLE_MAX_MANIFEST + 1, ders, lens, 1, &b, NULL),
	    RK_ELIMIT);
	assert_int_equal(
	    bundle_new(man, 0, ders, lens, 1, &b, NULL), RK_ELIMIT);
	assert_int_equal(
	    bundle_new(man, 2, ders, lens, 0, &b, NULL), RK_ELIMIT);
	ders[0] = man;
	lens[0] = BUNDLE_MAX_CERT + 1;
	assert_int_equal(
	    bundle_new(man, 2, ders, lens, 1, &b, NULL), RK_ELIMIT);
	{
		const uint8_t **many;
		size_t *many_lens;

		assert_non_null(
		    many = calloc(BUNDLE_MAX_CERTS + 1, sizeof(*many)));
		assert_non_null(many_lens = calloc(
				    BUNDLE_MAX_CERTS + 1, sizeof(*many_lens)));
		for (i = 0; i <= BUNDLE_MAX_CERTS; i++) {
			many[i] = man;
			many_lens[i] = 1;
		}
		assert_int_equal(bundle_new(man, 2, many, many_lens,
				     BUNDLE_MAX_CERTS + 1, &b, NULL),
		    RK_ELIMIT);
		assert_int_equal(bundle_new(man, 2, many, many_lens,
				     BUNDLE_MAX_CERTS, &b, NULL),
		    RK_OK);
		free(many);
		free(many_lens);
	}
	free(man);
	/* 16 signatures fit, the 17th does not; bad lengths are refused. */
	memset(sig, 0x30, sizeof(sig));
	for (i = 0; i < BUNDLE_MAX_SIGS; i++) {
		memset(id, (int)i, sizeof(id));
		assert_int_equal(bundle_add_sig(b, id, CRYPTO_ED25519, sig,
				     BUNDLE_ED25519_SIG),
		    RK_OK);
	}
	memset(id, 0xee, sizeof(id));
	assert_int_equal(
	    bundle_add_sig(b, id, CRYPTO_ED25519, sig, BUNDLE_ED25519_SIG),
	    RK_ELIMIT);
	assert_int_equal(bundle_add_sig(b, id, CRYPTO_ECDSA_P256, sig,
			     BUNDLE_ECDSA_MAX_SIG + 1),
	    RK_EINVAL);
	assert_int_equal(
	    bundle_add_sig(b, id, CRYPTO_ED25519, sig, BUNDLE_ED25519_SIG - 1),
	    RK_EINVAL);
	assert_int_equal(bundle_add_sig(b, id, 3, sig, 64), RK_EINVAL);
	assert_int_equal(bundle_nsigs(b), BUNDLE_MAX_SIGS);
	bundle_free(b);
}

/* The same limits exactly at: not refused for that reason. */
static void
test_limits_at(void **state)
{
	const struct pki *p = *state;
	struct frame f;
	uint8_t *buf, *man;
	size_t len, head;

	f = frame_ok;
	f.man_len = BUNDLE_MAX_MANIFEST;
	assert_int_equal(frame_rc(&f), RK_OK);
	f = frame_ok;
	f.n_certs = BUNDLE_MAX_CERTS;
	assert_int_equal(frame_rc(&f), RK_OK);
	f = frame_ok;
	f.der_len = BUNDLE_MAX_CERT;
	assert_int_equal(frame_rc(&f), RK_OK);
	f = frame_ok;
	f.n_sigs = BUNDLE_MAX_SIGS;
	assert_int_equal(frame_rc(&f), RK_OK);
	f = frame_ok;
	f.alg = CRYPTO_ECDSA_P256;
	f.sig_len = BUNDLE_ECDSA_MAX_SIG;
	assert_int_equal(frame_rc(&f), RK_OK);
	f.sig_len = 1;
	assert_int_equal(frame_rc(&f), RK_OK);
	f = frame_ok;
	f.n_certs = BUNDLE_MAX_CERTS;
	f.der_len = 64;
	f.n_sigs = BUNDLE_MAX_SIGS;
	f.man_len = BUNDLE_MAX_MANIFEST;
	assert_int_equal(frame_rc(&f), RK_OK);

	/*
	 * A real manifest of exactly 65536 bytes (a long note), signed:
	 * the whole of bundle_open accepts it.
	 */
	head = strlen(JSON_HEAD "1" JSON_TIMES ",\"note\":\"");
	assert_non_null(man = malloc(BUNDLE_MAX_MANIFEST));
	memcpy(man, JSON_HEAD "1" JSON_TIMES ",\"note\":\"", head);
	memset(man + head, 'n', BUNDLE_MAX_MANIFEST - head - 2);
	memcpy(man + BUNDLE_MAX_MANIFEST - 2, "\"}", 2);
	buf = fixture_build(
	    p, man, BUNDLE_MAX_MANIFEST, LIST(ROOT_A), LIST(ED1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_OK);
	free(buf);
	free(man);
}

static void wbuf_printf(struct wbuf *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends printf output to a growing buffer (a test helper). */
static void
wbuf_printf(struct wbuf *w, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(tmp));
	wbuf_put(w, tmp, (size_t)n);
}

/* A manifest with n distrust entries (or a bare list); NUL-terminated. */
static char *
distrust_json(size_t n, int bare, size_t *len)
{
	struct wbuf w;
	size_t i;

	wbuf_init(&w, SIZE_MAX);
	if (!bare)
		wbuf_printf(
		    &w, "%s", JSON_HEAD "1" JSON_TIMES ",\"distrust\":");
	wbuf_printf(&w, "[");
	for (i = 0; i < n; i++)
		wbuf_printf(&w, "%s{\"sha256\":\"%064zx\"}", i ? "," : "", i);
	wbuf_printf(&w, "%s", bare ? "]" : "]}");
	wbuf_u8(&w, 0);
	assert_int_equal(w.err, RK_OK);
	*len = w.len - 1;
	return (char *)w.p;
}

/*
 * The manifest's own limits (FORMAT section 6): 1024 distrust entries
 * (more than a 64 KiB manifest can hold, so checked on the decoders
 * directly) and 16 next keys, at and one over.
 */
static void
test_manifest_limits(void **state)
{
	const struct pki *p = *state;
	struct privkey *gen[MANIFEST_MAX_NEXT_KEYS + 1];
	struct manifest *m = NULL;
	struct distrust *d = NULL;
	struct pubkey *pub;
	struct wbuf w;
	const uint8_t *spki;
	uint8_t *buf;
	char *json, *b64;
	size_t i, n, len, spki_len, nd = 0;
	int which;

	json = distrust_json(MANIFEST_MAX_DISTRUST, 0, &len);
	assert_int_equal(manifest_parse((uint8_t *)json, len, &m, NULL), RK_OK);
	assert_int_equal(m->n_distrust, MANIFEST_MAX_DISTRUST);
	manifest_free(m);
	m = NULL;
	free(json);
	json = distrust_json(MANIFEST_MAX_DISTRUST + 1, 0, &len);
	assert_int_equal(
	    manifest_parse((uint8_t *)json, len, &m, NULL), RK_EMANIFEST);
	free(json);
	json = distrust_json(MANIFEST_MAX_DISTRUST, 1, &len);
	assert_int_equal(
	    manifest_parse_distrust((uint8_t *)json, len, &d, &nd, NULL),
	    RK_OK);
	assert_int_equal(nd, MANIFEST_MAX_DISTRUST);
	manifest_free_distrust(d, nd);
	free(json);
	json = distrust_json(MANIFEST_MAX_DISTRUST + 1, 1, &len);
	assert_int_equal(
	    manifest_parse_distrust((uint8_t *)json, len, &d, &nd, NULL),
	    RK_EMANIFEST);
	free(json);
	/* A fingerprint listed twice. */
	json = distrust_json(2, 1, &len);
	assert_non_null(strstr(json, "01\"}]"));
	memcpy(strstr(json, "01\"}]"), "00", 2); /* entry 1 := entry 0 */
	assert_int_equal(
	    manifest_parse_distrust((uint8_t *)json, len, &d, &nd, NULL),
	    RK_EMANIFEST);
	free(json);

	for (i = 0; i <= MANIFEST_MAX_NEXT_KEYS; i++)
		assert_int_equal(
		    privkey_generate(
			i % 2 ? CRYPTO_ECDSA_P256 : CRYPTO_ED25519, &gen[i]),
		    RK_OK);
	for (n = MANIFEST_MAX_NEXT_KEYS; n <= MANIFEST_MAX_NEXT_KEYS + 1; n++) {
		wbuf_init(&w, SIZE_MAX);
		wbuf_printf(&w, "%s",
		    JSON_HEAD "1" JSON_TIMES
			      ",\"next_keys\":{\"threshold\":1,\"keys\":[");
		for (i = 0; i < n; i++) {
			assert_int_equal(privkey_public(gen[i], &pub), RK_OK);
			spki = pubkey_spki(pub, &spki_len);
			assert_int_equal(
			    base64_encode(spki, spki_len, &b64), RK_OK);
			wbuf_printf(&w, "%s\"%s\"", i ? "," : "", b64);
			free(b64);
			pubkey_free(pub);
		}
		wbuf_printf(&w, "]}}");
		assert_int_equal(w.err, RK_OK);
		/* Signed by the pinned key and by the last new key. */
		{
			const uint8_t *ders[1] = {p->cert[ROOT_A]};
			size_t lens[1] = {p->cert_len[ROOT_A]};
			struct bundle *b = NULL;
			uint8_t sig[KEYS_MAX_SIG];
			const uint8_t *msg;
			size_t msglen, siglen;

			assert_int_equal(
			    bundle_new(w.p, w.len, ders, lens, 1, &b, NULL),
			    RK_OK);
			fixture_sign(p, b, ED1);
			msg = bundle_message(b, &msglen);
			assert_int_equal(
			    privkey_sign(gen[n - 1], msg, msglen, sig, &siglen),
			    RK_OK);
			assert_int_equal(
			    privkey_public(gen[n - 1], &pub), RK_OK);
			assert_int_equal(
			    bundle_add_sig(b, pubkey_id(pub),
				(uint8_t)pubkey_alg(pub), sig, siglen),
			    RK_OK);
			pubkey_free(pub);
			assert_int_equal(bundle_encode(b, &buf, &len), RK_OK);
			bundle_free(b);
		}
		which = open_with(p, buf, len, LIST(ED1), 1);
		assert_int_equal(
		    which, n <= MANIFEST_MAX_NEXT_KEYS ? RK_OK : RK_EMANIFEST);
		free(buf);
		wbuf_free(&w);
	}
	for (i = 0; i <= MANIFEST_MAX_NEXT_KEYS; i++)
		privkey_free(gen[i]);
}

static void
test_next_keys(void **state)
{
	const struct pki *p = *state;
	struct pubkey *next[2] = {p->pub[ED2], p->pub[EC2]};
	uint8_t *man, *buf;
	size_t man_len, len;

	/* Rotate to ED2 alone. */
	encoded_manifest(next, 1, 1, &man, &man_len);
	buf = fixture_build(p, man, man_len, LIST(ROOT_A), LIST(ED1), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_ESIG);
	free(buf);
	buf =
	    fixture_build(p, man, man_len, LIST(ROOT_A), LIST(ED1, ED2), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_OK);
	/* The new key's signature does not stand in for the pinned one. */
	free(buf);
	buf = fixture_build(p, man, man_len, LIST(ROOT_A), LIST(ED2), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_ESIG);
	free(buf);
	free(man);

	/* Rotate to 2 of {ED2, EC2}. */
	encoded_manifest(next, 2, 2, &man, &man_len);
	buf =
	    fixture_build(p, man, man_len, LIST(ROOT_A), LIST(ED1, ED2), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_ESIG);
	free(buf);
	buf = fixture_build(
	    p, man, man_len, LIST(ROOT_A), LIST(EC2, ED1, ED2), &len);
	assert_int_equal(open_with(p, buf, len, LIST(ED1), 1), RK_OK);
	free(buf);
	free(man);
}

/*
 * Golden files.  verdicts.txt has one line per bundle:
 *   <file> <expected code> <threshold> <pinned .pub files, comma-separated>
 * and the verdict is bundle_open(file, max_size 4 MiB, pins, threshold).
 */
struct golden {
	const char *name;
	int expect;
	unsigned threshold;
	int pins[3];
	size_t npins;
};

static void
put_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (fileio_write_atomic(path, data, len, 0644) != RK_OK)
		fail_msg("cannot write %s", path);
}

static void
write_golden(const struct pki *p, const char *dir)
{
	struct pubkey *next[1] = {p->pub[ED2]};
	char line[256], hex[2 * CRYPTO_SHA256_LEN + 1], json[512];
	uint8_t hash[CRYPTO_SHA256_LEN], *bufs[32], *man, *text;
	size_t lens[32], ng = 0, i, j, man_len, tlen, vlen = 0;
	struct golden g[32];
	char *verdicts;
	int used[NKEY] = {0};

#define GOLD(n, e, t, ...)                                                     \
	do {                                                                   \
		const int pins_[] = {__VA_ARGS__};                             \
		g[ng].name = (n);                                              \
		g[ng].expect = (e);                                            \
		g[ng].threshold = (t);                                         \
		g[ng].npins = sizeof(pins_) / sizeof(pins_[0]);                \
		memcpy(g[ng].pins, pins_, sizeof(pins_));                      \
	} while (0)

	GOLD("valid-ed25519", RK_OK, 1, ED1);
	bufs[ng] =
	    build(p, JSON_OK, LIST(ROOT_A, ROOT_B), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("valid-ecdsa", RK_OK, 1, EC1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A), LIST(EC1), &lens[ng]);
	ng++;
	GOLD("valid-2of3", RK_OK, 2, ED1, EC1, ED2);
	bufs[ng] =
	    build(p, JSON_OK, LIST(ROOT_A, ROOT_B), LIST(ED1, EC1), &lens[ng]);
	ng++;
	GOLD("valid-v1-root", RK_OK, 1, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_V1), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("below-threshold", RK_ESIG, 2, ED1, EC1, ED2);
	bufs[ng] =
	    build(p, JSON_OK, LIST(ROOT_A, ROOT_B), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("wrong-key", RK_ESIG, 1, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A), LIST(ED3), &lens[ng]);
	ng++;
	/* valid-ed25519 with its version changed from 1 to 9 */
	GOLD("forged-version", RK_ESIG, 1, ED1);
	bufs[ng] =
	    build(p, JSON_OK, LIST(ROOT_A, ROOT_B), LIST(ED1), &lens[ng]);
	{
		uint8_t *v = memmem(bufs[ng], lens[ng], "\"version\":1", 11);

		assert_non_null(v);
		v[10] = '9';
	}
	ng++;
	GOLD("duplicate-signature", RK_ESIG, 2, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &lens[ng]);
	{
		uint8_t *d = splice_duplicate(bufs[ng], lens[ng], &lens[ng]);

		free(bufs[ng]);
		bufs[ng] = d;
	}
	ng++;
	GOLD("truncated", RK_ETRUNC, 1, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &lens[ng]);
	lens[ng]--;
	ng++;
	GOLD("trailing-byte", RK_ETRAILING, 1, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &lens[ng]);
	assert_non_null(bufs[ng] = realloc(bufs[ng], lens[ng] + 1));
	bufs[ng][lens[ng]++] = 0;
	ng++;
	GOLD("no-signatures", RK_EFORMAT, 1, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A), LIST(ED1), &lens[ng]);
	lens[ng] -= 32 + 1 + 2 + BUNDLE_ED25519_SIG; /* keep n_sigs */
	bufs[ng][lens[ng] - 1] = 0;
	ng++;
	GOLD("unknown-field", RK_EMANIFEST, 1, ED1);
	bufs[ng] = build(p, JSON_HEAD "1" JSON_TIMES ",\"extra\":true}",
	    LIST(ROOT_A), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("feb-30", RK_EMANIFEST, 1, ED1);
	bufs[ng] = build(p,
	    JSON_HEAD "1,\"issued_at\":\"" T_ISSUED "\","
		      "\"expires_at\":\"2099-02-30T00:00:00Z\"}",
	    LIST(ROOT_A), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("not-a-ca", RK_ECERT, 1, ED1);
	bufs[ng] = build(p, JSON_OK, LIST(ROOT_A, LEAF), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("duplicate-cert", RK_ECERT, 1, ED1);
	bufs[ng] =
	    build(p, JSON_OK, LIST(ROOT_A, ROOT_A), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("distrusted-in-set", RK_ECERT, 1, ED1);
	assert_int_equal(
	    crypto_sha256(p->cert[ROOT_B], p->cert_len[ROOT_B], NULL, 0, hash),
	    RK_OK);
	hex_encode(hash, sizeof(hash), hex);
	snprintf(json, sizeof(json),
	    JSON_HEAD "1" JSON_TIMES ",\"distrust\":[{\"sha256\":\"%s\"}]}",
	    hex);
	bufs[ng] = build(p, json, LIST(ROOT_A, ROOT_B), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("next-keys-unsigned", RK_ESIG, 1, ED1);
	encoded_manifest(next, 1, 1, &man, &man_len);
	bufs[ng] =
	    fixture_build(p, man, man_len, LIST(ROOT_A), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("next-keys-signed", RK_OK, 1, ED1);
	bufs[ng] = fixture_build(
	    p, man, man_len, LIST(ROOT_A), LIST(ED1, ED2), &lens[ng]);
	ng++;
	free(man);
	GOLD("rollout-and-lift", RK_OK, 1, ED1);
	snprintf(json, sizeof(json),
	    JSON_HEAD "2" JSON_TIMES ",\"distrust\":[{\"sha256\":\"%s\","
		      "\"lift\":true,\"reason\":\"distrusted by mistake\"}],"
		      "\"rollout\":{\"percent\":10,\"seed\":\"wave-1\"}}",
	    hex);
	bufs[ng] = build(p, json, LIST(ROOT_A, ROOT_B), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("lift-with-after", RK_EMANIFEST, 1, ED1);
	snprintf(json, sizeof(json),
	    JSON_HEAD "2" JSON_TIMES ",\"distrust\":[{\"sha256\":\"%s\","
		      "\"lift\":true,\"after\":\"" T_ISSUED "\"}]}",
	    hex);
	bufs[ng] = build(p, json, LIST(ROOT_A), LIST(ED1), &lens[ng]);
	ng++;
	GOLD("rollout-zero-percent", RK_EMANIFEST, 1, ED1);
	bufs[ng] = build(p,
	    JSON_HEAD "2" JSON_TIMES
		      ",\"rollout\":{\"percent\":0,\"seed\":\"wave-1\"}}",
	    LIST(ROOT_A), LIST(ED1), &lens[ng]);
	ng++;
#undef GOLD

	assert_non_null(verdicts = malloc(16384));
	vlen = (size_t)snprintf(verdicts, 16384,
	    "# Golden rootkeeper bundles (format v1), written by "
	    "tests/test_bundle.c\n"
	    "# (RK_WRITE_GOLDEN=golden ./test_bundle, run in tests/).\n"
	    "# <file> <verdict> <threshold> <pinned keys: .pub files here, "
	    "comma-separated>\n"
	    "# verdict = bundle_open(file, max size 4 MiB, pinned keys, "
	    "threshold): framing,\n"
	    "# then signatures, then manifest, certificates, next_keys.\n");
	for (i = 0; i < ng; i++) {
		/* Each golden file must say what it claims, right now. */
		int rc = open_with(
		    p, bufs[i], lens[i], g[i].pins, g[i].npins, g[i].threshold);

		if (rc != g[i].expect)
			fail_msg("golden %s: %s, want %s", g[i].name,
			    code_name(rc), code_name(g[i].expect));
		snprintf(line, sizeof(line), "%s.rkb", g[i].name);
		put_file(dir, line, bufs[i], lens[i]);
		vlen += (size_t)snprintf(verdicts + vlen, 16384 - vlen,
		    "%s.rkb %s %u ", g[i].name, code_name(g[i].expect),
		    g[i].threshold);
		for (j = 0; j < g[i].npins; j++) {
			used[g[i].pins[j]] = 1;
			vlen += (size_t)snprintf(verdicts + vlen, 16384 - vlen,
			    "%s%s.pub", j ? "," : "",
			    fixture_key_names[g[i].pins[j]]);
		}
		vlen += (size_t)snprintf(verdicts + vlen, 16384 - vlen, "\n");
		assert_true(vlen < 16384);
		free(bufs[i]);
	}
	put_file(dir, VERDICTS, verdicts, vlen);
	free(verdicts);
	for (i = 0; i < NKEY; i++) {
		if (!used[i])
			continue;
		snprintf(line, sizeof(line), FIXTURE_DATA_DIR "%s.pub",
		    fixture_key_names[i]);
		text = fixture_read(line, MAX_SIZE, &tlen);
		snprintf(line, sizeof(line), "%s.pub", fixture_key_names[i]);
		put_file(dir, line, text, tlen);
		free(text);
	}
}

static void
test_write_golden(void **state)
{
	write_golden(*state, getenv("RK_WRITE_GOLDEN"));
}

/* One verdicts.txt line; returns the bundle_open code. */
static int
golden_line(const char *file, unsigned threshold, char *pins)
{
	struct pubkey *keys[16];
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	char path[512], *name, *comma;
	uint8_t *buf, *text;
	size_t len, tlen, n = 0, i;
	int rc;

	for (name = pins; name != NULL; name = comma ? comma + 1 : NULL) {
		if ((comma = strchr(name, ',')) != NULL)
			*comma = '\0';
		assert_true(n < 16);
		snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
		text = fixture_read(path, MAX_SIZE, &tlen);
		assert_int_equal(
		    pubkey_from_pem((const char *)text, tlen, &keys[n]), RK_OK);
		free(text);
		n++;
	}
	assert_true(n > 0);
	snprintf(path, sizeof(path), GOLDEN_DIR "%s", file);
	buf = fixture_read(path, MAX_SIZE, &len);
	rc = bundle_open(buf, len, MAX_SIZE, keys, n, threshold, &b, &m, NULL);
	bundle_free(b);
	manifest_free(m);
	free(buf);
	for (i = 0; i < n; i++)
		pubkey_free(keys[i]);
	return rc;
}

static void
test_golden(void **state)
{
	char file[128], code[32], pins[256];
	uint8_t *text;
	char *line, *nl, *end;
	size_t len, lines = 0, ok = 0, seen[RK_ERR_COUNT] = {0}, kinds = 0;
	unsigned threshold;
	int rc, want;

	(void)state;
	text = fixture_read(GOLDEN_DIR VERDICTS, MAX_SIZE, &len);
	end = (char *)text + len;
	for (line = (char *)text; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "%127s %31s %u %255s", file, code, &threshold,
			pins) != 4)
			fail_msg("verdicts: bad line \"%s\"", line);
		want = code_from_name(code);
		rc = golden_line(file, threshold, pins);
		if (rc != want)
			fail_msg("golden %s: %s, want %s", file, code_name(rc),
			    code);
		lines++;
		ok += rc == RK_OK;
		assert_true(rc >= 0 && rc < RK_ERR_COUNT);
		if (seen[rc]++ == 0)
			kinds++;
	}
	free(text);
	/* The golden set must stay representative. */
	assert_true(lines >= 10);
	assert_true(ok >= 3);
	assert_true(kinds >= 6);
}

int
main(void)
{
	const struct CMUnitTest write[] = {
	    cmocka_unit_test(test_write_golden),
	};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_flip_every_byte),
	    cmocka_unit_test(test_truncate_and_trail),
	    cmocka_unit_test(test_wrong_key_threshold_duplicate),
	    cmocka_unit_test(test_verify_memo),
	    cmocka_unit_test(test_manifest_rejected),
	    cmocka_unit_test(test_certs),
	    cmocka_unit_test(test_rollout_lift_roundtrip),
	    cmocka_unit_test(test_framing_zero_and_magic),
	    cmocka_unit_test(test_limits_over),
	    cmocka_unit_test(test_limits_at),
	    cmocka_unit_test(test_manifest_limits),
	    cmocka_unit_test(test_next_keys),
	    cmocka_unit_test(test_golden),
	};
	int rc;

	if (getenv("RK_WRITE_GOLDEN") != NULL &&
	    (rc = cmocka_run_group_tests_name(
		 "write golden", write, setup, fixture_pki_teardown)) != 0)
		return rc;
	return cmocka_run_group_tests_name(
	    "bundle", tests, setup, fixture_pki_teardown);
}
