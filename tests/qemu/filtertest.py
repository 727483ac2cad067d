"""What the page-filter QEMU tests (test-filter-6.1.py, test-filter-6.12.py)
share: one guest with the filter workload and a raw copy of its vmcore, the
kernel's counters it printed, and an independent decoder of uncompressed
kdump-compressed files to compare dumps pfn by pfn and byte by byte.
"""

import json
import lzma
import mmap
import os
import re
import struct
import subprocess

import guest

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECT = os.path.join(guest.BUILD, "crashcap-collect")

CONFIG = """\
# crashcap's page-filter QEMU test
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
zstd_level = 3
final_action = poweroff
failure_action = poweroff
"""


class Run:
    pass


def build_memhog(work):
    out = os.path.join(work, "memhog")
    guest.run(["gcc", "-static", "-O2", "-Wall", "-o", out, os.path.join(HERE, "memhog.c")])
    return out


def module_files(kdir, work, name="virtio_blk"):
    """The first kernel's modules for name, dependencies first: {guest path:
    host path}, with the load order in /workload/modules (.ko.xz unpacked on
    the host, so that busybox insmod takes them)."""
    release = guest.kernel_release(kdir)
    mdir = os.path.join(kdir, "lib", "modules", release)
    deps = {}
    with open(os.path.join(mdir, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[os.path.basename(mod).split(".ko")[0]] = (mod, rest.split())
    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for d in deps[n][1]:
            visit(os.path.basename(d).split(".ko")[0])
        order.append(n)
    visit(name)
    # the PCI transport too, where it is a module
    if "virtio_pci" in deps:
        visit("virtio_pci")
        order.remove(name)
        order.append(name)
    files = {}
    for n in order:
        src = os.path.join(mdir, deps[n][0])
        dst = os.path.join(work, n + ".ko")
        if src.endswith(".xz"):
            with lzma.open(src) as i, open(dst, "wb") as o:
                o.write(i.read())
        else:
            with open(src, "rb") as i, open(dst, "wb") as o:
                o.write(i.read())
        files[f"workload/{n}.ko"] = dst
    listing = os.path.join(work, "modules")
    with open(listing, "w") as f:
        f.write("".join(n + ".ko\n" for n in order))
    files["workload/modules"] = listing
    return files


def run_guest(name, series, timeout=400):
    """One guest: the workload, the panic, crashcap-collect in the crash
    kernel (dump level 31) after a raw copy of /proc/vmcore."""
    r = Run()
    r.work = guest.work_dir(name)
    r.kdir = guest.kernel_dir(series)
    r.release = guest.kernel_release(r.kdir)
    files = module_files(r.kdir, r.work)
    files["workload/memhog"] = build_memhog(r.work)
    with open(os.path.join(HERE, "filter-workload.sh")) as f:
        workload = f.read()
    crash_initrd, r.rebuild_output = guest.build_crash_initrd(r.work, r.kdir, CONFIG,
                                                              raw_copy=True)
    first = guest.build_first_initrd(r.work, r.kdir, crash_initrd, workload=workload,
                                     files=files)
    disk = os.path.join(r.work, "dump-disk.img")
    guest.make_disk(disk)
    raw_disk = os.path.join(r.work, "raw-vmcore.img")
    guest.make_raw_disk(raw_disk, (1 << 30) + (64 << 20))
    r.run = guest.GuestRun(name, r.work, r.kdir, first, [disk, raw_disk], mem="1G",
                           crashkernel="256M", timeout=timeout).run()
    dumps = guest.extract_dumps(disk, os.path.join(r.work, "out"))
    r.dump_dir = dumps[-1] if dumps else None
    r.summary = None
    if r.dump_dir and os.path.exists(os.path.join(r.dump_dir, "summary.json")):
        with open(os.path.join(r.dump_dir, "summary.json")) as f:
            try:
                r.summary = json.load(f)
            except ValueError:
                pass
    r.vmcore = os.path.join(r.dump_dir, "vmcore") if r.dump_dir else None
    r.raw_vmcore = None
    if r.run.find(r"CRASHCAP-TEST: raw copy done rc=0"):
        end = guest.elf_file_size(raw_disk)
        if end:
            r.raw_vmcore = os.path.join(r.work, "vmcore.elf")
            os.replace(raw_disk, r.raw_vmcore)
            os.truncate(r.raw_vmcore, end)
    r.meminfo, r.vmstat = counters(r.run)
    return r


def counters(run):
    """/proc/meminfo (kB, or pages for HugePages_*) and /proc/vmstat as printed."""
    meminfo, vmstat = {}, {}
    for _, line in run.lines:
        m = re.search(r"CRASHCAP-MEMINFO: (\w+):\s+(\d+)", line)
        if m:
            meminfo[m.group(1)] = int(m.group(2))
        m = re.search(r"CRASHCAP-VMSTAT: (\w+) (\d+)$", line)
        if m:
            vmstat[m.group(1)] = int(m.group(2))
    return meminfo, vmstat


def workload_checks(tap, r):
    """The guest made the memory the levels tell apart, and said so."""
    m = r.run.find(r"CRASHCAP-TEST: page cache: Buffers\+Cached (\d+) kB -> (\d+) kB")
    grew = int(m.group(2)) - int(m.group(1)) if m else None
    tap.check(grew is not None and grew >= 96 * 1024,
              "workload: writing and reading the disk grew the page cache by at least 96 MiB",
              r.run.explain() if m is None else f"grew by {grew} kB")
    tap.check(r.run.find(r"CRASHCAP-TEST: memhog ready") is not None,
              "workload: memhog holds its anonymous and hugetlb memory", r.run.explain())
    thp = r.meminfo.get("AnonHugePages", 0)
    tap.check(thp >= 200 * 1024, "workload: anonymous memory is mostly THPs (AnonHugePages)",
              f"AnonHugePages {thp} kB")
    tap.check(r.meminfo.get("HugePages_Total") == 4 and r.meminfo.get("HugePages_Free", 4) < 4,
              "workload: 4 hugetlb pages reserved, some in use",
              f"HugePages_Total {r.meminfo.get('HugePages_Total')}, "
              f"free {r.meminfo.get('HugePages_Free')}")
    tap.check(all(k in r.vmstat for k in ("nr_free_pages", "nr_anon_pages", "nr_file_pages")),
              "the guest printed /proc/vmstat before the panic", r.run.explain())


# --- kdump-compressed files, decoded from the format's offsets --------------

class Kdump:
    def __init__(self, path):
        self.path = path
        self.f = open(path, "rb")
        self.m = mmap.mmap(self.f.fileno(), 0, access=mmap.ACCESS_READ)
        m = self.m
        if m[:8] != b"KDUMP   ":
            raise ValueError(f"{path}: not a kdump-compressed file")
        self.status, self.bs, sub, bmb = struct.unpack_from("<IIII", m, 424)
        self.max_mapnr, = struct.unpack_from("<Q", m, self.bs + 96)
        start = self.bs * (1 + sub)
        half = bmb * self.bs // 2
        self.bitmap1 = m[start:start + half]
        self.bitmap2 = m[start + half:start + 2 * half]
        self.desc_at = start + 2 * half

    def close(self):
        self.m.close()
        self.f.close()

    @staticmethod
    def pfns(bitmap):
        out = []
        for i, b in enumerate(bitmap):
            if b:
                for k in range(8):
                    if b >> k & 1:
                        out.append(i * 8 + k)
        return out

    def ram_pages(self):
        return sum(bin(b).count("1") for b in self.bitmap1)

    def dumped(self):
        """[(pfn, offset, size, flags)] in pfn order."""
        out = []
        for n, pfn in enumerate(self.pfns(self.bitmap2)):
            off, size, flags = struct.unpack_from("<qII", self.m, self.desc_at + 24 * n)
            out.append((pfn, off, size, flags))
        return out


def same_bits(a, b):
    n = max(len(a), len(b))
    return a.ljust(n, b"\0") == b.ljust(n, b"\0")


def zero_pfns(k, pages):
    """pfns stored as the shared zero page: the lowest data offset, when it holds zeros."""
    if not pages:
        return set()
    off = min(p[1] for p in pages)
    if k.m[off:off + k.bs] != bytes(k.bs):
        return set()
    return {p[0] for p in pages if p[1] == off}


def compare(tap, ref_path, ours_path, what, zero=False):
    """Pfns present, every page's bytes and (zero) the zero-page set equal."""
    a, b = Kdump(ref_path), Kdump(ours_path)
    try:
        pa, pb = a.dumped(), b.dumped()
        sa, sb = {p[0] for p in pa}, {p[0] for p in pb}
        tap.check(sa == sb, f"{what}: the same pfns present ({len(sa)})",
                  f"makedumpfile {len(sa)}, ours {len(sb)}; only makedumpfile: "
                  f"{[hex(x) for x in sorted(sa - sb)[:8]]} ({len(sa - sb)}), only ours: "
                  f"{[hex(x) for x in sorted(sb - sa)[:8]]} ({len(sb - sa)})")
        bad = []
        raw = all(p[3] == 0 and p[2] == a.bs for p in pa) and \
            all(p[3] == 0 and p[2] == b.bs for p in pb)
        if raw:
            db = {p[0]: p[1] for p in pb}
            for pfn, off, _, _ in pa:
                ob = db.get(pfn)
                if ob is not None and a.m[off:off + a.bs] != b.m[ob:ob + b.bs]:
                    bad.append(pfn)
        tap.check(raw and not bad, f"{what}: every page's bytes equal",
                  "not stored raw" if not raw else
                  f"{len(bad)} pages differ: {[hex(x) for x in bad[:8]]}")
        if zero:
            za, zb = zero_pfns(a, pa), zero_pfns(b, pb)
            tap.check(za == zb and len(za) > 0,
                      f"{what}: the same pages stored as zero pages ({len(za)})",
                      f"makedumpfile {len(za)}, ours {len(zb)}, differing {len(za ^ zb)}")
        return len(sb), b.ram_pages()
    finally:
        a.close()
        b.close()


def present_pages(path):
    k = Kdump(path)
    try:
        return sum(bin(x).count("1") for x in k.bitmap2), k.ram_pages(), bytes(k.bitmap2)
    finally:
        k.close()


def collect(raw, level, out):
    """crashcap-collect on the host, pages stored raw; (ok, diagnostics)."""
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run([COLLECT, "-d", str(level), "--compress", "none", raw, out],
                       capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr).strip()[-800:]


def makedumpfile(raw, level, out):
    """Debian's makedumpfile, pages stored raw; (ok, its report)."""
    if os.path.exists(out):
        os.unlink(out)
    r = subprocess.run(["makedumpfile", "-d", str(level), "--message-level", "16", raw, out],
                       capture_output=True, text=True)
    text = r.stdout + r.stderr
    report = "\n".join(line.strip() for line in text.splitlines()
                       if re.search(r"pages\s*:|Pages filled", line))
    return r.returncode == 0, report or text[-800:]
