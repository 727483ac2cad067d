// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * load_method = auto | file | segments and the kexec reboot kernel, on
 * fixture roots with fake syscalls: every branch of auto (file works; the
 * kernel says ENOSYS or ENOEXEC; the image is one only kexec_load takes;
 * EPERM, EKEYREJECTED and EBUSY stop; both fail), segments under lockdown,
 * the reboot kernel by both methods, unloading without kexec_file_load,
 * and loading a recorded segments image again (the daemon's fallback).
 */
#include "kexec_syscall.h"
#include "load-root.h"
#include "loader/loadfile.h"
#include "loader/segments.h"
#include "rootfs.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define RELEASE LOAD_ROOT_RELEASE
#define SERIAL "console=tty0 console=ttyS0,115200n8"
#define DEFAULTS                                                                          \
	"irqpoll nr_cpus=1 reset_devices panic=1 nousb noresume mce=off swiotlb=noforce " \
	"memhp_default_state=offline cgroup.memory=nokmem initcall_blacklist=tracer_init_tracefs"

/* What each fake saw; the errors they return. */
static struct {
	int file_calls, load_calls;
	unsigned long file_flags, load_flags, load_nr, load_entry;
	bool had_initrd_fd;
	char file_cmdline[4096];
	int file_error, load_error;
} seen;

static int fake_file_load(int kernel_fd, int initrd_fd, const char *cmdline, unsigned long flags)
{
	seen.file_calls++;
	seen.file_flags = flags;
	seen.had_initrd_fd = initrd_fd >= 0;
	snprintf(seen.file_cmdline, sizeof(seen.file_cmdline), "%s", cmdline ? cmdline : "(null)");
	return seen.file_error;
}

static int fake_kexec_load(unsigned long entry, unsigned long nr, const struct kexec_segment *s,
			   unsigned long flags)
{
	seen.load_calls++;
	seen.load_entry = entry;
	seen.load_nr = nr;
	seen.load_flags = flags;
	return seen.load_error;
}

static int refuse_reboot(int cmd)
{
	fail_msg("reboot must not be called by a load");
	return -ENOSYS;
}

static const struct kexec_syscall_ops fake_ops = {
	.kexec_file_load = fake_file_load,
	.kexec_load = fake_kexec_load,
	.reboot = refuse_reboot,
};

static int setup(void **state)
{
	seen = (typeof(seen)){};
	*state = load_root_make_segments();
	kexec_syscall_set_ops(&fake_ops);
	return 0;
}

static int teardown(void **state)
{
	kexec_syscall_set_ops(NULL);
	load_root_remove(*state);
	return 0;
}

static int load(const char *root, enum load_method m, bool reboot, struct crash_image *img,
		struct load_error *err)
{
	_cleanup_free_ char *initrd = fixture_path(root, "/initrd.img");
	_cleanup_(settings_done) struct settings s;
	struct load_request req = {
		.root = root,
		.settings = &s,
		.initrd = initrd,
		.reboot_kernel = reboot,
	};

	settings_init(&s);
	s.load_method = m;
	return loadfile_load(&req, img, err);
}

static void write_no4g_kernel(const char *root)
{
	struct bz_opts o = bz_good;
	uint8_t bz[8192];

	o.xloadflags = 0x21; /* XLF_KERNEL_64 | XLF_5LEVEL: not XLF_CAN_BE_LOADED_ABOVE_4G */
	fixture_write_file(root, "/boot/vmlinuz-" RELEASE, bz, bz_craft(bz, sizeof(bz), &o));
}

static void test_auto_file_works(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};

	/* The default: no settings at all is auto. */
	{
		_cleanup_free_ char *initrd = fixture_path(*state, "/initrd.img");
		struct load_request req = { .root = *state, .initrd = initrd };

		assert_int_equal(loadfile_load(&req, &img, &err), 0);
	}
	assert_int_equal(seen.file_calls, 1);
	assert_int_equal(seen.load_calls, 0);
	assert_string_equal(img.method, "file");
	assert_null(img.fallback);
	assert_int_equal(img.flags, KEXEC_FILE_ON_CRASH);
	assert_string_equal(loadfile_method_name(&img), "file (kexec_file_load)");
}

