// SPDX-License-Identifier: GPL-2.0-or-later
/* What /init does to fit the crash kernel's small reservation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "collector/collect.h"
#include "collector/init-steps.h"
#include "fixture-tree.h"
#include "vmcore-synth.h"

static int setup(void **state)
{
	char *dir = strdup("/tmp/test-init-memory-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char *dir = *state;

	fixture_rm_tree(dir);
	free(dir);
	return 0;
}

static bool exists(const char *dir, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", dir, rel);
	return access(p, F_OK) == 0;
}

/* --- the in-flight bound from MemAvailable ------------------------------------ */

static void test_inflight_for(void **state)
{
	/* Unknown: the collector's default. */
	assert_int_equal(init_inflight_for(0), 8 << 20);
	assert_int_equal(init_inflight_for(1 << 20), 1 << 20);
	assert_int_equal(init_inflight_for(16 << 20), 1 << 20);
	assert_int_equal(init_inflight_for(24 << 20), 1536 << 10);
	assert_int_equal(init_inflight_for(40 << 20), 2560 << 10);
	assert_int_equal(init_inflight_for(128 << 20), 8 << 20);
	assert_int_equal(init_inflight_for(4ULL << 30), 8 << 20);
	assert_int_equal(COLLECT_INFLIGHT_DEFAULT, 8 << 20);
	assert_int_equal(COLLECT_INFLIGHT_MIN, 1 << 20);
}

static void test_mem_available(void **state)
{
	const char *dir = *state;
	uint64_t v = 7;

	assert_int_equal(init_read_mem_available(dir, &v), -ENOENT);
	assert_int_equal(v, 7);
	fixture_put(dir, "/proc/meminfo",
		    "MemTotal:          70312 kB\n"
		    "MemFree:           31024 kB\n"
		    "MemAvailable:      29876 kB\n"
		    "Buffers:               0 kB\n");
	assert_int_equal(init_read_mem_available(dir, &v), 0);
	assert_int_equal(v, 29876ULL * 1024);
	assert_int_equal(init_inflight_for(v), 29876ULL * 1024 / 16);

	/* Before 3.14 there is no MemAvailable; a look-alike name is not it. */
	v = 7;
	fixture_put(dir, "/proc/meminfo", "MemTotal: 70312 kB\nXMemAvailable: 5 kB\n");
	assert_int_equal(init_read_mem_available(dir, &v), -ENODATA);
	fixture_put(dir, "/proc/meminfo", "MemTotal: 70312 kB\nMemAvailable: lots\n");
	assert_int_equal(init_read_mem_available(dir, &v), -EBADMSG);
	assert_int_equal(v, 7);
}

/* --- module files dropped once loaded ----------------------------------------- */

static void test_drop_module_files(void **state)
{
	const char *dir = *state;
	unsigned removed = 99;

	/* No list: nothing to do. */
	assert_int_equal(init_drop_module_files(dir, "/etc/crashcap/modules", &removed), 0);
	assert_int_equal(removed, 0);

	fixture_put(dir, "/lib/modules/6.1.0/kernel/virtio_blk.ko", "x");
	fixture_put(dir, "/lib/modules/6.1.0/kernel/ext4.ko.xz", "x");
	fixture_put(dir, "/lib/modules/6.1.0/kernel/unlisted.ko", "x");
	fixture_put(dir, "/etc/crashcap/modules",
		    "# in load order\n"
		    "/lib/modules/6.1.0/kernel/virtio_blk.ko\n"
		    "\n"
		    "  /lib/modules/6.1.0/kernel/ext4.ko.xz  \n"
		    "/lib/modules/6.1.0/kernel/gone.ko\n"
		    "relative.ko\n");
	assert_int_equal(init_drop_module_files(dir, "/etc/crashcap/modules", &removed), 0);
	/* gone.ko counts: it is not there; the relative name is never a path under root. */
	assert_int_equal(removed, 3);
	assert_false(exists(dir, "/lib/modules/6.1.0/kernel/virtio_blk.ko"));
	assert_false(exists(dir, "/lib/modules/6.1.0/kernel/ext4.ko.xz"));
	assert_true(exists(dir, "/lib/modules/6.1.0/kernel/unlisted.ko"));
	/* The list stays: it is small, and says what was loaded. */
	assert_true(exists(dir, "/etc/crashcap/modules"));

	/* Twice is harmless. */
	assert_int_equal(init_drop_module_files(dir, "/etc/crashcap/modules", &removed), 0);
	assert_int_equal(removed, 3);
}

