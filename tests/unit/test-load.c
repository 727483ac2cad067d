// SPDX-License-Identifier: GPL-2.0-or-later
#include "loader/loadfile.h"
#include "load-root.h"
#include "kexec_fixture.h"
#include "kexec_syscall.h"
#include "rootfs.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define RELEASE LOAD_ROOT_RELEASE
#define CONSOLES "console=tty0 console=ttyS0,115200n8"
#define DEFAULTS                                                                          \
	"irqpoll nr_cpus=1 reset_devices panic=1 nousb noresume mce=off swiotlb=noforce " \
	"memhp_default_state=offline cgroup.memory=nokmem initcall_blacklist=tracer_init_tracefs"

/* What the fake syscall saw; the error it returns. */
static struct {
	int calls;
	unsigned long flags;
	char cmdline[4096];
	bool had_kernel_fd, had_initrd_fd;
	int error;
} seen;

static int fake_file_load(int kernel_fd, int initrd_fd, const char *cmdline, unsigned long flags)
{
	seen.calls++;
	seen.flags = flags;
	snprintf(seen.cmdline, sizeof(seen.cmdline), "%s", cmdline ? cmdline : "(null)");
	seen.had_kernel_fd = kernel_fd >= 0;
	seen.had_initrd_fd = initrd_fd >= 0;
	return seen.error;
}

static int refuse_load(unsigned long entry, unsigned long nr, const struct kexec_segment *s,
		       unsigned long flags)
{
	fail_msg("kexec_load must not be called by the file loader");
	return -ENOSYS;
}

static const struct kexec_syscall_ops fake_ops = {
	.kexec_file_load = fake_file_load,
	.kexec_load = refuse_load,
};

static int setup(void **state)
{
	seen = (typeof(seen)){};
	*state = load_root_make();
	kexec_syscall_set_ops(&fake_ops);
	return 0;
}

static int teardown(void **state)
{
	kexec_syscall_set_ops(NULL);
	load_root_remove(*state);
	return 0;
}

static int load(const char *root, const char *initrd, const char *append, struct crash_image *img,
		struct load_error *err)
{
	_cleanup_free_ char *i = initrd ? fixture_path(root, initrd) : NULL;
	_cleanup_(settings_done) struct settings s;
	struct load_request req = {
		.root = root, .initrd = i, .no_initrd = !initrd, .append = append, .settings = &s
	};

	/* The file path (test-load-method.c covers auto and segments). */
	settings_init(&s);
	s.load_method = LOAD_METHOD_FILE;
	return loadfile_load(&req, img, err);
}

static void test_load_flags_and_cmdline(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	struct load_error err = {};

	assert_int_equal(load(*state, "/initrd.img", "loglevel=7", &img, &err), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.flags, KEXEC_FILE_ON_CRASH);
	assert_true(seen.had_kernel_fd && seen.had_initrd_fd);
	assert_string_equal(seen.cmdline, CONSOLES " " DEFAULTS " loglevel=7");
	assert_string_equal(img.cmdline, seen.cmdline);
	assert_string_equal(img.kernel, kernel);
	assert_string_equal(img.release, RELEASE);
	assert_int_equal(img.initrd_size, 4096);
	assert_int_equal(img.kernel_size, 8192);
	assert_int_equal(img.kernel_init_size, 48 << 20);
	assert_int_equal(img.flags, KEXEC_FILE_ON_CRASH);
	assert_true(img.time > 0);
}

static void test_load_no_initrd(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};

	assert_int_equal(load(*state, NULL, NULL, &img, &err), 0);
	assert_int_equal(seen.flags, KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS);
	assert_false(seen.had_initrd_fd);
	assert_null(img.initrd);
	assert_string_equal(seen.cmdline, CONSOLES " " DEFAULTS);
}

static void test_unload_flags(void **state)
{
	struct load_error err = {};

	assert_int_equal(loadfile_unload(*state, &err), 0);
	assert_int_equal(seen.flags, KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH);
	assert_false(seen.had_kernel_fd);
	seen.error = -EBUSY;
	assert_int_equal(loadfile_unload(*state, &err), -EBUSY);
	assert_string_equal(
		err.message,
		"another program is loading or unloading a crash kernel right now "
		"(EBUSY): wait and retry (is kdump-tools or a second crashcapd running?)");
}

