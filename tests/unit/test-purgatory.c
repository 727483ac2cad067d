// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The purgatory blob built into the programs: where its entry and
 * parameter block are, what the loader patches, and its limits. The code
 * itself runs only between two kernels (QEMU tests); its SHA-256 runs on
 * the host in test-sha256.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "loader/purgatory.h"
#include "loader/sha256.h"

static void test_blob_layout(void **state)
{
	size_t size;
	const uint8_t *blob = purgatory_blob(&size);
	struct purgatory_params p;

	/* Small: code, tables, a 4 KiB stack; and the entry is a jump over the block. */
	assert_true(size > PURGATORY_PARAMS_OFFSET + PURGATORY_PARAMS_SIZE + 4096);
	assert_true(size <= 3 * 4096);
	assert_int_equal(size % 16, 0);
	assert_int_equal(blob[0], 0xe9); /* jmp rel32 */
	assert_memory_equal(blob + PURGATORY_PARAMS_OFFSET, "CRASHCAP", 8);

	assert_int_equal(purgatory_check(blob, size), 0);
	assert_int_equal(purgatory_get_params(blob, size, &p), 0);
	assert_int_equal(p.magic, PURGATORY_MAGIC);
	assert_int_equal(p.version, 1);
	assert_int_equal(p.size, PURGATORY_PARAMS_SIZE);
	assert_int_equal(p.kernel_entry, 0);
	assert_int_equal(p.boot_params, 0);
	assert_int_equal(p.nr_regions, 0);
	assert_int_equal(p.flags, 0);

	/* What it says when it refuses, on COM1 */
	assert_non_null(memmem(blob, size, "crashcap purgatory: SHA-256 mismatch in region ",
			       strlen("crashcap purgatory: SHA-256 mismatch in region ")));
	assert_non_null(memmem(blob, size, "not starting the kernel; halted",
			       strlen("not starting the kernel; halted")));
	/* The test-only exit: mov $PURGATORY_TEST_EXIT_CODE, %al; out %al, $0xf4. */
	assert_non_null(memmem(blob, size,
			       (const uint8_t[]){ 0xb0, PURGATORY_TEST_EXIT_CODE, 0xe6,
						  PURGATORY_TEST_EXIT_PORT },
			       4));
}

static void test_patch(void **state)
{
	_cleanup_free_ uint8_t *img = NULL;
	static uint8_t data[PURGATORY_MAX_REGIONS][100];
	struct purgatory_params p;
	size_t size, blob_size;
	const uint8_t *blob = purgatory_blob(&blob_size);

	assert_int_equal(purgatory_new(&img, &size), 0);
	assert_int_equal(size, blob_size);
	for (unsigned i = 0; i < PURGATORY_MAX_REGIONS; i++) {
		memset(data[i], i, sizeof(data[i]));
		assert_int_equal(
			purgatory_add_region(img, 0x20000000 + i * 0x1000, data[i], 50 + i), 0);
	}
	assert_int_equal(purgatory_add_region(img, 0x30000000, data[0], 1), -E2BIG);
	purgatory_set_entry(img, 0x20200200, 0x24299000, PURGATORY_FLAG_VERBOSE);

	assert_int_equal(purgatory_get_params(img, size, &p), 0);
	assert_int_equal(p.nr_regions, PURGATORY_MAX_REGIONS);
	assert_int_equal(p.kernel_entry, 0x20200200);
	assert_int_equal(p.boot_params, 0x24299000);
	assert_int_equal(p.flags, PURGATORY_FLAG_VERBOSE);
	for (unsigned i = 0; i < PURGATORY_MAX_REGIONS; i++) {
		uint8_t d[32];

		sha256(data[i], 50 + i, d);
		assert_int_equal(p.regions[i].start, 0x20000000 + i * 0x1000);
		assert_int_equal(p.regions[i].len, 50 + i);
		assert_memory_equal(p.regions[i].sha256, d, 32);
	}
	/* the raw bytes at the offsets the assembly uses */
	assert_int_equal(*(uint64_t *)(img + PURGATORY_PARAMS_OFFSET + PURGATORY_P_ENTRY),
			 0x20200200);
	assert_int_equal(*(uint32_t *)(img + PURGATORY_PARAMS_OFFSET + PURGATORY_P_NR_REGIONS), 16);
	assert_int_equal(*(uint64_t *)(img + PURGATORY_PARAMS_OFFSET + PURGATORY_P_REGIONS +
				       3 * PURGATORY_REGION_SIZE + PURGATORY_R_LEN),
			 53);

	/* the code and everything outside the block is untouched */
	assert_memory_equal(img, blob, PURGATORY_PARAMS_OFFSET);
	assert_memory_equal(img + PURGATORY_PARAMS_OFFSET + PURGATORY_PARAMS_SIZE,
			    blob + PURGATORY_PARAMS_OFFSET + PURGATORY_PARAMS_SIZE,
			    size - PURGATORY_PARAMS_OFFSET - PURGATORY_PARAMS_SIZE);

	assert_int_equal(purgatory_corrupt_digest(img, 16), -ENOENT);
	assert_int_equal(purgatory_corrupt_digest(img, 15), 0);
	assert_int_equal(purgatory_get_params(img, size, &p), 0);
	{
		uint8_t d[32];

		sha256(data[15], 65, d);
		assert_int_equal(p.regions[15].sha256[0], d[0] ^ 1);
		assert_memory_equal(p.regions[15].sha256 + 1, d + 1, 31);
	}
}

static void test_check_refuses(void **state)
{
	_cleanup_free_ uint8_t *img = NULL;
	size_t size;

	assert_int_equal(purgatory_new(&img, &size), 0);
	assert_int_equal(purgatory_check(img, PURGATORY_PARAMS_OFFSET + PURGATORY_PARAMS_SIZE - 1),
			 -EINVAL);
	assert_int_equal(purgatory_check(NULL, size), -EINVAL);
	img[PURGATORY_PARAMS_OFFSET + PURGATORY_P_VERSION] = 2;
	assert_int_equal(purgatory_check(img, size), -EINVAL);
	img[PURGATORY_PARAMS_OFFSET + PURGATORY_P_VERSION] = 1;
	img[PURGATORY_PARAMS_OFFSET + PURGATORY_P_NR_REGIONS] = 17;
	assert_int_equal(purgatory_check(img, size), -EINVAL);
	img[PURGATORY_PARAMS_OFFSET + PURGATORY_P_NR_REGIONS] = 0;
	img[PURGATORY_PARAMS_OFFSET] = 'c';
	assert_int_equal(purgatory_check(img, size), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_layout),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_check_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
