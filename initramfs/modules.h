/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which kernel module files the crash initramfs carries, in the order
 * /init loads them. Names are resolved with libkmod the way modprobe does
 * (module names, aliases such as "fs-ext4", modules.dep, softdeps from
 * modules.softdep and modprobe.d), every dependency before its user.
 * Built-in modules resolve to nothing to load.
 */
#pragma once

#include "util.h"

struct module_file {
	char *name; /* "virtio_blk" (the kernel's spelling, '_' not '-') */
	char *path; /* absolute path of the .ko/.ko.xz/.ko.zst file */
	char *relpath; /* path below the modules directory: "kernel/drivers/..." */
};

struct module_set;

/*
 * modules_dir holds modules.dep.bin (from depmod). config_root: whose
 * /etc/modprobe.d, /run/modprobe.d, /lib/modprobe.d to honour ("/" for the
 * running system), or NULL for none (only modules.softdep then).
 * -ENOENT: modules_dir does not exist. -ENOTDIR: it is not a directory.
 * -ENOPKG: it has no modules.dep.bin (depmod has not been run for that
 * kernel). On failure *error (when error is not NULL) gets a one-line
 * message for the user (lib/errmsg.h); the caller frees it.
 */
int module_set_new(const char *modules_dir, const char *config_root, struct module_set **ret,
		   char **error);
struct module_set *module_set_free(struct module_set *s);
static inline void module_set_freep(struct module_set **s)
{
	module_set_free(*s);
}
#define _cleanup_module_set_ _cleanup_(module_set_freep)

/*
 * Adds a module by name or alias with everything it needs: "pre:" softdeps,
 * dependencies, the module, "post:" softdeps. An alias that several modules
 * carry adds them all. Adding a module twice, or one that is built in, adds
 * nothing. Returns how many module files were added, or -ENOENT when
 * neither a module, an alias nor a built-in module has that name; -EINVAL
 * for an empty name; -ELOOP when dependencies nest absurdly deep (a damaged
 * index). error: as for module_set_new(); NULL when a failure is expected.
 */
int module_set_add(struct module_set *s, const char *name, char **error);
/* The module of a file system type: the alias "fs-TYPE", else a module named TYPE. */
int module_set_add_filesystem(struct module_set *s, const char *fstype, char **error);

/* The files in load order; the array stays valid until the next add or free. */
const struct module_file *module_set_files(const struct module_set *s, size_t *ret_count);

/*
 * The modules whose drivers a block device uses, read from root's sysfs:
 * /sys/class/block/DEV (a partition's disk; for device-mapper and md the
 * devices below it, from slaves/) and each device up the parent chain
 * whose driver links a module (driver/module). Outermost parent first, so
 * buses come before the devices on them. Built-in drivers have no module
 * and are left out. -ENOENT: root has no /sys/class/block/DEV.
 * The result is a NULL-terminated array; free it with module_names_free().
 */
int block_device_modules(const char *root, const char *devname, char ***ret_names);
char **module_names_free(char **names);
static inline void module_names_freep(char ***names)
{
	module_names_free(*names);
}
#define _cleanup_module_names_ _cleanup_(module_names_freep)
