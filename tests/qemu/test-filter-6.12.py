#!/usr/bin/python3
"""QEMU, 6.12 kernel: page filtering against the kernel's own counters.

Debian's makedumpfile is no reference on 6.12 (1.7.2 misses anonymous THPs
at -d 8, 1.7.6 misses free pages at -d 16), so the guest prints /proc/vmstat
and /proc/meminfo just before the panic and each class crashcap-collect
leaves out of the raw vmcore is held against them: free pages against
nr_free_pages, user pages against nr_anon_pages (plus the hugetlb pool),
page cache against nr_file_pages. Zero pages need no struct page, so there
makedumpfile is right: -d 1 must equal it pfn for pfn and byte for byte.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import filtertest as ft  # noqa: E402
import guest  # noqa: E402


def within(got, want, fraction):
    return want > 0 and abs(got - want) <= want * fraction


def main():
    tap = guest.Tap()
    r = ft.run_guest("filter-6.12", "6.12")
    tap.note(r.rebuild_output)
    checks.phases(tap, r)
    ft.workload_checks(tap, r)
    s = r.summary or {}
    tap.check(s.get("dump_level_applied") == 31,
              "the crash kernel's crashcap-collect applied dump level 31",
              str(s)[:800] or r.run.explain())
    tap.check(r.raw_vmcore is not None, "the guest's raw /proc/vmcore copy reached the host",
              r.run.explain())
    if r.raw_vmcore is None or not r.vmstat:
        return tap.done()
    v, mi = r.vmstat, r.meminfo
    hugetlb = mi.get("HugePages_Total", 0) * mi.get("Hugepagesize", 0) // 4
    tap.note(f"kernel counters: nr_free_pages {v.get('nr_free_pages')}, nr_anon_pages "
             f"{v.get('nr_anon_pages')}, nr_file_pages {v.get('nr_file_pages')}, "
             f"hugetlb pool {hugetlb} pages")

    # -d 1: the zero pages, against makedumpfile
    ref = os.path.join(r.work, "makedumpfile-d1.kdump")
    ours = os.path.join(r.work, "crashcap-d1.kdump")
    ok, report = ft.makedumpfile(r.raw_vmcore, 1, ref)
    tap.check(ok, "-d 1: makedumpfile dumps the raw vmcore (reference for zero pages)", report)
    ok2, out = ft.collect(r.raw_vmcore, 1, ours)
    tap.check(ok2, "-d 1: crashcap-collect dumps the raw vmcore", out)
    if ok and ok2:
        ft.compare(tap, ref, ours, "-d 1", zero=True)
    for p in (ref, ours):
        if os.path.exists(p):
            os.unlink(p)

    left_out = {}
    for level in (16, 8, 4, 31):
        path = os.path.join(r.work, f"crashcap-d{level}.kdump")
        ok, out = ft.collect(r.raw_vmcore, level, path)
        tap.check(ok, f"-d {level}: crashcap-collect dumps the raw vmcore", out)
        if ok:
            present, ram, bits = ft.present_pages(path)
            left_out[level] = ram - present
            left_out["ram"] = ram
            if level == 31 and r.vmcore and os.path.exists(r.vmcore):
                _, _, guest_bits = ft.present_pages(r.vmcore)
                tap.check(ft.same_bits(guest_bits, bits),
                          "-d 31: the dump written in the crash kernel keeps the same pfns "
                          "as crashcap-collect on the raw copy")
            os.unlink(path)

    free, anon, files = v.get("nr_free_pages", 0), v.get("nr_anon_pages", 0), \
        v.get("nr_file_pages", 0)
    got = left_out.get(16, -1)
    tap.check(within(got, free, 0.005),
              f"-d 16 leaves out the free pages: {got} vs nr_free_pages {free}"
              + (" (exactly)" if got == free else " (within 0.5%)"),
              f"differ by {got - free}")
    got = left_out.get(8, -1) - hugetlb
    tap.check(within(got, anon, 0.01) and anon >= 70000,
              f"-d 8 leaves out the user pages: {got} (+ {hugetlb} hugetlb) vs nr_anon_pages "
              f"{anon}, within 1%", f"differ by {got - anon}")
    got = left_out.get(4, -1)
    tap.check(within(got, files, 0.01) and files >= 30000,
              f"-d 4 leaves out the page cache: {got} vs nr_file_pages {files}, within 1%",
              f"differ by {got - files}")
    ram = left_out.get("ram", 0)
    kept = ram - left_out.get(31, ram)
    rest = ram - free - anon - files
    tap.check(rest > 0 and kept <= 1.02 * rest,
              f"-d 31 keeps {kept} pages, at most 1.02 x (RAM - free - anon - file) = "
              f"{1.02 * rest:.0f}", f"RAM {ram}, rest {rest}")
    checks.timing(tap, r) if r.vmcore else None
    os.unlink(r.raw_vmcore)
    return tap.done()


sys.exit(main())
