/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86 bzImage as a kexec_load loader sees it (Linux
 * Documentation/arch/x86/boot.rst): a real-mode setup part of
 * (setup_sects + 1) * 512 bytes, whose setup header at 0x1f1 describes the
 * kernel, then the protected-mode kernel that we load and enter at its
 * 64-bit entry (load address + 0x200).
 *
 * Parsing never prints: a refusal comes back as -ENOEXEC (or -EINVAL for
 * a placement the image cannot take) with a one-line reason.
 */
#pragma once

#include <assert.h>

#include "util.h"

#define BZIMAGE_SETUP_HEADER_OFFSET 0x1f1
#define BZIMAGE_SECTOR_SIZE 512
/* Where the 64-bit entry point is, from the start of the protected-mode kernel. */
#define BZIMAGE_ENTRY64_OFFSET 0x200

/* loadflags */
#define BZIMAGE_LOADED_HIGH 0x01
/* xloadflags */
#define BZIMAGE_XLF_KERNEL_64 0x0001
#define BZIMAGE_XLF_CAN_BE_LOADED_ABOVE_4G 0x0002
#define BZIMAGE_XLF_5LEVEL 0x0020

/* The first protocol with the 64-bit entry and xloadflags (Linux 3.8). */
#define BZIMAGE_MIN_PROTOCOL 0x020c
/* Protocol 2.14 added boot_params.acpi_rsdp_addr. */
#define BZIMAGE_PROTOCOL_ACPI_RSDP 0x020e

/* The setup header, byte for byte as boot.rst lays it out. */
struct bzimage_setup_header {
	uint8_t setup_sects; /* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag; /* 0x1fe: 0xaa55 */
	uint16_t jump; /* 0x200: a short jump past the header */
	uint32_t header; /* 0x202: "HdrS" */
	uint16_t version; /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader; /* 0x210 */
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image; /* 0x218 */
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr; /* 0x228 */
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment; /* 0x230 */
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags; /* 0x236 */
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data; /* 0x250 */
	uint64_t pref_address; /* 0x258 */
	uint32_t init_size; /* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset; /* 0x268 */
} __attribute__((packed));

#define BZIMAGE_HDR_AT(field) \
	(BZIMAGE_SETUP_HEADER_OFFSET + offsetof(struct bzimage_setup_header, field))
static_assert(BZIMAGE_HDR_AT(boot_flag) == 0x1fe, "boot_flag");
static_assert(BZIMAGE_HDR_AT(header) == 0x202, "header");
static_assert(BZIMAGE_HDR_AT(version) == 0x206, "version");
static_assert(BZIMAGE_HDR_AT(type_of_loader) == 0x210, "type_of_loader");
static_assert(BZIMAGE_HDR_AT(ramdisk_image) == 0x218, "ramdisk_image");
static_assert(BZIMAGE_HDR_AT(cmd_line_ptr) == 0x228, "cmd_line_ptr");
static_assert(BZIMAGE_HDR_AT(kernel_alignment) == 0x230, "kernel_alignment");
static_assert(BZIMAGE_HDR_AT(xloadflags) == 0x236, "xloadflags");
static_assert(BZIMAGE_HDR_AT(cmdline_size) == 0x238, "cmdline_size");
static_assert(BZIMAGE_HDR_AT(setup_data) == 0x250, "setup_data");
static_assert(BZIMAGE_HDR_AT(pref_address) == 0x258, "pref_address");
static_assert(BZIMAGE_HDR_AT(init_size) == 0x260, "init_size");
static_assert(sizeof(struct bzimage_setup_header) == 0x26c - BZIMAGE_SETUP_HEADER_OFFSET, "size");

/* A parsed image. Points into the caller's buffer, which must outlive it. */
struct bzimage {
	struct bzimage_setup_header hdr; /* the bytes the image defines; the rest zero */
	size_t hdr_size; /* how many bytes of header the image defines (from its jump) */
	uint16_t version; /* boot protocol, 0x020f for 2.15 */
	size_t setup_size; /* real-mode part: (setup_sects or 4, + 1) * 512 */
	const uint8_t *kernel; /* protected-mode part: what kexec loads */
	size_t kernel_size;
	uint64_t alignment; /* where the kernel may start: a multiple of this */
	uint64_t min_address; /* and not below this (the decompressor's floor) */
	uint64_t memsz; /* memory it needs from its start: init_size, page-aligned */
};

/*
 * Validates data as a relocatable 64-bit bzImage. -ENOEXEC with *reason set
 * (when reason is not NULL) for anything else.
 */
int bzimage_parse(const void *data, size_t size, struct bzimage *ret, const char **reason);

/*
 * Checks that the image can run where we put it. kernel_addr: its load
 * address; highest_end: one past the last byte of kernel, boot_params,
 * command line and initrd; five_level: the running kernel uses 5-level
 * paging. -EINVAL with *reason when the image cannot take the placement.
 */
int bzimage_check_placement(const struct bzimage *b, uint64_t kernel_addr, uint64_t highest_end,
			    bool five_level, const char **reason);

/* The release string in the image ("6.1.0-28-amd64 (debian-kernel@...) #1 ..."), or NULL. */
const char *bzimage_kernel_version(const void *data, size_t size, char *buf, size_t buf_size);
