// SPDX-License-Identifier: GPL-2.0-or-later
#include "collect-internal.h"

int output_elf(struct collect *c, struct sink *s)
{
	return -EOPNOTSUPP;
}
