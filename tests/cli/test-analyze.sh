#!/usr/bin/env bash
# crashcapctl analyze's command line: usage errors and bad input (exit 1,
# one clear line); a small ELF vmcore without kallsyms in its VMCOREINFO
# gives a report that names what is missing and still shows what is there,
# the same from the kdump-compressed copy crashcap-collect makes of it;
# crashcap-collect --dump-dmesg reads such a kdump-compressed file;
# analyze --all writes analysis.json into dump folders.
. tests/cli/lib.sh
ctl=$build/crashcapctl
collect=$build/crashcap-collect
need_built "$ctl" "$collect"
cli_tmpdir analyze

# An x86_64 ELF vmcore: two CPU notes, a VMCOREINFO without kallsyms, 16 pages
# (pfns 8..15 zero: the kdump-compressed copy below leaves them out).
/usr/bin/python3 tests/cli/mkcore.py --cpus 2 "$tmp/vmcore" 0 16

run "$ctl" analyze
expect_err_line "analyze without a dump" 1 "crashcapctl: analyze takes one dump file: see crashcapctl analyze --help"
run "$ctl" analyze "$tmp/vmcore" "$tmp/vmcore"
expect_err_line "analyze with two dumps" 1 "crashcapctl: analyze takes one dump file: see crashcapctl analyze --help"
run "$ctl" analyze --frobnicate "$tmp/vmcore"
expect_err_line "analyze with an unknown option" 1 ""
echo "not a dump" >"$tmp/text"
run "$ctl" analyze "$tmp/text"
expect_err_line "analyze of a text file" 1 \
	"crashcapctl: $tmp/text: not a dump (neither kdump-compressed, flattened nor an ELF vmcore)"
run "$ctl" analyze "$tmp/missing"
expect_err_line "analyze of a missing file" 1 "crashcapctl: cannot open $tmp/missing: No such file or directory"
run "$ctl" analyze --help
if [ $rc = 0 ] && [[ $out == "Usage: crashcapctl analyze [--json] DUMP"* ]]; then
	ok "analyze --help"
else
	not_ok "analyze --help" "rc=$rc out=$out"
fi

run "$ctl" analyze "$tmp/vmcore"
if [ $rc = 0 ] &&
	grep -qxF "Note: no kernel symbols: VMCOREINFO lacks SYMBOL(kallsyms_names) (a kernel before 6.0?)." "$tmp/out" &&
	grep -qxF "  release     6.1.0-cli" "$tmp/out" &&
	grep -qxF "  crash time  2023-11-14 22:13:20 UTC" "$tmp/out" &&
	grep -qxF "  CPUs        2" "$tmp/out" &&
	grep -qxF "  (the kernel log is not described by VMCOREINFO)" "$tmp/out"; then
	ok "a vmcore without kallsyms: the report names what is missing and shows the rest"
else
	not_ok "a vmcore without kallsyms: the report names what is missing and shows the rest" \
		"rc=$rc stdout: $out stderr: $err"
fi

run "$ctl" analyze --json "$tmp/vmcore"
cp "$tmp/out" "$tmp/elf.json"
check_json() { # file
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["version"] == 1
assert r["symbols_error"].startswith("no kernel symbols: VMCOREINFO lacks SYMBOL(kallsyms_names)")
assert r["types_error"] is None
s = r["system"]
assert (s["release"], s["crash_time"], s["cpus"]) == ("6.1.0-cli", 1700000000, 2), s
for k in ("memory", "tasks", "modules"):
    assert r[k]["error"] == "needs the kernel's symbols, which are unavailable", (k, r[k])
assert r["tasks"]["list"] == [] and r["modules"]["list"] == []
assert r["panic"]["message"] is None and r["panic"]["registers"] is None
assert r["log"]["lines"] == [] and r["log"]["error"]
PY
}
if [ $rc = 0 ] && check_json "$tmp/elf.json" 2>"$tmp/pyerr"; then
	ok "analyze --json: documented keys, errors per section"
else
	not_ok "analyze --json: documented keys, errors per section" "rc=$rc $(cat "$tmp/pyerr") $out"
fi

run "$collect" -d 1 --compress zstd --quiet "$tmp/vmcore" "$tmp/dump.kdump"
expect_err_line "crashcap-collect makes a kdump-compressed copy" 0 ""
run "$ctl" analyze --json "$tmp/dump.kdump"
if [ $rc = 0 ] && check_json "$tmp/out" 2>"$tmp/pyerr" &&
	diff <(grep -v '"dump_' "$tmp/elf.json") <(grep -v '"dump_' "$tmp/out") >"$tmp/diff"; then
	ok "analyze of the kdump-compressed copy: the same report"
else
	not_ok "analyze of the kdump-compressed copy: the same report" \
		"rc=$rc $(cat "$tmp/pyerr" "$tmp/diff" 2>/dev/null) $err"
fi

run "$collect" --dump-dmesg "$tmp/dump.kdump" "$tmp/dmesg.txt"
expect_err_line "crashcap-collect --dump-dmesg reads a kdump-compressed file" 1 \
	"crashcap-collect: $tmp/dump.kdump: no kernel log found (VMCOREINFO lacks the printk symbols)."

