/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jansson adapter for the manifest.  Decoding is strict by construction:
 * every key of every object is looked up in a table of the allowed ones
 * first, so a field this version does not know is an error rather than
 * something silently ignored, and JSON_REJECT_DUPLICATES keeps one key from
 * meaning two things to two parsers.
 */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pem.h"
#include "rfc3339.h"

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
hex_decode(const char *s, size_t slen, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (slen != 2 * n)
		return RK_EFORMAT;
	for (i = 0; i < n; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0)
			return RK_EFORMAT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return RK_OK;
}

int
manifest_distrust_full(const struct distrust *d)
{
	return !d->has_after && !d->lift;
}

int
manifest_seed_ok(const char *seed)
{
	return manifest_channel_ok(seed);
}

int
manifest_channel_ok(const char *channel)
{
	size_t i, n = strlen(channel);

	if (n < 1 || n > MANIFEST_CHANNEL_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = channel[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* RK_OK when every key of obj is one of the NULL-terminated allowed. */
static int
only_keys(json_t *obj, const char *const *allowed, const char *what,
    struct rk_why *why)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v)
	{
		(void)v;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return rk_fail(why, RK_EMANIFEST,
			    "%s: unknown field \"%.64s\"", what, key);
	}
	return RK_OK;
}

static int
get_time(json_t *obj, const char *key, int required, int64_t *out, int *present,
    const char *what, struct rk_why *why)
{
	json_t *v = json_object_get(obj, key);

	if (present != NULL)
		*present = v != NULL;
	if (v == NULL)
		return required ? rk_fail(why, RK_EMANIFEST,
				      "%s: missing \"%s\"", what, key)
				: RK_OK;
	if (!json_is_string(v) ||
	    rfc3339_parse(json_string_value(v), json_string_length(v), out))
		return rk_fail(why, RK_EMANIFEST,
		    "%s: \"%s\" is not an RFC 3339 UTC time "
		    "(YYYY-MM-DDTHH:MM:SSZ)",
		    what, key);
	return RK_OK;
}

/* Copies an optional string field; *out stays NULL when absent. */
static int
get_text(json_t *obj, const char *key, char **out, const char *what,
    struct rk_why *why)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return RK_OK;
	if (!json_is_string(v))
		return rk_fail(
		    why, RK_EMANIFEST, "%s: \"%s\" is not a string", what, key);
	if ((*out = strdup(json_string_value(v))) == NULL)
		return RK_ENOMEM;
	return RK_OK;
}

void
manifest_free_distrust(struct distrust *d, size_t n)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < n; i++)
		free(d[i].reason);
	free(d);
}

