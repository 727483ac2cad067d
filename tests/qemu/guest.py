"""Shared harness for crashcap's QEMU panic tests and the demo.

A guest boots the cached Debian kernel with crashkernel= and a first-kernel
initramfs that carries crashcapctl, the crash kernel and crashcap's crash
initramfs. Its /init (guest-init.sh) loads the crash kernel with crashcapctl
and panics it with sysrq; the crash kernel runs crashcap-collect, which
writes the dump to a virtio disk. Everything that crashes runs inside QEMU.

The harness times each phase from the serial console, enforces a timeout
(QEMU is killed), and on failure names the phase reached and shows the tail
of the serial log.
"""

import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time

TOP = os.environ.get("CRASHCAP_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CRASHCAP_BUILD") or os.path.join(TOP, "build")
CACHE = os.path.join(BUILD, "cache")
HERE = os.path.dirname(os.path.abspath(__file__))

# Arguments the first kernel boots with; crashkernel= is the point.
FIRST_KERNEL_ARGS = "console=ttyS0 panic=1 oops=panic"


# Work directories this process holds (see work_dir); kept open to the end.
_work_locks = {}


def work_dir(name):
    """build/qemu/NAME, made if need be and locked for the rest of this
    process: a second run of the same test (a developer's beside `make
    check`'s) waits instead of replacing the first one's disk image and QMP
    socket under it."""
    work = os.path.join(BUILD, "qemu", name)
    os.makedirs(work, exist_ok=True)
    if work not in _work_locks:
        fd = os.open(os.path.join(work, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"# {work} is in use by another run; waiting for it", flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _work_locks[work] = fd
    return work


def kernel_dir(series="6.1"):
    d = os.path.realpath(os.path.join(CACHE, "kernel-" + series))
    if not os.path.isdir(d):
        raise SystemExit(f"guest kernel {series} not in {CACHE}: run scripts/setup.sh")
    return d


def kernel_release(kdir):
    return sorted(os.listdir(os.path.join(kdir, "lib", "modules")))[0]


class Tap:
    """Prints TAP lines; remembers failures for the exit status."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, desc, diag=None):
        self.n += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {desc}", flush=True)
        if not ok:
            self.failed += 1
            for line in (diag or "").splitlines():
                print(f"#   {line}", flush=True)
        return ok

    def note(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


# --- cpio newc, enough for a test initramfs (no external cpio needed) ------

class Cpio:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self.ino += 1
        self.f.write(hdr.encode() + name_b)
        self.f.write(b"\0" * ((4 - (110 + len(name_b)) % 4) % 4))
        self.f.write(data)
        self.f.write(b"\0" * ((4 - len(data) % 4) % 4))

    def mkdir(self, name):
        name = name.strip("/")
        parts = name.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755)

    def add_bytes(self, name, data, mode=0o644):
        name = name.strip("/")
        if "/" in name:
            self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFREG | mode, data)

    def add_file(self, name, src, mode=None):
        with open(src, "rb") as f:
            data = f.read()
        if mode is None:
            mode = 0o755 if os.access(src, os.X_OK) else 0o644
        self.add_bytes(name, data, mode)

    def add_symlink(self, name, target):
        name = name.strip("/")
        if "/" in name:
            self.mkdir(os.path.dirname(name))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def add_chardev(self, name, major, minor):
        self.mkdir(os.path.dirname(name.strip("/")))
        self._entry(name.strip("/"), stat.S_IFCHR | 0o600, rdev=(major, minor))

    def add_program(self, name, src):
        """A dynamic program and the shared libraries ldd names."""
        self.add_file(name, src, 0o755)
        out = subprocess.run(["ldd", src], capture_output=True, text=True).stdout
        for lib in re.findall(r"(/\S+)", out):
            if lib not in self.dirs:
                self.dirs.add(lib)
                self.add_file(lib, lib, 0o755)

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.f.write(b"\0" * ((512 - self.f.tell() % 512) % 512))
        self.f.close()


def add_busybox(cpio):
    cpio.add_file("bin/busybox", "/bin/busybox", 0o755)
    cpio.add_symlink("bin/sh", "busybox")
    for d in ("proc", "sys", "dev", "run", "tmp", "mnt"):
        cpio.mkdir(d)
    cpio.add_chardev("dev/console", 5, 1)


# --- building what the guest boots ----------------------------------------

def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


def build_crash_initrd(work, kdir, config_text, raw_copy=False, vmcore_info=False):
    """crashcap's own crash initramfs, made by `crashcapctl rebuild`.

    With raw_copy, a second archive is appended (the kernel unpacks both, the
    later entries win): busybox and a wrapper /init that copies /proc/vmcore
    raw to the second disk, then hands PID 1 to crashcap-collect. Tests use
    the raw copy to run the collector on a saved vmcore and to compare with
    makedumpfile on the very same memory.

    With vmcore_info (not with raw_copy), the appended /init prints the crash
    kernel's command line, memory map and the ELF headers of /proc/vmcore on
    the serial console instead (see vmcore_phdrs()); nothing is copied.
    """
    release = kernel_release(kdir)
    conf = os.path.join(work, "crashcap.conf")
    with open(conf, "w") as f:
        f.write(config_text)
    out = os.path.join(work, "initrd-crash.img")
    r = run([os.path.join(BUILD, "crashcapctl"), "--config", conf, "rebuild",
             "--output", out,
             "--kernel-release", release,
             "--modules-dir", os.path.join(kdir, "lib", "modules", release),
             "--collector", os.path.join(BUILD, "crashcap-collect"),
             "--add-module", "virtio_pci", "--add-module", "virtio_blk",
             "--add-module", "ext4"])
    if raw_copy or vmcore_info:
        extra = os.path.join(work, "initrd-raw.cpio")
        c = Cpio(extra)
        add_busybox(c)
        c.add_file("init", os.path.join(HERE, "raw-copy-init.sh" if raw_copy
                                        else "vmcore-info-init.sh"), 0o755)
        c.add_file("sbin/crashcap-collect", os.path.join(BUILD, "crashcap-collect"), 0o755)
        c.close()
        with open(out, "ab") as dst, open(extra, "rb") as src:
            shutil.copyfileobj(src, dst)
    return out, r.stdout.strip()


def build_first_initrd(work, kdir, crash_initrd, crash_append="", load_args="",
                       workload=None, files=None, programs=None, init=None):
    """The first kernel's initramfs. load_args: more `crashcapctl load`
    arguments (e.g. "--method segments"); workload: a shell script that
    guest-init.sh runs as /workload.sh after the load and before the panic;
    files: {path in the guest: host file} added as they are; programs: the
    same for dynamic programs (with their shared libraries); init: another
    /init than guest-init.sh."""
    release = kernel_release(kdir)
    path = os.path.join(work, "initrd-first.cpio")
    c = Cpio(path)
    add_busybox(c)
    c.add_file("init", init or os.path.join(HERE, "guest-init.sh"), 0o755)
    c.add_program("usr/sbin/crashcapctl", os.path.join(BUILD, "crashcapctl"))
    c.add_file("vmlinuz", os.path.join(kdir, "boot", f"vmlinuz-{release}"), 0o644)
    c.add_file("initrd-crash", crash_initrd, 0o644)
    c.add_bytes("etc/crashcap-test.env",
                f'CRASH_APPEND="{crash_append}"\nLOAD_ARGS="{load_args}"\n'.encode())
    if workload:
        c.add_bytes("workload.sh", workload.encode(), 0o755)
    for name, src in (files or {}).items():
        c.add_file(name, src)
    for name, src in (programs or {}).items():
        c.add_program(name, src)
    c.close()
    return path


def make_disk(path, size="2G", label="crashdump"):
    if os.path.exists(path):
        os.unlink(path)
    run(["truncate", "-s", size, path])
    run(["mkfs.ext4", "-q", "-F", "-L", label, path])


def make_raw_disk(path, size):
    if os.path.exists(path):
        os.unlink(path)
    run(["truncate", "-s", str(size), path])


# --- running the guest ------------------------------------------------------

# Phases in the order a good run reaches them: (name, pattern).
PHASES = [
    ("first kernel booting", r"Linux version"),
    ("first kernel /init", r"CRASHCAP-TEST: first kernel up"),
    ("crash kernel loaded", r"CRASHCAP-TEST: load rc=0 loaded=1"),
    ("panic", r"sysrq: Trigger a crash"),
    ("crash kernel booting", r"Linux version"),
    ("collector running", r"crashcap: "),
    ("dump saved", r"crashcap: dump saved to "),
]


class GuestRun:
    def __init__(self, name, work, kdir, initrd, disks, mem="1G",
                 crashkernel="256M", smp=2, timeout=300, progress=None, numa_nodes=1,
                 first_kernel_args="", mem_opts="", extra_args=None, qmp=False,
                 on_line=None, phases=None):
        """first_kernel_args: more first-kernel arguments; mem_opts: appended
        to -m (e.g. "slots=2,maxmem=2G" for memory hotplug); extra_args: more
        QEMU arguments; qmp: a QMP socket at self.qmp_path (see Qmp);
        on_line(run, t, line): called for every serial line, in order;
        phases: another list of (name, pattern) than PHASES."""
        self.name, self.work, self.kdir, self.initrd = name, work, kdir, initrd
        self.disks, self.mem, self.crashkernel = disks, mem, crashkernel
        self.smp, self.timeout, self.progress = smp, timeout, progress
        self.numa_nodes = numa_nodes
        self.first_kernel_args, self.mem_opts = first_kernel_args, mem_opts
        self.extra_args = list(extra_args or [])
        self.qmp_path = os.path.join(work, "qmp.sock") if qmp else None
        self.on_line = on_line
        self.phases = phases or PHASES
        self.serial_path = os.path.join(work, "serial.log")
        self.lines = []  # (seconds since start, text)
        self.phase_times = {}
        self.timed_out = False
        self.rc = None
        self.wall = None

    def command(self):
        release = kernel_release(self.kdir)
        cmd = ["qemu-system-x86_64", "-accel", "tcg,thread=multi", "-cpu", "max",
               "-smp", str(self.smp),
               "-m", self.mem + ("," + self.mem_opts if self.mem_opts else ""),
               "-display", "none",
               "-serial", "stdio", "-monitor", "none", "-nic", "none", "-no-reboot",
               "-kernel", os.path.join(self.kdir, "boot", f"vmlinuz-{release}"),
               "-initrd", self.initrd,
               "-append", f"{FIRST_KERNEL_ARGS} crashkernel={self.crashkernel}"
               + (" " + self.first_kernel_args if self.first_kernel_args else ""),
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        for d in self.disks:
            cmd += ["-drive", f"file={d},format=raw,if=virtio"]
        if self.numa_nodes > 1:
            # Equal nodes, each with its own RAM backend and one CPU.
            total = int(self.mem[:-1]) << (10 if self.mem.endswith("G") else 0)
            for n in range(self.numa_nodes):
                cmd += ["-object", f"memory-backend-ram,id=ram{n},size={total // self.numa_nodes}M",
                        "-numa", f"node,nodeid={n},memdev=ram{n},cpus={n % self.smp}"]
        if self.qmp_path:
            if os.path.exists(self.qmp_path):
                os.unlink(self.qmp_path)
            cmd += ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        return cmd + self.extra_args

    def run(self):
        cmd = self.command()
        with open(os.path.join(self.work, "qemu-cmdline.txt"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)

        def kill():
            self.timed_out = True
            p.kill()
        timer = threading.Timer(self.timeout, kill)
        timer.daemon = True
        timer.start()
        next_phase = 0
        with open(self.serial_path, "w") as log:
            for raw in p.stdout:
                t = time.monotonic() - t0
                line = raw.decode(errors="replace").rstrip("\r\n")
                self.lines.append((t, line))
                log.write(f"[{t:7.2f}] {line}\n")
                log.flush()
                if next_phase < len(self.phases) and re.search(self.phases[next_phase][1], line):
                    name = self.phases[next_phase][0]
                    self.phase_times[name] = t
                    next_phase += 1
                    if self.progress:
                        self.progress(t, name)
                if self.on_line:
                    self.on_line(self, t, line)
        self.rc = p.wait()
        timer.cancel()
        self.wall = time.monotonic() - t0
        return self

    def reached(self, phase):
        return phase in self.phase_times

    def last_phase(self):
        done = [n for n, _ in self.phases if n in self.phase_times]
        return done[-1] if done else "nothing (QEMU printed no kernel banner)"

    def tail(self, n=40):
        return "\n".join(line for _, line in self.lines[-n:])

    def explain(self):
        why = "timed out after %d s" % self.timeout if self.timed_out else \
            f"QEMU exited with status {self.rc} after {self.wall:.0f} s"
        return (f"{why}; last phase reached: {self.last_phase()}\n"
                f"serial log: {self.serial_path}\n--- serial tail ---\n{self.tail()}")

    def find(self, pattern):
        for _, line in self.lines:
            m = re.search(pattern, line)
            if m:
                return m
        return None


class Qmp:
    """A minimal QMP client for GuestRun(qmp=True): connect, then command()."""

    def __init__(self, path, timeout=30):
        import socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self._read()  # the greeting
        self.command("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP socket closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "return" in r or "error" in r:  # events ("event") are skipped
                return r

    def close(self):
        self.sock.close()


# A kernel console message: "[    5.148269] text". Written straight to the
# UART while the tty's own output is still draining, one can land inside a
# marker line: "...measured on gues[    5.148269] hrtimer: interrupt took
# 11617200 ns", with the marker's rest ("ts\"...") on the next line.
KERNEL_MESSAGE = re.compile(r"\[ *\d+\.\d{6}\] ")


def said(run, key, first=False):
    """The rest of the last (or first) "CRASHCAP-TEST: key value" line:
    "value", "" for the key alone, None when the guest never said it. A key
    ending in a word character must be followed by a space or the end."""
    found = None
    for line in said_lines(run, key):
        found = line
        if first:
            break
    return found


def said_lines(run, key):
    end = r"(?: |$)" if re.match(r".*\w$", key) else r" ?"
    pattern = re.compile(r"CRASHCAP-TEST: " + re.escape(key) + end + r"(.*)$")
    lines = [line for _, line in run.lines]
    for i, line in enumerate(lines):
        m = pattern.search(line)
        if m:
            yield m.group(1) if not KERNEL_MESSAGE.search(m.group(1)) else \
                rejoin(m.group(1), lines[i + 1:])


def rejoin(head, following, max_lines=20):
    """A marker line that a kernel message cut: its head up to the message,
    then the lines after it that are not kernel messages, up to the one that
    the cut message's end left the rest on. Joined until the text parses as
    JSON (or the lines run out), since only JSON markers are long enough to
    be cut in practice; plain text gets the head and the first continuation."""
    text = head[:KERNEL_MESSAGE.search(head).start()]
    for line in following[:max_lines]:
        if KERNEL_MESSAGE.match(line):
            continue
        cut = KERNEL_MESSAGE.search(line)
        text += line[:cut.start()] if cut else line
        try:
            json.loads(text)
            return text
        except ValueError:
            if not cut and not text.lstrip().startswith(("{", "[")):
                return text
    return text


def said_json(run, key, first=False):
    """The JSON a "CRASHCAP-TEST: key {...}" line carried, None when there
    was no such line or it did not parse (said() gives the raw text)."""
    raw = said(run, key, first)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def vmcore_phdrs(run):
    """The program headers of /proc/vmcore as vmcore-info-init.sh printed
    them: a list of dicts (type, offset, vaddr, paddr, filesz, memsz), or
    None when the crash kernel printed none."""
    import struct
    parts = {}
    for _, line in run.lines:
        m = re.search(r"CRASHCAP-TEST: vmcore-head (\d+) ([0-9a-f]{128})$", line)
        if m:
            parts[int(m.group(1))] = bytes.fromhex(m.group(2))
    if not parts or sorted(parts) != list(range(len(parts))):
        return None
    b = b"".join(parts[i] for i in range(len(parts)))
    if b[:4] != b"\x7fELF" or b[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", b, 32)
    phentsize, phnum = struct.unpack_from("<HH", b, 54)
    out = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + 56 > len(b):
            return None
        t, _, off, va, pa, fs, ms, _ = struct.unpack_from("<IIQQQQQQ", b, at)
        out.append({"type": t, "offset": off, "vaddr": va, "paddr": pa, "filesz": fs,
                    "memsz": ms})
    return out


def extract_dumps(disk, dest):
    """Copies /crashcap out of the ext4 image without mounting it."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    subprocess.run(["debugfs", "-R", f"rdump /crashcap {dest}", disk],
                   capture_output=True, text=True)
    top = os.path.join(dest, "crashcap")
    if not os.path.isdir(top):
        return []
    return sorted(os.path.join(top, d) for d in os.listdir(top))


def elf_file_size(path):
    """Where an ELF vmcore really ends: the furthest byte a header names."""
    import struct
    with open(path, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", eh, 32)
        phentsize, phnum = struct.unpack_from("<HH", eh, 54)
        end = phoff + phentsize * phnum
        f.seek(phoff)
        for _ in range(phnum):
            ph = f.read(phentsize)
            _, _, off, _, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", ph)
            end = max(end, off + filesz)
        return end


KDUMPFILE_CHECK = r"""
import json, sys, kdumpfile
path = sys.argv[1]
k = kdumpfile.kdumpfile(path)
k.attr["addrxlat.ostype"] = "linux"
raw = bytes(k.attr["linux.vmcoreinfo.raw"]).decode()
vi = dict(l.split("=", 1) for l in raw.splitlines() if "=" in l)
uts = int(vi["SYMBOL(init_uts_ns)"], 16)
buf = k.read(kdumpfile.KDUMP_KVADDR, uts, 65 * 3)
f = [buf[i * 65:(i + 1) * 65].split(b"\0")[0].decode() for i in range(3)]
print(json.dumps({"format": k.attr["file.format"], "sysname": f[0], "release": f[2],
                  "osrelease": vi.get("OSRELEASE")}))
"""


def kdumpfile_read(path):
    """init_uts_ns read through libkdumpfile (system python3 has the binding)."""
    r = subprocess.run(["/usr/bin/python3", "-c", KDUMPFILE_CHECK, path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()[-800:]
    return json.loads(r.stdout), None


def makedumpfile_dmesg(dump, out):
    if os.path.exists(out):
        os.unlink(out)  # makedumpfile refuses to overwrite
    r = subprocess.run(["makedumpfile", "--dump-dmesg", dump, out],
                       capture_output=True, text=True)
    text = None
    if r.returncode == 0 and os.path.exists(out):
        with open(out, errors="replace") as f:
            text = f.read()
    return text, (r.stdout + r.stderr)[-800:]


def read_header_status(path):
    """The kdump-compressed header's status word (0x8 = INCOMPLETE)."""
    import struct
    with open(path, "rb") as f:
        h = f.read(464)
    if h[:8] != b"KDUMP   ":
        return None
    return struct.unpack_from("<I", h, 424)[0]
