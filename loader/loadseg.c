// SPDX-License-Identifier: GPL-2.0-or-later
#include "loadseg.h"

#include <inttypes.h>

#include "bootparams.h"
#include "bzimage.h"
#include "kexec_syscall.h"
#include "errmsg.h"
#include "log.h"
#include "purgatory.h"
#include "segments.h"

#define PAGE_4K 4096ULL
#define GIB4 (1ULL << 32)
/*
 * The kernel takes its control page and the identity-mapping page tables
 * for the jump from free pages of the crash range: leave it some.
 */
#define CONTROL_SLACK (1ULL << 20)
#define KERNEL_MAX_SIZE (512ULL << 20)
#define INITRD_MAX_SIZE (4ULL << 30)

static const char *const segment_names[_LOADSEG_MAX] = {
	[LOADSEG_ELFCOREHDR] = "elfcorehdr", [LOADSEG_KERNEL] = "kernel",
	[LOADSEG_INITRD] = "initrd",	     [LOADSEG_BOOT_PARAMS] = "boot_params",
	[LOADSEG_PURGATORY] = "purgatory",
};

struct loadseg_image *loadseg_image_free(struct loadseg_image *img)
{
	if (!img)
		return NULL;
	for (size_t i = 0; i < KEXEC_SEGMENT_MAX; i++)
		free(img->owned[i]);
	free(img->cmdline);
	e820_table_done(&img->e820);
	free(img);
	return NULL;
}

static void add_segment(struct loadseg_image *img, enum loadseg_segment kind, const void *buf,
			size_t bufsz, uint64_t addr, uint64_t memsz, uint8_t *owned)
{
	size_t i = img->nr_segments++;

	img->segments[i] = (struct kexec_segment){
		.buf = buf,
		.bufsz = bufsz,
		.mem = (const void *)(uintptr_t)addr,
		.memsz = memsz,
	};
	img->names[i] = segment_names[kind];
	img->owned[i] = owned;
	img->addr[kind] = addr;
}

static int place(struct segment_layout *l, enum loadseg_segment kind, uint64_t memsz,
		 uint64_t align, uint64_t min_addr, uint64_t *ret, char **error)
{
	char need[32], range[32];
	int k = segment_layout_take(l, memsz, align, min_addr, ret);

	if (k == -ENOSPC)
		return errmsg_set(
			error, k,
			"the crash kernel range (%s at 0x%" PRIx64
			") has no room left for the %s (%s): reserve more with crashkernel=",
			format_size(mem_range_size(&l->range), range, sizeof(range)),
			l->range.start, segment_names[kind],
			format_size(memsz, need, sizeof(need)));
	return k;
}

