/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One error enum for the whole project, with a message table (rk_strerror)
 * and a small buffer that carries the detail of a failure ("cert 3: not a
 * CA") from the code that saw it to main.c, which alone prints.  Nothing
 * here allocates; the detail buffer is owned by the caller.
 */
#ifndef RK_ERROR_H
#define RK_ERROR_H

#include <stddef.h>

#define RK_WUR __attribute__((warn_unused_result))

enum rk_err {
	RK_OK = 0,
	RK_ENOMEM,    /* out of memory */
	RK_EIO,	      /* read, write or fsync failed */
	RK_EINVAL,    /* bad argument from the caller */
	RK_ENOENT,    /* no such file or item */
	RK_EEXIST,    /* refuses to overwrite */
	RK_ETRUNC,    /* input ends early */
	RK_EFORMAT,   /* framing or encoding is malformed */
	RK_ETRAILING, /* bytes after the end */
	RK_ELIMIT,    /* a size or count limit exceeded */
	RK_ESIG,      /* not enough valid signatures */
	RK_EKEY,      /* key unusable: bad encoding, wrong curve */
	RK_EMANIFEST, /* manifest invalid */
	RK_ECERT,     /* certificate set invalid */
	RK_ECRYPTO,   /* the crypto library failed */
	RK_EVERSION,  /* version not above the one already there */
	RK_ENET,      /* transfer failed: DNS, connect, TLS, HTTP status */
	RK_ESTORE,    /* the SQLite store failed or is not ours */
	RK_ECHANNEL,  /* bundle for another channel */
	RK_EROLLBACK, /* version not above the highest ever verified */
	RK_EEQUIV,    /* same version, different bytes: equivocation */
	RK_EEXPIRED,  /* bundle past its expires_at */
	RK_EPROBE,    /* a probe would lose its hub under this set */
	RK_EDISTRUST, /* nothing trusted left after the distrust lists */
	RK_EBUSY,     /* another writer holds the store */
	RK_EFUTURE,   /* bundle issued in the future (sane clock) */
	RK_ERR_COUNT
};

/* The message for err; never NULL, also for values out of range. */
const char *rk_strerror(int err);

/* Where a failing function explains itself; may be NULL everywhere. */
struct rk_why {
	char msg[256];
};

/*
 * Writes a printf-style detail into why (if not NULL) and returns err, so a
 * failure reads `return rk_fail(why, RK_ECERT, "cert %zu: not a CA", i);`.
 */
int rk_fail(struct rk_why *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
