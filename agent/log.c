/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Levelled logging for the agent's command layer, to stderr or syslog.
 * On stderr a line reads "IDENT[PID]: LEVEL: message" (LEVEL one of error,
 * warn, info, debug) with no timestamp: the journal, syslog and container
 * runtimes that collect a daemon's stderr stamp lines themselves, and a
 * person at a terminal does not want one.  When stderr is the journal's
 * stream (systemd sets JOURNAL_STREAM to its device and inode), a line is
 * "<N>LEVEL: message" instead, N the syslog priority (3 error .. 7
 * debug), which journald reads as the priority and strips; it records the
 * pid and time itself.  To syslog a message goes with openlog(ident,
 * LOG_PID, LOG_DAEMON) at the matching priority; when there is no syslog
 * socket to take it (a container, a journal-only system), messages go to
 * stderr instead, and the first line says so.  Control
 * characters in a message (which may quote a server or a bundle) become
 * '?', so that one call is one line.  The mutable globals are the ones
 * log.h names: the level and the target, the latter with its ident (which
 * syslog keeps a pointer to).  Not thread-safe: main.c sets up logging
 * before anything else runs and again on SIGHUP, from the main loop.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024
#define DEFAULT_IDENT "rootkeeper"
#define SYSLOG_SOCKET "/dev/log"

static int log_level_now = LOG_LVL_INFO;
static int log_to_syslog;		   /* the target: 0 stderr */
static int log_to_journal;		   /* stderr is the journal's */
static char log_ident[64] = DEFAULT_IDENT; /* syslog keeps this pointer */

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* Whether stderr is the stream JOURNAL_STREAM ("DEV:INODE") names. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	char end;

	if (js == NULL || sscanf(js, "%ju:%ju%c", &dev, &ino, &end) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void
log_setup(int target, int level, const char *ident)
{
	struct stat st;
	int no_socket = 0;

	if (log_to_syslog)
		closelog();
	if (level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_level_now = level;
	snprintf(log_ident, sizeof(log_ident), "%s",
	    ident != NULL && *ident != '\0' ? ident : DEFAULT_IDENT);
	log_to_journal = stderr_is_journal();
	log_to_syslog = target == 1;
	/* syslog(3) drops messages silently when nothing listens. */
	if (log_to_syslog &&
	    (stat(SYSLOG_SOCKET, &st) != 0 || !S_ISSOCK(st.st_mode))) {
		log_to_syslog = 0;
		no_socket = 1;
	}
	if (log_to_syslog)
		openlog(log_ident, LOG_PID, LOG_DAEMON);
	if (no_socket)
		log_msg(LOG_LVL_WARN,
		    "log = syslog, but there is no syslog socket at "
		    "%s: logging to stderr",
		    SYSLOG_SOCKET);
}

int
log_level_from_name(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = LOG_LVL_ERROR; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void
log_msg(int level, const char *fmt, ...)
{
	static const int priorities[] = {
	    LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char buf[LOG_LINE_MAX];
	int saved = errno, n;
	va_list ap;
	char *s;

	if (level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	if (level > log_level_now) /* also every level above debug */
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(buf, sizeof(buf), "(unformattable message)");
	else if ((size_t)n >= sizeof(buf))
		memcpy(buf + sizeof(buf) - 4, "...", 4);
	for (s = buf; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
	if (log_to_syslog)
		syslog(priorities[level], "%s", buf);
	else if (log_to_journal)
		fprintf(stderr, "<%d>%s: %s\n", priorities[level],
		    level_names[level], buf);
	else
		fprintf(stderr, "%s[%ld]: %s: %s\n", log_ident, (long)getpid(),
		    level_names[level], buf);
	errno = saved;
}
