/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keeping a crash kernel loaded, for crashcapd and for crashcapctl's
 * start / reload when no daemon runs: read the settings, check the
 * reservation, apply retention, build the crash initramfs when one of its
 * inputs changed (loader/manifest.h), load.
 *
 * A load frees the loaded image before it loads the new one, so a reload
 * builds and checks everything first and makes the syscall its last step;
 * when the syscall fails after the old image was freed, the last good
 * image goes back in at once. The time without a crash kernel (from the
 * first load syscall to the end of the one that loaded) is measured.
 */
#pragma once

#include "loadfile.h"

struct service_stats {
	unsigned loads; /* successful loads, fallbacks included */
	unsigned reloads; /* reloads tried */
	unsigned failed_reloads; /* reloads whose new image did not load */
	unsigned fallbacks; /* the last good image loaded again */
	unsigned builds; /* crash initramfs builds */
	bool gap_known; /* a reload made a syscall since start */
	uint64_t last_gap_usec; /* without a crash kernel during the last reload */
	uint64_t max_gap_usec;
};

struct service {
	const char *root; /* NULL: the running system */
	const char *config; /* NULL: ROOT/etc/crashcap.conf and drop-ins */
	const char *collector; /* NULL: see loadfile_collector() */
	struct settings settings; /* in effect: of the image loaded now */
	bool have_settings;
	struct crash_image good; /* the image loaded now (or last) */
	bool loaded;
	/* What the loaded image's dump covers: service_fingerprint() just before its load. */
	char fingerprint[65];
	struct service_stats stats;
	char error[600]; /* the last settings error, "file:line: message" */
};

void service_init(struct service *svc, const char *root, const char *config, const char *collector);
void service_done(struct service *svc);

/*
 * Reads the settings into ret; a bad file is logged as "file:line: message"
 * and returns -EINVAL.
 */
int service_read_settings(struct service *svc, struct settings *ret);
/*
 * Reads the settings, checks the reservation, applies retention, then
 * loads (building the initramfs when needed). An image crashcap already
 * loaded (loaded.json) is the fallback for a load that fails.
 */
int service_start(struct service *svc);
/*
 * Loads again: with reread_config, with the settings read now (a bad file
 * changes nothing and makes no syscall); else with those in effect.
 * reason is for the log ("SIGHUP", "memory hotplug").
 */
int service_reload(struct service *svc, const char *reason, bool reread_config);
/* Unloads, unless keep_loaded_on_stop. */
int service_stop(struct service *svc);
/* Whether root's kernel says a crash kernel is loaded. */
bool service_crash_loaded(const char *root);
/*
 * A hash of what a dump must cover: the System RAM ranges of /proc/iomem
 * and the present and possible CPUs. Hotplug events that leave it as it
 * was (a memory block onlined, udev's coldplug replay) need no reload.
 */
int service_fingerprint(const char *root, char ret[65]);
/* A line for systemd's STATUS=. */
void service_status(const struct service *svc, char *buf, size_t len);
