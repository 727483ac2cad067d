/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a built crash initramfs was made from, kept next to it as
 * <initrd>.manifest: one "name sha256" line per input (the crash kernel,
 * the collector binary, the settings it carries, the kernel's modules and
 * the resolved dump target, crashcap's version). crashcapd builds the
 * initramfs again only when one of them changed.
 */
#pragma once

#include "settings.h"

enum manifest_input {
	MANIFEST_KERNEL,
	MANIFEST_COLLECTOR,
	MANIFEST_SETTINGS,
	MANIFEST_MODULES,
	MANIFEST_VERSION,
	_MANIFEST_MAX,
};

struct manifest {
	char hash[_MANIFEST_MAX][65]; /* lower-case hex; "" when unknown */
};

struct manifest_inputs {
	const char *root;
	const char *kernel; /* the crash kernel image (a path as it is) */
	const char *collector;
	const struct settings *settings;
	const char *release; /* the crash kernel's: whose modules */
	const char *modules_dir; /* NULL: root/lib/modules/<release> */
};

const char *manifest_input_to_string(enum manifest_input i);
int manifest_compute(const struct manifest_inputs *in, struct manifest *ret);
/* -ENOENT when there is none; -EBADMSG when it is not one we wrote. */
int manifest_read(const char *path, struct manifest *ret);
/* Written to a temporary file and renamed into place. */
int manifest_write(const char *path, const struct manifest *m);
/* The first input that differs, or -1 when a and b are the same. */
int manifest_diff(const struct manifest *a, const struct manifest *b);
