/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small streaming JSON writer for the tools' --json output.  It tracks
 * commas and nesting so callers cannot produce malformed JSON by
 * forgetting one, and it always emits valid UTF-8: text that is not (a
 * certificate subject in Latin-1, say) has its bad bytes replaced by
 * U+FFFD.  Writing only: decoding is the manifest module's, with jansson.
 */
#ifndef RK_JSONW_H
#define RK_JSONW_H

#include <stdint.h>
#include <stdio.h>

#define JSONW_DEPTH 16

struct jsonw {
	FILE *f;
	int depth;
	int first[JSONW_DEPTH]; /* nothing written yet at this level */
	int pretty;
};

void jsonw_init(struct jsonw *w, FILE *f, int pretty);
void jsonw_obj_open(struct jsonw *w, const char *key);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w, const char *key);
void jsonw_arr_close(struct jsonw *w);
/* key is NULL inside an array.  s NULL writes null. */
void jsonw_str(struct jsonw *w, const char *key, const char *s);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_bool(struct jsonw *w, const char *key, int v);
void jsonw_null(struct jsonw *w, const char *key);
/* Ends the document with a newline. */
void jsonw_end(struct jsonw *w);

#endif
