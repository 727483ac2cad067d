/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A strict reader of cpio newc archives for the tests: it checks what the
 * kernel's unpacker relies on (magic, hex fields, 4-byte alignment of names
 * and data, a trailer, nothing but zeros after it) so that the tests do not
 * need an external cpio.
 */
#pragma once

#include <sys/types.h>

#include "util.h"

struct newc_entry {
	char *name;
	uint32_t ino, mode, uid, gid, nlink, mtime;
	uint32_t rdev_major, rdev_minor;
	uint32_t size;
	char *data; /* size bytes plus a NUL, for text */
};

struct newc_archive {
	struct newc_entry *entries; /* without the trailer */
	size_t count;
};

/* -EBADMSG on anything malformed. */
int newc_parse(const void *buf, size_t size, struct newc_archive *ret);
int newc_parse_file(const char *path, struct newc_archive *ret);
void newc_archive_done(struct newc_archive *a);
const struct newc_entry *newc_find(const struct newc_archive *a, const char *name);
