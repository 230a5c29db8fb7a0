/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rootkeeper: the device agent's command line (DESIGN section 4).  It
 * reads the configuration, opens the store, runs one operation of
 * agent.c or the daemon loop, and turns outcomes into messages and exit
 * codes: 0 success (also "already current"), 1 operational error, 2 usage
 * error, 3 bundle rejected; `status` exits with its level (0 ok, 1
 * warning, 2 critical, 3 unknown).  The daemon's stop and reload flags are
 * this file's only mutable globals, set by signal handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <inttypes.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "capath.h"
#include "args.h"
#include "cli.h"
#include "bundle.h"
#include "config.h"
#include "crypto.h"
#include "fetch.h"
#include "fileio.h"
#include "help.h"
#include "hook.h"
#include "jsonw.h"
#include "log.h"
#include "manifest.h"
#include "notify.h"
#include "pem.h"
#include "rfc3339.h"
#include "status.h"
#include "store.h"
#include "trustset.h"
#include "url.h"

#define EXIT_USAGE CLI_EXIT_USAGE
#define EXIT_REJECT CLI_EXIT_REJECT
#define MAX_PINS 16
#define BACKOFF_BASE 60	 /* seconds: the first retry after an error */
#define HOOK_TIMEOUT 300 /* seconds an on_change command may take */

/* An int so that fetch can watch it too; the same type as sig_atomic_t. */
static volatile int stop_requested;
_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "sig_atomic_t is int");
static volatile sig_atomic_t reload_requested;

/* --help and per-command help, from the table the manual page is made of. */
static const struct help_entry help_table[] = {
#include "help_table.h"
#include "help.def"
};
#define HELP_N (sizeof(help_table) / sizeof(help_table[0]))

/* `rootkeeper CMD --help`: that command's help, or the whole help. */
static void
print_help(const char *cmd)
{
	help_print_any(help_table, HELP_N, cmd, stdout);
}

/* What the command line knows: the config and where things are. */
struct env {
	struct config cfg;
	const char *config_path;
	char *db;
	char *export_path;
};

static int
exit_for_outcome(const struct agent_outcome *o)
{
	switch (o->result) {
	case AGENT_UPDATED:
	case AGENT_CURRENT:
		if (o->err != RK_OK) {
			cli_warn("%s", o->detail);
			return 1;
		}
		printf("%s: %s\n", agent_result_name(o->result), o->detail);
		return 0;
	case AGENT_REJECTED:
		cli_warn("%s", o->detail);
		return EXIT_REJECT;
	case AGENT_ERROR:
		break;
	}
	cli_warn("%s", o->detail);
	return 1;
}

/*
 * A channel= in the configuration must be the store's (set by init): a
 * device told to follow another channel would otherwise go on silently
 * with the old one.  A configuration error, exit 2.
 */
static int
check_channel(struct env *e)
{
	struct rk_why why = {""};
	struct store_state st;
	struct store *s = NULL;
	int rc, ex = 0;

	if (e->cfg.channel[0] == '\0')
		return 0;
	if ((rc = store_open(e->db, STORE_RO, &s, &why)) != RK_OK)
		return 0; /* the caller's open says what is wrong */
	if (store_get_state(s, &st) == RK_OK &&
	    strcmp(st.channel, e->cfg.channel) != 0) {
		cli_warn("%s: the configuration says channel = %s, but this "
			 "store follows channel %s (set by init); fix "
			 "channel= in %s or leave it out",
		    e->db, e->cfg.channel, st.channel,
		    e->config_path != NULL ? e->config_path
					   : CONFIG_DEFAULT_PATH);
		ex = EXIT_USAGE;
	}
	store_close(s);
	return ex;
}

/* An operation's failure; a busy store is named with the wait. */
static void
warn_rc(const struct env *e, const char *cmd, int rc)
{
	if (rc == RK_EBUSY)
		cli_warn("%s: %s: another writer holds the store; gave up "
			 "after waiting %d s",
		    cmd, e->db, STORE_WRITER_WAIT_S);
	else
		cli_warn("%s: %s", cmd, rk_strerror(rc));
}

/* Why the store did not open (rc), for people; returns exit code 1. */
static int
open_failed(const struct env *e, int rc, const struct rk_why *why)
{
	if (rc == RK_ENOENT)
		cli_warn("%s: no store (run `rootkeeper init` first)", e->db);
	else
		cli_warn(
		    "%s: %s", e->db, why->msg[0] ? why->msg : rk_strerror(rc));
	return 1;
}

/* Opens the agent's store; the messages for "not provisioned" live here. */
static int
open_store(struct env *e, struct agent *a)
{
	struct rk_why why = {""};
	int rc = agent_open_store(a, &why);

	if (rc != RK_OK)
		return open_failed(e, rc, &why);
	return check_channel(e);
}

/* Opens the agent, store included. */
static int
open_agent(struct env *e, struct agent **a)
{
	int rc;

	if (agent_open_lazy(&e->cfg, e->db, e->export_path, a) != RK_OK) {
		cli_warn("%s: %s", e->db, rk_strerror(RK_ENOMEM));
		return 1;
	}
	if ((rc = open_store(e, *a)) != 0) {
		agent_close(*a);
		*a = NULL;
	}
	return rc;
}

/*
 * The active set as a CApath folder (export_dir, capath.h), from the same
 * PEM the export file holds.  *changed says whether it was rewritten.
 */
static int
export_capath(
    struct agent *a, const char *dir, int *changed, struct rk_why *why)
{
	const uint8_t **der = NULL;
	uint8_t **owned = NULL;
	size_t *len = NULL, n = 0, cap = 0, pos = 0, plen = 0, i;
	char *pem = NULL;
	int rc;

