/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a dump's bytes go. The dump writers place every piece at its file
 * offset; a sink either writes it there (a regular file or a block device)
 * or emits it as one record of makedumpfile's flattened format, for a pipe
 * or a socket that cannot seek:
 *
 *	4096-byte header: "makedumpfile" NUL-padded to 16 bytes, then
 *	big-endian i64 type = 1 and i64 version = 1, the rest zeros;
 *	records: big-endian { i64 offset; i64 size } and size bytes;
 *	the end: { -1, -1 }.
 *
 * `makedumpfile -R FILE < stream` replays the records in order, so later
 * records win where they overlap (the final header replaces the first one).
 */
#pragma once

#include "util.h"

#define SINK_FLAT_HEADER_SIZE 4096U

struct sink;

/* Positional writes to fd (pwrite); fd stays the caller's. */
int sink_new_file(int fd, struct sink **ret);
/* The flattened stream to fd: the stream header is written now; fd stays the caller's. */
int sink_new_flat(int fd, struct sink **ret);
struct sink *sink_free(struct sink *s);
static inline void sink_freep(struct sink **s)
{
	sink_free(*s);
}
#define _cleanup_sink_ _cleanup_(sink_freep)

/* Writes len bytes for file offset off. len 0 writes nothing. */
int sink_write(struct sink *s, const void *buf, size_t len, uint64_t off);
/*
 * Makes [0, len) of a regular output file exist now (fallocate, then
 * ftruncate), so that rewriting headers later needs no new blocks on a
 * full disk. Nothing for streams and devices. -ENOSPC etc. when the file
 * system refuses.
 */
int sink_reserve(struct sink *s, uint64_t len);
/*
 * Parts of the output never written read as zeros: a regular file or a
 * stream (makedumpfile -R leaves holes), not a block device that held
 * something before.
 */
bool sink_reads_zeros(const struct sink *s);
bool sink_is_stream(const struct sink *s);
/* Ends the output: the stream's end record, or fdatasync of a file. */
int sink_finish(struct sink *s);
/* Bytes sent to fd so far: the stream's length, or the file's furthest written byte. */
uint64_t sink_bytes(const struct sink *s);
