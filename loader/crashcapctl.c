// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcapctl: the administrator's command. */
#include "ctl.h"

#include <getopt.h>

#include "kexec_fixture.h"
#include "log.h"

struct verb {
	const char *name;
	int (*run)(int argc, char *argv[], const struct ctl_context *ctx);
	const char *help;
	bool local; /* touches no system state: runs without the fixture check */
};

static int verb_help(int argc, char *argv[], const struct ctl_context *ctx);
static int verb_version(int argc, char *argv[], const struct ctl_context *ctx);

static const struct verb verbs[] = {
	{ "status", verb_status, "show whether a crash kernel is loaded (--json)" },
	{ "load", verb_load, "build the crash initramfs and load the crash kernel" },
	{ "unload", verb_unload, "unload the crash kernel" },
	{ "rebuild", verb_rebuild, "build the crash initramfs only" },
	{ "start", verb_start, "start crashcapd (systemd), or load directly" },
	{ "stop", verb_stop, "stop crashcapd (systemd), or unload directly" },
	{ "restart", verb_restart, "stop, then start" },
	{ "reload", verb_reload, "check the settings and load the crash kernel again" },
	{ "showmem", verb_showmem, "reserved memory, what the loaded image uses, what is free" },
	{ "estimate", verb_estimate, "propose the crashkernel= size this machine needs" },
	{ "reserve", verb_reserve, "set crashkernel= in the boot loader (auto|SIZE|RANGES)" },
	{ "unreserve", verb_unreserve, "remove the crashkernel= reserve wrote" },
	{ "list", verb_list, "list the dumps on the target (--json)" },
	{ "dmesg", verb_dmesg, "print the crashed kernel's log from a dump", true },
	{ "test", verb_test, "panic this machine now (--yes-crash-this-machine)" },
	{ "analyze", verb_analyze, "why the machine died, from a dump alone (--json)", true },
	{ "help", verb_help, "show this help", true },
	{ "--version", verb_version, "show the version", true },
};

static int verb_help(int argc, char *argv[], const struct ctl_context *ctx)
{
	printf("Usage: crashcapctl [--root DIR] [--config FILE] [--verbose] COMMAND [ARGS]\n\n"
	       "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		printf("  %-10s %s\n", verbs[i].name, verbs[i].help);
	printf("\n"
	       "  --root DIR     read /proc, /sys, /etc, /boot under DIR (a test fixture tree);\n"
	       "                 kexec syscalls are then faked, never made\n"
	       "  --config FILE  read only FILE, not /etc/crashcap.conf and its drop-ins\n"
	       "  --verbose      show debug messages\n\n"
	       "\"crashcapctl COMMAND --help\" shows a command's options.\n");
	return 0;
}

static int verb_version(int argc, char *argv[], const struct ctl_context *ctx)
{
	printf("crashcapctl %s\n", CRASHCAP_VERSION);
	return 0;
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static int run(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct ctl_context ctx = {};
	const struct verb *verb;
	int c, r;

	/* '+': options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+r:c:vh", options, NULL)) >= 0) {
		switch (c) {
		case 'r':
			ctx.root = optarg;
			break;
		case 'c':
			ctx.config = optarg;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			return verb_help(0, NULL, &ctx);
		case 'V':
			return verb_version(0, NULL, &ctx);
		default:
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		verb_help(0, NULL, &ctx);
		return -EINVAL;
	}
	verb = find_verb(argv[optind]);
	if (!verb)
		return log_error_errno(-EINVAL, "unknown command '%s': see crashcapctl help",
				       argv[optind]);

	if (verb->local)
		return verb->run(argc - optind, argv + optind, &ctx);
	/* Safety: with a fixture root, no kexec call may reach the kernel. */
	r = kexec_fixture_setup(ctx.root);
	if (r < 0)
		return log_error_errno(
			r, "CRASHCAP_FAKE_SYSCALLS is set: pass --root DIR with a fixture "
			   "tree, not the running system");
	if (r > 0)
		log_debug("fake kexec syscalls: calls are logged to %s%s", ctx.root,
			  KEXEC_FIXTURE_LOG);

	r = verb->run(argc - optind, argv + optind, &ctx);
	kexec_fixture_uninstall();
	return r;
}

int main(int argc, char *argv[])
{
	int r;

	log_setup("crashcapctl", LOG_TARGET_STDERR);
	r = run(argc, argv);
	return r < 0 ? EXIT_FAILURE : r;
}
