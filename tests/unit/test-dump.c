// SPDX-License-Identifier: GPL-2.0-or-later
#include "dump-internal.h"
#include "elfnote.h"
#include "vmcore-synth.h"

#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

static const char vmcoreinfo_text[] = "OSRELEASE=6.1.0-test\nPAGESIZE=4096\n";

static uint8_t page_a[4096];

/* Physical memory: [1M, 3M) pattern, [4M, 4M+4K) page_a, [3M, 4M) missing,
 * [8M, 8M+64K) with 16K in the file and zeros after. Given out of order. */
static const struct synth_segment segs[] = {
	{ .phys_start = 0x400000, .mem_size = 0x1000, .data = page_a, .virt_start = 0x1234 },
	{ .phys_start = 0x100000, .mem_size = 0x200000 },
	{ .phys_start = 0x800000, .mem_size = 0x10000, .file_size = 0x4000 },
	{ .phys_start = 0x300000, .mem_size = 0x100000, .file_size = SYNTH_NO_FILE_DATA },
};

static char *write_spec(const struct synth_vmcore *spec)
{
	char *path = NULL;

	assert_int_equal(synth_vmcore_tmpfile(spec, &path), 0);
	return path;
}

static struct synth_vmcore base_spec(void)
{
	return (struct synth_vmcore){
		.vmcoreinfo = vmcoreinfo_text,
		.nr_cpus = 3,
		.segments = segs,
		.n_segments = 3,
	};
}

static void check_pattern(const uint8_t *buf, uint64_t paddr, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != synth_pattern(paddr + i))
			fail_msg("byte at 0x%llx is 0x%02x, expected 0x%02x",
				 (unsigned long long)(paddr + i), buf[i], synth_pattern(paddr + i));
}

static void test_open(void **state)
{
	struct synth_vmcore spec = base_spec();
	_cleanup_free_ char *path = write_spec(&spec);
	_cleanup_dump_ struct dump *d = NULL;
	const struct dump_segment *s;
	size_t n, off, size, nsize;
	const char *notes;

	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	assert_int_equal(dump_get_format(d), DUMP_FORMAT_ELF);
	assert_true(dump_fd(d) >= 0);
	assert_int_equal(dump_nr_cpus(d), 3);
	assert_false(dump_is_truncated(d));
	assert_non_null(dump_vmcoreinfo(d));
	assert_string_equal(vmcoreinfo_osrelease(dump_vmcoreinfo(d)), "6.1.0-test");

	notes = dump_notes(d, &nsize);
	assert_int_equal(dump_vmcoreinfo_note_offset(d, &off, &size), 0);
	assert_int_equal(size, strlen(vmcoreinfo_text));
	assert_true(off + size <= nsize);
	assert_memory_equal(notes + off, vmcoreinfo_text, size);

	s = dump_segments(d, &n);
	assert_int_equal(n, 3);
	assert_int_equal(s[0].phys_start, 0x100000);
	assert_int_equal(s[0].mem_size, 0x200000);
	assert_int_equal(s[0].file_size, 0x200000);
	assert_int_equal(s[0].file_offset, synth_segment_file_offset(&spec, 1));
	assert_int_equal(s[1].phys_start, 0x400000);
	assert_int_equal(s[1].virt_start, 0x1234);
	assert_int_equal(s[2].phys_start, 0x800000);
	assert_int_equal(s[2].mem_size, 0x10000);
	assert_int_equal(s[2].file_size, 0x4000);
	assert_int_equal(dump_max_pfn(d), 0x810);
}

