// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crashcapctl start | stop | restart | reload. When systemd runs (and the
 * root is this system), they are jobs for crashcap.service over D-Bus, and
 * the command waits for the job to end. Otherwise they act directly: a
 * running crashcapd gets SIGHUP or SIGTERM; without one, start and reload
 * load the crash kernel once (the daemon's start: retention, initramfs,
 * load with fallback) and stop unloads it.
 */
#include "ctl.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "daemon.h"
#include "jsonflat.h"
#include "kexec_fixture.h"
#include "log.h"
#include "rootfs.h"
#include "service.h"

#define UNIT "crashcap.service"
/* The unit's TimeoutStartSec= is 5 min; a job can take that long. */
#define JOB_TIMEOUT_USEC (6 * 60 * USEC_PER_SEC)
#define STOP_WAIT_USEC (30 * USEC_PER_SEC)

enum action { ACTION_START, ACTION_STOP, ACTION_RESTART, ACTION_RELOAD };

static const char *const action_names[] = { "start", "stop", "restart", "reload" };
static const char *const unit_methods[] = { "StartUnit", "StopUnit", "RestartUnit", "ReloadUnit" };

struct job_wait {
	char *job;
	char *result;
	bool done;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct job_wait *w = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->job && streq(path, w->job)) {
		w->result = strdup(result);
		w->done = true;
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * As root, systemd's own socket, as systemctl does: it works before (and
 * without) a D-Bus daemon. Otherwise, or when that fails, the system bus.
 */
static int connect_systemd(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
		if (r >= 0)
			r = sd_bus_start(bus);
		if (r >= 0) {
			*ret = bus;
			return 0;
		}
		log_debug_errno(r, "systemd's private socket: %m; trying the system bus");
		sd_bus_unref(bus);
	}
	return sd_bus_open_system(ret);
}

/* Queues the job for crashcap.service and waits for systemd to say how it ended. */
static int systemd_job(enum action a, char **ret_result)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct job_wait w = {};
	sd_bus *bus = NULL;
	const char *job;
	uint64_t deadline;
	int r;

	r = connect_systemd(&bus);
	if (r < 0)
		return log_error_errno(r, "cannot connect to systemd (D-Bus): %m");
	r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				"org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed,
				&w);
	if (r >= 0)
		/* systemd sends job signals only to clients that subscribed. */
		(void)sd_bus_call_method(bus, "org.freedesktop.systemd1",
					 "/org/freedesktop/systemd1",
					 "org.freedesktop.systemd1.Manager", "Subscribe", NULL,
					 NULL, NULL);
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
				       "org.freedesktop.systemd1.Manager", unit_methods[a], &error,
				       &reply, "ss", UNIT, "replace");
	if (r < 0) {
		log_error("systemd refused to %s " UNIT ": %s%s", action_names[a],
			  error.message ? error.message : strerror(-r),
			  sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit") ?
				  " (install it with make install, then systemctl daemon-reload)" :
				  "");
		goto finish;
	}
	r = sd_bus_message_read(reply, "o", &job);
	if (r >= 0 && !(w.job = strdup(job)))
		r = -ENOMEM;
	if (r < 0) {
		log_error_errno(r, "cannot read systemd's reply: %m");
		goto finish;
	}
	deadline = now_usec() + JOB_TIMEOUT_USEC;
	while (!w.done) {
		uint64_t now = now_usec();

		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			log_error_errno(r, "lost the connection to systemd: %m");
			goto finish;
		}
		if (r > 0)
			continue;
		if (now >= deadline) {
			r = log_error_errno(-ETIMEDOUT,
					    "systemd's job to %s " UNIT " did not end "
					    "in 6 minutes: see systemctl status crashcap",
					    action_names[a]);
			goto finish;
		}
		r = sd_bus_wait(bus, deadline - now);
		if (r < 0) {
			log_error_errno(r, "waiting for systemd failed: %m");
			goto finish;
		}
	}
	*ret_result = TAKE_PTR(w.result);
	r = 0;
finish:
	free(w.job);
	free(w.result);
	sd_bus_error_free(&error);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}

/* Whether systemd manages crashcapd here: this system, booted with systemd, no fakes. */
static bool use_systemd(const struct ctl_context *ctx)
{
	const char *fake = getenv("CRASHCAP_FAKE_SYSCALLS");

	if (!root_is_host(ctx->root) || (fake && *fake && !streq(fake, "0")))
		return false;
	return sd_booted() > 0;
}

/* The pid of a crashcapd running for this root, from its daemon.json; 0 when none. */
static pid_t running_daemon(const struct ctl_context *ctx)
{
	_cleanup_(jsonflat_done) struct jsonflat j = {};
	_cleanup_free_ char *text = NULL, *comm = NULL;
	char path[64];
	int64_t pid;

	if (root_read_file(ctx->root, DAEMON_STATE_PATH, 1 << 20, &text, NULL) < 0 ||
	    jsonflat_parse(text, &j) < 0 || jsonflat_i64(&j, "pid", &pid) < 0 || pid <= 1 ||
	    pid > INT32_MAX)
		return 0;
	/* The pid is this system's, whatever the root: a stale file names another program. */
	snprintf(path, sizeof(path), "/proc/%" PRIi64 "/comm", pid);
	if (root_read_line(NULL, path, &comm) < 0 || !streq(comm, "crashcapd"))
		return 0;
	return (pid_t)pid;
}

