/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RFC 7512 parser of p11uri.h.  One pass over (buf, len) with explicit
 * bounds: attributes are split at ';' (path) and '&' (query), each name is
 * matched exactly, and each value is percent-decoded into its fixed-size
 * field, failing when it does not fit.  Error messages name the attribute,
 * never its value, so that a PIN cannot reach a terminal or a log.
 */
#include "p11uri.h"

#include <string.h>

#define SCHEME "pkcs11:"

int
p11uri_is_uri(const char *s)
{
	return strncmp(s, SCHEME, sizeof(SCHEME) - 1) == 0;
}

void
p11uri_wipe(struct p11uri *u)
{
	if (u != NULL)
		explicit_bzero(u, sizeof(*u));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes v[0..n) into out (cap bytes with the NUL); 0 on success,
 * -1 when a escape is malformed, the value holds a NUL byte or is longer
 * than cap - 1.
 */
static int
decode(const char *v, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = v[i];
		if (c == '%') {
			if (n - i < 3 || (hi = hexval(v[i + 1])) < 0 ||
			    (lo = hexval(v[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* What each attribute is and where it goes. */
struct attr {
	const char *name;
	int query; /* 1: after '?', 0: in the path */
	size_t off;
	size_t cap;
};

static const struct attr attrs[] = {
    {"token", 0, offsetof(struct p11uri, token), P11URI_TOKEN_MAX + 1},
    {"object", 0, offsetof(struct p11uri, object), P11URI_OBJECT_MAX + 1},
    {"type", 0, 0, 0},
    {"module-path", 1, offsetof(struct p11uri, module), P11URI_PATH_MAX + 1},
    {"pin-source", 1, offsetof(struct p11uri, pin_source), P11URI_PATH_MAX + 1},
    {"pin-value", 1, offsetof(struct p11uri, pin), P11URI_PIN_MAX + 1},
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

/* One "name=value" of s[0..n): stores it, refusing repeats. */
static int
one_attr(const char *s, size_t n, int query, struct p11uri *u, unsigned *seen,
    struct rk_why *why)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen, i;
	char type[16];

	if (eq == NULL)
		return rk_fail(why, RK_EFORMAT,
		    "PKCS#11 URI: an attribute "
		    "has no '='");
	nlen = (size_t)(eq - s);
	for (i = 0; i < NATTRS; i++)
		if (strlen(attrs[i].name) == nlen &&
		    memcmp(attrs[i].name, s, nlen) == 0)
			break;
	if (i == NATTRS || attrs[i].query != query)
		return rk_fail(why, RK_EFORMAT,
		    "PKCS#11 URI: %s attribute '%.*s' is not supported "
		    "(token, object, type in the path; module-path, "
		    "pin-value, pin-source in the query)",
		    query ? "query" : "path", (int)(nlen > 32 ? 32 : nlen), s);
	if (*seen & 1u << i)
		return rk_fail(why, RK_EFORMAT, "PKCS#11 URI: '%s' given twice",
		    attrs[i].name);
	*seen |= 1u << i;
	if (attrs[i].cap == 0) {
		/* type: a signing key is a private key. */
		if (decode(eq + 1, n - nlen - 1, type, sizeof(type)) != 0 ||
		    strcmp(type, "private") != 0)
			return rk_fail(why, RK_EFORMAT,
			    "PKCS#11 URI: type must be 'private'");
		return RK_OK;
	}
	if (decode(eq + 1, n - nlen - 1, (char *)u + attrs[i].off,
		attrs[i].cap) != 0)
		return rk_fail(why, RK_EFORMAT,
		    "PKCS#11 URI: bad %s value (bad %%-escape, NUL byte, or "
		    "longer than %zu bytes)",
		    attrs[i].name, attrs[i].cap - 1);
	if (((char *)u + attrs[i].off)[0] == '\0')
		return rk_fail(
		    why, RK_EFORMAT, "PKCS#11 URI: empty %s", attrs[i].name);
	if (attrs[i].off == offsetof(struct p11uri, pin))
		u->has_pin = 1;
	return RK_OK;
}

int
p11uri_parse(const char *s, size_t len, struct p11uri *out, struct rk_why *why)
{
	const size_t slen = sizeof(SCHEME) - 1;
	size_t i, start;
	unsigned seen = 0;
	int query = 0, rc = RK_OK;
	char sep;

	memset(out, 0, sizeof(*out));
	if (len < slen || memcmp(s, SCHEME, slen) != 0)
		return rk_fail(
		    why, RK_EFORMAT, "not a PKCS#11 URI (pkcs11:...)");
	if (len > P11URI_MAX)
		return rk_fail(why, RK_EFORMAT,
		    "PKCS#11 URI: longer than %d bytes", P11URI_MAX);
	start = slen;
	for (i = slen; i <= len && rc == RK_OK; i++) {
		sep = i < len ? s[i] : '\0';
		if (i < len && sep != (query ? '&' : ';') &&
		    !(sep == '?' && !query))
			continue;
		if (i > start)
			rc = one_attr(
			    s + start, i - start, query, out, &seen, why);
		else if (i < len || start > slen)
			rc = rk_fail(
			    why, RK_EFORMAT, "PKCS#11 URI: empty attribute");
		if (sep == '?')
			query = 1;
		start = i + 1;
	}
	if (rc == RK_OK && (out->token[0] == '\0' || out->object[0] == '\0'))
		rc = rk_fail(
		    why, RK_EFORMAT, "PKCS#11 URI: needs token= and object=");
	if (rc == RK_OK && out->has_pin && out->pin_source[0] != '\0')
		rc = rk_fail(why, RK_EFORMAT,
		    "PKCS#11 URI: pin-value and pin-source exclude each other");
	if (rc == RK_OK && strncmp(out->pin_source, "file:", 5) == 0) {
		/*
		 * RFC 7512 allows a file: URI; keep the path it names, local
		 * only ("file:/p" or "file:///p", never a host).
		 */
		const char *p = out->pin_source + 5;

		if (strncmp(p, "//", 2) == 0)
			p += 2;
		if (p[0] != '/')
			rc = rk_fail(why, RK_EFORMAT,
			    "PKCS#11 URI: pin-source must be a local file");
		else
			memmove(out->pin_source, p, strlen(p) + 1);
	}
	if (rc != RK_OK)
		p11uri_wipe(out);
	return rc;
}
