// SPDX-License-Identifier: GPL-2.0-or-later
#include "purgatory.h"

#include "sha256.h"

extern const uint8_t crashcap_purgatory_blob[];
extern const uint8_t crashcap_purgatory_blob_end[];

const uint8_t *purgatory_blob(size_t *ret_size)
{
	*ret_size = crashcap_purgatory_blob_end - crashcap_purgatory_blob;
	return crashcap_purgatory_blob;
}

static struct purgatory_params *params_of(uint8_t *image)
{
	return (struct purgatory_params *)(image + PURGATORY_PARAMS_OFFSET);
}

int purgatory_check(const uint8_t *image, size_t size)
{
	struct purgatory_params p;

	if (!image || size < PURGATORY_PARAMS_OFFSET + sizeof(p))
		return -EINVAL;
	memcpy(&p, image + PURGATORY_PARAMS_OFFSET, sizeof(p));
	if (p.magic != PURGATORY_MAGIC || p.version != PURGATORY_VERSION ||
	    p.size != PURGATORY_PARAMS_SIZE || p.nr_regions > PURGATORY_MAX_REGIONS)
		return -EINVAL;
	return 0;
}

int purgatory_new(uint8_t **ret_image, size_t *ret_size)
{
	size_t size;
	const uint8_t *blob = purgatory_blob(&size);
	uint8_t *copy;

	if (purgatory_check(blob, size) < 0)
		return -EINVAL;
	copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, blob, size);
	*ret_image = copy;
	*ret_size = size;
	return 0;
}

int purgatory_add_region(uint8_t *image, uint64_t start, const void *data, size_t len)
{
	struct purgatory_params *p = params_of(image);
	struct purgatory_region r = { .start = start, .len = len };
	uint32_t n;

	memcpy(&n, &p->nr_regions, sizeof(n));
	if (n >= PURGATORY_MAX_REGIONS)
		return -E2BIG;
	sha256(data, len, r.sha256);
	memcpy(&p->regions[n], &r, sizeof(r));
	n++;
	memcpy(&p->nr_regions, &n, sizeof(n));
	return 0;
}

void purgatory_set_entry(uint8_t *image, uint64_t kernel_entry, uint64_t boot_params,
			 uint32_t flags)
{
	struct purgatory_params *p = params_of(image);

	memcpy(&p->kernel_entry, &kernel_entry, sizeof(kernel_entry));
	memcpy(&p->boot_params, &boot_params, sizeof(boot_params));
	memcpy(&p->flags, &flags, sizeof(flags));
}

int purgatory_corrupt_digest(uint8_t *image, unsigned region)
{
	struct purgatory_params *p = params_of(image);
	uint32_t n;

	memcpy(&n, &p->nr_regions, sizeof(n));
	if (region >= n)
		return -ENOENT;
	p->regions[region].sha256[0] ^= 0x01;
	return 0;
}

int purgatory_get_params(const uint8_t *image, size_t size, struct purgatory_params *ret)
{
	int k = purgatory_check(image, size);

	if (k < 0)
		return k;
	memcpy(ret, image + PURGATORY_PARAMS_OFFSET, sizeof(*ret));
	return 0;
}
