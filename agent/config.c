/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's configuration file (DESIGN section 5), the only module that
 * includes inih.  inih splits lines into sections and key = value pairs;
 * everything else is done here: the file is fed to inih through our own
 * line reader, which counts lines (Debian's libinih is built without
 * INI_HANDLER_LINENO, so the handler is never told the line), rejects what
 * inih would silently mangle (NUL and control bytes, lines longer than its
 * fixed buffer, which it would split in two, an unknown section with no
 * keys, which it would never report) and strips indentation, which turns
 * off inih's Python-style continuation lines: an indented line is a line
 * of its own.  Comments start a line with ';' or '#', or follow a value
 * after whitespace and ';' (inih's inline comments, on in Debian's build).
 * The file is parsed into a temporary struct that replaces the caller's
 * only when the whole file is good.  This module does not apply the
 * settings (log set-up, command-line overrides): main.c does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "fileio.h"
#include "url.h"
#include "log.h"

#define DEFAULT_INTERVAL (6 * 3600)
#define DEFAULT_JITTER (30 * 60)
#define DEFAULT_MAX_BUNDLE_SIZE (4ULL << 20)
#define DEFAULT_KEEP_VERSIONS 5
#define KEEP_VERSIONS_MAX 1000
#define MIN_BUNDLE_SIZE 1024
#define HOST_MAX 253   /* the longest DNS name */
#define VALUE_SHOWN 80 /* of a bad value, in an error message */

enum conf_key {
	K_URL,
	K_CHANNEL,
	K_DB,
	K_EXPORT_PEM,
	K_INTERVAL,
	K_JITTER,
	K_MAX_BUNDLE_SIZE,
	K_KEEP_VERSIONS,
	K_PROBE,
	K_LOG,
	K_LOG_LEVEL,
	K_DEVICE_ID,
	K_CENSUS,
	K_EXPORT_DIR,
	K_ON_CHANGE,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {"url", "channel", "db",
    "export_pem", "interval", "jitter", "max_bundle_size", "keep_versions",
    "probe", "log", "log_level", "device_id", "census", "export_dir",
    "on_change"};

struct conf_parse {
	FILE *f;
	const char *path;
	struct config *c; /* the temporary being filled */
	struct rk_why *why;
	unsigned lineno;	      /* of the line last handed to inih */
	unsigned first_line[K_COUNT]; /* 0: key not seen yet */
	int bom_checked;
	unsigned char pending[3]; /* bytes read ahead looking for a BOM */
	size_t n_pending, pending_at;
	int rc;		   /* the first error of ours, RK_OK if none */
	unsigned err_line; /* its line */
};

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->interval = DEFAULT_INTERVAL;
	c->jitter = DEFAULT_JITTER;
	c->max_bundle_size = DEFAULT_MAX_BUNDLE_SIZE;
	c->keep_versions = DEFAULT_KEEP_VERSIONS;
	c->log_target = LOG_TO_STDERR;
	c->log_level = LOG_LVL_INFO;
	c->census = 1;
}

/* 1 to CONFIG_DEVICE_ID_MAX printable ASCII characters, no spaces. */
static int
device_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > CONFIG_DEVICE_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

int
config_device_id(const struct config *c, const char *machine_id_path,
    char out[CONFIG_DEVICE_ID_MAX + 1])
{
	uint8_t *buf = NULL;
	size_t len = 0, n;
	int rc;

	if (c->device_id[0] != '\0') {
		memcpy(out, c->device_id, strlen(c->device_id) + 1);
		return RK_OK;
	}
	rc = fileio_read(
	    machine_id_path != NULL ? machine_id_path : CONFIG_MACHINE_ID, 4096,
	    &buf, &len);
	if (rc != RK_OK)
		return rc == RK_ENOMEM ? rc : RK_ENOENT;
	{
		const uint8_t *nl = memchr(buf, '\n', len);

		n = nl != NULL ? (size_t)(nl - buf) : len;
	}
	rc = device_id_ok((const char *)buf, n) ? RK_OK : RK_ENOENT;
	if (rc == RK_OK) {
		memcpy(out, buf, n);
		out[n] = '\0';
	}
	free(buf);
	return rc;
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_urls; i++)
		free(c->urls[i]);
	for (i = 0; i < c->n_probes; i++)
		free(c->probes[i]);
	free(c->db);
	free(c->export_pem);
	free(c->export_dir);
	free(c->on_change);
	config_init(c);
}

