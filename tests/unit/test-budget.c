// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The memory budget (loader/budget.c) on fixture roots, and
 * reservation_shrink (loader/reserve-shrink.c): the plan for 6.1 and 6.5+
 * semantics of kexec_crash_size, and the write through the fake syscalls.
 */
#include "loader/budget.h"
#include "loader/reserve-shrink.h"
#include "cpio.h"
#include "kexec_fixture.h"
#include "kexec_syscall.h"
#include "load-root.h"
#include "rootfs.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define MIB (1024ULL * 1024)
#define INITRD "/var/lib/crashcap/initrd-" LOAD_ROOT_RELEASE ".img"
#define KERNEL "/boot/vmlinuz-" LOAD_ROOT_RELEASE
/* The fixture's RAM ends at 0x3ffe0000: two bitmaps of 32764 bytes, page-rounded. */
#define BITMAPS_1G 65536ULL
#define DUMP_NAME "2026-11-20-10:00:00-" LOAD_ROOT_RELEASE
/* loader/budget.c: the crash kernel with nr_cpus=1, and each CPU more (crash_cpus). */
#define KERNEL_RUNTIME (16 * MIB)
#define KERNEL_PER_CPU (5 * MIB / 4)

static int setup(void **state)
{
	*state = load_root_make();
	return 0;
}

static int teardown(void **state)
{
	kexec_fixture_uninstall();
	load_root_remove(*state);
	return 0;
}

/* A newc archive with files of 5000 and 100 bytes and a directory: 12 KiB in tmpfs. */
static void write_initrd(const char *root, const char *path)
{
	_cleanup_free_ char *p = fixture_path(root, path);
	_cleanup_cpio_writer_ struct cpio_writer *w = NULL;
	static char data[5000];
	int fd;

	fixture_write_text(root, path, "");
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(cpio_writer_new(fd, &w), 0);
	assert_int_equal(cpio_add_directory(w, "etc", 0755), 0);
	assert_int_equal(cpio_add_data(w, "init", 0755, data, sizeof(data)), 0);
	assert_int_equal(cpio_add_data(w, "etc/crashcap.conf", 0644, data, 100), 0);
	assert_int_equal(cpio_writer_finish(w), 0);
	close(fd);
}

static uint64_t file_bytes(const char *root, const char *path)
{
	_cleanup_free_ char *p = fixture_path(root, path);
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return (uint64_t)st.st_size;
}

static void compute(const char *root, const struct settings *s, struct budget *b)
{
	struct load_error err = {};

	assert_int_equal(budget_compute(root, s, b, &err), 0);
}

static uint64_t expected_total(uint64_t sum)
{
	return (sum * 64 + 62) / 63;
}

static void test_fixture_root(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget b = {};
	_cleanup_free_ char *kernel = fixture_path(root, KERNEL);
	_cleanup_free_ char *initrd = fixture_path(root, INITRD);
	uint64_t sum = 0;

	write_initrd(root, INITRD);
	compute(root, NULL, &b);
	assert_string_equal(b.kernel, kernel);
	assert_string_equal(b.initrd, initrd);
	assert_int_equal(b.kernel_file_size, 8192);
	assert_int_equal(b.parts[BUDGET_KERNEL].bytes, 48 * MIB);
	assert_int_equal(b.parts[BUDGET_KERNEL].source, BUDGET_SOURCE_FILE);
	assert_string_equal(b.parts[BUDGET_KERNEL].source_text, kernel);
	assert_int_equal(b.parts[BUDGET_INITRD].bytes,
			 (file_bytes(root, INITRD) + 4095) / 4096 * 4096);
	assert_int_equal(b.parts[BUDGET_INITRD_UNPACKED].bytes, 8192 + 4096);
	assert_int_equal(b.initrd_files, 2);
	assert_string_equal(b.parts[BUDGET_INITRD_UNPACKED].why,
			    "its 2 files in tmpfs, page-rounded");
	assert_int_equal(b.threads, 1);
	assert_int_equal(b.cpus, 1);
	assert_int_equal(b.ram_end, 0x3ffe0000);
	assert_false(b.ram_end_from_setting);
	assert_int_equal(b.parts[BUDGET_COLLECTOR].source, BUDGET_SOURCE_MODEL);
	assert_int_equal(b.parts[BUDGET_COLLECTOR].bytes, 11 * MIB + BITMAPS_1G);
	assert_int_equal(b.parts[BUDGET_KERNEL_RUNTIME].bytes, 16 * MIB);
	assert_int_equal(b.parts[BUDGET_WRITEBACK].bytes, 8 * MIB);
	assert_int_equal(b.parts[BUDGET_KERNEL_RUNTIME].source, BUDGET_SOURCE_MODEL);
	for (size_t i = 0; i < _BUDGET_PART_MAX; i++) {
		assert_non_null(b.parts[i].name);
		sum += b.parts[i].bytes;
	}
	assert_int_equal(b.sum, sum);
	assert_int_equal(b.total, expected_total(sum));
	assert_int_equal(b.proposal, (b.total + BUDGET_ROUND - 1) / BUDGET_ROUND * BUDGET_ROUND);
	assert_int_equal(b.reserved, 256 * MIB);
}

