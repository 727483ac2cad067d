/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A file replaced as a whole: written under a temporary name in the same
 * directory, flushed to disk, then renamed over the old one, so that a
 * reader (status, list, crashcapd after a power cut) sees the old file or
 * the new one, never half of either.
 */
#pragma once

#include <stdio.h>
#include <sys/types.h>

struct atomic_file {
	FILE *f; /* write here, between open and commit */
	char *tmp;
	char *path;
};

/* Creates the temporary file beside path with the given mode; ret->f is open for writing. */
int atomic_file_open(const char *path, mode_t mode, struct atomic_file *ret);

/*
 * Ends what atomic_file_open began. written: the result of writing the
 * contents (negative errno when that failed). Flushes, syncs and renames
 * into place when written and every step succeeded; otherwise removes the
 * temporary file. Returns 0 or the first error. Always frees a.
 */
int atomic_file_commit(struct atomic_file *a, int written);

/* The whole file from a buffer. */
int atomic_file_write(const char *path, mode_t mode, const void *buf, size_t len);
