/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The active set as an OpenSSL CApath folder (`openssl s_client -CApath`,
 * `curl --capath`, SSL_CTX_load_verify_locations): one PEM file per root,
 * named by its SHA-256 (HEX.pem), and the subject-hash links HASH.0,
 * HASH.1, ... that `openssl rehash` makes, as relative symbolic links.
 * The folder is replaced atomically: DIR is a symbolic link to a folder
 * .DIR.XXXXXX beside it, a new folder is built and fsynced and the link
 * is swapped by rename(2), so a reader sees the old set or the new one.
 * It does not judge the set; trustset.c decides what is trusted.
 */
#ifndef RK_CAPATH_H
#define RK_CAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/*
 * Makes dir hold exactly the n certificates der[i] (len[i] bytes each).
 * When dir already holds exactly those files nothing is written and
 * *changed is 0, else 1.  The parent folder is created when missing.  dir
 * may be missing, an empty folder, or a link this function made; anything
 * else is refused (RK_EEXIST: why names it) and left alone.  Errors:
 * RK_EIO (errno kept), RK_EFORMAT (a certificate whose subject cannot be
 * read), RK_ENOMEM.  On failure the old folder stays.
 */
int capath_write(const char *dir, const uint8_t *const *der, const size_t *len,
    size_t n, int *changed, struct rk_why *why) RK_WUR;

#endif
