/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dead kernel's log, read from dump memory through VMCOREINFO: the
 * lockless printk ring buffer (5.10+: SYMBOL(prb)) and the older
 * log_buf/printk_log layout. Lines come out as "[    1.234567] text",
 * like makedumpfile --dump-dmesg and dmesg.
 */
#pragma once

#include "dump.h"

/*
 * Calls fn for each record in sequence order; stops early when fn returns
 * non-zero, and returns that value. text is the record's raw text (it may
 * hold newlines; no NUL). -EOPNOTSUPP: the dump describes no log we read.
 */
typedef int (*dmesg_line_fn)(uint64_t ts_nsec, const char *text, size_t len, void *userdata);
int dmesg_foreach(struct dump *d, dmesg_line_fn fn, void *userdata);
/*
 * Writes the whole log as text, byte for byte as makedumpfile 1.7
 * --dump-dmesg does: a record's further lines are indented under its text;
 * bytes other than printable ASCII and white space are written as \xNN.
 * (One deliberate difference: makedumpfile sign-extends bytes >= 0x80 into
 * \xffffffNN; this writes \xNN.)
 */
int dmesg_write(struct dump *d, FILE *out);
/* The same, with options. */
enum {
	DMESG_PREFIX_EACH_LINE = 1 << 0, /* repeat "[time] " on a record's further lines */
};
int dmesg_write_full(struct dump *d, FILE *out, unsigned flags);
/*
 * The panic message: the text after "Kernel panic - not syncing: " of the
 * last such line, or the first line of an oops ("BUG: ...", "Oops: ...")
 * when there is no panic line. -ENOENT when neither is found.
 */
int dmesg_find_panic(struct dump *d, char **ret_line);
