#!/usr/bin/python3
"""QEMU, 6.1 kernel: page filtering against Debian's makedumpfile.

One guest holds page cache (a disk written and read, with and without
buffer heads), files on tmpfs, anonymous memory (THPs) and anonymous zero
pages, hugetlb pages and free memory, prints its counters, and panics; the
crash kernel copies /proc/vmcore raw, then crashcap-collect dumps at level
31. On the host, at -d 1, 2, 4, 8, 16 and 31, crashcap-collect and
makedumpfile run on that raw vmcore and must keep the same pfns with the
same bytes (and, with bit 1, store the same pages as zero pages).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import filtertest as ft  # noqa: E402
import guest  # noqa: E402

LEVELS = (1, 2, 4, 8, 16, 31)


def main():
    tap = guest.Tap()
    r = ft.run_guest("filter-6.1", "6.1")
    tap.note(r.rebuild_output)
    checks.phases(tap, r)
    ft.workload_checks(tap, r)
    s = r.summary or {}
    tap.check(s.get("dump_level_applied") == 31,
              "the crash kernel's crashcap-collect applied dump level 31",
              str(s)[:800] or r.run.explain())
    tap.check(r.raw_vmcore is not None, "the guest's raw /proc/vmcore copy reached the host",
              r.run.explain())
    if r.raw_vmcore is None:
        return tap.done()
    tap.note("kernel counters: " + ", ".join(
        f"{k} {r.vmstat.get(k)}" for k in ("nr_free_pages", "nr_anon_pages", "nr_file_pages",
                                           "nr_shmem", "nr_anon_transparent_hugepages")))

    excluded = {}
    for level in LEVELS:
        ref = os.path.join(r.work, f"makedumpfile-d{level}.kdump")
        ours = os.path.join(r.work, f"crashcap-d{level}.kdump")
        ok, report = ft.makedumpfile(r.raw_vmcore, level, ref)
        tap.check(ok, f"-d {level}: makedumpfile dumps the raw vmcore (reference)", report)
        ok2, out = ft.collect(r.raw_vmcore, level, ours)
        tap.check(ok2, f"-d {level}: crashcap-collect dumps the raw vmcore", out)
        if ok and ok2:
            present, ram = ft.compare(tap, ref, ours, f"-d {level}", zero=bool(level & 1))
            excluded[level] = ram - present
            tap.note(f"-d {level}: {ram - present} of {ram} pages left out; makedumpfile:\n"
                     + report)
            if level == 31 and r.vmcore and os.path.exists(r.vmcore):
                # the crash kernel's own dump, of /proc/vmcore itself
                _, _, guest_bits = ft.present_pages(r.vmcore)
                _, _, host_bits = ft.present_pages(ours)
                tap.check(ft.same_bits(guest_bits, host_bits),
                          "-d 31: the dump written in the crash kernel keeps the same pfns "
                          "as crashcap-collect on the raw copy")
        for p in (ref, ours):
            if os.path.exists(p):
                os.unlink(p)

    # the test's premise: each level has something to leave out
    tap.check(excluded.get(8, 0) >= 70000, "-d 8 left out the THPs (at least 70,000 pages)",
              f"{excluded.get(8)}")
    tap.check(excluded.get(2, 0) >= 30000, "-d 2 left out page cache (at least 30,000 pages)",
              f"{excluded.get(2)}")
    tap.check(excluded.get(4, 0) >= excluded.get(2, 0) + 4096,
              "-d 4 left out more than -d 2: page cache with private data (buffer heads)",
              f"-d 2 {excluded.get(2)}, -d 4 {excluded.get(4)}")
    tap.check(excluded.get(16, 0) >= 10000, "-d 16 left out free pages (at least 10,000)",
              f"{excluded.get(16)}")
    checks.timing(tap, r) if r.vmcore else None
    os.unlink(r.raw_vmcore)  # 0.9 GB: the logs stay, the copy goes
    return tap.done()


sys.exit(main())
