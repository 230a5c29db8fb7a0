/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's operations (see agent.h).  Every operation that changes the
 * device runs in one store transaction and records its outcome as an
 * event in the same transaction, so the log never disagrees with the
 * state.  Other processes write the same store (a daemon, a sideload, a
 * rollback from a shell), so every verdict that is committed is reached
 * inside the write transaction that commits it, on the state as it is
 * then; what was judged before (to run the probes outside the lock) is
 * only a forecast.  The PEM export is written after the commit: a crash in
 * between leaves the old file, which agent_sync_export() repairs on the
 * next run.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "fetch.h"
#include "fileio.h"
#include "manifest.h"
#include "pem.h"
#include "policy.h"
#include "pollstate.h"
#include "probes.h"
#include "rfc3339.h"
#include "rotation.h"
#include "strcopy.h"
#include "trustset.h"
#include "url.h"

struct agent {
	const struct config *cfg;
	char *db_path;
	char *export_path;
	struct store *store;
	agent_tls_fn tls;
	void *tls_arg;
	agent_fetch_fn fetch;
	void *fetch_arg;
	const volatile int *cancel;
	/* The rollout bucket's and the census's id; "" when it has none. */
	char device_id[CONFIG_DEVICE_ID_MAX + 1];
	/* The poll file (pollstate.h), read on first use, saved when dirty. */
	struct pollstate ps;
	int ps_read;
	int ps_dirty;
	/* The active set's PEM for https, kept while that version is active. */
	char *pem;
	size_t pem_len;
	uint64_t pem_version;
	/* The store's files when it was opened (agent_close_store()). */
	struct pollstate_file open_db;
	struct pollstate_file open_wal;
	int open_seen;
	/* What the store said at this session's unchanged poll; valid: one. */
	struct pollstate_store seen;
	/* The answer agent_idle_check() got, for agent_check() to take. */
	struct prefetch {
		int have;
		int rc;
		int tls;
		char *url;
		char etag[sizeof(((struct store_state *)0)->etag)];
		char last_modified[sizeof(
		    ((struct store_state *)0)->last_modified)];
		char ua[AGENT_UA_MAX];
		struct fetch_res res;
		struct rk_why why;
	} pre;
};