static void test_read_phys(void **state)
{
	struct synth_vmcore spec = base_spec();
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_free_ uint8_t *buf = malloc(0x10000);
	uint8_t zeros[0xc000] = { 0 };

	for (size_t i = 0; i < sizeof(page_a); i++)
		page_a[i] = (uint8_t)(i * 7 + 1);
	spec.n_segments = 4;
	path = write_spec(&spec);
	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);

	assert_int_equal(dump_read_phys(d, 0x100000, buf, 4096), 0);
	check_pattern(buf, 0x100000, 4096);
	/* unaligned, odd length */
	assert_int_equal(dump_read_phys(d, 0x1fff3, buf, 3), -ENOENT);
	assert_int_equal(dump_read_phys(d, 0x123457, buf, 777), 0);
	check_pattern(buf, 0x123457, 777);
	/* across the boundary of two adjacent segments: [1M,3M) and [3M,4M) (no file data) */
	assert_int_equal(dump_read_phys(d, 0x2ff000, buf, 0x2000), 0);
	check_pattern(buf, 0x2ff000, 0x1000);
	assert_memory_equal(buf + 0x1000, zeros, 0x1000);
	/* [3M,4M) then [4M,4M+4K) */
	assert_int_equal(dump_read_phys(d, 0x3fff00, buf, 0x200), 0);
	assert_memory_equal(buf, zeros, 0x100);
	assert_memory_equal(buf + 0x100, page_a, 0x100);
	/* p_filesz < p_memsz: zeros past the file part */
	assert_int_equal(dump_read_phys(d, 0x803ff0, buf, 0x20), 0);
	check_pattern(buf, 0x803ff0, 0x10);
	assert_memory_equal(buf + 0x10, zeros, 0x10);
	assert_int_equal(dump_read_phys(d, 0x804000, buf, 0xc000), 0);
	assert_memory_equal(buf, zeros, 0xc000);
	/* holes */
	assert_int_equal(dump_read_phys(d, 0, buf, 1), -ENOENT);
	assert_int_equal(dump_read_phys(d, 0xfffff, buf, 2), -ENOENT);
	assert_int_equal(dump_read_phys(d, 0x400fff, buf, 2), -ENOENT);
	assert_int_equal(dump_read_phys(d, 0x810000, buf, 1), -ENOENT);
	assert_int_equal(dump_read_phys(d, UINT64_MAX, buf, 2), -ENOENT);
	assert_int_equal(dump_read_phys(d, 0x100000, buf, 0), 0);
}

/* /proc/vmcore's read() refusing pages its mmap() gives: file offsets [refused_from, refused_to). */
static off_t refused_from, refused_to;

static int refusing_pread(int fd, void *buf, size_t len, off_t offset, size_t *ret_read)
{
	if (offset < refused_to && offset + (off_t)len > refused_from)
		return -ENOMEM;
	return pread_full(fd, buf, len, offset, ret_read);
}

static void test_read_through_mapping(void **state)
{
	struct synth_vmcore spec = base_spec();
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	_cleanup_free_ uint8_t *buf = malloc(0x4000);
	const struct dump_segment *s = NULL;
	int fd, wronly;

	path = write_spec(&spec);
	assert_int_equal(dump_open(path, &d), 0);
	assert_false(d->procfs); /* a saved file */
	for (size_t i = 0; i < d->n_segments; i++)
		if (d->segments[i].phys_start == 0x100000)
			s = &d->segments[i];
	assert_non_null(s);
	/* paddr [2M, 2M+8K), in the [1M, 3M) segment */
	refused_from = (off_t)(s->file_offset + 0x100000);
	refused_to = refused_from + 0x2000;
	d->pread = refusing_pread;

	/* A saved file's read error stands: a mapping of it could SIGBUS instead. */
	assert_int_equal(dump_read_phys(d, 0x200000, buf, 4096), -ENOMEM);
	d->procfs = true;
	assert_int_equal(dump_read_phys(d, 0x200000, buf, 4096), 0);
	check_pattern(buf, 0x200000, 4096);
	/* unaligned, over both ends of the refused range */
	assert_int_equal(dump_read_phys(d, 0x1ffff3, buf, 0x2020), 0);
	check_pattern(buf, 0x1ffff3, 0x2020);
	assert_int_equal(dump_read_phys(d, 0x100000, buf, 4096), 0);
	check_pattern(buf, 0x100000, 4096);

	/* A mapping that fails too (no read access) keeps read()'s error. */
	wronly = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(wronly >= 0);
	fd = d->fd;
	d->fd = wronly;
	assert_int_equal(dump_read_phys(d, 0x200000, buf, 4096), -ENOMEM);
	d->fd = fd;
	close(wronly);
	unlink(path);
}

