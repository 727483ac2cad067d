// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapctl analyze [--json] DUMP: why the machine died, from the dump alone.
 * crashcapctl analyze --all [--dir DIR] [--force]: analysis.json for every dump.
 */
#include "ctl.h"

#include <getopt.h>
#include <sys/stat.h>

#include "analyze-dir.h"
#include "dump.h"
#include "dumps.h"
#include "log.h"

static int help(void)
{
	printf("Usage: crashcapctl analyze [--json] DUMP\n"
	       "       crashcapctl analyze --all [--dir DIR] [--force]\n\n"
	       "Reports on a dump (crashcap or makedumpfile kdump-compressed, flattened, or an\n"
	       "ELF vmcore; or a dump folder as list shows it) with no debug symbols: the\n"
	       "system, the panic with its registers and backtrace, every task, modules and\n"
	       "taint, and the end of the kernel log. Symbols and types come from the dump\n"
	       "itself (kallsyms and BTF).\n\n"
	       "  --json    the report as JSON (keys documented in README.md)\n"
	       "  --all     write analysis.json (the JSON report) into every dump folder on\n"
	       "            the target that has none\n"
	       "  --dir     with --all: the folder holding the dump folders (default: from\n"
	       "            the settings' target and path)\n"
	       "  --force   with --all: also replace existing analysis.json files\n");
	return 0;
}

/* A dump folder stands for its vmcore, else its vmcore.incomplete. */
static int dump_path(const char *arg, char **ret)
{
	static const char *const names[] = { "vmcore", "vmcore.incomplete" };
	struct stat st;

	if (stat(arg, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*ret = strdup(arg);
		return *ret ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		if (asprintf(ret, "%s/%s", arg, names[i]) < 0)
			return -ENOMEM;
		if (access(*ret, R_OK) == 0)
			return 0;
		free(*ret);
		*ret = NULL;
	}
	return log_error_errno(-ENOENT, "%s holds no vmcore: is it a dump folder?", arg);
}

static int analyze_one(const char *arg, bool json)
{
	_cleanup_analyze_report_ struct analyze_report *report = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_free_ char *path = NULL;
	int r;

	r = dump_path(arg, &path);
	if (r < 0)
		return r;
	r = dump_open(path, &d);
	if (r == -ENOEXEC)
		return log_error_errno(
			r, "%s: not a dump (neither kdump-compressed, flattened nor an ELF vmcore)",
			path);
	if (r < 0)
		return log_error_errno(r, "cannot open %s: %m", path);
	r = analyze_dump(d, &report);
	if (r < 0)
		return log_error_errno(r, "analysis of %s failed: %m", path);
	r = json ? analyze_print_json(report, stdout) : analyze_print_text(report, stdout);
	if (r < 0)
		return log_error_errno(r, "cannot write the report: %m");
	return 0;
}

static int analyze_all(const struct ctl_context *ctx, const char *given, bool force)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	_cleanup_free_ char *dir = NULL;
	unsigned written = 0, failed = 0;
	int r;

	r = ctl_read_dumps(ctx, given, &dir, &l);
	if (r < 0)
		return r;

	for (size_t i = 0; i < l.count; i++) {
		_cleanup_analyze_report_ struct analyze_report *report = NULL;
		_cleanup_free_ char *dump = NULL, *json = NULL;
		const struct dump_info *d = &l.dumps[i];

		if (!d->dump_file)
			continue;
		if (asprintf(&dump, "%s/%s", d->path, d->dump_file) < 0 ||
		    asprintf(&json, "%s/" ANALYSIS_JSON, d->path) < 0)
			return log_error_errno(-ENOMEM, "out of memory");
		if (!force && access(json, F_OK) == 0)
			continue;
		r = analyze_write_json(dump, json, &report);
		if (r < 0) {
			log_error_errno(r, "%s: no %s: %m", d->name, ANALYSIS_JSON);
			failed++;
			continue;
		}
		written++;
		printf("%s: %s", d->name, report->panic_message ?: "no panic message");
		if (report->panic_pid >= 0)
			printf(" (CPU %d, pid %d %s)", report->panic_cpu, report->panic_pid,
			       report->panic_comm[0] ? report->panic_comm : "?");
		printf("\n");
	}
	printf("%u %s written, %u failed, in %s\n", written,
	       written == 1 ? ANALYSIS_JSON : ANALYSIS_JSON " files", failed, dir);
	return failed ? -EIO : 0;
}

int verb_analyze(int argc, char *argv[], const struct ctl_context *ctx)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },	 { "all", no_argument, NULL, 'a' },
		{ "dir", required_argument, NULL, 'd' }, { "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },	 {},
	};
	bool json = false, all = false, force = false;
	const char *dir = NULL;
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'h':
			return help();
		default:
			return -EINVAL;
		}
	}
	if (all) {
		if (optind != argc || json)
			return log_error_errno(-EINVAL,
					       "analyze --all takes no dump and no --json: "
					       "see crashcapctl analyze --help");
		return analyze_all(ctx, dir, force);
	}
	if (optind != argc - 1 || dir || force)
		return log_error_errno(
			-EINVAL, "analyze takes one dump file: see crashcapctl analyze --help");
	return analyze_one(argv[optind], json);
}
