/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trust sets from the store (see trustset.h).  The PEM is a plain
 * concatenation of CERTIFICATE blocks with nothing else in the file, the
 * form every TLS library and the Azure IoT SDK's "TrustedCerts" accept.
 */
#include "trustset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pem.h"
#include "policy.h"

/* A certificate is at most 64 KiB (DESIGN section 8); this is generous. */
#define PEM_DER_MAX (16u << 20)

void
trustset_free(struct trustset *ts)
{
	if (ts == NULL)
		return;
	store_certs_free(ts->certs, ts->n_all);
	free(ts->trusted);
	free(ts->der);
	free(ts->len);
	memset(ts, 0, sizeof(*ts));
}

int
trustset_load(struct store *s, uint64_t version, struct trustset *out)
{
	struct store_distrust *d = NULL;
	struct trustset ts;
	size_t nd = 0, i;
	int rc;

	memset(&ts, 0, sizeof(ts));
	if ((rc = store_version_certs(s, version, &ts.certs, &ts.n_all)) !=
		RK_OK ||
	    (rc = store_get_distrust(s, &d, &nd)) != RK_OK)
		goto out;
	rc = RK_ENOMEM;
	if ((ts.trusted = calloc(ts.n_all + 1, sizeof(*ts.trusted))) == NULL ||
	    (ts.der = calloc(ts.n_all + 1, sizeof(*ts.der))) == NULL ||
	    (ts.len = calloc(ts.n_all + 1, sizeof(*ts.len))) == NULL)
		goto out;
	for (i = 0; i < ts.n_all; i++) {
		if (policy_never_trusted(ts.certs[i].sha256, d, nd, NULL))
			continue;
		ts.trusted[ts.n] = &ts.certs[i];
		ts.der[ts.n] = ts.certs[i].der;
		ts.len[ts.n] = ts.certs[i].der_len;
		ts.n++;
	}
	*out = ts;
	memset(&ts, 0, sizeof(ts));
	rc = RK_OK;
out:
	free(d);
	trustset_free(&ts);
	return rc;
}

int
trustset_pem(const struct trustset *ts, char **pem, size_t *len)
{
	size_t total = 0, n, i;
	char *all, *p;

	/* One buffer of the exact size: no copy, no growing. */
	for (i = 0; i < ts->n; i++) {
		if (ts->len[i] > PEM_DER_MAX)
			return RK_ELIMIT;
		n = pem_encoded_len("CERTIFICATE", ts->len[i]);
		if (n > SIZE_MAX - 1 - total)
			return RK_ELIMIT;
		total += n;
	}
	if ((all = malloc(total + 1)) == NULL)
		return RK_ENOMEM;
	for (p = all, i = 0; i < ts->n; i++) {
		pem_encode_to("CERTIFICATE", ts->der[i], ts->len[i], p);
		p += pem_encoded_len("CERTIFICATE", ts->len[i]);
	}
	*p = '\0';
	*pem = all;
	*len = total;
	return RK_OK;
}

/* Where trustset_each_pem() is: the distrust list and one PEM block. */
struct pem_walk {
	const struct store_distrust *d;
	size_t nd;
	char *block;
	size_t cap;
	int (*put)(void *arg, const char *pem, size_t len);
	void *arg;
};

static int
pem_cert(void *arg, const uint8_t sha[CRYPTO_SHA256_LEN], const uint8_t *der,
    size_t der_len)
{
	struct pem_walk *w = arg;
	size_t n;
	char *nb;

	/* What trustset_load() leaves out. */
	if (policy_never_trusted(sha, w->d, w->nd, NULL))
		return RK_OK;
	if (der_len > PEM_DER_MAX)
		return RK_ELIMIT;
	n = pem_encoded_len("CERTIFICATE", der_len);
	if (n > w->cap) {
		if ((nb = realloc(w->block, n)) == NULL)
			return RK_ENOMEM;
		w->block = nb;
		w->cap = n;
	}
	pem_encode_to("CERTIFICATE", der, der_len, w->block);
	return w->put(w->arg, w->block, n);
}

int
trustset_each_pem(struct store *s, uint64_t version,
    int (*put)(void *arg, const char *pem, size_t len), void *arg)
{
	struct store_distrust *d = NULL;
	struct pem_walk w;
	size_t nd = 0;
	int rc;

	if ((rc = store_get_distrust(s, &d, &nd)) != RK_OK)
		return rc;
	w = (struct pem_walk){d, nd, NULL, 0, put, arg};
	rc = store_each_cert(s, version, pem_cert, &w);
	free(w.block);
	free(d);
	return rc;
}
