#!/usr/bin/python3
"""The smallest crashkernel= with which crashcap's own crash initramfs
captures a panic, found by bisection with real panics (QEMU, TCG).

Not part of `make check` (each probe is a guest run). Usage, after `make`:

    tests/qemu/find-min-crashkernel.py [--mem 1G --mem 4G] [--lo 48] [--hi 160]
        [--step 8] [--series 6.1] [--crash-series S] [--crash-args "..."] [--threads N]

For every guest size it boots guests with crashkernel=<N>M, N from lo to hi
in steps, bisecting on the assumption that more memory never hurts, and
prints each probe (captured or not, and why not: the last phase reached and
what the crash kernel's console says about memory), then the smallest size
that captured, and what `crashcapctl estimate` proposed for that guest.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import guest  # noqa: E402

CONFIG = """\
# find-min-crashkernel.py: the defaults, dump level 31
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""

# What a crash kernel short of memory says on its console.
SIGNS = [
    r"Out of memory[^\n]*",
    r"Kernel panic - not syncing:[^\n]*",
    r"Initramfs unpacking failed[^\n]*",
    r"invalid magic at start of compressed archive",
    r"oom-kill[^\n]*",
    r"page allocation failure[^\n]*",
    r"crashcap: [^\n]*(error|failed|cannot)[^\n]*",
    r"Unable to mount root[^\n]*",
]

# The estimate the guest printed before its panic (workload: after the load).
WORKLOAD = """#!/bin/sh
crashcapctl estimate --json >/tmp/estimate.json 2>&1
echo "CRASHCAP-TEST: estimate-json $(tr -d '\\n' </tmp/estimate.json)"
"""


def crash_kernel_lines(run):
    """The serial lines after the panic: the crash kernel's."""
    out, after = [], False
    for _, line in run.lines:
        if "sysrq: Trigger a crash" in line:
            after = True
        elif after:
            out.append(line)
    return out


def why_not(c):
    lines = crash_kernel_lines(c.run)
    text = "\n".join(lines)
    found = []
    for sign in SIGNS:
        for m in re.finditer(sign, text):
            if m.group(0) not in found:
                found.append(m.group(0).strip())
    mem = [ln for ln in lines if re.search(r"Memory: \d+K/\d+K available", ln)]
    return (f"last phase: {c.run.last_phase()}"
            + (f"; {mem[0].strip()}" if mem else "")
            + (f"; {' | '.join(found[:4])}" if found else ""))


def estimate_of(c):
    return guest.said_json(c.run, "estimate-json", first=True)


def probe(mem, mib, args):
    name = f"findmin{args.tag}-{mem}-{mib}M"
    config = CONFIG
    if args.threads is not None:
        config += f"threads = {args.threads}\n"
    c = capture.capture(name, config, mem=mem, crashkernel=f"{mib}M", series=args.series,
                        timeout=args.timeout, workload=WORKLOAD,
                        crash_series=args.crash_series, crash_append=args.crash_args)
    ok = (c.run.reached("dump saved") and c.summary is not None
          and c.summary.get("result") == "ok")
    peak = c.summary.get("peak_rss_bytes", 0) if c.summary else 0
    detail = (f"captured: collector peak {peak / 2**20:.1f} MiB, {c.run.wall:.0f} s" if ok
              else why_not(c))
    est = estimate_of(c)
    return ok, detail, est


def bisect(mem, args):
    sizes = list(range(args.lo, args.hi + 1, args.step))
    results = {}

    def test(i):
        mib = sizes[i]
        if mib not in results:
            ok, detail, est = probe(mem, mib, args)
            results[mib] = (ok, detail, est)
            print(f"  {mem} crashkernel={mib}M: {'OK  ' if ok else 'FAIL'} {detail}", flush=True)
        return results[mib][0]

    if not test(len(sizes) - 1):
        return None, results
    lo, hi = 0, len(sizes) - 1  # hi captures
    while lo < hi:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid + 1
    return sizes[hi], results


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mem", action="append", help="guest RAM (repeatable); default 1G and 4G")
    p.add_argument("--lo", type=int, default=48)
    p.add_argument("--hi", type=int, default=160)
    p.add_argument("--step", type=int, default=8)
    p.add_argument("--series", default="6.1")
    p.add_argument("--crash-series", default=None,
                   help="another kernel to boot as the crash kernel (e.g. 6.1-cloud)")
    # The guest loads without a crashcap.conf: these go through `load --append`.
    p.add_argument("--crash-args", default="",
                   help="more words for the crash kernel's command line")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--tag", default="", help="added to the work directories' names")
    args = p.parse_args()
    mems = args.mem or ["1G", "4G"]
    summary = []
    for mem in mems:
        print(f"# {mem} guest, kernel {args.series}, crashkernel={args.lo}M..{args.hi}M "
              f"in {args.step} MiB steps", flush=True)
        best, results = bisect(mem, args)
        est = next((r[2] for r in results.values() if r[2]), None)
        proposal = est.get("crashkernel") if est else "?"
        if best is None:
            summary.append(f"{mem}: nothing up to {args.hi}M captured (estimate: {proposal})")
        else:
            summary.append(f"{mem}: smallest crashkernel= that captured: {best}M "
                           f"(estimate proposed {proposal}; {results[best][1]})")
        if est:
            for part in est.get("parts", []):
                print(f"    estimate {part['name']:14} {part['bytes'] / 2**20:7.1f} MiB "
                      f"{part.get('source', '')}", flush=True)
    print("\n".join(summary))
    return 0


sys.exit(main())
