/* SPDX-License-Identifier: Apache-2.0 */
/*
 * See help.h.  Text is wrapped at HELP_WIDTH columns, word by word; a word
 * longer than the line is printed whole on a line of its own.
 */
#include "help.h"

#include <string.h>

#include "cli.h"

#define HELP_WIDTH 79
#define HELP_SUB 6 /* indent of the text under a command or an item */

/*
 * Prints text, wrapped, the first line from column col (where the cursor
 * is: the caller printed what comes before), the others indented by
 * indent, with a blank line between paragraphs.
 */
static void
wrap_at(FILE *f, const char *text, int col, int indent)
{
	const char *p = text;
	int start = 1;

	while (*p != '\0') {
		size_t w;

		if (p[0] == '\n' && p[1] == '\n') {
			fprintf(f, "\n\n%*s", indent, "");
			col = indent;
			start = 1;
			p += 2;
			continue;
		}
		if (*p == ' ' || *p == '\n') {
			p++;
			continue;
		}
		w = strcspn(p, " \n");
		if (!start && col + 1 + (int)w > HELP_WIDTH) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
			start = 1;
		}
		if (!start) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += (int)w;
		start = 0;
		p += w;
	}
	fputc('\n', f);
}

/* The same, the first line indented by first. */
static void
wrap(FILE *f, const char *text, int first, int indent)
{
	fprintf(f, "%*s", first, "");
	wrap_at(f, text, first, indent);
}

/*
 * A term and its text: "  TERM  text" when the term is short, else the
 * text on the lines under it.
 */
static void
item(FILE *f, const char *term, const char *text)
{
	int len = (int)strlen(term);

	if (2 + len + 1 <= HELP_SUB) {
		fprintf(f, "  %-*s", HELP_SUB - 2, term);
		wrap_at(f, text, HELP_SUB, HELP_SUB);
		return;
	}
	wrap(f, term, 2, 4);
	wrap(f, text, HELP_SUB, HELP_SUB);
}

/* Verbatim text, every line indented. */
static void
verbatim(FILE *f, const char *text, int indent)
{
	const char *p = text;

	while (*p != '\0') {
		size_t w = strcspn(p, "\n");

		fprintf(f, "%*s%.*s\n", w > 0 ? indent : 0, "", (int)w, p);
		p += w;
		if (*p == '\n')
			p++;
	}
}

static const struct help_entry *
prog_entry(const struct help_entry *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].kind == HELP_K_PROG)
			return &t[i];
	return NULL;
}

/* "  NAME SYNOPSIS" wrapped, continuation lines under the synopsis. */
static void
synopsis(FILE *f, const char *name, const char *syn)
{
	int col = 2 + (int)strlen(name);

	fprintf(f, "  %s", name);
	if (syn[0] != '\0') {
		fputc(' ', f);
		col++;
	}
	wrap_at(f, syn, col, col < 24 ? col : HELP_SUB);
}

void
help_print(const struct help_entry *t, size_t n, FILE *f)
{
	const struct help_entry *prog = prog_entry(t, n);
	int in_sect = 0, cmds = 0;
	const char *p;
	size_t i;

	if (prog == NULL)
		return;
	fprintf(f, "usage: %s %s\n\n", prog->a, prog->c);
	wrap(f, prog->d, 0, 0);
	for (i = 0; i < n; i++) {
		if (t[i].kind != HELP_K_CMD)
			continue;
		if (!cmds++)
			fputs("\ncommands:\n", f);
		synopsis(f, t[i].a, t[i].b);
		wrap(f, t[i].c, HELP_SUB, HELP_SUB);
	}
	for (i = 0; i < n; i++) {
		switch (t[i].kind) {
		case HELP_K_SECT:
			in_sect = t[i].c != NULL && t[i].c[0] != '\0';
			if (!in_sect)
				break;
			fputc('\n', f);
			for (p = t[i].a; *p != '\0'; p++)
				fputc(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a'
							     : *p,
				    f);
			fputs(":\n", f);
			if (t[i].b != NULL && t[i].b[0] != '\0')
				wrap(f, t[i].b, 2, 2);
			break;
		case HELP_K_CMD:
			in_sect = 0;
			break;
		case HELP_K_ITEM:
			if (in_sect)
				item(f, t[i].a, t[i].b);
			break;
		case HELP_K_EXAMPLE:
			if (in_sect)
				verbatim(f, t[i].a, 4);
			break;
		default:
			break;
		}
	}
	fprintf(f,
	    "\nRun '%s help COMMAND' for the options of one command;\n"
	    "the manual is %s(%s).\n",
	    prog->a, prog->a, prog->b);
}

static size_t
find_cmd(const struct help_entry *t, size_t n, const char *cmd)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].kind == HELP_K_CMD && strcmp(t[i].a, cmd) == 0)
			return i;
	return n;
}

int
help_has_cmd(const struct help_entry *t, size_t n, const char *cmd)
{
	return find_cmd(t, n, cmd) < n;
}

int
help_print_cmd(const struct help_entry *t, size_t n, const char *cmd, FILE *f)
{
	const struct help_entry *prog = prog_entry(t, n);
	size_t i = find_cmd(t, n, cmd);
	int opts = 0;

	if (prog == NULL || i == n)
		return -1;
	/* "usage: rootkeeper [--config FILE] [--db PATH] check [--url URL]" */
	{
		const char *g = strstr(prog->c, "COMMAND");
		int glen = g != NULL ? (int)(g - prog->c) : 0;
		int col = fprintf(f, "usage: %s %.*s%s%s", prog->a, glen,
		    prog->c, t[i].a, t[i].b[0] != '\0' ? " " : "");

		wrap_at(f, t[i].b, col > 0 ? col : 0, HELP_SUB);
	}
	fputc('\n', f);
	wrap(f, t[i].c, 0, 0);
	if (t[i].d != NULL && t[i].d[0] != '\0') {
		fputc('\n', f);
		wrap(f, t[i].d, 0, 0);
	}
	for (i++; i < n && t[i].kind != HELP_K_CMD && t[i].kind != HELP_K_SECT;
	     i++) {
		if (t[i].kind == HELP_K_EXAMPLE) {
			fputc('\n', f);
			verbatim(f, t[i].a, 4);
			continue;
		}
		if (t[i].kind != HELP_K_ITEM)
			continue;
		if (!opts++)
			fputs("\noptions:\n", f);
		item(f, t[i].a, t[i].b);
	}
	return 0;
}

int
help_dispatch(const struct help_entry *t, size_t n, int argc, char **argv)
{
	int j;

	if (argc < 1)
		return -1;
	if (strcmp(argv[0], "help") == 0) {
		if (argc == 1) {
			help_print(t, n, stdout);
			return 0;
		}
		if (argc > 2)
			return cli_usage("help: takes at most one COMMAND");
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)
			argv[1] = argv[0];
		if (help_print_cmd(t, n, argv[1], stdout) != 0)
			return cli_usage("help: unknown command '%s'", argv[1]);
		return 0;
	}
	if (!help_has_cmd(t, n, argv[0]))
		return -1;
	for (j = 1; j < argc && strcmp(argv[j], "--") != 0; j++) {
		if (strcmp(argv[j], "--help") == 0 ||
		    strcmp(argv[j], "-h") == 0) {
			help_print_cmd(t, n, argv[0], stdout);
			return 0;
		}
	}
	return -1;
}

void
help_print_any(const struct help_entry *t, size_t n, const char *cmd, FILE *f)
{
	if (cmd == NULL || help_print_cmd(t, n, cmd, f) != 0)
		help_print(t, n, f);
}
