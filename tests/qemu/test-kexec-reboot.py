#!/usr/bin/python3
"""QEMU: three things on one guest, one after the other.

1. load_method = auto with a kernel image that kexec_file_load refuses (the
   Debian 6.1 image with XLF_CAN_BE_LOADED_ABOVE_4G cleared: the running
   kernel says ENOEXEC to it, checked with the syscall itself) falls back to
   kexec_load and says why.
2. crashcapctl load --reboot-kernel --method segments stages the 6.12 kernel
   without KEXEC_ON_CRASH; reboot(LINUX_REBOOT_CMD_KEXEC) starts it through
   the purgatory with the memory map and command line crashcap gave it.
3. In that kernel, a crash image whose purgatory holds a deliberately wrong
   digest (a test-only helper; crashcapctl has no such option): at the panic
   the purgatory names the region on the serial port, starts nothing, and
   ends QEMU through isa-debug-exit (exit status 85).
"""

import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import segcheck  # noqa: E402

TEST_EXIT_STATUS = (0x2a << 1) | 1  # PURGATORY_TEST_EXIT_CODE through isa-debug-exit
LOADER_OBJS = ["loadseg", "bootparams", "bzimage", "crashmem", "e820", "elfcorehdr",
               "segments", "sha256", "purgatory"]

PHASES = [
    ("first kernel booting", r"Linux version 6\.1\."),
    ("first kernel /init", r"CRASHCAP-TEST: first kernel up"),
    ("crash kernel loaded (auto)", r"CRASHCAP-TEST: load rc=0 loaded=1"),
    ("reboot kernel loaded", r"CRASHCAP-TEST: reboot load rc=0 kexec_loaded=1"),
    ("kexec reboot", r"CRASHCAP-TEST: kexec reboot now"),
    ("purgatory started the new kernel", r"crashcap purgatory: \d+ region digests match"),
    ("second kernel booting", r"Linux version 6\.12\."),
    ("second kernel /init", r"CRASHCAP-TEST: second kernel up"),
    ("corrupt crash image loaded", r"CRASHCAP-TEST: corrupt load rc=0 loaded=1"),
    ("panic", r"sysrq: Trigger a crash"),
    ("purgatory refused", r"crashcap purgatory: SHA-256 mismatch"),
]


def build_helper(work):
    out = os.path.join(work, "kexec-helper")
    obj = os.path.join(guest.BUILD, "obj")
    objs = [os.path.join(obj, "loader", n + ".o") for n in LOADER_OBJS]
    objs += [os.path.join(guest.BUILD, "purgatory", "blob.o"), os.path.join(obj, "libcrashcap.a")]
    guest.run(["gcc", "-static", "-std=gnu11", "-D_GNU_SOURCE", "-O2", "-Wall",
               "-I", os.path.join(guest.TOP, "lib"), "-I", guest.TOP, "-o", out,
               os.path.join(guest.HERE, "kexec-helper.c")] + objs)
    return out


def never_initrd(work):
    """A crash initramfs that must never run: it would say so."""
    path = os.path.join(work, "initrd-never.cpio")
    c = guest.Cpio(path)
    guest.add_busybox(c)
    c.add_bytes("init", b"#!/bin/busybox sh\n/bin/busybox echo 'CRASHCAP-TEST: CRASH KERNEL "
                b"STARTED'\n/bin/busybox poweroff -f\n", 0o755)
    c.close()
    return path