static void test_threads_and_max_memory(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget one = {}, four = {}, big = {};
	struct settings s;

	write_initrd(root, INITRD);
	settings_init(&s);
	compute(root, &s, &one);
	s.threads = 4;
	compute(root, &s, &four);
	assert_int_equal(four.threads, 4);
	assert_int_equal(four.parts[BUDGET_COLLECTOR].bytes,
			 one.parts[BUDGET_COLLECTOR].bytes + 3 * 4 * MIB);
	/* threads = 0 is one per CPU, and the crash kernel has one. */
	s.threads = 0;
	s.max_memory = 4096 * MIB;
	compute(root, &s, &big);
	assert_int_equal(big.threads, 1);
	assert_true(big.ram_end_from_setting);
	assert_int_equal(big.ram_end, 0x3ffe0000 + 4096 * MIB - big.ram);
	assert_true(big.parts[BUDGET_COLLECTOR].bytes > one.parts[BUDGET_COLLECTOR].bytes);
	settings_done(&s);
}

static void test_crash_cpus(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget one = {}, four = {}, two_threads = {}, many = {};
	struct settings s;

	write_initrd(root, INITRD);
	settings_init(&s);
	compute(root, &s, &one);
	assert_int_equal(one.cpus, 1);
	assert_int_equal(one.parts[BUDGET_KERNEL_RUNTIME].bytes, KERNEL_RUNTIME);
	assert_string_equal(
		one.parts[BUDGET_KERNEL_RUNTIME].why,
		"slab, stacks, modules, free-memory watermarks (nr_cpus=1): measured on "
		"Debian 6.1 guests");

	/* threads = 0 with four CPUs: four threads, and the kernel's term for three CPUs more. */
	s.crash_cpus = 4;
	compute(root, &s, &four);
	assert_int_equal(four.cpus, 4);
	assert_int_equal(four.threads, 4);
	assert_int_equal(four.parts[BUDGET_KERNEL_RUNTIME].bytes,
			 KERNEL_RUNTIME + 3 * KERNEL_PER_CPU);
	assert_int_equal(four.parts[BUDGET_KERNEL_RUNTIME].source, BUDGET_SOURCE_MODEL);
	assert_non_null(strstr(four.parts[BUDGET_KERNEL_RUNTIME].why,
			       "16 MiB with nr_cpus=1, + 1.25 MiB for each of 3 more CPUs "
			       "(crash_cpus = 4; "));
	assert_int_equal(four.parts[BUDGET_COLLECTOR].bytes,
			 one.parts[BUDGET_COLLECTOR].bytes + 3 * 4 * MIB);
	assert_non_null(strstr(four.parts[BUDGET_COLLECTOR].why, "per thread (4)"));
	assert_int_equal(four.sum, one.sum + 3 * KERNEL_PER_CPU + 3 * 4 * MIB);
	assert_int_equal(four.total, expected_total(four.sum));

	/* threads set: the collector runs that many whatever the CPUs; the kernel still has 4. */
	s.threads = 2;
	compute(root, &s, &two_threads);
	assert_int_equal(two_threads.threads, 2);
	assert_int_equal(two_threads.parts[BUDGET_COLLECTOR].bytes,
			 one.parts[BUDGET_COLLECTOR].bytes + 4 * MIB);
	assert_int_equal(two_threads.parts[BUDGET_KERNEL_RUNTIME].bytes,
			 KERNEL_RUNTIME + 3 * KERNEL_PER_CPU);

	/* The most settings allow. */
	s.threads = 0;
	s.crash_cpus = 64;
	compute(root, &s, &many);
	assert_int_equal(many.threads, 64);
	assert_int_equal(many.parts[BUDGET_KERNEL_RUNTIME].bytes,
			 KERNEL_RUNTIME + 63 * KERNEL_PER_CPU);
	settings_done(&s);
}

