// SPDX-License-Identifier: GPL-2.0-or-later
#include "hotplug.h"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-device.h>

#include "log.h"
#include "rootfs.h"

/* A storm of memory-block events must not overflow the socket and be lost. */
#define UEVENT_RCVBUF (4U << 20)
#define UEVENT_MAX 8192

struct hotplug_monitor {
	hotplug_fn fn;
	void *userdata;
	sd_device_monitor *udev;
	sd_event_source *io;
	int fd;
	char *socket_path; /* the test socket, unlinked when freed */
	char description[160];
};

static const char *const subsystem_names[_HOTPLUG_SUBSYSTEM_MAX] = {
	[HOTPLUG_MEMORY] = "memory",
	[HOTPLUG_CPU] = "cpu",
};

const char *hotplug_subsystem_to_string(enum hotplug_subsystem s)
{
	return (size_t)s < ELEMENTSOF(subsystem_names) ? subsystem_names[s] : NULL;
}

static int subsystem_from_string(const char *s)
{
	for (int i = 0; i < _HOTPLUG_SUBSYSTEM_MAX; i++)
		if (streq(subsystem_names[i], s))
			return i;
	return -EINVAL;
}

bool hotplug_action_matters(const char *action)
{
	/* "change", "bind", "unbind" and "move" leave the RAM ranges and present CPUs alone. */
	return streq(action, "add") || streq(action, "remove") || streq(action, "online") ||
	       streq(action, "offline");
}

int hotplug_parse_uevent(const char *buf, size_t len, enum hotplug_subsystem *ret_sub,
			 const char **ret_action, const char **ret_devpath)
{
	const char *action = NULL, *devpath = NULL, *subsystem = NULL, *end = buf + len;
	const char *p = buf;
	int sub;

	/* The header "ACTION@DEVPATH", then KEY=VALUE strings, each NUL-terminated. */
	if (len == 0 || !memchr(buf, 0, len) || !strchr(buf, '@') || startswith(buf, "libudev"))
		return -EBADMSG;
	for (p += strlen(p) + 1; p < end; p += strlen(p) + 1) {
		if (!memchr(p, 0, end - p))
			return -EBADMSG;
		if (startswith(p, "ACTION="))
			action = p + 7;
		else if (startswith(p, "DEVPATH="))
			devpath = p + 8;
		else if (startswith(p, "SUBSYSTEM="))
			subsystem = p + 10;
	}
	if (!action || !devpath)
		return -EBADMSG;
	if (!subsystem || (sub = subsystem_from_string(subsystem)) < 0 ||
	    !hotplug_action_matters(action))
		return 0;
	*ret_sub = sub;
	*ret_action = action;
	*ret_devpath = devpath;
	return 1;
}

bool hotplug_kernel_updates(const char *root, enum hotplug_subsystem sub)
{
	char path[64];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "/sys/devices/system/%s/crash_hotplug",
		 hotplug_subsystem_to_string(sub));
	return root_read_u64(root, path, 10, &v) >= 0 && v == 1;
}

static int on_udev_event(sd_device_monitor *mon, sd_device *dev, void *userdata)
{
	static const char *const actions[] = {
		[SD_DEVICE_ADD] = "add",       [SD_DEVICE_REMOVE] = "remove",
		[SD_DEVICE_CHANGE] = "change", [SD_DEVICE_MOVE] = "move",
		[SD_DEVICE_ONLINE] = "online", [SD_DEVICE_OFFLINE] = "offline",
		[SD_DEVICE_BIND] = "bind",     [SD_DEVICE_UNBIND] = "unbind",
	};
	struct hotplug_monitor *m = userdata;
	const char *subsystem = NULL, *devpath = "";
	sd_device_action_t a;
	int sub;

	if (sd_device_get_subsystem(dev, &subsystem) < 0 ||
	    (sub = subsystem_from_string(subsystem)) < 0)
		return 0;
	if (sd_device_get_action(dev, &a) < 0 || (size_t)a >= ELEMENTSOF(actions) ||
	    !hotplug_action_matters(actions[a]))
		return 0;
	(void)sd_device_get_devpath(dev, &devpath);
	m->fn(sub, actions[a], devpath, m->userdata);
	return 0;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct hotplug_monitor *m = userdata;
	char buf[UEVENT_MAX + 1];

	for (;;) {
		struct sockaddr_storage from = {};
		socklen_t fromlen = sizeof(from);
		enum hotplug_subsystem sub;
		const char *action, *devpath;
		ssize_t n;

		n = recvfrom(fd, buf, UEVENT_MAX, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			if (errno == ENOBUFS) {
				/* Events were lost: what they were is unknown, so both count. */
				log_warning("hotplug: uevents were lost (socket overflow)");
				m->fn(HOTPLUG_MEMORY, "lost", "", m->userdata);
				m->fn(HOTPLUG_CPU, "lost", "", m->userdata);
				continue;
			}
			return log_error_errno(negative_errno(),
					       "hotplug: cannot read uevents: %m");
		}
		/* Only the kernel (port 0) speaks on the uevent group. */
		if (from.ss_family == AF_NETLINK && ((struct sockaddr_nl *)&from)->nl_pid != 0)
			continue;
		buf[n] = 0;
		if (hotplug_parse_uevent(buf, n, &sub, &action, &devpath) > 0)
			m->fn(sub, action, devpath, m->userdata);
	}
}

