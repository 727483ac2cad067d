// SPDX-License-Identifier: GPL-2.0-or-later
#include "elfcorehdr.h"

#include <elf.h>
#include <fcntl.h>

#include "errmsg.h"
#include "log.h"
#include "rootfs.h"

#define LOW_1M (1ULL << 20)
#define PAGE_4K 4096ULL
/* __START_KERNEL_map: the kernel text mapping starts here on x86_64. */
#define START_KERNEL_MAP 0xffffffff80000000ULL
/* The lowest kernel address with 4-level paging; a direct map below it means 5-level. */
#define KERNEL_HALF_4LEVEL 0xffff800000000000ULL
#define KCORE_MAX_PHDRS 65535

void elfcorehdr_info_done(struct elfcorehdr_info *info)
{
	free(info->notes);
	mem_ranges_done(&info->ram);
	*info = (struct elfcorehdr_info){};
}

int elfcorehdr_parse_cpu_list(const char *s, unsigned **ret_cpus, size_t *ret_n)
{
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n = 0, allocated = 0;
	const char *p = s;

	while (*p && *p != '\n') {
		unsigned long lo, hi;
		char *end;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		lo = strtoul(p, &end, 10);
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			hi = strtoul(p, &end, 10);
		}
		if (hi < lo || hi > 1u << 20)
			return -EINVAL;
		for (unsigned long c = lo; c <= hi; c++) {
			if (n == allocated) {
				size_t a = allocated ? allocated * 2 : 64;
				unsigned *grown = reallocarray(cpus, a, sizeof(*grown));

				if (!grown)
					return -ENOMEM;
				cpus = grown;
				allocated = a;
			}
			cpus[n++] = c;
		}
		p = end;
		if (*p == ',' && p[1] >= '0' && p[1] <= '9')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	if (n == 0)
		return -EINVAL;
	*ret_cpus = TAKE_PTR(cpus);
	*ret_n = n;
	return 0;
}

static int read_hex_pair(const char *root, const char *path, uint64_t *ret_a, uint64_t *ret_b)
{
	_cleanup_free_ char *line = NULL;
	unsigned long long a, b;
	int consumed = 0, k;

	k = root_read_line(root, path, &line);
	if (k < 0)
		return k;
	/* "%pa %x": the address with 0x, the size without; %llx takes both. */
	if (sscanf(line, "%llx %llx%n", &a, &b, &consumed) != 2 || line[consumed] != 0)
		return -EINVAL;
	*ret_a = a;
	*ret_b = b;
	return 0;
}

static int collect_notes(const char *root, struct elfcorehdr_info *info, char **error)
{
	_cleanup_free_ char *possible = NULL;
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n_cpus = 0, missing = 0;
	int k;

	k = root_read_line(root, "/sys/devices/system/cpu/possible", &possible);
	if (k < 0)
		return errmsg_set(error, k, "cannot read /sys/devices/system/cpu/possible: %s",
				  strerror(-k));
	k = elfcorehdr_parse_cpu_list(possible, &cpus, &n_cpus);
	if (k < 0)
		return errmsg_set(error, k, "cannot parse /sys/devices/system/cpu/possible: \"%s\"",
				  possible);

	info->notes = calloc(n_cpus, sizeof(*info->notes));
	if (!info->notes)
		return -ENOMEM;
	for (size_t i = 0; i < n_cpus; i++) {
		char path[96];
		uint64_t addr, size;

		/* Possible but never present CPUs have no device, hence no notes: skip them. */
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/crash_notes", cpus[i]);
		k = root_read_u64(root, path, 16, &addr);
		if (k == -ENOENT) {
			missing++;
			continue;
		}
		if (k < 0)
			return errmsg_set(error, k, "cannot read %s: %s", path, strerror(-k));
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/crash_notes_size",
			 cpus[i]);
		k = root_read_u64(root, path, 10, &size);
		if (k < 0)
			return errmsg_set(error, k,
					  "cannot read %s: %s (a kernel too old to export it?)",
					  path, strerror(-k));
		if (addr == 0 || size == 0)
			return errmsg_set(error, -EINVAL, "CPU %u has no crash notes buffer",
					  cpus[i]);
		info->notes[info->n_notes++] = (struct crash_cpu_note){ cpus[i], addr, size };
	}
	if (info->n_notes == 0)
		return errmsg_set(error, -ENOENT,
				  "no CPU has crash_notes in /sys/devices/system/cpu: "
				  "is the kernel built with CONFIG_CRASH_DUMP?");
	log_debug("elfcorehdr: %zu CPU notes, %zu possible CPUs not present", info->n_notes,
		  missing);
	return 0;
}

