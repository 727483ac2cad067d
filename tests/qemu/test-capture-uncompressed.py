#!/usr/bin/python3
"""QEMU: crashcapctl loads the crash kernel (kexec_file_load), the guest
panics, crashcap-collect saves a dump with uncompressed pages at dump level 1,
and Debian's makedumpfile (no zstd in 1.7.2) and libkdumpfile read it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture  # noqa: E402
import checks  # noqa: E402
import guest  # noqa: E402

CONFIG = """\
# crashcap's QEMU test: uncompressed pages, so makedumpfile 1.7.2 reads them
target = LABEL=crashdump
path = /
dump_level = 1
compression = none
final_action = reboot
failure_action = reboot
"""


def main():
    tap = guest.Tap()
    c = capture.capture("uncompressed", CONFIG)
    tap.note(c.rebuild_output)
    checks.phases(tap, c)
    checks.loader(tap, c)
    checks.dump_files(tap, c)
    checks.summary(tap, c, 1, "none")
    status = guest.read_header_status(c.vmcore) if c.vmcore and os.path.exists(c.vmcore) else None
    tap.check(status is not None and status & 0x8 == 0 and status & 0x27 == 0,
              "kdump-compressed header: complete, pages stored uncompressed", f"status {status}")
    text, err = guest.makedumpfile_dmesg(c.vmcore, os.path.join(c.work, "dmesg-makedumpfile.txt")) \
        if c.vmcore and os.path.exists(c.vmcore) else (None, "no vmcore")
    tap.check(text is not None and "sysrq: Trigger a crash" in text
              and "Kernel panic - not syncing: sysrq triggered crash" in text,
              "makedumpfile --dump-dmesg reads crashcap's dump: sysrq and panic lines", err)
    checks.dmesg_matches(tap, c, text, "crashcap's dump")
    checks.readable_by_libkdumpfile(tap, c, c.vmcore, "crashcap's dump")
    checks.timing(tap, c)
    return tap.done()


sys.exit(main())
