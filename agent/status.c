/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Health of the device (see status.h).  Every reason found is kept, the
 * most severe first; the level is the worst of them.
 */
#include "status.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "jsonw.h"
#include "manifest.h"
#include "pollstate.h"
#include "rfc3339.h"
#include "strcopy.h"
#include "trustset.h"

const char *
status_level_name(enum status_level l)
{
	switch (l) {
	case STATUS_OK:
		return "ok";
	case STATUS_WARNING:
		return "warning";
	case STATUS_CRITICAL:
		return "critical";
	case STATUS_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

static void reason(struct status *s, enum status_level l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void vreason(struct status *s, enum status_level l, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void
vreason(struct status *s, enum status_level l, const char *fmt, va_list ap)
{
	struct status_reason *r;
	size_t at;

	/* unknown outranks the others: nothing else can be said then */
	if (l == STATUS_UNKNOWN || (s->level != STATUS_UNKNOWN && l > s->level))
		s->level = l;
	if (s->n_reasons == s->cap_reasons) {
		size_t ncap = s->cap_reasons ? s->cap_reasons * 2 : 16;

		r = reallocarray(s->reasons, ncap, sizeof(*r));
		if (r == NULL) {
			s->n_lost++;
			return;
		}
		s->reasons = r;
		s->cap_reasons = ncap;
	}
	/* After every reason at least as severe: stable, worst first. */
	for (at = s->n_reasons; at > 0 && s->reasons[at - 1].level < l; at--)
		;
	memmove(&s->reasons[at + 1], &s->reasons[at],
	    (s->n_reasons - at) * sizeof(s->reasons[0]));
	s->n_reasons++;
	s->reasons[at].level = l;
	vsnprintf(s->reasons[at].text, sizeof(s->reasons[at].text), fmt, ap);
}

static void
reason(struct status *s, enum status_level l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreason(s, l, fmt, ap);
	va_end(ap);
}

void
status_cannot_judge(struct status *s, const char *db, const char *fmt, ...)
{
	va_list ap;

	memset(s, 0, sizeof(*s));
	s->db_path = db != NULL ? db : "";
	va_start(ap, fmt);
	vreason(s, STATUS_UNKNOWN, fmt, ap);
	va_end(ap);
	s->level = STATUS_UNKNOWN;
}

/* "in 12 days", "3 hours ago" */
static void
fmt_rel(int64_t t, int64_t now, char *out, size_t n)
{
	int64_t d = t - now, a = d < 0 ? -d : d;
	const char *unit = "seconds";
	int64_t v = a;

	if (a >= 2 * 86400)
		v = a / 86400, unit = "days";
	else if (a >= 2 * 3600)
		v = a / 3600, unit = "hours";
	else if (a >= 120)
		v = a / 60, unit = "minutes";
	if (a < 60)
		snprintf(out, n, "just now");
	else if (d > 0)
		snprintf(out, n, "in %" PRId64 " %s", v, unit);
	else
		snprintf(out, n, "%" PRId64 " %s ago", v, unit);
}

/*
 * Does the poll file vouch for the export: the file the agent last found
 * (or wrote) holding the active version's set, untouched since?
 */
static int
export_vouched(const struct status *s, const struct pollstate *ps)
{
	return pollstate_export_unchanged(
	    ps, s->st.active_version, s->active.sha256, s->export_path);
}

static void
look_at_certs(struct status *s, struct store *store, int vouched)
{
	struct trustset ts;
	char t[RFC3339_LEN + 1], rel[48];
	size_t i;

	if (trustset_load(store, s->st.active_version, &ts) != RK_OK) {
		reason(s, STATUS_UNKNOWN, "cannot read the active set");
		return;
	}
	s->n_trusted = ts.n;
	s->expiring = calloc(ts.n + 1, sizeof(*s->expiring));
	for (i = 0; i < ts.n; i++) {
		const struct store_cert *c = ts.trusted[i];

		if (c->not_after > s->judge)
			s->n_unexpired++;
		if (c->not_after > s->judge + STATUS_SOON ||
		    s->expiring == NULL)
			continue;
		struct status_cert *e = &s->expiring[s->n_expiring++];

		str_copy(e->subject, sizeof(e->subject), c->subject);
		memcpy(e->sha256, c->sha256, CRYPTO_SHA256_LEN);
		e->not_after = c->not_after;
	}
	for (i = 0; i < s->n_expiring; i++) {
		rfc3339_show_opt(s->expiring[i].not_after, t);
		fmt_rel(s->expiring[i].not_after, s->judge, rel, sizeof(rel));
		reason(s, STATUS_WARNING, "root %s %s on %s (%s)",
		    s->expiring[i].subject,
		    s->expiring[i].not_after > s->judge ? "expires" : "expired",
		    t, rel);
	}
	if (s->n_unexpired == 0)
		reason(s, STATUS_CRITICAL,
		    "no unexpired root left in the active set");
	/* The export must be exactly the active set. */
	if (s->export_path[0] != '\0' && !vouched) {
		char *pem = NULL;
		uint8_t *cur = NULL;
		size_t len = 0, cur_len = 0;

		if (trustset_pem(&ts, &pem, &len) == RK_OK) {
			int rc = fileio_read(
			    s->export_path, len + 1, &cur, &cur_len);

			s->export_stale = rc != RK_OK || cur_len != len ||
					  memcmp(cur, pem, len) != 0;
			if (s->export_stale)
				reason(s, STATUS_WARNING,
				    "stale export: %s is not the active set "
				    "(the next check or `rootkeeper export` "
				    "rewrites it)",
				    s->export_path);
		}
		free(pem);
		free(cur);
	}
	trustset_free(&ts);
}

static const char *
probe_result_name(enum store_probe_result r)
{
	switch (r) {
	case STORE_PROBE_OK:
		return "ok";
	case STORE_PROBE_CERT:
		return "cert";
	case STORE_PROBE_NET:
		break;
	}
	return "net";
}

/* What the last probes said, for the configured targets only. */
static void
look_at_probes(struct status *s, struct store *store, char *const *targets,
    size_t n_targets)
{
	struct store_probe *all = NULL;
	char t[RFC3339_LEN + 1], rel[48];
	size_t n = 0, i, j;

	if (n_targets == 0 || store_list_probes(store, &all, &n) != RK_OK)
		return;
	if ((s->probes = calloc(n + 1, sizeof(*s->probes))) == NULL) {
		free(all);
		return;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n_targets; j++)
			if (strcmp(all[i].target, targets[j]) == 0)
				break;
		if (j == n_targets)
			continue;
		s->probes[s->n_probes++] = all[i];
		if (all[i].result == STORE_PROBE_CERT)
			reason(s, STATUS_WARNING,
			    "%s fails certificate validation under the active "
			    "set: %s",
			    all[i].target, all[i].detail);
		if (all[i].result == STORE_PROBE_OK && !all[i].alternative &&
		    all[i].root_not_after <= s->judge + STATUS_SOON) {
			rfc3339_show_opt(all[i].root_not_after, t);
			fmt_rel(
			    all[i].root_not_after, s->judge, rel, sizeof(rel));
			reason(s, STATUS_WARNING,
			    "%s depends on %s, which expires on %s (%s), and "
			    "no other root of the active set validates it",
			    all[i].target, all[i].root_subject, t, rel);
		}
	}
	free(all);
}

void
status_collect(const char *db, const char *export_path, char *const *targets,
    size_t n_targets, int64_t now, struct status *s)
{
	struct store *store = NULL;
	struct pubkey **keys = NULL;
	struct pollstate ps;
	struct rk_why why = {""};
	int have_ps = 0;
	char t[RFC3339_LEN + 1];
	size_t nkeys = 0, i;
	int rc;

	memset(s, 0, sizeof(*s));
	s->db_path = db;
	s->now = now;
	s->judge = now;
	str_copy(s->export_path, sizeof(s->export_path), export_path);
	rc = store_open(db, STORE_RO, &store, &why);
	if (rc == RK_ENOENT) {
		reason(s, STATUS_CRITICAL,
		    "no store at %s (run `rootkeeper "
		    "init`)",
		    db);
		return;
	}
	if (rc != RK_OK || store_get_state(store, &s->st) != RK_OK) {
		reason(s, STATUS_UNKNOWN, "cannot read the store %s: %s", db,
		    why.msg[0] ? why.msg : rk_strerror(rc));
		store_close(store);
		return;
	}
	s->have_state = 1;
	/*
	 * An unchanged poll writes only the poll file (pollstate.h): its
	 * last check counts when it is newer than the store's.
	 */
	if ((have_ps = pollstate_read(db, &ps) == RK_OK)) {
		if (ps.last_check_at > s->st.last_check_at) {
			s->st.last_check_at = ps.last_check_at;
			str_copy(s->st.last_check_result,
			    sizeof(s->st.last_check_result), "current");
			str_copy(s->st.last_check_detail,
			    sizeof(s->st.last_check_detail), ps.detail);
		}
		/* The daemon writes the next check only there. */
		if (ps.next_check_at > 0)
			s->st.next_check_at = ps.next_check_at;
	}
	/* As the policy does: a clock behind the floor does not hide expiry. */
	if (s->st.time_floor > s->judge)
		s->judge = s->st.time_floor;
	if (store_get_keys(store, &keys, &nkeys) == RK_OK) {
		s->key_ids = calloc(nkeys + 1, sizeof(*s->key_ids));
		for (i = 0; s->key_ids != NULL && i < nkeys; i++)
			hex_encode(pubkey_id(keys[i]), CRYPTO_SHA256_LEN,
			    s->key_ids[s->n_keys++]);
		for (i = 0; i < nkeys; i++)
			pubkey_free(keys[i]);
		free(keys);
	}
	if (s->st.active_version == 0) {
		reason(s, STATUS_CRITICAL,
		    "no active trust set (no bundle applied yet)");
	} else if (store_get_version(store, s->st.active_version, &s->active) !=
		   RK_OK) {
		reason(s, STATUS_UNKNOWN, "cannot read the active version");
	} else {
		s->have_active = 1;
		if (s->active.expires_at <= s->judge) {
			rfc3339_show_opt(s->active.expires_at, t);
			reason(s, STATUS_WARNING,
			    "bundle v%" PRIu64 " expired at %s: no fresh "
			    "bundle since",
			    s->active.version, t);
		}
		look_at_certs(s, store, have_ps && export_vouched(s, &ps));
	}
	look_at_probes(s, store, targets, n_targets);
	/* Harmless to the set, but they hold disk space until removed. */
	if (s->export_path[0] != '\0' &&
	    (s->n_stale_temps = fileio_count_stale_temps(s->export_path)) > 0)
		reason(s, STATUS_OK,
		    "%zu temporary file%s of a killed writer beside %s (the "
		    "next check, apply, rollback or export removes them)",
		    s->n_stale_temps, s->n_stale_temps == 1 ? "" : "s",
		    s->export_path);
	if (strcmp(s->st.last_check_result, "error") == 0 ||
	    strcmp(s->st.last_check_result, "rejected") == 0)
		reason(s, STATUS_WARNING, "last check %s: %s",
		    s->st.last_check_result, s->st.last_check_detail);
	if (s->st.time_floor > now) {
		rfc3339_show_opt(s->st.time_floor, t);
		reason(s, STATUS_OK,
		    "clock is behind: it reads earlier than the newest "
		    "bundle's issued_at (%s); expiry is judged from that",
		    t);
	}
	if (s->st.deferred_version > s->st.highest_version)
		reason(s, STATUS_OK, "deferred v%" PRIu64 " (rollout %u%%)",
		    s->st.deferred_version, s->st.deferred_percent);
	store_close(store);
}

void
status_free(struct status *s)
{
	free(s->expiring);
	free(s->key_ids);
	free(s->probes);
	free(s->reasons);
	s->reasons = NULL;
	s->n_reasons = s->cap_reasons = 0;
	s->expiring = NULL;
	s->key_ids = NULL;
	s->probes = NULL;
}

/* "1 root", "2 roots" */
static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* How many reasons of the probes there are (see look_at_probes). */
static size_t
probe_problems(const struct status *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_probes; i++)
		if (s->probes[i].result == STORE_PROBE_CERT ||
		    (s->probes[i].result == STORE_PROBE_OK &&
			!s->probes[i].alternative &&
			s->probes[i].root_not_after <= s->judge + STATUS_SOON))
			n++;
	return n;
}

/*
 * The plugin line's summary: what is active and, briefly, what is wrong;
 * the reasons that follow say it in full.
 */
static void
summary(const struct status *s, char *out, size_t n)
{
	size_t len = 0, k;

#define ADD(...)                                                               \
	do {                                                                   \
		int w_ = snprintf(out + len, n - len, __VA_ARGS__);            \
		if (w_ > 0)                                                    \
			len +=                                                 \
			    (size_t)w_ < n - len ? (size_t)w_ : n - len - 1;   \
	} while (0)
	out[0] = '\0';
	if (!s->have_state) {
		ADD("%s", s->n_reasons > 0 ? s->reasons[0].text : "no store");
		return;
	}
	if (!s->have_active) {
		ADD("%s",
		    s->n_reasons > 0 ? s->reasons[0].text : "no active set");
		return;
	}
	ADD("v%" PRIu64 " active", s->active.version);
	if (s->n_unexpired == 0)
		ADD(", no unexpired root left");
	else if (s->n_expiring > 0)
		ADD(", %zu %s within 30 days", s->n_expiring,
		    plural(s->n_expiring, "root expires", "roots expire"));
	else
		ADD(", %zu %s", s->n_trusted,
		    plural(s->n_trusted, "root", "roots"));
	if (s->active.expires_at <= s->judge)
		ADD(", bundle expired");
	if (strcmp(s->st.last_check_result, "error") == 0 ||
	    strcmp(s->st.last_check_result, "rejected") == 0)
		ADD(", last check %s", s->st.last_check_result);
	if (s->export_stale)
		ADD(", stale export");
	if ((k = probe_problems(s)) > 0)
		ADD(", %zu %s", k,
		    plural(k, "probe at risk", "probes at risk"));
	if (s->st.time_floor > s->now)
		ADD(", clock behind");
#undef ADD
}

void
status_print_nagios_line(const struct status *s, FILE *f)
{
	char sum[512];
	const char *lvl = status_level_name(s->level);

	summary(s, sum, sizeof(sum));
	/* '|' starts the performance data: never inside the summary. */
	for (char *p = sum; *p != '\0'; p++)
		if (*p == '|' || *p == '\n')
			*p = *p == '|' ? '/' : ' ';
	fputs("ROOTKEEPER ", f);
	for (; *lvl != '\0'; lvl++)
		fputc(*lvl - 'a' + 'A', f);
	fprintf(f, " - %s", sum);
	if (s->have_active) {
		fprintf(f, " | roots=%zu expiring=%zu age=%" PRId64 "s",
		    s->n_trusted, s->n_expiring,
		    s->now > s->active.issued_at ? s->now - s->active.issued_at
						 : 0);
		if (s->st.last_check_at > 0)
			fprintf(f, " last_check=%" PRId64 "s",
			    s->now > s->st.last_check_at
				? s->now - s->st.last_check_at
				: 0);
	}
	fputc('\n', f);
}

void
status_print_text(const struct status *s, FILE *f)
{
	char t[RFC3339_LEN + 1], rel[48];
	size_t i;

	status_print_nagios_line(s, f);
	for (i = 0; i < s->n_reasons; i++)
		fprintf(f, "  ! %s\n", s->reasons[i].text);
	if (s->n_lost > 0)
		fprintf(f, "  ! and %zu more (out of memory)\n", s->n_lost);
	if (!s->have_state)
		return;
	fprintf(f, "  channel      %s\n", s->st.channel);
	if (s->have_active) {
		rfc3339_show_opt(s->active.issued_at, t);
		fmt_rel(s->active.issued_at, s->now, rel, sizeof(rel));
		fprintf(f,
		    "  active       v%" PRIu64 ", issued %s (%s), %zu %s\n",
		    s->active.version, t, rel, s->n_trusted,
		    plural(s->n_trusted, "root", "roots"));
		rfc3339_show_opt(s->active.expires_at, t);
		fmt_rel(s->active.expires_at, s->now, rel, sizeof(rel));
		fprintf(f, "  expires      %s (%s)\n", t, rel);
	} else {
		fprintf(f, "  active       none\n");
	}
	fprintf(f, "  highest seen v%" PRIu64 "\n", s->st.highest_version);
	if (s->st.deferred_version > s->st.highest_version)
		fprintf(f, "  deferred     v%" PRIu64 " (rollout %u%%)\n",
		    s->st.deferred_version, s->st.deferred_percent);
	if (s->st.last_check_at > 0) {
		rfc3339_show_opt(s->st.last_check_at, t);
		fmt_rel(s->st.last_check_at, s->now, rel, sizeof(rel));
		fprintf(f, "  last check   %s (%s): %s: %s\n", t, rel,
		    s->st.last_check_result, s->st.last_check_detail);
	} else {
		fprintf(f, "  last check   never\n");
	}
	if (s->st.next_check_at > 0) {
		rfc3339_show_opt(s->st.next_check_at, t);
		fmt_rel(s->st.next_check_at, s->now, rel, sizeof(rel));
		fprintf(f, "  next check   %s (%s)\n", t, rel);
	} else {
		fprintf(f, "  next check   not scheduled (no daemon)\n");
	}
	rfc3339_show_opt(s->now, t);
	fprintf(f, "  clock        %s", t);
	if (s->st.time_floor > 0) {
		rfc3339_show_opt(s->st.time_floor, t);
		fprintf(f, ", floor %s%s", t,
		    s->st.time_floor > s->now ? " (clock behind)" : "");
	}
	fprintf(f, "\n  keys         %u of %zu\n", s->st.threshold, s->n_keys);
	for (i = 0; i < s->n_keys; i++)
		fprintf(f, "               %s\n", s->key_ids[i]);
	for (i = 0; i < s->n_probes; i++) {
		const struct store_probe *p = &s->probes[i];

		fmt_rel(p->at, s->now, rel, sizeof(rel));
		fprintf(f,
		    "  %s %s: ", i == 0 ? "probes      " : "            ",
		    p->target);
		if (p->result == STORE_PROBE_OK) {
			rfc3339_show_opt(p->root_not_after, t);
			fprintf(f, "ok via %s (root expires %s%s)",
			    p->root_subject, t,
			    p->alternative ? "; another root validates too"
					   : "");
		} else {
			fprintf(f, "%s: %s",
			    p->result == STORE_PROBE_CERT
				? "certificate refused"
				: "unreachable",
			    p->detail);
		}
		fprintf(f, ", checked %s\n", rel);
	}
}

void
status_print_json(const struct status *s, FILE *f)
{
	struct jsonw w;
	char t[RFC3339_LEN + 1], hex[2 * CRYPTO_SHA256_LEN + 1];
	size_t i;

	jsonw_init(&w, f, 1);
	jsonw_obj_open(&w, NULL);
	jsonw_str(&w, "status", status_level_name(s->level));
	jsonw_arr_open(&w, "reasons");
	for (i = 0; i < s->n_reasons; i++)
		jsonw_str(&w, NULL, s->reasons[i].text);
	jsonw_arr_close(&w);
	jsonw_str(&w, "db", s->db_path);
	if (!s->have_state) {
		jsonw_obj_close(&w);
		jsonw_end(&w);
		return;
	}
	jsonw_str(&w, "channel", s->st.channel);
	if (s->st.active_version)
		jsonw_uint(&w, "active_version", s->st.active_version);
	else
		jsonw_null(&w, "active_version");
	jsonw_uint(&w, "highest_version", s->st.highest_version);
	if (s->st.deferred_version > s->st.highest_version) {
		jsonw_obj_open(&w, "deferred");
		jsonw_uint(&w, "version", s->st.deferred_version);
		jsonw_uint(&w, "percent", s->st.deferred_percent);
		jsonw_obj_close(&w);
	} else {
		jsonw_null(&w, "deferred");
	}
	if (s->have_active) {
		jsonw_obj_open(&w, "active");
		rfc3339_show_opt(s->active.issued_at, t);
		jsonw_str(&w, "issued_at", t);
		rfc3339_show_opt(s->active.expires_at, t);
		jsonw_str(&w, "expires_at", t);
		hex_encode(s->active.sha256, CRYPTO_SHA256_LEN, hex);
		jsonw_str(&w, "sha256", hex);
		jsonw_uint(&w, "certs", s->n_trusted);
		rfc3339_show_opt(s->active.activated_at, t);
		jsonw_str(&w, "activated_at", t);
		jsonw_obj_close(&w);
	} else {
		jsonw_null(&w, "active");
	}
	if (s->st.last_check_at > 0) {
		jsonw_obj_open(&w, "last_check");
		rfc3339_show_opt(s->st.last_check_at, t);
		jsonw_str(&w, "at", t);
		jsonw_str(&w, "result", s->st.last_check_result);
		jsonw_str(&w, "detail", s->st.last_check_detail);
		jsonw_obj_close(&w);
	} else {
		jsonw_null(&w, "last_check");
	}
	if (s->st.next_check_at > 0) {
		rfc3339_show_opt(s->st.next_check_at, t);
		jsonw_str(&w, "next_check", t);
	} else {
		jsonw_null(&w, "next_check");
	}
	jsonw_arr_open(&w, "expiring_soon");
	for (i = 0; i < s->n_expiring; i++) {
		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "subject", s->expiring[i].subject);
		hex_encode(s->expiring[i].sha256, CRYPTO_SHA256_LEN, hex);
		jsonw_str(&w, "sha256", hex);
		rfc3339_show_opt(s->expiring[i].not_after, t);
		jsonw_str(&w, "not_after", t);
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	jsonw_obj_open(&w, "clock");
	rfc3339_show_opt(s->now, t);
	jsonw_str(&w, "now", t);
	if (s->st.time_floor > 0) {
		rfc3339_show_opt(s->st.time_floor, t);
		jsonw_str(&w, "floor", t);
	} else {
		jsonw_null(&w, "floor");
	}
	jsonw_bool(&w, "behind", s->st.time_floor > s->now);
	jsonw_obj_close(&w);
	jsonw_obj_open(&w, "keys");
	jsonw_uint(&w, "threshold", s->st.threshold);
	jsonw_arr_open(&w, "ids");
	for (i = 0; i < s->n_keys; i++)
		jsonw_str(&w, NULL, s->key_ids[i]);
	jsonw_arr_close(&w);
	jsonw_obj_close(&w);
	jsonw_arr_open(&w, "probes");
	for (i = 0; i < s->n_probes; i++) {
		const struct store_probe *p = &s->probes[i];

		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "target", p->target);
		rfc3339_show_opt(p->at, t);
		jsonw_str(&w, "at", t);
		jsonw_str(&w, "result", probe_result_name(p->result));
		if (p->result == STORE_PROBE_OK) {
			jsonw_obj_open(&w, "root");
			jsonw_str(&w, "subject", p->root_subject);
			hex_encode(p->root_sha256, CRYPTO_SHA256_LEN, hex);
			jsonw_str(&w, "sha256", hex);
			rfc3339_show_opt(p->root_not_after, t);
			jsonw_str(&w, "not_after", t);
			jsonw_obj_close(&w);
			jsonw_bool(&w, "other_root_validates", p->alternative);
		} else {
			jsonw_null(&w, "root");
			jsonw_null(&w, "other_root_validates");
		}
		jsonw_str(&w, "detail", p->detail);
		jsonw_obj_close(&w);
	}
	jsonw_arr_close(&w);
	jsonw_obj_open(&w, "export");
	jsonw_str(&w, "path", s->export_path);
	jsonw_bool(&w, "stale", s->export_stale);
	jsonw_obj_close(&w);
	jsonw_obj_close(&w);
	jsonw_end(&w);
}

/* One gauge with its HELP and TYPE lines. */
static void
gauge(FILE *f, const char *name, const char *help, const char *value)
{
	fprintf(f, "# HELP rootkeeper_%s %s\n# TYPE rootkeeper_%s gauge\n",
	    name, help, name);
	fprintf(f, "rootkeeper_%s %s\n", name, value);
}

static void
gauge_i(FILE *f, const char *name, const char *help, int64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRId64, v);
	gauge(f, name, help, b);
}

