// SPDX-License-Identifier: GPL-2.0-or-later
/* util.h helpers, the JSON writer and the root-relative readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "json.h"
#include "rootfs.h"
#include "util.h"

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("1G", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("512KiB", &v), 0);
	assert_int_equal(v, 512ULL << 10);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("-1M", &v), -EINVAL);
	assert_int_equal(parse_size("12X", &v), -EINVAL);
	assert_int_equal(parse_size("1Mx", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("0x10", 0, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_u64("ffffffff81000000", 16, &v), 0);
	assert_true(v == 0xffffffff81000000ULL);
	assert_int_equal(parse_u64("12 ", 10, &v), -EINVAL);
	assert_int_equal(parse_u64(" 12", 10, &v), -EINVAL);
	assert_int_equal(parse_u64("-3", 10, &v), -EINVAL);
}

static void test_format_size(void **state)
{
	char buf[32];

	assert_string_equal(format_size(512, buf, sizeof(buf)), "512 B");
	assert_string_equal(format_size(3ULL << 29, buf, sizeof(buf)), "1.5 GiB");
}

static void test_strstrip(void **state)
{
	char s[] = "  \tkey = value \n";

	assert_string_equal(strstrip(s), "key = value");
}

static void test_json(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_begin(&j, f, false);
	json_object_open(&j, NULL);
	json_string(&j, "s", "a\"b\\c\n\x01");
	json_u64(&j, "n", 18446744073709551615ULL);
	json_bool(&j, "t", true);
	json_array_open(&j, "a");
	json_i64(&j, NULL, -1);
	json_null(&j, NULL);
	json_array_close(&j);
	json_object_close(&j);
	assert_int_equal(json_end(&j), 0);
	fclose(f);
	assert_string_equal(buf, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":18446744073709551615,"
				 "\"t\":true,\"a\":[-1,null]}\n");
	free(buf);
}

static void test_json_unbalanced(void **state)
{
	FILE *f = fopen("/dev/null", "w");
	struct json j;

	json_begin(&j, f, true);
	json_object_open(&j, NULL);
	assert_int_equal(json_end(&j), -EINVAL);
	fclose(f);
}

static void test_rootfs(void **state)
{
	char tmpl[] = "/tmp/crashcap-rootfs-XXXXXX";
	char *root = mkdtemp(tmpl);
	_cleanup_free_ char *p = NULL, *line = NULL;
	uint64_t v;
	FILE *f;

	assert_non_null(root);
	assert_int_equal(root_path(root, "/sys", &p), 0);
	assert_int_equal(asprintf(&line, "mkdir -p %s/sys/kernel", root) > 0, 1);
	assert_int_equal(system(line), 0);
	free(line);
	line = NULL;
	free(p);
	p = NULL;
	assert_int_equal(root_path(root, "/sys/kernel/kexec_crash_size", &p), 0);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("  268435456\nsecond line\n", f);
	fclose(f);
	assert_int_equal(root_read_u64(root, "/sys/kernel/kexec_crash_size", 10, &v), 0);
	assert_true(v == 268435456ULL);
	assert_int_equal(root_read_line(root, "/sys/kernel/kexec_crash_size", &line), 0);
	assert_string_equal(line, "268435456");
	assert_true(root_exists(root, "/sys/kernel"));
	assert_false(root_exists(root, "/sys/kernel/missing"));
	assert_int_equal(root_read_u64(root, "/sys/kernel/missing", 10, &v), -ENOENT);
	assert_int_equal(root_path(root, "relative", &line), -EINVAL);
	free(line);
	line = NULL;
	assert_int_equal(asprintf(&line, "rm -rf %s", root) > 0, 1);
	assert_int_equal(system(line), 0);
}

static void test_root_slash_is_real_root(void **state)
{
	_cleanup_free_ char *p = NULL;

	assert_int_equal(root_path("/", "/proc/iomem", &p), 0);
	assert_string_equal(p, "/proc/iomem");
	free(p);
	p = NULL;
	assert_int_equal(root_path(NULL, "/proc/iomem", &p), 0);
	assert_string_equal(p, "/proc/iomem");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),  cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_format_size), cmocka_unit_test(test_strstrip),
		cmocka_unit_test(test_json),	    cmocka_unit_test(test_json_unbalanced),
		cmocka_unit_test(test_rootfs),	    cmocka_unit_test(test_root_slash_is_real_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
