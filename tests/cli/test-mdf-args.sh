#!/usr/bin/env bash
# crashcap-collect with makedumpfile's command line: the argument sets the
# kdump tools pass, verbatim, on a small ELF vmcore; each dump read back with
# libkdumpfile (every page compared) and its header's compression bits; -F
# then -R (and makedumpfile -R) rebuilds; unsupported options refused by
# name, tuning options noted; makedumpfile's exit codes and -f; a full target.
# With the bench vmcore of a real 6.1 kernel present, makedumpfile
# --dump-dmesg reads the -c and -l dumps, and makedumpfile with the same
# arguments writes the very same bytes.
. tests/cli/lib.sh
bin=$build/crashcap-collect
py=/usr/bin/python3
cli_tmpdir mdf-args
RUN=("$bin")
status_of() { # dump: the header's status word
	od -An -tu4 -j424 -N4 "$1" 2>/dev/null | tr -d ' '
}
need_built "$bin"

mkcore() { # path
	$py tests/cli/mkcore.py "$1"
}

# Every page through libkdumpfile, and the descriptors' flags: prints
# "pages=64 bad=0 flags=F1,F2" (the distinct descriptor flags, sorted).
readback() { # dump
	$py - "$1" <<'PY' 2>&1
import struct, sys, kdumpfile
path = sys.argv[1]
k = kdumpfile.kdumpfile(path)
bad = 0
for pfn in range(64):
    want = bytes(4096) if 8 <= pfn < 24 else bytes((pfn * 7 + i // 64) & 0xFF for i in range(4096))
    if k.read(kdumpfile.KDUMP_MACHPHYSADDR, 0x100000 + pfn * 4096, 4096) != want:
        bad += 1
# The descriptors, from the format's offsets.
f = open(path, "rb").read()
sub_blocks, bitmap_blocks = struct.unpack_from("<iI", f, 432)
bm2 = 4096 * (1 + sub_blocks) + bitmap_blocks * 4096 // 2
desc = 4096 * (1 + sub_blocks + bitmap_blocks)
dumped = sum(bin(b).count("1") for b in f[bm2:desc])
flags = set()
for i in range(dumped):
    off, size, fl, pf = struct.unpack_from("<qIIQ", f, desc + 24 * i)
    flags.add(fl)
    if fl == 0 and size != 4096:
        bad += 1
print("pages=64 bad=%d flags=%s" % (bad, ",".join(str(x) for x in sorted(flags))))
PY
}

mkcore "$tmp/vmcore"
note31="crashcap-collect: Dump level 31 asked, 1 applied: VMCOREINFO has no plausible SIZE(page)."

# The kdump tools' argument sets, verbatim.
check_set() { # desc status flags args...
	local desc=$1 want_status=$2 want_flags=$3
	shift 3
	rm -f "$tmp/dump"
	run "$@" "$tmp/vmcore" "$tmp/dump"
	expect_err_line "$desc: exit 0" 0 ""
	local st rb
	st=$(status_of "$tmp/dump")
	[ "$st" = "$want_status" ] && ok "$desc: header status $want_status" ||
		not_ok "$desc: header status $want_status" "status $st"
	rb=$(readback "$tmp/dump")
	[ "$rb" = "pages=64 bad=0 flags=$want_flags" ] &&
		ok "$desc: libkdumpfile reads every page; descriptor flags $want_flags" ||
		not_ok "$desc: libkdumpfile reads every page; descriptor flags $want_flags" "$rb"
}
check_set "-l --message-level 7 -d 31 (Fedora)" 2 0,2 -l --message-level 7 -d 31
grep -qxF -- "$note31" "$tmp/err" && ok "--message-level 7 shows the notes" ||
	not_ok "--message-level 7 shows the notes" "$err"
check_set "-c -d 31 (Debian)" 1 0,1 -c -d 31
check_set "--num-threads 2" 32 0,32 --num-threads 2
[[ $err == *", 2 threads, "* ]] && ok "--num-threads 2 runs 2 threads" ||
	not_ok "--num-threads 2 runs 2 threads" "$err"
check_set "--num-threads 0 -d 1 (one thread)" 32 0,32 --num-threads 0 -d 1
[[ $err == *", 1 thread, "* ]] && ok "--num-threads 0 is one thread, as makedumpfile" ||
	not_ok "--num-threads 0 is one thread, as makedumpfile" "$err"
check_set "-p -d 31" 4 0,4 -p -d 31
check_set "-z -d 31" 32 0,32 -z -d 31
check_set "crashcap's and makedumpfile's options mixed" 2 0,2 -l --message-level 7 -d 31 -j 2 --no-mmap
check_set "--compress zlib" 1 0,1 --compress zlib -d 1
check_set "-c then -l: the last one wins, as makedumpfile" 2 0,2 -c -l

# -z is zstd level 1, as makedumpfile; --zstd-level, before or after, still wins
"$bin" -q -z -d 1 "$tmp/vmcore" "$tmp/z"
"$bin" -q --zstd-level 1 --compress zstd -d 1 "$tmp/vmcore" "$tmp/zc1"
"$bin" -q --zstd-level 19 -z -d 1 "$tmp/vmcore" "$tmp/z19"
"$bin" -q -z --zstd-level 19 -d 1 "$tmp/vmcore" "$tmp/z19b"
cmp -s "$tmp/z" "$tmp/zc1" && ok "-z compresses at zstd level 1" || not_ok "-z compresses at zstd level 1" "differs from --zstd-level 1"
if cmp -s "$tmp/z19" "$tmp/z19b" && ! cmp -s "$tmp/z19" "$tmp/z"; then
	ok "--zstd-level 19 wins over -z in either order"
else
	not_ok "--zstd-level 19 wins over -z in either order" "sizes $(stat -c %s "$tmp/z" "$tmp/z19" "$tmp/z19b" | tr '\n' ' ')"
fi

run -l --message-level 4 -d 31 "$tmp/vmcore" "$tmp/quiet"
if [ $rc = 0 ] && [ -z "$err" ]; then ok "--message-level 4: errors only"; else not_ok "--message-level 4: errors only" "$err"; fi
run -l --message-level 31 -d 31 "$tmp/vmcore" "$tmp/debug"
if [ $rc = 0 ] && [ -n "$err" ]; then ok "--message-level 31 is accepted"; else not_ok "--message-level 31 is accepted" "rc=$rc"; fi

# -F, then -R: the same file as a regular run, and as makedumpfile -R makes it
run -l --message-level 7 -d 31 "$tmp/vmcore" "$tmp/regular"
"$bin" -l --message-level 7 -d 31 -F "$tmp/vmcore" >"$tmp/stream" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ "$(head -c 12 "$tmp/stream")" = makedumpfile ] &&
	ok "-l --message-level 7 -d 31 -F (Fedora over ssh) writes the stream" ||
	not_ok "-l --message-level 7 -d 31 -F (Fedora over ssh) writes the stream" "rc=$rc"
"$bin" -R "$tmp/rebuilt" <"$tmp/stream" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && cmp -s "$tmp/rebuilt" "$tmp/regular"; then
	ok "-R rebuilds the regular file byte for byte"
else
	not_ok "-R rebuilds the regular file byte for byte" "rc=$rc $(cat "$tmp/err")"
fi
rb=$(readback "$tmp/rebuilt")
[ "$rb" = "pages=64 bad=0 flags=0,2" ] && ok "the rebuilt dump reads back" || not_ok "the rebuilt dump reads back" "$rb"
if command -v makedumpfile >/dev/null; then
	makedumpfile -R "$tmp/mdf-rebuilt" <"$tmp/stream" >/dev/null 2>&1
	cmp -s "$tmp/mdf-rebuilt" "$tmp/rebuilt" && ok "makedumpfile -R rebuilds the same file" ||
		not_ok "makedumpfile -R rebuilds the same file" "the files differ"
else
	skip "makedumpfile -R rebuilds the same file" "no makedumpfile"
fi
run -R "$tmp/rebuilt" <"$tmp/stream"
expect_err_line "-R refuses an existing file" 1 "crashcap-collect: $tmp/rebuilt exists: remove it, or add -f to replace it."
run -R -f "$tmp/rebuilt" <"$tmp/stream"
expect_err_line "-R -f replaces it" 0 ""
head -c 6000 "$tmp/stream" >"$tmp/cut-stream"
run -R "$tmp/cut" <"$tmp/cut-stream"
expect_err_line "-R on a stream cut short exits 1" 1 "crashcap-collect: The stream ended before its end marker: $tmp/cut is an INCOMPLETE dump of what arrived."
run -R "$tmp/notflat" <"$tmp/vmcore"
expect_err_line "-R on something else exits 1" 1 "crashcap-collect: Standard input is not a flattened stream (makedumpfile -F or crashcap-collect -F)."
run -R -l "$tmp/x" <"$tmp/stream"
expect_err_line "-R with -l is a usage error" 1 "crashcap-collect: -R rebuilds a stream as it is: drop -c/-l/-p/-z, -E and -F. Try --help."
run -R <"$tmp/stream"
expect_err_line "-R without a file" 1 "crashcap-collect: With -R, expected OUTPUT only (the stream comes on standard input), got 0 arguments. Try --help."

# -f: makedumpfile refuses to replace a file without it
run -c -d 31 "$tmp/vmcore" "$tmp/regular"
expect_err_line "makedumpfile style refuses an existing output" 1 "crashcap-collect: $tmp/regular exists: remove it, or add -f to replace it."
run -c -d 31 -f "$tmp/vmcore" "$tmp/regular"
expect_err_line "-f replaces it" 0 ""
[ "$(status_of "$tmp/regular")" = 1 ] && ok "the replaced file is the new zlib dump" || not_ok "the replaced file is the new zlib dump" "status $(status_of "$tmp/regular")"
run -q -d 1 "$tmp/vmcore" "$tmp/regular"
expect_err_line "crashcap style replaces the output as it always did" 0 ""
echo old >"$tmp/dmesg"
run -c --dump-dmesg "$tmp/vmcore" "$tmp/dmesg"
expect_err_line "--dump-dmesg in makedumpfile style refuses an existing file too" 1 "crashcap-collect: $tmp/dmesg exists: remove it, or add -f to replace it."

# run through a link named makedumpfile, as Debian's kdump-tools would find it in PATH
mkdir "$tmp/bin"
ln -s "$(realpath "$bin")" "$tmp/bin/makedumpfile"
PATH="$tmp/bin:$PATH" makedumpfile -c -d 31 -F "$tmp/vmcore" 2>/dev/null | cat >"$tmp/linked.flat"
PATH="$tmp/bin:$PATH" makedumpfile -R "$tmp/linked" <"$tmp/linked.flat" 2>"$tmp/err"
rc=$?
rb=$(readback "$tmp/linked")
[ $rc = 0 ] && [ "$rb" = "pages=64 bad=0 flags=0,1" ] && ok "a link named makedumpfile: -c -d 31 -F, then -R" ||
	not_ok "a link named makedumpfile: -c -d 31 -F, then -R" "rc=$rc $rb $(cat "$tmp/err")"
echo old >"$tmp/dmesg2"
"$tmp/bin/makedumpfile" --dump-dmesg "$tmp/vmcore" "$tmp/dmesg2" 2>"$tmp/err"
rc=$?
err=$(cat "$tmp/err")
expect_err_line "under that name --dump-dmesg refuses an existing file, as makedumpfile" 1 "crashcap-collect: $tmp/dmesg2 exists: remove it, or add -f to replace it."
"$tmp/bin/makedumpfile" --frobnicate 2>"$tmp/err"
rc=$?
err=$(cat "$tmp/err")
expect_err_line "under that name a usage error exits 1" 1 "crashcap-collect: Unknown option '--frobnicate'. Try --help."

# options that would change the output and are not implemented: an error naming them, exit 1
refused() { # option-and-value expected-line
	# shellcheck disable=SC2086
	run $1 "$tmp/vmcore" "$tmp/refused"
	expect_err_line "$1 is refused by name" 1 "crashcap-collect: makedumpfile's ${1%% *} is not supported by crashcap-collect: $2."
}
refused "-x vmlinux" "the page filter reads the kernel's layout from VMCOREINFO, not from vmlinux"
refused "--split" "crashcap-collect writes one file, with one thread per CPU (-j N)"
refused "--config filter.conf" "filtering by symbols needs -x, which is not supported either"
refused "--eppic script.c" "eppic filter scripts are not supported"
refused "-i vmcoreinfo" "VMCOREINFO is read from the vmcore itself"
refused "-e" "unused vmemmap pages are not excluded"
refused "-L 1G" "there is no size limit; dump level 31 keeps the file small"
refused "--dry-run" "it would write nothing"
refused "--partial-dmesg" "--dump-dmesg writes the whole log"
[ ! -e "$tmp/refused" ] && ok "a refused option writes nothing" || not_ok "a refused option writes nothing" "$tmp/refused exists"

# pure tuning: accepted with one line
tuning() { # option-and-value name
	rm -f "$tmp/tuned"
	# shellcheck disable=SC2086
	run -l -d 31 $1 "$tmp/vmcore" "$tmp/tuned"
	expect_err_line "$1 is accepted with a note" 0 "crashcap-collect: Note: $2 is makedumpfile tuning that crashcap-collect does not need; ignored."
}
tuning "--cyclic-buffer 1024" "--cyclic-buffer"
tuning "--work-dir /tmp" "--work-dir"
tuning "--non-cyclic" "--non-cyclic"
tuning "--splitblock-size 1024" "--splitblock-size"
tuning "-b 8" "-b"
rm -f "$tmp/tuned"
run -l -d 31 --non-mmap "$tmp/vmcore" "$tmp/tuned"
expect_err_line "--non-mmap is --no-mmap" 0 ""

# usage errors: 1 in makedumpfile style (as makedumpfile), 2 in crashcap's
run -l --frobnicate "$tmp/vmcore" "$tmp/output"
expect_err_line "makedumpfile style: an unknown option exits 1" 1 "crashcap-collect: Unknown option '--frobnicate'. Try --help."
run --frobnicate "$tmp/vmcore" "$tmp/output"
expect_err_line "crashcap style: an unknown option exits 2" 2 "crashcap-collect: Unknown option '--frobnicate'. Try --help."
run --frobnicate --message-level 7 "$tmp/vmcore" "$tmp/output"
expect_err_line "the style is known before the bad option" 1 "crashcap-collect: Unknown option '--frobnicate'. Try --help."
run -l -d 32 "$tmp/vmcore" "$tmp/output"
expect_err_line "-l -d 32 exits 1" 1 "crashcap-collect: --dump-level must be 0..31, not '32'. Try --help."
run --message-level 32 "$tmp/vmcore" "$tmp/output"
expect_err_line "--message-level 32 exits 1" 1 "crashcap-collect: --message-level must be 0..31, not '32'. Try --help."
run --num-threads x "$tmp/vmcore" "$tmp/output"
expect_err_line "--num-threads x exits 1" 1 "crashcap-collect: --num-threads must be 0..1024, not 'x'. Try --help."
run -E -c "$tmp/vmcore" "$tmp/output"
expect_err_line "-E -c exits 1, as makedumpfile" 1 "crashcap-collect: -E writes an ELF core, whose pages are not compressed: drop -c/-l/-p/-z. Try --help."
run -l "$tmp/vmcore"
expect_err_line "-l with one argument exits 1" 1 "crashcap-collect: Expected VMCORE and OUTPUT, got 1 argument. Try --help."
run -l -d 31 --check-params "$tmp/vmcore" "$tmp/checked"
if [ $rc = 0 ] && [ ! -e "$tmp/checked" ]; then ok "--check-params checks and writes nothing"; else not_ok "--check-params checks and writes nothing" "rc=$rc"; fi
run -v
[ $rc = 0 ] && [[ $out == "crashcap-collect "* ]] && ok "-v prints the version" || not_ok "-v prints the version" "rc=$rc $out"
run --help
[ $rc = 0 ] && [[ $out == *"--message-level N"* ]] && ok "--help lists makedumpfile's options" || not_ok "--help lists makedumpfile's options" "rc=$rc"

# a target that fills up: exit 1, the file marked INCOMPLETE
(
	ulimit -f 24
	"$bin" -l --message-level 7 -d 0 "$tmp/vmcore" "$tmp/full" 2>"$tmp/err"
	echo $? >"$tmp/rc"
)
rc=$(cat "$tmp/rc")
err=$(cat "$tmp/err")
expect_err_line "a target that fills up exits 1" 1 ""
grep -q "It is an INCOMPLETE dump of the [0-9]* pages written.$" "$tmp/err" &&
	ok "... and says the dump is INCOMPLETE" || not_ok "... and says the dump is INCOMPLETE" "$err"
[ "$(status_of "$tmp/full")" = $((0x2 | 0x8)) ] && ok "... and the header says INCOMPLETE|LZO" ||
	not_ok "... and the header says INCOMPLETE|LZO" "status $(status_of "$tmp/full")"
run -c -d 31 -f "$tmp/vmcore" /dev/full
expect_err_line "/dev/full exits 1" 1 "crashcap-collect: Cannot write /dev/full: No space left on device"

# makedumpfile itself reads the -c and -l dumps of a real kernel (Debian's has no zstd or snappy)
real=$build/cache/bench/6.1/vmcore.elf
if [ -r "$real" ] && command -v makedumpfile >/dev/null; then
	makedumpfile --dump-dmesg "$real" "$tmp/want.txt" >/dev/null 2>&1
	for args in "-l --message-level 7 -d 31" "-c -d 31"; do
		rm -f "$tmp/real.dump" "$tmp/got.txt"
		# shellcheck disable=SC2086
		"$bin" $args -q "$real" "$tmp/real.dump" 2>"$tmp/err"
		rc=$?
		makedumpfile --dump-dmesg "$tmp/real.dump" "$tmp/got.txt" >/dev/null 2>&1
		if [ $rc = 0 ] && [ -s "$tmp/got.txt" ] && cmp -s "$tmp/got.txt" "$tmp/want.txt"; then
			ok "makedumpfile --dump-dmesg reads the 6.1 dump made with $args"
		else
			not_ok "makedumpfile --dump-dmesg reads the 6.1 dump made with $args" "rc=$rc $(cat "$tmp/err")"
		fi
		# the same pfns, the same compressed bytes: the very file makedumpfile writes
		rm -f "$tmp/mdf.dump"
		# shellcheck disable=SC2086
		makedumpfile $args "$real" "$tmp/mdf.dump" >/dev/null 2>&1
		if cmp -s "$tmp/mdf.dump" "$tmp/real.dump"; then
			ok "makedumpfile $args writes the same bytes on the 6.1 vmcore"
		else
			not_ok "makedumpfile $args writes the same bytes on the 6.1 vmcore" "$(cmp "$tmp/mdf.dump" "$tmp/real.dump" 2>&1)"
		fi
	done
	rm -f "$tmp/real.dump" "$tmp/mdf.dump"
else
	skip "makedumpfile --dump-dmesg reads real -c and -l dumps" "no $real (make bench fetches it)"
fi

cli_done
