#!/usr/bin/env bash
# crashcapctl reserve / unreserve / status against copies of the fixture roots
# in tests/fixtures/reserve (GRUB with and without grub.d, kdump-tools'
# drop-in, crashkernel= in /etc/default/grub, kernel-install, systemd-boot
# without /etc/kernel/cmdline, nothing). Every run passes --root (a copy in
# a temporary folder) and CRASHCAP_FAKE_SYSCALLS=1: update-grub is only
# recorded, and this machine's boot set-up is never touched.
. tests/cli/lib.sh
ctl=$build/crashcapctl
fixtures=tests/fixtures/reserve
roots=tests/fixtures/roots
export CRASHCAP_FAKE_SYSCALLS=1
cli_tmpdir reserve
RUN=("$ctl")

fresh() { # fixture-name -> a copy's path
	local d=$tmp/$1.$n.$RANDOM
	cp -a "$fixtures/$1" "$d"
	echo "$d"
}
# exact stdout and exit status
expect_out() { # desc rc want-stdout
	if [ "$rc" = "$2" ] && [ "$out" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "exit $rc (want $2)
stdout:
$out
want:
$3
stderr: $err"
	fi
}
# exact stderr and exit status
expect_err() { # desc rc want-stderr
	if [ "$rc" = "$2" ] && [ "$err" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "exit $rc (want $2)
stderr:
$err
want:
$3
stdout: $out"
	fi
}
check() { # desc got want
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2
want: $3"; fi
}
# What sh makes of GRUB's files, the way grub-mkconfig sources them.
grub_default() { # root
	sh -c '. "$1/etc/default/grub"; for f in "$1"/etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done; echo "$GRUB_CMDLINE_LINUX_DEFAULT"' sh "$1"
}
tree_of() { # root: every file with its content, to prove nothing changed
	(cd "$1" && find . -type f | sort | xargs md5sum)
}

need_built "$ctl"

dropin() { # value
	printf '%s\n' '# written by crashcapctl reserve: memory for the crash kernel (kdump).' \
		'# "crashcapctl unreserve" removes this file; run update-grub after editing it.' \
		"GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=$1\""
}

# --- GRUB, no grub.d ----------------------------------------------------------
g=$(fresh grub)
before=$(tree_of "$g")
run --root "$g" reserve 192M --dry-run
expect_out "grub: --dry-run prints the new drop-in as a diff and the command" 0 \
	"--- /dev/null
+++ b/etc/default/grub.d/crashcap.cfg
@@ -0,0 +1,3 @@
+# written by crashcapctl reserve: memory for the crash kernel (kdump).
+# \"crashcapctl unreserve\" removes this file; run update-grub after editing it.
+GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=192M\"
Would run: /usr/sbin/update-grub
Dry run: nothing was changed"
check "grub: --dry-run touches nothing" "$(tree_of "$g")" "$before"
# The diff is a real one: patch makes the same file the real run makes.
p=$(fresh grub)
sed '/^Would run\|^Dry run/d' "$tmp/out" >"$tmp/patch"
(cd "$p" && patch -s -p1 <"$tmp/patch") && ok "grub: the dry-run diff applies with patch -p1" ||
	not_ok "grub: the dry-run diff applies with patch -p1" "$(cat "$tmp/patch")"

run --root "$g" reserve 192M
expect_out "grub: reserve 192M writes the drop-in, records update-grub" 0 \
	"Wrote $g/etc/default/grub.d/crashcap.cfg
Not run on a fixture root: /usr/sbin/update-grub (recorded in $g/run/crashcap/fake-commands.log)
crashkernel=192M: reboot for it to take effect"
check "grub: the drop-in's exact content" "$(cat "$g/etc/default/grub.d/crashcap.cfg")" "$(dropin 192M)"
check "grub: the patched copy equals it" "$(cat "$p/etc/default/grub.d/crashcap.cfg")" "$(dropin 192M)"
check "grub: update-grub recorded once, never run" \
	"$(cat "$g/run/crashcap/fake-commands.log"; ls "$g/UPDATE-GRUB-RAN" 2>/dev/null)" "/usr/sbin/update-grub"
check "grub: sh sources the drop-in after /etc/default/grub" "$(grub_default "$g")" "quiet crashkernel=192M"
check "grub: /etc/default/grub itself is untouched" "$(cat "$g/etc/default/grub")" \
	"$(cat "$fixtures/grub/etc/default/grub")"

before=$(tree_of "$g")
run --root "$g" reserve 192M
expect_out "grub: a second reserve 192M changes nothing and says so" 0 \
	"crashkernel=192M is already set (grub): nothing to change"
check "grub: idempotent: no file changed, update-grub not recorded again" "$(tree_of "$g")" "$before"

run --root "$g" reserve 1G-4G:160M,4G-:256M --dry-run
expect_out "grub: --dry-run of a new size: the one line" 0 \
	"--- a/etc/default/grub.d/crashcap.cfg
+++ b/etc/default/grub.d/crashcap.cfg
@@ -1,3 +1,3 @@
 # written by crashcapctl reserve: memory for the crash kernel (kdump).
 # \"crashcapctl unreserve\" removes this file; run update-grub after editing it.
-GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=192M\"
+GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=1G-4G:160M,4G-:256M\"
Would run: /usr/sbin/update-grub
Dry run: nothing was changed"
run --root "$g" reserve crashkernel=1024M-4G:160M,4G-:256M
expect_out "grub: ranges replace crashcap's earlier size (canonical form)" 0 \
	"Wrote $g/etc/default/grub.d/crashcap.cfg
Not run on a fixture root: /usr/sbin/update-grub (recorded in $g/run/crashcap/fake-commands.log)
crashkernel=1G-4G:160M,4G-:256M replaces crashcap's crashkernel=192M: reboot for it to take effect"
check "grub: sh sees the ranges" "$(grub_default "$g")" "quiet crashkernel=1G-4G:160M,4G-:256M"

run --root "$g" unreserve --dry-run
expect_out "grub: unreserve --dry-run shows the removal" 0 \
	"--- a/etc/default/grub.d/crashcap.cfg
+++ /dev/null
@@ -1,3 +0,0 @@
-# written by crashcapctl reserve: memory for the crash kernel (kdump).
-# \"crashcapctl unreserve\" removes this file; run update-grub after editing it.
-GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=1G-4G:160M,4G-:256M\"
Would run: /usr/sbin/update-grub
Dry run: nothing was changed"
[ -f "$g/etc/default/grub.d/crashcap.cfg" ] && ok "grub: unreserve --dry-run kept the file" ||
	not_ok "grub: unreserve --dry-run kept the file" ""
run --root "$g" unreserve
expect_out "grub: unreserve removes the drop-in" 0 \
	"Removed $g/etc/default/grub.d/crashcap.cfg
Not run on a fixture root: /usr/sbin/update-grub (recorded in $g/run/crashcap/fake-commands.log)
crashcap's crashkernel=1G-4G:160M,4G-:256M is removed: the reservation ends at the next reboot"
check "grub: after unreserve, sh sees the original line" "$(grub_default "$g")" "quiet"
check "grub: update-grub recorded for each change, never run" \
	"$(cat "$g/run/crashcap/fake-commands.log"; ls "$g/UPDATE-GRUB-RAN" 2>/dev/null)" \
	"/usr/sbin/update-grub
/usr/sbin/update-grub
/usr/sbin/update-grub"
run --root "$g" unreserve
expect_out "grub: a second unreserve has nothing to remove" 0 \
	"No crashkernel= written by crashcap (grub): nothing to remove"

# A crashcap.cfg crashcap did not write is never replaced or removed.
printf 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=512M"\n' \
	>"$g/etc/default/grub.d/crashcap.cfg"
run --root "$g" reserve 192M
expect_err "grub: a foreign crashcap.cfg is refused with what to do" 1 \
	"crashcapctl: /etc/default/grub.d/crashcap.cfg was not written by crashcapctl (its first line is not \"# written by crashcapctl reserve\"): move it away, then run crashcapctl again"
run --root "$g" unreserve
expect_err "grub: unreserve refuses it too" 1 \
	"crashcapctl: /etc/default/grub.d/crashcap.cfg was not written by crashcapctl (its first line is not \"# written by crashcapctl reserve\"): move it away, then run crashcapctl again"

# --- GRUB with other drop-ins -------------------------------------------------
d=$(fresh grub-d)
run --root "$d" reserve 256M
expect_out "grub.d: reserve without update-grub installed says what to run" 0 \
	"Wrote $d/etc/default/grub.d/crashcap.cfg
crashkernel=256M: reboot for it to take effect"
check "grub.d: its warning" "$err" \
	"crashcapctl: /usr/sbin/update-grub is not installed: run grub-mkconfig -o /boot/grub/grub.cfg for the change to reach the boot menu"
check "grub.d: the other drop-in is untouched" "$(cat "$d/etc/default/grub.d/init-select.cfg")" \
	"$(cat "$fixtures/grub-d/etc/default/grub.d/init-select.cfg")"
check "grub.d: sh: crashcap.cfg comes before init-select.cfg" "$(grub_default "$d")" \
	"quiet crashkernel=256M console=ttyS0,115200n8"
[ ! -e "$d/run/crashcap/fake-commands.log" ] && ok "grub.d: nothing recorded when update-grub is absent" ||
	not_ok "grub.d: nothing recorded when update-grub is absent" "$(cat "$d/run/crashcap/fake-commands.log")"

# --- kdump-tools' drop-in ------------------------------------------------------
k=$(fresh kdump-tools)
run --root "$k" reserve 192M
kwarn="crashcapctl: warning: /etc/default/grub.d/kdump-tools.cfg sets crashkernel=384M-:128M and comes after crashcap's on the kernel command line: the kernel takes the last one, so 384M-:128M wins at boot; remove it there for crashcap's to apply"
check "kdump-tools: the warning names the file, the value and who wins" "$(head -1 "$tmp/err")" "$kwarn"
check "kdump-tools: the last line says crashcap's does not apply" "$(tail -1 "$tmp/out")" \
	"crashkernel=192M is written, but the one in /etc/default/grub.d/kdump-tools.cfg comes later and wins at boot: see the warning above"
check "kdump-tools: sh agrees: kdump-tools' comes last" "$(grub_default "$k")" \
	"quiet crashkernel=192M crashkernel=384M-:128M"
check "kdump-tools: its drop-in is untouched" "$(cat "$k/etc/default/grub.d/kdump-tools.cfg")" \
	"$(cat "$fixtures/kdump-tools/etc/default/grub.d/kdump-tools.cfg")"
run --root "$k" unreserve
check "kdump-tools: unreserve leaves kdump-tools' setting and says so" "$(head -1 "$tmp/err")" \
	"crashcapctl: warning: /etc/default/grub.d/kdump-tools.cfg sets crashkernel=384M-:128M (not crashcap's: left as it is)"
check "kdump-tools: after unreserve only kdump-tools' remains" "$(grub_default "$k")" "quiet crashkernel=384M-:128M"

# --- crashkernel= in /etc/default/grub -----------------------------------------
l=$(fresh grub-linux)
run --root "$l" reserve 192M --dry-run
check "GRUB_CMDLINE_LINUX: warns, crashcap's wins except in recovery entries" "$err" \
	"crashcapctl: warning: /etc/default/grub also sets crashkernel=128M: crashcap's comes later on the kernel command line and wins (the kernel takes the last one); recovery entries (GRUB_CMDLINE_LINUX only) still get the other"

run --root "$l" reserve 256M,high --dry-run
check "GRUB_CMDLINE_LINUX: its plain crashkernel= beats crashcap's ,high" "$err" \
	"crashcapctl: warning: /etc/default/grub sets crashkernel=128M: a plain crashkernel= wins over crashcap's ,high one at boot; remove it there for crashcap's to apply"

# --- kernel-install -------------------------------------------------------------
ki=$(fresh kernel-install)
orig=$(cat "$ki/etc/kernel/cmdline")
run --root "$ki" reserve 192M --dry-run
expect_out "kernel-install: --dry-run diff of cmdline and the state file" 0 \
	"--- a/etc/kernel/cmdline
+++ b/etc/kernel/cmdline
@@ -1 +1 @@
-$orig
+$orig crashkernel=192M
--- /dev/null
+++ b/var/lib/crashcap/reserve.json
@@ -0,0 +1,4 @@
+{
+	\"file\": \"/etc/kernel/cmdline\",
+	\"crashkernel\": \"192M\"
+}
Dry run: nothing was changed"
sed '/^Dry run/d' "$tmp/out" >"$tmp/patch"
p=$(fresh kernel-install)
(cd "$p" && patch -s -p1 <"$tmp/patch") || not_ok "kernel-install: the dry-run diff applies" ""
run --root "$ki" reserve 192M
expect_out "kernel-install: reserve writes both files" 0 \
	"Wrote $ki/etc/kernel/cmdline
Wrote $ki/var/lib/crashcap/reserve.json
kernel-install uses it for kernels installed from now on; for the one installed now run: kernel-install add \$(uname -r) /boot/vmlinuz-\$(uname -r)
crashkernel=192M: reboot for it to take effect"
check "kernel-install: cmdline is the old line + the token, newline kept" \
	"$(od -c "$ki/etc/kernel/cmdline")" "$(printf '%s crashkernel=192M\n' "$orig" | od -c)"
check "kernel-install: the patched copy is byte for byte the same" \
	"$(cat "$p/etc/kernel/cmdline" "$p/var/lib/crashcap/reserve.json" | md5sum)" \
	"$(cat "$ki/etc/kernel/cmdline" "$ki/var/lib/crashcap/reserve.json" | md5sum)"
before=$(tree_of "$ki")
run --root "$ki" reserve 192M
expect_out "kernel-install: idempotent" 0 "crashkernel=192M is already set (kernel-install): nothing to change"
check "kernel-install: idempotent: no file changed" "$(tree_of "$ki")" "$before"
run --root "$ki" reserve 256M
check "kernel-install: a new size replaces crashcap's token in place" "$(cat "$ki/etc/kernel/cmdline")" \
	"$orig crashkernel=256M"
run --root "$ki" unreserve
expect_out "kernel-install: unreserve" 0 \
	"Wrote $ki/etc/kernel/cmdline
Removed $ki/var/lib/crashcap/reserve.json
kernel-install uses it for kernels installed from now on; for the one installed now run: kernel-install add \$(uname -r) /boot/vmlinuz-\$(uname -r)
crashcap's crashkernel=256M is removed: the reservation ends at the next reboot"
cmp -s "$ki/etc/kernel/cmdline" "$fixtures/kernel-install/etc/kernel/cmdline" &&
	ok "kernel-install: unreserve gives back the original bytes" ||
	not_ok "kernel-install: unreserve gives back the original bytes" "$(od -c "$ki/etc/kernel/cmdline")"

# Another tool's crashkernel= in /etc/kernel/cmdline, no trailing newline, double spaces.
kf=$(fresh kernel-install-foreign)
run --root "$kf" reserve 192M
check "kernel-install: a foreign token is warned about, left alone" "$err" \
	"crashcapctl: warning: /etc/kernel/cmdline also has crashkernel=256M, not written by crashcap: crashcap's comes later on the line and wins (the kernel takes the last one)"
check "kernel-install: the rest of the line is byte-exact (no newline added)" \
	"$(od -c "$kf/etc/kernel/cmdline")" "$(printf 'root=/dev/vda1  crashkernel=256M  quiet crashkernel=192M' | od -c)"
run --root "$kf" reserve 512M,high --dry-run
check "kernel-install: a foreign plain crashkernel= beats crashcap's ,high" "$err" \
	"crashcapctl: warning: /etc/kernel/cmdline also has crashkernel=256M, not written by crashcap: a plain crashkernel= wins over crashcap's ,high one at boot; remove it there for crashcap's to apply"
run --root "$kf" unreserve
cmp -s "$kf/etc/kernel/cmdline" "$fixtures/kernel-install-foreign/etc/kernel/cmdline" &&
	ok "kernel-install: unreserve removes only crashcap's token" ||
	not_ok "kernel-install: unreserve removes only crashcap's token" "$(od -c "$kf/etc/kernel/cmdline")"
run --root "$kf" unreserve
expect_out "kernel-install: nothing of crashcap's left" 0 \
	"No crashkernel= written by crashcap (kernel-install): nothing to remove"

# systemd-boot without /etc/kernel/cmdline: the running line, minus the boot loader's words.
sb=$(fresh systemd-boot)
run --root "$sb" reserve 192M
check "systemd-boot: /etc/kernel/cmdline made from /proc/cmdline" "$(cat "$sb/etc/kernel/cmdline")" \
	"root=/dev/vda2 rw quiet crashkernel=192M"

# --- no boot loader configuration ---------------------------------------------
none=$(fresh none)
before=$(tree_of "$none")
run --root "$none" reserve 192M
expect_out "none: what to add by hand" 1 \
	"Add this to the kernel command line of your boot loader by hand, then reboot:
  crashkernel=192M"
check "none: a clear error" "$err" \
	"crashcapctl: no boot loader configuration found under $none/ (neither /etc/default/grub nor /etc/kernel/cmdline): set crashkernel=192M by hand as shown"
check "none: nothing written" "$(tree_of "$none")" "$before"

# --- bad input ------------------------------------------------------------------
g=$(fresh grub)
before=$(tree_of "$g")
run --root "$g" reserve 0
expect_err "bad: 0" 1 "crashcapctl: crashkernel=0 reserves nothing: give a size such as 192M (or run crashcapctl unreserve)"
run --root "$g" reserve 1G-4G:160M,2G-:256M
expect_err "bad: overlapping ranges" 1 \
	"crashcapctl: crashkernel=1G-4G:160M,2G-:256M: ranges 1 and 2 overlap: each range must start where the one before ends or later"
run --root "$g" reserve 4G-:256M,1G-4G:160M
expect_err "bad: unsorted ranges" 1 \
	"crashcapctl: crashkernel=4G-:256M,1G-4G:160M: range 2 starts below range 1: list the ranges in increasing order"
run --root "$g" reserve 1G-4G:
expect_err "bad: missing size" 1 \
	"crashcapctl: crashkernel=1G-4G:: range 1: the size to reserve is missing after ':' (such as 1G-4G:160M)"
run --root "$g" reserve lots
expect_err "bad: garbage" 1 \
	"crashcapctl: crashkernel=lots: not a size: give a size, such as 192M, 1G-4G:160M,4G-:256M or 256M,high"
run --root "$g" reserve 128M,low
expect_err "bad: ,low alone" 1 \
	"crashcapctl: crashkernel=128M,low: a ,low part alone reserves nothing on x86_64: give the main size instead (such as 256M or 512M,high)"
run --root "$g" reserve 192M 256M
expect_err "bad: two sizes" 1 "crashcapctl: reserve: unexpected argument '256M'"
run --root "$g" unreserve now
expect_err "bad: unreserve takes no argument" 1 "crashcapctl: unreserve: unexpected argument 'now'"
check "bad input writes nothing" "$(tree_of "$g")" "$before"
run --root "$g" reserve 512M,high
check "512M,high is accepted" "$(cat "$g/etc/default/grub.d/crashcap.cfg" | tail -1)" \
	'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=512M,high"'

# --- auto: the estimate + 10 %, at least 16M, rounded up to 16M -------------------
a=$tmp/auto
cp -a "$roots/reserved" "$a"
cp -a "$fixtures/grub/etc" "$a/"
proposal=$("$ctl" --root "$a" estimate --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["proposal"])')
M=$((1 << 20))
margin=$((proposal / 10 > 16 * M ? proposal / 10 : 16 * M))
want=$(((proposal + margin + 16 * M - 1) / (16 * M) * 16))M
run --root "$a" reserve --dry-run
if [ "$rc" = 0 ] && grep -qxF "+GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=$want\"" "$tmp/out" &&
	grep -qF "Estimate: $((proposal / M))M (crashcapctl estimate shows its parts)" "$tmp/out" &&
	grep -qF "Margin:   +" "$tmp/out"; then
	ok "auto: crashkernel=$want from the estimate ($((proposal / M))M) and the stated margin"
else
	not_ok "auto: crashkernel=$want from the estimate" "rc=$rc $out $err"
fi

est=$((proposal / M))M
run --root "$a" reserve 64M --dry-run
check "a size below the estimate is warned about" "$err" \
	"crashcapctl: warning: crashkernel=64M gives 64M on this machine, less than the estimate ($est): the crash kernel may run out of memory; crashcapctl estimate shows why"

# --- status: in effect, configured, estimate ----------------------------------
mem() { # root -> the memory object of status --json, one key=value a line
	"$ctl" --root "$1" status --json 2>"$tmp/err" | python3 -c '
import json, sys
m = json.load(sys.stdin)["memory"]
for k in sorted(m):
    print("%s=%s" % (k, m[k]))'
}
s=$tmp/status
cp -a "$roots/reserved" "$s"
cp -a "$fixtures/grub/etc" "$s/"
est=$((proposal / M))M
"$ctl" --root "$s" reserve 256M >/dev/null 2>&1
run --root "$s" status
check "status: configured = in effect >= estimate" "$(grep -E '^(Configured|Estimate|Memory):' "$tmp/out")" \
	"Configured:   256M (crashkernel=256M in /etc/default/grub.d/crashcap.cfg, by crashcapctl reserve)
Estimate:     $est
Memory:       256M in effect, as configured, covers the estimate ($est)"
"$ctl" --root "$s" reserve 384M >/dev/null 2>&1
run --root "$s" status
check "status: configured 384M but 256M in effect: reboot" "$(grep '^Memory:' "$tmp/out")" \
	"Memory:       configured 384M but 256M in effect: reboot to apply"
check "status --json: the memory object" "$(mem "$s")" \
	"boot_loader=grub
configured=402653184
configured_by_crashcap=True
configured_error=None
configured_low=0
configured_main=402653184
configured_source=/etc/default/grub.d/crashcap.cfg
configured_value=384M
estimate=$proposal
in_effect=268435456
in_effect_low=0
in_effect_main=268435456
message=configured 384M but 256M in effect: reboot to apply
ram=1073212416
verdict=reboot"
# The running kernel was booted with what is configured, and has less: boot failed.
sed -i 's/crashkernel=256M/crashkernel=384M/' "$s/proc/cmdline"
run --root "$s" status
check "status: the running kernel had it and could not reserve it" "$(grep '^Memory:' "$tmp/out")" \
	"Memory:       the running kernel was booted with crashkernel=384M but 256M in effect: it could not reserve it (see dmesg | grep -i crashkernel); try a smaller size or one without @OFFSET"
sed -i 's/crashkernel=384M/crashkernel=256M/' "$s/proc/cmdline"
# 64M in effect (below the estimate), nothing configured.
"$ctl" --root "$s" unreserve >/dev/null 2>&1
sed -i 's/2b000000-3affffff : Crash kernel/2b000000-2effffff : Crash kernel/' "$s/proc/iomem"
echo 67108864 >"$s/sys/kernel/kexec_crash_size"
run --root "$s" status
check "status: in effect below the estimate: run reserve and reboot" "$(grep -E '^(Configured|Memory):' "$tmp/out")" \
	"Configured:   none (grub)
Memory:       the reservation in effect (64M) is less than the estimate ($est): run \`crashcapctl reserve\` and reboot"
# A configured value that does not parse.
printf 'root=/dev/vda1 crashkernel=1G-4G:160M,2G-:256M\n' >"$tmp/cmdline"
rm -rf "$s/etc/default"
mkdir -p "$s/etc/kernel" && cp "$tmp/cmdline" "$s/etc/kernel/cmdline"
run --root "$s" status
check "status: an invalid configured crashkernel= is named" "$(grep '^Configured:' "$tmp/out")" \
	"Configured:   invalid: crashkernel=1G-4G:160M,2G-:256M: ranges 1 and 2 overlap: each range must start where the one before ends or later"

# High + low, 6.1 (kexec_crash_size counts high only) and 6.5+ (both): same figures.
for style in 6.1:536870912 6.5:805306368; do
	h=$tmp/high-${style%%:*}
	cp -a "$roots/reserved" "$h"
	cp tests/fixtures/iomem/server-64g-crashkernel-high-low.txt "$h/proc/iomem"
	echo "${style#*:}" >"$h/sys/kernel/kexec_crash_size"
	mkdir -p "$h/etc/kernel"
	printf 'root=/dev/sda1 crashkernel=512M,high\n' >"$h/etc/kernel/cmdline"
	check "status ${style%%:*}-style kexec_crash_size: high + low from /proc/iomem" \
		"$(mem "$h" | grep -E '^(in_effect|in_effect_low|in_effect_main|configured|configured_main|configured_low|configured_value|boot_loader)=')" \
		"boot_loader=kernel-install
configured=805306368
configured_low=268435456
configured_main=536870912
configured_value=512M,high
in_effect=805306368
in_effect_low=268435456
in_effect_main=536870912"
	run --root "$h" status
	check "status ${style%%:*}: configured high + low as in effect" "$(grep -E '^Configured:' "$tmp/out")" \
		"Configured:   512M high + 256M low (crashkernel=512M,high in /etc/kernel/cmdline)"
done
# 64 GiB of RAM picks the 4G- range, 384M: not the 512M in effect.
printf 'crashkernel=1G-4G:160M,4G-:384M\n' >"$h/etc/kernel/cmdline"
check "status: ranges evaluated for this machine's RAM" "$(mem "$h" | grep -E '^(configured_main|verdict|message)=')" \
	"configured_main=402653184
message=configured 384M but 512M + 256M low in effect: reboot to apply
verdict=reboot"

# Not root: /proc/iomem shows zeros; RAM from MemTotal + the reservation, ranges still evaluated.
u=$tmp/nonroot
cp -a "$roots/reserved" "$u"
cp tests/fixtures/iomem/nonroot-zeroed.txt "$u/proc/iomem"
printf 'MemTotal:         780000 kB\nMemFree:          500000 kB\n' >"$u/proc/meminfo"
mkdir -p "$u/etc/kernel"
printf 'root=/dev/vda1 crashkernel=512M-1G:128M,1G-:256M\n' >"$u/etc/kernel/cmdline"
check "not root: RAM from MemTotal + kexec_crash_size picks the 1G- range" \
	"$(mem "$u" | grep -E '^(ram|configured_main|verdict)=')" \
	"configured_main=268435456
ram=1067155456
verdict=ok"
run --root "$u" status
check "not root: status says kexec_crash_size may miss the low range" "$(grep -A1 '^Memory:' "$tmp/out" | tail -1)" \
	"              in effect from kexec_crash_size, which counts the high range only before Linux 6.5: run as root to read both from /proc/iomem"

cli_done
