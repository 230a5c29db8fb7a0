/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's state machine (agent.c) against a fake transport and a real
 * store in a fresh temporary folder per test: provisioning with and
 * without a factory bundle, checks that update, find nothing new, or are
 * refused (rollback, equivocation, expiry, size), conditional requests and
 * when their validators are kept, mirrors tried in order, rollback and its
 * "never re-apply" rule, retention, key rotation, persistent distrust
 * across a rollback, and the repair of a stale export file.  Each scenario
 * checks the outcome, the store's state and events (read through a second
 * store handle, as status would) and the exported PEM byte for byte.
 * Bundles are built in memory (fixture.c) from the committed test PKI in
 * data/ with times around the real clock, since the agent reads the
 * system's.  No probes (step 8 is the probe module's) and no network.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "bundle.h"
#include "config.h"
#include "fetch.h"
#include "fileio.h"
#include "fixture.h"
#include "pem.h"
#include "policy.h"
#include "store.h"

#define URL1 "http://mirror1.test/test/latest.rkb"
#define URL2 "http://mirror2.test/test/latest.rkb"
#define DAY 86400
#define PEM_MAX (1 << 20) /* an export file read back */

/* What the fake transport answers for one URL. */
struct route {
	const char *url;
	int rc; /* RK_OK, RK_ENET, RK_ELIMIT */
	long status;
	uint8_t *body; /* owned by the route */
	size_t len;
	char etag[FETCH_ETAG_MAX];
	char last_modified[64];
};

/* What it was asked. */
struct seen {
	char url[256];
	char etag[FETCH_ETAG_MAX]; /* "" when none was sent */
	char last_modified[64];
	size_t max_size;
	int had_ca;
	char user_agent[256];
};

struct fake {
	struct route routes[2];
	struct seen reqs[16];
	size_t nreqs;
};

struct fx {
	const struct pki *p;
	char dir[64];
	char db[128];
	char pem[128];
	struct config cfg;
	struct fake fake;
	struct agent *a;
	int64_t now;
};

