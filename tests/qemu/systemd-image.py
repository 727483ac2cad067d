#!/usr/bin/python3
"""A minimal Debian 12 root with systemd as PID 1, as an ext4 image, for the
QEMU tests that run crashcapd under real systemd.

Built once with debootstrap and cached as build/cache/systemd-root-<key>.img,
where <key> is a hash of everything below that decides the image's contents
(and the guest kernel's release). No mount on this machine: the image is
filled from a folder by mkfs.ext4 -d, and the tests add their files to a
copy of it with debugfs.

The guest boots the cached Debian kernel (build/cache/kernel-<series>), not
one installed in the root: no kernel package, no initramfs-tools, which
keeps the build short. The root gets that kernel's /boot/vmlinuz-<release>
(crashcapd's default crash kernel) and the modules a virtio disk with ext4
needs; a small busybox initrd made per run (boot_initrd()) loads those and
hands over to systemd on /dev/vda.

    systemd-image.py            build it unless cached; print the image path
    systemd-image.py --key      print the cache key only

As a module: image() returns a SystemdImage (the image path, the kernel
folder and release).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402

SUITE = "bookworm"
# libelf1 and libbpf1: crashcapd's libraries that minbase lacks.
PACKAGES = ["systemd-sysv", "udev", "kmod", "libelf1", "libbpf1"]
IMAGE_SIZE = "3G"
# What mounts the root (and what the crash initramfs needs for the dump target).
BOOT_MODULES = ["virtio_pci", "virtio_blk", "ext4", "crc32c_generic"]
# Module folders the root gets from the guest kernel: the disk, ext4 and its helpers.
MODULE_DIRS = ["kernel/drivers/virtio", "kernel/drivers/block", "kernel/fs/ext4",
               "kernel/fs/jbd2", "kernel/fs/mbcache.ko", "kernel/lib", "kernel/crypto",
               "kernel/arch/x86/crypto"]
FSTAB = "/dev/vda / ext4 rw,errors=remount-ro 0 1\n"
# Timers and units that only slow a test guest's boot or write to its disk.
MASK = ["apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer",
        "e2scrub_reap.service", "systemd-timesyncd.service", "getty@tty1.service",
        "man-db.timer", "dpkg-db-backup.timer"]
RECIPE_VERSION = 2


class SystemdImage:
    pass


def cache_key(release):
    h = hashlib.sha256()
    for part in (SUITE, " ".join(PACKAGES), IMAGE_SIZE, " ".join(MODULE_DIRS), FSTAB,
                 " ".join(MASK), str(RECIPE_VERSION), release):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:12]


def paths(series="6.1"):
    img = SystemdImage()
    img.series = series
    img.kdir = guest.kernel_dir(series)
    img.release = guest.kernel_release(img.kdir)
    img.kernel = os.path.join(img.kdir, "boot", f"vmlinuz-{img.release}")
    img.key = cache_key(img.release)
    img.image = os.path.join(guest.CACHE, f"systemd-root-{img.key}.img")
    return img


def mirror():
    out = subprocess.run(["apt-cache", "policy"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 3 and f[2] == f"{SUITE}/main" and f[1].startswith("http"):
            return f[1]
    return "http://deb.debian.org/debian"


def say(msg):
    print(f"systemd-image: {msg}", file=sys.stderr, flush=True)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def add_kernel(root, img):
    """The guest kernel's image and the modules of a virtio disk with ext4."""
    os.makedirs(os.path.join(root, "boot"), exist_ok=True)
    shutil.copyfile(img.kernel, os.path.join(root, "boot", f"vmlinuz-{img.release}"))
    src = os.path.join(img.kdir, "lib", "modules", img.release)
    dst = os.path.join(root, "lib", "modules", img.release)
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name.startswith("modules.") and os.path.isfile(os.path.join(src, name)):
            shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
    for rel in MODULE_DIRS:
        s, d = os.path.join(src, rel), os.path.join(dst, rel)
        if os.path.isdir(s):
            shutil.copytree(s, d)
        elif os.path.exists(s):
            os.makedirs(os.path.dirname(d), exist_ok=True)
            shutil.copyfile(s, d)
    guest.run(["depmod", "-b", root, img.release])