static void test_settings_kernel_and_args(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/other");
	_cleanup_free_ char *initrd = fixture_path(*state, "/initrd.img");
	struct load_request req = { .root = *state, .append = "x=1" };
	struct load_error err = {};
	struct bz_opts o = bz_good;
	struct settings s;
	uint8_t bz[4096];

	/* A kernel of another release: the image records that release, not the running one. */
	o.release = "6.12.9-other";
	fixture_write_file(*state, "/boot/other", bz, bz_craft(bz, sizeof(bz), &o));
	settings_init(&s);
	s.kernel = strdup("/boot/other");
	s.initrd = strdup("/initrd.img");
	s.crash_args = strdup("crashcap.debug");
	req.settings = &s;
	assert_int_equal(loadfile_load(&req, &img, &err), 0);
	assert_string_equal(img.kernel, kernel);
	assert_string_equal(img.initrd, initrd);
	assert_string_equal(img.release, "6.12.9-other");
	assert_string_equal(seen.cmdline, CONSOLES " " DEFAULTS " crashcap.debug x=1");
	settings_done(&s);
}

static void test_missing_kernel(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	struct load_error err = {};
	char expected[1024];

	assert_int_equal(unlink(kernel), 0);
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -ENOENT);
	snprintf(
		expected, sizeof(expected),
		"kernel image %s does not exist: pass --kernel PATH or set kernel= in crashcap.conf",
		kernel);
	assert_string_equal(err.message, expected);
	assert_int_equal(seen.calls, 0);
}

static void test_missing_initrd(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *initrd = fixture_path(*state, "/nope.img");
	struct load_error err = {};
	char expected[1024];

	assert_int_equal(load(*state, "/nope.img", NULL, &img, &err), -ENOENT);
	snprintf(expected, sizeof(expected),
		 "initrd %s does not exist: pass --initrd PATH or set initrd= in crashcap.conf",
		 initrd);
	assert_string_equal(err.message, expected);
	assert_int_equal(seen.calls, 0);
}

static void test_no_reservation(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};

	fixture_copy(*state, "/proc/iomem", "tests/fixtures/iomem/no-crashkernel.txt");
	fixture_write_text(*state, "/sys/kernel/kexec_crash_size", "0\n");
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -ENOMEM);
	assert_string_equal(err.message,
			    "no memory is reserved for a crash kernel: add crashkernel=256M to the "
			    "kernel command line (see README) and reboot");
	assert_int_equal(seen.calls, 0);

	/* Missing kexec_crash_size and no iomem at all: the same. */
	{
		_cleanup_free_ char *a = fixture_path(*state, "/sys/kernel/kexec_crash_size");
		_cleanup_free_ char *b = fixture_path(*state, "/proc/iomem");

		assert_int_equal(unlink(a), 0);
		assert_int_equal(unlink(b), 0);
	}
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -ENOMEM);
	assert_int_equal(seen.calls, 0);
}

static void test_reservation_hidden_iomem(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};
	struct reservation res;

	/* Not root: iomem is zeros, kexec_crash_size still tells the size. */
	fixture_copy(*state, "/proc/iomem", "tests/fixtures/iomem/nonroot-zeroed.txt");
	assert_int_equal(reservation_read(*state, &res, &err), 0);
	assert_false(res.ranges_known);
	assert_false(res.has_main);
	assert_int_equal(reservation_total(&res), 256ULL << 20);
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), 0);
}