/* The kernel text mapping and the direct map's base, from /proc/kcore's program headers. */
static int collect_kcore(const char *root, struct elfcorehdr_info *info, char **error)
{
	_cleanup_close_ int fd = root_open(root, "/proc/kcore", O_RDONLY);
	_cleanup_free_ Elf64_Phdr *ph = NULL;
	bool have_text = false, have_offset = false;
	Elf64_Ehdr eh;
	size_t got;
	int k;

	if (fd < 0)
		return errmsg_set(error, fd,
				  "cannot open /proc/kcore: %s (it gives the kernel's mapping)",
				  strerror(-fd));
	k = pread_full(fd, &eh, sizeof(eh), 0, &got);
	if (k < 0)
		return errmsg_set(error, k, "cannot read /proc/kcore: %s", strerror(-k));
	if (got != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum == 0 || eh.e_phnum >= KCORE_MAX_PHDRS)
		return errmsg_set(error, -EINVAL,
				  "/proc/kcore is not the ELF64 core file expected");
	ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	k = pread_full(fd, ph, eh.e_phnum * sizeof(*ph), eh.e_phoff, &got);
	if (k < 0 || got != eh.e_phnum * sizeof(*ph))
		return errmsg_set(error, k < 0 ? k : -EINVAL,
				  "cannot read the program headers of /proc/kcore");

	for (size_t i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		/* Ranges that are not memory the kernel maps linearly have p_paddr = -1. */
		if (p->p_type != PT_LOAD || p->p_paddr == UINT64_MAX)
			continue;
		if (p->p_vaddr >= START_KERNEL_MAP && !have_text) {
			info->text_vaddr = p->p_vaddr;
			info->text_paddr = p->p_paddr;
			info->text_size = p->p_memsz;
			have_text = true;
		} else if (p->p_vaddr < START_KERNEL_MAP && p->p_vaddr >= p->p_paddr &&
			   !have_offset) {
			info->page_offset = p->p_vaddr - p->p_paddr;
			have_offset = true;
		}
	}
	if (!have_text || info->text_paddr == 0 || info->text_size == 0)
		return errmsg_set(error, -ENODATA,
				  "/proc/kcore has no kernel text with its physical address "
				  "(a kernel too old to export it?)");
	if (!have_offset)
		return errmsg_set(error, -ENODATA,
				  "/proc/kcore maps no RAM: cannot tell PAGE_OFFSET");
	info->five_level = info->page_offset < KERNEL_HALF_4LEVEL;
	return 0;
}

int elfcorehdr_kernel_map(const char *root, struct elfcorehdr_info *info, char **error)
{
	return collect_kcore(root, info, error);
}

int elfcorehdr_ram_ranges(const struct crash_memory *mem, struct mem_ranges *ret)
{
	_cleanup_(mem_ranges_done) struct mem_ranges ram = {};
	int k;

	k = mem_ranges_copy(&mem->ram, &ram);
	if (k < 0)
		return k;
	mem_ranges_sort(&ram);
	/* The first kernel reserves the low 1 MiB and the crash kernel reuses it. */
	k = mem_ranges_exclude(&ram, 0, LOW_1M - 1);
	if (k >= 0)
		k = mem_ranges_exclude(&ram, mem->crash.start, mem->crash.end);
	if (k >= 0 && mem->has_crash_low)
		k = mem_ranges_exclude(&ram, mem->crash_low.start, mem->crash_low.end);
	if (k < 0)
		return k;
	*ret = ram;
	ram = (struct mem_ranges){};
	return 0;
}

