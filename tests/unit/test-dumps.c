// SPDX-License-Identifier: GPL-2.0-or-later
/* Listing the dumps on a fixture target: complete, incomplete, failed, unfinished. */
#include "loader/dumps.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "loader/jsonflat.h"

#define ROOT "tests/fixtures/roots/daemon-dumps"
#define DUMPS ROOT "/mnt/dumps/crashcap"

static uint64_t du(const char *dir)
{
	const char *files[] = { "vmcore", "vmcore.incomplete", "dmesg.txt", "summary.json" };
	uint64_t sum = 0;

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		char p[512];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		if (stat(p, &st) == 0)
			sum += (uint64_t)st.st_blocks * 512;
	}
	return sum;
}

static void test_list(void **state)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	const struct dump_info *d;

	assert_int_equal(dumps_read(DUMPS, &l), 0);
	/* lost+found, notes.txt and a name with no valid time are not dumps. */
	assert_int_equal(l.count, 6);

	d = &l.dumps[0];
	assert_string_equal(d->name, "2025-01-10-08:00:00-6.1.0-13-amd64");
	assert_string_equal(d->path, DUMPS "/2025-01-10-08:00:00-6.1.0-13-amd64");
	assert_int_equal(d->time, 1736496000);
	assert_int_equal(d->state, DUMP_COMPLETE);
	assert_string_equal(d->kernel_release, "6.1.0-13-amd64");
	assert_string_equal(d->hostname, "fixture-host");
	assert_string_equal(d->panic_message, "sysrq triggered crash");
	assert_string_equal(d->dump_file, "vmcore");
	assert_int_equal(d->dump_bytes, 3 * 4096);
	assert_int_equal(d->bytes, du(d->path));

	d = &l.dumps[1];
	assert_int_equal(d->state, DUMP_INCOMPLETE);
	assert_string_equal(d->dump_file, "vmcore.incomplete");
	assert_int_equal(d->dump_bytes, 2 * 4096);

	/* The same second twice: the collector's "-2" comes after. */
	d = &l.dumps[2];
	assert_string_equal(d->name, "2025-03-12-10:00:00-6.1.0-18-amd64");
	assert_int_equal(d->state, DUMP_COMPLETE);
	assert_string_equal(d->panic_message, "Oops: general protection fault");
	d = &l.dumps[3];
	assert_string_equal(d->name, "2025-03-12-10:00:00-6.1.0-18-amd64-2");
	assert_int_equal(d->state, DUMP_FAILED);
	assert_null(d->dump_file);
	assert_null(d->panic_message);
	assert_int_equal(d->dump_bytes, 0);

	/* No summary.json: the crash kernel stopped while writing; the time comes from the name. */
	d = &l.dumps[4];
	assert_int_equal(d->state, DUMP_UNFINISHED);
	assert_null(d->kernel_release);
	assert_int_equal(d->time, 1743508800);
	assert_string_equal(d->dump_file, "vmcore.incomplete");

	d = &l.dumps[5];
	assert_string_equal(d->name, "2025-05-01-00:00:00-6.12.9-amd64");
	assert_int_equal(d->state, DUMP_INCOMPLETE);
	assert_string_equal(dump_state_to_string(DUMP_UNFINISHED), "unfinished");
	assert_string_equal(dump_state_to_string(DUMP_COMPLETE), "complete");
}

static void test_missing_dir_is_empty(void **state)
{
	_cleanup_(dump_list_done) struct dump_list l = { .count = 99 };

	assert_int_equal(dumps_read(ROOT "/var/crash/crashcap", &l), 0);
	assert_int_equal(l.count, 0);
	assert_int_equal(dumps_read(ROOT "/proc/self/mountinfo", &l), -ENOTDIR);
}

static void location(const char *target, const char *path, int want_r, const char *want)
{
	_cleanup_free_ char *dir = NULL, *error = NULL;
	struct settings s;

	settings_init(&s);
	free(s.path);
	s.path = strdup(path);
	s.target = target ? strdup(target) : NULL;
	assert_int_equal(dumps_location(ROOT, &s, &dir, &error), want_r);
	if (want_r >= 0) {
		assert_string_equal(dir, want);
		assert_null(error);
	} else
		assert_string_equal(error, want);
	settings_done(&s);
}

