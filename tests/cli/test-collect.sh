#!/usr/bin/env bash
# crashcap-collect's command line: usage errors (exit 2), bad input (exit 1,
# one clear line), and a round trip through a small ELF vmcore that Python
# writes, complete (exit 0) and truncated (exit 1, an INCOMPLETE dump kept).
. tests/cli/lib.sh
bin=$build/crashcap-collect
cli_tmpdir collect
RUN=("$bin")
need_built "$bin"

# A small x86_64 ELF vmcore: one CPU note, VMCOREINFO, 64 pages of RAM at
# 1 MiB (16 of them zero). With a second argument, the file is cut there;
# with a third, it has that many pages (pfns 8..23 stay zero).
mkcore() { # path [truncate-at|0] [pages]
	/usr/bin/python3 tests/cli/mkcore.py "$@"
}

# usage errors: exit 2
run
expect_err_line "no arguments is a usage error" 2 "crashcap-collect: Expected VMCORE and OUTPUT, got 0 arguments. Try --help."
run -d 32 "$tmp/vmcore" "$tmp/output"
expect_err_line "-d 32 is a usage error" 2 "crashcap-collect: --dump-level must be 0..31, not '32'. Try --help."
run --dump-level=abc "$tmp/vmcore" "$tmp/output"
expect_err_line "-d abc is a usage error" 2 "crashcap-collect: --dump-level must be 0..31, not 'abc'. Try --help."
run -d -1 "$tmp/vmcore" "$tmp/output"
expect_err_line "-d -1 is a usage error" 2 "crashcap-collect: --dump-level must be 0..31, not '-1'. Try --help."
run --compress lz4 "$tmp/vmcore" "$tmp/output"
expect_err_line "--compress lz4 is a usage error" 2 "crashcap-collect: --compress must be zstd, zlib, lzo, snappy or none, not 'lz4'. Try --help."
run --zstd-level 20 "$tmp/vmcore" "$tmp/output"
expect_err_line "--zstd-level 20 is a usage error" 2 "crashcap-collect: --zstd-level must be -50..-1 or 1..19, not '20'. Try --help."
run --frobnicate "$tmp/vmcore" "$tmp/output"
expect_err_line "an unknown option is a usage error" 2 "crashcap-collect: Unknown option '--frobnicate'. Try --help."
run "$tmp/vmcore" "$tmp/output" extra
expect_err_line "three arguments is a usage error" 2 "crashcap-collect: Expected VMCORE and OUTPUT, got 3 arguments. Try --help."
run -F "$tmp/vmcore" "$tmp/output"
expect_err_line "-F with an output file is a usage error" 2 "crashcap-collect: With -F, expected VMCORE only (the stream goes to standard output), got 2 arguments. Try --help."
run --zstd-level 0 "$tmp/vmcore" "$tmp/output"
expect_err_line "--zstd-level 0 is a usage error" 2 "crashcap-collect: --zstd-level must be -50..-1 or 1..19, not '0'. Try --help."
run --zstd-level -51 "$tmp/vmcore" "$tmp/output"
expect_err_line "--zstd-level -51 is a usage error" 2 "crashcap-collect: --zstd-level must be -50..-1 or 1..19, not '-51'. Try --help."
run -j -1 "$tmp/vmcore" "$tmp/output"
expect_err_line "-j -1 is a usage error" 2 "crashcap-collect: --threads must be 0..1024, not '-1'. Try --help."
run -d
expect_err_line "-d without a value is a usage error" 2 "crashcap-collect: Missing value for option '-d'. Try --help."

run --help
if [ $rc = 0 ] && [[ $out == "Usage: crashcap-collect [OPTIONS] VMCORE OUTPUT"* ]] &&
	grep -q "INCOMPLETE" "$tmp/out"; then
	ok "--help prints the usage and the exit statuses"
else
	not_ok "--help prints the usage and the exit statuses" "rc=$rc out=$out"
fi
run --version
if [ $rc = 0 ] && [[ $out == "crashcap-collect "* ]]; then ok "--version"; else not_ok "--version" "rc=$rc out=$out"; fi

# bad input: exit 1, one line that names the problem
run "$tmp/missing" "$tmp/output"
expect_err_line "a missing vmcore" 1 "crashcap-collect: Cannot open $tmp/missing: No such file or directory"
echo "hello world, not a core" >"$tmp/text"
run "$tmp/text" "$tmp/output"
expect_err_line "a text file is not an ELF vmcore" 1 "crashcap-collect: $tmp/text: not an ELF vmcore (no ELF header)"
[ ! -e "$tmp/output" ] && ok "no output is left after bad input" || not_ok "no output is left after bad input" "$tmp/out exists"
/usr/bin/python3 -c 'import struct,sys; open(sys.argv[1],"wb").write(b"\x7fELF\x02\x01\x01"+bytes(9)+struct.pack("<HHI",2,62,1)+bytes(4096))' "$tmp/program"
run "$tmp/program" "$tmp/output"
expect_err_line "an executable is not a vmcore" 1 "crashcap-collect: $tmp/program: not an ELF vmcore (ELF type 2, expected a core file)"
run "$tmp" "$tmp/output"
expect_err_line "a directory is not a vmcore" 1 "crashcap-collect: $tmp is a directory, not a vmcore."