static int
decode_distrust(
    json_t *arr, struct distrust **out, size_t *n, struct rk_why *why)
{
	static const char *const keys[] = {
	    "sha256", "after", "lift", "reason", NULL};
	struct distrust *d = NULL;
	char what[32];
	size_t i, j, cnt;
	json_t *e, *h;
	int rc = RK_OK;

	if (!json_is_array(arr))
		return rk_fail(why, RK_EMANIFEST, "distrust: not an array");
	cnt = json_array_size(arr);
	if (cnt > MANIFEST_MAX_DISTRUST)
		return rk_fail(why, RK_EMANIFEST,
		    "distrust: %zu entries, at most %d", cnt,
		    MANIFEST_MAX_DISTRUST);
	if (cnt > 0 && (d = calloc(cnt, sizeof(*d))) == NULL)
		return RK_ENOMEM;
	json_array_foreach(arr, i, e)
	{
		snprintf(what, sizeof(what), "distrust[%zu]", i);
		if (!json_is_object(e)) {
			rc = rk_fail(
			    why, RK_EMANIFEST, "%s: not an object", what);
			goto out;
		}
		if ((rc = only_keys(e, keys, what, why)) != RK_OK)
			goto out;
		h = json_object_get(e, "sha256");
		if (!json_is_string(h) ||
		    hex_decode(json_string_value(h), json_string_length(h),
			d[i].sha256, CRYPTO_SHA256_LEN) != RK_OK) {
			rc = rk_fail(why, RK_EMANIFEST,
			    "%s: \"sha256\" must be 64 lower-case hex digits",
			    what);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (memcmp(d[j].sha256, d[i].sha256,
				CRYPTO_SHA256_LEN) == 0) {
				rc = rk_fail(why, RK_EMANIFEST,
				    "%s: fingerprint listed twice", what);
				goto out;
			}
		if ((rc = get_time(e, "after", 0, &d[i].after, &d[i].has_after,
			 what, why)) != RK_OK ||
		    (rc = get_text(e, "reason", &d[i].reason, what, why)) !=
			RK_OK)
			goto out;
		if ((h = json_object_get(e, "lift")) != NULL) {
			/* Only "true" means something: no second spelling. */
			if (!json_is_true(h)) {
				rc = rk_fail(why, RK_EMANIFEST,
				    "%s: \"lift\" must be true", what);
				goto out;
			}
			if (d[i].has_after) {
				rc = rk_fail(why, RK_EMANIFEST,
				    "%s: a lift has no \"after\"", what);
				goto out;
			}
			d[i].lift = 1;
		}
	}
	*out = d;
	*n = cnt;
	d = NULL;
out:
	manifest_free_distrust(d, cnt);
	return rc;
}

/*
 * json[0..len) as one JSON value, duplicate keys refused: RK_EMANIFEST
 * with "what: jansson's reason (line N)" otherwise.
 */
static int
load_json(const uint8_t *json, size_t len, const char *what, json_t **root,
    struct rk_why *why)
{
	json_error_t jerr;

	*root =
	    json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*root == NULL)
		return rk_fail(why, RK_EMANIFEST, "%s: %s (line %d)", what,
		    jerr.text, jerr.line);
	return RK_OK;
}

int
manifest_parse_distrust(const uint8_t *json, size_t len, struct distrust **out,
    size_t *n, struct rk_why *why)
{
	json_t *root;
	int rc;

	if ((rc = load_json(json, len, "distrust list", &root, why)) != RK_OK)
		return rc;
	rc = decode_distrust(root, out, n, why);
	json_decref(root);
	return rc;
}

static int
decode_next_keys(json_t *obj, struct manifest *m, struct rk_why *why)
{
	static const char *const keys[] = {"threshold", "keys", NULL};
	json_t *t, *arr, *e;
	uint8_t *der = NULL;
	size_t i, j, n, der_len;
	int rc;

	if (!json_is_object(obj))
		return rk_fail(why, RK_EMANIFEST, "next_keys: not an object");
	if ((rc = only_keys(obj, keys, "next_keys", why)) != RK_OK)
		return rc;
	arr = json_object_get(obj, "keys");
	t = json_object_get(obj, "threshold");
	if (!json_is_array(arr) || (n = json_array_size(arr)) == 0 ||
	    n > MANIFEST_MAX_NEXT_KEYS)
		return rk_fail(why, RK_EMANIFEST,
		    "next_keys: \"keys\" must be an array of 1 to %d keys",
		    MANIFEST_MAX_NEXT_KEYS);
	if (!json_is_integer(t) || json_integer_value(t) < 1 ||
	    (json_int_t)n < json_integer_value(t))
		return rk_fail(why, RK_EMANIFEST,
		    "next_keys: \"threshold\" must be an integer from 1 to "
		    "the number of keys (%zu)",
		    n);
	if ((m->next_keys = calloc(n, sizeof(*m->next_keys))) == NULL)
		return RK_ENOMEM;
	m->n_next_keys = n;
	m->next_threshold = (unsigned)json_integer_value(t);
	json_array_foreach(arr, i, e)
	{
		if (!json_is_string(e) ||
		    base64_decode(json_string_value(e), json_string_length(e),
			&der, &der_len) != RK_OK)
			return rk_fail(why, RK_EMANIFEST,
			    "next_keys.keys[%zu]: not base64", i);
		rc = pubkey_from_spki(der, der_len, &m->next_keys[i]);
		free(der);
		if (rc == RK_ENOMEM)
			return rc;
		if (rc != RK_OK)
			return rk_fail(why, RK_EMANIFEST,
			    "next_keys.keys[%zu]: not an Ed25519 or ECDSA "
			    "P-256 public key",
			    i);
		for (j = 0; j < i; j++)
			if (memcmp(pubkey_id(m->next_keys[j]),
				pubkey_id(m->next_keys[i]),
				CRYPTO_SHA256_LEN) == 0)
				return rk_fail(why, RK_EMANIFEST,
				    "next_keys.keys[%zu]: listed twice", i);
	}
	return RK_OK;
}

