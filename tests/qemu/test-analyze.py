#!/usr/bin/python3
"""QEMU, 6.1: crashcapctl analyze of a captured panic (crashcap's dump, the
raw vmcore, makedumpfile -d 31 regular and flattened) against what the
guest printed about its marker tasks, memory and modules before it."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyzetest  # noqa: E402

sys.exit(analyzetest.run("6.1", "analyze-6.1"))
