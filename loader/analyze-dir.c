// SPDX-License-Identifier: GPL-2.0-or-later
#include "analyze-dir.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "dump.h"
#include "log.h"

int analyze_write_json(const char *dump_path, const char *json_path,
		       struct analyze_report **ret_report)
{
	_cleanup_analyze_report_ struct analyze_report *report = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	FILE *f;
	int r;

	r = dump_open(dump_path, &d);
	if (r < 0)
		return r;
	r = analyze_dump(d, &report);
	if (r < 0)
		return r;
	if (asprintf(&tmp, "%s.XXXXXX", json_path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return log_debug_errno(negative_errno(), "Cannot create %s: %m", tmp);
	f = fdopen(fd, "w");
	if (!f) {
		r = negative_errno();
		goto fail;
	}
	fd = -1;
	r = analyze_print_json(report, f);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = r < 0 ? r : negative_errno();
	if (fclose(f) != 0 && r >= 0)
		r = negative_errno();
	if (r < 0)
		goto fail;
	if (rename(tmp, json_path) < 0) {
		r = negative_errno();
		goto fail;
	}
	if (ret_report)
		*ret_report = TAKE_PTR(report);
	return 0;
fail:
	(void)unlink(tmp);
	return log_debug_errno(r, "Cannot write %s: %m", json_path);
}
