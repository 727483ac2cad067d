// SPDX-License-Identifier: GPL-2.0-or-later
#include "dump-internal.h"
#include "elfnote.h"
#include "log.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/vfs.h>

#define PROC_SUPER_MAGIC 0x9fa0

static int dump_load_notes(struct dump *d)
{
	struct elf_note n;
	unsigned nr_prstatus = 0;
	size_t off = 0;
	int r;

	/* A note cut short (a truncated file) ends the walk but not the dump. */
	while ((r = elf_note_next(d->notes, d->notes_size, &off, &n)) > 0) {
		if (n.type == NT_PRSTATUS && elf_note_name_is(&n, "CORE"))
			nr_prstatus++;
		else if (elf_note_name_is(&n, "VMCOREINFO") && !d->vmcoreinfo) {
			r = vmcoreinfo_parse(n.desc, n.desc_size, &d->vmcoreinfo);
			if (r < 0)
				return r;
		}
	}
	if (r < 0)
		log_debug_errno(r, "Dump notes are malformed after byte %zu, ignoring the rest: %m",
				off);
	if (!d->vmcoreinfo)
		log_debug("Dump carries no VMCOREINFO note.");
	/* A kdump-compressed header's own count comes first. */
	if (d->nr_cpus == 0)
		d->nr_cpus = nr_prstatus;
	return 0;
}

int dump_open(const char *path, struct dump **ret)
{
	_cleanup_dump_ struct dump *d = NULL;
	struct statfs sfs;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->pread = pread_full;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0)
		return log_debug_errno(negative_errno(), "Cannot open %s: %m", path);
	d->procfs = fstatfs(d->fd, &sfs) >= 0 && sfs.f_type == PROC_SUPER_MAGIC;

	d->format = DUMP_FORMAT_KDUMP;
	r = dump_kdump_load(d);
	if (r == -ENOEXEC) {
		d->kdump = dump_kdump_free(d->kdump);
		d->format = DUMP_FORMAT_ELF;
		r = dump_elf_load(d);
	}
	if (r < 0)
		return log_debug_errno(r, "%s: %m", path);
	r = dump_load_notes(d);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}

struct dump *dump_free(struct dump *d)
{
	if (!d)
		return NULL;
	if (d->fd >= 0)
		close(d->fd);
	free(d->notes);
	free(d->segments);
	vmcoreinfo_free(d->vmcoreinfo);
	dump_kdump_free(d->kdump);
	free(d);
	return NULL;
}

enum dump_format dump_get_format(const struct dump *d)
{
	return d->format;
}

int dump_fd(const struct dump *d)
{
	return d->fd;
}

const void *dump_notes(const struct dump *d, size_t *ret_size)
{
	if (ret_size)
		*ret_size = d->notes_size;
	return d->notes;
}

int dump_vmcoreinfo_note_offset(const struct dump *d, size_t *ret_offset, size_t *ret_size)
{
	struct elf_note n;
	int r;

	r = elf_note_find(d->notes, d->notes_size, "VMCOREINFO", &n);
	if (r < 0)
		return r == -EBADMSG ? -ENOENT : r;
	if (ret_offset)
		*ret_offset = n.desc_offset;
	if (ret_size)
		*ret_size = n.desc_size;
	return 0;
}

const struct vmcoreinfo *dump_vmcoreinfo(const struct dump *d)
{
	return d->vmcoreinfo;
}

const struct dump_segment *dump_segments(const struct dump *d, size_t *ret_count)
{
	if (ret_count)
		*ret_count = d->n_segments;
	return d->segments;
}

uint64_t dump_max_pfn(const struct dump *d)
{
	uint64_t max = 0;

	for (size_t i = 0; i < d->n_segments; i++)
		max = MAX(max, DIV_ROUND_UP(d->segments[i].phys_start + d->segments[i].mem_size,
					    DUMP_PAGE_SIZE));
	return max;
}

unsigned dump_nr_cpus(const struct dump *d)
{
	return d->nr_cpus;
}

bool dump_is_procfs(const struct dump *d)
{
	return d->procfs;
}

bool dump_is_truncated(const struct dump *d)
{
	return d->truncated;
}

bool dump_is_incomplete(const struct dump *d)
{
	return d->format == DUMP_FORMAT_KDUMP && dump_kdump_incomplete(d);
}

int dump_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (paddr + len < paddr)
		return -ENOENT;
	switch (d->format) {
	case DUMP_FORMAT_ELF:
		return dump_elf_read_phys(d, paddr, buf, len);
	case DUMP_FORMAT_KDUMP:
		return dump_kdump_read_phys(d, paddr, buf, len);
	default:
		return -EOPNOTSUPP;
	}
}
