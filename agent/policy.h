/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device policy of DESIGN section 3, steps 1 to 7, as a pure function
 * of the candidate's bytes and the device's state: no network, no disk, no
 * clock of its own.  The first failing step rejects, and nothing of the
 * manifest is looked at before the signatures pass.  Step 8 (probes) and
 * step 9 (store, activate, export) are the caller's (agent.c), which runs
 * them only on POLICY_ACCEPT.  What the bytes say by themselves (parsed
 * framing and certificates, verified signatures) may be kept in a struct
 * policy_facts between two judgements of the same bytes: it is a record
 * of work done, never of the device's state, so the verdict stays the one
 * a judgement from scratch reaches.
 */
#ifndef RK_POLICY_H
#define RK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "crypto.h"
#include "error.h"
#include "manifest.h"
#include "store.h"

/* How far ahead of a sane clock a bundle's issued_at may be. */
#define POLICY_FUTURE_SLACK (24 * 3600)

struct policy_ctx {
	const char *channel; /* the device's */
	struct pubkey *const *keys;
	size_t nkeys;
	unsigned threshold;
	uint64_t highest_version; /* 0: nothing verified yet */
	const uint8_t *highest_sha256;
	/*
	 * SHA-256 of the stored bundle with this version, if the device
	 * has one: lets an older version with other bytes be called an
	 * equivocation, not just a rollback.  Returns 1 and fills sha when
	 * known.  May be NULL.
	 */
	int (*version_sha)(
	    void *arg, uint64_t version, uint8_t sha[CRYPTO_SHA256_LEN]);
	void *arg;
	int64_t now;   /* the system clock */
	int64_t floor; /* the time floor */
	/*
	 * A clock before this (the agent's build date) is not sane; nor is
	 * one behind the floor.  Only a sane clock may call a bundle
	 * "issued in the future".
	 */
	int64_t build_time;
	size_t max_size;
	const struct store_distrust *distrust; /* persistent list */
	size_t n_distrust;
	/* The rollout bucket's input; NULL when the device has no id. */
	const char *device_id;
	int ignore_rollout; /* a sideload: everyone takes it */
};

enum policy_verdict {
	POLICY_ACCEPT,	/* new, valid: may be activated */
	POLICY_CURRENT, /* the very bundle already verified: nothing to do */
	POLICY_REJECT,
	POLICY_DEFER, /* valid and new, but its rollout leaves this device out
		       */
};

/*
 * What a candidate's bytes say by themselves, learnt once and kept for the
 * next judgement of the same bytes: the file's SHA-256, its framing, each
 * signature slot's verdict under the key its key id names, the manifest,
 * and the certificates' facts with the verdict of their checks.  What the
 * device's state decides (the keys pinned and the threshold, versions,
 * time floor, distrust list, rollout) is never kept: a judgement looks at
 * it anew.  A judgement fills in what its steps reach, in their order, so
 * nothing of the manifest is parsed before a threshold of signatures
 * passed; the next judgement verifies only signatures by keys not checked
 * before (a rotation pins other keys, whose slots are verified for real).
 */
struct policy_facts;

/*
 * Facts for buf[0..len), which the caller keeps unchanged until
 * policy_facts_free(); its SHA-256 is taken now.  RK_ENOMEM, RK_ECRYPTO.
 */
int policy_facts_new(
    const uint8_t *buf, size_t len, struct policy_facts **out) RK_WUR;

/*
 * Certificates the device holds (store_version_certs()), each of which
 * passed step 6's checks of one certificate when it was stored: a
 * certificate of the candidate with the very same DER takes the facts
 * stored for it (SHA-256, subject, dates) instead of being parsed and
 * hashed again; the duplicate and distrust checks still see it.  For such
 * a certificate, version, is_ca and self_signed of its struct certinfo
 * are 0: the store does not keep them.  known[0..n) stays the caller's
 * until policy_facts_free(); give it before the first judgement.  Out of
 * memory, nothing is known and every certificate is parsed.
 */
void policy_facts_known(
    struct policy_facts *f, const struct store_cert *known, size_t n);

/* Frees f (NULL allowed); results that borrow from it must be gone. */
void policy_facts_free(struct policy_facts *f);

