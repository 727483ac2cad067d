// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "initramfs/modules.h"
#include "real-kernel.h"

#define FIXTURE_RELEASE "1.0-crashcap-test"
#define FIXTURE_DIR "tests/fixtures/modules/tree/lib/modules/" FIXTURE_RELEASE
#define FIXTURE_ROOT "tests/fixtures/roots/initramfs-fake"

/* The set's files as "name:relpath name:relpath ...". */
static char *describe(const struct module_set *s)
{
	const struct module_file *f;
	size_t n, len = 0;
	char *out;

	f = module_set_files(s, &n);
	out = calloc(1, 4096);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		len += snprintf(out + len, 4096 - len, "%s%s:%s", i ? " " : "", f[i].name,
				f[i].relpath);
	return out;
}

/* Only the names, for the long real-kernel list. */
static char *names(const struct module_set *s)
{
	const struct module_file *f;
	size_t n, len = 0;
	char *out;

	f = module_set_files(s, &n);
	out = calloc(1, 4096);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		len += snprintf(out + len, 4096 - len, "%s%s", i ? " " : "", f[i].name);
	return out;
}

/* Adding name (a file system type when fs) fails with r and exactly message, and adds nothing. */
static void expect_add(struct module_set *s, const char *name, bool fs, int r, const char *message)
{
	_cleanup_free_ char *why = NULL;
	size_t before, after;

	module_set_files(s, &before);
	assert_int_equal(
		fs ? module_set_add_filesystem(s, name, &why) : module_set_add(s, name, &why), r);
	assert_non_null(why);
	assert_string_equal(why, message);
	/* Without a place for the message: the same error. */
	assert_int_equal(
		fs ? module_set_add_filesystem(s, name, NULL) : module_set_add(s, name, NULL), r);
	module_set_files(s, &after);
	assert_int_equal(after, before);
}

static void expect_new(const char *dir, int r, const char *message)
{
	struct module_set *s = NULL;
	_cleanup_free_ char *why = NULL;

	assert_int_equal(module_set_new(dir, NULL, &s, &why), r);
	assert_null(s);
	assert_non_null(why);
	assert_string_equal(why, message);
	assert_int_equal(module_set_new(dir, NULL, &s, NULL), r);
	assert_null(s);
}

static struct module_set *fixture_set(const char *config_root)
{
	struct module_set *s = NULL;
	char *why = NULL;

	assert_int_equal(module_set_new(FIXTURE_DIR, config_root, &s, &why), 0);
	assert_null(why);
	return s;
}

static void test_dependencies_come_first(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *d = NULL;
	const struct module_file *f;
	size_t n;
	char *abs;

	assert_int_equal(module_set_add(s, "fblk", NULL), 3);
	d = describe(s);
	assert_string_equal(d, "fbus_core:kernel/drivers/fake/fbus_core.ko "
			       "fbus:kernel/drivers/fake/fbus.ko "
			       "fblk:kernel/drivers/block/fblk.ko");
	f = module_set_files(s, &n);
	assert_int_equal(n, 3);
	abs = realpath(FIXTURE_DIR "/kernel/drivers/block/fblk.ko", NULL);
	assert_non_null(abs);
	/* libkmod makes the directory absolute. */
	assert_string_equal(f[2].path, abs);
	assert_int_equal(access(f[2].path, R_OK), 0);
	free(abs);
}

static void test_added_once(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *d = NULL;

	assert_int_equal(module_set_add(s, "fblk", NULL), 3);
	assert_int_equal(module_set_add(s, "fblk", NULL), 0);
	/* fpci shares fbus and fbus_core: only itself is new. */
	assert_int_equal(module_set_add(s, "fpci", NULL), 1);
	/* An alias of a module already there. */
	assert_int_equal(module_set_add(s, "pci:v00001AF4d00001001", NULL), 0);
	d = describe(s);
	assert_string_equal(d, "fbus_core:kernel/drivers/fake/fbus_core.ko "
			       "fbus:kernel/drivers/fake/fbus.ko "
			       "fblk:kernel/drivers/block/fblk.ko "
			       "fpci:kernel/drivers/fake/fpci.ko");
}

