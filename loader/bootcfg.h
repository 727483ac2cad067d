/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where this machine's boot loader takes the kernel command line from, and
 * crashcap's own crashkernel= in it: Debian GRUB (a drop-in in
 * /etc/default/grub.d, then update-grub) or kernel-install / systemd-boot
 * (/etc/kernel/cmdline). Every path is below root. Changes are planned
 * first (old and new text of each file), so that --dry-run can print them
 * as a diff, and applied only after. Logs at debug level only.
 *
 * bootcfg.c: detection, GRUB plans, applying them, the configured value.
 * bootcfg-kinstall.c: /etc/kernel/cmdline plans.
 * bootcfg-grub.c: what GRUB's shell files set GRUB_CMDLINE_LINUX* to.
 * bootcfg-diff.c: unified diffs. bootcfg-exec.c: running update-grub.
 */
#pragma once

#include "loadfile.h"
#include "util.h"

#define BOOTCFG_GRUB_DEFAULT "/etc/default/grub"
#define BOOTCFG_GRUB_DROPIN_DIR "/etc/default/grub.d"
#define BOOTCFG_GRUB_DROPIN "/etc/default/grub.d/crashcap.cfg"
#define BOOTCFG_KERNEL_CMDLINE "/etc/kernel/cmdline"
/* Says which crashkernel= token of /etc/kernel/cmdline crashcap wrote. */
#define BOOTCFG_STATE CRASHCAP_STATE_DIR "/reserve.json"
/* The first line of crashcap's GRUB drop-in: only a file with it is ours. */
#define BOOTCFG_MARK "# written by crashcapctl reserve"
#define BOOTCFG_UPDATE_GRUB "/usr/sbin/update-grub"
/* What a fixture root records instead of running a command. */
#define BOOTCFG_FAKE_COMMANDS "/run/crashcap/fake-commands.log"

enum bootcfg_kind {
	BOOTCFG_NONE,
	BOOTCFG_GRUB,
	BOOTCFG_KERNEL_INSTALL,
};

struct bootcfg_change {
	char *path; /* absolute, as on the machine ("/etc/kernel/cmdline") */
	char *old_text; /* NULL: the file does not exist */
	char *new_text; /* NULL: the file is removed */
};

#define BOOTCFG_MAX_CHANGES 3
#define BOOTCFG_MAX_WARNINGS 8

struct bootcfg_plan {
	enum bootcfg_kind kind;
	struct bootcfg_change changes[BOOTCFG_MAX_CHANGES];
	size_t n_changes; /* 0: nothing to do */
	bool update_grub; /* GRUB's boot menu must be generated again */
	char *previous; /* crashcap's crashkernel= value before, NULL: none */
	char *overridden_by; /* the file whose crashkernel= wins over crashcap's, NULL: none */
	char *notes[BOOTCFG_MAX_WARNINGS]; /* warnings, one line each */
	size_t n_notes;
};

void bootcfg_plan_done(struct bootcfg_plan *p);
const char *bootcfg_kind_to_string(enum bootcfg_kind k);

/* GRUB when ROOT/etc/default/grub exists, else kernel-install, else none. */
int bootcfg_detect(const char *root, enum bootcfg_kind *ret);

/*
 * Plans setting crashkernel=value (value NULL: removing crashcap's
 * setting). -EEXIST with *error when crashcap's file exists but was not
 * written by crashcap; a plan of kind BOOTCFG_NONE when no boot loader
 * configuration was found.
 */
int bootcfg_plan(const char *root, const char *value, struct bootcfg_plan *ret, char **error);
/* Writes the planned files below root (atomically, mode 0644) or removes them. */
int bootcfg_apply(const char *root, const struct bootcfg_plan *p, char **error);

/* The command line the boot loader configuration gives the kernel. */
struct bootcfg_configured {
	enum bootcfg_kind kind;
	char *cmdline; /* NULL: no boot loader configuration found */
	char *source; /* the file the deciding crashkernel= comes from, NULL: none */
	bool ours; /* that crashkernel= was written by crashcapctl reserve */
};

void bootcfg_configured_done(struct bootcfg_configured *c);
int bootcfg_read_configured(const char *root, struct bootcfg_configured *ret);

/* --- bootcfg-grub.c --- */

struct grub_cmdline {
	char *linux_; /* GRUB_CMDLINE_LINUX: every entry, recovery too */
	char *linux_default; /* GRUB_CMDLINE_LINUX_DEFAULT: normal entries, after the above */
};

void grub_cmdline_done(struct grub_cmdline *g);
/*
 * Applies the GRUB_CMDLINE_LINUX[_DEFAULT] assignments of a shell file
 * (as sh would, for the quoting and $VAR forms such files use) to *g.
 * Other variables expand to nothing.
 */
int grub_cmdline_eval(const char *text, struct grub_cmdline *g);
/* "$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT": a normal entry's line (10_linux). */
int grub_cmdline_join(const struct grub_cmdline *g, char **ret);

/* --- bootcfg-diff.c --- */

/* A unified diff of one file ("--- a/PATH", "+++ b/PATH", /dev/null for absent). */
int bootcfg_diff(FILE *out, const struct bootcfg_change *c);

/* --- bootcfg-exec.c --- */

/*
 * Runs argv[0] (an absolute path) with root's policy: on a fixture root
 * (anything but "/") or with CRASHCAP_FAKE_SYSCALLS=1 the command is never
 * run, only appended to ROOT/run/crashcap/fake-commands.log; returns 0
 * when it ran, 1 when it was only recorded, or a negative errno (-EPERM:
 * CRASHCAP_FAKE_SYSCALLS=1 on the running system; -EPROTO with *error when
 * the command failed).
 */
int bootcfg_run(const char *root, const char *const argv[], char **error);
