/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bundle manifest (FORMAT.md section 3): a JSON object decoded with
 * jansson, strictly.  Duplicate keys, unknown fields, wrong types, numbers
 * out of range, bad times and bad fingerprints are errors.  This module
 * checks only what the manifest says of itself (expires_at after
 * issued_at, channel syntax); what a device makes of it is policy and
 * lives elsewhere.  The one module that includes jansson for the format.
 */
#ifndef RK_MANIFEST_H
#define RK_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define MANIFEST_FORMAT 1
#define MANIFEST_CHANNEL_MAX 64
#define MANIFEST_VERSION_MAX 9007199254740991ULL /* 2^53 - 1 */
#define MANIFEST_MAX_DISTRUST 1024
#define MANIFEST_MAX_NEXT_KEYS 16

struct distrust {
	uint8_t sha256[CRYPTO_SHA256_LEN];
	int has_after; /* 0: never trust; 1: only leaves issued before after */
	int64_t after;
	int lift;     /* 1: ends an earlier entry; has_after is then 0 */
	char *reason; /* NULL when absent */
};

#define MANIFEST_SEED_MAX 64

/* A staged rollout: percent 0 means there is none (everyone takes it). */
struct rollout {
	unsigned percent; /* 1..100 */
	char seed[MANIFEST_SEED_MAX + 1];
};

/* Plain struct: parse fills it, the signing tool fills it to encode. */
struct manifest {
	char channel[MANIFEST_CHANNEL_MAX + 1];
	uint64_t version;
	int64_t issued_at;
	int64_t expires_at;
	struct distrust *distrust;
	size_t n_distrust;
	unsigned next_threshold; /* 0 when there is no next_keys */
	struct pubkey **next_keys;
	size_t n_next_keys;
	struct rollout rollout; /* percent 0: no rollout */
	char *note;		/* NULL when absent */
};

/*
 * Decodes and checks a manifest.  RK_EMANIFEST with the field named in why
 * for anything invalid.  Caller frees *out with manifest_free().
 */
int manifest_parse(const uint8_t *json, size_t len, struct manifest **out,
    struct rk_why *why) RK_WUR;

/*
 * Decodes a distrust list: a JSON array of entries as in the manifest.
 * Caller frees with manifest_free_distrust().
 */
int manifest_parse_distrust(const uint8_t *json, size_t len,
    struct distrust **out, size_t *n, struct rk_why *why) RK_WUR;

/*
 * Encodes m as compact JSON with the keys in the documented order, after
 * checking it as manifest_parse() would.  *out is malloc'ed (caller frees),
 * not NUL-terminated.
 */
int manifest_encode(const struct manifest *m, uint8_t **out, size_t *len,
    struct rk_why *why) RK_WUR;

/* Does the channel name match [a-z0-9._-]{1,64}? */
int manifest_channel_ok(const char *channel);

/* Does a rollout seed match [a-z0-9._-]{1,64}?  (The channel's syntax.) */
int manifest_seed_ok(const char *seed);

/*
 * Is the entry a full distrust (never trust), as opposed to a partial one
 * (after) or a lift?
 */
int manifest_distrust_full(const struct distrust *d);

/* Frees m and everything it owns; NULL is fine. */
void manifest_free(struct manifest *m);

void manifest_free_distrust(struct distrust *d, size_t n);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Strict lower-case hex of exactly 2n characters; RK_EFORMAT otherwise. */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t n) RK_WUR;

#endif
