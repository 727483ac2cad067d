// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <elf.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "initramfs/initramfs.h"
#include "newc-reader.h"
#include "real-kernel.h"
#include "settings.h"

#define ROOT "tests/fixtures/roots/initramfs-fake"
#define RELEASE "1.0-crashcap-test"
#define MODDIR "tests/fixtures/modules/tree/lib/modules/" RELEASE

struct env {
	char dir[64];
	char out[128], conf[128], collector[128];
};

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	strcpy(e->dir, "/tmp/test-initramfs-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->out, sizeof(e->out), "%s/initrd.img", e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/crashcap.conf", e->dir);
	snprintf(e->collector, sizeof(e->collector), "%s/collector", e->dir);
	/* Not ELF: stands in for the static collector, whose bytes are checked. */
	assert_int_equal(write_file(e->collector, "#!collector stand-in\n"), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	DIR *d = opendir(e->dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char p[512];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(e->dir);
	free(e);
	return 0;
}

static struct initramfs_options opts(const struct env *e, const char *config)
{
	return (struct initramfs_options){
		.root = ROOT,
		.output_path = e->out,
		.collector_path = e->collector,
		.config_path = config,
		.kernel_release = RELEASE,
		.modules_dir = NULL, /* the root's own /lib/modules/RELEASE */
	};
}

/* Only the archive may be in the directory afterwards: no temporary files. */
static size_t files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void assert_same_file(const struct newc_entry *entry, const char *path)
{
	_cleanup_free_ char *data = NULL;
	size_t size;

	assert_non_null(entry);
	assert_int_equal(read_full_file(path, 64 << 20, &data, &size), 0);
	assert_int_equal(entry->size, size);
	assert_memory_equal(entry->data, data, size);
}

static void test_unset_target_full_archive(void **state)
{
	struct env *e = *state;
	static const char *const want_modules[] = {
		"kernel/drivers/fake/fbus_core.ko",
		"kernel/drivers/fake/fbus.ko",
		"kernel/drivers/fake/fpci.ko",
		"kernel/crypto/fcrc_generic.ko",
		"kernel/drivers/block/fblk.ko",
		"kernel/arch/x86/crypto/fcrc-fast.ko",
		"kernel/fs/fjournal/fjournal.ko.xz",
		"kernel/lib/fcrc16.ko.zst",
		"kernel/fs/ffs/ffs.ko",
	};
	const char *conf_text = "# test\ncompression = zstd\npath = /mnt/dump disk/kdump";
	struct initramfs_options o = opts(e, e->conf);
	struct initramfs_result res = {};
	struct newc_archive a;
	const struct newc_entry *x;
	char list[2048] = "";
	struct stat st;

	assert_int_equal(write_file(e->conf, conf_text), 0);
	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(stat(e->out, &st), 0);
	assert_int_equal(res.size, st.st_size);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(res.nr_modules, ELEMENTSOF(want_modules));
	assert_int_equal(files_in(e->dir), 3);
	assert_int_equal(newc_parse_file(e->out, &a), 0);

	x = newc_find(&a, "init");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFREG | 0755);
	assert_string_equal(x->data, "#!collector stand-in\n");
	x = newc_find(&a, "dev/console");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFCHR | 0600);
	assert_int_equal(x->rdev_major, 5);
	assert_int_equal(x->rdev_minor, 1);
	x = newc_find(&a, "dev/null");
	assert_non_null(x);
	assert_int_equal(x->mode, S_IFCHR | 0666);
	assert_int_equal(x->rdev_major, 1);
	assert_int_equal(x->rdev_minor, 3);
	assert_int_equal(newc_find(&a, "proc")->mode, S_IFDIR | 0555);
	assert_int_equal(newc_find(&a, "sys")->mode, S_IFDIR | 0555);
	assert_int_equal(newc_find(&a, "target")->mode, S_IFDIR | 0755);
	assert_int_equal(newc_find(&a, "tmp")->mode, S_IFDIR | 01777);
	assert_int_equal(newc_find(&a, "dev")->mode, S_IFDIR | 0755);

	/* The user's file, then what this system resolved (later lines win). */
	x = newc_find(&a, "etc/crashcap.conf");
	assert_non_null(x);
	assert_string_equal(
		x->data, "# test\ncompression = zstd\npath = /mnt/dump disk/kdump\n"
			 "\n# Added by crashcap: the file system that holds /mnt/dump disk/kdump "
			 "when the initramfs was built\n"
			 "target = \"UUID=5e6f7a8b-9999-4aaa-8bbb-ccccddddeeee\"\n"
			 "path = \"/crash data/kdump\"\n");

	for (size_t i = 0; i < ELEMENTSOF(want_modules); i++) {
		char name[256], src[512];

		snprintf(name, sizeof(name), "lib/modules/" RELEASE "/%s", want_modules[i]);
		snprintf(src, sizeof(src), MODDIR "/%s", want_modules[i]);
		assert_same_file(newc_find(&a, name), src);
		assert_int_equal(newc_find(&a, name)->mode, S_IFREG | 0644);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "/%s\n", name);
	}
	x = newc_find(&a, "etc/crashcap/modules");
	assert_non_null(x);
	assert_string_equal(x->data, list);
	/* Nothing else: 6 dirs of our own, lib/modules/... parents, 2 nodes, 3 files, modules. */
	for (size_t i = 0; i < a.count; i++) {
		const char *n = a.entries[i].name;

		if (S_ISDIR(a.entries[i].mode) || startswith(n, "lib/modules/" RELEASE "/") ||
		    streq(n, "init") || startswith(n, "dev/") || startswith(n, "etc/crashcap"))
			continue;
		fail_msg("unexpected entry %s", n);
	}
	newc_archive_done(&a);
}

