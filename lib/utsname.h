/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dumped kernel's own struct new_utsname (init_uts_ns.name): nodename,
 * version and domainname live only in its memory. One lookup serves the
 * kdump header and /init's hostname.
 */
#pragma once

#include "dump.h"
#include "kdump_writer.h"

/*
 * Found the way makedumpfile finds it: VMCOREINFO's SYMBOL(system_utsname)
 * (kernels before 2.6.19), else SYMBOL(init_uts_ns) plus
 * OFFSET(uts_namespace.name), 4 when that is missing (before 5.11 the name
 * followed a 4-byte kref). Every field comes back NUL-terminated.
 * -ENOENT: no VMCOREINFO, or it names neither symbol. -EBADMSG: the bytes
 * there are not this dump's utsname (sysname is not "Linux", or the
 * release differs from VMCOREINFO's OSRELEASE). Else dump_read_virt()'s
 * error.
 */
int dump_read_utsname(struct dump *d, struct kdump_utsname *ret);