static void test_location(void **state)
{
	location(NULL, "/var/crash", 0, ROOT "/var/crash/crashcap");
	location(NULL, "/var/crash/", 0, ROOT "/var/crash/crashcap");
	location("LABEL=crashdump", "/", 0, ROOT "/mnt/dumps/crashcap");
	location("LABEL=crashdump", "/sub/dir", 0, ROOT "/mnt/dumps/sub/dir/crashcap");
	location("UUID=0b5c2a4e-1111-4222-8333-944445555666", "/", 0, ROOT "/mnt/dumps/crashcap");
	location("/dev/vdb", "/x", 0, ROOT "/mnt/dumps/x/crashcap");
	/* mountinfo writes a space as \040. */
	location("LABEL=spaced", "/", 0, ROOT "/mnt/with space/crashcap");
	location("LABEL=unmounted", "/", -ENODEV,
		 "the dump target LABEL=unmounted is not mounted on this system: mount it, or pass "
		 "--dir DIR (the folder that holds the dump folders)");
	location(
		"LABEL=nosuchlabel", "/", -ENODEV,
		"the dump target LABEL=nosuchlabel is not mounted on this system: mount it, or pass "
		"--dir DIR (the folder that holds the dump folders)");
}

static void test_jsonflat(void **state)
{
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	int64_t i;
	uint64_t u;
	double d;
	bool b;

	assert_int_equal(
		jsonflat_parse(" {\"a\": \"x\\\"y\\\\z\\u00e9\\ud83d\\ude00\", \"n\": -12, "
			       "\"u\": 18446744073709551615, \"f\": 1.5e3, \"t\": true, "
			       "\"z\": null, \"a\": \"last\"}\n",
			       &j),
		0);
	assert_string_equal(jsonflat_string(&j, "a"), "last");
	assert_int_equal(jsonflat_i64(&j, "n", &i), 0);
	assert_int_equal(i, -12);
	assert_int_equal(jsonflat_u64(&j, "u", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(jsonflat_double(&j, "f", &d), 0);
	assert_true(d == 1500.0);
	assert_int_equal(jsonflat_bool(&j, "t", &b), 0);
	assert_true(b);
	assert_int_equal(jsonflat_i64(&j, "z", &i), -ENOENT);
	assert_int_equal(jsonflat_i64(&j, "missing", &i), -ENOENT);
	assert_int_equal(jsonflat_i64(&j, "f", &i), -EINVAL);
	assert_int_equal(jsonflat_bool(&j, "n", &b), -EINVAL);
	assert_null(jsonflat_string(&j, "n"));
	jsonflat_done(&j);

	assert_int_equal(jsonflat_parse("{\"s\": \"\\u00e9\\ud83d\\ude00\"}", &j), 0);
	assert_string_equal(jsonflat_string(&j, "s"), "\xc3\xa9\xf0\x9f\x98\x80");
	jsonflat_done(&j);
	/* Nested values are checked and skipped; the flat fields around them read. */
	assert_int_equal(
		jsonflat_parse("{\"x\": 1, \"o\": {\"a\": [1, {\"b\": \"]}\"}], \"c\": {}},"
			       " \"e\": [], \"y\": \"after\"}",
			       &j),
		0);
	assert_int_equal(j.count, 4);
	assert_int_equal(jsonflat_i64(&j, "x", &i), 0);
	assert_int_equal(i, 1);
	assert_string_equal(jsonflat_string(&j, "y"), "after");
	assert_null(jsonflat_string(&j, "o"));
	assert_int_equal(jsonflat_i64(&j, "o", &i), -EINVAL);
	jsonflat_done(&j);

	assert_int_equal(jsonflat_parse("{}", &j), 0);
	assert_int_equal(j.count, 0);
	jsonflat_done(&j);

	static const char *const bad[] = {
		"",
		"[]",
		"{\"a\": {\"nested\": 1,}}",
		"{\"a\": [1 2]}",
		"{\"a\": {\"b\" 1}}",
		"{\"a\": [\"open]}",
		"{\"a\": {1: 2}}",
		"{\"a\": 1,}",
		"{\"a\" 1}",
		"{\"a\": 01}",
		"{\"a\": 1.}",
		"{\"a\": \"\\x\"}",
		"{\"a\": \"\\ude00\"}",
		"{\"a\": \"\\ud83d\"}",
		"{\"a\": \"\\u0000\"}",
		"{\"a\": \"tab\there\"}",
		"{\"a\": \"open}",
		"{\"a\": 1} x",
		"{\"a\": tru}",
	};
	for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
		struct jsonflat x = {};

		assert_int_equal(jsonflat_parse(bad[k], &x), -EBADMSG);
		assert_null(x.fields);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_missing_dir_is_empty),
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_jsonflat),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