/* What a fetch said about the bytes, kept when they are accepted. */
struct origin {
	const char *source; /* URL or file name, for events */
	const char *url;    /* NULL for a sideload */
	const char *etag;
	const char *last_modified;
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

const char *
agent_result_name(enum agent_result r)
{
	switch (r) {
	case AGENT_UPDATED:
		return "updated";
	case AGENT_CURRENT:
		return "current";
	case AGENT_REJECTED:
		return "rejected";
	case AGENT_ERROR:
		return "error";
	}
	return "error";
}

static void outcome(struct agent_outcome *out, enum agent_result res, int err,
    uint64_t version, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
outcome(struct agent_outcome *out, enum agent_result res, int err,
    uint64_t version, const char *fmt, ...)
{
	va_list ap;

	out->result = res;
	out->err = err;
	out->version = version;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
}

static int
real_tls(void *arg, const char *host, unsigned port,
    const struct tls_trust *trust, int timeout_s, struct tls_probe *out)
{
	(void)arg;
	return tls_probe(host, port, trust, timeout_s, out);
}

static int
real_fetch(void *arg, const struct fetch_req *req, struct fetch_res *res,
    struct rk_why *why)
{
	(void)arg;
	return fetch_get(req, res, why);
}

/* The poll file as this agent knows it; a missing or damaged one is empty. */
static struct pollstate *
poll_state(struct agent *a)
{
	if (!a->ps_read) {
		if (pollstate_read(a->db_path, &a->ps) != RK_OK)
			memset(&a->ps, 0, sizeof(a->ps));
		a->ps_read = 1;
	}
	return &a->ps;
}

/* Writes the poll file if it changed; losing it loses nothing. */
static void
poll_save(struct agent *a)
{
	if (a->ps_dirty && pollstate_write(a->db_path, &a->ps) == RK_OK)
		a->ps_dirty = 0;
}

/* Drops the answer agent_idle_check() left, if any. */
static void
prefetch_drop(struct agent *a)
{
	if (!a->pre.have)
		return;
	fetch_res_free(&a->pre.res);
	free(a->pre.url);
	memset(&a->pre, 0, sizeof(a->pre));
}

/* "" for NULL: how a request's optional strings compare. */
static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

/*
 * The transfer of agent_check(): the answer agent_idle_check() got to the
 * very same request when there is one (asking again would double a
 * download, or a timeout), else a fetch.
 */
static int
fetch_or_take(struct agent *a, const struct fetch_req *req,
    struct fetch_res *res, struct rk_why *why)
{
	struct prefetch *p = &a->pre;
	int rc;

	if (!p->have || strcmp(p->url, req->url) != 0 ||
	    strcmp(p->etag, or_empty(req->etag)) != 0 ||
	    strcmp(p->last_modified, or_empty(req->last_modified)) != 0 ||
	    strcmp(p->ua, or_empty(req->user_agent)) != 0 ||
	    p->tls != (req->ca_pem != NULL && req->ca_pem_len > 0)) {
		prefetch_drop(a);
		return a->fetch(a->fetch_arg, req, res, why);
	}
	*res = p->res;
	*why = p->why;
	rc = p->rc;
	memset(&p->res, 0, sizeof(p->res));
	prefetch_drop(a);
	return rc;
}

/*
 * An agent with nothing open: what agent_open and agent_init both start
 * from.  RK_ENOMEM, nothing left allocated, when memory runs out.
 */
static int
agent_new(const struct config *cfg, const char *db_path,
    const char *export_path, struct agent **out)
{
	struct agent *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return RK_ENOMEM;
	a->cfg = cfg;
	a->fetch = real_fetch;
	a->tls = real_tls;
	if ((a->db_path = strdup(db_path)) == NULL ||
	    (a->export_path = strdup(export_path)) == NULL) {
		agent_close(a);
		return RK_ENOMEM;
	}
	*out = a;
	return RK_OK;
}

int
agent_open_lazy(const struct config *cfg, const char *db_path,
    const char *export_path, struct agent **out)
{
	struct agent *a;
	int rc;

	if ((rc = agent_new(cfg, db_path, export_path, &a)) != RK_OK)
		return rc;
	/* No id: the device takes only bundles for every device. */
	if ((rc = config_device_id(cfg, NULL, a->device_id)) != RK_OK) {
		a->device_id[0] = '\0';
		if (rc == RK_ENOMEM) {
			agent_close(a);
			return rc;
		}
	}
	*out = a;
	return RK_OK;
}

int
agent_open_store(struct agent *a, struct rk_why *why)
{
	struct pollstate *ps;

	if (a->store != NULL)
		return RK_OK;
	/* Before the first read: a commit after it must show. */
	a->open_seen =
	    pollstate_stat_store(a->db_path, &a->open_db, &a->open_wal) == 0;
	a->seen.valid = 0;
	/* The store may change from here on: its record no longer holds. */
	ps = poll_state(a);
	if (ps->store.valid) {
		ps->store.valid = 0;
		a->ps_dirty = 1;
	}
	return store_open(a->db_path, STORE_RW, &a->store, why);
}

int
agent_open(const struct config *cfg, const char *db_path,
    const char *export_path, struct agent **out, struct rk_why *why)
{
	int rc;

	if ((rc = agent_open_lazy(cfg, db_path, export_path, out)) != RK_OK)
		return rc;
	if ((rc = agent_open_store(*out, why)) != RK_OK) {
		agent_close(*out);
		*out = NULL;
	}
	return rc;
}

static int export_unchanged(struct agent *a, uint64_t version);

void
agent_close_store(struct agent *a)
{
	struct pollstate_file db, wal;
	int keep;

	if (a->store == NULL)
		return;
	/*
	 * An unchanged poll, on an export still the active set's: what the
	 * store said is kept if nothing wrote to it meanwhile, which its
	 * files tell once it is closed (the last connection may checkpoint).
	 */
	keep = a->seen.valid && a->open_seen &&
	       export_unchanged(a, a->seen.active_version);
	store_close(a->store);
	a->store = NULL;
	if (keep && pollstate_stat_store(a->db_path, &db, &wal) == 0 &&
	    db.ino != 0 && memcmp(&db, &a->open_db, sizeof(db)) == 0 &&
	    memcmp(&wal, &a->open_wal, sizeof(wal)) == 0) {
		struct pollstate *ps = poll_state(a);

		ps->store = a->seen;
		ps->store.db = db;
		ps->store.wal = wal;
		a->ps_dirty = 1;
	}
	a->seen.valid = 0;
	poll_save(a);
}

void
agent_close(struct agent *a)
{
	if (a == NULL)
		return;
	agent_close_store(a);
	poll_save(a);
	prefetch_drop(a);
	free(a->pem);
	free(a->db_path);
	free(a->export_path);
	free(a);
}

void
agent_set_transport(struct agent *a, agent_fetch_fn fn, void *arg)
{
	a->fetch = fn != NULL ? fn : real_fetch;
	a->fetch_arg = arg;
}

void
agent_set_cancel(struct agent *a, const volatile int *flag)
{
	a->cancel = flag;
}

void
agent_set_tls(struct agent *a, agent_tls_fn fn, void *arg)
{
	a->tls = fn != NULL ? fn : real_tls;
	a->tls_arg = arg;
}

static void
free_keys(struct pubkey **k, size_t n)
{
	size_t i;

	for (i = 0; k != NULL && i < n; i++)
		pubkey_free(k[i]);
	free(k);
}

/*
 * Records an event and the last check inside the caller's transaction.
 */
static int
record_in(struct agent *a, const char *kind, const struct agent_outcome *o,
    const struct origin *from)
{
	struct store_state st;
	int rc;

	if ((rc = store_get_state(a->store, &st)) != RK_OK)
		return rc;
	st.last_check_at = now_s();
	str_copy(st.last_check_result, sizeof(st.last_check_result),
	    agent_result_name(o->result));
	str_copy(st.last_check_detail, sizeof(st.last_check_detail), o->detail);
	/* Validators only for bytes we accepted: a bad bundle is re-read. */
	if (from != NULL && from->url != NULL &&
	    (o->result == AGENT_CURRENT || o->result == AGENT_UPDATED)) {
		str_copy(st.fetch_url, sizeof(st.fetch_url), from->url);
		if (from->etag != NULL)
			str_copy(st.etag, sizeof(st.etag), from->etag);
		if (from->last_modified != NULL)
			str_copy(st.last_modified, sizeof(st.last_modified),
			    from->last_modified);
	}
	if ((rc = store_set_state(a->store, &st)) != RK_OK)
		return rc;
	return store_add_event(
	    a->store, st.last_check_at, kind, o->version, o->detail);
}

/* The same in a transaction of its own. */
static int
record(struct agent *a, const char *kind, const struct agent_outcome *o,
    const struct origin *from)
{
	int rc;

	if ((rc = store_begin(a->store)) != RK_OK)
		return rc;
	if ((rc = record_in(a, kind, o, from)) != RK_OK) {
		store_abort(a->store);
		return rc;
	}
	return store_commit(a->store);
}

/*
 * Records a deferral inside the caller's transaction: the event, the last
 * check with the bundle's validators (so the next poll is a 304), and the
 * deferred version and its percentage for status and the census.
 */
static int
record_deferred_in(struct agent *a, const struct agent_outcome *o,
    const struct origin *from, unsigned percent)
{
	struct store_state st;
	int rc;

	if ((rc = record_in(a, "deferred", o, from)) != RK_OK ||
	    (rc = store_get_state(a->store, &st)) != RK_OK)
		return rc;
	/* Judged in this transaction: the version is above the highest. */
	st.deferred_version = o->version;
	st.deferred_percent = percent;
	return store_set_state(a->store, &st);
}

static int
version_sha(void *arg, uint64_t version, uint8_t sha[CRYPTO_SHA256_LEN])
{
	struct store_version v;

	if (store_get_version(arg, version, &v) != RK_OK)
		return 0;
	memcpy(sha, v.sha256, CRYPTO_SHA256_LEN);
	return 1;
}

/*
 * Steps 1 to 7 against the device's state as the store has it now, then
 * the rollout (unless sideload).  Inside a write transaction that state
 * cannot change until the commit: that is where every verdict that is
 * committed is reached.
 */
static int
evaluate(struct agent *a, struct policy_facts *f, int sideload,
    struct policy_result *pr)
{
	struct store_state st;
	struct store_distrust *d = NULL;
	struct pubkey **keys = NULL;
	struct policy_ctx ctx;
	size_t nkeys = 0, nd = 0;
	int rc;

	if ((rc = store_get_state(a->store, &st)) != RK_OK ||
	    (rc = store_get_keys(a->store, &keys, &nkeys)) != RK_OK ||
	    (rc = store_get_distrust(a->store, &d, &nd)) != RK_OK)
		goto out;
	memset(&ctx, 0, sizeof(ctx));
	ctx.channel = st.channel;
	ctx.keys = keys;
	ctx.nkeys = nkeys;
	ctx.threshold = st.threshold;
	ctx.highest_version = st.highest_version;
	ctx.highest_sha256 = st.highest_sha256;
	ctx.version_sha = version_sha;
	ctx.arg = a->store;
	ctx.now = now_s();
	ctx.floor = st.time_floor;
	ctx.build_time = RK_BUILD_EPOCH;
	ctx.max_size = (size_t)a->cfg->max_bundle_size; /* at most 1G */
	ctx.distrust = d;
	ctx.n_distrust = nd;
	ctx.device_id = a->device_id[0] != '\0' ? a->device_id : NULL;
	ctx.ignore_rollout = sideload;
	rc = policy_judge(&ctx, f, pr);
out:
	free_keys(keys, nkeys);
	free(d);
	return rc;
}

/* Why a store call failed, in words: SQLite's for a busy store. */
static const char *
store_words(const struct agent *a, int rc)
{
	/* SQLite's words ("database or disk is full") say why. */
	if ((rc == RK_EBUSY || rc == RK_ESTORE) &&
	    store_last_error(a->store)[0] != '\0')
		return store_last_error(a->store);
	return rk_strerror(rc);
}

/*
 * The active set's PEM (owned by a).  With fresh 0 it may be the one built
 * for the same active version before: enough as trust for an https
 * transfer, and a daemon's poll does not rebuild it.  What is written or
 * compared as the export is built anew (fresh 1): another writer may have
 * added to the distrust list since, with a version that a rollback then
 * made active again.
 */
static int
active_pem(struct agent *a, const char **pem, size_t *len, uint64_t *version,
    int fresh)
{
	struct trustset ts;
	uint64_t v;
	char *p = NULL;
	size_t n = 0;
	int rc;

	if ((rc = store_active_version(a->store, &v)) != RK_OK)
		return rc;
	if (v == 0)
		return RK_ENOENT;
	if (fresh || a->pem == NULL || a->pem_version != v) {
		if ((rc = trustset_load(a->store, v, &ts)) != RK_OK)
			return rc;
		rc = trustset_pem(&ts, &p, &n);
		trustset_free(&ts);
		if (rc != RK_OK)
			return rc;
		free(a->pem);
		a->pem = p;
		a->pem_len = n;
		a->pem_version = v;
	}
	*pem = a->pem;
	*len = a->pem_len;
	if (version != NULL)
		*version = v;
	return RK_OK;
}

int
agent_active_pem(struct agent *a, char **pem, size_t *len)
{
	const char *p;
	size_t n;
	int rc;

	if ((rc = active_pem(a, &p, &n, NULL, 1)) != RK_OK)
		return rc;
	if ((*pem = malloc(n + 1)) == NULL)
		return RK_ENOMEM;
	memcpy(*pem, p, n + 1);
	*len = n;
	return RK_OK;
}

/*
 * Remembers in the poll file that the export, as it is on disk now, holds
 * version's set: the next check of it is a stat, not a rebuild.
 */
static void
export_known(struct agent *a, uint64_t version)
{
	struct pollstate *ps = poll_state(a);
	struct store_version sv;
	struct stat sb;

	if (stat(a->export_path, &sb) != 0 ||
	    store_get_version(a->store, version, &sv) != RK_OK) {
		ps->export_version = 0;
	} else {
		memcpy(ps->export_bundle_sha256, sv.sha256, CRYPTO_SHA256_LEN);
		ps->export_version = version;
		ps->export_size = (uint64_t)sb.st_size;
		ps->export_dev = (uint64_t)sb.st_dev;
		ps->export_ino = (uint64_t)sb.st_ino;
		ps->export_mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
				      sb.st_mtim.tv_nsec;
	}
	a->ps_dirty = 1;
	poll_save(a);
}

/* Is the export the file export_known() saw for version? */
static int
export_unchanged(struct agent *a, uint64_t version)
{
	const struct pollstate *ps = poll_state(a);
	struct store_version sv;

	/* The store is read only when the poll file names this version. */
	return version != 0 && ps->export_version == version &&
	       store_get_version(a->store, version, &sv) == RK_OK &&
	       pollstate_export_unchanged(
		   ps, version, sv.sha256, a->export_path);
}

/* Stops a comparison at the first difference; never returned further. */
#define EXPORT_DIFFERS RK_EEXIST

/* The export being written, and whether a write of it failed. */
struct export_out {
	struct fileio_atomic *f;
	int failed;
};

static int
put_file(void *arg, const char *pem, size_t len)
{
	struct export_out *o = arg;
	int rc = fileio_atomic_write(o->f, pem, len);

	o->failed = rc != RK_OK;
	return rc;
}

/*
 * Drops the PEM kept for transfers: what is exported or compared is made
 * anew, and so is the next transfer's trust.
 */
static void
drop_pem(struct agent *a)
{
	free(a->pem);
	a->pem = NULL;
	a->pem_len = 0;
	a->pem_version = 0;
}

/*
 * Replaces path with version's set, written as it is made, first removing
 * what writers of it killed before their rename left (their temp files
 * would pile up for good).  *io is 1 when the file failed (errno kept), 0
 * when the set could not be made.
 */
static int
write_export(struct agent *a, const char *path, uint64_t version, int *io)
{
	struct export_out o = {NULL, 0};
	int rc;

	drop_pem(a);
	*io = 1;
	/* A folder that cannot be listed: the write itself will say so. */
	(void)fileio_clean_temps(path, NULL);
	if ((rc = fileio_atomic_open(path, 0644, &o.f)) != RK_OK)
		return rc;
	if ((rc = trustset_each_pem(a->store, version, put_file, &o)) !=
	    RK_OK) {
		*io = o.failed;
		fileio_atomic_abort(o.f); /* keeps errno */
		return rc;
	}
	return fileio_atomic_commit(o.f, path);
}

/* The export as read so far, against the set as made so far. */
struct export_cmp {
	int fd;
	char *buf;
	size_t cap;
};

static int
cmp_file(void *arg, const char *pem, size_t len)
{
	struct export_cmp *c = arg;
	size_t got;
	char *nb;

	if (len > c->cap) {
		if ((nb = realloc(c->buf, len)) == NULL)
			return RK_ENOMEM;
		c->buf = nb;
		c->cap = len;
	}
	if (fileio_read_full(c->fd, c->buf, len, &got) != RK_OK || got != len ||
	    memcmp(c->buf, pem, len) != 0)
		return EXPORT_DIFFERS;
	return RK_OK;
}

/*
 * Does path hold exactly version's set?  *same is 0 when it differs or
 * cannot be read; an rc other than RK_OK is the store's.
 */
static int
export_matches(struct agent *a, const char *path, uint64_t version, int *same)
{
	struct export_cmp c = {-1, NULL, 0};
	size_t got = 0;
	char end;
	int rc;

	*same = 0;
	drop_pem(a);
	if (fileio_open(path, &c.fd) != RK_OK)
		return RK_OK;
	rc = trustset_each_pem(a->store, version, cmp_file, &c);
	if (rc == RK_OK)
		*same =
		    fileio_read_full(c.fd, &end, 1, &got) == RK_OK && got == 0;
	else if (rc == EXPORT_DIFFERS)
		rc = RK_OK;
	close(c.fd);
	free(c.buf);
	return rc;
}

int
agent_export(struct agent *a, const char *path, struct rk_why *why)
{
	uint64_t v;
	int rc, io = 0;

	if ((rc = store_active_version(a->store, &v)) == RK_OK && v == 0)
		rc = RK_ENOENT;
	if (rc == RK_OK)
		rc = write_export(a, path, v, &io);
	if (rc != RK_OK && !io)
		return rk_fail(why, rc, "no active trust set to export");
	if (rc != RK_OK)
		return rk_fail(why, rc, "%s: %s", path,
		    rc == RK_EIO ? strerror(errno) : rk_strerror(rc));
	if (strcmp(path, a->export_path) == 0)
		export_known(a, v);
	return RK_OK;
}

int
agent_sync_export(struct agent *a, int *rewrote, struct rk_why *why)
{
	struct agent_outcome o;
	uint64_t v = 0;
	int rc, same = 0, io = 0;

	if (rewrote != NULL)
		*rewrote = 0;
	/*
	 * The export as last found equal to this version, untouched since
	 * (inode, size and time): no rebuild, no read.
	 */
	if ((rc = store_active_version(a->store, &v)) != RK_OK)
		return rc;
	if (export_unchanged(a, v)) {
		/* Nothing to write, but a killed writer's temp may be left. */
		(void)fileio_clean_temps(a->export_path, NULL);
		return RK_OK;
	}
	if (v == 0)
		return RK_OK; /* nothing active, nothing to export */
	/* Compared as it is made: neither is ever whole in memory. */
	if ((rc = export_matches(a, a->export_path, v, &same)) != RK_OK)
		return rc;
	if (same) {
		export_known(a, v);
		/* Nothing to write, but a killed writer's temp may be left. */
		(void)fileio_clean_temps(a->export_path, NULL);
		return RK_OK;
	}
	rc = write_export(a, a->export_path, v, &io);
	if (rc != RK_OK && !io)
		return rc;
	if (rc != RK_OK)
		return rk_fail(why, rc, "%s: %s", a->export_path,
		    rc == RK_EIO ? strerror(errno) : rk_strerror(rc));
	export_known(a, v);
	if (rewrote != NULL)
		*rewrote = 1;
	memset(&o, 0, sizeof(o));
	snprintf(o.detail, sizeof(o.detail),
	    "rewrote %s: it did not match the active set", a->export_path);
	if ((rc = store_begin(a->store)) != RK_OK)
		return rk_fail(why, rc, "%s", store_words(a, rc));
	if ((rc = store_add_event(a->store, now_s(), "export", 0, o.detail)) !=
	    RK_OK) {
		store_abort(a->store);
		return rk_fail(why, rc, "%s", store_words(a, rc));
	}
	if ((rc = store_commit(a->store)) != RK_OK)
		return rk_fail(why, rc, "%s", store_words(a, rc));
	return RK_OK;
}

struct change_ctx {
	struct agent *a;
	int64_t now;
	uint64_t version;
};

static int
record_change(void *arg, const uint8_t sha[CRYPTO_SHA256_LEN], const char *line)
{
	struct change_ctx *c = arg;

	(void)sha;
	return store_add_event(
	    c->a->store, c->now, "distrust", c->version, line);
}

/*
 * Inside the caller's transaction: one event for each entry in force that
 * m's distrust list changes, then the change itself.
 */
static int
merge_distrust(struct agent *a, const struct manifest *m, int64_t now)
{
	struct change_ctx c = {a, now, m->version};
	struct store_distrust *d = NULL;
	size_t nd = 0;
	int rc;

	if (m->n_distrust == 0)
		return RK_OK;
	if ((rc = store_get_distrust(a->store, &d, &nd)) == RK_OK &&
	    (rc = policy_distrust_changes(d, nd, m, record_change, &c)) ==
		RK_OK)
		rc = store_add_distrust(
		    a->store, m->distrust, m->n_distrust, m->version);
	free(d);
	return rc;
}

/*
 * Step 9's store part for an accepted bundle, inside the caller's write
 * transaction (which re-judged it): stores and activates it, raises the
 * highest version and the time floor, rotates the keys, prunes and
 * records the event.  The export is the caller's, after the commit.
 */
static int
store_new(struct agent *a, const uint8_t *buf, size_t len,
    const struct policy_result *pr, const struct origin *from, int factory,
    const char *notes, struct agent_outcome *out)
{
	const struct manifest *m = pr->manifest;
	struct store_cert *sc = NULL;
	struct store_version v;
	struct store_state st;
	size_t i, n = bundle_ncerts(pr->bundle);
	int64_t now = now_s();
	int rc;

	if ((sc = calloc(n, sizeof(*sc))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < n; i++) {
		size_t dl;

		memcpy(sc[i].sha256, pr->certs[i].sha256, CRYPTO_SHA256_LEN);
		/* Borrowed: the store copies and never frees these. */
		sc[i].der =
		    (uint8_t *)(uintptr_t)bundle_cert(pr->bundle, i, &dl);
		sc[i].der_len = dl;
		str_copy(
		    sc[i].subject, sizeof(sc[i].subject), pr->certs[i].subject);
		sc[i].not_before = pr->certs[i].not_before;
		sc[i].not_after = pr->certs[i].not_after;
	}
	memset(&v, 0, sizeof(v));
	v.version = m->version;
	memcpy(v.sha256, pr->sha256, CRYPTO_SHA256_LEN);
	v.issued_at = m->issued_at;
	v.expires_at = m->expires_at;
	v.stored_at = now;
	/* Activated below: stored so, its row need not be rewritten. */
	v.activated_at = now;
	v.ncerts = n;
	v.factory = factory;

	outcome(out, AGENT_UPDATED, RK_OK, m->version,
	    "activated v%" PRIu64 " from %s: %zu certificate%s%s%s", m->version,
	    from->source, pr->n_trusted, pr->n_trusted == 1 ? "" : "s",
	    m->n_next_keys > 0 ? ", signing keys rotated" : "", notes);
	if ((rc = store_get_state(a->store, &st)) == RK_OK)
		rc = store_add_version(a->store, &v, buf, len, sc, n);
	/* Copied into the store: not held through the rest. */
	free(sc);
	sc = NULL;
	if (rc != RK_OK || (rc = merge_distrust(a, m, now)) != RK_OK)
		goto out;
	/* A deferred version is no longer waiting once this one is in. */
	if (st.deferred_version <= m->version) {
		st.deferred_version = 0;
		st.deferred_percent = 0;
	}
	/* Re-judged above the highest; these two only ever rise. */
	if (m->version > st.highest_version) {
		st.highest_version = m->version;
		memcpy(st.highest_sha256, pr->sha256, CRYPTO_SHA256_LEN);
	}
	if (m->issued_at > st.time_floor)
		st.time_floor = m->issued_at;
	st.last_check_at = now;
	str_copy(st.last_check_result, sizeof(st.last_check_result), "updated");
	str_copy(
	    st.last_check_detail, sizeof(st.last_check_detail), out->detail);
	if (from->url != NULL) {
		str_copy(st.fetch_url, sizeof(st.fetch_url), from->url);
		str_copy(st.etag, sizeof(st.etag), from->etag);
		str_copy(st.last_modified, sizeof(st.last_modified),
		    from->last_modified);
	}
	if (m->n_next_keys > 0)
		st.threshold = m->next_threshold;
	if ((rc = store_set_state(a->store, &st)) != RK_OK)
		goto out;
	if (m->n_next_keys > 0 &&
	    (rc = store_set_keys(a->store, m->next_keys, m->n_next_keys,
		 m->next_threshold)) != RK_OK)
		goto out;
	if ((rc = store_activate_added(a->store, m->version, now)) != RK_OK ||
	    (rc = store_prune(a->store, a->cfg->keep_versions, NULL)) !=
		RK_OK ||
	    (rc = store_add_event(a->store, now, factory ? "init" : "updated",
		 m->version, out->detail)) != RK_OK)
		goto out;
out:
	free(sc);
	return rc;
}

/* After a commit that activated a set: the export follows it. */
static void
export_after_commit(struct agent *a, struct agent_outcome *out)
{
	struct rk_why why = {""};
	int rc;

	/* Committed: the device has the new set even if the file lags. */
	if ((rc = agent_export(a, a->export_path, &why)) != RK_OK) {
		out->err = rc;
		snprintf(out->detail + strlen(out->detail),
		    sizeof(out->detail) - strlen(out->detail),
		    "; export failed: %s", why.msg);
		(void)record(a, "error", out, NULL);
	}
}

/* What the probes (probes.c) borrow of this agent. */
static struct probes_env
probes_env_of(const struct agent *a)
{
	struct probes_env env = {a->cfg, a->store, a->tls, a->tls_arg};

	return env;
}

size_t
agent_probe_targets(const struct config *cfg, char **targets, size_t max)
{
	return probes_targets(cfg, targets, max);
}

static void append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, cap - used, fmt, ap);
	va_end(ap);
}

/* Step 8 for an accepted candidate (probes_candidate()). */
static int
run_probes(struct agent *a, const struct policy_result *pr, char *notes,
    size_t notes_cap, struct rk_why *why)
{
	struct probes_env env = probes_env_of(a);

	return probes_candidate(&env, pr, notes, notes_cap, why);
}

int
agent_refresh_probes(struct agent *a, size_t *count)
{
	struct probes_env env = probes_env_of(a);

	return probes_refresh(&env, count);
}

/* How often a bundle is judged again when the store keeps changing. */
#define APPLY_TRIES 4

/*
 * Judges a bundle, runs the probes on an accepted one (outside any
 * transaction: they take network time), then judges it again inside the
 * write transaction that commits the outcome, against the state as it is
 * then.  Another writer may have moved the highest version, the time
 * floor, the keys or the distrust list in between; the verdict committed
 * is always the one reached on the state it commits to.  An acceptance
 * that the first judgement did not foresee, or one whose probes ran
 * against another active set, is judged (and probed) once more.
 */
static int
apply(struct agent *a, const uint8_t *buf, size_t len,
    const struct origin *from, struct agent_outcome *out)
{
	struct policy_facts *facts = NULL;
	struct policy_result pre, pr;
	struct store_cert *known = NULL;
	struct rk_why why = {""};
	char notes[320] = "";
	uint64_t active = 0, active_now = 0;
	size_t n_known = 0;
	int rc, probe_rc = RK_OK, tries;

	memset(out, 0, sizeof(*out));
	memset(&pre, 0, sizeof(pre));
	memset(&pr, 0, sizeof(pr));
	/*
	 * What the bytes say by themselves (parsed certificates, verified
	 * signatures) is learnt by the first judgement and reused by the
	 * next ones; only what the store's state decides is judged again.
	 */
	if ((rc = policy_facts_new(buf, len, &facts)) != RK_OK) {
		outcome(out, AGENT_ERROR, rc, 0, "cannot evaluate %s: %s",
		    from->source, rk_strerror(rc));
		(void)record(a, "error", out, NULL);
		goto out;
	}
	/*
	 * A new version mostly repeats the active one's certificates: what
	 * the store holds for the same bytes spares parsing and hashing
	 * them.  Without it (a fresh device, a read error), all are parsed.
	 */
	if (store_active_version(a->store, &active) == RK_OK && active != 0 &&
	    store_version_certs(a->store, active, &known, &n_known) == RK_OK)
		policy_facts_known(facts, known, n_known);
	for (tries = 0;; tries++) {
		policy_result_free(&pre);
		notes[0] = '\0';
		why.msg[0] = '\0';
		probe_rc = RK_OK;
		if ((rc = evaluate(a, facts, from->url == NULL, &pre)) !=
			RK_OK ||
		    (rc = store_active_version(a->store, &active)) != RK_OK) {
			outcome(out, AGENT_ERROR, rc, 0,
			    "cannot evaluate %s: %s", from->source,
			    store_words(a, rc));
			(void)record(a, "error", out, NULL);
			goto out;
		}
		/*
		 * The certificates' facts are learnt (copied from known where
		 * the DER matched): the active set is not held any longer.
		 */
		policy_facts_known(facts, NULL, 0);
		store_certs_free(known, n_known);
		known = NULL;
		n_known = 0;
		if (pre.verdict == POLICY_ACCEPT) {
			probe_rc =
			    run_probes(a, &pre, notes, sizeof(notes), &why);
			if (probe_rc != RK_OK && probe_rc != RK_EPROBE) {
				outcome(out, AGENT_ERROR, probe_rc, pre.version,
				    "probes failed to run: %s",
				    rk_strerror(probe_rc));
				(void)record(a, "error", out, NULL);
				goto out;
			}
		}
		/*
		 * Judged again below: only pre's verdict and version are
		 * used from here, not its copy of the bundle and facts.
		 */
		policy_result_free(&pre);
		if ((rc = store_begin(a->store)) != RK_OK) {
			outcome(out, AGENT_ERROR, rc, pre.version,
			    "cannot store v%" PRIu64 " from %s: %s",
			    pre.version, from->source, store_words(a, rc));
			goto out;
		}
		if ((rc = evaluate(a, facts, from->url == NULL, &pr)) !=
			RK_OK ||
		    (rc = store_active_version(a->store, &active_now)) !=
			RK_OK) {
			store_abort(a->store);
			outcome(out, AGENT_ERROR, rc, pre.version,
			    "cannot evaluate %s: %s", from->source,
			    store_words(a, rc));
			(void)record(a, "error", out, NULL);
			goto out;
		}
		if (pr.verdict != POLICY_ACCEPT ||
		    (pre.verdict == POLICY_ACCEPT && active_now == active))
			break;
		/* Accepted now, but not so judged or probed: again. */
		store_abort(a->store);
		policy_result_free(&pr);
		if (tries + 1 >= APPLY_TRIES) {
			outcome(out, AGENT_ERROR, RK_EBUSY, pre.version,
			    "cannot store v%" PRIu64 " from %s: other writers "
			    "kept changing the store",
			    pre.version, from->source);
			(void)record(a, "error", out, NULL);
			goto out;
		}
	}
	/* In the write transaction, on the state the verdict was reached. */
	if (pr.verdict == POLICY_CURRENT) {
		outcome(out, AGENT_CURRENT, RK_OK, pr.version,
		    "v%" PRIu64 " from %s is the version already verified",
		    pr.version, from->source);
		rc = record_in(a, "current", out, from);
	} else if (pr.verdict == POLICY_DEFER) {
		/*
		 * Verified, but not for this device yet: nothing changes, and
		 * the validators are kept so the next poll is a 304.
		 */
		outcome(out, AGENT_CURRENT, RK_OK, pr.version,
		    "deferred v%" PRIu64 " (rollout %u%%) from %s", pr.version,
		    pr.rollout_percent, from->source);
		rc = record_deferred_in(a, out, from, pr.rollout_percent);
	} else if (pr.verdict == POLICY_REJECT) {
		outcome(out, AGENT_REJECTED, pr.err, pr.version, "%s (from %s)",
		    pr.why.msg, from->source);
		out->keys_behind = pr.pins_failed;
		rc = record_in(a,
		    pr.err == RK_EEQUIV ? "equivocation" : "rejected", out,
		    NULL);
	} else if (probe_rc == RK_EPROBE) {
		outcome(out, AGENT_REJECTED, RK_EPROBE, pr.version,
		    "bundle v%" PRIu64 " from %s rejected: %s", pr.version,
		    from->source, why.msg);
		rc = record_in(a, "rejected", out, NULL);
	} else {
		rc = store_new(a, buf, len, &pr, from, 0, notes, out);
	}
	if (rc != RK_OK) {
		store_abort(a->store);
	} else if ((rc = store_commit(a->store)) == RK_OK) {
		if (out->result == AGENT_UPDATED)
			export_after_commit(a, out);
		goto out;
	}
	outcome(out, AGENT_ERROR, rc, pr.version,
	    "cannot store v%" PRIu64 ": %s", pr.version, store_words(a, rc));
	(void)record(a, "error", out, NULL);
out:
	policy_result_free(&pre);
	policy_result_free(&pr);
	policy_facts_free(facts);
	store_certs_free(known, n_known);
	return RK_OK;
}

int
agent_apply(struct agent *a, const uint8_t *buf, size_t len, const char *source,
    struct agent_outcome *out)
{
	struct origin from = {source, NULL, NULL, NULL};