static void test_reservation_high_low(void **state)
{
	struct load_error err = {};
	struct reservation res;

	fixture_copy(*state, "/proc/iomem",
		     "tests/fixtures/iomem/server-64g-crashkernel-high-low.txt");
	/* 6.1 counts the high range only in kexec_crash_size. */
	fixture_write_text(*state, "/sys/kernel/kexec_crash_size", "536870912\n");
	assert_int_equal(reservation_read(*state, &res, &err), 0);
	assert_true(res.has_main && res.has_low);
	assert_int_equal(res.main_start, 0x1040000000ULL);
	assert_int_equal(res.low_start, 0x5e000000);
	assert_int_equal(reservation_main_size(&res), 512ULL << 20);
	assert_int_equal(reservation_total(&res), 768ULL << 20);

	fixture_copy(*state, "/proc/iomem", "tests/fixtures/iomem/malformed-odd-indent.txt");
	assert_int_equal(reservation_read(*state, &res, &err), -EINVAL);
	assert_non_null(strstr(err.message, "/proc/iomem:2: malformed line"));
}

static void test_too_big_for_reservation(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *initrd = fixture_path(*state, "/big.img");
	struct load_error err = {};
	int fd;

	/* 220 MiB initrd + 48 MiB kernel > 256 MiB: refused before the syscall. */
	fd = open(initrd, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 220 << 20), 0);
	close(fd);
	assert_int_equal(load(*state, "/big.img", NULL, &img, &err), -ENOMEM);
	assert_string_equal(
		err.message,
		"the crash kernel does not fit in the reserved memory (ENOMEM): kernel "
		"8.0 KiB (needs 48.0 MiB to boot) + initrd 220.0 MiB, reserved 256.0 MiB: "
		"raise crashkernel= (e.g. crashkernel=384M) or make the initrd smaller");
	assert_int_equal(seen.calls, 0);
}

static void test_cmdline_too_long(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};
	char append[2100];

	memset(append, 'a', sizeof(append) - 1);
	append[sizeof(append) - 1] = 0;
	assert_int_equal(load(*state, "/initrd.img", append, &img, &err), -E2BIG);
	assert_non_null(strstr(err.message, "takes at most 2047"));
	assert_int_equal(seen.calls, 0);
}

static void test_errno_messages(void **state)
{
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	static const struct {
		int error;
		const char *fmt; /* %s: the kernel path */
	} cases[] = {
		{ -ENOEXEC,
		  "the running kernel did not accept %s (ENOEXEC): it loads only an x86_64 "
		  "bzImage it can relocate; use a kernel image from your distribution" },
		{ -EKEYREJECTED,
		  "the signature of %s was rejected (EKEYREJECTED): with Secure Boot or "
		  "lockdown only kernels signed with a trusted key load; use your "
		  "distribution's signed kernel image" },
		{ -EBUSY,
		  "another program is loading or unloading a crash kernel right now (EBUSY): "
		  "wait and retry (is kdump-tools or a second crashcapd running?)" },
		{ -ENOMEM,
		  "the crash kernel does not fit in the reserved memory (ENOMEM): kernel "
		  "8.0 KiB (needs 48.0 MiB to boot) + initrd 4.0 KiB, reserved 256.0 MiB: "
		  "raise crashkernel= (e.g. crashkernel=384M) or make the initrd smaller" },
		{ -EADDRNOTAVAIL,
		  "the crash kernel does not fit in the reserved memory "
		  "(EADDRNOTAVAIL): kernel 8.0 KiB (needs 48.0 MiB to boot) + initrd "
		  "4.0 KiB, reserved 256.0 MiB: raise crashkernel= (e.g. "
		  "crashkernel=384M) or make the initrd smaller" },
		{ -EINVAL,
		  "the kernel rejected the load as invalid (EINVAL): check the crash kernel "
		  "command line (202 bytes): " CONSOLES " " DEFAULTS },
		{ -ENOSYS, "this kernel has no kexec_file_load (ENOSYS): it was built without "
			   "CONFIG_KEXEC_FILE" },
		{ -EIO, "kexec_file_load failed: Input/output error" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(crash_image_done) struct crash_image img = {};
		struct load_error err = {};
		char expected[1024];

		seen.error = cases[i].error;
		assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), cases[i].error);
		snprintf(expected, sizeof(expected), cases[i].fmt, kernel);
		assert_string_equal(err.message, expected);
	}
}