/* The config in the archive reads back as the collector will read it. */
static void test_config_round_trip(void **state)
{
	struct env *e = *state;
	struct initramfs_options o = opts(e, e->conf);
	struct initramfs_result res;
	_cleanup_(settings_done) struct settings s = {};
	struct config_error err = {};
	struct newc_archive a;
	char path[256];

	assert_int_equal(write_file(e->conf, "path = /srv/dumps/a \"b\"\\c\ndump_level = 17\n"), 0);
	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(newc_parse_file(e->out, &a), 0);
	snprintf(path, sizeof(path), "%s/extracted.conf", e->dir);
	assert_int_equal(write_file(path, newc_find(&a, "etc/crashcap.conf")->data), 0);
	settings_init(&s);
	assert_int_equal(settings_load(&s, NULL, path, &err), 0);
	assert_string_equal(s.target, "UUID=12345678-abcd-4ef0-9123-456789abcdef");
	assert_string_equal(s.path, "/a \"b\"\\c");
	assert_int_equal(s.dump_level, 17);
	newc_archive_done(&a);
}

static void test_given_target_copied_verbatim(void **state)
{
	struct env *e = *state;
	const char *text = "target = LABEL=crashdump\npath = /\n";
	struct initramfs_options o = opts(e, e->conf);
	struct initramfs_result res;
	struct newc_archive a;

	assert_int_equal(write_file(e->conf, text), 0);
	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(newc_parse_file(e->out, &a), 0);
	assert_string_equal(newc_find(&a, "etc/crashcap.conf")->data, text);
	/* vda2's drivers and file system, as above. */
	assert_int_equal(res.nr_modules, 9);
	newc_archive_done(&a);
}

static void test_absent_target_takes_extra_modules(void **state)
{
	struct env *e = *state;
	char *extra[] = { (char *)"fblk", NULL };
	struct initramfs_options o = opts(e, e->conf);
	struct initramfs_result res;
	struct newc_archive a;

	assert_int_equal(write_file(e->conf, "target = UUID=not-attached-now\n"), 0);
	o.extra_modules = extra;
	o.modules_dir = MODDIR; /* given: the root's modprobe.d no longer applies */
	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(res.nr_modules, 3);
	assert_int_equal(newc_parse_file(e->out, &a), 0);
	assert_string_equal(newc_find(&a, "etc/crashcap/modules")->data,
			    "/lib/modules/" RELEASE "/kernel/drivers/fake/fbus_core.ko\n"
			    "/lib/modules/" RELEASE "/kernel/drivers/fake/fbus.ko\n"
			    "/lib/modules/" RELEASE "/kernel/drivers/block/fblk.ko\n");
	newc_archive_done(&a);
}

