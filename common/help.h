/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The help of both programs, from one table per page.  A table is made by
 * including a .def file (agent/help.def, signing/help.def, and the
 * rootkeeper.conf and librootkeeper pages) with the HELP_ macros defined
 * to make entries; the programs print --help and per-command help from it,
 * and doc/mkman.c writes the man pages from the same tables, so that the
 * two cannot drift apart.  Text is unwrapped: paragraphs are separated by
 * "\n\n" and the printer wraps them; HELP_EXAMPLE text is printed as it
 * is.  This module only formats text for a terminal; it does not parse
 * command lines.
 */
#ifndef RK_HELP_H
#define RK_HELP_H

#include <stddef.h>
#include <stdio.h>

enum help_kind {
	HELP_K_PROG,	/* a: name, b: section, c: synopsis, d: one line */
	HELP_K_TEXT,	/* a: description of the program (paragraphs) */
	HELP_K_CMD,	/* a: name, b: synopsis, c: summary, d: text */
	HELP_K_SECT,	/* a: title, b: text, c: "help" when in --help */
	HELP_K_ITEM,	/* a: term, b: text; under the last CMD or SECT */
	HELP_K_EXAMPLE, /* a: verbatim text; under the last CMD or SECT */
};

struct help_entry {
	enum help_kind kind;
	const char *a, *b, *c, *d;
};

/*
 * The entries a .def file makes, in a struct help_entry array:
 *	static const struct help_entry t[] = {
 *	#include "help_table.h"
 *	#include "help.def"
 *	};
 */
#define HELP_ENTRY(k, a, b, c, d) {k, a, b, c, d},

/*
 * The whole program's help, as --help prints it: usage, description, the
 * commands with their synopsis and summary, the sections marked "help".
 */
void help_print(const struct help_entry *t, size_t n, FILE *f);

/*
 * One command's help (`PROG help CMD`, `PROG CMD --help`): usage line,
 * summary, text and options.  Returns 0, or -1 when t has no command cmd
 * (nothing printed).
 */
int help_print_cmd(
    const struct help_entry *t, size_t n, const char *cmd, FILE *f);

/*
 * What `PROG CMD --help` and `PROG --help` print: cmd's help when t has a
 * command cmd, else (cmd NULL, or not in t) the whole program's help.
 */
void help_print_any(
    const struct help_entry *t, size_t n, const char *cmd, FILE *f);

/*
 * The help requests of a command line, argv[0] being the command word:
 * `help`, `help CMD`, and `CMD ... --help` (or -h, before any "--") for a
 * command of t.  Prints the help and returns the exit code (0, or 2 with a
 * message for an unknown command); returns -1 when argv asks for no help.
 */
int help_dispatch(const struct help_entry *t, size_t n, int argc, char **argv);

/* Whether t has a command named cmd. */
int help_has_cmd(const struct help_entry *t, size_t n, const char *cmd);

#endif
