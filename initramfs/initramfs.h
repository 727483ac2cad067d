/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the crash initramfs (cpio newc, written by us): the static
 * collector as /init, the settings it needs as /etc/crashcap.conf, a
 * /dev/console node, and the kernel modules the dump target needs, with
 * /etc/crashcap/modules listing them in load (dependency) order.
 */
#pragma once

#include "util.h"

struct initramfs_options {
	const char *root; /* system root for /sys and /proc (target lookup); NULL = / */
	const char *output_path;
	const char *collector_path; /* the static crashcap-collect */
	const char *config_path; /* copied in as /etc/crashcap.conf; NULL: none */
	const char *kernel_release; /* whose modules */
	const char *modules_dir; /* NULL: root + /lib/modules/<kernel_release> */
	char **extra_modules; /* NULL-terminated module names to add, or NULL */
};

struct initramfs_result {
	uint64_t size; /* bytes of the archive */
	size_t nr_modules;
};

/*
 * Writes the archive to o->output_path (atomically: a failure leaves what
 * was there). On failure *error (when error is not NULL) gets a one-line
 * message that names what is missing or wrong and what to do, or stays
 * NULL when even that could not be allocated; the caller frees it.
 */
int initramfs_build(const struct initramfs_options *o, struct initramfs_result *ret, char **error);
