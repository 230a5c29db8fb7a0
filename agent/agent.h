/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's state machine: provisioning, one check (fetch, verify,
 * policy, probes, store, activate, export), sideloading, rollback and the
 * PEM export, each recording an event for its outcome.  It ties the
 * adapters (store, fetch) to the policy and is what the command line and
 * the daemon loop call; it prints nothing and never exits.
 */
#ifndef RK_AGENT_H
#define RK_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "crypto.h"
#include "error.h"
#include "store.h"

enum agent_result {
	AGENT_UPDATED,	/* a new version is active */
	AGENT_CURRENT,	/* nothing new (304, or the same bundle) */
	AGENT_REJECTED, /* the bundle failed verification or policy */
	AGENT_ERROR,	/* could not get or store a bundle */
};

struct agent_outcome {
	enum agent_result result;
	int err;	  /* rk_err: the reason for REJECTED and ERROR */
	uint64_t version; /* the bundle's, when known */
	char detail[512]; /* one line, for people and the event log */
};

/*
 * Step 8 of the policy: given a candidate set and the active set (DER
 * certificates), says whether any configured probe that validates under
 * the active set would fail under the candidate.  Returns RK_OK (go on) or
 * RK_EPROBE with the reason in why; the caller reports.  NULL: no probes.
 */
struct agent_probe_set {
	const uint8_t *const *der;
	const size_t *len;
	size_t n;
};
typedef int (*agent_probe_fn)(void *arg, const struct config *cfg,
    const struct agent_probe_set *candidate,
    const struct agent_probe_set *active, const struct manifest *m,
    struct rk_why *why);

struct agent;
struct fetch_req;
struct fetch_res;

/*
 * How the agent gets bytes for a URL; fetch_get() unless replaced (the
 * unit tests put a fake transport here).  Same contract as fetch_get().
 */
typedef int (*agent_fetch_fn)(void *arg, const struct fetch_req *req,
    struct fetch_res *res, struct rk_why *why);

/*
 * Opens the device's store (db_path) for the commands that change it.
 * cfg is borrowed and must outlive the agent.  RK_ENOENT when the store
 * does not exist (not provisioned).  Caller closes with agent_close().
 */
int agent_open(const struct config *cfg, const char *db_path,
    const char *export_path, struct agent **out, struct rk_why *why) RK_WUR;

void agent_close(struct agent *a);

void agent_set_probe(struct agent *a, agent_probe_fn fn, void *arg);

/* Replaces the transport; fn NULL restores fetch_get(). */
void agent_set_transport(struct agent *a, agent_fetch_fn fn, void *arg);

/*
 * Provisions a new store: pinned keys with threshold, channel, and an
 * optional factory bundle that must pass the policy (it is then stored as
 * the factory version and activated).  Nothing is left behind on failure.
 */
int agent_init(const struct config *cfg, const char *db_path,
    const char *export_path, struct pubkey *const *pins, size_t npins,
    unsigned threshold, const char *channel, const uint8_t *factory,
    size_t factory_len, struct agent_outcome *out) RK_WUR;

/*
 * One poll of url, or of the configured mirrors in order when url is
 * NULL.  The outcome is in *out; the return value is RK_OK whenever an
 * outcome was recorded (also for REJECTED and ERROR).
 */
int agent_check(
    struct agent *a, const char *url, struct agent_outcome *out) RK_WUR;

/* The same for a bundle in hand (sideload); source names it in events. */
int agent_apply(struct agent *a, const uint8_t *buf, size_t len,
    const char *source, struct agent_outcome *out) RK_WUR;

/*
 * Activates version to, or when 0 the newest stored version older than
 * the active one that is not marked bad; the version left is marked bad.
 * Never lowers the highest version seen.
 */
int agent_rollback(
    struct agent *a, uint64_t to, struct agent_outcome *out) RK_WUR;

/*
 * The active trust set as PEM, without the certificates distrusted for
 * good on this device.  *pem is malloc'ed (caller frees); RK_ENOENT when
 * no version is active.
 */
int agent_active_pem(struct agent *a, char **pem, size_t *len) RK_WUR;

/* Writes the active set to path (atomic replace). */
int agent_export(struct agent *a, const char *path, struct rk_why *why) RK_WUR;

/*
 * Compares the configured export file with the active set and rewrites it
 * when they differ (a crash between commit and rename leaves it stale).
 * *rewrote (may be NULL) says whether it did.
 */
int agent_sync_export(struct agent *a, int *rewrote, struct rk_why *why) RK_WUR;

/* Records when the daemon will check next (for status). */
int agent_set_next_check(struct agent *a, int64_t at) RK_WUR;

const char *agent_result_name(enum agent_result r);

#endif
