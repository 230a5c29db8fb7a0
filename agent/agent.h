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
#include "tls.h"

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
	int keys_behind;  /* REJECTED: the pinned keys cannot verify it */
};

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

/*
 * The agent without its store, for a poll that may not need it: until
 * agent_open_store() succeeds only agent_idle_check(), agent_set_cancel(),
 * agent_set_transport(), agent_set_next_check(), agent_trim() and
 * agent_close() may be called.  RK_ENOMEM.
 */
int agent_open_lazy(const struct config *cfg, const char *db_path,
    const char *export_path, struct agent **out) RK_WUR;

/* Opens the store if it is not open: agent_open()'s errors. */
int agent_open_store(struct agent *a, struct rk_why *why) RK_WUR;

/*
 * Closes the store (a daemon between polls; agent_close() too).  When
 * this session's check was an unchanged poll and the store's files are as
 * they were when it was opened, what the store said goes to the poll file
 * for agent_idle_check().
 */
void agent_close_store(struct agent *a);

/*
 * An unchanged poll without opening the store: 1 with *out ("current")
 * when the poll file's record of the store still holds (the database and
 * its WAL untouched since), the export is the file last found holding the
 * active set, nothing else is due (no probe target, no export_dir, no
 * https URL, a channel= equal to the store's) and the first URL (or url)
 * answers 304 to the validators recorded; only the poll file's time is
 * then updated, as agent_check() does for such a poll.  0 otherwise: the
 * caller runs the full check, whose agent_check() takes the answer
 * received here (if any) instead of asking the server again.
 */
int agent_idle_check(
    struct agent *a, const char *url, struct agent_outcome *out) RK_WUR;

#define AGENT_PROBE_TIMEOUT 10 /* seconds per handshake */
#define AGENT_MAX_TARGETS (CONFIG_MAX_PROBES + CONFIG_MAX_URLS)

/*
 * How the agent makes one TLS handshake with a trust set; tls_probe()
 * unless replaced (the unit tests put fake hubs here).  Same contract.
 */
typedef int (*agent_tls_fn)(void *arg, const char *host, unsigned port,
    const struct tls_trust *trust, int timeout_s, struct tls_probe *out);

/* Replaces the handshake; fn NULL restores tls_probe(). */
void agent_set_tls(struct agent *a, agent_tls_fn fn, void *arg);

/*
 * The probe targets of a configuration, "host:port" each: every probe=,
 * then the host of every https:// url= (port 443 unless given), without
 * repeats.  Returns how many were written to targets (at most max); each
 * is malloc'ed (caller frees).
 */
size_t agent_probe_targets(
    const struct config *cfg, char **targets, size_t max);

/*
 * Probes every target with the active set and records, for status, the
 * root each chain ends at, its expiry, and whether another root of the
 * set validates the target too.  Network failures are recorded, not
 * returned.  *n (may be NULL) gets the number of targets probed.
 */
int agent_refresh_probes(struct agent *a, size_t *n) RK_WUR;

/* Replaces the transport; fn NULL restores fetch_get(). */
void agent_set_transport(struct agent *a, agent_fetch_fn fn, void *arg);

/*
 * A flag (set by a signal handler) that cuts a running download short:
 * the daemon's stop request.  NULL: downloads run to their limits.
 */
void agent_set_cancel(struct agent *a, const volatile int *flag);

/*
 * Provisions a new store: pinned keys with threshold, channel, and an
 * optional factory bundle that must pass the policy (it is then stored as
 * the factory version and activated).  All or nothing: the store is made
 * in one transaction under db_path.init-tmp, closed (its WAL merged),
 * fsync'ed and renamed into place, never over an existing store
 * (RK_EEXIST); a crash leaves no store or a complete one, and what a
 * killed init left under the temporary name is removed by the next.
 * Inits of one folder take turns (a lock on the folder, waited for up to
 * STORE_WRITER_WAIT_S: RK_EBUSY).  A store already there that was
 * provisioned exactly as asked makes this a retry: RK_OK, AGENT_CURRENT,
 * and the export brought up to date.  The export is written after the
 * rename.
 */
int agent_init(const struct config *cfg, const char *db_path,
    const char *export_path, struct pubkey *const *pins, size_t npins,
    unsigned threshold, const char *channel, const uint8_t *factory,
    size_t factory_len, struct agent_outcome *out) RK_WUR;

/*
 * One poll of url, or of the configured mirrors in order when url is
 * NULL.  The outcome is in *out; the return value is RK_OK whenever an
 * outcome was recorded (also for REJECTED and ERROR).  When the pinned
 * keys cannot verify the bundle, the agent first walks the key rotations
 * published beside it (rotations/index.txt, then rotations/N.rkb in
 * version order, at most ROTATION_MAX_STEPS), each verified under the keys
 * the step before pinned and taken for its keys only; then it judges the
 * bundle again.  Each step is recorded as an event ("rotation").  Any
 * number of processes may write the store at once: the verdict is reached
 * again inside the write transaction that commits it, against the state
 * as it is then (a version another writer activated meanwhile is
 * "current", one it overtook is a rollback).  A writer waits
 * STORE_WRITER_WAIT_S for another, then gives up (AGENT_ERROR, err
 * RK_EBUSY).
 */
int agent_check(
    struct agent *a, const char *url, struct agent_outcome *out) RK_WUR;

/* The same for a bundle in hand (sideload); source names it in events. */
int agent_apply(struct agent *a, const uint8_t *buf, size_t len,
    const char *source, struct agent_outcome *out) RK_WUR;

/*
 * Activates version to, or when 0 the newest stored version older than
 * the active one that is not marked bad; the version left is marked bad.
 * Never lowers the highest version seen.  Everything it judges is read
 * inside the transaction that commits it.
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

#define AGENT_UA_MAX 256

/*
 * The User-Agent of the agent's requests, the fleet census: with config
 * census (the default) "rootkeeper/VERSION (channel=C; active=N;
 * highest=N; id=H)", H the census id of the device (left out when the
 * device has no id), plus "; deferred=N" when deferred is not 0; without
 * it "rootkeeper/VERSION" alone.  Never the raw device id.
 */
void agent_user_agent(const struct agent *a, const struct store_state *st,
    uint64_t deferred, char *buf, size_t cap);
/*
 * Why the last commit of the store could not be checkpointed (a full
 * disk): the change stands, but the reason must not be lost.  "" when it
 * could.  Owned by the agent, valid until its next call.
 */
const char *agent_store_note(struct agent *a);

/*
 * Gives back what a daemon need not hold while it sleeps: SQLite's page
 * cache and the PEM kept for https.
 */
void agent_trim(struct agent *a);

/* Records when the daemon will check next (for status). */
int agent_set_next_check(struct agent *a, int64_t at) RK_WUR;

const char *agent_result_name(enum agent_result r);

#endif
