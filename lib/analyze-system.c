// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The system section: release and crash time from VMCOREINFO, the rest of
 * utsname from init_uts_ns (layout from BTF), uptime, CPUs.
 */
#include "analyze-internal.h"
#include "dmesg.h"
#include "log.h"

#include <inttypes.h>

static int utsname_field(struct actx *c, uint64_t uts, const char *field, char **ret)
{
	_cleanup_free_ char *path = NULL;
	struct kbtf_member m;
	char buf[128] = {};
	int r;

	if (asprintf(&path, "uts_namespace.name.%s", field) < 0)
		return -ENOMEM;
	r = ax_member(c, path, &m);
	if (r < 0)
		return r;
	r = ax_read(c, uts + m.offset, buf, MIN(m.size, sizeof(buf) - 1));
	if (r < 0)
		return r;
	return ax_strdup(ret, buf);
}

/* CLOCK_BOOTTIME at the last timekeeping update (what /proc/uptime showed then). */
static int uptime(struct actx *c, double *ret)
{
	uint64_t tk, base, offs_boot;
	int r;

	/* The shadow is copied into tk_core's timekeeper at each update: the same values. */
	r = ax_sym(c, "shadow_timekeeper", &tk);
	if (r < 0)
		return r;
	r = ax_read_member(c, tk, "timekeeper.tkr_mono.base", &base);
	if (r < 0)
		return r;
	r = ax_read_member(c, tk, "timekeeper.offs_boot", &offs_boot);
	if (r < 0)
		return r;
	*ret = ((int64_t)base + (int64_t)offs_boot) / 1e9;
	return 0;
}

static int last_log_time(uint64_t ts_nsec, const char *text, size_t len, void *userdata)
{
	*(uint64_t *)userdata = ts_nsec;
	return 0;
}

void analyze_system(struct actx *c)
{
	struct analyze_report *r = c->r;
	const struct vmcoreinfo *vi = dump_vmcoreinfo(c->d);
	const char *s;
	uint64_t uts, ts = 0, t;

	r->nr_cpus = dump_nr_cpus(c->d);
	r->incomplete = dump_is_incomplete(c->d);
	r->truncated = dump_is_truncated(c->d);
	if (!vi) {
		(void)ax_error(&r->system_error, "the dump carries no VMCOREINFO");
		return;
	}
	(void)ax_strdup(&r->release, vmcoreinfo_osrelease(vi));
	s = vmcoreinfo_get(vi, "CRASHTIME");
	if (s && parse_u64(s, 10, &t) >= 0 && t <= INT64_MAX) {
		r->crash_time = t;
		r->has_crash_time = true;
	}

	/*
	 * The log's last time stamp is the crash, to the microsecond; the
	 * timekeeper is only as recent as its last update, which an idle
	 * tickless CPU may have made a second before.
	 */
	if (dmesg_foreach(c->d, last_log_time, &ts) >= 0 && ts > 0) {
		r->uptime = ts / 1e9;
		r->has_uptime = true;
	}
	if (ax_need(c, &r->system_error, true) < 0)
		return;
	if (ax_sym(c, "init_uts_ns", &uts) >= 0) {
		(void)utsname_field(c, uts, "nodename", &r->hostname);
		(void)utsname_field(c, uts, "version", &r->version);
		(void)utsname_field(c, uts, "machine", &r->machine);
	}
	if (!r->hostname)
		(void)ax_error(&r->system_error, "init_uts_ns (the host name) is unreadable");
	if (!r->has_uptime && uptime(c, &r->uptime) >= 0)
		r->has_uptime = true;
}
