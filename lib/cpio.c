// SPDX-License-Identifier: GPL-2.0-or-later
#include "cpio.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "log.h"

struct cpio_writer {
	int fd;
	uint64_t offset;
	uint64_t mtime;
	uint32_t next_ino;
	size_t entries;
	bool finished;
	/* Directories written so far, to add missing parents exactly once. */
	char **dirs;
	size_t nr_dirs, dirs_cap;
};

int cpio_writer_new(int fd, struct cpio_writer **ret)
{
	struct cpio_writer *w;

	if (fd < 0 || !ret)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = fd;
	/* Inode 0 reads as "no inode" to some tools; start at 1. */
	w->next_ino = 1;
	*ret = w;
	return 0;
}

struct cpio_writer *cpio_writer_free(struct cpio_writer *w)
{
	if (!w)
		return NULL;
	for (size_t i = 0; i < w->nr_dirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	free(w);
	return NULL;
}

void cpio_writer_set_mtime(struct cpio_writer *w, uint64_t mtime)
{
	w->mtime = mtime;
}

uint64_t cpio_writer_size(const struct cpio_writer *w)
{
	return w->offset;
}

size_t cpio_writer_entries(const struct cpio_writer *w)
{
	return w->entries;
}

/*
 * Takes "/a/b" or "a/b" to "a/b". Rejects what the kernel would resolve
 * somewhere unexpected: empty, ".", ".." or doubled-slash components and a
 * trailing slash.
 */
static int normalize_name(const char *name, char **ret)
{
	const char *p;
	size_t len;

	if (!name)
		return -EINVAL;
	while (*name == '/')
		name++;
	len = strlen(name);
	if (len == 0 || len >= PATH_MAX)
		return -EINVAL;
	p = name;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (!slash)
			break;
		p = slash + 1;
	}
	*ret = strdup(name);
	return *ret ? 0 : -ENOMEM;
}

static bool dir_known(const struct cpio_writer *w, const char *name, size_t len)
{
	for (size_t i = 0; i < w->nr_dirs; i++)
		if (strlen(w->dirs[i]) == len && memcmp(w->dirs[i], name, len) == 0)
			return true;
	return false;
}