static void test_no_config(void **state)
{
	struct env *e = *state;
	struct initramfs_options o = opts(e, NULL);
	struct initramfs_result res;
	struct newc_archive a;

	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(newc_parse_file(e->out, &a), 0);
	/* The default path, /var/crash, lies on / (vda1). */
	assert_string_equal(newc_find(&a, "etc/crashcap.conf")->data,
			    "# crashcap: built without a configuration file; defaults apply\n"
			    "\n# Added by crashcap: the file system that holds /var/crash when the "
			    "initramfs was built\n"
			    "target = \"UUID=0a1b2c3d-1111-4222-8333-444455556666\"\n"
			    "path = \"/var/crash\"\n");
	newc_archive_done(&a);
}

static void test_replaces_existing_output(void **state)
{
	struct env *e = *state;
	struct initramfs_options o = opts(e, NULL);
	struct initramfs_result res;
	struct newc_archive a;

	assert_int_equal(write_file(e->out, "old contents"), 0);
	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(newc_parse_file(e->out, &a), 0);
	newc_archive_done(&a);
	assert_int_equal(files_in(e->dir), 2);
}

#define CONFIG_FILE CRASHCAP_SYSCONFDIR "/crashcap.conf"

/* initramfs_build() fails with r and exactly message, and leaves *res alone. */
static void expect_failure(const struct initramfs_options *o, int r, const char *message)
{
	struct initramfs_result res = { .size = 7 };
	_cleanup_free_ char *why = NULL;

	assert_int_equal(initramfs_build(o, &res, &why), r);
	if (!why || !streq(why, message))
		fail_msg("got '%s'\nwant '%s'", why ? why : "(null)", message);
	assert_int_equal(res.size, 7);
	/* Without a place for the message: the same error. */
	assert_int_equal(initramfs_build(o, &res, NULL), r);
}

