/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcapctl's commands. Each takes its own argv (argv[0] is the command
 * name) and returns the exit status, or a negative errno after logging it
 * (exit status 1).
 */
#pragma once

#include "settings.h"

#include "version.h"

/* status: like "systemctl is-active", 3 means "not ready". */
#define CTL_EXIT_NOT_READY 3

struct ctl_context {
	const char *root; /* --root, NULL: the running system */
	const char *config; /* --config, NULL: ROOT/etc/crashcap.conf and drop-ins */
};

/* Reads the settings the context names; logs a "file:line: message" error. */
int ctl_load_settings(const struct ctl_context *ctx, struct settings *ret);

int verb_load(int argc, char *argv[], const struct ctl_context *ctx);
int verb_unload(int argc, char *argv[], const struct ctl_context *ctx);
int verb_status(int argc, char *argv[], const struct ctl_context *ctx);
int verb_rebuild(int argc, char *argv[], const struct ctl_context *ctx);
int verb_analyze(int argc, char *argv[], const struct ctl_context *ctx);
int verb_start(int argc, char *argv[], const struct ctl_context *ctx);
int verb_stop(int argc, char *argv[], const struct ctl_context *ctx);
int verb_restart(int argc, char *argv[], const struct ctl_context *ctx);
int verb_reload(int argc, char *argv[], const struct ctl_context *ctx);
int verb_showmem(int argc, char *argv[], const struct ctl_context *ctx);
int verb_estimate(int argc, char *argv[], const struct ctl_context *ctx);
int verb_reserve(int argc, char *argv[], const struct ctl_context *ctx);
int verb_unreserve(int argc, char *argv[], const struct ctl_context *ctx);
int verb_list(int argc, char *argv[], const struct ctl_context *ctx);
struct dump_list;
/* The dumps in the folder given (--dir), else where the settings put them; logs failures. */
int ctl_read_dumps(const struct ctl_context *ctx, const char *given, char **ret_dir,
		   struct dump_list *ret);
int verb_dmesg(int argc, char *argv[], const struct ctl_context *ctx);
int verb_test(int argc, char *argv[], const struct ctl_context *ctx);
