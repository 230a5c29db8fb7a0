/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for x509name.c, the DER reader that finds a
 * certificate's subject and builds OpenSSL's canonical name for the
 * CApath export.  The input is the DER of a certificate, which the agent
 * takes from verified bundles but parses with code of its own.  Besides
 * memory errors it checks that the result does not depend on anything but
 * the bytes: a second call gives the same hash.  x509name_raw() too: the
 * names it finds are DER SEQUENCEs inside the input, the issuer before the
 * subject.  Seeds: real roots and certificates with names of every string
 * type and a multi-valued RDN.
 */
#include <stdint.h>
#include <stdlib.h>

#include "x509name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509name_raw raw;
	uint32_t h1 = 0, h2 = 0;
	int rc1 = x509name_subject_hash(data, size, &h1);
	int rc2 = x509name_subject_hash(data, size, &h2);

	if (rc1 != rc2 || h1 != h2)
		abort();
	if (x509name_raw(data, size, &raw) != RK_OK)
		return 0;
	if (raw.issuer < data || raw.subject < raw.issuer + raw.issuer_len ||
	    raw.subject_len > size ||
	    raw.subject > data + size - raw.subject_len || raw.issuer_len < 2 ||
	    raw.subject_len < 2 || raw.issuer[0] != 0x30 ||
	    raw.subject[0] != 0x30)
		abort();
	return 0;
}
