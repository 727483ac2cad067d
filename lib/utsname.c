// SPDX-License-Identifier: GPL-2.0-or-later
#include "utsname.h"

#include <inttypes.h>

#include "log.h"

#define UTS_NAME_OFFSET_OLD 4

static void terminate(char *field)
{
	field[KDUMP_UTS_LEN - 1] = 0;
}

int dump_read_utsname(struct dump *d, struct kdump_utsname *ret)
{
	const struct vmcoreinfo *vi = dump_vmcoreinfo(d);
	struct kdump_utsname u;
	const char *release;
	uint64_t addr, off;
	int r;

	if (!vi)
		return -ENOENT;
	if (vmcoreinfo_symbol(vi, "system_utsname", &addr) < 0) {
		if (vmcoreinfo_symbol(vi, "init_uts_ns", &addr) < 0)
			return log_debug_errno(-ENOENT, "utsname: VMCOREINFO names no init_uts_ns");
		if (vmcoreinfo_offset(vi, "uts_namespace.name", &off) < 0)
			off = UTS_NAME_OFFSET_OLD;
		addr += off;
	}
	r = dump_read_virt(d, addr, &u, sizeof(u));
	if (r < 0)
		return log_debug_errno(r, "utsname: cannot read it at 0x%" PRIx64 ": %m", addr);
	terminate(u.sysname);
	terminate(u.nodename);
	terminate(u.release);
	terminate(u.version);
	terminate(u.machine);
	terminate(u.domainname);
	/* A wrong symbol or offset reads some other bytes: only a plausible utsname counts. */
	release = vmcoreinfo_osrelease(vi);
	if (!streq(u.sysname, "Linux") || (release && *release && !streq(u.release, release)))
		return log_debug_errno(-EBADMSG,
				       "utsname: the bytes at 0x%" PRIx64
				       " do not match VMCOREINFO",
				       addr);
	*ret = u;
	return 0;
}