static void write_dump(const char *root, uint64_t peak, unsigned threads)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"result\": \"ok\", \"threads\": %u, \"peak_rss_bytes\": %llu, "
		 "\"ram_bytes\": 1073217536}\n",
		 threads, (unsigned long long)peak);
	fixture_write_text(root, "/var/crash/crashcap/" DUMP_NAME "/summary.json", text);
	fixture_write_text(root, "/var/crash/crashcap/" DUMP_NAME "/vmcore", "x");
}

static void test_measured_collector(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget b = {}, more = {};
	struct settings s;

	write_initrd(root, INITRD);
	write_dump(root, 30 * MIB, 1);
	compute(root, NULL, &b);
	assert_int_equal(b.parts[BUDGET_COLLECTOR].source, BUDGET_SOURCE_MEASURED);
	assert_int_equal(b.parts[BUDGET_COLLECTOR].bytes, 30 * MIB);
	assert_string_equal(b.parts[BUDGET_COLLECTOR].source_text, "measured in dump " DUMP_NAME);
	assert_non_null(
		strstr(b.parts[BUDGET_COLLECTOR].why, "30.0 MiB with 1 thread; 1 configured"));
	/* Two more threads than measured: two workers more. */
	settings_init(&s);
	s.threads = 3;
	compute(root, &s, &more);
	assert_int_equal(more.parts[BUDGET_COLLECTOR].bytes, 30 * MIB + 2 * 4 * MIB);
	/* threads = 0 on two crash CPUs: one worker more than the dump measured with. */
	s.threads = 0;
	s.crash_cpus = 2;
	budget_done(&more);
	compute(root, &s, &more);
	assert_int_equal(more.parts[BUDGET_COLLECTOR].bytes, 30 * MIB + 4 * MIB);
	assert_non_null(
		strstr(more.parts[BUDGET_COLLECTOR].why, "30.0 MiB with 1 thread; 2 configured"));
	settings_done(&s);
}

static void test_initrd_missing_or_compressed(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget none = {}, gz = {};
	static const uint8_t gzip[4096] = { 0x1f, 0x8b, 0x08 };

	compute(root, NULL, &none);
	assert_null(none.initrd);
	assert_int_equal(none.parts[BUDGET_INITRD].source, BUDGET_SOURCE_MODEL);
	assert_int_equal(none.parts[BUDGET_INITRD].bytes, 8 * MIB);
	assert_int_equal(none.parts[BUDGET_INITRD_UNPACKED].bytes, 8 * MIB);
	assert_non_null(strstr(none.parts[BUDGET_INITRD].why, "run crashcapctl rebuild"));

	fixture_write_file(root, INITRD, gzip, sizeof(gzip));
	compute(root, NULL, &gz);
	assert_int_equal(gz.parts[BUDGET_INITRD].bytes, 4096);
	assert_int_equal(gz.parts[BUDGET_INITRD_UNPACKED].source, BUDGET_SOURCE_MODEL);
	assert_int_equal(gz.parts[BUDGET_INITRD_UNPACKED].bytes, 3 * 4096);
}

static void test_bad_kernel(void **state)
{
	const char *root = *state;
	_cleanup_free_ char *k = fixture_path(root, KERNEL);
	struct load_error err = {};
	struct budget b = {};
	struct settings s;
	char want[600];

	assert_int_equal(unlink(k), 0);
	assert_int_equal(budget_compute(root, NULL, &b, &err), -ENOENT);
	snprintf(want, sizeof(want),
		 "cannot read the crash kernel %s: No such file or directory: set kernel= in "
		 "crashcap.conf",
		 k);
	assert_string_equal(err.message, want);
	assert_null(b.kernel);
	/* Not a kernel at all. */
	fixture_write_text(root, "/boot/not-a-kernel", "hello\n");
	settings_init(&s);
	s.kernel = strdup("/boot/not-a-kernel");
	assert_true(budget_compute(root, &s, &b, &err) < 0);
	assert_non_null(strstr(err.message, "not-a-kernel"));
	settings_done(&s);
	assert_int_equal(budget_compute_image(root, NULL, NULL, NULL, &b, NULL), -EINVAL);
}

