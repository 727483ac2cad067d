"""The reader-matrix QEMU tests (test-readers.py on 6.1, test-readers-6.12.py):
one guest of the cloud kernel (its -dbg vmlinux is cached by setup.sh) whose
crash kernel copies /proc/vmcore raw; then, on the host, crashcap-collect
writes every kind of dump of that memory, and makedumpfile, crash,
libkdumpfile and drgn each try every one (expectations: readers.py); the
kdump tools' own argument sets run verbatim, a full target ends in an
INCOMPLETE dump, and on 6.1 makedumpfile with the same arguments is the
oracle, page by page.
"""

import concurrent.futures
import filecmp
import hashlib
import json
import os
import re
import resource
import signal
import struct
import subprocess
import time

import capture
import checks
import filtertest
import guest
import readers

COLLECT = os.path.join(guest.BUILD, "crashcap-collect")
HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 300  # any one host-side program; the machine may be busy
START_KERNEL_MAP = 0xffffffff80000000

CONFIG = """\
# crashcap's reader-matrix QEMU test
target = LABEL=crashdump
path = /
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
"""


def sh(cmd, timeout=TIMEOUT, **kw):
    """(exit status or None on timeout, stdout+stderr as text)."""
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None, f"{cmd[0]}: timed out after {timeout} s"
    return r.returncode, (r.stdout + r.stderr).decode(errors="replace")


def tail(text, n=15):
    return "\n".join(text.strip().splitlines()[-n:])


# --- the raw vmcore: what every reader must find in every dump ---------------

class RawCore:
    """The ELF /proc/vmcore copy: its VMCOREINFO and physical memory."""

    def __init__(self, path):
        self.f = open(path, "rb")
        eh = self.f.read(64)
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        self.loads, notes = [], []
        self.f.seek(phoff)
        for _ in range(phnum):
            t, _, off, _, pa, fs, _, _ = struct.unpack("<IIQQQQQQ", self.f.read(phentsize))
            if t == 1:
                self.loads.append((pa, off, fs))
            elif t == 4:
                notes.append((off, fs))
        self.vmcoreinfo = {}
        for off, size in notes:
            self.f.seek(off)
            b, at = self.f.read(size), 0
            while at + 12 <= len(b):
                nsz, dsz, _ = struct.unpack_from("<III", b, at)
                name = b[at + 12:at + 12 + nsz].rstrip(b"\0")
                d = at + 12 + (nsz + 3) // 4 * 4
                if name == b"VMCOREINFO":
                    text = b[d:d + dsz].decode(errors="replace")
                    self.vmcoreinfo = dict(x.split("=", 1) for x in text.splitlines() if "=" in x)
                at = d + (dsz + 3) // 4 * 4

    def read_phys(self, pa, n):
        for start, off, size in self.loads:
            if start <= pa and pa + n <= start + size:
                self.f.seek(off + pa - start)
                return self.f.read(n)
        return None

    def probes(self):
        """(init_uts_ns address, [physical addresses of kernel pages]): pages
        every dump level keeps (kernel text, page table, utsname)."""
        vi = self.vmcoreinfo
        phys_base = int(vi["NUMBER(phys_base)"])
        uts = int(vi["SYMBOL(init_uts_ns)"], 16)
        virt = [uts, int(vi["SYMBOL(_stext)"], 16), int(vi["SYMBOL(init_top_pgt)"], 16)]
        return uts, [(v & ~0xfff) - START_KERNEL_MAP + phys_base for v in virt]

    def close(self):
        self.f.close()


class Ctx:
    pass


# --- the readers: each returns (read it?, what it printed) -------------------

CRASH_COMMANDS = """\
sys
log | grep 'sysrq: Trigger a crash'
ps
bt
exit
"""


def read_makedumpfile(ctx, dump):
    text, out = guest.makedumpfile_dmesg(dump, dump + ".dmesg")
    if text is None:
        return False, out
    if text != ctx.ref_dmesg:
        return False, f"--dump-dmesg differs from the raw vmcore's ({len(text)} bytes, " \
            f"reference {len(ctx.ref_dmesg or '')})"
    return True, out


