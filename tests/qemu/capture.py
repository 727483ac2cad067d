"""One panic, captured: build the images, boot the guest, pull the dump out.

Used by the QEMU tests and by `make demo`. The checks themselves live in the
callers; this only gathers what they check.
"""

import json
import os

import guest


class Capture:
    pass


def capture(name, config_text, mem="1G", crashkernel="256M", raw_copy=False,
            timeout=300, progress=None, series="6.1", numa_nodes=1, load_args="",
            vmcore_info=False, workload=None, first_kernel_args="", mem_opts="",
            qmp=False, on_line=None, files=None, extra_args=None, crash_series=None,
            crash_append="", smp=2):
    """load_args, workload, files: see guest.build_first_initrd; vmcore_info: see
    guest.build_crash_initrd (then .vmcore_phdrs); first_kernel_args,
    mem_opts, qmp, on_line, extra_args: see guest.GuestRun; crash_series:
    another kernel (and its modules) to boot as the crash kernel; crash_append:
    words `crashcapctl load --append` adds to the crash kernel's command line;
    smp: the guest's CPUs."""
    c = Capture()
    c.work = guest.work_dir(name)
    c.kdir = guest.kernel_dir(series)
    c.release = guest.kernel_release(c.kdir)
    crash_kdir = guest.kernel_dir(crash_series) if crash_series else c.kdir
    c.crash_initrd, c.rebuild_output = guest.build_crash_initrd(
        c.work, crash_kdir, config_text, raw_copy=raw_copy, vmcore_info=vmcore_info)
    first = guest.build_first_initrd(c.work, crash_kdir, c.crash_initrd, load_args=load_args,
                                     crash_append=crash_append,
                                     workload=workload, files=files)
    c.disk = os.path.join(c.work, "dump-disk.img")
    guest.make_disk(c.disk)
    disks = [c.disk]
    c.raw_disk = None
    if raw_copy:
        c.raw_disk = os.path.join(c.work, "raw-vmcore.img")
        # Sparse: only what the guest writes takes room.
        size = int(mem.rstrip("G")) << 30 if mem.endswith("G") else int(mem.rstrip("M")) << 20
        guest.make_raw_disk(c.raw_disk, size + (64 << 20))
        disks.append(c.raw_disk)
    c.run = guest.GuestRun(name, c.work, c.kdir, first, disks, mem=mem,
                           crashkernel=crashkernel, smp=smp, timeout=timeout,
                           progress=progress, numa_nodes=numa_nodes,
                           first_kernel_args=first_kernel_args, mem_opts=mem_opts,
                           qmp=qmp, on_line=on_line, extra_args=extra_args).run()
    c.vmcore_phdrs = guest.vmcore_phdrs(c.run) if vmcore_info else None
    c.dump_dirs = guest.extract_dumps(c.disk, os.path.join(c.work, "out"))
    c.dump_dir = c.dump_dirs[-1] if c.dump_dirs else None
    c.summary = None
    if c.dump_dir and os.path.exists(os.path.join(c.dump_dir, "summary.json")):
        with open(os.path.join(c.dump_dir, "summary.json")) as f:
            try:
                c.summary = json.load(f)
            except ValueError as e:
                c.summary_error = str(e)
    c.vmcore = os.path.join(c.dump_dir, "vmcore") if c.dump_dir else None
    c.raw_vmcore = None
    if raw_copy and c.run.find(r"CRASHCAP-TEST: raw copy done rc=0"):
        end = guest.elf_file_size(c.raw_disk)
        if end:
            c.raw_vmcore = os.path.join(c.work, "vmcore.elf")
            os.replace(c.raw_disk, c.raw_vmcore)
            os.truncate(c.raw_vmcore, end)
    return c


def panic_to_saved(run):
    t = run.phase_times
    if "panic" in t and "dump saved" in t:
        return t["dump saved"] - t["panic"]
    return None
