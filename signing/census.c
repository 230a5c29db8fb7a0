/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The census of census.h.  A log line is walked once, left to right, by
 * index against its length; quoted fields honour backslash escapes (Apache
 * writes \" and \\, nginx \xHH) and the User-Agent is judged on its raw,
 * still escaped bytes, which an agent's never need.  Devices live in one
 * array indexed by an open-addressing hash of their 64-bit pseudonym;
 * channel and agent names are interned, so a device costs a few dozen
 * bytes however many lines it left.
 */
#include "census.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strcopy.h"

struct device {
	uint64_t id;
	int64_t time;
	uint64_t seq; /* input order, for lines of one second */
	uint64_t active, deferred;
	uint32_t channel, agent; /* indexes into the name tables */
	uint8_t has_active, has_deferred;
};

struct names {
	char **s;
	size_t n, cap;
};

struct census {
	struct device *dev;
	size_t ndev, capdev;
	uint32_t *slot; /* index + 1 into dev; 0 is empty */
	size_t nslot;	/* a power of two, at least 2 * ndev */
	uint64_t seq;
	struct names channels, agents;
};

/* ---- the line parser ------------------------------------------------- */

/* A run of non-space bytes starting at *i; at least one. */
static int
token(const char *s, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && s[*i] != ' ')
		(*i)++;
	return *i > start ? 0 : -1;
}

static int
expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

/* "...": the bytes inside, escapes kept, at [*b, *e). */
static int
quoted(const char *s, size_t len, size_t *i, size_t *b, size_t *e)
{
	if (expect(s, len, i, '"'))
		return -1;
	*b = *i;
	while (*i < len && s[*i] != '"') {
		if (s[*i] == '\\') {
			if (len - *i < 2)
				return -1;
			(*i)++;
		}
		(*i)++;
	}
	*e = *i;
	return expect(s, len, i, '"');
}

/* n decimal digits at s[*i] (n fixed). */
static int
digits(const char *s, size_t len, size_t *i, size_t n, int *out)
{
	int v = 0;
	size_t k;

	if (len - *i < n)
		return -1;
	for (k = 0; k < n; k++) {
		if (s[*i + k] < '0' || s[*i + k] > '9')
			return -1;
		v = v * 10 + (s[*i + k] - '0');
	}
	*i += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* [dd/Mon/yyyy:HH:MM:SS +hhmm] */
static int
log_time(const char *s, size_t len, size_t *i, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int d, y, hh, mm, ss, zh, zm, m;
	char sign;

	if (expect(s, len, i, '[') || digits(s, len, i, 2, &d) ||
	    expect(s, len, i, '/') || len - *i < 3)
		return -1;
	for (m = 0; m < 12; m++)
		if (memcmp(s + *i, months + 3 * m, 3) == 0)
			break;
	if (m == 12)
		return -1;
	*i += 3;
	if (expect(s, len, i, '/') || digits(s, len, i, 4, &y) ||
	    expect(s, len, i, ':') || digits(s, len, i, 2, &hh) ||
	    expect(s, len, i, ':') || digits(s, len, i, 2, &mm) ||
	    expect(s, len, i, ':') || digits(s, len, i, 2, &ss) ||
	    expect(s, len, i, ' ') || *i >= len)
		return -1;
	sign = s[(*i)++];
	if ((sign != '+' && sign != '-') || digits(s, len, i, 2, &zh) ||
	    digits(s, len, i, 2, &zm) || expect(s, len, i, ']'))
		return -1;
	if (d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || zh > 23 ||
	    zm > 59)
		return -1;
	*out = days_from_civil(y, m + 1, d) * 86400 + hh * 3600 + mm * 60 + ss -
	       (sign == '+' ? 1 : -1) * (zh * 3600 + zm * 60);
	return 0;
}

static int
agent_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' ||
	       c == '~' || c == '_';
}

/* A decimal 0 .. 2^53-1 of v[0..n). */
static int
number(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t k;

	if (n == 0 || n > 16)
		return -1;
	for (k = 0; k < n; k++) {
		if (v[k] < '0' || v[k] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[k] - '0');
	}
	if (x > MANIFEST_VERSION_MAX)
		return -1;
	*out = x;
	return 0;
}

