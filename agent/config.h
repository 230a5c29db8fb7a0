/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration file (DESIGN section 5), read with inih, the
 * only module that includes it.  Every key has a default; the default file
 * may be missing; an unknown section or key, a repeated single-valued key,
 * or a bad value is an error that names the file and the line.  Durations
 * are like 90s, 30m, 6h, 1d (a bare number is seconds); sizes like 512K,
 * 4M (a bare number is bytes).
 */
#ifndef RK_CONFIG_H
#define RK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"

#define CONFIG_DEFAULT_PATH "/etc/rootkeeper/rootkeeper.conf"
#define CONFIG_DEFAULT_DB "/var/lib/rootkeeper/store.db"
#define CONFIG_MAX_URLS 8
#define CONFIG_MAX_PROBES 16
/* Bounds of config_parse_duration() and config_parse_size(). */
#define CONFIG_DURATION_MAX 2147483647LL /* 2^31 - 1 s, about 68 years */
#define CONFIG_SIZE_MAX 1073741824ULL	 /* 1G */
#define CONFIG_DEVICE_ID_MAX 128
#define CONFIG_MACHINE_ID "/etc/machine-id"

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

struct config {
	char *urls[CONFIG_MAX_URLS]; /* mirrors, tried in order */
	size_t n_urls;
	char channel[MANIFEST_CHANNEL_MAX + 1]; /* "" when not set */
	char *db;				/* never NULL after load */
	char *export_pem;	  /* NULL: "trust.pem" in the db's folder */
	int64_t interval;	  /* seconds; default 6h */
	int64_t jitter;		  /* seconds; default 30m */
	uint64_t max_bundle_size; /* default 4M */
	unsigned keep_versions;	  /* default 5 */
	char *probes[CONFIG_MAX_PROBES]; /* "host:port" */
	size_t n_probes;
	char *export_dir; /* NULL: no CApath folder (capath.h) */
	char *on_change;  /* NULL: no hook (hook.h); run by /bin/sh -c */
	enum log_target log_target; /* key "log": stderr | syslog */
	int log_level;		    /* key "log_level": error..debug */
	/* The rollout bucket's and the census's id; "" when not set. */
	char device_id[CONFIG_DEVICE_ID_MAX + 1];
	int census; /* key "census": yes (1, the default) | no (0) */
};

/* Fills the defaults; owns nothing yet (db stays NULL until a load). */
void config_init(struct config *c);

/*
 * Reads path into c (which config_init() prepared).  path NULL means the
 * default path, which may be missing; a path given explicitly must exist.
 * Errors: RK_ENOENT (an explicit path missing), RK_EIO (unreadable),
 * RK_EINVAL (anything wrong inside: why reads "FILE:LINE: reason"),
 * RK_ENOMEM.  On error c is untouched (it keeps its defaults); on success
 * its earlier contents are freed and replaced, a key the file does not
 * set taking its default (so a reload starts afresh).
 */
int config_load(struct config *c, const char *path, struct rk_why *why) RK_WUR;

/* Frees what c owns and leaves it as config_init() does; NULL is fine. */
void config_free(struct config *c);

/*
 * The export path: export_pem, or trust.pem beside the store db (the one
 * in use, which --db may choose; c->db when db is NULL, CONFIG_DEFAULT_DB
 * when both are).  Caller frees; NULL when out of memory.
 */
char *config_export_path(const struct config *c, const char *db);

/*
 * The device's id: device_id when set, else the first line of
 * machine_id_path (CONFIG_MACHINE_ID when NULL).  RK_ENOENT when neither
 * gives one (no file, an empty one, or one that is not a valid id: 1 to
 * 128 printable ASCII characters without spaces).  out gets
 * CONFIG_DEVICE_ID_MAX + 1 bytes, written on success only.
 */
int config_device_id(const struct config *c, const char *machine_id_path,
    char out[CONFIG_DEVICE_ID_MAX + 1]) RK_WUR;

/*
 * "6h" -> 21600: digits and one optional unit s, m, h or d.  RK_EINVAL for
 * anything else (a sign, spaces, an empty string, another unit, more than
 * CONFIG_DURATION_MAX seconds).
 */
int config_parse_duration(const char *s, int64_t *out) RK_WUR;

/*
 * "4M" -> 4194304: digits and one optional binary unit K, M or G (upper
 * case).  RK_EINVAL for anything else, or more than CONFIG_SIZE_MAX.
 */
int config_parse_size(const char *s, uint64_t *out) RK_WUR;

/*
 * A probe "host:port" (port 1..65535; [v6]:port allowed).  host is a name
 * of letters, digits, '.', '-', '_' (at most 253) or an IPv6 address,
 * written to host without its brackets.  RK_EINVAL for anything else or
 * when host does not fit hostlen; host and port are written on success
 * only.
 */
int config_parse_probe(
    const char *s, char *host, size_t hostlen, unsigned *port) RK_WUR;

#endif
