/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The anti-lockout probes (docs/DESIGN.md section 3, step 8): the targets
 * a configuration names, the TLS handshakes that judge a candidate set
 * against the active one, and the probes of the active set that status
 * shows.  The agent (agent.c) calls these with its store and handshake;
 * this module judges and records probe results but never stores or
 * activates a set, and opens no transaction of its own.
 */
#ifndef RK_PROBES_H
#define RK_PROBES_H

#include <stddef.h>

#include "agent.h"
#include "config.h"
#include "error.h"
#include "policy.h"
#include "store.h"

/* What the probes borrow from the agent; the caller owns all of it. */
struct probes_env {
	const struct config *cfg;
	struct store *store;
	agent_tls_fn tls; /* the handshake (tls_probe() or a test's fake) */
	void *tls_arg;
};

/*
 * The probe targets of cfg, "host:port" each: every probe=, then the host
 * of every https:// url= (port 443 unless given), without repeats.
 * Returns how many were written to targets (at most max); each is
 * malloc'ed (caller frees).  A target that cannot be allocated is left
 * out.
 */
size_t probes_targets(const struct config *cfg, char **targets, size_t max);

/*
 * Step 8 for pr, a candidate the policy accepted.  A target that
 * validates under the active set but fails certificate validation under
 * the candidate refuses it: RK_EPROBE with the sentence in why.  When the
 * root of that chain is one the candidate distrusts, the target does not
 * count and a note is appended to notes (notes_cap bytes, terminated).
 * Network failures, targets that already fail under the active set and a
 * store with no active set do not count: RK_OK.  Other errors (RK_ENOMEM,
 * the store's) mean the probes could not run.
 */
int probes_candidate(const struct probes_env *env,
    const struct policy_result *pr, char *notes, size_t notes_cap,
    struct rk_why *why) RK_WUR;

/*
 * Probes every target with the active set and records in the store (its
 * own statements, no transaction), for status, the root each chain ends
 * at, its expiry, and whether another root of the set validates the
 * target too.  Network failures are recorded, not returned.  *count (may
 * be NULL) gets the number of targets recorded.
 */
int probes_refresh(const struct probes_env *env, size_t *count) RK_WUR;

#endif
