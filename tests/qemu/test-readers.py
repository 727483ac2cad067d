#!/usr/bin/python3
"""QEMU, 6.1 (cloud flavour, with its debug vmlinux): which readers open
which dumps, the kdump tools' argument sets verbatim, a full target, and
makedumpfile with the same arguments as the page-by-page oracle. See
readerstest.py; the expectations are in readers.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readerstest  # noqa: E402

sys.exit(readerstest.run("6.1"))
