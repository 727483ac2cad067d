// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel log in a dump. Two layouts, both described by VMCOREINFO:
 *
 * - 5.10+: the lockless printk_ringbuffer (kernel/printk/printk_ringbuffer.h).
 *   SYMBOL(prb) is a pointer to it. Descriptors from tail_id to head_id name
 *   records; a descriptor's state_var holds its id and its state in the top
 *   two bits. Text lives in a data ring as blocks of "unsigned long id, text";
 *   a block that would cross the ring's end is stored at its start instead.
 * - 3.5 .. 5.9: log_buf, a buffer of struct printk_log records followed by
 *   their text, from log_first_idx to log_next_idx; len == 0 means "wrap".
 */
#include "dmesg.h"
#include "log.h"

#include <inttypes.h>

#define DESC_ID_MASK (~(3ULL << 62))
#define DESC_STATE(sv) ((sv) >> 62)
#define DESC_COMMITTED 1
#define DESC_FINALIZED 2
/* Sanity bounds for values read from a dead kernel. */
#define MAX_COUNT_BITS 24
#define MAX_SIZE_BITS 31
#define MAX_STRUCT_SIZE 4096

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t get_u16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A VMCOREINFO SIZE() or OFFSET() the reader needs. */
struct field {
	const char *name;
	bool is_size;
	uint64_t *ret;
};

static int load_fields(const struct vmcoreinfo *vi, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = f[i].is_size ? vmcoreinfo_size(vi, f[i].name, f[i].ret) :
				       vmcoreinfo_offset(vi, f[i].name, f[i].ret);

		if (r < 0)
			return log_debug_errno(
				r, "VMCOREINFO lacks %s(%s), cannot read the kernel log: %m",
				f[i].is_size ? "SIZE" : "OFFSET", f[i].name);
	}
	return 0;
}

/* Reads count elements of size bytes from the dead kernel's memory. */
static int read_array(struct dump *d, uint64_t vaddr, uint64_t count, uint64_t size, uint8_t **ret)
{
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	if (size == 0 || count > (1ULL << 32) / size)
		return -EBADMSG;
	buf = malloc(count * size);
	if (!buf)
		return -ENOMEM;
	r = dump_read_virt(d, vaddr, buf, count * size);
	if (r < 0)
		return log_debug_errno(r, "Cannot read log memory at 0x%" PRIx64 ": %m", vaddr);
	*ret = TAKE_PTR(buf);
	return 0;
}

struct prb {
	uint64_t rb_size, desc_ring, text_ring;
	uint64_t count_bits, descs, infos, head_id, tail_id;
	uint64_t desc_size, state_var, text_lpos, lpos_begin, lpos_next;
	uint64_t info_size, ts_nsec, text_len;
	uint64_t size_bits, data, counter;
};

static int prb_layout(const struct vmcoreinfo *vi, struct prb *p)
{
	const struct field f[] = {
		{ "printk_ringbuffer", true, &p->rb_size },
		{ "printk_ringbuffer.desc_ring", false, &p->desc_ring },
		{ "printk_ringbuffer.text_data_ring", false, &p->text_ring },
		{ "prb_desc_ring.count_bits", false, &p->count_bits },
		{ "prb_desc_ring.descs", false, &p->descs },
		{ "prb_desc_ring.infos", false, &p->infos },
		{ "prb_desc_ring.head_id", false, &p->head_id },
		{ "prb_desc_ring.tail_id", false, &p->tail_id },
		{ "prb_desc", true, &p->desc_size },
		{ "prb_desc.state_var", false, &p->state_var },
		{ "prb_desc.text_blk_lpos", false, &p->text_lpos },
		{ "prb_data_blk_lpos.begin", false, &p->lpos_begin },
		{ "prb_data_blk_lpos.next", false, &p->lpos_next },
		{ "printk_info", true, &p->info_size },
		{ "printk_info.ts_nsec", false, &p->ts_nsec },
		{ "printk_info.text_len", false, &p->text_len },
		{ "prb_data_ring.size_bits", false, &p->size_bits },
		{ "prb_data_ring.data", false, &p->data },
		{ "atomic_long_t.counter", false, &p->counter },
	};
	int r = load_fields(vi, f, ELEMENTSOF(f));

	if (r < 0)
		return r;
	/* Every field is read from a buffer of its struct's size: check they fit. */
	if (p->rb_size > MAX_STRUCT_SIZE || p->desc_size > MAX_STRUCT_SIZE ||
	    p->info_size > MAX_STRUCT_SIZE ||
	    p->desc_ring + MAX(p->head_id, p->tail_id) + p->counter + 8 > p->rb_size ||
	    p->desc_ring + MAX(p->count_bits + 4, MAX(p->descs, p->infos) + 8) > p->rb_size ||
	    p->text_ring + MAX(p->size_bits + 4, p->data + 8) > p->rb_size ||
	    p->state_var + p->counter + 8 > p->desc_size ||
	    p->text_lpos + MAX(p->lpos_begin, p->lpos_next) + 8 > p->desc_size ||
	    p->ts_nsec + 8 > p->info_size || p->text_len + 2 > p->info_size)
		return log_debug_errno(-EBADMSG, "VMCOREINFO printk layout is inconsistent.");
	return 0;
}