static int
decode_rollout(json_t *obj, struct rollout *r, struct rk_why *why)
{
	static const char *const keys[] = {"percent", "seed", NULL};
	json_t *p, *s;
	int rc;

	if (!json_is_object(obj))
		return rk_fail(why, RK_EMANIFEST, "rollout: not an object");
	if ((rc = only_keys(obj, keys, "rollout", why)) != RK_OK)
		return rc;
	p = json_object_get(obj, "percent");
	if (!json_is_integer(p) || json_integer_value(p) < 1 ||
	    json_integer_value(p) > 100)
		return rk_fail(why, RK_EMANIFEST,
		    "rollout: \"percent\" must be an integer from 1 to 100");
	s = json_object_get(obj, "seed");
	if (!json_is_string(s) ||
	    strlen(json_string_value(s)) != json_string_length(s) ||
	    !manifest_seed_ok(json_string_value(s)))
		return rk_fail(why, RK_EMANIFEST,
		    "rollout: \"seed\" must match [a-z0-9._-]{1,64}");
	r->percent = (unsigned)json_integer_value(p);
	memcpy(r->seed, json_string_value(s), json_string_length(s) + 1);
	return RK_OK;
}

static int
decode(json_t *root, struct manifest *m, struct rk_why *why)
{
	static const char *const keys[] = {"format", "channel", "version",
	    "issued_at", "expires_at", "distrust", "rollout", "next_keys",
	    "note", NULL};
	json_t *v;
	int rc;

	if (!json_is_object(root))
		return rk_fail(why, RK_EMANIFEST, "manifest: not an object");
	if ((rc = only_keys(root, keys, "manifest", why)) != RK_OK)
		return rc;
	v = json_object_get(root, "format");
	if (!json_is_integer(v) || json_integer_value(v) != MANIFEST_FORMAT)
		return rk_fail(why, RK_EMANIFEST,
		    "manifest: \"format\" must be %d", MANIFEST_FORMAT);
	v = json_object_get(root, "channel");
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    !manifest_channel_ok(json_string_value(v)))
		return rk_fail(why, RK_EMANIFEST,
		    "manifest: \"channel\" must match [a-z0-9._-]{1,64}");
	memcpy(m->channel, json_string_value(v), json_string_length(v) + 1);
	v = json_object_get(root, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    (uint64_t)json_integer_value(v) > MANIFEST_VERSION_MAX)
		return rk_fail(why, RK_EMANIFEST,
		    "manifest: \"version\" must be an integer from 1 to "
		    "2^53-1");
	m->version = (uint64_t)json_integer_value(v);
	if ((rc = get_time(root, "issued_at", 1, &m->issued_at, NULL,
		 "manifest", why)) != RK_OK ||
	    (rc = get_time(root, "expires_at", 1, &m->expires_at, NULL,
		 "manifest", why)) != RK_OK)
		return rc;
	if (m->expires_at <= m->issued_at)
		return rk_fail(why, RK_EMANIFEST,
		    "manifest: \"expires_at\" is not after \"issued_at\"");
	if ((v = json_object_get(root, "distrust")) != NULL &&
	    (rc = decode_distrust(v, &m->distrust, &m->n_distrust, why)) !=
		RK_OK)
		return rc;
	if ((v = json_object_get(root, "rollout")) != NULL &&
	    (rc = decode_rollout(v, &m->rollout, why)) != RK_OK)
		return rc;
	if ((v = json_object_get(root, "next_keys")) != NULL &&
	    (rc = decode_next_keys(v, m, why)) != RK_OK)
		return rc;
	return get_text(root, "note", &m->note, "manifest", why);
}

int
manifest_parse(
    const uint8_t *json, size_t len, struct manifest **out, struct rk_why *why)
{
	struct manifest *m;
	json_t *root;
	int rc;

	if ((rc = load_json(json, len, "manifest", &root, why)) != RK_OK)
		return rc;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		json_decref(root);
		return RK_ENOMEM;
	}
	rc = decode(root, m, why);
	json_decref(root);
	if (rc != RK_OK) {
		manifest_free(m);
		return rc;
	}
	*out = m;
	return RK_OK;
}

