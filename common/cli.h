/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Messages of the two command-line programs, in one voice: "PROG: what"
 * on stderr, and for usage errors a pointer to --help and exit code 2.
 * Only main.c files call these: libraries never print.
 */
#ifndef RK_CLI_H
#define RK_CLI_H

#define CLI_EXIT_USAGE 2
#define CLI_EXIT_REJECT 3 /* the input (a bundle, a key) is refused */

/* The program name the messages start with; set once in main(). */
void cli_set_name(const char *prog);

/* "PROG: message" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, then "Try 'PROG --help'."; returns CLI_EXIT_USAGE. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