/*
 * Digits only: no sign, no space, not empty (strtoull would take all
 * three).  *end gets the first byte after the digits.
 */
static int
parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return RK_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return RK_EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return RK_OK;
}

/* A number's unit: its suffix ('\0' for none) and what it multiplies. */
struct unit {
	char suffix;
	uint64_t mult;
};

/*
 * Digits and at most one suffix of units[0..n), the value at most max;
 * RK_EINVAL for anything else.
 */
static int
parse_with_unit(const char *s, const struct unit *units, size_t n, uint64_t max,
    uint64_t *out)
{
	const char *end;
	uint64_t v;
	size_t i;

	if (s == NULL || parse_digits(s, &v, &end) != RK_OK)
		return RK_EINVAL;
	for (i = 0; i < n && units[i].suffix != *end; i++)
		;
	if (i == n || (*end != '\0' && end[1] != '\0') ||
	    v > max / units[i].mult)
		return RK_EINVAL;
	*out = v * units[i].mult;
	return RK_OK;
}

int
config_parse_duration(const char *s, int64_t *out)
{
	static const struct unit units[] = {
	    {'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	uint64_t v;

	if (parse_with_unit(s, units, sizeof(units) / sizeof(units[0]),
		(uint64_t)CONFIG_DURATION_MAX, &v) != RK_OK)
		return RK_EINVAL;
	*out = (int64_t)v;
	return RK_OK;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
	    {'\0', 1}, {'K', 1ULL << 10}, {'M', 1ULL << 20}, {'G', 1ULL << 30}};

	return parse_with_unit(
	    s, units, sizeof(units) / sizeof(units[0]), CONFIG_SIZE_MAX, out);
}

static int
host_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
}

int
config_parse_probe(const char *s, char *host, size_t hostlen, unsigned *port)
{
	char v6[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	const char *h, *colon, *close, *end;
	uint64_t p;
	size_t hl, i;

	if (s == NULL)
		return RK_EINVAL;
	if (s[0] == '[') {
		close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return RK_EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		if (hl == 0 || hl >= sizeof(v6))
			return RK_EINVAL;
		memcpy(v6, h, hl);
		v6[hl] = '\0';
		if (inet_pton(AF_INET6, v6, &addr) != 1)
			return RK_EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return RK_EINVAL;
		h = s;
		hl = (size_t)(colon - s);
		if (hl == 0 || hl > HOST_MAX)
			return RK_EINVAL;
		for (i = 0; i < hl; i++)
			if (!host_char_ok(h[i]))
				return RK_EINVAL;
	}
	if (parse_digits(colon + 1, &p, &end) != RK_OK || *end != '\0' ||
	    p < 1 || p > 65535)
		return RK_EINVAL;
	if (hl >= hostlen)
		return RK_EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return RK_OK;
}

/*
 * Lower-case schemes only, and printable ASCII after them: what reaches
 * libcurl is exactly what the operator can read in the file.
 */
static int
url_ok(const char *s)
{
	static const char *const schemes[] = {"http://", "https://", "file://"};
	const char *rest = NULL;
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(s, schemes[i], strlen(schemes[i])) == 0)
			rest = s + strlen(schemes[i]);
	if (rest == NULL || *rest == '\0')
		return 0;
	for (; *rest != '\0'; rest++)
		if ((unsigned char)*rest <= ' ' || (unsigned char)*rest >= 0x7f)
			return 0;
	return 1;
}

