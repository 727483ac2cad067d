"""What the analyze QEMU tests (6.1 and 6.12) share: one guest with marker
tasks (tests/qemu/markers.c) and two modules loaded, a panic captured by
crashcap plus a raw copy of /proc/vmcore; then `crashcapctl analyze` of
crashcap's dump, of the raw vmcore and of makedumpfile's -d 31 dumps
(regular and flattened) must agree with what the guest printed about
itself before the panic.
"""

import json
import lzma
import os
import re
import shutil
import subprocess

import capture
import checks
import guest

HERE = os.path.dirname(os.path.abspath(__file__))
CTL = os.path.join(guest.BUILD, "crashcapctl")
COLLECT = os.path.join(guest.BUILD, "crashcap-collect")
MODULES = ("crc7", "crc8")

CONFIG = """\
# crashcap's analyze QEMU test
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""

MARKERS = {  # comm: state
    "mk-main": "S", "mk-sleeper": "S", "mk-vfork": "D", "mk-vchild": "S",
    "mk-zparent": "S", "mk-zombie": "Z", "mk-stopped": "T", "mk-threads": "S",
    "mk-thread-a": "S", "mk-thread-b": "S",
}
MEMINFO_KEYS = ("MemTotal", "MemFree", "Cached", "Slab", "AnonPages", "Shmem")


def guest_files(work, kdir):
    """The marker binary and the modules (unpacked: busybox insmod takes no .xz)."""
    files = {}
    markers = os.path.join(work, "markers")
    guest.run(["gcc", "-static", "-O2", "-Wall", "-o", markers, os.path.join(HERE, "markers.c"),
               "-lpthread"])
    files["workload/markers"] = markers
    mdir = os.path.join(kdir, "lib", "modules", guest.kernel_release(kdir), "kernel", "lib")
    for m in MODULES:
        src = os.path.join(mdir, m + ".ko")
        dst = os.path.join(work, m + ".ko")
        if os.path.exists(src + ".xz"):
            with lzma.open(src + ".xz") as i, open(dst, "wb") as o:
                o.write(i.read())
        else:
            shutil.copyfile(src, dst)
        files[f"workload/{m}.ko"] = dst
    listing = os.path.join(work, "modules")
    with open(listing, "w") as f:
        f.write("".join(m + ".ko\n" for m in MODULES))
    files["workload/modules"] = listing
    return files


class Truth:
    """What the guest printed about itself before the panic."""

    def __init__(self, run):
        self.stats, self.meminfo, self.modules = [], {}, []
        self.release = self.nodename = None
        self.panic_time = self.panic_cpu = self.panic_pid = self.panic_comm = None
        for _, line in run.lines:
            m = re.search(r"CRASHCAP-TEST: stat (\d+) \((.*)\) (\S) (\d+)((?: \S+)+)$", line)
            if m:
                rest = m.group(5).split()
                # /proc/PID/stat: field 24 is rss (pages), 39 the CPU; rest starts at field 5.
                self.stats.append({"pid": int(m.group(1)), "comm": m.group(2),
                                   "state": m.group(3), "ppid": int(m.group(4)),
                                   "rss_kb": int(rest[24 - 5]) * 4, "cpu": int(rest[39 - 5])})
            m = re.search(r"CRASHCAP-TEST: meminfo (\w+):\s+(\d+) kB", line)
            if m:
                self.meminfo[m.group(1)] = int(m.group(2))
            m = re.search(r"CRASHCAP-TEST: modules (\S+) (\d+) ", line)
            if m:
                self.modules.append((m.group(1), int(m.group(2))))
            m = re.search(r"CRASHCAP-TEST: uname (\S+) (\S+)", line)
            if m:
                self.release, self.nodename = m.group(1), m.group(2)
            m = re.search(r"\[\s*(\d+\.\d+)\] Kernel panic - not syncing: sysrq triggered crash", line)
            if m and self.panic_time is None:
                self.panic_time = float(m.group(1))
            m = re.search(r"CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+)", line)
            if m and self.panic_cpu is None:
                self.panic_cpu, self.panic_pid, self.panic_comm = (
                    int(m.group(1)), int(m.group(2)), m.group(3))


def analyze(path, json_out=True):
    """Runs crashcapctl analyze; (report, stderr, seconds, peak RSS in KiB)."""
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", CTL, "analyze"] +
                       (["--json"] if json_out else []) + [path],
                       capture_output=True, text=True)
    m = re.search(r"TIME ([\d.]+) (\d+)\s*$", r.stderr)
    secs, rss = (float(m.group(1)), int(m.group(2))) if m else (None, None)
    if r.returncode != 0:
        return None, f"exit {r.returncode}: {r.stderr[-800:]}", secs, rss
    if not json_out:
        return r.stdout, r.stderr, secs, rss
    try:
        return json.loads(r.stdout), r.stderr, secs, rss
    except ValueError as e:
        return None, f"bad JSON: {e}: {r.stdout[:400]}", secs, rss


def within(a, b, pct):
    return a is not None and b is not None and abs(a - b) <= max(a, b) * pct / 100


def check_report(tap, rep, truth, what):
    """The full comparison of one report with the guest's own view."""
    tap.check(rep["symbols_error"] is None and rep["types_error"] is None,
              f"{what}: symbols and BTF read from the dump",
              f"{rep['symbols_error']} / {rep['types_error']}")
    sysr = rep["system"]
    tap.check(sysr["release"] == truth.release and sysr["hostname"] == truth.nodename,
              f"{what}: release and hostname as uname said ({truth.release}, {truth.nodename})",
              json.dumps(sysr))
    tap.check(sysr["uptime_seconds"] is not None and truth.panic_time is not None and
              truth.panic_time - 0.5 <= sysr["uptime_seconds"] <= truth.panic_time + 0.5,
              f"{what}: uptime at the crash within 0.5 s of the panic line's time stamp",
              f"uptime {sysr['uptime_seconds']}, panic line at {truth.panic_time}")
    tap.check(sysr["cpus"] == 2 and isinstance(sysr["crash_time"], int),
              f"{what}: 2 CPUs and a crash time", json.dumps(sysr))

    mem = rep["memory"]["kb"]
    bad = [f"{k}: guest {truth.meminfo.get(k)} kB, dump {mem.get(k)} kB"
           for k in MEMINFO_KEYS if not within(truth.meminfo.get(k), mem.get(k), 1)]
    tap.check(not bad and rep["memory"]["error"] is None,
              f"{what}: {', '.join(MEMINFO_KEYS)} within 1% of the guest's /proc/meminfo",
              "\n".join(bad) + f"\n{rep['memory']['error']}")
    tap.check(truth.meminfo.get("MemTotal") == mem.get("MemTotal"),
              f"{what}: MemTotal exact", f"{truth.meminfo.get('MemTotal')} {mem.get('MemTotal')}")

    p = rep["panic"]
    tap.check(p["message"] == "sysrq triggered crash", f"{what}: panic message",
              json.dumps(p["message"]))
    tap.check((p["cpu"], p["pid"], p["comm"]) == (truth.panic_cpu, truth.panic_pid, truth.panic_comm),
              f"{what}: panicking CPU and task as the kernel's own oops line says "
              f"(CPU {truth.panic_cpu}, pid {truth.panic_pid}, {truth.panic_comm})",
              f"{p['cpu']} {p['pid']} {p['comm']}: {p['error']}")
    syms = [f["symbol"] or "" for f in p["backtrace"]]
    sure = [s for s, f in zip(syms, p["backtrace"]) if not f["unsure"]]
    tap.check(p["registers"] is not None and any(s.startswith("sysrq_handle_crash+") for s in sure)
              and any(s.startswith("panic+") for s in sure) and syms and
              re.match(r"(__crash_kexec|crash_setup_regs|crash_kexec)\+", syms[0]),
              f"{what}: backtrace from the crash note's RIP names panic and sysrq_handle_crash",
              "\n".join(("? " if f["unsure"] else "") + (f["symbol"] or f["address"])
                        for f in p["backtrace"]))

    tasks = rep["tasks"]["list"]
    by_pid = {t["pid"]: t for t in tasks}
    tap.check(len(truth.stats) == len(MARKERS), f"{what}: the guest reported {len(MARKERS)} markers",
              f"{len(truth.stats)} stat lines")
    for s in truth.stats:
        t = by_pid.get(s["pid"])
        got = t and (t["comm"], t["state"], t["ppid"], t["cpu"])
        # mk-main's parent, the workload script, exits before the panic: init adopts it.
        want = (s["comm"], s["state"], 1 if s["comm"] == "mk-main" else s["ppid"], s["cpu"])
        tap.check(got == want and MARKERS.get(s["comm"]) == s["state"],
                  f"{what}: marker {s['comm']} (pid {s['pid']}): comm, state {s['state']}, ppid, CPU",
                  f"guest {want}, dump {got}")
    sleeper = [s for s in truth.stats if s["comm"] == "mk-sleeper"]
    t = by_pid.get(sleeper[0]["pid"]) if sleeper else None
    tap.check(t is not None and t["rss_kb"] >= 64 * 1024 and within(t["rss_kb"], sleeper[0]["rss_kb"], 1),
              f"{what}: mk-sleeper's RSS (64 MiB touched) as /proc/PID/stat said",
              f"guest {sleeper[0]['rss_kb'] if sleeper else None} kB, dump {t and t['rss_kb']} kB")
    threads = [t for t in tasks if t["comm"].startswith("mk-thread")]
    tap.check(len(threads) == 3 and len({t["tgid"] for t in threads}) == 1,
              f"{what}: mk-threads' three threads share one tgid",
              json.dumps(threads)[:800])
    vf = [t for t in tasks if t["comm"] == "mk-vfork"]
    frames = vf[0].get("stack", []) if vf else []
    sure = [f["symbol"] or "" for f in frames if not f["unsure"]]
    tap.check(any("vfork" in s for s in sure) and any(s.startswith("schedule+") for s in sure) and
              frames and frames[0]["symbol"].startswith("__schedule+"),
              f"{what}: the D-state task's stack, unwound by ORC from its saved frame, waits in vfork",
              "\n".join(("? " if f["unsure"] else "") + (f["symbol"] or f["address"]) for f in frames))

    mods = sorted((m["name"], m["size"]) for m in rep["modules"]["list"])
    tap.check(mods == sorted(truth.modules) and len(mods) == len(MODULES),
              f"{what}: modules with their sizes as /proc/modules said",
              f"guest {sorted(truth.modules)}, dump {mods}")
    tap.check(rep["modules"]["taint"] is not None and rep["modules"]["error"] is None,
              f"{what}: taint flags read", json.dumps(rep["modules"])[:600])
    log = rep["log"]["lines"]
    tap.check(len(log) == 50 and any("Kernel panic - not syncing: sysrq triggered crash" in l for l in log),
              f"{what}: the log's last 50 lines hold the panic", "\n".join(log[-10:]))


