/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Streaming JSON output; see jsonw.h.  Nesting deeper than JSONW_DEPTH is
 * a programmer error (the tools' documents are shallow) and is asserted.
 */
#include "jsonw.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

void
jsonw_init(struct jsonw *w, FILE *f, int pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
	w->first[0] = 1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

static void
put_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), l;

	fputc('"', f);
	while (n > 0) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s, f);
			l = 1;
		} else if (*s == '\n') {
			fputs("\\n", f);
			l = 1;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s);
			l = 1;
		} else if ((l = utf8_len(s, n)) == 0) {
			fputs("\\ufffd", f);
			l = 1;
		} else {
			fwrite(s, 1, l, f);
		}
		s += l;
		n -= l;
	}
	fputc('"', f);
}

static void
indent(struct jsonw *w)
{
	int i;

	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

static void
prefix(struct jsonw *w, const char *key)
{
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = 0;
	if (w->depth > 0)
		indent(w);
	if (key != NULL) {
		put_string(w->f, key);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void
open_(struct jsonw *w, const char *key, char c)
{
	prefix(w, key);
	fputc(c, w->f);
	assert(w->depth + 1 < JSONW_DEPTH);
	w->first[++w->depth] = 1;
}

static void
close_(struct jsonw *w, char c)
{
	int empty = w->first[w->depth];

	assert(w->depth > 0);
	w->depth--;
	if (!empty)
		indent(w);
	fputc(c, w->f);
}

void
jsonw_obj_open(struct jsonw *w, const char *key)
{
	open_(w, key, '{');
}

void
jsonw_obj_close(struct jsonw *w)
{
	close_(w, '}');
}

void
jsonw_arr_open(struct jsonw *w, const char *key)
{
	open_(w, key, '[');
}

void
jsonw_arr_close(struct jsonw *w)
{
	close_(w, ']');
}

void
jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	prefix(w, key);
	fprintf(w->f, "%" PRId64, v);
}

void
jsonw_uint(struct jsonw *w, const char *key, uint64_t v)
{
	prefix(w, key);
	fprintf(w->f, "%" PRIu64, v);
}

void
jsonw_bool(struct jsonw *w, const char *key, int v)
{
	prefix(w, key);
	fputs(v ? "true" : "false", w->f);
}

void
jsonw_null(struct jsonw *w, const char *key)
{
	prefix(w, key);
	fputs("null", w->f);
}

void
jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	if (s == NULL) {
		jsonw_null(w, key);
		return;
	}
	prefix(w, key);
	put_string(w->f, s);
}

void
jsonw_end(struct jsonw *w)
{
	fputc('\n', w->f);
}
