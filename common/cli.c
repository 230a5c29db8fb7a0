/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See cli.h.  The program name is this file's one mutable global, set by
 * main() before anything is printed.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

static const char *prog_name = "rootkeeper";

void
cli_set_name(const char *prog)
{
	prog_name = prog;
}

static void vwarn(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static void
vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

int
cli_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", prog_name);
	return CLI_EXIT_USAGE;
}
