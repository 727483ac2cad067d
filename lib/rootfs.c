// SPDX-License-Identifier: GPL-2.0-or-later
#include "rootfs.h"

#include <fcntl.h>

int root_path(const char *root, const char *path, char **ret)
{
	char *p;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (!root || streq(root, "/") || !*root)
		p = strdup(path);
	else if (asprintf(&p, "%s%s", root, path) < 0)
		p = NULL;
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

int root_open(const char *root, const char *path, int flags)
{
	_cleanup_free_ char *p = NULL;
	int r = root_path(root, path, &p);
	int fd;

	if (r < 0)
		return r;
	fd = open(p, flags | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

bool root_exists(const char *root, const char *path)
{
	_cleanup_free_ char *p = NULL;

	if (root_path(root, path, &p) < 0)
		return false;
	return access(p, F_OK) == 0;
}

int root_read_file(const char *root, const char *path, size_t max_size, char **ret_data,
		   size_t *ret_size)
{
	_cleanup_close_ int fd = root_open(root, path, O_RDONLY);

	if (fd < 0)
		return fd;
	return read_full_fd(fd, max_size, ret_data, ret_size);
}

int root_read_line(const char *root, const char *path, char **ret_line)
{
	_cleanup_free_ char *data = NULL;
	char *nl, *s;
	int r;

	r = root_read_file(root, path, 1 << 20, &data, NULL);
	if (r < 0)
		return r;
	nl = strchr(data, '\n');
	if (nl)
		*nl = 0;
	s = strdup(strstrip(data));
	if (!s)
		return -ENOMEM;
	*ret_line = s;
	return 0;
}

int root_read_u64(const char *root, const char *path, int base, uint64_t *ret)
{
	_cleanup_free_ char *line = NULL;
	int r = root_read_line(root, path, &line);

	if (r < 0)
		return r;
	return parse_u64(line, base, ret);
}
