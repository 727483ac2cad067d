#!/usr/bin/python3
"""QEMU: memory and CPU hotplug under crashcapd (6.1: the daemon reloads).

The guest starts with 1 GiB, one CPU and room for more (-m
1G,slots=4,maxmem=8G -smp 1,maxcpus=4); crashcapd runs in a busybox first
kernel (no udev: it reads the kernel's own uevents) and loads the crash
kernel; kexec_crash_loaded is polled every 10 ms from then on. Through QMP
the host hot-adds two 512 MiB DIMMs (the guest onlines the blocks), then a
CPU (onlined), then one 4 GiB DIMM: a storm of 32 block events and 32
online events. Each burst reloads once at most. Then a reload that the
kernel refuses after freeing the loaded image (an initrd that fits by
crashcap's count but not with the kernel's boot data) must end with the
last good image loaded again. Then the guest panics: bitmap 1 of the dump
(the pages that exist) must cover every hot-added System RAM range
/proc/iomem showed, and the dump must hold a crash note for each CPU.

On 6.12 (test-hotplug-6.12.py) the kernel keeps the loaded image current
itself (crash_hotplug reads 1): no reload on hotplug, and the dump covers
the new memory and CPU all the same."""

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
    ("CPU hot-added (or impossible)", r"CRASHCAP-TEST: (cpus present 0 -> 0-1|cpu hotplug impossible)"),
    ("storm", r"CRASHCAP-TEST: storm blocks added 32"),
    ("refused reload", r"CRASHCAP-TEST: bad-reload"),
    ("panic", r"sysrq: Trigger a crash"),
    ("crash kernel booting", r"Linux version"),
    ("collector running", r"crashcap: "),
    ("dump saved", r"crashcap: dump saved to "),
]


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


def cpu_notes(path):
    """NT_PRSTATUS notes in a kdump-compressed dump (one per CPU saved at the crash)."""
    with open(path, "rb") as f:
        h = f.read(464)
        block_size, = struct.unpack_from("<i", h, 428)
        f.seek(block_size)
        sub = f.read(64)
        offset, size = struct.unpack_from("<qQ", sub, 48)
        f.seek(offset)
        notes = f.read(size)
    n, at = 0, 0
    while at + 12 <= len(notes):
        namesz, descsz, ntype = struct.unpack_from("<III", notes, at)
        name = notes[at + 12:at + 12 + namesz].rstrip(b"\0")
        if ntype == 1 and name == b"CORE":
            n += 1
        at += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return n


class Hotplug:
    """Hot-adds through QMP what the guest asks for."""

    def __init__(self):
        self.done = set()
        self.errors = []

    def qmp(self, run, steps):
        try:
            q = guest.Qmp(run.qmp_path)
            for cmd, args in steps(q):
                r = q.command(cmd, **args)
                if "error" in r:
                    self.errors.append(f"{cmd} {args}: {r['error']}")
            q.close()
        except (OSError, RuntimeError, ValueError, KeyError, IndexError) as e:
            self.errors.append(repr(e))

    @staticmethod
    def dimm(i, size):
        return [("object-add", {"qom-type": "memory-backend-ram", "id": f"hp{i}", "size": size}),
                ("device_add", {"driver": "pc-dimm", "id": f"dimm{i}", "memdev": f"hp{i}"})]

    @staticmethod
    def cpu(q):
        free = [c for c in q.command("query-hotpluggable-cpus")["return"] if "qom-path" not in c]
        c = sorted(free, key=lambda c: sorted(c["props"].items()))[0]
        return [("device_add", dict(driver=c["type"], id="cpu1", **c["props"]))]

    def __call__(self, run, t, line):
        for trigger, steps in (("CRASHCAP-TEST: hotplug now",
                                lambda q: self.dimm(1, DIMM) + self.dimm(2, DIMM)),
                               ("CRASHCAP-TEST: cpu hotplug now", self.cpu),
                               ("CRASHCAP-TEST: storm now", lambda q: self.dimm(3, 8 * DIMM))):
            if trigger in line and trigger not in self.done:
                self.done.add(trigger)
                self.qmp(run, steps)


def daemon_json(run, key):
    return guest.said_json(run, key) or {}


def poll_gaps(text):
    """The times kexec_crash_loaded read 0, from the poller's change log."""
    gaps, zero_at, last = [], None, None
    for item in (text or "").split(";"):
        f = item.split()
        if len(f) != 2:
            continue
        t = float(f[0])
        if f[1] == "0":
            zero_at = t
        elif f[1] == "1" and zero_at is not None:
            gaps.append(t - zero_at)
            zero_at = None
        last = f[1]
    return gaps, last, zero_at


