/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small streaming JSON writer for reports (summary.json, status --json).
 * It tracks commas and nesting; strings are escaped. Errors of the stream
 * are reported once, by json_end().
 */
#pragma once

#include "util.h"

struct json {
	FILE *out;
	int depth;
	bool need_comma[16];
	bool pretty;
};

void json_begin(struct json *j, FILE *out, bool pretty);
/* Checks the nesting closed and the stream had no error. */
int json_end(struct json *j);

void json_object_open(struct json *j, const char *key); /* key NULL inside arrays / at top */
void json_object_close(struct json *j);
void json_array_open(struct json *j, const char *key);
void json_array_close(struct json *j);
void json_string(struct json *j, const char *key, const char *value); /* NULL writes null */
void json_u64(struct json *j, const char *key, uint64_t value);
void json_i64(struct json *j, const char *key, int64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
void json_null(struct json *j, const char *key);
