/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HELP_ macros as struct help_entry initialisers (see help.h).
 * Included right before a .def file inside an array's braces; included
 * again for the next table, it redefines them the same way.
 */
#undef HELP_PROG
#undef HELP_TEXT
#undef HELP_CMD
#undef HELP_SECT
#undef HELP_ITEM
#undef HELP_EXAMPLE
#define HELP_PROG(name, section, synopsis, oneline)                            \
	HELP_ENTRY(HELP_K_PROG, name, section, synopsis, oneline)
#define HELP_TEXT(text) HELP_ENTRY(HELP_K_TEXT, text, NULL, NULL, NULL)
#define HELP_CMD(name, synopsis, summary, text)                                \
	HELP_ENTRY(HELP_K_CMD, name, synopsis, summary, text)
#define HELP_SECT(title, text, in_help)                                        \
	HELP_ENTRY(HELP_K_SECT, title, text, in_help, NULL)
#define HELP_ITEM(term, text) HELP_ENTRY(HELP_K_ITEM, term, text, NULL, NULL)
#define HELP_EXAMPLE(text) HELP_ENTRY(HELP_K_EXAMPLE, text, NULL, NULL, NULL)