	*changed = 0;
	if ((rc = agent_active_pem(a, &pem, &plen)) != RK_OK) {
		if (rc == RK_ENOENT)
			return RK_OK; /* nothing active, nothing to export */
		return rk_fail(why, rc, "no active set: %s", rk_strerror(rc));
	}
	for (;;) {
		uint8_t *d;
		size_t dl;

		rc = pem_next(pem, plen, &pos, "CERTIFICATE", NULL, &d, &dl);
		if (rc == RK_ENOENT) {
			rc = RK_OK;
			break;
		}
		if (rc != RK_OK) {
			rk_fail(why, rc, "the active set does not read back");
			goto out;
		}
		if (n == cap) {
			void *nd, *no, *nl;

			cap = cap ? 2 * cap : 64;
			nd = realloc(der, cap * sizeof(*der));
			if (nd != NULL)
				der = nd;
			no = realloc(owned, cap * sizeof(*owned));
			if (no != NULL)
				owned = no;
			nl = realloc(len, cap * sizeof(*len));
			if (nl != NULL)
				len = nl;
			if (nd == NULL || no == NULL || nl == NULL) {
				free(d);
				rc = rk_fail(why, RK_ENOMEM, "out of memory");
				goto out;
			}
		}
		der[n] = owned[n] = d;
		len[n++] = dl;
	}
	rc = capath_write(dir, der, len, n, changed, why);
out:
	for (i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	free(der);
	free(len);
	free(pem);
	return rc;
}

/*
 * Every command that writes starts here: the export (and the CApath
 * folder, when export_dir is set) must show the active set before
 * anything else happens.
 */
static int
sync_export(struct env *e, struct agent *a)
{
	struct rk_why why = {""};
	int rewrote = 0, rc;

	rc = agent_sync_export(a, &rewrote, &why);
	if (rc != RK_OK) {
		cli_warn("export: %s", why.msg[0] ? why.msg : rk_strerror(rc));
		return 1;
	}
	if (rewrote)
		cli_warn("note: the export did not match the active set; "
			 "rewritten");
	if (e->cfg.export_dir == NULL)
		return 0;
	if (export_capath(a, e->cfg.export_dir, &rewrote, &why) != RK_OK) {
		cli_warn("export_dir: %s", why.msg);
		return 1;
	}
	if (rewrote)
		cli_warn("note: %s did not match the active set; rewritten",
		    e->cfg.export_dir);
	return 0;
}

/*
 * After an activation or a rollback to version: the CApath folder, then
 * the on_change hook (hook.h).  Their failures are logged; the activation
 * stands.
 */
static void
after_change(struct env *e, struct agent *a, uint64_t version)
{
	struct rk_why why = {""};
	int changed, wstatus = 0, timed_out = 0, rc;

	if (e->cfg.export_dir != NULL &&
	    export_capath(a, e->cfg.export_dir, &changed, &why) != RK_OK)
		log_error("export_dir: %s", why.msg);
	if (e->cfg.on_change == NULL)
		return;
	rc = hook_run(e->cfg.on_change, version, e->export_path,
	    e->cfg.export_dir, HOOK_TIMEOUT, &wstatus, &timed_out);
	if (rc != RK_OK)
		log_error("on_change: cannot run /bin/sh: %s; v%" PRIu64
			  " stays active",
		    strerror(errno), version);
	else if (timed_out)
		log_error("on_change: killed after %d s; v%" PRIu64
			  " stays active",
		    HOOK_TIMEOUT, version);
	else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
		log_info("on_change: done for v%" PRIu64, version);
	else if (WIFEXITED(wstatus))
		log_error("on_change: exited %d; v%" PRIu64 " stays active",
		    WEXITSTATUS(wstatus), version);
	else
		log_error("on_change: killed by signal %d; v%" PRIu64
			  " stays active",
		    WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0, version);
}

/*
 * A commit that succeeded but could not be checkpointed (a full disk):
 * the change stands, and the reason is said, never lost.
 */
static void
checkpoint_note(struct agent *a)
{
	const char *why = agent_store_note(a);

	if (why[0] != '\0')
		cli_warn("note: %s (the next write retries)", why);
}

/*
 * After a check: what the probe targets depend on now, for status.  A
 * failure here is reported but does not change the command's outcome.
 */
static void
refresh_probes(struct agent *a)
{
	int rc = agent_refresh_probes(a, NULL);

	if (rc != RK_OK)
		log_warn("probes could not be refreshed: %s", rk_strerror(rc));
}

/*
 * What follows apply and rollback (rc and o theirs): the outcome said and
 * its exit code returned; after a change of the active set, the export
 * folder and hook, and the probes refreshed (what their targets depend on
 * changed, and status must not lose the probes' view); then a note if the
 * store could not checkpoint.
 */
static int
finish_change(struct env *e, struct agent *a, const char *cmd, int rc,
    const struct agent_outcome *o)
{
	int ex;

	if (rc != RK_OK) {
		warn_rc(e, cmd, rc);
		ex = 1;
	} else {
		ex = exit_for_outcome(o);
		if (o->result == AGENT_UPDATED) {
			after_change(e, a, o->version);
			refresh_probes(a);
		}
	}
	checkpoint_note(a);
	return ex;
}

/* ---- init --------------------------------------------------------- */

/*
 * The store's folder (/var/lib/rootkeeper on a fresh device), made 0755
 * when missing: status and librootkeeper readers need to reach the store.
 */
static int
make_parent(const char *path)
{
	char *copy = strdup(path);
	int rc;

	if (copy == NULL) {
		cli_warn("out of memory");
		return 1;
	}
	rc = fileio_mkdirs(dirname(copy), 0755);
	if (rc == RK_EINVAL)
		cli_warn("%s: the store's folder is not a folder", path);
	else if (rc != RK_OK)
		cli_warn("%s: cannot create the store's folder: %s", path,
		    strerror(errno));
	free(copy);
	return rc == RK_OK ? 0 : 1;
}

/* What `init` was asked for: its command line, parsed and checked. */
struct init_opts {
	const char *pinpaths[MAX_PINS];
	size_t npins;
	uint64_t thr;
	const char *channel; /* NULL: the factory bundle's */
	const char *bundle;
};

/*
 * Parses init's command line into o (the config's channel= when there is
 * no --channel): -1 when the store is to be made, else the exit code (0
 * after --help, EXIT_USAGE after a message).
 */
static int
init_args(const struct env *e, int argc, char **argv, struct init_opts *o)
{
	static const struct option opts[] = {{"pin", required_argument, 0, 'p'},
	    {"threshold", required_argument, 0, 't'},
	    {"channel", required_argument, 0, 'c'},
	    {"bundle", required_argument, 0, 'b'},
	    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	o->thr = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o->npins >= MAX_PINS)
				return cli_usage(
				    "init: at most %d --pin", MAX_PINS);
			o->pinpaths[o->npins++] = optarg;
			break;
		case 't':
			if (args_u64(optarg, 1, MAX_PINS, &o->thr) != 0)
				return cli_usage("init: --threshold must be "
						 "1 to %d",
				    MAX_PINS);
			break;
		case 'c':
			o->channel = optarg;
			break;
		case 'b':
			o->bundle = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("init: bad option");
		}
	}
	if (optind != argc)
		return cli_usage(
		    "init: unexpected argument '%s'", argv[optind]);
	if (o->npins == 0)
		return cli_usage("init: needs at least one --pin PUB.pem");
	if (o->channel == NULL && e->cfg.channel[0] != '\0')
		o->channel = e->cfg.channel;
	if (o->channel != NULL && !manifest_channel_ok(o->channel))
		return cli_usage("init: channel must match "
				 "[a-z0-9._-]{1,64}, not '%s'",
		    o->channel);
	if (o->channel == NULL && o->bundle == NULL)
		return cli_usage("init: needs --channel C (or channel= in "
				 "the config, or a --bundle to take it "
				 "from)");
	return -1;
}

