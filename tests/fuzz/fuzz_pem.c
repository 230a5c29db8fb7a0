/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the PEM reader and the strict base64 decoder, the
 * parsers that see certificate files and keys before any crypto does.
 * The input is not NUL-terminated, as a file read into memory need not
 * be.  Besides memory errors it checks round trips: every block found
 * re-encodes to a PEM that reads back to the same DER (pem_next stops
 * just before the final newline), and any base64 accepted re-encodes to
 * exactly the input (one spelling per value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const char *label, const uint8_t *der, size_t der_len)
{
	uint8_t *back = NULL;
	char *pem = NULL, lab[64];
	size_t pem_len, back_len, pos = 0;

	if (pem_encode(label, der, der_len, &pem, &pem_len) != RK_OK)
		return;
	if (pem_next(pem, pem_len, &pos, label, lab, &back, &back_len) !=
		RK_OK ||
	    back_len != der_len || memcmp(back, der, der_len) != 0 ||
	    strcmp(lab, label) != 0 || pos + 1 != pem_len)
		abort();
	free(back);
	free(pem);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char label[64], *enc;
	uint8_t *der;
	size_t pos = 0, prev, der_len, blocks = 0;
	int rc;

	for (;;) {
		prev = pos;
		rc = pem_next(text, size, &pos, NULL, label, &der, &der_len);
		if (rc != RK_OK)
			break;
		if (pos <= prev || pos > size || strlen(label) > 63)
			abort();
		/* A label with a NUL in it cannot be written back. */
		if (memchr(text + prev, '\0', pos - prev) == NULL)
			round_trip(label, der, der_len);
		free(der);
		if (++blocks > size)
			abort(); /* no progress */
	}
	pos = 0;
	while (pem_next(text, size, &pos, "CERTIFICATE", NULL, &der,
		   &der_len) == RK_OK)
		free(der);
	if (base64_decode(text, size, &der, &der_len) == RK_OK) {
		if (base64_encode(der, der_len, &enc) == RK_OK) {
			if (strlen(enc) != size || memcmp(enc, text, size) != 0)
				abort();
			free(enc);
		}
		free(der);
	}
	return 0;
}