static int
setup(void **state)
{
	struct fx *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->p = *state;
	snprintf(f->dir, sizeof(f->dir), "/tmp/rk-test-agent-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	snprintf(f->pem, sizeof(f->pem), "%s/trust.pem", f->dir);
	config_init(&f->cfg);
	f->cfg.urls[0] = strdup(URL1);
	f->cfg.urls[1] = strdup(URL2);
	f->cfg.n_urls = 2;
	memcpy(f->cfg.channel, "test", 5);
	f->cfg.max_bundle_size = 1 << 20;
	f->cfg.keep_versions = 5;
	f->fake.routes[0].url = URL1;
	f->fake.routes[0].rc = RK_ENET;
	f->fake.routes[1].url = URL2;
	f->fake.routes[1].rc = RK_ENET;
	f->now = (int64_t)time(NULL);
	*state = f;
	return 0;
}

/* The names of the files in dir, for "nothing left behind". */
static size_t
count_files(const char *dir)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *e;
	char path[512];
	DIR *d;
	size_t i;

	agent_close(f->a);
	for (i = 0; i < 2; i++)
		free(f->fake.routes[i].body);
	config_free(&f->cfg);
	if ((d = opendir(f->dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(
			    path, sizeof(path), "%s/%s", f->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Channel "test", issued a day ago, expires in 30 days, {A, B}, by ED1. */
static struct spec
spec(const struct fx *f, uint64_t version)
{
	static const int ab[] = {ROOT_A, ROOT_B}, ed1[] = {ED1};
	struct spec s;

	memset(&s, 0, sizeof(s));
	s.channel = "test";
	s.version = version;
	/* Later versions are issued later, as a publisher would. */
	s.issued_at = f->now - DAY + (int64_t)version;
	s.expires_at = f->now + 30 * DAY;
	s.certs = ab;
	s.ncerts = 2;
	s.signers = ed1;
	s.nsigners = 1;
	return s;
}

/* ---- the fake transport ---- */

static int
fake_get(void *arg, const struct fetch_req *req, struct fetch_res *res,
    struct rk_why *why)
{
	struct fake *fk = arg;
	const struct route *r = NULL;
	struct seen *s;
	size_t i;

	assert_non_null(req->url);
	assert_true(fk->nreqs < sizeof(fk->reqs) / sizeof(fk->reqs[0]));
	s = &fk->reqs[fk->nreqs++];
	memset(s, 0, sizeof(*s));
	snprintf(s->url, sizeof(s->url), "%s", req->url);
	if (req->etag != NULL)
		snprintf(s->etag, sizeof(s->etag), "%s", req->etag);
	if (req->last_modified != NULL)
		snprintf(s->last_modified, sizeof(s->last_modified), "%s",
		    req->last_modified);
	s->max_size = req->max_size;
	s->had_ca = req->ca_pem != NULL && req->ca_pem_len > 0;
	assert_non_null(req->user_agent);
	snprintf(s->user_agent, sizeof(s->user_agent), "%s", req->user_agent);

	memset(res, 0, sizeof(*res));
	for (i = 0; i < 2; i++)
		if (fk->routes[i].url != NULL &&
		    strcmp(fk->routes[i].url, req->url) == 0)
			r = &fk->routes[i];
	if (r == NULL)
		return rk_fail(why, RK_ENET, "fake: no route to %s", req->url);
	if (r->rc == RK_ELIMIT)
		return rk_fail(
		    why, RK_ELIMIT, "fake: body over %zu bytes", req->max_size);
	if (r->rc != RK_OK)
		return rk_fail(why, r->rc, "fake: connection refused");
	res->status = r->status;
	snprintf(res->etag, sizeof(res->etag), "%s", r->etag);
	snprintf(res->last_modified, sizeof(res->last_modified), "%s",
	    r->last_modified);
	snprintf(
	    res->effective_url, sizeof(res->effective_url), "%s", req->url);
	if (r->status == 200) {
		assert_non_null(res->body = malloc(r->len));
		memcpy(res->body, r->body, r->len);
		res->len = r->len;
	}
	return RK_OK;
}

/* Mirror i (0, 1) answers 200 with the bundle s and etag. */
static void
serve(struct fx *f, int i, const struct spec *s, const char *etag)
{
	struct route *r = &f->fake.routes[i];

	free(r->body);
	r->body = fixture_make(f->p, s, &r->len);
	r->rc = RK_OK;
	r->status = 200;
	snprintf(r->etag, sizeof(r->etag), "%s", etag ? etag : "");
	snprintf(r->last_modified, sizeof(r->last_modified), "%s",
	    etag ? "Mon, 01 Jan 2024 00:00:00 GMT" : "");
}

static void
serve_bytes(struct fx *f, int i, const uint8_t *buf, size_t len)
{
	struct route *r = &f->fake.routes[i];

	free(r->body);
	assert_non_null(r->body = malloc(len));
	memcpy(r->body, buf, len);
	r->len = len;
	r->rc = RK_OK;
	r->status = 200;
	r->etag[0] = '\0';
	r->last_modified[0] = '\0';
}

static void
not_modified(struct fx *f, int i, const char *etag)
{
	struct route *r = &f->fake.routes[i];

	r->rc = RK_OK;
	r->status = 304;
	snprintf(r->etag, sizeof(r->etag), "%s", etag);
}

static void
fail_with(struct fx *f, int i, int rc)
{
	f->fake.routes[i].rc = rc;
}

/* ---- the device, seen from outside ---- */

static void
provision(struct fx *f, const struct spec *factory, const int *pins,
    size_t npins, unsigned threshold)
{
	struct pubkey *keys[NKEY];
	struct agent_outcome o;
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int rc;

	for (i = 0; i < npins; i++)
		keys[i] = f->p->pub[pins[i]];
	if (factory != NULL)
		buf = fixture_make(f->p, factory, &len);
	rc = agent_init(&f->cfg, f->db, f->pem, keys, npins, threshold, "test",
	    buf, len, &o);
	if (rc != RK_OK)
		fail_msg("agent_init: %s: %s", rk_strerror(rc), o.detail);
	free(buf);
	assert_int_equal(
	    agent_open(&f->cfg, f->db, f->pem, &f->a, NULL), RK_OK);
	agent_set_transport(f->a, fake_get, &f->fake);
}

static struct store *
peek(const struct fx *f)
{
	struct store *s = NULL;

	assert_int_equal(store_open(f->db, STORE_RO, &s, NULL), RK_OK);
	return s;
}

static struct store_state
state_of(const struct fx *f)
{
	struct store_state st;
	struct store *s = peek(f);

	assert_int_equal(store_get_state(s, &st), RK_OK);
	store_close(s);
	return st;
}

static struct store_version
version_of(const struct fx *f, uint64_t v)
{
	struct store_version sv;
	struct store *s = peek(f);

	assert_int_equal(store_get_version(s, v, &sv), RK_OK);
	store_close(s);
	return sv;
}

/* The newest event: kind and version must be these. */
static void
expect_event(const struct fx *f, size_t back, const char *kind, uint64_t v)
{
	struct store_event *ev = NULL, got;
	struct store *s = peek(f);
	size_t n = 0;

	assert_int_equal(store_list_events(s, back + 1, &ev, &n), RK_OK);
	store_close(s);
	if (n <= back) {
		free(ev);
		fail_msg("only %zu events", n);
	}
	got = ev[back];
	free(ev);
	if (strcmp(got.kind, kind) != 0 || got.version != v)
		fail_msg("event %zu back: %s v%llu (%s), want %s v%llu", back,
		    got.kind, (unsigned long long)got.version, got.detail, kind,
		    (unsigned long long)v);
}

static size_t
event_count(const struct fx *f)
{
	struct store_event *ev = NULL;
	struct store *s = peek(f);
	size_t n = 0;

	assert_int_equal(store_list_events(s, 1000, &ev, &n), RK_OK);
	store_close(s);
	free(ev);
	return n;
}

/* The PEM of certs, in order, as the export must hold it; caller frees. */
static char *
pem_of(const struct pki *p, const int *certs, size_t n, size_t *len)
{
	char *all = NULL, *one = NULL;
	size_t total = 0, olen = 0, i;

	assert_non_null(all = calloc(1, 1));
	for (i = 0; i < n; i++) {
		assert_int_equal(pem_encode("CERTIFICATE", p->cert[certs[i]],
				     p->cert_len[certs[i]], &one, &olen),
		    RK_OK);
		assert_non_null(all = realloc(all, total + olen + 1));
		memcpy(all + total, one, olen + 1);
		total += olen;
		free(one);
	}
	*len = total;
	return all;
}

/* The export file and agent_active_pem() are exactly certs. */
static void
expect_set(const struct fx *f, const int *certs, size_t n)
{
	char *want, *act = NULL;
	uint8_t *file;
	size_t wlen, flen, alen = 0;

	want = pem_of(f->p, certs, n, &wlen);
	file = fixture_read(f->pem, PEM_MAX, &flen);
	if (flen != wlen || memcmp(file, want, wlen) != 0)
		fail_msg("export file (%zu bytes) is not the expected set "
			 "(%zu bytes)",
		    flen, wlen);
	assert_int_equal(agent_active_pem(f->a, &act, &alen), RK_OK);
	assert_int_equal(alen, wlen);
	assert_memory_equal(act, want, wlen);
	free(act);
	free(file);
	free(want);
}
#define EXPECT_SET(f, ...)                                                     \
	expect_set(f, (const int[]){__VA_ARGS__},                              \
	    sizeof((const int[]){__VA_ARGS__}) / sizeof(int))

static struct agent_outcome
check(struct fx *f)
{
	struct agent_outcome o;

	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(agent_check(f->a, NULL, &o), RK_OK);
	assert_non_null(memchr(o.detail, '\0', sizeof(o.detail)));
	return o;
}

static void
expect_outcome(const struct agent_outcome *o, enum agent_result res, int err,
    uint64_t version)
{
	if (o->result != res || o->err != err || o->version != version)
		fail_msg("outcome %s %s v%llu (%s), want %s %s v%llu",
		    agent_result_name(o->result), rk_strerror(o->err),
		    (unsigned long long)o->version, o->detail,
		    agent_result_name(res), rk_strerror(err),
		    (unsigned long long)version);
}

/*
 * A rollback the agent refuses: the outcome, the active version
 * unchanged, and (agent.h: every operation records an event for its
 * outcome) one event that says why.
 */
static void
refused_rollback(
    struct fx *f, uint64_t to, enum agent_result res, int err, uint64_t v)
{
	struct store_event *ev = NULL;
	struct agent_outcome o;
	struct store *db;
	uint64_t active = state_of(f).active_version;
	size_t before = event_count(f), n = 0;
	int ok;

	assert_int_equal(agent_rollback(f->a, to, &o), RK_OK);
	expect_outcome(&o, res, err, v);
	assert_int_equal(state_of(f).active_version, active);
	db = peek(f);
	assert_int_equal(store_list_events(db, 1, &ev, &n), RK_OK);
	store_close(db);
	ok = event_count(f) == before + 1 && n == 1 &&
	     strcmp(ev[0].detail, o.detail) == 0;
	free(ev);
	if (!ok)
		fail_msg(
		    "refused rollback (%s) left no event of its own", o.detail);
}

/* Checks until mirror 0 serves s, which must then be active. */
static void
update_to(struct fx *f, const struct spec *s)
{
	struct agent_outcome o;

	serve(f, 0, s, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, s->version);
	assert_int_equal(state_of(f).active_version, s->version);
}

/* ---- scenarios ---- */

static void
test_init_factory(void **state)
{
	struct fx *f = *state;
	struct spec s = spec(f, 1);
	struct store_version *vs = NULL;
	struct pubkey **keys = NULL;
	struct store_state st;
	struct agent_outcome o;
	struct store *db;
	size_t n = 0;
	int rc;

	provision(f, &s, (const int[]){ED1, EC1}, 2, 1);
	st = state_of(f);
	assert_string_equal(st.channel, "test");
	assert_int_equal(st.active_version, 1);
	assert_int_equal(st.highest_version, 1);
	assert_int_equal(st.time_floor, s.issued_at);
	assert_int_equal(st.threshold, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	db = peek(f);
	assert_int_equal(store_list_versions(db, &vs, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(vs[0].version, 1);
	assert_true(vs[0].factory);
	assert_int_equal(vs[0].ncerts, 2);
	assert_int_equal(store_get_keys(db, &keys, &n), RK_OK);
	assert_int_equal(n, 2);
	assert_memory_equal(
	    pubkey_id(keys[0]), pubkey_id(f->p->pub[ED1]), CRYPTO_SHA256_LEN);
	assert_memory_equal(
	    pubkey_id(keys[1]), pubkey_id(f->p->pub[EC1]), CRYPTO_SHA256_LEN);
	pubkey_free(keys[0]);
	pubkey_free(keys[1]);
	free(keys);
	free(vs);
	store_close(db);
	expect_event(f, 0, "init", 1);

	/* A second init finds the store and leaves it alone. */
	rc =
	    agent_init(&f->cfg, f->db, f->pem, NULL, 0, 1, "test", NULL, 0, &o);
	assert_int_equal(rc, RK_EEXIST);
	assert_int_equal(o.result, AGENT_ERROR);
	assert_int_equal(state_of(f).active_version, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
}

static void
test_init_bare_then_check(void **state)
{
	struct fx *f = *state;
	struct spec s = spec(f, 3);
	struct agent_outcome o;
	char *pem = NULL;
	size_t len = 0;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	assert_int_equal(state_of(f).active_version, 0);
	assert_int_equal(agent_active_pem(f->a, &pem, &len), RK_ENOENT);
	expect_event(f, 0, "init", 0);
	serve(f, 0, &s, "\"e3\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 3);
	/* No active set yet: https has nothing to verify with. */
	assert_false(f->fake.reqs[0].had_ca);
	assert_string_equal(f->fake.reqs[0].etag, "");
	EXPECT_SET(f, ROOT_A, ROOT_B);
	expect_event(f, 0, "updated", 3);
}

/* init refuses a factory bundle that fails the policy: no store left. */
static void
test_init_invalid_factory(void **state)
{
	/* Not SET(): a compound literal in an if dies with its branch. */
	static const int ed2[] = {ED2}, a_leaf[] = {ROOT_A, LEAF};
	struct fx *f = *state;
	struct pubkey *keys[1] = {f->p->pub[ED1]};
	struct agent_outcome o;
	struct spec s;
	uint8_t *buf;
	size_t len;
	int rc;
	struct {
		const char *what;
		int err;
	} cases[] = {
	    {"channel", RK_ECHANNEL},
	    {"signer", RK_ESIG},
	    {"expired", RK_EEXPIRED},
	    {"leaf", RK_ECERT},
	    {"garbage", RK_EFORMAT},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = spec(f, 1);
		if (strcmp(cases[i].what, "channel") == 0)
			s.channel = "other";
		if (strcmp(cases[i].what, "signer") == 0) {
			s.signers = ed2;
			s.nsigners = 1;
		}
		if (strcmp(cases[i].what, "expired") == 0) {
			s.issued_at = f->now - 60 * DAY;
			s.expires_at = f->now - DAY;
		}
		if (strcmp(cases[i].what, "leaf") == 0) {
			s.certs = a_leaf;
			s.ncerts = 2;
		}
		buf = fixture_make(f->p, &s, &len);
		if (strcmp(cases[i].what, "garbage") == 0)
			buf[0] = 'X';
		rc = agent_init(
		    &f->cfg, f->db, f->pem, keys, 1, 1, "test", buf, len, &o);
		free(buf);
		if (rc != cases[i].err)
			fail_msg("%s: %s (%s), want %s", cases[i].what,
			    rk_strerror(rc), o.detail,
			    rk_strerror(cases[i].err));
		assert_int_equal(o.result, AGENT_REJECTED);
		assert_int_equal(o.err, cases[i].err);
		assert_true(o.detail[0] != '\0');
		if (count_files(f->dir) != 0)
			fail_msg("%s: files left in %s", cases[i].what, f->dir);
		assert_int_equal(
		    agent_open(&f->cfg, f->db, f->pem, &f->a, NULL), RK_ENOENT);
	}
	/* A threshold above the pins: refused, nothing left. */
	rc =
	    agent_init(&f->cfg, f->db, f->pem, keys, 1, 2, "test", NULL, 0, &o);
	assert_int_equal(rc, RK_EINVAL);
	assert_int_equal(o.result, AGENT_ERROR);
	assert_int_equal(count_files(f->dir), 0);

	/* And the same path then provisions fine. */
	s = spec(f, 1);
	provision(f, &s, (const int[]){ED1}, 1, 1);
	assert_int_equal(state_of(f).active_version, 1);
}

static void
test_check_updates(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);
	struct store_state st;
	struct agent_outcome o;

	provision(f, &s1, (const int[]){ED1}, 1, 1);
	SET(s2, certs, ROOT_A, ROOT_V1);
	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	assert_int_equal(f->fake.nreqs, 1);
	assert_string_equal(f->fake.reqs[0].url, URL1);
	assert_string_equal(f->fake.reqs[0].etag, "");
	assert_int_equal(f->fake.reqs[0].max_size, f->cfg.max_bundle_size);
	/* An http:// URL is fetched without the active set as PEM. */
	assert_false(f->fake.reqs[0].had_ca);
	st = state_of(f);
	assert_int_equal(st.active_version, 2);
	assert_int_equal(st.highest_version, 2);
	assert_int_equal(st.time_floor, s2.issued_at);
	assert_string_equal(st.fetch_url, URL1);
	assert_string_equal(st.etag, "\"e2\"");
	assert_string_equal(st.last_check_result, "updated");
	assert_int_equal(version_of(f, 2).activated_at > 0, 1);
	assert_false(version_of(f, 2).factory);
	EXPECT_SET(f, ROOT_A, ROOT_V1);
	expect_event(f, 0, "updated", 2);
	expect_event(f, 1, "init", 1);

	/* The same bundle again (no validators honoured): current. */
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	assert_string_equal(f->fake.reqs[1].etag, "\"e2\"");
	expect_event(f, 0, "current", 2);
	assert_string_equal(state_of(f).last_check_result, "current");
	EXPECT_SET(f, ROOT_A, ROOT_V1);

	/* A sideload goes the same way, and keeps the validators. */
	s2 = spec(f, 4);
	{
		uint8_t *buf;
		size_t len;

		buf = fixture_make(f->p, &s2, &len);
		assert_int_equal(
		    agent_apply(f->a, buf, len, "usb.rkb", &o), RK_OK);
		expect_outcome(&o, AGENT_UPDATED, RK_OK, 4);
		assert_non_null(strstr(o.detail, "usb.rkb"));
		assert_int_equal(
		    agent_apply(f->a, buf, len, "usb.rkb", &o), RK_OK);
		expect_outcome(&o, AGENT_CURRENT, RK_OK, 4);
		free(buf);
	}
	st = state_of(f);
	assert_string_equal(st.etag, "\"e2\"");
	assert_string_equal(st.fetch_url, URL1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
}

/* Conditional GET: validators sent back, and only for accepted bytes. */
static void
test_validators(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);
	struct agent_outcome o;
	size_t n;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	/* A rejected 200 first: its etag is not kept. */
	s1.channel = "other";
	serve(f, 0, &s1, "\"bad\"");
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ECHANNEL, 1);
	assert_string_equal(state_of(f).etag, "");
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ECHANNEL, 1);
	assert_string_equal(f->fake.reqs[1].etag, "");
	assert_string_equal(f->fake.reqs[1].last_modified, "");

	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);

	/*
	 * 304: current, and the request carried the ETag the 200 gave, and
	 * only that: with an ETag, If-Modified-Since adds nothing.
	 */
	not_modified(f, 0, "\"e2\"");
	n = f->fake.nreqs;
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	assert_int_equal(f->fake.nreqs, n + 1);
	assert_string_equal(f->fake.reqs[n].etag, "\"e2\"");
	assert_string_equal(f->fake.reqs[n].last_modified, "");
	expect_event(f, 0, "current", 2);

	/* A stale 200 (v1) with another etag: rejected, etag not taken. */
	s1 = spec(f, 1);
	serve(f, 0, &s1, "\"e1\"");
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EROLLBACK, 1);
	assert_non_null(strstr(o.detail, "bundle v1 rejected: "));
	assert_string_equal(state_of(f).etag, "\"e2\"");
	assert_string_equal(state_of(f).last_check_result, "rejected");
	expect_event(f, 0, "rejected", 1);
	/* Mirror 1 is asked with the etag it gave for v2, then mirror 2
	 * (which never gave one) without. */
	n = f->fake.nreqs;
	o = check(f);
	assert_int_equal(f->fake.nreqs, n + 2);
	assert_string_equal(f->fake.reqs[n].url, URL1);
	assert_string_equal(f->fake.reqs[n].etag, "\"e2\"");
	assert_string_equal(f->fake.reqs[n + 1].url, URL2);
	assert_string_equal(f->fake.reqs[n + 1].etag, "");
	assert_int_equal(state_of(f).active_version, 2);
	EXPECT_SET(f, ROOT_A, ROOT_B);
}

/* An ETag of 600 bytes is kept whole and sent back whole. */
static void
test_long_etag(void **state)
{
	struct fx *f = *state;
	struct spec s2 = spec(f, 2);
	struct agent_outcome o;
	char etag[602];
	size_t n;

	memset(etag, 'e', sizeof(etag) - 1);
	etag[0] = etag[sizeof(etag) - 2] = '"';
	etag[sizeof(etag) - 1] = '\0';
	provision(f, NULL, (const int[]){ED1}, 1, 1);
	serve(f, 0, &s2, etag);
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	assert_string_equal(state_of(f).etag, etag);
	not_modified(f, 0, etag);
	n = f->fake.nreqs;
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	assert_string_equal(f->fake.reqs[n].etag, etag);
}

/*
 * A URL's password goes to the transport and nowhere else: not the
 * outcome, the events or the state; the validators still match the URL.
 */
static void
test_password_redacted(void **state)
{
	static const char real[] =
	    "http://admin:S3cret@mirror1.test/latest.rkb",
			  shown[] = "http://admin:***@mirror1.test/latest.rkb";
	struct fx *f = *state;
	struct spec s2 = spec(f, 2);
	struct store_event *ev = NULL;
	struct agent_outcome o;
	struct store *db;
	size_t n, i;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	free(f->cfg.urls[0]);
	assert_non_null(f->cfg.urls[0] = strdup(real));
	f->fake.routes[0].url = real;
	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	assert_string_equal(f->fake.reqs[0].url, real);
	assert_non_null(strstr(o.detail, shown));
	assert_string_equal(state_of(f).fetch_url, shown);

	not_modified(f, 0, "\"e2\"");
	n = f->fake.nreqs;
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	assert_string_equal(f->fake.reqs[n].etag, "\"e2\"");
	assert_non_null(strstr(o.detail, shown));

	fail_with(f, 0, RK_ENET);
	o = check(f);
	expect_outcome(&o, AGENT_ERROR, RK_ENET, 0);
	assert_non_null(strstr(o.detail, shown));
	assert_null(strstr(o.detail, "S3cret"));
	assert_null(strstr(state_of(f).last_check_detail, "S3cret"));

	db = peek(f);
	assert_int_equal(store_list_events(db, 1000, &ev, &n), RK_OK);
	store_close(db);
	for (i = 0; i < n; i++)
		if (strstr(ev[i].detail, "S3cret") != NULL)
			fail_msg("event %zu holds the password: %s", i,
			    ev[i].detail);
	free(ev);
}

/* Sets the stop flag, as SIGTERM would, and reports the cut transfer. */
static int
cancelled_get(void *arg, const struct fetch_req *req, struct fetch_res *res,
    struct rk_why *why)
{
	volatile int *stop = arg;

	memset(res, 0, sizeof(*res));
	*stop = 1;
	return rk_fail(why, RK_ENET, "%s: cancelled", req->url);
}

/* A check cut short by a stop request records no failure. */
static void
test_cancelled_check(void **state)
{
	static volatile int stop;
	struct fx *f = *state;
	struct spec s2 = spec(f, 2);
	struct store_state before, after;
	struct agent_outcome o;
	size_t events;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	update_to(f, &s2);
	before = state_of(f);
	events = event_count(f);
	stop = 0;
	agent_set_cancel(f->a, &stop);
	agent_set_transport(f->a, cancelled_get, (void *)(uintptr_t)&stop);
	o = check(f);
	expect_outcome(&o, AGENT_ERROR, RK_ENET, 0);
	assert_non_null(strstr(o.detail, "cancelled"));
	after = state_of(f);
	assert_string_equal(after.last_check_result, "updated");
	assert_int_equal(after.last_check_at, before.last_check_at);
	assert_int_equal(event_count(f), events);
}

/*
 * A 304 that carries no ETag (allowed when the server sends
 * Last-Modified only) must not make the agent forget the ETag it holds.
 */
static void
test_validators_304_without_etag(void **state)
{
	struct fx *f = *state;
	struct spec s2 = spec(f, 2);
	struct agent_outcome o;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	not_modified(f, 0, "");
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	assert_string_equal(f->fake.reqs[2].etag, "\"e2\"");
}

/*
 * A 304 to a request that asked nothing conditionally is a broken (or
 * hostile) mirror, not "nothing new": the next mirror is asked, and the
 * validators of another URL are not filed under this one.
 */
static void
test_304_unasked(void **state)
{
	struct fx *f = *state;
	struct spec s2 = spec(f, 2), s3 = spec(f, 3);
	struct store_state st;
	struct agent_outcome o;
	size_t n;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	serve(f, 1, &s2, "\"m2\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	not_modified(f, 0, "");
	serve(f, 1, &s3, "\"m3\"");
	n = f->fake.nreqs;
	o = check(f);
	assert_string_equal(f->fake.reqs[n].url, URL1);
	assert_string_equal(f->fake.reqs[n].etag, "");
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 3);
	st = state_of(f);
	assert_string_equal(st.fetch_url, URL2);
	assert_string_equal(st.etag, "\"m3\"");

	/* Only the bogus mirror answers: an error, not "current". */
	fail_with(f, 1, RK_ENET);
	o = check(f);
	expect_outcome(&o, AGENT_ERROR, RK_ENET, 0);
	assert_non_null(strstr(o.detail, URL1));
}

static void
test_equivocation(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);
	struct agent_outcome o;

	provision(f, &s1, (const int[]){ED1}, 1, 1);
	update_to(f, &s2);

	s2.note = "v2 again, with other bytes";
	serve(f, 0, &s2, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EEQUIV, 2);
	expect_event(f, 0, "equivocation", 2);
	assert_string_equal(state_of(f).last_check_result, "rejected");

	/* Other bytes under the stored v1: an equivocation too. */
	s1.note = "v1 again, with other bytes";
	serve(f, 0, &s1, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EEQUIV, 1);
	expect_event(f, 0, "equivocation", 1);
	/* The stored v1 itself: a plain rollback. */
	s1.note = NULL;
	serve(f, 0, &s1, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EROLLBACK, 1);
	expect_event(f, 0, "rejected", 1);
	assert_int_equal(state_of(f).active_version, 2);
	assert_int_equal(state_of(f).highest_version, 2);
}

static void
test_expired_and_oversize(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);
	struct agent_outcome o;

	provision(f, &s1, (const int[]){ED1}, 1, 1);
	/* Not a bundle at all. */
	serve_bytes(f, 0, (const uint8_t *)"RKB1", 4);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ETRUNC, 0);
	assert_non_null(strstr(o.detail, "bundle rejected: "));
	expect_event(f, 0, "rejected", 0);

	s2.issued_at = f->now - 60 * DAY;
	s2.expires_at = f->now - DAY;
	serve(f, 0, &s2, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EEXPIRED, 2);

	/* The transport stopped at the cap. */
	fail_with(f, 0, RK_ELIMIT);
	f->cfg.urls[1][0] = 'X'; /* only mirror 1 answers at all */
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ELIMIT, 0);
	expect_event(f, 0, "rejected", 0);
	f->cfg.urls[1][0] = 'h';

	/* Over the cap however it arrived: the policy's step 1. */
	s2 = spec(f, 2);
	serve(f, 0, &s2, NULL);
	f->cfg.max_bundle_size = f->fake.routes[0].len - 1;
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ELIMIT, 0);
	f->cfg.max_bundle_size = f->fake.routes[0].len;
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
}