	return apply(a, buf, len, &from, out);
}

/* Records one event of the rotation walk in a transaction of its own. */
static void rotation_event(struct agent *a, uint64_t version, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
rotation_event(struct agent *a, uint64_t version, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (store_begin(a->store) != RK_OK)
		return;
	/* Best effort: a lost event must not stop the walk. */
	if (store_add_event(a->store, now_s(), "rotation", version, detail) !=
		RK_OK ||
	    store_commit(a->store) != RK_OK)
		store_abort(a->store);
}

/*
 * One step of the walk, judged and taken inside one write transaction
 * against the keys pinned then: the bundle must verify under them, be of
 * this channel, carry version v (the name it was published under) above
 * both the highest version and the step before, and rotate the keys with
 * a threshold of the new keys' signatures.  It is taken for its keys
 * only, expired or not: its certificates are not used.  *taken says
 * whether it was; a refusal is an event, not an error.
 */
static int
rotation_step(struct agent *a, const uint8_t *buf, size_t len, uint64_t v,
    uint64_t after, const char *src, int *taken)
{
	struct store_state st;
	struct pubkey **keys = NULL;
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct rk_why why = {""};
	char detail[512] = "";
	size_t nkeys = 0;
	int rc;

	*taken = 0;
	if ((rc = store_begin(a->store)) != RK_OK)
		return rc;
	if ((rc = store_get_state(a->store, &st)) != RK_OK ||
	    (rc = store_get_keys(a->store, &keys, &nkeys)) != RK_OK)
		goto abort;
	rc = bundle_open(buf, len, a->cfg->max_bundle_size, keys, nkeys,
	    st.threshold, &b, &m, &why);
	if (rc == RK_ENOMEM || rc == RK_ECRYPTO)
		goto abort;
	if (rc != RK_OK)
		snprintf(detail, sizeof(detail), "%s", why.msg);
	else if (strcmp(m->channel, st.channel) != 0)
		snprintf(detail, sizeof(detail), "channel \"%s\"", m->channel);
	else if (m->version != v)
		snprintf(detail, sizeof(detail),
		    "it is v%" PRIu64 ", published as v%" PRIu64, m->version,
		    v);
	else if (m->version <= st.highest_version || m->version <= after)
		snprintf(detail, sizeof(detail),
		    "not above v%" PRIu64 " already verified",
		    after > st.highest_version ? after : st.highest_version);
	else if (m->n_next_keys == 0)
		snprintf(detail, sizeof(detail), "it rotates no keys");
	if (detail[0] != '\0') {
		store_abort(a->store);
		rotation_event(a, v,
		    "key rotation catch-up: v%" PRIu64 " from %s refused: %s",
		    v, src, detail);
		rc = RK_OK;
		goto out;
	}
	if ((rc = store_set_keys(a->store, m->next_keys, m->n_next_keys,
		 m->next_threshold)) != RK_OK ||
	    (rc = store_add_event(a->store, now_s(), "rotation", v,
		 m->expires_at > now_s() ? "signing keys rotated by the key "
					   "rotation catch-up (its "
					   "certificates are not used)"
					 : "signing keys rotated by the key "
					   "rotation catch-up from an "
					   "expired bundle (keys only)")) !=
		RK_OK)
		goto abort;
	if ((rc = store_commit(a->store)) != RK_OK)
		goto out;
	*taken = 1;
	goto out;
abort:
	store_abort(a->store);
out:
	free_keys(keys, nkeys);
	bundle_free(b);
	manifest_free(m);
	return rc;
}

/* A URL as events may show it: without its password. */
static void
shown_url(const char *url, char *out, size_t cap)
{
	if (url_redact(url, out, cap) != RK_OK)
		snprintf(out, cap, "(a URL of %zu bytes)", strlen(url));
}

/*
 * The key-rotation catch-up for a bundle from url that the pinned keys
 * cannot verify (see agent_check()).  *rotated gets the number of steps
 * taken.  What the server hides, reorders or forges only costs steps
 * (each refusal is an event): the keys move only along rotations the
 * pinned keys signed.
 */
static int
catch_up(struct agent *a, const char *url, const struct fetch_req *proto,
    size_t *rotated)
{
	struct store_state st;
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why = {""};
	uint64_t *vs = NULL, walked = 0;
	size_t nvs = 0, i, steps = 0;
	char rurl[1024], shown[1024];
	int rc, taken;

	*rotated = 0;
	if (rotation_url(url, 0, rurl, sizeof(rurl)) != RK_OK)
		return RK_OK; /* no folder to look in */
	shown_url(rurl, shown, sizeof(shown));
	req = *proto;
	req.url = rurl;
	req.etag = NULL;
	req.last_modified = NULL;
	req.max_size = ROTATION_INDEX_MAX;
	memset(&res, 0, sizeof(res));
	rc = a->fetch(a->fetch_arg, &req, &res, &why);
	if (rc == RK_ENOMEM)
		goto out;
	if (rc == RK_OK && res.status == 200)
		rc = rotation_index_parse(res.body, res.len, &vs, &nvs, &why);
	else if (rc == RK_OK)
		rc = rk_fail(&why, RK_ENET, "HTTP %ld", res.status);
	fetch_res_free(&res);
	if (rc == RK_ENOMEM)
		goto out;
	if (rc != RK_OK) {
		rotation_event(
		    a, 0, "key rotation catch-up: %s: %s", rurl, why.msg);
		rc = RK_OK;
		goto out;
	}
	if ((rc = store_get_state(a->store, &st)) != RK_OK)
		goto out;
	walked = st.highest_version;
	for (i = 0; i < nvs && steps < ROTATION_MAX_STEPS; i++) {
		if (vs[i] <= walked)
			continue;
		if (rotation_url(url, vs[i], rurl, sizeof(rurl)) != RK_OK)
			break;
		shown_url(rurl, shown, sizeof(shown));
		steps++;
		req = *proto;
		req.url = rurl;
		req.etag = NULL;
		req.last_modified = NULL;
		memset(&res, 0, sizeof(res));
		why.msg[0] = '\0';
		rc = a->fetch(a->fetch_arg, &req, &res, &why);
		if (rc == RK_OK && res.status != 200)
			rc = rk_fail(&why, RK_ENET, "HTTP %ld", res.status);
		if (rc == RK_ENOMEM) {
			fetch_res_free(&res);
			goto out;
		}
		if (rc != RK_OK) {
			fetch_res_free(&res);
			rotation_event(a, vs[i],
			    "key rotation catch-up: cannot fetch %s: %s", shown,
			    why.msg);
			continue;
		}
		rc = rotation_step(
		    a, res.body, res.len, vs[i], walked, shown, &taken);
		fetch_res_free(&res);
		if (rc != RK_OK)
			goto out;
		if (taken) {
			walked = vs[i];
			(*rotated)++;
		}
	}
	rc = RK_OK;
out:
	free(vs);
	return rc;
}

void
agent_user_agent(const struct agent *a, const struct store_state *st,
    uint64_t deferred, char *buf, size_t cap)
{
	char id[POLICY_CENSUS_ID_LEN + 1] = "", more[64] = "";

	if (!a->cfg->census) {
		snprintf(buf, cap, "rootkeeper/%s", RK_VERSION_STRING);
		return;
	}
	if (a->device_id[0] != '\0' &&
	    policy_census_id(st->channel, a->device_id, id) == RK_OK)
		snprintf(more, sizeof(more), "; id=%s", id);
	if (deferred > 0)
		snprintf(more + strlen(more), sizeof(more) - strlen(more),
		    "; deferred=%" PRIu64, deferred);
	snprintf(buf, cap,
	    "rootkeeper/%s (channel=%s; active=%" PRIu64 "; highest=%" PRIu64
	    "%s)",
	    RK_VERSION_STRING, st->channel, st->active_version,
	    st->highest_version, more);
}

/*
 * A 304 for the validators the store holds, after a check that found the
 * same: nothing the store does not say already.  While a rollout defers a
 * bundle, the first 304 after the deferral is recorded ("still deferred"),
 * later ones only when they say something else.
 */
static int
unchanged(
    const struct store_state *st, const struct origin *from, const char *detail)
{
	return strcmp(st->last_check_result, "current") == 0 &&
	       from->url != NULL && strcmp(st->fetch_url, from->url) == 0 &&
	       strcmp(st->etag, from->etag) == 0 &&
	       strcmp(st->last_modified, from->last_modified) == 0 &&
	       (st->deferred_version <= st->highest_version ||
		   strncmp(st->last_check_detail, detail,
		       sizeof(st->last_check_detail) - 1) == 0);
}

/*
 * What the store said at an unchanged poll, for agent_close_store() to
 * keep: not while a rollout defers a bundle (each 304 then compares its
 * words with the store's), nor what the poll file has no room for.
 */
static void
remember_idle(struct agent *a, const struct store_state *st)
{
	struct pollstate_store *sn = &a->seen;

	memset(sn, 0, sizeof(*sn));
	if (st->deferred_version > st->highest_version ||
	    st->active_version == 0 ||
	    strlen(st->channel) > POLLSTATE_CHANNEL_MAX ||
	    strlen(st->fetch_url) > POLLSTATE_URL_MAX ||
	    strlen(st->etag) > POLLSTATE_ETAG_MAX ||
	    strlen(st->last_modified) > POLLSTATE_LM_MAX)
		return;
	sn->active_version = st->active_version;
	sn->highest_version = st->highest_version;
	str_copy(sn->channel, sizeof(sn->channel), st->channel);
	str_copy(sn->fetch_url, sizeof(sn->fetch_url), st->fetch_url);
	str_copy(sn->etag, sizeof(sn->etag), st->etag);
	str_copy(
	    sn->last_modified, sizeof(sn->last_modified), st->last_modified);
	sn->valid = 1;
}

int
agent_idle_check(struct agent *a, const char *url, struct agent_outcome *out)
{
	struct pollstate *ps = poll_state(a);
	const struct pollstate_store *sn = &ps->store;
	struct pollstate_file db, wal;
	struct store_state st;
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why = {""};
	char *targets[AGENT_MAX_TARGETS], shown[sizeof(st.fetch_url)];
	char ua[AGENT_UA_MAX];
	size_t nt, i;
	int rc;

	memset(out, 0, sizeof(*out));
	prefetch_drop(a);
	if (url == NULL && a->cfg->n_urls > 0)
		url = a->cfg->urls[0];
	/*
	 * Only when nothing but the transfer is due: no probes to refresh
	 * (an https URL is one), no CApath folder to compare, no channel=
	 * to check against another store's.
	 */
	if (url == NULL || !sn->valid || a->store != NULL ||
	    strncasecmp(url, "https://", 8) == 0 ||
	    a->cfg->export_dir != NULL ||
	    (a->cfg->channel[0] != '\0' &&
		strcmp(a->cfg->channel, sn->channel) != 0) ||
	    (sn->etag[0] == '\0' && sn->last_modified[0] == '\0'))
		return 0;
	nt = agent_probe_targets(a->cfg, targets, AGENT_MAX_TARGETS);
	for (i = 0; i < nt; i++)
		free(targets[i]);
	if (nt > 0)
		return 0;
	/* The store as recorded, writable as agent_open() needs it. */
	if (pollstate_stat_store(a->db_path, &db, &wal) != 0 || db.ino == 0 ||
	    memcmp(&db, &sn->db, sizeof(db)) != 0 ||
	    memcmp(&wal, &sn->wal, sizeof(wal)) != 0 ||
	    access(a->db_path, W_OK) != 0)
		return 0;
	/*
	 * The export as last found holding the active set (whose bundle the
	 * unchanged store still names as it did then).
	 */
	if (!pollstate_export_unchanged(ps, sn->active_version,
		ps->export_bundle_sha256, a->export_path))
		return 0;
	if (url_redact(url, shown, sizeof(shown)) != RK_OK ||
	    strcmp(shown, sn->fetch_url) != 0)
		return 0;
	/* As agent_sync_export() does before every check. */
	(void)fileio_clean_temps(a->export_path, NULL);

	memset(&st, 0, sizeof(st));
	str_copy(st.channel, sizeof(st.channel), sn->channel);
	st.active_version = sn->active_version;
	st.highest_version = sn->highest_version;
	agent_user_agent(a, &st, 0, ua, sizeof(ua));
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	req.url = url;
	req.etag = sn->etag;
	req.last_modified = sn->etag[0] == '\0' ? sn->last_modified : NULL;
	req.max_size = (size_t)a->cfg->max_bundle_size;
	req.cancel = a->cancel;
	req.user_agent = ua;
	rc = a->fetch(a->fetch_arg, &req, &res, &why);
	if (rc == RK_OK && res.status == 304 &&
	    (res.etag[0] == '\0' || strcmp(res.etag, sn->etag) == 0) &&
	    (res.last_modified[0] == '\0' ||
		strcmp(res.last_modified, sn->last_modified) == 0)) {
		outcome(out, AGENT_CURRENT, RK_OK, sn->highest_version,
		    "not modified at %s", shown);
		ps->last_check_at = now_s();
		str_copy(ps->detail, sizeof(ps->detail), out->detail);
		a->ps_dirty = 1;
		fetch_res_free(&res);
		return 1;
	}
	/* Anything else is agent_check()'s, with this answer. */
	if ((a->pre.url = strdup(url)) == NULL) {
		fetch_res_free(&res);
		return 0;
	}
	a->pre.have = 1;
	a->pre.rc = rc;
	a->pre.tls = 0;
	a->pre.res = res;
	a->pre.why = why;
	str_copy(a->pre.etag, sizeof(a->pre.etag), or_empty(req.etag));
	str_copy(a->pre.last_modified, sizeof(a->pre.last_modified),
	    or_empty(req.last_modified));
	str_copy(a->pre.ua, sizeof(a->pre.ua), ua);
	return 0;
}

int
agent_check(struct agent *a, const char *url, struct agent_outcome *out)
{
	const char *const *urls = (const char *const *)a->cfg->urls;
	size_t nurls = a->cfg->n_urls, i, used = 0;
	struct store_state st;
	struct fetch_req req;
	struct fetch_res res;
	struct rk_why why;
	struct origin from;
	const char *pem = NULL;
	char errs[sizeof(out->detail)] = "", ua[AGENT_UA_MAX];
	size_t pem_len = 0;
	int rc, rejected = 0;

	memset(out, 0, sizeof(*out));
	if (url != NULL) {
		urls = &url;
		nurls = 1;
	}
	if (nurls == 0)
		return RK_EINVAL;
	if ((rc = store_get_state(a->store, &st)) != RK_OK)
		return rc;
	agent_user_agent(a, &st,
	    st.deferred_version > st.highest_version ? st.deferred_version : 0,
	    ua, sizeof(ua));
	for (i = 0; i < nurls; i++) {
		/*
		 * Only libcurl sees the password: events, the state and
		 * every message get the redacted URL, and the validators
		 * are matched by it (a changed password is the same URL).
		 */
		char shown[sizeof(st.fetch_url)];
		int same = 0;

		if (url_redact(urls[i], shown, sizeof(shown)) == RK_OK)
			same = strcmp(st.fetch_url, shown) == 0;
		else
			snprintf(shown, sizeof(shown), "(a URL of %zu bytes)",
			    strlen(urls[i]));
		memset(&req, 0, sizeof(req));
		memset(&res, 0, sizeof(res));
		why.msg[0] = '\0';
		req.url = urls[i];
		req.etag = same ? st.etag : NULL;
		/* An ETag is the stronger validator; one is enough. */
		req.last_modified =
		    same && st.etag[0] == '\0' ? st.last_modified : NULL;
		req.max_size = (size_t)a->cfg->max_bundle_size; /* <= 1G */
		req.cancel = a->cancel;
		/*
		 * The active set as PEM only for https: an http:// poll does
		 * without it, unless it is redirected to https://.
		 */
		pem = NULL;
		pem_len = 0;
		if (strncasecmp(urls[i], "https://", 8) == 0 &&
		    (rc = active_pem(a, &pem, &pem_len, NULL, 0)) != RK_OK &&
		    rc != RK_ENOENT)
			return rc;
		req.ca_pem = pem;
		req.ca_pem_len = pem_len;
		req.user_agent = ua;
		rc = fetch_or_take(a, &req, &res, &why);
		if (rc == RK_ENET && res.wants_tls && pem == NULL &&
		    active_pem(a, &pem, &pem_len, NULL, 0) == RK_OK) {
			fetch_res_free(&res);
			memset(&res, 0, sizeof(res));
			why.msg[0] = '\0';
			req.ca_pem = pem;
			req.ca_pem_len = pem_len;
			rc = a->fetch(a->fetch_arg, &req, &res, &why);
		}
		if (rc != RK_OK && a->cancel != NULL && *a->cancel) {
			/* A stop request is no failure of the server's. */
			fetch_res_free(&res);
			outcome(out, AGENT_ERROR, RK_ENET, 0,
			    "cancelled (stop requested) while fetching %s",
			    shown);
			rc = RK_OK;
			goto out;
		}
		/* Nothing was asked conditionally: not an answer. */
		if (rc == RK_OK && res.status == 304 &&
		    (req.etag == NULL || req.etag[0] == '\0') &&
		    (req.last_modified == NULL || req.last_modified[0] == '\0'))
			rc = rk_fail(&why, RK_ENET,
			    "HTTP 304 to an unconditional request");
		from.source = shown;
		from.url = shown;
		from.etag = res.etag;
		from.last_modified = res.last_modified;
		if (rc == RK_OK && res.status == 304) {
			/* A 304 may omit the validators: keep the ones sent. */
			if (res.etag[0] == '\0')
				from.etag = st.etag;
			if (res.last_modified[0] == '\0')
				from.last_modified = st.last_modified;
			if (st.deferred_version > st.highest_version)
				outcome(out, AGENT_CURRENT, RK_OK,
				    st.highest_version,
				    "not modified at %s: still deferred "
				    "v%" PRIu64 " (rollout %u%%)",
				    shown, st.deferred_version,
				    st.deferred_percent);
			else
				outcome(out, AGENT_CURRENT, RK_OK,
				    st.highest_version, "not modified at %s",
				    shown);
			if (unchanged(&st, &from, out->detail)) {
				struct pollstate *ps = poll_state(a);

				/*
				 * Nothing new to record: the time goes to
				 * the poll file, not the store.
				 */
				ps->last_check_at = now_s();
				str_copy(ps->detail, sizeof(ps->detail),
				    out->detail);
				a->ps_dirty = 1;
				remember_idle(a, &st);
				rc = RK_OK;
			} else {
				rc = record(a, "current", out, &from);
			}
			fetch_res_free(&res);
			goto out;
		}
		if (rc == RK_OK) {
			rc = apply(a, res.body, res.len, &from, out);
			if (rc == RK_OK && out->result == AGENT_REJECTED &&
			    out->keys_behind) {
				size_t rotated = 0;

				rc = catch_up(a, urls[i], &req, &rotated);
				if (rc == RK_OK && rotated > 0)
					rc = apply(
					    a, res.body, res.len, &from, out);
				if (rc == RK_OK && rotated > 0)
					append(out->detail, sizeof(out->detail),
					    " (after %zu key rotation%s caught "
					    "up)",
					    rotated, rotated == 1 ? "" : "s");
			}
			fetch_res_free(&res);
			if (rc != RK_OK)
				goto out;
			if (out->result == AGENT_UPDATED ||
			    out->result == AGENT_CURRENT ||
			    out->result == AGENT_ERROR)
				goto out;
			rejected = 1; /* a stale mirror: try the next */
			continue;
		}
		fetch_res_free(&res);
		if (rc == RK_ELIMIT) {
			outcome(out, AGENT_REJECTED, RK_ELIMIT, 0,
			    "bundle rejected: over max_bundle_size (%" PRIu64
			    " bytes), download aborted (from %s)",
			    a->cfg->max_bundle_size, shown);
			if ((rc = record(a, "rejected", out, NULL)) != RK_OK)
				goto out;
			rejected = 1;
			continue;
		}
		/* fetch's reasons name the URL already. */
		used += (size_t)snprintf(errs + used,
		    used < sizeof(errs) ? sizeof(errs) - used : 0, "%s%s%s%s",
		    used ? "; " : "",
		    strstr(why.msg, shown) != NULL ? "" : shown,
		    strstr(why.msg, shown) != NULL ? "" : ": ", why.msg);
		if (used >= sizeof(errs))
			used = sizeof(errs) - 1;
	}
	rc = RK_OK;
	if (rejected)
		goto out; /* the last rejection is the outcome, recorded */
	outcome(out, AGENT_ERROR, RK_ENET, 0, "%s", errs);
	rc = record(a, "error", out, NULL);
out:
	return rc;
}

int
agent_rollback(struct agent *a, uint64_t to, struct agent_outcome *out)
{
	struct store_version *vs = NULL, *target = NULL;
	struct store_state st;
	struct manifest *m = NULL;
	struct bundle *b = NULL;
	struct trustset cs;
	uint8_t *raw = NULL, sha[CRYPTO_SHA256_LEN];
	const uint8_t *man;
	size_t n = 0, i, raw_len = 0, man_len;
	int64_t now = now_s();
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&cs, 0, sizeof(cs));
	/*
	 * Everything is read inside the write transaction: what is active,
	 * what is stored and bad, and the time floor are those the commit
	 * changes, not those another writer has since replaced.
	 */
	if ((rc = store_begin(a->store)) != RK_OK) {
		outcome(out, AGENT_ERROR, rc, to, "cannot roll back: %s",
		    store_words(a, rc));
		return RK_OK;
	}
	if ((rc = store_get_state(a->store, &st)) != RK_OK ||
	    (rc = store_list_versions(a->store, &vs, &n)) != RK_OK)
		goto out;
	if (st.active_version == 0) {
		outcome(out, AGENT_ERROR, RK_ENOENT, 0,
		    "no active version to roll back from");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (to != 0 ? vs[i].version == to
			    : vs[i].version < st.active_version && !vs[i].bad) {
			target = &vs[i];
			break; /* newest first */
		}
	}
	if (target == NULL) {
		outcome(out, AGENT_ERROR, RK_ENOENT, to,
		    to ? "v%" PRIu64 " is not stored"
		       : "no stored version older than v%" PRIu64
			 " to roll back to",
		    to ? to : st.active_version);
		goto out;
	}
	if (target->version == st.active_version) {
		outcome(out, AGENT_CURRENT, RK_OK, to,
		    "v%" PRIu64 " is already active", to);
		goto out;
	}
	/* What is activated must still be what was verified. */
	if ((rc = store_get_raw(a->store, target->version, &raw, &raw_len)) !=
		RK_OK ||
	    (rc = crypto_sha256(raw, raw_len, NULL, 0, sha)) != RK_OK)
		goto out;
	if (memcmp(sha, target->sha256, CRYPTO_SHA256_LEN) != 0 ||
	    bundle_parse(raw, raw_len, &b, NULL) != RK_OK ||
	    (man = bundle_manifest(b, &man_len),
		manifest_parse(man, man_len, &m, NULL) != RK_OK)) {
		outcome(out, AGENT_ERROR, RK_ESTORE, target->version,
		    "stored v%" PRIu64 " does not match its checksum",
		    target->version);
		goto out;
	}
	if (policy_expired(m->expires_at, now, st.time_floor, NULL)) {
		outcome(out, AGENT_REJECTED, RK_EEXPIRED, target->version,
		    "v%" PRIu64 " has expired; not rolling back to it",
		    target->version);
		goto out;
	}
	if ((rc = trustset_load(a->store, target->version, &cs)) != RK_OK)
		goto out;
	if (cs.n == 0) {
		outcome(out, AGENT_REJECTED, RK_EDISTRUST, target->version,
		    "every certificate of v%" PRIu64
		    " is distrusted on this device",
		    target->version);
		goto out;
	}
	outcome(out, AGENT_UPDATED, RK_OK, target->version,
	    "rolled back from v%" PRIu64 " to v%" PRIu64 " (%zu certificate%s)",
	    st.active_version, target->version, cs.n, cs.n == 1 ? "" : "s");
	if ((target->version < st.active_version &&
		(rc = store_mark_bad(a->store, st.active_version)) != RK_OK) ||
	    (rc = store_activate(a->store, target->version, now)) != RK_OK)
		goto out;
out:
	/* A refusal is an outcome too, and every outcome leaves an event. */
	if (rc == RK_OK)
		rc = store_add_event(a->store, now,
		    out->result == AGENT_REJECTED ? "rejected"
		    : out->result == AGENT_ERROR  ? "error"
						  : "rollback",
		    out->version, out->detail);
	if (rc == RK_OK)
		rc = store_commit(a->store);
	else
		store_abort(a->store);
	if (rc == RK_OK && out->result == AGENT_UPDATED)
		export_after_commit(a, out);
	trustset_free(&cs);
	manifest_free(m);
	bundle_free(b);
	free(raw);
	free(vs);
	return rc;
}

const char *
agent_store_note(struct agent *a)
{
	return store_checkpoint_error(a->store);
}

void
agent_trim(struct agent *a)
{
	size_t i;

	if (a->store != NULL)
		store_release_memory(a->store);
	/* Kept for a poll over https, which needs it every time. */
	for (i = 0; i < a->cfg->n_urls; i++)
		if (strncasecmp(a->cfg->urls[i], "https://", 8) == 0)
			return;
	free(a->pem);
	a->pem = NULL;
	a->pem_len = 0;
	a->pem_version = 0;
}

int
agent_set_next_check(struct agent *a, int64_t at)
{
	/* Not the store: a daemon's every poll would be a durable write. */
	poll_state(a)->next_check_at = at;
	a->ps_dirty = 1;
	poll_save(a);
	return a->ps_dirty ? RK_EIO : RK_OK;
}

static void
remove_store_files(const char *db)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	size_t i, n = strlen(db) + 16;
	char *p = malloc(n);

