/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Walking a buffer of ELF64 notes (as found in a PT_NOTE segment). */
#pragma once

#include "util.h"

struct elf_note {
	uint32_t type;
	const char *name; /* not NUL-terminated in general: use name_size */
	size_t name_size; /* as stored, including the NUL the writer put there */
	const void *desc;
	size_t desc_size;
	size_t desc_offset; /* of desc from the start of the buffer */
};

/*
 * Steps to the next note. *offset starts at 0. Returns 1 and fills *ret,
 * 0 at the end (including all-zero padding, which vmcores contain), or
 * -EBADMSG when a note runs past the buffer.
 */
int elf_note_next(const void *buf, size_t size, size_t *offset, struct elf_note *ret);
/* Finds the first note with this name (e.g. "VMCOREINFO"); -ENOENT if none. */
int elf_note_find(const void *buf, size_t size, const char *name, struct elf_note *ret);
/* The note's name is exactly name (with or without the stored NUL). */
bool elf_note_name_is(const struct elf_note *n, const char *name);
