#!/usr/bin/python3
"""What each CPU of the crash kernel costs it in memory, measured with real
panics (QEMU, TCG): one guest per nr_cpus, the crash kernel's /proc/meminfo
as its /init sees it before the collector runs, and the collector's wall
time with one thread per CPU (threads = 0).

Not part of `make check` (one guest run per count). Usage, after `make`:

    tests/qemu/measure-crash-cpus.py [--cpus 1 --cpus 2 --cpus 4] [--mem 1G]
        [--crashkernel 256M] [--series 6.1]

The guest has as many CPUs as the largest count; its panic runs on CPU 0
(the boot CPU), so disable_cpu_apicid= disables none and the crash kernel
brings up exactly nr_cpus CPUs.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import guest  # noqa: E402

CONFIG = """\
# measure-crash-cpus.py: the defaults, dump level 31, all CPUs
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
threads = 0
crash_cpus = {cpus}
final_action = poweroff
failure_action = poweroff
"""

# guest-init.sh writes the sysrq from PID 1: on CPU 0 it panics there.
WORKLOAD = """#!/bin/sh
taskset -p 1 1 >/dev/null
echo "CRASHCAP-TEST: pinned $(taskset -p 1)"
"""


def kib(text, key):
    m = re.search(key + r": (\d+) kB", text or "")
    return int(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", type=int, action="append")
    ap.add_argument("--mem", default="1G")
    ap.add_argument("--crashkernel", default="256M")
    ap.add_argument("--series", default="6.1")
    a = ap.parse_args()
    counts = a.cpus or [1, 2, 4]
    rows = []
    for n in counts:
        # The loader in the guest reads crash_cpus from its own /etc/crashcap.conf
        # (`--append nr_cpus=N` cannot raise crashcap's nr_cpus=1: the kernel
        # keeps the smallest).
        name = f"crash-cpus-measure-{n}"
        conf = os.path.join(guest.work_dir(name), "guest-crashcap.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(cpus=n))
        c = capture.capture(name, CONFIG.format(cpus=n), mem=a.mem,
                            crashkernel=a.crashkernel, series=a.series, smp=max(counts),
                            vmcore_info=True, workload=WORKLOAD,
                            files={"etc/crashcap.conf": conf})
        info = guest.said(c.run, "crash meminfo")
        row = {
            "nr_cpus": n,
            "online": guest.said(c.run, "crash cpus online"),
            "cmdline_cpus": re.findall(r"(?:nr_cpus|disable_cpu_apicid)=\d+",
                                       guest.said(c.run, "crash cmdline") or ""),
            "MemTotal": kib(info, "MemTotal"),
            "MemAvailable": kib(info, "MemAvailable"),
            "Slab": kib(info, "Slab"),
            "KernelStack": kib(info, "KernelStack"),
            "Percpu": kib(info, "Percpu"),
            "threads": (c.summary or {}).get("threads"),
            "dump_seconds": (c.summary or {}).get("dump_seconds"),
            "peak_rss": (c.summary or {}).get("peak_rss_bytes"),
        }
        if info is None or c.summary is None:
            row["why"] = c.run.explain()
        print(row, flush=True)
        rows.append(row)
    base = rows[0]
    for r in rows[1:]:
        extra = r["nr_cpus"] - base["nr_cpus"]
        if extra and r["MemTotal"] and base["MemTotal"]:
            print(f"nr_cpus={r['nr_cpus']} vs {base['nr_cpus']}: per extra CPU "
                  f"MemTotal -{(base['MemTotal'] - r['MemTotal']) / extra / 1024:.2f} MiB, "
                  f"MemAvailable -{(base['MemAvailable'] - r['MemAvailable']) / extra / 1024:.2f} MiB")
    return 0


sys.exit(main())
