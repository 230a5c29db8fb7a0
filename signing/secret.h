/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secrets an operator types or keeps in a file: a key's passphrase, a
 * token's PIN.  From a file, the first line (without its line break); from
 * the terminal, one line read from /dev/tty with echo off, so that a
 * secret is never shown, never taken from a pipe by mistake and never
 * left in a shell's history.  The caller's buffer holds the secret and is
 * wiped by the caller.
 */
#ifndef RK_SECRET_H
#define RK_SECRET_H

#include <stddef.h>

#include "error.h"

#define SECRET_MAX 1024

/*
 * The first line of path into buf (cap bytes with the NUL), without its
 * "\n" or "\r\n".  RK_ENOENT or RK_EIO (errno kept) when the file cannot
 * be read, RK_ELIMIT when the line does not fit, RK_EFORMAT when it is
 * empty or holds a NUL byte.
 */
int secret_from_file(
    const char *path, char *buf, size_t cap, size_t *len) RK_WUR;

/*
 * Shows prompt on the terminal and reads one line with echo off.
 * RK_ENOENT when the process has no terminal, RK_EIO when reading fails,
 * RK_ELIMIT when the line does not fit, RK_EFORMAT when it is empty.
 */
int secret_from_tty(
    const char *prompt, char *buf, size_t cap, size_t *len) RK_WUR;

#endif
