// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon-analyze.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "analyze-dir.h"
#include "atomic-file.h"
#include "dumps.h"
#include "json.h"
#include "log.h"
#include "rootfs.h"

#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF)

static void *mfree(void *p)
{
	free(p);
	return NULL;
}

struct daemon_analyzer {
	sd_event *event;
	struct daemon_analyze_limits limits;
	char *dir;
	int inotify_fd;
	sd_event_source *inotify_source;
	sd_event_source *scan_timer;
	sd_event_source *child_source;
	sd_event_source *kill_timer;
	pid_t pid;
	bool timed_out;
	char *name; /* the dump folder under analysis */
	char *json; /* its analysis.json */
	/* Folders tried since start: a failure is never retried in a loop. */
	char **tried;
	size_t n_tried;
	unsigned written, failed;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

int analysis_write_error(const char *json_path, const char *dump_name, const char *message)
{
	struct atomic_file af;
	struct json j;
	int r;

	r = atomic_file_open(json_path, 0600, &af);
	if (r < 0)
		return r;
	json_begin(&j, af.f, true);
	json_object_open(&j, NULL);
	json_u64(&j, "version", 1);
	json_string(&j, "dump", dump_name);
	json_string(&j, "error", message);
	json_object_close(&j);
	return atomic_file_commit(&af, json_end(&j));
}

static bool was_tried(const struct daemon_analyzer *a, const char *name)
{
	for (size_t i = 0; i < a->n_tried; i++)
		if (streq(a->tried[i], name))
			return true;
	return false;
}

static int mark_tried(struct daemon_analyzer *a, const char *name)
{
	char **n = reallocarray(a->tried, a->n_tried + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	a->tried = n;
	a->tried[a->n_tried] = strdup(name);
	if (!a->tried[a->n_tried])
		return -ENOMEM;
	a->n_tried++;
	return 0;
}

static void schedule_scan(struct daemon_analyzer *a, uint64_t delay)
{
	(void)sd_event_source_set_time(a->scan_timer, now_usec() + delay);
	(void)sd_event_source_set_enabled(a->scan_timer, SD_EVENT_ONESHOT);
}

/* The dumps folder, or its parent while the folder does not exist yet. */
static void add_watches(struct daemon_analyzer *a)
{
	_cleanup_free_ char *parent = NULL;
	char *slash;

	if (inotify_add_watch(a->inotify_fd, a->dir, WATCH_MASK | IN_ONLYDIR) >= 0 ||
	    errno != ENOENT)
		return;
	parent = strdup(a->dir);
	slash = parent ? strrchr(parent, '/') : NULL;
	if (!slash)
		return;
	*(slash == parent ? slash + 1 : slash) = '\0';
	(void)inotify_add_watch(a->inotify_fd, parent, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
}

/* In the child: analyze at idle priority under the memory limit, then exit. */
_noreturn_ static void run_child(const struct daemon_analyzer *a, const char *dump)
{
	struct rlimit rl = { a->limits.memory_bytes, a->limits.memory_bytes };
	struct rlimit core = {};
	struct sched_param sp = {};
	sigset_t none;
	int r;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)sched_setscheduler(0, SCHED_IDLE, &sp);
	(void)setpriority(PRIO_PROCESS, 0, 19);
	(void)setrlimit(RLIMIT_CORE, &core);
	if (DAEMON_ANALYZE_MEMORY_LIMIT && a->limits.memory_bytes)
		(void)setrlimit(RLIMIT_DATA, &rl);
	r = analyze_write_json(dump, a->json, NULL);
	if (r < 0) {
		_cleanup_free_ char *msg = NULL;

		if (asprintf(&msg, "analysis failed: %s", strerror(-r)) < 0)
			msg = NULL;
		log_warning_errno(r, "%s: analysis failed: %m", a->name);
		(void)analysis_write_error(a->json, a->name, msg ? msg : "analysis failed");
		_exit(EXIT_FAILURE);
	}
	_exit(EXIT_SUCCESS);
}

static void child_done(struct daemon_analyzer *a)
{
	a->child_source = sd_event_source_unref(a->child_source);
	(void)sd_event_source_set_enabled(a->kill_timer, SD_EVENT_OFF);
	a->pid = 0;
	a->timed_out = false;
	a->name = mfree(a->name);
	a->json = mfree(a->json);
	schedule_scan(a, 0);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct daemon_analyzer *a = userdata;
	char why[160];

	/* Reaped here, not left to the loop: the next child may start before it would be. */
	(void)waitpid(a->pid, NULL, WNOHANG);
	if (si->si_code == CLD_EXITED && si->si_status == 0) {
		a->written++;
		log_info("%s: %s written", a->name, ANALYSIS_JSON);
		child_done(a);
		return 0;
	}
	a->failed++;
	if (a->timed_out)
		snprintf(why, sizeof(why), "analysis stopped after %.1f s (time limit)",
			 (double)a->limits.timeout_usec / USEC_PER_SEC);
	else if (si->si_code == CLD_EXITED)
		snprintf(why, sizeof(why), "analysis failed (exit status %d)", si->si_status);
	else
		snprintf(why, sizeof(why), "analysis ended by signal %s%s",
			 strsignal(si->si_status),
			 si->si_status == SIGKILL ? " (out of memory?)" : "");
	/* The child writes its own error; a killed one cannot. */
	if (access(a->json, F_OK) < 0) {
		log_warning("%s: %s", a->name, why);
		if (analysis_write_error(a->json, a->name, why) < 0)
			log_warning("%s: cannot write %s either", a->name, a->json);
	}
	child_done(a);
	return 0;
}

static int on_kill_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon_analyzer *a = userdata;

	if (a->pid > 0) {
		a->timed_out = true;
		(void)kill(a->pid, SIGKILL);
	}
	return 0;
}

static int start_child(struct daemon_analyzer *a, const struct dump_info *d)
{
	_cleanup_free_ char *dump = NULL;
	pid_t pid;
	int r;

	if (asprintf(&dump, "%s/%s", d->path, d->dump_file) < 0 ||
	    asprintf(&a->json, "%s/" ANALYSIS_JSON, d->path) < 0 || !(a->name = strdup(d->name)))
		return -ENOMEM;
	pid = fork();
	if (pid < 0)
		return log_warning_errno(negative_errno(), "cannot start the dump analysis: %m");
	if (pid == 0)
		run_child(a, dump);
	a->pid = pid;
	r = sd_event_add_child(a->event, &a->child_source, pid, WEXITED, on_child, a);
	if (r < 0) {
		/* Without the child source nothing would reap it: wait here. */
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		a->pid = 0;
		return log_warning_errno(r, "cannot watch the dump analysis: %m");
	}
	(void)sd_event_source_set_time(a->kill_timer, now_usec() + a->limits.timeout_usec);
	(void)sd_event_source_set_enabled(a->kill_timer, SD_EVENT_ONESHOT);
	log_debug("analyzing %s (pid %d)", dump, (int)pid);
	return 0;
}

static int file_age_usec(const struct dump_info *d, uint64_t *ret)
{
	_cleanup_free_ char *p = NULL;
	struct timespec now;
	struct stat st;
	int64_t t;

	if (asprintf(&p, "%s/%s", d->path, d->dump_file) < 0)
		return -ENOMEM;
	if (stat(p, &st) < 0)
		return negative_errno();
	clock_gettime(CLOCK_REALTIME, &now);
	t = (int64_t)(now.tv_sec - st.st_mtim.tv_sec) * (int64_t)USEC_PER_SEC +
	    (now.tv_nsec - st.st_mtim.tv_nsec) / 1000;
	*ret = t > 0 ? (uint64_t)t : 0;
	return 0;
}

static int on_scan(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon_analyzer *a = userdata;
	_cleanup_(dump_list_done) struct dump_list l = {};
	uint64_t wait = UINT64_MAX;
	int r;

	if (a->pid > 0)
		return 0; /* the child's end scans again */
	add_watches(a);
	r = dumps_read(a->dir, &l);
	if (r < 0) {
		log_warning_errno(r, "cannot read the dumps in %s: %m", a->dir);
		return 0;
	}
	for (size_t i = 0; i < l.count; i++) {
		const struct dump_info *d = &l.dumps[i];
		_cleanup_free_ char *json = NULL;
		uint64_t age;

		if (!d->dump_file || was_tried(a, d->name))
			continue;
		if (asprintf(&json, "%s/" ANALYSIS_JSON, d->path) < 0)
			goto oom;
		if (access(json, F_OK) == 0)
			continue;
		if (d->state == DUMP_UNFINISHED) {
			/* A collector may be writing it now: wait until it has been still a while. */
			(void)inotify_add_watch(a->inotify_fd, d->path, WATCH_MASK | IN_ONLYDIR);
			if (file_age_usec(d, &age) < 0)
				continue;
			if (age < a->limits.settle_usec) {
				wait = MIN(wait, a->limits.settle_usec - age);
				continue;
			}
		}
		if (mark_tried(a, d->name) < 0)
			goto oom;
		if (start_child(a, d) >= 0)
			return 0;
		a->name = mfree(a->name);
		a->json = mfree(a->json);
	}
	if (wait != UINT64_MAX)
		schedule_scan(a, wait + USEC_PER_SEC);
	return 0;
oom:
	/* An error return would turn the scan timer off for good. */
	log_error_errno(-ENOMEM, "cannot analyze the dumps: out of memory");
	return 0;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon_analyzer *a = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	/* The events only say "look again": drain them and scan once things are quiet. */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (a->pid <= 0)
		schedule_scan(a, a->limits.quiet_usec);
	return 0;
}

int daemon_analyzer_new(sd_event *event, const struct daemon_analyze_limits *limits,
			struct daemon_analyzer **ret)
{
	_cleanup_daemon_analyzer_ struct daemon_analyzer *a = NULL;
	sigset_t chld;
	int r;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		return negative_errno();
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->inotify_fd = -1;
	a->event = sd_event_ref(event);
	a->limits = limits ? *limits :
			     (struct daemon_analyze_limits){
				     .timeout_usec = DAEMON_ANALYZE_TIMEOUT_USEC,
				     .memory_bytes = DAEMON_ANALYZE_MEMORY,
				     .settle_usec = DAEMON_ANALYZE_SETTLE_USEC,
				     .quiet_usec = 2 * USEC_PER_SEC,
			     };
	a->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->inotify_fd < 0)
		return negative_errno();
	r = sd_event_add_io(event, &a->inotify_source, a->inotify_fd, EPOLLIN, on_inotify, a);
	if (r < 0)
		return r;
	r = sd_event_add_time(event, &a->scan_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_scan, a);
	if (r < 0)
		return r;
	r = sd_event_add_time(event, &a->kill_timer, CLOCK_MONOTONIC, UINT64_MAX, 1000,
			      on_kill_timer, a);
	if (r < 0)
		return r;
	(void)sd_event_source_set_enabled(a->scan_timer, SD_EVENT_OFF);
	(void)sd_event_source_set_enabled(a->kill_timer, SD_EVENT_OFF);
	*ret = TAKE_PTR(a);
	return 0;
}

