// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Output sinks: positional file writes, or makedumpfile's flattened format
 * (layout from makedumpfile's write_start_flat_header(), write_buffer() and
 * rearrange_dumpdata()). The reader stops at the first record whose offset
 * is negative or whose size is not positive, so a record is never empty.
 */
#include "sink.h"
#include "log.h"

#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_TYPE 1
#define FLAT_VERSION 1
#define FLAT_END (-1)

struct sink {
	int fd;
	bool flat;
	bool regular; /* a regular file (only for positional sinks) */
	uint64_t bytes;
};

struct flat_record {
	int64_t offset; /* big-endian */
	int64_t size;
};

static int sink_alloc(int fd, bool flat, struct sink **ret)
{
	struct sink *s;
	struct stat st;

	if (fd < 0)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct sink){ .fd = fd, .flat = flat, .regular = S_ISREG(st.st_mode) };
	*ret = s;
	return 0;
}

int sink_new_file(int fd, struct sink **ret)
{
	return sink_alloc(fd, false, ret);
}

int sink_new_flat(int fd, struct sink **ret)
{
	_cleanup_sink_ struct sink *s = NULL;
	uint8_t header[SINK_FLAT_HEADER_SIZE] = {};
	int64_t v;
	int r;

	r = sink_alloc(fd, true, &s);
	if (r < 0)
		return r;
	memcpy(header, FLAT_SIGNATURE, strlen(FLAT_SIGNATURE));
	v = (int64_t)htobe64(FLAT_TYPE);
	memcpy(header + 16, &v, sizeof(v));
	v = (int64_t)htobe64(FLAT_VERSION);
	memcpy(header + 24, &v, sizeof(v));
	r = write_full_fd(fd, header, sizeof(header));
	if (r < 0)
		return log_debug_errno(r, "sink: cannot write the flattened header: %m");
	s->bytes = sizeof(header);
	*ret = TAKE_PTR(s);
	return 0;
}

struct sink *sink_free(struct sink *s)
{
	free(s);
	return NULL;
}

static int flat_record(struct sink *s, int64_t offset, int64_t size)
{
	struct flat_record rec = {
		.offset = (int64_t)htobe64((uint64_t)offset),
		.size = (int64_t)htobe64((uint64_t)size),
	};
	int r;

	r = write_full_fd(s->fd, &rec, sizeof(rec));
	if (r < 0)
		return r;
	s->bytes += sizeof(rec);
	return 0;
}

int sink_write(struct sink *s, const void *buf, size_t len, uint64_t off)
{
	int r;

	if (len == 0)
		return 0;
	if (off > INT64_MAX || len > INT64_MAX - off)
		return -EFBIG;
	if (!s->flat) {
		r = pwrite_full(s->fd, buf, len, (off_t)off);
		if (r < 0)
			return r;
		s->bytes = MAX(s->bytes, off + len);
		return 0;
	}
	r = flat_record(s, (int64_t)off, (int64_t)len);
	if (r < 0)
		return r;
	r = write_full_fd(s->fd, buf, len);
	if (r < 0)
		return r;
	s->bytes += len;
	return 0;
}

int sink_reserve(struct sink *s, uint64_t len)
{
	if (s->flat || !s->regular)
		return 0;
	if (fallocate(s->fd, 0, 0, (off_t)len) < 0) {
		if (errno == ENOSPC || errno == EIO || errno == EFBIG || errno == EDQUOT)
			return negative_errno();
		log_debug_errno(errno, "sink: fallocate failed, continuing without: %m");
	}
	if (ftruncate(s->fd, (off_t)len) < 0)
		return negative_errno();
	s->bytes = MAX(s->bytes, len);
	return 0;
}

bool sink_reads_zeros(const struct sink *s)
{
	return s->flat || s->regular;
}

bool sink_is_stream(const struct sink *s)
{
	return s->flat;
}

int sink_finish(struct sink *s)
{
	int r;

	if (s->flat) {
		r = flat_record(s, FLAT_END, FLAT_END);
		if (r < 0)
			return r;
	}
	/* The crash kernel reboots right after: the dump must be on the disk. */
	if (fdatasync(s->fd) < 0 && errno != EINVAL && errno != EROFS)
		return negative_errno();
	return 0;
}

uint64_t sink_bytes(const struct sink *s)
{
	return s->bytes;
}
