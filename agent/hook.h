/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on_change hook (DESIGN section 4, config on_change): a command run
 * with /bin/sh -c after every activation and rollback, e.g. to feed the
 * system store through update-ca-certificates.  It is started with
 * posix_spawn (never system(3)), with the agent's environment plus
 * RK_VERSION (the active version), RK_EXPORT (the PEM export's path) and,
 * when set, RK_EXPORT_DIR (the CApath folder); its standard output goes
 * to the agent's standard error, so that the agent's own output stays
 * clean.  This module runs it and reports how it ended; it does not undo
 * anything when it fails: the caller logs that.
 */
#ifndef RK_HOOK_H
#define RK_HOOK_H

#include <stdint.h>

#include "error.h"

/*
 * Runs cmd and waits for it, at most timeout seconds (then it is killed
 * with SIGKILL).  export_dir may be NULL.  On RK_OK, *wstatus is the
 * waitpid() status and *timed_out says whether it was killed for taking
 * too long.  RK_EIO (errno kept) when it cannot be started, RK_ENOMEM.
 */
int hook_run(const char *cmd, uint64_t version, const char *export_pem,
    const char *export_dir, int timeout, int *wstatus, int *timed_out) RK_WUR;

#endif