static void test_auto_falls_back(void **state)
{
	static const struct {
		int error;
		const char *fallback;
	} cases[] = {
		{ -ENOSYS, "kexec_file_load refused it (ENOSYS)" },
		{ -ENOEXEC, "kexec_file_load refused it (ENOEXEC)" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(crash_image_done) struct crash_image img = {};
		struct load_error err = {};

		seen = (typeof(seen)){ .file_error = cases[i].error };
		assert_int_equal(load(*state, LOAD_METHOD_AUTO, false, &img, &err), 0);
		assert_int_equal(seen.file_calls, 1);
		assert_int_equal(seen.load_calls, 1);
		assert_string_equal(img.method, "segments");
		assert_string_equal(img.fallback, cases[i].fallback);
		assert_string_equal(loadfile_method_name(&img), "segments (kexec_load)");
		/* kernel, initrd, boot_params, purgatory, elfcorehdr; in the reserved range. */
		assert_int_equal(seen.load_nr, 5);
		assert_int_equal(seen.load_flags, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64);
		assert_int_equal(img.flags, seen.load_flags);
		assert_true(seen.load_entry >= 0x20000000 && seen.load_entry < 0x30000000);
		/* The recorded command line is the user's: the loader adds elfcorehdr=. */
		assert_string_equal(img.cmdline, seen.file_cmdline);
		assert_true(img.time > 0);
	}
}

static void test_auto_image_only_segments_take(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};

	write_no4g_kernel(*state);
	assert_int_equal(load(*state, LOAD_METHOD_AUTO, false, &img, &err), 0);
	/* kexec_file_load is not even tried: it would free the loaded image first. */
	assert_int_equal(seen.file_calls, 0);
	assert_int_equal(seen.load_calls, 1);
	assert_string_equal(img.method, "segments");
	assert_string_equal(img.fallback,
			    "kexec_file_load takes only images that can be loaded above 4 GiB "
			    "(XLF_CAN_BE_LOADED_ABOVE_4G is not set)");

	/* load_method = file refuses it before any syscall, and says what to use. */
	crash_image_done(&img);
	assert_int_equal(load(*state, LOAD_METHOD_FILE, false, &img, &err), -ENOEXEC);
	assert_non_null(strstr(err.message, "cannot be loaded with load_method = file: "
					    "kexec_file_load takes only images that can be "
					    "loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is not "
					    "set): use load_method = segments or auto"));
	assert_int_equal(seen.file_calls, 0);
	assert_int_equal(seen.load_calls, 1);
}

