#!/usr/bin/python3
"""make demo: a QEMU guest loads a crash kernel with crashcap, panics, and the
dump is collected and summarised. Only the guest crashes: it runs under QEMU.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

CONFIG = """\
# The demo's /etc/crashcap.conf inside the crash initramfs
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=None, help="build folder (default: build/)")
    ap.add_argument("--mem", default="1G", help="guest RAM (default 1G)")
    a = ap.parse_args()
    if a.build:
        os.environ["CRASHCAP_BUILD"] = os.path.abspath(a.build)
    import capture
    import guest

    t0 = time.monotonic()

    def step(text):
        print(f"[{time.monotonic() - t0:6.1f}s] {text}", flush=True)

    def progress(t, phase):
        labels = {
            "first kernel booting": "guest: first kernel booting",
            "first kernel /init": "guest: up; crashcapctl load (kexec_file_load, crash kernel + crashcap initramfs)",
            "crash kernel loaded": "guest: crash kernel loaded; panicking it with sysrq-trigger",
            "panic": "guest: Kernel panic - the crash kernel takes over",
            "crash kernel booting": "guest: crash kernel booting",
            "collector running": "guest: crashcap-collect is /init; dumping /proc/vmcore",
            "dump saved": "guest: dump saved; powering off",
        }
        step(labels.get(phase, phase))

    step(f"building the crash initramfs and a {a.mem} guest (kernel from Debian, cached)")
    c = capture.capture("demo", CONFIG, mem=a.mem, progress=progress)
    step(f"guest finished; QEMU exit status {c.run.rc}")
    if c.run.timed_out or not c.dump_dir or not os.path.exists(c.vmcore or ""):
        print("\nThe demo did not get a dump.", file=sys.stderr)
        print(c.run.explain(), file=sys.stderr)
        return 1

    s = c.summary or {}
    size = os.path.getsize(c.vmcore)
    ram = int(a.mem[:-1]) << (30 if a.mem.endswith("G") else 20)
    secs = capture.panic_to_saved(c.run)
    info, _ = guest.kdumpfile_read(c.vmcore)
    print()
    print("crashcap demo: summary")
    print(f"  dump           {c.vmcore}")
    print(f"  also           {', '.join(sorted(os.listdir(c.dump_dir)))}")
    print(f"  kernel         {s.get('kernel_release', c.release)}")
    print(f"  panic          Kernel panic - not syncing: {s.get('panic_message', '?')}")
    print(f"  dump size      {size / 2**20:.1f} MiB for {ram / 2**30:.1f} GiB of guest RAM "
          f"({100.0 * size / ram:.1f}%), dump level {s.get('dump_level_applied', '?')}, "
          f"{s.get('compression', '?')}")
    if secs is not None:
        print(f"  panic -> saved {secs:.1f} s (crash kernel boot + dump, under TCG emulation)")
    if isinstance(s.get("dump_seconds"), (int, float)):
        print(f"  dump written   {s['dump_seconds']:.1f} s inside the crash kernel "
              f"(peak memory {s.get('peak_rss_bytes', 0) / 2**20:.1f} MiB)")
    if info:
        print(f"  checked        libkdumpfile reads the dump: {info['sysname']} {info['release']}")
    report = analyze(c.vmcore, os.path.join(guest.BUILD, "crashcapctl"))
    if report:
        print(report)
    print(f"  serial log     {c.run.serial_path}")
    return 0


def analyze(vmcore, ctl):
    """Why it died, as `crashcapctl analyze` reads it from the dump alone (no debug symbols)."""
    t = time.monotonic()
    r = subprocess.run([ctl, "analyze", "--json", vmcore], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    secs = time.monotonic() - t
    if r.returncode != 0:
        return f"  analyze        crashcapctl analyze failed: {r.stderr.strip()[-300:]}"
    panic = json.loads(r.stdout).get("panic") or {}
    frames = [f["symbol"] for f in panic.get("backtrace") or [] if not f.get("unsure")]
    lines = [f"  panicking task pid {panic.get('pid', '?')} ({panic.get('comm', '?')}) on CPU "
             f"{panic.get('cpu', '?')}; read by crashcapctl analyze in {secs:.2f} s, "
             f"no debug symbols"]
    for i, sym in enumerate(frames[:6]):
        lines.append(f"  {'backtrace' if i == 0 else '':14} {sym}")
    return "\n".join(lines)


sys.exit(main())