static void test_softdeps_and_compressed(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *d = NULL;

	/* pre: crypto-fcrc names two modules (like crc32c_intel and crc32c_generic). */
	assert_int_equal(module_set_add(s, "ffs", NULL), 5);
	d = describe(s);
	assert_string_equal(d, "fcrc_fast:kernel/arch/x86/crypto/fcrc-fast.ko "
			       "fcrc_generic:kernel/crypto/fcrc_generic.ko "
			       "fjournal:kernel/fs/fjournal/fjournal.ko.xz "
			       "fcrc16:kernel/lib/fcrc16.ko.zst "
			       "ffs:kernel/fs/ffs/ffs.ko");
}

static void test_post_softdep_follows(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *d = NULL;

	assert_int_equal(module_set_add(s, "fpost", NULL), 4);
	d = names(s);
	assert_string_equal(d, "fbus_core fbus fpost fcrc_generic");
}

static void test_softdep_cycle_ends(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *d = NULL;

	assert_int_equal(module_set_add(s, "fcyc_a", NULL), 2);
	d = names(s);
	assert_string_equal(d, "fcyc_b fcyc_a");
}

static void test_filesystems(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *d = NULL;

	/* Through the "fs-ffs" alias, as the kernel's request_module would. */
	assert_int_equal(module_set_add_filesystem(s, "ffs", NULL), 5);
	/* Built in: found, nothing to load. */
	assert_int_equal(module_set_add_filesystem(s, "fbuiltin", NULL), 0);
	assert_int_equal(module_set_add(s, "fbuiltin", NULL), 0);
	expect_add(s, "nosuchfs", true, -ENOENT,
		   "no kernel module for file system type 'nosuchfs' in " FIXTURE_DIR
		   " (neither fs-nosuchfs nor nosuchfs; check the type, or run depmod)");
	expect_add(s, "", true, -EINVAL, "invalid file system type ''");
	expect_add(s, "../x", true, -EINVAL, "invalid file system type '../x'");
	expect_add(s, NULL, true, -EINVAL, "invalid file system type ''");
	d = names(s);
	assert_string_equal(d, "fcrc_fast fcrc_generic fjournal fcrc16 ffs");
}

static void test_unknown_and_bad_names(void **state)
{
	_cleanup_module_set_ struct module_set *s = fixture_set(NULL);
	_cleanup_free_ char *why = NULL;
	size_t n;

	expect_add(s, "no_such_module", false, -ENOENT,
		   "kernel module 'no_such_module' not found in " FIXTURE_DIR
		   " (check the name, or run depmod)");
	expect_add(s, "", false, -EINVAL, "empty kernel module name");
	expect_add(s, NULL, false, -EINVAL, "empty kernel module name");
	module_set_files(s, &n);
	assert_int_equal(n, 0);
	/* Success leaves the message place untouched. */
	assert_int_equal(module_set_add(s, "fblk", &why), 3);
	assert_null(why);
}

static void test_modules_dir_errors(void **state)
{
	char tmp[] = "/tmp/test-modules-XXXXXX", dir[128], want[512];

	expect_new("tests/fixtures/modules/nonexistent", -ENOENT,
		   "kernel modules directory tests/fixtures/modules/nonexistent does not exist: "
		   "check the path, or install the kernel's modules");
	/* A directory that depmod never ran in, and not named like a kernel's. */
	expect_new("tests/fixtures/modules", -ENOPKG,
		   "no modules.dep.bin in tests/fixtures/modules: run depmod for the kernel whose "
		   "modules these are");
	expect_new(FIXTURE_DIR "/modules.dep", -ENOTDIR,
		   "kernel modules directory " FIXTURE_DIR "/modules.dep is not a directory");

	/* BASE/lib/modules/RELEASE without an index: the depmod command that makes one. */
	assert_non_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/lib", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/lib/modules", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/lib/modules/9.9-test", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(want, sizeof(want), "no modules.dep.bin in %s: run depmod -b %s 9.9-test", dir,
		 tmp);
	expect_new(dir, -ENOPKG, want);
	/* A trailing slash changes nothing but the name the message repeats. */
	snprintf(dir, sizeof(dir), "%s/lib/modules/9.9-test/", tmp);
	snprintf(want, sizeof(want), "no modules.dep.bin in %s: run depmod -b %s 9.9-test", dir,
		 tmp);
	expect_new(dir, -ENOPKG, want);
	assert_int_equal(rmdir(dir), 0);
	snprintf(dir, sizeof(dir), "%s/lib/modules", tmp);
	assert_int_equal(rmdir(dir), 0);
	snprintf(dir, sizeof(dir), "%s/lib", tmp);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(rmdir(tmp), 0);
}