static void test_eperm_messages(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	struct load_error err = {};
	char expected[1024];

	seen.error = -EPERM;
	fixture_write_text(*state, "/sys/kernel/security/lockdown",
			   "none [integrity] confidentiality\n");
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -EPERM);
	snprintf(expected, sizeof(expected),
		 "the kernel refused to load %s (EPERM): kernel lockdown is in 'integrity' mode "
		 "(Secure Boot): only a kernel signed with a key the kernel trusts loads; use your "
		 "distribution's signed kernel image",
		 kernel);
	assert_string_equal(err.message, expected);

	fixture_write_text(*state, "/proc/sys/kernel/kexec_load_disabled", "1\n");
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -EPERM);
	assert_string_equal(
		err.message,
		"kexec is disabled on this system (kernel.kexec_load_disabled = 1, which "
		"only a reboot clears): remove that sysctl setting and reboot");

	fixture_write_text(*state, "/proc/sys/kernel/kexec_load_disabled", "0\n");
	fixture_write_text(*state, "/sys/kernel/security/lockdown",
			   "[none] integrity confidentiality\n");
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -EPERM);
	if (geteuid() == 0)
		assert_string_equal(
			err.message,
			"the kernel refused the crash kernel (EPERM): this process lacks "
			"CAP_SYS_BOOT (a container or a sandboxed service?)");
	else
		assert_string_equal(err.message,
				    "loading a crash kernel needs root (CAP_SYS_BOOT): "
				    "run crashcapctl as root");
}

static void test_bzimage_check(void **state)
{
	static const struct {
		struct bz_opts o;
		const char *why;
	} cases[] = {
		{ { .version = 0x020f, .xloadflags = 3, .init_size = 1 << 20, .no_magic = true },
		  "not a bzImage: no \"HdrS\" setup header signature at 0x202" },
		{ { .version = 0x020f, .xloadflags = 3, .init_size = 1 << 20, .no_boot_flag = true },
		  "not a bzImage: no 0xAA55 boot sector signature at 0x1fe" },
		{ { .version = 0x020b, .xloadflags = 3, .init_size = 1 << 20 },
		  "boot protocol older than 2.12 (kernel before 3.8): no 64-bit entry point to "
		  "start it from kexec" },
		{ { .version = 0x020f, .xloadflags = 3, .init_size = 1 << 20, .not_high = true },
		  "a zImage loaded low (LOADED_HIGH not set), not a bzImage" },
		{ { .version = 0x020f, .xloadflags = 2, .init_size = 1 << 20 },
		  "no 64-bit entry point (XLF_KERNEL_64 not set): a 32-bit kernel cannot be a "
		  "crash kernel here" },
		{ { .version = 0x020f, .xloadflags = 3 },
		  "init_size is zero: the image does not say how much memory it needs" },
	};
	struct kernel_probe info;
	const char *why = NULL;
	uint8_t img[4096];
	struct bz_opts no4g = bz_good;

	/* One parser for both methods: loader/bzimage.c's. */
	bz_craft(img, sizeof(img), &bz_good);
	assert_int_equal(loadfile_probe_kernel(img, sizeof(img), &info, &why), 0);
	assert_int_equal(info.version, 0x020f);
	assert_int_equal(info.xloadflags, 3);
	assert_int_equal(info.init_size, 48 << 20);
	assert_int_equal(info.cmdline_size, 2047);
	assert_string_equal(info.release, RELEASE);
	assert_null(info.file_refusal);
	assert_int_equal(loadfile_probe_kernel(img, 1023, &info, &why), -ENOEXEC);
	assert_string_equal(why, "file too short to be a bzImage (under 1024 bytes)");

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		bz_craft(img, sizeof(img), &cases[i].o);
		why = NULL;
		assert_int_equal(loadfile_probe_kernel(img, sizeof(img), &info, &why), -ENOEXEC);
		assert_string_equal(why, cases[i].why);
	}

	/* What only the kernel's file loader refuses: kexec_load can still take it. */
	no4g.xloadflags = 1;
	bz_craft(img, sizeof(img), &no4g);
	assert_int_equal(loadfile_probe_kernel(img, sizeof(img), &info, &why), 0);
	assert_string_equal(info.file_refusal,
			    "kexec_file_load takes only images that can be loaded above 4 GiB "
			    "(XLF_CAN_BE_LOADED_ABOVE_4G is not set)");
}

