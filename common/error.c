/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The project's error messages and the detail buffer.  Fixed strings only:
 * the words here are what an operator reads after "rejected: ".
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const messages[RK_ERR_COUNT] = {
    [RK_OK] = "success",
    [RK_ENOMEM] = "out of memory",
    [RK_EIO] = "input/output error",
    [RK_EINVAL] = "invalid argument",
    [RK_ENOENT] = "not found",
    [RK_EEXIST] = "already exists",
    [RK_ETRUNC] = "truncated",
    [RK_EFORMAT] = "malformed",
    [RK_ETRAILING] = "trailing bytes after the end",
    [RK_ELIMIT] = "limit exceeded",
    [RK_ESIG] = "signature check failed",
    [RK_EKEY] = "unusable key",
    [RK_EMANIFEST] = "invalid manifest",
    [RK_ECERT] = "invalid certificate set",
    [RK_ECRYPTO] = "crypto library failure",
    [RK_EVERSION] = "version not above the current one",
    [RK_ENET] = "transfer failed",
    [RK_ESTORE] = "store error",
    [RK_ECHANNEL] = "wrong channel",
    [RK_EROLLBACK] = "version not above the highest seen (rollback)",
    [RK_EEQUIV] = "equivocation: same version, different bytes",
    [RK_EEXPIRED] = "bundle expired",
    [RK_EPROBE] = "a probe fails under the new set (anti-lockout)",
    [RK_EDISTRUST] = "no trusted certificate left after distrust",
    [RK_EBUSY] = "another writer holds the store",
    [RK_EFUTURE] = "bundle issued in the future",
};

const char *
rk_strerror(int err)
{
	if (err < 0 || err >= RK_ERR_COUNT || messages[err] == NULL)
		return "unknown error";
	return messages[err];
}

int
rk_fail(struct rk_why *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL) {
		va_start(ap, fmt);
		vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}