static int conf_error(struct conf_parse *p, unsigned line, int err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Records the first error of ours; why reads "FILE:LINE: reason", or
 * "FILE: reason" for a read error.
 */
static int
conf_error(struct conf_parse *p, unsigned line, int err, const char *fmt, ...)
{
	char reason[200];
	va_list ap;

	if (p->rc != RK_OK)
		return p->rc;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	p->rc = err;
	p->err_line = line;
	if (err == RK_EIO) /* the file, not a line of it */
		return rk_fail(p->why, err, "%s: %s", p->path, reason);
	return rk_fail(p->why, err, "%s:%u: %s", p->path, line, reason);
}

static int
bad_value(struct conf_parse *p, enum conf_key k, const char *value,
    const char *expected)
{
	return conf_error(p, p->lineno, RK_EINVAL, "bad %s \"%.*s%s\": %s",
	    key_names[k], VALUE_SHOWN, value,
	    strlen(value) > VALUE_SHOWN ? "..." : "", expected);
}

/* Sets *slot to a copy of value; *slot is NULL (a key seen once). */
static int
set_string(struct conf_parse *p, char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return conf_error(p, p->lineno, RK_ENOMEM, "out of memory");
	*slot = copy;
	return RK_OK;
}

static int
apply_key(struct conf_parse *p, enum conf_key k, const char *value)
{
	struct config *c = p->c;
	char host[HOST_MAX + 1];
	unsigned port;
	int64_t d;
	uint64_t n;
	int level;

	switch (k) {
	case K_URL:
		if (c->n_urls == CONFIG_MAX_URLS)
			return conf_error(p, p->lineno, RK_EINVAL,
			    "more than %d url lines", CONFIG_MAX_URLS);
		if (!url_ok(value)) {
			/* The message may be shown: never its password. */
			char shown[VALUE_SHOWN * 2];

			if (url_redact(value, shown, sizeof(shown)) != RK_OK)
				snprintf(shown, sizeof(shown), "(%zu bytes)",
				    strlen(value));
			return bad_value(p, k, shown,
			    "expected an http://, https:// or file:// URL");
		}
		if (set_string(p, &c->urls[c->n_urls], value) != RK_OK)
			return p->rc;
		c->n_urls++;
		return RK_OK;
	case K_PROBE:
		if (c->n_probes == CONFIG_MAX_PROBES)
			return conf_error(p, p->lineno, RK_EINVAL,
			    "more than %d probe lines", CONFIG_MAX_PROBES);
		if (config_parse_probe(value, host, sizeof(host), &port) !=
		    RK_OK)
			return bad_value(p, k, value,
			    "expected host:port or [IPv6]:port, port 1 to "
			    "65535");
		if (set_string(p, &c->probes[c->n_probes], value) != RK_OK)
			return p->rc;
		c->n_probes++;
		return RK_OK;
	case K_CHANNEL:
		if (!manifest_channel_ok(value))
			return bad_value(
			    p, k, value, "expected [a-z0-9._-], 1 to 64 long");
		memcpy(c->channel, value, strlen(value) + 1);
		return RK_OK;
	case K_DB:
		if (*value == '\0')
			return bad_value(p, k, value, "expected a path");
		return set_string(p, &c->db, value);
	case K_EXPORT_PEM:
		if (*value == '\0')
			return bad_value(p, k, value, "expected a path");
		return set_string(p, &c->export_pem, value);
	case K_EXPORT_DIR:
		if (*value == '\0')
			return bad_value(p, k, value, "expected a path");
		return set_string(p, &c->export_dir, value);
	case K_ON_CHANGE:
		if (*value == '\0')
			return bad_value(p, k, value, "expected a command");
		return set_string(p, &c->on_change, value);
	case K_INTERVAL:
		if (config_parse_duration(value, &d) != RK_OK || d < 1)
			return bad_value(p, k, value,
			    "expected a duration of at least 1s, like 90s, "
			    "30m, 6h or 1d");
		c->interval = d;
		return RK_OK;
	case K_JITTER:
		if (config_parse_duration(value, &d) != RK_OK)
			return bad_value(p, k, value,
			    "expected a duration like 0, 90s, 30m, 6h or 1d");
		c->jitter = d;
		return RK_OK;
	case K_MAX_BUNDLE_SIZE:
		if (config_parse_size(value, &n) != RK_OK ||
		    n < MIN_BUNDLE_SIZE)
			return bad_value(p, k, value,
			    "expected a size from 1K to 1G, like 512K or 4M");
		c->max_bundle_size = n;
		return RK_OK;
	case K_KEEP_VERSIONS: {
		const char *end;

		if (parse_digits(value, &n, &end) != RK_OK || *end != '\0' ||
		    n < 1 || n > KEEP_VERSIONS_MAX)
			return bad_value(
			    p, k, value, "expected a number from 1 to 1000");
		c->keep_versions = (unsigned)n;
		return RK_OK;
	}
	case K_LOG:
		if (strcmp(value, "stderr") == 0)
			c->log_target = LOG_TO_STDERR;
		else if (strcmp(value, "syslog") == 0)
			c->log_target = LOG_TO_SYSLOG;
		else
			return bad_value(
			    p, k, value, "expected stderr or syslog");
		return RK_OK;
	case K_LOG_LEVEL:
		level = log_level_from_name(value);
		if (level < 0)
			return bad_value(
			    p, k, value, "expected error, warn, info or debug");
		c->log_level = level;
		return RK_OK;
	case K_DEVICE_ID:
		if (!device_id_ok(value, strlen(value)))
			return bad_value(p, k, value,
			    "expected 1 to 128 printable characters without "
			    "spaces");
		memcpy(c->device_id, value, strlen(value) + 1);
		return RK_OK;
	case K_CENSUS:
		if (strcmp(value, "yes") == 0)
			c->census = 1;
		else if (strcmp(value, "no") == 0)
			c->census = 0;
		else
			return bad_value(p, k, value, "expected yes or no");
		return RK_OK;
	case K_COUNT:
		break;
	}
	return conf_error(p, p->lineno, RK_EINVAL, "internal: key %d", (int)k);
}

/* inih's callback: nonzero to go on. */
static int
conf_handler(
    void *user, const char *section, const char *name, const char *value)
{
	struct conf_parse *p = user;
	enum conf_key k;

	if (p->rc != RK_OK)
		return 0;
	if (*section == '\0') {
		conf_error(p, p->lineno, RK_EINVAL,
		    "key \"%.*s\" before [agent]", VALUE_SHOWN, name);
		return 0;
	}
	if (strcmp(section, "agent") != 0) {
		/* The reader stops at the header already; kept for safety. */
		conf_error(p, p->lineno, RK_EINVAL, "unknown section [%.*s]",
		    VALUE_SHOWN, section);
		return 0;
	}
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(name, key_names[k]) == 0)
			break;
	if (k == K_COUNT) {
		conf_error(p, p->lineno, RK_EINVAL, "unknown key \"%.*s\"",
		    VALUE_SHOWN, name);
		return 0;
	}
	if (p->first_line[k] != 0 && k != K_URL && k != K_PROBE) {
		conf_error(p, p->lineno, RK_EINVAL,
		    "%s given twice (first on line %u)", key_names[k],
		    p->first_line[k]);
		return 0;
	}
	if (p->first_line[k] == 0)
		p->first_line[k] = p->lineno;
	return apply_key(p, k, value) == RK_OK;
}

