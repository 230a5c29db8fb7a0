/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librootkeeper (see include/rootkeeper.h): a read-only snapshot of the
 * active trust set taken from the agent's store, handed to wolfSSL through
 * tls.c or as PEM.  The snapshot keeps the DER of each certificate as the
 * store has it (never PEM parsed back), the partial-distrust dates of the
 * set's roots and the time floor, and is replaced whole on refresh.  What
 * the verify callback needs of the roots is made once per snapshot, on
 * the first load into a WOLFSSL_CTX, from what the store keeps of each
 * root (fingerprint, name, dates) without parsing any (tls.c reads a
 * root's key when a chain first needs it), and shared by reference with
 * every context loaded from it, so that any context costs wolfSSL's own
 * load of the DER and little more; a refresh drops the snapshot's
 * reference, never changing a context under a connection.
 * Only the rk_ functions of the header are exported (librootkeeper.map):
 * the store's, the agent's and the bundle library's code inside stays
 * private (wolfSSL, SQLite and jansson are shared libraries it links), and
 * no signing code is linked in.  It never writes to the store.
 */
#include "rootkeeper.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store.h"
#include "tls.h"
#include "trustset.h"

#define RK_API __attribute__((visibility("default")))

struct snapshot {
	uint64_t version;
	int64_t floor;
	struct trustset ts;
	struct tls_after *after;
	size_t n_after;
	char *pem; /* made on the first rk_trust_pem() */
	size_t pem_len;
	struct tls_roots *roots; /* made on the first rk_trust_load_wolfssl() */
};

/* One WOLFSSL_CTX loaded from this handle, with its callback's state. */
struct binding {
	struct binding *next;
	WOLFSSL_CTX *ctx;
	struct tls_verifier *v;
};

struct rk_trust {
	struct store *s;
	struct snapshot snap;
	struct tls_hook hook;
	struct binding *bindings;
};

static void
snapshot_free(struct snapshot *sn)
{
	trustset_free(&sn->ts);
	free(sn->after);
	free(sn->pem);
	tls_roots_free(sn->roots);
	memset(sn, 0, sizeof(*sn));
}

/*
 * The partial-distrust dates of the certificates of ts only (agent.c's
 * after_in_force is the whole list in force, with a candidate's entries).
 */
static int
after_of_set(struct store *s, const struct trustset *ts, struct tls_after **out,
    size_t *n)
{
	struct store_distrust *d = NULL;
	struct tls_after *a = NULL;
	size_t nd = 0, i, j, k = 0;
	int rc;

	if ((rc = store_get_distrust(s, &d, &nd)) != RK_OK)
		return rc;
	if ((a = calloc(nd + 1, sizeof(*a))) == NULL) {
		free(d);
		return RK_ENOMEM;
	}
	for (i = 0; i < nd; i++) {
		if (!d[i].has_after)
			continue;
		for (j = 0; j < ts->n; j++)
			if (memcmp(ts->trusted[j]->sha256, d[i].sha256,
				CRYPTO_SHA256_LEN) == 0)
				break;
		if (j == ts->n)
			continue;
		memcpy(a[k].sha256, d[i].sha256, CRYPTO_SHA256_LEN);
		a[k++].after = d[i].after;
	}
	free(d);
	*out = a;
	*n = k;
	return RK_OK;
}

/*
 * Reads the active set, in one read transaction: a writer that activates
 * another version meanwhile is not seen half.
 */
static int
snapshot_load(struct store *s, struct snapshot *out)
{
	struct store_state st;
	struct snapshot sn;
	int rc;

	memset(&sn, 0, sizeof(sn));
	if ((rc = store_begin_read(s)) != RK_OK)
		return rc;
	if ((rc = store_get_state(s, &st)) != RK_OK)
		goto out;
	if (st.active_version == 0) {
		rc = RK_ENOENT;
		goto out;
	}
	sn.version = st.active_version;
	sn.floor = st.time_floor;
	if ((rc = trustset_load(s, sn.version, &sn.ts)) != RK_OK ||
	    (rc = after_of_set(s, &sn.ts, &sn.after, &sn.n_after)) != RK_OK)
		goto out;
	*out = sn;
	memset(&sn, 0, sizeof(sn));
out:
	store_end_read(s);
	snapshot_free(&sn);
	return rc;
}

RK_API int
rk_trust_open(const char *db_path, struct rk_trust **out)
{
	struct rk_trust *t;
	int rc;

	if (db_path == NULL || out == NULL)
		return RK_EINVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return RK_ENOMEM;
	if ((rc = store_open(db_path, STORE_RO, &t->s, NULL)) != RK_OK ||
	    (rc = snapshot_load(t->s, &t->snap)) != RK_OK) {
		rk_trust_close(t);
		return rc;
	}
	*out = t;
	return RK_OK;
}

RK_API void
rk_trust_close(struct rk_trust *t)
{
	struct binding *b, *next;

	if (t == NULL)
		return;
	for (b = t->bindings; b != NULL; b = next) {
		next = b->next;
		tls_verifier_free(b->v);
		free(b);
	}
	snapshot_free(&t->snap);
	store_close(t->s);
	free(t);
}

RK_API uint64_t
rk_trust_version(const struct rk_trust *t)
{
	return t != NULL ? t->snap.version : 0;
}

RK_API int
rk_trust_refresh(struct rk_trust *t, int *changed)
{
	struct snapshot sn;
	uint64_t v;
	int rc;

	if (t == NULL || changed == NULL)
		return RK_EINVAL;
	if ((rc = store_active_version(t->s, &v)) != RK_OK)
		return rc;
	if (v == t->snap.version) {
		*changed = 0;
		return RK_OK;
	}
	if ((rc = snapshot_load(t->s, &sn)) != RK_OK)
		return rc;
	snapshot_free(&t->snap);
	t->snap = sn;
	*changed = 1;
	return RK_OK;
}

/*
 * The snapshot's roots for tls.c, made once, with what the store knows of
 * each (its fingerprint, name and dates) so that none is parsed.
 */
static int
snapshot_roots(struct snapshot *sn)
{
	struct tls_known *known;
	struct tls_trust trust;
	size_t i;
	int rc;

	if ((known = calloc(sn->ts.n + 1, sizeof(*known))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < sn->ts.n; i++) {
		const struct store_cert *c = sn->ts.trusted[i];

		known[i] = (struct tls_known){
		    c->sha256, c->subject, c->not_before, c->not_after};
	}
	trust = tls_trust_make(sn->ts.der, sn->ts.len, sn->ts.n, sn->after,
	    sn->n_after, sn->floor);
	rc = tls_roots_new(&trust, known, &sn->roots);
	free(known);
	return rc;
}

RK_API int
rk_trust_load_wolfssl(struct rk_trust *t, WOLFSSL_CTX *ctx)
{
	struct tls_verifier *v;
	struct binding *b;
	int rc, fresh = 0;

	if (t == NULL || ctx == NULL)
		return RK_EINVAL;
	/*
	 * A context loaded twice keeps the newer state.  A new context at
	 * the address of one the application freed takes over its entry,
	 * which keeps the list from growing with every refresh.
	 */
	for (b = t->bindings; b != NULL && b->ctx != ctx; b = b->next)
		;
	if (b == NULL) {
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return RK_ENOMEM;
		fresh = 1;
	}
	/*
	 * The roots are made once per snapshot; each context then costs
	 * wolfSSL's load of the DER alone.
	 */
	if (t->snap.roots == NULL && (rc = snapshot_roots(&t->snap)) != RK_OK) {
		if (fresh)
			free(b);
		return rc;
	}
	if ((rc = tls_ctx_load(ctx, t->snap.roots, &t->hook, &v)) != RK_OK) {
		if (fresh)
			free(b);
		return rc;
	}
	tls_verifier_free(b->v);
	b->v = v;
	if (fresh) {
		b->ctx = ctx;
		b->next = t->bindings;
		t->bindings = b;
	}
	return RK_OK;
}

RK_API int
rk_trust_set_verify_cb(struct rk_trust *t, rk_verify_cb cb, void *arg)
{
	if (t == NULL)
		return RK_EINVAL;
	t->hook.fn = cb;
	t->hook.arg = cb != NULL ? arg : NULL;
	return RK_OK;
}

RK_API int
rk_trust_pem(struct rk_trust *t, const char **pem, size_t *len)
{
	int rc;

	if (t == NULL || pem == NULL || len == NULL)
		return RK_EINVAL;
	if (t->snap.pem == NULL && (rc = trustset_pem(&t->snap.ts, &t->snap.pem,
					&t->snap.pem_len)) != RK_OK)
		return rc;
	*pem = t->snap.pem;
	*len = t->snap.pem_len;
	return RK_OK;
}
