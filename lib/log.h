/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One logging helper for the whole project. The library calls only
 * log_debug*(); the programs (crashcapctl, crashcapd, crashcap-collect) log
 * errors and information. Every log_*_errno() call returns the negative
 * error it was given, so "return log_error_errno(r, ...)" logs and fails in
 * one step. "%m" in a format prints strerror() of that error.
 */
#pragma once

#include <syslog.h>

#include "util.h"

enum log_target {
	LOG_TARGET_STDERR, /* "prog: message" on stderr, for commands */
	LOG_TARGET_JOURNAL, /* "<N>message" lines that journald reads, for the daemon */
	LOG_TARGET_CONSOLE, /* stderr, plus a copy in the kernel log (/dev/kmsg) */
};

void log_setup(const char *progname, enum log_target target);
/* Picks LOG_TARGET_JOURNAL when stderr is connected to the journal. */
void log_setup_auto(const char *progname);
void log_set_max_level(int level);
int log_get_max_level(void);

int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_full_errno(level, error, ...) log_internal((level), (error), __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...) log_internal(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
