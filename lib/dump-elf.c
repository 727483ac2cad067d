// SPDX-License-Identifier: GPL-2.0-or-later
/* The ELF64 core reader: /proc/vmcore and copies of it. */
#include "dump-internal.h"
#include "log.h"

#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* /proc/vmcore notes are a few KiB per CPU; device dumps can add MiBs. */
#define NOTES_MAX (256ULL << 20)

static void elfp(Elf **e)
{
	if (*e)
		elf_end(*e);
}

static int segment_cmp(const void *a, const void *b)
{
	const struct dump_segment *x = a, *y = b;

	return x->phys_start < y->phys_start ? -1 : x->phys_start > y->phys_start;
}

static int append_note_bytes(struct dump *d, const GElf_Phdr *ph)
{
	size_t avail, got;
	void *grown;
	int r;

	if (ph->p_filesz > NOTES_MAX || d->notes_size + ph->p_filesz > NOTES_MAX)
		return log_debug_errno(-EBADMSG,
				       "PT_NOTE of %" PRIu64 " bytes is implausibly large",
				       (uint64_t)ph->p_filesz);
	avail = ph->p_offset >= d->file_size ? 0 : MIN(ph->p_filesz, d->file_size - ph->p_offset);
	grown = realloc(d->notes, d->notes_size + ph->p_filesz + 1);
	if (!grown)
		return -ENOMEM;
	d->notes = grown;
	r = pread_full(d->fd, (char *)d->notes + d->notes_size, avail, ph->p_offset, &got);
	if (r < 0)
		return r;
	/* A truncated file keeps what notes it has: VMCOREINFO comes first. */
	d->notes_size += got;
	return 0;
}

static int append_segment(struct dump *d, const GElf_Phdr *ph, size_t *cap)
{
	struct dump_segment s = {
		.phys_start = ph->p_paddr,
		.mem_size = ph->p_memsz,
		.file_offset = ph->p_offset,
		.file_size = MIN(ph->p_filesz, ph->p_memsz),
		.virt_start = ph->p_vaddr,
	};

	if (s.mem_size == 0)
		return 0;
	if (s.phys_start + s.mem_size < s.phys_start || s.file_offset + s.file_size < s.file_offset)
		return log_debug_errno(-ENOEXEC, "PT_LOAD at 0x%" PRIx64 " wraps around",
				       s.phys_start);
	if (d->n_segments == *cap) {
		struct dump_segment *grown;

		*cap = *cap ? *cap * 2 : 16;
		grown = realloc(d->segments, *cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		d->segments = grown;
	}
	d->segments[d->n_segments++] = s;
	return 0;
}

static bool range_past_eof(const struct dump *d, uint64_t off, uint64_t size)
{
	return size > 0 && (off > d->file_size || size > d->file_size - off);
}

int dump_elf_load(struct dump *d)
{
	_cleanup_(elfp) Elf *e = NULL;
	size_t phnum, cap = 0;
	GElf_Ehdr eh;
	struct stat st;
	int r;

	if (fstat(d->fd, &st) < 0)
		return negative_errno();
	d->file_size = st.st_size;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	e = elf_begin(d->fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		return log_debug_errno(-ENOEXEC, "Not an ELF file");
	if (gelf_getclass(e) != ELFCLASS64 || !gelf_getehdr(e, &eh))
		return log_debug_errno(-ENOEXEC, "Not a 64-bit ELF file");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return log_debug_errno(-ENOEXEC, "Not an x86_64 ELF file");
	if (eh.e_type != ET_CORE)
		return log_debug_errno(-ENOEXEC, "Not an ELF core file (e_type %u)", eh.e_type);
	if (elf_getphdrnum(e, &phnum) < 0)
		return log_debug_errno(-ENOEXEC, "Bad program headers: %s", elf_errmsg(-1));

	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph))
			return log_debug_errno(-ENOEXEC, "Bad program header %zu: %s", i,
					       elf_errmsg(-1));
		if (ph.p_type != PT_NOTE && ph.p_type != PT_LOAD)
			continue;
		if (range_past_eof(d, ph.p_offset, ph.p_filesz))
			d->truncated = true;
		r = ph.p_type == PT_NOTE ? append_note_bytes(d, &ph) : append_segment(d, &ph, &cap);
		if (r < 0)
			return r;
	}
	if (d->n_segments == 0)
		log_debug("ELF core has no PT_LOAD segments.");
	if (d->n_segments > 1)
		qsort(d->segments, d->n_segments, sizeof(*d->segments), segment_cmp);
	if (d->truncated)
		log_debug("Dump file is %" PRIu64 " bytes, shorter than its headers say.",
			  d->file_size);
	return 0;
}

