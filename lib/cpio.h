/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing cpio "newc" archives (magic 070701), the format the kernel unpacks
 * as an initramfs. Written by us so that building the crash initramfs needs
 * neither an external cpio nor root: device nodes are only header fields.
 *
 * Names are stored without a leading '/'. The kernel does not create
 * missing parent directories while unpacking, so the writer adds every
 * parent directory (mode 0755) before the first entry below it. Every entry
 * gets its own inode number and nlink 1 (2 for directories), so no two
 * entries are taken for hard links. mtime is 0 unless set, which keeps
 * archives reproducible.
 */
#pragma once

#include <sys/types.h>

#include "util.h"

#define CPIO_NEWC_MAGIC "070701"
#define CPIO_NEWC_HEADER_SIZE 110
#define CPIO_TRAILER_NAME "TRAILER!!!"

struct cpio_writer;

/* Writes to fd from its current position on; the fd stays the caller's. */
int cpio_writer_new(int fd, struct cpio_writer **ret);
struct cpio_writer *cpio_writer_free(struct cpio_writer *w);
static inline void cpio_writer_freep(struct cpio_writer **w)
{
	cpio_writer_free(*w);
}
#define _cleanup_cpio_writer_ _cleanup_(cpio_writer_freep)

/* The mtime every later entry gets (seconds since the epoch). */
void cpio_writer_set_mtime(struct cpio_writer *w, uint64_t mtime);

/*
 * The entries. mode holds the permission bits only (07777); the file type
 * comes from the call. Errors: -EINVAL for a bad name ("", "..", a trailing
 * '/', longer than PATH_MAX) or mode, -EEXIST when the name was already
 * added as a directory and is added again as something else, -EROFS after
 * cpio_writer_finish(), or the write error.
 */
int cpio_add_directory(struct cpio_writer *w, const char *name, mode_t mode);
int cpio_add_data(struct cpio_writer *w, const char *name, mode_t mode, const void *data,
		  size_t size);
/* Copies a regular file from disk; -EIO if it changes size while copied. */
int cpio_add_file(struct cpio_writer *w, const char *name, mode_t mode, const char *src_path);
int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target);
int cpio_add_char_device(struct cpio_writer *w, const char *name, mode_t mode, unsigned major,
			 unsigned minor);

/* Writes the trailer. No entry can be added afterwards. */
int cpio_writer_finish(struct cpio_writer *w);
/* Bytes written so far (always a multiple of 4). */
uint64_t cpio_writer_size(const struct cpio_writer *w);
/* Entries written so far, the trailer and added parent directories included. */
size_t cpio_writer_entries(const struct cpio_writer *w);