static int
hex16(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	size_t k;
	int d;

	if (n != 16)
		return -1;
	for (k = 0; k < n; k++) {
		if (v[k] >= '0' && v[k] <= '9')
			d = v[k] - '0';
		else if (v[k] >= 'a' && v[k] <= 'f')
			d = v[k] - 'a' + 10;
		else
			return -1;
		x = x << 4 | (uint64_t)d;
	}
	*out = x;
	return 0;
}

static int
key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && memcmp(k, want, n) == 0;
}

/* One "key=value" of the agent's comment; unknown keys are skipped. */
static int
ua_param(const char *k, size_t kn, const char *v, size_t vn,
    struct census_line *out, unsigned *seen)
{
	char ch[MANIFEST_CHANNEL_MAX + 1];
	unsigned bit;
	int rc = 0;

	if (key_is(k, kn, "channel")) {
		bit = 1;
		if (vn == 0 || vn > MANIFEST_CHANNEL_MAX)
			return -1;
		memcpy(ch, v, vn);
		ch[vn] = '\0';
		if (!manifest_channel_ok(ch))
			return -1;
		memcpy(out->channel, ch, vn + 1);
	} else if (key_is(k, kn, "active")) {
		bit = 2;
		rc = number(v, vn, &out->active);
		out->has_active = 1;
	} else if (key_is(k, kn, "highest")) {
		bit = 4;
		rc = number(v, vn, &out->highest);
		out->has_highest = 1;
	} else if (key_is(k, kn, "deferred")) {
		bit = 8;
		rc = number(v, vn, &out->deferred);
		out->has_deferred = 1;
	} else if (key_is(k, kn, "id")) {
		bit = 16;
		rc = hex16(v, vn, &out->id);
	} else {
		return 0; /* a newer agent's field */
	}
	if (rc != 0 || (*seen & bit))
		return -1;
	*seen |= bit;
	return 0;
}

/*
 * The User-Agent ua[0..n): RK_OK for a census one, RK_ENOENT for another
 * client or an agent without its census, RK_EFORMAT for a broken one.
 */
static int
parse_ua(const char *ua, size_t n, struct census_line *out)
{
	static const char prod[] = "rootkeeper/";
	const size_t plen = sizeof(prod) - 1;
	size_t i = plen, a, k, ke, v;
	unsigned seen = 0;

	if (n < plen || memcmp(ua, prod, plen) != 0)
		return RK_ENOENT;
	for (a = i; i < n && agent_char(ua[i]); i++)
		;
	if (i == a || i - a > CENSUS_AGENT_MAX)
		return RK_EFORMAT;
	memcpy(out->agent, ua + a, i - a);
	out->agent[i - a] = '\0';
	if (i == n || (ua[i] == ' ' && (n - i < 2 || ua[i + 1] != '(')))
		return RK_ENOENT; /* census = no (or other products follow) */
	if (n - i < 2 || ua[i] != ' ' || ua[i + 1] != '(')
		return RK_EFORMAT;
	i += 2;
	for (;;) {
		while (i < n && ua[i] == ' ')
			i++;
		for (k = i;
		     i < n && ua[i] != '=' && ua[i] != ';' && ua[i] != ')'; i++)
			;
		if (i >= n || ua[i] != '=' || i == k)
			return RK_EFORMAT;
		ke = i++;
		for (v = i; i < n && ua[i] != ';' && ua[i] != ')'; i++)
			;
		if (i >= n ||
		    ua_param(ua + k, ke - k, ua + v, i - v, out, &seen) != 0)
			return RK_EFORMAT;
		if (ua[i++] == ')')
			break;
	}
	/* Other product tokens may follow after a space. */
	if (i < n && ua[i] != ' ')
		return RK_EFORMAT;
	if (!(seen & 1))
		return RK_EFORMAT;
	/* An agent without a device id sends no pseudonym: not countable. */
	return seen & 16 ? RK_OK : RK_ENOENT;
}

