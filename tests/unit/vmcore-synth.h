/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper: writes synthetic ELF64 x86_64 vmcore files, laid out like
 * /proc/vmcore: the ELF header, one PT_NOTE, then one PT_LOAD per segment;
 * the notes (NT_PRSTATUS "CORE" notes, then a "VMCOREINFO" note) and the
 * segments' bytes follow, each segment at a page-aligned file offset.
 *
 * Example:
 *
 *	static const struct synth_segment segs[] = {
 *		{ .phys_start = 0x100000, .mem_size = 0x200000 },  // pattern bytes
 *		{ .phys_start = 0x400000, .mem_size = 0x1000, .data = page },
 *	};
 *	struct synth_vmcore spec = {
 *		.vmcoreinfo = "OSRELEASE=6.1.0\nPAGESIZE=4096\n",
 *		.nr_cpus = 2,
 *		.segments = segs,
 *		.n_segments = ELEMENTSOF(segs),
 *	};
 *	_cleanup_free_ char *path = NULL;
 *	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
 *	...
 *	unlink(path);
 *
 * A segment's bytes come from, in this order: data (file_size bytes), fill
 * (called for each chunk), zero (a file hole: reads as zeros), else the
 * pattern synth_pattern() so that every byte's value says its address.
 */
#pragma once

#include "util.h"

/* file_size value for a segment that has no bytes in the file (p_filesz 0). */
#define SYNTH_NO_FILE_DATA UINT64_MAX

typedef void (*synth_fill_fn)(uint64_t paddr, void *buf, size_t len, void *userdata);

struct synth_segment {
	uint64_t phys_start;
	uint64_t mem_size;
	/* p_filesz; 0 means mem_size, SYNTH_NO_FILE_DATA means 0. */
	uint64_t file_size;
	uint64_t virt_start; /* p_vaddr; 0 is fine */
	const void *data; /* the file_size bytes, or NULL */
	synth_fill_fn fill;
	void *userdata;
	bool zero;
};

struct synth_vmcore {
	const char *vmcoreinfo; /* the VMCOREINFO text; NULL: no such note */
	unsigned nr_cpus; /* NT_PRSTATUS notes to write (pr_pid = cpu + 1) */
	const struct synth_segment *segments; /* any order */
	size_t n_segments;
	const void *extra_notes; /* raw bytes appended to the PT_NOTE segment */
	size_t extra_notes_size;
	/* When non-zero, the file is cut to this many bytes after writing. */
	uint64_t truncate_at;
	/* Overrides for bad-input tests; 0 means the right value. */
	unsigned char elf_class; /* ELFCLASS64 */
	uint16_t e_type; /* ET_CORE */
	uint16_t e_machine; /* EM_X86_64 */
};

/* Writes the vmcore to path (created or replaced). */
int synth_vmcore_write(const char *path, const struct synth_vmcore *spec);
/* Writes it to a new file under $TMPDIR (default /tmp); the caller unlinks and frees. */
int synth_vmcore_tmpfile(const struct synth_vmcore *spec, char **ret_path);
/*
 * Where the segment's bytes start in the file written from spec (ELF
 * p_offset), for tests that corrupt or truncate at a precise place.
 */
uint64_t synth_segment_file_offset(const struct synth_vmcore *spec, size_t index);
/* The pattern byte at a physical address: the aligned 8-byte word is paddr ^ SYNTH_PATTERN_XOR. */
#define SYNTH_PATTERN_XOR 0xa5a5a5a5a5a5a5a5ULL
uint8_t synth_pattern(uint64_t paddr);
void synth_pattern_fill(uint64_t paddr, void *buf, size_t len);

/*
 * Builds one ELF note (header, padded name, padded descriptor) into a new
 * buffer, for tests of note parsing and for extra_notes.
 */
int synth_note(const char *name, uint32_t type, const void *desc, size_t desc_size, void **ret,
	       size_t *ret_size);
