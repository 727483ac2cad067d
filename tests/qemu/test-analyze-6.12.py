#!/usr/bin/python3
"""QEMU, 6.12 (bookworm-backports): the analyze test of test-analyze.py on
the newer kernel, whose kallsyms, task_struct, mm counters and module
layout differ from 6.1's."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyzetest  # noqa: E402

sys.exit(analyzetest.run("6.12", "analyze-6.12"))
