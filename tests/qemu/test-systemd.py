#!/usr/bin/python3
"""QEMU: crashcapd under real systemd as PID 1 (a minimal Debian 12 root,
debootstrapped once and cached; see systemd-image.py).

In one guest run: crashcap.service (Type=notify) is active with a STATUS=
line, crashcapctl status --json says loaded; a broken setting makes
`crashcapctl reload` and `systemctl reload crashcap` fail with file:line and
the loaded image stays as it was (no syscall: loaded.json unchanged); a good
reload goes through systemd over its D-Bus API; a DIMM hot-added through
QMP reaches crashcapd as udev events and reloads once; `crashcapctl estimate`
proposes a size, the daemon is stopped (unloading), the reservation shrunk
to that size, the daemon started again; then `crashcapctl test
--yes-crash-this-machine` panics the guest, and the crash kernel, in the
estimated size, saves the dump to /var/crash on the root disk."""

import importlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402

systemd_image = importlib.import_module("systemd-image")
hotplug = importlib.import_module("test-hotplug")

NAME = "systemd"
MIB = 1 << 20

CONFIG = """\
# crashcap's QEMU test under systemd: dumps to /var/crash on the root disk
dump_level = 31
compression = zstd
final_action = poweroff
failure_action = poweroff
hotplug_quiet = 2s
"""

# The test's own unit: after crashcap.service is up (or failed), run the script.
TEST_UNIT = """\
[Unit]
Description=crashcap QEMU test steps
After=crashcap.service multi-user.target
Wants=crashcap.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/crashcap-test.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
"""

TEST_SCRIPT = r"""#!/bin/sh
# Runs in the guest as crashcap-test.service; "CRASHCAP-TEST:" lines are
# what the host checks.
export PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "CRASHCAP-TEST: $*"; }
oneline() { tr -d '\n' <"$1"; }
give_up() {
	say "FAILED: $*"
	journalctl -b --no-pager | tail -n 60 | sed 's/^/JOURNAL| /'
	sleep 2 # the serial line drains before QEMU ends
	printf '\003' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}
prop() { systemctl show crashcap -p "$1" --value; }

say "first kernel up"
say "pid1 $(cat /proc/1/comm)"
say "unit ActiveState=$(prop ActiveState) SubState=$(prop SubState) Type=$(prop Type)"
say "unit StatusText=$(prop StatusText)"
systemctl status crashcap --no-pager -n 0 | sed 's/^/STATUS| /'
crashcapctl status --json >/tmp/status.json
rc=$?
say "status-json $(oneline /tmp/status.json)"
say "load rc=$rc loaded=$(cat /sys/kernel/kexec_crash_loaded)"
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || give_up "crashcapd loaded nothing"
say "daemon-json $(oneline /run/crashcap/daemon.json)"
say "manifest $(tr '\n' ';' </var/lib/crashcap/initrd-$(uname -r).img.manifest)"

# A broken setting: refused with file:line, the loaded image stays as it was.
before=$(oneline /run/crashcap/loaded.json)
cp /etc/crashcap.conf /tmp/good.conf
echo "hotplug_quiet = soon" >>/etc/crashcap.conf
crashcapctl reload 2>/tmp/err
say "ctl-reload-bad rc=$? $(oneline /tmp/err)"
systemctl reload crashcap
say "systemctl-reload-bad rc=$?"
for i in $(seq 1 50); do
	grep -q '"settings_error": "/' /run/crashcap/daemon.json && break
	sleep 0.2
done
journalctl -u crashcap --no-pager -o cat | grep -F "crashcap.conf:" | sed 's/^/CRASHCAP-TEST: badconf-journal /'
say "badconf-status $(prop StatusText)"
after=$(oneline /run/crashcap/loaded.json)
[ "$before" = "$after" ] && same=yes || same=no
say "after-bad loaded=$(cat /sys/kernel/kexec_crash_loaded) loaded-json-unchanged=$same active=$(systemctl is-active crashcap)"
cp /tmp/good.conf /etc/crashcap.conf

# A good reload through systemd (crashcapctl asks systemd over its D-Bus API).
crashcapctl reload
say "ctl-reload rc=$?"
for i in $(seq 1 100); do
	grep -q '"reloads": 2' /run/crashcap/daemon.json && grep -q '"settings_error": null' /run/crashcap/daemon.json && break
	sleep 0.2
done
say "daemon-json $(oneline /run/crashcap/daemon.json)"

# Memory hot-added through QMP: udev passes the events on to crashcapd.
ram() { grep "System RAM" /proc/iomem | grep -v "^ " | tr '\n' ';'; }
say "iomem-before $(ram)"
before=$(ls -d /sys/devices/system/memory/memory* | wc -l)
say "hotplug now"
for i in $(seq 1 300); do
	[ $(($(ls -d /sys/devices/system/memory/memory* | wc -l) - before)) -ge 4 ] && break
	sleep 0.2
done
n=0
for s in /sys/devices/system/memory/memory*/state; do
	[ "$(cat "$s")" = offline ] && echo online >"$s" && n=$((n + 1))
done
say "onlined $n"
for i in $(seq 1 150); do
	grep -q '"hotplug_reloads": 1' /run/crashcap/daemon.json && break
	sleep 0.2
done
sleep 3
say "daemon-json-hotplug $(oneline /run/crashcap/daemon.json)"
say "iomem-after $(ram)"

# The size this machine needs; the reservation shrunk to it.
crashcapctl estimate | sed 's/^/ESTIMATE| /'
crashcapctl estimate --json >/tmp/estimate.json
say "estimate-json $(oneline /tmp/estimate.json)"
proposal=$(sed -n 's/^ *"proposal": \([0-9]*\).*/\1/p' /tmp/estimate.json)
crashcapctl stop
say "ctl-stop rc=$? loaded=$(cat /sys/kernel/kexec_crash_loaded) active=$(systemctl is-active crashcap)"
echo "$proposal" >/sys/kernel/kexec_crash_size
say "shrunk rc=$? crash_size=$(cat /sys/kernel/kexec_crash_size)"
crashcapctl start
say "ctl-start rc=$? loaded=$(cat /sys/kernel/kexec_crash_loaded) active=$(systemctl is-active crashcap)"
say "unit StatusText=$(prop StatusText)"
crashcapctl showmem | sed 's/^/SHOWMEM| /'
crashcapctl showmem --json >/tmp/showmem.json
say "showmem-json $(oneline /tmp/showmem.json)"
crashcapctl list | sed 's/^/LIST| /'
journalctl -u crashcap --no-pager -o cat | sed 's/^/JOURNAL| /'
[ "$(cat /sys/kernel/kexec_crash_loaded)" = 1 ] || give_up "no crash kernel after the restart"

# Memory for the dump to hold.
dd if=/dev/urandom of=/tmp/random bs=1M count=16 2>/dev/null
say "panic now"
crashcapctl test --yes-crash-this-machine
give_up "still alive after crashcapctl test"
"""