static void test_modprobe_d_of_root(void **state)
{
	_cleanup_module_set_ struct module_set *with = fixture_set(FIXTURE_ROOT);
	_cleanup_module_set_ struct module_set *without = fixture_set(NULL);
	_cleanup_free_ char *a = NULL, *b = NULL;

	/* The fixture root's etc/modprobe.d says: softdep fblk pre: fcrc_generic. */
	assert_int_equal(module_set_add(with, "fblk", NULL), 4);
	assert_int_equal(module_set_add(without, "fblk", NULL), 3);
	a = names(with);
	b = names(without);
	assert_string_equal(a, "fcrc_generic fbus_core fbus fblk");
	assert_string_equal(b, "fbus_core fbus fblk");
}

static char *joined(char **list)
{
	char *out = calloc(1, 1024);
	size_t len = 0;

	assert_non_null(out);
	for (char **p = list; *p; p++)
		len += snprintf(out + len, 1024 - len, "%s%s", p == list ? "" : " ", *p);
	return out;
}

static void test_block_device_drivers(void **state)
{
	static const struct {
		const char *dev, *want;
	} cases[] = {
		{ "vda", "fpci fblk" },
		{ "vda1", "fpci fblk" }, /* a partition: its disk's drivers */
		{ "dm-0", "fpci fblk" }, /* device-mapper: what is below it */
		{ "sda", "" }, /* built-in drivers only */
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_module_names_ char **list = NULL;
		_cleanup_free_ char *got = NULL;

		int r = block_device_modules(FIXTURE_ROOT, cases[i].dev, &list);

		if (r < 0)
			fail_msg("%s: %s", cases[i].dev, strerror(-r));
		got = joined(list);
		if (!streq(got, cases[i].want))
			fail_msg("%s: got '%s', want '%s'", cases[i].dev, got, cases[i].want);
	}
}

static void test_block_device_errors(void **state)
{
	char **list = NULL;

	assert_int_equal(block_device_modules(FIXTURE_ROOT, "vdz", &list), -ENOENT);
	assert_int_equal(block_device_modules(FIXTURE_ROOT, "../block/vda", &list), -EINVAL);
	assert_int_equal(block_device_modules(FIXTURE_ROOT, "..", &list), -EINVAL);
	assert_int_equal(block_device_modules(FIXTURE_ROOT, "", &list), -EINVAL);
	assert_int_equal(block_device_modules("tests/fixtures/nonexistent-root", "vda", &list),
			 -ENOENT);
	assert_null(list);
}

/* What the QEMU guests need, from the real Debian kernel's modules.dep. */
static void test_real_kernel_virtio_ext4(void **state)
{
	_cleanup_module_set_ struct module_set *s = NULL;
	_cleanup_free_ char *dir = NULL, *release = NULL, *got = NULL;

	if (real_kernel_modules(&dir, &release) < 0) {
		fprintf(stderr,
			"# SKIP: no unpacked guest kernel under build/cache (scripts/setup.sh)\n");
		skip();
	}
	assert_int_equal(module_set_new(dir, NULL, &s, NULL), 0);
	assert_int_equal(module_set_add(s, "virtio_pci", NULL), 5);
	assert_int_equal(module_set_add(s, "virtio_blk", NULL), 1);
	assert_int_equal(module_set_add_filesystem(s, "ext4", NULL), 6);
	got = names(s);
	assert_string_equal(got, "virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev "
				 "virtio_pci virtio_blk crc32c_intel crc32c_generic jbd2 mbcache "
				 "crc16 ext4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dependencies_come_first),
		cmocka_unit_test(test_added_once),
		cmocka_unit_test(test_softdeps_and_compressed),
		cmocka_unit_test(test_post_softdep_follows),
		cmocka_unit_test(test_softdep_cycle_ends),
		cmocka_unit_test(test_filesystems),
		cmocka_unit_test(test_unknown_and_bad_names),
		cmocka_unit_test(test_modules_dir_errors),
		cmocka_unit_test(test_modprobe_d_of_root),
		cmocka_unit_test(test_block_device_drivers),
		cmocka_unit_test(test_block_device_errors),
		cmocka_unit_test(test_real_kernel_virtio_ext4),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
