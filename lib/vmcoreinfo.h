/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMCOREINFO: the "KEY=VALUE" lines the crashed kernel leaves for dump tools
 * (symbol addresses, structure sizes and member offsets, numbers). Nothing
 * about the dumped kernel's layout is hard-coded in crashcap: it comes from
 * here (or from BTF).
 */
#pragma once

#include "util.h"

struct vmcoreinfo;

int vmcoreinfo_parse(const char *text, size_t len, struct vmcoreinfo **ret);
struct vmcoreinfo *vmcoreinfo_free(struct vmcoreinfo *vi);
static inline void vmcoreinfo_freep(struct vmcoreinfo **vi)
{
	vmcoreinfo_free(*vi);
}
#define _cleanup_vmcoreinfo_ _cleanup_(vmcoreinfo_freep)

/* The value text of KEY, or NULL. */
const char *vmcoreinfo_get(const struct vmcoreinfo *vi, const char *key);
/* SYMBOL(name), hex. */
int vmcoreinfo_symbol(const struct vmcoreinfo *vi, const char *name, uint64_t *ret);
/* SIZE(type), decimal. */
int vmcoreinfo_size(const struct vmcoreinfo *vi, const char *type, uint64_t *ret);
/* OFFSET(type.member), decimal. */
int vmcoreinfo_offset(const struct vmcoreinfo *vi, const char *type_member, uint64_t *ret);
/* NUMBER(name), decimal (may be negative), or hex with 0x. */
int vmcoreinfo_number(const struct vmcoreinfo *vi, const char *name, int64_t *ret);
/* LENGTH(name), decimal. */
int vmcoreinfo_length(const struct vmcoreinfo *vi, const char *name, uint64_t *ret);
/* OSRELEASE, or NULL. */
const char *vmcoreinfo_osrelease(const struct vmcoreinfo *vi);
