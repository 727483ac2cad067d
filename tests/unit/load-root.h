/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixture roots for the load tests (test-load, test-load-method): a
 * temporary tree with /proc and /sys files as a QEMU guest with
 * crashkernel=256M has them, a crafted bzImage and an initrd. Every
 * helper asserts (cmocka) instead of returning errors.
 */
#pragma once

#include "util.h"

#define LOAD_ROOT_RELEASE "6.1.0-unit-test"

struct bz_opts {
	uint16_t version;
	uint16_t xloadflags;
	uint32_t init_size;
	bool no_magic, no_boot_flag, not_high;
	const char *release;
};

/* Boot protocol 2.15, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G, init_size 48 MiB. */
extern const struct bz_opts bz_good;

/* Writes a bzImage with o's header into img (len bytes, at least 4096); returns len. */
size_t bz_craft(uint8_t *img, size_t len, const struct bz_opts *o);

void fixture_write_file(const char *root, const char *path, const void *data, size_t len);
void fixture_write_text(const char *root, const char *path, const char *text);
void fixture_copy(const char *root, const char *path, const char *fixture);
/* root + path, malloc'ed. */
char *fixture_path(const char *root, const char *path);

/*
 * A machine with 256M reserved and nothing loaded: /proc/iomem,
 * /proc/cmdline, osrelease, kexec_crash_size and kexec_crash_loaded,
 * /boot/vmlinuz-LOAD_ROOT_RELEASE (8 KiB) and /initrd.img (4 KiB).
 */
char *load_root_make(void);
/*
 * The same with what kexec_load needs too (crash notes, VMCOREINFO,
 * /proc/kcore, the first kernel's boot_params): the QEMU guest of
 * tests/fixtures/kexec/qemu-1g, whose /proc/iomem it takes. That guest
 * pages with 5 levels, so its kernel has XLF_5LEVEL too.
 */
char *load_root_make_segments(void);
void load_root_remove(char *root);
