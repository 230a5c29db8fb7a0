/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See x509name.h.  The DER reader takes definite lengths of up to four
 * bytes and checks each against what is left of its parent.  The
 * canonical encoding is built in a capped writer; entries of a
 * multi-valued RDN are sorted as DER sorts a SET OF (by their encodings),
 * as OpenSSL's encoder does.
 */
#include "x509name.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "cursor.h"

#define CANON_MAX (64u << 10)
#define RDN_ENTRIES_MAX 64

enum {
	TAG_OID = 0x06,
	TAG_UTF8 = 0x0c,
	TAG_PRINTABLE = 0x13,
	TAG_T61 = 0x14,
	TAG_IA5 = 0x16,
	TAG_UNIVERSAL = 0x1c,
	TAG_BMP = 0x1e,
	TAG_VISIBLE = 0x1a,
	TAG_SEQUENCE = 0x30,
	TAG_SET = 0x31,
	TAG_VERSION = 0xa0,
};

/* One TLV: its tag, its value, and the whole of it. */
struct tlv {
	uint8_t tag;
	const uint8_t *val, *all;
	size_t len, all_len;
};

static int
der_next(struct cursor *c, struct tlv *t)
{
	const uint8_t *start = c->p, *b;
	uint8_t tag, l0;
	size_t len = 0, i;
	int rc;

	if ((rc = cursor_u8(c, &tag)) != RK_OK ||
	    (rc = cursor_u8(c, &l0)) != RK_OK)
		return RK_EFORMAT;
	if ((tag & 0x1f) == 0x1f)
		return RK_EFORMAT; /* high tag numbers: not in a Name */
	if (l0 < 0x80) {
		len = l0;
	} else {
		size_t n = l0 & 0x7f;

		if (n == 0 || n > 4 || cursor_bytes(c, n, &b) != RK_OK)
			return RK_EFORMAT;
		for (i = 0; i < n; i++)
			len = len << 8 | b[i];
	}
	if (cursor_bytes(c, len, &b) != RK_OK)
		return RK_EFORMAT;
	t->tag = tag;
	t->val = b;
	t->len = len;
	t->all = start;
	t->all_len = (size_t)(b + len - start);
	return RK_OK;
}

/* The next TLV, which must have tag. */
static int
der_expect(struct cursor *c, uint8_t tag, struct tlv *t)
{
	if (der_next(c, t) != RK_OK || t->tag != tag)
		return RK_EFORMAT;
	return RK_OK;
}

/* The issuer and subject Names (their SEQUENCEs) of a certificate. */
static int
find_names(
    const uint8_t *der, size_t len, struct tlv *issuer, struct tlv *subject)
{
	struct cursor c, tbs;
	struct tlv cert, t;
	int i;

	cursor_init(&c, der, len);
	if (der_expect(&c, TAG_SEQUENCE, &cert) != RK_OK || c.left != 0)
		return RK_EFORMAT;
	cursor_init(&c, cert.val, cert.len);
	if (der_expect(&c, TAG_SEQUENCE, &t) != RK_OK)
		return RK_EFORMAT;
	cursor_init(&tbs, t.val, t.len);
	if (der_next(&tbs, &t) != RK_OK)
		return RK_EFORMAT;
	if (t.tag == TAG_VERSION && der_next(&tbs, &t) != RK_OK)
		return RK_EFORMAT;
	if (t.tag != 0x02) /* serialNumber */
		return RK_EFORMAT;
	/* signature, issuer, validity */
	for (i = 0; i < 3; i++)
		if (der_expect(&tbs, TAG_SEQUENCE, i == 1 ? issuer : &t) !=
		    RK_OK)
			return RK_EFORMAT;
	return der_expect(&tbs, TAG_SEQUENCE, subject);
}

/* The subject Name (its SEQUENCE's value) of a certificate. */
static int
find_subject(const uint8_t *der, size_t len, struct tlv *subject)
{
	struct tlv issuer;

	return find_names(der, len, &issuer, subject);
}

static void
put_utf8(struct wbuf *w, uint32_t cp)
{
	uint8_t b[4];

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		wbuf_put(w, b, 1);
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		wbuf_put(w, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		wbuf_put(w, b, 3);
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		wbuf_put(w, b, 4);
	}
}