/*
 * Where a record's text is in the data ring, as the kernel's get_data()
 * decides: in place, or at the ring's start for a block that wraps.
 */
static bool text_block(uint64_t begin, uint64_t next, uint64_t ring_size, uint64_t *ret_off,
		       uint64_t *ret_size)
{
	uint64_t bwrap = begin / ring_size, nwrap = next / ring_size;
	uint64_t off, size;

	/* data-less records (FAILED_LPOS, NO_LPOS) have both ends odd */
	if ((begin & 1) && (next & 1))
		return false;
	if (bwrap == nwrap && begin < next) {
		off = begin % ring_size;
		size = next - begin;
	} else if ((begin + ring_size) / ring_size == nwrap) {
		off = 0;
		size = next % ring_size;
		/* A block that ends exactly at the ring's end does not wrap. */
		if (size == 0) {
			off = begin % ring_size;
			size = ring_size - off;
		}
	} else
		return false;
	if (size < 8 || off + size > ring_size)
		return false;
	*ret_off = off + 8;
	*ret_size = size - 8;
	return true;
}

static int prb_foreach(struct dump *d, const struct vmcoreinfo *vi, dmesg_line_fn fn,
		       void *userdata)
{
	_cleanup_free_ uint8_t *rb = NULL, *descs = NULL, *infos = NULL, *text = NULL;
	uint64_t sym, prb_addr, count, ring_size, head, tail, id;
	const uint8_t *dr, *tr;
	struct prb p;
	int r;

	r = prb_layout(vi, &p);
	if (r < 0)
		return r;
	r = vmcoreinfo_symbol(vi, "prb", &sym);
	if (r < 0)
		return r;
	r = dump_read_virt(d, sym, &prb_addr, sizeof(prb_addr));
	if (r < 0)
		return log_debug_errno(r, "Cannot read the prb pointer at 0x%" PRIx64 ": %m", sym);
	r = read_array(d, prb_addr, 1, p.rb_size, &rb);
	if (r < 0)
		return r;
	dr = rb + p.desc_ring;
	tr = rb + p.text_ring;

	if (get_u32(dr + p.count_bits) > MAX_COUNT_BITS ||
	    get_u32(tr + p.size_bits) > MAX_SIZE_BITS)
		return log_debug_errno(-EBADMSG, "printk ring buffer sizes are implausible.");
	count = 1ULL << get_u32(dr + p.count_bits);
	ring_size = 1ULL << get_u32(tr + p.size_bits);
	r = read_array(d, get_u64(dr + p.descs), count, p.desc_size, &descs);
	if (r < 0)
		return r;
	r = read_array(d, get_u64(dr + p.infos), count, p.info_size, &infos);
	if (r < 0)
		return r;
	r = read_array(d, get_u64(tr + p.data), 1, ring_size, &text);
	if (r < 0)
		return r;

	head = get_u64(dr + p.head_id + p.counter) & DESC_ID_MASK;
	tail = get_u64(dr + p.tail_id + p.counter) & DESC_ID_MASK;
	if (((head - tail) & DESC_ID_MASK) >= count) {
		log_debug("printk tail id %" PRIu64 " is not within the ring of head %" PRIu64
			  ", reading the last %" PRIu64 " only.",
			  tail, head, count);
		tail = (head - count + 1) & DESC_ID_MASK;
	}

	for (id = tail;; id = (id + 1) & DESC_ID_MASK) {
		const uint8_t *desc = descs + (id % count) * p.desc_size;
		const uint8_t *info = infos + (id % count) * p.info_size;
		uint64_t sv = get_u64(desc + p.state_var + p.counter), off, size;

		/* Committed or finalized, and still this id (not reused). */
		if ((sv & DESC_ID_MASK) == id &&
		    (DESC_STATE(sv) == DESC_COMMITTED || DESC_STATE(sv) == DESC_FINALIZED) &&
		    text_block(get_u64(desc + p.text_lpos + p.lpos_begin),
			       get_u64(desc + p.text_lpos + p.lpos_next), ring_size, &off, &size)) {
			/* text_len can exceed what was stored: the kernel truncates records. */
			size = MIN(size, (uint64_t)get_u16(info + p.text_len));
			r = fn(get_u64(info + p.ts_nsec), (const char *)text + off, size, userdata);
			if (r != 0)
				return r;
		}
		if (id == head)
			break;
	}
	return 0;
}

