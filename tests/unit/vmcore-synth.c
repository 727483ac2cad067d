// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmcore-synth.h"

#include <elf.h>
#include <fcntl.h>

/* sizeof(struct elf_prstatus) on x86_64; pr_pid sits at offset 32. */
#define PRSTATUS_SIZE 336
#define PRSTATUS_PID_OFFSET 32
#define CHUNK (1U << 20)

uint8_t synth_pattern(uint64_t paddr)
{
	uint64_t word = (paddr & ~7ULL) ^ SYNTH_PATTERN_XOR;

	return (uint8_t)(word >> ((paddr & 7) * 8));
}

void synth_pattern_fill(uint64_t paddr, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = synth_pattern(paddr + i);
}

int synth_note(const char *name, uint32_t type, const void *desc, size_t desc_size, void **ret,
	       size_t *ret_size)
{
	size_t namesz = strlen(name) + 1;
	size_t size = sizeof(Elf64_Nhdr) + ALIGN_UP(namesz, 4) + ALIGN_UP(desc_size, 4);
	Elf64_Nhdr nh = { .n_namesz = namesz, .n_descsz = desc_size, .n_type = type };
	uint8_t *buf = calloc(1, size);

	if (!buf)
		return -ENOMEM;
	memcpy(buf, &nh, sizeof(nh));
	memcpy(buf + sizeof(nh), name, namesz);
	if (desc_size)
		memcpy(buf + sizeof(nh) + ALIGN_UP(namesz, 4), desc, desc_size);
	*ret = buf;
	*ret_size = size;
	return 0;
}

static uint64_t seg_file_size(const struct synth_segment *s)
{
	if (s->file_size == SYNTH_NO_FILE_DATA)
		return 0;
	return s->file_size ? s->file_size : s->mem_size;
}

static int build_notes(const struct synth_vmcore *spec, uint8_t **ret, size_t *ret_size)
{
	uint8_t *buf = NULL;
	size_t size = 0;
	int r;

	for (unsigned cpu = 0; cpu <= spec->nr_cpus; cpu++) {
		uint8_t prstatus[PRSTATUS_SIZE] = { 0 };
		int32_t pid = cpu + 1;
		_cleanup_free_ void *note = NULL;
		size_t note_size;
		void *grown;

		if (cpu == spec->nr_cpus) {
			/* After the CPUs: VMCOREINFO, as the kernel orders them. */
			if (!spec->vmcoreinfo)
				break;
			r = synth_note("VMCOREINFO", 0, spec->vmcoreinfo, strlen(spec->vmcoreinfo),
				       &note, &note_size);
		} else {
			memcpy(prstatus + PRSTATUS_PID_OFFSET, &pid, sizeof(pid));
			r = synth_note("CORE", NT_PRSTATUS, prstatus, sizeof(prstatus), &note,
				       &note_size);
		}
		if (r < 0)
			goto fail;
		grown = realloc(buf, size + note_size);
		if (!grown) {
			r = -ENOMEM;
			goto fail;
		}
		buf = grown;
		memcpy(buf + size, note, note_size);
		size += note_size;
	}
	if (spec->extra_notes_size) {
		void *grown = realloc(buf, size + spec->extra_notes_size);

		if (!grown) {
			r = -ENOMEM;
			goto fail;
		}
		buf = grown;
		memcpy(buf + size, spec->extra_notes, spec->extra_notes_size);
		size += spec->extra_notes_size;
	}
	*ret = buf;
	*ret_size = size;
	return 0;
fail:
	free(buf);
	return r;
}

static size_t notes_size(const struct synth_vmcore *spec)
{
	size_t size = spec->nr_cpus * (sizeof(Elf64_Nhdr) + 8 + PRSTATUS_SIZE);

	if (spec->vmcoreinfo)
		size += sizeof(Elf64_Nhdr) + 12 + ALIGN_UP(strlen(spec->vmcoreinfo), 4);
	return size + spec->extra_notes_size;
}