int daemon_analyzer_watch(struct daemon_analyzer *a, const char *dir)
{
	struct stat st;

	if (a->dir && streq(a->dir, dir))
		return 0;
	free(a->dir);
	a->dir = strdup(dir);
	if (!a->dir)
		return -ENOMEM;
	schedule_scan(a, 0);
	return stat(dir, &st) < 0 ? negative_errno() : 0;
}

struct daemon_analyzer *daemon_analyzer_free(struct daemon_analyzer *a)
{
	if (!a)
		return NULL;
	if (a->pid > 0) {
		(void)kill(a->pid, SIGKILL);
		(void)waitpid(a->pid, NULL, 0);
	}
	sd_event_source_unref(a->child_source);
	sd_event_source_unref(a->kill_timer);
	sd_event_source_unref(a->scan_timer);
	sd_event_source_unref(a->inotify_source);
	if (a->inotify_fd >= 0)
		close(a->inotify_fd);
	sd_event_unref(a->event);
	for (size_t i = 0; i < a->n_tried; i++)
		free(a->tried[i]);
	free(a->tried);
	free(a->dir);
	free(a->name);
	free(a->json);
	free(a);
	return NULL;
}

bool daemon_analyzer_idle(const struct daemon_analyzer *a)
{
	int enabled = SD_EVENT_OFF;

	(void)sd_event_source_get_enabled(a->scan_timer, &enabled);
	return a->pid <= 0 && enabled == SD_EVENT_OFF;
}