static int printk_log_foreach(struct dump *d, const struct vmcoreinfo *vi, dmesg_line_fn fn,
			      void *userdata)
{
	uint64_t sym_buf, sym_len, sym_first, sym_next, hdr, ts_off, len_off, tlen_off;
	const struct field f[] = {
		{ "printk_log", true, &hdr },
		{ "printk_log.ts_nsec", false, &ts_off },
		{ "printk_log.len", false, &len_off },
		{ "printk_log.text_len", false, &tlen_off },
	};
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t log_buf;
	uint32_t buf_len, first, next, idx;
	int r;

	if (vmcoreinfo_symbol(vi, "log_end", &sym_buf) >= 0)
		return log_debug_errno(-EOPNOTSUPP,
				       "Kernel log of kernels before 3.5 is not supported.");
	if (vmcoreinfo_symbol(vi, "log_buf", &sym_buf) < 0 ||
	    vmcoreinfo_symbol(vi, "log_buf_len", &sym_len) < 0 ||
	    vmcoreinfo_symbol(vi, "log_first_idx", &sym_first) < 0 ||
	    vmcoreinfo_symbol(vi, "log_next_idx", &sym_next) < 0)
		return log_debug_errno(-EOPNOTSUPP, "VMCOREINFO describes no kernel log.");
	r = load_fields(vi, f, ELEMENTSOF(f));
	if (r < 0)
		return r;
	if (hdr > MAX_STRUCT_SIZE || ts_off + 8 > hdr || len_off + 2 > hdr || tlen_off + 2 > hdr)
		return log_debug_errno(-EBADMSG, "VMCOREINFO printk_log layout is inconsistent.");

	if ((r = dump_read_virt(d, sym_buf, &log_buf, sizeof(log_buf))) < 0 ||
	    (r = dump_read_virt(d, sym_len, &buf_len, sizeof(buf_len))) < 0 ||
	    (r = dump_read_virt(d, sym_first, &first, sizeof(first))) < 0 ||
	    (r = dump_read_virt(d, sym_next, &next, sizeof(next))) < 0)
		return log_debug_errno(r, "Cannot read the log_buf variables: %m");
	if (buf_len == 0 || buf_len > (1U << MAX_SIZE_BITS) || first >= buf_len || next >= buf_len)
		return log_debug_errno(-EBADMSG, "log_buf indexes are implausible.");
	r = read_array(d, log_buf, 1, buf_len, &buf);
	if (r < 0)
		return r;

	/* Each record is at least a header long: more steps than that means a loop. */
	idx = first;
	for (uint64_t steps = 0; idx != next; steps++) {
		uint16_t len, tlen;

		if (steps > buf_len / hdr || idx + hdr > buf_len)
			return log_debug_errno(-EBADMSG, "log_buf records are corrupt at %u.", idx);
		len = get_u16(buf + idx + len_off);
		if (len == 0) {
			/* the end-of-buffer marker: the next record is at the start */
			if (idx == 0)
				return -EBADMSG;
			idx = 0;
			continue;
		}
		tlen = get_u16(buf + idx + tlen_off);
		if (len < hdr || idx + len > buf_len || hdr + tlen > len)
			return log_debug_errno(-EBADMSG, "log_buf record at %u is corrupt.", idx);
		r = fn(get_u64(buf + idx + ts_off), (const char *)buf + idx + hdr, tlen, userdata);
		if (r != 0)
			return r;
		idx += len;
	}
	return 0;
}

