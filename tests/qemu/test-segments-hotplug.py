#!/usr/bin/python3
"""QEMU: kexec_load with KEXEC_UPDATE_ELFCOREHDR on the bookworm-backports
6.12 kernel (nokaslr). After the load, the host hot-adds a 512 MiB DIMM
through QMP; crashcap does not reload. At the panic the purgatory, which
leaves the elfcorehdr out of its digests, still starts the crash kernel;
/proc/vmcore covers the new memory (the kernel rewrote the header), and the
dump holds the marker the guest wrote into that memory."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402
import segcheck  # noqa: E402

CONFIG = """\
# crashcap's QEMU test of kexec_load with crash hotplug
target = LABEL=crashdump
path = /
dump_level = 1
compression = none
final_action = poweroff
failure_action = poweroff
"""
DIMM = 512 << 20
KEXEC_UPDATE_ELFCOREHDR = 0x4

# Pages of [start, end) in the dump that hold the marker (every 8th page is read).
MARKER_SCAN = r"""
import sys, kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
start, end = int(sys.argv[2]), int(sys.argv[3])
hit = read = 0
for a in range(start, end, 8 * 4096):
    try:
        page = k.read(kdumpfile.KDUMP_MACHPHYSADDR, a, 4096)
    except Exception:
        continue
    read += 1
    hit += b"CRASHCAP-HOTPLUG-MARKER" in page
print(read, hit)
"""


def main():
    tap = guest.Tap()
    qmp_results = []

    def hot_add(run, t, line):
        if "CRASHCAP-TEST: ready for hotplug" not in line or qmp_results:
            return
        try:
            q = guest.Qmp(run.qmp_path)
            qmp_results.append(q.command("object-add", **{"qom-type": "memory-backend-ram",
                                                           "id": "hotmem0", "size": DIMM}))
            qmp_results.append(q.command("device_add", driver="pc-dimm", id="dimm0",
                                         memdev="hotmem0"))
            q.close()
        except (OSError, RuntimeError, ValueError) as e:
            qmp_results.append({"error": str(e)})

    with open(os.path.join(guest.HERE, "hotplug-workload.sh")) as f:
        workload = f.read()
    c = capture.capture("segments-hotplug-6.12", CONFIG, series="6.12", mem="1G",
                        mem_opts="slots=2,maxmem=2G", crashkernel="256M",
                        first_kernel_args="nokaslr memhp_default_state=online",
                        load_args="--method segments", vmcore_info=True, workload=workload,
                        qmp=True, on_line=hot_add, timeout=400)
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.loader(tap, c)
    segcheck.load_line(tap, c, "segments")

    m = c.run.find(r"CRASHCAP-TEST: loaded.json (.*)$")
    try:
        flags = json.loads(m.group(1))["flags"] if m else None
    except (ValueError, KeyError):
        flags = None
    tap.check(flags is not None and flags & KEXEC_UPDATE_ELFCOREHDR,
              "loaded.json: kexec_load got KEXEC_UPDATE_ELFCOREHDR (6.12 has crash hotplug)",
              m.group(0) if m else c.run.explain())
    m = c.run.find(r"crash_hotplug before: memory=(\d)")
    tap.check(m is not None and m.group(1) == "1",
              "/sys/devices/system/memory/crash_hotplug is 1: the kernel keeps the image current",
              m.group(0) if m else c.run.explain())
    tap.check(len(qmp_results) == 2 and all("return" in r for r in qmp_results),
              "QMP: object-add memory-backend-ram and device_add pc-dimm (512 MiB) succeeded",
              json.dumps(qmp_results))
    m = c.run.find(r"online blocks after hotplug (\d+)")
    b = c.run.find(r"ready for hotplug \(online blocks (\d+)\)")
    tap.check(m is not None and b is not None and int(m.group(1)) == int(b.group(1)) + 4,
              "the guest onlined the DIMM's four 128 MiB blocks",
              f"{b.group(0) if b else None} / {m.group(0) if m else c.run.explain()}")
    added = None
    for _, line in c.run.lines:
        r = re.search(r"CRASHCAP-TEST: first iomem ([0-9a-f]+)-([0-9a-f]+) : System RAM", line)
        if r and int(r.group(1), 16) >= 1 << 32:
            added = (int(r.group(1), 16), int(r.group(2), 16) + 1 - int(r.group(1), 16))
    tap.check(added is not None and added[1] == DIMM,
              "the new DIMM shows in /proc/iomem above 4 GiB as 512 MiB of System RAM",
              f"{added}")
    tap.check(len([1 for _, line in c.run.lines if "crash kernel loaded:" in line]) == 1,
              "no reload: the crash kernel was loaded once", None)

    # elfcorehdr out of the digest: kernel, initrd, boot_params.
    segcheck.purgatory_ok(tap, c, 3)
    segcheck.crash_cmdline(tap, c)
    ram, text = segcheck.loads(c.vmcore_phdrs)
    covers = added is not None and any(a <= added[0] and added[0] + added[1] <= a + n
                                       for a, n in ram)
    tap.check(covers, "/proc/vmcore in the crash kernel has a PT_LOAD for the hot-added memory "
              "(the kernel rewrote the elfcorehdr)",
              f"PT_LOADs {[(hex(a), hex(n)) for a, n in ram]}, added {added}")
    m = c.run.find(r"CRASHCAP-TEST: crash memory blocks online:([ 0-9]*)$")
    blocks = [int(b) for b in m.group(1).split()] if m else None
    dimm_blocks = range(added[0] >> 27, (added[0] + added[1]) >> 27) if added else range(0)
    tap.check(blocks is not None and blocks and not set(blocks) & set(dimm_blocks),
              "the crash kernel keeps the hot-added memory offline (memhp_default_state=offline): "
              "it does not run in the memory it dumps",
              f"online blocks {blocks}, DIMM blocks {list(dimm_blocks)}")
    tap.check(text is not None and text["vaddr"] == 0xffffffff81000000,
              "nokaslr: the kernel text PT_LOAD is at 0xffffffff81000000", json.dumps(text))

    segcheck.dump_readable(tap, c, 1, "none")
    if added and c.vmcore and os.path.exists(c.vmcore):
        r = subprocess.run(["/usr/bin/python3", "-c", MARKER_SCAN, c.vmcore, str(added[0]),
                            str(added[0] + added[1])], capture_output=True, text=True)
        read, hit = (int(x) for x in r.stdout.split()) if r.returncode == 0 else (0, 0)
        tap.note(f"hot-added memory in the dump: {read} of {added[1] // (8 * 4096)} sampled "
                 f"pages present, {hit} with the marker")
        tap.check(hit > 0, "the dump holds the guest's marker in the hot-added memory",
                  r.stderr[-600:])
    else:
        tap.check(False, "the dump holds the guest's marker in the hot-added memory",
                  "no dump or no added range")
    checks.timing(tap, c)
    return tap.done()


sys.exit(main())
