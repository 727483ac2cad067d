/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4) for the loader: the digests the purgatory checks
 * before it starts the crash kernel. Small and dependency-free on purpose;
 * the purgatory has its own assembly version (purgatory/sha256.S) and the
 * unit tests hold the two to the same answers.
 */
#pragma once

#include "util.h"

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

struct sha256_ctx {
	uint32_t state[8];
	uint64_t length; /* bytes fed so far */
	uint8_t buf[SHA256_BLOCK_SIZE];
	size_t buf_len;
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(struct sha256_ctx *ctx, uint8_t out[SHA256_DIGEST_SIZE]);
/* The three above in one call. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
/* Lower-case hex, 64 characters and a NUL. */
char *sha256_hex(const uint8_t digest[SHA256_DIGEST_SIZE], char buf[2 * SHA256_DIGEST_SIZE + 1]);
