// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test scaffolding for the page-filter QEMU tests; runs only inside the
 * guest (built with gcc -static by the test, busybox has nothing like it).
 *
 *   memhog ANON_MIB ZERO_MIB HUGETLB_MIB READY_FILE
 *	holds ANON_MIB of anonymous memory (transparent huge pages where the
 *	kernel gives them) filled with data, ZERO_MIB of anonymous memory it
 *	wrote and then zeroed (small pages), and HUGETLB_MIB of hugetlbfs
 *	memory (MAP_HUGETLB; the pool must be reserved first), creates
 *	READY_FILE and sleeps until killed.
 *   memhog --fill MIB
 *	writes MIB of data that neither compresses nor repeats to stdout.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1UL << 20)
#define PAGE 4096UL

static uint64_t state = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static void fill(uint64_t *p, size_t bytes)
{
	for (size_t i = 0; i < bytes / 8; i++)
		p[i] = next();
}

static int fill_stdout(unsigned long mib)
{
	static uint64_t buf[MIB / 8];

	for (unsigned long i = 0; i < mib; i++) {
		size_t done = 0;

		fill(buf, MIB);
		while (done < MIB) {
			ssize_t n = write(STDOUT_FILENO, (char *)buf + done, MIB - done);

			if (n <= 0) {
				perror("memhog: write");
				return 1;
			}
			done += n;
		}
	}
	return 0;
}

static void *map(size_t bytes, int extra_flags)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

int main(int argc, char **argv)
{
	size_t anon, zero, huge;
	char *a, *z, *h;
	int fd;

	if (argc == 3 && strcmp(argv[1], "--fill") == 0)
		return fill_stdout(strtoul(argv[2], NULL, 10));
	if (argc != 5) {
		fprintf(stderr, "usage: memhog ANON_MIB ZERO_MIB HUGETLB_MIB READY_FILE\n");
		return 2;
	}
	anon = strtoul(argv[1], NULL, 10) * MIB;
	zero = strtoul(argv[2], NULL, 10) * MIB;
	huge = strtoul(argv[3], NULL, 10) * MIB;

	/* 2 MiB aligned, so that the kernel can back it with huge pages */
	a = map(anon + 2 * MIB, 0);
	if (!a) {
		perror("memhog: mmap");
		return 1;
	}
	a = (char *)(((uintptr_t)a + 2 * MIB - 1) & ~(2 * MIB - 1));
	madvise(a, anon, MADV_HUGEPAGE);
	fill((uint64_t *)a, anon);

	z = map(zero, 0);
	if (!z) {
		perror("memhog: mmap");
		return 1;
	}
	madvise(z, zero, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < zero; i += PAGE)
		z[i] = 1;
	memset(z, 0, zero);

	if (huge) {
		h = map(huge, MAP_HUGETLB);
		if (!h)
			perror("memhog: mmap MAP_HUGETLB");
		else
			fill((uint64_t *)h, huge);
	}

	fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror("memhog: ready file");
		return 1;
	}
	close(fd);
	for (;;)
		pause();
}
