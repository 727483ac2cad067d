// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcapctl analyze DUMP [--json]: why the machine died, from the dump alone. */
#include "ctl.h"

#include <getopt.h>

#include "analyze.h"
#include "dump.h"
#include "log.h"

static int help(void)
{
	printf("Usage: crashcapctl analyze [--json] DUMP\n\n"
	       "Reports on a dump (crashcap or makedumpfile kdump-compressed, flattened, or an\n"
	       "ELF vmcore) with no debug symbols: the system, the panic with its registers\n"
	       "and backtrace, every task, modules and taint, and the end of the kernel log.\n"
	       "Symbols and types come from the dump itself (kallsyms and BTF).\n\n"
	       "  --json   the report as JSON (keys documented in README.md)\n");
	return 0;
}

int verb_analyze(int argc, char *argv[], const struct ctl_context *ctx)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_analyze_report_ struct analyze_report *report = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	bool json = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			return help();
		default:
			return -EINVAL;
		}
	}
	if (optind != argc - 1)
		return log_error_errno(
			-EINVAL, "analyze takes one dump file: see crashcapctl analyze --help");

	r = dump_open(argv[optind], &d);
	if (r == -ENOEXEC)
		return log_error_errno(
			r, "%s: not a dump (neither kdump-compressed, flattened nor an ELF vmcore)",
			argv[optind]);
	if (r < 0)
		return log_error_errno(r, "cannot open %s: %m", argv[optind]);
	r = analyze_dump(d, &report);
	if (r < 0)
		return log_error_errno(r, "analysis of %s failed: %m", argv[optind]);
	r = json ? analyze_print_json(report, stdout) : analyze_print_text(report, stdout);
	if (r < 0)
		return log_error_errno(r, "cannot write the report: %m");
	return 0;
}
