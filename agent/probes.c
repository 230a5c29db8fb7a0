/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The anti-lockout probes (see probes.h), in the order of step 8 in
 * docs/DESIGN.md: the targets, the trust sets the handshakes use (the
 * partial distrust in force for each), the judgement of a candidate
 * against the active set, and last the probes of the active set alone
 * that status shows.  The handshake itself is the caller's (tls_probe()
 * or a test's fake); nothing here stores or activates a set.
 */
#include "probes.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bundle.h"
#include "manifest.h"
#include "strcopy.h"
#include "tls.h"
#include "trustset.h"

/* "https://user@host:port/path" -> "host:port" (443 by default). */
static char *
https_target(const char *url)
{
	const char *h, *end, *at, *colon = NULL;
	size_t n;
	char *t;

	if (strncasecmp(url, "https://", 8) != 0)
		return NULL;
	h = url + 8;
	end = h + strcspn(h, "/?#");
	if ((at = memchr(h, '@', (size_t)(end - h))) != NULL)
		h = at + 1;
	if (h < end && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return NULL;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		n = (size_t)((colon ? colon : rb + 1) - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
	}
	if (n == 0 || (t = malloc(n + 16)) == NULL)
		return NULL;
	if (colon != NULL)
		snprintf(t, n + 16, "%.*s:%.*s", (int)n, h,
		    (int)(end - colon - 1 > 8 ? 8 : end - colon - 1),
		    colon + 1);
	else
		snprintf(t, n + 16, "%.*s:443", (int)n, h);
	return t;
}

size_t
probes_targets(const struct config *cfg, char **targets, size_t max)
{
	size_t n = 0, i, j;
	char *t;

	for (i = 0; i < cfg->n_probes + cfg->n_urls && n < max; i++) {
		t = i < cfg->n_probes
			? strdup(cfg->probes[i])
			: https_target(cfg->urls[i - cfg->n_probes]);
		if (t == NULL)
			continue;
		for (j = 0; j < n; j++)
			if (strcmp(targets[j], t) == 0)
				break;
		if (j < n)
			free(t);
		else
			targets[n++] = t;
	}
	return n;
}

static void
free_targets(char **t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(t[i]);
}

/*
 * The partial-distrust entries in force: m's (a candidate, NULL allowed)
 * where it mentions a fingerprint, else the persistent list's; of every
 * root, in the set or not (librootkeeper.c's after_of_set keeps only those
 * of one trust set).
 */
static int
after_in_force(const struct store_distrust *d, size_t nd,
    const struct manifest *m, struct tls_after **out, size_t *n)
{
	size_t i, j, k = 0, cap = nd + (m != NULL ? m->n_distrust : 0) + 1;
	struct tls_after *a;

	if ((a = calloc(cap, sizeof(*a))) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < nd; i++) {
		if (!d[i].has_after)
			continue;
		for (j = 0; m != NULL && j < m->n_distrust; j++)
			if (memcmp(m->distrust[j].sha256, d[i].sha256,
				CRYPTO_SHA256_LEN) == 0)
				break;
		if (m != NULL && j < m->n_distrust)
			continue; /* m's entry is in force */
		memcpy(a[k].sha256, d[i].sha256, CRYPTO_SHA256_LEN);
		a[k++].after = d[i].after;
	}
	for (i = 0; m != NULL && i < m->n_distrust; i++)
		if (m->distrust[i].has_after) {
			memcpy(a[k].sha256, m->distrust[i].sha256,
			    CRYPTO_SHA256_LEN);
			a[k++].after = m->distrust[i].after;
		}
	*out = a;
	*n = k;
	return RK_OK;
}

/* Does list distrust root for a leaf issued at leaf_nb? */
static int
after_refuses(const struct tls_after *list, size_t n,
    const uint8_t root[CRYPTO_SHA256_LEN], int64_t leaf_nb)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(list[i].sha256, root, CRYPTO_SHA256_LEN) == 0 &&
		    leaf_nb > list[i].after)
			return 1;
	return 0;
}

