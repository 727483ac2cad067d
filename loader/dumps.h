/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dumps on the target, as the collector leaves them:
 * <path>/crashcap/<YYYY-MM-DD-HH:MM:SS>-<release>[-N]/ holding vmcore (or
 * vmcore.incomplete), dmesg.txt and summary.json. Directories whose name
 * is not of that form are not dumps: nothing here lists or removes them.
 */
#pragma once

#include "settings.h"

enum dump_state {
	DUMP_COMPLETE, /* summary.json says ok and the vmcore is there */
	DUMP_INCOMPLETE, /* saved, but pages are missing (vmcore.incomplete) */
	DUMP_FAILED, /* the collector saved no usable dump */
	DUMP_UNFINISHED, /* no summary.json: the crash kernel stopped while writing */
};

struct dump_info {
	char *name; /* the directory's name */
	char *path; /* the directory */
	int64_t time; /* the crash, seconds since the epoch (UTC) */
	char *kernel_release; /* NULL: unknown */
	char *hostname; /* NULL: unknown */
	char *panic_message; /* NULL: none found */
	char *dump_file; /* "vmcore" or "vmcore.incomplete" when present, else NULL */
	enum dump_state state;
	uint64_t dump_bytes; /* size of dump_file */
	uint64_t bytes; /* disk space all of the directory's files take */
	uint64_t peak_rss_bytes; /* the collector's peak memory in the crash kernel; 0: unknown */
};

struct dump_list {
	struct dump_info *dumps; /* oldest first */
	size_t count;
};

void dump_list_done(struct dump_list *l);
/* Reads the dumps in dir (…/crashcap); a missing dir is an empty list. */
int dumps_read(const char *dir, struct dump_list *ret);
const char *dump_state_to_string(enum dump_state s);

/*
 * Where the dumps of these settings are on this system: root+path/crashcap
 * when target is unset, else below the mount point of the target's file
 * system (found in root's /proc/self/mountinfo). -ENODEV when the target is
 * not mounted here; *error (may be NULL) gets a message saying what to do.
 */
int dumps_location(const char *root, const struct settings *s, char **ret_dir, char **error);

/* Deletes one dump directory and the files in it. */
int dump_remove(const struct dump_info *d);