	for (i = 0; p != NULL && i < 4; i++) {
		snprintf(p, n, "%s%s", db, suffix[i]);
		unlink(p);
	}
	free(p);
}

/* Is there a store, or what is left of one, at db? */
static int
store_files_exist(const char *db)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	struct stat sb;
	size_t i, n = strlen(db) + 16;
	char *p = malloc(n);
	int found = 0;

	for (i = 0; p != NULL && i < 4 && !found; i++) {
		snprintf(p, n, "%s%s", db, suffix[i]);
		found = lstat(p, &sb) == 0;
	}
	free(p);
	return found;
}

/* fsync of a file or folder by name. */
static int
sync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	int rc = RK_OK;

	if (fd < 0)
		return RK_EIO;
	if (fsync(fd) != 0)
		rc = RK_EIO;
	if (close(fd) != 0)
		rc = RK_EIO;
	return rc;
}

/* The folder of path, malloc'ed ("." for a bare name); NULL: no memory. */
static char *
folder_of(const char *path)
{
	char *dir = strdup(path), *slash;

	if (dir == NULL)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		free(dir);
		return strdup(".");
	}
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/*
 * Inits of one folder take turns: a lock (flock) on the folder itself, so
 * that nothing is left behind, waited for as long as a writer waits for
 * another.  Two inits of one path would otherwise remove each other's
 * temporary store as a leftover.  *fd gets the folder (close to let go).
 */
