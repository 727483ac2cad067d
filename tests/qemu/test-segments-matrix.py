#!/usr/bin/python3
"""QEMU: the two kexec_load (crashcapctl load --method segments) combinations
the other segments tests leave out: the Debian 6.1 kernel booted with
nokaslr, and the bookworm-backports 6.12 kernel with KASLR on. Two guests,
one after the other; each is loaded by the segments method, panics through
sysrq, and its dump must be readable by makedumpfile and libkdumpfile."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402
import segcheck  # noqa: E402

CONFIG = """\
# crashcap's QEMU test of kexec_load, KASLR on and off: uncompressed, for makedumpfile 1.7.2
target = LABEL=crashdump
path = /
dump_level = 1
compression = none
final_action = poweroff
failure_action = poweroff
"""
# Runs after the load, before the panic: what the loader recorded and how the kernel was booted.
WORKLOAD = """\
#!/bin/busybox sh
say() { echo "CRASHCAP-TEST: $*"; }
say "loaded.json $(tr -d '\\n' </run/crashcap/loaded.json)"
say "first cmdline $(cat /proc/cmdline)"
"""
DEFAULT_TEXT_VADDR = 0xffffffff81000000
DEFAULT_TEXT_PADDR = 0x1000000
# (capture name, series, first kernel args, KASLR on, purgatory regions):
# 6.12 has crash hotplug, so its elfcorehdr is left out of the digests.
GUESTS = [
    ("segments-matrix-6.1-nokaslr", "6.1", "nokaslr", False, 4),
    ("segments-matrix-6.12-kaslr", "6.12", "", True, 3),
]


def one(tap, name, series, args, kaslr, regions):
    what = f"{series} {'KASLR' if kaslr else 'nokaslr'}"
    tap.note(f"--- guest: Linux {what} ---")
    c = capture.capture(name, CONFIG, series=series, mem="1G", crashkernel="256M",
                        first_kernel_args=args, load_args="--method segments",
                        vmcore_info=True, workload=WORKLOAD)
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.loader(tap, c)
    segcheck.load_line(tap, c, "segments")

    m = c.run.find(r"CRASHCAP-TEST: loaded.json (.*)$")
    try:
        loaded = json.loads(m.group(1)) if m else None
    except ValueError:
        loaded = None
    tap.check(isinstance(loaded, dict) and loaded.get("method") == "segments",
              f"{what}: /run/crashcap/loaded.json in the guest says method segments",
              m.group(0) if m else c.run.explain())
    m = c.run.find(r"CRASHCAP-TEST: first cmdline (.*)$")
    words = m.group(1).split() if m else []
    tap.check(m is not None and ("nokaslr" in words) == (not kaslr),
              f"{what}: the first kernel's command line {'lacks' if kaslr else 'has'} nokaslr",
              m.group(0) if m else c.run.explain())

    segcheck.purgatory_ok(tap, c, regions)
    segcheck.crash_cmdline(tap, c)
    ram, text = segcheck.loads(c.vmcore_phdrs)
    if text:
        tap.note(f"kernel text PT_LOAD: vaddr {text['vaddr']:#x} paddr {text['paddr']:#x}")
    if kaslr:
        tap.check(text is not None and (text["vaddr"] != DEFAULT_TEXT_VADDR or
                                        text["paddr"] != DEFAULT_TEXT_PADDR),
                  f"{what}: the kernel text PT_LOAD is not at the default addresses",
                  json.dumps(text))
    else:
        tap.check(text is not None and text["vaddr"] == DEFAULT_TEXT_VADDR and
                  text["paddr"] == DEFAULT_TEXT_PADDR,
                  f"{what}: the kernel text PT_LOAD is at {DEFAULT_TEXT_VADDR:#x} "
                  f"(paddr {DEFAULT_TEXT_PADDR:#x})", json.dumps(text))
    crash = segcheck.crash_ranges(c.run)
    tap.check(len(ram) >= 2 and segcheck.holes_are(ram, crash),
              f"{what}: /proc/vmcore's RAM PT_LOADs leave out exactly the crash reservation",
              f"PT_LOADs {[(hex(a), hex(n)) for a, n in ram]}, reservation {crash}")

    segcheck.dump_readable(tap, c, 1, "none")
    checks.timing(tap, c)
    secs = capture.panic_to_saved(c.run)
    return f"{what}: guest wall {c.run.wall:.0f} s, panic -> dump saved " + \
        (f"{secs:.1f} s" if secs is not None else "n/a")


def main():
    tap = guest.Tap()
    figures = [one(tap, *g) for g in GUESTS]
    for f in figures:
        tap.note(f)
    return tap.done()


sys.exit(main())
