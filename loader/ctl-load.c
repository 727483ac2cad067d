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
	       "                        [--append ARGS] [--collector PATH]\n"
	       "                        [--method auto|file|segments] [--reboot-kernel]\n\n"
	       "Loads the crash kernel. Without --initrd, builds one into\n"
	       "/var/lib/crashcap/initrd-RELEASE.img first.\n\n"
	       "  --method M       file: kexec_file_load; segments: kexec_load with crashcap's\n"
	       "                   own boot set-up; auto (default, or load_method= in\n"
	       "                   crashcap.conf): file, else segments when the kernel cannot\n"
	       "                   load the image with kexec_file_load\n"
	       "  --reboot-kernel  load a kernel for a kexec reboot (systemctl kexec) instead:\n"
	       "                   the running kernel's command line plus --append, and\n"
	       "                   /boot/initrd.img-RELEASE unless --initrd or --no-initrd\n");
}

static int parse_method(const char *s, enum load_method *ret)
{
	for (enum load_method m = LOAD_METHOD_AUTO; m <= LOAD_METHOD_SEGMENTS; m++)
		if (streq(load_method_to_string(m), s)) {
			*ret = m;
			return 0;
		}
	return log_error_errno(-EINVAL, "load: --method must be auto, file or segments, got '%s'",
			       s);
}

static void print_loaded(const struct ctl_context *ctx, const struct crash_image *img)
{
	_cleanup_free_ char *how = NULL;
	struct reservation res = {};
	char a[32], b[32];

	if (asprintf(&how, "method: %s%s%s", loadfile_method_name(img),
		     img->fallback ? ", because " : "", img->fallback ? img->fallback : "") < 0)
		how = NULL;
	if (img->reboot) {
		if (img->initrd)
			printf("reboot kernel loaded: %s with %s (%s); %s; systemctl kexec boots it\n",
			       img->kernel, img->initrd,
			       format_size(img->initrd_size, a, sizeof(a)), how ? how : "");
		else
			printf("reboot kernel loaded: %s without an initrd; %s; systemctl kexec boots "
			       "it\n",
			       img->kernel, how ? how : "");
		return;
	}
	(void)reservation_read(ctx->root, &res, NULL);
	if (img->initrd)
		printf("crash kernel loaded: %s with %s (%s), %s reserved; %s\n", img->kernel,
		       img->initrd, format_size(img->initrd_size, a, sizeof(a)),
		       format_size(reservation_total(&res), b, sizeof(b)), how ? how : "");
	else
		printf("crash kernel loaded: %s without an initrd, %s reserved; %s\n", img->kernel,
		       format_size(reservation_total(&res), b, sizeof(b)), how ? how : "");
}

int verb_load(int argc, char *argv[], const struct ctl_context *ctx)
{
	enum {
		ARG_KERNEL = 0x100,
		ARG_INITRD,
		ARG_NO_INITRD,
		ARG_APPEND,
		ARG_COLLECTOR,
		ARG_METHOD,
		ARG_REBOOT_KERNEL,
	};
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "kernel", required_argument, NULL, ARG_KERNEL },
		{ "initrd", required_argument, NULL, ARG_INITRD },
		{ "no-initrd", no_argument, NULL, ARG_NO_INITRD },
		{ "append", required_argument, NULL, ARG_APPEND },
		{ "collector", required_argument, NULL, ARG_COLLECTOR },
		{ "method", required_argument, NULL, ARG_METHOD },
		{ "reboot-kernel", no_argument, NULL, ARG_REBOOT_KERNEL },
		{},
	};
	_cleanup_(settings_done) struct settings s = {};
	_cleanup_(crash_image_done) struct crash_image img = {};
	struct load_request req = { .root = ctx->root };
	struct load_error err = {};
	enum load_method method = LOAD_METHOD_AUTO;
	bool has_method = false;
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
		case ARG_METHOD:
			r = parse_method(optarg, &method);
			if (r < 0)
				return r;
			has_method = true;
			break;
		case ARG_REBOOT_KERNEL:
			req.reboot_kernel = true;
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
	if (req.reboot_kernel && req.collector)
		return log_error_errno(-EINVAL,
				       "load: --collector is for the crash initrd, not with "
				       "--reboot-kernel");

	r = ctl_load_settings(ctx, &s);
	if (r < 0)
		return r;
	if (has_method)
		s.load_method = method;
	req.settings = &s;
	r = loadfile_load(&req, &img, &err);
	if (r < 0 && !err.message[0])
		return log_error_errno(r, "cannot load the kernel: %m");
	if (r < 0)
		return log_error_errno(r, "%s", err.message);

	/* loaded.json describes the crash kernel; a reboot kernel leaves it alone. */
	if (!img.reboot) {
		r = loaded_state_write(ctx->root, &img);
		if (r < 0)
			log_warning_errno(r, "crash kernel loaded, but %s could not be written: %m",
					  LOADED_STATE_PATH);
	}
	print_loaded(ctx, &img);
	return 0;
}

int verb_unload(int argc, char *argv[], const struct ctl_context *ctx)
{
	struct load_error err = {};
	bool reboot = false;
	int r;

	if (argc > 1) {
		if (streq(argv[1], "--help") || streq(argv[1], "-h")) {
			printf("Usage: crashcapctl unload [--reboot-kernel]\n\n"
			       "Unloads the crash kernel, or the kexec reboot kernel.\n");
			return 0;
		}
		if (!streq(argv[1], "--reboot-kernel") || argc > 2)
			return log_error_errno(-EINVAL, "unload: unexpected argument '%s'",
					       argv[argc > 2 ? 2 : 1]);
		reboot = true;
	}
	r = reboot ? loadfile_unload_reboot(ctx->root, &err) : loadfile_unload(ctx->root, &err);
	if (r < 0)
		return log_error_errno(r, "%s", err.message);
	if (reboot) {
		printf("reboot kernel unloaded\n");
		return 0;
	}
	r = loaded_state_remove(ctx->root);
	if (r < 0)
		log_warning_errno(r, "cannot remove %s: %m", LOADED_STATE_PATH);
	printf("crash kernel unloaded\n");
	return 0;
}
