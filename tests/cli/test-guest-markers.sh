#!/usr/bin/env bash
# The QEMU harness's marker reader (tests/qemu/guest.py said/said_json): a
# kernel message written to the serial port while a long "CRASHCAP-TEST:"
# line was still draining cut that line in two, and a check read no JSON
# (test-reserve-size, 4 GiB guest, on a clean-clone run). The cases below
# are lines as the serial log had them.
. tests/cli/lib.sh

got() { # python expression over run
	CRASHCAP_TOP=$PWD python3 - "$1" <<'PY'
import json, sys
sys.path.insert(0, "tests/qemu")
import guest

class Run:
    lines = []

def lines(*texts):
    r = Run()
    r.lines = [(i, t) for i, t in enumerate(texts)]
    return r

cut = lines(
    "CRASHCAP-TEST: status rc=0",
    'CRASHCAP-TEST: estimate-json {  "parts": [ { "why": "measured on Debian 6.1 gues'
    '[    5.148269] hrtimer: interrupt took 11617200 ns',
    'ts" } ],  "proposal": 117440512,  "crashkernel": "112M"}',
    "ESTIMATE| PART SIZE")
twice = lines(
    'CRASHCAP-TEST: status-json {"loaded": tr[   12.000001] virtio_blk virtio1: [vdb] 4096 blocks',
    "[   12.000002] random: crng init done",
    "[   12.000003] another message",
    'ue, "image": {"method": "file"}[   12.100000] x: y',
    '}',
    'CRASHCAP-TEST: status-json {"loaded": false}')
plain = lines(
    "CRASHCAP-TEST: crash_hotplug memory=1",
    "CRASHCAP-TEST: loaded-after-storm 1",
    "CRASHCAP-TEST: loaded-after 0",
    "CRASHCAP-TEST: pid1",
    "CRASHCAP-TEST: status-json-bad {",
    "CRASHCAP-TEST: text one[    1.000000] kernel says",
    "two")
print(json.dumps(eval(sys.argv[1])))
PY
}

check_eq "a JSON marker cut by one kernel message is read whole" \
	"$(got 'guest.said_json(cut, "estimate-json")')" \
	'{"parts": [{"why": "measured on Debian 6.1 guests"}], "proposal": 117440512, "crashkernel": "112M"}'
check_eq "... the line after it is not taken for part of it" \
	"$(got 'guest.said(cut, "status")')" '"rc=0"'
check_eq "cut by three messages, one of them inside the rest: read whole (first=True)" \
	"$(got 'guest.said_json(twice, "status-json", first=True)')" \
	'{"loaded": true, "image": {"method": "file"}}'
check_eq "the last of two markers is the default" \
	"$(got 'guest.said_json(twice, "status-json")')" '{"loaded": false}'
check_eq "a key ending in = takes the value right after it" \
	"$(got 'guest.said(plain, "crash_hotplug memory=")')" '"1"'
check_eq "a key is not a prefix of a longer key" \
	"$(got 'guest.said(plain, "loaded-after")')" '"0"'
check_eq "a key alone gives the empty string" "$(got 'guest.said(plain, "pid1")')" '""'
check_eq "a key the guest never said gives None" "$(got 'guest.said(plain, "nothing")')" 'null'
check_eq "JSON that does not parse gives None, and said() keeps the raw text" \
	"$(got '[guest.said_json(plain, "status-json-bad"), guest.said(plain, "status-json-bad")]')" \
	'[null, "{"]'
check_eq "plain text cut by a kernel message: the head and its continuation" \
	"$(got 'guest.said(plain, "text")')" '"onetwo"'
cli_done