static int
cmd_init(struct env *e, int argc, char **argv)
{
	struct init_opts io;
	struct pubkey *pins[MAX_PINS];
	size_t i, distinct = 0, flen = 0;
	uint8_t *factory = NULL;
	struct agent_outcome o;
	struct bundle *b = NULL;
	struct manifest *m = NULL;
	struct rk_why why = {""};
	char chan[MANIFEST_CHANNEL_MAX + 1];
	int rc, ex;

	if ((ex = init_args(e, argc, argv, &io)) >= 0)
		return ex;
	ex = 0;
	for (i = 0; i < io.npins; i++)
		pins[i] = NULL;
	for (i = 0; i < io.npins; i++) {
		if ((rc = pubkey_from_file(io.pinpaths[i], &pins[i], &why)) !=
		    RK_OK) {
			cli_warn("%s", why.msg);
			ex = rc == RK_EKEY ? EXIT_USAGE : 1;
			goto out;
		}
	}
	distinct = pubkey_count_distinct(pins, io.npins);
	if (io.thr > distinct) {
		ex = cli_usage("init: --threshold %" PRIu64
			       " is more than the %zu distinct keys",
		    io.thr, distinct);
		goto out;
	}
	if (io.bundle != NULL) {
		rc = fileio_read(io.bundle, (size_t)e->cfg.max_bundle_size + 1,
		    &factory, &flen);
		if (rc != RK_OK) {
			cli_warn("%s: %s", io.bundle,
			    rc == RK_ELIMIT ? "over max_bundle_size"
					    : fileio_read_error(rc));
			ex = rc == RK_ELIMIT ? EXIT_REJECT : 1;
			goto out;
		}
	}
	if (io.channel == NULL) {
		/* The factory bundle's channel, once its signatures pass. */
		rc = bundle_open(factory, flen, (size_t)e->cfg.max_bundle_size,
		    pins, io.npins, (unsigned)io.thr, &b, &m, &why);
		if (rc != RK_OK) {
			cli_warn("%s: rejected: %s", io.bundle, why.msg);
			ex = EXIT_REJECT;
			goto out;
		}
		memcpy(chan, m->channel, sizeof(chan));
		io.channel = chan;
	}
	if ((ex = make_parent(e->db)) != 0)
		goto out;
	rc = agent_init(&e->cfg, e->db, e->export_path, pins, io.npins,
	    (unsigned)io.thr, io.channel, factory, flen, &o);
	if (rc != RK_OK) {
		cli_warn("init: %s", o.detail);
		ex = o.result == AGENT_REJECTED ? EXIT_REJECT : 1;
		goto out;
	}
	printf("%s: %s\n", e->db, o.detail);
	ex = o.err != RK_OK ? 1 : 0;
	/* The factory set is an activation too. */
	if (factory != NULL &&
	    (e->cfg.export_dir != NULL || e->cfg.on_change != NULL)) {
		struct agent *a = NULL;

		if (open_agent(e, &a) == 0)
			after_change(e, a, o.version);
		agent_close(a);
	}
out:
	for (i = 0; i < io.npins; i++)
		pubkey_free(pins[i]);
	free(factory);
	bundle_free(b);
	manifest_free(m);
	return ex;
}

/* ---- check, apply, rollback, export ------------------------------- */

