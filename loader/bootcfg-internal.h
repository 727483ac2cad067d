/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between bootcfg.c (GRUB, the common part) and bootcfg-kinstall.c. */
#pragma once

#include "bootcfg.h"

/* A warning line for the plan (dropped past BOOTCFG_MAX_WARNINGS). */
void bootcfg_add_note(struct bootcfg_plan *p, const char *fmt, ...) _printf_(2, 3);
/* The file's text below root, or NULL when it does not exist. */
int bootcfg_read_opt(const char *root, const char *path, char **ret);
/* Adds a change unless old and new are the same; takes both texts. */
int bootcfg_add_change(struct bootcfg_plan *p, const char *path, char *old_text, char *new_text);
/* The crashkernel= value that decides on a command line (plain, else ,high); "" when none. */
void bootcfg_deciding_token(const char *cmdline, char *buf, size_t len);

/* crashcap's value in /etc/kernel/cmdline per reserve.json (NULL: none), and the file's text. */
int bootcfg_state_value(const char *root, char **ret_text, char **ret_value);
int bootcfg_plan_kernel_install(const char *root, const char *value, struct bootcfg_plan *p,
				char **error);
