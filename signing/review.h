/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a reviewer must see before signing (DESIGN.md section 4): the
 * difference between two bundles of a channel, usually the published
 * latest and the candidate.  Roots added and removed, distrust entries
 * added, changed, lifted or dropped, key rotation, staged rollout, expiry,
 * and warnings for what a device would refuse or an operator would regret
 * (another channel, a version not above, an earlier expiry).  Part of the
 * rootkeeper-sign program, not of a library: it prints, as text for people
 * or as JSON for programs, and takes bundles that are already parsed.
 */
#ifndef RK_REVIEW_H
#define RK_REVIEW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bundle.h"
#include "crypto.h"
#include "manifest.h"

/* One parsed bundle: its file name, bytes' SHA-256, manifest and certs. */
struct review_side {
	const char *path;
	uint8_t sha256[CRYPTO_SHA256_LEN];
	const struct manifest *m;
	const struct certinfo *ci; /* n of them, in bundle order */
	size_t n;
};

/* The difference from old to new as text, one fact per line. */
void review_diff_text(
    FILE *f, const struct review_side *old, const struct review_side *new_);

/* The same as one JSON object (see README.md for the fields). */
void review_diff_json(
    FILE *f, const struct review_side *old, const struct review_side *new_);

/* One bundle in brief: channel, version, counts, expiry, rotation. */
void review_summary(FILE *f, const struct review_side *s);

#endif
