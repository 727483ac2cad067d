/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One version for every program and report crashcap writes. */
#pragma once

#define CRASHCAP_VERSION "0.1.0"