def same_sections(tap, a, b, what, keys=("system", "memory", "panic", "tasks", "modules", "log")):
    strip = lambda r, k: {x: y for x, y in r[k].items() if not x.startswith("dump_")} \
        if k == "system" else r.get(k)
    diff = [k for k in keys if strip(a, k) != strip(b, k)]
    tap.check(not diff, f"{what}: the same report as from the raw vmcore" +
              ("" if "tasks" in keys else " but for the tasks"), f"differs in: {diff}")


def lossy_tasks(tap, rep, raw, what):
    """makedumpfile 1.7.2 predates 6.12's page types: its -d 31 filter drops
    some slab pages, task_structs among them. The report must say so and
    list what it could read exactly as the raw vmcore has it."""
    err = rep["tasks"]["error"] or ""
    raw_by_pid = {t["pid"]: t for t in raw["tasks"]["list"]}
    got = rep["tasks"]["list"]
    tap.note(f"{what} lacks task memory: {err}")
    tap.check("is not in the dump (excluded or never captured)" in err and
              0 < len(got) < len(raw_by_pid) and all(raw_by_pid.get(t["pid"]) == t for t in got),
              f"{what}: the tasks it holds are the raw vmcore's; the error names what is missing",
              f"{len(got)} of {len(raw_by_pid)} tasks; error: {err}")
    same_sections(tap, rep, raw, what, keys=("system", "memory", "panic", "modules", "log"))


