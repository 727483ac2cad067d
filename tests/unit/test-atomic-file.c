// SPDX-License-Identifier: GPL-2.0-or-later
/* lib/atomic-file: a file is replaced whole or not at all, and no temporary file is left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "util.h"

struct dir {
	char path[64];
	char file[96];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	strcpy(d->path, "/tmp/crashcap-atomic-XXXXXX");
	assert_non_null(mkdtemp(d->path));
	snprintf(d->file, sizeof(d->file), "%s/state.json", d->path);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static void read_back(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* Only the final file: no temporary name survives, whatever happened. */
static unsigned entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_and_replace(void **state)
{
	struct dir *d = *state;
	struct atomic_file af;
	struct stat st;
	char buf[64];

	assert_int_equal(atomic_file_write(d->file, 0640, "old\n", 4), 0);
	read_back(d->file, buf, sizeof(buf));
	assert_string_equal(buf, "old\n");
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	assert_int_equal(atomic_file_open(d->file, 0600, &af), 0);
	fputs("new\n", af.f);
	/* Until the commit, readers see the old contents. */
	read_back(d->file, buf, sizeof(buf));
	assert_string_equal(buf, "old\n");
	assert_int_equal(entries(d->path), 2);
	assert_int_equal(atomic_file_commit(&af, 0), 0);
	assert_null(af.f);
	read_back(d->file, buf, sizeof(buf));
	assert_string_equal(buf, "new\n");
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(entries(d->path), 1);
}

static void test_failed_write_keeps_old(void **state)
{
	struct dir *d = *state;
	struct atomic_file af;
	char buf[64];

	assert_int_equal(atomic_file_write(d->file, 0644, "old\n", 4), 0);
	assert_int_equal(atomic_file_open(d->file, 0644, &af), 0);
	fputs("half", af.f);
	/* The writer's own error is returned, and the old file stays. */
	assert_int_equal(atomic_file_commit(&af, -ENOSPC), -ENOSPC);
	read_back(d->file, buf, sizeof(buf));
	assert_string_equal(buf, "old\n");
	assert_int_equal(entries(d->path), 1);
}

static void test_missing_directory(void **state)
{
	struct dir *d = *state;
	struct atomic_file af;
	char path[128];

	snprintf(path, sizeof(path), "%s/no/such/file", d->path);
	assert_int_equal(atomic_file_open(path, 0644, &af), -ENOENT);
	assert_int_equal(atomic_file_write(path, 0644, "x", 1), -ENOENT);
	assert_int_equal(entries(d->path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
