/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loader's side of the purgatory (purgatory/entry.S): a copy of the
 * blob built into the program, with its parameter block filled in: the
 * regions to check and their SHA-256, the boot_params address and the
 * kernel's 64-bit entry. The copy becomes the purgatory segment; kexec_load
 * enters it at its first byte.
 */
#pragma once

#include <assert.h>

#include "purgatory/purgatory-abi.h"
#include "util.h"

struct purgatory_region {
	uint64_t start;
	uint64_t len;
	uint8_t sha256[32];
} __attribute__((packed));

struct purgatory_params {
	uint64_t magic;
	uint32_t version;
	uint32_t size;
	uint64_t kernel_entry;
	uint64_t boot_params;
	uint32_t nr_regions;
	uint32_t flags;
	struct purgatory_region regions[PURGATORY_MAX_REGIONS];
} __attribute__((packed));

static_assert(sizeof(struct purgatory_region) == PURGATORY_REGION_SIZE, "region");
static_assert(offsetof(struct purgatory_region, len) == PURGATORY_R_LEN, "region len");
static_assert(offsetof(struct purgatory_region, sha256) == PURGATORY_R_SHA256, "region sha");
static_assert(offsetof(struct purgatory_params, version) == PURGATORY_P_VERSION, "version");
static_assert(offsetof(struct purgatory_params, size) == PURGATORY_P_SIZE, "size");
static_assert(offsetof(struct purgatory_params, kernel_entry) == PURGATORY_P_ENTRY, "entry");
static_assert(offsetof(struct purgatory_params, boot_params) == PURGATORY_P_BOOT_PARAMS, "bp");
static_assert(offsetof(struct purgatory_params, nr_regions) == PURGATORY_P_NR_REGIONS, "nr");
static_assert(offsetof(struct purgatory_params, flags) == PURGATORY_P_FLAGS, "flags");
static_assert(offsetof(struct purgatory_params, regions) == PURGATORY_P_REGIONS, "regions");
static_assert(sizeof(struct purgatory_params) == PURGATORY_PARAMS_SIZE, "params size");

/* The blob linked into the program (purgatory/blob.S). */
const uint8_t *purgatory_blob(size_t *ret_size);

/* Checks a blob's parameter block: -EINVAL when magic, version or size is off. */
int purgatory_check(const uint8_t *image, size_t size);

/* A fresh, checked copy of the built-in blob. */
int purgatory_new(uint8_t **ret_image, size_t *ret_size);

/*
 * Appends a region: data is what the loader puts at start; its digest goes
 * in the block. -E2BIG past PURGATORY_MAX_REGIONS.
 */
int purgatory_add_region(uint8_t *image, uint64_t start, const void *data, size_t len);

void purgatory_set_entry(uint8_t *image, uint64_t kernel_entry, uint64_t boot_params,
			 uint32_t flags);

/* Test only: flips one bit of a region's stored digest so the purgatory must refuse. */
int purgatory_corrupt_digest(uint8_t *image, unsigned region);

/* Reads the parameter block back (for tests and --debug output). */
int purgatory_get_params(const uint8_t *image, size_t size, struct purgatory_params *ret);
