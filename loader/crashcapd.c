// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapd: keeps a crash kernel loaded while the system runs. At start it
 * reads the settings, checks the reservation, applies retention, builds the
 * crash initramfs when an input changed, loads, and only then tells systemd
 * it is ready. SIGHUP reads the settings again and reloads; a burst of
 * memory or CPU hotplug events reloads once (unless the kernel keeps the
 * image current itself); SIGTERM unloads (unless keep_loaded_on_stop) and
 * exits. The loop is in daemon-loop.c, the loading in service.c.
 */
#include <getopt.h>

#include "daemon.h"
#include "kexec_fixture.h"
#include "log.h"
#include "version.h"

static void help(void)
{
	printf("Usage: crashcapd [--root DIR] [--config FILE] [--collector PATH]\n"
	       "                 [--hotplug-source auto|udev|kernel] [--verbose]\n\n"
	       "Loads the crash kernel and keeps it loaded: SIGHUP reads the settings again\n"
	       "and reloads, memory and CPU hotplug reload it, SIGTERM unloads it and exits.\n"
	       "Runs under systemd as crashcap.service (see crashcapd(8)).\n\n"
	       "  --root DIR        read /proc, /sys, /etc, /boot under DIR (a test fixture\n"
	       "                    tree); kexec syscalls are then faked, never made\n"
	       "  --config FILE     read only FILE, not /etc/crashcap.conf and its drop-ins\n"
	       "  --collector PATH  the crashcap-collect binary to put in the crash initramfs\n"
	       "  --hotplug-source  udev (an sd-device monitor), kernel (the kernel's uevents)\n"
	       "                    or auto (udev when it runs)\n");
}

static int parse_args(int argc, char *argv[], struct daemon_options *o)
{
	enum { ARG_COLLECTOR = 0x100, ARG_HOTPLUG_SOURCE, ARG_UEVENT_SOCKET, ARG_VERSION };
	static const struct option options[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "collector", required_argument, NULL, ARG_COLLECTOR },
		{ "hotplug-source", required_argument, NULL, ARG_HOTPLUG_SOURCE },
		/* Tests only: kernel-format uevents from a socket they write to. */
		{ "test-uevent-socket", required_argument, NULL, ARG_UEVENT_SOCKET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:c:vh", options, NULL)) >= 0) {
		switch (c) {
		case 'r':
			o->root = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case ARG_COLLECTOR:
			o->collector = optarg;
			break;
		case ARG_HOTPLUG_SOURCE:
			if (streq(optarg, "auto"))
				o->hotplug_source = HOTPLUG_SOURCE_AUTO;
			else if (streq(optarg, "udev"))
				o->hotplug_source = HOTPLUG_SOURCE_UDEV;
			else if (streq(optarg, "kernel"))
				o->hotplug_source = HOTPLUG_SOURCE_KERNEL;
			else
				return log_error_errno(
					-EINVAL,
					"--hotplug-source must be auto, udev or kernel, got '%s'",
					optarg);
			break;
		case ARG_UEVENT_SOCKET:
			o->uevent_socket = optarg;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("crashcapd %s\n", CRASHCAP_VERSION);
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "unexpected argument '%s'", argv[optind]);
	return 1;
}

static int run(int argc, char *argv[])
{
	struct daemon_options o = {};
	int r;

	r = parse_args(argc, argv, &o);
	if (r <= 0)
		return r;
	/* Safety: with a fixture root, no kexec call may reach the kernel. */
	r = kexec_fixture_setup(o.root);
	if (r < 0)
		return log_error_errno(r, "CRASHCAP_FAKE_SYSCALLS is set: pass --root DIR with a "
					  "fixture tree, not the running system");
	r = daemon_run(&o);
	kexec_fixture_uninstall();
	return r;
}

int main(int argc, char *argv[])
{
	log_setup_auto("crashcapd");
	return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