static int dir_remember(struct cpio_writer *w, const char *name, size_t len)
{
	char *copy;

	if (w->nr_dirs == w->dirs_cap) {
		size_t cap = w->dirs_cap ? w->dirs_cap * 2 : 16;
		char **grown = realloc(w->dirs, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		w->dirs = grown;
		w->dirs_cap = cap;
	}
	copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	w->dirs[w->nr_dirs++] = copy;
	return 0;
}

static int write_padding(struct cpio_writer *w)
{
	static const char zeros[4];
	size_t pad = ALIGN_UP(w->offset, 4) - w->offset;
	int r;

	if (pad == 0)
		return 0;
	r = write_full_fd(w->fd, zeros, pad);
	if (r < 0)
		return r;
	w->offset += pad;
	return 0;
}

/* The header and the name, padded so that the data starts 4-aligned. */
static int write_header(struct cpio_writer *w, const char *name, uint32_t mode, uint64_t size,
			unsigned rmajor, unsigned rminor)
{
	size_t namesize = strlen(name) + 1;
	size_t total = ALIGN_UP(CPIO_NEWC_HEADER_SIZE + namesize, 4);
	_cleanup_free_ char *buf = NULL;
	uint32_t nlink = S_ISDIR(mode) ? 2 : 1;
	int r;

	if (size > UINT32_MAX)
		return -EFBIG;
	buf = calloc(1, total + 1);
	if (!buf)
		return -ENOMEM;
	/* ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check */
	snprintf(buf, CPIO_NEWC_HEADER_SIZE + 1,
		 "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", CPIO_NEWC_MAGIC,
		 w->next_ino, mode, 0, 0, nlink, (uint32_t)w->mtime, (uint32_t)size, 0, 0, rmajor,
		 rminor, (uint32_t)namesize, 0);
	memcpy(buf + CPIO_NEWC_HEADER_SIZE, name, namesize);
	r = write_full_fd(w->fd, buf, total);
	if (r < 0)
		return r;
	w->offset += total;
	w->next_ino++;
	w->entries++;
	return 0;
}

static int add_parents(struct cpio_writer *w, const char *name)
{
	for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
		size_t len = p - name;
		_cleanup_free_ char *dir = NULL;
		int r;

		if (dir_known(w, name, len))
			continue;
		dir = strndup(name, len);
		if (!dir)
			return -ENOMEM;
		r = write_header(w, dir, S_IFDIR | 0755, 0, 0, 0);
		if (r < 0)
			return r;
		r = dir_remember(w, name, len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Everything every entry starts with: checks, the name, its parents, the header. */
static int begin_entry(struct cpio_writer *w, const char *name, uint32_t type, mode_t mode,
		       uint64_t size, unsigned rmajor, unsigned rminor)
{
	_cleanup_free_ char *norm = NULL;
	int r;

	if (w->finished)
		return -EROFS;
	if (mode & ~(mode_t)07777)
		return -EINVAL;
	r = normalize_name(name, &norm);
	if (r < 0)
		return r;
	if (dir_known(w, norm, strlen(norm))) {
		/* A directory named twice is harmless; anything else would replace it. */
		return type == S_IFDIR ? -EALREADY : -EEXIST;
	}
	r = add_parents(w, norm);
	if (r < 0)
		return r;
	r = write_header(w, norm, type | mode, size, rmajor, rminor);
	if (r < 0)
		return r;
	if (type == S_IFDIR)
		return dir_remember(w, norm, strlen(norm));
	return 0;
}

int cpio_add_directory(struct cpio_writer *w, const char *name, mode_t mode)
{
	int r = begin_entry(w, name, S_IFDIR, mode, 0, 0, 0);

	return r == -EALREADY ? 0 : r;
}

int cpio_add_data(struct cpio_writer *w, const char *name, mode_t mode, const void *data,
		  size_t size)
{
	int r;

	if (size > 0 && !data)
		return -EINVAL;
	r = begin_entry(w, name, S_IFREG, mode, size, 0, 0);
	if (r < 0)
		return r;
	if (size > 0) {
		r = write_full_fd(w->fd, data, size);
		if (r < 0)
			return r;
		w->offset += size;
	}
	return write_padding(w);
}

int cpio_add_file(struct cpio_writer *w, const char *name, mode_t mode, const char *src_path)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	const size_t bufsize = 256 * 1024;
	uint64_t left;
	struct stat st;
	int r;

	fd = open(src_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_debug_errno(negative_errno(), "cpio: cannot open %s: %m", src_path);
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return log_debug_errno(-EINVAL, "cpio: %s is not a regular file", src_path);
	buf = malloc(bufsize);
	if (!buf)
		return -ENOMEM;

	r = begin_entry(w, name, S_IFREG, mode, st.st_size, 0, 0);
	if (r < 0)
		return r;
	/* The header promised st_size bytes: deliver exactly that many or fail. */
	for (left = st.st_size; left > 0;) {
		ssize_t n = read(fd, buf, MIN(left, (uint64_t)bufsize));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return log_debug_errno(-EIO, "cpio: %s shrank while being copied",
					       src_path);
		r = write_full_fd(w->fd, buf, n);
		if (r < 0)
			return r;
		w->offset += n;
		left -= n;
	}
	return write_padding(w);
}

int cpio_add_symlink(struct cpio_writer *w, const char *name, const char *target)
{
	size_t len;
	int r;

	if (!target || !*target)
		return -EINVAL;
	len = strlen(target);
	/* The link target is the entry's data, without a NUL. */
	r = begin_entry(w, name, S_IFLNK, 0777, len, 0, 0);
	if (r < 0)
		return r;
	r = write_full_fd(w->fd, target, len);
	if (r < 0)
		return r;
	w->offset += len;
	return write_padding(w);
}

int cpio_add_char_device(struct cpio_writer *w, const char *name, mode_t mode, unsigned major,
			 unsigned minor)
{
	return begin_entry(w, name, S_IFCHR, mode, 0, major, minor);
}

int cpio_writer_finish(struct cpio_writer *w)
{
	int r;

	if (w->finished)
		return -EROFS;
	r = write_header(w, CPIO_TRAILER_NAME, 0, 0, 0, 0);
	if (r < 0)
		return r;
	w->finished = true;
	return 0;
}
