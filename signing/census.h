/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fleet census (DESIGN.md section 4): how many devices run which
 * version, counted from the web server's access logs alone.  Every request
 * of the agent carries "User-Agent: rootkeeper/AGENT_VERSION (channel=C;
 * active=N; highest=N; id=H)" (and "deferred=N" while a staged rollout
 * holds one back), H a 16-hex-digit pseudonym of the device.  This module
 * parses nginx/Apache "combined" log lines, keeps the newest line of each
 * device (by the log's time, then by input order), and counts devices per
 * channel by active version, deferred version and agent version.  Logic
 * only: lines in, counts out; no files, no printing.
 */
#ifndef RK_CENSUS_H
#define RK_CENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"

#define CENSUS_LINE_MAX 16384 /* a longer line is malformed */
#define CENSUS_AGENT_MAX 32   /* the AGENT_VERSION token */
#define CENSUS_MAX_DEVICES (1u << 24)
#define CENSUS_MAX_NAMES 4096 /* distinct channels, agent versions */

/* What one log line of an agent says. */
struct census_line {
	int64_t time; /* the log's [time_local], seconds since the epoch */
	uint64_t id;  /* H */
	char channel[MANIFEST_CHANNEL_MAX + 1];
	char agent[CENSUS_AGENT_MAX + 1];
	int has_active, has_highest, has_deferred;
	uint64_t active, highest, deferred;
};

/*
 * Parses one "combined" log line (no line break) of line[0..len).
 * RK_OK when it is a request of an agent that sends its census, with *out
 * filled; RK_ENOENT for a well-formed line of anything else (another
 * client, an agent with `census = no` or without a device id, so without
 * a pseudonym to count it by); RK_EFORMAT for a line that is not
 * in the combined format or whose rootkeeper User-Agent is malformed.
 */
int census_parse_line(
    const char *line, size_t len, struct census_line *out) RK_WUR;

struct census;

/* An empty census.  Caller frees with census_free(). */
int census_new(struct census **out) RK_WUR;

void census_free(struct census *c);

/*
 * Counts one log line: RK_OK when it came from a device (which replaces
 * that device's older line), RK_ENOENT / RK_EFORMAT as census_parse_line(),
 * RK_ELIMIT past CENSUS_MAX_DEVICES devices or CENSUS_MAX_NAMES channels
 * or agent versions, RK_ENOMEM.
 */
int census_add(struct census *c, const char *line, size_t len) RK_WUR;

/* Distinct devices seen. */
size_t census_devices(const struct census *c);

/* The channels seen, sorted by name; i < census_nchannels(). */
size_t census_nchannels(const struct census *c);
const char *census_channel(const struct census *c, size_t i);

enum census_kind {
	CENSUS_ACTIVE,	 /* by active version */
	CENSUS_DEFERRED, /* by deferred version (deferring devices only) */
	CENSUS_AGENTS,	 /* by agent version */
	CENSUS_DEVICES,	 /* one entry: all devices of the channel */
};

struct census_count {
	char key[CENSUS_AGENT_MAX + 1]; /* a version number or agent version */
	size_t count;
};

/*
 * The devices of channel i counted by kind, sorted by key (versions
 * numerically, agent versions as versions).  *out is malloc'ed (caller
 * frees); *n may be 0.
 */
int census_tally(const struct census *c, size_t i, enum census_kind kind,
    struct census_count **out, size_t *n) RK_WUR;

#endif