static int
lock_folder(const char *db, int *fd, struct agent_outcome *out)
{
	struct timespec tenth = {0, 100 * 1000 * 1000};
	char *dir = folder_of(db);
	int i, d, e = 0;

	if (dir == NULL)
		return RK_ENOMEM;
	if ((d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		outcome(out, AGENT_ERROR, RK_EIO, 0, "%s: %s", dir,
		    strerror(errno));
		free(dir);
		return RK_EIO;
	}
	for (i = 0; i < STORE_WRITER_WAIT_S * 10; i++) {
		if (flock(d, LOCK_EX | LOCK_NB) == 0) {
			free(dir);
			*fd = d;
			return RK_OK;
		}
		if ((e = errno) != EWOULDBLOCK && e != EINTR)
			break;
		nanosleep(&tenth, NULL);
	}
	if (e == EWOULDBLOCK)
		outcome(out, AGENT_ERROR, RK_EBUSY, 0,
		    "%s: another init in %s holds it; gave up after waiting "
		    "%d s",
		    db, dir, STORE_WRITER_WAIT_S);
	else
		outcome(out, AGENT_ERROR, RK_EIO, 0, "%s: lock: %s", dir,
		    strerror(e));
	free(dir);
	close(d);
	return e == EWOULDBLOCK ? RK_EBUSY : RK_EIO;
}

/*
 * Moves the finished store into place without ever replacing one that
 * appeared meanwhile (another init), then makes the rename durable.
 */
static int
place_store(const char *tmp, const char *db, struct rk_why *why)
{
	char *dir = NULL;
	int rc = RK_OK;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, db, RENAME_NOREPLACE) != 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return rk_fail(why,
			    errno == EEXIST ? RK_EEXIST : RK_EIO, "%s: %s", db,
			    strerror(errno));
		/* No RENAME_NOREPLACE here: a hard link refuses too. */
		if (link(tmp, db) != 0)
			return rk_fail(why,
			    errno == EEXIST ? RK_EEXIST : RK_EIO, "%s: %s", db,
			    strerror(errno));
		(void)unlink(tmp);
	}
	if ((dir = folder_of(db)) == NULL)
		return RK_ENOMEM;
	if (sync_path(dir, 1) != RK_OK)
		rc = rk_fail(why, RK_EIO, "%s: fsync of its folder: %s", db,
		    strerror(errno));
	free(dir);
	return rc;
}

