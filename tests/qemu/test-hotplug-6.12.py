#!/usr/bin/python3
"""QEMU: memory hotplug on 6.12, where the kernel keeps the loaded crash
image's elfcorehdr current itself (crash_hotplug reads 1): crashcapd does
not reload, and the dump still covers the hot-added memory. The same guest
as test-hotplug.py."""

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
hotplug = importlib.import_module("test-hotplug")

if __name__ == "__main__":
    sys.exit(hotplug.main("6.12"))