static int build_cmdline(const struct loadseg_options *o, const struct bzimage *image,
			 uint64_t elfcorehdr, uint64_t acpi_rsdp, char **ret)
{
	_cleanup_free_ char *rsdp = NULL;
	char *s;

	/* Protocols before 2.14 have no acpi_rsdp_addr field: the command line says it. */
	if (acpi_rsdp && image->version < BZIMAGE_PROTOCOL_ACPI_RSDP &&
	    asprintf(&rsdp, " acpi_rsdp=0x%" PRIx64, acpi_rsdp) < 0)
		return -ENOMEM;
	if (!elfcorehdr) {
		if (asprintf(&s, "%s%s", o->cmdline ? o->cmdline : "",
			     rsdp ? rsdp + (o->cmdline && *o->cmdline ? 0 : 1) : "") < 0)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	/* In front, so that a "--" in the user's arguments cannot hand it to init. */
	if (asprintf(&s, "elfcorehdr=0x%" PRIx64 "%s%s%s", elfcorehdr,
		     o->cmdline && *o->cmdline ? " " : "", o->cmdline ? o->cmdline : "",
		     rsdp ? rsdp : "") < 0)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int add_purgatory(struct loadseg_image *img, const struct loadseg_options *o,
			 struct segment_layout *l, char **error)
{
	_cleanup_free_ uint8_t *pimg = NULL;
	uint64_t addr, memsz;
	size_t size;
	int k;

	k = purgatory_new(&pimg, &size);
	if (k < 0)
		return errmsg_set(error, k, "the built-in purgatory is damaged");
	memsz = ALIGN_UP((uint64_t)size, PAGE_4K);
	k = place(l, LOADSEG_PURGATORY, memsz, PAGE_4K, 0, &addr, error);
	if (k < 0)
		return k;

	/* Every segment but the purgatory itself, and the elfcorehdr when the kernel rewrites it. */
	for (size_t i = 0; i < img->nr_segments; i++) {
		if (img->update_elfcorehdr &&
		    (uintptr_t)img->segments[i].mem == img->addr[LOADSEG_ELFCOREHDR])
			continue;
		k = purgatory_add_region(pimg, (uintptr_t)img->segments[i].mem,
					 img->segments[i].buf, img->segments[i].bufsz);
		if (k < 0)
			return k;
		img->nr_digests++;
	}
	purgatory_set_entry(pimg, img->addr[LOADSEG_KERNEL] + BZIMAGE_ENTRY64_OFFSET,
			    img->addr[LOADSEG_BOOT_PARAMS],
			    (o->purgatory_verbose ? PURGATORY_FLAG_VERBOSE : 0) |
				    (o->test_exit_port ? PURGATORY_FLAG_TEST_EXIT : 0));
	if (o->test_corrupt) {
		k = purgatory_corrupt_digest(pimg, o->test_corrupt_region);
		if (k < 0)
			return errmsg_set(error, k, "no purgatory region %u to corrupt",
					  o->test_corrupt_region);
	}
	img->entry = addr;
	add_segment(img, LOADSEG_PURGATORY, pimg, size, addr, memsz, pimg);
	pimg = NULL;
	return 0;
}

/* boot_params with the command line and img->e820, placed next in l. */
static int add_boot_params(struct loadseg_image *img, const struct loadseg_options *o,
			   const struct bzimage *image, struct segment_layout *l,
			   const uint8_t *first, size_t first_size, uint64_t acpi_rsdp,
			   char **error)
{
	_cleanup_free_ uint8_t *bp = NULL;
	const char *reason = NULL;
	uint64_t addr, memsz;
	size_t bp_size;
	int k;

	memsz = ALIGN_UP(bootparams_segment_size(strlen(img->cmdline), img->e820.count), PAGE_4K);
	k = place(l, LOADSEG_BOOT_PARAMS, memsz, PAGE_4K, 0, &addr, error);
	if (k < 0)
		return k;
	k = bootparams_build(
		&(struct bootparams_config){
			.image = image,
			.addr = addr,
			.cmdline = img->cmdline,
			.initrd_addr = img->addr[LOADSEG_INITRD],
			.initrd_size = img->addr[LOADSEG_INITRD] ? o->initrd_size : 0,
			.e820 = &img->e820,
			.acpi_rsdp = acpi_rsdp,
			.first = first,
			.first_size = first_size,
		},
		&bp, &bp_size, &reason);
	if (k < 0)
		return errmsg_set(error, k, "%s", reason ? reason : strerror(-k));
	add_segment(img, LOADSEG_BOOT_PARAMS, bp, bp_size, addr, memsz, bp);
	bp = NULL;
	return 0;
}

/* The kernel and the initrd, placed next in l. */
static int add_kernel_initrd(struct loadseg_image *img, const struct loadseg_options *o,
			     const struct bzimage *image, struct segment_layout *l, char **error)
{
	uint64_t addr, memsz;
	int k;

	k = place(l, LOADSEG_KERNEL, image->memsz, image->alignment, image->min_address, &addr,
		  error);
	if (k < 0)
		return k;
	add_segment(img, LOADSEG_KERNEL, image->kernel, image->kernel_size, addr, image->memsz,
		    NULL);

	if (o->initrd && o->initrd_size > 0) {
		memsz = ALIGN_UP((uint64_t)o->initrd_size, PAGE_4K);
		k = place(l, LOADSEG_INITRD, memsz, PAGE_4K, 0, &addr, error);
		if (k < 0)
			return k;
		add_segment(img, LOADSEG_INITRD, o->initrd, o->initrd_size, addr, memsz, NULL);
	}
	return 0;
}

int loadseg_build_from(const struct loadseg_options *o, const struct crash_memory *mem,
		       const struct elfcorehdr_info *info, const uint8_t *first, size_t first_size,
		       uint64_t acpi_rsdp, struct loadseg_image **ret, char **error)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	_cleanup_free_ uint8_t *ehdr = NULL;
	size_t ehdr_size;
	struct segment_layout layout;
	struct bzimage image;
	struct mem_range keep;
	const char *reason = NULL;
	uint64_t addr, memsz, highest, ram;
	int k;

	k = bzimage_parse(o->kernel, o->kernel_size, &image, &reason);
	if (k < 0)
		return errmsg_set(error, k, "kernel image refused: %s", reason);

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	segment_layout_init(&layout, &mem->crash);

	img->update_elfcorehdr = o->hotplug && info->hotplug_size > 0;
	k = elfcorehdr_build(info, &ehdr, &ehdr_size);
	if (k < 0)
		return errmsg_set(error, k, "cannot build the ELF core header: %s", strerror(-k));
	memsz = elfcorehdr_memsz(info, ehdr_size, img->update_elfcorehdr);
	k = place(&layout, LOADSEG_ELFCOREHDR, memsz, PAGE_4K, 0, &addr, error);
	if (k < 0)
		return k;
	add_segment(img, LOADSEG_ELFCOREHDR, ehdr, ehdr_size, addr, memsz, ehdr);
	ehdr = NULL;

	k = add_kernel_initrd(img, o, &image, &layout, error);
	if (k < 0)
		return k;

	k = build_cmdline(o, &image, img->addr[LOADSEG_ELFCOREHDR], acpi_rsdp, &img->cmdline);
	if (k < 0)
		return k;
	keep = (struct mem_range){ img->addr[LOADSEG_ELFCOREHDR],
				   img->addr[LOADSEG_ELFCOREHDR] + img->segments[0].memsz - 1 };
	k = e820_build_crash(mem, &keep, 1, &img->e820);
	if (k < 0)
		return errmsg_set(error, k, "cannot build the crash kernel's memory map: %s",
				  strerror(-k));

	k = add_boot_params(img, o, &image, &layout, first, first_size, acpi_rsdp, error);
	if (k < 0)
		return k;
	highest = img->addr[LOADSEG_BOOT_PARAMS] + img->segments[img->nr_segments - 1].memsz;

	k = add_purgatory(img, o, &layout, error);
	if (k < 0)
		return k;

	k = bzimage_check_placement(&image, img->addr[LOADSEG_KERNEL], highest, info->five_level,
				    &reason);
	if (k < 0)
		return errmsg_set(error, k, "kernel image refused: %s", reason);
	if (segment_layout_left(&layout) < CONTROL_SLACK)
		return errmsg_set(
			error, -ENOSPC,
			"the crash kernel range is full: the kernel needs about 1 MiB more in it "
			"for its control pages: reserve more with crashkernel=");

	img->flags = KEXEC_ON_CRASH | KEXEC_ARCH_X86_64 |
		     (img->update_elfcorehdr ? KEXEC_UPDATE_ELFCOREHDR : 0);
	ram = mem_ranges_total(&mem->ram) - mem_range_size(&mem->crash) -
	      (mem->has_crash_low ? mem_range_size(&mem->crash_low) : 0);
	k = kexec_segments_check(img->segments, img->names, img->nr_segments, img->entry,
				 &(struct kexec_limits){
					 .crash = &mem->crash,
					 .crash_low = mem->has_crash_low ? &mem->crash_low : NULL,
					 .ram_bytes = ram,
				 },
				 error);
	if (k < 0)
		return k;

	*ret = TAKE_PTR(img);
	return 0;
}

/*
 * Where a plain kexec goes: the largest piece of System RAM between 1 MiB
 * and 4 GiB outside the crash reservation(s). Below 4 GiB any image can
 * take it; the reservation stays as it is for a crash kernel loaded now.
 */
static int reboot_range(const struct crash_memory *mem, struct mem_range *ret)
{
	_cleanup_(mem_ranges_done) struct mem_ranges free_ram = {};
	const struct mem_range *best = NULL;
	int k;

	k = mem_ranges_copy(&mem->ram, &free_ram);
	if (k >= 0)
		k = mem_ranges_exclude(&free_ram, 0, (1ULL << 20) - 1);
	if (k >= 0)
		k = mem_ranges_exclude(&free_ram, GIB4, UINT64_MAX);
	if (k >= 0 && mem->has_crash)
		k = mem_ranges_exclude(&free_ram, mem->crash.start, mem->crash.end);
	if (k >= 0 && mem->has_crash_low)
		k = mem_ranges_exclude(&free_ram, mem->crash_low.start, mem->crash_low.end);
	if (k < 0)
		return k;
	for (size_t i = 0; i < free_ram.count; i++)
		if (!best || mem_range_size(&free_ram.ranges[i]) > mem_range_size(best))
			best = &free_ram.ranges[i];
	if (!best)
		return -ENOSPC;
	*ret = *best;
	return 0;
}

int loadseg_build_reboot_from(const struct loadseg_options *o, const struct crash_memory *mem,
			      bool five_level, const uint8_t *first, size_t first_size,
			      uint64_t acpi_rsdp, struct loadseg_image **ret, char **error)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	struct segment_layout layout;
	struct bzimage image;
	struct mem_range range;
	const char *reason = NULL;
	uint64_t highest;
	int k;

	k = bzimage_parse(o->kernel, o->kernel_size, &image, &reason);
	if (k < 0)
		return errmsg_set(error, k, "kernel image refused: %s", reason);
	k = reboot_range(mem, &range);
	if (k == -ENOSPC)
		return errmsg_set(error, k, "no System RAM below 4 GiB to stage the kernel in");
	if (k < 0)
		return k;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	segment_layout_init(&layout, &range);

	k = add_kernel_initrd(img, o, &image, &layout, error);
	if (k < 0)
		return k;
	k = build_cmdline(o, &image, 0, acpi_rsdp, &img->cmdline);
	if (k < 0)
		return k;
	k = e820_build_plain(mem, &img->e820);
	if (k < 0)
		return errmsg_set(error, k, "cannot build the new kernel's memory map: %s",
				  strerror(-k));
	k = add_boot_params(img, o, &image, &layout, first, first_size, acpi_rsdp, error);
	if (k < 0)
		return k;
	highest = img->addr[LOADSEG_BOOT_PARAMS] + img->segments[img->nr_segments - 1].memsz;
	k = add_purgatory(img, o, &layout, error);
	if (k < 0)
		return k;
	k = bzimage_check_placement(&image, img->addr[LOADSEG_KERNEL], highest, five_level,
				    &reason);
	if (k < 0)
		return errmsg_set(error, k, "kernel image refused: %s", reason);

	img->flags = KEXEC_ARCH_X86_64;
	k = kexec_segments_check(img->segments, img->names, img->nr_segments, img->entry,
				 &(struct kexec_limits){ .ram_bytes = mem_ranges_total(&mem->ram) },
				 error);
	if (k < 0)
		return k;

	*ret = TAKE_PTR(img);
	return 0;
}

