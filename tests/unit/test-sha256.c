// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SHA-256: NIST FIPS 180-4 example vectors for the loader's C version, and
 * the purgatory's assembly version (purgatory/sha256.S, the same object
 * that goes into the blob) run on the host against it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "loader/sha256.h"

/* purgatory/sha256.S: SysV-callable, so the tests can run it directly. */
void purgatory_sha256(const void *data, uint64_t len, uint8_t out[32]);

struct vector {
	const char *msg;
	size_t repeat;
	const char *hex;
};

static const struct vector nist[] = {
	{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
	  "rlmnopqrsmnopqrstnopqrstu",
	  1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
};

static uint8_t *expand(const struct vector *v, size_t *ret_len)
{
	size_t n = strlen(v->msg), len = n * v->repeat;
	uint8_t *buf = malloc(len + 1);

	assert_non_null(buf);
	for (size_t i = 0; i < v->repeat; i++)
		memcpy(buf + i * n, v->msg, n);
	*ret_len = len;
	return buf;
}

static void test_nist_one_shot(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(nist); i++) {
		uint8_t d[SHA256_DIGEST_SIZE];
		char hex[65];
		size_t len;
		_cleanup_free_ uint8_t *msg = expand(&nist[i], &len);

		sha256(msg, len, d);
		assert_string_equal(sha256_hex(d, hex), nist[i].hex);
	}
}

static void test_nist_incremental(void **state)
{
	/* Odd chunk sizes cross the block boundary in every possible way. */
	static const size_t chunks[] = { 1, 3, 63, 64, 65, 127, 1000 };

	for (size_t c = 0; c < ELEMENTSOF(chunks); c++)
		for (size_t i = 0; i < ELEMENTSOF(nist); i++) {
			struct sha256_ctx ctx;
			uint8_t d[SHA256_DIGEST_SIZE];
			char hex[65];
			size_t len;
			_cleanup_free_ uint8_t *msg = expand(&nist[i], &len);

			sha256_init(&ctx);
			for (size_t at = 0; at < len; at += chunks[c])
				sha256_update(&ctx, msg + at, MIN(chunks[c], len - at));
			sha256_final(&ctx, d);
			assert_string_equal(sha256_hex(d, hex), nist[i].hex);
		}
}

static void test_purgatory_nist(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(nist); i++) {
		uint8_t d[SHA256_DIGEST_SIZE];
		char hex[65];
		size_t len;
		_cleanup_free_ uint8_t *msg = expand(&nist[i], &len);

		purgatory_sha256(msg, len, d);
		assert_string_equal(sha256_hex(d, hex), nist[i].hex);
	}
}

static void test_purgatory_matches_loader(void **state)
{
	/* Every tail length around one and two padding blocks, and a few big inputs. */
	size_t max = 1 << 20;
	_cleanup_free_ uint8_t *buf = malloc(max);
	uint32_t x = 0x12345678;

	assert_non_null(buf);
	for (size_t i = 0; i < max; i++) {
		x = x * 1103515245 + 12345;
		buf[i] = x >> 24;
	}
	for (size_t len = 0; len <= 300; len++) {
		uint8_t a[32], b[32];

		sha256(buf, len, a);
		purgatory_sha256(buf, len, b);
		assert_memory_equal(a, b, 32);
	}
	for (size_t len = 4095; len <= max; len = len * 3 + 1) {
		uint8_t a[32], b[32];

		sha256(buf + 1, len - 1, a); /* unaligned start */
		purgatory_sha256(buf + 1, len - 1, b);
		assert_memory_equal(a, b, 32);
	}
}

static void test_one_bit_changes_digest(void **state)
{
	uint8_t msg[100] = { 0 }, a[32], b[32];

	sha256(msg, sizeof(msg), a);
	msg[57] ^= 0x10;
	sha256(msg, sizeof(msg), b);
	assert_memory_not_equal(a, b, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nist_one_shot),
		cmocka_unit_test(test_nist_incremental),
		cmocka_unit_test(test_purgatory_nist),
		cmocka_unit_test(test_purgatory_matches_loader),
		cmocka_unit_test(test_one_bit_changes_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
