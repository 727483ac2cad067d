"""make bench's per-page compression floor (issue 7).

The kdump-compressed format compresses every 4 KiB page on its own, so no
collector can spend less CPU time on compression than the zstd library needs
for the kept pages cut into independent 4 KiB blocks. This measures that
floor with the public zstd command's benchmark (-b, -B4K) on the very pages
crashcap keeps at -d 31, and sets it beside issue 7's target: one third of
makedumpfile -l's wall time on the same vmcore and CPUs.

The pages come from crashcap's own uncompressed dump (--compress none), read
back here with the format's fixed offsets rather than with crashcap's reader,
so a reader bug cannot hide pages.
"""

import os
import re
import resource
import shutil
import struct
import subprocess
import sys
import time

# (label, zstd arguments, whether the pages are cut into independent 4 KiB blocks).
# zstd's CLI takes negative benchmark levels as --fast=N, not as -b-N.
ZSTD_RUNS = (
    ("zstd -b1 -B4K -i3", ["-b1", "-B4K", "-i3"], True),
    ("zstd -b --fast=1 -B4K -i3", ["-b", "--fast=1", "-B4K", "-i3"], True),
    ("zstd -b1 -i3 (one frame)", ["-b1", "-i3"], False),
)

# zstd -b's result: " 1#kept.raw : 117444608 ->  21874329 (x5.369),  337.8 MB/s,  786.2 MB/s"
RESULT = re.compile(r":\s*(\d+)\s+->\s+(\d+)\s+\(x([\d.]+)\),\s+([\d.]+) MB/s")


def extract_kept(dump, raw):
    """Writes the non-zero pages of the uncompressed kdump-compressed file dump to raw, in
    pfn order. Returns (pages in bitmap 2, non-zero pages written, zero pages, block size)."""
    with open(dump, "rb") as f, open(raw, "wb") as out:
        h = f.read(464)
        if len(h) < 464 or h[:8] != b"KDUMP   ":
            raise SystemExit(f"bench: {dump} is not a kdump-compressed file")
        bs, sub, bmb = struct.unpack_from("<iiI", h, 428)
        if bs <= 0 or sub < 0 or bmb == 0 or bmb % 2:
            raise SystemExit(f"bench: {dump}: bad header (block_size {bs}, sub_hdr_size "
                             f"{sub}, bitmap_blocks {bmb})")
        half = bmb * bs // 2
        f.seek(bs * (1 + sub) + half)
        pages = int.from_bytes(f.read(half), "little").bit_count()
        f.seek(bs * (1 + sub + bmb))
        descs = f.read(24 * pages)
        if len(descs) != 24 * pages:
            raise SystemExit(f"bench: {dump}: {pages} pages but the descriptors are cut short")
        zero = bytes(bs)
        kept = zeros = 0
        for off, size, flags, _ in struct.iter_unpack("<qIIQ", descs):
            if flags != 0 or size != bs:
                raise SystemExit(f"bench: {dump}: a page is compressed (flags {flags:#x}, "
                                 f"size {size}); run crashcap-collect with --compress none")
            f.seek(off)
            page = f.read(bs)
            if len(page) != bs:
                raise SystemExit(f"bench: {dump}: page data at {off} is cut short")
            if page == zero:
                zeros += 1
                continue
            out.write(page)
            kept += 1
    return pages, kept, zeros, bs


