#!/usr/bin/python3
"""A small x86_64 ELF vmcore for the CLI tests: CPU notes (one by default),
VMCOREINFO (release 6.1.0-cli, no page tables and no kallsyms: filtering
falls back to zero pages, analyze reports the symbols missing), and 64 pages
of RAM at 1 MiB, pfns 8..23 zero, the others a pattern of the pfn.

    mkcore.py [--cpus N] [--release R] PATH [CUT-AT|0] [PAGES]

CUT-AT: the file is cut there (a truncated vmcore); PAGES: that many pages;
--cpus: that many CPU notes (analyze counts the CPUs from them); --release:
VMCOREINFO's OSRELEASE.
"""
import argparse, struct

ap = argparse.ArgumentParser(description="Writes a small x86_64 ELF vmcore.")
ap.add_argument("--cpus", type=int, default=1, help="CPU (NT_PRSTATUS) notes, default 1")
ap.add_argument("--release", default="6.1.0-cli", help="OSRELEASE, default 6.1.0-cli")
ap.add_argument("path")
ap.add_argument("cut", nargs="?", type=int, default=0, help="cut the file there (0: no)")
ap.add_argument("pages", nargs="?", type=int, default=64, help="pages of RAM, default 64")
args = ap.parse_args()
if args.cpus < 1 or args.pages < 1 or args.cut < 0:
    ap.error("--cpus and PAGES must be at least 1, CUT-AT at least 0")

def note(name, typ, desc):
    n = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), typ) + pad(n) + pad(desc)
vi = f"OSRELEASE={args.release}\nPAGESIZE=4096\nCRASHTIME=1700000000\n".encode()
notes = note("CORE", 1, b"\0" * 336) * args.cpus + note("VMCOREINFO", 0, vi)
phoff, phnum = 64, 2
note_off = phoff + phnum * 56
load_off = (note_off + len(notes) + 4095) & ~4095
mem = bytearray()
for pfn in range(args.pages):
    if 8 <= pfn < 24:
        mem += bytes(4096)
    else:
        mem += bytes((pfn * 7 + i // 64) & 0xFF for i in range(4096))
eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
eh += struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, 0, 0, 64, 56, phnum, 0, 0, 0)
ph = struct.pack("<IIQQQQQQ", 4, 0, note_off, 0, 0, len(notes), len(notes), 0)
ph += struct.pack("<IIQQQQQQ", 1, 7, load_off, 0xffff888000100000, 0x100000,
                  len(mem), len(mem), 0)
data = bytearray(eh + ph + notes)
data += bytes(load_off - len(data)) + mem
if args.cut:
    data = data[:args.cut]
open(args.path, "wb").write(data)
