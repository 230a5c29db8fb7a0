/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSL's subject name hash of a certificate (`openssl x509
 * -subject_hash`, the HASH of the HASH.N links of a CApath folder that
 * `openssl rehash` makes): SHA-1 of the subject's canonical encoding, its
 * first four bytes read little-endian.  The canonical encoding is
 * OpenSSL's: every RDN as a DER SET, no outer SEQUENCE, each string value
 * of a text type (UTF8String, PrintableString, T61String, IA5String,
 * VisibleString, BMPString, UniversalString) turned into a UTF8String with
 * leading and trailing white space cut, inner runs of it made one space
 * and ASCII letters lower-cased; values of other types kept as they are.
 * wolfSSL's own hash differs for some names, hence this module.  It also
 * finds where a certificate's issuer and subject Names are, so that the
 * TLS layer can match names without parsing the rest.  It reads the DER
 * through bounds-checked cursors and does not verify anything else of the
 * certificate.
 */
#ifndef RK_X509NAME_H
#define RK_X509NAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * The subject hash of the X.509 certificate der.  RK_EFORMAT when der is
 * not a certificate whose subject can be read (bad DER, a string that is
 * not valid in its type), RK_ELIMIT when the canonical name would exceed
 * 64 KiB, RK_ENOMEM, RK_ECRYPTO; *out is written on success only.
 */
int x509name_subject_hash(const uint8_t *der, size_t len, uint32_t *out) RK_WUR;

/* Where a certificate's issuer and subject Names are, as DER (tag included). */
struct x509name_raw {
	const uint8_t *issuer;
	size_t issuer_len;
	const uint8_t *subject;
	size_t subject_len;
};

/*
 * The issuer and subject Names of the X.509 certificate der, pointing into
 * der: two certificates name the same entity, as wolfSSL compares names
 * (a hash of these bytes), when these bytes are equal.  It reads only as
 * far as the subject.  RK_EFORMAT when der is not a certificate whose
 * names can be found; *out is written on success only.
 */
int x509name_raw(
    const uint8_t *der, size_t len, struct x509name_raw *out) RK_WUR;

#endif
