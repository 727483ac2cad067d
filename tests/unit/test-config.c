// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#define FIX "tests/fixtures/config/"

static const char *value_of(const struct config *c, const char *key)
{
	const struct config_entry *e = config_get(c, key);

	return e ? e->value : NULL;
}

static void test_good(void **state)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};
	const struct config_entry *e;

	assert_int_equal(config_parse_file(&c, FIX "good.conf", &err), 0);
	assert_int_equal(c.count, 12);
	assert_string_equal(value_of(&c, "target"), "UUID=2f1c5d9e-1b7a-4f0e-9a53-7c1d2e3f4a5b");
	assert_string_equal(value_of(&c, "crash_args"), "console=ttyS1,115200 loglevel=7");
	e = config_get(&c, "dump_level");
	assert_non_null(e);
	assert_string_equal(e->value, "17");
	assert_string_equal(e->file, FIX "good.conf");
	assert_int_equal(e->line, 4);
	assert_null(config_get(&c, "nonexistent"));
}

static void test_comments_and_quotes(void **state)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};

	assert_int_equal(config_parse_file(&c, FIX "comments.conf", &err), 0);
	/* The later line wins; the quoted value loses its quotes and its comment. */
	assert_string_equal(value_of(&c, "path"), "/var/crash/two");
	assert_int_equal(config_get(&c, "path")->line, 7);
	assert_string_equal(value_of(&c, "dump_level"), "1");
	assert_string_equal(value_of(&c, "crash_args"), "say \"hi\" \\ there");
	/* Unquoted values are taken whole: '#' is only a comment at the start of a line. */
	assert_string_equal(value_of(&c, "target"),
			    "LABEL=my dumps # no comments after an unquoted value");
	assert_string_equal(value_of(&c, "crash_args_raw_hash"), "a#b");
	assert_string_equal(value_of(&c, "empty"), "");
	assert_string_equal(value_of(&c, "quoted_empty"), "");
	assert_int_equal(c.count, 8);
}

static void test_crlf(void **state)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};

	assert_int_equal(config_parse_file(&c, FIX "crlf.conf", &err), 0);
	assert_string_equal(value_of(&c, "path"), "/var/crash");
	assert_string_equal(value_of(&c, "dump_level"), "5");
}

static void check_error(const char *file, unsigned line, const char *expected)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};
	char buf[600];

	assert_int_equal(config_parse_file(&c, file, &err), -EINVAL);
	assert_int_equal(err.line, line);
	assert_string_equal(config_error_format(&err, buf, sizeof(buf)), expected);
	/* A file with an error adds nothing. */
	assert_int_equal(c.count, 0);
}

static void test_missing_equals(void **state)
{
	check_error(FIX "missing-equals.conf", 2,
		    FIX "missing-equals.conf:2: missing '=' (lines are \"key = value\")");
}

static void test_empty_key(void **state)
{
	check_error(FIX "empty-key.conf", 3, FIX "empty-key.conf:3: empty key before '='");
}

static void test_unterminated(void **state)
{
	check_error(FIX "unterminated.conf", 1,
		    FIX "unterminated.conf:1: unterminated quoted value");
}

static void test_string_errors(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
		{ "a b = c\n", "mem:1: invalid key 'a b'" },
		{ "x = \"v\" tail\n", "mem:1: unexpected text after the closing quote" },
		{ "x = \"a\\nb\"\n",
		  "mem:1: unknown escape in quoted value (only \\\" and \\\\ are allowed)" },
		{ "ok = 1\n\n\n=\n", "mem:4: empty key before '='" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(config_done) struct config c = {};
		struct config_error err = {};
		char buf[600];

		assert_int_equal(config_parse_string(&c, cases[i].text, "mem", &err), -EINVAL);
		assert_string_equal(config_error_format(&err, buf, sizeof(buf)), cases[i].message);
	}
}

static void test_missing_file(void **state)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};
	char buf[600];

	assert_int_equal(config_parse_file(&c, FIX "does-not-exist.conf", &err), -ENOENT);
	assert_int_equal(err.line, 0);
	assert_string_equal(config_error_format(&err, buf, sizeof(buf)),
			    FIX "does-not-exist.conf: No such file or directory");
}

static void test_appends_and_keeps_on_error(void **state)
{
	_cleanup_(config_done) struct config c = {};
	struct config_error err = {};

	assert_int_equal(config_parse_string(&c, "a = 1\nb = 2", "one", &err), 0);
	assert_int_equal(c.count, 2);
	/* No trailing newline: the last line still counts. */
	assert_string_equal(value_of(&c, "b"), "2");
	assert_int_equal(config_parse_string(&c, "a = 3\nbroken\n", "two", &err), -EINVAL);
	/* The failed text added nothing, the earlier entries stay. */
	assert_int_equal(c.count, 2);
	assert_string_equal(value_of(&c, "a"), "1");
	assert_int_equal(config_parse_string(&c, "a = 3\n", "three", &err), 0);
	assert_string_equal(value_of(&c, "a"), "3");
	assert_string_equal(config_get(&c, "a")->file, "three");
}

static void test_error_format(void **state)
{
	struct config_error err = { .file = "f.conf", .line = 0, .message = "boom" };
	struct config_error bare = { .message = "boom" };
	char buf[32];

	assert_string_equal(config_error_format(&err, buf, sizeof(buf)), "f.conf: boom");
	err.line = 12;
	assert_string_equal(config_error_format(&err, buf, sizeof(buf)), "f.conf:12: boom");
	assert_string_equal(config_error_format(&bare, buf, sizeof(buf)), "boom");
	/* Truncated, still terminated. */
	assert_string_equal(config_error_format(&err, buf, 8), "f.conf:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_comments_and_quotes),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_missing_equals),
		cmocka_unit_test(test_empty_key),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_appends_and_keeps_on_error),
		cmocka_unit_test(test_error_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
