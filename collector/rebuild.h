/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * makedumpfile -R: the regular dump file back from a flattened stream
 * (makedumpfile -F, crashcap-collect -F) read from a pipe. lib/dump-flat.c
 * reads a flattened file in place, but needs to seek; a stream is read once,
 * each record written where it belongs.
 */
#pragma once

#include "util.h"

struct rebuild_result {
	uint64_t records; /* data records copied */
	uint64_t file_size; /* the rebuilt file's size */
};

/*
 * Copies the stream on in_fd into out_fd (a regular file, open for writing).
 * -EBADMSG: not a flattened stream, or a record that makes no sense;
 * -ENODATA: the stream ended before its end marker (out_fd holds what came,
 * an INCOMPLETE dump to readers); other errors from read/write. *ret is
 * filled in every case, so the caller can say how much was written.
 */
int rebuild_flat(int in_fd, int out_fd, struct rebuild_result *ret);
