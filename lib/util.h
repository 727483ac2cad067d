/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers every crashcap file uses: cleanup attributes, string
 * comparison, array sizes. Nothing here allocates behind the caller's back.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _noreturn_ __attribute__((noreturn))

#define ALIGN_UP(x, a) ((((x) + (a)-1) / (a)) * (a))
#define DIV_ROUND_UP(x, d) (((x) + (d)-1) / (d))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hands ownership out of a _cleanup_ variable: returns it and clears it. */
#define TAKE_PTR(p)                          \
	({                                   \
		__typeof__(p) _taken_ = (p); \
		(p) = NULL;                  \
		_taken_;                     \
	})
#define TAKE_FD(fd)                 \
	({                          \
		int _taken_ = (fd); \
		(fd) = -1;          \
		_taken_;            \
	})

/* errno as a negative value, never 0: for returning after a failed libc call. */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/*
 * Whole-file helpers. read_full_fd/read_full_file return the bytes read with
 * a terminating NUL (not counted in ret_size) so text can be parsed in place.
 */
int read_full_fd(int fd, size_t max_size, char **ret_data, size_t *ret_size);
int read_full_file(const char *path, size_t max_size, char **ret_data, size_t *ret_size);
int write_full_fd(int fd, const void *buf, size_t len);
int pwrite_full(int fd, const void *buf, size_t len, off_t offset);
int pread_full(int fd, void *buf, size_t len, off_t offset, size_t *ret_read);

/* mkdir -p: every missing directory of path, path itself included. */
int mkdir_p(const char *path, unsigned mode);
/* Every missing directory above path, not path itself (for a file about to be written). */
int mkdir_parents(const char *path, unsigned mode);

/* Parses a decimal or 0x-prefixed number that fills the whole string. */
int parse_u64(const char *s, int base, uint64_t *ret);
/* Parses sizes such as "256M", "1G", "4096", "512K" (powers of 1024). */
int parse_size(const char *s, uint64_t *ret);
/* Formats a byte count as "1.5 GiB" into buf. */
const char *format_size(uint64_t bytes, char *buf, size_t len);

/* Removes leading and trailing white space in place; returns s moved forward. */
char *strstrip(char *s);
