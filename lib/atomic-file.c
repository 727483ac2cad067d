// SPDX-License-Identifier: GPL-2.0-or-later
#include "atomic-file.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_open(const char *path, mode_t mode, struct atomic_file *ret)
{
	_cleanup_free_ char *tmp = NULL, *dup = NULL;
	_cleanup_close_ int fd = -1;
	FILE *f;
	int r;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return -ENOMEM;
	dup = strdup(path);
	if (!dup)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return log_debug_errno(negative_errno(), "Cannot create %s: %m", tmp);
	/* mkostemp makes 0600: set what the file is meant to have, whatever the umask. */
	if (fchmod(fd, mode) < 0) {
		r = negative_errno();
		(void)unlink(tmp);
		return log_debug_errno(r, "Cannot set the mode of %s: %m", tmp);
	}
	f = fdopen(fd, "w");
	if (!f) {
		r = negative_errno();
		(void)unlink(tmp);
		return r;
	}
	TAKE_FD(fd);
	*ret = (struct atomic_file){ .f = f, .tmp = TAKE_PTR(tmp), .path = TAKE_PTR(dup) };
	return 0;
}

int atomic_file_commit(struct atomic_file *a, int written)
{
	int r = written;

	if (fflush(a->f) != 0 && r >= 0)
		r = negative_errno();
	if (r >= 0 && ferror(a->f))
		r = -EIO;
	if (r >= 0 && fsync(fileno(a->f)) < 0)
		r = negative_errno();
	if (fclose(a->f) != 0 && r >= 0)
		r = negative_errno();
	if (r >= 0 && rename(a->tmp, a->path) < 0)
		r = negative_errno();
	if (r < 0) {
		(void)unlink(a->tmp);
		log_debug_errno(r, "Cannot write %s: %m", a->path);
	}
	free(a->tmp);
	free(a->path);
	*a = (struct atomic_file){};
	return r;
}

int atomic_file_write(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct atomic_file a;
	int r;

	r = atomic_file_open(path, mode, &a);
	if (r < 0)
		return r;
	r = len && fwrite(buf, 1, len, a.f) != len ? -EIO : 0;
	return atomic_file_commit(&a, r);
}