static void
test_mirrors(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s3 = spec(f, 3), s4 = spec(f, 4);
	struct store_state st;
	struct agent_outcome o;
	size_t n;

	provision(f, &s1, (const int[]){ED1}, 1, 1);

	/* All fail: an error naming both. */
	o = check(f);
	expect_outcome(&o, AGENT_ERROR, RK_ENET, 0);
	assert_non_null(strstr(o.detail, URL1));
	assert_non_null(strstr(o.detail, URL2));
	assert_non_null(strstr(o.detail, "connection refused"));
	assert_int_equal(f->fake.nreqs, 2);
	expect_event(f, 0, "error", 0);
	st = state_of(f);
	assert_string_equal(st.last_check_result, "error");
	assert_true(st.last_check_at >= f->now);

	/* The first fails, the second serves v3. */
	serve(f, 1, &s3, "\"m2\"");
	n = f->fake.nreqs;
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 3);
	assert_int_equal(f->fake.nreqs, n + 2);
	assert_string_equal(f->fake.reqs[n].url, URL1);
	assert_string_equal(f->fake.reqs[n + 1].url, URL2);
	assert_non_null(strstr(o.detail, URL2));
	st = state_of(f);
	assert_string_equal(st.fetch_url, URL2);
	assert_string_equal(st.etag, "\"m2\"");

	/* The etag of mirror 2 is not sent to mirror 1. */
	serve(f, 0, &s1, "\"m1\""); /* stale: v1 */
	serve(f, 1, &s4, "\"m2-4\"");
	n = f->fake.nreqs;
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 4);
	assert_int_equal(f->fake.nreqs, n + 2);
	assert_string_equal(f->fake.reqs[n].etag, "");
	assert_string_equal(f->fake.reqs[n + 1].etag, "\"m2\"");
	expect_event(f, 0, "updated", 4);
	expect_event(f, 1, "rejected", 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);

	/* Mirror 1 over the cap, mirror 2 current. */
	fail_with(f, 0, RK_ELIMIT);
	n = f->fake.nreqs;
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 4);
	assert_int_equal(f->fake.nreqs, n + 2);

	/* Both refuse: the outcome is the (last) rejection. */
	serve(f, 1, &s1, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EROLLBACK, 1);

	/* An explicit URL replaces the mirrors. */
	n = f->fake.nreqs;
	assert_int_equal(agent_check(f->a, URL2, &o), RK_OK);
	expect_outcome(&o, AGENT_REJECTED, RK_EROLLBACK, 1);
	assert_int_equal(f->fake.nreqs, n + 1);
	assert_string_equal(f->fake.reqs[n].url, URL2);
	assert_int_equal(state_of(f).active_version, 4);
}