static int
cmd_check(struct env *e, int argc, char **argv)
{
	static const struct option opts[] = {{"url", required_argument, 0, 'u'},
	    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	char *url = NULL, shown[512];
	struct agent *a = NULL;
	struct agent_outcome o;
	int c, rc, ex = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			/*
			 * The process list shows argv to every local user:
			 * the password stays in a copy and leaves argv.
			 */
			free(url);
			if ((url = strdup(optarg)) == NULL) {
				cli_warn("out of memory");
				ex = 1;
				goto out;
			}
			url_hide_password(optarg);
			break;
		case 'h':
			print_help(argv[0]);
			ex = 0;
			goto out;
		default:
			ex = cli_usage("check: bad option");
			goto out;
		}
	}
	if (optind != argc) {
		ex = cli_usage("check: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (url == NULL && e->cfg.n_urls == 0) {
		ex = cli_usage("check: no URL (give --url, or url= in the "
			       "config)");
		goto out;
	}
	if (url != NULL && !url_scheme_ok(url)) {
		if (url_redact(url, shown, sizeof(shown)) != RK_OK)
			snprintf(
			    shown, sizeof(shown), "(%zu bytes)", strlen(url));
		ex = cli_usage("check: --url '%s' is not an http://, https:// "
			       "or file:// URL",
		    shown);
		goto out;
	}
	if (agent_open_lazy(&e->cfg, e->db, e->export_path, &a) != RK_OK) {
		cli_warn("%s: %s", e->db, rk_strerror(RK_ENOMEM));
		ex = 1;
		goto out;
	}
	/* An unchanged poll that the poll file vouches for needs no store. */
	if (agent_idle_check(a, url, &o)) {
		ex = exit_for_outcome(&o);
		goto out;
	}
	if ((ex = open_store(e, a)) != 0)
		goto out;
	if ((ex = sync_export(e, a)) == 0) {
		rc = agent_check(a, url, &o);
		if (rc != RK_OK) {
			warn_rc(e, "check", rc);
			ex = 1;
		} else {
			ex = exit_for_outcome(&o);
			if (o.result == AGENT_UPDATED)
				after_change(e, a, o.version);
		}
		checkpoint_note(a);
		refresh_probes(a);
	}
out:
	agent_close(a);
	free(url);
	return ex;
}

static int
cmd_apply(struct env *e, int argc, char **argv)
{
	struct agent *a = NULL;
	struct agent_outcome o;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc, ex;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		print_help(argv[0]);
		return 0;
	}
	if (argc != 2)
		return cli_usage("apply: needs one FILE");
	/* One byte over the cap is enough for the policy to refuse it. */
	rc = fileio_read(
	    argv[1], (size_t)e->cfg.max_bundle_size + 1, &buf, &len);
	if (rc == RK_ELIMIT) {
		cli_warn("%s: rejected: over max_bundle_size (%" PRIu64
			 " bytes)",
		    argv[1], e->cfg.max_bundle_size);
		return EXIT_REJECT;
	}
	if (rc != RK_OK) {
		cli_warn("%s: %s", argv[1], fileio_read_error(rc));
		return 1;
	}
	if ((ex = open_agent(e, &a)) == 0 && (ex = sync_export(e, a)) == 0) {
		rc = agent_apply(a, buf, len, argv[1], &o);
		ex = finish_change(e, a, "apply", rc, &o);
	}
	agent_close(a);
	free(buf);
	return ex;
}

static int
cmd_rollback(struct env *e, int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, 0, 't'},
	    {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
	struct agent *a = NULL;
	struct agent_outcome o;
	uint64_t to = 0;
	int c, rc, ex;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (args_u64(optarg, 1, MANIFEST_VERSION_MAX, &to))
				return cli_usage("rollback: --to needs a "
						 "version number");
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("rollback: bad option");
		}
	}
	if (optind != argc)
		return cli_usage(
		    "rollback: unexpected argument '%s'", argv[optind]);
	if ((ex = open_agent(e, &a)) != 0)
		return ex;
	if ((ex = sync_export(e, a)) == 0) {
		rc = agent_rollback(a, to, &o);
		ex = finish_change(e, a, "rollback", rc, &o);
	}
	agent_close(a);
	return ex;
}

static int
cmd_export(struct env *e, int argc, char **argv)
{
	static const struct option opts[] = {{"pem", required_argument, 0, 'p'},
	    {"dir", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *path = NULL, *dir = NULL;
	struct agent *a = NULL;
	struct rk_why why = {""};
	char *pem = NULL;
	size_t len = 0;
	int c, rc, ex, changed = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			path = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			print_help(argv[0]);
			return 0;
		default:
			return cli_usage("export: bad option");
		}
	}
	if ((path == NULL && dir == NULL) || optind != argc)
		return cli_usage("export: needs --pem FILE (- for standard "
				 "output) or --dir DIR");
	if ((ex = open_agent(e, &a)) != 0)
		return ex;
	if ((ex = sync_export(e, a)) != 0)
		goto out;
	ex = 1;
	if (path != NULL && strcmp(path, "-") == 0) {
		if ((rc = agent_active_pem(a, &pem, &len)) != RK_OK) {
			cli_warn("export: no active trust set to export");
			goto out;
		}
		if (fwrite(pem, 1, len, stdout) != len || fflush(stdout) != 0) {
			cli_warn(
			    "export: standard output: %s", strerror(errno));
			goto out;
		}
	} else if (path != NULL) {
		if ((rc = agent_export(a, path, &why)) != RK_OK) {
			cli_warn("export: %s", why.msg);
			goto out;
		}
		printf("exported the active set to %s\n", path);
	}
	if (dir != NULL) {
		if ((rc = export_capath(a, dir, &changed, &why)) != RK_OK) {
			cli_warn("export: %s", why.msg);
			goto out;
		}
		/* With --pem -, standard output holds the PEM alone. */
		if (path == NULL || strcmp(path, "-") != 0)
			printf("%s the active set in %s\n",
			    changed ? "exported" : "already had", dir);
	}
	ex = 0;
out:
	free(pem);
	agent_close(a);
	return ex;
}

/* ---- run ---------------------------------------------------------- */

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut the sleep short. */
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGHUP, &sa, NULL) != 0)
		return -1;
	return 0;
}