static void test_image_given(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget b = {};
	_cleanup_free_ char *k = fixture_path(root, KERNEL);
	_cleanup_free_ char *other = fixture_path(root, "/other.img");

	write_initrd(root, "/other.img");
	assert_int_equal(budget_compute_image(root, NULL, k, other, &b, NULL), 0);
	assert_string_equal(b.initrd, other);
	assert_int_equal(b.parts[BUDGET_INITRD_UNPACKED].bytes, 12288);
	budget_done(&b);
	assert_int_equal(budget_compute_image(root, NULL, k, NULL, &b, NULL), 0);
	assert_null(b.initrd);
	assert_int_equal(b.parts[BUDGET_INITRD].bytes, 0);
	assert_int_equal(b.parts[BUDGET_INITRD_UNPACKED].bytes, 0);
}

static void test_shrink_plan(void **state)
{
	struct reservation res = {
		.has_crash_size = true,
		.crash_size = 256 * MIB,
		.ranges_known = true,
		.has_main = true,
		.main_start = 0x2b000000,
		.main_end = 0x2b000000 + 256 * MIB - 1,
	};
	struct shrink_plan p = {};
	const char *why;

	(void)state;
	assert_int_equal(shrink_plan_make(&res, false, 96 * MIB, &p, &why), 1);
	assert_int_equal(p.before, 256 * MIB);
	assert_int_equal(p.target, 96 * MIB);
	assert_int_equal(p.main_after, 96 * MIB);
	assert_false(p.low_counted);
	/* Loaded: the kernel would answer ENOENT. */
	assert_int_equal(shrink_plan_make(&res, true, 96 * MIB, &p, &why), -EBUSY);
	/* The same size, or less than the budget: nothing to write. */
	assert_int_equal(shrink_plan_make(&res, false, 256 * MIB, &p, &why), 0);
	assert_string_equal(why, "it is the budget already");
	assert_int_equal(p.target, 256 * MIB);
	assert_int_equal(shrink_plan_make(&res, false, 272 * MIB, &p, &why), 0);
	assert_string_equal(why, "it is less than the budget, and the kernel cannot grow it");
	assert_int_equal(p.main_before, 256 * MIB);
	assert_int_equal(p.target, 256 * MIB);

	/* crashkernel=X,high + Y,low: 6.1 counts the main range only... */
	res.has_low = true;
	res.low_start = 0x1000000;
	res.low_end = 0x1000000 + 128 * MIB - 1;
	assert_int_equal(shrink_plan_make(&res, false, 96 * MIB, &p, &why), 1);
	assert_false(p.low_counted);
	assert_int_equal(p.target, 96 * MIB);
	/* ...6.5 and later both, and shrink the main one first. */
	res.crash_size = 384 * MIB;
	assert_int_equal(shrink_plan_make(&res, false, 96 * MIB, &p, &why), 1);
	assert_true(p.low_counted);
	assert_int_equal(p.main_before, 256 * MIB);
	assert_int_equal(p.target, 96 * MIB + 128 * MIB);

	res.crash_size = 0;
	assert_int_equal(shrink_plan_make(&res, false, 96 * MIB, &p, &why), -ENOENT);
	res.has_crash_size = false;
	assert_int_equal(shrink_plan_make(&res, false, 96 * MIB, &p, &why), -EOPNOTSUPP);
}

static uint64_t crash_size(const char *root)
{
	uint64_t v = 0;

	assert_int_equal(root_read_u64(root, "/sys/kernel/kexec_crash_size", 10, &v), 0);
	return v;
}