int elfcorehdr_collect(const char *root, const struct crash_memory *mem,
		       struct elfcorehdr_info *ret, char **error)
{
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	int k;

	k = collect_notes(root, &info, error);
	if (k < 0)
		return k;

	k = read_hex_pair(root, "/sys/kernel/vmcoreinfo", &info.vmcoreinfo_addr,
			  &info.vmcoreinfo_size);
	if (k < 0)
		return errmsg_set(error, k, "cannot read /sys/kernel/vmcoreinfo: %s", strerror(-k));
	if (info.vmcoreinfo_addr == 0 || info.vmcoreinfo_size == 0)
		return errmsg_set(error, -EINVAL,
				  "/sys/kernel/vmcoreinfo names no VMCOREINFO note");

	k = collect_kcore(root, &info, error);
	if (k < 0)
		return k;

	k = elfcorehdr_ram_ranges(mem, &info.ram);
	if (k < 0)
		return k;
	if (info.ram.count == 0)
		return errmsg_set(error, -EINVAL,
				  "no System RAM outside the crash kernel range to dump");

	k = root_read_u64(root, "/sys/kernel/crash_elfcorehdr_size", 0, &info.hotplug_size);
	if (k == -ENOENT)
		info.hotplug_size = 0;
	else if (k < 0)
		return errmsg_set(error, k, "cannot read /sys/kernel/crash_elfcorehdr_size: %s",
				  strerror(-k));

	*ret = info;
	info = (struct elfcorehdr_info){};
	return 0;
}

int elfcorehdr_build(const struct elfcorehdr_info *info, uint8_t **ret_buf, size_t *ret_size)
{
	size_t phnum = info->n_notes + 1 + (info->text_size > 0) + info->ram.count;
	_cleanup_free_ uint8_t *buf = NULL;
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	size_t size;

	if (phnum >= PN_XNUM)
		return -E2BIG;
	size = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;

	eh = (Elf64_Ehdr *)buf;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = phnum;

	/* p_offset is the physical address: the crash kernel reads old memory by it. */
	ph = (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
	for (size_t i = 0; i < info->n_notes; i++, ph++)
		*ph = (Elf64_Phdr){
			.p_type = PT_NOTE,
			.p_offset = info->notes[i].addr,
			.p_paddr = info->notes[i].addr,
			.p_filesz = info->notes[i].size,
			.p_memsz = info->notes[i].size,
		};
	*ph++ = (Elf64_Phdr){
		.p_type = PT_NOTE,
		.p_offset = info->vmcoreinfo_addr,
		.p_paddr = info->vmcoreinfo_addr,
		.p_filesz = info->vmcoreinfo_size,
		.p_memsz = info->vmcoreinfo_size,
	};
	if (info->text_size > 0)
		*ph++ = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = info->text_paddr,
			.p_vaddr = info->text_vaddr,
			.p_paddr = info->text_paddr,
			.p_filesz = info->text_size,
			.p_memsz = info->text_size,
		};
	for (size_t i = 0; i < info->ram.count; i++, ph++) {
		const struct mem_range *r = &info->ram.ranges[i];

		*ph = (Elf64_Phdr){
			.p_type = PT_LOAD,
			.p_flags = PF_R | PF_W | PF_X,
			.p_offset = r->start,
			.p_vaddr = info->page_offset + r->start,
			.p_paddr = r->start,
			.p_filesz = mem_range_size(r),
			.p_memsz = mem_range_size(r),
		};
	}

	*ret_buf = TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

uint64_t elfcorehdr_memsz(const struct elfcorehdr_info *info, size_t bufsz, bool hotplug)
{
	uint64_t memsz = ALIGN_UP((uint64_t)bufsz, PAGE_4K);

	if (hotplug && info->hotplug_size > 0)
		memsz = MAX(memsz, ALIGN_UP(info->hotplug_size + sizeof(Elf64_Ehdr), PAGE_4K));
	return memsz;
}
