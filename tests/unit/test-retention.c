// SPDX-License-Identifier: GPL-2.0-or-later
/* Retention on a fixture target: oldest first, never the newest complete dump. */
#include "loader/retention.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>
#include <sys/stat.h>

#include "log.h"

#define FIXTURE "tests/fixtures/roots/daemon-dumps"

struct fixture {
	char tmp[64];
	char dir[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[512];

	snprintf(f->tmp, sizeof(f->tmp), "/tmp/crashcap-retention-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -a " FIXTURE "/. %s/", f->tmp);
	if (system(cmd) != 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/mnt/dumps/crashcap", f->tmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->tmp);
	(void)!system(cmd);
	free(f);
	return 0;
}

/* Which of the six fixture dumps a plan marks, as a string of 0/1, oldest first. */
static const char *plan(const struct dump_list *l, unsigned keep, uint64_t max_bytes)
{
	static char out[16];
	bool remove[16];

	assert_true(l->count < sizeof(out));
	retention_plan(l, keep, max_bytes, remove);
	for (size_t i = 0; i < l->count; i++)
		out[i] = remove[i] ? '1' : '0';
	out[l->count] = 0;
	return out;
}

static void test_plan(void **state)
{
	_cleanup_(dump_list_done) struct dump_list l = {};
	uint64_t total = 0;
	bool remove[8];

	assert_int_equal(dumps_read(FIXTURE "/mnt/dumps/crashcap", &l), 0);
	assert_int_equal(l.count, 6);
	for (size_t i = 0; i < l.count; i++)
		total += l.dumps[i].bytes;
	/* complete, incomplete, complete (newest complete), failed, unfinished, incomplete */
	assert_string_equal(plan(&l, 0, 0), "000000");
	assert_string_equal(plan(&l, 6, 0), "000000");
	assert_string_equal(plan(&l, 10, 0), "000000");
	assert_string_equal(plan(&l, 5, 0), "100000");
	assert_string_equal(plan(&l, 4, 0), "110000");
	/* The third is the newest complete dump: skipped, the next older-than-the-rest goes. */
	assert_string_equal(plan(&l, 3, 0), "110100");
	assert_string_equal(plan(&l, 2, 0), "110110");
	/* keep = 1 cannot be met without losing the newest complete dump: two stay. */
	assert_string_equal(plan(&l, 1, 0), "110111");
	assert_int_equal(retention_plan(&l, 1, 0, remove), 5);
	assert_string_equal(plan(&l, 0, total), "000000");
	assert_string_equal(plan(&l, 0, total - 1), "100000");
	assert_string_equal(plan(&l, 0, total - l.dumps[0].bytes), "100000");
	assert_string_equal(plan(&l, 0, total - l.dumps[0].bytes - 1), "110000");
	assert_string_equal(plan(&l, 0, 1), "110111");
	/* Both limits: whichever removes more. */
	assert_string_equal(plan(&l, 5, total - l.dumps[0].bytes - 1), "110000");
	assert_string_equal(plan(&l, 3, total - 1), "110100");
}

static void test_plan_edge_cases(void **state)
{
	struct dump_info d[3] = {
		{ .name = "a", .state = DUMP_INCOMPLETE, .bytes = 10 },
		{ .name = "b", .state = DUMP_FAILED, .bytes = 10 },
		{ .name = "c", .state = DUMP_UNFINISHED, .bytes = 10 },
	};
	struct dump_list l = { .dumps = d, .count = 3 };
	struct dump_list empty = {};
	bool remove[3];

	/* No complete dump at all: nothing is protected. */
	assert_string_equal(plan(&l, 1, 0), "110");
	assert_string_equal(plan(&l, 0, 5), "111");
	/* Only the newest is complete. */
	d[2].state = DUMP_COMPLETE;
	assert_string_equal(plan(&l, 0, 5), "110");
	assert_int_equal(retention_plan(&empty, 1, 1, remove), 0);
}

static bool exists(const struct fixture *f, const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", f->dir, name);
	return lstat(p, &st) == 0;
}

static void test_apply(void **state)
{
	struct fixture *f = *state;
	struct retention_result res;
	_cleanup_(dump_list_done) struct dump_list l = {};

	log_set_max_level(LOG_WARNING);
	assert_int_equal(retention_apply(f->dir, 2, 0, &res), 0);
	assert_int_equal(res.removed, 4);
	assert_int_equal(res.kept, 2);
	assert_int_equal(res.failed, 0);
	assert_false(exists(f, "2025-01-10-08:00:00-6.1.0-13-amd64"));
	assert_false(exists(f, "2025-02-11-09:30:00-6.1.0-13-amd64"));
	assert_true(exists(f, "2025-03-12-10:00:00-6.1.0-18-amd64"));
	assert_true(exists(f, "2025-03-12-10:00:00-6.1.0-18-amd64/vmcore"));
	assert_false(exists(f, "2025-03-12-10:00:00-6.1.0-18-amd64-2"));
	assert_false(exists(f, "2025-04-01-12:00:00-6.12.9-amd64"));
	assert_true(exists(f, "2025-05-01-00:00:00-6.12.9-amd64"));
	/* What is not a dump stays. */
	assert_true(exists(f, "lost+found/keep"));
	assert_true(exists(f, "notes.txt"));
	assert_true(exists(f, "2025-13-45-99:99:99-bad/keep"));

	assert_int_equal(dumps_read(f->dir, &l), 0);
	assert_int_equal(l.count, 2);
	assert_int_equal(res.kept_bytes, l.dumps[0].bytes + l.dumps[1].bytes);
	/* A second run has nothing left to do. */
	assert_int_equal(retention_apply(f->dir, 2, 0, &res), 0);
	assert_int_equal(res.removed, 0);
	assert_int_equal(res.freed, 0);
}

static void test_apply_no_limits_and_missing_dir(void **state)
{
	struct fixture *f = *state;
	struct retention_result res;
	char missing[256];

	assert_int_equal(retention_apply(f->dir, 0, 0, &res), 0);
	assert_int_equal(res.removed, 0);
	assert_int_equal(res.kept, 6);
	snprintf(missing, sizeof(missing), "%s/var/crash/crashcap", f->tmp);
	assert_int_equal(retention_apply(missing, 1, 1, &res), 0);
	assert_int_equal(res.kept, 0);
}

/* A dump directory holding a folder of its own is not removed (the collector writes only files). */
static void test_apply_leaves_what_it_cannot_remove(void **state)
{
	struct fixture *f = *state;
	struct retention_result res;
	char p[512];

	snprintf(p, sizeof(p), "%s/2025-01-10-08:00:00-6.1.0-13-amd64/extra", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	log_set_max_level(LOG_CRIT);
	assert_int_equal(retention_apply(f->dir, 5, 0, &res), 0);
	log_set_max_level(LOG_INFO);
	assert_int_equal(res.removed, 0);
	assert_int_equal(res.failed, 1);
	assert_true(exists(f, "2025-01-10-08:00:00-6.1.0-13-amd64/extra"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_edge_cases),
		cmocka_unit_test_setup_teardown(test_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_no_limits_and_missing_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_leaves_what_it_cannot_remove, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
