/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot_params "zero page" and command line for the crash kernel's
 * 64-bit entry (Documentation/arch/x86/boot.rst): the setup header copied
 * from the image, initrd, command line pointer, the e820 map (entries past
 * the 128 that fit go in a SETUP_E820_EXT setup_data node) and the ACPI
 * RSDP for machines where the crash kernel cannot find it by scanning
 * (EFI). One segment holds all of it:
 *
 *   +0       struct x86_boot_params (4 KiB)
 *   +4096    command line, NUL-terminated
 *   +align16 setup_data E820_EXT node, when needed
 */
#pragma once

#include <assert.h>

#include "bzimage.h"
#include "e820.h"

#define BOOT_PARAMS_SIZE 4096
#define BOOT_E820_MAX_ZEROPAGE 128
#define SETUP_TYPE_E820_EXT 1
/* The loader ID the kernel's own kexec path uses (kexec family, 0xD). */
#define BOOT_TYPE_OF_LOADER_KEXEC 0xd0

struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct x86_setup_data {
	uint64_t next;
	uint32_t type;
	uint32_t len;
	/* len bytes of data follow */
} __attribute__((packed));

struct x86_boot_params {
	uint8_t screen_info[0x40]; /* 0x000; ext_mem_k is the u16 at 0x002 */
	uint8_t apm_bios_info[0x14]; /* 0x040 */
	uint8_t _pad2[4];
	uint64_t tboot_addr; /* 0x058 */
	uint8_t ist_info[0x10]; /* 0x060 */
	uint64_t acpi_rsdp_addr; /* 0x070 */
	uint8_t _pad3[8];
	uint8_t hd0_info[16]; /* 0x080 */
	uint8_t hd1_info[16];
	uint8_t sys_desc_table[16];
	uint8_t olpc_ofw_header[16];
	uint32_t ext_ramdisk_image; /* 0x0c0 */
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t _pad4[116];
	uint8_t edid_info[0x80]; /* 0x140 */
	uint8_t efi_info[0x20]; /* 0x1c0 */
	uint32_t alt_mem_k; /* 0x1e0 */
	uint32_t scratch;
	uint8_t e820_entries; /* 0x1e8 */
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t _pad5[2];
	uint8_t sentinel; /* 0x1ef: must stay 0, or the kernel distrusts the page */
	uint8_t _pad6[1];
	struct bzimage_setup_header hdr; /* 0x1f1 */
	uint8_t _pad7[0x290 - 0x1f1 - sizeof(struct bzimage_setup_header)];
	uint32_t edd_mbr_sig_buffer[16]; /* 0x290 */
	struct boot_e820_entry e820_table[BOOT_E820_MAX_ZEROPAGE]; /* 0x2d0 */
	uint8_t _pad8[48];
	uint8_t eddbuf[0x1ec]; /* 0xd00 */
	uint8_t _pad9[276];
} __attribute__((packed));

static_assert(sizeof(struct boot_e820_entry) == 20, "boot_e820_entry");
static_assert(sizeof(struct x86_setup_data) == 16, "setup_data");
static_assert(offsetof(struct x86_boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
static_assert(offsetof(struct x86_boot_params, ext_ramdisk_image) == 0x0c0, "ext_ramdisk");
static_assert(offsetof(struct x86_boot_params, ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line");
static_assert(offsetof(struct x86_boot_params, efi_info) == 0x1c0, "efi_info");
static_assert(offsetof(struct x86_boot_params, alt_mem_k) == 0x1e0, "alt_mem_k");
static_assert(offsetof(struct x86_boot_params, e820_entries) == 0x1e8, "e820_entries");
static_assert(offsetof(struct x86_boot_params, sentinel) == 0x1ef, "sentinel");
static_assert(offsetof(struct x86_boot_params, hdr) == BZIMAGE_SETUP_HEADER_OFFSET, "hdr");
static_assert(offsetof(struct x86_boot_params, edd_mbr_sig_buffer) == 0x290, "edd_mbr_sig");
static_assert(offsetof(struct x86_boot_params, e820_table) == 0x2d0, "e820_table");
static_assert(offsetof(struct x86_boot_params, eddbuf) == 0xd00, "eddbuf");
static_assert(sizeof(struct x86_boot_params) == BOOT_PARAMS_SIZE, "boot_params size");

struct bootparams_config {
	const struct bzimage *image;
	uint64_t addr; /* where the segment is loaded */
	const char *cmdline; /* complete, elfcorehdr= included */
	uint64_t initrd_addr;
	uint64_t initrd_size; /* 0: no initrd */
	const struct e820_table *e820;
	uint64_t acpi_rsdp; /* 0: let the kernel find it */
	/* The first kernel's boot_params (/sys/kernel/boot_params/data), or NULL. */
	const uint8_t *first;
	size_t first_size;
};

/* Bytes the segment takes for a command line of cmdline_len and e820_count entries. */
size_t bootparams_segment_size(size_t cmdline_len, size_t e820_count);

/*
 * Builds the segment. -E2BIG with *reason when the command line is longer
 * than the image accepts (cmdline_size).
 */
int bootparams_build(const struct bootparams_config *c, uint8_t **ret_buf, size_t *ret_size,
		     const char **reason);

/* The first kernel's boot_params from root; -ENOENT without sysfs boot_params. */
int bootparams_read_first(const char *root, uint8_t **ret_buf, size_t *ret_size);

/*
 * Where the ACPI RSDP is: the first kernel's boot_params.acpi_rsdp_addr,
 * else ACPI20= or ACPI= from /sys/firmware/efi/systab. -ENOENT when neither
 * says (a BIOS machine: the crash kernel scans low memory for it itself).
 */
int bootparams_read_rsdp(const char *root, const uint8_t *first, size_t first_size, uint64_t *ret);
