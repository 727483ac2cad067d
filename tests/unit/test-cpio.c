// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>

#include "cpio.h"
#include "newc-reader.h"

struct tmp_archive {
	char path[64];
	int fd;
	struct cpio_writer *w;
};

static int setup(void **state)
{
	struct tmp_archive *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->path, "/tmp/test-cpio-XXXXXX");
	t->fd = mkstemp(t->path);
	assert_true(t->fd >= 0);
	assert_int_equal(cpio_writer_new(t->fd, &t->w), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp_archive *t = *state;

	cpio_writer_free(t->w);
	close(t->fd);
	unlink(t->path);
	free(t);
	return 0;
}

/* Finishes the archive and parses it back. */
static void finish_and_parse(struct tmp_archive *t, struct newc_archive *a)
{
	struct stat st;

	assert_int_equal(cpio_writer_finish(t->w), 0);
	assert_int_equal(fstat(t->fd, &st), 0);
	assert_int_equal(cpio_writer_size(t->w), st.st_size);
	assert_int_equal(st.st_size % 4, 0);
	assert_int_equal(newc_parse_file(t->path, a), 0);
}

static void test_empty_archive_is_one_trailer(void **state)
{
	struct tmp_archive *t = *state;
	_cleanup_free_ char *data = NULL;
	size_t size;

	assert_int_equal(cpio_writer_finish(t->w), 0);
	assert_int_equal(read_full_file(t->path, 4096, &data, &size), 0);
	/* 110 header + "TRAILER!!!\0" = 121, padded to 124. */
	assert_int_equal(size, 124);
	assert_memory_equal(data,
			    "070701"
			    "00000001" /* ino */
			    "00000000" /* mode */
			    "00000000"
			    "00000000" /* uid gid */
			    "00000001" /* nlink */
			    "00000000" /* mtime */
			    "00000000" /* filesize */
			    "00000000"
			    "00000000" /* dev */
			    "00000000"
			    "00000000" /* rdev */
			    "0000000B" /* namesize */
			    "00000000" /* check */
			    "TRAILER!!!\0\0",
			    124);
	assert_int_equal(cpio_writer_entries(t->w), 1);
}

static void test_data_entry_bytes(void **state)
{
	struct tmp_archive *t = *state;
	_cleanup_free_ char *data = NULL;
	size_t size;

	cpio_writer_set_mtime(t->w, 0x5f5e100);
	assert_int_equal(cpio_add_data(t->w, "/init", 0755, "hello", 5), 0);
	assert_int_equal(cpio_writer_finish(t->w), 0);
	assert_int_equal(read_full_file(t->path, 4096, &data, &size), 0);
	/* Header 110 + "init\0" = 115 -> 116; 5 data bytes -> 8; then the trailer. */
	assert_int_equal(size, 116 + 8 + 124);
	assert_memory_equal(data,
			    "070701"
			    "00000001" /* ino */
			    "000081ED" /* mode: S_IFREG | 0755 */
			    "00000000"
			    "00000000" /* uid gid */
			    "00000001" /* nlink */
			    "05F5E100" /* mtime */
			    "00000005" /* filesize */
			    "00000000"
			    "00000000" /* dev */
			    "00000000"
			    "00000000" /* rdev */
			    "00000005" /* namesize */
			    "00000000" /* check */
			    "init\0\0",
			    116);
	assert_memory_equal(data + 116, "hello\0\0\0", 8);
	assert_memory_equal(data + 124, "07070100000002", 14);
}

static void test_parents_are_added_once(void **state)
{
	struct tmp_archive *t = *state;
	struct newc_archive a;

	assert_int_equal(cpio_add_data(t->w, "lib/modules/6.1/a.ko", 0644, "A", 1), 0);
	assert_int_equal(cpio_add_data(t->w, "/lib/modules/6.1/b.ko", 0644, "BB", 2), 0);
	assert_int_equal(cpio_add_directory(t->w, "lib/modules", 0700), 0);
	assert_int_equal(cpio_add_directory(t->w, "tmp", 01777), 0);
	finish_and_parse(t, &a);
	assert_int_equal(a.count, 6);
	assert_string_equal(a.entries[0].name, "lib");
	assert_string_equal(a.entries[1].name, "lib/modules");
	assert_string_equal(a.entries[2].name, "lib/modules/6.1");
	assert_string_equal(a.entries[3].name, "lib/modules/6.1/a.ko");
	assert_string_equal(a.entries[4].name, "lib/modules/6.1/b.ko");
	assert_string_equal(a.entries[5].name, "tmp");
	assert_int_equal(a.entries[0].mode, S_IFDIR | 0755);
	assert_int_equal(a.entries[0].nlink, 2);
	assert_int_equal(a.entries[3].mode, S_IFREG | 0644);
	assert_int_equal(a.entries[3].nlink, 1);
	assert_string_equal(a.entries[4].data, "BB");
	assert_int_equal(a.entries[5].mode, S_IFDIR | 01777);
	for (size_t i = 0; i < a.count; i++) {
		assert_int_equal(a.entries[i].ino, i + 1);
		assert_int_equal(a.entries[i].mtime, 0);
		assert_int_equal(a.entries[i].uid, 0);
	}
	newc_archive_done(&a);
}