/*
 * Sleeps until deadline, or until a signal asks for something; under a
 * systemd watchdog (period wd seconds, 0: none) it wakes to ping it at
 * half the period.
 */
static void
sleep_until(int64_t deadline, int64_t wd)
{
	int64_t now, step = wd > 1 ? wd / 2 : 60;
	struct timespec ts;

	if (step > 60)
		step = 60;
	while (!stop_requested && !reload_requested) {
		if (wd > 0)
			notify_send("WATCHDOG=1");
		now = (int64_t)time(NULL);
		if (now >= deadline)
			return;
		ts.tv_sec =
		    (time_t)(deadline - now > step ? step : deadline - now);
		ts.tv_nsec = 0;
		nanosleep(&ts, NULL);
	}
}

/* systemd's STATUS= line: what the last check did, on one line. */
static void
notify_status(const struct agent_outcome *o)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "STATUS=last check: %s: %.200s",
	    agent_result_name(o->result), o->detail);
	for (char *p = msg; *p != '\0'; p++)
		if (*p == '\n')
			*p = ' ';
	notify_send(msg);
}

static int64_t
random_upto(int64_t n)
{
	if (n <= 0)
		return 0;
	return (int64_t)arc4random_uniform(
	    (uint32_t)(n > UINT32_MAX - 1 ? UINT32_MAX - 1 : n) + 1);
}

/*
 * After n consecutive errors: BACKOFF_BASE * 2^(n-1), capped at the
 * interval, with "equal jitter" (half fixed, half random) so that a fleet
 * that lost its server does not come back in lockstep.
 */
static int64_t
backoff(unsigned n, int64_t interval)
{
	int64_t d = BACKOFF_BASE;

	while (--n > 0 && d < interval)
		d *= 2;
	if (d > interval)
		d = interval;
	if (d < 2)
		return 1; /* never a busy loop, whatever the interval */
	return d / 2 + random_upto(d / 2);
}

static int
reload_config(struct env *e)
{
	struct config fresh;
	struct rk_why why = {""};
	char *db = NULL, *exp = NULL;

	config_init(&fresh);
	if (config_load(&fresh, e->config_path, &why) != RK_OK) {
		log_error("reload: %s; keeping the old configuration", why.msg);
		config_free(&fresh);
		return -1;
	}
	if (fresh.n_urls == 0) {
		log_error("reload: no url= in the new configuration; keeping "
			  "the old one");
		config_free(&fresh);
		return -1;
	}
	/* The store and export stay where they are: --db wins, as at start. */
	if ((db = strdup(e->db)) == NULL ||
	    (exp = strdup(e->export_path)) == NULL) {
		free(db);
		config_free(&fresh);
		return -1;
	}
	config_free(&e->cfg);
	e->cfg = fresh;
	free(e->export_path);
	e->export_path = exp;
	free(e->db);
	e->db = db;
	log_setup((int)e->cfg.log_target, e->cfg.log_level, "rootkeeper");
	log_info("configuration re-read: %zu url(s), interval %" PRId64 "s",
	    e->cfg.n_urls, e->cfg.interval);
	return 0;
}

/*
 * One daemon per store: a write lock on DB.lock, beside the store, held
 * for the daemon's whole life; the file holds the pid of the daemon that
 * has it.  The kernel drops the lock when the process ends, however it
 * ends, so a file left behind never blocks the next daemon.  Returns the
 * open file (close it to let go) or -1 after saying why.
 */