static int read_iomem_failed(int k, char **error)
{
	if (k == -EPERM)
		return errmsg_set(error, k, "/proc/iomem shows no addresses: run as root");
	return errmsg_set(error, k, "cannot read /proc/iomem: %s", strerror(-k));
}

static int build_reboot(const struct loadseg_options *o, const uint8_t *first, size_t first_size,
			uint64_t rsdp, struct loadseg_image **ret, char **error)
{
	_cleanup_(crash_memory_done) struct crash_memory mem = {};
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info map = {};
	_cleanup_free_ char *ignored = NULL;
	int k;

	k = system_memory_read(o->root, &mem);
	if (k < 0)
		return read_iomem_failed(k, error);
	/* Only the paging mode matters here; without /proc/kcore assume 4-level. */
	k = elfcorehdr_kernel_map(o->root, &map, &ignored);
	if (k < 0)
		log_debug("reboot image: paging mode unknown (%s), assuming 4-level", ignored);
	return loadseg_build_reboot_from(o, &mem, map.five_level, first, first_size, rsdp, ret,
					 error);
}

int loadseg_build(const struct loadseg_options *o, struct loadseg_image **ret, char **error)
{
	_cleanup_(crash_memory_done) struct crash_memory mem = {};
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	_cleanup_free_ uint8_t *first = NULL;
	size_t first_size = 0;
	uint64_t rsdp = 0;
	int k;

	k = bootparams_read_first(o->root, &first, &first_size);
	if (k < 0 && k != -ENOENT)
		log_debug_errno(k, "crash image: first kernel's boot_params unreadable: %m");
	k = bootparams_read_rsdp(o->root, first, first_size, &rsdp);
	if (k < 0 && k != -ENOENT)
		log_debug_errno(k, "crash image: ACPI RSDP unknown: %m");
	if (o->reboot)
		return build_reboot(o, first, first_size, rsdp, ret, error);

	k = crash_memory_read(o->root, &mem);
	if (k == -ENOENT)
		return errmsg_set(
			error, k,
			"no \"Crash kernel\" range in /proc/iomem: boot with crashkernel= "
			"(crashcapctl reserve) first");
	if (k < 0)
		return read_iomem_failed(k, error);
	k = elfcorehdr_collect(o->root, &mem, &info, error);
	if (k < 0)
		return k;
	return loadseg_build_from(o, &mem, &info, first, first_size, rsdp, ret, error);
}

