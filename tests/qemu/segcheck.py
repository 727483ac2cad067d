"""Checks shared by the kexec_load (--method segments) QEMU tests."""

import os
import re

import checks
import guest

TEXT_BASE = 0xffffffff80000000  # __START_KERNEL_map: the kernel text PT_LOAD's vaddr is above
PT_LOAD = 1


def loads(phdrs):
    """(RAM PT_LOADs as [paddr, memsz] pairs, the kernel text PT_LOAD or None)."""
    ram, text = [], None
    for p in phdrs or []:
        if p["type"] != PT_LOAD:
            continue
        if p["vaddr"] >= TEXT_BASE:
            text = p
        else:
            ram.append([p["paddr"], p["memsz"]])
    return ram, text


def crash_ranges(run):
    """The first kernel's "Crash kernel" ranges as guest-init.sh printed them: [[start, size]]."""
    out = []
    for _, line in run.lines:
        m = re.search(r"CRASHCAP-TEST: crash range ([0-9a-f]+)-([0-9a-f]+) : Crash kernel", line)
        if m:
            a, b = int(m.group(1), 16), int(m.group(2), 16)
            out.append([a, b - a + 1])
    return out


def merged(ranges):
    """[start, size] ranges sorted, with touching or overlapping ones joined."""
    out = []
    for a, n in sorted(ranges):
        if out and a <= out[-1][0] + out[-1][1]:
            out[-1][1] = max(out[-1][1], a + n - out[-1][0])
        else:
            out.append([a, n])
    return out


def holes_are(ram, crash):
    """Whether ram leaves exactly the crash ranges out of the RAM it and they cover."""
    overlap = any(a < c + m and c < a + n for a, n in ram for c, m in crash)
    return not overlap and bool(crash)


def load_line(tap, c, method, because=None):
    """crashcapctl load's line in the guest names the method (and why, after a fallback)."""
    m = c.run.find(r"crash kernel loaded: .*; method: (.*)$")
    want = {"segments": "segments (kexec_load)", "file": "file (kexec_file_load)"}[method]
    if because:
        want += ", because " + because
    tap.check(m is not None and m.group(1) == want,
              f"crashcapctl load says: method: {want}",
              m.group(0) if m else c.run.explain())
    status = guest.said_json(c.run, "status-json", first=True) or {}
    image = status.get("image") or {}
    tap.check(image.get("method") == method,
              f"crashcapctl status --json in the guest: image.method is {method}",
              guest.said(c.run, "status-json", first=True) or "no status-json line")


def purgatory_ok(tap, c, regions):
    """The purgatory said on COM1 that every digest matched, between the panic and the crash kernel."""
    m = c.run.find(r"crashcap purgatory: (\d+) region digests match, starting the kernel")
    tap.check(m is not None and int(m.group(1)) == regions,
              f"the purgatory checked {regions} regions and started the crash kernel",
              m.group(0) if m else c.run.explain())
    bad = c.run.find(r"crashcap purgatory: .*(mismatch|bad parameter)")
    tap.check(bad is None, "the purgatory reported no mismatch", bad.group(0) if bad else None)


def crash_cmdline(tap, c):
    """elfcorehdr= in front, in the crash kernel's own command line; its page is not RAM there."""
    m = c.run.find(r"CRASHCAP-TEST: crash cmdline (.*)$")
    cmd = m.group(1) if m else ""
    e = re.match(r"elfcorehdr=0x([0-9a-f]+) ", cmd)
    tap.check(e is not None and "console=ttyS0" in cmd and "swiotlb=noforce" in cmd,
              "crash kernel command line: elfcorehdr=0x... first, then crashcap's arguments",
              cmd or c.run.explain())
    if not e:
        return None
    at = int(e.group(1), 16)
    ram = []
    for _, line in c.run.lines:
        r = re.search(r"CRASHCAP-TEST: crash iomem\s+([0-9a-f]+)-([0-9a-f]+) : System RAM$", line)
        if r:
            ram.append((int(r.group(1), 16), int(r.group(2), 16)))
    total = sum(b - a + 1 for a, b in ram)
    tap.check(ram and not any(a <= at <= b for a, b in ram),
              f"the crash kernel's RAM ({total >> 20} MiB in {len(ram)} ranges) leaves the "
              f"elfcorehdr at {at:#x} alone", f"System RAM: {[(hex(a), hex(b)) for a, b in ram]}")
    return at


def dump_readable(tap, c, level, compression):
    checks.dump_files(tap, c)
    checks.summary(tap, c, level, compression)
    text, err = guest.makedumpfile_dmesg(c.vmcore, os.path.join(c.work, "dmesg-makedumpfile.txt")) \
        if c.vmcore and os.path.exists(c.vmcore) else (None, "no vmcore")
    tap.check(text is not None and "sysrq: Trigger a crash" in text
              and "Kernel panic - not syncing: sysrq triggered crash" in text,
              "makedumpfile --dump-dmesg reads the dump: sysrq and panic lines", err)
    checks.dmesg_matches(tap, c, text, "the dump")
    checks.readable_by_libkdumpfile(tap, c, c.vmcore, "the dump")


def load_seconds(run):
    """Serial time from the first kernel's /init to crashcapctl load's result line."""
    t = run.phase_times
    if "first kernel /init" in t and "crash kernel loaded" in t:
        return t["crash kernel loaded"] - t["first kernel /init"]
    return None
