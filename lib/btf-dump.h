/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dumped kernel's own type information: the BTF bytes between
 * __start_BTF and __stop_BTF (what /sys/kernel/btf/vmlinux shows), read
 * from dump memory and parsed by libbpf. Every structure layout analyze
 * needs comes from here, by member path ("task_struct.comm",
 * "mm_struct.rss_stat[1].count"), never from a hard-coded offset.
 */
#pragma once

#include "dump.h"
#include "kallsyms.h"

struct kbtf;
struct btf; /* libbpf's */

/*
 * Reads the BTF the kernel holds (addresses of __start_BTF and __stop_BTF
 * from kallsyms). -ENOENT: kallsyms lacks the symbols (no CONFIG_DEBUG_INFO_BTF);
 * -ENOENT/-ENODATA/-EFAULT: the bytes are not all in the dump;
 * -EBADMSG: they are not BTF, or shorter than their header says.
 */
int kbtf_load(struct dump *d, struct kallsyms *k, struct kbtf **ret);
/* The same from bytes (tests, fuzzing); data is copied. */
int kbtf_from_bytes(const void *data, size_t size, struct kbtf **ret);
struct kbtf *kbtf_free(struct kbtf *b);
static inline void kbtf_freep(struct kbtf **b)
{
	kbtf_free(*b);
}
#define _cleanup_kbtf_ _cleanup_(kbtf_freep)

/* libbpf's object, for what this API does not cover; owned by b. */
const struct btf *kbtf_btf(const struct kbtf *b);
/* Bytes of BTF data. */
size_t kbtf_size(const struct kbtf *b);

struct kbtf_member {
	uint64_t offset; /* bytes from the start of the outer type */
	uint64_t size; /* bytes of the member's type; bitfields: bytes that hold its bits */
	uint32_t type_id; /* the member's type, typedefs and qualifiers kept */
	uint8_t bit_offset; /* bitfields: bits past offset (0..7), little-endian; else 0 */
	uint8_t bit_size; /* bitfields: width; else 0 */
};

/*
 * Resolves "TYPE.member[.member...]": TYPE is a struct, union or typedef
 * name; members of anonymous structs and unions are found through them; a
 * member may be indexed, "rss_stat[1]". -ENOENT: no such type or member
 * (at any step); -EINVAL: a bad path, an index into a non-array or past its
 * end; -EBADMSG: a bitfield wider than 64 bits.
 */
int kbtf_member(const struct kbtf *b, const char *path, struct kbtf_member *ret);
/* sizeof(TYPE) for a struct, union, typedef or enum name; -ENOENT. */
int kbtf_type_size(const struct kbtf *b, const char *type, uint64_t *ret);
/* The value of an enumerator of any enum ("NR_FREE_PAGES", "TASK_COMM_LEN"); -ENOENT. */
int kbtf_enum_value(const struct kbtf *b, const char *name, int64_t *ret);
/* The number of elements of an array member (path as kbtf_member()); -EINVAL: no array. */
int kbtf_array_len(const struct kbtf *b, const char *path, uint64_t *ret);