static void
test_rollback(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2), s3 = spec(f, 3),
		    s4 = spec(f, 4);
	struct store_state st;
	struct agent_outcome o;

	SET(s2, certs, ROOT_A);
	SET(s3, certs, ROOT_B);
	SET(s4, certs, ROOT_V1, ROOT_A);
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	update_to(f, &s2);
	update_to(f, &s3);
	EXPECT_SET(f, ROOT_B);

	memset(&o, 0x5a, sizeof(o));
	assert_int_equal(agent_rollback(f->a, 0, &o), RK_OK);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	st = state_of(f);
	assert_int_equal(st.active_version, 2);
	assert_int_equal(st.highest_version, 3);
	assert_true(version_of(f, 3).bad);
	assert_false(version_of(f, 2).bad);
	EXPECT_SET(f, ROOT_A);
	expect_event(f, 0, "rollback", 2);

	/* The next poll serving v3 does not re-apply it. */
	serve(f, 0, &s3, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 3);
	assert_int_equal(state_of(f).active_version, 2);
	EXPECT_SET(f, ROOT_A);

	/* A newer one is applied. */
	update_to(f, &s4);
	st = state_of(f);
	assert_int_equal(st.highest_version, 4);
	EXPECT_SET(f, ROOT_V1, ROOT_A);

	/* --to a version not stored. */
	refused_rollback(f, 99, AGENT_ERROR, RK_ENOENT, 99);
	assert_int_equal(state_of(f).active_version, 4);
	/* --to the active one. */
	assert_int_equal(agent_rollback(f->a, 4, &o), RK_OK);
	assert_int_equal(o.result, AGENT_CURRENT);

	/* Without --to, a version marked bad is skipped: 4 -> 2. */
	assert_int_equal(agent_rollback(f->a, 0, &o), RK_OK);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	assert_true(version_of(f, 4).bad);
	/* --to the factory; then nothing older is left. */
	assert_int_equal(agent_rollback(f->a, 1, &o), RK_OK);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	refused_rollback(f, 0, AGENT_ERROR, RK_ENOENT, 0);
	st = state_of(f);
	assert_int_equal(st.active_version, 1);
	assert_int_equal(st.highest_version, 4);
}