static int
lock_daemon(const char *db)
{
	char path[PATH_MAX], buf[32];
	struct flock fl;
	int fd, n, e;

	n = snprintf(path, sizeof(path), "%s.lock", db);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		cli_warn("run: %s: path too long", db);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		cli_warn("run: %s: %s", path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		e = errno;
		if (e != EACCES && e != EAGAIN) {
			cli_warn("run: locking %s: %s", path, strerror(e));
			goto fail;
		}
		/* Who holds it: the kernel knows, whatever the file says. */
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK)
			fl.l_pid = 0;
		cli_warn(
		    "run: another rootkeeper daemon (pid %ld) already runs "
		    "on %s (it holds %s)",
		    (long)fl.l_pid, db, path);
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		cli_warn("run: %s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * One poll of the daemon.  An unchanged one that the poll file vouches
 * for does without the store; any other opens it and closes it after, so
 * that the hours of sleep between polls hold none of SQLite's memory.
 */
static void
poll_once(struct env *e, struct agent *a, struct agent_outcome *o)
{
	struct rk_why why = {""};
	int rc;

	if (agent_idle_check(a, NULL, o)) {
		log_info(
		    "check: %s: %s", agent_result_name(o->result), o->detail);
		return;
	}
	if ((rc = agent_open_store(a, &why)) != RK_OK) {
		memset(o, 0, sizeof(*o));
		o->result = AGENT_ERROR;
		snprintf(o->detail, sizeof(o->detail), "%s: %s", e->db,
		    why.msg[0] ? why.msg : rk_strerror(rc));
		log_error("check: %s", o->detail);
		return;
	}
	if (sync_export(e, a) != 0)
		log_warn("export could not be brought up to date");
	rc = agent_check(a, NULL, o);
	if (rc != RK_OK) {
		log_error("check: %s", rk_strerror(rc));
		o->result = AGENT_ERROR;
	} else if (o->result == AGENT_ERROR) {
		log_warn("check: error: %s", o->detail);
	} else if (o->result == AGENT_REJECTED) {
		log_warn("check: rejected: %s", o->detail);
	} else {
		log_info(
		    "check: %s: %s", agent_result_name(o->result), o->detail);
		if (o->result == AGENT_UPDATED)
			after_change(e, a, o->version);
	}
	refresh_probes(a);
	agent_close_store(a);
}

static int
cmd_run(struct env *e, int argc, char **argv)
{
	struct agent *a = NULL;
	struct agent_outcome o;
	unsigned failures = 0;
	int64_t delay, next;
	char t[RFC3339_LEN + 1];
	int ex, lock;

	(void)argv;
	if (argc != 1)
		return cli_usage("run: takes no arguments");
	if (e->cfg.n_urls == 0)
		return cli_usage("run: no url= in the configuration");
	if (install_signals() != 0) {
		cli_warn("run: cannot install signal handlers");
		return 1;
	}
	log_setup((int)e->cfg.log_target, e->cfg.log_level, "rootkeeper");
	if ((ex = open_agent(e, &a)) != 0)
		return ex;
	if ((lock = lock_daemon(e->db)) < 0) {
		agent_close(a);
		return 1;
	}
	agent_set_cancel(a, &stop_requested);
	agent_close_store(a);
	log_info("started: store %s, %zu url(s), every %" PRId64
		 "s + up to %" PRId64 "s",
	    e->db, e->cfg.n_urls, e->cfg.interval, e->cfg.jitter);
	notify_send("READY=1\nSTATUS=started");
	while (!stop_requested) {
		if (reload_requested) {
			reload_requested = 0;
			if (reload_config(e) == 0) {
				agent_close(a);
				a = NULL;
				if ((ex = open_agent(e, &a)) != 0) {
					close(lock);
					return ex;
				}
				agent_set_cancel(a, &stop_requested);
				agent_close_store(a);
			}
		}
		poll_once(e, a, &o);
		notify_status(&o);
		if (o.result == AGENT_ERROR) {
			failures++;
			delay = backoff(failures, e->cfg.interval);
		} else {
			failures = 0;
			delay = e->cfg.interval + random_upto(e->cfg.jitter);
		}
		next = (int64_t)time(NULL) + delay;
		if (agent_set_next_check(a, next) != RK_OK)
			log_warn("cannot record the next check time");
		rfc3339_show_opt(next, t);
		log_debug("next check at %s", t);
		/* Hours of sleep ahead: hold no more memory than needed. */
		agent_trim(a);
		(void)malloc_trim(0);
		sleep_until(next, notify_watchdog_interval());
	}
	log_info("stopping on request");
	notify_send("STOPPING=1");
	/* No daemon, no next check: status must not promise one. */
	if (agent_set_next_check(a, 0) != RK_OK)
		log_warn("cannot clear the next check time");
	agent_close(a);
	close(lock);
	return 0;
}

/* ---- status, list, certs ------------------------------------------ */

static int
json_flag(const char *cmd, int argc, char **argv, int *json)
{
	*json = 0;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		*json = 1;
	else if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return -1;
	else if (argc != 1)
		return cli_usage("%s: takes only --json", cmd);
	return 0;
}

/* s on stdout: format 0 text, 1 --json, 2 --prometheus. */
static void
print_status(const struct status *s, int format)
{
	if (format == 2)
		status_print_prometheus(s, RK_VERSION_STRING, stdout);
	else if (format == 1)
		status_print_json(s, stdout);
	else
		status_print_text(s, stdout);
}

/*
 * `status` when it cannot judge the device (bad usage, a bad config):
 * monitoring must read "unknown" (3), not "critical" (the usage exit 2).
 * json: 0 text, 1 --json, 2 --prometheus.
 */
static int
cannot_judge(const char *db, int json, const char *why)
{
	struct status s;

	status_cannot_judge(&s, db, "cannot judge: %s", why);
	print_status(&s, json);
	status_free(&s);
	return STATUS_UNKNOWN;
}

/*
 * status: exit with the level; a status that cannot judge (bad usage, and
 * in main() a bad configuration) is "unknown", 3, as monitoring plugins
 * exit.  --prometheus exits 0 once the metrics are written (the level is
 * rootkeeper_status), so that `status --prometheus > f && mv f ...` works
 * whatever the level.
 */
static int
cmd_status(struct env *e, int argc, char **argv)
{
	char *targets[AGENT_MAX_TARGETS];
	size_t nt;
	struct status s;
	int json = 0, prom = 0;

	if (argc == 2 && strcmp(argv[1], "--prometheus") == 0) {
		prom = 1;
	} else if (argc == 2 && strcmp(argv[1], "--json") == 0) {
		json = 1;
	} else if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		print_help(argv[0]);
		return 0;
	} else if (argc != 1) {
		cli_usage("status: takes --json or --prometheus");
		return cannot_judge(e->db, 0, "bad usage");
	}
	nt = agent_probe_targets(&e->cfg, targets, AGENT_MAX_TARGETS);
	status_collect(
	    e->db, e->export_path, targets, nt, (int64_t)time(NULL), &s);
	print_status(&s, prom ? 2 : json);
	status_free(&s);
	while (nt > 0)
		free(targets[--nt]);
	if (prom)
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	return (int)s.level;
}

/*
 * The start of list, certs and events: their options (--json, --help)
 * and the store opened read-only into *s.  -1 when the command goes on,
 * else its exit code.
 */
static int
open_listing(struct env *e, const char *cmd, int argc, char **argv, int *json,
    struct store **s)
{
	struct rk_why why = {""};
	int rc;

	if ((rc = json_flag(cmd, argc, argv, json)) != 0) {
		if (rc < 0)
			print_help(argv[0]);
		return rc < 0 ? 0 : rc;
	}
	if ((rc = store_open(e->db, STORE_RO, s, &why)) != RK_OK)
		return open_failed(e, rc, &why);
	return -1;
}

static const char *
version_state(const struct store_version *v, uint64_t active)
{
	if (v->version == active)
		return "active";
	if (v->bad)
		return "bad";
	if (v->factory)
		return "factory";
	return "stored";
}

static int
cmd_list(struct env *e, int argc, char **argv)
{
	struct store *s = NULL;
	struct store_state st;
	struct store_version *vs = NULL;
	struct jsonw w;
	char t1[RFC3339_LEN + 1], t2[RFC3339_LEN + 1];
	char hex[2 * CRYPTO_SHA256_LEN + 1];
	size_t n = 0, i;
	int json, ex;

	if ((ex = open_listing(e, "list", argc, argv, &json, &s)) >= 0)
		return ex;
	if (store_get_state(s, &st) != RK_OK ||
	    store_list_versions(s, &vs, &n) != RK_OK) {
		cli_warn("%s: cannot read the store", e->db);
		store_close(s);
		return 1;
	}
	if (json) {
		jsonw_init(&w, stdout, 1);
		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "channel", st.channel);
		jsonw_arr_open(&w, "versions");
	} else {
		printf("%-8s %-8s %-20s %-20s %6s  %s\n", "VERSION", "STATE",
		    "ISSUED", "EXPIRES", "CERTS", "SHA256");
	}
	for (i = 0; i < n; i++) {
		rfc3339_show_opt(vs[i].issued_at, t1);
		rfc3339_show_opt(vs[i].expires_at, t2);
		hex_encode(vs[i].sha256, CRYPTO_SHA256_LEN, hex);
		if (!json) {
			printf("%-8" PRIu64 " %-8s %-20s %-20s %6zu  %s\n",
			    vs[i].version,
			    version_state(&vs[i], st.active_version), t1, t2,
			    vs[i].ncerts, hex);
			continue;
		}
		jsonw_obj_open(&w, NULL);
		jsonw_uint(&w, "version", vs[i].version);
		jsonw_str(
		    &w, "state", version_state(&vs[i], st.active_version));
		jsonw_str(&w, "issued", t1);
		jsonw_str(&w, "expires", t2);
		jsonw_uint(&w, "certs", vs[i].ncerts);
		jsonw_str(&w, "sha256", hex);
		jsonw_bool(&w, "factory", vs[i].factory);
		jsonw_bool(&w, "bad", vs[i].bad);
		rfc3339_show_opt(vs[i].stored_at, t1);
		jsonw_str(&w, "stored_at", t1);
		if (vs[i].activated_at > 0) {
			rfc3339_show_opt(vs[i].activated_at, t1);
			jsonw_str(&w, "activated_at", t1);
		} else {
			jsonw_null(&w, "activated_at");
		}
		jsonw_obj_close(&w);
	}
	if (json) {
		jsonw_arr_close(&w);
		jsonw_obj_close(&w);
		jsonw_end(&w);
	}
	free(vs);
	store_close(s);
	return 0;
}

