// SPDX-License-Identifier: GPL-2.0-or-later
#include "bootparams.h"

#include "rootfs.h"

#define LOW_1M (1ULL << 20)

size_t bootparams_segment_size(size_t cmdline_len, size_t e820_count)
{
	size_t size = BOOT_PARAMS_SIZE + cmdline_len + 1;

	if (e820_count > BOOT_E820_MAX_ZEROPAGE)
		size = ALIGN_UP(size, 16) + sizeof(struct x86_setup_data) +
		       (e820_count - BOOT_E820_MAX_ZEROPAGE) * sizeof(struct boot_e820_entry);
	return size;
}

static void put_e820(struct boot_e820_entry *to, const struct e820_entry *from)
{
	*to = (struct boot_e820_entry){ from->addr, from->size, from->type };
}

/* What the kernel's loader fills in for old code that still reads them. */
static void set_mem_k(struct x86_boot_params *bp, const struct e820_table *e820)
{
	for (size_t i = 0; i < e820->count; i++) {
		const struct e820_entry *e = &e820->entries[i];
		uint64_t end = e->addr + e->size - 1, mem_k;
		uint16_t ext;

		if (e->type != E820_TYPE_RAM || e->addr > LOW_1M || end <= LOW_1M)
			continue;
		mem_k = (end >> 10) - (LOW_1M >> 10);
		ext = mem_k > 0xfc00 ? 0xfc00 : mem_k;
		memcpy(bp->screen_info + 2, &ext, sizeof(ext));
		bp->alt_mem_k = mem_k > UINT32_MAX ? UINT32_MAX : mem_k;
	}
}

static void copy_from_first(struct x86_boot_params *bp, const uint8_t *first, size_t first_size)
{
	const struct x86_boot_params *f = (const struct x86_boot_params *)first;

	if (!first || first_size < BOOT_PARAMS_SIZE)
		return;
	/* The console the firmware set up, and what the crash kernel cannot probe again. */
	memcpy(bp->screen_info, f->screen_info, sizeof(bp->screen_info));
	bp->hdr.hardware_subarch = f->hdr.hardware_subarch;
	memcpy(bp->eddbuf, f->eddbuf, sizeof(bp->eddbuf));
	bp->eddbuf_entries = f->eddbuf_entries;
	memcpy(bp->edd_mbr_sig_buffer, f->edd_mbr_sig_buffer, sizeof(bp->edd_mbr_sig_buffer));
	bp->edd_mbr_sig_buf_entries = f->edd_mbr_sig_buf_entries;
}

int bootparams_build(const struct bootparams_config *c, uint8_t **ret_buf, size_t *ret_size,
		     const char **reason)
{
	size_t cmdline_len = strlen(c->cmdline), n_e820 = c->e820->count, size, sd_at = 0;
	_cleanup_free_ uint8_t *buf = NULL;
	struct x86_boot_params *bp;
	uint64_t cmdline_addr;

	if (cmdline_len > c->image->hdr.cmdline_size) {
		if (reason)
			*reason =
				"the crash kernel's command line is longer than the image accepts "
				"(cmdline_size)";
		return -E2BIG;
	}
	size = bootparams_segment_size(cmdline_len, n_e820);
	buf = calloc(1, size);
	if (!buf)
		return -ENOMEM;
	bp = (struct x86_boot_params *)buf;

	/* Only the header bytes the image defines; the rest of the page stays zero. */
	memcpy(&bp->hdr, &c->image->hdr, c->image->hdr_size);
	bp->hdr.type_of_loader = BOOT_TYPE_OF_LOADER_KEXEC;
	bp->hdr.loadflags = 0;
	bp->hdr.setup_data = 0;
	copy_from_first(bp, c->first, c->first_size);
	bp->acpi_rsdp_addr = c->acpi_rsdp;

	cmdline_addr = c->addr + BOOT_PARAMS_SIZE;
	memcpy(buf + BOOT_PARAMS_SIZE, c->cmdline, cmdline_len + 1);
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline_addr;
	bp->ext_cmd_line_ptr = cmdline_addr >> 32;

	if (c->initrd_size > 0) {
		bp->hdr.ramdisk_image = (uint32_t)c->initrd_addr;
		bp->ext_ramdisk_image = c->initrd_addr >> 32;
		bp->hdr.ramdisk_size = (uint32_t)c->initrd_size;
		bp->ext_ramdisk_size = c->initrd_size >> 32;
	}

	bp->e820_entries = MIN(n_e820, (size_t)BOOT_E820_MAX_ZEROPAGE);
	for (size_t i = 0; i < bp->e820_entries; i++)
		put_e820(&bp->e820_table[i], &c->e820->entries[i]);
	if (n_e820 > BOOT_E820_MAX_ZEROPAGE) {
		struct x86_setup_data sd = {
			.type = SETUP_TYPE_E820_EXT,
			.len = (n_e820 - BOOT_E820_MAX_ZEROPAGE) * sizeof(struct boot_e820_entry),
		};
		struct boot_e820_entry *ext;

		sd_at = ALIGN_UP(BOOT_PARAMS_SIZE + cmdline_len + 1, (size_t)16);
		memcpy(buf + sd_at, &sd, sizeof(sd));
		ext = (struct boot_e820_entry *)(buf + sd_at + sizeof(sd));
		for (size_t i = BOOT_E820_MAX_ZEROPAGE; i < n_e820; i++)
			put_e820(&ext[i - BOOT_E820_MAX_ZEROPAGE], &c->e820->entries[i]);
		bp->hdr.setup_data = c->addr + sd_at;
	}
	set_mem_k(bp, c->e820);

	*ret_buf = TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

int bootparams_read_first(const char *root, uint8_t **ret_buf, size_t *ret_size)
{
	_cleanup_free_ char *data = NULL;
	size_t size;
	int k;

	k = root_read_file(root, "/sys/kernel/boot_params/data", 2 * BOOT_PARAMS_SIZE, &data,
			   &size);
	if (k < 0)
		return k;
	if (size < BOOT_PARAMS_SIZE)
		return -EINVAL;
	*ret_buf = (uint8_t *)TAKE_PTR(data);
	*ret_size = size;
	return 0;
}

static int systab_lookup(const char *text, const char *key, uint64_t *ret)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');

		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			const char *v = line + klen + 1;
			size_t n = nl ? (size_t)(nl - v) : strlen(v);
			char value[32];

			if (n == 0 || n >= sizeof(value))
				return -EINVAL;
			memcpy(value, v, n);
			value[n] = 0;
			return parse_u64(value, 0, ret);
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int bootparams_read_rsdp(const char *root, const uint8_t *first, size_t first_size, uint64_t *ret)
{
	_cleanup_free_ char *systab = NULL;
	uint64_t addr;
	int k;

	if (first && first_size >= BOOT_PARAMS_SIZE) {
		memcpy(&addr, first + offsetof(struct x86_boot_params, acpi_rsdp_addr),
		       sizeof(addr));
		if (addr != 0) {
			*ret = addr;
			return 0;
		}
	}

	k = root_read_file(root, "/sys/firmware/efi/systab", 1 << 16, &systab, NULL);
	if (k < 0)
		return k;
	/* ACPI 2.0's RSDP first, as the kernel prefers it. */
	k = systab_lookup(systab, "ACPI20", &addr);
	if (k == -ENOENT)
		k = systab_lookup(systab, "ACPI", &addr);
	if (k < 0)
		return k;
	if (addr == 0)
		return -ENOENT;
	*ret = addr;
	return 0;
}