def configure(root):
    write(os.path.join(root, "etc/fstab"), FSTAB)
    write(os.path.join(root, "etc/hostname"), "crashcap-guest\n")
    for unit in MASK:
        link = os.path.join(root, "etc/systemd/system", unit)
        if not os.path.lexists(link):
            os.symlink("/dev/null", link)
    # No password prompt on the serial console ever matters: tests drive the
    # guest through their own unit. An empty root password keeps it usable by hand.
    subprocess.run(["chroot", root, "passwd", "-d", "root"], capture_output=True)


def build(img):
    os.makedirs(guest.CACHE, exist_ok=True)
    work = tempfile.mkdtemp(prefix="systemd-root-", dir=guest.CACHE)
    root = os.path.join(work, "root")
    t0 = time.monotonic()
    try:
        say(f"debootstrap {SUITE} into {root} (a few minutes, once)")
        r = subprocess.run(["debootstrap", "--variant=minbase", "--include=" + ",".join(PACKAGES),
                            SUITE, root, mirror()], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"debootstrap failed ({r.returncode}):\n{(r.stdout + r.stderr)[-3000:]}")
        say(f"debootstrap done after {time.monotonic() - t0:.0f} s")
        configure(root)
        add_kernel(root, img)
        # apt's downloaded packages only take room in the image.
        shutil.rmtree(os.path.join(root, "var/cache/apt/archives"), ignore_errors=True)
        os.makedirs(os.path.join(root, "var/cache/apt/archives/partial"), exist_ok=True)
        guest.run(["mkfs.ext4", "-q", "-F", "-L", "crashroot", "-d", root, img.image + ".tmp",
                   IMAGE_SIZE])
        os.replace(img.image + ".tmp", img.image)
        say(f"built {img.image} ({img.release}) in {time.monotonic() - t0:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if os.path.exists(img.image + ".tmp"):
            os.unlink(img.image + ".tmp")
    return img


def module_order(kdir, release, names):
    """The .ko files of names and their dependencies, each after what it needs."""
    base = os.path.join(kdir, "lib", "modules", release)
    deps = {}
    with open(os.path.join(base, "modules.dep")) as f:
        for line in f:
            path, _, rest = line.strip().partition(":")
            deps[path] = rest.split()
    by_name = {os.path.basename(p).split(".ko")[0].replace("-", "_"): p for p in deps}
    order = []

    def visit(path):
        if path in order:
            return
        # modules.dep lists a module's dependencies so that the last is loaded first.
        for d in reversed(deps.get(path, [])):
            visit(d)
        order.append(path)
    for n in names:
        if n in by_name:
            visit(by_name[n])
    return [os.path.join(base, p) for p in order]


BOOT_INIT = """#!/bin/busybox sh
# The systemd guest's first initrd: load the disk's modules, mount the root,
# hand PID 1 to systemd.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod /modules/$m 2>/dev/null; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || { echo "CRASHCAP-TEST: FAILED: cannot mount /dev/vda"; poweroff -f; }
umount /dev /sys /proc
exec switch_root /newroot /sbin/init
"""


def boot_initrd(img, path):
    """A busybox initrd for img's kernel: modules for /dev/vda, then systemd."""
    import lzma
    c = guest.Cpio(path)
    guest.add_busybox(c)
    c.mkdir("newroot")
    c.add_bytes("init", BOOT_INIT.encode(), 0o755)
    names = []
    for ko in module_order(img.kdir, img.release, BOOT_MODULES):
        name = os.path.basename(ko)
        with open(ko, "rb") as f:
            data = f.read()
        if name.endswith(".xz"):
            data, name = lzma.decompress(data), name[:-3]
        c.add_bytes(f"modules/{name}", data)
        names.append(name)
    c.add_bytes("modules.order", ("\n".join(names) + "\n").encode())
    c.close()
    return path


def image(series="6.1"):
    """The cached image, built first when missing (needs root: debootstrap, chroot)."""
    img = paths(series)
    if not os.path.exists(img.image):
        if os.geteuid() != 0:
            raise SystemExit("systemd-image: building the guest root needs root (debootstrap)")
        if not shutil.which("debootstrap"):
            raise SystemExit("systemd-image: debootstrap is missing: run scripts/setup.sh")
        lock = open(os.path.join(guest.CACHE, f"systemd-root-{img.key}.lock"), "w")
        import fcntl
        fcntl.flock(lock, fcntl.LOCK_EX)  # two tests at once build it once
        if not os.path.exists(img.image):
            img = build(img)
        lock.close()
    return img


def debugfs(image_path, commands):
    """Runs debugfs -w commands on an image; raises with its output on an error line."""
    with tempfile.NamedTemporaryFile("w", suffix=".cmds", delete=False) as f:
        f.write("\n".join(commands) + "\n")
        cmds = f.name
    try:
        r = subprocess.run(["debugfs", "-w", "-f", cmds, image_path], capture_output=True,
                           text=True)
    finally:
        os.unlink(cmds)
    bad = [l for l in r.stderr.splitlines()
           if l.strip() and not l.startswith("debugfs ") and "already exists" not in l]
    if r.returncode != 0 or bad:
        raise RuntimeError("debugfs failed:\n" + "\n".join(bad or [r.stderr[-1500:]]))
    return r.stdout


def install_file(cmds, src, dest, mode):
    """debugfs commands that put src at dest (new in the image) with mode, owned by root."""
    cmds += [f"write {src} {dest}",
             f"sif {dest} mode 0{0o100000 | mode:o}", f"sif {dest} uid 0", f"sif {dest} gid 0"]


if __name__ == "__main__":
    if sys.argv[1:] == ["--key"]:
        print(paths().key)
    else:
        print(image().image)


def host_libraries(programs):
    """The shared libraries the programs need, as ldd resolves them on this host."""
    import re
    libs = []
    for p in programs:
        out = subprocess.run(["ldd", p], capture_output=True, text=True).stdout
        for lib in re.findall(r"=> (/\S+)", out):
            if lib not in libs:
                libs.append(lib)
    return libs


def image_has(image_path, path):
    r = subprocess.run(["debugfs", "-R", f"stat {path}", image_path], capture_output=True,
                       text=True)
    return "Inode:" in r.stdout


def install_crashcap(image_path, config_text, files=None, units=None, masks=()):
    """crashcap as `make install` puts it (PREFIX=/usr/local) into an image copy:
    the programs, the collector, the unit (enabled) and /etc/crashcap.conf.
    The host's libraries the image lacks go to /usr/lib/x86_64-linux-gnu (both
    are Debian 12). files: {guest path: (host path, mode)}; units: more unit
    files {name: text}, enabled for multi-user.target; masks: units to mask."""
    work = tempfile.mkdtemp(prefix="crashcap-install-")
    try:
        sbin = "/usr/local/sbin"
        progs = [os.path.join(guest.BUILD, p) for p in ("crashcapd", "crashcapctl")]
        cmds = ["mkdir /usr/local/lib/crashcap", "mkdir /etc/systemd/system/multi-user.target.wants",
                "mkdir /var/crash"]
        for p in progs:
            install_file(cmds, p, f"{sbin}/{os.path.basename(p)}", 0o755)
        install_file(cmds, os.path.join(guest.BUILD, "crashcap-collect"),
                     "/usr/local/lib/crashcap/crashcap-collect", 0o755)
        for lib in host_libraries(progs):
            dest = "/usr/lib/x86_64-linux-gnu/" + os.path.basename(lib)
            if not image_has(image_path, dest):
                install_file(cmds, os.path.realpath(lib), dest, 0o644)
        with open(os.path.join(guest.TOP, "units", "crashcap.service")) as f:
            unit = f.read().replace("@SBINDIR@", sbin)
        all_units = {"crashcap.service": unit}
        all_units.update(units or {})
        for name, text in all_units.items():
            src = os.path.join(work, name)
            with open(src, "w") as f:
                f.write(text)
            install_file(cmds, src, f"/etc/systemd/system/{name}", 0o644)
            cmds.append(f"symlink /etc/systemd/system/multi-user.target.wants/{name} "
                        f"/etc/systemd/system/{name}")
        for name in masks:
            cmds.append(f"symlink /etc/systemd/system/{name} /dev/null")
        conf = os.path.join(work, "crashcap.conf")
        with open(conf, "w") as f:
            f.write(config_text)
        install_file(cmds, conf, "/etc/crashcap.conf", 0o644)
        for dest, (src, mode) in (files or {}).items():
            install_file(cmds, src, dest, mode)
        return debugfs(image_path, cmds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