/* One handshake with host:port under trust, through the agent's hook. */
static int
handshake(const struct probes_env *env, const char *host, unsigned port,
    const struct tls_trust *trust, struct tls_probe *out)
{
	return env->tls(
	    env->tls_arg, host, port, trust, AGENT_PROBE_TIMEOUT, out);
}

/*
 * Step 8.  A target that validates under the active set but fails
 * certificate validation under the candidate refuses the candidate,
 * unless the root its chain ends at is one the candidate distrusts
 * (revocation beats availability: noted in notes).  Network failures, and
 * targets that already fail under the active set, do not count.
 */
int
probes_candidate(const struct probes_env *env, const struct policy_result *pr,
    char *notes, size_t notes_cap, struct rk_why *why)
{
	char *targets[AGENT_MAX_TARGETS], host[256];
	struct store_state st;
	struct store_distrust *d = NULL;
	struct tls_after *act_after = NULL, *cand_after = NULL;
	struct tls_trust act_trust, cand_trust;
	struct tls_probe r1, r2;
	struct trustset act;
	const uint8_t **der = NULL;
	size_t *len = NULL, i, n = 0, dl, nd = 0, nt, na = 0, nc = 0, used;
	unsigned port;
	int rc;

	memset(&act, 0, sizeof(act));
	nt = probes_targets(env->cfg, targets, AGENT_MAX_TARGETS);
	if (nt == 0)
		return RK_OK;
	if ((rc = store_get_state(env->store, &st)) != RK_OK ||
	    (rc = store_get_distrust(env->store, &d, &nd)) != RK_OK)
		goto out;
	if (st.active_version == 0)
		goto out; /* nothing to lose yet: the factory set */
	if ((rc = trustset_load(env->store, st.active_version, &act)) !=
		RK_OK ||
	    (rc = after_in_force(d, nd, NULL, &act_after, &na)) != RK_OK ||
	    (rc = after_in_force(d, nd, pr->manifest, &cand_after, &nc)) !=
		RK_OK)
		goto out;
	rc = RK_ENOMEM;
	if ((der = calloc(bundle_ncerts(pr->bundle) + 1, sizeof(*der))) ==
		NULL ||
	    (len = calloc(bundle_ncerts(pr->bundle) + 1, sizeof(*len))) == NULL)
		goto out;
	for (i = 0; i < bundle_ncerts(pr->bundle); i++) {
		if (policy_never_trusted(
			pr->certs[i].sha256, d, nd, pr->manifest))
			continue;
		der[n] = bundle_cert(pr->bundle, i, &dl);
		len[n++] = dl;
	}
	act_trust = tls_trust_make(
	    act.der, act.len, act.n, act_after, na, st.time_floor);
	cand_trust = tls_trust_make(der, len, n, cand_after, nc, st.time_floor);
	rc = RK_OK;
	for (i = 0; i < nt && rc == RK_OK; i++) {
		if (config_parse_probe(targets[i], host, sizeof(host), &port) !=
		    RK_OK)
			continue;
		if ((rc = handshake(env, host, port, &act_trust, &r1)) != RK_OK)
			break;
		if (r1.result != TLS_PROBE_OK)
			continue;
		if ((rc = handshake(env, host, port, &cand_trust, &r2)) !=
		    RK_OK)
			break;
		if (r2.result != TLS_PROBE_CERT)
			continue;
		if (policy_never_trusted(r1.root.sha256, d, nd, pr->manifest) ||
		    (r1.have_leaf && after_refuses(cand_after, nc,
					 r1.root.sha256, r1.leaf_not_before))) {
			used = strlen(notes); /* < notes_cap: terminated */
			snprintf(notes + used, notes_cap - used,
			    "; probe %s fails under it: its chain ends at %s, "
			    "which this bundle distrusts (revocation beats "
			    "availability)",
			    targets[i], r1.root.subject);
			continue;
		}
		rc = rk_fail(why, RK_EPROBE,
		    "probe %s validates under the active set (root %s) but "
		    "not under v%" PRIu64 ": %s",
		    targets[i], r1.root.subject, pr->version, r2.detail);
	}
out:
	free_targets(targets, nt);
	trustset_free(&act);
	free(act_after);
	free(cand_after);
	free(der);
	free(len);
	free(d);
	return rc;
}

