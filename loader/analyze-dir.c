// SPDX-License-Identifier: GPL-2.0-or-later
#include "analyze-dir.h"

#include "atomic-file.h"
#include "dump.h"
#include "log.h"

int analyze_write_json(const char *dump_path, const char *json_path,
		       struct analyze_report **ret_report)
{
	_cleanup_analyze_report_ struct analyze_report *report = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	struct atomic_file af;
	int r;

	r = dump_open(dump_path, &d);
	if (r < 0)
		return r;
	r = analyze_dump(d, &report);
	if (r < 0)
		return r;
	r = atomic_file_open(json_path, 0600, &af);
	if (r < 0)
		return r;
	r = atomic_file_commit(&af, analyze_print_json(report, af.f));
	if (r < 0)
		return r;
	if (ret_report)
		*ret_report = TAKE_PTR(report);
	return 0;
}
