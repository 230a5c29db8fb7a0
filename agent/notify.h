/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's reports to systemd (sd_notify(3)'s protocol, done here
 * rather than by linking libsystemd): READY=1 once the store is open,
 * STATUS= after each check, WATCHDOG=1 while it sleeps, STOPPING=1.
 * Outside systemd (no NOTIFY_SOCKET) every call does nothing.
 */
#ifndef RK_NOTIFY_H
#define RK_NOTIFY_H

#include <stdint.h>

/*
 * Sends one datagram of "KEY=VALUE" lines to $NOTIFY_SOCKET (a path, or
 * an abstract socket written with a leading '@').  Returns 1 when sent, 0
 * when there is no socket to send to, -1 on an error (errno is set); the
 * daemon goes on either way.
 */
int notify_send(const char *msg);

/*
 * The watchdog period systemd asked for (WATCHDOG_USEC, for this pid when
 * WATCHDOG_PID is set), in seconds rounded down, at least 1; 0 when there
 * is none.
 */
int64_t notify_watchdog_interval(void);

#endif
