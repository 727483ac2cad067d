#!/usr/bin/python3
"""QEMU with EFI firmware (OVMF): the first kernel boots through its EFI stub,
crashcapctl load --method segments hands the crash kernel the ACPI RSDP
(boot_params.acpi_rsdp_addr, from /sys/firmware/efi/systab: a crash kernel
started without EFI cannot find the tables by scanning low memory), and the
panic is captured."""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402
import segcheck  # noqa: E402

CONFIG = """\
# crashcap's QEMU test of kexec_load on EFI firmware
target = LABEL=crashdump
path = /
dump_level = 1
compression = none
final_action = poweroff
failure_action = poweroff
"""
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
WORKLOAD = """\
#!/bin/busybox sh
sed 's/^/CRASHCAP-TEST: systab /' /sys/firmware/efi/systab
"""


def main():
    tap = guest.Tap()
    if not os.path.exists(OVMF_CODE):
        tap.check(False, f"{OVMF_CODE} exists", "install Debian's ovmf package: scripts/setup.sh")
        return tap.done()
    work = guest.work_dir("segments-efi")
    vars_copy = os.path.join(work, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_copy)
    c = capture.capture("segments-efi", CONFIG, load_args="--method segments", vmcore_info=True,
                        workload=WORKLOAD, timeout=400,
                        extra_args=["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                                    "-drive", f"if=pflash,format=raw,file={vars_copy}"])
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.loader(tap, c)
    segcheck.load_line(tap, c, "segments")
    m = c.run.find(r"CRASHCAP-TEST: systab ACPI20=(0x[0-9a-f]+)")
    rsdp = int(m.group(1), 16) if m else None
    tap.check(rsdp is not None, "the first kernel runs on EFI: /sys/firmware/efi/systab has ACPI20=",
              c.run.explain())
    segcheck.purgatory_ok(tap, c, 4)
    segcheck.crash_cmdline(tap, c)

    # The crash kernel's own log: where it found the RSDP, and that it used ACPI.
    at = next((i for i, (_, l) in enumerate(c.run.lines) if "crashcap purgatory:" in l), None)
    crash_log = [l for _, l in c.run.lines[at:]] if at is not None else []
    found = None
    for line in crash_log:
        r = re.search(r"ACPI: RSDP 0x([0-9A-Fa-f]+)", line)
        if r:
            found = int(r.group(1), 16)
            break
    tap.check(rsdp is not None and found == rsdp,
              "the crash kernel found the ACPI RSDP where the EFI system table says",
              f"systab {rsdp and hex(rsdp)}, crash kernel {found and hex(found)}")
    tap.check(not any("acpi_rsdp=" in l for l in crash_log if "crash cmdline" in l),
              "protocol 2.15: the RSDP goes in boot_params, not on the command line", None)
    ram, _ = segcheck.loads(c.vmcore_phdrs)
    crash = segcheck.crash_ranges(c.run)
    tap.check(segcheck.holes_are(ram, crash),
              "/proc/vmcore's RAM PT_LOADs leave out exactly the crash reservation",
              f"PT_LOADs {[(hex(a), hex(n)) for a, n in ram]}, reservation {crash}")
    segcheck.dump_readable(tap, c, 1, "none")
    checks.timing(tap, c)
    return tap.done()


sys.exit(main())
