#!/usr/bin/python3
"""QEMU: memory hotplug under crashcapd (6.1: the daemon reloads).

The guest starts with 1 GiB and room for more (-m 1G,slots=4,maxmem=8G);
crashcapd runs in a busybox first kernel (no udev: it reads the kernel's own
uevents) and loads the crash kernel. The host hot-adds two 512 MiB DIMMs
through QMP, the guest onlines the new blocks, the daemon reloads once for
the burst, then the guest panics: bitmap 1 of the dump (the pages that
exist) must cover every hot-added System RAM range /proc/iomem showed.

On 6.12 (test-hotplug-6.12.py) the kernel keeps the loaded image current
itself (crash_hotplug reads 1): no reload, and the dump covers the new
memory all the same."""

import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = 4096
DIMM = 512 << 20

CRASH_CONFIG = """\
# crashcap's memory hotplug QEMU test
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""

# What crashcapd reads in the first kernel: the crash kernel and initramfs the host built.
DAEMON_CONFIG = CRASH_CONFIG + """\
kernel = /vmlinuz
initrd = /initrd-crash
load_method = file
hotplug_quiet = 2s
hotplug_max_delay = 20s
"""

PHASES = [
    ("first kernel booting", r"Linux version"),
    ("first kernel /init", r"CRASHCAP-TEST: first kernel up"),
    ("crash kernel loaded", r"CRASHCAP-TEST: load rc=0 loaded=1"),
    ("memory hot-added", r"CRASHCAP-TEST: blocks added 8"),
    ("panic", r"sysrq: Trigger a crash"),
    ("crash kernel booting", r"Linux version"),
    ("collector running", r"crashcap: "),
    ("dump saved", r"crashcap: dump saved to "),
]


def said(run, key, first=False):
    found = None
    for _, line in run.lines:
        m = re.search(r"CRASHCAP-TEST: " + re.escape(key) + r" ?(.*)$", line)
        if m:
            found = m.group(1)
            if first:
                break
    return found


def ram_ranges(text):
    out = []
    for part in (text or "").split(";"):
        m = re.match(r"\s*([0-9a-f]+)-([0-9a-f]+) : System RAM", part)
        if m:
            out.append((int(m.group(1), 16), int(m.group(2), 16)))
    return out


def bitmap1(path):
    """Bitmap 1 of a kdump-compressed dump (a set bit: the page exists)."""
    with open(path, "rb") as f:
        h = f.read(464)
        if h[:8] != b"KDUMP   ":
            return None
        block_size, sub_hdr_size, bitmap_blocks = struct.unpack_from("<iiI", h, 428)
        f.seek(block_size * (1 + sub_hdr_size))
        return f.read(bitmap_blocks * block_size // 2)


def missing_pages(bitmap, start, end):
    """Pages of [start, end] whose bit is clear in bitmap."""
    missing = 0
    for pfn in range(start // PAGE, end // PAGE + 1):
        byte = pfn >> 3
        if byte >= len(bitmap) or not bitmap[byte] >> (pfn & 7) & 1:
            missing += 1
    return missing


class Hotplug:
    """Hot-adds two DIMMs through QMP when the guest says so."""

    def __init__(self):
        self.done = False
        self.errors = []

    def __call__(self, run, t, line):
        if self.done or "CRASHCAP-TEST: hotplug now" not in line:
            return
        self.done = True
        try:
            q = guest.Qmp(run.qmp_path)
            for i in (1, 2):
                for cmd, args in (("object-add", {"qom-type": "memory-backend-ram",
                                                  "id": f"hp{i}", "size": DIMM}),
                                  ("device_add", {"driver": "pc-dimm", "id": f"dimm{i}",
                                                  "memdev": f"hp{i}"})):
                    r = q.command(cmd, **args)
                    if "error" in r:
                        self.errors.append(f"{cmd} {args}: {r['error']}")
            q.close()
        except (OSError, RuntimeError, ValueError) as e:
            self.errors.append(str(e))


def main(series="6.1"):
    tap = guest.Tap()
    name = "hotplug" if series == "6.1" else f"hotplug-{series}"
    work = os.path.join(guest.BUILD, "qemu", name)
    os.makedirs(work, exist_ok=True)
    kdir = guest.kernel_dir(series)
    release = guest.kernel_release(kdir)
    crash_initrd, _ = guest.build_crash_initrd(work, kdir, CRASH_CONFIG)
    conf = os.path.join(work, "crashcapd.conf")
    with open(conf, "w") as f:
        f.write(DAEMON_CONFIG)
    first = guest.build_first_initrd(
        work, kdir, crash_initrd, init=os.path.join(HERE, "hotplug-init.sh"),
        files={"etc/crashcap.conf": conf},
        programs={"usr/sbin/crashcapd": os.path.join(guest.BUILD, "crashcapd")})
    disk = os.path.join(work, "dump-disk.img")
    guest.make_disk(disk)
    hp = Hotplug()
    run = guest.GuestRun(name, work, kdir, first, [disk], mem="1G", mem_opts="slots=4,maxmem=8G",
                         timeout=600, qmp=True, on_line=hp, phases=PHASES).run()
    explained = False
    for phase, _ in PHASES:
        ok = run.reached(phase)
        tap.check(ok, f"guest reached: {phase}", None if ok or explained else run.explain())
        explained = explained or not ok
    tap.check(not run.timed_out, f"guest ended by itself ({run.wall:.0f} s)")
    tap.check(hp.done and not hp.errors, "QMP: two 512 MiB DIMMs hot-added",
              "\n".join(hp.errors) or "the guest never asked")

    kernel_updates = said(run, "crash_hotplug memory=") == "1"
    tap.note(f"{release}: memory/crash_hotplug after the load: {said(run, 'crash_hotplug memory=')}")
    dj = {}
    try:
        dj = json.loads(said(run, "daemon-json") or "{}")
    except ValueError:
        pass
    tap.check(dj.get("hotplug_source") == "kernel uevents",
              "no udev in this guest: crashcapd reads the kernel's uevents", json.dumps(dj))
    # 6.1 leaves new blocks offline (the guest onlines them); 6.12 onlines them itself.
    online = said(run, "online-blocks") or ""
    m = re.match(r"(\d+) of (\d+)$", online)
    tap.check(m is not None and m.group(1) == m.group(2) and int(m.group(2)) >= 16 and
              (said(run, "onlined") == "8" if series == "6.1" else True),
              f"every memory block is online, the 8 new ones too (the guest onlined "
              f"{said(run, 'onlined')})", online)
    tap.check((dj.get("hotplug_events") or 0) >= 16,
              f"crashcapd saw the add and online events ({dj.get('hotplug_events')})",
              json.dumps(dj))
    if series == "6.1":
        tap.check(not kernel_updates, "6.1: no crash_hotplug (the kernel does not update the image)",
                  said(run, "crash_hotplug memory="))
        tap.check(dj.get("hotplug_reloads") == 1 and dj.get("reloads") == 1 and
                  dj.get("loads") == 2 and dj.get("failed_reloads") == 0,
                  "one reload for the burst", json.dumps(dj))
        gap = dj.get("last_gap_usec")
        tap.check(gap is not None, "the reload's time without a crash kernel is measured",
                  json.dumps(dj))
        if gap is not None:
            tap.note(f"reload gap after hotplug (kexec_file_load, TCG): {gap / 1000:.1f} ms")
    else:
        tap.check(kernel_updates, f"{series}: memory/crash_hotplug reads 1 for the loaded image",
                  said(run, "crash_hotplug memory="))
        tap.check(dj.get("hotplug_reloads") == 0 and dj.get("loads") == 1 and
                  dj.get("hotplug_kernel_updated", 0) >= 1,
                  "no reload: the kernel keeps the elfcorehdr current", json.dumps(dj))
    tap.check(said(run, "loaded-after") == "1", "a crash kernel is loaded after the burst",
              said(run, "loaded-after"))

    before = ram_ranges(said(run, "iomem-before"))
    after = ram_ranges(said(run, "iomem-after"))
    added = [r for r in after if r not in before]
    added_bytes = sum(e - s + 1 for s, e in added)
    tap.check(added_bytes == 2 * DIMM and all(s >= 1 << 32 for s, _ in added),
              f"/proc/iomem shows {added_bytes >> 20} MiB of new System RAM above 4 GiB",
              f"before {before}\nafter {after}")

    dumps = guest.extract_dumps(disk, os.path.join(work, "out"))
    dump = dumps[-1] if dumps else None
    summary = {}
    if dump and os.path.exists(os.path.join(dump, "summary.json")):
        with open(os.path.join(dump, "summary.json")) as f:
            summary = json.load(f)
    tap.check(summary.get("result") == "ok", "the dump is saved and complete",
              json.dumps(summary)[:600] or run.explain())
    tap.check(summary.get("ram_bytes", 0) > 1 << 30,
              f"summary ram_bytes {summary.get('ram_bytes', 0) >> 20} MiB: more than the 1 GiB "
              "the guest booted with", json.dumps(summary)[:600])
    bm = bitmap1(os.path.join(dump, "vmcore")) if dump else None
    tap.check(bm is not None, "bitmap 1 of the dump reads", "no kdump-compressed vmcore")
    if bm is not None:
        miss = sum(missing_pages(bm, s, e) for s, e in added)
        tap.check(added and miss == 0,
                  f"bitmap 1 covers every page of the hot-added ranges "
                  f"({', '.join(f'{s:#x}-{e:#x}' for s, e in added)})",
                  f"{miss} pages missing; bitmap covers pfns below {len(bm) * 8:#x}")
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) : Crash kernel", said(run, "crash-range") or "")
        crash = (int(m.group(1), 16), int(m.group(2), 16)) if m else (0, -1)
        miss_boot = sum(missing_pages(bm, s, e) for s, e in before if s >= 1 << 20) - \
            missing_pages(bm, *crash)
        tap.check(m is not None and miss_boot == 0,
                  "... and of the RAM present at boot (above 1 MiB, but the crash kernel's)",
                  f"{miss_boot} pages missing; crash range {said(run, 'crash-range')}")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