static int
cmd_certs(struct env *e, int argc, char **argv)
{
	struct store *s = NULL;
	struct store_state st;
	struct store_distrust *d = NULL;
	struct trustset ts;
	struct jsonw w;
	char t[RFC3339_LEN + 1], hex[2 * CRYPTO_SHA256_LEN + 1];
	size_t nd = 0, i, j;
	int json, ex = 1;

	if ((ex = open_listing(e, "certs", argc, argv, &json, &s)) >= 0)
		return ex;
	memset(&ts, 0, sizeof(ts));
	ex = 1;
	if (store_get_state(s, &st) != RK_OK ||
	    store_get_distrust(s, &d, &nd) != RK_OK) {
		cli_warn("%s: cannot read the store", e->db);
		goto out;
	}
	if (st.active_version == 0) {
		cli_warn("no active trust set");
		goto out;
	}
	if (trustset_load(s, st.active_version, &ts) != RK_OK) {
		cli_warn("%s: cannot read the active set", e->db);
		goto out;
	}
	if (json) {
		jsonw_init(&w, stdout, 1);
		jsonw_obj_open(&w, NULL);
		jsonw_uint(&w, "version", st.active_version);
		jsonw_arr_open(&w, "certs");
	} else {
		printf("active set v%" PRIu64 ", %zu certificate%s\n",
		    st.active_version, ts.n, ts.n == 1 ? "" : "s");
	}
	for (i = 0; i < ts.n; i++) {
		const struct store_cert *c = ts.trusted[i];
		const struct store_distrust *after = NULL;

		/* The entry in force, with the version that set it. */
		for (j = 0; j < nd; j++)
			if (memcmp(d[j].sha256, c->sha256, CRYPTO_SHA256_LEN) ==
			    0)
				after = &d[j];
		hex_encode(c->sha256, CRYPTO_SHA256_LEN, hex);
		rfc3339_show_opt(c->not_after, t);
		if (!json) {
			printf("%s\n    not_after %s  sha256 %s\n", c->subject,
			    t, hex);
			if (after != NULL && after->has_after) {
				rfc3339_show_opt(after->after, t);
				printf("    distrusted for leaves issued after "
				       "%s (set by v%" PRIu64 ")\n",
				    t, after->since_version);
			} else if (after != NULL && after->lifted) {
				printf("    distrust lifted by v%" PRIu64 "\n",
				    after->since_version);
			}
			continue;
		}
		jsonw_obj_open(&w, NULL);
		jsonw_str(&w, "subject", c->subject);
		jsonw_str(&w, "sha256", hex);
		jsonw_str(&w, "not_after", t);
		/* DESIGN spells it distrust-after; the first slice wrote _. */
		if (after != NULL && after->has_after) {
			rfc3339_show_opt(after->after, t);
			jsonw_str(&w, "distrust-after", t);
			jsonw_str(&w, "distrust_after", t);
		} else {
			jsonw_null(&w, "distrust-after");
			jsonw_null(&w, "distrust_after");
		}
		if (after != NULL) {
			jsonw_obj_open(&w, "distrust");
			jsonw_str(&w, "state",
			    after->lifted      ? "lifted"
			    : after->has_after ? "after"
					       : "never");
			jsonw_uint(&w, "version", after->since_version);
			jsonw_obj_close(&w);
		} else {
			jsonw_null(&w, "distrust");
		}
		jsonw_obj_close(&w);
	}
	if (json) {
		jsonw_arr_close(&w);
		jsonw_obj_close(&w);
		jsonw_end(&w);
	}
	ex = 0;
out:
	trustset_free(&ts);
	free(d);
	store_close(s);
	return ex;
}