/* Rollback never goes to a version that has expired since. */
static void
test_rollback_expired(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);

	/* Expires in 2 s: valid for init, expired a moment later. */
	s1.expires_at = f->now + 2;
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	update_to(f, &s2);
	sleep(3);
	refused_rollback(f, 0, AGENT_REJECTED, RK_EEXPIRED, 1);
	assert_int_equal(state_of(f).active_version, 2);
	assert_false(version_of(f, 2).bad);
}

static void
test_retention(void **state)
{
	struct fx *f = *state;
	struct store_version *vs = NULL;
	struct spec s;
	struct store *db;
	size_t n = 0;
	uint64_t v;

	f->cfg.keep_versions = 2;
	s = spec(f, 1);
	provision(f, &s, (const int[]){ED1}, 1, 1);
	for (v = 2; v <= 5; v++) {
		s = spec(f, v);
		update_to(f, &s);
	}
	db = peek(f);
	assert_int_equal(store_list_versions(db, &vs, &n), RK_OK);
	store_close(db);
	assert_int_equal(n, 3);
	assert_int_equal(vs[0].version, 5);
	assert_int_equal(vs[1].version, 4);
	assert_int_equal(vs[2].version, 1);
	assert_true(vs[2].factory);
	free(vs);
}

static void
test_key_rotation(void **state)
{
	struct fx *f = *state;
	struct spec s = spec(f, 1);
	struct pubkey **keys = NULL;
	struct agent_outcome o;
	struct store *db;
	size_t n = 0;

	provision(f, &s, (const int[]){ED1}, 1, 1);

	/* Announces new keys without their signatures: refused. */
	s = spec(f, 2);
	SET(s, next, ED2, EC1);
	s.next_threshold = 2;
	SET(s, signers, ED1, ED2);
	serve(f, 0, &s, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ESIG, 2);
	assert_int_equal(state_of(f).threshold, 1);

	SET(s, signers, ED1, ED2, EC1);
	update_to(f, &s);
	db = peek(f);
	assert_int_equal(store_get_keys(db, &keys, &n), RK_OK);
	store_close(db);
	assert_int_equal(n, 2);
	assert_memory_equal(
	    pubkey_id(keys[0]), pubkey_id(f->p->pub[ED2]), CRYPTO_SHA256_LEN);
	assert_memory_equal(
	    pubkey_id(keys[1]), pubkey_id(f->p->pub[EC1]), CRYPTO_SHA256_LEN);
	pubkey_free(keys[0]);
	pubkey_free(keys[1]);
	free(keys);
	assert_int_equal(state_of(f).threshold, 2);

	/* The old key alone no longer counts. */
	s = spec(f, 3);
	serve(f, 0, &s, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ESIG, 0);
	/* One new key is below the new threshold. */
	SET(s, signers, ED1, ED2);
	serve(f, 0, &s, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ESIG, 0);
	/* The new keys alone do. */
	SET(s, signers, EC1, ED2);
	update_to(f, &s);
}

static void
test_persistent_distrust(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s3 = spec(f, 3), s4 = spec(f, 4),
		    s5 = spec(f, 5);
	struct store_distrust *d = NULL;
	struct agent_outcome o;
	struct store *db;
	size_t n = 0;

	SET(s3, certs, ROOT_B);
	SET(s4, certs, ROOT_A, ROOT_B);
	SET(s5, certs, ROOT_A, ROOT_V1);
	SET(s5, distrust, ROOT_B);
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	update_to(f, &s3);
	update_to(f, &s4);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	update_to(f, &s5);
	EXPECT_SET(f, ROOT_A, ROOT_V1);
	db = peek(f);
	assert_int_equal(store_get_distrust(db, &d, &n), RK_OK);
	store_close(db);
	assert_int_equal(n, 1);
	assert_memory_equal(
	    d[0].sha256, f->p->cert_sha[ROOT_B], CRYPTO_SHA256_LEN);
	assert_false(d[0].has_after);
	assert_int_equal(d[0].since_version, 5);
	free(d);

	/* Back to v4, which still lists B: B stays out. */
	assert_int_equal(agent_rollback(f->a, 0, &o), RK_OK);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 4);
	EXPECT_SET(f, ROOT_A);
	/* Back to v3, which is B alone: nothing left, refused. */
	refused_rollback(f, 3, AGENT_REJECTED, RK_EDISTRUST, 3);
	assert_int_equal(state_of(f).active_version, 4);
	EXPECT_SET(f, ROOT_A);

	/* A new version that lists B again: B stays out. */
	s1 = spec(f, 6);
	update_to(f, &s1);
	EXPECT_SET(f, ROOT_A);
	s1 = spec(f, 7);
	SET(s1, certs, ROOT_B);
	serve(f, 0, &s1, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EDISTRUST, 7);
	EXPECT_SET(f, ROOT_A);
}