int dmesg_foreach(struct dump *d, dmesg_line_fn fn, void *userdata)
{
	const struct vmcoreinfo *vi = dump_vmcoreinfo(d);
	uint64_t sym;

	if (!vi)
		return log_debug_errno(-EOPNOTSUPP, "Dump has no VMCOREINFO: no kernel log.");
	if (vmcoreinfo_symbol(vi, "prb", &sym) >= 0)
		return prb_foreach(d, vi, fn, userdata);
	return printk_log_foreach(d, vi, fn, userdata);
}

struct write_ctx {
	FILE *out;
	unsigned flags;
};

/* As makedumpfile --dump-dmesg: continuation lines indented under the text. */
static int write_record(uint64_t ts_nsec, const char *text, size_t len, void *userdata)
{
	struct write_ctx *c = userdata;
	char prefix[64];
	int plen;

	plen = snprintf(prefix, sizeof(prefix), "[%5" PRIu64 ".%06" PRIu64 "] ",
			ts_nsec / 1000000000, ts_nsec % 1000000000 / 1000);
	fputs(prefix, c->out);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = text[i];

		if (ch == '\n') {
			fputc('\n', c->out);
			if (c->flags & DMESG_PREFIX_EACH_LINE)
				fputs(prefix, c->out);
			else
				fprintf(c->out, "%*s", plen, "");
		} else if ((ch >= 0x20 && ch < 0x7f) || (ch >= '\t' && ch <= '\r'))
			fputc(ch, c->out);
		else
			fprintf(c->out, "\\x%02x", ch);
	}
	fputc('\n', c->out);
	return 0;
}

int dmesg_write_full(struct dump *d, FILE *out, unsigned flags)
{
	struct write_ctx c = { .out = out, .flags = flags };
	int r;

	r = dmesg_foreach(d, write_record, &c);
	if (r < 0)
		return r;
	if (fflush(out) != 0 || ferror(out))
		return -EIO;
	return 0;
}

int dmesg_write(struct dump *d, FILE *out)
{
	return dmesg_write_full(d, out, 0);
}

struct panic_ctx {
	char *panic, *oops;
};

static int set_line(char **dst, const char *s, size_t len)
{
	char *copy = strndup(s, len);

	if (!copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static int find_panic(uint64_t ts_nsec, const char *text, size_t len, void *userdata)
{
	static const char panic_prefix[] = "Kernel panic - not syncing: ";
	struct panic_ctx *c = userdata;

	for (const char *line = text, *end = text + len; line < end;) {
		const char *nl = memchr(line, '\n', end - line);
		size_t n = (nl ? nl : end) - line;
		int r = 0;

		if (n >= strlen(panic_prefix) && startswith(line, panic_prefix))
			r = set_line(&c->panic, line + strlen(panic_prefix),
				     n - strlen(panic_prefix));
		else if (!c->oops && n >= 5 &&
			 (startswith(line, "BUG: ") || startswith(line, "Oops: ")))
			r = set_line(&c->oops, line, n);
		if (r < 0)
			return r;
		line += n + 1;
	}
	return 0;
}

int dmesg_find_panic(struct dump *d, char **ret_line)
{
	struct panic_ctx c = {};
	int r;

	r = dmesg_foreach(d, find_panic, &c);
	if (r >= 0 && !c.panic && !c.oops)
		r = -ENOENT;
	if (r < 0) {
		free(c.panic);
		free(c.oops);
		return r;
	}
	if (c.panic) {
		free(c.oops);
		*ret_line = c.panic;
	} else
		*ret_line = c.oops;
	return 0;
}