mkcore "$tmp/vmcore"
run "$tmp/vmcore" "$tmp/nodir/out"
expect_err_line "a missing output directory" 1 "crashcap-collect: Output directory $tmp/nodir does not exist."

# round trip
run -d 1 "$tmp/vmcore" "$tmp/dump"
expect_err_line "a small vmcore at -d 1" 0 ""
if [[ $err == "crashcap-collect: $tmp/dump: 48 of 64 pages written, 16 zero pages, 0 excluded, "*", dump level 1, "*" s, "*" thread"*", peak memory "* ]]; then
	ok "the summary line counts pages"
else
	not_ok "the summary line counts pages" "stderr: $err"
fi
if file "$tmp/dump" | grep -q "Kdump compressed dump v6, system Linux, .*release 6.1.0-cli, .*machine x86_64"; then
	ok "file(1) names the dump"
else
	not_ok "file(1) names the dump" "$(file "$tmp/dump")"
fi
perm=$(stat -c %a "$tmp/dump")
[ "$perm" = 600 ] && ok "the dump is readable by its owner only" || not_ok "the dump is readable by its owner only" "mode $perm"

run "$tmp/vmcore" "$tmp/dump31"
expect_err_line "the default level 31 falls back to 1, with a note that says why" 0 "crashcap-collect: Dump level 31 asked, 1 applied: VMCOREINFO has no plausible SIZE(page)."
run -q -d 0 --compress none "$tmp/vmcore" "$tmp/dump0"
if [ $rc = 0 ] && [ -z "$err" ] && [ "$(stat -c %s "$tmp/dump0")" -gt $((64 * 4096)) ]; then
	ok "--quiet -d 0 --compress none: silent, every page stored"
else
	not_ok "--quiet -d 0 --compress none: silent, every page stored" "rc=$rc err=$err"
fi
vi_off=$(od -An -tu8 -j$((4096 + 32)) -N8 "$tmp/dump0" | tr -d ' ')
vi_size=$(od -An -tu8 -j$((4096 + 40)) -N8 "$tmp/dump0" | tr -d ' ')
vi=$(dd if="$tmp/dump0" bs=1 skip="$vi_off" count="$vi_size" status=none)
if [ "$vi" = "$(printf 'OSRELEASE=6.1.0-cli\nPAGESIZE=4096\nCRASHTIME=1700000000')" ]; then
	ok "offset_vmcoreinfo points at the VMCOREINFO text"
else
	not_ok "offset_vmcoreinfo points at the VMCOREINFO text" "found: $vi"
fi

# truncated input: exit 1, a warning, an INCOMPLETE dump kept
size=$(stat -c %s "$tmp/vmcore")
mkcore "$tmp/cut" $((size - 10 * 4096 - 100))
run -d 1 "$tmp/cut" "$tmp/dumpcut"
expect_err_line "a truncated vmcore exits 1 with a warning" 1 "crashcap-collect: $tmp/cut is truncated: 11 pages could not be read; $tmp/dumpcut is an INCOMPLETE dump."
status=$(od -An -tu4 -j424 -N4 "$tmp/dumpcut" 2>/dev/null | tr -d ' ')
[ "$status" = $((0x20 | 0x8)) ] && ok "the kept dump says INCOMPLETE|ZSTD" || not_ok "the kept dump says INCOMPLETE|ZSTD" "status $status"

# a full disk, as a file size limit: exit 1, a warning, the file kept
(
	ulimit -f 40
	"$bin" -q -d 0 --compress none "$tmp/vmcore" "$tmp/dumpfull" 2>"$tmp/err"
	echo $? >"$tmp/rc"
)
rc=$(cat "$tmp/rc")
err=$(cat "$tmp/err")
expect_err_line "a full disk exits 1 with a warning" 1 "crashcap-collect: Writing $tmp/dumpfull stopped early: File too large. It is an INCOMPLETE dump of the 0 pages written."
status=$(od -An -tu4 -j424 -N4 "$tmp/dumpfull" 2>/dev/null | tr -d ' ')
[ "$status" = 8 ] && ok "the kept dump says INCOMPLETE" || not_ok "the kept dump says INCOMPLETE" "status $status"

# -F: the flattened stream, rebuilt by makedumpfile -R, is the regular dump
"$bin" -q -d 1 -j 3 "$tmp/vmcore" "$tmp/regular"
"$bin" -q -d 1 -j 1 -F "$tmp/vmcore" >"$tmp/stream" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && [ ! -s "$tmp/err" ] && [ "$(head -c 12 "$tmp/stream")" = makedumpfile ]; then
	ok "-F writes the stream to standard output"
