// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapctl reserve [auto|SIZE|RANGES] [--dry-run]: puts crashkernel= where
 * this machine's boot loader takes its command line from (loader/bootcfg.h).
 * crashcapctl unreserve [--dry-run]: takes crashcap's own out again.
 */
#include "ctl.h"

#include "bootcfg.h"
#include "budget.h"
#include "crashkernel-arg.h"
#include "ctl-flags.h"
#include "log.h"
#include "rootfs.h"

#define MIB (1024ULL * 1024)
/*
 * auto = the estimate + 10 %, at least 16 MiB, rounded up to 16 MiB: the
 * reservation is fixed until the next reboot, and a kernel or initramfs
 * update installed before then (a larger init_size, more modules) must
 * still fit; the estimate's own margins cover the crash kernel at run.
 */
#define AUTO_MARGIN_MIN (16 * MIB)
#define AUTO_MARGIN_DIV 10

static int auto_value(const struct ctl_context *ctx, char *buf, size_t len)
{
	_cleanup_(budget_done) struct budget b = {};
	struct load_error err = {};
	struct settings s;
	uint64_t margin, size;
	char e[32], m[32];
	int r;

	r = ctl_load_settings(ctx, &s);
	if (r < 0)
		return r;
	r = budget_compute(ctx->root, &s, &b, &err);
	settings_done(&s);
	if (r < 0)
		return log_error_errno(r,
				       "cannot estimate the memory the crash kernel needs: %s (or "
				       "give the size: crashcapctl reserve SIZE)",
				       err.message[0] ? err.message : strerror(-r));
	margin = MAX(b.proposal / AUTO_MARGIN_DIV, AUTO_MARGIN_MIN);
	size = ALIGN_UP(b.proposal + margin, BUDGET_ROUND);
	printf("Estimate: %s (crashcapctl estimate shows its parts)\n",
	       crashkernel_format_size(b.proposal, e, sizeof(e)));
	printf("Margin:   +%s (10%%, at least 16M, rounded up to 16M): a kernel or initramfs "
	       "update before the next reboot must still fit, and the reservation cannot grow "
	       "without a reboot\n",
	       crashkernel_format_size(size - b.proposal, m, sizeof(m)));
	crashkernel_format_size(size, buf, len);
	return 0;
}

static int explicit_value(const char *arg, char *buf, size_t len)
{
	_cleanup_free_ char *error = NULL;
	struct crashkernel_arg a;
	int r;

	if (startswith(arg, "crashkernel="))
		arg += strlen("crashkernel=");
	r = crashkernel_arg_parse(arg, &a, &error);
	if (r < 0)
		return log_error_errno(r, "%s", error ? error : "invalid crashkernel= value");
	if (a.suffix == CRASHKERNEL_LOW)
		return log_error_errno(-EINVAL,
				       "crashkernel=%s: a ,low part alone reserves nothing on "
				       "x86_64: give the main size instead (such as 256M or "
				       "512M,high)",
				       arg);
	r = crashkernel_arg_format(&a, buf, len);
	if (r < 0)
		return log_error_errno(r, "crashkernel=%s: too long", arg);
	return 0;
}

/* A size below the estimate is the administrator's call, but said. */
static void warn_below_estimate(const struct ctl_context *ctx, const char *value)
{
	_cleanup_(budget_done) struct budget b = {};
	struct crashkernel_arg a;
	struct settings s;
	uint64_t size;
	char e[32], g[32];

	if (crashkernel_arg_parse(value, &a, NULL) < 0 || ctl_load_settings(ctx, &s) < 0)
		return;
	if (budget_compute(ctx->root, &s, &b, NULL) >= 0) {
		size = crashkernel_arg_size_for(&a, b.ram);
		if (size < b.proposal)
			log_warning(
				"warning: crashkernel=%s gives %s on this machine, less than the "
				"estimate (%s): the crash kernel may run out of memory; "
				"crashcapctl estimate shows why",
				value, crashkernel_format_size(size, g, sizeof(g)),
				crashkernel_format_size(b.proposal, e, sizeof(e)));
	}
	settings_done(&s);
}

static void print_manual(const char *value)
{
	printf("Add this to the kernel command line of your boot loader by hand, then reboot:\n"
	       "  crashkernel=%s\n",
	       value);
}

static int run_update_grub(const struct ctl_context *ctx)
{
	static const char *const argv[] = { BOOTCFG_UPDATE_GRUB, NULL };
	_cleanup_free_ char *error = NULL;
	int r;

	if (!root_exists(ctx->root, BOOTCFG_UPDATE_GRUB)) {
		log_warning("%s is not installed: run grub-mkconfig -o /boot/grub/grub.cfg "
			    "for the change to reach the boot menu",
			    BOOTCFG_UPDATE_GRUB);
		return 0;
	}
	r = bootcfg_run(ctx->root, argv, &error);
	if (r < 0)
		return log_error_errno(r, "%s", error ? error : "update-grub failed: %m");
	if (r > 0)
		printf("Not run on a fixture root: %s (recorded in %s%s)\n", BOOTCFG_UPDATE_GRUB,
		       ctx->root, BOOTCFG_FAKE_COMMANDS);
	else
		printf("Ran %s\n", BOOTCFG_UPDATE_GRUB);
	return 0;
}