def busy_seconds():
    """CPU seconds all CPUs spent busy since boot (/proc/stat's cpu line, idle and iowait
    left out)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def children_seconds():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def zstd_bench(args, raw):
    """One zstd -b run: {"in", "out", "ratio", "mbs", "others"} (MB = 10^6 bytes, as zstd
    prints; others: CPU seconds that other processes took meanwhile), or None when it printed
    no result."""
    busy, mine, start = busy_seconds(), children_seconds(), time.monotonic()
    r = subprocess.run(["zstd"] + args + [raw], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    others = max(0.0, busy_seconds() - busy - (children_seconds() - mine))
    secs = time.monotonic() - start
    # zstd redraws its progress with \r; the last result is the final one.
    found = RESULT.findall(r.stdout.replace("\r", "\n"))
    if r.returncode != 0 or not found:
        tail = r.stdout.replace("\r", "\n").strip().splitlines()[-3:]
        print(f"# zstd {' '.join(args)} failed ({r.returncode}): {' | '.join(tail)}")
        return None
    n_in, n_out, ratio, mbs = found[-1]
    return {"in": int(n_in), "out": int(n_out), "ratio": float(ratio), "mbs": float(mbs),
            "others": others, "secs": secs}


def measure(collect, core, work, ncpus, ref_time, ref_size, ours=None):
    """Prints the floor section and returns its figures. ref_time: makedumpfile -l -d 31's
    wall time, ref_size: makedumpfile -c -d 31's bytes, ours: crashcap's -d 31 row at its
    default zstd level, for its CPU time."""
    title = "per-page compression floor, 6.1 -d 31"
    if not shutil.which("zstd"):
        print(f"\n{title}: skipped, the zstd command is not installed "
              "(apt-get install zstd)")
        return None
    os.makedirs(work, exist_ok=True)
    dump = os.path.join(work, "none.kdump")
    raw = os.path.join(work, "kept.raw")
    try:
        subprocess.run([collect, "-q", "--compress", "none", "-d", "31", core, dump],
                       check=True)
        dump_bytes = os.path.getsize(dump)
        pages, kept, zeros, bs = extract_kept(dump, raw)
        os.unlink(dump)
        runs = [(label, zstd_bench(args, raw), blocks) for label, args, blocks in ZSTD_RUNS]
    finally:
        for p in (dump, raw):
            if os.path.exists(p):
                os.unlink(p)
    raw_mb = kept * bs / 1e6
    # What the file holds besides page data (headers, bitmaps, descriptors, the shared zero
    # page): the uncompressed dump's size less its non-zero pages.
    overhead = dump_bytes - kept * bs
    target = ref_time / 3 if ref_time else None
    print(f"\n{title}: crashcap's own dump keeps {pages} pages, {zeros} of them zero (one "
          f"shared block); the other {kept} pages ({raw_mb:.1f} MB) go to zstd's benchmark "
          f"on one core; {ncpus} CPUs")
    print(f"{'command':28} {'data MB':>8} {'ratio':>6} {'MB/s/core':>10} {'CPU s':>6} "
          f"{f'wall/{ncpus}cpu':>9} {'target':>7} {'under':>6} {'file MB':>8} {'size/-c':>8}")
    rows = []
    for label, r, blocks in runs:
        if r is None:
            rows.append({"command": label, "failed": True})
            print(f"{label:28} {'failed':>8}")
            continue
        cpu = raw_mb / r["mbs"]
        wall = cpu / ncpus
        est = r["out"] + overhead
        # One frame for the whole file is only a contrast: the format cannot do it.
        under = None if not blocks or target is None else wall <= target
        row = {"command": label, "independent_4k_blocks": blocks, "pages": kept,
               "raw_bytes": r["in"], "compressed_bytes": r["out"], "ratio": r["ratio"],
               "mb_per_s_per_core": r["mbs"], "cpu_s": cpu, "cpus": ncpus, "best_wall_s": wall,
               "target_wall_s": target, "under_target": under, "est_file_bytes": est,
               "size_over_c": est / ref_size if ref_size else None,
               "other_processes_cpu_s": r["others"]}
        rows.append(row)
        print(f"{label:28} {r['out'] / 1e6:8.1f} {r['ratio']:6.2f} {r['mbs']:10.1f} "
              f"{cpu:6.3f} {wall:9.3f} {target or float('nan'):7.3f} "
              f"{'-' if under is None else 'yes' if under else 'no':>6} {est / 1e6:8.1f} "
              f"{est / ref_size if ref_size else float('nan'):8.2f}")
    print(f"(data MB: zstd's compressed bytes; file MB: those plus the {overhead / 1e6:.1f} MB "
          f"of headers, bitmaps, descriptors and zero page of crashcap's file; target: "
          f"makedumpfile -l's {ref_time or float('nan'):.2f} s / 3; size/-c: file MB over "
          f"makedumpfile -c's {ref_size / 1e6 if ref_size else float('nan'):.1f} MB)")
    # zstd -b times the wall clock, so other processes that take its CPU lower its MB/s:
    # say how busy the CPUs it left free were.
    others = sum(r["others"] for _, r, _ in runs if r)
    secs = sum(r["secs"] for _, r, _ in runs if r)
    spare = secs * max(ncpus - 1, 1)
    where = f"the {ncpus - 1} CPU(s) it left free" if ncpus > 1 else "the CPU it ran on"
    print(f"while zstd ran ({secs:.0f} s), other processes used {others:.1f} CPU s, "
          f"{100 * others / spare:.0f} % of {where}"
          + (": MB/s may be low, run on an idle machine" if others > 0.25 * spare else ""))
    if ours:
        print(f"{ours['name']}: wall {ours['wall']:.2f} s, CPU {ours['cpu']:.2f} s "
              f"(reading, filtering, compressing and writing)")
    both = []
    for row in rows:
        if row.get("failed") or row["under_target"] is None:
            continue
        fits = ref_size is not None and row["est_file_bytes"] <= ref_size
        row["fits_size"] = fits
        if row["under_target"] and fits:
            both.append(row["command"])
        print(f"{row['command']}: the per-page floor on {ncpus} CPUs is "
              f"{row['best_wall_s']:.3f} s, {'under' if row['under_target'] else 'over'} the "
              f"target {target:.3f} s, and the file would be "
              f"{'no larger than' if fits else 'larger than'} makedumpfile -c's")
    if target is not None:
        print(f"issue 7's target on {ncpus} CPUs (1/3 of makedumpfile -l's wall, output no "
              f"larger than -c's): compression alone "
              + (f"meets it with {', '.join(both)}" if both else
                 "meets both at no zstd level measured")
              + " (reading, filtering and writing come on top)")
    sys.stdout.flush()
    return {"pages": pages, "zero_pages": zeros, "kept_pages": kept, "raw_mb": raw_mb,
            "overhead_bytes": overhead, "other_processes_cpu_s": others, "rows": rows}