/*
 * A store is already at db_path.  When it was provisioned exactly as now
 * asked (channel, threshold, the same keys in order, the same factory
 * bundle or none), this is a retried init whose first run was cut short
 * after the rename: it succeeds, and brings the export up to date.
 * Anything else is RK_EEXIST.
 */
static int
init_again(const struct config *cfg, const char *db_path,
    const char *export_path, struct pubkey *const *pins, size_t npins,
    unsigned threshold, const char *channel, const uint8_t *factory,
    size_t factory_len, struct agent_outcome *out)
{
	struct agent *a = NULL;
	struct store_state st;
	struct store_version *vs = NULL;
	struct pubkey **keys = NULL;
	struct rk_why why = {""};
	uint8_t sha[CRYPTO_SHA256_LEN];
	size_t nkeys = 0, nv = 0, i, nfactory = 0;
	int rc, same = 0;

	outcome(out, AGENT_ERROR, RK_EEXIST, 0,
	    "%s: a store is already there (provisioned)", db_path);
	if (agent_open(cfg, db_path, export_path, &a, &why) != RK_OK)
		return RK_EEXIST;
	if (store_get_state(a->store, &st) != RK_OK ||
	    store_get_keys(a->store, &keys, &nkeys) != RK_OK ||
	    store_list_versions(a->store, &vs, &nv) != RK_OK ||
	    (factory != NULL &&
		crypto_sha256(factory, factory_len, NULL, 0, sha) != RK_OK))
		goto out;
	same = strcmp(st.channel, channel) == 0 && st.threshold == threshold &&
	       nkeys == npins;
	for (i = 0; same && i < npins; i++)
		same = memcmp(pubkey_id(keys[i]), pubkey_id(pins[i]),
			   CRYPTO_SHA256_LEN) == 0;
	for (i = 0; same && i < nv; i++) {
		if (!vs[i].factory)
			continue;
		nfactory++;
		same = factory != NULL &&
		       memcmp(vs[i].sha256, sha, CRYPTO_SHA256_LEN) == 0;
	}
	same = same && nfactory == (factory != NULL ? 1u : 0u);
	if (!same)
		goto out;
	if ((rc = agent_sync_export(a, NULL, &why)) != RK_OK) {
		outcome(out, AGENT_ERROR, rc, 0, "%s: export: %s", db_path,
		    why.msg[0] ? why.msg : rk_strerror(rc));
		same = 0;
		goto out;
	}
	outcome(out, AGENT_CURRENT, RK_OK, st.active_version,
	    "already provisioned as asked: channel %s, %zu pinned key%s, "
	    "threshold %u%s",
	    channel, npins, npins == 1 ? "" : "s", threshold,
	    factory != NULL ? ", the same factory bundle" : "");
out:
	free_keys(keys, nkeys);
	free(vs);
	agent_close(a);
	return same ? RK_OK : out->err;
}

