/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trust set a version stands for on this device: its certificates in
 * bundle order, less every certificate the device has distrusted for
 * good (distrust persists across versions and rollbacks).  Shared by the
 * agent's export, status and the TLS library so that they all agree on
 * what "the active set" is, down to the bytes of the PEM file.
 */
#ifndef RK_TRUSTSET_H
#define RK_TRUSTSET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

struct trustset {
	struct store_cert *certs; /* every cert of the version */
	size_t n_all;
	/* The trusted ones, pointing into certs: */
	const struct store_cert **trusted;
	const uint8_t **der;
	size_t *len;
	size_t n;
};

/* Loads version's set from s.  Free with trustset_free(). */
int trustset_load(
    struct store *s, uint64_t version, struct trustset *out) RK_WUR;

void trustset_free(struct trustset *ts);

/* The trusted certificates as concatenated PEM; caller frees *pem. */
int trustset_pem(const struct trustset *ts, char **pem, size_t *len) RK_WUR;

/*
 * The same bytes as trustset_pem() of version's set, made from s one
 * certificate at a time and handed to put block by block, so that the set
 * is never whole in memory (the export is written and compared so).  An
 * rc other than RK_OK from put stops the walk and is returned;
 * RK_ENOENT when the version is not stored.
 */
int trustset_each_pem(struct store *s, uint64_t version,
    int (*put)(void *arg, const char *pem, size_t len), void *arg) RK_WUR;

#endif
