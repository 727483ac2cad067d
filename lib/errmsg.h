/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-line messages for users, handed back through a `char **error`
 * out-parameter next to the negative errno (the loader's convention, see
 * loader/loadseg.h): the library says what failed and what to do, and the
 * program prints it. Library code still logs at debug level only.
 */
#pragma once

#include "util.h"

/*
 * Replaces *error (when error is not NULL) with the formatted message and
 * returns r. Out of memory leaves *error NULL: callers fall back to
 * strerror(-r).
 */
int errmsg_set(char **error, int r, const char *fmt, ...) _printf_(3, 4);