PHASES = [
    ("first kernel booting", r"Linux version"),
    ("systemd started", r"Welcome to .*Debian|systemd\[1\]"),
    ("test unit running", r"CRASHCAP-TEST: first kernel up"),
    ("crash kernel loaded", r"CRASHCAP-TEST: load rc=0 loaded=1"),
    ("panic", r"sysrq: Trigger a crash"),
    ("crash kernel booting", r"Linux version"),
    ("collector running", r"crashcap: "),
    ("dump saved", r"crashcap: dump saved to "),
]


def tagged(run, tag):
    return [line.split(f"{tag}| ", 1)[1] for _, line in run.lines if f"{tag}| " in line]


class Dimm:
    """Hot-adds one 512 MiB DIMM through QMP when the guest says so."""

    def __init__(self):
        self.done = False
        self.errors = []

    def __call__(self, run, t, line):
        if self.done or "CRASHCAP-TEST: hotplug now" not in line:
            return
        self.done = True
        h = hotplug.Hotplug()
        h.qmp(run, lambda q: h.dimm(1, 512 * MIB))
        self.errors = h.errors


def prepare(work):
    img = systemd_image.image("6.1")
    root = os.path.join(work, "root.img")
    subprocess.run(["cp", "--sparse=always", img.image, root], check=True)
    script = os.path.join(work, "crashcap-test.sh")
    with open(script, "w") as f:
        f.write(TEST_SCRIPT)
    systemd_image.install_crashcap(
        root, CONFIG, files={"/usr/local/sbin/crashcap-test.sh": (script, 0o755)},
        units={"crashcap-test.service": TEST_UNIT},
        # A login prompt on ttyS0 hangs up the test unit's output there.
        masks=("serial-getty@ttyS0.service",))
    initrd = systemd_image.boot_initrd(img, os.path.join(work, "boot-initrd.cpio"))
    return img, root, initrd


def extract(root, dest):
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    subprocess.run(["debugfs", "-R", f"rdump /var/crash/crashcap {dest}", root],
                   capture_output=True, text=True)
    top = os.path.join(dest, "crashcap")
    return sorted(os.path.join(top, d) for d in os.listdir(top)) if os.path.isdir(top) else []