static void test_truncated(void **state)
{
	struct synth_vmcore spec = base_spec();
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;
	uint8_t buf[64];
	/* cut the file 8K into the [1M,3M) segment, which is second in the file */
	uint64_t cut = synth_segment_file_offset(&spec, 1) + 0x2000;

	spec.truncate_at = cut;
	path = write_spec(&spec);
	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	assert_true(dump_is_truncated(d));
	assert_int_equal(dump_nr_cpus(d), 3);
	assert_non_null(dump_vmcoreinfo(d));
	/* the first segment in the file is whole */
	assert_int_equal(dump_read_phys(d, 0x400000, buf, sizeof(buf)), 0);
	assert_int_equal(dump_read_phys(d, 0x101ff0, buf, 16), 0);
	check_pattern(buf, 0x101ff0, 16);
	assert_int_equal(dump_read_phys(d, 0x101ff0, buf, 32), -ENODATA);
	assert_int_equal(dump_read_phys(d, 0x200000, buf, 1), -ENODATA);
	/* a zero tail needs no file bytes */
	assert_int_equal(dump_read_phys(d, 0x805000, buf, 1), 0);
	assert_int_equal(dump_read_phys(d, 0x800000, buf, 1), -ENODATA);
	assert_int_equal(dump_read_phys(d, 0x900000, buf, 1), -ENOENT);
}

static void test_truncated_notes(void **state)
{
	struct synth_vmcore spec = base_spec();
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;

	/* cut inside the second CPU note: one CPU counted, no VMCOREINFO */
	spec.truncate_at = sizeof(Elf64_Ehdr) + 4 * sizeof(Elf64_Phdr) + 400;
	path = write_spec(&spec);
	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	assert_true(dump_is_truncated(d));
	assert_int_equal(dump_nr_cpus(d), 1);
	assert_null(dump_vmcoreinfo(d));
	assert_int_equal(dump_vmcoreinfo_note_offset(d, NULL, NULL), -ENOENT);
}

static void test_no_vmcoreinfo(void **state)
{
	struct synth_vmcore spec = base_spec();
	_cleanup_free_ char *path = NULL;
	_cleanup_dump_ struct dump *d = NULL;

	spec.vmcoreinfo = NULL;
	spec.nr_cpus = 0;
	path = write_spec(&spec);
	assert_int_equal(dump_open(path, &d), 0);
	unlink(path);
	assert_null(dump_vmcoreinfo(d));
	assert_int_equal(dump_nr_cpus(d), 0);
	assert_int_equal(dump_vmcoreinfo_note_offset(d, NULL, NULL), -ENOENT);
}

static void expect_enoexec(const struct synth_vmcore *spec)
{
	_cleanup_free_ char *path = write_spec(spec);
	struct dump *d = NULL;

	assert_int_equal(dump_open(path, &d), -ENOEXEC);
	assert_null(d);
	unlink(path);
}

static void test_not_a_core(void **state)
{
	struct synth_vmcore spec = base_spec();

	spec.elf_class = ELFCLASS32;
	expect_enoexec(&spec);
	spec = base_spec();
	spec.e_type = ET_EXEC;
	expect_enoexec(&spec);
	spec = base_spec();
	spec.e_machine = EM_AARCH64;
	expect_enoexec(&spec);
}

static void write_file(const char *path, const void *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write_full_fd(fd, data, len), 0);
}

static void test_not_elf(void **state)
{
	char path[] = "/tmp/crashcap-notelf-XXXXXX";
	struct dump *d = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	/* empty */
	assert_int_equal(dump_open(path, &d), -ENOEXEC);
	/* text */
	write_file(path, "this is not a vmcore\n", 21);
	assert_int_equal(dump_open(path, &d), -ENOEXEC);
	/* just the magic */
	write_file(path, "\177ELF", 4);
	assert_int_equal(dump_open(path, &d), -ENOEXEC);
	unlink(path);
	assert_int_equal(dump_open(path, &d), -ENOENT);
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_read_phys),
		cmocka_unit_test(test_read_through_mapping),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_truncated_notes),
		cmocka_unit_test(test_no_vmcoreinfo),
		cmocka_unit_test(test_not_a_core),
		cmocka_unit_test(test_not_elf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
