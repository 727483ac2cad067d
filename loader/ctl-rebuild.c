// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcapctl rebuild: the crash initramfs, without loading it. */
#include "ctl.h"

#include <getopt.h>

#include "loadfile.h"
#include "log.h"

static void rebuild_help(void)
{
	printf("Usage: crashcapctl rebuild [--output FILE] [--kernel-release R]\n"
	       "                           [--modules-dir DIR] [--collector PATH]\n"
	       "                           [--add-module NAME]...\n\n"
	       "Builds the crash initramfs (default: /var/lib/crashcap/initrd-RELEASE.img).\n");
}

int verb_rebuild(int argc, char *argv[], const struct ctl_context *ctx)
{
	enum { ARG_OUTPUT = 0x100, ARG_RELEASE, ARG_MODULES_DIR, ARG_COLLECTOR, ARG_ADD_MODULE };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "output", required_argument, NULL, ARG_OUTPUT },
		{ "kernel-release", required_argument, NULL, ARG_RELEASE },
		{ "modules-dir", required_argument, NULL, ARG_MODULES_DIR },
		{ "collector", required_argument, NULL, ARG_COLLECTOR },
		{ "add-module", required_argument, NULL, ARG_ADD_MODULE },
		{},
	};
	_cleanup_(settings_done) struct settings s = {};
	_cleanup_free_ char **modules = NULL;
	_cleanup_free_ char *path = NULL;
	struct initrd_request req = { .root = ctx->root };
	struct initramfs_result res = {};
	struct load_error err = {};
	size_t n_modules = 0;
	char size[32];
	int c, r;

	/* argc bounds the number of --add-module: one array, no growing. */
	modules = calloc(argc + 1, sizeof(char *));
	if (!modules)
		return log_error_errno(-ENOMEM, "out of memory");
	optind = 0;
	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			rebuild_help();
			return 0;
		case 'o':
		case ARG_OUTPUT:
			req.output = optarg;
			break;
		case ARG_RELEASE:
			req.release = optarg;
			break;
		case ARG_MODULES_DIR:
			req.modules_dir = optarg;
			break;
		case ARG_COLLECTOR:
			req.collector = optarg;
			break;
		case ARG_ADD_MODULE:
			modules[n_modules++] = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "rebuild: unexpected argument '%s'", argv[optind]);
	req.extra_modules = n_modules ? modules : NULL;

	r = ctl_load_settings(ctx, &s);
	if (r < 0)
		return r;
	req.settings = &s;
	r = loadfile_build_initrd(&req, &path, &res, &err);
	if (r < 0) {
		/* The message names what is missing and what to do; none only out of memory. */
		if (!err.message[0])
			return log_error_errno(r, "cannot build the crash initramfs: %m");
		return log_error_errno(r, "%s", err.message);
	}
	printf("%s (%s, %zu kernel module%s)\n", path, format_size(res.size, size, sizeof(size)),
	       res.nr_modules, res.nr_modules == 1 ? "" : "s");
	return 0;
}