static void test_shrink_through_fixture(void **state)
{
	const char *root = *state;
	_cleanup_(budget_done) struct budget b = {};
	_cleanup_free_ char *k = fixture_path(root, KERNEL);
	_cleanup_free_ char *i = fixture_path(root, INITRD);
	_cleanup_free_ char *log = NULL, *logp = fixture_path(root, KEXEC_FIXTURE_LOG);
	struct settings s;
	char want[200];

	write_initrd(root, INITRD);
	assert_int_equal(kexec_fixture_install(root), 0);
	settings_init(&s);
	/* Off by default: nothing written. */
	assert_int_equal(reserve_shrink(root, &s, k, i), 0);
	assert_int_equal(crash_size(root), 256 * MIB);

	s.reservation_shrink = true;
	assert_int_equal(budget_compute_image(root, &s, k, i, &b, NULL), 0);
	/* Loaded: left alone, no write. */
	fixture_write_text(root, "/sys/kernel/kexec_crash_loaded", "1\n");
	assert_int_equal(reserve_shrink(root, &s, k, i), 0);
	assert_int_equal(crash_size(root), 256 * MIB);
	fixture_write_text(root, "/sys/kernel/kexec_crash_loaded", "0\n");

	assert_int_equal(reserve_shrink(root, &s, k, i), 1);
	assert_int_equal(crash_size(root), b.proposal);
	assert_int_equal(read_full_file(logp, 1 << 16, &log, NULL), 0);
	snprintf(want, sizeof(want), "kexec_crash_size write %llu (was 268435456) -> 0\n",
		 (unsigned long long)b.proposal);
	assert_string_equal(log, want);
	/* Once at the budget, again is nothing. */
	assert_int_equal(reserve_shrink(root, &s, k, i), 0);
	/* Less than the budget: it cannot grow, nothing is written. */
	fixture_write_text(root, "/sys/kernel/kexec_crash_size", "33554432\n");
	assert_int_equal(reserve_shrink(root, &s, k, i), 0);
	assert_int_equal(crash_size(root), 32 * MIB);
	free(log);
	assert_int_equal(read_full_file(logp, 1 << 16, &log, NULL), 0);
	assert_string_equal(log, want);
	settings_done(&s);
}

/* The fake kernel's answers: growth is EINVAL, a loaded crash kernel ENOENT. */
static void test_fake_kernel_rules(void **state)
{
	const char *root = *state;

	assert_int_equal(kexec_fixture_install(root), 0);
	assert_int_equal(sys_crash_size_write(512 * MIB), -EINVAL);
	assert_int_equal(sys_crash_size_write(256 * MIB), 0);
	fixture_write_text(root, "/sys/kernel/kexec_crash_loaded", "1\n");
	assert_int_equal(sys_crash_size_write(64 * MIB), -ENOENT);
	assert_int_equal(crash_size(root), 256 * MIB);
	kexec_fixture_uninstall();
	/* A test's own table without the call: refused, never the real file. */
	kexec_syscall_set_ops(&(const struct kexec_syscall_ops){});
	assert_int_equal(sys_crash_size_write(64 * MIB), -EOPNOTSUPP);
	kexec_syscall_set_ops(NULL);
}

/* A load with reservation_shrink: the write comes before the load syscall. */
static struct {
	char order[8];
	uint64_t bytes;
} calls;

static int order_file_load(int kfd, int ifd, const char *cmdline, unsigned long flags)
{
	strncat(calls.order, "L", sizeof(calls.order) - strlen(calls.order) - 1);
	return 0;
}

static int order_size_write(uint64_t bytes)
{
	strncat(calls.order, "S", sizeof(calls.order) - strlen(calls.order) - 1);
	calls.bytes = bytes;
	return 0;
}

static void test_load_shrinks_first(void **state)
{
	const char *root = *state;
	static const struct kexec_syscall_ops ops = {
		.kexec_file_load = order_file_load,
		.crash_size_write = order_size_write,
	};
	_cleanup_(crash_image_done) struct crash_image img = {};
	_cleanup_(budget_done) struct budget b = {};
	_cleanup_free_ char *k = fixture_path(root, KERNEL);
	_cleanup_free_ char *i = fixture_path(root, "/initrd.img");
	struct load_error err = {};
	struct settings s;

	settings_init(&s);
	s.reservation_shrink = true;
	s.load_method = LOAD_METHOD_FILE;
	calls = (typeof(calls)){};
	kexec_syscall_set_ops(&ops);
	assert_int_equal(loadfile_load(
				 &(struct load_request){
					 .root = root, .settings = &s, .kernel = k, .initrd = i },
				 &img, &err),
			 0);
	assert_string_equal(calls.order, "SL");
	assert_int_equal(budget_compute_image(root, &s, k, i, &b, NULL), 0);
	assert_int_equal(calls.bytes, b.proposal);
	kexec_syscall_set_ops(NULL);
	settings_done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixture_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_and_max_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measured_collector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initrd_missing_or_compressed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_given, setup, teardown),
		cmocka_unit_test(test_shrink_plan),
		cmocka_unit_test_setup_teardown(test_shrink_through_fixture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_kernel_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_shrinks_first, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
