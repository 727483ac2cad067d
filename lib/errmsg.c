// SPDX-License-Identifier: GPL-2.0-or-later
#include "errmsg.h"

#include <stdarg.h>

int errmsg_set(char **error, int r, const char *fmt, ...)
{
	va_list ap;
	char *m;

	if (!error)
		return r;
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		m = NULL;
	va_end(ap);
	free(*error);
	*error = m;
	return r;
}
