// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The elfcorehdr: collected from fixture roots, built, and read back with
 * libelf program header by program header. The QEMU fixture is the guest
 * whose vmcore the kernel's own kexec_file_load path produced: our PT_LOADs
 * must be exactly the ones that vmcore has.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>

#include "loader/elfcorehdr.h"

#define QEMU "tests/fixtures/kexec/qemu-1g"
#define NUMA "tests/fixtures/kexec/numa-high-low"
#define MANY "tests/fixtures/kexec/many-e820"

struct phdr {
	uint32_t type;
	uint64_t vaddr, paddr, size;
};

/* Reads buf back with libelf and compares every program header with want. */
static void assert_phdrs(uint8_t *buf, size_t size, const struct phdr *want, size_t n)
{
	Elf *e;
	GElf_Ehdr eh;
	size_t phnum;

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory((char *)buf, size);
	assert_non_null(e);
	assert_int_equal(elf_kind(e), ELF_K_ELF);
	assert_int_equal(gelf_getclass(e), ELFCLASS64);
	assert_non_null(gelf_getehdr(e, &eh));
	assert_int_equal(eh.e_type, ET_CORE);
	assert_int_equal(eh.e_machine, EM_X86_64);
	assert_int_equal(eh.e_ident[EI_DATA], ELFDATA2LSB);
	assert_int_equal(eh.e_phoff, 64);
	assert_int_equal(elf_getphdrnum(e, &phnum), 0);
	assert_int_equal(phnum, n);
	assert_int_equal(size, 64 + n * 56);
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		assert_non_null(gelf_getphdr(e, i, &ph));
		if (ph.p_type != want[i].type || ph.p_paddr != want[i].paddr ||
		    ph.p_offset != want[i].paddr || ph.p_filesz != want[i].size ||
		    ph.p_memsz != want[i].size || ph.p_vaddr != want[i].vaddr)
			fail_msg("phdr %zu: got type %u vaddr 0x%lx paddr 0x%lx offset 0x%lx size "
				 "0x%lx/0x%lx; want type %u vaddr 0x%lx paddr 0x%lx size 0x%lx",
				 i, ph.p_type, ph.p_vaddr, ph.p_paddr, ph.p_offset, ph.p_filesz,
				 ph.p_memsz, want[i].type, want[i].vaddr, want[i].paddr,
				 want[i].size);
		if (ph.p_type == PT_LOAD)
			assert_int_equal(ph.p_flags, PF_R | PF_W | PF_X);
	}
	elf_end(e);
}

static void test_qemu_same_as_kernel(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_free_ char *error = NULL;
	size_t size;

	assert_int_equal(crash_memory_read(QEMU, &m), 0);
	assert_int_equal(elfcorehdr_collect(QEMU, &m, &info, &error), 0);
	assert_null(error);
	assert_int_equal(info.n_notes, 2);
	assert_int_equal(info.notes[1].cpu, 1);
	assert_int_equal(info.vmcoreinfo_addr, 0x3361d000);
	assert_int_equal(info.vmcoreinfo_size, 0x1024);
	assert_int_equal(info.page_offset, 0xff31ce5580000000);
	assert_true(info.five_level);
	assert_int_equal(info.hotplug_size, 0);

	assert_int_equal(elfcorehdr_build(&info, &buf, &size), 0);
	assert_phdrs(buf, size,
		     (struct phdr[]){
			     { PT_NOTE, 0, 0x3e817c40, 380 },
			     { PT_NOTE, 0, 0x3e917c40, 380 },
			     { PT_NOTE, 0, 0x3361d000, 0x1024 },
			     /* these three are the vmcore's from the kernel's own path */
			     { PT_LOAD, 0xffffffff90400000, 0x30200000, 0x3430000 },
			     { PT_LOAD, 0xff31ce5580100000, 0x100000, 0x1ff00000 },
			     { PT_LOAD, 0xff31ce55b0000000, 0x30000000, 0xffdd000 },
		     },
		     6);
	assert_int_equal(elfcorehdr_memsz(&info, size, false), 4096);
	assert_int_equal(elfcorehdr_memsz(&info, size, true), 4096); /* no hotplug in 6.1 */
}