/* An ELF64 header whose one program header lies past the end of the file. */
static void write_cut_short_elf(const char *path)
{
	unsigned char eh[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
	FILE *f = fopen(path, "we");

	eh[32] = 64; /* e_phoff */
	eh[54] = 56; /* e_phentsize */
	eh[56] = 1; /* e_phnum */
	assert_non_null(f);
	assert_int_equal(fwrite(eh, 1, sizeof(eh), f), sizeof(eh));
	assert_int_equal(fclose(f), 0);
}

/* Every failure says what is wrong, and leaves no output and no temporary file behind. */
static void test_failures(void **state)
{
	struct env *e = *state;
	char *unknown[] = { (char *)"fblk", (char *)"no_such_module", NULL };
	struct initramfs_options o;
	char want[512], elf[128];

	o = opts(e, e->conf);
	assert_int_equal(write_file(e->conf, "target = LABEL=crashdump\n"), 0);
	o.extra_modules = unknown;
	expect_failure(&o, -ENOENT,
		       "kernel module 'no_such_module' not found in " ROOT "/lib/modules/" RELEASE
		       " (check the name, or run depmod)");

	o = opts(e, e->conf);
	assert_int_equal(write_file(e->conf, "path = /tmp/crash\n"), 0);
	expect_failure(&o, -ENOTBLK,
		       "target is unset and /tmp/crash lies on tmpfs, not on a disk: set target = "
		       "UUID=... in " CONFIG_FILE);

	assert_int_equal(write_file(e->conf, "target = vda1\n"), 0);
	expect_failure(&o, -EINVAL,
		       "cannot parse target = vda1: use UUID=..., LABEL=..., PARTUUID=..., "
		       "PARTLABEL=... or a /dev path");

	assert_int_equal(write_file(e->conf, "dump_level = 99\n"), 0);
	snprintf(want, sizeof(want), "%s:1: dump_level must be 0..31, got '99'", e->conf);
	expect_failure(&o, -EINVAL, want);

	o = opts(e, NULL);
	o.config_path = "/nonexistent/crashcap.conf";
	expect_failure(&o, -ENOENT, "/nonexistent/crashcap.conf: No such file or directory");

	o = opts(e, NULL);
	o.collector_path = "/bin/true"; /* dynamically linked: cannot be /init */
	expect_failure(&o, -ENOEXEC,
		       "the collector /bin/true is dynamically linked: crashcap needs the static "
		       "crashcap-collect (make builds build/crashcap-collect)");
	o.collector_path = "/nonexistent/crashcap-collect";
	expect_failure(&o, -ENOENT,
		       "cannot read the collector /nonexistent/crashcap-collect: No such file or "
		       "directory");
	snprintf(elf, sizeof(elf), "%s/cut-short.elf", e->dir);
	write_cut_short_elf(elf);
	o.collector_path = elf;
	snprintf(want, sizeof(want),
		 "the collector %s is a damaged ELF file (its program headers are cut short): "
		 "rebuild it with make",
		 elf);
	expect_failure(&o, -ENOEXEC, want);
	unlink(elf);

	o = opts(e, NULL);
	o.modules_dir = "tests/fixtures/modules/nonexistent";
	expect_failure(
		&o, -ENOENT,
		"kernel modules directory tests/fixtures/modules/nonexistent does not exist: "
		"check the path, or install the kernel's modules");
	o.modules_dir = "tests/fixtures/modules"; /* no modules.dep.bin */
	expect_failure(&o, -ENOPKG,
		       "no modules.dep.bin in tests/fixtures/modules: run depmod for the kernel "
		       "whose modules these are");
	o.modules_dir = NULL;
	o.kernel_release = "9.9-not-installed";
	expect_failure(&o, -ENOENT,
		       "no kernel modules for release 9.9-not-installed in " ROOT
		       "/lib/modules/9.9-not-installed: install the kernel's modules or pass "
		       "--modules-dir");
	o.kernel_release = "../x";
	expect_failure(&o, -EINVAL, "invalid kernel release '../x'");
	o.kernel_release = RELEASE;
	o.output_path = "/nonexistent/dir/initrd.img";
	expect_failure(&o, -ENOENT,
		       "cannot create /nonexistent/dir/initrd.img: No such file or directory");

	assert_int_equal(access(e->out, F_OK), -1);
	assert_int_equal(files_in(e->dir), 2); /* conf and collector */
}

/* A success leaves the message place untouched. */
static void test_no_message_on_success(void **state)
{
	struct env *e = *state;
	struct initramfs_options o = opts(e, NULL);
	struct initramfs_result res;
	char *why = NULL;

	assert_int_equal(initramfs_build(&o, &res, &why), 0);
	assert_null(why);
}

/*
 * The real guest kernel's modules for the QEMU tests' set-up, with the real
 * collector when it is built: prints the archive's size.
 */
static void test_real_kernel_archive(void **state)
{
	struct env *e = *state;
	char *extra[] = { (char *)"virtio_pci", (char *)"virtio_blk", (char *)"ext4", NULL };
	_cleanup_free_ char *dir = NULL, *release = NULL;
	struct initramfs_options o;
	struct initramfs_result res;
	struct newc_archive a;
	bool real_collector = access("build/crashcap-collect", R_OK) == 0;

	if (real_kernel_modules(&dir, &release) < 0) {
		fprintf(stderr,
			"# SKIP: no unpacked guest kernel under build/cache (scripts/setup.sh)\n");
		skip();
	}
	assert_int_equal(write_file(e->conf, "target = LABEL=crashdump\npath = /\n"), 0);
	o = (struct initramfs_options){
		.root = ROOT, /* its vda2 drivers (fake) are not in this kernel: skipped */
		.output_path = e->out,
		.collector_path = real_collector ? "build/crashcap-collect" : e->collector,
		.config_path = e->conf,
		.kernel_release = release,
		.modules_dir = dir,
		.extra_modules = extra,
	};
	assert_int_equal(initramfs_build(&o, &res, NULL), 0);
	assert_int_equal(res.nr_modules, 12);
	assert_int_equal(newc_parse_file(e->out, &a), 0);
	assert_non_null(strstr(newc_find(&a, "etc/crashcap/modules")->data,
			       "/kernel/drivers/virtio/virtio_pci.ko\n/lib/modules/"));
	fprintf(stderr, "# crash initramfs for %s with %s: %zu modules, %" PRIu64 " bytes\n",
		release, real_collector ? "build/crashcap-collect" : "a stand-in collector",
		res.nr_modules, res.size);
	newc_archive_done(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unset_target_full_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_given_target_copied_verbatim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_target_takes_extra_modules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replaces_existing_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_message_on_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_real_kernel_archive, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
