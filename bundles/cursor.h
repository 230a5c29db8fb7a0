/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bounds-checked reader over (buf, len) and a growing writer with a hard
 * cap.  Every parser in the project reads through a cursor: each read
 * checks what is left before it touches a byte, so a length field can never
 * walk past the end.  The writer never grows past its cap; after the first
 * failure it keeps failing, so encoders check once at the end.
 */
#ifndef RK_CURSOR_H
#define RK_CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline void
cursor_init(struct cursor *c, const uint8_t *buf, size_t len)
{
	c->p = buf;
	c->left = len;
}

/* Takes n bytes; RK_ETRUNC (and nothing moves) when fewer are left. */
static inline int
cursor_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (n > c->left)
		return RK_ETRUNC;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return RK_OK;
}

static inline int
cursor_u8(struct cursor *c, uint8_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = cursor_bytes(c, 1, &b)) != RK_OK)
		return rc;
	*v = b[0];
	return RK_OK;
}

static inline int
cursor_u16(struct cursor *c, uint16_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = cursor_bytes(c, 2, &b)) != RK_OK)
		return rc;
	*v = (uint16_t)((unsigned)b[0] << 8 | b[1]);
	return RK_OK;
}

static inline int
cursor_u32(struct cursor *c, uint32_t *v)
{
	const uint8_t *b;
	int rc;

	if ((rc = cursor_bytes(c, 4, &b)) != RK_OK)
		return rc;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
	     b[3];
	return RK_OK;
}

struct wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len */
	int err;
};

static inline void
wbuf_init(struct wbuf *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

static inline void
wbuf_put(struct wbuf *w, const void *data, size_t n)
{
	uint8_t *np;
	size_t ncap;

	if (w->err != RK_OK)
		return;
	if (n > w->max - w->len) {
		w->err = RK_ELIMIT;
		return;
	}
	if (n > w->cap - w->len) {
		ncap = w->cap ? w->cap : 256;
		while (ncap - w->len < n)
			ncap = ncap > w->max / 2 ? w->max : ncap * 2;
		if ((np = realloc(w->p, ncap)) == NULL) {
			w->err = RK_ENOMEM;
			return;
		}
		w->p = np;
		w->cap = ncap;
	}
	if (n > 0)
		memcpy(w->p + w->len, data, n);
	w->len += n;
}

static inline void
wbuf_u8(struct wbuf *w, uint8_t v)
{
	wbuf_put(w, &v, 1);
}

static inline void
wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	wbuf_put(w, b, 2);
}

static inline void
wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};

	wbuf_put(w, b, 4);
}

/* Frees the buffer; safe on a failed or empty writer. */
static inline void
wbuf_free(struct wbuf *w)
{
	free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

#endif