static void
gauge_u(FILE *f, const char *name, const char *help, uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%" PRIu64, v);
	gauge(f, name, help, b);
}

/* A label value, escaped as the exposition format wants. */
static void
label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

void
status_print_prometheus(
    const struct status *s, const char *agent_version, FILE *f)
{
	size_t i;

	gauge_i(f, "status",
	    "Health of the trust set: 0 ok, 1 warning, 2 critical, 3 unknown.",
	    (int64_t)s->level);
	fputs("# HELP rootkeeper_info The agent's version and the device's "
	      "channel.\n# TYPE rootkeeper_info gauge\nrootkeeper_info{"
	      "version=\"",
	    f);
	label(f, agent_version);
	fputs("\",channel=\"", f);
	label(f, s->have_state ? s->st.channel : "");
	fputs("\"} 1\n", f);
	gauge_i(f, "store_readable",
	    "Whether the store could be read (1) or not (0).", s->have_state);
	if (!s->have_state)
		return;
	gauge_u(f, "active_version", "The active bundle version (0: none).",
	    s->st.active_version);
	gauge_u(f, "highest_version",
	    "The highest bundle version ever verified on this device.",
	    s->st.highest_version);
	gauge_u(f, "roots", "Trusted roots in the active set.", s->n_trusted);
	gauge_u(f, "roots_unexpired",
	    "Trusted roots of the active set not expired.", s->n_unexpired);
	gauge_u(f, "roots_expiring",
	    "Roots of the active set expiring within 30 days or expired.",
	    s->n_expiring);
	if (s->have_active) {
		gauge_i(f, "bundle_issued_timestamp_seconds",
		    "When the active bundle was issued.", s->active.issued_at);
		gauge_i(f, "bundle_expires_timestamp_seconds",
		    "When the active bundle expires.", s->active.expires_at);
		gauge_i(f, "bundle_activated_timestamp_seconds",
		    "When the active bundle was activated.",
		    s->active.activated_at);
	}
	if (s->st.last_check_at > 0) {
		gauge_i(f, "last_check_timestamp_seconds",
		    "When the last check ended.", s->st.last_check_at);
		gauge_i(f, "last_check_success",
		    "Whether the last check ended updated or current (1) or "
		    "rejected or failed (0).",
		    strcmp(s->st.last_check_result, "updated") == 0 ||
			strcmp(s->st.last_check_result, "current") == 0);
	}
	if (s->st.next_check_at > 0)
		gauge_i(f, "next_check_timestamp_seconds",
		    "When the running daemon checks next.",
		    s->st.next_check_at);
	gauge_i(f, "clock_behind",
	    "Whether the clock reads earlier than the time floor (1) or not "
	    "(0).",
	    s->st.time_floor > s->now);
	if (s->st.time_floor > 0)
		gauge_i(f, "time_floor_timestamp_seconds",
		    "The newest issued_at ever verified.", s->st.time_floor);
	gauge_i(f, "export_stale",
	    "Whether the PEM export differs from the active set (1) or not "
	    "(0).",
	    s->export_stale);
	if (s->n_probes == 0)
		return;
	fputs("# HELP rootkeeper_probe_ok Whether the probe target validated "
	      "under the active set at the last check (1) or not (0).\n"
	      "# TYPE rootkeeper_probe_ok gauge\n",
	    f);
	for (i = 0; i < s->n_probes; i++) {
		fputs("rootkeeper_probe_ok{target=\"", f);
		label(f, s->probes[i].target);
		fprintf(f, "\"} %d\n", s->probes[i].result == STORE_PROBE_OK);
	}
	fputs("# HELP rootkeeper_probe_root_expires_timestamp_seconds When "
	      "the root a probe target depends on expires.\n"
	      "# TYPE rootkeeper_probe_root_expires_timestamp_seconds gauge\n",
	    f);
	for (i = 0; i < s->n_probes; i++) {
		if (s->probes[i].result != STORE_PROBE_OK)
			continue;
		fputs(
		    "rootkeeper_probe_root_expires_timestamp_seconds{target=\"",
		    f);
		label(f, s->probes[i].target);
		fprintf(f, "\"} %" PRId64 "\n", s->probes[i].root_not_after);
	}
}