static void
test_sync_export(void **state)
{
	struct fx *f = *state;
	struct spec s = spec(f, 1);
	struct rk_why why;
	uint8_t *buf;
	size_t len, events;
	int rewrote = -1;

	provision(f, &s, (const int[]){ED1}, 1, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	events = event_count(f);

	{
		struct stat sb;

		assert_int_equal(stat(f->pem, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0644);
	}

	/* In sync: nothing to do. */
	assert_int_equal(agent_sync_export(f->a, &rewrote, &why), RK_OK);
	assert_int_equal(rewrote, 0);
	assert_int_equal(event_count(f), events);

	/* Same length, one byte changed. */
	buf = fixture_read(f->pem, PEM_MAX, &len);
	buf[len / 2] ^= 1;
	assert_int_equal(fileio_write_atomic(f->pem, buf, len, 0644), RK_OK);
	assert_int_equal(agent_sync_export(f->a, &rewrote, &why), RK_OK);
	assert_int_equal(rewrote, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	expect_event(f, 0, "export", 0);
	assert_int_equal(event_count(f), events + 1);

	/* Longer: the set and something more. */
	buf[len / 2] ^= 1;
	assert_non_null(buf = realloc(buf, len + 1));
	buf[len] = '\n';
	assert_int_equal(
	    fileio_write_atomic(f->pem, buf, len + 1, 0644), RK_OK);
	assert_int_equal(agent_sync_export(f->a, &rewrote, &why), RK_OK);
	assert_int_equal(rewrote, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	/* Shorter. */
	assert_int_equal(fileio_write_atomic(f->pem, buf, 10, 0644), RK_OK);
	assert_int_equal(agent_sync_export(f->a, NULL, &why), RK_OK);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	free(buf);

	/* Removed. */
	assert_int_equal(unlink(f->pem), 0);
	assert_int_equal(agent_sync_export(f->a, &rewrote, &why), RK_OK);
	assert_int_equal(rewrote, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	expect_event(f, 0, "export", 0);
	assert_int_equal(event_count(f), events + 4);

	/* agent_export to another path writes the same bytes. */
	{
		char other[160];
		uint8_t *a, *b;
		size_t alen, blen;

		snprintf(other, sizeof(other), "%s/other.pem", f->dir);
		assert_int_equal(agent_export(f->a, other, &why), RK_OK);
		a = fixture_read(other, PEM_MAX, &alen);
		b = fixture_read(f->pem, PEM_MAX, &blen);
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
		free(a);
		free(b);
	}
}

/* Nothing active: nothing to export, nothing to repair. */
static void
test_sync_export_nothing_active(void **state)
{
	struct fx *f = *state;
	struct rk_why why;
	int rewrote = -1;

	provision(f, NULL, (const int[]){ED1}, 1, 1);
	assert_int_equal(agent_sync_export(f->a, &rewrote, &why), RK_OK);
	assert_int_equal(rewrote, 0);
	assert_int_equal(access(f->pem, F_OK), -1);
	assert_int_equal(agent_export(f->a, f->pem, &why), RK_ENOENT);
}

static void
test_open_missing(void **state)
{
	struct fx *f = *state;
	struct agent *a = NULL;

	assert_int_equal(
	    agent_open(&f->cfg, f->db, f->pem, &a, NULL), RK_ENOENT);
	assert_null(a);
	assert_int_equal(count_files(f->dir), 0);
}

/* Committed but not exported: still updated, and said so. */
static void
test_export_fails(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);
	struct agent_outcome o;
	char sub[96];
	int rewrote = 0;

	provision(f, &s1, (const int[]){ED1}, 1, 1);
	agent_close(f->a);
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	snprintf(f->pem, sizeof(f->pem), "%s/trust.pem", sub);
	assert_int_equal(
	    agent_open(&f->cfg, f->db, f->pem, &f->a, NULL), RK_OK);
	agent_set_transport(f->a, fake_get, &f->fake);
	serve(f, 0, &s2, NULL);
	o = check(f);
	assert_int_equal(o.result, AGENT_UPDATED);
	assert_int_equal(o.version, 2);
	assert_int_not_equal(o.err, RK_OK);
	assert_non_null(strstr(o.detail, "export failed"));
	assert_int_equal(state_of(f).active_version, 2);
	expect_event(f, 0, "error", 2);
	expect_event(f, 1, "updated", 2);

	/* The next command that writes repairs it. */
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(agent_sync_export(f->a, &rewrote, NULL), RK_OK);
	assert_int_equal(rewrote, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	assert_int_equal(unlink(f->pem), 0);
	assert_int_equal(rmdir(sub), 0);
}

/*
 * A fake hub for step 8: it presents a chain that ends at root `root`
 * with a leaf issued at leaf_nb, and answers a handshake the way a TLS
 * client with that trust set would: validated when the set holds the root
 * (and no partial distrust of it refuses the leaf), refused otherwise;
 * unreachable when down.
 */
/* ---- writers that race (DESIGN.md section 3, "Writers") ---- */

/*
 * Another process's write, forced between this agent's judgement of a
 * bundle and its commit: the probe step runs in between, so a fake
 * handshake that, on its first call, applies another bundle through a
 * second agent on the same store (as a sideload or a second daemon
 * would) and then answers "network failure" (which does not count).
 */
struct interloper {
	struct fx *f;
	uint8_t *buf; /* what the other writer applies */
	size_t len;
	int calls;
	struct agent_outcome o;
};

static int
interloper_tls(void *arg, const char *host, unsigned port,
    const struct tls_trust *trust, int timeout_s, struct tls_probe *out)
{
	struct interloper *in = arg;
	struct config cfg = in->f->cfg; /* shallow: no probes of its own */
	struct agent *other = NULL;

	(void)host;
	(void)port;
	(void)trust;
	(void)timeout_s;
	if (in->calls++ == 0) {
		cfg.n_probes = 0;
		assert_int_equal(
		    agent_open(&cfg, in->f->db, in->f->pem, &other, NULL),
		    RK_OK);
		assert_int_equal(agent_apply(other, in->buf, in->len,
				     "the other writer", &in->o),
		    RK_OK);
		agent_close(other);
	}
	memset(out, 0, sizeof(*out));
	out->result = TLS_PROBE_NET;
	snprintf(out->detail, sizeof(out->detail), "refused");
	return RK_OK;
}

/* Provisions v1 with a probe target whose handshake lets other in. */
static void
race_setup(struct fx *f, struct interloper *in, const struct spec *other)
{
	struct spec s1 = spec(f, 1);

	memset(in, 0, sizeof(*in));
	in->f = f;
	in->buf = fixture_make(f->p, other, &in->len);
	f->cfg.probes[0] = strdup("hub.test:8883");
	f->cfg.n_probes = 1;
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	agent_set_tls(f->a, interloper_tls, in);
}

/*
 * The race: a check that fetches mine (etag may be NULL) while another
 * writer applies other in the middle of it, which must be UPDATED to
 * other's version.  The check's outcome; in->calls stays for a look.
 */
static struct agent_outcome
race(struct fx *f, struct interloper *in, const struct spec *other,
    const struct spec *mine, const char *etag)
{
	struct agent_outcome o;

	race_setup(f, in, other);
	serve(f, 0, mine, etag);
	o = check(f);
	expect_outcome(&in->o, AGENT_UPDATED, RK_OK, other->version);
	free(in->buf);
	in->buf = NULL;
	return o;
}

/*
 * apply v8 while another writer applies v9: v8 was judged above v1, but
 * by its commit v9 is the highest.  Before, the last commit won (active
 * 8, highest 8: a rollback window); now v8 is judged again and refused.
 */
static void
test_race_rollback(void **state)
{
	struct fx *f = *state;
	struct spec s8 = spec(f, 8), s9 = spec(f, 9);
	struct interloper in;
	struct store_state st;
	struct agent_outcome o;

	o = race(f, &in, &s9, &s8, "\"e8\"");
	assert_int_equal(in.calls, 1);
	expect_outcome(&o, AGENT_REJECTED, RK_EROLLBACK, 8);
	st = state_of(f);
	assert_int_equal(st.active_version, 9);
	assert_int_equal(st.highest_version, 9);
	/* Refused bytes leave no validator behind (they are re-read). */
	assert_string_equal(st.etag, "");
	expect_event(f, 0, "rejected", 8);
	EXPECT_SET(f, ROOT_A, ROOT_B);
}

/*
 * Two writers with the same new version: one stores it, the other finds
 * it verified by then and says "current" (not "already exists").
 */
static void
test_race_same_version(void **state)
{
	struct fx *f = *state;
	struct spec s20 = spec(f, 20);
	struct interloper in;
	struct store_state st;
	struct agent_outcome o;

	o = race(f, &in, &s20, &s20, "\"e20\"");
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 20);
	st = state_of(f);
	assert_int_equal(st.active_version, 20);
	assert_int_equal(st.highest_version, 20);
	assert_string_equal(st.last_check_result, "current");
	/* The bytes were accepted: their validator is kept. */
	assert_string_equal(st.etag, "\"e20\"");
	expect_event(f, 0, "current", 20);
}

/*
 * A bundle signed only by a key that a concurrent rotation retires: it
 * was judged under the old keys, and is refused under the new ones.
 */
static void
test_race_rotation(void **state)
{
	struct fx *f = *state;
	struct spec s2 = spec(f, 2), s3 = spec(f, 3);
	struct interloper in;
	struct agent_outcome o;

	SET(s2, next, ED2);
	s2.next_threshold = 1;
	SET(s2, signers, ED1, ED2);
	o = race(f, &in, &s2, &s3, NULL); /* s3: signed by ED1 alone */
	expect_outcome(&o, AGENT_REJECTED, RK_ESIG, 0);
	assert_int_equal(state_of(f).active_version, 2);
	assert_int_equal(state_of(f).highest_version, 2);
}

/*
 * The distrust list too: another writer's bundle distrusts every root of
 * this one before it commits.
 */
static void
test_race_distrust(void **state)
{
	struct fx *f = *state;
	struct spec s2 = spec(f, 2), s3 = spec(f, 3);
	struct interloper in;
	struct agent_outcome o;

	SET(s2, certs, ROOT_V1);
	SET(s2, distrust, ROOT_A, ROOT_B);
	o = race(f, &in, &s2, &s3, NULL); /* {A, B} */
	expect_outcome(&o, AGENT_REJECTED, RK_EDISTRUST, 3);
	assert_int_equal(state_of(f).active_version, 2);
	EXPECT_SET(f, ROOT_V1);
}

/*
 * The distrust entries in force too: another writer lifts A before this
 * bundle, which distrusts A again, commits; the change recorded is the
 * one from the state it commits to (lifted -> never), not the one it was
 * first judged on (never -> never, no change at all).
 */
static void
test_race_distrust_in_force(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2), s3 = spec(f, 3);
	struct store_distrust *d = NULL;
	struct store_event *ev = NULL;
	struct interloper in;
	struct agent_outcome o;
	struct store *s;
	size_t n = 0, nev = 0;

	memset(&in, 0, sizeof(in));
	in.f = f;
	SET(s2, certs, ROOT_A, ROOT_B);
	SET(s2, lift, ROOT_A);
	in.buf = fixture_make(f->p, &s2, &in.len);
	f->cfg.probes[0] = strdup("hub.test:8883");
	f->cfg.n_probes = 1;
	SET(s1, certs, ROOT_B);
	SET(s1, distrust, ROOT_A);
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	agent_set_tls(f->a, interloper_tls, &in);
	SET(s3, certs, ROOT_B);
	SET(s3, distrust, ROOT_A);
	serve(f, 0, &s3, NULL);
	o = check(f);
	expect_outcome(&in.o, AGENT_UPDATED, RK_OK, 2);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 3);
	expect_event(f, 0, "updated", 3);
	expect_event(f, 1, "distrust", 3);
	expect_event(f, 2, "updated", 2);
	expect_event(f, 3, "distrust", 2);
	s = peek(f);
	assert_int_equal(store_get_distrust(s, &d, &n), RK_OK);
	assert_int_equal(store_list_events(s, 2, &ev, &nev), RK_OK);
	store_close(s);
	assert_int_equal(nev, 2);
	assert_non_null(
	    strstr(ev[1].detail, "moved from lifted to never trusted by v3"));
	free(ev);
	assert_int_equal(n, 1);
	assert_false(d[0].lifted);
	assert_false(d[0].has_after);
	assert_int_equal(d[0].since_version, 3);
	free(d);
	EXPECT_SET(f, ROOT_B);
	free(in.buf);
}

/*
 * A newer version than the other writer's commits, and the highest
 * version is the newest of the two whichever commits last.
 */
static void
test_race_newer_wins(void **state)
{
	struct fx *f = *state;
	struct spec s11 = spec(f, 11), s12 = spec(f, 12);
	struct interloper in;
	struct agent_outcome o;

	o = race(f, &in, &s11, &s12, "\"e12\"");
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 12);
	assert_int_equal(state_of(f).active_version, 12);
	assert_int_equal(state_of(f).highest_version, 12);
}

/*
 * init builds the store under a temporary name and renames it into place
 * complete; what a killed init left there is removed by the next one.
 */
static void
test_init_leftovers(void **state)
{
	struct fx *f = *state;
	struct spec s = spec(f, 1);
	char tmp[160], side[176];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.init-tmp", f->db);
	snprintf(side, sizeof(side), "%s-wal", tmp);
	assert_non_null(fp = fopen(tmp, "w"));
	fputs("half a store", fp);
	fclose(fp);
	assert_non_null(fp = fopen(side, "w"));
	fclose(fp);
	provision(f, &s, (const int[]){ED1}, 1, 1);
	assert_int_equal(state_of(f).active_version, 1);
	EXPECT_SET(f, ROOT_A, ROOT_B);
	/* The store, its export, and no temporary file (nor a WAL of it). */
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(access(side, F_OK), -1);
}

/*
 * An init killed after its rename left a complete store (and perhaps no
 * export): the same init again succeeds and writes the export; any other
 * provisioning is refused and changes nothing.
 */
static void
test_init_retried(void **state)
{
	struct fx *f = *state;
	struct spec s = spec(f, 1), other = spec(f, 2);
	struct pubkey *ed1[1] = {f->p->pub[ED1]}, *ed2[1] = {f->p->pub[ED2]};
	struct agent_outcome o;
	uint8_t *buf, *buf2;
	size_t len, len2;

	provision(f, &s, (const int[]){ED1}, 1, 1);
	buf = fixture_make(f->p, &s, &len);
	buf2 = fixture_make(f->p, &other, &len2);
	assert_int_equal(unlink(f->pem), 0);
	assert_int_equal(
	    agent_init(&f->cfg, f->db, f->pem, ed1, 1, 1, "test", buf, len, &o),
	    RK_OK);
	assert_int_equal(o.result, AGENT_CURRENT);
	assert_non_null(strstr(o.detail, "already provisioned"));
	EXPECT_SET(f, ROOT_A, ROOT_B);
	assert_int_equal(
	    agent_init(&f->cfg, f->db, f->pem, ed2, 1, 1, "test", buf, len, &o),
	    RK_EEXIST);
	assert_int_equal(
	    agent_init(&f->cfg, f->db, f->pem, ed1, 1, 1, "prod", buf, len, &o),
	    RK_EEXIST);
	assert_int_equal(agent_init(&f->cfg, f->db, f->pem, ed1, 1, 1, "test",
			     buf2, len2, &o),
	    RK_EEXIST);
	assert_int_equal(
	    agent_init(&f->cfg, f->db, f->pem, ed1, 1, 1, "test", NULL, 0, &o),
	    RK_EEXIST);
	assert_int_equal(o.result, AGENT_ERROR);
	assert_non_null(strstr(o.detail, "a store is already there"));
	assert_int_equal(state_of(f).active_version, 1);
	free(buf);
	free(buf2);
}

/* A bundle issued years ahead of a sane clock: refused, floor unmoved. */
static void
test_issued_in_future(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2), s3 = spec(f, 3);
	struct agent_outcome o;

	provision(f, &s1, (const int[]){ED1}, 1, 1);
	s2.issued_at = 3786912000; /* 2090-01-01 */
	s2.expires_at = s2.issued_at + 30 * DAY;
	serve(f, 0, &s2, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EFUTURE, 2);
	assert_non_null(strstr(o.detail, "issued in the future"));
	assert_int_equal(state_of(f).time_floor, s1.issued_at);
	/* And later bundles are not "expired" because of it. */
	update_to(f, &s3);
}

