#!/usr/bin/python3
"""make bench's vmcores: one QEMU guest per kernel series with a realistic
mix of memory (tests/bench/workload.sh), panicked; its crash kernel copies
/proc/vmcore raw to a disk, which becomes build/cache/bench/SERIES/vmcore.elf
with the guest's /proc/meminfo and /proc/vmstat beside it (counters.json).

Built once: the files stay in build/cache (outside the clone's tracked
files) until the workload or the kernel changes.

    tests/bench/vmcore.py [--series 6.1|6.12] [--mem 3G]   prints the path
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "qemu"))
import filtertest  # noqa: E402  (module_files, build_memhog, counters)
import guest  # noqa: E402

CONFIG = """\
# make bench: the crash kernel copies /proc/vmcore raw first; this only ends the run
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""


def key(series, mem):
    h = hashlib.sha256()
    for p in (os.path.join(HERE, "workload.sh"), os.path.join(HERE, "..", "qemu", "memhog.c")):
        with open(p, "rb") as f:
            h.update(f.read())
    h.update(f"{series} {mem} {guest.kernel_release(guest.kernel_dir(series))}".encode())
    return h.hexdigest()[:16]


def build(series, mem, out_dir):
    name = f"bench-{series}"
    work = os.path.join(guest.BUILD, "qemu", name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    kdir = guest.kernel_dir(series)
    files = filtertest.module_files(kdir, work)
    files["workload/memhog"] = filtertest.build_memhog(work)
    with open(os.path.join(HERE, "workload.sh")) as f:
        workload = f.read()
    crash_initrd, _ = guest.build_crash_initrd(work, kdir, CONFIG, raw_copy=True)
    first = guest.build_first_initrd(work, kdir, crash_initrd, workload=workload, files=files)
    disk = os.path.join(work, "dump-disk.img")
    guest.make_disk(disk)
    raw_disk = os.path.join(work, "raw-vmcore.img")
    guest.make_raw_disk(raw_disk, (int(mem.rstrip("G")) << 30) + (64 << 20))

    def progress(t, phase):
        print(f"bench vmcore {series}: {t:6.1f} s  {phase}", file=sys.stderr, flush=True)
    run = guest.GuestRun(name, work, kdir, first, [disk, raw_disk], mem=mem,
                         crashkernel="256M", timeout=1500, progress=progress).run()
    if not run.find(r"CRASHCAP-TEST: raw copy done rc=0"):
        raise SystemExit(f"bench vmcore {series}: no raw copy of /proc/vmcore\n{run.explain()}")
    end = guest.elf_file_size(raw_disk)
    meminfo, vmstat = filtertest.counters(run)
    if not end or "nr_free_pages" not in vmstat:
        raise SystemExit(f"bench vmcore {series}: no vmcore or no counters\n{run.explain()}")
    os.makedirs(out_dir, exist_ok=True)
    vmcore = os.path.join(out_dir, "vmcore.elf")
    os.replace(raw_disk, vmcore)
    os.truncate(vmcore, end)
    with open(os.path.join(out_dir, "counters.json"), "w") as f:
        json.dump({"meminfo": meminfo, "vmstat": vmstat, "mem": mem,
                   "release": guest.kernel_release(kdir)}, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", default="6.1")
    ap.add_argument("--mem", default="3G")
    a = ap.parse_args()
    out_dir = os.path.join(guest.CACHE, "bench", a.series)
    stamp = os.path.join(out_dir, "key")
    k = key(a.series, a.mem)
    if not (os.path.exists(stamp) and open(stamp).read() == k and
            os.path.exists(os.path.join(out_dir, "vmcore.elf"))):
        if os.path.exists(stamp):
            os.unlink(stamp)
        build(a.series, a.mem, out_dir)
        with open(stamp, "w") as f:
            f.write(k)
    print(os.path.join(out_dir, "vmcore.elf"))


if __name__ == "__main__":
    main()