int
census_parse_line(const char *s, size_t len, struct census_line *out)
{
	struct census_line l;
	size_t i = 0, b = 0, e = 0;
	int status, rc;

	memset(&l, 0, sizeof(l));
	if (len > CENSUS_LINE_MAX)
		return RK_EFORMAT;
	/* host ident user [time] "request" status bytes "referer" "ua" */
	if (token(s, len, &i) || expect(s, len, &i, ' ') || token(s, len, &i) ||
	    expect(s, len, &i, ' ') || token(s, len, &i) ||
	    expect(s, len, &i, ' ') || log_time(s, len, &i, &l.time) ||
	    expect(s, len, &i, ' ') || quoted(s, len, &i, &b, &e) ||
	    expect(s, len, &i, ' ') || digits(s, len, &i, 3, &status) ||
	    expect(s, len, &i, ' ') || token(s, len, &i) ||
	    expect(s, len, &i, ' ') || quoted(s, len, &i, &b, &e) ||
	    expect(s, len, &i, ' ') || quoted(s, len, &i, &b, &e))
		return RK_EFORMAT;
	/* Formats that extend combined append fields after a space. */
	if (i < len && s[i] != ' ')
		return RK_EFORMAT;
	if ((rc = parse_ua(s + b, e - b, &l)) != RK_OK)
		return rc;
	*out = l;
	return RK_OK;
}

/* ---- counting ---------------------------------------------------------- */

static void
names_free(struct names *n)
{
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->s[i]);
	free(n->s);
}

/* The index of name s, added when new. */
static int
intern(struct names *n, const char *s, uint32_t *idx)
{
	size_t i;
	char **grown;

	for (i = 0; i < n->n; i++)
		if (strcmp(n->s[i], s) == 0) {
			*idx = (uint32_t)i;
			return RK_OK;
		}
	if (n->n >= CENSUS_MAX_NAMES)
		return RK_ELIMIT;
	if (n->n == n->cap) {
		size_t cap = n->cap == 0 ? 8 : 2 * n->cap;

		if ((grown = realloc(n->s, cap * sizeof(*grown))) == NULL)
			return RK_ENOMEM;
		n->s = grown;
		n->cap = cap;
	}
	if ((n->s[n->n] = strdup(s)) == NULL)
		return RK_ENOMEM;
	*idx = (uint32_t)n->n++;
	return RK_OK;
}

int
census_new(struct census **out)
{
	struct census *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return RK_ENOMEM;
	*out = c;
	return RK_OK;
}

void
census_free(struct census *c)
{
	if (c == NULL)
		return;
	free(c->dev);
	free(c->slot);
	names_free(&c->channels);
	names_free(&c->agents);
	free(c);
}

static size_t
hash_slot(uint64_t id, size_t nslot)
{
	/* ids are already SHA-256 output; mix anyway against crafted ones */
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (nslot - 1);
}

static int
rehash(struct census *c, size_t nslot)
{
	uint32_t *slot = calloc(nslot, sizeof(*slot));
	size_t i, h;

	if (slot == NULL)
		return RK_ENOMEM;
	for (i = 0; i < c->ndev; i++) {
		h = hash_slot(c->dev[i].id, nslot);
		while (slot[h] != 0)
			h = (h + 1) & (nslot - 1);
		slot[h] = (uint32_t)(i + 1);
	}
	free(c->slot);
	c->slot = slot;
	c->nslot = nslot;
	return RK_OK;
}

/* The device of id, made (zeroed, id set) when new. */
static int
device(struct census *c, uint64_t id, struct device **out)
{
	size_t h;
	int rc;

	if (c->nslot == 0 && (rc = rehash(c, 64)) != RK_OK)
		return rc;
	for (h = hash_slot(id, c->nslot); c->slot[h] != 0;
	     h = (h + 1) & (c->nslot - 1))
		if (c->dev[c->slot[h] - 1].id == id) {
			*out = &c->dev[c->slot[h] - 1];
			return RK_OK;
		}
	if (c->ndev >= CENSUS_MAX_DEVICES)
		return RK_ELIMIT;
	if (c->ndev == c->capdev) {
		size_t cap = c->capdev == 0 ? 64 : 2 * c->capdev;
		struct device *d = realloc(c->dev, cap * sizeof(*d));

		if (d == NULL)
			return RK_ENOMEM;
		c->dev = d;
		c->capdev = cap;
	}
	memset(&c->dev[c->ndev], 0, sizeof(c->dev[0]));
	c->dev[c->ndev].id = id;
	c->dev[c->ndev].time = INT64_MIN;
	c->slot[h] = (uint32_t)(c->ndev + 1);
	c->ndev++;
	if (2 * c->ndev > c->nslot && (rc = rehash(c, 2 * c->nslot)) != RK_OK)
		return rc;
	*out = &c->dev[c->ndev - 1];
	return RK_OK;
}

