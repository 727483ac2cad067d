// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ELF output (-E), read back with libelf: PT_LOADs split where 256 or
 * more pages in a row are left out (as makedumpfile does), shorter runs
 * kept with their bytes, the notes verbatim, and every byte of the dumped
 * memory where it belongs.
 */
#include "collector/collect.h"
#include "dump.h"
#include "vmcore-synth.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>

#define START_KERNEL_MAP 0xffffffff80000000ULL
#define DIRECT_MAP 0xffff888000000000ULL

static const char vmcoreinfo_text[] = "OSRELEASE=6.1.0-elf\nPAGESIZE=4096\n";

/* Zero pages: 300 at pfn 0x200 (a split), 100 at 0x400 (kept), 256 at 0x5c0 (a split). */
static bool zero_pfn(uint64_t pfn)
{
	return (pfn >= 0x200 && pfn < 0x200 + 300) || (pfn >= 0x400 && pfn < 0x400 + 100) ||
	       (pfn >= 0x5c0 && pfn < 0x6c0);
}

static void fill(uint64_t paddr, void *buf, size_t len, void *userdata)
{
	uint8_t *p = buf;

	synth_pattern_fill(paddr, buf, len);
	for (size_t off = 0; off < len; off += 4096)
		if (zero_pfn((paddr + off) / 4096))
			memset(p + off, 0, MIN((size_t)4096, len - off));
}

struct fixture {
	char *vmcore;
	char out[64];
	struct synth_segment segs[3];
	struct synth_vmcore spec;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	/* RAM 0x100..0x700, the kernel image again inside it, 64 pages with no data */
	f->segs[0] = (struct synth_segment){ .phys_start = 0x100000,
					     .mem_size = 0x600 * 4096,
					     .virt_start = DIRECT_MAP + 0x100000,
					     .fill = fill };
	f->segs[1] = (struct synth_segment){ .phys_start = 0x180000,
					     .mem_size = 16 * 4096,
					     .virt_start = START_KERNEL_MAP + 0x180000 };
	f->segs[2] = (struct synth_segment){ .phys_start = 0x800000,
					     .mem_size = 64 * 4096,
					     .virt_start = DIRECT_MAP + 0x800000,
					     .file_size = SYNTH_NO_FILE_DATA };
	f->spec = (struct synth_vmcore){
		.vmcoreinfo = vmcoreinfo_text,
		.nr_cpus = 3,
		.segments = f->segs,
		.n_segments = 3,
	};
	assert_int_equal(synth_vmcore_tmpfile(&f->spec, &f->vmcore), 0);
	snprintf(f->out, sizeof(f->out), "/tmp/test-output-elf.%d", getpid());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->vmcore);
	free(f->vmcore);
	unlink(f->out);
	free(f);
	return 0;
}

static int collect(struct fixture *f, int level, struct collect_result *res)
{
	struct collect_options o = {
		.vmcore_path = f->vmcore,
		.output_path = f->out,
		.format = COLLECT_FORMAT_ELF,
		.dump_level = level,
		.threads = 3,
	};

	return collect_dump(&o, res);
}

struct load {
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* The output's program headers through libelf: the PT_NOTE, then the PT_LOADs. */
static size_t read_phdrs(const char *path, GElf_Phdr *note, struct load *loads, size_t max)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	GElf_Ehdr eh;
	size_t phnum, n = 0;

	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	assert_non_null(gelf_getehdr(e, &eh));
	assert_int_equal(eh.e_type, ET_CORE);
	assert_int_equal(eh.e_machine, EM_X86_64);
	assert_int_equal(elf_getphdrnum(e, &phnum), 0);
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;

		assert_non_null(gelf_getphdr(e, i, &ph));
		if (i == 0) {
			assert_int_equal(ph.p_type, PT_NOTE);
			*note = ph;
			continue;
		}
		assert_int_equal(ph.p_type, PT_LOAD);
		assert_true(n < max);
		loads[n++] = (struct load){ ph.p_offset, ph.p_vaddr, ph.p_paddr, ph.p_filesz,
					    ph.p_memsz };
	}
	elf_end(e);
	close(fd);
	return n;
}

static void check_load(const struct load *l, uint64_t vaddr, uint64_t paddr, uint64_t filesz,
		       uint64_t memsz)
{
	assert_int_equal(l->paddr, paddr);
	assert_int_equal(l->vaddr, vaddr);
	assert_int_equal(l->filesz, filesz);
	assert_int_equal(l->memsz, memsz);
	/* empty pieces too: crash reads the first PT_LOAD's offset as the headers' size */
	assert_int_equal(l->offset % 4096, 0);
	assert_true(l->offset >= 4096);
}