static void test_numa_high_low_hotplug(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	_cleanup_free_ uint8_t *buf = NULL;
	const uint64_t po = 0xffff9b8a40000000;
	size_t size;

	assert_int_equal(crash_memory_read(NUMA, &m), 0);
	assert_int_equal(elfcorehdr_collect(NUMA, &m, &info, NULL), 0);
	/* 8 possible CPUs, 6 present: the other two have no device and no notes */
	assert_int_equal(info.n_notes, 6);
	assert_false(info.five_level);
	assert_int_equal(info.hotplug_size, (2 + 8192 + 8192) * 56);

	assert_int_equal(elfcorehdr_build(&info, &buf, &size), 0);
	assert_phdrs(buf, size,
		     (struct phdr[]){
			     { PT_NOTE, 0, 0x87e01a740, 380 },
			     { PT_NOTE, 0, 0x87e05a740, 380 },
			     { PT_NOTE, 0, 0x87e09a740, 380 },
			     { PT_NOTE, 0, 0x87e0da740, 380 },
			     { PT_NOTE, 0, 0x87e11a740, 380 },
			     { PT_NOTE, 0, 0x87e15a740, 380 },
			     { PT_NOTE, 0, 0x87da1c000, 0x1024 },
			     { PT_LOAD, 0xffffffffa7a00000, 0x1d400000, 0x2c30000 },
			     /* System RAM minus the low 1 MiB and both crash ranges */
			     { PT_LOAD, po + 0x100000, 0x100000, 0x5df00000 },
			     { PT_LOAD, po + 0x6e000000, 0x6e000000, 0x9f8018 },
			     { PT_LOAD, po + 0x6e9f8018, 0x6e9f8018, 0x10040 },
			     { PT_LOAD, po + 0x6ea08058, 0x6ea08058, 0x3076fa8 },
			     { PT_LOAD, po + 0x723ff000, 0x723ff000, 0x1000 },
			     { PT_LOAD, po + 0x100000000, 0x100000000, 0x780000000 },
			     { PT_LOAD, po + 0x880000000, 0x880000000, 0x7c0000000 },
			     { PT_LOAD, po + 0x1060000000, 0x1060000000, 0x1f380000 },
		     },
		     16);
	/* Room for the largest header the kernel may write: ELF header + 16386 phdrs. */
	assert_int_equal(elfcorehdr_memsz(&info, size, true), 0xe1000);
	assert_int_equal(elfcorehdr_memsz(&info, size, false), 4096);
}

static void test_many_ranges(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	_cleanup_free_ uint8_t *buf = NULL;
	size_t size, phnum;
	Elf *e;
	GElf_Phdr ph;

	assert_int_equal(crash_memory_read(MANY, &m), 0);
	assert_int_equal(elfcorehdr_collect(MANY, &m, &info, NULL), 0);
	/* the low range is all below 1 MiB: 2 pieces around the reservation + 150 */
	assert_int_equal(info.ram.count, 152);
	assert_int_equal(elfcorehdr_build(&info, &buf, &size), 0);

	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory((char *)buf, size);
	assert_non_null(e);
	assert_int_equal(elf_getphdrnum(e, &phnum), 0);
	assert_int_equal(phnum, 4 + 1 + 1 + 152);
	for (size_t i = 0; i < 150; i++) {
		uint64_t start = 0x40000000ULL + i * 0x4000000ULL;

		assert_non_null(gelf_getphdr(e, 8 + i, &ph));
		assert_int_equal(ph.p_type, PT_LOAD);
		assert_int_equal(ph.p_paddr, start);
		assert_int_equal(ph.p_memsz, 0x3c00000);
		assert_int_equal(ph.p_vaddr, 0xffff888000000000 + start);
	}
	elf_end(e);
	assert_int_equal(elfcorehdr_memsz(&info, size, false), ALIGN_UP(64 + 158 * 56, 4096));
}

