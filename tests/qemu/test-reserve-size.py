#!/usr/bin/python3
"""QEMU: guests of 1 GiB and 4 GiB booted with crashkernel= set to
`crashcapctl estimate`'s answer capture a panic. The estimate is computed on
the host, before the guest boots, with --root on a fixture tree that is that
guest: its /proc/iomem (QEMU's e820 for that RAM), the crash kernel and the
crash initramfs it will load. The guest prints its own estimate after the
load; both must agree. Dump level 31, zstd."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402

MIB = 1 << 20

CONFIG = """\
# crashcap's QEMU test: crashkernel= from crashcapctl estimate
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""

WORKLOAD = """#!/bin/sh
crashcapctl estimate --json >/tmp/estimate.json 2>&1
echo "CRASHCAP-TEST: estimate-json $(tr -d '\\n' </tmp/estimate.json)"
crashcapctl estimate 2>&1 | sed 's/^/ESTIMATE| /'
"""


def iomem(mem_gib):
    """QEMU's (pc machine) RAM map: below 4 GiB up to 3 GiB (or all of it
    below 3.5 GiB), the rest from 4 GiB on; its BIOS keeps the last 128 KiB
    below the hole and the first 4 KiB."""
    total = mem_gib << 30
    low = total if total < 0xe0000000 else 0xc0000000
    lines = ["00000000-00000fff : Reserved",
             "00001000-0009fbff : System RAM",
             "0009fc00-0009ffff : Reserved",
             "000f0000-000fffff : Reserved",
             f"00100000-{low - 0x20001:08x} : System RAM",
             f"{low - 0x20000:08x}-{low - 1:08x} : Reserved"]
    if total > low:
        lines.append(f"100000000-{0x100000000 + total - low - 1:x} : System RAM")
    return "\n".join(lines) + "\n"


def host_estimate(name, mem_gib, kdir, release, crash_initrd, work):
    root = os.path.join(work, "estimate-root")
    subprocess.run(["rm", "-rf", root], check=True)
    for d in ("proc/sys/kernel", "boot", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    with open(os.path.join(root, "proc/iomem"), "w") as f:
        f.write(iomem(mem_gib))
    with open(os.path.join(root, "proc/sys/kernel/osrelease"), "w") as f:
        f.write(release + "\n")
    os.symlink(os.path.join(kdir, "boot", f"vmlinuz-{release}"),
               os.path.join(root, "boot", f"vmlinuz-{release}"))
    os.symlink(crash_initrd, os.path.join(root, "initrd-crash"))
    with open(os.path.join(root, "etc/crashcap.conf"), "w") as f:
        f.write(CONFIG + "initrd = /initrd-crash\n")
    r = subprocess.run([os.path.join(guest.BUILD, "crashcapctl"), "--root", root, "estimate",
                        "--json"], capture_output=True, text=True)
    try:
        return json.loads(r.stdout), r.stderr
    except ValueError:
        return None, r.stdout + r.stderr


def one(tap, mem_gib):
    name = f"reserve-size-{mem_gib}g"
    work = guest.work_dir(name)
    kdir = guest.kernel_dir("6.1")
    release = guest.kernel_release(kdir)
    # The same archive capture() builds again (reproducible: mtime 0).
    crash_initrd, _ = guest.build_crash_initrd(work, kdir, CONFIG)
    est, err = host_estimate(name, mem_gib, kdir, release, crash_initrd, work)
    tap.check(est is not None and est.get("proposal", 0) > 0,
              f"{mem_gib} GiB: crashcapctl --root <that guest> estimate --json on the host", err)
    if not est:
        return
    size = est["crashkernel"]
    tap.note(f"{mem_gib} GiB: estimate proposes crashkernel={size}: "
             + ", ".join(f"{p['name']} {p['bytes'] / MIB:.1f}" for p in est["parts"]))
    c = capture.capture(name, CONFIG, mem=f"{mem_gib}G", crashkernel=size, workload=WORKLOAD)
    checks.phases(tap, c)
    gest = guest.said_json(c.run, "estimate-json", first=True)
    tap.check(gest is not None and gest.get("proposal") == est["proposal"],
              f"{mem_gib} GiB: the guest's own estimate proposes the same {size}",
              json.dumps(gest)[:600] if gest else
              (guest.said(c.run, "estimate-json") or "")[:600] + "\n" + c.run.explain())
    tap.check(gest is not None and gest.get("reserved") == est["proposal"],
              f"{mem_gib} GiB: the guest has {size} reserved", json.dumps(gest)[:300])
    checks.dump_files(tap, c)
    checks.summary(tap, c, 31, "zstd")
    checks.readable_by_libkdumpfile(tap, c, c.vmcore, f"the {mem_gib} GiB guest's dump")
    if c.summary:
        coll = next((p["bytes"] for p in est["parts"] if p["name"] == "collector"), 0)
        peak = c.summary.get("peak_rss_bytes", 0)
        tap.note(f"{mem_gib} GiB: collector peak {peak / MIB:.1f} MiB, estimate allowed "
                 f"{coll / MIB:.1f} MiB")
        tap.check(0 < peak <= coll, f"{mem_gib} GiB: the collector's peak is within its budget",
                  f"peak {peak}, budget {coll}")
    checks.timing(tap, c)


def main():
    tap = guest.Tap()
    for mem_gib in (1, 4):
        one(tap, mem_gib)
    return tap.done()


sys.exit(main())