def main():
    tap = guest.Tap()
    work = guest.work_dir("kexec-reboot")
    k61, k612 = guest.kernel_dir("6.1"), guest.kernel_dir("6.12")
    r61, r612 = guest.kernel_release(k61), guest.kernel_release(k612)
    v612 = os.path.join(k612, "boot", f"vmlinuz-{r612}")

    no4g = os.path.join(work, "vmlinuz-no4g")
    shutil.copyfile(os.path.join(k61, "boot", f"vmlinuz-{r61}"), no4g)
    with open(no4g, "r+b") as f:
        f.seek(0x236)
        xlf = int.from_bytes(f.read(2), "little")
        f.seek(0x236)
        f.write((xlf & ~0x2).to_bytes(2, "little"))
    helper = build_helper(work)
    never = never_initrd(work)

    nxt = os.path.join(work, "initrd-next.cpio")
    c = guest.Cpio(nxt)
    guest.add_busybox(c)
    c.add_file("init", os.path.join(guest.HERE, "kexec-second-init.sh"), 0o755)
    c.add_file("usr/sbin/kexec-helper", helper, 0o755)
    c.add_file("vmlinuz-crash", v612, 0o644)
    c.add_file("initrd-never", never, 0o644)
    c.add_bytes("etc/crashcap-test.env", b"# crashcap QEMU test guest\n")
    c.close()

    first = guest.build_first_initrd(
        work, k61, never, init=os.path.join(guest.HERE, "kexec-reboot-init.sh"),
        files={"vmlinuz-no4g": no4g, "vmlinuz-next": v612, "initrd-next": nxt,
               "usr/sbin/kexec-helper": helper})
    run = guest.GuestRun("kexec-reboot", work, k61, first, [], mem="1G", crashkernel="256M",
                         first_kernel_args="crashcap.qemu_test=1", phases=PHASES,
                         timeout=300).run()

    explained = False
    for name, _ in PHASES:
        ok = run.reached(name)
        tap.check(ok, f"guest reached: {name}", None if ok or explained else run.explain())
        explained = explained or not ok

    # 1. auto falls back
    m = run.find(r"CRASHCAP-TEST: kexec_file_load\(/vmlinuz-no4g\) -> (\S+)")
    tap.check(m is not None and m.group(1) == "ENOEXEC",
              "the running kernel's kexec_file_load refuses the image without "
              "XLF_CAN_BE_LOADED_ABOVE_4G (ENOEXEC)", m.group(0) if m else run.explain())
    m = run.find(r"crash kernel loaded: /vmlinuz-no4g .*; method: (.*)$")
    want = ("segments (kexec_load), because kexec_file_load takes only images that can be "
            "loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G is not set)")
    tap.check(m is not None and m.group(1) == want,
              "load_method auto: kexec_load loads it and crashcapctl says why",
              m.group(0) if m else run.explain())
    image = (guest.said_json(run, "status-json", first=True) or {}).get("image") or {}
    tap.check(image.get("method") == "segments", "status --json: image.method is segments",
              guest.said(run, "status-json", first=True) or "no status-json line")

    # 2. the kexec reboot
    m = run.find(r"reboot kernel loaded: (.*)$")
    tap.check(m is not None and m.group(1).startswith("/vmlinuz-next with /initrd-next (") and
              m.group(1).endswith("; method: segments (kexec_load); systemctl kexec boots it"),
              "crashcapctl load --reboot-kernel --method segments says what it loaded",
              m.group(0) if m else run.explain())
    m = run.find(r"crashcap purgatory: (\d+) region digests match, starting the kernel")
    tap.check(m is not None and m.group(1) == "3",
              "the purgatory checked kernel, initrd and boot_params, then started the new kernel",
              m.group(0) if m else run.explain())
    m = run.find(r"CRASHCAP-TEST: second kernel up (\S+)")
    tap.check(m is not None and m.group(1) == r612,
              f"the kexec reboot ran the new kernel {r612}", m.group(0) if m else run.explain())
    m = run.find(r"CRASHCAP-TEST: second cmdline (.*)$")
    cmd = m.group(1).split() if m else []
    tap.check("crashcap.kexec_test=1" in cmd and "crashkernel=256M" in cmd and
              "crashcap.qemu_test=1" in cmd and not any(w.startswith("BOOT_IMAGE=") for w in cmd),
              "its command line: the first kernel's, plus --append", " ".join(cmd))
    m1 = run.find(r"CRASHCAP-TEST: first kernel up .*MemTotal: (\d+) kB")
    m2 = run.find(r"CRASHCAP-TEST: second MemTotal: (\d+) kB")
    a, b = (int(m1.group(1)) if m1 else 0), (int(m2.group(1)) if m2 else 0)
    tap.note(f"MemTotal: first kernel {a >> 10} MiB, kexec'd kernel {b >> 10} MiB")
    tap.check(b > 0 and abs(a - b) < 64 << 10,
              "the new kernel has all the RAM the first one had (the e820 crashcap built)",
              f"first {a} kB, second {b} kB")
    m = run.find(r"CRASHCAP-TEST: second crash range ([0-9a-f]+)-([0-9a-f]+) : Crash kernel")
    size = int(m.group(2), 16) - int(m.group(1), 16) + 1 if m else 0
    tap.check(size == 256 << 20, "it reserved crashkernel=256M again", m.group(0) if m else None)

    # 3. the wrong digest
    m = run.find(r"crashcap purgatory: SHA-256 mismatch in region (\d+) at (0x[0-9a-f]+) "
                 r"\(length (0x[0-9a-f]+)\): memory changed since the load, not starting the "
                 r"kernel; halted")
    tap.check(m is not None and m.group(1) == "1",
              "the purgatory names the region whose digest is wrong on the serial port",
              m.group(0) if m else run.explain())
    at = next((i for i, (_, l) in enumerate(run.lines) if "SHA-256 mismatch" in l), None)
    after = [l for _, l in run.lines[at + 1:]] if at is not None else []
    tap.check(at is not None and not any("Linux version" in l or "CRASH KERNEL STARTED" in l
                                         for l in after),
              "no kernel starts after the refusal", "\n".join(after[:20]))
    tap.check(run.rc == TEST_EXIT_STATUS and not run.timed_out,
              f"the purgatory ended QEMU through isa-debug-exit (status {TEST_EXIT_STATUS})",
              run.explain())
    t = run.phase_times
    if "kexec reboot" in t and "second kernel /init" in t:
        tap.note(f"kexec reboot -> new kernel's /init: {t['second kernel /init'] - t['kexec reboot']:.1f} s")
    if "panic" in t and "purgatory refused" in t:
        tap.note(f"panic -> purgatory refusal: {t['purgatory refused'] - t['panic']:.1f} s; "
                 f"guest wall {run.wall:.0f} s")
    return tap.done()


sys.exit(main())