static void test_not_a_bzimage(void **state)
{
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_free_ char *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	struct load_error err = {};
	struct bz_opts o = bz_good;
	char expected[1024];
	uint8_t bz[4096];

	o.version = 0x0206;
	fixture_write_file(*state, "/boot/vmlinuz-" RELEASE, bz, bz_craft(bz, sizeof(bz), &o));
	assert_int_equal(load(*state, "/initrd.img", NULL, &img, &err), -ENOEXEC);
	snprintf(expected, sizeof(expected),
		 "%s is not a kernel that can be loaded: boot protocol older than 2.12 (kernel "
		 "before 3.8): no 64-bit entry point to start it from kexec (ENOEXEC)",
		 kernel);
	assert_string_equal(err.message, expected);
	assert_int_equal(seen.calls, 0);
}

static void test_cmdline_consoles(void **state)
{
	_cleanup_free_ char *c = NULL;

	fixture_write_text(*state, "/proc/cmdline",
			   "ro console=\"ttyS1,9600 n8\" quiet -- console=not-for-the-kernel\n");
	assert_int_equal(loadfile_cmdline(*state, NULL, 1, NULL, &c), 0);
	assert_string_equal(c, "console=\"ttyS1,9600 n8\" " DEFAULTS);
	free(c);
	c = NULL;
	fixture_write_text(*state, "/proc/cmdline", "root=/dev/sda1\n");
	assert_int_equal(loadfile_cmdline(*state, "a=1", 1, "b=2", &c), 0);
	assert_string_equal(c, DEFAULTS " a=1 b=2");
	free(c);
	c = NULL;
	/* No /proc/cmdline at all: the defaults alone. */
	assert_int_equal(loadfile_cmdline("/nonexistent-root", NULL, 1, "", &c), 0);
	assert_string_equal(c, DEFAULTS);
	free(c);
	c = NULL;
	/* 0 (settings not set up) is the default, one CPU. */
	assert_int_equal(loadfile_cmdline("/nonexistent-root", NULL, 0, NULL, &c), 0);
	assert_string_equal(c, DEFAULTS);
}

#define CPUINFO_CPU(n, apicid)                                                 \
	"processor\t: " #n "\nvendor_id\t: GenuineIntel\napicid\t\t: " #apicid \
	"\ninitial apicid\t: " #apicid "\nflags\t\t: fpu apic\n\n"

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_cmdline_crash_cpus(void **state)
{
	_cleanup_free_ char *c = NULL;

	fixture_write_text(*state, "/proc/cmdline", "root=/dev/sda1 console=ttyS0\n");
	/* CPU 0 is not the lowest APIC ID here: the boot CPU's own is taken. */
	fixture_write_text(*state, "/proc/cpuinfo",
			   CPUINFO_CPU(1, 0) CPUINFO_CPU(0, 6) CPUINFO_CPU(2, 2));
	assert_int_equal(loadfile_cmdline(*state, NULL, 4, NULL, &c), 0);
	assert_string_equal(c, "console=ttyS0 irqpoll nr_cpus=4 disable_cpu_apicid=6 reset_devices "
			       "panic=1 nousb noresume mce=off swiotlb=noforce "
			       "memhp_default_state=offline cgroup.memory=nokmem "
			       "initcall_blacklist=tracer_init_tracefs");
	assert_int_equal(count(c, "nr_cpus="), 1);
	free(c);
	c = NULL;

	/*
	 * A user's own nr_cpus= comes after crashcap's; the kernel keeps the
	 * smallest (nrcpus() only ever lowers nr_cpu_ids).
	 */
	assert_int_equal(loadfile_cmdline(*state, "nr_cpus=3", 2, "x=1", &c), 0);
	assert_string_equal(c, "console=ttyS0 irqpoll nr_cpus=2 disable_cpu_apicid=6 reset_devices "
			       "panic=1 nousb noresume mce=off swiotlb=noforce "
			       "memhp_default_state=offline cgroup.memory=nokmem "
			       "initcall_blacklist=tracer_init_tracefs nr_cpus=3 x=1");
	free(c);
	c = NULL;

	/* One CPU: nothing to disable, cpuinfo is not even needed. */
	assert_int_equal(loadfile_cmdline(*state, NULL, 1, NULL, &c), 0);
	assert_string_equal(c, "console=ttyS0 " DEFAULTS);
	assert_int_equal(count(c, "nr_cpus="), 1);
	assert_null(strstr(c, "disable_cpu_apicid"));
	free(c);
	c = NULL;

	/* No APIC IDs (not x86, or no /proc/cpuinfo): nr_cpus= alone. */
	fixture_write_text(*state, "/proc/cpuinfo", "processor\t: 0\nfeatures\t: fp asimd\n\n");
	assert_int_equal(loadfile_cmdline(*state, NULL, 64, NULL, &c), 0);
	assert_true(startswith(c, "console=ttyS0 irqpoll nr_cpus=64 reset_devices panic=1 "));
	free(c);
	c = NULL;
	assert_int_equal(loadfile_cmdline("/nonexistent-root", NULL, 2, NULL, &c), 0);
	assert_true(startswith(c, "irqpoll nr_cpus=2 reset_devices panic=1 "));
	assert_int_equal(count(c, "nr_cpus="), 1);
}