def main(series="6.1"):
    tap = guest.Tap()
    name = "hotplug" if series == "6.1" else f"hotplug-{series}"
    work = guest.work_dir(name)
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
                         smp="1,maxcpus=4", timeout=900, qmp=True, on_line=hp,
                         phases=PHASES).run()
    explained = False
    for phase, _ in PHASES:
        ok = run.reached(phase)
        tap.check(ok, f"guest reached: {phase}", None if ok or explained else run.explain())
        explained = explained or not ok
    tap.check(not run.timed_out, f"guest ended by itself ({run.wall:.0f} s)")
    cpu_added = "CRASHCAP-TEST: cpu hotplug now" in hp.done
    tap.check(len(hp.done) == (3 if cpu_added else 2) and not hp.errors,
              "QMP: two 512 MiB DIMMs, " + ("a CPU, " if cpu_added else "") +
              "one 4 GiB DIMM hot-added", "\n".join(hp.errors) or f"done: {sorted(hp.done)}")
    if series == "6.1":
        tap.check(cpu_added, "6.1 allows a hot-added CPU (maxcpus=4)",
                  guest.said(run, "cpu hotplug impossible:"))
    elif not cpu_added:
        tap.note(f"{series}: no CPU hot-add: {guest.said(run, 'cpu hotplug impossible:')}")

    kernel_updates = guest.said(run, "crash_hotplug memory=") == "1"
    cpu_updates = guest.said(run, "crash_hotplug cpu=") == "1"
    tap.note(f"{release}: crash_hotplug after the load: memory "
             f"{guest.said(run, 'crash_hotplug memory=')}, cpu {guest.said(run, 'crash_hotplug cpu=')}")
    dj0 = daemon_json(run, "daemon-json-start")
    tap.check(dj0.get("hotplug_source") == "kernel uevents",
              "no udev in this guest: crashcapd reads the kernel's uevents", json.dumps(dj0))

    # 1. Two DIMMs.
    online = guest.said(run, "online-blocks") or ""
    m = re.match(r"(\d+) of (\d+)$", online)
    tap.check(m is not None and m.group(1) == m.group(2) and int(m.group(2)) >= 16 and
              (guest.said(run, "onlined") == "8" if series == "6.1" else True),
              f"every memory block is online, the 8 new ones too (the guest onlined "
              f"{guest.said(run, 'onlined')}; 6.12 onlines them itself)", online)
    d1 = daemon_json(run, "daemon-json-dimms")
    tap.check((d1.get("hotplug_events") or 0) >= 8,
              f"crashcapd saw the DIMMs' events ({d1.get('hotplug_events')})", json.dumps(d1))
    # 2. The CPU.
    d2 = daemon_json(run, "daemon-json-cpu")
    if cpu_added:
        tap.check(guest.said(run, "cpus present 0 ->") == "0-1 online 0-1",
                  "the new CPU is present and online", guest.said(run, "cpus present 0 ->"))
    # 3. The storm.
    d3 = daemon_json(run, "daemon-json-storm")
    tap.check(guest.said(run, "storm onlined") == ("32" if series == "6.1" else "0") or
              guest.said(run, "storm onlined") == "32",
              "the storm's 32 blocks are onlined", guest.said(run, "storm onlined"))
    storm_events = (d3.get("hotplug_events") or 0) - (d2.get("hotplug_events") or 0)
    storm_reloads = (d3.get("hotplug_reloads") or 0) - (d2.get("hotplug_reloads") or 0)
    tap.note(f"storm: {storm_events} events, {storm_reloads} reloads")
    if series == "6.1":
        tap.check(not kernel_updates, "6.1: no crash_hotplug (the kernel does not update the image)",
                  guest.said(run, "crash_hotplug memory="))
        tap.check(d1.get("hotplug_reloads") == 1 and d1.get("loads") == 2,
                  "two DIMMs: one reload for the burst", json.dumps(d1))
        tap.check(d2.get("hotplug_reloads") == 2 and d2.get("loads") == 3,
                  "a CPU: one reload", json.dumps(d2))
        tap.check(storm_events >= 64 and 1 <= storm_reloads <= 2,
                  f"the storm ({storm_events} events): at most 2 reloads ({storm_reloads})",
                  json.dumps(d3))
    else:
        tap.check(kernel_updates and cpu_updates,
                  f"{series}: memory and cpu crash_hotplug read 1 for the loaded image",
                  f"{guest.said(run, 'crash_hotplug memory=')} {guest.said(run, 'crash_hotplug cpu=')}")
        tap.check(d3.get("hotplug_reloads") == 0 and d3.get("loads") == 1 and
                  d3.get("hotplug_kernel_updated", 0) >= (3 if cpu_added else 2),
                  "no reload for the DIMMs" + (", the CPU" if cpu_added else "") +
                  " or the storm: the kernel keeps the elfcorehdr current", json.dumps(d3))
        tap.check(storm_events >= 32, f"the storm's events were seen ({storm_events})",
                  json.dumps(d3))
    tap.check(guest.said(run, "loaded-after-storm") == "1", "a crash kernel is loaded after the storm",
              guest.said(run, "loaded-after-storm"))

    # 4. The reload the kernel refuses.
    db = daemon_json(run, "daemon-json-bad")
    tap.check((guest.said(run, "bad-reload") or "").endswith("loaded=1") and
              db.get("fallbacks") == 1 and db.get("failed_reloads") == 1,
              "a reload the kernel refuses after freeing the image: the last good one is "
              "loaded again at once", f"{guest.said(run, 'bad-reload')}\n{json.dumps(db)}")
    de = daemon_json(run, "daemon-json-end")
    tap.check(guest.said(run, "loaded-after") == "1" and de.get("failed_reloads") == 1 and
              de.get("reloads") == (db.get("reloads") or 0) + 1,
              "the settings put back: the next reload loads", json.dumps(de))

    # What the poller saw.
    gaps, last, open_gap = poll_gaps(guest.said(run, "poll"))
    want = (de.get("loads") or 1) - 1
    tap.check(len(gaps) == want and last == "end" and open_gap is None,
              f"kexec_crash_loaded read 0 only during the {want} reloads that made a syscall, "
              "and 1 at the end", f"gaps {gaps}; poll log {guest.said(run, 'poll')}")
    if gaps:
        tap.note(f"longest time without a crash kernel seen by the poller: {max(gaps) * 1000:.0f} ms "
                 f"(daemon measured max {(de.get('max_gap_usec') or 0) / 1000:.0f} ms, "
                 f"last {(de.get('last_gap_usec') or 0) / 1000:.0f} ms)")

    before = ram_ranges(guest.said(run, "iomem-before"))
    after = ram_ranges(guest.said(run, "iomem-storm"))
    added = [r for r in after if r not in before]
    added_bytes = sum(e - s + 1 for s, e in added)
    tap.check(added_bytes == 10 * DIMM and all(s >= 1 << 32 for s, _ in added),
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
    tap.check(summary.get("ram_bytes", 0) > 5 << 30,
              f"summary ram_bytes {summary.get('ram_bytes', 0) >> 20} MiB: the hot-added RAM "
              "counts", json.dumps(summary)[:600])
    unreadable = (summary.get("pages_excluded") or {}).get("struct_page_unreadable", 0)
    tap.check(summary and unreadable == 0,
              "every struct page is read, the hot-added DIMMs' too (their memory map lives on "
              "them, where /proc/vmcore's read() refuses and its mmap() gives)",
              f"struct_page_unreadable {unreadable}: those pages could not be filtered")
    vmcore = os.path.join(dump, "vmcore") if dump else None
    bm = bitmap1(vmcore) if vmcore and os.path.exists(vmcore) else None
    tap.check(bm is not None, "bitmap 1 of the dump reads", "no kdump-compressed vmcore")
    if bm is not None:
        miss = sum(missing_pages(bm, s, e) for s, e in added)
        tap.check(added and miss == 0,
                  f"bitmap 1 covers every page of the hot-added ranges "
                  f"({', '.join(f'{s:#x}-{e:#x}' for s, e in added)})",
                  f"{miss} pages missing; bitmap covers pfns below {len(bm) * 8:#x}")
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) : Crash kernel", guest.said(run, "crash-range") or "")
        crash = (int(m.group(1), 16), int(m.group(2), 16)) if m else (0, -1)
        miss_boot = sum(missing_pages(bm, s, e) for s, e in before if s >= 1 << 20) - \
            missing_pages(bm, *crash)
        tap.check(m is not None and miss_boot == 0,
                  "... and of the RAM present at boot (above 1 MiB, but the crash kernel's)",
                  f"{miss_boot} pages missing; crash range {guest.said(run, 'crash-range')}")
        notes = cpu_notes(vmcore)
        if cpu_added:
            tap.check(notes == 2, "the dump holds a crash note for both CPUs, the hot-added "
                      f"one too ({notes})")
        else:
            tap.check(notes == 1, f"the dump holds the one CPU's crash note ({notes})")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
