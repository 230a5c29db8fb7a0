/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PEM armour (RFC 7468): finding labelled blocks in a text and decoding
 * their base64, and encoding DER back to PEM.  Strict base64 (no stray
 * characters other than line breaks and spaces, correct padding); text
 * outside the blocks is ignored, as openssl does.  Knows nothing of what
 * the DER means.
 */
#ifndef RK_PEM_H
#define RK_PEM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Finds the next "-----BEGIN <label>-----" block at or after *pos in
 * text[0..len) and decodes it.  On success *der is malloc'ed (caller frees)
 * and *pos moves past the block.  RK_ENOENT when no further block exists,
 * RK_EFORMAT for a block without its END line or with bad base64.
 * label NULL matches any label; *found_label (if not NULL) then gets the
 * label, NUL-terminated, at most 63 characters.
 */
int pem_next(const char *text, size_t len, size_t *pos, const char *label,
    char found_label[64], uint8_t **der, size_t *der_len) RK_WUR;

/*
 * Encodes der as a PEM block with 64-character lines and a final newline.
 * *out is malloc'ed and NUL-terminated (caller frees); *out_len excludes
 * the NUL.
 */
int pem_encode(const char *label, const uint8_t *der, size_t der_len,
    char **out, size_t *out_len) RK_WUR;

/* How many bytes pem_encode() gives for der_len bytes (without the NUL). */
size_t pem_encoded_len(const char *label, size_t der_len);

/*
 * The same block written to out, which has pem_encoded_len() bytes (no NUL
 * is written): for callers that put many blocks in one buffer.
 */
void pem_encode_to(
    const char *label, const uint8_t *der, size_t der_len, char *out);

/* Plain base64 of src (no line breaks), NUL-terminated; caller frees. */
int base64_encode(const uint8_t *src, size_t len, char **out) RK_WUR;

/*
 * Strict base64 decode of src[0..len) (no whitespace) into a malloc'ed
 * buffer; caller frees.  RK_EFORMAT on any bad character or padding.
 */
int base64_decode(
    const char *src, size_t len, uint8_t **out, size_t *out_len) RK_WUR;

#endif
