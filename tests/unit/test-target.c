// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "initramfs/target.h"

#define ROOT "tests/fixtures/roots/initramfs-fake"

struct want {
	const char *target, *path; /* in */
	const char *spec, *out_path, *device, *fstype; /* out */
	bool resolved;
};

static void check(const struct want *w)
{
	_cleanup_(target_info_done) struct target_info t = {};
	int r = target_resolve(ROOT, w->target, w->path, &t, NULL);

	if (r < 0)
		fail_msg("%s %s: %s", w->target ?: "(unset)", w->path, strerror(-r));
	assert_string_equal(t.spec, w->spec);
	assert_string_equal(t.path, w->out_path);
	if (w->device)
		assert_string_equal(t.device, w->device);
	else
		assert_null(t.device);
	if (w->fstype)
		assert_string_equal(t.fstype, w->fstype);
	else
		assert_null(t.fstype);
	assert_int_equal(t.resolved, w->resolved);
}

/* An unset target: the file system that holds path, by UUID, and path inside it. */
static void test_unset_target_follows_path(void **state)
{
	static const struct want cases[] = {
		{ NULL, "/var/crash", "UUID=0a1b2c3d-1111-4222-8333-444455556666", "/var/crash",
		  "vda1", "ffs", true },
		{ "", "/var//crash/", "UUID=0a1b2c3d-1111-4222-8333-444455556666", "/var/crash",
		  "vda1", "ffs", true },
		{ NULL, "/", "UUID=0a1b2c3d-1111-4222-8333-444455556666", "/", "vda1", "ffs",
		  true },
		/* A mount of a subdirectory ("crash data" of vda2), names with \040. */
		{ NULL, "/mnt/dump disk/kdump", "UUID=5e6f7a8b-9999-4aaa-8bbb-ccccddddeeee",
		  "/crash data/kdump", "vda2", "ffs", true },
		{ NULL, "/mnt/dump disk", "UUID=5e6f7a8b-9999-4aaa-8bbb-ccccddddeeee",
		  "/crash data", "vda2", "ffs", true },
		/* "/mnt/dump" is not inside "/mnt/dump disk". */
		{ NULL, "/mnt/dump", "UUID=0a1b2c3d-1111-4222-8333-444455556666", "/mnt/dump",
		  "vda1", "ffs", true },
		/* A separate file system: the path is relative to its top. */
		{ NULL, "/srv/dumps/crash", "UUID=12345678-abcd-4ef0-9123-456789abcdef", "/crash",
		  "dm-0", "xfs", true },
		{ NULL, "/srv/dumps", "UUID=12345678-abcd-4ef0-9123-456789abcdef", "/", "dm-0",
		  "xfs", true },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		check(&cases[i]);
}

static void test_given_target(void **state)
{
	static const struct want cases[] = {
		{ "LABEL=crashdump", "/", "LABEL=crashdump", "/", "vda2", "ffs", false },
		{ "UUID=0a1b2c3d-1111-4222-8333-444455556666", "/var/crash",
		  "UUID=0a1b2c3d-1111-4222-8333-444455556666", "/var/crash", "vda1", "ffs", false },
		{ "/dev/vda2", "/x", "/dev/vda2", "/x", "vda2", "ffs", false },
		/* Known to this system but not mounted: no file system type. */
		{ "/dev/sda", "/x", "/dev/sda", "/x", "sda", NULL, false },
		/* Not attached now (plugged in later, or only the crash kernel sees it). */
		{ "UUID=ffffffff-0000-0000-0000-000000000000", "/var/crash",
		  "UUID=ffffffff-0000-0000-0000-000000000000", "/var/crash", NULL, NULL, false },
		{ "LABEL=elsewhere", "/", "LABEL=elsewhere", "/", NULL, NULL, false },
		{ "/dev/vdq1", "/", "/dev/vdq1", "/", NULL, NULL, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		check(&cases[i]);
}

#define CONFIG_FILE CRASHCAP_SYSCONFDIR "/crashcap.conf"

/* target_resolve() fails with r and exactly message, and leaves t alone. */
static void expect_error(const char *root, const char *target, const char *path, int r,
			 const char *message)
{
	struct target_info t = { .spec = (char *)"untouched" };
	_cleanup_free_ char *why = NULL;

	assert_int_equal(target_resolve(root, target, path, &t, &why), r);
	assert_non_null(why);
	assert_string_equal(why, message);
	assert_string_equal(t.spec, "untouched");
	/* Without a place for the message: the same error. */
	assert_int_equal(target_resolve(root, target, path, &t, NULL), r);
}

static void test_errors(void **state)
{
	/* tmpfs and /proc have no block device to find again after a crash. */
	expect_error(ROOT, NULL, "/tmp/crash", -ENOTBLK,
		     "target is unset and /tmp/crash lies on tmpfs, not on a disk: set target = "
		     "UUID=... in " CONFIG_FILE);
	expect_error(ROOT, "", "/proc", -ENOTBLK,
		     "target is unset and /proc lies on proc, not on a disk: set target = UUID=... "
		     "in " CONFIG_FILE);
	expect_error(ROOT, "vda1", "/", -EINVAL,
		     "cannot parse target = vda1: use UUID=..., LABEL=..., PARTUUID=..., "
		     "PARTLABEL=... or a /dev path");
	expect_error(ROOT, "UUID=", "/", -EINVAL,
		     "cannot parse target = UUID=: use UUID=..., LABEL=..., PARTUUID=..., "
		     "PARTLABEL=... or a /dev path");
	expect_error(ROOT, NULL, "relative/path", -EINVAL,
		     "the dump path 'relative/path' is not absolute: set path = /var/crash or "
		     "another absolute directory in " CONFIG_FILE);
	expect_error(ROOT, "LABEL=x", NULL, -EINVAL,
		     "the dump path '(unset)' is not absolute: set path = /var/crash or another "
		     "absolute directory in " CONFIG_FILE);
	/* No mountinfo to go by. */
	expect_error("tests/fixtures/nonexistent-root", NULL, "/var", -ENOENT,
		     "cannot read tests/fixtures/nonexistent-root/proc/self/mountinfo: No such "
		     "file or directory");
}

/* A mount table where nothing holds the path (no "/" mount at all). */
static void test_no_mount_holds_path(void **state)
{
	char root[] = "/tmp/test-target-XXXXXX", p[128], want[256];
	FILE *f;

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/proc", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/proc/self", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/proc/self/mountinfo", root);
	f = fopen(p, "we");
	assert_non_null(f);
	fputs("23 22 0:21 / /proc rw - proc proc rw\n", f);
	assert_int_equal(fclose(f), 0);

	snprintf(want, sizeof(want), "no file system in %s/proc/self/mountinfo holds /var/crash",
		 root);
	expect_error(root, NULL, "/var/crash", -ENOENT, want);
	unlink(p);
	snprintf(p, sizeof(p), "%s/proc/self", root);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/proc", root);
	rmdir(p);
	rmdir(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_target_follows_path),
		cmocka_unit_test(test_given_target),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_no_mount_holds_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
