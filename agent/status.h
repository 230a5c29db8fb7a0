/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `rootkeeper status`: how the device stands, from a read-only look at the
 * store (so it works for a user who can only read the file) and at the
 * exported PEM.  The verdict follows DESIGN section 4: critical when there
 * is no store or no unexpired root left, unknown when the store cannot be
 * read (or status cannot judge at all: status_cannot_judge()), warning for an
 * expired bundle, a root expiring within 30 days, a failed last check, or a
 * stale export; ok otherwise.
 */
#ifndef RK_STATUS_H
#define RK_STATUS_H

#include <stdint.h>
#include <stdio.h>

#include "store.h"

#define STATUS_SOON (30 * 86400) /* "expiring soon" */

enum status_level {
	STATUS_OK = 0,
	STATUS_WARNING = 1,
	STATUS_CRITICAL = 2,
	STATUS_UNKNOWN = 3,
};

struct status_cert {
	char subject[256];
	uint8_t sha256[CRYPTO_SHA256_LEN];
	int64_t not_after;
};

/* One reason; STATUS_OK for a note that changes no level. */
struct status_reason {
	enum status_level level;
	char text[320];
};

struct status {
	enum status_level level;
	/*
	 * Every reason found, the most severe first (unknown, critical,
	 * warning, notes), in the order found within a level.  None is
	 * dropped: 19 expiring roots never hide a rejected check.  Only
	 * when memory runs out are some lost, and n_lost counts them.
	 */
	struct status_reason *reasons;
	size_t n_reasons, cap_reasons, n_lost;
	size_t n_stale_temps; /* killed writers' temp files beside the export */
	const char *db_path;
	int have_state; /* the store was read */
	struct store_state st;
	int have_active;
	struct store_version active;
	size_t n_trusted;   /* certs of the active set, distrust applied */
	size_t n_unexpired; /* of those, not expired now */
	struct status_cert *expiring; /* within STATUS_SOON, or expired */
	size_t n_expiring;
	int64_t now;   /* the system clock */
	int64_t judge; /* expiry is judged at the later of now and the floor */
	int export_stale;
	char export_path[1024];
	char (*key_ids)[2 * CRYPTO_SHA256_LEN + 1];
	size_t n_keys;
	struct store_probe *probes; /* the configured targets' last results */
	size_t n_probes;
};

/*
 * Looks at the store at db, the export file and the recorded results of
 * the probe targets (those not in targets are ignored); never fails (the
 * level says what could not be read).  Free with status_free().
 */
void status_collect(const char *db, const char *export_path,
    char *const *targets, size_t n_targets, int64_t now, struct status *out);

/*
 * A status that cannot judge the device at all (a bad configuration, bad
 * usage of `status`): level unknown, with the one reason given.  db may
 * be NULL.  Free with status_free().
 */
void status_cannot_judge(struct status *out, const char *db, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

void status_free(struct status *s);

void status_print_text(const struct status *s, FILE *f);
void status_print_json(const struct status *s, FILE *f);

const char *status_level_name(enum status_level l);

#endif