def read_crash(ctx, dump):
    with open(os.path.join(ctx.work, "crash-commands")) as cmds:
        rc, out = sh(["crash", "-s", ctx.vmlinux, dump], stdin=cmds)
    want = [f"RELEASE: {ctx.release}",
            'PANIC: "Kernel panic - not syncing: sysrq triggered crash"',
            "sysrq: Trigger a crash", "sysrq_handle_crash"]
    missing = [w for w in want if w not in out]
    # crash 8.0.2 finds only the tasks running on a CPU on these kernels (the raw
    # vmcore too: "not found in PID hash"); the panicking one must be there.
    if not re.search(r"^>\s+1\s+0\s+\d+\s+[0-9a-f]+\s+RU\s.*\binit$", out, re.M):
        missing.append("ps: the running init task")
    if missing:
        return False, f"exit {rc}; missing: {missing}\n{tail(out)}"
    return True, tail(out, 4)


KDUMPFILE_SCRIPT = r"""
import hashlib, json, sys, kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
k.attr["addrxlat.ostype"] = "linux"
b = k.read(kdumpfile.KDUMP_KVADDR, int(sys.argv[2], 16), 195)
print(json.dumps({"release": b[130:].split(b"\0")[0].decode(), "pages": [
    hashlib.sha256(k.read(kdumpfile.KDUMP_KPHYSADDR, int(a, 16), 4096)).hexdigest()
    for a in sys.argv[3:]]}))
"""

DRGN_SCRIPT = r"""
import hashlib, json, sys, drgn
prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
b = prog.read(int(sys.argv[3], 16), 195)
out = {"release": b[130:].split(b"\0")[0].decode(), "pages": [
    hashlib.sha256(prog.read(int(a, 16), 4096, True)).hexdigest() for a in sys.argv[4:]]}
if sys.argv[2]:
    prog.load_debug_info([sys.argv[2]])
    out["symbol"] = prog["init_uts_ns"].name.release.string_().decode()
print(json.dumps(out))
"""


def _uts_and_pages(ctx, cmd, name):
    rc, out = sh(cmd)
    try:
        got = json.loads(out.strip().splitlines()[-1]) if rc == 0 else None
    except (ValueError, IndexError):
        got = None
    if got is None:
        return False, f"exit {rc}\n{tail(out)}"
    bad = [f"{a:#x}" for a, h, w in zip(ctx.pages, got["pages"], ctx.page_sums) if h != w]
    if got["release"] != ctx.release or bad or got.get("symbol", ctx.release) != ctx.release:
        return False, f"{name} read {json.dumps(got)[:300]}; pages differing from the raw " \
            f"vmcore: {bad}"
    return True, json.dumps(got)[:200]


def read_libkdumpfile(ctx, dump):
    return _uts_and_pages(ctx, ["/usr/bin/python3", "-c", KDUMPFILE_SCRIPT, dump,
                                f"{ctx.uts:x}"] + [f"{a:x}" for a in ctx.pages],
                          "libkdumpfile")


def read_drgn(ctx, dump):
    # Without debug info drgn still walks the page tables (VMCOREINFO names
    # them) and reads physical memory; with the vmlinux, symbols too.
    return _uts_and_pages(ctx, ["/usr/bin/python3", "-c", DRGN_SCRIPT, dump, ctx.vmlinux,
                                f"{ctx.uts:x}"] + [f"{a:x}" for a in ctx.pages], "drgn")


READ = {"makedumpfile": read_makedumpfile, "crash": read_crash,
        "libkdumpfile": read_libkdumpfile, "drgn": read_drgn}


# --- writing the dumps --------------------------------------------------------

def collect_help():
    _, out = sh([COLLECT, "--help"], timeout=30)
    return out


def lacks(help_text, args):
    """The options in args that crashcap-collect --help does not name."""
    return [a for a in args if a.startswith("-") and
            not re.search(r"(^|[\s,])" + re.escape(a) + r"([\s,=]|$)", help_text, re.M)]


def rebuild(tool, stream, out):
    if os.path.exists(out):
        os.unlink(out)
    cmd = [COLLECT, "-R", out] if tool == "ours" else ["makedumpfile", "-R", out]
    with open(stream, "rb") as f:
        return sh(cmd, stdin=f)