# --all: analysis.json into each dump folder that has none.
d1="$tmp/dumps/2026-11-23-20:00:00-6.1.0-cli"
d2="$tmp/dumps/2026-11-23-21:00:00-6.1.0-cli"
d3="$tmp/dumps/2026-11-23-22:00:00-6.1.0-cli"
mkdir -p "$d1" "$d2" "$d3"
cp "$tmp/dump.kdump" "$d1/vmcore"
cp "$tmp/vmcore" "$d2/vmcore"
echo '{"result": "failed"}' >"$d3/summary.json"
for d in "$d1" "$d2"; do echo '{"result": "ok"}' >"$d/summary.json"; done
echo '{"kept": true}' >"$d2/analysis.json"
run "$ctl" analyze --all --dir "$tmp/dumps"
if [ $rc = 0 ] &&
	grep -qxF "2026-11-23-20:00:00-6.1.0-cli: no panic message" "$tmp/out" &&
	grep -qxF "1 analysis.json written, 0 failed, in $tmp/dumps" "$tmp/out" &&
	[ "$(stat -c %a "$d1/analysis.json")" = 600 ] && [ ! -e "$d3/analysis.json" ] &&
	grep -qF '"kept": true' "$d2/analysis.json" && check_json "$d1/analysis.json" 2>"$tmp/pyerr"; then
	ok "analyze --all writes analysis.json (mode 0600) where a dump has none"
else
	not_ok "analyze --all writes analysis.json (mode 0600) where a dump has none" \
		"rc=$rc out=$out err=$err $(cat "$tmp/pyerr" 2>/dev/null)"
fi
run "$ctl" analyze --all --dir "$tmp/dumps"
if [ $rc = 0 ] && [ "$out" = "0 analysis.json files written, 0 failed, in $tmp/dumps" ]; then
	ok "analyze --all again: nothing to do"
else
	not_ok "analyze --all again: nothing to do" "rc=$rc out=$out"
fi
run "$ctl" analyze --all --force --dir "$tmp/dumps"
if [ $rc = 0 ] && grep -qxF "2 analysis.json files written, 0 failed, in $tmp/dumps" "$tmp/out" &&
	check_json "$d2/analysis.json" 2>"$tmp/pyerr"; then
	ok "analyze --all --force replaces them"
else
	not_ok "analyze --all --force replaces them" "rc=$rc out=$out $(cat "$tmp/pyerr")"
fi
echo "not a dump" >"$d1/vmcore"
run "$ctl" analyze --all --force --dir "$tmp/dumps"
expect_err_line "analyze --all: a bad dump fails alone" 1 \
	"crashcapctl: 2026-11-23-20:00:00-6.1.0-cli: no analysis.json: Exec format error"
run "$ctl" analyze --all "$tmp/vmcore"
expect_err_line "analyze --all with a dump" 1 \
	"crashcapctl: analyze --all takes no dump and no --json: see crashcapctl analyze --help"
run "$ctl" analyze "$d2"
if [ $rc = 0 ] && grep -qxF "  release     6.1.0-cli" "$tmp/out"; then
	ok "analyze of a dump folder reads its vmcore"
else
	not_ok "analyze of a dump folder reads its vmcore" "rc=$rc $err"
fi

# list: the panic line and task from analysis.json; summary.json's line where the analysis failed.
cat >"$d2/analysis.json" <<'EOF'
{"version": 1, "system": {"release": "6.1.0-cli", "cpus": [0, 1]},
 "panic": {"message": "sysrq triggered crash", "cpu": 1, "pid": 4242, "comm": "bash",
           "registers": {"rip": "0x1"}, "backtrace": [{"symbol": "sysrq_handle_crash+0x16/0x20"}]},
 "tasks": {"list": [{"pid": 1, "comm": "init"}]}}
EOF
echo '{"version": 1, "dump": "x", "error": "analysis failed: Exec format error"}' >"$d1/analysis.json"
echo '{"result": "ok", "panic_message": "Kernel panic - not syncing: from summary"}' >"$d1/summary.json"
row() { sed -n "${1}p" "$tmp/out" | sed 's/  */ /g' | cut -d' ' -f6-; }
run "$ctl" list --dir "$tmp/dumps"
if [ $rc = 0 ] && [ "$(row 2)" = "complete Kernel panic - not syncing: from summary" ] &&
	[ "$(row 3)" = "complete sysrq triggered crash (pid 4242 bash)" ] && [ "$(row 4)" = "failed -" ]; then
	ok "list shows the panic line and task from analysis.json"
else
	not_ok "list shows the panic line and task from analysis.json" "rc=$rc out=$out err=$err"
fi
run "$ctl" list --json --dir "$tmp/dumps"
if [ $rc = 0 ] && /usr/bin/python3 - "$tmp/out" 2>"$tmp/pyerr" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))["dumps"]
got = [(x["panic_message"], x["panic_pid"], x["panic_comm"], x["analyzed"], x["analysis_error"]) for x in d]
assert got == [
    ("Kernel panic - not syncing: from summary", None, None, False, "analysis failed: Exec format error"),
    ("sysrq triggered crash", 4242, "bash", True, None),
    (None, None, None, False, None),
], got
PY
	ok "list --json: panic_message, panic_pid, panic_comm, analyzed, analysis_error"
else
	not_ok "list --json: panic_message, panic_pid, panic_comm, analyzed, analysis_error" \
		"rc=$rc $(cat "$tmp/pyerr") $out"
fi
echo '{"panic": {"pid": "not a number"' >"$d2/analysis.json"
run "$ctl" list --dir "$tmp/dumps"
if [ $rc = 0 ] && [ "$(row 3)" = "complete -" ]; then
	ok "list: a broken analysis.json is ignored"
else
	not_ok "list: a broken analysis.json is ignored" "rc=$rc out=$out err=$err"
fi

cli_done
