/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The contract between crashcap's loader (loader/purgatory.c) and its
 * purgatory blob (purgatory/entry.S): where the parameter block sits in the
 * blob and what each field means. Included by assembly, so only #defines.
 *
 * The blob is position-independent (every reference is %rip-relative; the
 * build links it at two bases and compares the results), so the loader
 * copies it anywhere page-aligned and patches the parameter block in place.
 * Execution starts at offset 0 of the blob.
 */
#pragma once

/* Byte offset of the parameter block from the start of the blob. */
#define PURGATORY_PARAMS_OFFSET 0x10

/* "CRASHCAP" as a little-endian 64-bit number: the first 8 bytes of the block. */
#define PURGATORY_MAGIC 0x5041434853415243
#define PURGATORY_VERSION 1

/* Offsets inside the parameter block. */
#define PURGATORY_P_MAGIC 0x00 /* u64 PURGATORY_MAGIC */
#define PURGATORY_P_VERSION 0x08 /* u32 PURGATORY_VERSION */
#define PURGATORY_P_SIZE 0x0c /* u32 PURGATORY_PARAMS_SIZE */
#define PURGATORY_P_ENTRY 0x10 /* u64 kernel's 64-bit entry (load address + 0x200) */
#define PURGATORY_P_BOOT_PARAMS 0x18 /* u64 address of boot_params: goes to %rsi */
#define PURGATORY_P_NR_REGIONS 0x20 /* u32 regions to verify, at most PURGATORY_MAX_REGIONS */
#define PURGATORY_P_FLAGS 0x24 /* u32 PURGATORY_FLAG_* */
#define PURGATORY_P_REGIONS 0x28 /* struct { u64 start; u64 len; u8 sha256[32]; }[] */

#define PURGATORY_MAX_REGIONS 16
#define PURGATORY_REGION_SIZE 48
#define PURGATORY_R_START 0
#define PURGATORY_R_LEN 8
#define PURGATORY_R_SHA256 16

#define PURGATORY_PARAMS_SIZE (PURGATORY_P_REGIONS + PURGATORY_MAX_REGIONS * PURGATORY_REGION_SIZE)

/* Print a line on the serial port when every digest matched, too. */
#define PURGATORY_FLAG_VERBOSE 0x1
/*
 * Test only, never set by crashcapctl or crashcapd: after reporting a
 * refusal, write PURGATORY_TEST_EXIT_CODE to QEMU's isa-debug-exit device
 * so the test's guest ends at once instead of halting until its timeout.
 */
#define PURGATORY_FLAG_TEST_EXIT 0x2
#define PURGATORY_TEST_EXIT_PORT 0xf4
/* QEMU then exits with status (code << 1) | 1 = 85. */
#define PURGATORY_TEST_EXIT_CODE 0x2a

/* The 16550 UART the purgatory reports on: COM1. */
#define PURGATORY_SERIAL_PORT 0x3f8