static void test_nodes_and_symlinks(void **state)
{
	struct tmp_archive *t = *state;
	struct newc_archive a;
	const struct newc_entry *e;

	assert_int_equal(cpio_add_char_device(t->w, "/dev/console", 0600, 5, 1), 0);
	assert_int_equal(cpio_add_char_device(t->w, "/dev/null", 0666, 1, 3), 0);
	assert_int_equal(cpio_add_symlink(t->w, "/bin/sh", "busybox"), 0);
	finish_and_parse(t, &a);
	assert_int_equal(a.count, 5);
	e = newc_find(&a, "dev/console");
	assert_non_null(e);
	assert_int_equal(e->mode, S_IFCHR | 0600);
	assert_int_equal(e->rdev_major, 5);
	assert_int_equal(e->rdev_minor, 1);
	assert_int_equal(e->size, 0);
	e = newc_find(&a, "dev/null");
	assert_non_null(e);
	assert_int_equal(e->mode, S_IFCHR | 0666);
	assert_int_equal(e->rdev_major, 1);
	assert_int_equal(e->rdev_minor, 3);
	e = newc_find(&a, "bin/sh");
	assert_non_null(e);
	assert_int_equal(e->mode, S_IFLNK | 0777);
	assert_int_equal(e->size, 7);
	assert_string_equal(e->data, "busybox");
	newc_archive_done(&a);
}

/* Every name length and data length modulo 4: the reader checks alignment. */
static void test_alignment_all_lengths(void **state)
{
	struct tmp_archive *t = *state;
	struct newc_archive a;
	const char *names[] = { "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh" };

	for (size_t n = 0; n < ELEMENTSOF(names); n++)
		for (size_t len = 0; len < 8; len++) {
			char name[32];

			snprintf(name, sizeof(name), "d%zu/%s", len, names[n]);
			assert_int_equal(cpio_add_data(t->w, name, 0644, "01234567", len), 0);
			assert_int_equal(cpio_writer_size(t->w) % 4, 0);
		}
	finish_and_parse(t, &a);
	assert_int_equal(a.count, 8 + 8 * 8);
	for (size_t n = 0; n < ELEMENTSOF(names); n++)
		for (size_t len = 0; len < 8; len++) {
			char name[32];
			const struct newc_entry *e;

			snprintf(name, sizeof(name), "d%zu/%s", len, names[n]);
			e = newc_find(&a, name);
			assert_non_null(e);
			assert_int_equal(e->size, len);
			assert_memory_equal(e->data, "01234567", len);
		}
	newc_archive_done(&a);
}

static void test_file_from_disk(void **state)
{
	struct tmp_archive *t = *state;
	char src[] = "/tmp/test-cpio-src-XXXXXX";
	int fd = mkstemp(src);
	struct newc_archive a;
	const struct newc_entry *e;
	char big[10001];

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 26;
	assert_int_equal(write_full_fd(fd, big, sizeof(big)), 0);
	close(fd);
	assert_int_equal(cpio_add_file(t->w, "etc/big", 0640, src), 0);
	assert_int_equal(cpio_add_file(t->w, "etc/missing", 0640, "/nonexistent/x"), -ENOENT);
	assert_int_equal(cpio_add_file(t->w, "etc/dir", 0640, "/tmp"), -EINVAL);
	finish_and_parse(t, &a);
	unlink(src);
	assert_int_equal(a.count, 2);
	e = newc_find(&a, "etc/big");
	assert_non_null(e);
	assert_int_equal(e->mode, S_IFREG | 0640);
	assert_int_equal(e->size, sizeof(big));
	assert_memory_equal(e->data, big, sizeof(big));
	newc_archive_done(&a);
}

