/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the manifest decoder and the distrust-list decoder
 * (the JSON a bundle carries and the file `rootkeeper-sign create
 * --distrust` reads).  Besides memory errors it checks that a manifest
 * that parses can be encoded again, and that the encoding is a fixed
 * point: encode(parse(encode(m))) == encode(m).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL, *again = NULL;
	struct distrust *d = NULL;
	uint8_t *enc = NULL, *enc2 = NULL;
	size_t n = 0, enc_len, enc2_len;
	int rc;

	if (manifest_parse(data, size, &m, NULL) == RK_OK) {
		rc = manifest_encode(m, &enc, &enc_len, NULL);
		if (rc == RK_ENOMEM)
			goto out;
		if (rc != RK_OK)
			abort(); /* parsed, but the signing tool cannot write it
				  */
		if (manifest_parse(enc, enc_len, &again, NULL) != RK_OK ||
		    manifest_encode(again, &enc2, &enc2_len, NULL) != RK_OK)
			abort();
		if (enc_len != enc2_len || memcmp(enc, enc2, enc_len) != 0 ||
		    again->version != m->version ||
		    again->issued_at != m->issued_at ||
		    again->expires_at != m->expires_at ||
		    again->n_distrust != m->n_distrust ||
		    again->n_next_keys != m->n_next_keys ||
		    strcmp(again->channel, m->channel) != 0)
			abort();
	}
	if (manifest_parse_distrust(data, size, &d, &n, NULL) == RK_OK)
		manifest_free_distrust(d, n);
out:
	free(enc);
	free(enc2);
	manifest_free(again);
	manifest_free(m);
	return 0;
}