uint64_t synth_segment_file_offset(const struct synth_vmcore *spec, size_t index)
{
	uint64_t off = sizeof(Elf64_Ehdr) + (1 + spec->n_segments) * sizeof(Elf64_Phdr);

	off = ALIGN_UP(off + notes_size(spec), 4096);
	for (size_t i = 0; i < index; i++)
		off += ALIGN_UP(seg_file_size(&spec->segments[i]), 4096);
	return off;
}

static int write_segment(int fd, const struct synth_segment *s, uint64_t off)
{
	uint64_t size = seg_file_size(s);
	_cleanup_free_ uint8_t *chunk = NULL;
	int r;

	if (s->data)
		return pwrite_full(fd, s->data, size, off);
	if (s->zero || size == 0)
		return 0;
	chunk = malloc(CHUNK);
	if (!chunk)
		return -ENOMEM;
	for (uint64_t done = 0; done < size;) {
		size_t n = MIN((uint64_t)CHUNK, size - done);

		if (s->fill)
			s->fill(s->phys_start + done, chunk, n, s->userdata);
		else
			synth_pattern_fill(s->phys_start + done, chunk, n);
		r = pwrite_full(fd, chunk, n, off + done);
		if (r < 0)
			return r;
		done += n;
	}
	return 0;
}

int synth_vmcore_write(const char *path, const struct synth_vmcore *spec)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *notes = NULL;
	_cleanup_free_ Elf64_Phdr *ph = NULL;
	size_t nsize, phnum = 1 + spec->n_segments;
	uint64_t end;
	int r;

	r = build_notes(spec, &notes, &nsize);
	if (r < 0)
		return r;
	ph = calloc(phnum, sizeof(*ph));
	if (!ph)
		return -ENOMEM;

	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
			     spec->elf_class ? spec->elf_class : ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT },
		.e_type = spec->e_type ? spec->e_type : ET_CORE,
		.e_machine = spec->e_machine ? spec->e_machine : EM_X86_64,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = phnum,
	};
	ph[0] = (Elf64_Phdr){
		.p_type = PT_NOTE,
		.p_offset = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr),
		.p_filesz = nsize,
		.p_memsz = nsize,
	};
	end = ph[0].p_offset + nsize;
	for (size_t i = 0; i < spec->n_segments; i++) {
		const struct synth_segment *s = &spec->segments[i];

		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = synth_segment_file_offset(spec, i),
			.p_vaddr = s->virt_start,
			.p_paddr = s->phys_start,
			.p_filesz = seg_file_size(s),
			.p_memsz = s->mem_size,
			.p_align = 0,
		};
		end = ph[1 + i].p_offset + ph[1 + i].p_filesz;
	}

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return negative_errno();
	r = pwrite_full(fd, &eh, sizeof(eh), 0);
	if (r >= 0)
		r = pwrite_full(fd, ph, phnum * sizeof(*ph), eh.e_phoff);
	if (r >= 0)
		r = pwrite_full(fd, notes, nsize, ph[0].p_offset);
	for (size_t i = 0; r >= 0 && i < spec->n_segments; i++)
		r = write_segment(fd, &spec->segments[i], ph[1 + i].p_offset);
	if (r < 0)
		return r;
	if (ftruncate(fd, spec->truncate_at ? spec->truncate_at : end) < 0)
		return negative_errno();
	return 0;
}

int synth_vmcore_tmpfile(const struct synth_vmcore *spec, char **ret_path)
{
	const char *dir = getenv("TMPDIR");
	_cleanup_free_ char *path = NULL;
	int fd, r;

	if (asprintf(&path, "%s/crashcap-vmcore-XXXXXX", dir && *dir ? dir : "/tmp") < 0)
		return -ENOMEM;
	fd = mkstemp(path);
	if (fd < 0)
		return negative_errno();
	close(fd);
	r = synth_vmcore_write(path, spec);
	if (r < 0) {
		unlink(path);
		return r;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}