def run(series, name):
    tap = guest.Tap()
    work = guest.work_dir(name)
    kdir = guest.kernel_dir(series)
    with open(os.path.join(HERE, "analyze-workload.sh")) as f:
        workload = f.read()
    c = capture.capture(name, CONFIG, raw_copy=True, series=series, timeout=400,
                        workload=workload, files=guest_files(work, kdir))
    checks.phases(tap, c)
    checks.dump_files(tap, c)
    truth = Truth(c.run)
    tap.check(truth.release == c.release and truth.meminfo and truth.modules and
              truth.panic_pid is not None,
              "the guest printed uname, /proc/meminfo, /proc/modules, the markers and its oops line",
              c.run.explain())
    if c.dump_dir:
        aj = os.path.join(c.dump_dir, "analysis.json")
        r = subprocess.run([CTL, "analyze", "--all", "--force", "--dir", os.path.dirname(c.dump_dir)],
                           capture_output=True, text=True)
        try:
            with open(aj) as f:
                p = json.load(f)["panic"]
        except (OSError, ValueError, KeyError) as e:
            p = {"error": str(e)}
        tap.check(r.returncode == 0 and p.get("message") == "sysrq triggered crash" and
                  p.get("pid") == truth.panic_pid,
                  "crashcapctl analyze --all writes analysis.json into crashcap's dump folder",
                  f"exit {r.returncode}: {r.stdout}{r.stderr} {p}")
    tap.check(c.raw_vmcore is not None, "the raw vmcore reached the host", c.run.explain())
    if c.raw_vmcore:
        host_checks(tap, truth, work, c.raw_vmcore, c.vmcore, mdf_lossy_ok=series == "6.12")
    return tap.done()


