/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcap-collect's command line: its own options and makedumpfile's, so
 * that kdump tools that run `makedumpfile -l --message-level 7 -d 31 ...`
 * can run crashcap-collect with the same arguments. The two styles mix.
 *
 * When any option only makedumpfile has is given, or the program runs under
 * the name makedumpfile (a link kdump tools find in PATH): "makedumpfile style",
 * the command behaves as makedumpfile does where the two differ: a usage
 * error exits 1 instead of 2, and an existing output file is refused unless
 * -f is given. makedumpfile options that would change the output and are not
 * implemented are errors naming the option; pure tuning options are accepted
 * with a one-line note.
 */
#pragma once

#include "collect.h"

#define CLI_EXIT_USAGE 2
/* makedumpfile's exit status for everything that fails, usage errors included. */
#define CLI_EXIT_FAILURE_MDF 1

enum cli_action {
	CLI_COLLECT, /* VMCORE OUTPUT: write a dump */
	CLI_DUMP_DMESG, /* --dump-dmesg VMCORE FILE */
	CLI_REBUILD, /* -R FILE: the regular file from a flattened stream on stdin */
	CLI_CHECK_PARAMS, /* --check-params: the arguments are valid, nothing else */
	CLI_DONE, /* --help or --version was printed */
};

struct cli_args {
	struct collect_options o;
	enum cli_action action;
	bool quiet;
	bool mdf_style; /* some option only makedumpfile has was given */
	bool force; /* -f: an existing output may be replaced */
	int log_level; /* the most verbose level to log (LOG_*); -1: the default */
	const char *rebuild_path; /* -R */
};

/*
 * Parses argv. Returns 0 with *ret filled, or a negative errno after logging
 * one line that says what is wrong (-EINVAL usage, -EOPNOTSUPP an option
 * crashcap-collect does not implement). *ret is written in both cases, so
 * that cli_usage_exit_status() can tell which style failed.
 */
int cli_parse(int argc, char **argv, struct cli_args *ret);

/* The exit status for a usage error: 1 in makedumpfile style, else 2. */
int cli_usage_exit_status(const struct cli_args *a);

/* The verbosity (LOG_*) makedumpfile's --message-level N stands for; -EINVAL unless 0..31. */
int cli_message_level(const char *s, int *ret_log_level, bool *ret_progress);