int
probes_refresh(const struct probes_env *env, size_t *count)
{
	char *targets[AGENT_MAX_TARGETS], host[256];
	struct store_state st;
	struct store_distrust *d = NULL;
	struct tls_after *after = NULL;
	struct tls_trust trust, others;
	struct tls_probe r, r2;
	struct store_probe sp;
	struct trustset act;
	const uint8_t **der = NULL;
	size_t *len = NULL, i, j, k, nd = 0, na = 0, nt;
	unsigned port;
	int rc;

	memset(&act, 0, sizeof(act));
	nt = probes_targets(env->cfg, targets, AGENT_MAX_TARGETS);
	if (count != NULL)
		*count = 0;
	if (nt == 0)
		return RK_OK;
	if ((rc = store_get_state(env->store, &st)) != RK_OK ||
	    st.active_version == 0 ||
	    (rc = store_get_distrust(env->store, &d, &nd)) != RK_OK ||
	    (rc = trustset_load(env->store, st.active_version, &act)) !=
		RK_OK ||
	    (rc = after_in_force(d, nd, NULL, &after, &na)) != RK_OK)
		goto out;
	rc = RK_ENOMEM;
	if ((der = calloc(act.n + 1, sizeof(*der))) == NULL ||
	    (len = calloc(act.n + 1, sizeof(*len))) == NULL)
		goto out;
	trust =
	    tls_trust_make(act.der, act.len, act.n, after, na, st.time_floor);
	rc = RK_OK;
	for (i = 0; i < nt && rc == RK_OK; i++) {
		if (config_parse_probe(targets[i], host, sizeof(host), &port) !=
		    RK_OK)
			continue;
		if ((rc = handshake(env, host, port, &trust, &r)) != RK_OK)
			break;
		memset(&sp, 0, sizeof(sp));
		str_copy(sp.target, sizeof(sp.target), targets[i]);
		sp.at = (int64_t)time(NULL);
		sp.result = r.result == TLS_PROBE_OK	 ? STORE_PROBE_OK
			    : r.result == TLS_PROBE_CERT ? STORE_PROBE_CERT
							 : STORE_PROBE_NET;
		str_copy(sp.detail, sizeof(sp.detail), r.detail);
		if (r.result == TLS_PROBE_OK) {
			str_copy(sp.root_subject, sizeof(sp.root_subject),
			    r.root.subject);
			memcpy(
			    sp.root_sha256, r.root.sha256, CRYPTO_SHA256_LEN);
			sp.root_not_after = r.root.not_after;
			/* Would the set still reach it without that root? */
			for (j = k = 0; j < act.n; j++)
				if (memcmp(act.trusted[j]->sha256,
					r.root.sha256,
					CRYPTO_SHA256_LEN) != 0) {
					der[k] = act.der[j];
					len[k++] = act.len[j];
				}
			others = tls_trust_make(
			    der, len, k, after, na, st.time_floor);
			if (k > 0 && (rc = handshake(env, host, port, &others,
					  &r2)) != RK_OK)
				break;
			sp.alternative = k > 0 && r2.result == TLS_PROBE_OK;
		}
		if ((rc = store_set_probe(env->store, &sp)) != RK_OK)
			break;
		if (count != NULL)
			(*count)++;
	}
out:
	free_targets(targets, nt);
	trustset_free(&act);
	free(after);
	free(der);
	free(len);
	free(d);
	return rc;
}
