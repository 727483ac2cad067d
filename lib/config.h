/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file format: "key = value" lines, '#' comments, blank
 * lines. Later files and later lines override earlier ones (drop-ins).
 * Errors carry the file and line so a person can fix them.
 */
#pragma once

#include "util.h"

struct config_error {
	char file[256];
	unsigned line; /* 0 when the error is not about one line */
	char message[256];
};

struct config_entry {
	char *key;
	char *value;
	char *file;
	unsigned line;
};

struct config {
	struct config_entry *entries;
	size_t count;
};

void config_done(struct config *c);
/* Appends the entries of one file. -ENOENT if it does not exist. */
int config_parse_file(struct config *c, const char *path, struct config_error *err);
/* Same for text in memory; name is what errors call it. */
int config_parse_string(struct config *c, const char *text, const char *name,
			struct config_error *err);
/* The last entry for key, or NULL. */
const struct config_entry *config_get(const struct config *c, const char *key);
/* Writes key = "value", quoted and escaped so any string reads back as it was. */
void config_write_value(FILE *f, const char *key, const char *value);
/* "file:line: message" (or "file: message") into buf. */
const char *config_error_format(const struct config_error *err, char *buf, size_t len);