else
	not_ok "-F writes the stream to standard output" "rc=$rc $(cat "$tmp/err")"
fi
if command -v makedumpfile >/dev/null; then
	rm -f "$tmp/rebuilt"
	makedumpfile -R "$tmp/rebuilt" <"$tmp/stream" >"$tmp/mdf.log" 2>&1
	if cmp -s "$tmp/rebuilt" "$tmp/regular"; then
		ok "makedumpfile -R rebuilds the regular dump byte for byte (threads 1 and 3 alike)"
	else
		not_ok "makedumpfile -R rebuilds the regular dump byte for byte (threads 1 and 3 alike)" "$(cat "$tmp/mdf.log")"
	fi
fi
"$bin" -q -d 1 -F "$tmp/vmcore" | cat >"$tmp/stream2"
cmp -s "$tmp/stream" "$tmp/stream2" && ok "-F into a pipe" || not_ok "-F into a pipe" "streams differ"
# SIGTERM in the middle: the stream still ends, with an INCOMPLETE header
mkcore "$tmp/big" 0 8192
"$bin" -q -d 0 --compress none -F "$tmp/big" 2>"$tmp/err" | head -c 100 >/dev/null
rc=${PIPESTATUS[0]}
# (the reader may be gone before the stream's header, or after some pages)
if [ "$rc" = 1 ] && grep -qE "(Writing|Cannot write) standard output.*Broken pipe" "$tmp/err"; then
	ok "a reader that goes away: EPIPE, exit 1, no signal death"
else
	not_ok "a reader that goes away: EPIPE, exit 1, no signal death" "rc=$rc $(cat "$tmp/err")"
fi

mkfifo "$tmp/fifo"
"$bin" -d 0 --compress none -j 1 -F "$tmp/big" >"$tmp/fifo" 2>"$tmp/err" &
pid=$!
exec 3<"$tmp/fifo"
dd bs=100000 count=1 iflag=fullblock <&3 >"$tmp/part" 2>/dev/null
kill -TERM $pid
cat <&3 >>"$tmp/part"
exec 3<&-
wait $pid
rc=$?
if [ $rc = 1 ] && grep -q "^crashcap-collect: Interrupted: standard output is an INCOMPLETE dump of the [0-9]* pages written.$" "$tmp/err"; then
	ok "SIGTERM: exit 1 and a warning"
else
	not_ok "SIGTERM: exit 1 and a warning" "rc=$rc $(cat "$tmp/err")"
fi
if command -v makedumpfile >/dev/null; then
	rm -f "$tmp/rebuilt"
	makedumpfile -R "$tmp/rebuilt" <"$tmp/part" >/dev/null 2>&1
	status=$(od -An -tu4 -j424 -N4 "$tmp/rebuilt" 2>/dev/null | tr -d ' ')
	[ "$status" = 8 ] && ok "SIGTERM: the rebuilt dump says INCOMPLETE" || not_ok "SIGTERM: the rebuilt dump says INCOMPLETE" "status $status"
fi

# -E: an ELF core; read back, it gives the same dump as the vmcore itself
run -q -E -d 1 "$tmp/vmcore" "$tmp/core.elf"
loads=$(readelf -lW "$tmp/core.elf" 2>/dev/null | grep -c " LOAD ")
if [ $rc = 0 ] && [ "$loads" = 1 ] && [ "$(head -c 4 "$tmp/core.elf" | od -An -c | tr -d ' ')" = "177ELF" ]; then
	ok "-E writes an ELF core (16 zero pages in a row are kept: one PT_LOAD)"
else
	not_ok "-E writes an ELF core (16 zero pages in a row are kept: one PT_LOAD)" "rc=$rc loads=$loads $err"
fi
"$bin" -q -d 1 "$tmp/core.elf" "$tmp/from-elf"
cmp -s "$tmp/from-elf" "$tmp/regular" && ok "the ELF output as input gives the same dump" || not_ok "the ELF output as input gives the same dump" "dumps differ"

# --progress: at most a line a second, percent, speed and time left
run --progress -q -d 0 --compress none --no-mmap "$tmp/big" "$tmp/bigdump"
if [ $rc = 0 ] && ! grep -qv "^crashcap-collect: [0-9]*% of 32.0 MiB" "$tmp/err"; then
	ok "--progress prints only progress lines"
else
	not_ok "--progress prints only progress lines" "$err"
fi

# --dump-dmesg
run --dump-dmesg "$tmp/text" "$tmp/dmesg.txt"
expect_err_line "--dump-dmesg on a text file" 1 "crashcap-collect: $tmp/text: not an ELF vmcore (no ELF header)"
run --dump-dmesg "$tmp/vmcore" "$tmp/dmesg.txt"
expect_err_line "--dump-dmesg without printk symbols" 1 "crashcap-collect: $tmp/vmcore: no kernel log found (VMCOREINFO lacks the printk symbols)."

cli_done
