/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's crashkernel= argument: parse, validate, format, and the size
 * it gives a machine with N bytes of RAM. The forms (kernel/crash_core.c in
 * 6.1, kernel/crash_reserve.c from 6.9):
 *
 *   crashkernel=SIZE[@OFFSET]
 *   crashkernel=START-[END]:SIZE[,START-[END]:SIZE...][@OFFSET]
 *   crashkernel=SIZE,high   crashkernel=SIZE,low   (x86_64: low only with high)
 *
 * Numbers are the kernel's memparse(): strtoull base 0 with an optional
 * K/M/G/T/P/E suffix (either case). Range ends are exclusive, END omitted
 * means no upper bound. The parser is stricter than the kernel on purpose:
 * it refuses what the kernel would silently ignore or never match (a size
 * of 0, ranges out of order or overlapping, trailing characters), so that
 * what crashcap writes always means what it says.
 */
#pragma once

#include "util.h"

#define CRASHKERNEL_MAX_RANGES 16

enum crashkernel_suffix {
	CRASHKERNEL_PLAIN,
	CRASHKERNEL_HIGH, /* ",high": placed above 4 GiB when possible */
	CRASHKERNEL_LOW, /* ",low": the part below 4 GiB that goes with ",high" */
};

struct crashkernel_range {
	uint64_t start;
	uint64_t end; /* exclusive; UINT64_MAX when open ("4G-") */
	uint64_t size;
};

struct crashkernel_arg {
	enum crashkernel_suffix suffix;
	uint64_t size; /* the plain form; 0 when ranges are given */
	struct crashkernel_range ranges[CRASHKERNEL_MAX_RANGES];
	size_t n_ranges; /* 0: the plain form */
	bool has_offset;
	uint64_t offset;
};

/*
 * Parses the value after "crashkernel=". -EINVAL with a one-line message
 * in *error (what is wrong and an example of the right form).
 */
int crashkernel_arg_parse(const char *value, struct crashkernel_arg *ret, char **error);

/* The canonical text of a parsed value ("192M", "1G-4G:160M,4G-:256M"); -ENOBUFS. */
int crashkernel_arg_format(const struct crashkernel_arg *a, char *buf, size_t len);

/* A size the way the kernel reads it back: the largest of G, M, K that divides it, else bytes. */
const char *crashkernel_format_size(uint64_t bytes, char *buf, size_t len);

/*
 * The size the kernel reserves for this argument on a machine with
 * system_ram bytes: the plain size, or the first range that holds the RAM
 * rounded up to 128 MiB (the kernel rounds it up so that firmware holes do
 * not push a machine into the range below). 0 when no range matches.
 */
uint64_t crashkernel_arg_size_for(const struct crashkernel_arg *a, uint64_t system_ram);

/*
 * The last "crashkernel=" token of a command line with the given suffix:
 * the kernel takes the LAST one (get_last_crashkernel() in
 * kernel/crash_core.c, 6.1, and kernel/crash_reserve.c, 6.12), and a
 * plain one never counts a ",high"/",low" token. Returns the start of the
 * value (after '=') and its length, or NULL when there is none.
 */
const char *crashkernel_cmdline_find(const char *cmdline, enum crashkernel_suffix suffix,
				     size_t *ret_len);

/* What the kernel reserves on x86_64 for a whole command line. */
struct crashkernel_setting {
	bool present; /* some crashkernel= applies */
	bool high; /* from ",high" (a plain one wins over it) */
	char value[128]; /* the deciding token's value, as written */
	uint64_t size; /* the main range */
	uint64_t low_size; /* the ",low" range with ",high" (256 MiB when not given) */
};

/*
 * Evaluates cmdline the way an x86_64 kernel does at boot for a machine with
 * system_ram bytes. No crashkernel= at all: present = false, returns 0.
 * -EINVAL with *error when the deciding token is malformed.
 */
int crashkernel_cmdline_eval(const char *cmdline, uint64_t system_ram,
			     struct crashkernel_setting *ret, char **error);
