/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcapd's automatic report: analysis.json (loader/analyze-dir.h) next
 * to every dump that has none, at start and whenever a new dump appears in
 * the dumps folder (inotify). The daemon loads the crash kernel first; the
 * analysis then runs in a child process, one dump at a time, at idle
 * priority, with a memory limit and a time limit, so that the event loop
 * (SIGHUP, hotplug reloads) never waits for it and a dump that crashes or
 * hangs the analysis cannot take the daemon down. A dump whose analysis
 * fails gets a small analysis.json holding the error: it is not tried
 * again. Never in the crash kernel (its memory is the dump's).
 */
#pragma once

/*
 * Built with AddressSanitizer (make SANITIZE=1), the analyzing child gets no
 * memory limit: ASan's shadow mappings count against RLIMIT_DATA, and the
 * child would die before analyzing anything.
 */
#ifdef __SANITIZE_ADDRESS__
#define DAEMON_ANALYZE_MEMORY_LIMIT 0
#else
#define DAEMON_ANALYZE_MEMORY_LIMIT 1
#endif

#include <systemd/sd-event.h>

#include "settings.h"

/* Defaults: analyze measured well under these on a 2 GiB vmcore (make bench). */
#define DAEMON_ANALYZE_TIMEOUT_USEC (300ULL * USEC_PER_SEC)
#define DAEMON_ANALYZE_MEMORY (512ULL << 20)
/* A dump folder without summary.json changed this recently is still being written. */
#define DAEMON_ANALYZE_SETTLE_USEC (60ULL * USEC_PER_SEC)

struct daemon_analyze_limits {
	uint64_t timeout_usec; /* a dump's analysis is killed after this */
	uint64_t memory_bytes; /* RLIMIT_DATA of the analyzing process */
	uint64_t settle_usec; /* see DAEMON_ANALYZE_SETTLE_USEC */
	uint64_t quiet_usec; /* after an inotify event, wait this long for more */
};

struct daemon_analyzer;

/* Blocks SIGCHLD (sd-event reaps the children). limits NULL: the defaults. */
int daemon_analyzer_new(sd_event *event, const struct daemon_analyze_limits *limits,
			struct daemon_analyzer **ret);
/*
 * Watches dir (the folder of dump folders) and analyzes the dumps in it
 * that have no analysis.json; a dir already watched changes nothing. A
 * missing dir is watched from its parent once it exists (-ENOENT).
 */
int daemon_analyzer_watch(struct daemon_analyzer *a, const char *dir);
/* Kills and reaps an analysis under way. */
struct daemon_analyzer *daemon_analyzer_free(struct daemon_analyzer *a);
#define _cleanup_daemon_analyzer_ _cleanup_(daemon_analyzer_freep)
static inline void daemon_analyzer_freep(struct daemon_analyzer **a)
{
	daemon_analyzer_free(*a);
}

/* Nothing under way and nothing waiting to be scanned. */
bool daemon_analyzer_idle(const struct daemon_analyzer *a);
/* analysis.json files written with a report, and with an error. */
void daemon_analyzer_counts(const struct daemon_analyzer *a, unsigned *ret_written,
			    unsigned *ret_failed);

/*
 * For crashcapd: an analyzer watching the dumps folder of settings s under
 * root, or NULL (logged) when there is none to watch or this is a crash
 * kernel (root has /proc/vmcore).
 */
struct daemon_analyzer *daemon_analyze_start(sd_event *event, const char *root,
					     const struct settings *s);
/* After a reload: the settings may name another target, or it is mounted now. */
void daemon_analyze_settings(struct daemon_analyzer **a, sd_event *event, const char *root,
			     const struct settings *s);

/*
 * The analysis.json of a dump that could not be analyzed: {"version": 1,
 * "dump": NAME, "error": MESSAGE}, written atomically, mode 0600.
 */
int analysis_write_error(const char *json_path, const char *dump_name, const char *message);
