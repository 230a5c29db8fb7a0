/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PEM and base64, written here rather than borrowed from the crypto
 * library so that the parser is ours to bound-check and fuzz, and so that
 * the agent's PEM export needs no crypto at all.
 */
#include "pem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BEGIN "-----BEGIN "
#define END "-----END "
#define DASHES "-----"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_encode(const uint8_t *src, size_t len, char **out)
{
	size_t i, o = 0;
	char *s;
	uint32_t v;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return RK_ELIMIT;
	if ((s = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return RK_ENOMEM;
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 |
		    src[i + 2];
		s[o++] = b64[v >> 18 & 63];
		s[o++] = b64[v >> 12 & 63];
		s[o++] = b64[v >> 6 & 63];
		s[o++] = b64[v & 63];
	}
	if (i < len) {
		v = (uint32_t)src[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)src[i + 1] << 8;
		s[o++] = b64[v >> 18 & 63];
		s[o++] = b64[v >> 12 & 63];
		s[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		s[o++] = '=';
	}
	s[o] = '\0';
	*out = s;
	return RK_OK;
}

int
base64_decode(const char *src, size_t len, uint8_t **out, size_t *out_len)
{
	size_t i, o = 0, pad = 0;
	uint8_t *d;
	uint32_t v = 0;
	int x;

	if (len % 4 != 0)
		return RK_EFORMAT;
	if (len > 0 && src[len - 1] == '=')
		pad++;
	if (len > 1 && src[len - 2] == '=')
		pad++;
	/* malloc(0) may return NULL; keep one byte so success means non-NULL */
	if ((d = malloc(len / 4 * 3 + 1)) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < len; i++) {
		if (i >= len - pad) {
			x = 0; /* checked '=' above; value bits must be zero */
		} else if ((x = b64val((unsigned char)src[i])) < 0) {
			free(d);
			return RK_EFORMAT;
		}
		v = v << 6 | (uint32_t)x;
		if (i % 4 == 3) {
			d[o++] = (uint8_t)(v >> 16);
			d[o++] = (uint8_t)(v >> 8);
			d[o++] = (uint8_t)v;
			v = 0;
		}
	}
	/* Canonical form only: the bits under the padding must be zero. */
	if ((pad == 1 && d[o - 1] != 0) ||
	    (pad == 2 && (d[o - 1] != 0 || d[o - 2] != 0))) {
		free(d);
		return RK_EFORMAT;
	}
	*out = d;
	*out_len = o - pad;
	return RK_OK;
}

static const char *
find(const char *hay, size_t haylen, const char *needle)
{
	return memmem(hay, haylen, needle, strlen(needle));
}

int
pem_next(const char *text, size_t len, size_t *pos, const char *label,
    char found_label[64], uint8_t **der, size_t *der_len)
{
	const char *p, *lab, *lab_end, *body, *end, *e;
	char endline[96], *clean = NULL;
	size_t at = *pos, lablen, n = 0, i;
	int rc;

	for (;;) {
		if (at >= len || (p = find(text + at, len - at, BEGIN)) == NULL)
			return RK_ENOENT;
		lab = p + strlen(BEGIN);
		e = text + len;
		lab_end = find(lab, (size_t)(e - lab), DASHES);
		if (lab_end == NULL)
			return RK_ENOENT;
		lablen = (size_t)(lab_end - lab);
		at = (size_t)(lab_end - text) + strlen(DASHES);
		if (lablen == 0 || lablen > 63 || memchr(lab, '\n', lablen))
			continue;
		if (label == NULL || (strlen(label) == lablen &&
					 memcmp(label, lab, lablen) == 0))
			break;
	}
	snprintf(endline, sizeof(endline), "%s%.*s%s", END, (int)lablen, lab,
	    DASHES);
	body = lab_end + strlen(DASHES);
	if ((end = find(body, (size_t)(e - body), endline)) == NULL)
		return RK_EFORMAT;
	if ((clean = malloc((size_t)(end - body) + 1)) == NULL)
		return RK_ENOMEM;
	for (i = 0; i < (size_t)(end - body); i++) {
		char c = body[i];

		if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
			continue;
		clean[n++] = c;
	}
	rc = base64_decode(clean, n, der, der_len);
	free(clean);
	if (rc != RK_OK)
		return rc;
	if (found_label != NULL) {
		memcpy(found_label, lab, lablen);
		found_label[lablen] = '\0';
	}
	*pos = (size_t)(end - text) + strlen(endline);
	return RK_OK;
}

size_t
pem_encoded_len(const char *label, size_t der_len)
{
	size_t b = (der_len + 2) / 3 * 4;

	/* "-----BEGIN L-----\n", lines of 64 and a newline, "-----END L-----\n"
	 */
	return 2 * strlen(label) + 32 + b + (b + 63) / 64;
}

void
pem_encode_to(const char *label, const uint8_t *der, size_t der_len, char *out)
{
	size_t lablen = strlen(label), i, col = 0;
	char *p = out;
	uint32_t v;

	memcpy(p, "-----BEGIN ", 11);
	memcpy(p + 11, label, lablen);
	memcpy(p + 11 + lablen, "-----\n", 6);
	p += 17 + lablen;
	for (i = 0; i < der_len; i += 3) {
		v = (uint32_t)der[i] << 16;
		if (i + 1 < der_len)
			v |= (uint32_t)der[i + 1] << 8;
		if (i + 2 < der_len)
			v |= der[i + 2];
		p[0] = b64[v >> 18 & 63];
		p[1] = b64[v >> 12 & 63];
		p[2] = i + 1 < der_len ? b64[v >> 6 & 63] : '=';
		p[3] = i + 2 < der_len ? b64[v & 63] : '=';
		p += 4;
		if ((col += 4) == 64 || i + 3 >= der_len) {
			*p++ = '\n';
			col = 0;
		}
	}
	memcpy(p, "-----END ", 9);
	memcpy(p + 9, label, lablen);
	memcpy(p + 9 + lablen, "-----\n", 6);
}

int
pem_encode(const char *label, const uint8_t *der, size_t der_len, char **out,
    size_t *out_len)
{
	size_t n;
	char *p;

	if (der_len > (SIZE_MAX - 1) / 4 * 3 - 3 - 2 * strlen(label) - 64)
		return RK_ELIMIT;
	n = pem_encoded_len(label, der_len);
	if ((p = malloc(n + 1)) == NULL)
		return RK_ENOMEM;
	pem_encode_to(label, der, der_len, p);
	p[n] = '\0';
	*out = p;
	*out_len = n;
	return RK_OK;
}
