/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crashcap-collect as /init of the crash initramfs: mount the pseudo file
 * systems, load the modules the initramfs carries, find and mount the
 * target, write the dump, dmesg.txt and summary.json, then reboot or power
 * off as configured. It never returns and never hangs: every wait is
 * bounded and every failure still ends in the configured action.
 */
#pragma once

_Noreturn void collector_init_main(int argc, char **argv);