int
agent_init(const struct config *cfg, const char *db_path,
    const char *export_path, struct pubkey *const *pins, size_t npins,
    unsigned threshold, const char *channel, const uint8_t *factory,
    size_t factory_len, struct agent_outcome *out)
{
	struct agent *a = NULL;
	struct store_state st;
	struct policy_facts *facts = NULL;
	struct policy_result pr;
	struct rk_why why = {""};
	struct origin from = {"the factory bundle", NULL, NULL, NULL};
	char *tmp = NULL, *pem = NULL;
	struct stat mine, now;
	size_t n, pem_len = 0;
	int rc, created = 0, folder = -1;

	memset(out, 0, sizeof(*out));
	memset(&pr, 0, sizeof(pr));
	if ((rc = agent_new(cfg, db_path, export_path, &a)) != RK_OK) {
		outcome(out, AGENT_ERROR, rc, 0, "cannot provision %s: %s",
		    db_path, rk_strerror(rc));
		return rc;
	}
	n = strlen(db_path) + sizeof(".init-tmp");
	if ((tmp = malloc(n)) == NULL) {
		rc = RK_ENOMEM;
		goto out;
	}
	snprintf(tmp, n, "%s.init-tmp", db_path);
	if ((rc = lock_folder(db_path, &folder, out)) != RK_OK)
		goto out;
	if (store_files_exist(db_path)) {
		rc = init_again(cfg, db_path, export_path, pins, npins,
		    threshold, channel, factory, factory_len, out);
		goto out;
	}
	/*
	 * The whole store is made under a temporary name in the same
	 * folder, in one transaction, and renamed into place only when
	 * complete: a crash leaves no store or a whole one.  What a killed
	 * init left under the temporary name is removed first.
	 */
	remove_store_files(tmp);
	if ((rc = store_open(tmp, STORE_CREATE, &a->store, &why)) != RK_OK) {
		outcome(out, AGENT_ERROR, rc, 0, "%s", why.msg);
		goto out;
	}
	created = 1;
	if (stat(tmp, &mine) != 0) {
		rc = RK_EIO;
		goto out;
	}
	if ((rc = store_begin(a->store)) != RK_OK)
		goto out;
	if ((rc = store_get_state(a->store, &st)) != RK_OK)
		goto out;
	str_copy(st.channel, sizeof(st.channel), channel);
	st.threshold = threshold;
	if ((rc = store_set_state(a->store, &st)) != RK_OK ||
	    (rc = store_set_keys(a->store, pins, npins, threshold)) != RK_OK)
		goto out;
	outcome(out, AGENT_CURRENT, RK_OK, 0,
	    "provisioned: channel %s, %zu pinned key%s, threshold %u", channel,
	    npins, npins == 1 ? "" : "s", threshold);
	if ((rc = store_add_event(a->store, now_s(), "init", 0, out->detail)) !=
	    RK_OK)
		goto out;
	if (factory != NULL) {
		if ((rc = policy_facts_new(factory, factory_len, &facts)) !=
			RK_OK ||
		    (rc = evaluate(a, facts, 1, &pr)) != RK_OK)
			goto out;
		if (pr.verdict != POLICY_ACCEPT) {
			rc = pr.verdict == POLICY_REJECT ? pr.err : RK_EINVAL;
			outcome(out, AGENT_REJECTED, rc, pr.version, "%s",
			    pr.why.msg);
			goto out;
		}
		if ((rc = store_new(a, factory, factory_len, &pr, &from, 1, "",
			 out)) != RK_OK)
			goto out;
	}
	if ((rc = store_commit(a->store)) != RK_OK)
		goto out;
	/* Stored: the parsed copy is not held beside the export's PEM. */
	policy_result_free(&pr);
	if (factory != NULL &&
	    (rc = agent_active_pem(a, &pem, &pem_len)) != RK_OK)
		goto out;
	/* The last close merges the WAL into the file and removes it. */
	store_close(a->store);
	a->store = NULL;
	/*
	 * Another init of the same path, started meanwhile, removed this
	 * temporary file as a leftover and made its own: renaming that one
	 * (perhaps half made) into place would break all or nothing.
	 */
	if (stat(tmp, &now) != 0 || now.st_ino != mine.st_ino ||
	    now.st_dev != mine.st_dev) {
		rc = RK_EBUSY;
		created = 0; /* not ours any more */
		outcome(out, AGENT_ERROR, rc, 0,
		    "%s: another init of this store ran at the same time",
		    db_path);
		goto out;
	}
	if (sync_path(tmp, 0) != RK_OK) {
		rc = RK_EIO;
		outcome(out, AGENT_ERROR, rc, 0, "%s: fsync: %s", tmp,
		    strerror(errno));
		goto out;
	}
	if ((rc = place_store(tmp, db_path, &why)) != RK_OK) {
		if (rc == RK_EEXIST)
			outcome(out, AGENT_ERROR, rc, 0,
			    "%s: a store is already there (provisioned)",
			    db_path);
		else
			outcome(out, AGENT_ERROR, rc, 0, "%s", why.msg);
		goto out;
	}
	/* In place: the device has its set even if the file lags. */
	if (pem != NULL && (rc = fileio_write_atomic(
				export_path, pem, pem_len, 0644)) != RK_OK) {
		out->err = rc;
		snprintf(out->detail + strlen(out->detail),
		    sizeof(out->detail) - strlen(out->detail),
		    "; export failed: %s: %s", export_path,
		    rc == RK_EIO ? strerror(errno) : rk_strerror(rc));
	}
	rc = RK_OK;
out:
	/*
	 * A failure after the outcome said "provisioned" or "activated" (a
	 * full disk at the commit): say what failed instead, in SQLite's
	 * words while the store is still open.
	 */
	if (rc != RK_OK &&
	    (out->detail[0] == '\0' || out->result == AGENT_CURRENT ||
		out->result == AGENT_UPDATED))
		outcome(out, AGENT_ERROR, rc, out->version,
		    "cannot provision %s: %s", db_path,
		    a->store != NULL ? store_words(a, rc) : rk_strerror(rc));
	policy_result_free(&pr);
	policy_facts_free(facts);
	store_abort(a->store);
	store_close(a->store);
	a->store = NULL;
	if (rc != RK_OK && created)
		remove_store_files(tmp); /* nothing half-provisioned */
	if (folder >= 0)
		close(folder);
	free(tmp);
	free(pem);
	agent_close(a);
	return rc;
}
