// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target for the bzImage setup-header parser (loader/bzimage.c).
 *
 * Built with clang -fsanitize=fuzzer -DCRASHCAP_LIBFUZZER, libFuzzer drives
 * LLVMFuzzerTestOneInput. Built without, main() runs it over the files
 * named on the command line (a corpus, a crash reproducer), so the same
 * target runs under ASan/UBSan with any compiler: `make fuzz` does both.
 */
#include <assert.h>

#include "loader/bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage b;
	const char *reason = NULL;
	char version[64];
	int r;

	r = bzimage_parse(data, size, &b, &reason);
	if (r < 0) {
		assert(r == -ENOEXEC && reason && *reason);
	} else {
		/* What the loader relies on when it copies and places the kernel. */
		assert(b.kernel == data + b.setup_size && b.setup_size + b.kernel_size == size);
		assert(b.kernel_size <= b.memsz && b.memsz % 4096 == 0);
		assert(b.alignment >= 4096 && !(b.alignment & (b.alignment - 1)));
		assert(b.hdr_size <= sizeof(b.hdr));
		(void)bzimage_check_placement(&b, ALIGN_UP(b.min_address, b.alignment), 1ULL << 33,
					      true, &reason);
	}
	(void)bzimage_kernel_version(data, size, version, sizeof(version));
	return 0;
}

#ifndef CRASHCAP_LIBFUZZER
int main(int argc, char **argv)
{
	unsigned n = 0;

	for (int i = 1; i < argc; i++) {
		_cleanup_free_ char *data = NULL;
		size_t size;
		int r = read_full_file(argv[i], 64 << 20, &data, &size);

		if (r < 0) {
			fprintf(stderr, "fuzz-bzimage: %s: %s\n", argv[i], strerror(-r));
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, size);
		/* Every prefix too: truncation is where parsers go wrong. */
		for (size_t len = 0; len < size && len < 4096; len++)
			LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		n++;
	}
	printf("fuzz-bzimage: %u inputs, no crash\n", n);
	return 0;
}
#endif
