/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's own symbol table (kallsyms), decoded from dump memory: the
 * compressed names, the token tables and the address offsets that
 * VMCOREINFO points at (Linux 6.0+ names them: SYMBOL(kallsyms_names) and
 * friends). No System.map, no debug symbols.
 *
 * Formats handled, decided from what the dump holds: names with one- or
 * two-byte lengths ("big" symbols, 6.1+), kallsyms_offsets relative to
 * kallsyms_relative_base with or without absolute per-CPU values
 * (KALLSYMS_ABSOLUTE_PERCPU), and the older absolute kallsyms_addresses.
 */
#pragma once

#include "dump.h"

struct kallsyms;

/*
 * The raw tables, as kallsyms_load() reads them from the dump. Exposed so
 * tests and the fuzz target can decode bytes without a dump.
 */
struct kallsyms_tables {
	uint32_t num_syms;
	const uint8_t *names; /* kallsyms_names, names_size bytes (may be more than used) */
	size_t names_size;
	const uint8_t *token_table; /* NUL-terminated tokens */
	size_t token_table_size;
	const uint8_t *token_index; /* 256 little-endian u16 */
	const uint8_t *offsets; /* num_syms little-endian i32, or NULL */
	uint64_t relative_base;
	const uint8_t *addresses; /* num_syms little-endian u64 (no offsets), or NULL */
};

/* -EBADMSG: the tables do not decode (a name runs past names_size, bad token...). */
int kallsyms_decode(const struct kallsyms_tables *t, struct kallsyms **ret);

/*
 * Reads and decodes the tables of the dumped kernel. -ENOENT: VMCOREINFO
 * lacks an entry (kallsyms_missing() names it); -EFAULT, -ENOENT, -ENODATA
 * as dump_read_virt(): tables not in the dump; -EBADMSG: they do not decode.
 */
int kallsyms_load(struct dump *d, struct kallsyms **ret);
/* The first VMCOREINFO key kallsyms_load() needs and vi lacks, or NULL. */
const char *kallsyms_missing(const struct vmcoreinfo *vi);

struct kallsyms *kallsyms_free(struct kallsyms *k);
static inline void kallsyms_freep(struct kallsyms **k)
{
	kallsyms_free(*k);
}
#define _cleanup_kallsyms_ _cleanup_(kallsyms_freep)

size_t kallsyms_count(const struct kallsyms *k);

/* The address of a symbol by exact name (the first if several); -ENOENT. */
int kallsyms_lookup_name(struct kallsyms *k, const char *name, uint64_t *ret_addr);

struct kallsyms_symbol {
	const char *name; /* owned by k */
	char type; /* 'T', 't', 'D', ... as in /proc/kallsyms */
	uint64_t addr;
	uint64_t size; /* up to the next higher address; 0 for the last symbol */
};

/*
 * The symbol containing addr: the last one at or below it (the first of
 * aliases), if addr lies within its size. -ENOENT: below the first symbol
 * or past the last one's end.
 */
int kallsyms_lookup_addr(const struct kallsyms *k, uint64_t addr, struct kallsyms_symbol *ret,
			 uint64_t *ret_offset);
/* The i-th symbol in address order (i < kallsyms_count()). */
void kallsyms_get(const struct kallsyms *k, size_t i, struct kallsyms_symbol *ret);
/* "name+0xoff/0xsize" into buf, or "0x<addr>" when no symbol holds addr. */
const char *kallsyms_format(const struct kallsyms *k, uint64_t addr, char *buf, size_t len);
