/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading the top level of a JSON object: {"key": "string" | number |
 * true | false | null, ...}, what crashcap's own writers make for
 * summary.json and the daemon's state. A nested object or array is checked
 * and kept as text (JSONFLAT_NESTED): jsonflat_nested() hands it back for a
 * second jsonflat_parse(), one level at a time.
 */
#pragma once

#include "util.h"

enum jsonflat_type {
	JSONFLAT_STRING,
	JSONFLAT_NUMBER,
	JSONFLAT_BOOL,
	JSONFLAT_NULL,
	JSONFLAT_NESTED, /* an object or array, skipped */
};

struct jsonflat_field {
	char *key;
	enum jsonflat_type type;
	char *text; /* the decoded string, the number as written, or a nested value's JSON */
	bool boolean;
};

struct jsonflat {
	struct jsonflat_field *fields;
	size_t count;
};

/* -EBADMSG: not a JSON object (or nested deeper than 32). A repeated key: the last one counts. */
int jsonflat_parse(const char *text, struct jsonflat *ret);
void jsonflat_done(struct jsonflat *j);
/* The string value of key; NULL when missing, null or not a string. */
const char *jsonflat_string(const struct jsonflat *j, const char *key);
/* -ENOENT missing or null; -EINVAL not an integer (or out of range). */
int jsonflat_i64(const struct jsonflat *j, const char *key, int64_t *ret);
int jsonflat_u64(const struct jsonflat *j, const char *key, uint64_t *ret);
int jsonflat_double(const struct jsonflat *j, const char *key, double *ret);
int jsonflat_bool(const struct jsonflat *j, const char *key, bool *ret);
/* The JSON text of key's object or array (for jsonflat_parse); NULL when it is not one. */
const char *jsonflat_nested(const struct jsonflat *j, const char *key);
