// SPDX-License-Identifier: GPL-2.0-or-later
#include "ctl-flags.h"

#include <getopt.h>

#include "log.h"

/* getopt_long's value for a flag with no short name: above any char. */
#define LONG_ONLY_VALUE(i) (0x100 + (int)(i))

int ctl_parse_flags(int argc, char *argv[], const char *help, const struct ctl_flag *flags,
		    size_t max_args, int *ret_first_arg)
{
	/*
	 * --help first, then the flags in the caller's order: getopt lists the
	 * candidates of an ambiguous abbreviation in this order.
	 */
	struct option options[1 + CTL_FLAGS_MAX + 1] = {
		{ "help", no_argument, NULL, 'h' },
	};
	char shorts[1 + CTL_FLAGS_MAX + 1] = "h";
	size_t n = 0, n_shorts = 1;
	int c;

	for (; flags[n].name; n++) {
		if (n == CTL_FLAGS_MAX)
			return log_error_errno(
				-E2BIG, "%s: more than %d flags to parse (a crashcapctl bug)",
				argv[0], CTL_FLAGS_MAX);
		options[1 + n] = (struct option){
			.name = flags[n].name,
			.has_arg = no_argument,
			.val = flags[n].short_name ?: LONG_ONLY_VALUE(n),
		};
		if (flags[n].short_name)
			shorts[n_shorts++] = flags[n].short_name;
		*flags[n].value = false;
	}

	/* 0, not 1: getopt starts afresh, as each command parses its own argv. */
	optind = 0;
	while ((c = getopt_long(argc, argv, shorts, options, NULL)) >= 0) {
		size_t i;

		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		for (i = 0; i < n && options[1 + i].val != c; i++)
			;
		if (i == n)
			return -EINVAL; /* '?': getopt said what is wrong */
		*flags[i].value = true;
	}
	if ((size_t)(argc - optind) > max_args)
		return log_error_errno(-EINVAL, "%s: unexpected argument '%s'", argv[0],
				       argv[optind + max_args]);
	if (ret_first_arg)
		*ret_first_arg = optind;
	return 1;
}
