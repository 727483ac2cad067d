// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

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
	int r = target_resolve(ROOT, w->target, w->path, &t);

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

static void test_errors(void **state)
{
	struct target_info t = { .spec = (char *)"untouched" };

	/* tmpfs and /proc have no block device to find again after a crash. */
	assert_int_equal(target_resolve(ROOT, NULL, "/tmp/crash", &t), -ENOTBLK);
	assert_int_equal(target_resolve(ROOT, NULL, "/proc", &t), -ENOTBLK);
	assert_int_equal(target_resolve(ROOT, "vda1", "/", &t), -EINVAL);
	assert_int_equal(target_resolve(ROOT, "UUID=", "/", &t), -EINVAL);
	assert_int_equal(target_resolve(ROOT, NULL, "relative/path", &t), -EINVAL);
	assert_int_equal(target_resolve(ROOT, "LABEL=x", NULL, &t), -EINVAL);
	/* No mountinfo to go by. */
	assert_int_equal(target_resolve("tests/fixtures/nonexistent-root", NULL, "/var", &t),
			 -ENOENT);
	assert_string_equal(t.spec, "untouched");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_target_follows_path),
		cmocka_unit_test(test_given_target),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
