#!/usr/bin/python3
"""QEMU: the crash kernel loaded with kexec_load (crashcapctl load --method
segments) on the Debian 6.1 kernel with KASLR on: the purgatory checks the
segments and starts the crash kernel, which gets elfcorehdr= and the planned
memory map; the dump is read by makedumpfile and libkdumpfile; and
/proc/vmcore in the crash kernel has the same PT_LOAD ranges as when the
kernel itself builds the image (--method file). That reference comes from a
second guest, cached in build/cache: it depends only on the kernel and QEMU.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402
import segcheck  # noqa: E402

CONFIG = """\
# crashcap's QEMU test of the kexec_load path: uncompressed, for makedumpfile 1.7.2
target = LABEL=crashdump
path = /
dump_level = 1
compression = none
final_action = poweroff
failure_action = poweroff
"""
MEM, CRASHKERNEL = "1G", "256M"


def reference(tap, release):
    """PT_LOADs of /proc/vmcore after a kexec_file_load crash load of the same guest."""
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    key = {"release": release, "mem": MEM, "crashkernel": CRASHKERNEL, "qemu": qemu}
    path = os.path.join(guest.CACHE, f"vmcore-ptloads-file-{release}-{MEM}-{CRASHKERNEL}.json")
    try:
        with open(path) as f:
            ref = json.load(f)
        if ref.get("key") == key:
            tap.note(f"file-method reference from {path}")
            return ref
    except (OSError, ValueError):
        pass
    c = capture.capture("segments-fileref", CONFIG, mem=MEM, crashkernel=CRASHKERNEL,
                        load_args="--method file", vmcore_info=True)
    segcheck.load_line(tap, c, "file")
    ram, text = segcheck.loads(c.vmcore_phdrs)
    crash = segcheck.crash_ranges(c.run)
    ok = tap.check(bool(ram) and text is not None and bool(crash),
                   "reference guest (--method file): the crash kernel printed /proc/vmcore's PT_LOADs",
                   c.run.explain())
    if not ok:
        return None
    ref = {"key": key, "ram": ram, "crash": crash, "text_memsz": text["memsz"],
           "load_seconds": segcheck.load_seconds(c.run)}
    with open(path + ".tmp", "w") as f:
        json.dump(ref, f, indent=1)
    os.replace(path + ".tmp", path)
    return ref


def main():
    tap = guest.Tap()
    c = capture.capture("segments-6.1", CONFIG, mem=MEM, crashkernel=CRASHKERNEL,
                        load_args="--method segments", vmcore_info=True)
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.loader(tap, c)
    segcheck.load_line(tap, c, "segments")
    # elfcorehdr, kernel, initrd, boot_params: 6.1 has no crash hotplug, so the header is checked too.
    segcheck.purgatory_ok(tap, c, 4)
    segcheck.crash_cmdline(tap, c)

    ram, text = segcheck.loads(c.vmcore_phdrs)
    tap.check(len(ram) >= 2 and text is not None,
              "the crash kernel's /proc/vmcore has a kernel text PT_LOAD and RAM PT_LOADs",
              json.dumps(c.vmcore_phdrs) if c.vmcore_phdrs else c.run.explain())
    if text:
        tap.note(f"kernel text PT_LOAD: vaddr {text['vaddr']:#x} paddr {text['paddr']:#x} "
                 f"size {text['memsz']:#x}")
    tap.check(text is not None and (text["vaddr"] != 0xffffffff81000000 or text["paddr"] != 0x1000000),
              "KASLR is on in the first kernel: its text is not at the default addresses",
              json.dumps(text))
    ref = reference(tap, c.release)
    # Where the reservation lands moves with KASLR from boot to boot: the
    # PT_LOADs must cover the same RAM, each leaving out its own boot's
    # reservation and nothing else; with the same reservation, the same list.
    crash = segcheck.crash_ranges(c.run)
    hex_list = lambda l: [(hex(a), hex(b)) for a, b in l]  # noqa: E731
    tap.check(segcheck.holes_are(ram, crash),
              "/proc/vmcore's RAM PT_LOADs leave out exactly the crash reservation",
              f"PT_LOADs {hex_list(ram)}, reservation {hex_list(crash)}")
    tap.check(ref is not None and segcheck.merged(ram + crash) ==
              segcheck.merged(ref["ram"] + ref["crash"]) and
              (crash != ref["crash"] or ram == ref["ram"]),
              "/proc/vmcore's RAM PT_LOADs (paddr, size) equal the kexec_file_load path's",
              f"segments: {hex_list(ram)} (reservation {hex_list(crash)})\n"
              f"file:     {hex_list(ref['ram']) if ref else None} "
              f"(reservation {hex_list(ref['crash']) if ref else None})")
    tap.check(ref is not None and text is not None and text["memsz"] == ref["text_memsz"],
              "the kernel text PT_LOAD has the size the kexec_file_load path gives it",
              f"{text['memsz'] if text else None} vs {ref['text_memsz'] if ref else None}")

    segcheck.dump_readable(tap, c, 1, "none")
    checks.timing(tap, c)
    s = segcheck.load_seconds(c.run)
    r = ref.get("load_seconds") if ref else None
    tap.note(f"first /init -> loaded: segments {s:.1f} s" if s else "load time n/a")
    if r:
        tap.note(f"first /init -> loaded: file {r:.1f} s (reference guest)")
    return tap.done()


sys.exit(main())