void daemon_analyzer_counts(const struct daemon_analyzer *a, unsigned *ret_written,
			    unsigned *ret_failed)
{
	*ret_written = a->written;
	*ret_failed = a->failed;
}

struct daemon_analyzer *daemon_analyze_start(sd_event *event, const char *root,
					     const struct settings *s)
{
	struct daemon_analyzer *a = NULL;

	daemon_analyze_settings(&a, event, root, s);
	return a;
}

void daemon_analyze_settings(struct daemon_analyzer **a, sd_event *event, const char *root,
			     const struct settings *s)
{
	_cleanup_free_ char *dir = NULL, *error = NULL;
	int r;

	/* In a crash kernel the memory is the dead kernel's: crashcapd has no business there. */
	if (root_exists(root, "/proc/vmcore")) {
		log_info("this is a crash kernel (/proc/vmcore exists): dumps are not analyzed");
		return;
	}
	r = dumps_location(root, s, &dir, &error);
	if (r < 0) {
		log_notice("dumps are not analyzed now: %s", error ? error : strerror(-r));
		return;
	}
	if (!*a) {
		r = daemon_analyzer_new(event, NULL, a);
		if (r < 0) {
			log_warning_errno(r, "cannot set up the analysis of dumps: %m");
			return;
		}
	}
	r = daemon_analyzer_watch(*a, dir);
	if (r < 0 && r != -ENOENT)
		log_warning_errno(r, "cannot watch %s for new dumps: %m", dir);
}