/* Every page of the output reads as the vmcore's memory, zeros where left out. */
static void check_memory(struct fixture *f)
{
	_cleanup_dump_ struct dump *d = NULL;
	uint8_t page[4096], want[4096];

	assert_int_equal(dump_open(f->out, &d), 0);
	for (uint64_t pfn = 0x100; pfn < 0x700; pfn++) {
		assert_int_equal(dump_read_phys(d, pfn * 4096, page, 4096), 0);
		fill(pfn * 4096, want, 4096, NULL);
		assert_memory_equal(page, want, 4096);
	}
	assert_int_equal(dump_read_phys(d, 0x800000, page, 4096), 0);
	memset(want, 0, sizeof(want));
	assert_memory_equal(page, want, 4096);
	assert_int_equal(dump_read_phys(d, 0x700000, page, 4096), -ENOENT);
}

static void test_level1(void **state)
{
	struct fixture *f = *state;
	struct collect_result res;
	struct load l[8];
	GElf_Phdr note;
	_cleanup_dump_ struct dump *in = NULL, *out = NULL;
	const void *notes;
	size_t notes_size, n;
	struct stat st;

	assert_int_equal(collect(f, 1, &res), 0);
	assert_false(res.incomplete);
	assert_int_equal(res.write_error, 0);
	assert_int_equal(res.dump_level, 1);
	assert_string_equal(res.release, "6.1.0-elf");
	assert_int_equal(res.pages_total, 0x600 + 64);
	assert_int_equal(res.pages_nodata, 64);
	assert_int_equal(res.pages_zero, 300 + 100 + 256);
	assert_int_equal(stat(f->out, &st), 0);
	assert_int_equal(res.output_bytes, st.st_size);
	assert_int_equal(st.st_mode & 0777, 0600);

	n = read_phdrs(f->out, &note, l, ELEMENTSOF(l));
	assert_int_equal(n, 5);
	/* the 300 zero pages end the first piece as memory without bytes */
	check_load(&l[0], DIRECT_MAP + 0x100000, 0x100000, 0x100 * 4096, (0x100 + 300) * 4096);
	/* the 100 zero pages stay; the 256 from 0x5c0 end the second piece */
	check_load(&l[1], DIRECT_MAP + 0x32c000, 0x32c000, (0x5c0 - 0x32c) * 4096,
		   (0x6c0 - 0x32c) * 4096);
	check_load(&l[2], DIRECT_MAP + 0x6c0000, 0x6c0000, 0x40 * 4096, 0x40 * 4096);
	check_load(&l[3], START_KERNEL_MAP + 0x180000, 0x180000, 16 * 4096, 16 * 4096);
	/* no data at all: one PT_LOAD with no bytes, at the end of the data */
	check_load(&l[4], DIRECT_MAP + 0x800000, 0x800000, 0, 64 * 4096);
	assert_int_equal(l[4].offset, l[3].offset + l[3].filesz);
	assert_int_equal(res.pages_written, 0x100 + (0x5c0 - 0x32c) + 0x40 + 16);
	/* pieces follow each other in the file */
	assert_int_equal(l[1].offset, l[0].offset + l[0].filesz);
	assert_int_equal(l[3].offset, l[2].offset + l[2].filesz);
	assert_int_equal(st.st_size, l[3].offset + l[3].filesz);

	assert_int_equal(dump_open(f->vmcore, &in), 0);
	notes = dump_notes(in, &notes_size);
	assert_int_equal(note.p_filesz, notes_size);
	assert_int_equal(dump_open(f->out, &out), 0);
	assert_int_equal(dump_nr_cpus(out), 3);
	assert_string_equal(vmcoreinfo_osrelease(dump_vmcoreinfo(out)), "6.1.0-elf");
	{
		size_t got;

		assert_memory_equal(dump_notes(out, &got), notes, notes_size);
		assert_int_equal(got, notes_size);
	}
	check_memory(f);
}

/* Level 0: the PT_LOADs as they were, every byte. */
static void test_level0(void **state)
{
	struct fixture *f = *state;
	struct collect_result res;
	struct load l[8];
	GElf_Phdr note;

	assert_int_equal(collect(f, 0, &res), 0);
	assert_int_equal(res.pages_zero, 0);
	assert_int_equal(read_phdrs(f->out, &note, l, ELEMENTSOF(l)), 3);
	check_load(&l[0], DIRECT_MAP + 0x100000, 0x100000, 0x600 * 4096, 0x600 * 4096);
	check_load(&l[1], START_KERNEL_MAP + 0x180000, 0x180000, 16 * 4096, 16 * 4096);
	check_load(&l[2], DIRECT_MAP + 0x800000, 0x800000, 0, 64 * 4096);
	assert_int_equal(res.pages_written, 0x600 + 16);
	check_memory(f);
}

/* A full disk: what was written stays, the result says where it stopped. */
static void test_write_error(void **state)
{
	struct fixture *f = *state;
	struct collect_result res;
	struct rlimit old, lim;
	int r;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 4096;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = collect(f, 1, &res);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, 0);
	assert_int_equal(res.write_error, -EFBIG);
	assert_true(res.incomplete);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_level1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