/* The event log, newest first: what happened and why, for people. */
static int
cmd_events(struct env *e, int argc, char **argv)
{
	struct store *s = NULL;
	struct store_event *ev = NULL;
	struct jsonw w;
	char t[RFC3339_LEN + 1];
	size_t n = 0, i;
	int json, ex;

	if ((ex = open_listing(e, "events", argc, argv, &json, &s)) >= 0)
		return ex;
	if (store_list_events(s, STORE_MAX_EVENTS, &ev, &n) != RK_OK) {
		cli_warn("%s: cannot read the store", e->db);
		store_close(s);
		return 1;
	}
	if (json) {
		jsonw_init(&w, stdout, 1);
		jsonw_obj_open(&w, NULL);
		jsonw_arr_open(&w, "events");
	}
	for (i = 0; i < n; i++) {
		rfc3339_show_opt(ev[i].at, t);
		if (!json) {
			printf("%s  %-12s ", t, ev[i].kind);
			if (ev[i].version > 0)
				printf("v%-6" PRIu64, ev[i].version);
			else
				printf("%-7s", "-");
			printf(" %s\n", ev[i].detail);
			continue;
		}
		jsonw_obj_open(&w, NULL);
		jsonw_int(&w, "id", ev[i].id);
		jsonw_str(&w, "at", t);
		jsonw_str(&w, "kind", ev[i].kind);
		if (ev[i].version > 0)
			jsonw_uint(&w, "version", ev[i].version);
		else
			jsonw_null(&w, "version");
		jsonw_str(&w, "detail", ev[i].detail);
		jsonw_obj_close(&w);
	}
	if (json) {
		jsonw_arr_close(&w);
		jsonw_obj_close(&w);
		jsonw_end(&w);
	}
	free(ev);
	store_close(s);
	return 0;
}

/* ---- main --------------------------------------------------------- */

/*
 * Is this command line's command `status`?  Its usage and config errors
 * exit 3 (unknown), which only makes sense once that is known.  *json
 * says whether --json (1) or --prometheus (2) follows it.
 */
static int
is_status(int argc, char **argv, int *json)
{
	int i;

	*json = 0;
	for (i = 1; i < argc; i++) {
		/* As main() reads them: every global option takes a value. */
		if (argv[i][0] == '-') {
			i++;
			continue;
		}
		if (strcmp(argv[i], "status") != 0)
			return 0;
		while (++i < argc)
			if (strcmp(argv[i], "--json") == 0)
				*json = 1;
			else if (strcmp(argv[i], "--prometheus") == 0)
				*json = 2;
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct env *, int, char **);
	} cmds[] = {{"init", cmd_init}, {"check", cmd_check},
	    {"apply", cmd_apply}, {"run", cmd_run}, {"status", cmd_status},
	    {"list", cmd_list}, {"certs", cmd_certs}, {"events", cmd_events},
	    {"rollback", cmd_rollback}, {"export", cmd_export}};
	struct env e;
	struct rk_why why = {""};
	const char *db = NULL;
	int i = 1, ex = EXIT_USAGE, fetches, status_json;
	int status_cmd = is_status(argc, argv, &status_json);
	size_t k;

	memset(&e, 0, sizeof(e));
	cli_set_name("rootkeeper");
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			print_help(NULL);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("rootkeeper %s\n", RK_VERSION_STRING);
			return 0;
		}
		if (i + 1 >= argc) {
			ex = cli_usage("%s needs a value", argv[i]);
			goto usage;
		}
		if (strcmp(argv[i], "--config") == 0) {
			e.config_path = argv[++i];
		} else if (strcmp(argv[i], "--db") == 0) {
			db = argv[++i];
		} else {
			ex = cli_usage("unknown option '%s'", argv[i]);
			goto usage;
		}
	}
	if (i >= argc)
		return cli_usage("no command given");
	if ((ex = help_dispatch(help_table, HELP_N, argc - i, argv + i)) >= 0)
		return ex;
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (strcmp(argv[i], cmds[k].name) == 0)
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0]))
		return cli_usage("unknown command '%s'", argv[i]);
	config_init(&e.cfg);
	if (config_load(&e.cfg, e.config_path, &why) != RK_OK) {
		cli_warn("%s", why.msg);
		config_free(&e.cfg);
		if (status_cmd)
			return cannot_judge(db, status_json, why.msg);
		return EXIT_USAGE;
	}
	e.db = strdup(db != NULL ? db : e.cfg.db);
	/* The export follows --db unless the config names it. */
	if (e.db != NULL)
		e.export_path = config_export_path(&e.cfg, e.db);
	if (e.db == NULL || e.export_path == NULL) {
		cli_warn("out of memory");
		ex = 1;
		goto out;
	}
	/* Only the commands that download pay for the transfer library. */
	fetches = cmds[k].fn == cmd_check || cmds[k].fn == cmd_run;
	if (fetches && fetch_global_init() != RK_OK) {
		cli_warn("cannot initialise the transfer library");
		ex = 1;
		goto out;
	}
	log_setup(LOG_TO_STDERR, e.cfg.log_level, "rootkeeper");
	ex = cmds[k].fn(&e, argc - i, argv + i);
	if (fetches)
		fetch_global_cleanup();
out:
	free(e.db);
	free(e.export_path);
	config_free(&e.cfg);
	return ex;
usage:
	return status_cmd ? cannot_judge(db, status_json, "bad usage") : ex;
}
