#!/usr/bin/python3
"""QEMU: the default set-up (zstd pages, dump level 1) on a guest whose crash
kernel also copies /proc/vmcore raw to a second disk. Then, on the host, the
collector's file mode on that very vmcore: a complete copy and a truncated
one (which must give an INCOMPLETE dump that makedumpfile still reads)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402

CONFIG = """\
# crashcap's QEMU test: the defaults' compression
target = LABEL=crashdump
path = /
dump_level = 1
compression = zstd
zstd_level = 3
final_action = poweroff
failure_action = poweroff
"""

COLLECT = os.path.join(guest.BUILD, "crashcap-collect")


def host_file_mode(tap, c):
    raw = c.raw_vmcore
    tap.check(raw is not None and os.path.getsize(raw) > (256 << 20),
              "the guest's raw /proc/vmcore copy reached the host",
              c.run.explain() if raw is None else f"size {os.path.getsize(raw)}")
    if raw is None:
        return
    ref, err = guest.makedumpfile_dmesg(raw, os.path.join(c.work, "dmesg-raw-makedumpfile.txt"))
    tap.check(ref is not None and "sysrq: Trigger a crash" in ref,
              "makedumpfile --dump-dmesg reads the raw vmcore (reference)", err)
    checks.dmesg_matches(tap, c, ref, "the raw vmcore")

    out = os.path.join(c.work, "host-level1.kdump")
    r = subprocess.run([COLLECT, "-d", "1", "--compress", "none", "--quiet", raw, out],
                       capture_output=True, text=True)
    tap.check(r.returncode == 0, "crashcap-collect -d 1 on the saved vmcore exits 0", r.stderr[-800:])
    text, err = guest.makedumpfile_dmesg(out, out + ".dmesg") if r.returncode == 0 else (None, "")
    tap.check(text is not None and text == ref,
              "makedumpfile --dump-dmesg of that dump equals the raw vmcore's", err)

    # Cut the copy short. makedumpfile needs more than the log to read a dump
    # (mem_section, page tables: early allocations at the top of memory,
    # which is the end of the file), so the cut is the deepest one at which
    # makedumpfile still reads the truncated vmcore itself: the same memory
    # in crashcap's INCOMPLETE dump must then be just as readable.
    trunc = os.path.join(c.work, "vmcore-truncated.elf")
    size = os.path.getsize(raw)
    subprocess.run(["cp", "--sparse=always", raw, trunc], check=True)
    cut = None
    for removed_mib in (1, 4, 16, 64, 128):
        at = size - (removed_mib << 20)
        os.truncate(trunc, at)
        ok, _ = guest.makedumpfile_dmesg(trunc, trunc + ".dmesg")
        if ok is None or "sysrq: Trigger a crash" not in ok:
            break
        cut = at
    tap.check(cut is not None,
              "the test's premise: makedumpfile reads the raw vmcore with at least its last MiB cut off",
              f"file size {size}")
    if cut is None:
        os.unlink(trunc)
        return
    tap.note(f"truncated vmcore: {(size - cut) >> 20} MiB cut off the end of {size >> 20} MiB")
    subprocess.run(["cp", "--sparse=always", raw, trunc], check=True)
    os.truncate(trunc, cut)
    out2 = os.path.join(c.work, "host-truncated.kdump")
    r = subprocess.run([COLLECT, "-d", "1", "--compress", "none", "--quiet", trunc, out2],
                       capture_output=True, text=True)
    tap.check(r.returncode != 0 and "truncated" in (r.stderr + r.stdout).lower(),
              "a truncated vmcore: the collector says so and exits non-zero",
              f"exit {r.returncode}: {(r.stderr + r.stdout)[-600:]}")
    status = guest.read_header_status(out2) if os.path.exists(out2) else None
    tap.check(status is not None and status & 0x8,
              "the dump of a truncated vmcore is marked INCOMPLETE", f"status {status}")
    text, err = guest.makedumpfile_dmesg(out2, out2 + ".dmesg") if status is not None else (None, "")
    tap.check(text is not None and "sysrq: Trigger a crash" in text,
              "makedumpfile --dump-dmesg still reads the INCOMPLETE dump", err)
    os.unlink(trunc)


def main():
    tap = guest.Tap()
    # Two NUMA nodes: node 1's memory ends the vmcore, so a copy cut short
    # loses node 1's pages but not node 0's early allocations (mem_section).
    c = capture.capture("zstd", CONFIG, raw_copy=True, numa_nodes=2)
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.loader(tap, c)
    checks.dump_files(tap, c)
    checks.summary(tap, c, 1, "zstd")
    status = guest.read_header_status(c.vmcore) if c.vmcore and os.path.exists(c.vmcore) else None
    tap.check(status is not None and status & 0x20 and not status & 0x8,
              "kdump-compressed header: complete, zstd pages", f"status {status}")
    checks.readable_by_libkdumpfile(tap, c, c.vmcore, "crashcap's zstd dump")
    r = subprocess.run(["file", "-b", c.vmcore or "/nonexistent"], capture_output=True, text=True)
    tap.check("Kdump compressed dump" in r.stdout and c.release in r.stdout,
              "file(1) names it a kdump compressed dump of this release", r.stdout + r.stderr)
    host_file_mode(tap, c)
    checks.timing(tap, c)
    if c.raw_vmcore and os.path.exists(c.raw_vmcore):
        os.unlink(c.raw_vmcore)  # 0.8 GB: the logs stay, the copy goes
    return tap.done()


sys.exit(main())