static int wait_gone(pid_t pid)
{
	uint64_t deadline = now_usec() + STOP_WAIT_USEC;

	while (kill(pid, 0) == 0 || errno != ESRCH) {
		if (now_usec() >= deadline)
			return log_error_errno(-ETIMEDOUT,
					       "crashcapd (pid %d) did not stop in 30 s", (int)pid);
		usleep(20000);
	}
	return 0;
}

static int direct_start(const struct ctl_context *ctx, const char *collector)
{
	char status[800];
	struct service svc;
	int r;

	service_init(&svc, ctx->root, ctx->config, collector);
	r = service_start(&svc);
	if (r >= 0) {
		service_status(&svc, status, sizeof(status));
		printf("%s\n(crashcapd is not running: memory and CPU hotplug will not reload "
		       "it)\n",
		       status);
	}
	service_done(&svc);
	return r;
}

static int direct(enum action a, const struct ctl_context *ctx, const char *collector)
{
	pid_t pid = running_daemon(ctx);
	struct service svc;
	char status[800];
	int r;

	if (pid > 0) {
		switch (a) {
		case ACTION_START:
			printf("crashcapd is running already (pid %d)\n", (int)pid);
			return 0;
		case ACTION_RELOAD:
			if (kill(pid, SIGHUP) < 0)
				return log_error_errno(negative_errno(),
						       "cannot signal crashcapd: %m");
			printf("asked crashcapd (pid %d) to reload\n", (int)pid);
			return 0;
		case ACTION_STOP:
		case ACTION_RESTART:
			if (kill(pid, SIGTERM) < 0)
				return log_error_errno(negative_errno(),
						       "cannot signal crashcapd: %m");
			r = wait_gone(pid);
			if (r < 0)
				return r;
			printf("crashcapd (pid %d) stopped\n", (int)pid);
			return a == ACTION_STOP ? 0 : direct_start(ctx, collector);
		}
	}
	service_init(&svc, ctx->root, ctx->config, collector);
	switch (a) {
	case ACTION_STOP:
		r = service_read_settings(&svc, &svc.settings);
		svc.have_settings = r >= 0;
		r = service_stop(&svc);
		if (r >= 0)
			printf("%s\n",
			       svc.have_settings && svc.settings.keep_loaded_on_stop ?
				       "keep_loaded_on_stop = yes: the crash kernel stays loaded" :
				       "crash kernel unloaded");
		break;
	case ACTION_RESTART:
		r = service_stop(&svc);
		service_done(&svc);
		return r < 0 ? r : direct_start(ctx, collector);
	case ACTION_START:
		service_done(&svc);
		return direct_start(ctx, collector);
	case ACTION_RELOAD:
	default:
		r = service_reload(&svc, "crashcapctl reload", true);
		if (r >= 0) {
			service_status(&svc, status, sizeof(status));
			printf("%s\n", status);
		}
		break;
	}
	service_done(&svc);
	return r;
}

static int run(enum action a, int argc, char *argv[], const struct ctl_context *ctx)
{
	enum { ARG_NO_SYSTEMD = 0x100, ARG_COLLECTOR };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "no-systemd", no_argument, NULL, ARG_NO_SYSTEMD },
		{ "collector", required_argument, NULL, ARG_COLLECTOR },
		{},
	};
	_cleanup_free_ char *result = NULL;
	const char *collector = NULL;
	bool no_systemd = false;
	struct settings s;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			printf("Usage: crashcapctl %s [--no-systemd] [--collector PATH]\n\n"
			       "With systemd: %s crashcap.service and wait for the job to end.\n"
			       "Without (or with --no-systemd, or --root): act directly: signal a\n"
			       "running crashcapd, else load or unload the crash kernel once.\n",
			       action_names[a], action_names[a]);
			return 0;
		case ARG_NO_SYSTEMD:
			no_systemd = true;
			break;
		case ARG_COLLECTOR:
			collector = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(-EINVAL, "%s: unexpected argument '%s'", action_names[a],
				       argv[optind]);

	/* A broken config is refused here with file:line, before anything changes. */
	if (a != ACTION_STOP) {
		r = ctl_load_settings(ctx, &s);
		if (r < 0)
			return r;
		settings_done(&s);
	}
	if (no_systemd || !use_systemd(ctx))
		return direct(a, ctx, collector);
	if (ctx->config)
		log_warning("--config applies to the direct path only: crashcapd under systemd "
			    "reads /etc/crashcap.conf");
	r = systemd_job(a, &result);
	if (r < 0)
		return r;
	if (!streq(result, "done"))
		return log_error_errno(-EIO,
				       "systemd's job to %s " UNIT " ended with '%s': see "
				       "systemctl status crashcap and journalctl -u crashcap",
				       action_names[a], result);
	printf("%s " UNIT ": done\n", action_names[a]);
	return 0;
}

int verb_start(int argc, char *argv[], const struct ctl_context *ctx)
{
	return run(ACTION_START, argc, argv, ctx);
}

int verb_stop(int argc, char *argv[], const struct ctl_context *ctx)
{
	return run(ACTION_STOP, argc, argv, ctx);
}

int verb_restart(int argc, char *argv[], const struct ctl_context *ctx)
{
	return run(ACTION_RESTART, argc, argv, ctx);
}

int verb_reload(int argc, char *argv[], const struct ctl_context *ctx)
{
	return run(ACTION_RELOAD, argc, argv, ctx);
}
