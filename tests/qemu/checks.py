"""Checks every capture test makes, each one TAP line."""

import json
import os
import re

import capture
import guest


def phases(tap, c):
    """One line per phase; a missed phase explains itself once."""
    explained = False
    for name, _ in guest.PHASES:
        ok = c.run.reached(name)
        diag = None
        if not ok and not explained:
            diag = c.run.explain()
            explained = True
        tap.check(ok, f"guest reached: {name}", diag)
    tap.check(not c.run.timed_out, f"guest ended by itself ({c.run.wall:.0f} s, QEMU status {c.run.rc})",
              c.run.explain() if c.run.timed_out else None)


def loader(tap, c):
    m = c.run.find(r"CRASHCAP-TEST: status rc=(\d+)")
    tap.check(m is not None and m.group(1) == "0",
              "crashcapctl status in the guest says ready (exit 0)",
              c.run.explain() if m is None else f"status exited {m.group(1)}")
    status = guest.said_json(c.run, "status-json", first=True)
    tap.check(isinstance(status, dict) and status.get("loaded") is True,
              "crashcapctl status --json in the guest: loaded is true",
              guest.said(c.run, "status-json", first=True) or "no status-json line")


def dump_files(tap, c):
    files = sorted(os.listdir(c.dump_dir)) if c.dump_dir else []
    tap.check(c.dump_dir is not None and re.search(r"/\d{4}-\d\d-\d\d-\d\d:\d\d:\d\d-" + re.escape(c.release) + "$", c.dump_dir) is not None,
              "dump directory named <UTC time>-<release> under /crashcap on the target",
              f"found: {c.dump_dirs}")
    for f in ("vmcore", "dmesg.txt", "summary.json"):
        tap.check(f in files, f"dump directory holds {f}", f"files: {files}")
    tap.check("vmcore.incomplete" not in files, "no vmcore.incomplete left behind", f"files: {files}")


def summary(tap, c, level, compression):
    s = c.summary or {}
    tap.check(bool(s), "summary.json parses", getattr(c, "summary_error", "missing"))
    tap.check(s.get("result") == "ok", "summary.json result is ok", json.dumps(s)[:800])
    tap.check(s.get("kernel_release") == c.release, f"summary.json kernel_release is {c.release}",
              json.dumps(s)[:800])
    tap.check("sysrq triggered crash" in str(s.get("panic_message", "")),
              "summary.json has the panic message", json.dumps(s)[:800])
    tap.check(s.get("dump_level_applied") == level, f"summary.json dump level applied is {level}",
              json.dumps(s)[:800])
    tap.check(s.get("compression") == compression, f"summary.json compression is {compression}",
              json.dumps(s)[:800])


def readable_by_libkdumpfile(tap, c, path, what):
    info, err = guest.kdumpfile_read(path) if path and os.path.exists(path) else (None, "no file")
    tap.check(info is not None and info["sysname"] == "Linux" and info["release"] == c.release,
              f"libkdumpfile reads init_uts_ns from {what}: Linux {c.release}",
              err or json.dumps(info))


def dmesg_matches(tap, c, reference_text, what):
    path = os.path.join(c.dump_dir, "dmesg.txt") if c.dump_dir else None
    ours = open(path, errors="replace").read() if path and os.path.exists(path) else None
    ok = ours is not None and reference_text is not None and ours == reference_text
    diag = None
    if not ok:
        if ours is None or reference_text is None:
            diag = f"ours: {'present' if ours else 'missing'}, reference: {'present' if reference_text else 'missing'}"
        else:
            a, b = ours.splitlines(), reference_text.splitlines()
            first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            diag = (f"lines: ours {len(a)}, reference {len(b)}; first difference at line {first + 1}:\n"
                    f"ours: {a[first] if first < len(a) else '<end>'}\n"
                    f"ref:  {b[first] if first < len(b) else '<end>'}")
    tap.check(ok, f"dmesg.txt written in the crash kernel equals makedumpfile --dump-dmesg of {what}", diag)


def timing(tap, c):
    secs = capture.panic_to_saved(c.run)
    size = os.path.getsize(c.vmcore) if c.vmcore and os.path.exists(c.vmcore) else 0
    tap.note(f"panic -> dump saved: {secs:.1f} s" if secs is not None else "panic -> dump saved: n/a")
    tap.note(f"dump size {size / 2**20:.1f} MiB; guest wall {c.run.wall:.0f} s")
