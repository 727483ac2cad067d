// SPDX-License-Identifier: GPL-2.0-or-later
#include "bzimage.h"

#define PAGE_SIZE_4K 4096ULL
#define MIB (1ULL << 20)
#define GIB4 (1ULL << 32)

static bool is_power_of_2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int refuse(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -ENOEXEC;
}

int bzimage_parse(const void *data, size_t size, struct bzimage *ret, const char **reason)
{
	const uint8_t *p = data;
	struct bzimage b = {};
	uint8_t setup_sects;
	size_t hdr_end;

	if (!data || size < 2 * BZIMAGE_SECTOR_SIZE)
		return refuse(reason, "file too short to be a bzImage (under 1024 bytes)");
	if (memcmp(p + BZIMAGE_HDR_AT(header), "HdrS", 4) != 0)
		return refuse(reason, "not a bzImage: no \"HdrS\" setup header signature at 0x202");
	if (p[BZIMAGE_HDR_AT(boot_flag)] != 0x55 || p[BZIMAGE_HDR_AT(boot_flag) + 1] != 0xaa)
		return refuse(reason, "not a bzImage: no 0xAA55 boot sector signature at 0x1fe");

	memcpy(&b.version, p + BZIMAGE_HDR_AT(version), sizeof(b.version));
	if (b.version < BZIMAGE_MIN_PROTOCOL)
		return refuse(reason, "boot protocol older than 2.12 (kernel before 3.8): "
				      "no 64-bit entry point to start it from kexec");

	/*
	 * The header's length is the target of the short jump at 0x200: the
	 * kernel defines fields up to there, and a loader copies exactly those.
	 */
	if (p[0x200] != 0xeb)
		return refuse(reason,
			      "no short jump at 0x200: cannot tell where the setup header ends");
	hdr_end = 0x202 + p[0x201];
	if (hdr_end < BZIMAGE_HDR_AT(init_size) + sizeof(uint32_t))
		return refuse(reason, "setup header too short: it ends before init_size (0x264)");
	b.hdr_size = MIN(hdr_end, (size_t)0x26c) - BZIMAGE_SETUP_HEADER_OFFSET;
	memcpy(&b.hdr, p + BZIMAGE_SETUP_HEADER_OFFSET, b.hdr_size);

	if (!(b.hdr.loadflags & BZIMAGE_LOADED_HIGH))
		return refuse(reason, "a zImage loaded low (LOADED_HIGH not set), not a bzImage");
	if (!(b.hdr.xloadflags & BZIMAGE_XLF_KERNEL_64))
		return refuse(reason, "no 64-bit entry point (XLF_KERNEL_64 not set): "
				      "a 32-bit kernel cannot be a crash kernel here");
	if (!b.hdr.relocatable_kernel)
		return refuse(reason, "kernel not relocatable (CONFIG_RELOCATABLE=n): "
				      "it cannot run from the crash kernel reservation");
	if (!is_power_of_2(b.hdr.kernel_alignment) || b.hdr.kernel_alignment < PAGE_SIZE_4K)
		return refuse(reason, "kernel_alignment is not a power of two of at least 4 KiB");

	setup_sects = b.hdr.setup_sects ? b.hdr.setup_sects : 4;
	b.setup_size = ((size_t)setup_sects + 1) * BZIMAGE_SECTOR_SIZE;
	if (b.setup_size >= size)
		return refuse(reason, "truncated: the setup code runs past the end of the file");
	b.kernel = p + b.setup_size;
	b.kernel_size = size - b.setup_size;
	if (b.kernel_size <= BZIMAGE_ENTRY64_OFFSET)
		return refuse(reason, "truncated: the kernel ends before its 64-bit entry point");

	if (b.hdr.init_size == 0)
		return refuse(reason,
			      "init_size is zero: the image does not say how much memory it needs");
	b.memsz = ALIGN_UP((uint64_t)b.hdr.init_size, PAGE_SIZE_4K);
	if (b.kernel_size > b.memsz)
		return refuse(reason, "init_size is smaller than the kernel itself");

	b.alignment = b.hdr.kernel_alignment;
	/*
	 * A relocatable kernel decompresses to max(load address,
	 * LOAD_PHYSICAL_ADDR), and pref_address is LOAD_PHYSICAL_ADDR: below
	 * it, the kernel would run outside the memory we gave it.
	 */
	b.min_address = MAX(b.hdr.pref_address, MIB);

	*ret = b;
	return 0;
}

int bzimage_check_placement(const struct bzimage *b, uint64_t kernel_addr, uint64_t highest_end,
			    bool five_level, const char **reason)
{
	const char *why = NULL;

	if (kernel_addr % b->alignment)
		why = "kernel load address is not a multiple of the image's kernel_alignment";
	else if (kernel_addr < b->min_address)
		why = "kernel load address is below the image's pref_address "
		      "(where it would decompress itself)";
	else if (highest_end > GIB4 && !(b->hdr.xloadflags & BZIMAGE_XLF_CAN_BE_LOADED_ABOVE_4G))
		why = "the crash kernel range is above 4 GiB but the image cannot be loaded there "
		      "(XLF_CAN_BE_LOADED_ABOVE_4G not set)";
	else if (five_level && !(b->hdr.xloadflags & BZIMAGE_XLF_5LEVEL))
		why = "the running kernel uses 5-level paging and the image cannot start in it "
		      "(XLF_5LEVEL not set)";
	if (why) {
		if (reason)
			*reason = why;
		return -EINVAL;
	}
	return 0;
}

const char *bzimage_kernel_version(const void *data, size_t size, char *buf, size_t buf_size)
{
	const uint8_t *p = data;
	size_t at, n = 0;
	uint16_t off;

	if (!data || size < BZIMAGE_HDR_AT(kernel_version) + 2 || buf_size == 0)
		return NULL;
	memcpy(&off, p + BZIMAGE_HDR_AT(kernel_version), sizeof(off));
	if (off == 0)
		return NULL;
	at = (size_t)off + 0x200;
	while (at + n < size && p[at + n] && n + 1 < buf_size)
		n++;
	if (n == 0)
		return NULL;
	memcpy(buf, p + at, n);
	buf[n] = 0;
	return buf;
}