static const struct dump_segment *find_segment(struct dump *d, uint64_t paddr)
{
	size_t lo = 0, hi = d->n_segments;
	const struct dump_segment *s;

	if (d->last_segment < d->n_segments) {
		s = &d->segments[d->last_segment];
		if (paddr >= s->phys_start && paddr - s->phys_start < s->mem_size)
			return s;
	}
	/* The last segment starting at or below paddr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->segments[mid].phys_start <= paddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walk back for the rare overlapping PT_LOADs. */
	while (lo > 0) {
		s = &d->segments[--lo];
		if (paddr - s->phys_start < s->mem_size) {
			d->last_segment = lo;
			return s;
		}
	}
	return NULL;
}

/*
 * Another segment whose bytes in the file hold [paddr, paddr + len). vmcores
 * describe the kernel image twice (its own PT_LOAD near the start of the file
 * and the System RAM one around it): when a copy of the file is cut short,
 * one of the two may still hold what the other lost.
 */
static const struct dump_segment *find_segment_in_file(const struct dump *d, uint64_t paddr,
						       uint64_t len)
{
	for (size_t i = 0; i < d->n_segments; i++) {
		const struct dump_segment *s = &d->segments[i];
		uint64_t rel = paddr - s->phys_start;

		if (paddr < s->phys_start || rel >= s->file_size || len > s->file_size - rel)
			continue;
		if (s->file_offset + rel + len <= d->file_size)
			return s;
	}
	return NULL;
}

/*
 * /proc/vmcore's read() ioremaps each old page, which the crash kernel
 * refuses for pages it counts as its own RAM ("ioremap on RAM at ...": the
 * memory map of DIMMs hot-added to the dead kernel, which lives on those
 * DIMMs), and fails; its mmap() maps old memory as a whole and gives them.
 * Only /proc/vmcore: a mapping of a regular file with a bad block would
 * raise SIGBUS where read() said EIO.
 */
static int read_through_mapping(struct dump *d, void *buf, size_t len, uint64_t offset)
{
	uint64_t page = DUMP_PAGE_SIZE, start = offset & ~(page - 1);
	size_t map_len = ALIGN_UP(offset + len - start, page);
	void *p;

	p = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, d->fd, (off_t)start);
	if (p == MAP_FAILED)
		return log_debug_errno(negative_errno(),
				       "Cannot map %zu bytes of the vmcore at offset %" PRIu64
				       ": %m",
				       map_len, start);
	memcpy(buf, (uint8_t *)p + (offset - start), len);
	munmap(p, map_len);
	return 0;
}

static int read_at(struct dump *d, void *buf, size_t len, uint64_t offset, size_t *ret_read)
{
	int r = d->pread(d->fd, buf, len, (off_t)offset, ret_read);

	if (r >= 0 || !d->procfs || read_through_mapping(d, buf, len, offset) < 0)
		return r;
	*ret_read = len;
	return 0;
}

int dump_elf_read_phys(struct dump *d, uint64_t paddr, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len > 0) {
		const struct dump_segment *s = find_segment(d, paddr);
		uint64_t rel, n, in_file;
		size_t got;
		int r;

		if (!s)
			return -ENOENT;
		rel = paddr - s->phys_start;
		n = MIN((uint64_t)len, s->mem_size - rel);
		in_file = rel < s->file_size ? MIN(n, s->file_size - rel) : 0;
		if (in_file > 0) {
			r = read_at(d, out, in_file, s->file_offset + rel, &got);
			if (r < 0)
				return r;
			if (got < in_file) {
				const struct dump_segment *other =
					find_segment_in_file(d, paddr, in_file);

				if (!other || other == s)
					return -ENODATA;
				r = read_at(d, out, in_file,
					    other->file_offset + (paddr - other->phys_start), &got);
				if (r < 0)
					return r;
				if (got < in_file)
					return -ENODATA;
			}
		}
		/* Past p_filesz the segment describes memory the file holds as zeros. */
		memset(out + in_file, 0, n - in_file);
		out += n;
		paddr += n;
		len -= n;
	}
	return 0;
}
