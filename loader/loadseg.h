/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading the crash kernel with kexec_load(KEXEC_ON_CRASH): the image built entirely in
 * user space: the bzImage's protected-mode kernel, the initrd, boot_params
 * with the command line and the crash kernel's e820 map, the elfcorehdr
 * describing the panicked kernel, and the purgatory that checks all of it
 * before entering the crash kernel. Everything is placed in the main
 * "Crash kernel" range and checked against the kernel's rules before the
 * one syscall, which goes through lib/kexec_syscall.h.
 *
 * Layout, bottom-up from the start of the range:
 *   elfcorehdr | kernel (kernel_alignment) | initrd | boot_params+cmdline | purgatory
 * The elfcorehdr first keeps the crash kernel's RAM in one piece. A plain
 * kexec (options.reboot) has the same layout without the elfcorehdr.
 */
#pragma once

#include <linux/kexec.h>

#include "crashmem.h"
#include "e820.h"
#include "elfcorehdr.h"

struct loadseg_options {
	const char *root; /* where /proc and /sys are read: NULL or "/" for the system */
	const void *kernel; /* the bzImage file's bytes */
	size_t kernel_size;
	const void *initrd; /* NULL: none */
	size_t initrd_size;
	const char *cmdline; /* the crash kernel's arguments; elfcorehdr= is added in front */
	/* Pass KEXEC_UPDATE_ELFCOREHDR when the kernel can rewrite the header on hotplug. */
	bool hotplug;
	bool purgatory_verbose; /* the purgatory says on COM1 that the digests matched */
	/*
	 * A plain kexec (for `systemctl kexec`), not a crash kernel: no
	 * KEXEC_ON_CRASH, no elfcorehdr, the whole of RAM in the new kernel's
	 * e820, and the segments in the largest System RAM range below 4 GiB
	 * outside any crash reservation (the kernel copies them there only
	 * when it reboots into them, so the running kernel's own memory may
	 * be among it).
	 */
	bool reboot;
	/*
	 * Test only, for a QEMU test's own loader (crashcapctl and crashcapd
	 * never set these): spoil the stored digest of region
	 * test_corrupt_region, and make the purgatory end QEMU through its
	 * isa-debug-exit port after refusing.
	 */
	bool test_corrupt;
	unsigned test_corrupt_region;
	bool test_exit_port;
};

enum loadseg_segment {
	LOADSEG_ELFCOREHDR,
	LOADSEG_KERNEL,
	LOADSEG_INITRD,
	LOADSEG_BOOT_PARAMS,
	LOADSEG_PURGATORY,
	_LOADSEG_MAX,
};

struct loadseg_image {
	struct kexec_segment segments[KEXEC_SEGMENT_MAX];
	const char *names[KEXEC_SEGMENT_MAX];
	uint8_t *owned[KEXEC_SEGMENT_MAX]; /* buffers this image frees */
	size_t nr_segments;
	unsigned long entry; /* the purgatory */
	unsigned long flags; /* for kexec_load */
	uint64_t addr[_LOADSEG_MAX]; /* where each part went; 0 for no initrd */
	char *cmdline; /* as the crash kernel gets it */
	struct e820_table e820; /* as the crash kernel gets it */
	bool update_elfcorehdr; /* KEXEC_UPDATE_ELFCOREHDR is in flags */
	unsigned nr_digests; /* regions the purgatory checks */
};

struct loadseg_image *loadseg_image_free(struct loadseg_image *img);
static inline void loadseg_image_freep(struct loadseg_image **p)
{
	loadseg_image_free(*p);
}
#define _cleanup_loadseg_image_ _cleanup_(loadseg_image_freep)

/*
 * Builds the image from facts already gathered (tests pass them by hand).
 * first/first_size: the first kernel's boot_params or NULL; acpi_rsdp: 0
 * when unknown. The image points into o->kernel and o->initrd: keep them
 * until it is loaded. *error gets a one-line message on failure.
 */
int loadseg_build_from(const struct loadseg_options *o, const struct crash_memory *mem,
		       const struct elfcorehdr_info *info, const uint8_t *first, size_t first_size,
		       uint64_t acpi_rsdp, struct loadseg_image **ret, char **error);

/*
 * A plain kexec image (o->reboot) from facts already gathered: mem needs
 * no crash range; five_level: the running kernel uses 5-level paging.
 */
int loadseg_build_reboot_from(const struct loadseg_options *o, const struct crash_memory *mem,
			      bool five_level, const uint8_t *first, size_t first_size,
			      uint64_t acpi_rsdp, struct loadseg_image **ret, char **error);

/* Either of the above, reading /proc/iomem, sysfs and /proc/kcore under o->root. */
int loadseg_build(const struct loadseg_options *o, struct loadseg_image **ret, char **error);

/* kexec_load() through the syscall seam; *error explains a refusal. */
int loadseg_load(const struct loadseg_image *img, char **error);

/*
 * What `crashcapctl load --method segments` does, in one call: reads the
 * kernel and initrd (initrd_path may be NULL), builds, checks and loads.
 * o->kernel and o->initrd are ignored. ret_flags (may be NULL) gets the
 * flags passed to kexec_load.
 */
int loadseg_load_files(const struct loadseg_options *o, const char *kernel_path,
		       const char *initrd_path, unsigned long *ret_flags, char **error);

/* Unloads the crash image (or with reboot, the kexec image): kexec_load with no segments. */
int loadseg_unload(bool reboot, char **error);
