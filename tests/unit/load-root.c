// SPDX-License-Identifier: GPL-2.0-or-later
#include "load-root.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rootfs.h"

#define QEMU_1G "tests/fixtures/kexec/qemu-1g"

const struct bz_opts bz_good = { .version = 0x020f, .xloadflags = 3, .init_size = 48 << 20 };

size_t bz_craft(uint8_t *img, size_t len, const struct bz_opts *o)
{
	const char *banner = o->release ? o->release : LOAD_ROOT_RELEASE;
	uint32_t alignment = 0x200000;

	assert_true(len >= 4096);
	memset(img, 0, len);
	img[0x1f1] = 3;
	if (!o->no_boot_flag) {
		img[0x1fe] = 0x55;
		img[0x1ff] = 0xaa;
	}
	/* The short jump past the header, to 0x26c: the header's length. */
	img[0x200] = 0xeb;
	img[0x201] = 0x6a;
	if (!o->no_magic)
		memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = o->version & 0xff;
	img[0x207] = o->version >> 8;
	img[0x20e] = 0x00; /* kernel_version: 0x200 + 0x200 = 0x400 */
	img[0x20f] = 0x02;
	img[0x211] = o->not_high ? 0 : 1;
	memcpy(img + 0x230, &alignment, 4);
	img[0x234] = 1; /* relocatable_kernel */
	img[0x236] = o->xloadflags & 0xff;
	img[0x237] = o->xloadflags >> 8;
	img[0x238] = 0xff; /* cmdline_size 2047 */
	img[0x239] = 0x07;
	memcpy(img + 0x260, &o->init_size, 4);
	memcpy(img + 0x400, banner, strlen(banner));
	memcpy(img + 0x400 + strlen(banner), " (unit@test) #1 SMP", 19);
	return len;
}

char *fixture_path(const char *root, const char *path)
{
	char *p;

	assert_int_equal(root_path(root, path, &p), 0);
	return p;
}

void fixture_write_file(const char *root, const char *path, const void *data, size_t len)
{
	_cleanup_free_ char *full = fixture_path(root, path);
	_cleanup_close_ int fd = -1;

	assert_int_equal(mkdir_parents(full, 0755), 0);
	fd = open(full, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write_full_fd(fd, data, len), 0);
}

void fixture_write_text(const char *root, const char *path, const char *text)
{
	fixture_write_file(root, path, text, strlen(text));
}

void fixture_copy(const char *root, const char *path, const char *fixture)
{
	_cleanup_free_ char *data = NULL;
	size_t n;

	assert_int_equal(read_full_file(fixture, 1 << 20, &data, &n), 0);
	fixture_write_file(root, path, data, n);
}

char *load_root_make(void)
{
	char *root = strdup("/tmp/crashcap-test-load-XXXXXX");
	static uint8_t img[8192];

	assert_non_null(root);
	assert_non_null(mkdtemp(root));
	fixture_copy(root, "/proc/iomem", "tests/fixtures/iomem/qemu-1g-crashkernel-256m.txt");
	fixture_write_text(root, "/proc/cmdline",
			   "BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro console=tty0 quiet "
			   "console=ttyS0,115200n8 crashkernel=256M\n");
	fixture_write_text(root, "/proc/sys/kernel/osrelease", LOAD_ROOT_RELEASE "\n");
	fixture_write_text(root, "/sys/kernel/kexec_crash_size", "268435456\n");
	fixture_write_text(root, "/sys/kernel/kexec_crash_loaded", "0\n");
	fixture_write_text(root, "/sys/kernel/kexec_loaded", "0\n");
	fixture_write_file(root, "/boot/vmlinuz-" LOAD_ROOT_RELEASE, img,
			   bz_craft(img, sizeof(img), &bz_good));
	fixture_write_file(root, "/initrd.img", img, 4096);
	return root;
}

char *load_root_make_segments(void)
{
	static const char *const files[] = {
		"/proc/iomem",
		"/proc/kcore",
		"/sys/kernel/boot_params/data",
		"/sys/kernel/vmcoreinfo",
		"/sys/devices/system/cpu/possible",
		"/sys/devices/system/cpu/cpu0/crash_notes",
		"/sys/devices/system/cpu/cpu0/crash_notes_size",
		"/sys/devices/system/cpu/cpu1/crash_notes",
		"/sys/devices/system/cpu/cpu1/crash_notes_size",
	};
	char *root = load_root_make();
	struct bz_opts five = bz_good;
	static uint8_t img[8192];

	/* That guest runs with 5-level paging: the image must be able to start in it. */
	five.xloadflags |= 0x20;
	fixture_write_file(root, "/boot/vmlinuz-" LOAD_ROOT_RELEASE, img,
			   bz_craft(img, sizeof(img), &five));
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		_cleanup_free_ char *from = NULL;

		assert_true(asprintf(&from, "%s%s", QEMU_1G, files[i]) > 0);
		fixture_copy(root, files[i], from);
	}
	return root;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void load_root_remove(char *root)
{
	if (!root)
		return;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}
