// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A machine with 256 GiB of RAM, as a sparse synthetic vmcore: 20 MiB of it
 * has bytes in the file, the rest none (p_filesz 0, as in a vmcore that was
 * filtered before). The collector's memory must stay bounded (peak RSS of
 * the process that dumps, measured in a child) and its time must follow
 * the pages it keeps, not the RAM: the same dump of a 1 GiB machine costs
 * about the same CPU time.
 */
#include "collector/collect.h"
#include "dump.h"
#include "kdump-read.h"
#include "vmcore-synth.h"

#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#define GIB (1ULL << 30)
#define MIB (1ULL << 20)
/* AddressSanitizer's shadow memory makes resident sizes meaningless: no RSS checks there. */
#ifdef __SANITIZE_ADDRESS__
#define RSS_LIMIT UINT64_MAX
#define RSS_SLACK UINT64_MAX / 2
#else
#define RSS_LIMIT (64 * MIB)
#define RSS_SLACK (4 * MIB)
#endif

struct run {
	struct collect_result res;
	double cpu_seconds;
	uint64_t max_rss;
	int r;
};

/* 16 MiB at 1 MiB and 4 MiB above the big hole have bytes; ram_gib of RAM has none. */
static char *make_vmcore(uint64_t ram_gib)
{
	const struct synth_segment segs[] = {
		{ .phys_start = MIB, .mem_size = 16 * MIB },
		{ .phys_start = 4 * GIB,
		  .mem_size = ram_gib * GIB,
		  .file_size = SYNTH_NO_FILE_DATA },
		{ .phys_start = (4 + ram_gib) * GIB, .mem_size = 4 * MIB },
	};
	struct synth_vmcore spec = {
		.vmcoreinfo = "OSRELEASE=6.1.0-sparse\nPAGESIZE=4096\n",
		.nr_cpus = 4,
		.segments = segs,
		.n_segments = ELEMENTSOF(segs),
	};
	char *path = NULL;

	assert_int_equal(synth_vmcore_tmpfile(&spec, &path), 0);
	return path;
}

/* collect_dump() in a child: its own peak RSS and CPU time, not the test's. */
static void collect_in_child(const struct collect_options *o, struct run *ret)
{
	struct rusage ru;
	int p[2], status;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct run r = {};

		close(p[0]);
		r.r = collect_dump(o, &r.res);
		_exit(write(p[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(read(p[0], ret, sizeof(*ret)), sizeof(*ret));
	close(p[0]);
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ret->cpu_seconds = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
			   ru.ru_stime.tv_usec / 1e6;
	ret->max_rss = (uint64_t)ru.ru_maxrss * 1024;
}

static void dump_of(uint64_t ram_gib, enum collect_format format, struct run *ret)
{
	_cleanup_free_ char *vmcore = make_vmcore(ram_gib);
	char out[64];
	struct collect_options o = {
		.vmcore_path = vmcore,
		.output_path = out,
		.format = format,
		.dump_level = 31,
		.compression = COMPRESSION_ZSTD,
		.zstd_level = 3,
		.threads = 2,
	};
	struct kd_file k;
	uint64_t ram_pages = (ram_gib * GIB + 20 * MIB) / 4096;

	snprintf(out, sizeof(out), "/tmp/test-sparse-out.%d", getpid());
	collect_in_child(&o, ret);
	assert_int_equal(ret->r, 0);
	assert_false(ret->res.incomplete);
	assert_int_equal(ret->res.pages_total, ram_pages);
	assert_int_equal(ret->res.pages_nodata, ram_gib * GIB / 4096);
	/* the fallback to level 1 (no struct page in this vmcore) */
	assert_int_equal(ret->res.dump_level, 1);
	assert_int_equal(ret->res.pages_written, 20 * MIB / 4096);
	if (format == COLLECT_FORMAT_KDUMP) {
		assert_int_equal(kd_open(out, &k), 0);
		assert_int_equal(k.max_mapnr, ((4 + ram_gib) * GIB + 4 * MIB) / 4096);
		assert_int_equal(kd_count_dumped(&k), 20 * MIB / 4096);
		assert_true(kd_is_ram(&k, 4 * GIB / 4096 + 12345));
		assert_false(kd_is_dumped(&k, 4 * GIB / 4096 + 12345));
		assert_true(kd_is_dumped(&k, (4 + ram_gib) * GIB / 4096 + 1023));
		kd_close(&k);
	}
	unlink(out);
	unlink(vmcore);
	print_message("# %3" PRIu64 " GiB RAM, %s: %.2f s CPU, peak RSS %.1f MiB, %.1f s\n",
		      ram_gib, format == COLLECT_FORMAT_ELF ? "ELF" : "kdump", ret->cpu_seconds,
		      ret->max_rss / (double)MIB, ret->res.seconds);
}

static void test_kdump_256g(void **state)
{
	struct run small, big;

	dump_of(1, COLLECT_FORMAT_KDUMP, &small);
	dump_of(256, COLLECT_FORMAT_KDUMP, &big);
	assert_true(big.max_rss <= RSS_LIMIT);
	/* 8 MiB bitmaps are written, and nothing else grows with the RAM */
	assert_true(big.max_rss <= small.max_rss + RSS_SLACK);
	assert_true(big.cpu_seconds <= small.cpu_seconds + 0.5);
	assert_true(big.res.output_bytes > small.res.output_bytes + 2 * 8 * MIB - 64 * 1024);
}

/* The ELF output walks the PT_LOADs page by page: bounded memory, windows of pfns. */
static void test_elf_256g(void **state)
{
	struct run big;

	dump_of(256, COLLECT_FORMAT_ELF, &big);
	assert_true(big.max_rss <= RSS_LIMIT);
	assert_true(big.cpu_seconds < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdump_256g),
		cmocka_unit_test(test_elf_256g),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