static void test_loaded_state(void **state)
{
	_cleanup_(crash_image_done) struct crash_image got = {}, fix = {};
	struct crash_image img = {
		.kernel = (char *)"/boot/vmlinuz-x",
		.initrd = NULL,
		.cmdline = (char *)"console=ttyS0 \"quoted\" back\\slash tab\t\x01",
		.release = (char *)"x",
		.method = (char *)"file",
		.kernel_size = 123,
		.kernel_init_size = 456,
		.initrd_size = 0,
		.flags = KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS,
		.time = 1763928904,
	};

	assert_int_equal(loaded_state_read(*state, &got), -ENOENT);
	assert_int_equal(loaded_state_write(*state, &img), 0);
	assert_int_equal(loaded_state_read(*state, &got), 0);
	assert_string_equal(got.kernel, img.kernel);
	assert_null(got.initrd);
	assert_string_equal(got.cmdline, img.cmdline);
	assert_string_equal(got.release, "x");
	assert_string_equal(got.method, "file");
	assert_int_equal(got.kernel_size, 123);
	assert_int_equal(got.kernel_init_size, 456);
	assert_int_equal(got.flags, KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS);
	assert_int_equal(got.time, 1763928904);
	assert_int_equal(loaded_state_remove(*state), 0);
	assert_int_equal(loaded_state_read(*state, &got), -ENOENT);
	assert_int_equal(loaded_state_remove(*state), 0);

	assert_int_equal(loaded_state_read("tests/fixtures/roots/loaded", &fix), 0);
	assert_string_equal(fix.initrd, "/var/lib/crashcap/initrd-6.1.0-crashcap-test.img");
	assert_int_equal(fix.initrd_size, 3481600);

	fixture_write_text(*state, LOADED_STATE_PATH, "{\"kernel\": \"/k\", \"x\": [1]}\n");
	assert_int_equal(loaded_state_read(*state, &got), -EBADMSG);
	fixture_write_text(*state, LOADED_STATE_PATH, "{\"kernel\": \"/k\\u00e9\"} trailing");
	assert_int_equal(loaded_state_read(*state, &got), -EBADMSG);
	fixture_write_text(*state, LOADED_STATE_PATH, "{\"kernel\": \"/k\\u00");
	assert_int_equal(loaded_state_read(*state, &got), -EBADMSG);
	fixture_write_text(*state, LOADED_STATE_PATH, "{\"initrd\": \"/i\"}");
	assert_int_equal(loaded_state_read(*state, &got), -EBADMSG);
}

static bool flag_is(const char *root, const char *want)
{
	_cleanup_free_ char *v = NULL;

	return root_read_line(root, "/sys/kernel/kexec_crash_loaded", &v) >= 0 && streq(v, want);
}