void
manifest_free(struct manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	manifest_free_distrust(m->distrust, m->n_distrust);
	for (i = 0; i < m->n_next_keys && m->next_keys != NULL; i++)
		pubkey_free(m->next_keys[i]);
	free(m->next_keys);
	free(m->note);
	free(m);
}

static json_t *
time_json(int64_t t)
{
	char buf[RFC3339_LEN + 1];

	if (rfc3339_format(t, buf) != RK_OK)
		return NULL;
	return json_string(buf);
}

/* json_object_set_new that remembers a failure instead of returning it. */
static void
put(json_t *obj, const char *key, json_t *v, int *failed)
{
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		*failed = 1;
}

static json_t *
encode_distrust(const struct distrust *d, size_t n, int *failed)
{
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	json_t *arr = json_array(), *e;
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((e = json_object()) == NULL ||
		    json_array_append_new(arr, e) != 0) {
			*failed = 1;
			break;
		}
		hex_encode(d[i].sha256, CRYPTO_SHA256_LEN, hex);
		put(e, "sha256", json_string(hex), failed);
		if (d[i].has_after)
			put(e, "after", time_json(d[i].after), failed);
		if (d[i].lift)
			put(e, "lift", json_true(), failed);
		if (d[i].reason != NULL)
			put(e, "reason", json_string(d[i].reason), failed);
	}
	return arr;
}

static json_t *
encode_next_keys(const struct manifest *m, int *failed)
{
	json_t *obj = json_object(), *arr = json_array();
	const uint8_t *spki;
	size_t i, len;
	char *b64;

	if (obj == NULL || arr == NULL) {
		json_decref(obj);
		json_decref(arr);
		return NULL;
	}
	put(obj, "threshold", json_integer(m->next_threshold), failed);
	for (i = 0; i < m->n_next_keys; i++) {
		spki = pubkey_spki(m->next_keys[i], &len);
		if (base64_encode(spki, len, &b64) != RK_OK ||
		    json_array_append_new(arr, json_string(b64)) != 0)
			*failed = 1;
		free(b64);
		b64 = NULL;
	}
	put(obj, "keys", arr, failed);
	return obj;
}

int
manifest_encode(
    const struct manifest *m, uint8_t **out, size_t *len, struct rk_why *why)
{
	struct manifest *check = NULL;
	json_t *root = json_object();
	int failed = 0, rc;
	size_t n;
	char *s = NULL;

	if (root == NULL)
		return RK_ENOMEM;
	put(root, "format", json_integer(MANIFEST_FORMAT), &failed);
	put(root, "channel", json_string(m->channel), &failed);
	put(root, "version", json_integer((json_int_t)m->version), &failed);
	put(root, "issued_at", time_json(m->issued_at), &failed);
	put(root, "expires_at", time_json(m->expires_at), &failed);
	if (m->n_distrust > 0)
		put(root, "distrust",
		    encode_distrust(m->distrust, m->n_distrust, &failed),
		    &failed);
	if (m->rollout.percent > 0) {
		json_t *r = json_object();

		put(r, "percent", json_integer(m->rollout.percent), &failed);
		put(r, "seed", json_string(m->rollout.seed), &failed);
		put(root, "rollout", r, &failed);
	}
	if (m->n_next_keys > 0)
		put(root, "next_keys", encode_next_keys(m, &failed), &failed);
	if (m->note != NULL)
		put(root, "note", json_string(m->note), &failed);
	if (!failed)
		s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (s == NULL)
		return rk_fail(why, RK_EMANIFEST,
		    "manifest: cannot encode (bad time, or text that is not "
		    "UTF-8)");
	n = strlen(s);
	/* What we write must be what every reader accepts. */
	rc = manifest_parse((const uint8_t *)s, n, &check, why);
	manifest_free(check);
	if (rc != RK_OK) {
		free(s);
		return rc;
	}
	*out = (uint8_t *)s;
	*len = n;
	return RK_OK;
}