static void test_bad_names_and_modes(void **state)
{
	struct tmp_archive *t = *state;
	const char *bad[] = { "", "/", "//", "a/", "a//b", "./a", "a/./b", "a/../b", "..", NULL };
	char long_name[5000];

	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_int_equal(cpio_add_data(t->w, bad[i], 0644, "x", 1), -EINVAL);
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_int_equal(cpio_add_directory(t->w, long_name, 0755), -EINVAL);
	assert_int_equal(cpio_add_data(t->w, "f", S_IFREG | 0644, "x", 1), -EINVAL);
	assert_int_equal(cpio_add_data(t->w, "f", 0644, NULL, 1), -EINVAL);
	assert_int_equal(cpio_add_symlink(t->w, "l", ""), -EINVAL);
	/* Nothing was written for any of them. */
	assert_int_equal(cpio_writer_size(t->w), 0);
	assert_int_equal(cpio_writer_entries(t->w), 0);
}

static void test_directory_cannot_be_replaced(void **state)
{
	struct tmp_archive *t = *state;

	assert_int_equal(cpio_add_directory(t->w, "dev", 0755), 0);
	assert_int_equal(cpio_add_data(t->w, "dev", 0644, "x", 1), -EEXIST);
	assert_int_equal(cpio_add_data(t->w, "a/b", 0644, "x", 1), 0);
	assert_int_equal(cpio_add_symlink(t->w, "/a", "b"), -EEXIST);
}

static void test_nothing_after_finish(void **state)
{
	struct tmp_archive *t = *state;

	assert_int_equal(cpio_writer_finish(t->w), 0);
	assert_int_equal(cpio_add_directory(t->w, "x", 0755), -EROFS);
	assert_int_equal(cpio_add_data(t->w, "y", 0644, "", 0), -EROFS);
	assert_int_equal(cpio_writer_finish(t->w), -EROFS);
	assert_int_equal(cpio_writer_size(t->w), 124);
}

static void test_write_error_is_returned(void **state)
{
	_cleanup_close_ int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	struct cpio_writer *w = NULL;

	assert_true(fd >= 0);
	assert_int_equal(cpio_writer_new(fd, &w), 0);
	assert_int_equal(cpio_add_data(w, "f", 0644, "x", 1), -ENOSPC);
	assert_int_equal(cpio_writer_finish(w), -ENOSPC);
	assert_null(cpio_writer_free(w));
	assert_int_equal(cpio_writer_new(-1, &w), -EINVAL);
}

/* The reader itself must catch broken archives, or the tests above prove nothing. */
static void test_reader_rejects_damage(void **state)
{
	struct tmp_archive *t = *state;
	_cleanup_free_ char *data = NULL, *junk = NULL;
	struct newc_archive a;
	size_t size;

	assert_int_equal(cpio_add_data(t->w, "file", 0644, "abc", 3), 0);
	assert_int_equal(cpio_writer_finish(t->w), 0);
	assert_int_equal(read_full_file(t->path, 4096, &data, &size), 0);
	assert_int_equal(newc_parse(data, size, &a), 0);
	newc_archive_done(&a);
	/* Cut before the trailer. */
	assert_int_equal(newc_parse(data, size - 124, &a), -EBADMSG);
	/* Junk after the trailer (zeros there are what archives are padded with). */
	junk = calloc(1, size + 8);
	assert_non_null(junk);
	memcpy(junk, data, size);
	assert_int_equal(newc_parse(junk, size + 8, &a), 0);
	newc_archive_done(&a);
	junk[size + 5] = 'x';
	assert_int_equal(newc_parse(junk, size + 8, &a), -EBADMSG);
	/* A bad magic and a non-hex digit. */
	data[5] = '2';
	assert_int_equal(newc_parse(data, size, &a), -EBADMSG);
	data[5] = '1';
	data[20] = 'g';
	assert_int_equal(newc_parse(data, size, &a), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_archive_is_one_trailer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_entry_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parents_are_added_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_and_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_all_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_from_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_cannot_be_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_after_finish, setup, teardown),
		cmocka_unit_test(test_write_error_is_returned),
		cmocka_unit_test_setup_teardown(test_reader_rejects_damage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