int
census_add(struct census *c, const char *line, size_t len)
{
	struct census_line l;
	struct device *d = NULL;
	uint32_t ch, ag;
	int rc;

	if ((rc = census_parse_line(line, len, &l)) != RK_OK)
		return rc;
	if ((rc = intern(&c->channels, l.channel, &ch)) != RK_OK ||
	    (rc = intern(&c->agents, l.agent, &ag)) != RK_OK ||
	    (rc = device(c, l.id, &d)) != RK_OK)
		return rc;
	c->seq++;
	/* Logs may come in any order (rotated files): the newest wins. */
	if (l.time < d->time)
		return RK_OK;
	d->time = l.time;
	d->seq = c->seq;
	d->channel = ch;
	d->agent = ag;
	d->has_active = (uint8_t)l.has_active;
	d->active = l.active;
	d->has_deferred = (uint8_t)l.has_deferred;
	d->deferred = l.deferred;
	return RK_OK;
}

size_t
census_devices(const struct census *c)
{
	return c->ndev;
}

size_t
census_nchannels(const struct census *c)
{
	return c->channels.n;
}

/* The index of the i-th channel in name order. */
static size_t
channel_at(const struct census *c, size_t i)
{
	size_t j, k, rank;

	for (j = 0; j < c->channels.n; j++) {
		rank = 0;
		for (k = 0; k < c->channels.n; k++)
			rank += strcmp(c->channels.s[k], c->channels.s[j]) < 0;
		if (rank == i)
			return j;
	}
	return 0;
}

const char *
census_channel(const struct census *c, size_t i)
{
	return c->channels.s[channel_at(c, i)];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_count(const void *a, const void *b)
{
	return strverscmp(((const struct census_count *)a)->key,
	    ((const struct census_count *)b)->key);
}

int
census_tally(const struct census *c, size_t i, enum census_kind kind,
    struct census_count **out, size_t *n)
{
	size_t ch = channel_at(c, i), k, m = 0, nc = 0;
	struct census_count *cnt;
	uint64_t *v;
	const struct device *d;

	if (i >= c->channels.n)
		return RK_EINVAL;
	if ((v = calloc(c->ndev + 1, sizeof(*v))) == NULL)
		return RK_ENOMEM;
	if ((cnt = calloc(c->ndev + 1, sizeof(*cnt))) == NULL) {
		free(v);
		return RK_ENOMEM;
	}
	for (k = 0; k < c->ndev; k++) {
		d = &c->dev[k];
		if (d->channel != ch)
			continue;
		if (kind == CENSUS_ACTIVE && d->has_active)
			v[m++] = d->active;
		else if (kind == CENSUS_DEFERRED && d->has_deferred)
			v[m++] = d->deferred;
		else if (kind == CENSUS_AGENTS || kind == CENSUS_DEVICES)
			v[m++] = kind == CENSUS_AGENTS ? d->agent : 0;
	}
	qsort(v, m, sizeof(*v), cmp_u64);
	for (k = 0; k < m; k++) {
		if (k == 0 || v[k] != v[k - 1]) {
			if (kind == CENSUS_AGENTS)
				str_copy(cnt[nc].key, sizeof(cnt[nc].key),
				    c->agents.s[v[k]]);
			else if (kind == CENSUS_DEVICES)
				str_copy(cnt[nc].key, sizeof(cnt[nc].key),
				    "devices");
			else
				snprintf(cnt[nc].key, sizeof(cnt[nc].key),
				    "%llu", (unsigned long long)v[k]);
			nc++;
		}
		cnt[nc - 1].count++;
	}
	free(v);
	/* Numbers sort as numbers already; agent versions as versions. */
	if (kind == CENSUS_AGENTS)
		qsort(cnt, nc, sizeof(*cnt), cmp_count);
	*out = cnt;
	*n = nc;
	return RK_OK;
}
