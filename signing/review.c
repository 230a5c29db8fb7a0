/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bundle review of review.h.  Roots are matched by the SHA-256 of
 * their DER, distrust entries by the fingerprint they name; both sets are
 * at most a few thousand entries, so plain quadratic matching is fine and
 * keeps the output in bundle order.  The warnings are the same in both
 * output forms and come from one function.
 */
#include "review.h"

#include <inttypes.h>
#include <string.h>

#include "jsonw.h"
#include "rfc3339.h"

#define HEX (2 * CRYPTO_SHA256_LEN + 1)
#define MAX_WARN 8

static int
has_cert(const struct review_side *s, const uint8_t *sha)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (memcmp(s->ci[i].sha256, sha, CRYPTO_SHA256_LEN) == 0)
			return 1;
	return 0;
}

static const struct distrust *
find_distrust(const struct manifest *m, const uint8_t *sha)
{
	size_t i;

	for (i = 0; i < m->n_distrust; i++)
		if (memcmp(m->distrust[i].sha256, sha, CRYPTO_SHA256_LEN) == 0)
			return &m->distrust[i];
	return NULL;
}

static int
same_text(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static int
same_entry(const struct distrust *a, const struct distrust *b)
{
	return a->lift == b->lift && a->has_after == b->has_after &&
	       (!a->has_after || a->after == b->after) &&
	       same_text(a->reason, b->reason);
}

static int
is_lift(const struct distrust *d)
{
	return d->lift;
}

/* The next_keys of a and b name the same keys with the same threshold? */
static int
same_next_keys(const struct manifest *a, const struct manifest *b)
{
	size_t i, j;

	if (a->next_threshold != b->next_threshold ||
	    a->n_next_keys != b->n_next_keys)
		return 0;
	for (i = 0; i < a->n_next_keys; i++) {
		for (j = 0; j < b->n_next_keys; j++)
			if (memcmp(pubkey_id(a->next_keys[i]),
				pubkey_id(b->next_keys[j]),
				CRYPTO_SHA256_LEN) == 0)
				break;
		if (j == b->n_next_keys)
			return 0;
	}
	return 1;
}

/* The warnings a reviewer must not miss; returns how many. */
static size_t
warnings(const struct review_side *o, const struct review_side *n,
    char w[MAX_WARN][160])
{
	const struct manifest *om = o->m, *nm = n->m;
	size_t k = 0, i;

	if (strcmp(om->channel, nm->channel) != 0)
		snprintf(w[k++], 160, "channel differs: %s -> %s", om->channel,
		    nm->channel);
	if (memcmp(o->sha256, n->sha256, CRYPTO_SHA256_LEN) == 0)
		return 0; /* one bundle: nothing changes */
	if (nm->version <= om->version)
		snprintf(w[k++], 160,
		    "version %" PRIu64 " is not above %" PRIu64
		    ": devices that have the old one refuse the new one",
		    nm->version, om->version);
	if (nm->expires_at < om->expires_at)
		snprintf(w[k++], 160,
		    "the new bundle expires before the old "
		    "one");
	if (nm->issued_at < om->issued_at)
		snprintf(w[k++], 160,
		    "the new bundle is issued before the "
		    "old one");
	for (i = 0; i < om->n_distrust && k < MAX_WARN - 1; i++)
		if (!is_lift(&om->distrust[i]) &&
		    find_distrust(nm, om->distrust[i].sha256) == NULL) {
			snprintf(w[k++], 160,
			    "distrust entries dropped: devices keep them in "
			    "force; lift one to end it");
			break;
		}
	if (om->rollout.percent > 0 && nm->rollout.percent > 0 &&
	    strcmp(om->rollout.seed, nm->rollout.seed) != 0 && k < MAX_WARN)
		snprintf(w[k++], 160,
		    "rollout seed changed: devices are drawn anew, and some "
		    "that took the old version may not take this one");
	else if (om->rollout.percent > nm->rollout.percent &&
		 nm->rollout.percent > 0 && k < MAX_WARN)
		snprintf(w[k++], 160, "rollout percent lowered (%u%% -> %u%%)",
		    om->rollout.percent, nm->rollout.percent);
	if (n->n == 0 && k < MAX_WARN)
		snprintf(w[k++], 160, "the new bundle has no roots");
	return k;
}

static void
text_entry(FILE *f, const char *mark, const struct distrust *d)
{
	char hex[HEX], t[RFC3339_LEN + 1];

	hex_encode(d->sha256, CRYPTO_SHA256_LEN, hex);
	if (is_lift(d)) {
		fprintf(f, "  %s %s  lifted", mark, hex);
	} else if (d->has_after) {
		rfc3339_show(d->after, t);
		fprintf(f, "  %s %s  leaves issued after %s", mark, hex, t);
	} else {
		fprintf(f, "  %s %s  never trusted", mark, hex);
	}
	if (d->reason != NULL && d->reason[0] != '\0')
		fprintf(f, ": %s", d->reason);
	fputc('\n', f);
}

static void
text_keys(FILE *f, const char *label, const struct manifest *m)
{
	char hex[HEX];
	size_t i;

	if (m->n_next_keys == 0) {
		fprintf(f, "  %s: none\n", label);
		return;
	}
	fprintf(f, "  %s: %u of %zu keys\n", label, m->next_threshold,
	    m->n_next_keys);
	for (i = 0; i < m->n_next_keys; i++) {
		hex_encode(pubkey_id(m->next_keys[i]), CRYPTO_SHA256_LEN, hex);
		fprintf(f, "    %s\n", hex);
	}
}

static void
text_rollout(FILE *f, const struct manifest *m)
{
	if (m->rollout.percent == 0)
		fprintf(f, "everyone");
	else
		fprintf(
		    f, "%u%% (seed %s)", m->rollout.percent, m->rollout.seed);
}

void
review_diff_text(
    FILE *f, const struct review_side *o, const struct review_side *n)
{
	const struct manifest *om = o->m, *nm = n->m;
	char hex[HEX], t[RFC3339_LEN + 1], t2[RFC3339_LEN + 1];
	char w[MAX_WARN][160];
	size_t i, added = 0, removed = 0, nw;
	const struct distrust *d;

	fprintf(f, "old: %s (channel %s, version %" PRIu64 ")\n", o->path,
	    om->channel, om->version);
	fprintf(f, "new: %s (channel %s, version %" PRIu64 ")\n", n->path,
	    nm->channel, nm->version);
	rfc3339_show(om->issued_at, t);
	rfc3339_show(nm->issued_at, t2);
	fprintf(f, "issued_at:  %s -> %s\n", t, t2);
	rfc3339_show(om->expires_at, t);
	rfc3339_show(nm->expires_at, t2);
	fprintf(f, "expires_at: %s -> %s\n", t, t2);
	for (i = 0; i < n->n; i++)
		added += !has_cert(o, n->ci[i].sha256);
	for (i = 0; i < o->n; i++)
		removed += !has_cert(n, o->ci[i].sha256);
	fprintf(f, "roots: %zu -> %zu (%zu added, %zu removed)\n", o->n, n->n,
	    added, removed);
	for (i = 0; i < n->n; i++) {
		if (has_cert(o, n->ci[i].sha256))
			continue;
		hex_encode(n->ci[i].sha256, CRYPTO_SHA256_LEN, hex);
		rfc3339_show(n->ci[i].not_after, t);
		fprintf(f, "  + %s\n    sha256 %s  not_after %s\n",
		    n->ci[i].subject, hex, t);
	}
	for (i = 0; i < o->n; i++) {
		if (has_cert(n, o->ci[i].sha256))
			continue;
		hex_encode(o->ci[i].sha256, CRYPTO_SHA256_LEN, hex);
		rfc3339_show(o->ci[i].not_after, t);
		fprintf(f, "  - %s\n    sha256 %s  not_after %s\n",
		    o->ci[i].subject, hex, t);
	}
	fprintf(f, "distrust: %zu -> %zu entries\n", om->n_distrust,
	    nm->n_distrust);
	for (i = 0; i < nm->n_distrust; i++) {
		d = find_distrust(om, nm->distrust[i].sha256);
		if (is_lift(&nm->distrust[i]))
			text_entry(f, "lift", &nm->distrust[i]);
		else if (d == NULL)
			text_entry(f, "+", &nm->distrust[i]);
		else if (!same_entry(d, &nm->distrust[i])) {
			text_entry(f, "~ was", d);
			text_entry(f, "~ now", &nm->distrust[i]);
		}
	}
	for (i = 0; i < om->n_distrust; i++)
		if (find_distrust(nm, om->distrust[i].sha256) == NULL)
			text_entry(f, "- (dropped)", &om->distrust[i]);
	if (same_next_keys(om, nm)) {
		fprintf(f, "key rotation: %s\n",
		    nm->n_next_keys == 0 ? "none" : "unchanged");
		if (nm->n_next_keys > 0)
			text_keys(f, "next_keys", nm);
	} else {
		fprintf(f, "key rotation: changed\n");
		text_keys(f, "old next_keys", om);
		text_keys(f, "new next_keys", nm);
	}
	fprintf(f, "rollout: ");
	text_rollout(f, om);
	fprintf(f, " -> ");
	text_rollout(f, nm);
	fputc('\n', f);
	if (!same_text(om->note, nm->note))
		fprintf(f, "note: \"%s\" -> \"%s\"\n",
		    om->note != NULL ? om->note : "",
		    nm->note != NULL ? nm->note : "");
	nw = warnings(o, n, w);
	for (i = 0; i < nw; i++)
		fprintf(f, "WARNING: %s\n", w[i]);
}

static void
json_side(struct jsonw *w, const char *key, const struct review_side *s)
{
	char hex[HEX], t[RFC3339_LEN + 1];

	jsonw_obj_open(w, key);
	jsonw_str(w, "file", s->path);
	hex_encode(s->sha256, CRYPTO_SHA256_LEN, hex);
	jsonw_str(w, "sha256", hex);
	jsonw_str(w, "channel", s->m->channel);
	jsonw_uint(w, "version", s->m->version);
	rfc3339_show(s->m->issued_at, t);
	jsonw_str(w, "issued_at", t);
	rfc3339_show(s->m->expires_at, t);
	jsonw_str(w, "expires_at", t);
	jsonw_uint(w, "certs", s->n);
	jsonw_uint(w, "distrust", s->m->n_distrust);
	jsonw_obj_close(w);
}

static void
json_cert(struct jsonw *w, const struct certinfo *ci)
{
	char hex[HEX], t[RFC3339_LEN + 1];

	jsonw_obj_open(w, NULL);
	jsonw_str(w, "subject", ci->subject);
	hex_encode(ci->sha256, CRYPTO_SHA256_LEN, hex);
	jsonw_str(w, "sha256", hex);
	rfc3339_show(ci->not_after, t);
	jsonw_str(w, "not_after", t);
	jsonw_obj_close(w);
}

static void
json_entry(struct jsonw *w, const char *key, const struct distrust *d)
{
	char hex[HEX], t[RFC3339_LEN + 1];

	jsonw_obj_open(w, key);
	hex_encode(d->sha256, CRYPTO_SHA256_LEN, hex);
	jsonw_str(w, "sha256", hex);
	if (is_lift(d)) {
		jsonw_bool(w, "lift", 1);
	} else if (d->has_after) {
		rfc3339_show(d->after, t);
		jsonw_str(w, "after", t);
	} else {
		jsonw_null(w, "after");
	}
	jsonw_str(w, "reason", d->reason);
	jsonw_obj_close(w);
}

static void
json_keys(struct jsonw *w, const char *key, const struct manifest *m)
{
	char hex[HEX];
	size_t i;

	if (m->n_next_keys == 0) {
		jsonw_null(w, key);
		return;
	}
	jsonw_obj_open(w, key);
	jsonw_uint(w, "threshold", m->next_threshold);
	jsonw_arr_open(w, "key_ids");
	for (i = 0; i < m->n_next_keys; i++) {
		hex_encode(pubkey_id(m->next_keys[i]), CRYPTO_SHA256_LEN, hex);
		jsonw_str(w, NULL, hex);
	}
	jsonw_arr_close(w);
	jsonw_obj_close(w);
}

/* A rollout, or null for none (everyone takes the bundle). */
static void
json_rollout(struct jsonw *w, const char *key, const struct manifest *m)
{
	if (m->rollout.percent == 0) {
		jsonw_null(w, key);
		return;
	}
	jsonw_obj_open(w, key);
	jsonw_uint(w, "percent", m->rollout.percent);
	jsonw_str(w, "seed", m->rollout.seed);
	jsonw_obj_close(w);
}

void
review_diff_json(
    FILE *f, const struct review_side *o, const struct review_side *n)
{
	const struct manifest *om = o->m, *nm = n->m;
	const struct distrust *d;
	char w[MAX_WARN][160];
	struct jsonw jw;
	size_t i, nw;

	jsonw_init(&jw, f, 1);
	jsonw_obj_open(&jw, NULL);
	json_side(&jw, "old", o);
	json_side(&jw, "new", n);
	jsonw_obj_open(&jw, "roots");
	jsonw_arr_open(&jw, "added");
	for (i = 0; i < n->n; i++)
		if (!has_cert(o, n->ci[i].sha256))
			json_cert(&jw, &n->ci[i]);
	jsonw_arr_close(&jw);
	jsonw_arr_open(&jw, "removed");
	for (i = 0; i < o->n; i++)
		if (!has_cert(n, o->ci[i].sha256))
			json_cert(&jw, &o->ci[i]);
	jsonw_arr_close(&jw);
	jsonw_obj_close(&jw);
	jsonw_obj_open(&jw, "distrust");
	jsonw_arr_open(&jw, "added");
	for (i = 0; i < nm->n_distrust; i++)
		if (!is_lift(&nm->distrust[i]) &&
		    find_distrust(om, nm->distrust[i].sha256) == NULL)
			json_entry(&jw, NULL, &nm->distrust[i]);
	jsonw_arr_close(&jw);
	jsonw_arr_open(&jw, "changed");
	for (i = 0; i < nm->n_distrust; i++) {
		d = find_distrust(om, nm->distrust[i].sha256);
		if (is_lift(&nm->distrust[i]) || d == NULL ||
		    same_entry(d, &nm->distrust[i]))
			continue;
		jsonw_obj_open(&jw, NULL);
		json_entry(&jw, "old", d);
		json_entry(&jw, "new", &nm->distrust[i]);
		jsonw_obj_close(&jw);
	}
	jsonw_arr_close(&jw);
	jsonw_arr_open(&jw, "lifted");
	for (i = 0; i < nm->n_distrust; i++)
		if (is_lift(&nm->distrust[i]))
			json_entry(&jw, NULL, &nm->distrust[i]);
	jsonw_arr_close(&jw);
	jsonw_arr_open(&jw, "dropped");
	for (i = 0; i < om->n_distrust; i++)
		if (find_distrust(nm, om->distrust[i].sha256) == NULL)
			json_entry(&jw, NULL, &om->distrust[i]);
	jsonw_arr_close(&jw);
	jsonw_obj_close(&jw);
	jsonw_obj_open(&jw, "key_rotation");
	jsonw_bool(&jw, "changed", !same_next_keys(om, nm));
	json_keys(&jw, "old", om);
	json_keys(&jw, "new", nm);
	jsonw_obj_close(&jw);
	jsonw_obj_open(&jw, "rollout");
	json_rollout(&jw, "old", om);
	json_rollout(&jw, "new", nm);
	jsonw_obj_close(&jw);
	jsonw_arr_open(&jw, "warnings");
	nw = warnings(o, n, w);
	for (i = 0; i < nw; i++)
		jsonw_str(&jw, NULL, w[i]);
	jsonw_arr_close(&jw);
	jsonw_obj_close(&jw);
	jsonw_end(&jw);
}

void
review_summary(FILE *f, const struct review_side *s)
{
	char t[RFC3339_LEN + 1], hex[HEX];

	rfc3339_show(s->m->expires_at, t);
	hex_encode(s->sha256, CRYPTO_SHA256_LEN, hex);
	fprintf(f,
	    "about to sign %s: channel %s, version %" PRIu64
	    ", %zu roots, %zu distrust entries, expires %s",
	    s->path, s->m->channel, s->m->version, s->n, s->m->n_distrust, t);
	if (s->m->n_next_keys > 0)
		fprintf(f, ", rotates keys to %u of %zu", s->m->next_threshold,
		    s->m->n_next_keys);
	if (s->m->rollout.percent > 0)
		fprintf(f, ", rollout %u%% (seed %s)", s->m->rollout.percent,
		    s->m->rollout.seed);
	fprintf(f, "\n  sha256 %s\n", hex);
}