struct policy_result {
	enum policy_verdict verdict;
	int err; /* POLICY_REJECT: the reason, an rk_err */
	struct rk_why why;
	uint8_t sha256[CRYPTO_SHA256_LEN]; /* of the candidate file */
	uint64_t version;		   /* 0 until the manifest parsed */
	unsigned rollout_percent;	   /* POLICY_DEFER: the bundle's */
	int pins_failed; /* REJECT: too few valid signatures by the pins */
	/*
	 * POLICY_ACCEPT only, NULL otherwise: views into the facts, valid
	 * until policy_result_free() (policy_evaluate()) or until the facts
	 * are freed (policy_judge()).
	 */
	const struct bundle *bundle;
	const struct manifest *manifest;
	const struct certinfo *certs; /* bundle_ncerts() entries */
	size_t n_trusted;	      /* certs not distrusted by either list */
	struct policy_facts *own;     /* policy_evaluate()'s, freed with r */
};

/*
 * Runs steps 1 to 7 on the bytes of f, against the state in ctx, using
 * and completing what f already knows; the verdict is the one a judgement
 * from scratch reaches.  Returns RK_OK when it reached a verdict
 * (out->verdict, with out->err and why for a rejection), or an operational
 * error (RK_ENOMEM, RK_ECRYPTO) when it could not decide.  f stays the
 * caller's; out borrows from it.
 */
int policy_judge(const struct policy_ctx *ctx, struct policy_facts *f,
    struct policy_result *out) RK_WUR;

/*
 * policy_judge() on facts of its own for buf[0..len), which out owns
 * (policy_result_free()).
 */
int policy_evaluate(const struct policy_ctx *ctx, const uint8_t *buf,
    size_t len, struct policy_result *out) RK_WUR;

void policy_result_free(struct policy_result *r);

/*
 * The distrust entry in force for a fingerprint: m's entry when m (a
 * candidate above every version verified; NULL allowed) mentions it, else
 * the persistent list's.  Returns 0 when neither has one; else 1 with *e
 * filled (since_version is m's version for an entry of m).
 */
int policy_distrust_in_force(const uint8_t sha[CRYPTO_SHA256_LEN],
    const struct store_distrust *d, size_t n, const struct manifest *m,
    struct store_distrust *e);

/*
 * Is the certificate with this fingerprint fully distrusted by the entry
 * in force (policy_distrust_in_force)?
 */
int policy_never_trusted(const uint8_t sha[CRYPTO_SHA256_LEN],
    const struct store_distrust *d, size_t n, const struct manifest *m);

/*
 * Step 5's rule, the one for a candidate and for a rollback to a stored
 * version alike: has a bundle that expires at expires_at expired, judged
 * at the later of the system clock now and the time floor?  A device
 * without a real-time clock that boots in 1970 thus still judges expiry
 * sanely.  Returns 1 when expired, else 0; *judged_at (may be NULL) gets
 * the time it judged at.
 */
int policy_expired(
    int64_t expires_at, int64_t now, int64_t floor, int64_t *judged_at);

/*
 * For each entry of m's distrust list that changes the entry in force of
 * the persistent list d[0..n), calls fn with one line of text for the
 * event log ("distrust of <sha> moved from T1 to T2 by v9", "... lifted
 * by v10").  Stops at the first nonzero return of fn and returns it.
 */
int policy_distrust_changes(const struct store_distrust *d, size_t n,
    const struct manifest *m,
    int (*fn)(
	void *arg, const uint8_t sha[CRYPTO_SHA256_LEN], const char *line),
    void *arg) RK_WUR;

#define POLICY_ROLLOUT_BUCKETS 10000u
#define POLICY_CENSUS_ID_LEN 16 /* hex digits */

/*
 * A device's rollout bucket for seed: the first 8 bytes of
 * SHA-256("rootkeeper rollout" 0x00 seed 0x00 device_id) as a big-endian
 * integer, modulo POLICY_ROLLOUT_BUCKETS.  RK_EINVAL for a seed or id
 * longer than 255 bytes.
 */
int policy_rollout_bucket(
    const char *seed, const char *device_id, unsigned *bucket) RK_WUR;

/*
 * Does a device take a bundle with rollout r?  Yes without a rollout
 * (percent 0) or when its bucket is below percent x 100.  A device with no
 * id (device_id NULL) takes only a 100% rollout.
 */
int policy_rollout_takes(const struct rollout *r, const char *device_id);

/*
 * The census id: the first 16 hex digits of SHA-256("rootkeeper census"
 * 0x00 channel 0x00 device_id), which names a device in the update
 * server's logs without giving its id away.  RK_EINVAL as above.
 */
int policy_census_id(const char *channel, const char *device_id,
    char out[POLICY_CENSUS_ID_LEN + 1]) RK_WUR;

#endif
