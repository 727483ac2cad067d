/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcapd's event loop: signals (SIGHUP reloads, SIGTERM stops), the
 * hotplug monitor and its debounce timer, and what it tells systemd.
 * crashcapd.c parses the command line and runs it.
 */
#pragma once

#include "hotplug.h"
#include "service.h"

#define DAEMON_STATE_PATH "/run/crashcap/daemon.json"

struct daemon_options {
	const char *root;
	const char *config;
	const char *collector;
	enum hotplug_source hotplug_source;
	const char *uevent_socket; /* tests: read uevents from this socket, not the kernel */
};

/* Runs until SIGTERM or SIGINT; returns 0 after a clean stop. */
int daemon_run(const struct daemon_options *o);
