// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include "collector/summary.h"

static char *render(const struct summary *s)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	assert_non_null(f);
	assert_int_equal(summary_write(s, f), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void test_full_summary(void **state)
{
	const struct page_filter_counts excluded = { .pages = { 1, 2, 3, 4, 5, 6, 7 },
						     .unreadable = 8 };
	const struct summary s = {
		.kernel_release = "6.1.0-56-amd64",
		.hostname = "guest",
		.crash_time = 1700000123,
		.crash_time_from_dump = true,
		.panic_message = "sysrq triggered crash",
		.dump_level_asked = 31,
		.dump_level_applied = 1,
		.compression = COMPRESSION_ZSTD,
		.ram_bytes = 1073741824,
		.pages_total = 262144,
		.pages_written = 20000,
		.pages_zero = 242144,
		.pages_unreadable = 0,
		.output_bytes = 36000000,
		.dump_file = "vmcore",
		.dump_seconds = 4.25,
		.total_seconds = 5.5,
		.incomplete = false,
		.result = SUMMARY_OK,
		.error = NULL,
		.peak_rss_bytes = 8388608,
		.level_fallback = "VMCOREINFO has no SYMBOL(mem_section)",
		.excluded = &excluded,
		.pages_nodata = 7,
		.threads = 2,
	};
	_cleanup_free_ char *out = render(&s);

	assert_string_equal(
		out, "{\n"
		     "  \"crashcap_version\": \"" CRASHCAP_VERSION "\",\n"
		     "  \"result\": \"ok\",\n"
		     "  \"error\": null,\n"
		     "  \"kernel_release\": \"6.1.0-56-amd64\",\n"
		     "  \"hostname\": \"guest\",\n"
		     "  \"crash_time\": \"2023-11-14T22:15:23Z\",\n"
		     "  \"crash_time_unix\": 1700000123,\n"
		     "  \"crash_time_source\": \"vmcoreinfo\",\n"
		     "  \"panic_message\": \"sysrq triggered crash\",\n"
		     "  \"dump_level_asked\": 31,\n"
		     "  \"dump_level_applied\": 1,\n"
		     "  \"dump_level_fallback\": \"VMCOREINFO has no SYMBOL(mem_section)\",\n"
		     "  \"compression\": \"zstd\",\n"
		     "  \"dump_file\": \"vmcore\",\n"
		     "  \"incomplete\": false,\n"
		     "  \"ram_bytes\": 1073741824,\n"
		     "  \"pages_total\": 262144,\n"
		     "  \"pages_written\": 20000,\n"
		     "  \"pages_zero\": 242144,\n"
		     "  \"pages_unreadable\": 0,\n"
		     "  \"pages_nodata\": 7,\n"
		     "  \"pages_excluded\": {\n"
		     "    \"cache\": 1,\n"
		     "    \"cache_private\": 2,\n"
		     "    \"user\": 3,\n"
		     "    \"hugetlb\": 4,\n"
		     "    \"free\": 5,\n"
		     "    \"hwpoison\": 6,\n"
		     "    \"offline\": 7,\n"
		     "    \"struct_page_unreadable\": 8\n"
		     "  },\n"
		     "  \"output_bytes\": 36000000,\n"
		     "  \"dump_seconds\": 4.250,\n"
		     "  \"total_seconds\": 5.500,\n"
		     "  \"threads\": 2,\n"
		     "  \"peak_rss_bytes\": 8388608\n"
		     "}\n");
}

static void test_failed_summary_unknowns(void **state)
{
	const struct summary s = {
		.crash_time = -1,
		.dump_level_asked = 1,
		.dump_level_applied = -1,
		.compression = COMPRESSION_NONE,
		.result = SUMMARY_FAILED,
		.error = "Cannot save the dump: No space left on device",
	};
	_cleanup_free_ char *out = render(&s);

	assert_non_null(strstr(out,
			       "  \"result\": \"failed\",\n"
			       "  \"error\": \"Cannot save the dump: No space left on device\",\n"
			       "  \"kernel_release\": null,\n"
			       "  \"hostname\": null,\n"
			       "  \"crash_time\": null,\n"
			       "  \"crash_time_unix\": null,\n"
			       "  \"crash_time_source\": null,\n"
			       "  \"panic_message\": null,\n"
			       "  \"dump_level_asked\": 1,\n"
			       "  \"dump_level_applied\": null,\n"
			       "  \"dump_level_fallback\": null,\n"
			       "  \"compression\": \"none\",\n"
			       "  \"dump_file\": null,\n"));
}

/* A dead kernel's log may hold anything: the JSON must stay valid UTF-8. */
static void test_text_is_escaped_and_valid_utf8(void **state)
{
	const struct summary s = {
		.crash_time = 0,
		.panic_message =
			"bad \xff byte, \"quoted\"\n \xc3\xa9t\xc3\xa9 \xe2\x82 cut \xc0\xaf",
		.hostname = "h\tx",
		.result = SUMMARY_INCOMPLETE,
	};
	_cleanup_free_ char *out = render(&s);

	assert_non_null(strstr(out, "\"panic_message\": \"bad ? byte, \\\"quoted\\\"\\n "
				    "\xc3\xa9t\xc3\xa9 ?? cut ??\""));
	assert_non_null(strstr(out, "\"hostname\": \"h\\tx\""));
	assert_non_null(strstr(out, "\"result\": \"incomplete\""));
	assert_non_null(strstr(out, "\"crash_time\": \"1970-01-01T00:00:00Z\""));
	assert_non_null(strstr(out, "\"crash_time_source\": \"clock\""));
}

static void test_write_file(void **state)
{
	char dir[] = "/tmp/test-summary-XXXXXX", path[64], bad[96];
	const struct summary s = { .crash_time = -1, .result = SUMMARY_OK };
	_cleanup_free_ char *text = NULL, *want = NULL;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	assert_int_equal(summary_write_file(&s, path), 0);
	assert_int_equal(read_full_file(path, 65536, &text, NULL), 0);
	want = render(&s);
	assert_string_equal(text, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(bad, sizeof(bad), "%s/no/such/dir/summary.json", dir);
	assert_int_equal(summary_write_file(&s, bad), -ENOENT);
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* nothing else was left behind */
}

static void test_helpers(void **state)
{
	assert_string_equal(summary_result_to_string(SUMMARY_OK), "ok");
	assert_string_equal(summary_result_to_string(SUMMARY_INCOMPLETE), "incomplete");
	assert_string_equal(summary_result_to_string(SUMMARY_FAILED), "failed");
	/* This test process has touched at least a page. */
	assert_true(summary_peak_rss_bytes() >= 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_summary),
		cmocka_unit_test(test_failed_summary_unknowns),
		cmocka_unit_test(test_text_is_escaped_and_valid_utf8),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