def main():
    tap = guest.Tap()
    work = guest.work_dir(NAME)
    img, root, initrd = prepare(work)
    tap.note(f"guest root {img.image} ({img.release})")
    dimm = Dimm()
    run = guest.GuestRun(NAME, work, img.kdir, initrd, [root], mem="2G", crashkernel="256M",
                         mem_opts="slots=2,maxmem=4G", qmp=True, on_line=dimm, timeout=900,
                         first_kernel_args="root=/dev/vda rw", phases=PHASES).run()
    explained = False
    for name, _ in PHASES:
        ok = run.reached(name)
        tap.check(ok, f"guest reached: {name}", None if ok or explained else run.explain())
        explained = explained or not ok
    tap.check(not run.timed_out, f"guest ended by itself ({run.wall:.0f} s)",
              run.explain() if run.timed_out else None)

    # crashcap.service under systemd.
    tap.check(guest.said(run, "pid1") == "systemd", "PID 1 is systemd", guest.said(run, "pid1"))
    first_unit = next((l for _, l in run.lines if "CRASHCAP-TEST: unit ActiveState" in l), "")
    tap.check("ActiveState=active SubState=running Type=notify" in first_unit,
              "crashcap.service is active (running), Type=notify", first_unit or run.explain())
    status_lines = tagged(run, "STATUS")
    tap.check(any("Active: active (running)" in l for l in status_lines) and
              any("Status: \"crash kernel loaded: /boot/vmlinuz-" in l for l in status_lines),
              "systemctl status: active (running) with the STATUS= line",
              "\n".join(status_lines) or run.explain())
    st = guest.said_json(run, "status-json")
    tap.check(isinstance(st, dict) and st.get("loaded") is True and st.get("ready") is True,
              "crashcapctl status --json: loaded", guest.said(run, "status-json"))
    dj = guest.said_json(run, "daemon-json")
    tap.check(isinstance(dj, dict) and dj.get("hotplug_source") == "udev",
              "crashcapd watches hotplug through udev (sd-device)", guest.said(run, "daemon-json"))
    man = guest.said(run, "manifest") or ""
    tap.check(all(f"{k} " in man for k in ("kernel", "collector", "settings", "modules",
                                             "version")),
              "the daemon built the crash initramfs with its manifest", man)

    # A broken setting.
    bad = guest.said(run, "ctl-reload-bad") or ""
    tap.check(bad.startswith("rc=1 ") and
              "/etc/crashcap.conf:7: hotplug_quiet must be a time" in bad,
              "crashcapctl reload with a bad setting: exit 1, file:line", bad)
    journal = guest.said(run, "badconf-journal") or ""
    tap.check("/etc/crashcap.conf:7: hotplug_quiet must be a time" in journal,
              "systemctl reload with a bad setting: file:line in the journal", journal or run.tail())
    tap.check("reload failed: /etc/crashcap.conf:7:" in (guest.said(run, "badconf-status") or ""),
              "... and in the unit's status text", guest.said(run, "badconf-status"))
    tap.check(guest.said(run, "systemctl-reload-bad") == "rc=0",
              "systemctl reload itself succeeds (it only signals crashcapd)",
              guest.said(run, "systemctl-reload-bad"))
    tap.check(guest.said(run, "after-bad") == "loaded=1 loaded-json-unchanged=yes active=active",
              "the old image stays loaded, never reloaded (loaded.json unchanged)",
              guest.said(run, "after-bad"))

    # A good reload through systemd.
    tap.check(guest.said(run, "ctl-reload") == "rc=0", "crashcapctl reload through systemd: exit 0",
              guest.said(run, "ctl-reload"))
    dj = guest.said_json(run, "daemon-json") or {}
    gap = dj.get("last_gap_usec")
    tap.check(dj.get("reloads") == 2 and dj.get("failed_reloads") == 1 and gap is not None,
              "the daemon reloaded once more; the time without a crash kernel is measured",
              json.dumps(dj))
    tap.check(dj.get("hotplug_reloads") == 0,
              f"udev's coldplug events ({dj.get('hotplug_events')}) changed nothing: no hotplug reload",
              json.dumps(dj))
    if gap is not None:
        tap.note(f"reload gap under systemd (kexec_file_load, TCG): {gap / 1000:.1f} ms")

    # Memory hotplug through udev.
    dh = guest.said_json(run, "daemon-json-hotplug") or {}
    added = [r for r in hotplug.ram_ranges(guest.said(run, "iomem-after"))
             if r not in hotplug.ram_ranges(guest.said(run, "iomem-before"))]
    tap.check(dimm.done and not dimm.errors and guest.said(run, "onlined") == "4" and
              sum(e - s + 1 for s, e in added) == 512 * MIB,
              "QMP: a 512 MiB DIMM hot-added, its 4 blocks onlined by the guest",
              "\n".join(dimm.errors) + f" onlined {guest.said(run, 'onlined')} added {added}")
    tap.check(dh.get("hotplug_reloads") == 1 and dh.get("reloads") == 3 and
              dh.get("hotplug_source") == "udev",
              "udev's events reach crashcapd: one reload for the burst", json.dumps(dh))

    # The estimate, then the capture in that size.
    est = guest.said_json(run, "estimate-json") or {}
    proposal = est.get("proposal") or 0
    tap.note("estimate: " + "; ".join(tagged(run, "ESTIMATE")[:8]))
    tap.check(64 * MIB <= proposal < 256 * MIB and proposal % (16 * MIB) == 0,
              f"crashcapctl estimate proposes crashkernel={proposal // MIB}M (< the 256M reserved)",
              json.dumps(est))
    tap.check((guest.said(run, "ctl-stop") or "").startswith("rc=0 loaded=0 active=inactive"),
              "crashcapctl stop: systemd stops crashcapd, which unloads", guest.said(run, "ctl-stop"))
    tap.check(guest.said(run, "shrunk") == f"rc=0 crash_size={proposal}",
              "the reservation shrinks to the proposal", guest.said(run, "shrunk"))
    tap.check(guest.said(run, "ctl-start") == "rc=0 loaded=1 active=active",
              "crashcapctl start: systemd starts crashcapd, ready once loaded",
              guest.said(run, "ctl-start"))
    sm = guest.said_json(run, "showmem-json") or {}
    tap.check(sm.get("reserved") == proposal and sm.get("loaded") is True and
              0 < (sm.get("used") or 0) < proposal,
              "showmem: the shrunk reservation, what the image uses of it", json.dumps(sm))

    dumps = extract(root, os.path.join(work, "out"))
    dump = dumps[-1] if dumps else None
    files = sorted(os.listdir(dump)) if dump else []
    tap.check(len(dumps) == 1 and "vmcore" in files and "summary.json" in files,
              f"a dump in /var/crash/crashcap on the root disk, captured in {proposal // MIB} MiB",
              f"dumps: {dumps}, files: {files}\n{run.explain()}")
    summary = {}
    if dump and os.path.exists(os.path.join(dump, "summary.json")):
        with open(os.path.join(dump, "summary.json")) as f:
            summary = json.load(f)
    tap.check(summary.get("result") == "ok" and summary.get("kernel_release") == img.release and
              "sysrq triggered crash" in (summary.get("panic_message") or ""),
              "summary.json: ok, the release, the panic message", json.dumps(summary)[:800])
    if summary.get("peak_rss_bytes"):
        tap.note(f"collector peak RSS {summary['peak_rss_bytes'] / MIB:.1f} MiB; "
                 f"the estimate allowed {next((p['bytes'] for p in est.get('parts', []) if p['name'] == 'collector'), 0) / MIB:.1f} MiB")

    bm = hotplug.bitmap1(os.path.join(dump, "vmcore")) if dump else None
    miss = sum(hotplug.missing_pages(bm, s, e) for s, e in added) if bm is not None else -1
    tap.check(added and miss == 0, "bitmap 1 of the dump covers the hot-added memory",
              f"{miss} pages missing of {added}")

    # The log as the collector wrote it in the crash kernel (from /proc/vmcore)
    # and as crashcapctl dmesg reads it back from the saved dump.
    ref_path = os.path.join(dump, "dmesg.txt") if dump else ""
    ref = open(ref_path, errors="replace").read() if os.path.exists(ref_path) else None
    ours = subprocess.run([os.path.join(guest.BUILD, "crashcapctl"), "dmesg", dump or "/nonexistent"],
                          capture_output=True, text=True, errors="replace")
    tap.check(ref is not None and ours.returncode == 0 and ours.stdout == ref and
              "sysrq: Trigger a crash" in ours.stdout and
              "Kernel panic - not syncing: sysrq triggered crash" in ours.stdout,
              "crashcapctl dmesg DUMP: the dead kernel's log, as dmesg.txt has it",
              ours.stderr[-600:] or f"{len(ours.stdout)} bytes vs {len(ref or '')}")
    ls = subprocess.run([os.path.join(guest.BUILD, "crashcapctl"), "list", "--json", "--dir",
                         os.path.join(work, "out", "crashcap")], capture_output=True, text=True)
    try:
        listed = json.loads(ls.stdout)["dumps"]
    except (ValueError, KeyError):
        listed = []
    tap.check(len(listed) == 1 and listed[0]["state"] == "complete" and
              listed[0]["kernel_release"] == img.release,
              "crashcapctl list: one complete dump of the guest's kernel", ls.stdout + ls.stderr)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
