/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcap's settings, typed and validated from a parsed config. The same
 * settings drive the loader, and the collector reads them from the copy of
 * the config inside the crash initramfs. Unknown keys and bad values are
 * errors with file:line.
 */
#pragma once

#include "config.h"

enum compression {
	COMPRESSION_NONE,
	COMPRESSION_ZSTD,
	COMPRESSION_ZLIB,
	COMPRESSION_LZO,
	COMPRESSION_SNAPPY,
};

enum final_action {
	ACTION_REBOOT,
	ACTION_POWEROFF,
	ACTION_HALT,
};

enum load_method {
	LOAD_METHOD_AUTO,
	LOAD_METHOD_FILE,
	LOAD_METHOD_SEGMENTS,
};

/* Whether crashcapd loads the crash kernel again after memory or CPU hotplug. */
enum hotplug_reload {
	HOTPLUG_RELOAD_AUTO, /* unless the kernel updates the loaded image itself (crash_hotplug) */
	HOTPLUG_RELOAD_ALWAYS,
	HOTPLUG_RELOAD_NEVER,
};

/* The collector never runs more threads than this, so more CPUs would only cost memory. */
#define CRASH_CPUS_MAX 64U

#define USEC_PER_MSEC ((uint64_t)1000)
#define USEC_PER_SEC ((uint64_t)1000000)

struct settings {
	char *target; /* "UUID=...", "LABEL=...", a device path, or NULL: the fs holding path */
	char *path; /* directory on the target; dumps go to <path>/crashcap/ */
	int dump_level; /* 0..31 */
	enum compression compression;
	int zstd_level;
	unsigned threads; /* 0: all CPUs */
	unsigned crash_cpus; /* the crash kernel's nr_cpus=, 1..CRASH_CPUS_MAX */
	enum load_method load_method;
	char *kernel; /* NULL: the running kernel */
	char *initrd; /* NULL: built by crashcap */
	char *crash_args; /* extra crash kernel command line */
	enum final_action final_action;
	enum final_action failure_action;
	/* Retention, applied by crashcapd at start: 0 is no limit. */
	unsigned keep_dumps; /* the newest N dumps stay */
	uint64_t max_dumps_size; /* bytes all dumps may take */
	/* Hotplug: a burst of events gives one reload. */
	enum hotplug_reload hotplug_reload;
	uint64_t hotplug_quiet_usec; /* reload once no event came for this long */
	uint64_t hotplug_max_delay_usec; /* but never later than this after the first */
	bool keep_loaded_on_stop; /* stopping crashcapd leaves the crash kernel loaded */
	uint64_t target_timeout_usec; /* how long the crash kernel waits for the target */
	/* crashcapd shrinks the reservation to the budget before it loads (cannot grow back) */
	bool reservation_shrink;
	uint64_t max_memory; /* the most RAM hotplug can bring; 0: the RAM there is now */
};

/* Defaults for every field. */
void settings_init(struct settings *s);
void settings_done(struct settings *s);
/* A deep copy into dst (not set up before); -ENOMEM leaves dst empty. */
int settings_copy(struct settings *dst, const struct settings *src);
/*
 * Applies and checks every entry of c; fills err on failure. s must be set up
 * with settings_init() and is left as it was when any entry is bad.
 */
int settings_from_config(struct settings *s, const struct config *c, struct config_error *err);
/*
 * Reads root+/etc/crashcap.conf (when it exists) and then
 * root+/etc/crashcap.conf.d/ *.conf in name order, or only path when path is
 * not NULL (then it must exist).
 */
int settings_load(struct settings *s, const char *root, const char *path, struct config_error *err);

/*
 * Writes every setting as "key = value" lines that settings_load reads back:
 * the one merged file the crash initramfs carries.
 */
int settings_write(const struct settings *s, FILE *f);

const char *compression_to_string(enum compression c);
const char *final_action_to_string(enum final_action a);
const char *load_method_to_string(enum load_method m);
const char *hotplug_reload_to_string(enum hotplug_reload h);
/* "500ms", "2s", "1min", "3" (seconds) to microseconds. */
int parse_timespan(const char *s, uint64_t *ret_usec);
