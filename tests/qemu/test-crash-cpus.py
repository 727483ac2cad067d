#!/usr/bin/python3
"""QEMU: crash_cpus = 2 gives the crash kernel two CPUs and the collector
two threads (threads = 0). The guest has three CPUs and panics on CPU 1,
not the boot CPU: the crash kernel then boots on CPU 1, must leave the
boot CPU alone (disable_cpu_apicid=, which crashcap adds) and brings up the
third. One guest: the crash kernel's command line (nr_cpus=2 once), its
online CPUs, the dump, summary.json's threads, and the guest's own estimate
with the per-CPU term. Dump level 31, zstd."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402

MIB = 1 << 20
KERNEL_RUNTIME = 16 * MIB  # loader/budget.c, nr_cpus=1
KERNEL_PER_CPU = 5 * MIB // 4  # loader/budget.c, each CPU beyond the first

CONFIG = """\
# crashcap's QEMU test: two CPUs in the crash kernel
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
threads = 0
crash_cpus = 2
final_action = poweroff
failure_action = poweroff
"""

# guest-init.sh writes the sysrq from PID 1: pinned to CPU 1, it panics there.
WORKLOAD = """#!/bin/sh
echo "CRASHCAP-TEST: boot cpu apicid $(sed -n '/^processor[[:space:]]*: 0$/,/^$/s/^initial apicid[[:space:]]*: //p' /proc/cpuinfo)"
crashcapctl estimate --json >/tmp/estimate.json 2>&1
echo "CRASHCAP-TEST: estimate-json $(tr -d '\\n' </tmp/estimate.json)"
taskset -p 2 1 >/dev/null
echo "CRASHCAP-TEST: pinned $(taskset -p 1)"
"""


def cpu_count(ranges):
    """"0-1,3" -> 3."""
    n = 0
    for part in (ranges or "").split(","):
        a, _, b = part.strip().partition("-")
        if not a.isdigit():
            return None
        n += int(b or a) - int(a) + 1
    return n


def crash_start(run):
    """Index of the first serial line after the panic: the crash kernel's."""
    for i, (_, line) in enumerate(run.lines):
        if "sysrq: Trigger a crash" in line:
            return i + 1
    return len(run.lines)


def main():
    tap = guest.Tap()
    # The guest's loader reads crash_cpus from its own /etc/crashcap.conf.
    conf = os.path.join(guest.work_dir("crash-cpus"), "guest-crashcap.conf")
    with open(conf, "w") as f:
        f.write(CONFIG)
    # 128M: what the guest's estimate proposes with crash_cpus = 2 (noted below),
    # 48 MiB above the smallest that captured with one CPU.
    c = capture.capture("crash-cpus", CONFIG, smp=3, crashkernel="128M", vmcore_info=True,
                        workload=WORKLOAD, files={"etc/crashcap.conf": conf})
    checks.phases(tap, c)
    checks.loader(tap, c)
    checks.dump_files(tap, c)
    checks.summary(tap, c, 31, "zstd")

    apicid = guest.said(c.run, "boot cpu apicid")
    tap.check(apicid is not None and apicid.isdigit(),
              "the first kernel's /proc/cpuinfo names CPU 0's initial APIC ID", repr(apicid))
    panic_cpu = c.run.find(r"CPU: (\d+) PID: 1 Comm: init")
    tap.check(panic_cpu is not None and panic_cpu.group(1) == "1",
              "the panic ran on CPU 1, not the boot CPU (PID 1 pinned there)",
              guest.said(c.run, "pinned") or c.run.explain())

    cmdline = guest.said(c.run, "crash cmdline") or ""
    words = cmdline.split()
    tap.check(words.count("nr_cpus=2") == 1 and
              not [w for w in words if w.startswith("nr_cpus=") and w != "nr_cpus=2"],
              "the crash kernel's command line has nr_cpus=2, once, and no other nr_cpus=",
              cmdline or c.run.explain())
    tap.check(f"disable_cpu_apicid={apicid}" in words,
              "the crash kernel's command line disables the boot CPU (disable_cpu_apicid=)",
              cmdline or c.run.explain())
    online = guest.said(c.run, "crash cpus online")
    tap.check(cpu_count(online) == 2, "the crash kernel brought up 2 CPUs",
              f"online: {online!r}")
    after_panic = [line for _, line in c.run.lines[crash_start(c.run):]]
    want = (re.compile(r"APIC: Disabling requested cpu\. Processor \d+/0x%x ignored" % int(apicid))
            if apicid and apicid.isdigit() else None)
    tap.check(want is not None and any(want.search(line) for line in after_panic),
              "the crash kernel left the boot CPU alone (its console says so)",
              "\n".join(line for line in after_panic if "APIC" in line)[-1500:] or c.run.explain())

    s = c.summary or {}
    tap.check(s.get("threads") == 2, "summary.json threads is 2 (threads = 0: one per CPU)",
              f"threads: {s.get('threads')}")

    est = guest.said_json(c.run, "estimate-json", first=True) or {}
    parts = {p.get("name"): p for p in est.get("parts", [])}
    run_row = parts.get("kernel at run", {})
    collector = parts.get("collector", {})
    tap.check(run_row.get("bytes") == KERNEL_RUNTIME + KERNEL_PER_CPU,
              "the guest's estimate: kernel at run is 16 MiB + one more CPU's",
              str(run_row) or guest.said(c.run, "estimate-json", first=True))
    tap.check("per thread (2)" in collector.get("why", ""),
              "the guest's estimate: the collector's model has 2 threads", str(collector))

    tap.note(f"the guest's estimate proposed {est.get('crashkernel')} (total "
             f"{est.get('total', 0) / MIB:.1f} MiB); the guest had 128M")
    tap.note(f"dump_seconds {s.get('dump_seconds')} with {s.get('threads')} threads "
             f"(TCG: rough); peak RSS {s.get('peak_rss_bytes', 0) / MIB:.1f} MiB")
    tap.note(f"crash kernel meminfo: {guest.said(c.run, 'crash meminfo')}")
    checks.timing(tap, c)
    return tap.done()


sys.exit(main())