def write(ctx, name, args, rebuilt_by=None, tool=None):
    """Dumps ctx.raw with args (crashcap-collect, or tool "makedumpfile");
    -F streams are rebuilt by "ours" or "makedumpfile". (path or None, diag)."""
    prog = [tool] if tool else [COLLECT]
    out = os.path.join(ctx.work, name)
    for p in (out, out + ".flat"):
        if os.path.exists(p):
            os.unlink(p)
    if "-F" in args:
        with open(out + ".flat", "wb") as f:
            try:
                r = subprocess.run(prog + args + [ctx.raw], stdout=f, stderr=subprocess.PIPE,
                                   timeout=TIMEOUT)
                rc, text = r.returncode, r.stderr.decode(errors="replace")
            except subprocess.TimeoutExpired:
                rc, text = None, "timed out"
        if rc != 0:
            return None, f"{' '.join(prog + args)}: exit {rc}\n{tail(text)}"
        rc, text = rebuild(rebuilt_by, out + ".flat", out)
        if rc != 0:
            return None, f"{rebuilt_by} -R: exit {rc}\n{tail(text)}"
        return out, ""
    rc, text = sh(prog + args + [ctx.raw, out])
    if rc != 0:
        return None, f"{' '.join(prog + args)}: exit {rc}\n{tail(text)}"
    return out, ""


# --- the parts of the test ----------------------------------------------------

def setup(tap, name, series):
    ctx = Ctx()
    # 6.1: the cloud flavour, whose -dbg vmlinux setup.sh caches; 6.12: the
    # standard one, no debug info (see readers.NA_CRASH_612).
    c = capture.capture(name, CONFIG, raw_copy=True,
                        series=series + "-cloud" if series == "6.1" else series)
    ctx.c, ctx.work, ctx.release, ctx.series = c, c.work, c.release, series
    ctx.vmlinux = os.path.join(c.kdir, "usr", "lib", "debug", "boot", "vmlinux-" + c.release)
    if series != "6.1":
        ctx.vmlinux = ""
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.dump_files(tap, c)
    checks.summary(tap, c, 31, "zstd")
    if ctx.vmlinux:
        tap.check(os.path.isfile(ctx.vmlinux), f"the {c.release} debug vmlinux is cached",
                  f"{ctx.vmlinux} is missing: run scripts/setup.sh")
    ctx.raw = c.raw_vmcore
    tap.check(ctx.raw is not None, "the guest's raw /proc/vmcore copy reached the host",
              c.run.explain())
    if ctx.raw is None or (ctx.vmlinux and not os.path.isfile(ctx.vmlinux)):
        return None
    core = RawCore(ctx.raw)
    ctx.uts, ctx.pages = core.probes()
    ctx.page_sums = [hashlib.sha256(core.read_phys(a, 4096) or b"").hexdigest()
                     for a in ctx.pages]
    core.close()
    ctx.ref_dmesg, err = guest.makedumpfile_dmesg(ctx.raw, os.path.join(ctx.work, "raw.dmesg"))
    tap.check(ctx.ref_dmesg is not None and "sysrq: Trigger a crash" in ctx.ref_dmesg,
              "makedumpfile --dump-dmesg reads the raw vmcore (the reference log)", err)
    checks.dmesg_matches(tap, c, ctx.ref_dmesg, "the raw vmcore")
    with open(os.path.join(ctx.work, "crash-commands"), "w") as f:
        f.write(CRASH_COMMANDS)
    ctx.help = collect_help()
    ctx.collect_mtime = os.path.getmtime(COLLECT)
    return ctx


