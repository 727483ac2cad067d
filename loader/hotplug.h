/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Watching memory and CPU hotplug: an sd-device monitor on the "memory" and
 * "cpu" subsystems when udev runs (events after its rules ran, which may
 * online new memory), else the kernel's own uevent netlink group (a system
 * without udev, such as a small appliance). Either way the callback gets
 * one call per event that changes what a dump must cover.
 */
#pragma once

#include <systemd/sd-event.h>

#include "util.h"

enum hotplug_subsystem {
	HOTPLUG_MEMORY,
	HOTPLUG_CPU,
	_HOTPLUG_SUBSYSTEM_MAX,
};

typedef void (*hotplug_fn)(enum hotplug_subsystem sub, const char *action, const char *devpath,
			   void *userdata);

struct hotplug_monitor;

enum hotplug_source {
	HOTPLUG_SOURCE_AUTO, /* udev when root/run/udev/control exists, else the kernel */
	HOTPLUG_SOURCE_UDEV,
	HOTPLUG_SOURCE_KERNEL,
};

/*
 * Starts watching on event. uevent_socket (tests; NULL normally): a unix
 * datagram socket to bind and read kernel-format uevents from, instead of
 * the kernel.
 */
int hotplug_monitor_new(sd_event *event, const char *root, enum hotplug_source source,
			const char *uevent_socket, hotplug_fn fn, void *userdata,
			struct hotplug_monitor **ret);
struct hotplug_monitor *hotplug_monitor_free(struct hotplug_monitor *m);
/* "udev", "kernel uevents" or "test socket PATH". */
const char *hotplug_monitor_describe(const struct hotplug_monitor *m);

const char *hotplug_subsystem_to_string(enum hotplug_subsystem s);
/*
 * One kernel uevent datagram ("add@/devices/...\0ACTION=add\0SUBSYSTEM=...").
 * Returns 1 and fills the out-parameters (pointing into buf) for an event
 * that matters: add, remove, online or offline of a memory block or a CPU;
 * 0 for any other event; -EBADMSG for what is not a uevent.
 */
int hotplug_parse_uevent(const char *buf, size_t len, enum hotplug_subsystem *ret_sub,
			 const char **ret_action, const char **ret_devpath);
/* Whether an action of a memory block or CPU changes what a dump must cover. */
bool hotplug_action_matters(const char *action);
/*
 * Whether the kernel keeps the loaded crash image current itself on this
 * subsystem's hotplug: root/sys/devices/system/<memory|cpu>/crash_hotplug
 * reads 1 (Linux 6.6+ with CONFIG_CRASH_HOTPLUG, for an image that allows it).
 */
bool hotplug_kernel_updates(const char *root, enum hotplug_subsystem sub);
