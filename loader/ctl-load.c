// SPDX-License-Identifier: GPL-2.0-or-later
/* crashcapctl load | unload */
#include "ctl.h"

#include <getopt.h>

#include "loadfile.h"
#include "log.h"

int ctl_load_settings(const struct ctl_context *ctx, struct settings *ret)
{
	struct config_error err = {};
	struct settings s;
	char buf[600];
	int r;

	settings_init(&s);
	r = settings_load(&s, ctx->root, ctx->config, &err);
	if (r < 0) {
		settings_done(&s);
		if (r == -ENOMEM)
			return log_error_errno(r, "cannot read the settings: %m");
		return log_error_errno(r, "%s", config_error_format(&err, buf, sizeof(buf)));
	}
	*ret = s;
	return 0;
}

static void load_help(void)
{
	printf("Usage: crashcapctl load [--kernel FILE] [--initrd FILE | --no-initrd]\n"
	       "                        [--append ARGS] [--collector PATH]\n\n"
	       "Loads the crash kernel with kexec_file_load. Without --initrd, builds one\n"
	       "into /var/lib/crashcap/initrd-RELEASE.img first.\n");
}

int verb_load(int argc, char *argv[], const struct ctl_context *ctx)
{
	enum { ARG_KERNEL = 0x100, ARG_INITRD, ARG_NO_INITRD, ARG_APPEND, ARG_COLLECTOR };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "kernel", required_argument, NULL, ARG_KERNEL },
		{ "initrd", required_argument, NULL, ARG_INITRD },
		{ "no-initrd", no_argument, NULL, ARG_NO_INITRD },
		{ "append", required_argument, NULL, ARG_APPEND },
		{ "collector", required_argument, NULL, ARG_COLLECTOR },
		{},
	};
	_cleanup_(settings_done) struct settings s = {};
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_request req = { .root = ctx->root };
	struct load_error err = {};
	char a[32], b[32];
	struct reservation res = {};
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			load_help();
			return 0;
		case ARG_KERNEL:
			req.kernel = optarg;
			break;
		case ARG_INITRD:
			req.initrd = optarg;
			break;
		case ARG_NO_INITRD:
			req.no_initrd = true;
			break;
		case ARG_APPEND:
			req.append = optarg;
			break;
		case ARG_COLLECTOR:
			req.collector = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "load: unexpected argument '%s'", argv[optind]);
	if (req.initrd && req.no_initrd)
		return log_error_errno(-EINVAL,
				       "load: --initrd and --no-initrd exclude each other");

	r = ctl_load_settings(ctx, &s);
	if (r < 0)
		return r;
	req.settings = &s;
	r = loadfile_load(&req, &img, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);

	r = loaded_state_write(ctx->root, &img);
	if (r < 0)
		log_warning_errno(r, "crash kernel loaded, but %s could not be written: %m",
				  LOADED_STATE_PATH);
	(void)reservation_read(ctx->root, &res, NULL);
	if (img.initrd)
		printf("crash kernel loaded: %s with %s (%s), %s reserved\n", img.kernel,
		       img.initrd, format_size(img.initrd_size, a, sizeof(a)),
		       format_size(reservation_total(&res), b, sizeof(b)));
	else
		printf("crash kernel loaded: %s without an initrd, %s reserved\n", img.kernel,
		       format_size(reservation_total(&res), b, sizeof(b)));
	return 0;
}

int verb_unload(int argc, char *argv[], const struct ctl_context *ctx)
{
	struct load_error err = {};
	int r;

	if (argc > 1) {
		if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
			printf("Usage: crashcapctl unload\n\nUnloads the crash kernel.\n");
			return 0;
		}
		return log_error_errno(-EINVAL, "unload: unexpected argument '%s'", argv[1]);
	}
	r = loadfile_unload(ctx->root, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);
	r = loaded_state_remove(ctx->root);
	if (r < 0)
		log_warning_errno(r, "cannot remove %s: %m", LOADED_STATE_PATH);
	printf("crash kernel unloaded\n");
	return 0;
}