def matrix(tap, ctx):
    """Every kind through every reader, two readers at a time."""
    expected = readers.EXPECTED[ctx.series]
    dumps = {}
    for key, label, args in readers.KINDS:
        by = {"flat-R": "ours", "flat-mR": "makedumpfile"}.get(key)
        missing = lacks(ctx.help, args + (["-R"] if by == "ours" else []))
        if missing:
            tap.check(True, f"{key} # SKIP crashcap-collect has no {' '.join(missing)} yet")
            continue
        path, diag = write(ctx, f"kind-{key}.dump", args + ["-d", "31"], rebuilt_by=by)
        tap.check(path is not None, f"{key}: crashcap-collect writes it ({label})", diag)
        if path:
            dumps[key] = path
    # A kind written with the same bytes as one before it (a rebuilt -F
    # stream, say) is read once: crash takes seconds per file.
    twin, seen = {}, {}
    for key in dumps:
        with open(dumps[key], "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        twin[key] = seen.setdefault(digest, key)
        if twin[key] != key:
            tap.note(f"{key}: the same bytes as the {twin[key]} dump; read once")
    jobs = [(r, k) for r in ("crash", "drgn", "libkdumpfile", "makedumpfile") for k in dumps
            if readers.cell(expected[k][r]) != "n/a" and twin[k] == k]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        got = dict(zip(jobs, pool.map(lambda j: READ[j[0]](ctx, dumps[j[1]]), jobs)))
    for r, k in [(r, k) for r in readers.READERS for k in dumps if twin[k] != k]:
        if (r, twin[k]) in got:
            got[(r, k)] = got[(r, twin[k])]
    for key, _, _ in readers.KINDS:
        for r in readers.READERS:
            if (r, key) not in got:
                if key in dumps:
                    tap.check(True, f"{r}, {key} # SKIP {expected[key][r]}")
                continue
            ok, out = got[(r, key)]
            want = expected[key][r]
            if want == "yes":
                tap.check(ok, f"{r} reads the {key} dump of {ctx.release}", out)
            else:
                tap.check(not ok, f"{r} does not read the {key} dump of {ctx.release}: {want}",
                          f"it now reads it: update tests/qemu/readers.py and README.md\n{out}")
    head = f"{'measured on ' + ctx.release:36}" + "".join(f"{r:>14}" for r in readers.READERS)
    tap.note(head)
    for key, _, _ in readers.KINDS:
        row = [("yes" if got[(r, key)][0] else "no") if (r, key) in got else "-"
               for r in readers.READERS]
        tap.note(f"{key:36}" + "".join(f"{x:>14}" for x in row))
    return dumps


# Debian 12's makedumpfile 1.7.2 with --num-threads aborts now and then when
# a thread ends: glibc's pthread_exit cannot load the unwinder ("libgcc_s.so.1
# must be installed for pthread_exit to work", SIGABRT; 2 runs of 3 in make
# bench, once in a clean-clone make check). That is the oracle failing, not
# crashcap: it is run again, and a note says so.
MDF_THREAD_ABORT = "libgcc_s.so.1 must be installed for pthread_exit to work"


def oracle(ctx, tap, name, args, shown, tries=3):
    for attempt in range(1, tries + 1):
        ref, diag = write(ctx, name, args, rebuilt_by="makedumpfile", tool="makedumpfile")
        if ref is not None or MDF_THREAD_ABORT not in diag or attempt == tries:
            return ref, diag
        tap.note(f"makedumpfile {shown} aborted in pthread_exit (its own defect); "
                 f"run {attempt + 1} of at most {tries}")


def arg_sets(tap, ctx, dumps):
    """The kdump tools' command lines verbatim: exit 0, the same bytes as the
    matrix's dump of that kind (so every reader above read them), libkdumpfile
    reads the dump; on 6.1 makedumpfile with the same arguments keeps the same
    pfns with the same bytes."""
    for n, (what, args, rebuilt, kind) in enumerate(readers.ARG_SETS):
        missing = lacks(ctx.help, args + (["-R"] if rebuilt else []))
        if missing:
            tap.check(True, f"{what} # SKIP crashcap-collect has no {' '.join(missing)} yet")
            continue
        shown = " ".join(args)
        path, diag = write(ctx, f"args-{n}.dump", args, rebuilt_by="ours")
        tap.check(path is not None, f"crashcap-collect {shown} ({what}): exit 0", diag)
        if path is None:
            continue
        same = kind in dumps and filecmp.cmp(path, dumps[kind], shallow=False)
        tap.check(same, f"{shown}: the same bytes as the {kind} dump above",
                  f"{path} and {dumps.get(kind)} differ"
                  + ("; build/crashcap-collect was rebuilt meanwhile"
                     if os.path.getmtime(COLLECT) != ctx.collect_mtime else ""))
        ok, out = read_libkdumpfile(ctx, path)
        tap.check(ok, f"{shown}: libkdumpfile reads the dump", out)
        if ctx.series == "6.1" and not same:
            ok, out = read_crash(ctx, path)
            tap.check(ok, f"{shown}: crash reads the dump", out)
        if ctx.series == "6.1":
            ref, diag = oracle(ctx, tap, f"args-{n}.makedumpfile", args, shown)
            tap.check(ref is not None, f"makedumpfile {shown}: exit 0 (the oracle)", diag)
            if ref:
                same_pages(tap, ref, path, shown)
                for p in (ref, ref + ".flat"):
                    if os.path.exists(p):
                        os.unlink(p)
        for p in (path, path + ".flat"):
            if os.path.exists(p):
                os.unlink(p)
    if ctx.series != "6.1":
        tap.note("6.12: makedumpfile 1.7.2 is no oracle for this kernel's page "
                 "descriptions (see test-filter-6.12.py); no page-by-page comparison")


SAME_PAGES = r"""
import json, sys, kdumpfile
sys.path.insert(0, sys.argv[1])
import filtertest
out = {}
for side, path in (("ref", sys.argv[2]), ("ours", sys.argv[3])):
    d = filtertest.Kdump(path)
    out[side] = [p[0] for p in d.dumped()]
    d.close()
ka, kb = kdumpfile.kdumpfile(sys.argv[2]), kdumpfile.kdumpfile(sys.argv[3])
for k in (ka, kb):
    k.attr["addrxlat.ostype"] = "linux"
both = sorted(set(out["ref"]) & set(out["ours"]))
bad = [p for p in both if ka.read(kdumpfile.KDUMP_KPHYSADDR, p << 12, 4096) !=
       kb.read(kdumpfile.KDUMP_KPHYSADDR, p << 12, 4096)]
print(json.dumps({"ref": len(out["ref"]), "ours": len(out["ours"]), "both": len(both),
                  "only_ref": [hex(p) for p in sorted(set(out["ref"]) - set(out["ours"]))[:8]],
                  "only_ours": [hex(p) for p in sorted(set(out["ours"]) - set(out["ref"]))[:8]],
                  "bad": len(bad), "first_bad": [hex(p) for p in bad[:8]]}))
"""


def same_pages(tap, ref, ours, shown):
    rc, out = sh(["/usr/bin/python3", "-c", SAME_PAGES, HERE, ref, ours])
    try:
        r = json.loads(out.strip().splitlines()[-1]) if rc == 0 else None
    except (ValueError, IndexError):
        r = None
    tap.check(r is not None and r["ref"] == r["ours"] == r["both"] and r["both"] > 0,
              f"{shown}: the same pfns dumped as makedumpfile's"
              + (f" ({r['both']})" if r else ""), json.dumps(r) if r else tail(out))
    tap.check(r is not None and r["bad"] == 0 and r["both"] > 0,
              f"{shown}: every page's content equal to makedumpfile's",
              json.dumps(r) if r else tail(out))


def full_target(tap, ctx, dumps):
    """A target that fills up: exit 1, and what was written is INCOMPLETE."""
    args = ["-l", "-d", "31"] if not lacks(ctx.help, ["-l"]) else ["--compress", "lzo", "-d", "31"]
    whole = dumps.get("lzo")
    size = os.path.getsize(whole) if whole else 16 << 20
    limit = size // 2
    out = os.path.join(ctx.work, "full-target.dump")
    if os.path.exists(out):
        os.unlink(out)

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        r = subprocess.run([COLLECT] + args + [ctx.raw, out], capture_output=True,
                           preexec_fn=small_disk, timeout=TIMEOUT)
        rc, text = r.returncode, (r.stdout + r.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, text = None, "timed out"
    shown = " ".join(args)
    tap.check(rc == 1, f"{shown} onto a target that fills up at {limit >> 10} KiB: exit 1",
              f"exit {rc}\n{tail(text)}")
    status = guest.read_header_status(out) if os.path.exists(out) else None
    tap.check(status is not None and status & 0x8, "what was written is marked INCOMPLETE",
              f"header status {status}; {tail(text, 5)}")
    tap.check(os.path.exists(out) and os.path.getsize(out) <= limit,
              "and it stops at the limit", f"{os.path.getsize(out) if os.path.exists(out) else 0}")


def cleanup(ctx, dumps):
    for p in list(dumps.values()) + [ctx.raw]:
        for q in (p, p + ".flat", p + ".dmesg"):
            if q and os.path.exists(q):
                os.unlink(q)


def run(series):
    tap = guest.Tap()
    t0 = time.monotonic()
    ctx = setup(tap, f"readers-{series}", series)
    if ctx is None:
        return tap.done()
    t1 = time.monotonic()
    dumps = matrix(tap, ctx)
    t2 = time.monotonic()
    arg_sets(tap, ctx, dumps)
    full_target(tap, ctx, dumps)
    tap.note(f"wall: guest {t1 - t0:.0f} s, reader matrix {t2 - t1:.0f} s, "
             f"argument sets and full target {time.monotonic() - t2:.0f} s")
    rc, out = sh(["/usr/bin/python3", os.path.join(HERE, "readers.py"), "--check-readme",
                  os.path.join(guest.TOP, "README.md")], timeout=30)
    tap.check(rc == 0, "README.md's reader matrix states what this test asserts", out)
    checks.timing(tap, ctx.c)
    if tap.failed:
        tap.note(f"the raw vmcore and the dumps stay in {ctx.work} for a look")
    else:
        cleanup(ctx, dumps)
    return tap.done()
