/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the bundle framing and everything bundle_open()
 * runs on untrusted bytes: bundle_parse, then (if the framing parses) the
 * manifest, the certificate checks and the signature count, and finally
 * bundle_open with the golden pinned keys (key-ed1, key-ec1), so that
 * the seed corpus's golden bundles reach the manifest and certificate
 * code through the real entry point.  Besides memory errors it checks one
 * property: whatever parses re-encodes to the same bytes.  The pinned keys
 * are the only mutable globals, read once from RK_FUZZ_PINS (a directory,
 * set by CMake); nothing here is linked into the project.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "fileio.h"
#include "manifest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pubkey *pins[2];

static struct pubkey *
load_pin(const char *name)
{
	struct pubkey *k = NULL;
	char path[1024];
	uint8_t *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", RK_FUZZ_PINS, name);
	if (fileio_read(path, 4096, &text, &len) != RK_OK ||
	    pubkey_from_pem((const char *)text, len, &k) != RK_OK) {
		fprintf(stderr, "fuzz_bundle: cannot load %s\n", path);
		abort();
	}
	free(text);
	return k;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	pins[0] = load_pin("key-ed1.pub");
	pins[1] = load_pin("key-ec1.pub");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct certinfo *infos;
	const uint8_t *man;
	uint8_t *enc = NULL;
	size_t man_len, enc_len, n, i, len;
	unsigned valid = 0;
	int rc;

	if (bundle_parse(data, size, &b, NULL) == RK_OK) {
		/* The framing is canonical: parse then encode is identity. */
		if (bundle_encode(b, &enc, &enc_len) != RK_OK ||
		    enc_len != size || memcmp(enc, data, size) != 0)
			abort();
		free(enc);
		n = bundle_ncerts(b);
		for (i = 0; i < n; i++)
			if (bundle_cert(b, i, &len) == NULL || len == 0)
				abort();
		for (i = 0; i < bundle_nsigs(b); i++)
			if (bundle_sig(b, i) == NULL)
				abort();
		rc = bundle_verify_sigs(b, pins, 2, 1, &valid, NULL);
		if ((rc == RK_OK || rc == RK_ESIG) &&
		    (rc == RK_OK) != (valid >= 1))
			abort();
		man = bundle_manifest(b, &man_len);
		if (manifest_parse(man, man_len, &m, NULL) == RK_OK) {
			infos = calloc(n, sizeof(*infos));
			if (infos != NULL) {
				(void)bundle_check_certs(b, m, infos, NULL);
				free(infos);
			}
			manifest_free(m);
			m = NULL;
		}
		bundle_free(b);
		b = NULL;
	}
	if (bundle_open(data, size, BUNDLE_DEFAULT_MAX_SIZE, pins, 2, 1, &b, &m,
		NULL) == RK_OK) {
		if (b == NULL || m == NULL)
			abort();
		bundle_free(b);
		manifest_free(m);
	}
	return 0;
}
