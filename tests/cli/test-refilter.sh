#!/usr/bin/env bash
# crashcap-collect re-filtering a kdump-compressed dump, on a real 6.1
# vmcore (the bench's, build/cache/bench/6.1; skipped when it is not
# there) and Debian's makedumpfile: -d 31 of makedumpfile's -d 1 dump
# (lzo) and of crashcap's flattened -d 1 stream (zstd) keeps the same pfns
# with the same bytes as -d 31 of the vmcore; asking for less than the
# input's level is a note, not an error, and the header keeps the union;
# a truncated input gives a readable INCOMPLETE dump; makedumpfile reads
# the result.
. tests/cli/lib.sh
collect=$build/crashcap-collect
vmcore=${CRASHCAP_REFILTER_VMCORE:-build/cache/bench/6.1/vmcore.elf}
py=/usr/bin/python3
need_built "$collect"
if [ ! -r "$vmcore" ] || ! command -v makedumpfile >/dev/null; then
	skip "re-filtering a real vmcore" "no $vmcore (make bench makes it) or no makedumpfile"
	cli_done
fi
cli_tmpdir refilter
RUN=("$collect" -q)

# makedumpfile's output depends on the vmcore only: kept beside it.
cache=$(dirname "$vmcore")/refilter
key=$(stat -c '%s-%Y' "$vmcore")
mdf=$cache/mdf-l-d1-$key.kdump
if [ ! -s "$mdf" ]; then
	mkdir -p "$cache" && rm -f "$cache"/mdf-l-d1-*.kdump
	makedumpfile -l -d 1 "$vmcore" "$mdf.tmp" >"$tmp/mdf.log" 2>&1 && mv "$mdf.tmp" "$mdf"
fi
[ -s "$mdf" ] || not_ok "makedumpfile -l -d 1 of the vmcore" "$(tail -n 5 "$tmp/mdf.log")"

# Dumped pfns and their bytes, of two uncompressed kdump files; their header's levels.
cat >"$tmp/cmp.py" <<'PY'
import mmap, struct, sys
class KD:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.m = m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        assert m[:8] == b"KDUMP   ", path + ": not kdump-compressed"
        self.status, bs, sub, blocks = struct.unpack_from("<Iiii", m, 424)
        self.level = struct.unpack_from("<i", m, bs + 8)[0]
        half, start = blocks * bs // 2, bs * (1 + sub)
        bm2 = m[start + half:start + 2 * half]
        self.desc = start + 2 * half
        self.pfns = [i * 8 + k for i, b in enumerate(bm2) if b for k in range(8) if b >> k & 1]
    def page(self, n):
        off, size, flags, _ = struct.unpack_from("<qIIQ", self.m, self.desc + 24 * n)
        assert flags == 0, "compressed page"
        return self.m[off:off + size]
a, b = KD(sys.argv[1]), KD(sys.argv[2])
print(a.level, b.level, a.status, b.status, len(a.pfns), len(b.pfns), end=" ")
if sys.argv[3:] == ["subset"]:  # b holds a part of a's pages, the same bytes
    ia = {p: n for n, p in enumerate(a.pfns)}
    bad = [p for n, p in enumerate(b.pfns) if p not in ia or a.page(ia[p]) != b.page(n)]
else:
    bad = [p for n, p in enumerate(a.pfns) if n >= len(b.pfns) or b.pfns[n] != p or a.page(n) != b.page(n)]
    bad += b.pfns[len(a.pfns):]
print(len(bad), bad[:5])
PY
same() { # a b [subset] -> "levelA levelB statusA statusB pagesA pagesB bad [first]"
	"$py" "$tmp/cmp.py" "$@" 2>&1
}

run -d 31 --compress none "$vmcore" "$tmp/direct"
check_eq "-d 31 of the vmcore" "$rc" 0 "$err"
direct=$(same "$tmp/direct" "$tmp/direct")
pages=$(cut -d' ' -f5 <<<"$direct")
echo "# -d 31 of $vmcore keeps $pages pages"

run -d 31 --compress none "$mdf" "$tmp/from-mdf"
check_eq "-d 31 of makedumpfile's -l -d 1 dump: the same pfns with the same bytes as -d 31 of the vmcore, level 31" \
	"$rc $(same "$tmp/direct" "$tmp/from-mdf")" "0 31 31 0 0 $pages $pages 0 []" "$err"

# (crashcap's own -d 1 dumps in every compression: tests/unit/test-refilter.c)
"$collect" -q -F -d 1 --compress zstd "$vmcore" >"$tmp/d1.flat" 2>"$tmp/err"
run -d 31 --compress none "$tmp/d1.flat" "$tmp/from-flat"
check_eq "-d 31 of a flattened (-F) -d 1 zstd stream: the same" \
	"$rc $(same "$tmp/direct" "$tmp/from-flat")" "0 31 31 0 0 $pages $pages 0 []" "$err"

RUN=("$collect")
run -d 1 --compress none "$tmp/direct" "$tmp/lower"
expect "asking for a lower level than the input's: exit 0" 0 ""
expect "... with a note that the pages are gone for good" 0 \
	"crashcap-collect: Dump level 1 asked, 31 applied: direct was written at dump level 31, and the pages it left out cannot come back."
check_eq "... the header says 31, no page comes back as zeros" \
	"$(same "$tmp/direct" "$tmp/lower")" "31 31 0 0 $pages $pages 0 []"

run -d 31 --compress zstd "$tmp/direct" "$tmp/direct.zst"
size=$(stat -c %s "$tmp/direct.zst")
head -c $((size / 2)) "$tmp/direct.zst" >"$tmp/cut.zst"
run -d 31 --compress none "$tmp/cut.zst" "$tmp/from-cut"
expect "a truncated input: the result is INCOMPLETE, and says so" 1 "cut.zst is truncated: "
r=$(same "$tmp/direct" "$tmp/from-cut" subset)
if [ "$(cut -d' ' -f4,7 <<<"$r")" = "8 0" ] && [ "$(cut -d' ' -f6 <<<"$r")" -gt 0 ]; then
	ok "... readable: the pages it holds are the vmcore's"
else
	not_ok "... readable: the pages it holds are the vmcore's" "$r"
fi

rm -f "$tmp/dmesg.txt"
if makedumpfile --dump-dmesg "$tmp/from-mdf" "$tmp/dmesg.txt" >"$tmp/mdf.log" 2>&1 && grep -q "sysrq" "$tmp/dmesg.txt"; then
	ok "makedumpfile --dump-dmesg reads the re-filtered dump"
else
	not_ok "makedumpfile --dump-dmesg reads the re-filtered dump" "$(tail -n 5 "$tmp/mdf.log")"
fi
cli_done