static void test_cpu_list(void **state)
{
	_cleanup_free_ unsigned *cpus = NULL;
	size_t n;
	static const char *const bad[] = { "",	 "\n", "a",   "3-1",	   "1,",
					   "1-", "-1", "1 2", "0-99999999" };

	assert_int_equal(elfcorehdr_parse_cpu_list("0", &cpus, &n), 0);
	assert_int_equal(n, 1);
	free(cpus);
	cpus = NULL;
	assert_int_equal(elfcorehdr_parse_cpu_list("0-3,8,10-11\n", &cpus, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(cpus[4], 8);
	assert_int_equal(cpus[6], 11);
	free(cpus);
	cpus = NULL;
	assert_int_equal(elfcorehdr_parse_cpu_list("0-199", &cpus, &n), 0);
	assert_int_equal(n, 200);
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		unsigned *c = NULL;

		assert_int_equal(elfcorehdr_parse_cpu_list(bad[i], &c, &n), -EINVAL);
		assert_null(c);
	}
}

/* A scratch root with the files a test names; removed by the caller with rm -rf. */
static void put(const char *root, const char *path, const void *data, size_t len)
{
	_cleanup_free_ char *full = NULL;
	FILE *f;

	assert_true(asprintf(&full, "%s%s", root, path) > 0);
	for (char *s = full + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(full, 0755);
		*s = '/';
	}
	f = fopen(full, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

#define PUTS(root, path, s) put((root), (path), (s), strlen(s))

static void collect_error(const char *root, const struct crash_memory *m, int want_r,
			  const char *want_message)
{
	_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};
	_cleanup_free_ char *error = NULL;

	assert_int_equal(elfcorehdr_collect(root, m, &info, &error), want_r);
	assert_non_null(error);
	assert_string_equal(error, want_message);
	assert_int_equal(info.n_notes, 0); /* ret untouched */
}

static void test_errors(void **state)
{
	_cleanup_(crash_memory_done) struct crash_memory m = {};
	_cleanup_free_ char *kcore = NULL, *cmd = NULL;
	char root[] = "/tmp/crashcap-elfcorehdr-XXXXXX";
	size_t kcore_size;

	assert_int_equal(crash_memory_read(QEMU, &m), 0);
	assert_int_equal(read_full_file(QEMU "/proc/kcore", 1 << 20, &kcore, &kcore_size), 0);
	assert_non_null(mkdtemp(root));

	collect_error(root, &m, -ENOENT,
		      "cannot read /sys/devices/system/cpu/possible: No such file or directory");
	PUTS(root, "/sys/devices/system/cpu/possible", "0-x\n");
	collect_error(root, &m, -EINVAL, "cannot parse /sys/devices/system/cpu/possible: \"0-x\"");
	PUTS(root, "/sys/devices/system/cpu/possible", "0-1\n");
	collect_error(root, &m, -ENOENT,
		      "no CPU has crash_notes in /sys/devices/system/cpu: is the kernel built "
		      "with CONFIG_CRASH_DUMP?");
	PUTS(root, "/sys/devices/system/cpu/cpu0/crash_notes", "3e817c40\n");
	collect_error(root, &m, -ENOENT,
		      "cannot read /sys/devices/system/cpu/cpu0/crash_notes_size: No such file or "
		      "directory (a kernel too old to export it?)");
	PUTS(root, "/sys/devices/system/cpu/cpu0/crash_notes_size", "0\n");
	collect_error(root, &m, -EINVAL, "CPU 0 has no crash notes buffer");
	PUTS(root, "/sys/devices/system/cpu/cpu0/crash_notes_size", "380\n");
	collect_error(root, &m, -ENOENT,
		      "cannot read /sys/kernel/vmcoreinfo: No such file or directory");
	PUTS(root, "/sys/kernel/vmcoreinfo", "0x3361d000\n");
	collect_error(root, &m, -EINVAL, "cannot read /sys/kernel/vmcoreinfo: Invalid argument");
	PUTS(root, "/sys/kernel/vmcoreinfo", "0x0 1024\n");
	collect_error(root, &m, -EINVAL, "/sys/kernel/vmcoreinfo names no VMCOREINFO note");
	PUTS(root, "/sys/kernel/vmcoreinfo", "0x000000003361d000 1024\n");
	collect_error(root, &m, -ENOENT,
		      "cannot open /proc/kcore: No such file or directory (it gives the kernel's "
		      "mapping)");
	put(root, "/proc/kcore", kcore, 63);
	collect_error(root, &m, -EINVAL, "/proc/kcore is not the ELF64 core file expected");
	/* only the PT_NOTE and the text: no RAM, so no PAGE_OFFSET */
	put(root, "/proc/kcore", kcore, 64 + 2 * 56);
	{
		uint8_t k2[64 + 2 * 56];

		memcpy(k2, kcore, sizeof(k2));
		k2[56] = 2; /* e_phnum */
		put(root, "/proc/kcore", k2, sizeof(k2));
		collect_error(root, &m, -ENODATA,
			      "/proc/kcore maps no RAM: cannot tell PAGE_OFFSET");
		memcpy(k2 + 64 + 56 + 24, &(uint64_t){ UINT64_MAX }, 8); /* text p_paddr = -1 */
		put(root, "/proc/kcore", k2, sizeof(k2));
		collect_error(root, &m, -ENODATA,
			      "/proc/kcore has no kernel text with its physical address (a kernel "
			      "too old to export it?)");
	}
	put(root, "/proc/kcore", kcore, kcore_size);

	/* All RAM inside the reservation: nothing to dump. */
	{
		struct crash_memory tiny = { .crash = { 0x100000, 0x3fffffff } };

		assert_int_equal(mem_ranges_add(&tiny.ram, 0x1000, 0x9ffff), 0);
		assert_int_equal(mem_ranges_add(&tiny.ram, 0x100000, 0x3fffffff), 0);
		collect_error(root, &tiny, -EINVAL,
			      "no System RAM outside the crash kernel range to dump");
		crash_memory_done(&tiny);
	}

	PUTS(root, "/sys/kernel/crash_elfcorehdr_size", "lots\n");
	collect_error(root, &m, -EINVAL,
		      "cannot read /sys/kernel/crash_elfcorehdr_size: Invalid argument");
	PUTS(root, "/sys/kernel/crash_elfcorehdr_size", "0x1000\n");
	{
		_cleanup_(elfcorehdr_info_done) struct elfcorehdr_info info = {};

		assert_int_equal(elfcorehdr_collect(root, &m, &info, NULL), 0);
		assert_int_equal(info.n_notes, 1);
		assert_int_equal(info.hotplug_size, 0x1000);
	}

	assert_true(asprintf(&cmd, "rm -rf '%s'", root) > 0);
	assert_int_equal(system(cmd), 0);
}

static void test_build_without_text(void **state)
{
	struct crash_cpu_note note = { 0, 0x1000, 0x100 };
	struct mem_range r = { 0x100000, 0x1ffffff };
	struct elfcorehdr_info info = {
		.notes = &note,
		.n_notes = 1,
		.vmcoreinfo_addr = 0x2000,
		.vmcoreinfo_size = 0x1024,
		.page_offset = 0xffff888000000000,
		.ram = { .ranges = &r, .count = 1 },
	};
	_cleanup_free_ uint8_t *buf = NULL;
	size_t size;

	assert_int_equal(elfcorehdr_build(&info, &buf, &size), 0);
	assert_phdrs(buf, size,
		     (struct phdr[]){
			     { PT_NOTE, 0, 0x1000, 0x100 },
			     { PT_NOTE, 0, 0x2000, 0x1024 },
			     { PT_LOAD, 0xffff888000100000, 0x100000, 0x1f00000 },
		     },
		     3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_same_as_kernel),
		cmocka_unit_test(test_numa_high_low_hotplug),
		cmocka_unit_test(test_many_ranges),
		cmocka_unit_test(test_cpu_list),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_build_without_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