def host_checks(tap, truth, work, raw_vmcore, vmcore, mdf_lossy_ok=False):
    raw, err, secs, rss = analyze(raw_vmcore)
    tap.check(raw is not None, "crashcapctl analyze --json of the raw vmcore", err)
    if raw is None:
        return
    tap.note(f"analyze of the {os.path.getsize(raw_vmcore) >> 20} MiB raw vmcore: "
             f"{secs} s, peak RSS {rss and rss // 1024} MiB")
    check_report(tap, raw, truth, "raw vmcore")

    mine, err, _, _ = analyze(vmcore) if vmcore else (None, "no dump from the collector", 0, 0)
    tap.check(mine is not None, "crashcapctl analyze --json of crashcap's dump", err)
    if mine:
        same_sections(tap, mine, raw, "crashcap's dump (-d 31, zstd)")

    mdf = os.path.join(work, "mdf-l-d31.kdump")
    flat = os.path.join(work, "mdf-c-d31.flat")
    for p in (mdf, flat):
        if os.path.exists(p):
            os.unlink(p)
    r = subprocess.run(["makedumpfile", "-l", "-d", "31", raw_vmcore, mdf],
                       capture_output=True, text=True)
    tap.check(r.returncode == 0, "makedumpfile -l -d 31 of the raw vmcore", r.stderr[-600:])
    with open(flat, "wb") as out:
        r2 = subprocess.run(["makedumpfile", "-F", "-c", "-d", "31", raw_vmcore],
                            stdout=out, stderr=subprocess.PIPE, text=True)
    tap.check(r2.returncode == 0, "makedumpfile -F -c -d 31 (flattened, zlib)", r2.stderr[-600:])
    for path, what in ((mdf, "makedumpfile -l -d 31 dump"), (flat, "makedumpfile -F -c -d 31 stream")):
        rep, err, _, _ = analyze(path) if os.path.exists(path) else (None, "missing", 0, 0)
        tap.check(rep is not None, f"crashcapctl analyze --json of the {what}", err)
        if rep and mdf_lossy_ok and rep["tasks"]["error"]:
            lossy_tasks(tap, rep, raw, what)
        elif rep:
            check_report(tap, rep, truth, what)
            same_sections(tap, rep, raw, what)

    text, err, _, _ = analyze(raw_vmcore, json_out=False)
    tap.check(text is not None and "sysrq_handle_crash+" in text and "mk-vfork" in text and
              "Tasks in D state" in text, "the text report names the panic path and the D-state task",
              err if text is None else text[:1500])

    ref, err = guest.makedumpfile_dmesg(raw_vmcore, os.path.join(work, "dmesg-raw.txt"))
    for path, what in ((mdf, "the makedumpfile -l dump"), (flat, "the flattened stream")):
        r = subprocess.run([COLLECT, "--dump-dmesg", path, "-"], capture_output=True, text=True)
        tap.check(ref is not None and r.returncode == 0 and r.stdout == ref,
                  f"crashcap-collect --dump-dmesg of {what} equals makedumpfile's of the raw vmcore",
                  f"exit {r.returncode}: {r.stderr[-400:]} {err}")
    for p in (raw_vmcore, flat):
        if os.path.exists(p):
            os.unlink(p)  # the logs stay, the big copies go
