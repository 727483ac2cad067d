#!/usr/bin/python3
"""QEMU: reservation_shrink = yes. A 1 GiB guest booted with crashkernel=256M
loads its crash kernel with `crashcapctl load`, which shrinks the reservation
to `crashcapctl estimate`'s proposal first (the code path crashcapd takes
too: loadfile_load). Checks: kexec_crash_size after the load equals the
proposal the guest's estimate --json prints, the "Crash kernel" range in
/proc/iomem has that size, MemTotal grew by exactly what was given back, a
write to kexec_crash_size while loaded is refused (ENOENT), and a panic is
still captured in the smaller reservation (libkdumpfile reads the dump)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402

MIB = 1 << 20
RESERVED = 256 * MIB

CONFIG = """\
# crashcap's QEMU test: reservation_shrink
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
reservation_shrink = yes
"""

WORKLOAD = """#!/bin/sh
say() { echo "CRASHCAP-TEST: $*"; }
say "crash size after load $(cat /sys/kernel/kexec_crash_size)"
say "memtotal after load $(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
grep "Crash kernel" /proc/iomem | sed 's/^ */CRASHCAP-TEST: crash range after load /'
crashcapctl estimate --json >/tmp/estimate.json 2>&1
say "estimate-json $(tr -d '\\n' </tmp/estimate.json)"
crashcapctl estimate 2>&1 | sed 's/^/ESTIMATE| /'
echo 67108864 2>/tmp/err >/sys/kernel/kexec_crash_size
say "write while loaded rc=$? $(cat /tmp/err)"
"""


def kib(text):
    m = re.match(r"(\d+) kB", text or "")
    return int(m.group(1)) if m else None


def range_size(text):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) : Crash kernel", text or "")
    return int(m.group(2), 16) - int(m.group(1), 16) + 1 if m else None


def main():
    tap = guest.Tap()
    work = guest.work_dir("reserve-shrink")
    conf = os.path.join(work, "first-crashcap.conf")
    with open(conf, "w") as f:
        f.write(CONFIG)
    c = capture.capture("reserve-shrink", CONFIG, mem="1G", crashkernel="256M",
                        workload=WORKLOAD, files={"etc/crashcap.conf": conf})
    checks.phases(tap, c)
    run = c.run

    est = guest.said_json(run, "estimate-json")
    tap.check(isinstance(est, dict) and est.get("proposal", 0) > 0,
              "crashcapctl estimate --json in the guest gives a proposal",
              guest.said(run, "estimate-json") or run.explain())
    for line in [ln for _, ln in run.lines if "ESTIMATE| " in ln][:12]:
        tap.note(line.split("ESTIMATE| ", 1)[1])
    proposal = est.get("proposal", 0) if isinstance(est, dict) else 0

    before = guest.said(run, "reservation")
    tap.check(before == f"{RESERVED} bytes", "kexec_crash_size before the load: 256M", before)
    after = guest.said(run, "crash size after load")
    tap.note(f"kexec_crash_size: before {before}, after {after}; estimate proposal {proposal}")
    tap.check(after is not None and after.isdigit() and int(after) == proposal
              and proposal < RESERVED,
              f"kexec_crash_size after the load equals estimate's proposal "
              f"({proposal // MIB} MiB)", f"after {after}, proposal {proposal}")
    size = range_size(guest.said(run, "crash range after load"))
    tap.check(size == proposal, "the Crash kernel range in /proc/iomem has that size",
              guest.said(run, "crash range after load"))
    shrunk = run.find(r"reservation_shrink: the crash kernel reservation shrunk from "
                      r"256\.0 MiB to ([0-9.]+) MiB.*cannot grow again until the next boot")
    tap.check(shrunk is not None and float(shrunk.group(1)) * MIB == proposal,
              "crashcapctl load says it shrank the reservation, and that it cannot grow back",
              run.explain() if shrunk is None else shrunk.group(0))

    m0 = kib(guest.said(run, "memtotal before load"))
    m1 = kib(guest.said(run, "memtotal after load"))
    tap.note(f"MemTotal: before {m0} kB, after {m1} kB")
    tap.check(m0 is not None and m1 is not None and proposal
              and (m1 - m0) * 1024 == RESERVED - proposal,
              "MemTotal grew by exactly what was given back",
              f"grew {(m1 or 0) - (m0 or 0)} kB, given back {(RESERVED - proposal) // 1024} kB")
    w = run.find(r"CRASHCAP-TEST: write while loaded rc=(\d+)(.*)$")
    tap.check(w is not None and w.group(1) != "0" and "No such file" in w.group(2),
              "a write to kexec_crash_size while a crash kernel is loaded: ENOENT",
              w.group(0) if w else run.explain())

    checks.dump_files(tap, c)
    checks.summary(tap, c, 31, "zstd")
    checks.readable_by_libkdumpfile(tap, c, c.vmcore, f"the dump captured in {proposal // MIB} MiB")
    if c.summary:
        tap.note(f"collector peak {c.summary.get('peak_rss_bytes', 0) / MIB:.1f} MiB; "
                 f"estimate allowed "
                 f"{next((p['bytes'] for p in est.get('parts', []) if p['name'] == 'collector'), 0) / MIB:.1f} MiB")
    checks.timing(tap, c)
    return tap.done()


sys.exit(main())
