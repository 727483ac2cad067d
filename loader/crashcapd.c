// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapd: keeps a crash kernel loaded while the system runs. It loads
 * one at start (the same code path as "crashcapctl load"), tells systemd
 * when it is ready, loads again on SIGHUP and unloads on SIGTERM. Hotplug
 * watching comes later.
 */
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "ctl.h"
#include "kexec_fixture.h"
#include "loadfile.h"
#include "log.h"
#include "rootfs.h"

struct daemon {
	struct ctl_context ctx;
	const char *collector;
	struct crash_image good; /* the image loaded now */
	bool loaded;
};

static void notify_loaded(const struct crash_image *img, const char *prefix)
{
	sd_notifyf(false, "READY=1\nSTATUS=%scrash kernel loaded: %s%s%s", prefix, img->kernel,
		   img->initrd ? " with " : "", img->initrd ? img->initrd : "");
}

static bool crash_loaded(const char *root)
{
	uint64_t v = 0;

	return root_read_u64(root, "/sys/kernel/kexec_crash_loaded", 10, &v) >= 0 && v;
}

/*
 * A load frees the loaded image before it checks the new one (EPERM and
 * EBUSY come earlier), so when a reload fails in the kernel the previous
 * image goes back in at once. A reload refused before the syscall leaves
 * the previous image loaded as it was.
 */
static int load_now(struct daemon *d)
{
	_cleanup_(settings_done) struct settings s = {};
	struct crash_image img = {};
	struct load_error err = {};
	struct load_request req = { .root = d->ctx.root, .collector = d->collector };
	int r;

	r = ctl_load_settings(&d->ctx, &s);
	if (r >= 0) {
		req.settings = &s;
		r = loadfile_load(&req, &img, &err);
		if (r < 0)
			log_error_errno(r, "%s", err.message);
	} else
		snprintf(err.message, sizeof(err.message),
			 "the settings have an error (see the log)");
	if (r >= 0) {
		log_info("crash kernel loaded: %s (%s)", img.kernel, img.cmdline);
		crash_image_done(&d->good);
		d->good = img;
		d->loaded = true;
		if (loaded_state_write(d->ctx.root, &d->good) < 0)
			log_warning("cannot write %s", LOADED_STATE_PATH);
		notify_loaded(&d->good, "");
		return 0;
	}
	if (!d->loaded) {
		sd_notifyf(false, "STATUS=no crash kernel loaded: %s", err.message);
		return r;
	}
	if (crash_loaded(d->ctx.root)) {
		log_notice("the previous crash kernel %s stays loaded", d->good.kernel);
		notify_loaded(&d->good, "reload failed; ");
		return r;
	}
	if (loadfile_load_image(d->ctx.root, &d->good, &err) < 0) {
		log_error("loading the previous crash kernel again failed too: %s", err.message);
		d->loaded = false;
		(void)loaded_state_remove(d->ctx.root);
		sd_notifyf(false, "READY=1\nSTATUS=no crash kernel loaded: %s", err.message);
		return r;
	}
	log_notice("loaded the previous crash kernel %s again", d->good.kernel);
	notify_loaded(&d->good, "reload failed; ");
	return r;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	sd_notify(false, "RELOADING=1");
	log_info("SIGHUP: loading the crash kernel again");
	(void)load_now(d);
	return 0;
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void help(void)
{
	printf("Usage: crashcapd [--root DIR] [--config FILE] [--collector PATH] [--verbose]\n\n"
	       "Loads the crash kernel and keeps it loaded: SIGHUP loads it again\n"
	       "(after a settings change), SIGTERM unloads it and exits.\n");
}

static int parse_args(int argc, char *argv[], struct daemon *d)
{
	enum { ARG_COLLECTOR = 0x100 };
	static const struct option options[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "collector", required_argument, NULL, ARG_COLLECTOR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "r:c:vh", options, NULL)) >= 0) {
		switch (c) {
		case 'r':
			d->ctx.root = optarg;
			break;
		case 'c':
			d->ctx.config = optarg;
			break;
		case ARG_COLLECTOR:
			d->collector = optarg;
			break;
		case 'v':
			log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
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
	sd_event *event = NULL;
	struct daemon d = {};
	struct load_error err = {};
	sigset_t mask;
	int r;

	r = parse_args(argc, argv, &d);
	if (r <= 0)
		return r;
	r = kexec_fixture_setup(d.ctx.root);
	if (r < 0)
		return log_error_errno(r, "CRASHCAP_FAKE_SYSCALLS is set: pass --root DIR with a "
					  "fixture tree, not the running system");

	/* sd-event takes signals through a signalfd: they must be blocked first. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(negative_errno(), "cannot block signals: %m");
	r = sd_event_default(&event);
	if (r < 0)
		return log_error_errno(r, "cannot set up the event loop: %m");
	if ((r = sd_event_add_signal(event, NULL, SIGTERM, on_stop, &d)) < 0 ||
	    (r = sd_event_add_signal(event, NULL, SIGINT, on_stop, &d)) < 0 ||
	    (r = sd_event_add_signal(event, NULL, SIGHUP, on_reload, &d)) < 0) {
		sd_event_unref(event);
		return log_error_errno(r, "cannot watch signals: %m");
	}

	r = load_now(&d);
	if (r >= 0) {
		r = sd_event_loop(event);
		if (r < 0)
			log_error_errno(r, "event loop failed: %m");
		sd_notify(false, "STOPPING=1\nSTATUS=unloading the crash kernel");
		if (d.loaded) {
			int q = loadfile_unload(d.ctx.root, &err);

			if (q < 0)
				r = log_error_errno(q, "%s", err.message);
			else
				log_info("crash kernel unloaded");
			(void)loaded_state_remove(d.ctx.root);
		}
	}
	crash_image_done(&d.good);
	sd_event_unref(event);
	kexec_fixture_uninstall();
	return r;
}

int main(int argc, char *argv[])
{
	log_setup_auto("crashcapd");
	return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
