/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small files in a temporary fixture tree, for tests that fake a root
 * (/proc, /etc, /lib/modules). The helpers assert (cmocka) instead of
 * returning errors.
 */
#pragma once

/* Writes text to dir + rel (rel starts with '/'), making the folders on the way. */
void fixture_put(const char *dir, const char *rel, const char *text);

/* Removes dir and everything below it. */
void fixture_rm_tree(const char *dir);