/* ---- probes ---- */

struct hub_fake {
	const struct pki *p;
	int root;
	int64_t leaf_nb;
	int down;
	int rc; /* what the handshake function itself returns */
	int calls;
	char host[64];
	unsigned port;
};

static int
hub_fake(void *arg, const char *host, unsigned port,
    const struct tls_trust *trust, int timeout_s, struct tls_probe *out)
{
	struct hub_fake *h = arg;
	const uint8_t *sha = h->p->cert_sha[h->root];
	uint8_t d[CRYPTO_SHA256_LEN];
	size_t i;
	int found = 0;

	(void)timeout_s;
	h->calls++;
	snprintf(h->host, sizeof(h->host), "%s", host);
	h->port = port;
	if (h->rc != RK_OK)
		return h->rc;
	memset(out, 0, sizeof(*out));
	if (h->down) {
		out->result = TLS_PROBE_NET;
		snprintf(out->detail, sizeof(out->detail), "refused");
		return RK_OK;
	}
	for (i = 0; i < trust->n; i++) {
		assert_int_equal(
		    crypto_sha256(trust->der[i], trust->len[i], NULL, 0, d),
		    RK_OK);
		found |= memcmp(d, sha, CRYPTO_SHA256_LEN) == 0;
	}
	for (i = 0; found && i < trust->n_after; i++)
		if (memcmp(trust->after[i].sha256, sha, CRYPTO_SHA256_LEN) ==
			0 &&
		    h->leaf_nb > trust->after[i].after)
			found = 0;
	out->result = found ? TLS_PROBE_OK : TLS_PROBE_CERT;
	out->have_leaf = 1;
	out->leaf_not_before = h->leaf_nb;
	if (found) {
		memcpy(out->root.sha256, sha, CRYPTO_SHA256_LEN);
		snprintf(out->root.subject, sizeof(out->root.subject),
		    "/CN=root %d", h->root);
		out->root.not_after = 4102444800;
	} else {
		snprintf(out->detail, sizeof(out->detail), "no signer");
	}
	return RK_OK;
}

