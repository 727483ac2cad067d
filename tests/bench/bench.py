#!/usr/bin/python3
"""make bench: crashcap-collect against Debian's makedumpfile on the same vmcore.

The vmcores come from tests/bench/vmcore.py (a 3 GiB QEMU guest with page
cache, tmpfs, anonymous and free memory; built once, cached in build/cache).
Every run reads the vmcore from the page cache (it is read once first) and
writes to the same output directory (tmpfs by default: the disk's speed is
not what is compared). Each command runs --repeat times (once when it takes
longer than 20 s); the table shows the fastest wall time, its CPU time
(user + system) and peak RSS from /usr/bin/time, the output size, and
ratios to makedumpfile -l (time) and -c (size).

At -d 31 a last section measures the per-page compression floor (floor.py):
zstd's own benchmark on the pages crashcap keeps, cut into 4 KiB blocks.

    tests/bench/bench.py [--threads N] [--repeat N] [--out DIR] [--levels 31,1]
"""

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import floor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("CRASHCAP_BUILD") or os.path.join(TOP, "build")
COLLECT = os.path.join(BUILD, "crashcap-collect")


def vmcore(series):
    r = subprocess.run([sys.executable, os.path.join(HERE, "vmcore.py"), "--series", series],
                       stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench: cannot build the {series} vmcore")
    return r.stdout.strip().splitlines()[-1]


def warm(path):
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def dumped_pages(path):
    """Pages in a kdump-compressed file (bits in bitmap 2)."""
    with open(path, "rb") as f:
        h = f.read(464)
        if h[:8] != b"KDUMP   ":
            return None
        bs, sub, bmb = struct.unpack_from("<III", h, 428)
        half = bmb * bs // 2
        f.seek(bs * (1 + sub) + half)
        bits = f.read(half)
    return int.from_bytes(bits, "little").bit_count()


def timed(cmd, out):
    """One run: (wall, cpu, rss KiB, bytes), or None when it failed."""
    if os.path.exists(out):
        os.unlink(out)
    fmt = "%e %U %S %M"
    r = subprocess.run(["/usr/bin/time", "-f", fmt, "-o", out + ".time"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with open(out + ".time") as f:
        last = f.read().split("\n")
    os.unlink(out + ".time")
    fields = [line for line in last if line.strip()][-1].split()
    wall, user, sys_, rss = float(fields[0]), float(fields[1]), float(fields[2]), int(fields[3])
    if r.returncode not in (0,) or not os.path.exists(out):
        print(f"# {' '.join(cmd)} failed ({r.returncode}): {r.stderr[-300:]}", flush=True)
        return None
    return wall, user + sys_, rss, os.path.getsize(out), r.stderr


def measure(name, cmd, out, repeat):
    best = None
    runs = []
    for i in range(repeat):
        t = timed(cmd, out)
        if t is None:
            return None
        runs.append(t)
        if best is None or t[0] < best[0]:
            best = t
        if t[0] > 20:
            break
    pages = dumped_pages(out)
    os.unlink(out)
    walls = sorted(r[0] for r in runs)
    row = {"name": name, "cmd": " ".join(cmd), "wall": best[0],
           "median": walls[len(walls) // 2], "cpu": best[1], "rss_kib": best[2],
           "bytes": best[3], "pages": pages, "runs": len(runs)}
    # crashcap-collect's summary: "OUT: W of T pages written, Z zero pages, ..."
    m = re.search(r": (\d+) of (\d+) pages written, (\d+) zero pages", best[4])
    if m:
        row["written"], row["ram_pages"], row["zero"] = (int(x) for x in m.groups())
    return row


def table(title, rows, ref_time, ref_size):
    print(f"\n{title}")
    print(f"{'command':44} {'wall s':>7} {'median':>7} {'CPU s':>6} {'RSS MiB':>8} "
          f"{'output MB':>10} {'pages':>8} {'time/-l':>8} {'size/-c':>8}")
    for r in rows:
        if r is None:
            continue
        t = r["wall"] / ref_time if ref_time else float("nan")
        s = r["bytes"] / ref_size if ref_size else float("nan")
        print(f"{r['name']:44} {r['wall']:7.2f} {r['median']:7.2f} {r['cpu']:6.2f} "
              f"{r['rss_kib'] / 1024:8.1f} {r['bytes'] / 1e6:10.1f} {r['pages'] or 0:8} "
              f"{t:8.2f} {s:8.2f}")
    sys.stdout.flush()


def level_rows(core, level, threads, repeat, out_dir, zstd_levels, mdf_threads,
               one_thread=False):
    """one_thread: also crashcap-collect -j 1 at the default zstd level (1), after the
    -j THREADS row at that level, to show how the work scales with threads."""
    out = os.path.join(out_dir, "dump")
    rows = []

    def ours(j, z):
        return measure(f"crashcap-collect -j {j} --zstd-level {z} -d {level}",
                       [COLLECT, "-j", str(j), f"--zstd-level={z}", "-d", str(level), core,
                        out], out, repeat)
    for z in zstd_levels:
        rows.append(ours(threads, z))
        if one_thread and z == 1:
            rows.append(ours(1, 1))
    if one_thread and 1 not in zstd_levels:
        rows.append(ours(1, 1))
    mdf = {}
    for flag in ("-l", "-c"):
        mdf[flag] = measure(f"makedumpfile {flag} -d {level}",
                            ["makedumpfile", flag, "-d", str(level), core, out], out, repeat)
        rows.append(mdf[flag])
    if mdf_threads:
        rows.append(measure(f"makedumpfile -l --num-threads {threads} -d {level}",
                            ["makedumpfile", "-l", "--num-threads", str(threads), "-d",
                             str(level), core, out], out, repeat))
    ref_time = mdf["-l"]["wall"] if mdf["-l"] else None
    ref_size = mdf["-c"]["bytes"] if mdf["-c"] else None
    return rows, ref_time, ref_size


def scaling(rows, threads):
    """The line under a level table comparing -j THREADS with -j 1 at zstd level 1."""
    by = {r["name"].split(" -d ")[0]: r for r in rows if r}
    many = by.get(f"crashcap-collect -j {threads} --zstd-level 1")
    one = by.get("crashcap-collect -j 1 --zstd-level 1")
    if not many or not one or threads == 1:
        return
    print(f"threads, zstd level 1: -j {threads} {many['wall']:.2f} s wall "
          f"({many['cpu']:.2f} CPU s), -j 1 {one['wall']:.2f} s ({one['cpu']:.2f} CPU s): "
          f"{one['wall'] / many['wall']:.2f} x faster with {threads} threads on "
          f"{os.cpu_count()} CPUs")
    sys.stdout.flush()


def mdf_supports(comp):
    """Whether this makedumpfile was built with comp (its -v lists "lzo\tenabled")."""
    r = subprocess.run(["makedumpfile", "-v"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return re.search(rf"^{comp}\s+enabled", r.stdout, re.M) is not None


def mdf_args_rows(core, repeat, out_dir):
    """makedumpfile's argument sets, the same arguments given to both commands."""
    out = os.path.join(out_dir, "dump")
    print("\nmakedumpfile's arguments, the same for both commands (crashcap-collect uses "
          "every CPU by default, makedumpfile one)")
    print(f"{'arguments':12} {'crashcap s':>10} {'mdf s':>11} {'crashcap MiB':>12} "
          f"{'mdf MiB':>8} {'crashcap bytes':>15} {'mdf bytes':>12} {'time x':>7} {'size x':>7}")
    rows = []
    for args, comp in ((["-l", "-d", "31"], "lzo"), (["-c", "-d", "31"], None),
                       (["-z", "-d", "31"], "zstd")):
        ours = measure("crashcap-collect " + " ".join(args), [COLLECT] + args + [core, out],
                       out, repeat)
        theirs = None
        if comp is None or mdf_supports(comp):
            theirs = measure("makedumpfile " + " ".join(args),
                             ["makedumpfile"] + args + [core, out], out, repeat)
        rows.append({"args": " ".join(args), "crashcap": ours, "makedumpfile": theirs})
        cells = [" ".join(args)]
        for key, fmt, scale in (("wall", ".2f", 1), ("rss_kib", ".1f", 1024), ("bytes", "d", 1)):
            for r, unsupported in ((ours, False), (theirs, comp is not None and theirs is None)):
                cells.append("unsupported" if unsupported and key == "wall" else
                             "-" if unsupported else
                             "failed" if r is None else format(r[key] // scale if fmt == "d"
                                                               else r[key] / scale, fmt))
        for key in ("wall", "bytes"):
            cells.append(f"{ours[key] / theirs[key]:.2f}" if ours and theirs else "-")
        print(f"{cells[0]:12} {cells[1]:>10} {cells[2]:>11} {cells[3]:>12} {cells[4]:>8} "
              f"{cells[5]:>15} {cells[6]:>12} {cells[7]:>7} {cells[8]:>7}")
        sys.stdout.flush()
    return rows


def analyze_rows(out_dir, repeat):
    """crashcapctl analyze --json: wall time and peak RSS on the raw vmcores and on crashcap
    -d 31 dumps of them (goal: under 2 s and 128 MiB)."""
    ctl = os.path.join(BUILD, "crashcapctl")
    rows = []
    for series in ("6.1", "6.12"):
        core = vmcore(series)
        warm(core)
        dump = os.path.join(out_dir, f"analyze-{series}.kdump")
        subprocess.run([COLLECT, "-q", "-d", "31", core, dump], check=True)
        for name, path in ((f"{series} raw vmcore", core), (f"{series} crashcap -d 31", dump)):
            out = os.path.join(out_dir, "analysis.json")
            r = measure(f"analyze --json, {name}",
                        ["sh", "-c", f'exec "$0" analyze --json "$1" >"$2"', ctl, path, out],
                        out, repeat)
            rows.append(r)
        os.unlink(dump)
    print("\ncrashcapctl analyze (goal: under 2 s and 128 MiB)")
    print(f"{'input':44} {'wall s':>7} {'median':>7} {'CPU s':>6} {'RSS MiB':>8}")
    for r in rows:
        if r:
            print(f"{r['name']:44} {r['wall']:7.2f} {r['median']:7.2f} {r['cpu']:6.2f} "
                  f"{r['rss_kib'] / 1024:8.1f}")
    sys.stdout.flush()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    ap.add_argument("--levels", default="31,1")
    ap.add_argument("--zstd-levels", default="3,1,-3")
    ap.add_argument("--no-mdf-threads", action="store_true",
                    help="skip makedumpfile --num-threads (slow)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--only", choices=["mdf-args", "analyze", "floor"],
                    help="only makedumpfile's argument sets (-l/-c/-z -d 31) on 6.1, only "
                    "crashcapctl analyze's time and memory, or only the 6.1 -d 31 table and "
                    "the per-page compression floor")
    a = ap.parse_args()
    if not shutil.which("makedumpfile"):
        raise SystemExit("bench: makedumpfile is not installed (scripts/setup.sh installs it)")
    out_dir = tempfile.mkdtemp(prefix="crashcap-bench.", dir=a.out)
    zl = [int(z) for z in a.zstd_levels.split(",")]
    figures = {}
    try:
        if a.only == "analyze":
            figures["analyze"] = analyze_rows(out_dir, a.repeat)
            if a.json:
                with open(a.json, "w") as f:
                    json.dump(figures, f, indent=1)
            return
        core = vmcore("6.1")
        warm(core)
        with open(os.path.join(os.path.dirname(core), "counters.json")) as f:
            info = json.load(f)
        print(f"vmcore: {core}: {os.path.getsize(core) / 2**30:.2f} GiB, kernel "
              f"{info['release']}, guest RAM {info['mem']}; {os.cpu_count()} CPUs, "
              f"{a.threads} threads; load average {os.getloadavg()[0]:.1f}; "
              f"the vmcore is in the page cache; outputs in {out_dir}")
        if a.only != "floor":
            figures["6.1 makedumpfile arguments"] = mdf_args_rows(core, a.repeat, out_dir)
        if a.only == "mdf-args":
            if a.json:
                with open(a.json, "w") as f:
                    json.dump(figures, f, indent=1)
            return
        levels = [31] if a.only == "floor" else [int(x) for x in a.levels.split(",")]
        for level in levels:
            rows, rt, rs = level_rows(core, level, a.threads, a.repeat, out_dir, zl,
                                      not a.no_mdf_threads, one_thread=True)
            table(f"6.1, dump level {level} (time/-l: wall time over makedumpfile -l's; "
                  f"size/-c: bytes over makedumpfile -c's)", rows, rt, rs)
            scaling(rows, a.threads)
            figures[f"6.1 -d {level}"] = rows
            if level == 31:
                default = next((r for r in rows if r and r["name"].startswith(
                    f"crashcap-collect -j {a.threads} --zstd-level 1 ")), None)
                figures["6.1 -d 31 per-page floor"] = floor.measure(
                    COLLECT, core, os.path.join(out_dir, "floor"), os.cpu_count(), rt, rs,
                    default)
        if a.only == "floor":
            if a.json:
                with open(a.json, "w") as f:
                    json.dump(figures, f, indent=1)
            return

        core = vmcore("6.12")
        warm(core)
        with open(os.path.join(os.path.dirname(core), "counters.json")) as f:
            info = json.load(f)
        rows, rt, rs = level_rows(core, 31, a.threads, 1, out_dir, zl[:1], False)
        table(f"6.12 ({info['release']}), dump level 31: output size (makedumpfile 1.7.2 "
              "does not know 6.12's anonymous pages)", rows, rt, rs)
        v = info["vmstat"]
        ours = rows[0]
        left = ours["ram_pages"] - v["nr_free_pages"] - v["nr_anon_pages"] - v["nr_file_pages"]
        print(f"6.12 counters: RAM {ours['ram_pages']} pages, nr_free_pages "
              f"{v['nr_free_pages']}, nr_anon_pages {v['nr_anon_pages']}, nr_file_pages "
              f"{v['nr_file_pages']}: {left} pages left. crashcap keeps {ours['pages']} "
              f"({ours['pages'] / left:.3f} x; {ours['written']} with data, "
              f"{ours['zero']} zero), makedumpfile -l {rows[1]['pages'] if rows[1] else '?'}")
        figures["6.12 -d 31"] = rows
        figures["analyze"] = analyze_rows(out_dir, a.repeat)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)


if __name__ == "__main__":
    main()
