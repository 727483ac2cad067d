// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon.h"

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "atomic-file.h"
#include "daemon-analyze.h"
#include "debounce.h"
#include "json.h"
#include "log.h"
#include "rootfs.h"

struct daemon {
	struct service svc;
	sd_event *event;
	struct hotplug_monitor *hotplug;
	sd_event_source *timer;
	struct debounce debounce;
	struct daemon_analyzer *analyzer; /* analysis.json for new dumps; NULL: none */
	bool burst[_HOTPLUG_SUBSYSTEM_MAX]; /* subsystems with events in the pending burst */
	unsigned events; /* hotplug events seen */
	unsigned bursts; /* bursts ended */
	unsigned hotplug_reloads; /* bursts that reloaded */
	unsigned kernel_updated; /* bursts the kernel covered itself (crash_hotplug) */
	unsigned unchanged; /* bursts that changed nothing a dump covers */
};

static void write_state(const struct daemon *d)
{
	const struct service_stats *st = &d->svc.stats;
	_cleanup_free_ char *path = NULL;
	struct atomic_file af;
	struct json j;

	if (root_path(d->svc.root, DAEMON_STATE_PATH, &path) < 0 || mkdir_parents(path, 0755) < 0 ||
	    atomic_file_open(path, 0644, &af) < 0)
		return;
	json_begin(&j, af.f, true);
	json_object_open(&j, NULL);
	json_i64(&j, "pid", getpid());
	json_bool(&j, "loaded", d->svc.loaded);
	json_string(&j, "kernel", d->svc.loaded ? d->svc.good.kernel : NULL);
	json_string(&j, "hotplug_source", d->hotplug ? hotplug_monitor_describe(d->hotplug) : NULL);
	json_u64(&j, "hotplug_events", d->events);
	json_u64(&j, "hotplug_bursts", d->bursts);
	json_u64(&j, "hotplug_reloads", d->hotplug_reloads);
	json_u64(&j, "hotplug_kernel_updated", d->kernel_updated);
	json_u64(&j, "hotplug_unchanged", d->unchanged);
	json_u64(&j, "loads", st->loads);
	json_u64(&j, "reloads", st->reloads);
	json_u64(&j, "failed_reloads", st->failed_reloads);
	json_u64(&j, "fallbacks", st->fallbacks);
	json_u64(&j, "initrd_builds", st->builds);
	if (st->gap_known) {
		json_u64(&j, "last_gap_usec", st->last_gap_usec);
		json_u64(&j, "max_gap_usec", st->max_gap_usec);
	} else {
		json_null(&j, "last_gap_usec");
		json_null(&j, "max_gap_usec");
	}
	json_string(&j, "settings_error", d->svc.error[0] ? d->svc.error : NULL);
	json_object_close(&j);
	(void)atomic_file_commit(&af, json_end(&j));
}

