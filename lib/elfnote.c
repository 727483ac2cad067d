// SPDX-License-Identifier: GPL-2.0-or-later
#include "elfnote.h"

#include <elf.h>

/* Note names and descriptors are padded to 4 bytes, also in ELF64 cores. */
#define NOTE_ALIGN 4

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int elf_note_next(const void *buf, size_t size, size_t *offset, struct elf_note *ret)
{
	const uint8_t *base = buf;
	size_t off = *offset, name_off, desc_off, end;
	Elf64_Nhdr nh;

	if (off >= size)
		return 0;
	/* /proc/vmcore pads each CPU's note buffer with zeros: that ends the walk. */
	if (all_zero(base + off, MIN(size - off, sizeof(nh))))
		return 0;
	if (size - off < sizeof(nh))
		return -EBADMSG;
	memcpy(&nh, base + off, sizeof(nh));

	name_off = off + sizeof(nh);
	if (nh.n_namesz > size - name_off)
		return -EBADMSG;
	desc_off = name_off + ALIGN_UP((size_t)nh.n_namesz, NOTE_ALIGN);
	if (desc_off > size || nh.n_descsz > size - desc_off)
		return -EBADMSG;
	end = desc_off + ALIGN_UP((size_t)nh.n_descsz, NOTE_ALIGN);

	*ret = (struct elf_note){
		.type = nh.n_type,
		.name = (const char *)base + name_off,
		.name_size = nh.n_namesz,
		.desc = base + desc_off,
		.desc_size = nh.n_descsz,
		.desc_offset = desc_off,
	};
	/* The last note's padding may be missing: step to the end. */
	*offset = MIN(end, size);
	return 1;
}

bool elf_note_name_is(const struct elf_note *n, const char *name)
{
	size_t len = strlen(name), sz = n->name_size;

	/* Writers store the NUL; accept its absence too. */
	if (sz > 0 && n->name[sz - 1] == 0)
		sz--;
	return sz == len && memcmp(n->name, name, len) == 0;
}

int elf_note_find(const void *buf, size_t size, const char *name, struct elf_note *ret)
{
	size_t off = 0;
	struct elf_note n;
	int r;

	while ((r = elf_note_next(buf, size, &off, &n)) > 0)
		if (elf_note_name_is(&n, name)) {
			*ret = n;
			return 0;
		}
	return r < 0 ? r : -ENOENT;
}