int loadseg_load(const struct loadseg_image *img, char **error)
{
	int k = sys_kexec_load(img->entry, img->nr_segments, img->segments, img->flags);

	switch (k) {
	case 0:
		return 0;
	case -EPERM:
		return errmsg_set(
			error, k,
			"kexec_load refused: it needs CAP_SYS_BOOT, kernel.kexec_load_disabled must "
			"be 0, and lockdown (Secure Boot) forbids it: use --method file");
	case -EBUSY:
		return errmsg_set(error, k,
				  "kexec_load: the %s kernel is busy (being loaded or used)",
				  img->flags & KEXEC_ON_CRASH ? "crash" : "kexec");
	case -ENOSYS:
		return errmsg_set(error, k, "kexec_load: the kernel is built without CONFIG_KEXEC");
	case -EINVAL:
	case -EADDRNOTAVAIL:
		return errmsg_set(
			error, k,
			"kexec_load refused the segments (%s) although they passed crashcap's "
			"checks: please report this",
			strerror(-k));
	default:
		return errmsg_set(error, k, "kexec_load: %s", strerror(-k));
	}
}

int loadseg_load_files(const struct loadseg_options *o, const char *kernel_path,
		       const char *initrd_path, unsigned long *ret_flags, char **error)
{
	_cleanup_loadseg_image_ struct loadseg_image *img = NULL;
	_cleanup_free_ char *kernel = NULL, *initrd = NULL;
	struct loadseg_options opts = *o;
	size_t kernel_size = 0, initrd_size = 0;
	int k;

	k = read_full_file(kernel_path, KERNEL_MAX_SIZE, &kernel, &kernel_size);
	if (k < 0)
		return errmsg_set(error, k, "cannot read the kernel %s: %s", kernel_path,
				  strerror(-k));
	if (initrd_path) {
		k = read_full_file(initrd_path, INITRD_MAX_SIZE, &initrd, &initrd_size);
		if (k < 0)
			return errmsg_set(error, k, "cannot read the initrd %s: %s", initrd_path,
					  strerror(-k));
	}
	opts.kernel = kernel;
	opts.kernel_size = kernel_size;
	opts.initrd = initrd;
	opts.initrd_size = initrd_size;

	k = loadseg_build(&opts, &img, error);
	if (k < 0)
		return k;
	log_debug("%s image: %zu segments, entry 0x%lx, flags 0x%lx, command line \"%s\"",
		  o->reboot ? "reboot" : "crash", img->nr_segments, img->entry, img->flags,
		  img->cmdline);
	for (size_t i = 0; i < img->nr_segments; i++)
		log_debug("  %-11s at 0x%09" PRIx64 ", %zu of %zu bytes", img->names[i],
			  (uint64_t)(uintptr_t)img->segments[i].mem, img->segments[i].bufsz,
			  img->segments[i].memsz);
	k = loadseg_load(img, error);
	if (k < 0)
		return k;
	if (ret_flags)
		*ret_flags = img->flags;
	return 0;
}

int loadseg_unload(bool reboot, char **error)
{
	int k = sys_kexec_load(0, 0, NULL, reboot ? 0 : KEXEC_ON_CRASH);

	if (k == -EPERM)
		return errmsg_set(
			error, k,
			"kexec_load refused to unload (EPERM): it needs CAP_SYS_BOOT and is "
			"not allowed under lockdown");
	if (k < 0)
		return errmsg_set(error, k, "kexec_load (unload): %s", strerror(-k));
	return 0;
}