static void test_fixture_seam(void **state)
{
	_cleanup_free_ char *log = NULL, *kernel = fixture_path(*state, "/boot/vmlinuz-" RELEASE);
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_error err = {};
	char expected[2048];

	/* The fixture fakes: the log line, the loaded flag, the errno from the fixture. */
	assert_int_equal(kexec_fixture_install("/"), -EINVAL);
	assert_int_equal(kexec_fixture_install(*state), 0);
	assert_int_equal(load(*state, NULL, NULL, &img, &err), 0);
	assert_int_equal(seen.calls, 0);
	assert_true(flag_is(*state, "1"));
	assert_int_equal(root_read_file(*state, KEXEC_FIXTURE_LOG, 1 << 20, &log, NULL), 0);
	snprintf(expected, sizeof(expected),
		 "kexec_file_load kernel=%s initrd=- cmdline=\"" CONSOLES " " DEFAULTS "\" "
		 "flags=KEXEC_FILE_ON_CRASH|KEXEC_FILE_NO_INITRAMFS (0x6) -> 0\n",
		 kernel);
	assert_string_equal(log, expected);

	/* EBUSY comes before the kernel frees the loaded image: it stays loaded. */
	fixture_write_text(*state, KEXEC_FIXTURE_ERRNO, "16\n");
	crash_image_done(&img);
	assert_int_equal(load(*state, NULL, NULL, &img, &err), -EBUSY);
	assert_int_equal(loadfile_unload(*state, &err), -EBUSY);
	assert_true(flag_is(*state, "1"));
	/* Later errors leave none loaded. */
	fixture_write_text(*state, KEXEC_FIXTURE_ERRNO, "EADDRNOTAVAIL\n");
	assert_int_equal(load(*state, NULL, NULL, &img, &err), -EADDRNOTAVAIL);
	assert_true(flag_is(*state, "0"));
	/* One line per call until the last: fail, then succeed (and the "0" line stays). */
	fixture_write_text(*state, KEXEC_FIXTURE_ERRNO, "ENOEXEC\n0\n");
	assert_int_equal(load(*state, NULL, NULL, &img, &err), -ENOEXEC);
	assert_int_equal(load(*state, NULL, NULL, &img, &err), 0);
	crash_image_done(&img);
	assert_int_equal(load(*state, NULL, NULL, &img, &err), 0);
	assert_true(flag_is(*state, "1"));
	fixture_write_text(*state, KEXEC_FIXTURE_ERRNO, "ENOTANERRNO\n");
	assert_int_equal(loadfile_unload(*state, &err), -EIO);
	{
		_cleanup_free_ char *p = fixture_path(*state, KEXEC_FIXTURE_ERRNO);

		assert_int_equal(unlink(p), 0);
	}
	assert_int_equal(loadfile_unload(*state, &err), 0);
	assert_true(flag_is(*state, "0"));
	free(log);
	assert_int_equal(root_read_file(*state, KEXEC_FIXTURE_LOG, 1 << 20, &log, NULL), 0);
	assert_non_null(
		strstr(log, "flags=KEXEC_FILE_UNLOAD|KEXEC_FILE_ON_CRASH (0x3) -> -EBUSY\n"));
	assert_non_null(strstr(log, "-> -ENOEXEC\n"));
	kexec_fixture_uninstall();

	assert_int_equal(errno_from_name("EBUSY"), EBUSY);
	assert_int_equal(errno_from_name("EKEYREJECTED"), EKEYREJECTED);
	assert_int_equal(errno_from_name("0"), -EINVAL);
	assert_true(root_is_host(NULL));
	assert_true(root_is_host("/"));
	assert_true(root_is_host("/tmp/.."));
	assert_false(root_is_host(*state));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_flags_and_cmdline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_no_initrd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unload_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_kernel_and_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_initrd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_hidden_iomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_high_low, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big_for_reservation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errno_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eperm_messages, setup, teardown),
		cmocka_unit_test(test_bzimage_check),
		cmocka_unit_test_setup_teardown(test_not_a_bzimage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_crash_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_consoles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loaded_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixture_seam, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
