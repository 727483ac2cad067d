// SPDX-License-Identifier: GPL-2.0-or-later
#include "elfnote.h"
#include "vmcore-synth.h"

#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

/* Two notes back to back, then a page's worth of zero padding. */
static size_t build(uint8_t *buf, size_t cap)
{
	_cleanup_free_ void *a = NULL, *b = NULL;
	size_t asz, bsz;

	assert_int_equal(synth_note("CORE", NT_PRSTATUS, "abcde", 5, &a, &asz), 0);
	assert_int_equal(synth_note("VMCOREINFO", 0, "OSRELEASE=6.1\n", 14, &b, &bsz), 0);
	assert_true(asz + bsz <= cap);
	memset(buf, 0, cap);
	memcpy(buf, a, asz);
	memcpy(buf + asz, b, bsz);
	return asz + bsz;
}

static void test_walk(void **state)
{
	uint8_t buf[256];
	size_t used = build(buf, sizeof(buf)), off = 0;
	struct elf_note n;

	assert_int_equal(elf_note_next(buf, sizeof(buf), &off, &n), 1);
	assert_int_equal(n.type, NT_PRSTATUS);
	assert_int_equal(n.name_size, 5);
	assert_memory_equal(n.name, "CORE", 5);
	assert_int_equal(n.desc_size, 5);
	/* 12-byte header, "CORE\0" padded to 8 */
	assert_int_equal(n.desc_offset, 20);
	assert_memory_equal(n.desc, "abcde", 5);
	/* desc padded to 8 */
	assert_int_equal(off, 28);
	assert_true(elf_note_name_is(&n, "CORE"));
	assert_false(elf_note_name_is(&n, "COR"));
	assert_false(elf_note_name_is(&n, "CORE1"));

	assert_int_equal(elf_note_next(buf, sizeof(buf), &off, &n), 1);
	assert_true(elf_note_name_is(&n, "VMCOREINFO"));
	assert_int_equal(n.desc_offset, 28 + 12 + 12);
	assert_int_equal(n.desc_size, 14);
	assert_int_equal(off, used);

	/* zero padding ends the walk, and keeps ending it */
	assert_int_equal(elf_note_next(buf, sizeof(buf), &off, &n), 0);
	assert_int_equal(elf_note_next(buf, sizeof(buf), &off, &n), 0);
	/* exact end of buffer, no padding */
	off = 0;
	assert_int_equal(elf_note_next(buf, used, &off, &n), 1);
	assert_int_equal(elf_note_next(buf, used, &off, &n), 1);
	assert_int_equal(elf_note_next(buf, used, &off, &n), 0);
	/* empty buffer */
	off = 0;
	assert_int_equal(elf_note_next(buf, 0, &off, &n), 0);
}

static void test_find(void **state)
{
	uint8_t buf[256];
	size_t used = build(buf, sizeof(buf));
	struct elf_note n;

	assert_int_equal(elf_note_find(buf, used, "VMCOREINFO", &n), 0);
	assert_memory_equal(n.desc, "OSRELEASE=6.1\n", 14);
	assert_int_equal(elf_note_find(buf, used, "CORE", &n), 0);
	assert_int_equal(n.type, NT_PRSTATUS);
	assert_int_equal(elf_note_find(buf, sizeof(buf), "LINUX", &n), -ENOENT);
}

static void test_truncated(void **state)
{
	uint8_t buf[256];
	size_t used = build(buf, sizeof(buf)), off;
	struct elf_note n;

	/* the second note's descriptor is cut */
	off = 28;
	assert_int_equal(elf_note_next(buf, used - 4, &off, &n), -EBADMSG);
	/* a half header */
	off = 28;
	assert_int_equal(elf_note_next(buf, 28 + 6, &off, &n), -EBADMSG);
	/* name size running past the end */
	off = 28;
	assert_int_equal(elf_note_next(buf, 28 + 16, &off, &n), -EBADMSG);
	/* elf_note_find reports the damage rather than "not found" */
	assert_int_equal(elf_note_find(buf, used - 4, "VMCOREINFO", &n), -EBADMSG);
	/* a huge descsz must not wrap */
	memset(buf, 0, sizeof(buf));
	Elf64_Nhdr nh = { .n_namesz = 5, .n_descsz = 0xfffffff0, .n_type = 1 };
	memcpy(buf, &nh, sizeof(nh));
	memcpy(buf + 12, "CORE", 5);
	off = 0;
	assert_int_equal(elf_note_next(buf, sizeof(buf), &off, &n), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