/* The next byte of the file, after any UTF-8 byte order mark. */
static int
conf_getc(struct conf_parse *p)
{
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
	int ch;

	if (!p->bom_checked) {
		p->bom_checked = 1;
		while (p->n_pending < 3 && (ch = getc(p->f)) != EOF)
			p->pending[p->n_pending++] = (unsigned char)ch;
		if (p->n_pending == 3 && memcmp(p->pending, bom, 3) == 0)
			p->n_pending = 0;
	}
	if (p->pending_at < p->n_pending)
		return p->pending[p->pending_at++];
	return getc(p->f);
}

/*
 * A section header is checked here, not in the handler, so that an
 * unknown section is an error even when no key follows it.  inih ignores
 * whatever follows the ']'; here only a comment may.
 */
static int
check_section(struct conf_parse *p, const char *line, unsigned lineno)
{
	const char *close = strchr(line, ']');
	size_t n;

	if (close == NULL)
		return RK_OK; /* inih reports it as a line it cannot parse */
	n = (size_t)(close - line - 1);
	if (n != strlen("agent") || memcmp(line + 1, "agent", n) != 0)
		return conf_error(p, lineno, RK_EINVAL,
		    "unknown section [%.*s]",
		    (int)(n > VALUE_SHOWN ? VALUE_SHOWN : n), line + 1);
	for (close++; *close == ' ' || *close == '\t'; close++)
		;
	if (*close != '\0' && *close != ';')
		return conf_error(
		    p, lineno, RK_EINVAL, "unexpected text after [agent]");
	return RK_OK;
}

