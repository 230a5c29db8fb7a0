/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Levelled logging for the agent, to stderr or syslog.  The level and the
 * target are the process's only logging globals (set once by main.c,
 * again on SIGHUP).  Libraries do not log: only the agent's command layer
 * calls this.
 */
#ifndef RK_LOG_H
#define RK_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* target: 0 stderr, 1 syslog (opened with ident). */
void log_setup(int target, int level, const char *ident);

/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_from_name(const char *name);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