static void test_drop_module_files_error(void **state)
{
	const char *dir = *state;
	unsigned removed = 99;

	/* A directory where a module file should be: unlink fails, the error is returned. */
	fixture_put(dir, "/lib/modules/6.1.0/kernel/dir.ko/inner", "x");
	fixture_put(dir, "/lib/modules/6.1.0/kernel/a.ko", "x");
	fixture_put(dir, "/etc/crashcap/modules",
		    "/lib/modules/6.1.0/kernel/dir.ko\n/lib/modules/6.1.0/kernel/a.ko\n");
	assert_int_equal(init_drop_module_files(dir, "/etc/crashcap/modules", &removed), -EISDIR);
	assert_int_equal(removed, 99);
	/* The files after the one that failed are still removed. */
	assert_false(exists(dir, "/lib/modules/6.1.0/kernel/a.ko"));
}

/* --- the collector honours the bound ------------------------------------------ */

#define VMCORE_PAGES 4096 /* 16 MiB: several chunks even at the default bound */

static void fill(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	synth_pattern_fill(paddr, buf, len);
}

static void collect_with(const char *vmcore, const char *out, uint64_t inflight, unsigned threads,
			 struct collect_result *res)
{
	struct collect_options o = {
		.vmcore_path = vmcore,
		.output_path = out,
		.format = COLLECT_FORMAT_KDUMP,
		.dump_level = 1,
		.compression = COMPRESSION_ZSTD,
		.zstd_level = 1,
		.threads = threads,
		.map_files = true,
		.inflight_bytes = inflight,
	};

	assert_int_equal(collect_dump(&o, res), 0);
	assert_int_equal(res->pages_total, VMCORE_PAGES);
	assert_int_equal(res->pages_written, VMCORE_PAGES);
	assert_false(res->incomplete);
}

static char *slurp_path(const char *path, size_t *ret_size)
{
	char *data = NULL;

	assert_int_equal(read_full_file(path, 64 << 20, &data, ret_size), 0);
	return data;
}

static void test_collect_inflight(void **state)
{
	const char *dir = *state;
	struct synth_segment seg = {
		.phys_start = 0x100000,
		.mem_size = VMCORE_PAGES * 4096ULL,
		.fill = fill,
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n",
		.nr_cpus = 1,
		.segments = &seg,
		.n_segments = 1,
	};
	struct collect_result res;
	char vmcore[256], out[256], out_small[256];
	_cleanup_free_ char *a = NULL, *b = NULL;
	size_t na, nb;

	snprintf(vmcore, sizeof(vmcore), "%s/vmcore", dir);
	snprintf(out, sizeof(out), "%s/out-default", dir);
	snprintf(out_small, sizeof(out_small), "%s/out-small", dir);
	assert_int_equal(synth_vmcore_write(vmcore, &spec), 0);

	collect_with(vmcore, out, 0, 2, &res);
	assert_int_equal(res.inflight_bytes, COLLECT_INFLIGHT_DEFAULT);

	collect_with(vmcore, out_small, 1 << 20, 2, &res);
	assert_int_equal(res.inflight_bytes, 1 << 20);
	/* Less memory in flight, the same dump. */
	a = slurp_path(out, &na);
	b = slurp_path(out_small, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);

	collect_with(vmcore, out_small, 2 << 20, 2, &res);
	assert_int_equal(res.inflight_bytes, 2 << 20);
	collect_with(vmcore, out_small, 4 << 20, 1, &res);
	assert_int_equal(res.inflight_bytes, 4 << 20);
	/* A bound, never exceeded: 8 slots of 96 pages round down to 64 (whole bitmap words). */
	collect_with(vmcore, out_small, 3 << 20, 1, &res);
	assert_int_equal(res.inflight_bytes, 2 << 20);
	/* Below the minimum: raised to it, never a chunk smaller than 64 pages. */
	collect_with(vmcore, out_small, 4096, 2, &res);
	assert_int_equal(res.inflight_bytes, COLLECT_INFLIGHT_MIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inflight_for),
		cmocka_unit_test_setup_teardown(test_mem_available, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_module_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_module_files_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect_inflight, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
