/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * analysis.json next to a dump: the report of `crashcapctl analyze --json`,
 * written once after the reboot (crashcapctl analyze --all; crashcapd may
 * call this too), so that listing dumps can show why each machine died
 * without reading the dump again. Never in the crash kernel.
 */
#pragma once

#include "analyze.h"

#define ANALYSIS_JSON "analysis.json"

/*
 * Analyzes dump_path and writes the JSON report to json_path (a temporary
 * file renamed into place, mode 0600: it describes the dead kernel's
 * memory). The report goes to *ret_report when that is not NULL.
 * -ENOEXEC: not a dump; else the errno of opening or writing.
 */
int analyze_write_json(const char *dump_path, const char *json_path,
		       struct analyze_report **ret_report);