/*
 * inih's fgets-like reader: one physical line per call, so that inih's
 * count and ours agree, without its indentation, line end and BOM, and
 * with an over-long comment cut to what fits.
 * Returns NULL at the end of the file or at the first error (ours or the
 * handler's), which ends inih's loop.
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_parse *p = stream;
	unsigned lineno = p->lineno + 1;
	size_t n = 0;
	int ch, any = 0;

	if (p->rc != RK_OK)
		return NULL;
	if (num < 2) {
		conf_error(p, lineno, RK_EINVAL, "inih line buffer of %d", num);
		return NULL;
	}
	while ((ch = conf_getc(p)) != EOF) {
		any = 1;
		if (ch == '\n')
			break;
		if (ch == '\r') {
			ch = conf_getc(p);
			if (ch == '\n' || ch == EOF)
				break;
			conf_error(p, lineno, RK_EINVAL,
			    "carriage return inside a line");
			return NULL;
		}
		if ((ch < ' ' && ch != '\t') || ch == 0x7f) {
			conf_error(p, lineno, RK_EINVAL,
			    "control character 0x%02x", (unsigned)ch);
			return NULL;
		}
		if (n == 0 && (ch == ' ' || ch == '\t'))
			continue;
		if (n == (size_t)num - 1) {
			/* A comment may go on: inih would ignore the rest. */
			if (str[0] == ';' || str[0] == '#')
				continue;
			conf_error(p, lineno, RK_EINVAL,
			    "line longer than %d characters", num - 1);
			return NULL;
		}
		str[n++] = (char)ch;
	}
	if (ferror(p->f)) {
		conf_error(
		    p, lineno, RK_EIO, "read failed: %s", strerror(errno));
		return NULL;
	}
	if (!any)
		return NULL;
	str[n] = '\0';
	p->lineno = lineno;
	if (str[0] == '[' && check_section(p, str, lineno) != RK_OK)
		return NULL;
	return str;
}

static int
parse_file(FILE *f, const char *path, struct config *c, struct rk_why *why)
{
	struct conf_parse p;
	int line;

	memset(&p, 0, sizeof(p));
	p.f = f;
	p.path = path;
	p.c = c;
	p.why = why;
	p.rc = RK_OK;
	line = ini_parse_stream(conf_reader, &p, conf_handler, &p);
	if (line == -2)
		return rk_fail(why, RK_ENOMEM, "%s: out of memory", path);
	/* inih goes on after a line it cannot parse: the first error wins. */
	if (line > 0 && (p.rc == RK_OK || (unsigned)line < p.err_line))
		return rk_fail(why, RK_EINVAL,
		    "%s:%d: cannot parse (expected [agent], key = value or "
		    "a ; comment)",
		    path, line);
	if (p.rc == RK_OK && line != 0)
		return rk_fail(why, RK_EINVAL, "%s: cannot parse", path);
	return p.rc;
}

int
config_load(struct config *c, const char *path, struct rk_why *why)
{
	const char *name = path != NULL ? path : CONFIG_DEFAULT_PATH;
	struct config tmp;
	FILE *f = NULL;
	int rc;

	config_init(&tmp);
	f = fopen(name, "re");
	if (f == NULL && errno == ENOENT && path != NULL) {
		rc = rk_fail(why, RK_ENOENT, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (f == NULL && errno != ENOENT) {
		rc = rk_fail(why, RK_EIO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (f != NULL) {
		rc = parse_file(f, name, &tmp, why);
		if (rc != RK_OK)
			goto out;
	}
	if (tmp.db == NULL) {
		tmp.db = strdup(CONFIG_DEFAULT_DB);
		if (tmp.db == NULL) {
			rc = rk_fail(why, RK_ENOMEM, "out of memory");
			goto out;
		}
	}
	config_free(c);
	*c = tmp;
	config_init(&tmp);
	rc = RK_OK;
out:
	if (f != NULL)
		fclose(f);
	config_free(&tmp);
	return rc;
}

char *
config_export_path(const struct config *c, const char *db)
{
	static const char file[] = "trust.pem";
	char *copy = NULL, *dir, *out = NULL;
	size_t dlen;

	if (c->export_pem != NULL)
		return strdup(c->export_pem);
	if (db == NULL)
		db = c->db != NULL ? c->db : CONFIG_DEFAULT_DB;
	copy = strdup(db);
	if (copy == NULL)
		goto out;
	dir = dirname(copy);
	dlen = strlen(dir);
	out = malloc(dlen + 1 + sizeof(file));
	if (out == NULL)
		goto out;
	memcpy(out, dir, dlen);
	if (dlen == 0 || dir[dlen - 1] != '/')
		out[dlen++] = '/';
	memcpy(out + dlen, file, sizeof(file));
out:
	free(copy);
	return out;
}
