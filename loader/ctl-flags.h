/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Option parsing for the crashcapctl commands whose only options are
 * on/off flags (status --json, reserve --dry-run, ...), so each does not
 * hand-write its own getopt loop and usage error.
 */
#pragma once

#include "util.h"

/* More would be a command that wants its own getopt loop. */
#define CTL_FLAGS_MAX 8

/* --NAME, and -SHORT_NAME unless that is 0. */
struct ctl_flag {
	const char *name;
	char short_name;
	bool *value;
};

/*
 * Parses a command's argv (argv[0] is the command's name, which getopt's
 * messages and ours begin with): -h/--help and the flags, a list ended by
 * an entry with no name, mixed with at most max_args positional arguments.
 * Each flag's value is set to false, then to true when the flag is given.
 *
 * Returns 0 after printing help on stdout (the command has nothing more to
 * do); -EINVAL for an unknown option (getopt printed why) or for a
 * positional argument beyond max_args (logged: "COMMAND: unexpected argument
 * 'ARG'"); 1 otherwise, with ret_first_arg (may be NULL) set to the index
 * in argv of the first positional argument (argc when there is none):
 * getopt moves them after the options.
 */
int ctl_parse_flags(int argc, char *argv[], const char *help, const struct ctl_flag *flags,
		    size_t max_args, int *ret_first_arg);
