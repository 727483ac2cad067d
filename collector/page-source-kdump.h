/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Re-filtering a kdump-compressed input (crashcap's or makedumpfile's,
 * regular or flattened): its pages come through lib/dump like any other;
 * what is particular is the level it was written at. Pages that level
 * left out cannot come back, so the result's dump level is the union of
 * the input's and the one asked, as makedumpfile records it.
 */
#pragma once

#include "util.h"

/*
 * The dump_level of the kdump sub-header of the file at path. -ENOEXEC:
 * not kdump-compressed (an ELF vmcore has no level); -EBADMSG: a header
 * cut short or a level outside 0..31.
 */
int kdump_input_level(const char *path, int *ret_level);

/*
 * The level to write and, when it is not the one asked, why (appended to
 * why, "" or the page filter's fallback, of size why_size): asked is the
 * level the filter applies, input_path the dump it reads.
 */
int refilter_level(const char *input_path, int asked, char *why, size_t why_size);