static int open_kernel(struct hotplug_monitor *m)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int size = UEVENT_RCVBUF;
	int fd;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return negative_errno();
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = negative_errno();

		close(fd);
		return r;
	}
	m->fd = fd;
	snprintf(m->description, sizeof(m->description), "kernel uevents");
	return 0;
}

static int open_test_socket(struct hotplug_monitor *m, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negative_errno();
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = negative_errno();

		close(fd);
		return r;
	}
	m->fd = fd;
	m->socket_path = strdup(path);
	snprintf(m->description, sizeof(m->description), "test socket %s", path);
	return m->socket_path ? 0 : -ENOMEM;
}

static int open_udev(struct hotplug_monitor *m, sd_event *event)
{
	int r;

	r = sd_device_monitor_new(&m->udev);
	if (r < 0)
		return r;
	(void)sd_device_monitor_set_receive_buffer_size(m->udev, UEVENT_RCVBUF);
	if ((r = sd_device_monitor_filter_add_match_subsystem_devtype(m->udev, "memory", NULL)) <
		    0 ||
	    (r = sd_device_monitor_filter_add_match_subsystem_devtype(m->udev, "cpu", NULL)) < 0 ||
	    (r = sd_device_monitor_attach_event(m->udev, event)) < 0)
		return r;
	(void)sd_device_monitor_set_description(m->udev, "crashcap-hotplug");
	r = sd_device_monitor_start(m->udev, on_udev_event, m);
	if (r < 0)
		return r;
	snprintf(m->description, sizeof(m->description), "udev");
	return 0;
}

struct hotplug_monitor *hotplug_monitor_free(struct hotplug_monitor *m)
{
	if (!m)
		return NULL;
	sd_event_source_disable_unref(m->io);
	sd_device_monitor_unref(m->udev);
	if (m->fd >= 0)
		close(m->fd);
	if (m->socket_path)
		(void)unlink(m->socket_path);
	free(m->socket_path);
	free(m);
	return NULL;
}

int hotplug_monitor_new(sd_event *event, const char *root, enum hotplug_source source,
			const char *uevent_socket, hotplug_fn fn, void *userdata,
			struct hotplug_monitor **ret)
{
	struct hotplug_monitor *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->fd = -1;
	m->fn = fn;
	m->userdata = userdata;
	if (source == HOTPLUG_SOURCE_AUTO)
		source = root_exists(root, "/run/udev/control") ? HOTPLUG_SOURCE_UDEV :
								  HOTPLUG_SOURCE_KERNEL;
	if (uevent_socket)
		r = open_test_socket(m, uevent_socket);
	else if (source == HOTPLUG_SOURCE_UDEV)
		r = open_udev(m, event);
	else
		r = open_kernel(m);
	if (r >= 0 && m->fd >= 0)
		r = sd_event_add_io(event, &m->io, m->fd, EPOLLIN, on_uevent, m);
	if (r < 0) {
		hotplug_monitor_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

const char *hotplug_monitor_describe(const struct hotplug_monitor *m)
{
	return m->description;
}