static void test_auto_stops(void **state)
{
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	static const struct {
		int error;
		const char *lockdown;
		const char *fmt; /* %s: kernel */
	} cases[] = {
		{ -EPERM, "none [integrity] confidentiality\n",
		  "the kernel refused to load %s (EPERM): kernel lockdown is in 'integrity' mode "
		  "(Secure Boot): only a kernel signed with a key the kernel trusts loads; use "
		  "your distribution's signed kernel image" },
		{ -EKEYREJECTED, NULL,
		  "the signature of %s was rejected (EKEYREJECTED): with Secure Boot or lockdown "
		  "only kernels signed with a trusted key load; use your distribution's signed "
		  "kernel image" },
		{ -EBUSY, NULL,
		  "another program is loading or unloading a crash kernel right now (EBUSY): "
		  "wait and retry (is kdump-tools or a second crashcapd running?)" },
		{ -EADDRNOTAVAIL, NULL,
		  "the crash kernel does not fit in the reserved memory (EADDRNOTAVAIL): kernel "
		  "8.0 KiB (needs 48.0 MiB to boot) + initrd 4.0 KiB, reserved 256.0 MiB: raise "
		  "crashkernel= (e.g. crashkernel=384M) or make the initrd smaller" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(crash_image_done) struct crash_image img = {};
		struct load_error err = {};
		char expected[1024];

		seen = (typeof(seen)){ .file_error = cases[i].error };
		fixture_write_text(*state, "/sys/kernel/security/lockdown",
				   cases[i].lockdown ? cases[i].lockdown :
						       "[none] integrity confidentiality\n");
		assert_int_equal(load(*state, LOAD_METHOD_AUTO, false, &img, &err), cases[i].error);
		snprintf(expected, sizeof(expected), cases[i].fmt, kernel);
		assert_string_equal(err.message, expected);
		assert_int_equal(seen.file_calls, 1);
		assert_int_equal(seen.load_calls, 0);
	}
}

static void test_auto_both_fail(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	struct load_error err = {};
	char expected[1024];

	seen.file_error = -ENOEXEC;
	seen.load_error = -EBUSY;
	assert_int_equal(load(*state, LOAD_METHOD_AUTO, false, &img, &err), -EBUSY);
	snprintf(expected, sizeof(expected),
		 "%s: kexec_file_load refused it (ENOEXEC), and kexec_load could not load it "
		 "either: kexec_load: the crash kernel is busy (being loaded or used)",
		 kernel);
	assert_string_equal(err.message, expected);

	/* The fallback's own checks fail before its syscall: said the same way. */
	seen = (typeof(seen)){ .file_error = -ENOSYS };
	{
		_cleanup_free_ char *p = fixture_path(*state, "/sys/kernel/vmcoreinfo");

		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(load(*state, LOAD_METHOD_AUTO, false, &img, &err), -ENOENT);
	snprintf(expected, sizeof(expected),
		 "%s: kexec_file_load refused it (ENOSYS), and kexec_load could not load it "
		 "either: cannot read /sys/kernel/vmcoreinfo: No such file or directory",
		 kernel);
	assert_string_equal(err.message, expected);
	assert_int_equal(seen.load_calls, 0);
}

static void test_segments(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};

	seen.file_error = -EIO; /* must not be called */
	assert_int_equal(load(*state, LOAD_METHOD_SEGMENTS, false, &img, &err), 0);
	assert_int_equal(seen.file_calls, 0);
	assert_int_equal(seen.load_calls, 1);
	assert_string_equal(img.method, "segments");
	assert_null(img.fallback);
	assert_string_equal(img.cmdline, SERIAL " " DEFAULTS);
	assert_int_equal(img.kernel_init_size, 48 << 20);

	/* Loading the recorded image again (crashcapd after a failed reload): same path. */
	seen = (typeof(seen)){};
	img.flags = 0;
	assert_int_equal(loadfile_load_image(*state, &img, &err), 0);
	assert_int_equal(seen.load_calls, 1);
	assert_int_equal(seen.file_calls, 0);
	assert_int_equal(img.flags, KEXEC_ON_CRASH | KEXEC_ARCH_X86_64);

	/* Lockdown forbids kexec_load: say so, and what works instead. */
	seen.load_error = -EPERM;
	fixture_write_text(*state, "/sys/kernel/security/lockdown",
			   "none integrity [confidentiality]\n");
	crash_image_done(&img);
	assert_int_equal(load(*state, LOAD_METHOD_SEGMENTS, false, &img, &err), -EPERM);
	assert_string_equal(err.message,
			    "the kernel refused kexec_load (EPERM): kernel lockdown is in "
			    "'confidentiality' mode (Secure Boot), which allows only "
			    "kexec_file_load of a signed kernel: use load_method = file (or auto) "
			    "with your distribution's signed kernel image");
	fixture_write_text(*state, "/proc/sys/kernel/kexec_load_disabled", "1\n");
	assert_int_equal(load(*state, LOAD_METHOD_SEGMENTS, false, &img, &err), -EPERM);
	assert_string_equal(err.message,
			    "kexec is disabled on this system (kernel.kexec_load_disabled = 1, "
			    "which only a reboot clears): remove that sysctl setting and reboot");
}

static void test_reboot_kernel(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {}, seg = {};
	_cleanup_free_ char *own = fixture_path(*state, "/boot/initrd.img-" RELEASE);
	struct load_error err = {};
	struct load_request req = { .root = *state, .reboot_kernel = true, .append = "x=1" };

	/* No reservation needed; the running command line without the boot loader's words. */
	fixture_copy(*state, "/proc/iomem", "tests/fixtures/iomem/no-crashkernel.txt");
	assert_int_equal(loadfile_load(&req, &img, &err), 0);
	assert_int_equal(seen.file_calls, 1);
	assert_int_equal(seen.file_flags, KEXEC_FILE_NO_INITRAMFS);
	assert_string_equal(seen.file_cmdline, "root=/dev/vda1 ro console=tty0 quiet "
					       "console=ttyS0,115200n8 crashkernel=256M x=1");
	assert_true(img.reboot);
	assert_null(img.initrd);

	/* /boot/initrd.img-RELEASE is its initrd when there is one. */
	fixture_write_text(*state, "/boot/initrd.img-" RELEASE, "initrd");
	crash_image_done(&img);
	assert_int_equal(loadfile_load(&req, &img, &err), 0);
	assert_string_equal(img.initrd, own);
	assert_int_equal(seen.file_flags, 0);
	assert_true(seen.had_initrd_fd);

	/* Segments: no KEXEC_ON_CRASH, no elfcorehdr, outside any reservation. */
	fixture_copy(*state, "/proc/iomem", "tests/fixtures/kexec/qemu-1g/proc/iomem");
	assert_int_equal(load(*state, LOAD_METHOD_SEGMENTS, true, &seg, &err), 0);
	assert_int_equal(seen.load_calls, 1);
	assert_int_equal(seen.load_flags, KEXEC_ARCH_X86_64);
	assert_int_equal(seen.load_nr, 4);
	assert_true(seen.load_entry >= 0x30000000 || seen.load_entry < 0x20000000);
	assert_true(seg.reboot);
	assert_int_equal(seg.flags, KEXEC_ARCH_X86_64);
	assert_null(strstr(seg.cmdline, "elfcorehdr"));

	/* The reboot kernel has its own limits: no word about crashkernel=. */
	seen.file_error = -ENOMEM;
	crash_image_done(&img);
	assert_int_equal(loadfile_load(&req, &img, &err), -ENOMEM);
	assert_non_null(strstr(err.message, "for a kexec reboot (ENOMEM): free some memory"));
}

static void test_unload(void **state)
{
	struct load_error err = {};

	assert_int_equal(loadfile_unload(*state, &err), 0);
	assert_int_equal(seen.file_flags, KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH);
	assert_int_equal(seen.load_calls, 0);
	assert_int_equal(loadfile_unload_reboot(*state, &err), 0);
	assert_int_equal(seen.file_flags, KEXEC_FILE_UNLOAD);

	/* No kexec_file_load in this kernel: kexec_load with no segments unloads. */
	seen.file_error = -ENOSYS;
	assert_int_equal(loadfile_unload(*state, &err), 0);
	assert_int_equal(seen.load_calls, 1);
	assert_int_equal(seen.load_nr, 0);
	assert_int_equal(seen.load_flags, KEXEC_ON_CRASH);
	assert_int_equal(loadfile_unload_reboot(*state, &err), 0);
	assert_int_equal(seen.load_flags, 0);
	seen.load_error = -EPERM;
	assert_int_equal(loadfile_unload(*state, &err), -EPERM);
	assert_string_equal(err.message, "kexec_load refused to unload (EPERM): it needs "
					 "CAP_SYS_BOOT and is not allowed under lockdown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auto_file_works, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_image_only_segments_take, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_auto_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_both_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reboot_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