/* ready: also READY=1, in the same message (after start or a reload). */
static void notify_status(struct daemon *d, bool ready, const char *prefix)
{
	char status[800];

	service_status(&d->svc, status, sizeof(status));
	sd_notifyf(false, "%sSTATUS=%s%s", ready ? "READY=1\n" : "", prefix ? prefix : "", status);
	write_state(d);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* The burst is over: reload unless the kernel keeps the loaded image current for all of it. */
static void end_burst(struct daemon *d, unsigned events)
{
	const struct settings *s = &d->svc.settings;
	bool need = false;
	char what[128], fp[65];
	int n = 0, r;

	d->bursts++;
	for (int i = 0; i < _HOTPLUG_SUBSYSTEM_MAX; i++) {
		if (!d->burst[i])
			continue;
		n += snprintf(what + n, sizeof(what) - n, "%s%s", n ? " and " : "",
			      hotplug_subsystem_to_string(i));
		if (s->hotplug_reload == HOTPLUG_RELOAD_ALWAYS ||
		    !hotplug_kernel_updates(d->svc.root, i))
			need = true;
		d->burst[i] = false;
	}
	if (need && s->hotplug_reload != HOTPLUG_RELOAD_ALWAYS && d->svc.loaded &&
	    d->svc.fingerprint[0] && service_fingerprint(d->svc.root, fp) >= 0 &&
	    streq(fp, d->svc.fingerprint)) {
		d->unchanged++;
		log_info("%s hotplug (%u event%s): RAM ranges and present CPUs are as the loaded "
			 "crash image has them: no reload",
			 what, events, events == 1 ? "" : "s");
		write_state(d);
		return;
	}
	if (!need) {
		d->kernel_updated++;
		log_info("%s hotplug (%u event%s): the kernel keeps the loaded crash image current "
			 "itself (crash_hotplug = 1): no reload",
			 what, events, events == 1 ? "" : "s");
		write_state(d);
		return;
	}
	snprintf(what + n, sizeof(what) - n, " hotplug, %u event%s", events,
		 events == 1 ? "" : "s");
	sd_notifyf(false, "STATUS=reloading the crash kernel after %s", what);
	r = service_reload(&d->svc, what, false);
	d->hotplug_reloads++;
	notify_status(d, false, r < 0 ? "reload after hotplug failed; " : NULL);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	unsigned events;

	if (debounce_fire(&d->debounce, now_usec(), &events))
		end_burst(d, events);
	else if (debounce_due(&d->debounce) != DEBOUNCE_NEVER)
		(void)sd_event_source_set_time(s, debounce_due(&d->debounce));
	if (debounce_due(&d->debounce) != DEBOUNCE_NEVER)
		(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static void on_hotplug(enum hotplug_subsystem sub, const char *action, const char *devpath,
		       void *userdata)
{
	struct daemon *d = userdata;
	uint64_t due;

	d->events++;
	if (d->svc.settings.hotplug_reload == HOTPLUG_RELOAD_NEVER) {
		log_debug("%s %s %s: hotplug_reload = never", hotplug_subsystem_to_string(sub),
			  action, devpath);
		return;
	}
	log_debug("hotplug: %s %s %s", hotplug_subsystem_to_string(sub), action, devpath);
	d->burst[sub] = true;
	due = debounce_event(&d->debounce, now_usec());
	(void)sd_event_source_set_time(d->timer, due);
	(void)sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	char prefix[700];
	int r;

	sd_notify(false, "RELOADING=1\nSTATUS=reloading: reading the settings again");
	log_info("SIGHUP: reading the settings and loading the crash kernel again");
	r = service_reload(&d->svc, "SIGHUP", true);
	/* The new settings took over: a hotplug burst under way is covered by this load. */
	if (r >= 0) {
		debounce_cancel(&d->debounce);
		for (int i = 0; i < _HOTPLUG_SUBSYSTEM_MAX; i++)
			d->burst[i] = false;
		d->debounce.quiet_usec = d->svc.settings.hotplug_quiet_usec;
		d->debounce.max_delay_usec = d->svc.settings.hotplug_max_delay_usec;
		notify_status(d, true, NULL);
		daemon_analyze_settings(&d->analyzer, d->event, d->svc.root, &d->svc.settings);
		return 0;
	}
	if (d->svc.error[0])
		snprintf(prefix, sizeof(prefix), "reload failed: %s; ", d->svc.error);
	else
		snprintf(prefix, sizeof(prefix), "reload failed; ");
	notify_status(d, true, prefix);
	return 0;
}

static int on_stop(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int setup(struct daemon *d, const struct daemon_options *o)
{
	sigset_t mask;
	int r;

	/* sd-event takes signals through a signalfd: they must be blocked first. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(negative_errno(), "cannot block signals: %m");
	r = sd_event_default(&d->event);
	if (r < 0)
		return log_error_errno(r, "cannot set up the event loop: %m");
	if ((r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop, d)) < 0 ||
	    (r = sd_event_add_signal(d->event, NULL, SIGHUP, on_reload, d)) < 0)
		return log_error_errno(r, "cannot watch signals: %m");
	r = sd_event_add_time(d->event, &d->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, d);
	if (r < 0)
		return log_error_errno(r, "cannot set up the hotplug timer: %m");
	(void)sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
	/* Watching starts before the first load: events during it are not lost. */
	r = hotplug_monitor_new(d->event, o->root, o->hotplug_source, o->uevent_socket, on_hotplug,
				d, &d->hotplug);
	if (r < 0)
		log_warning_errno(r, "cannot watch memory and CPU hotplug (%m): the crash kernel "
				     "will not be reloaded when they change");
	else
		log_info("watching memory and CPU hotplug through %s",
			 hotplug_monitor_describe(d->hotplug));
	return 0;
}

int daemon_run(const struct daemon_options *o)
{
	struct daemon d = {};
	int r;

	service_init(&d.svc, o->root, o->config, o->collector);
	r = setup(&d, o);
	if (r >= 0) {
		r = service_start(&d.svc);
		if (r < 0) {
			sd_notifyf(false, "STATUS=no crash kernel loaded: %s",
				   d.svc.error[0] ? d.svc.error : "see the log");
			write_state(&d);
		}
	}
	if (r >= 0) {
		debounce_init(&d.debounce, d.svc.settings.hotplug_quiet_usec,
			      d.svc.settings.hotplug_max_delay_usec);
		notify_status(&d, true, NULL);
		/* After the load, off the loop: a child process per dump (daemon-analyze.h). */
		d.analyzer = daemon_analyze_start(d.event, o->root, &d.svc.settings);
		r = sd_event_loop(d.event);
		if (r < 0)
			log_error_errno(r, "event loop failed: %m");
		sd_notify(false, "STOPPING=1\nSTATUS=stopping");
		if (service_stop(&d.svc) < 0)
			r = -EIO;
	}
	{
		_cleanup_free_ char *state = NULL;

		if (root_path(o->root, DAEMON_STATE_PATH, &state) >= 0)
			(void)unlink(state);
	}
	daemon_analyzer_free(d.analyzer);
	hotplug_monitor_free(d.hotplug);
	sd_event_source_unref(d.timer);
	sd_event_unref(d.event);
	service_done(&d.svc);
	return r;
}