/* Checks that s is UTF-8 of code points up to 0x10ffff, no surrogates. */
static int
utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, more;
	uint32_t cp;

	while (i < n) {
		uint8_t c = s[i++];

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (more > n - i)
			return 0;
		for (k = 0; k < more; k++) {
			if ((s[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i++] & 0x3f);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/* A text value of one of the canonical types as UTF-8 into w. */
static int
to_utf8(const struct tlv *v, struct wbuf *w)
{
	size_t i;

	switch (v->tag) {
	case TAG_UTF8:
		if (!utf8_valid(v->val, v->len))
			return RK_EFORMAT;
		wbuf_put(w, v->val, v->len);
		return RK_OK;
	case TAG_PRINTABLE:
	case TAG_T61:
	case TAG_IA5:
	case TAG_VISIBLE:
		/* One byte a character, as OpenSSL reads them (Latin-1). */
		for (i = 0; i < v->len; i++)
			put_utf8(w, v->val[i]);
		return RK_OK;
	case TAG_BMP:
		if (v->len % 2 != 0)
			return RK_EFORMAT;
		for (i = 0; i < v->len; i += 2)
			put_utf8(w, (uint32_t)v->val[i] << 8 | v->val[i + 1]);
		return RK_OK;
	case TAG_UNIVERSAL:
		if (v->len % 4 != 0)
			return RK_EFORMAT;
		for (i = 0; i < v->len; i += 4) {
			uint32_t cp = (uint32_t)v->val[i] << 24 |
				      (uint32_t)v->val[i + 1] << 16 |
				      (uint32_t)v->val[i + 2] << 8 |
				      v->val[i + 3];

			if (cp > 0x10ffff)
				return RK_EFORMAT;
			put_utf8(w, cp);
		}
		return RK_OK;
	}
	return RK_EINVAL;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* OpenSSL's asn1_string_canon on UTF-8 s, into w. */
static void
canon_text(const uint8_t *s, size_t n, struct wbuf *w)
{
	size_t i = 0;

	while (n > 0 && is_space(s[0])) {
		s++;
		n--;
	}
	while (n > 0 && is_space(s[n - 1]))
		n--;
	while (i < n) {
		uint8_t c = s[i];

		if (c >= 0x80) {
			wbuf_put(w, &c, 1);
			i++;
		} else if (is_space(c)) {
			wbuf_u8(w, ' ');
			while (i < n && is_space(s[i]))
				i++;
		} else {
			wbuf_u8(
			    w, (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c));
			i++;
		}
	}
}

/* A DER header: tag and definite length. */
static void
put_header(struct wbuf *w, uint8_t tag, size_t len)
{
	wbuf_u8(w, tag);
	if (len < 0x80) {
		wbuf_u8(w, (uint8_t)len);
	} else if (len < 0x100) {
		wbuf_u8(w, 0x81);
		wbuf_u8(w, (uint8_t)len);
	} else if (len < 0x10000) {
		wbuf_u8(w, 0x82);
		wbuf_u16(w, (uint16_t)len);
	} else {
		wbuf_u8(w, 0x83);
		wbuf_u8(w, (uint8_t)(len >> 16));
		wbuf_u16(w, (uint16_t)len);
	}
}

/* One AttributeTypeAndValue, canonical, as a whole SEQUENCE into out. */
static int
canon_entry(const struct tlv *atv, struct wbuf *out)
{
	struct wbuf text, val;
	struct cursor c;
	struct tlv oid, v;
	int rc;

	cursor_init(&c, atv->val, atv->len);
	if (der_expect(&c, TAG_OID, &oid) != RK_OK ||
	    der_next(&c, &v) != RK_OK || c.left != 0)
		return RK_EFORMAT;
	wbuf_init(&text, CANON_MAX);
	wbuf_init(&val, CANON_MAX);
	rc = to_utf8(&v, &text);
	if (rc == RK_EINVAL) {
		/* Not a text type: kept as it is. */
		wbuf_put(&val, v.all, v.all_len);
		rc = RK_OK;
	} else if (rc == RK_OK) {
		struct wbuf canon;

		wbuf_init(&canon, CANON_MAX);
		canon_text(text.p, text.len, &canon);
		put_header(&val, TAG_UTF8, canon.len);
		wbuf_put(&val, canon.p, canon.len);
		if (canon.err != RK_OK)
			rc = canon.err;
		wbuf_free(&canon);
	}
	if (rc == RK_OK && (rc = text.err) == RK_OK &&
	    (rc = val.err) == RK_OK) {
		put_header(out, TAG_SEQUENCE, oid.all_len + val.len);
		wbuf_put(out, oid.all, oid.all_len);
		wbuf_put(out, val.p, val.len);
	}
	wbuf_free(&text);
	wbuf_free(&val);
	return rc;
}

struct span {
	size_t off, len;
};

/* DER's SET OF order: by the encodings' bytes, a prefix first. */
static int
der_less(const uint8_t *base, const struct span *x, const struct span *y)
{
	size_t n = x->len < y->len ? x->len : y->len;
	int d = memcmp(base + x->off, base + y->off, n);

	return d != 0 ? d < 0 : x->len < y->len;
}

/* One RDN (a SET of entries), canonical, as a whole SET into out. */
static int
canon_rdn(const struct tlv *set, struct wbuf *out)
{
	struct span sp[RDN_ENTRIES_MAX];
	struct wbuf ents;
	struct cursor c;
	struct tlv atv;
	size_t n = 0, i;
	int rc = RK_OK;

	wbuf_init(&ents, CANON_MAX);
	cursor_init(&c, set->val, set->len);
	while (c.left > 0 && rc == RK_OK) {
		if (n == RDN_ENTRIES_MAX ||
		    der_expect(&c, TAG_SEQUENCE, &atv) != RK_OK) {
			rc = RK_EFORMAT;
			break;
		}
		sp[n].off = ents.len;
		rc = canon_entry(&atv, &ents);
		sp[n].len = ents.len - sp[n].off;
		n++;
	}
	if (rc == RK_OK && (rc = ents.err) == RK_OK && n == 0)
		rc = RK_EFORMAT; /* an RDN has at least one entry */
	if (rc == RK_OK) {
		/* Insertion sort: an RDN has one entry, rarely a few. */
		for (i = 1; i < n; i++) {
			struct span k = sp[i];
			size_t j = i;

			for (; j > 0 && der_less(ents.p, &k, &sp[j - 1]); j--)
				sp[j] = sp[j - 1];
			sp[j] = k;
		}
		put_header(out, TAG_SET, ents.len);
		for (i = 0; i < n; i++)
			wbuf_put(out, ents.p + sp[i].off, sp[i].len);
	}
	wbuf_free(&ents);
	return rc;
}

int
x509name_subject_hash(const uint8_t *der, size_t len, uint32_t *out)
{
	uint8_t md[CRYPTO_SHA1_LEN];
	struct wbuf w;
	struct cursor c;
	struct tlv name, rdn;
	int rc;

	if ((rc = find_subject(der, len, &name)) != RK_OK)
		return rc;
	wbuf_init(&w, CANON_MAX);
	cursor_init(&c, name.val, name.len);
	while (c.left > 0) {
		if (der_expect(&c, TAG_SET, &rdn) != RK_OK) {
			rc = RK_EFORMAT;
			goto out;
		}
		if ((rc = canon_rdn(&rdn, &w)) != RK_OK)
			goto out;
	}
	if ((rc = w.err) != RK_OK)
		goto out;
	if ((rc = crypto_sha1(w.p, w.len, md)) != RK_OK)
		goto out;
	*out = (uint32_t)md[0] | (uint32_t)md[1] << 8 | (uint32_t)md[2] << 16 |
	       (uint32_t)md[3] << 24;
out:
	wbuf_free(&w);
	return rc;
}

int
x509name_raw(const uint8_t *der, size_t len, struct x509name_raw *out)
{
	struct tlv issuer, subject;
	int rc;

	if ((rc = find_names(der, len, &issuer, &subject)) != RK_OK)
		return rc;
	out->issuer = issuer.all;
	out->issuer_len = issuer.all_len;
	out->subject = subject.all;
	out->subject_len = subject.all_len;
	return RK_OK;
}
