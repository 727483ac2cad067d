/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading /proc and /sys relative to a root directory, so that tests can
 * point every reader at a fixture tree (--root DIR). A root of NULL or "/"
 * means the running system.
 */
#pragma once

#include "util.h"

/* Joins root and an absolute path ("/proc/iomem") into a new string. */
int root_path(const char *root, const char *path, char **ret);
/* open(2) of root+path; returns the fd or a negative errno. */
int root_open(const char *root, const char *path, int flags);
bool root_exists(const char *root, const char *path);
/* Whole file, NUL-terminated; max_size bounds what is read. */
int root_read_file(const char *root, const char *path, size_t max_size, char **ret_data,
		   size_t *ret_size);
/* First line without its newline and surrounding white space. */
int root_read_line(const char *root, const char *path, char **ret_line);
/* A number that is the whole first line; base 0 takes 0x for hex. */
int root_read_u64(const char *root, const char *path, int base, uint64_t *ret);