static void
test_probes(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2), s2b = spec(f, 2),
		    s3 = spec(f, 3), s4 = spec(f, 4);
	struct hub_fake hub;
	struct agent_outcome o;
	struct store_probe *ps = NULL;
	struct store *ro;
	size_t n = 0;
	int calls;

	memset(&hub, 0, sizeof(hub));
	hub.p = f->p;
	hub.root = ROOT_V1;
	hub.leaf_nb = f->now - DAY;
	f->cfg.probes[0] = strdup("hub.test:8883");
	f->cfg.n_probes = 1;
	SET(s1, certs, ROOT_A, ROOT_B, ROOT_V1);
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	agent_set_tls(f->a, hub_fake, &hub);

	/* v2 drops the hub's root without distrusting it: lockout. */
	SET(s2, certs, ROOT_A, ROOT_B);
	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EPROBE, 2);
	assert_non_null(strstr(o.detail, "bundle v2"));
	assert_non_null(strstr(o.detail, "hub.test:8883"));
	assert_string_equal(hub.host, "hub.test");
	assert_int_equal(hub.port, 8883);
	assert_int_equal(hub.calls, 2); /* active, then candidate */
	assert_int_equal(state_of(f).active_version, 1);
	assert_int_equal(state_of(f).highest_version, 1);
	assert_string_equal(state_of(f).etag, "");
	expect_event(f, 0, "rejected", 2);
	EXPECT_SET(f, ROOT_A, ROOT_B, ROOT_V1);

	/* The handshake cannot be tried: an error, not a verdict. */
	hub.rc = RK_ENOMEM;
	o = check(f);
	expect_outcome(&o, AGENT_ERROR, RK_ENOMEM, 2);
	assert_int_equal(state_of(f).active_version, 1);
	hub.rc = RK_OK;

	/* Distrusting the hub's root outright: revocation beats
	 * availability, noted in the outcome and the event. */
	SET(s2b, certs, ROOT_A, ROOT_B);
	SET(s2b, distrust, ROOT_V1);
	serve(f, 0, &s2b, "\"e2b\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	assert_non_null(strstr(o.detail, "revocation beats availability"));
	expect_event(f, 0, "updated", 2);
	EXPECT_SET(f, ROOT_A, ROOT_B);

	/* Once the hub moved to B: a bundle without B is refused... */
	hub.root = ROOT_B;
	SET(s3, certs, ROOT_A);
	serve(f, 0, &s3, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_EPROBE, 3);
	/* ...unless the hub is unreachable: network failures do not count. */
	hub.down = 1;
	calls = hub.calls;
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 3);
	assert_int_equal(hub.calls, calls + 1); /* the active run only */
	hub.down = 0;

	/* No probing for what the policy already refused or knows. */
	calls = hub.calls;
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 3);
	s4.channel = "other";
	serve(f, 0, &s4, NULL);
	o = check(f);
	expect_outcome(&o, AGENT_REJECTED, RK_ECHANNEL, 4);
	assert_int_equal(hub.calls, calls);

	/* For status: what the hub depends on under the active set {A}. */
	hub.root = ROOT_A;
	assert_int_equal(agent_refresh_probes(f->a, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_open(f->db, STORE_RO, &ro, NULL), RK_OK);
	assert_int_equal(store_list_probes(ro, &ps, &n), RK_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].target, "hub.test:8883");
	assert_int_equal(ps[0].result, 0);
	assert_memory_equal(
	    ps[0].root_sha256, f->p->cert_sha[ROOT_A], CRYPTO_SHA256_LEN);
	assert_int_equal(ps[0].alternative, 0); /* A is the only root */
	free(ps);
	store_close(ro);
}

static void
test_probe_targets(void **state)
{
	struct fx *f = *state;
	char *t[AGENT_MAX_TARGETS];
	size_t n, i;

	f->cfg.probes[0] = strdup("hub.test:8883");
	f->cfg.probes[1] = strdup("updates.test:443");
	f->cfg.n_probes = 2;
	free(f->cfg.urls[0]); /* the fixture's mirrors */
	free(f->cfg.urls[1]);
	f->cfg.urls[0] = strdup("https://updates.test/ch/latest.rkb");
	f->cfg.urls[1] = strdup("https://user@[::1]:8443/x");
	f->cfg.urls[2] = strdup("http://plain.test/x");
	f->cfg.urls[3] = strdup("https://mirror.test:9443");
	f->cfg.n_urls = 4;
	n = agent_probe_targets(&f->cfg, t, AGENT_MAX_TARGETS);
	assert_int_equal(n, 4);
	assert_string_equal(t[0], "hub.test:8883");
	assert_string_equal(t[1], "updates.test:443"); /* once only */
	assert_string_equal(t[2], "[::1]:8443");
	assert_string_equal(t[3], "mirror.test:9443");
	for (i = 0; i < n; i++)
		free(t[i]);
}

/*
 * The census User-Agent: state and the hashed id, never the raw id; with
 * census = no, the version alone.
 */
static void
test_census_user_agent(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2);
	struct agent_outcome o;

	memcpy(f->cfg.device_id, "0123456789abcdef0123456789abcdef", 33);
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
	/* python3: sha256(b"rootkeeper census\0test\0" + id)[:16] */
	assert_string_equal(f->fake.reqs[0].user_agent,
	    "rootkeeper/" RK_VERSION_STRING
	    " (channel=test; active=1; highest=1; id=6c07e95045ddf886)");
	o = check(f);
	assert_string_equal(f->fake.reqs[1].user_agent,
	    "rootkeeper/" RK_VERSION_STRING
	    " (channel=test; active=2; highest=2; id=6c07e95045ddf886)");
	assert_null(strstr(f->fake.reqs[1].user_agent, f->cfg.device_id));
	f->cfg.census = 0;
	o = check(f);
	assert_string_equal(
	    f->fake.reqs[2].user_agent, "rootkeeper/" RK_VERSION_STRING);
}

/*
 * A rollout that leaves the device out: verified, not activated, nothing
 * raised, validators kept; the 304 after it and the census say so; a
 * later version ends it; a sideload ignores it.
 */
static void
test_rollout_deferred(void **state)
{
	struct fx *f = *state;
	struct spec s1 = spec(f, 1), s2 = spec(f, 2), s3 = spec(f, 3);
	struct store_state st;
	struct agent_outcome o;
	struct rollout r;
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.percent = 10;
	memcpy(r.seed, "wave", 5);
	for (i = 0;; i++) {
		snprintf(
		    f->cfg.device_id, sizeof(f->cfg.device_id), "dev-%u", i);
		if (!policy_rollout_takes(&r, f->cfg.device_id))
			break;
	}
	provision(f, &s1, (const int[]){ED1}, 1, 1);
	s2.rollout_percent = 10;
	s2.rollout_seed = "wave";
	SET(s2, certs, ROOT_A);
	serve(f, 0, &s2, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 2);
	assert_non_null(strstr(o.detail, "deferred v2 (rollout 10%)"));
	expect_event(f, 0, "deferred", 2);
	st = state_of(f);
	assert_int_equal(st.active_version, 1);
	assert_int_equal(st.highest_version, 1);
	assert_int_equal(st.time_floor, s1.issued_at);
	assert_int_equal(st.deferred_version, 2);
	assert_int_equal(st.deferred_percent, 10);
	assert_string_equal(st.etag, "\"e2\"");
	EXPECT_SET(f, ROOT_A, ROOT_B);

	/* The next poll sends the validators; the 304 says still deferred. */
	not_modified(f, 0, "\"e2\"");
	o = check(f);
	expect_outcome(&o, AGENT_CURRENT, RK_OK, 1);
	assert_string_equal(f->fake.reqs[1].etag, "\"e2\"");
	assert_non_null(strstr(o.detail, "still deferred v2 (rollout 10%)"));
	assert_non_null(strstr(f->fake.reqs[1].user_agent, "; deferred=2)"));
	assert_null(strstr(f->fake.reqs[0].user_agent, "deferred"));

	/* A sideload of it ignores the rollout. */
	{
		uint8_t *buf;
		size_t len;

		buf = fixture_make(f->p, &s2, &len);
		assert_int_equal(
		    agent_apply(f->a, buf, len, "usb.rkb", &o), RK_OK);
		expect_outcome(&o, AGENT_UPDATED, RK_OK, 2);
		free(buf);
	}
	st = state_of(f);
	assert_int_equal(st.active_version, 2);
	assert_int_equal(st.deferred_version, 0);
	EXPECT_SET(f, ROOT_A);

	/* At 100% (and without a rollout) everyone takes it. */
	s3.rollout_percent = 100;
	s3.rollout_seed = "wave";
	serve(f, 0, &s3, "\"e3\"");
	o = check(f);
	expect_outcome(&o, AGENT_UPDATED, RK_OK, 3);
	assert_null(strstr(f->fake.reqs[2].user_agent, "deferred"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_init_factory),
	    T(test_init_bare_then_check),
	    T(test_init_invalid_factory),
	    T(test_check_updates),
	    T(test_validators),
	    T(test_long_etag),
	    T(test_password_redacted),
	    T(test_cancelled_check),
	    T(test_validators_304_without_etag),
	    T(test_304_unasked),
	    T(test_equivocation),
	    T(test_expired_and_oversize),
	    T(test_mirrors),
	    T(test_rollback),
	    T(test_rollback_expired),
	    T(test_retention),
	    T(test_key_rotation),
	    T(test_persistent_distrust),
	    T(test_sync_export),
	    T(test_sync_export_nothing_active),
	    T(test_open_missing),
	    T(test_export_fails),
	    T(test_probes),
	    T(test_race_rollback),
	    T(test_race_same_version),
	    T(test_race_rotation),
	    T(test_race_distrust),
	    T(test_race_newer_wins),
	    T(test_race_distrust_in_force),
	    T(test_init_leftovers),
	    T(test_init_retried),
	    T(test_issued_in_future),
	    T(test_probe_targets),
	    T(test_census_user_agent),
	    T(test_rollout_deferred),
	};

	return cmocka_run_group_tests_name(
	    "agent", tests, fixture_pki_setup, fixture_pki_teardown);
}
