#!/bin/busybox sh
# Test scaffolding (runs only inside the QEMU guest's first kernel, as
# /workload.sh from guest-init.sh, after the load and before the panic) for
# test-segments-hotplug.py: ask the host for a DIMM, wait until its memory
# is online, then fill part of memory with a marker the host looks for in
# the dump's pages of the new DIMM.
say() { echo "CRASHCAP-TEST: $*"; }
online() { cat /sys/devices/system/memory/memory*/state 2>/dev/null | grep -c '^online$'; }

say "loaded.json $(tr -d '\n' </run/crashcap/loaded.json)"
say "crash_hotplug before: memory=$(cat /sys/devices/system/memory/crash_hotplug)"
before=$(online)
say "ready for hotplug (online blocks $before)"
# The DIMM is 512 MiB: four 128 MiB blocks, onlined by memhp_default_state=online.
i=0
while [ "$(online)" -lt $((before + 4)) ] && [ $i -lt 600 ]; do
	sleep 0.2
	i=$((i + 1))
done
say "online blocks after hotplug $(online), $(grep MemTotal /proc/meminfo | tr -s ' ')"
grep "System RAM" /proc/iomem | sed 's/^ */CRASHCAP-TEST: first iomem /'
say "crash_hotplug after: memory=$(cat /sys/devices/system/memory/crash_hotplug)"
mkdir -p /mnt/marker
mount -t tmpfs -o size=400m tmpfs /mnt/marker
yes CRASHCAP-HOTPLUG-MARKER | head -c 300m >/mnt/marker/fill
say "marker written: $(stat -c %s /mnt/marker/fill) bytes, $(grep MemFree /proc/meminfo | tr -s ' ')"
