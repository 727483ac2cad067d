#!/usr/bin/python3
"""QEMU, 6.12 (bookworm-backports, no debug info): which readers open which
dumps, the kdump tools' argument sets verbatim and a full target. See
readerstest.py; the expectations are in readers.py."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import readerstest  # noqa: E402

sys.exit(readerstest.run("6.12"))