/* value NULL: unreserve. */
static int change(const struct ctl_context *ctx, const char *value, bool dry_run)
{
	_cleanup_(bootcfg_plan_done) struct bootcfg_plan p = {};
	_cleanup_free_ char *error = NULL;
	const char *root = ctx->root ? ctx->root : "";
	int r;

	r = bootcfg_plan(ctx->root, value, &p, &error);
	if (r < 0)
		return log_error_errno(r, "%s", error ? error : "cannot plan the change: %m");
	if (p.kind == BOOTCFG_NONE) {
		if (!value) {
			printf("No boot loader configuration found (neither %s nor %s): nothing "
			       "to remove\n",
			       BOOTCFG_GRUB_DEFAULT, BOOTCFG_KERNEL_CMDLINE);
			return 0;
		}
		print_manual(value);
		return log_error_errno(-ENOENT,
				       "no boot loader configuration found under %s/ (neither %s "
				       "nor %s): set crashkernel=%s by hand as shown",
				       root, BOOTCFG_GRUB_DEFAULT, BOOTCFG_KERNEL_CMDLINE, value);
	}
	for (size_t i = 0; i < p.n_notes; i++)
		log_warning("warning: %s", p.notes[i]);
	if (p.n_changes == 0) {
		if (value)
			printf("crashkernel=%s is already set (%s): nothing to change\n", value,
			       bootcfg_kind_to_string(p.kind));
		else
			printf("No crashkernel= written by crashcap (%s): nothing to remove\n",
			       bootcfg_kind_to_string(p.kind));
		return 0;
	}
	if (dry_run) {
		for (size_t i = 0; i < p.n_changes; i++) {
			r = bootcfg_diff(stdout, &p.changes[i]);
			if (r < 0)
				return log_error_errno(r, "cannot print the diff: %m");
		}
		if (p.update_grub && root_exists(ctx->root, BOOTCFG_UPDATE_GRUB))
			printf("Would run: %s\n", BOOTCFG_UPDATE_GRUB);
		else if (p.update_grub)
			printf("Would not run %s: it is not installed (run grub-mkconfig -o "
			       "/boot/grub/grub.cfg instead)\n",
			       BOOTCFG_UPDATE_GRUB);
		printf("Dry run: nothing was changed\n");
		return 0;
	}
	r = bootcfg_apply(ctx->root, &p, &error);
	if (r < 0)
		return log_error_errno(r, "%s", error ? error : "cannot write: %m");
	for (size_t i = 0; i < p.n_changes; i++)
		printf("%s %s%s\n", p.changes[i].new_text ? "Wrote" : "Removed", root,
		       p.changes[i].path);
	if (p.update_grub) {
		r = run_update_grub(ctx);
		if (r < 0)
			return r;
	}
	if (p.kind == BOOTCFG_KERNEL_INSTALL)
		printf("kernel-install uses it for kernels installed from now on; for the one "
		       "installed now run: kernel-install add $(uname -r) /boot/vmlinuz-$(uname "
		       "-r)\n");
	if (value && p.overridden_by)
		printf("crashkernel=%s is written, but the one in %s comes later and wins at boot: "
		       "see the warning above\n",
		       value, p.overridden_by);
	else if (value)
		printf("crashkernel=%s%s%s: reboot for it to take effect\n", value,
		       p.previous ? " replaces crashcap's crashkernel=" : "",
		       p.previous ? p.previous : "");
	else
		printf("crashcap's crashkernel=%s is removed: the reservation ends at the next "
		       "reboot\n",
		       p.previous ? p.previous : "");
	return 0;
}

int verb_reserve(int argc, char *argv[], const struct ctl_context *ctx)
{
	const char *arg = "auto";
	char value[256];
	bool dry_run;
	const struct ctl_flag flags[] = { { "dry-run", 'n', &dry_run }, {} };
	int first, r;

	r = ctl_parse_flags(
		argc, argv,
		"Usage: crashcapctl reserve [auto|SIZE|RANGES] [--dry-run]\n\n"
		"Sets crashkernel= where the boot loader takes the kernel command line from:\n"
		"/etc/default/grub.d/crashcap.cfg then update-grub (GRUB), or\n"
		"/etc/kernel/cmdline (kernel-install, systemd-boot). auto (the default) is\n"
		"crashcapctl estimate's proposal + 10% (at least 16M). SIZE: 192M, 1G;\n"
		"RANGES: the kernel's form, 1G-4G:160M,4G-:256M; also SIZE@OFFSET, SIZE,high.\n"
		"Only crashcap's own earlier setting is replaced. Takes effect after a reboot.\n\n"
		"  -n --dry-run   print the changes as a diff and the command, change nothing\n",
		flags, 1, &first);
	if (r <= 0)
		return r;
	if (first < argc)
		arg = argv[first];
	if (streq(arg, "auto"))
		r = auto_value(ctx, value, sizeof(value));
	else {
		r = explicit_value(arg, value, sizeof(value));
		if (r >= 0)
			warn_below_estimate(ctx, value);
	}
	if (r < 0)
		return r;
	return change(ctx, value, dry_run);
}

int verb_unreserve(int argc, char *argv[], const struct ctl_context *ctx)
{
	bool dry_run;
	const struct ctl_flag flags[] = { { "dry-run", 'n', &dry_run }, {} };
	int r;

	r = ctl_parse_flags(argc, argv,
			    "Usage: crashcapctl unreserve [--dry-run]\n\n"
			    "Removes the crashkernel= that crashcapctl reserve wrote (and runs "
			    "update-grub\nfor GRUB); other tools' settings are left alone.\n\n"
			    "  -n --dry-run   print the changes as a diff, change nothing\n",
			    flags, 0, NULL);
	if (r <= 0)
		return r;
	return change(ctx, NULL, dry_run);
}
